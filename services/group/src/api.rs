//! The tonic implementation of `scrm.group.v1.GroupService`: maps protobuf to domain calls
//! and checks the caller. RPCs not written here answer through [`crate::PLANNED`].

mod activity;
mod alerts;
mod contact_welcome;
mod groups;
mod join_ways;
mod mask;
mod tags;
mod welcome;

use std::sync::Arc;

use std::collections::HashMap;
use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use scrm_kernel::{ApiError, Caller, ErrorCode};
use scrm_proto::group::v1::group_service_server::GroupService;
use scrm_proto::group::v1::{
    AcknowledgeAlertRequest, AcknowledgeAlertResponse, CountGroupsRequest, CountGroupsResponse, CreateGroupTagRequest,
    CreateGroupTagResponse, DeleteGroupTagRequest, DeleteGroupTagResponse, GetAlertRequest, GetAlertResponse,
    GetGroupActivityRequest, GetGroupActivityResponse, GetGroupRequest, GetGroupResponse, GroupChatMember,
    GroupChatSnapshot, GroupMemberDeparture, IngestMessagesRequest, IngestMessagesResponse, ListAlertRulesRequest,
    ListAlertRulesResponse, ListAlertsRequest, ListAlertsResponse, ListGroupActivityTotalsRequest,
    ListGroupActivityTotalsResponse, ListGroupTagsRequest, ListGroupTagsResponse, ListGroupsRequest,
    ListGroupsResponse, ListMemberGroupsRequest, ListMemberGroupsResponse, MarkGroupChatsDismissedRequest,
    MarkGroupChatsDismissedResponse, TagGroupsRequest, TagGroupsResponse, UpdateAlertRuleRequest,
    UpdateAlertRuleResponse, UpdateGroupTagRequest, UpdateGroupTagResponse, UpsertGroupChatFailure,
    UpsertGroupChatsRequest, UpsertGroupChatsResponse, UpsertGroupMembersRequest, UpsertGroupMembersResponse,
};
use scrm_proto::group::v1::{
    CreateJoinWayRequest, CreateJoinWayResponse, CreateWelcomeRuleRequest, CreateWelcomeRuleResponse,
    DeleteJoinWayRequest, DeleteJoinWayResponse, DeleteWelcomeRuleRequest, DeleteWelcomeRuleResponse,
    GetJoinWayRequest, GetJoinWayResponse, GetWelcomeCoverageRequest, GetWelcomeCoverageResponse,
    GetWelcomeRuleRequest, GetWelcomeRuleResponse, GetWelcomeSettingsRequest, GetWelcomeSettingsResponse,
    ListJoinWaysRequest, ListJoinWaysResponse, ListWelcomeRulesRequest, ListWelcomeRulesResponse,
    RecordWelcomeTemplateAppliedRequest, RecordWelcomeTemplateAppliedResponse, SendContactWelcomeRequest,
    SendContactWelcomeResponse, UpdateJoinWayRequest, UpdateJoinWayResponse, UpdateWelcomeRuleRequest,
    UpdateWelcomeRuleResponse, UpdateWelcomeSettingsRequest, UpdateWelcomeSettingsResponse,
};
use scrm_wecom::WeComClient;
use tokio::sync::Notify;
use tonic::{Request, Response, Status};

use crate::clock::Clock;
use crate::domain::{ChatSnapshot, Departure, MAX_BATCH, MemberInput};
use crate::error::GroupError;
use crate::store::{GroupStore, SnapshotChange};

/// Longest WeCom id scrm stores (chat_id, userid, external_userid, unionid, state, member_version).
const MAX_ID_CHARS: usize = 64;
/// Longest group name, member name or group nickname.
const MAX_NAME_CHARS: usize = 255;
/// Longest group notice (群公告).
const MAX_NOTICE_CHARS: usize = 10_000;
/// Most admins' userids, comma-joined, in characters.
const MAX_ADMIN_LIST_CHARS: usize = 1024;
/// Most members in one snapshot (WeCom caps customer groups far below).
const MAX_MEMBERS_PER_GROUP: usize = 5000;
/// Latest time accepted: 9999-12-31T23:59:59Z.
const MAX_TIMESTAMP_SECONDS: i64 = 253_402_300_799;

/// The group service's gRPC handlers.
#[derive(Debug)]
pub struct GroupApi {
    store: GroupStore,
    clock: Arc<dyn Clock>,
    wecom: Option<WeComClient>,
    welcome_wake: Arc<Notify>,
}

impl GroupApi {
    /// Handlers over `store`, telling time by `clock`, reaching WeCom through `wecom` (join ways, contact
    /// welcomes), waking the welcome worker through `welcome_wake` when a rule changes.
    pub fn new(
        store: GroupStore,
        clock: Arc<dyn Clock>,
        wecom: Option<WeComClient>,
        welcome_wake: Arc<Notify>,
    ) -> Self {
        GroupApi { store, clock, wecom, welcome_wake }
    }
}

#[tonic::async_trait]
impl GroupService for GroupApi {
    async fn create_join_way(
        &self,
        request: Request<CreateJoinWayRequest>,
    ) -> Result<Response<CreateJoinWayResponse>, Status> {
        let caller = Caller::from_request(&request)?;
        Ok(Response::new(self.create_join_way_for(&caller, request.into_inner()).await?))
    }

