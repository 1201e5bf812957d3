//! GetCampaignStats as pure arithmetic over a campaign's participants and invitations: totals, levels, stages and
//! a per-day series in the corp's timezone. Unit-tested below.

use std::collections::BTreeMap;

use scrm_kernel::ApiError;
use scrm_kernel::calendar::{day_string, days_from_civil};
use scrm_proto::campaign::v1::{
    CampaignDayStats, CampaignStage, DepthBucket, GetCampaignStatsResponse, InvitationStatus, StageBucket,
};

use crate::store::participation::{InvitationFacts, ParticipantFacts};
use crate::store::timestamp;

/// The corp's timezone: China Standard Time, UTC+8 (WeCom corps keep their books in it).
pub const CORP_UTC_OFFSET_MILLIS: i64 = 8 * 3_600_000;
/// Milliseconds in a day.
const DAY_MILLIS: i64 = 86_400_000;
/// Most days in one series.
pub const MAX_SERIES_DAYS: i64 = 366;

/// The calendar day (days since 1970-01-01 in the corp's timezone) holding `millis`.
pub fn corp_day(millis: i64) -> i64 {
    (millis + CORP_UTC_OFFSET_MILLIS).div_euclid(DAY_MILLIS)
}

/// Reads `YYYY-MM-DD` as a day number; the error names `field`.
pub fn parse_day(field: &str, text: &str) -> Result<i64, ApiError> {
    let bad = || ApiError::invalid(field, "日期格式应为 YYYY-MM-DD");
    let bytes = text.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return Err(bad());
    }
    let number = |range: std::ops::Range<usize>| text.get(range).and_then(|part| part.parse::<i64>().ok());
    let (year, month, day) =
        (number(0..4).ok_or_else(bad)?, number(5..7).ok_or_else(bad)?, number(8..10).ok_or_else(bad)?);
    let days = days_from_civil(year, month, day);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || day_string(days) != text {
        return Err(bad());
    }
    Ok(days)
}

/// The days of the series: `start`/`end` as given, else the campaign's first day and today or its last day,
/// whichever is earlier. INVALID_ARGUMENT when reversed or longer than [`MAX_SERIES_DAYS`].
pub fn series_range(
    start: &str,
    end: &str,
    starts_at_ms: i64,
    ends_at_ms: i64,
    now_ms: i64,
) -> Result<(i64, i64), ApiError> {
    let first = if start.is_empty() { corp_day(starts_at_ms) } else { parse_day("start_date", start)? };
    let last = if end.is_empty() { corp_day(ends_at_ms.min(now_ms)) } else { parse_day("end_date", end)? };
    if last < first {
        return Err(ApiError::invalid("end_date", "结束日期不能早于开始日期"));
    }
    if last - first + 1 > MAX_SERIES_DAYS {
        return Err(ApiError::invalid("end_date", "一次最多统计 366 天"));
    }
    Ok((first, last))
}

