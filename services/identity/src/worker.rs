//! Background jobs of the identity service: the callback inbox worker, which applies stored WeCom
//! callback events asynchronously, and the resumption of a sync run a dead process left unfinished.
//!
//! Each event is processed by reading WeCom's current state of what it names (`externalcontact/get`,
//! `groupchat/get`, `user/get`) and handing it to the owning service's idempotent upsert, so processing
//! an event twice, or late, changes nothing more than processing it once. Failures are retried with
//! exponential backoff; after [`MAX_ATTEMPTS`] the event stays failed for an admin to reprocess.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use scrm_kernel::{Caller, Clients};
use scrm_proto::customer::v1::{
    AddWay, ContactSource, CustomerTag, FollowRemovalReason, FollowUserInput, RemoveFollowUserRequest, TagType,
    UpsertExternalContactsRequest,
};
use scrm_proto::group::v1::{MarkGroupChatsDismissedRequest, UpsertGroupChatsRequest};
use scrm_wecom::WeComClient;
use scrm_wecom_crypto::event::{
    CallbackEvent, ContactChange, ContactEvent, ExternalChatChange, ExternalChatEvent, ExternalContactChange,
    ExternalContactEvent, PartyChange,
};
use tokio::sync::Notify;

use crate::domain::{InboxState, MAX_ATTEMPTS, retry_delay};
use crate::store::{DepartmentRow, IdentityStore, InboxAttempt, InboxRow, department_ids};
use crate::sync::{SharedSync, contact_input, group_snapshot, known_enum, staff_row, timestamp_now, unix_millis};

/// Events read from the inbox per round.
const BATCH: u32 = 50;
/// How often the worker looks for retries that became due when nothing woke it.
const POLL_EVERY: Duration = Duration::from_secs(1);
/// Wait before the first round, so the process wires its in-process channels before the first call.
const STARTUP_DELAY: Duration = Duration::from_millis(500);

/// WeCom errcodes saying a customer is not (or no longer) a contact of the corp.
const NOT_A_CONTACT: &[i64] = &[84061, 40096];
/// WeCom errcode of an unknown userid in `user/get`.
const NO_SUCH_USER: i64 = 60111;
/// WeCom errcode of an unknown chat_id in `groupchat/get`.
const NO_SUCH_CHAT: i64 = 40050;
/// WeCom errcode of a dismissed chat in `groupchat/get`.
const CHAT_DISMISSED: i64 = 49008;

/// What processing one event did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// The event's change was applied (or was already).
    Processed,
    /// The event needs nothing from scrm; the reason is recorded.
    Ignored(String),
}

/// Applies stored callback events.
#[derive(Clone)]
pub struct InboxWorker {
    store: IdentityStore,
    wecom: Option<WeComClient>,
    clients: Clients,
    wake: Arc<Notify>,
}

impl std::fmt::Debug for InboxWorker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InboxWorker").field("wecom", &self.wecom).finish_non_exhaustive()
    }
}

impl InboxWorker {
    /// A worker over `store`, reading WeCom through `wecom` and writing through `clients`.
    pub fn new(store: IdentityStore, wecom: Option<WeComClient>, clients: Clients) -> Self {
        InboxWorker { store, wecom, clients, wake: Arc::new(Notify::new()) }
    }

    /// Wakes the worker: new events are waiting.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Runs forever: resumes an interrupted sync run, then processes due events as they come.
    pub async fn run(self, sync: SharedSync) {
        tokio::time::sleep(STARTUP_DELAY).await;
        if let Err(error) = sync.resume_interrupted().await {
            tracing::error!(%error, "could not resume an interrupted sync run");
        }
        loop {
            let now = unix_millis(SystemTime::now());
            match self.process_due(now).await {
                Ok(processed) if processed == BATCH as usize => continue,
                Ok(_) => {}
                Err(error) => tracing::error!(%error, "cannot read the callback inbox"),
            }
            let _ = tokio::time::timeout(POLL_EVERY, self.wake.notified()).await;
        }
    }

    /// Processes the events due at `now` (Unix milliseconds), oldest first; returns how many it tried.
    pub async fn process_due(&self, now: i64) -> Result<usize, sqlx::Error> {
        let due = self.store.due_inbox_events(now, BATCH).await?;
        for row in &due {
            let attempt = self.attempt(row, now).await;
            self.store.record_inbox_attempt(row.id, &attempt).await?;
        }
        Ok(due.len())
    }