    async fn get_join_way(&self, request: Request<GetJoinWayRequest>) -> Result<Response<GetJoinWayResponse>, Status> {
        Caller::from_request(&request)?;
        Ok(Response::new(self.get_join_way_for(request.into_inner()).await?))
    }

    async fn list_join_ways(
        &self,
        request: Request<ListJoinWaysRequest>,
    ) -> Result<Response<ListJoinWaysResponse>, Status> {
        Caller::from_request(&request)?;
        Ok(Response::new(self.list_join_ways_for(request.into_inner()).await?))
    }

    async fn update_join_way(
        &self,
        request: Request<UpdateJoinWayRequest>,
    ) -> Result<Response<UpdateJoinWayResponse>, Status> {
        let caller = Caller::from_request(&request)?;
        Ok(Response::new(self.update_join_way_for(&caller, request.into_inner()).await?))
    }

    async fn delete_join_way(
        &self,
        request: Request<DeleteJoinWayRequest>,
    ) -> Result<Response<DeleteJoinWayResponse>, Status> {
        let caller = Caller::from_request(&request)?;
        Ok(Response::new(self.delete_join_way_for(&caller, request.into_inner()).await?))
    }

    async fn create_welcome_rule(
        &self,
        request: Request<CreateWelcomeRuleRequest>,
    ) -> Result<Response<CreateWelcomeRuleResponse>, Status> {
        let caller = Caller::from_request(&request)?;
        Ok(Response::new(self.create_welcome_rule_for(&caller, request.into_inner()).await?))
    }

    async fn get_welcome_rule(
        &self,
        request: Request<GetWelcomeRuleRequest>,
    ) -> Result<Response<GetWelcomeRuleResponse>, Status> {
        Caller::from_request(&request)?;
        Ok(Response::new(self.get_welcome_rule_for(request.into_inner()).await?))
    }

    async fn list_welcome_rules(
        &self,
        request: Request<ListWelcomeRulesRequest>,
    ) -> Result<Response<ListWelcomeRulesResponse>, Status> {
        Caller::from_request(&request)?;
        Ok(Response::new(self.list_welcome_rules_for(request.into_inner()).await?))
    }

    async fn update_welcome_rule(
        &self,
        request: Request<UpdateWelcomeRuleRequest>,
    ) -> Result<Response<UpdateWelcomeRuleResponse>, Status> {
        let caller = Caller::from_request(&request)?;
        Ok(Response::new(self.update_welcome_rule_for(&caller, request.into_inner()).await?))
    }

    async fn delete_welcome_rule(
        &self,
        request: Request<DeleteWelcomeRuleRequest>,
    ) -> Result<Response<DeleteWelcomeRuleResponse>, Status> {
        let caller = Caller::from_request(&request)?;
        Ok(Response::new(self.delete_welcome_rule_for(&caller, request.into_inner()).await?))
    }

    async fn get_welcome_coverage(
        &self,
        request: Request<GetWelcomeCoverageRequest>,
    ) -> Result<Response<GetWelcomeCoverageResponse>, Status> {
        Caller::from_request(&request)?;
        Ok(Response::new(self.welcome_coverage_for(request.into_inner()).await?))
    }

    async fn record_welcome_template_applied(
        &self,
        request: Request<RecordWelcomeTemplateAppliedRequest>,
    ) -> Result<Response<RecordWelcomeTemplateAppliedResponse>, Status> {
        let caller = Caller::from_request(&request)?;
        Ok(Response::new(self.record_template_applied_for(&caller, request.into_inner()).await?))
    }

    async fn send_contact_welcome(
        &self,
        request: Request<SendContactWelcomeRequest>,
    ) -> Result<Response<SendContactWelcomeResponse>, Status> {
        let caller = Caller::from_request(&request)?;
        Ok(Response::new(self.send_contact_welcome_for(&caller, request.into_inner()).await?))
    }

    async fn get_welcome_settings(
        &self,
        request: Request<GetWelcomeSettingsRequest>,
    ) -> Result<Response<GetWelcomeSettingsResponse>, Status> {
        Caller::from_request(&request)?;
        Ok(Response::new(self.welcome_settings_for().await?))
    }

    async fn update_welcome_settings(
        &self,
        request: Request<UpdateWelcomeSettingsRequest>,
    ) -> Result<Response<UpdateWelcomeSettingsResponse>, Status> {
        let caller = Caller::from_request(&request)?;
        Ok(Response::new(self.update_welcome_settings_for(&caller, request.into_inner()).await?))
    }

    async fn count_groups(
        &self,
        request: Request<CountGroupsRequest>,
    ) -> Result<Response<CountGroupsResponse>, Status> {
        let caller = Caller::from_request(&request)?;
        let total = self.store.count_groups(&caller.store_scope()).await.map_err(GroupError::from)?;
        Ok(Response::new(CountGroupsResponse { total }))
    }

    async fn list_groups(&self, request: Request<ListGroupsRequest>) -> Result<Response<ListGroupsResponse>, Status> {
        let caller = Caller::from_request(&request)?;
        Ok(Response::new(self.list_groups_for(&caller, request.into_inner()).await?))
    }

    async fn get_group(&self, request: Request<GetGroupRequest>) -> Result<Response<GetGroupResponse>, Status> {
        let caller = Caller::from_request(&request)?;
        Ok(Response::new(self.get_group_for(&caller, request.into_inner()).await?))
    }

