//! The tonic implementation of `scrm.customer.v1.CustomerService`: maps protobuf to domain calls
//! and checks the caller. RPCs not written here answer through [`crate::PLANNED`]. Each area's handlers live
//! in a submodule; the trait implementation below only dispatches to them.

mod notes;
mod orders;
mod profile;
mod tags;

use std::time::{SystemTime, UNIX_EPOCH};

use scrm_kernel::rpc::RpcChannel;
use scrm_kernel::{ApiError, Caller};
use scrm_proto::campaign::v1::campaign_service_client::CampaignServiceClient;
use scrm_proto::customer::v1;
use scrm_proto::customer::v1::customer_service_server::CustomerService;
use scrm_proto::customer::v1::{
    AddCustomerNoteRequest, AddCustomerNoteResponse, ContactSource, CountCustomersRequest, CountCustomersResponse,
    CustomerTag, DeleteCustomerNoteRequest, DeleteCustomerNoteResponse, ExternalContactInput, FollowRemovalReason,
    FollowStatus, FollowUserInput, GetCustomerRequest, GetCustomerResponse, GetLevelTiersRequest,
    GetLevelTiersResponse, GetMemberRequest, GetMemberResponse, ImportOrdersRequest, ImportOrdersResponse,
    ListCustomerNotesRequest, ListCustomerNotesResponse, ListOrdersRequest, ListOrdersResponse,
    ReindexCustomersRequest, ReindexCustomersResponse, RemoveFollowUserRequest, RemoveFollowUserResponse,
    SearchCustomersRequest, SearchCustomersResponse, UpdateLevelTiersRequest, UpdateLevelTiersResponse,
    UpsertExternalContactsRequest, UpsertExternalContactsResponse, UpsertMembersRequest, UpsertMembersResponse,
};
use scrm_proto::group::v1::group_service_client::GroupServiceClient;
use tonic::{Request, Response, Status, Streaming};

use crate::domain::{
    ContactFields, ContactInput, FollowFields, MAX_CONTACTS_PER_UPSERT, Tag, canonical_tags, removal_status,
};
use crate::error::CustomerError;
use crate::quick_replies::QuickReplies;
use crate::search::CustomerSearch;
use crate::store::CustomerStore;

/// The customer service's gRPC handlers.
pub struct CustomerApi {
    store: CustomerStore,
    quick_replies: QuickReplies,
    search: CustomerSearch,
    wecom: Option<scrm_wecom::WeComClient>,
    groups: GroupServiceClient<RpcChannel>,
    campaigns: CampaignServiceClient<RpcChannel>,
}

impl CustomerApi {
    /// Handlers over `store`, with the quick-reply library's handlers, keeping `search` in step with every write,
    /// writing tags back to WeCom through `wecom` (tag writes fail while it is `None`); a profile's groups come
    /// from the group service through `groups`, its KOC flag and campaigns from the campaign service through
    /// `campaigns`.
    pub fn new(
        store: CustomerStore,
        quick_replies: QuickReplies,
        search: CustomerSearch,
        wecom: Option<scrm_wecom::WeComClient>,
        groups: GroupServiceClient<RpcChannel>,
        campaigns: CampaignServiceClient<RpcChannel>,
    ) -> Self {
        CustomerApi { store, quick_replies, search, wecom, groups, campaigns }
    }
}

impl std::fmt::Debug for CustomerApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CustomerApi")
            .field("store", &self.store)
            .field("quick_replies", &self.quick_replies)
            .field("search", &self.search)
            .finish_non_exhaustive()
    }
}

/// Runs a handler of `$handlers` (the API itself, or an area's handlers) with the request's caller and
/// message, mapping its error once.
macro_rules! handle {
    ($handlers:expr, $request:ident, $handler:ident) => {{
        let caller = Caller::from_request(&$request)?;
        Ok(Response::new($handlers.$handler(&caller, $request.into_inner()).await.map_err(Status::from)?))
    }};
}

#[tonic::async_trait]
impl CustomerService for CustomerApi {
    async fn get_customer(
        &self,
        request: Request<GetCustomerRequest>,
    ) -> Result<Response<GetCustomerResponse>, Status> {
        handle!(self, request, profile)
    }

