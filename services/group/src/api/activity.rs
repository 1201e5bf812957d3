//! Activity (PR07): IngestMessages and GetGroupActivity.

use scrm_kernel::{ApiError, Caller, ErrorCode, Role};
use scrm_proto::group::v1::get_group_activity_request::Subject;
use scrm_proto::group::v1::{
    GetGroupActivityRequest, GetGroupActivityResponse, GroupActivityDay, IngestMessagesRequest, IngestMessagesResponse,
    MessageSenderType,
};
use tonic::Streaming;

use super::GroupApi;
use crate::activity::{day_of, day_string, parse_day};
use crate::error::GroupError;
use crate::listing::GroupFilter;
use crate::store::activity::MessageInput;
use crate::store::list::GroupKey;

/// Most messages in one batch.
const MAX_MESSAGES_PER_BATCH: usize = 1000;
/// Most rejection reasons reported.
const MAX_REJECTION_SAMPLES: usize = 20;
/// Longest series, in days.
const MAX_SERIES_DAYS: i64 = 181;

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
                let problem = if message.msgid.is_empty() {
                    Some("msgid missing")
                } else if message.chat_id.is_empty() {
                    Some("chat_id missing")
                } else if message.sender.is_empty() {
                    Some("sender missing")
                } else if !matches!(message.action.as_str(), "" | "send") {
                    Some("action is not send")
                } else if message.msgtime.is_none() {
                    Some("msgtime missing")
                } else if message.msgid.chars().count() > 128
                    || message.chat_id.chars().count() > 64
                    || message.sender.chars().count() > 64
                {
                    Some("an id is too long")
                } else {
                    None
                };
                if let Some(problem) = problem {
                    reject(&mut response, format!("msgid {}: {problem}", message.msgid));
                    continue;
                }
                let msgtime = message.msgtime.map_or(0, |time| time.seconds * 1000 + i64::from(time.nanos / 1_000_000));
                inputs.push(MessageInput {
                    speaker: message.sender_type != MessageSenderType::Robot as i32,
                    msgid: message.msgid,
                    chat_id: message.chat_id,
                    sender: message.sender,
                    msgtime,
                    seq: message.seq,
                });
            }
            let now = self.clock.now_millis();
            let silent_days = crate::alerts::silent_days(&self.store.alert_rules(now).await?);
            let outcome = self.store.ingest_messages(&inputs, now, silent_days).await?;
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
        let end = match request.end_day.as_str() {
            "" => today,
            text => parse_day(text).ok_or_else(|| ApiError::invalid("end_day", "end_day is not YYYY-MM-DD"))?,
        };
        let start = match request.start_day.as_str() {
            "" => end - 29,
            text => parse_day(text).ok_or_else(|| ApiError::invalid("start_day", "start_day is not YYYY-MM-DD"))?,
        };
        if start > end || end - start >= MAX_SERIES_DAYS {
            return Err(
                ApiError::invalid("start_day", "start_day must be on or before end_day, at most 180 days").into()
            );
        }
        let filter = GroupFilter::all(caller.store_scope());
        let not_found = || ApiError::new(ErrorCode::NotFound, "the group is unknown or outside your scope");
        let (chat_ids, summary) = match request.subject {
            Some(Subject::ChatId(chat_id)) if !chat_id.is_empty() => {
                let group = self.store.find_group(&GroupKey::ChatId(chat_id), &filter).await?.ok_or_else(not_found)?;
                if caller.role == Role::Koc && group.owner_userid != caller.staff_id {
                    return Err(not_found().into());
                }
                let summary = super::groups::group_proto(group.clone(), Vec::new()).activity;
                (vec![group.chat_id], summary)
            }
            Some(Subject::Owner(owner)) if !owner.is_empty() => {
                if caller.role == Role::Koc && owner != caller.staff_id {
                    return Err(ApiError::new(ErrorCode::PermissionDenied, "a KOC sees their own groups only").into());
                }
                (self.store.chat_ids_of_owner(&owner).await?, None)
            }
            _ => return Err(ApiError::invalid("subject", "chat_id or owner is required").into()),
        };
        let series = self.store.activity_series(&chat_ids, start, end).await?;
        let member_total = self.store.member_count_of(&chat_ids).await?;
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
                wecom: None,
            });
            if day <= today {
                members_after = members_after - figures.joins + figures.leaves;
            }
        }
        days.reverse();
        Ok(GetGroupActivityResponse { days, summary, speakers_approximate: false })
    }
}