    async fn list_member_groups(
        &self,
        request: Request<ListMemberGroupsRequest>,
    ) -> Result<Response<ListMemberGroupsResponse>, Status> {
        let caller = Caller::from_request(&request)?;
        Ok(Response::new(self.member_groups_for(&caller, request.into_inner()).await?))
    }

    async fn create_group_tag(
        &self,
        request: Request<CreateGroupTagRequest>,
    ) -> Result<Response<CreateGroupTagResponse>, Status> {
        Ok(Response::new(self.create_tag_for(request.into_inner()).await?))
    }

    async fn list_group_tags(
        &self,
        request: Request<ListGroupTagsRequest>,
    ) -> Result<Response<ListGroupTagsResponse>, Status> {
        Caller::from_request(&request)?;
        Ok(Response::new(self.list_tags_for(request.into_inner()).await?))
    }

    async fn update_group_tag(
        &self,
        request: Request<UpdateGroupTagRequest>,
    ) -> Result<Response<UpdateGroupTagResponse>, Status> {
        Ok(Response::new(self.update_tag_for(request.into_inner()).await?))
    }

    async fn delete_group_tag(
        &self,
        request: Request<DeleteGroupTagRequest>,
    ) -> Result<Response<DeleteGroupTagResponse>, Status> {
        Ok(Response::new(self.delete_tag_for(request.into_inner()).await?))
    }

    async fn tag_groups(&self, request: Request<TagGroupsRequest>) -> Result<Response<TagGroupsResponse>, Status> {
        let caller = Caller::from_request(&request)?;
        Ok(Response::new(self.tag_groups_for(&caller, request.into_inner()).await?))
    }

    async fn ingest_messages(
        &self,
        request: Request<tonic::Streaming<IngestMessagesRequest>>,
    ) -> Result<Response<IngestMessagesResponse>, Status> {
        Ok(Response::new(self.ingest_for(request.into_inner()).await?))
    }

    async fn get_group_activity(
        &self,
        request: Request<GetGroupActivityRequest>,
    ) -> Result<Response<GetGroupActivityResponse>, Status> {
        let caller = Caller::from_request(&request)?;
        Ok(Response::new(self.activity_for(&caller, request.into_inner()).await?))
    }

    async fn list_group_activity_totals(
        &self,
        request: Request<ListGroupActivityTotalsRequest>,
    ) -> Result<Response<ListGroupActivityTotalsResponse>, Status> {
        let caller = Caller::from_request(&request)?;
        Ok(Response::new(self.totals_for(&caller, request.into_inner()).await?))
    }

    async fn list_alert_rules(
        &self,
        request: Request<ListAlertRulesRequest>,
    ) -> Result<Response<ListAlertRulesResponse>, Status> {
        Caller::from_request(&request)?;
        Ok(Response::new(self.alert_rules_for().await?))
    }

    async fn update_alert_rule(
        &self,
        request: Request<UpdateAlertRuleRequest>,
    ) -> Result<Response<UpdateAlertRuleResponse>, Status> {
        Ok(Response::new(self.update_rule_for(request.into_inner()).await?))
    }

    async fn list_alerts(&self, request: Request<ListAlertsRequest>) -> Result<Response<ListAlertsResponse>, Status> {
        let caller = Caller::from_request(&request)?;
        Ok(Response::new(self.list_alerts_for(&caller, request.into_inner()).await?))
    }

    async fn get_alert(&self, request: Request<GetAlertRequest>) -> Result<Response<GetAlertResponse>, Status> {
        let caller = Caller::from_request(&request)?;
        Ok(Response::new(self.get_alert_for(&caller, request.into_inner()).await?))
    }

    async fn acknowledge_alert(
        &self,
        request: Request<AcknowledgeAlertRequest>,
    ) -> Result<Response<AcknowledgeAlertResponse>, Status> {
        let caller = Caller::from_request(&request)?;
        Ok(Response::new(self.acknowledge_for(&caller, request.into_inner()).await?))
    }

    async fn upsert_group_chats(
        &self,
        request: Request<UpsertGroupChatsRequest>,
    ) -> Result<Response<UpsertGroupChatsResponse>, Status> {
        let request = request.into_inner();
        check_batch("group_chats", request.group_chats.len())?;
        if let Some(index) = request.group_chats.iter().position(|snapshot| snapshot.chat_id.is_empty()) {
            return Err(ApiError::invalid(format!("group_chats[{index}].chat_id"), "chat_id is required").into());
        }
        let now = unix_millis(SystemTime::now());
        let mut response = UpsertGroupChatsResponse::default();
        for snapshot in request.group_chats {
            let chat_id = snapshot.chat_id.clone();
            let snapshot = match chat_snapshot(snapshot) {
                Ok(snapshot) => snapshot,
                Err(problem) => {
                    response.failures.push(UpsertGroupChatFailure { chat_id, reason: problem.to_string() });
                    continue;
                }
            };
            let outcome = self.store.upsert_group_chat(&snapshot, now).await.map_err(GroupError::from)?;
            match outcome.change {
                SnapshotChange::Created => response.created += 1,
                SnapshotChange::Updated => response.updated += 1,
                SnapshotChange::Unchanged => response.unchanged += 1,
            }
            response.members_joined += outcome.members_joined;
            response.members_left += outcome.members_left;
        }
        tracing::info!(
            sync_run_id = request.sync_run_id,
            created = response.created,
            updated = response.updated,
            unchanged = response.unchanged,
            members_joined = response.members_joined,
            members_left = response.members_left,
            failures = response.failures.len(),
            "group snapshots written"
        );
        Ok(Response::new(response))
    }