    async fn import_orders(
        &self,
        request: Request<Streaming<ImportOrdersRequest>>,
    ) -> Result<Response<ImportOrdersResponse>, Status> {
        Ok(Response::new(self.import_order_stream(request.into_inner()).await?))
    }

    async fn list_orders(&self, request: Request<ListOrdersRequest>) -> Result<Response<ListOrdersResponse>, Status> {
        handle!(self, request, orders)
    }

    async fn upsert_members(
        &self,
        request: Request<UpsertMembersRequest>,
    ) -> Result<Response<UpsertMembersResponse>, Status> {
        Ok(Response::new(self.members(request.into_inner()).await?))
    }

    async fn get_member(&self, request: Request<GetMemberRequest>) -> Result<Response<GetMemberResponse>, Status> {
        handle!(self, request, member)
    }

    async fn add_customer_note(
        &self,
        request: Request<AddCustomerNoteRequest>,
    ) -> Result<Response<AddCustomerNoteResponse>, Status> {
        handle!(self, request, add_note)
    }

    async fn list_customer_notes(
        &self,
        request: Request<ListCustomerNotesRequest>,
    ) -> Result<Response<ListCustomerNotesResponse>, Status> {
        handle!(self, request, list_notes)
    }

    async fn delete_customer_note(
        &self,
        request: Request<DeleteCustomerNoteRequest>,
    ) -> Result<Response<DeleteCustomerNoteResponse>, Status> {
        handle!(self, request, delete_note)
    }

    async fn get_level_tiers(
        &self,
        request: Request<GetLevelTiersRequest>,
    ) -> Result<Response<GetLevelTiersResponse>, Status> {
        Caller::from_request(&request)?;
        Ok(Response::new(self.tiers().await.map_err(Status::from)?))
    }

    async fn update_level_tiers(
        &self,
        request: Request<UpdateLevelTiersRequest>,
    ) -> Result<Response<UpdateLevelTiersResponse>, Status> {
        Ok(Response::new(self.update_tiers(request.into_inner()).await?))
    }

    async fn count_customers(
        &self,
        request: Request<CountCustomersRequest>,
    ) -> Result<Response<CountCustomersResponse>, Status> {
        let caller = Caller::from_request(&request)?;
        let total = self.store.count_contacts(&caller.store_scope()).await.map_err(CustomerError::from)?;
        Ok(Response::new(CountCustomersResponse { total }))
    }

    async fn search_customers(
        &self,
        request: Request<SearchCustomersRequest>,
    ) -> Result<Response<SearchCustomersResponse>, Status> {
        let caller = Caller::from_request(&request)?;
        Ok(Response::new(self.search.search(&caller, request.into_inner()).await?))
    }

    async fn reindex_customers(
        &self,
        _request: Request<ReindexCustomersRequest>,
    ) -> Result<Response<ReindexCustomersResponse>, Status> {
        let summary = self.search.reindex().await?;
        Ok(Response::new(summary.response(SystemTime::now())))
    }

    async fn upsert_external_contacts(
        &self,
        request: Request<UpsertExternalContactsRequest>,
    ) -> Result<Response<UpsertExternalContactsResponse>, Status> {
        let request = request.into_inner();
        if request.contacts.len() > MAX_CONTACTS_PER_UPSERT {
            return Err(ApiError::invalid(
                "contacts",
                format!("at most {MAX_CONTACTS_PER_UPSERT} contacts per call, got {}", request.contacts.len()),
            )
            .into());
        }
        let now = unix_millis(SystemTime::now());
        let observed_at = optional_millis("observed_at", request.observed_at.as_ref())?.unwrap_or(now);
        let mut inputs = request
            .contacts
            .into_iter()
            .enumerate()
            .map(|(index, contact)| contact_input(index, contact))
            .collect::<Result<Vec<_>, _>>()?;
        self.name_corp_tags(&mut inputs).await?;
        let ids: Vec<String> = inputs.iter().map(|input| input.contact.external_userid.clone()).collect();
        let summary = self.store.upsert_contacts(inputs, observed_at, now).await.map_err(CustomerError::from)?;
        if summary.created + summary.updated > 0 {
            self.search.index_customers(&ids).await;
        }
        tracing::info!(
            source = ?ContactSource::try_from(request.source).unwrap_or_default(),
            sync_run_id = request.sync_run_id,
            created = summary.created,
            updated = summary.updated,
            unchanged = summary.unchanged,
            follow_users_added = summary.follow_users_added,
            follow_users_removed = summary.follow_users_removed,
            "applied external contacts"
        );
        Ok(Response::new(UpsertExternalContactsResponse {
            created: summary.created,
            updated: summary.updated,
            unchanged: summary.unchanged,
            follow_users_added: summary.follow_users_added,
            follow_users_removed: summary.follow_users_removed,
        }))
    }