    async fn attempt(&self, row: &InboxRow, now: i64) -> InboxAttempt {
        let attempts = row.attempts.saturating_add(1);
        let outcome = self.apply(&row.raw_xml).await;
        let attempt = |state, last_error: String, processed_at, next_attempt_at| InboxAttempt {
            state,
            attempts,
            last_error,
            processed_at,
            next_attempt_at,
        };
        match outcome {
            Ok(Applied::Processed) => attempt(InboxState::Processed, String::new(), Some(now), 0),
            Ok(Applied::Ignored(reason)) => attempt(InboxState::Ignored, reason, Some(now), 0),
            Err(error) => match retry_delay(attempts) {
                Some(delay) => {
                    tracing::info!(id = row.id, attempts, %error, ?delay, "callback event failed; will retry");
                    attempt(InboxState::Pending, error, None, now + delay.as_millis() as i64)
                }
                None => {
                    tracing::warn!(id = row.id, attempts, %error, "callback event failed {MAX_ATTEMPTS} times; giving up");
                    attempt(InboxState::Failed, error, Some(now), 0)
                }
            },
        }
    }

    /// Applies one event's decrypted XML.
    pub async fn apply(&self, raw_xml: &str) -> Result<Applied, String> {
        let event = CallbackEvent::parse(raw_xml).map_err(|error| format!("unreadable event: {error}"))?;
        match event {
            CallbackEvent::ExternalContact(event) => self.external_contact(event).await,
            CallbackEvent::ExternalChat(event) => self.external_chat(event).await,
            CallbackEvent::Contact(event) => self.contact(event).await,
            CallbackEvent::ExternalTag(_) => Ok(Applied::Ignored("skipped: corp tags sync not built".to_owned())),
            CallbackEvent::Unknown { event, change_type, .. } => Ok(Applied::Ignored(format!(
                "not handled by scrm: {event}{}",
                change_type.map(|change_type| format!(" / {change_type}")).unwrap_or_default()
            ))),
        }
    }

    fn wecom(&self) -> Result<&WeComClient, String> {
        self.wecom.as_ref().ok_or_else(|| "WeCom is not configured (wecom.corp_id, wecom.secret)".to_owned())
    }

    async fn external_contact(&self, event: ExternalContactEvent) -> Result<Applied, String> {
        let reason = match event.change_type {
            ExternalContactChange::AddExternalContact
            | ExternalContactChange::EditExternalContact
            | ExternalContactChange::AddHalfExternalContact => return self.refresh_contact(&event).await,
            ExternalContactChange::DelExternalContact => FollowRemovalReason::StaffDeletedCustomer,
            ExternalContactChange::DelFollowUser => FollowRemovalReason::CustomerDeletedStaff,
            ExternalContactChange::TransferFail => {
                return Ok(Applied::Ignored("skipped: customer transfers are not tracked yet".to_owned()));
            }
        };
        let request = RemoveFollowUserRequest {
            external_userid: event.external_user_id,
            userid: event.user_id,
            reason: reason as i32,
            occurred_at: Some(seconds(event.header.create_time)),
            source: ContactSource::Callback as i32,
        };
        let request = Caller::system("wecom-callback").outgoing(request).map_err(|error| error.to_string())?;
        let removed = self
            .clients
            .customer
            .clone()
            .remove_follow_user(request)
            .await
            .map_err(|status| format!("customer service RemoveFollowUser: {}", status.message()))?
            .into_inner();
        tracing::info!(removed = removed.removed, churned = removed.churned, "follow relation ended by a callback");
        Ok(Applied::Processed)
    }

    /// Reads the customer with every follow relation and hands the complete set to the customer service.
    async fn refresh_contact(&self, event: &ExternalContactEvent) -> Result<Applied, String> {
        let got = match self.wecom()?.external_contact_get_all(&event.external_user_id).await {
            Ok(got) => got,
            Err(error) if error.errcode().is_some_and(|code| NOT_A_CONTACT.contains(&code)) => {
                return Ok(Applied::Ignored("the customer is no longer a contact in WeCom".to_owned()));
            }
            Err(error) => return Err(format!("externalcontact/get: {error}")),
        };
        let mut contact = contact_input(got.external_contact);
        contact.follow_user = got.follow_user.into_iter().map(follow_user_input).collect();
        contact.follow_user_complete = true;
        for follow in &mut contact.follow_user {
            let staff = self.store.staff(&follow.userid).await.map_err(|error| format!("identity storage: {error}"))?;
            follow.store_ids = staff.map(|staff| department_ids(&staff.department_ids)).unwrap_or_default();
        }
        if let Some(state) = event.state.as_deref().filter(|state| !state.is_empty()) {
            for follow in &mut contact.follow_user {
                if follow.userid == event.user_id && follow.state.is_empty() {
                    follow.state = state.to_owned();
                }
            }
        }
        let request = UpsertExternalContactsRequest {
            contacts: vec![contact],
            source: ContactSource::Callback as i32,
            sync_run_id: 0,
            observed_at: Some(timestamp_now()),
        };
        let request = Caller::system("wecom-callback").outgoing(request).map_err(|error| error.to_string())?;
        self.clients
            .customer
            .clone()
            .upsert_external_contacts(request)
            .await
            .map_err(|status| format!("customer service UpsertExternalContacts: {}", status.message()))?;
        Ok(Applied::Processed)
    }