    async fn upsert_group_members(
        &self,
        request: Request<UpsertGroupMembersRequest>,
    ) -> Result<Response<UpsertGroupMembersResponse>, Status> {
        let request = request.into_inner();
        if request.chat_id.is_empty() {
            return Err(ApiError::invalid("chat_id", "chat_id is required").into());
        }
        check_batch("joined", request.joined.len())?;
        check_batch("left", request.left.len())?;
        check_len("cur_mem_ver", &request.cur_mem_ver, MAX_ID_CHARS).map_err(ApiError::from)?;
        let joined = dedup_members(
            request
                .joined
                .into_iter()
                .enumerate()
                .map(|(index, member)| {
                    member_input(member).map_err(|problem| problem.within(&format!("joined[{index}]")))
                })
                .collect::<Result<Vec<_>, _>>()
                .map_err(ApiError::from)?,
        );
        let left = request
            .left
            .into_iter()
            .enumerate()
            .map(|(index, departure)| {
                departure_input(departure).map_err(|problem| problem.within(&format!("left[{index}]")))
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(ApiError::from)?;
        let now = unix_millis(SystemTime::now());
        let outcome = self
            .store
            .upsert_group_members(&request.chat_id, &joined, &left, &request.last_mem_ver, &request.cur_mem_ver, now)
            .await
            .map_err(GroupError::from)?
            .ok_or_else(|| {
                ApiError::new(ErrorCode::NotFound, format!("group {} is unknown; upsert it first", request.chat_id))
            })?;
        if outcome.version_gap {
            tracing::info!(chat_id = %request.chat_id, last_mem_ver = %request.last_mem_ver, "member callback after a missed change");
        }
        Ok(Response::new(UpsertGroupMembersResponse {
            joined: outcome.joined,
            left: outcome.left,
            unchanged: outcome.unchanged,
            version_gap: outcome.version_gap,
        }))
    }

    async fn mark_group_chats_dismissed(
        &self,
        request: Request<MarkGroupChatsDismissedRequest>,
    ) -> Result<Response<MarkGroupChatsDismissedResponse>, Status> {
        let request = request.into_inner();
        check_batch("chat_ids", request.chat_ids.len())?;
        if let Some(index) = request.chat_ids.iter().position(String::is_empty) {
            return Err(ApiError::invalid(format!("chat_ids[{index}]"), "chat_id must not be empty").into());
        }
        let now = unix_millis(SystemTime::now());
        let dismissed_at =
            millis("dismissed_at", request.dismissed_at.as_ref()).map_err(ApiError::from)?.unwrap_or(now);
        let outcome =
            self.store.mark_dismissed(&request.chat_ids, dismissed_at, now).await.map_err(GroupError::from)?;
        Ok(Response::new(MarkGroupChatsDismissedResponse {
            dismissed: outcome.dismissed,
            unchanged: outcome.unchanged,
            unknown_chat_ids: outcome.unknown_chat_ids,
        }))
    }
}

/// A bad field of a request: its path and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Problem {
    field: String,
    message: String,
}

impl Problem {
    fn new(field: &str, message: impl Into<String>) -> Self {
        Problem { field: field.to_owned(), message: message.into() }
    }

    /// The same problem, its field inside `parent`.
    fn within(self, parent: &str) -> Self {
        Problem { field: format!("{parent}.{}", self.field), message: self.message }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl From<Problem> for ApiError {
    fn from(problem: Problem) -> Self {
        let message = problem.to_string();
        ApiError::invalid(problem.field, message)
    }
}

fn check_batch(field: &str, len: usize) -> Result<(), ApiError> {
    if len > MAX_BATCH {
        return Err(ApiError::invalid(field, format!("{field} holds {len} entries; at most {MAX_BATCH} per call")));
    }
    Ok(())
}

fn check_len(field: &str, value: &str, max: usize) -> Result<(), Problem> {
    if value.chars().count() > max {
        return Err(Problem::new(field, format!("longer than {max} characters")));
    }
    Ok(())
}

fn check_id(field: &str, value: &str) -> Result<(), Problem> {
    if value.is_empty() {
        return Err(Problem::new(field, "empty"));
    }
    check_len(field, value, MAX_ID_CHARS)
}

/// A protobuf time as Unix milliseconds; `None` when unset.
fn millis(field: &str, time: Option<&prost_types::Timestamp>) -> Result<Option<i64>, Problem> {
    let Some(time) = time else { return Ok(None) };
    if !(0..=MAX_TIMESTAMP_SECONDS).contains(&time.seconds) || !(0..1_000_000_000).contains(&time.nanos) {
        return Err(Problem::new(field, "not a valid time"));
    }
    Ok(Some(time.seconds * 1000 + i64::from(time.nanos / 1_000_000)))
}

/// Unix milliseconds as a protobuf time.
pub(crate) fn timestamp(millis: i64) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds: millis.div_euclid(1000), nanos: (millis.rem_euclid(1000) * 1_000_000) as i32 }
}

/// The current time as Unix milliseconds.
fn now_millis() -> i64 {
    unix_millis(SystemTime::now())
}

fn unix_millis(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |since| since.as_millis() as i64)
}