    async fn remove_follow_user(
        &self,
        request: Request<RemoveFollowUserRequest>,
    ) -> Result<Response<RemoveFollowUserResponse>, Status> {
        let request = request.into_inner();
        check_id("external_userid", &request.external_userid)?;
        check_id("userid", &request.userid)?;
        let now = unix_millis(SystemTime::now());
        let occurred_at = optional_millis("occurred_at", request.occurred_at.as_ref())?.unwrap_or(now);
        let reason = FollowRemovalReason::try_from(request.reason).unwrap_or_default();
        let status = removal_status(reason);
        let removal = self
            .store
            .remove_follow_user(&request.external_userid, &request.userid, status, occurred_at, now)
            .await
            .map_err(CustomerError::from)?;
        if removal.removed {
            self.search.index_customers(std::slice::from_ref(&request.external_userid)).await;
        }
        let churned = removal.removed && status == FollowStatus::CustomerDeletedStaff;
        tracing::info!(
            external_userid = %request.external_userid,
            userid = %request.userid,
            ?reason,
            removed = removal.removed,
            churned,
            "follow user removal"
        );
        Ok(Response::new(RemoveFollowUserResponse {
            removed: removal.removed,
            churned,
            customer_status: removal.customer_status as i32,
        }))
    }

    // ---------------------------------------------------------------- corp tags (api::tags)

    async fn list_corp_tags(
        &self,
        request: Request<v1::ListCorpTagsRequest>,
    ) -> Result<Response<v1::ListCorpTagsResponse>, Status> {
        handle!(self, request, list_corp_tags)
    }

    async fn create_corp_tag_group(
        &self,
        request: Request<v1::CreateCorpTagGroupRequest>,
    ) -> Result<Response<v1::CreateCorpTagGroupResponse>, Status> {
        handle!(self, request, create_corp_tag_group)
    }

    async fn update_corp_tag_group(
        &self,
        request: Request<v1::UpdateCorpTagGroupRequest>,
    ) -> Result<Response<v1::UpdateCorpTagGroupResponse>, Status> {
        handle!(self, request, update_corp_tag_group)
    }

    async fn delete_corp_tag_group(
        &self,
        request: Request<v1::DeleteCorpTagGroupRequest>,
    ) -> Result<Response<v1::DeleteCorpTagGroupResponse>, Status> {
        handle!(self, request, delete_corp_tag_group)
    }

    async fn create_corp_tags(
        &self,
        request: Request<v1::CreateCorpTagsRequest>,
    ) -> Result<Response<v1::CreateCorpTagsResponse>, Status> {
        handle!(self, request, create_corp_tags)
    }

    async fn update_corp_tag(
        &self,
        request: Request<v1::UpdateCorpTagRequest>,
    ) -> Result<Response<v1::UpdateCorpTagResponse>, Status> {
        handle!(self, request, update_corp_tag)
    }

    async fn delete_corp_tags(
        &self,
        request: Request<v1::DeleteCorpTagsRequest>,
    ) -> Result<Response<v1::DeleteCorpTagsResponse>, Status> {
        handle!(self, request, delete_corp_tags)
    }

    async fn upsert_corp_tag_groups(
        &self,
        request: Request<v1::UpsertCorpTagGroupsRequest>,
    ) -> Result<Response<v1::UpsertCorpTagGroupsResponse>, Status> {
        handle!(self, request, upsert_corp_tag_groups)
    }

