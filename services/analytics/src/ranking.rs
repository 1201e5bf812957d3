//! The group activity ranking (PR07 群活排行): each group's value under the chosen metric, ranks shared by equal
//! values, and offset page tokens.

use scrm_kernel::ApiError;
use scrm_kernel::paging::page_size;
use scrm_proto::analytics::v1::{
    GetGroupActivityRankingRequest, GroupActivityMetric, GroupActivityRow, RankingDirection,
};
use scrm_proto::group::v1::{GroupActivityTotals, ListGroupActivityTotalsRequest, ListGroupsRequest};

/// A ranking request, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct RankingQuery {
    /// What to ask the group service for.
    pub totals: ListGroupActivityTotalsRequest,
    /// The metric.
    pub metric: GroupActivityMetric,
    /// The end ranked first.
    pub direction: RankingDirection,
    /// Rows skipped.
    pub offset: usize,
    /// Rows returned at most.
    pub limit: usize,
}

impl RankingQuery {
    /// Checks `request`, naming the field at fault.
    pub fn parse(request: GetGroupActivityRankingRequest) -> Result<RankingQuery, ApiError> {
        for (field, value) in [("start_date", &request.start_date), ("end_date", &request.end_date)] {
            if !is_date(value) {
                return Err(ApiError::invalid(field, format!("{field} is required, as YYYY-MM-DD")));
            }
        }
        if request.start_date > request.end_date {
            return Err(ApiError::invalid("start_date", "start_date must be on or before end_date"));
        }
        let metric = GroupActivityMetric::try_from(request.metric)
            .map_err(|_| ApiError::invalid("metric", "metric holds an unknown value"))?;
        if metric == GroupActivityMetric::CheckIns {
            return Err(ApiError::invalid("metric", "check-ins are not recorded yet"));
        }
        let direction = RankingDirection::try_from(request.direction)
            .map_err(|_| ApiError::invalid("direction", "direction holds an unknown value"))?;
        if request.koc_id != 0 {
            return Err(ApiError::invalid(
                "koc_id",
                "groups are not linked to KOC ids yet; a KOC sees their own groups",
            ));
        }
        if request.store_id < 0 {
            return Err(ApiError::invalid("store_id", "store_id must not be negative"));
        }
        let limit = page_size(request.page_size)? as usize;
        let offset = decode_offset(&request.page_token)
            .ok_or_else(|| ApiError::invalid("page_token", "page_token is not one this server issued"))?;
        let filter = ListGroupsRequest {
            owner_userids: [request.owner_userid].into_iter().filter(|owner| !owner.is_empty()).collect(),
            store_ids: [request.store_id].into_iter().filter(|store| *store != 0).collect(),
            ..ListGroupsRequest::default()
        };
        let totals = ListGroupActivityTotalsRequest {
            filter: Some(filter),
            start_day: request.start_date,
            end_day: request.end_date,
        };
        Ok(RankingQuery { totals, metric, direction, offset, limit })
    }
}

/// Whether `text` has the shape YYYY-MM-DD (the group service checks the calendar).
fn is_date(text: &str) -> bool {
    text.len() == 10
        && text.char_indices().all(|(at, c)| if at == 4 || at == 7 { c == '-' } else { c.is_ascii_digit() })
}

/// Where a page starts in the ranking, written as the decimal offset of its first row.
pub fn decode_offset(token: &str) -> Option<usize> {
    if token.is_empty() {
        return Some(0);
    }
    token.parse().ok().filter(|offset: &usize| token == offset.to_string())
}

/// `part / whole`, 0 when `whole` is 0.
fn rate(part: i64, whole: i64) -> f64 {
    if whole <= 0 { 0.0 } else { part as f64 / whole as f64 }
}

/// The row of one group, unranked, valued under `metric`.
fn row(group: GroupActivityTotals, metric: GroupActivityMetric) -> GroupActivityRow {
    let speaker_rate = rate(group.speakers, group.member_count);
    let metric_value = match metric {
        GroupActivityMetric::Messages => group.messages as f64,
        GroupActivityMetric::Speakers => group.speakers as f64,
        GroupActivityMetric::NetJoins => (group.joins - group.leaves) as f64,
        GroupActivityMetric::CheckIns => 0.0,
        GroupActivityMetric::SpeakerRate | GroupActivityMetric::Unspecified => speaker_rate,
    };
    GroupActivityRow {
        rank: 0,
        lurker_rate: rate(group.lurkers, group.member_count),
        chat_id: group.chat_id,
        name: group.name,
        owner_userid: group.owner,
        store_id: group.store_id,
        member_count: i32::try_from(group.member_count).unwrap_or(i32::MAX),
        message_count: group.messages,
        speaker_count: group.speakers,
        speaker_rate,
        join_count: group.joins,
        leave_count: group.leaves,
        check_in_count: 0,
        metric_value,
    }
}

