//! Activity (PR07): IngestMessages, GetGroupActivity (with WeCom's own daily figures) and ListGroupActivityTotals.

use scrm_kernel::{ApiError, Caller, ErrorCode, Role};
use scrm_proto::group::v1::get_group_activity_request::Subject;
use scrm_proto::group::v1::{
    GetGroupActivityRequest, GetGroupActivityResponse, GroupActivityDay, GroupActivityTotals, IngestMessagesRequest,
    IngestMessagesResponse, ListGroupActivityTotalsRequest, ListGroupActivityTotalsResponse, WecomGroupChatStatistic,
};
use tonic::Streaming;

use super::GroupApi;
use crate::activity::{day_of, day_string, parse_day};
use crate::error::GroupError;
use crate::ingest::message_input;
use crate::listing::GroupFilter;
use crate::store::list::GroupKey;

/// Most messages in one batch.
const MAX_MESSAGES_PER_BATCH: usize = 1000;
/// Most rejection reasons reported.
const MAX_REJECTION_SAMPLES: usize = 20;
/// Longest series, in days.
const MAX_SERIES_DAYS: i64 = 181;

/// The days `start_day` to `end_day` name (YYYY-MM-DD); an empty end is `today`, an empty start 29 days before
/// the end.
fn day_range(start_day: &str, end_day: &str, today: i64) -> Result<(i64, i64), ApiError> {
    let end = match end_day {
        "" => today,
        text => parse_day(text).ok_or_else(|| ApiError::invalid("end_day", "end_day is not YYYY-MM-DD"))?,
    };
    let start = match start_day {
        "" => end - 29,
        text => parse_day(text).ok_or_else(|| ApiError::invalid("start_day", "start_day is not YYYY-MM-DD"))?,
    };
    if start > end || end - start >= MAX_SERIES_DAYS {
        return Err(ApiError::invalid("start_day", "start_day must be on or before end_day, at most 180 days"));
    }
    Ok((start, end))
}

impl GroupApi {
    /// Serves IngestMessages.
    pub(super) async fn ingest_for(
        &self,
        mut stream: Streaming<IngestMessagesRequest>,
    ) -> Result<IngestMessagesResponse, GroupError> {
        let mut response = IngestMessagesResponse::default();
        let reject = |response: &mut IngestMessagesResponse, reason: String| {
            response.rejected += 1;
            if response.rejection_samples.len() < MAX_REJECTION_SAMPLES {
                response.rejection_samples.push(reason);
            }
        };
        while let Some(batch) = stream.message().await.map_err(|status| ApiError::from_status(&status))? {
            if batch.messages.len() > MAX_MESSAGES_PER_BATCH {
                return Err(ApiError::invalid(
                    "messages",
                    format!("a batch holds at most {MAX_MESSAGES_PER_BATCH} messages"),
                )
                .into());
            }
            let mut inputs = Vec::with_capacity(batch.messages.len());
            for message in batch.messages {
                let msgid = message.msgid.clone();
                match message_input(message) {
                    Ok(input) => inputs.push(input),
                    Err(problem) => reject(&mut response, format!("msgid {msgid}: {problem}")),
                }
            }
            let outcome = self.store.ingest_messages_now(&inputs, self.clock.now_millis()).await?;
            response.accepted += outcome.accepted;
            response.duplicates += outcome.duplicates;
            for input in inputs.iter().filter(|input| outcome.unknown_chat_ids.contains(&input.chat_id)) {
                reject(&mut response, format!("msgid {}: chat_id unknown", input.msgid));
            }
        }
        response.max_seq = self.store.max_seq().await?;
        Ok(response)
    }