    async fn mark_customer_tags(
        &self,
        request: Request<v1::MarkCustomerTagsRequest>,
    ) -> Result<Response<v1::MarkCustomerTagsResponse>, Status> {
        handle!(self, request, mark_customer_tags)
    }

    // ---------------------------------------------------------------- quick replies (crate::quick_replies)

    async fn list_quick_reply_folders(
        &self,
        request: Request<v1::ListQuickReplyFoldersRequest>,
    ) -> Result<Response<v1::ListQuickReplyFoldersResponse>, Status> {
        handle!(self.quick_replies, request, list_folders)
    }

    async fn create_quick_reply_folder(
        &self,
        request: Request<v1::CreateQuickReplyFolderRequest>,
    ) -> Result<Response<v1::CreateQuickReplyFolderResponse>, Status> {
        handle!(self.quick_replies, request, create_folder)
    }

    async fn update_quick_reply_folder(
        &self,
        request: Request<v1::UpdateQuickReplyFolderRequest>,
    ) -> Result<Response<v1::UpdateQuickReplyFolderResponse>, Status> {
        handle!(self.quick_replies, request, update_folder)
    }

    async fn delete_quick_reply_folder(
        &self,
        request: Request<v1::DeleteQuickReplyFolderRequest>,
    ) -> Result<Response<v1::DeleteQuickReplyFolderResponse>, Status> {
        handle!(self.quick_replies, request, delete_folder)
    }

    async fn create_quick_reply(
        &self,
        request: Request<v1::CreateQuickReplyRequest>,
    ) -> Result<Response<v1::CreateQuickReplyResponse>, Status> {
        handle!(self.quick_replies, request, create_reply)
    }

    async fn get_quick_reply(
        &self,
        request: Request<v1::GetQuickReplyRequest>,
    ) -> Result<Response<v1::GetQuickReplyResponse>, Status> {
        handle!(self.quick_replies, request, get_reply)
    }

    async fn update_quick_reply(
        &self,
        request: Request<v1::UpdateQuickReplyRequest>,
    ) -> Result<Response<v1::UpdateQuickReplyResponse>, Status> {
        handle!(self.quick_replies, request, update_reply)
    }

    async fn delete_quick_reply(
        &self,
        request: Request<v1::DeleteQuickReplyRequest>,
    ) -> Result<Response<v1::DeleteQuickReplyResponse>, Status> {
        handle!(self.quick_replies, request, delete_reply)
    }

    async fn list_quick_replies(
        &self,
        request: Request<v1::ListQuickRepliesRequest>,
    ) -> Result<Response<v1::ListQuickRepliesResponse>, Status> {
        handle!(self.quick_replies, request, list_replies)
    }

    async fn search_quick_replies(
        &self,
        request: Request<v1::SearchQuickRepliesRequest>,
    ) -> Result<Response<v1::SearchQuickRepliesResponse>, Status> {
        handle!(self.quick_replies, request, search_replies)
    }

    async fn render_quick_reply(
        &self,
        request: Request<v1::RenderQuickReplyRequest>,
    ) -> Result<Response<v1::RenderQuickReplyResponse>, Status> {
        handle!(self.quick_replies, request, render_reply)
    }

    async fn record_quick_reply_sent(
        &self,
        request: Request<v1::RecordQuickReplySentRequest>,
    ) -> Result<Response<v1::RecordQuickReplySentResponse>, Status> {
        handle!(self.quick_replies, request, record_sent)
    }
}

/// Longest WeCom id (`external_userid`, `userid`, `tag_id`...) scrm stores.
const MAX_ID_CHARS: usize = 64;
/// Longest name-like text (names, remarks, company names, `state`).
const MAX_NAME_CHARS: usize = 255;
/// Longest long text (avatar URL, description, joined remark phone numbers, joined store ids).
const MAX_TEXT_CHARS: usize = 1024;

fn check_id(field: &str, value: &str) -> Result<(), ApiError> {
    if value.is_empty() {
        return Err(ApiError::invalid(field, format!("{field} is required")));
    }
    check_len(field, value, MAX_ID_CHARS)
}