/// Checks a snapshot and turns it into the domain's; the problem names the field within the snapshot.
fn chat_snapshot(snapshot: GroupChatSnapshot) -> Result<ChatSnapshot, Problem> {
    check_len("chat_id", &snapshot.chat_id, MAX_ID_CHARS)?;
    check_id("owner", &snapshot.owner)?;
    check_len("name", &snapshot.name, MAX_NAME_CHARS)?;
    check_len("notice", &snapshot.notice, MAX_NOTICE_CHARS)?;
    check_len("member_version", &snapshot.member_version, MAX_ID_CHARS)?;
    if !(0..=5).contains(&snapshot.status) {
        return Err(Problem::new("status", format!("unknown value {}", snapshot.status)));
    }
    let mut admin_userids: Vec<String> = Vec::with_capacity(snapshot.admin_userids.len());
    for (index, userid) in snapshot.admin_userids.into_iter().enumerate() {
        let field = format!("admin_userids[{index}]");
        check_id(&field, &userid)?;
        if userid.contains(',') {
            return Err(Problem::new(&field, "contains a comma"));
        }
        if !admin_userids.contains(&userid) {
            admin_userids.push(userid);
        }
    }
    check_len("admin_userids", &admin_userids.join(","), MAX_ADMIN_LIST_CHARS)?;
    if snapshot.member_list.len() > MAX_MEMBERS_PER_GROUP {
        return Err(Problem::new("member_list", format!("more than {MAX_MEMBERS_PER_GROUP} members")));
    }
    let members = snapshot
        .member_list
        .into_iter()
        .enumerate()
        .map(|(index, member)| member_input(member).map_err(|problem| problem.within(&format!("member_list[{index}]"))))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ChatSnapshot {
        created_at: millis("created_at", snapshot.created_at.as_ref())?,
        observed_at: millis("observed_at", snapshot.observed_at.as_ref())?,
        chat_id: snapshot.chat_id,
        name: snapshot.name,
        owner_userid: snapshot.owner,
        notice: snapshot.notice,
        status: snapshot.status,
        admin_userids,
        members_complete: snapshot.members_complete,
        members: dedup_members(members),
        member_version: snapshot.member_version,
    })
}