/// Every group ranked under `metric`, from the end `direction` names; equal values share the rank of the first
/// of them (1, 2, 2, 4) and are ordered by chat_id.
pub fn rank(
    groups: Vec<GroupActivityTotals>,
    metric: GroupActivityMetric,
    direction: RankingDirection,
) -> Vec<GroupActivityRow> {
    let mut rows: Vec<GroupActivityRow> = groups.into_iter().map(|group| row(group, metric)).collect();
    let bottom = direction == RankingDirection::Bottom;
    rows.sort_by(|a, b| {
        let by_value = a.metric_value.total_cmp(&b.metric_value);
        (if bottom { by_value } else { by_value.reverse() }).then_with(|| a.chat_id.cmp(&b.chat_id))
    });
    let mut previous: Option<(f64, i32)> = None;
    for (at, row) in rows.iter_mut().enumerate() {
        row.rank = match previous {
            Some((value, rank)) if value == row.metric_value => rank,
            _ => i32::try_from(at + 1).unwrap_or(i32::MAX),
        };
        previous = Some((row.metric_value, row.rank));
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(
        chat_id: &str,
        members: i64,
        messages: i64,
        speakers: i64,
        joins: i64,
        leaves: i64,
    ) -> GroupActivityTotals {
        GroupActivityTotals {
            chat_id: chat_id.into(),
            member_count: members,
            messages,
            speakers,
            joins,
            leaves,
            lurkers: members - speakers,
            ..GroupActivityTotals::default()
        }
    }

    fn ranks(rows: &[GroupActivityRow]) -> Vec<(&str, i32)> {
        rows.iter().map(|row| (row.chat_id.as_str(), row.rank)).collect()
    }

    #[test]
    fn equal_values_share_a_rank_and_the_bottom_reverses_the_order() {
        let groups = vec![
            group("a", 10, 5, 2, 0, 0),
            group("b", 10, 9, 5, 3, 1),
            group("c", 4, 5, 2, 0, 2),
            group("d", 0, 0, 0, 0, 0),
        ];
        let top = rank(groups.clone(), GroupActivityMetric::Messages, RankingDirection::Unspecified);
        assert_eq!(ranks(&top), [("b", 1), ("a", 2), ("c", 2), ("d", 4)]);
        let rate = rank(groups.clone(), GroupActivityMetric::Unspecified, RankingDirection::Top);
        assert_eq!(ranks(&rate), [("b", 1), ("c", 1), ("a", 3), ("d", 4)]);
        assert_eq!((rate[0].speaker_rate, rate[0].lurker_rate), (0.5, 0.5));
        let bottom = rank(groups, GroupActivityMetric::NetJoins, RankingDirection::Bottom);
        assert_eq!(ranks(&bottom), [("c", 1), ("a", 2), ("d", 2), ("b", 4)]);
        assert_eq!(bottom[0].metric_value, -2.0);
    }

    #[test]
    fn requests_are_checked_field_by_field() {
        let good = GetGroupActivityRankingRequest {
            start_date: "2025-03-01".into(),
            end_date: "2025-03-07".into(),
            owner_userid: "zhangsan".into(),
            page_token: "20".into(),
            ..GetGroupActivityRankingRequest::default()
        };
        let query = RankingQuery::parse(good.clone()).unwrap();
        assert_eq!((query.offset, query.limit, query.metric), (20, 20, GroupActivityMetric::Unspecified));
        assert_eq!(query.totals.filter.unwrap().owner_userids, ["zhangsan"]);
        let field = |request: GetGroupActivityRankingRequest| RankingQuery::parse(request).unwrap_err().field.unwrap();
        assert_eq!(field(GetGroupActivityRankingRequest { start_date: String::new(), ..good.clone() }), "start_date");
        assert_eq!(field(GetGroupActivityRankingRequest { end_date: "2025-3-7".into(), ..good.clone() }), "end_date");
        assert_eq!(
            field(GetGroupActivityRankingRequest { end_date: "2025-02-28".into(), ..good.clone() }),
            "start_date"
        );
        assert_eq!(field(GetGroupActivityRankingRequest { metric: 5, ..good.clone() }), "metric");
        assert_eq!(field(GetGroupActivityRankingRequest { metric: 99, ..good.clone() }), "metric");
        assert_eq!(field(GetGroupActivityRankingRequest { direction: 9, ..good.clone() }), "direction");
        assert_eq!(field(GetGroupActivityRankingRequest { koc_id: 3, ..good.clone() }), "koc_id");
        assert_eq!(field(GetGroupActivityRankingRequest { page_size: 201, ..good.clone() }), "page_size");
        assert_eq!(field(GetGroupActivityRankingRequest { page_token: "x".into(), ..good }), "page_token");
    }

    #[test]
    fn page_tokens_are_plain_offsets() {
        assert_eq!(decode_offset(""), Some(0));
        assert_eq!(decode_offset("40"), Some(40));
        for bad in ["-1", "x", "040", "1e3"] {
            assert_eq!(decode_offset(bad), None, "{bad}");
        }
    }
}