fn check_len(field: &str, value: &str, max: usize) -> Result<(), ApiError> {
    if value.chars().count() > max {
        return Err(ApiError::invalid(field, format!("{field} is longer than {max} characters")));
    }
    Ok(())
}

/// Checks one contact of an upsert and turns it into the domain's input.
fn contact_input(index: usize, contact: ExternalContactInput) -> Result<ContactInput, ApiError> {
    let at = |field: &str| format!("contacts[{index}].{field}");
    check_id(&at("external_userid"), &contact.external_userid)?;
    check_len(&at("name"), &contact.name, MAX_NAME_CHARS)?;
    check_len(&at("avatar"), &contact.avatar, MAX_TEXT_CHARS)?;
    check_len(&at("unionid"), &contact.unionid, MAX_ID_CHARS)?;
    check_len(&at("position"), &contact.position, MAX_NAME_CHARS)?;
    check_len(&at("corp_name"), &contact.corp_name, MAX_NAME_CHARS)?;
    check_len(&at("corp_full_name"), &contact.corp_full_name, MAX_NAME_CHARS)?;
    let follow_users = contact
        .follow_user
        .into_iter()
        .enumerate()
        .map(|(follow_index, follow)| follow_input(&at(&format!("follow_user[{follow_index}]")), follow))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ContactInput {
        contact: ContactFields {
            external_userid: contact.external_userid,
            name: contact.name,
            avatar: contact.avatar,
            contact_type: contact.r#type,
            gender: contact.gender,
            unionid: contact.unionid,
            position: contact.position,
            corp_name: contact.corp_name,
            corp_full_name: contact.corp_full_name,
        },
        follow_users,
        follow_user_complete: contact.follow_user_complete,
    })
}

/// Checks one follow relation (at request path `path`) and turns it into the domain's fields.
fn follow_input(path: &str, follow: FollowUserInput) -> Result<FollowFields, ApiError> {
    let at = |field: &str| format!("{path}.{field}");
    check_id(&at("userid"), &follow.userid)?;
    check_len(&at("remark"), &follow.remark, MAX_NAME_CHARS)?;
    check_len(&at("description"), &follow.description, MAX_TEXT_CHARS)?;
    check_len(&at("state"), &follow.state, MAX_NAME_CHARS)?;
    check_len(&at("oper_userid"), &follow.oper_userid, MAX_ID_CHARS)?;
    check_len(&at("remark_corp_name"), &follow.remark_corp_name, MAX_NAME_CHARS)?;
    if follow.remark_mobiles.iter().any(|mobile| mobile.contains(',')) {
        return Err(ApiError::invalid(at("remark_mobiles"), "a phone number may not contain a comma"));
    }
    let remark_mobiles: Vec<String> = follow.remark_mobiles.into_iter().filter(|mobile| !mobile.is_empty()).collect();
    check_len(&at("remark_mobiles"), &remark_mobiles.join(","), MAX_TEXT_CHARS)?;
    let mut store_ids = follow.store_ids;
    store_ids.sort_unstable();
    store_ids.dedup();
    let joined_len: usize = store_ids.iter().map(|id| id.to_string().len() + 1).sum();
    if joined_len > MAX_TEXT_CHARS + 1 {
        return Err(ApiError::invalid(at("store_ids"), "too many store ids"));
    }
    let tags = follow
        .tags
        .into_iter()
        .enumerate()
        .map(|(tag_index, tag)| tag_input(&at(&format!("tags[{tag_index}]")), tag))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(FollowFields {
        userid: follow.userid,
        remark: follow.remark,
        description: follow.description,
        added_at: optional_millis(&at("added_at"), follow.added_at.as_ref())?.unwrap_or(0),
        add_way: follow.add_way,
        state: follow.state,
        oper_userid: follow.oper_userid,
        remark_corp_name: follow.remark_corp_name,
        remark_mobiles,
        tags: canonical_tags(tags),
        store_ids,
    })
}