    /// Serves GetGroupActivity.
    pub(super) async fn activity_for(
        &self,
        caller: &Caller,
        request: GetGroupActivityRequest,
    ) -> Result<GetGroupActivityResponse, GroupError> {
        let today = day_of(self.clock.now_millis());
        let (start, end) = day_range(&request.start_day, &request.end_day, today)?;
        let filter = GroupFilter::all(caller.store_scope());
        let not_found = || ApiError::new(ErrorCode::NotFound, "the group is unknown or outside your scope");
        let (chat_ids, summary, owner) = match request.subject {
            Some(Subject::ChatId(chat_id)) if !chat_id.is_empty() => {
                let group = self.store.find_group(&GroupKey::ChatId(chat_id), &filter).await?.ok_or_else(not_found)?;
                if caller.role == Role::Koc && group.owner_userid != caller.staff_id {
                    return Err(not_found().into());
                }
                let summary = super::groups::group_proto(
                    group.clone(),
                    Vec::new(),
                    super::welcome::GroupCoverage::default(),
                    self.store.speakers_approximate(),
                )
                .activity;
                (vec![group.chat_id], summary, group.owner_userid)
            }
            Some(Subject::Owner(owner)) if !owner.is_empty() => {
                if caller.role == Role::Koc && owner != caller.staff_id {
                    return Err(ApiError::new(ErrorCode::PermissionDenied, "a KOC sees their own groups only").into());
                }
                (self.store.chat_ids_of_owner(&owner).await?, None, owner)
            }
            _ => return Err(ApiError::invalid("subject", "chat_id or owner is required").into()),
        };
        let series = self.store.activity_series(&chat_ids, start, end).await?;
        let member_total = self.store.member_count_of(&chat_ids).await?;
        let mut wecom = self.store.wecom_statistics(&owner, start, end).await?;
        let mut days = Vec::with_capacity((end - start + 1) as usize);
        let mut members_after = member_total;
        for day in (start..=end).rev() {
            let figures = series.get(&day).cloned().unwrap_or_default();
            days.push(GroupActivityDay {
                day: day_string(day),
                messages: figures.messages,
                speakers: figures.speakers,
                joins: figures.joins,
                leaves: figures.leaves,
                member_total: if day > today { 0 } else { members_after },
                wecom: wecom.remove(&day).map(|(data, fetched_at)| WecomGroupChatStatistic {
                    owner: owner.clone(),
                    new_chat_cnt: data.new_chat_cnt,
                    chat_total: data.chat_total,
                    chat_has_msg: data.chat_has_msg,
                    new_member_cnt: data.new_member_cnt,
                    member_total: data.member_total,
                    member_has_msg: data.member_has_msg,
                    msg_total: data.msg_total,
                    migrate_trainee_chat_cnt: data.migrate_trainee_chat_cnt,
                    fetched_at: Some(super::timestamp(fetched_at)),
                }),
            });
            if day <= today {
                members_after = members_after - figures.joins + figures.leaves;
            }
        }
        days.reverse();
        let speakers_approximate = summary.as_ref().is_some_and(|summary| summary.speakers_approximate);
        Ok(GetGroupActivityResponse { days, summary, speakers_approximate })
    }
}

impl GroupApi {
    /// Serves ListGroupActivityTotals.
    pub(super) async fn totals_for(
        &self,
        caller: &Caller,
        request: ListGroupActivityTotalsRequest,
    ) -> Result<ListGroupActivityTotalsResponse, GroupError> {
        if request.start_day.is_empty() {
            return Err(ApiError::invalid("start_day", "start_day is required").into());
        }
        if request.end_day.is_empty() {
            return Err(ApiError::invalid("end_day", "end_day is required").into());
        }
        let (start, end) = day_range(&request.start_day, &request.end_day, day_of(self.clock.now_millis()))?;
        let filter = super::groups::list_filter(caller, &request.filter.unwrap_or_default())?;
        let totals = self.store.activity_totals(&filter, start, end).await?;
        let groups = totals
            .into_iter()
            .map(|group| GroupActivityTotals {
                chat_id: group.chat_id,
                name: group.name,
                owner: group.owner,
                store_id: group.store_id,
                member_count: group.member_count,
                messages: group.messages,
                speakers: group.speakers,
                joins: group.joins,
                leaves: group.leaves,
                lurkers: group.lurkers,
            })
            .collect();
        Ok(ListGroupActivityTotalsResponse { groups })
    }
}