    async fn external_chat(&self, event: ExternalChatEvent) -> Result<Applied, String> {
        if event.change == ExternalChatChange::Dismiss {
            return self.dismiss_chat(event.chat_id, event.header.create_time).await;
        }
        let chat = match self.wecom()?.groupchat_get(&event.chat_id, true).await {
            Ok(got) => got.group_chat,
            Err(error) if error.errcode() == Some(CHAT_DISMISSED) => {
                return self.dismiss_chat(event.chat_id, event.header.create_time).await;
            }
            Err(error) if error.errcode() == Some(NO_SUCH_CHAT) => {
                return Ok(Applied::Ignored("the group is unknown to WeCom".to_owned()));
            }
            Err(error) => return Err(format!("externalcontact/groupchat/get: {error}")),
        };
        let request = UpsertGroupChatsRequest { group_chats: vec![group_snapshot(chat, None)], sync_run_id: 0 };
        let request = Caller::system("wecom-callback").outgoing(request).map_err(|error| error.to_string())?;
        let response = self
            .clients
            .group
            .clone()
            .upsert_group_chats(request)
            .await
            .map_err(|status| format!("group service UpsertGroupChats: {}", status.message()))?
            .into_inner();
        match response.failures.first() {
            Some(failure) => Err(format!("group service rejected the snapshot: {}", failure.reason)),
            None => Ok(Applied::Processed),
        }
    }

    async fn dismiss_chat(&self, chat_id: String, create_time: i64) -> Result<Applied, String> {
        let request =
            MarkGroupChatsDismissedRequest { chat_ids: vec![chat_id], dismissed_at: Some(seconds(create_time)) };
        let request = Caller::system("wecom-callback").outgoing(request).map_err(|error| error.to_string())?;
        let response = self
            .clients
            .group
            .clone()
            .mark_group_chats_dismissed(request)
            .await
            .map_err(|status| format!("group service MarkGroupChatsDismissed: {}", status.message()))?
            .into_inner();
        if response.unknown_chat_ids.is_empty() {
            Ok(Applied::Processed)
        } else {
            Ok(Applied::Ignored("a group scrm never synced was dismissed".to_owned()))
        }
    }

    async fn contact(&self, event: ContactEvent) -> Result<Applied, String> {
        let now = unix_millis(SystemTime::now());
        let storage = |error: sqlx::Error| format!("identity storage: {error}");
        match event.change {
            ContactChange::CreateUser(user) => self.refresh_staff(&user.user_id).await,
            ContactChange::UpdateUser(user) => {
                let userid = match user.new_user_id.as_deref().filter(|new| !new.is_empty()) {
                    Some(new) => {
                        self.store.rename_staff(&user.user_id, new, now).await.map_err(storage)?;
                        new.to_owned()
                    }
                    None => user.user_id,
                };
                self.refresh_staff(&userid).await
            }
            ContactChange::DeleteUser { user_id } => {
                if self.store.mark_staff_resigned(&user_id, now).await.map_err(storage)? {
                    tracing::info!(userid = %user_id, "staff member deleted in WeCom: flagged resigned for 离职继承");
                }
                Ok(Applied::Processed)
            }
            ContactChange::CreateParty(party) | ContactChange::UpdateParty(party) => {
                let old = self.store.department(party.id as i64).await.map_err(storage)?;
                self.store.upsert_department(&department_row(party, old), now).await.map_err(storage)?;
                Ok(Applied::Processed)
            }
            ContactChange::DeleteParty { id } => {
                self.store.delete_department(id as i64).await.map_err(storage)?;
                Ok(Applied::Processed)
            }
            ContactChange::UpdateTag(_) => Ok(Applied::Ignored("skipped: staff tags are not synced".to_owned())),
        }
    }