fn tag_input(path: &str, tag: CustomerTag) -> Result<Tag, ApiError> {
    let at = |field: &str| format!("{path}.{field}");
    check_len(&at("tag_id"), &tag.tag_id, MAX_ID_CHARS)?;
    check_len(&at("tag_name"), &tag.tag_name, MAX_NAME_CHARS)?;
    check_len(&at("group_id"), &tag.group_id, MAX_ID_CHARS)?;
    check_len(&at("group_name"), &tag.group_name, MAX_NAME_CHARS)?;
    if tag.tag_id.is_empty() && tag.tag_name.is_empty() {
        return Err(ApiError::invalid(at("tag_id"), "a tag needs a tag_id or a tag_name"));
    }
    Ok(Tag {
        tag_type: tag.r#type,
        tag_id: tag.tag_id,
        tag_name: tag.tag_name,
        group_id: tag.group_id,
        group_name: tag.group_name,
    })
}

/// A timestamp field as Unix milliseconds; `None` when unset.
fn optional_millis(field: &str, time: Option<&prost_types::Timestamp>) -> Result<Option<i64>, ApiError> {
    let Some(time) = time else { return Ok(None) };
    if time.seconds < 0 || !(0..1_000_000_000).contains(&time.nanos) {
        return Err(ApiError::invalid(field, format!("{field} is not a valid time")));
    }
    time.seconds
        .checked_mul(1000)
        .and_then(|millis| millis.checked_add(i64::from(time.nanos / 1_000_000)))
        .map(Some)
        .ok_or_else(|| ApiError::invalid(field, format!("{field} is not a valid time")))
}

fn unix_millis(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |since| since.as_millis() as i64)
}

#[cfg(test)]
impl CustomerApi {
    /// Handlers over `db` for unit tests: an in-RAM search index and no peer services.
    pub(crate) fn for_tests(db: &scrm_storage::Db) -> Self {
        let store = CustomerStore::new(db.clone());
        let search = CustomerSearch::new(scrm_search::SearchIndex::in_ram().unwrap(), store.clone());
        let groups = GroupServiceClient::new(scrm_kernel::rpc::RpcChannel::late(std::sync::Arc::default()));
        let campaigns = CampaignServiceClient::new(scrm_kernel::rpc::RpcChannel::late(std::sync::Arc::default()));
        CustomerApi::new(store, crate::quick_replies::tests::unwired(db), search, None, groups, campaigns)
    }
}

#[cfg(test)]
mod tests {
    use scrm_kernel::{ErrorCode, Role};
    use scrm_proto::customer::v1::CustomerStatus;
    use scrm_storage::Dialect;
    use scrm_storage::testing::TestDb;

    use super::*;

    async fn api() -> (CustomerApi, TestDb) {
        let test_db = TestDb::new(Dialect::Sqlite).await;
        test_db.db.migrate(&crate::MIGRATIONS).await.unwrap();
        (CustomerApi::for_tests(&test_db.db), test_db)
    }

    fn as_role<T>(role: Role, message: T) -> Request<T> {
        let caller = Caller { staff_id: "system:wecom-sync".into(), role, store_ids: Vec::new() };
        caller.outgoing(message).unwrap()
    }