/// The figures of campaign `campaign_id` with `stages`, its days from `first` to `last` inclusive.
pub fn aggregate(
    campaign_id: i64,
    stages: &[CampaignStage],
    participants: &[ParticipantFacts],
    invitations: &[InvitationFacts],
    (first, last): (i64, i64),
    now_ms: i64,
) -> GetCampaignStatsResponse {
    let status = |invitation: &InvitationFacts| InvitationStatus::try_from(invitation.status).unwrap_or_default();
    let valid = |invitation: &InvitationFacts| status(invitation) == InvitationStatus::Valid;
    let left = |invitation: &InvitationFacts| status(invitation) == InvitationStatus::Left;
    let count =
        |predicate: &dyn Fn(&InvitationFacts) -> bool| invitations.iter().filter(|row| predicate(row)).count() as i64;

    let valid_total = count(&valid);
    let converted_total = count(&|row| row.converted == 1);
    let mut depths: BTreeMap<i32, DepthBucket> = BTreeMap::new();
    for participant in participants {
        let bucket = depths
            .entry(participant.depth)
            .or_insert_with(|| DepthBucket { depth: participant.depth, ..Default::default() });
        bucket.participant_count += 1;
    }
    for invitation in invitations {
        let bucket = depths
            .entry(invitation.depth)
            .or_insert_with(|| DepthBucket { depth: invitation.depth, ..Default::default() });
        bucket.invitation_count += 1;
        bucket.valid_invitation_count += i64::from(valid(invitation));
    }
    let stage_buckets = stages
        .iter()
        .map(|stage| StageBucket {
            level: stage.level,
            reached_count: participants.iter().filter(|row| row.reached_stage_level >= stage.level).count() as i64,
            rewarded_count: 0,
        })
        .collect();
    let mut days: BTreeMap<i64, CampaignDayStats> =
        (first..=last).map(|day| (day, CampaignDayStats { date: day_string(day), ..Default::default() })).collect();
    for participant in participants {
        if let Some(day) = days.get_mut(&corp_day(participant.joined_at)) {
            day.new_participant_count += 1;
        }
    }
    for invitation in invitations {
        if let Some(day) = days.get_mut(&corp_day(invitation.occurred_at)) {
            day.invitation_count += 1;
            day.valid_invitation_count += i64::from(valid(invitation));
        }
        if left(invitation)
            && let Some(day) = invitation.revoked_at.and_then(|at| days.get_mut(&corp_day(at)))
        {
            day.left_count += 1;
        }
    }
    GetCampaignStatsResponse {
        campaign_id,
        participant_total: participants.len() as i64,
        invitation_total: invitations.len() as i64,
        valid_invitation_total: valid_total,
        new_customer_total: count(&|row| row.existing_customer == 0),
        left_total: count(&left),
        converted_total,
        conversion_rate: if valid_total == 0 { 0.0 } else { (converted_total as f64 / valid_total as f64).min(1.0) },
        max_depth_reached: participants.iter().map(|row| row.depth).max().unwrap_or(0),
        depths: depths.into_values().collect(),
        stages: stage_buckets,
        order_amount_fen: 0,
        commission_fen: 0,
        days: days.into_values().collect(),
        computed_at: Some(timestamp(now_ms)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-26T00:00:00+08:00 in Unix ms.
    fn day_one() -> i64 {
        days_from_civil(2026, 11, 26) * DAY_MILLIS - CORP_UTC_OFFSET_MILLIS
    }

    #[test]
    fn days_are_read_strictly_and_counted_in_the_corp_timezone() {
        let day = parse_day("start_date", "2026-11-26").unwrap();
        assert_eq!(day_string(day), "2026-11-26");
        for bad in ["2026-11-31", "2026-13-01", "26-11-26", "2026/11/26", "2026-1-260", ""] {
            assert_eq!(parse_day("start_date", bad).unwrap_err().field.as_deref(), Some("start_date"), "{bad}");
        }
        let midnight = (day * DAY_MILLIS) - CORP_UTC_OFFSET_MILLIS;
        assert_eq!(corp_day(midnight), day);
        assert_eq!(corp_day(midnight - 1), day - 1, "23:59 Beijing time is the day before");
    }

    #[test]
    fn the_series_defaults_to_the_campaign_so_far() {
        let start = parse_day("d", "2026-11-20").unwrap() * DAY_MILLIS;
        let now = parse_day("d", "2026-11-26").unwrap() * DAY_MILLIS;
        let end = parse_day("d", "2026-12-31").unwrap() * DAY_MILLIS;
        let (first, last) = series_range("", "", start, end, now).unwrap();
        assert_eq!((day_string(first), day_string(last)), ("2026-11-20".into(), "2026-11-26".into()));
        let (_, last) = series_range("", "2027-01-05", start, end, now).unwrap();
        assert_eq!(day_string(last), "2027-01-05");
        assert_eq!(
            series_range("2026-11-26", "2026-11-25", start, end, now).unwrap_err().field.as_deref(),
            Some("end_date")
        );
        assert!(series_range("2025-01-01", "2026-11-25", start, end, now).is_err(), "more than 366 days");
    }

    #[test]
    fn figures_add_up_by_level_stage_and_day() {
        let at = |days: i64, hours: i64| day_one() + days * DAY_MILLIS + hours * 3_600_000;
        let participants = [
            ParticipantFacts { depth: 1, reached_stage_level: 2, joined_at: at(0, 1) },
            ParticipantFacts { depth: 2, reached_stage_level: 1, joined_at: at(0, 2) },
            ParticipantFacts { depth: 2, reached_stage_level: 0, joined_at: at(1, 1) },
            ParticipantFacts { depth: 3, reached_stage_level: 0, joined_at: at(1, 2) },
        ];
        let invitation = |depth, status: InvitationStatus, existing, day| InvitationFacts {
            depth,
            status: status as i32,
            existing_customer: existing,
            converted: 0,
            occurred_at: at(day, 3),
            revoked_at: None,
        };
        let invitations = [
            invitation(1, InvitationStatus::Valid, 1, 0),
            invitation(2, InvitationStatus::Valid, 0, 0),
            InvitationFacts { converted: 1, ..invitation(2, InvitationStatus::Valid, 0, 1) },
            InvitationFacts { revoked_at: Some(at(2, 5)), ..invitation(3, InvitationStatus::Left, 0, 1) },
            invitation(2, InvitationStatus::Duplicate, 0, 1),
        ];
        let stages = [
            CampaignStage { level: 1, threshold: 1, ..Default::default() },
            CampaignStage { level: 2, threshold: 3, ..Default::default() },
        ];
        let first = corp_day(day_one());
        let stats = aggregate(7, &stages, &participants, &invitations, (first, first + 2), at(2, 6));
        assert_eq!(
            (stats.participant_total, stats.invitation_total, stats.valid_invitation_total, stats.new_customer_total),
            (4, 5, 3, 4)
        );
        assert_eq!((stats.left_total, stats.converted_total, stats.max_depth_reached), (1, 1, 3));
        assert!((stats.conversion_rate - 1.0 / 3.0).abs() < 1e-9);
        let levels: Vec<_> = stats
            .depths
            .iter()
            .map(|bucket| {
                (bucket.depth, bucket.participant_count, bucket.invitation_count, bucket.valid_invitation_count)
            })
            .collect();
        assert_eq!(levels, [(1, 1, 1, 1), (2, 2, 3, 2), (3, 1, 1, 0)]);
        let reached: Vec<_> = stats.stages.iter().map(|bucket| (bucket.level, bucket.reached_count)).collect();
        assert_eq!(reached, [(1, 2), (2, 1)]);
        let series: Vec<_> = stats
            .days
            .iter()
            .map(|day| (day.new_participant_count, day.invitation_count, day.valid_invitation_count, day.left_count))
            .collect();
        assert_eq!(series, [(2, 2, 2, 0), (2, 3, 1, 0), (0, 0, 0, 1)]);
        assert_eq!(stats.days[0].date, day_string(first));
    }
}