    /// Reads a staff member with `user/get` and stores them unless nothing changed.
    async fn refresh_staff(&self, userid: &str) -> Result<Applied, String> {
        let wecom = self.wecom()?;
        let user = match wecom.user_get(userid).await {
            Ok(user) => user,
            Err(error) if error.errcode() == Some(NO_SUCH_USER) => {
                return Ok(Applied::Ignored("the staff member is no longer in WeCom".to_owned()));
            }
            Err(error) => return Err(format!("user/get: {error}")),
        };
        let follow = wecom
            .get_follow_user_list()
            .await
            .map_err(|error| format!("externalcontact/get_follow_user_list: {error}"))?;
        let follow: HashSet<String> = follow.follow_user.into_iter().collect();
        let row = staff_row(&user, follow.contains(&user.userid));
        let stored = self.store.staff(&row.userid).await.map_err(|error| format!("identity storage: {error}"))?;
        if stored.is_none_or(|stored| stored.fingerprint != row.fingerprint || stored.status != row.status) {
            let now = unix_millis(SystemTime::now());
            self.store.upsert_staff(&row, now).await.map_err(|error| format!("identity storage: {error}"))?;
        }
        Ok(Applied::Processed)
    }
}

/// A department after `create_party` / `update_party`: the event's fields over what is stored.
fn department_row(party: PartyChange, old: Option<DepartmentRow>) -> DepartmentRow {
    let old = old.unwrap_or(DepartmentRow { id: party.id as i64, parent_id: 0, sort_order: 0, name: String::new() });
    DepartmentRow {
        id: old.id,
        parent_id: party.parent_id.map_or(old.parent_id, |parent| parent as i64),
        sort_order: party.order.map_or(old.sort_order, |order| order as i64),
        name: party.name.unwrap_or(old.name),
    }
}

/// A follow relation read with `externalcontact/get`.
fn follow_user_input(follow: scrm_wecom::FollowUser) -> FollowUserInput {
    FollowUserInput {
        userid: follow.userid,
        remark: follow.remark,
        description: follow.description,
        added_at: (follow.createtime > 0).then_some(seconds(follow.createtime)),
        add_way: i32::try_from(follow.add_way)
            .ok()
            .and_then(|way| AddWay::try_from(way).ok())
            .map_or(0, |way| way as i32),
        state: follow.state,
        oper_userid: follow.oper_userid,
        remark_corp_name: follow.remark_corp_name,
        remark_mobiles: follow.remark_mobiles,
        tags: follow
            .tags
            .into_iter()
            .map(|tag| CustomerTag {
                tag_id: tag.tag_id,
                tag_name: tag.tag_name,
                group_id: String::new(),
                group_name: tag.group_name,
                r#type: match known_enum(tag.tag_type, 3) {
                    0 => TagType::Corp as i32,
                    known => known,
                },
            })
            .collect(),
        store_ids: Vec::new(),
    }
}

fn seconds(unix_seconds: i64) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds: unix_seconds, nanos: 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn party_events_change_only_the_fields_they_carry() {
        let stored = DepartmentRow { id: 7, parent_id: 1, sort_order: 300, name: "华东区".to_owned() };
        let renamed = PartyChange { id: 7, name: Some("华东大区".to_owned()), parent_id: None, order: None };
        assert_eq!(
            department_row(renamed, Some(stored.clone())),
            DepartmentRow { name: "华东大区".to_owned(), ..stored }
        );
        let created = PartyChange { id: 9, name: Some("新店".to_owned()), parent_id: Some(7), order: Some(5) };
        assert_eq!(
            department_row(created, None),
            DepartmentRow { id: 9, parent_id: 7, sort_order: 5, name: "新店".to_owned() }
        );
    }

    #[test]
    fn follow_relations_keep_state_and_tags() {
        let follow = scrm_wecom::FollowUser {
            userid: "zhangsan".to_owned(),
            createtime: 1_700_000_000,
            add_way: 1,
            state: "store_12".to_owned(),
            tags: vec![scrm_wecom::FollowUserTag {
                group_name: "客户意向".to_owned(),
                tag_name: "高意向".to_owned(),
                tag_id: "et1".to_owned(),
                tag_type: 1,
            }],
            ..Default::default()
        };
        let input = follow_user_input(follow);
        assert_eq!(input.state, "store_12");
        assert_eq!(input.added_at, Some(seconds(1_700_000_000)));
        assert_eq!(input.tags[0].tag_name, "高意向");
        assert_eq!(input.tags[0].r#type, TagType::Corp as i32);
    }
}