    fn contact(external_userid: &str) -> ExternalContactInput {
        ExternalContactInput {
            external_userid: external_userid.into(),
            name: "张三".into(),
            r#type: 1,
            follow_user: vec![FollowUserInput {
                userid: "zhangsan".into(),
                remark: "张总".into(),
                added_at: Some(prost_types::Timestamp { seconds: 1_700_000_000, nanos: 0 }),
                add_way: 1,
                state: "ch_1".into(),
                remark_mobiles: vec!["13800000000".into()],
                tags: vec![CustomerTag {
                    tag_id: "t1".into(),
                    tag_name: "高意向".into(),
                    r#type: 1,
                    ..Default::default()
                }],
                store_ids: vec![3],
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    fn upsert(contacts: Vec<ExternalContactInput>) -> UpsertExternalContactsRequest {
        UpsertExternalContactsRequest {
            contacts,
            source: ContactSource::Sync as i32,
            sync_run_id: 1,
            observed_at: Some(prost_types::Timestamp { seconds: 1_700_000_100, nanos: 0 }),
        }
    }

    fn invalid_field(status: Status) -> Option<String> {
        let error = ApiError::from_status(&status);
        assert_eq!(error.code, ErrorCode::InvalidArgument, "{status:?}");
        error.field
    }

    #[tokio::test]
    async fn upsert_then_remove_through_the_api() {
        let (api, test_db) = api().await;
        let first = api.upsert_external_contacts(as_role(Role::Admin, upsert(vec![contact("wmA")]))).await.unwrap();
        assert_eq!((first.get_ref().created, first.get_ref().follow_users_added), (1, 1));
        let again = api.upsert_external_contacts(as_role(Role::Operator, upsert(vec![contact("wmA")]))).await.unwrap();
        assert_eq!((again.get_ref().created, again.get_ref().unchanged), (0, 1));

        let remove = RemoveFollowUserRequest {
            external_userid: "wmA".into(),
            userid: "zhangsan".into(),
            reason: FollowRemovalReason::CustomerDeletedStaff as i32,
            occurred_at: Some(prost_types::Timestamp { seconds: 1_700_000_200, nanos: 0 }),
            source: ContactSource::Callback as i32,
        };
        let removed = api.remove_follow_user(as_role(Role::Admin, remove.clone())).await.unwrap().into_inner();
        assert_eq!(
            removed,
            RemoveFollowUserResponse { removed: true, churned: true, customer_status: CustomerStatus::Churned as i32 }
        );
        let again = api.remove_follow_user(as_role(Role::Admin, remove)).await.unwrap().into_inner();
        assert_eq!(
            again,
            RemoveFollowUserResponse {
                removed: false,
                churned: false,
                customer_status: CustomerStatus::Churned as i32
            }
        );
        let count = api.count_customers(as_role(Role::Operator, CountCustomersRequest {})).await.unwrap();
        assert_eq!(count.get_ref().total, 1);
        test_db.cleanup().await;
    }

    #[tokio::test]
    async fn bad_input_names_its_field() {
        let (api, test_db) = api().await;
        let too_many = upsert((0..=MAX_CONTACTS_PER_UPSERT).map(|index| contact(&format!("wm{index}"))).collect());
        let status = api.upsert_external_contacts(as_role(Role::Admin, too_many)).await.unwrap_err();
        assert_eq!(invalid_field(status).as_deref(), Some("contacts"));

        let status = api
            .upsert_external_contacts(as_role(Role::Admin, upsert(vec![contact("wmA"), contact("")])))
            .await
            .unwrap_err();
        assert_eq!(invalid_field(status).as_deref(), Some("contacts[1].external_userid"));

        let mut no_userid = contact("wmA");
        no_userid.follow_user[0].userid.clear();
        let status = api.upsert_external_contacts(as_role(Role::Admin, upsert(vec![no_userid]))).await.unwrap_err();
        assert_eq!(invalid_field(status).as_deref(), Some("contacts[0].follow_user[0].userid"));

        let mut long_remark = contact("wmA");
        long_remark.follow_user[0].remark = "长".repeat(256);
        let status = api.upsert_external_contacts(as_role(Role::Admin, upsert(vec![long_remark]))).await.unwrap_err();
        assert_eq!(invalid_field(status).as_deref(), Some("contacts[0].follow_user[0].remark"));

        let mut bad_time = upsert(vec![contact("wmA")]);
        bad_time.observed_at = Some(prost_types::Timestamp { seconds: 1, nanos: -1 });
        let status = api.upsert_external_contacts(as_role(Role::Admin, bad_time)).await.unwrap_err();
        assert_eq!(invalid_field(status).as_deref(), Some("observed_at"));

        let request = RemoveFollowUserRequest { external_userid: "wmA".into(), ..Default::default() };
        let status = api.remove_follow_user(as_role(Role::Admin, request)).await.unwrap_err();
        assert_eq!(invalid_field(status).as_deref(), Some("userid"));

        let empty = api.upsert_external_contacts(as_role(Role::Admin, upsert(vec![]))).await.unwrap().into_inner();
        assert_eq!(empty, UpsertExternalContactsResponse::default());
        test_db.cleanup().await;
    }
}