fn member_input(member: GroupChatMember) -> Result<MemberInput, Problem> {
    check_id("userid", &member.userid)?;
    if !(0..=2).contains(&member.r#type) {
        return Err(Problem::new("type", format!("unknown value {}", member.r#type)));
    }
    check_len("inviter_userid", &member.inviter_userid, MAX_ID_CHARS)?;
    check_len("group_nickname", &member.group_nickname, MAX_NAME_CHARS)?;
    check_len("name", &member.name, MAX_NAME_CHARS)?;
    check_len("unionid", &member.unionid, MAX_ID_CHARS)?;
    check_len("state", &member.state, MAX_ID_CHARS)?;
    Ok(MemberInput {
        joined_at: millis("joined_at", member.joined_at.as_ref())?,
        member_type: member.r#type,
        // A join scene scrm does not know is stored as unknown, as the contract says.
        join_scene: if (0..=3).contains(&member.join_scene) { member.join_scene } else { 0 },
        userid: member.userid,
        inviter_userid: member.inviter_userid,
        group_nickname: member.group_nickname,
        name: member.name,
        unionid: member.unionid,
        state: member.state,
    })
}

fn departure_input(departure: GroupMemberDeparture) -> Result<Departure, Problem> {
    check_id("userid", &departure.userid)?;
    Ok(Departure {
        left_at: millis("left_at", departure.left_at.as_ref())?,
        quit_scene: if (0..=4).contains(&departure.quit_scene) { departure.quit_scene } else { 0 },
        userid: departure.userid,
    })
}

/// One entry per userid, the last one winning, in order of first appearance.
fn dedup_members(members: Vec<MemberInput>) -> Vec<MemberInput> {
    let mut position: HashMap<String, usize> = HashMap::new();
    let mut unique: Vec<MemberInput> = Vec::with_capacity(members.len());
    for member in members {
        match position.get(&member.userid) {
            Some(&index) => unique[index] = member,
            None => {
                position.insert(member.userid.clone(), unique.len());
                unique.push(member);
            }
        }
    }
    unique
}

#[cfg(test)]
mod tests {
    use scrm_kernel::Role;
    use scrm_proto::group::v1::get_group_request::Key;
    use scrm_proto::group::v1::{GroupMemberType, JoinScene};
    use scrm_storage::Db;

    use super::*;

    fn api(db: Db) -> GroupApi {
        GroupApi::new(GroupStore::new(db), Arc::new(crate::clock::SystemClock), None, Arc::new(Notify::new()))
    }

    fn as_role<T>(role: Role, message: T) -> Request<T> {
        let caller = Caller { staff_id: "someone".into(), role, store_ids: Vec::new() };
        caller.outgoing(message).unwrap()
    }

    fn system<T>(message: T) -> Request<T> {
        Caller::system("identity-sync").outgoing(message).unwrap()
    }

    fn at(seconds: i64) -> Option<prost_types::Timestamp> {
        Some(prost_types::Timestamp { seconds, nanos: 0 })
    }

    fn wecom_member(userid: &str, kind: GroupMemberType, joined: i64) -> GroupChatMember {
        GroupChatMember {
            userid: userid.into(),
            r#type: kind as i32,
            joined_at: at(joined),
            join_scene: JoinScene::QrCode as i32,
            inviter_userid: "zhangsan".into(),
            state: "fission-1".into(),
            ..GroupChatMember::default()
        }
    }

    fn wecom_group(chat_id: &str) -> GroupChatSnapshot {
        GroupChatSnapshot {
            chat_id: chat_id.into(),
            name: "盲盒福利群".into(),
            owner: "zhangsan".into(),
            created_at: at(1_600_000_000),
            admin_userids: vec!["lisi".into()],
            members_complete: true,
            member_list: vec![
                wecom_member("zhangsan", GroupMemberType::Staff, 1_600_000_000),
                wecom_member("wm1", GroupMemberType::Customer, 1_600_000_100),
            ],
            member_version: "mv1".into(),
            observed_at: at(1_700_000_000),
            ..GroupChatSnapshot::default()
        }
    }

    fn field(status: &Status) -> Option<String> {
        ApiError::from_status(status).field
    }

    async fn a_sync_write_applies_group_chats(db: Db) {
        db.migrate(&crate::MIGRATIONS).await.unwrap();
        let api = api(db);
        let request = UpsertGroupChatsRequest { group_chats: vec![wecom_group("wr1")], sync_run_id: 7 };
        let response = api.upsert_group_chats(as_role(Role::Operator, request)).await.unwrap().into_inner();
        assert_eq!((response.created, response.members_joined), (1, 2));
    }

    async fn bad_input_names_the_field(db: Db) {
        db.migrate(&crate::MIGRATIONS).await.unwrap();
        let api = api(db);
        let request =
            UpsertGroupChatsRequest { group_chats: vec![wecom_group("wr1"), wecom_group("")], sync_run_id: 1 };
        let status = api.upsert_group_chats(system(request)).await.unwrap_err();
        assert_eq!(
            (status.code(), field(&status).as_deref()),
            (tonic::Code::InvalidArgument, Some("group_chats[1].chat_id"))
        );
        let oversized = UpsertGroupChatsRequest {
            group_chats: (0..=MAX_BATCH).map(|index| wecom_group(&format!("wr{index}"))).collect(),
            sync_run_id: 1,
        };
        let status = api.upsert_group_chats(system(oversized)).await.unwrap_err();
        assert_eq!(field(&status).as_deref(), Some("group_chats"));

        // A bad snapshot is reported; the others are written.
        let mut ownerless = wecom_group("wr2");
        ownerless.owner.clear();
        let mut bad_member = wecom_group("wr3");
        bad_member.member_list[1].userid.clear();
        let request =
            UpsertGroupChatsRequest { group_chats: vec![wecom_group("wr1"), ownerless, bad_member], sync_run_id: 1 };
        let response = api.upsert_group_chats(system(request)).await.unwrap().into_inner();
        assert_eq!(response.created, 1);
        let failures: Vec<_> = response.failures.iter().map(|f| (f.chat_id.as_str(), f.reason.as_str())).collect();
        assert_eq!(failures, [("wr2", "owner: empty"), ("wr3", "member_list[1].userid: empty")]);

        let status = api.upsert_group_members(system(UpsertGroupMembersRequest::default())).await.unwrap_err();
        assert_eq!(field(&status).as_deref(), Some("chat_id"));
        let request = UpsertGroupMembersRequest {
            chat_id: "wr1".into(),
            left: vec![GroupMemberDeparture::default()],
            ..UpsertGroupMembersRequest::default()
        };
        let status = api.upsert_group_members(system(request)).await.unwrap_err();
        assert_eq!(field(&status).as_deref(), Some("left[0].userid"));
        let request = UpsertGroupMembersRequest {
            chat_id: "wr404".into(),
            joined: vec![wecom_member("wm9", GroupMemberType::Customer, 1_700_000_100)],
            ..UpsertGroupMembersRequest::default()
        };
        assert_eq!(api.upsert_group_members(system(request)).await.unwrap_err().code(), tonic::Code::NotFound);
        let request =
            MarkGroupChatsDismissedRequest { chat_ids: vec!["wr1".into(), String::new()], dismissed_at: None };
        let status = api.mark_group_chats_dismissed(system(request)).await.unwrap_err();
        assert_eq!(field(&status).as_deref(), Some("chat_ids[1]"));
        let request = MarkGroupChatsDismissedRequest { chat_ids: vec!["wr1".into()], dismissed_at: at(-5) };
        let status = api.mark_group_chats_dismissed(system(request)).await.unwrap_err();
        assert_eq!(field(&status).as_deref(), Some("dismissed_at"));
    }

    async fn a_group_lives_through_sync_callbacks_and_dismissal(db: Db) {
        db.migrate(&crate::MIGRATIONS).await.unwrap();
        let api = api(db);
        let count = || async { api.count_groups(system(CountGroupsRequest {})).await.unwrap().into_inner().total };
        let batch =
            UpsertGroupChatsRequest { group_chats: vec![wecom_group("wr1"), wecom_group("wr2")], sync_run_id: 3 };
        let first = api.upsert_group_chats(system(batch.clone())).await.unwrap().into_inner();
        assert_eq!((first.created, first.updated, first.unchanged, first.members_joined), (2, 0, 0, 4));
        let second = api.upsert_group_chats(system(batch)).await.unwrap().into_inner();
        assert_eq!((second.created, second.updated, second.unchanged, second.members_joined), (0, 0, 2, 0));
        assert_eq!(count().await, 2);

        let join = UpsertGroupMembersRequest {
            chat_id: "wr1".into(),
            joined: vec![wecom_member("wm9", GroupMemberType::Customer, 1_700_000_100)],
            last_mem_ver: "mv1".into(),
            cur_mem_ver: "mv2".into(),
            ..UpsertGroupMembersRequest::default()
        };
        let joined = api.upsert_group_members(system(join.clone())).await.unwrap().into_inner();
        assert_eq!((joined.joined, joined.unchanged, joined.version_gap), (1, 0, false));
        let replayed = api.upsert_group_members(system(join)).await.unwrap().into_inner();
        assert_eq!((replayed.joined, replayed.unchanged, replayed.version_gap), (0, 1, false));

        let dismiss = MarkGroupChatsDismissedRequest {
            chat_ids: vec!["wr1".into(), "wr404".into()],
            dismissed_at: at(1_700_000_200),
        };
        let dismissed = api.mark_group_chats_dismissed(system(dismiss.clone())).await.unwrap().into_inner();
        assert_eq!(
            (dismissed.dismissed, dismissed.unchanged, dismissed.unknown_chat_ids),
            (1, 0, vec!["wr404".to_owned()])
        );
        let again = api.mark_group_chats_dismissed(system(dismiss)).await.unwrap().into_inner();
        assert_eq!((again.dismissed, again.unchanged), (0, 1));
        assert_eq!(count().await, 1);
    }

    async fn the_group_list_pages_scopes_and_shows_members(db: Db) {
        db.migrate(&crate::MIGRATIONS).await.unwrap();
        let api = api(db);
        let groups = (0..5).map(|index| wecom_group(&format!("wr{index}"))).collect();
        api.upsert_group_chats(system(UpsertGroupChatsRequest { group_chats: groups, sync_run_id: 0 })).await.unwrap();
        let first = ListGroupsRequest {
            page_size: 2,
            sort_by: scrm_proto::group::v1::GroupSortField::Name as i32,
            ..ListGroupsRequest::default()
        };
        let page = api.list_groups(as_role(Role::Operator, first.clone())).await.unwrap().into_inner();
        assert_eq!((page.groups.len(), page.total_size), (2, 5));
        let group = &page.groups[0];
        assert_eq!((group.owner.as_str(), group.member_count, group.customer_count), ("zhangsan", 2, 1));
        let mut seen: Vec<String> = page.groups.iter().map(|group| group.chat_id.clone()).collect();
        let mut token = page.next_page_token;
        while !token.is_empty() {
            let next = ListGroupsRequest { page_token: token, ..first.clone() };
            let page = api.list_groups(as_role(Role::Operator, next)).await.unwrap().into_inner();
            seen.extend(page.groups.iter().map(|group| group.chat_id.clone()));
            token = page.next_page_token;
        }
        seen.sort();
        assert_eq!(seen, ["wr0", "wr1", "wr2", "wr3", "wr4"]);

        // A token only serves the filters it was issued for.
        let page = api.list_groups(as_role(Role::Operator, first.clone())).await.unwrap().into_inner();
        let other = ListGroupsRequest { page_token: page.next_page_token, name_query: "x".into(), ..first.clone() };
        let status = api.list_groups(as_role(Role::Operator, other)).await.unwrap_err();
        assert_eq!(field(&status).as_deref(), Some("page_token"));
        let bad_sort = ListGroupsRequest { sort_by: 99, ..ListGroupsRequest::default() };
        let status = api.list_groups(as_role(Role::Operator, bad_sort)).await.unwrap_err();
        assert_eq!(field(&status).as_deref(), Some("sort_by"));

        // A KOC sees their own groups; a store manager their stores'.
        let koc = Caller { staff_id: "lisi".into(), role: Role::Koc, store_ids: Vec::new() };
        let page = api.list_groups(koc.outgoing(ListGroupsRequest::default()).unwrap()).await.unwrap().into_inner();
        assert_eq!(page.total_size, 0);
        let manager = Caller { staff_id: "wangwu".into(), role: Role::StoreManager, store_ids: vec!["7".into()] };
        let page = api.list_groups(manager.outgoing(ListGroupsRequest::default()).unwrap()).await.unwrap().into_inner();
        assert_eq!(page.total_size, 0);
        let status = api
            .get_group(
                manager
                    .outgoing(GetGroupRequest { key: Some(Key::ChatId("wr1".into())), ..Default::default() })
                    .unwrap(),
            )
            .await
            .unwrap_err();
        assert_eq!(status.code(), tonic::Code::NotFound);

        let detail = api
            .get_group(as_role(
                Role::Operator,
                GetGroupRequest { key: Some(Key::ChatId("wr1".into())), ..Default::default() },
            ))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(detail.admin_userids, ["lisi"]);
        let customer = detail.members.iter().find(|member| member.userid == "wm1").unwrap();
        assert_eq!(
            (customer.state.as_str(), customer.inviter_userid.as_str(), customer.join_scene, customer.is_owner),
            ("fission-1", "zhangsan", JoinScene::QrCode as i32, false)
        );
        assert!(detail.members.iter().any(|member| member.userid == "zhangsan" && member.is_owner));
        let id = detail.group.unwrap().id;
        let by_id = api
            .get_group(as_role(Role::Operator, GetGroupRequest { key: Some(Key::Id(id)), ..Default::default() }))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(by_id.group.unwrap().chat_id, "wr1");
        let status = api.get_group(as_role(Role::Operator, GetGroupRequest::default())).await.unwrap_err();
        assert_eq!(field(&status).as_deref(), Some("key"));
    }

    async fn tags_are_managed_and_filter_the_list(db: Db) {
        db.migrate(&crate::MIGRATIONS).await.unwrap();
        let api = api(db);
        let groups = (0..3).map(|index| wecom_group(&format!("wr{index}"))).collect();
        api.upsert_group_chats(system(UpsertGroupChatsRequest { group_chats: groups, sync_run_id: 0 })).await.unwrap();
        let create =
            |name: &str, sort_order| CreateGroupTagRequest {
                name: name.into(), category: "群类型".into(), sort_order
            };
        let mom =
            api.create_group_tag(as_role(Role::Operator, create("宝妈群", 2))).await.unwrap().into_inner().tag.unwrap();
        let vip =
            api.create_group_tag(as_role(Role::Operator, create("会员群", 1))).await.unwrap().into_inner().tag.unwrap();
        let status = api.create_group_tag(as_role(Role::Operator, create("宝妈群", 3))).await.unwrap_err();
        assert_eq!(status.code(), tonic::Code::AlreadyExists);
        let status = api.create_group_tag(as_role(Role::Operator, create("", 3))).await.unwrap_err();
        assert_eq!(field(&status).as_deref(), Some("name"));

        let tag = |chat_ids: &[&str], add: Vec<i64>, remove: Vec<i64>| TagGroupsRequest {
            chat_ids: chat_ids.iter().map(|id| id.to_string()).collect(),
            add_tag_ids: add,
            remove_tag_ids: remove,
        };
        let outcome = api
            .tag_groups(as_role(Role::Operator, tag(&["wr0", "wr1", "wr404"], vec![mom.id, vip.id], vec![])))
            .await
            .unwrap()
            .into_inner();
        assert_eq!((outcome.updated, outcome.unchanged, outcome.unknown_chat_ids), (2, 0, vec!["wr404".to_owned()]));
        let again =
            api.tag_groups(as_role(Role::Operator, tag(&["wr0"], vec![mom.id], vec![]))).await.unwrap().into_inner();
        assert_eq!((again.updated, again.unchanged), (0, 1));
        api.tag_groups(as_role(Role::Operator, tag(&["wr1"], vec![], vec![mom.id]))).await.unwrap();
        let status = api.tag_groups(as_role(Role::Operator, tag(&["wr1"], vec![999], vec![]))).await.unwrap_err();
        assert_eq!(field(&status).as_deref(), Some("add_tag_ids"));

        let list =
            api.list_group_tags(as_role(Role::Support, ListGroupTagsRequest::default())).await.unwrap().into_inner();
        let names: Vec<_> = list.tags.iter().map(|tag| (tag.name.as_str(), tag.group_count)).collect();
        assert_eq!(names, [("会员群", 2), ("宝妈群", 1)]);
        let paged = api
            .list_group_tags(as_role(Role::Support, ListGroupTagsRequest { page_size: 1, ..Default::default() }))
            .await
            .unwrap()
            .into_inner();
        let rest = ListGroupTagsRequest { page_size: 1, page_token: paged.next_page_token, ..Default::default() };
        let rest = api.list_group_tags(as_role(Role::Support, rest)).await.unwrap().into_inner();
        assert_eq!(rest.tags[0].name, "宝妈群");

        let by_tag = ListGroupsRequest { tag_ids: vec![mom.id], ..ListGroupsRequest::default() };
        let page = api.list_groups(as_role(Role::Operator, by_tag)).await.unwrap().into_inner();
        assert_eq!(page.groups.iter().map(|group| group.chat_id.as_str()).collect::<Vec<_>>(), ["wr0"]);
        let names: Vec<_> = page.groups[0].tags.iter().map(|tag| tag.name.as_str()).collect();
        assert_eq!(names, ["会员群", "宝妈群"]);

        let renamed = UpdateGroupTagRequest {
            tag: Some(scrm_proto::group::v1::GroupTag {
                id: mom.id, name: "宝妈交流群".into(), ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask { paths: vec!["name".into()] }),
        };
        let renamed = api.update_group_tag(as_role(Role::Operator, renamed)).await.unwrap().into_inner().tag.unwrap();
        assert_eq!((renamed.name.as_str(), renamed.category.as_str(), renamed.sort_order), ("宝妈交流群", "群类型", 2));
        let deleted = api
            .delete_group_tag(as_role(Role::Operator, DeleteGroupTagRequest { id: vip.id }))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(deleted.groups_untagged, 2);
        let status =
            api.delete_group_tag(as_role(Role::Operator, DeleteGroupTagRequest { id: vip.id })).await.unwrap_err();
        assert_eq!(status.code(), tonic::Code::NotFound);
        let by_count = ListGroupsRequest {
            sort_by: scrm_proto::group::v1::GroupSortField::TagCount as i32,
            ..ListGroupsRequest::default()
        };
        let page = api.list_groups(as_role(Role::Operator, by_count)).await.unwrap().into_inner();
        assert_eq!(page.groups[0].chat_id, "wr0");
        assert_eq!(page.groups[0].tags.len(), 1);
    }

    scrm_storage::store_test_suite!(
        tags_are_managed_and_filter_the_list,
        the_group_list_pages_scopes_and_shows_members,
        a_sync_write_applies_group_chats,
        bad_input_names_the_field,
        a_group_lives_through_sync_callbacks_and_dismissal,
    );
}
