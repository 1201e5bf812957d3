//! The quick-reply library (PR03): folders and replies in the company and personal libraries, search,
//! rendering a reply for the sidebar's `sendChatMessage`, and usage stats from recorded sends.
//!
//! Libraries are keyed by the caller's staff id (what [`Caller`] carries); `owner_user_id` and
//! `created_by_user_id` stay 0, and `owner_staff_id` / `created_by_staff_id` name the staff.

mod domain;
mod store;

use std::time::{SystemTime, UNIX_EPOCH};

use prost::Message;
use scrm_kernel::paging::page_size;
use scrm_kernel::{ApiError, Caller, Clients, ErrorCode};
use scrm_proto::campaign::v1::{GetCampaignRequest, LifecycleState};
use scrm_proto::customer::v1::quick_reply_content;
use scrm_proto::customer::v1::{
    CreateQuickReplyFolderRequest, CreateQuickReplyFolderResponse, CreateQuickReplyRequest, CreateQuickReplyResponse,
    DeleteQuickReplyFolderRequest, DeleteQuickReplyFolderResponse, DeleteQuickReplyRequest, DeleteQuickReplyResponse,
    GetQuickReplyRequest, GetQuickReplyResponse, ListQuickRepliesRequest, ListQuickRepliesResponse,
    ListQuickReplyFoldersRequest, ListQuickReplyFoldersResponse, QuickReply, QuickReplyContent, QuickReplyFolder,
    QuickReplySort, RecordQuickReplySentRequest, RecordQuickReplySentResponse, RenderQuickReplyRequest,
    RenderQuickReplyResponse, RewardIssueStatus, SearchQuickRepliesRequest, SearchQuickRepliesResponse,
    UpdateQuickReplyFolderRequest, UpdateQuickReplyFolderResponse, UpdateQuickReplyRequest, UpdateQuickReplyResponse,
};
use scrm_proto::identity::v1::GetStaffRequest;
use scrm_proto::rewards::v1::{
    Coupon, GetRewardDefinitionRequest, IssueRewardRequest, RewardDefinitionStatus, RewardKind, RewardSource,
    RewardSourceKind, issue_reward_request, reward_grant,
};
use scrm_storage::Db;
use tonic::Status;

use self::domain::{Audience, Library};
use self::store::{
    FolderRow, NewSend, QuickReplyStore, ReplyFields, ReplyFilter, ReplyRow, SendReward, SendRow, WriteError,
};
use crate::error::CustomerError;

/// Longest idempotency key of a recorded send.
const MAX_IDEMPOTENCY_KEY_CHARS: usize = 128;
/// Longest WeCom id accepted in a request.
const MAX_ID_CHARS: usize = 64;
/// What `reward_message` says while coupons cannot be issued.
const PENDING_MESSAGE: &str = "优惠券待发放：权益服务暂不可用，本次发送已记录";

/// The quick-reply handlers, called by the service's tonic implementation.
#[derive(Clone)]
pub struct QuickReplies {
    store: QuickReplyStore,
    clients: Clients,
}

impl std::fmt::Debug for QuickReplies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QuickReplies").field("store", &self.store).finish_non_exhaustive()
    }
}

impl QuickReplies {
    /// Handlers over `db`, reaching identity (staff names) and rewards (coupons) through `clients`.
    pub fn new(db: Db, clients: Clients) -> Self {
        QuickReplies { store: QuickReplyStore::new(db), clients }
    }

    /// `ListQuickReplyFolders`.
    pub async fn list_folders(
        &self,
        caller: &Caller,
        request: ListQuickReplyFoldersRequest,
    ) -> Result<ListQuickReplyFoldersResponse, Status> {
        let libraries = domain::libraries_for(caller, request.scope)?;
        let size = page_size(request.page_size)?;
        let offset = domain::parse_offset(&request.page_token)?;
        let rows = self.store.list_folders(&libraries, offset, size).await.map_err(CustomerError::from)?;
        Ok(ListQuickReplyFoldersResponse {
            next_page_token: domain::next_offset_token(offset, rows.len(), size),
            folders: rows.into_iter().map(folder_proto).collect(),
        })
    }

    /// `CreateQuickReplyFolder`.
    pub async fn create_folder(
        &self,
        caller: &Caller,
        request: CreateQuickReplyFolderRequest,
    ) -> Result<CreateQuickReplyFolderResponse, Status> {
        let library = domain::library_of_new_folder(caller, request.scope)?;
        library.check_editor(caller)?;
        let name = domain::folder_name("name", &request.name)?;
        let folder =
            self.store.create_folder(&library, &name, request.sort_order, now_millis()).await.map_err(write_error)?;
        Ok(CreateQuickReplyFolderResponse { folder: Some(folder_proto(folder)) })
    }

    /// `UpdateQuickReplyFolder`.
    pub async fn update_folder(
        &self,
        caller: &Caller,
        request: UpdateQuickReplyFolderRequest,
    ) -> Result<UpdateQuickReplyFolderResponse, Status> {
        let (folder, library) = self.visible_folder(caller, "id", request.id).await?;
        library.check_editor(caller)?;
        let name = request.name.as_deref().map(|name| domain::folder_name("name", name)).transpose()?;
        self.store
            .update_folder(folder.id, name.as_deref(), request.sort_order, now_millis())
            .await
            .map_err(write_error)?;
        let folder = self.visible_folder(caller, "id", folder.id).await?.0;
        Ok(UpdateQuickReplyFolderResponse { folder: Some(folder_proto(folder)) })
    }

    /// `DeleteQuickReplyFolder`.
    pub async fn delete_folder(
        &self,
        caller: &Caller,
        request: DeleteQuickReplyFolderRequest,
    ) -> Result<DeleteQuickReplyFolderResponse, Status> {
        let (folder, library) = self.visible_folder(caller, "id", request.id).await?;
        library.check_editor(caller)?;
        if folder.reply_count > 0 && !request.delete_replies {
            return Err(ApiError::new(
                ErrorCode::FailedPrecondition,
                format!("the folder holds {} replies; set delete_replies to delete them too", folder.reply_count),
            )
            .into());
        }
        let replies_deleted = self.store.delete_folder(folder.id, now_millis()).await.map_err(CustomerError::from)?;
        Ok(DeleteQuickReplyFolderResponse { replies_deleted })
    }

    /// `CreateQuickReply`.
    pub async fn create_reply(
        &self,
        caller: &Caller,
        request: CreateQuickReplyRequest,
    ) -> Result<CreateQuickReplyResponse, Status> {
        let (folder, library) = self.visible_folder(caller, "folder_id", request.folder_id).await?;
        library.check_editor(caller)?;
        let title = domain::reply_title("title", &request.title)?;
        let kind = domain::check_content("content", request.content.as_ref())?;
        let content = request.content.unwrap_or_default();
        self.check_references(caller, &content).await?;
        let keywords = domain::keywords("keywords", request.keywords)?;
        let fields = ReplyFields {
            folder_id: folder.id,
            library,
            search_text: domain::search_text(&title, &content, &keywords),
            title,
            kind,
            content: content.encode_to_vec(),
            keywords,
        };
        let id = self.store.insert_reply(&fields, &caller.staff_id, now_millis()).await.map_err(CustomerError::from)?;
        let reply = self.visible_reply(caller, "id", id).await?;
        Ok(CreateQuickReplyResponse { reply: Some(reply) })
    }

    /// Checks what a reply's content names in other services: a coupon reply's definition (rewards) and a
    /// campaign link's campaign; other kinds pass.
    async fn check_references(&self, caller: &Caller, content: &QuickReplyContent) -> Result<(), Status> {
        self.check_coupon_definition(caller, content).await?;
        self.check_campaign_link(caller, content).await
    }

    /// Checks that the campaign of a campaign-link reply exists, is visible to `caller` and has not ended, by
    /// asking the campaign service (its failure fails the write: the link cannot be checked).
    async fn check_campaign_link(&self, caller: &Caller, content: &QuickReplyContent) -> Result<(), Status> {
        let Some(quick_reply_content::Content::CampaignLink(link)) = &content.content else { return Ok(()) };
        let field = "content.campaign_link.campaign_id";
        let request = caller.outgoing(GetCampaignRequest { id: link.campaign_id })?;
        match self.clients.campaign.clone().get_campaign(request).await {
            Ok(response) => {
                let ended = response
                    .into_inner()
                    .campaign
                    .is_none_or(|campaign| campaign.state == LifecycleState::Ended as i32);
                if ended {
                    return Err(ApiError::invalid(field, "活动已结束，不能再发送活动链接").into());
                }
                Ok(())
            }
            Err(status) if status.code() == tonic::Code::NotFound => {
                Err(ApiError::invalid(field, format!("活动 {} 不存在", link.campaign_id)).into())
            }
            Err(status) => Err(status),
        }
    }

    /// `GetQuickReply`.
    pub async fn get_reply(
        &self,
        caller: &Caller,
        request: GetQuickReplyRequest,
    ) -> Result<GetQuickReplyResponse, Status> {
        let reply = self.visible_reply(caller, "id", request.id).await?;
        Ok(GetQuickReplyResponse { reply: Some(reply) })
    }

    /// `UpdateQuickReply`.
    pub async fn update_reply(
        &self,
        caller: &Caller,
        request: UpdateQuickReplyRequest,
    ) -> Result<UpdateQuickReplyResponse, Status> {
        let row = self.visible_row(caller, "id", request.id).await?;
        let library = row_library(row.library())?;
        library.check_editor(caller)?;
        let folder_id = match request.folder_id {
            Some(folder_id) if folder_id != row.folder_id => {
                let (_, target) = self.visible_folder(caller, "folder_id", folder_id).await?;
                if target != library {
                    return Err(
                        ApiError::invalid("folder_id", "a reply moves only between folders of its library").into()
                    );
                }
                folder_id
            }
            _ => row.folder_id,
        };
        let title = match &request.title {
            Some(title) => domain::reply_title("title", title)?,
            None => row.title.clone(),
        };
        let (kind, content) = match request.content {
            Some(content) => {
                let kind = domain::check_content("content", Some(&content))?;
                self.check_references(caller, &content).await?;
                (kind, content)
            }
            None => (row_kind(row.kind), decode_content(&row.content)?),
        };
        let keywords = if request.update_keywords {
            domain::keywords("keywords", request.keywords)?
        } else {
            split_keywords(&row.keywords)
        };
        let fields = ReplyFields {
            folder_id,
            library,
            search_text: domain::search_text(&title, &content, &keywords),
            title,
            kind,
            content: content.encode_to_vec(),
            keywords,
        };
        self.store.update_reply(row.id, &fields, now_millis()).await.map_err(CustomerError::from)?;
        let reply = self.visible_reply(caller, "id", row.id).await?;
        Ok(UpdateQuickReplyResponse { reply: Some(reply) })
    }

    /// `DeleteQuickReply`: deleting a deleted reply is not an error.
    pub async fn delete_reply(
        &self,
        caller: &Caller,
        request: DeleteQuickReplyRequest,
    ) -> Result<DeleteQuickReplyResponse, Status> {
        let id = request.id;
        let row = self.store.reply_any(id).await.map_err(CustomerError::from)?;
        let row = row.filter(|row| row.library().is_some_and(|library| library.visible_to(caller)));
        let Some(row) = row else { return Err(not_found("id", "quick reply")) };
        row_library(row.library())?.check_editor(caller)?;
        if row.deleted_at.is_none() {
            self.store.delete_reply(id, now_millis()).await.map_err(CustomerError::from)?;
        }
        Ok(DeleteQuickReplyResponse {})
    }

    /// `ListQuickReplies`.
    pub async fn list_replies(
        &self,
        caller: &Caller,
        request: ListQuickRepliesRequest,
    ) -> Result<ListQuickRepliesResponse, Status> {
        let mut filter = ReplyFilter {
            libraries: domain::libraries_for(caller, request.scope)?,
            folder_id: None,
            kind: domain::kind_filter(request.kind)?,
        };
        if request.folder_id != 0 {
            let (folder, library) = self.visible_folder(caller, "folder_id", request.folder_id).await?;
            filter.libraries.retain(|candidate| *candidate == library);
            filter.folder_id = Some(folder.id);
        }
        let sort = QuickReplySort::try_from(request.sort)
            .map_err(|_| ApiError::invalid("sort", format!("unknown sort {}", request.sort)))?;
        let size = page_size(request.page_size)?;
        let offset = domain::parse_offset(&request.page_token)?;
        let rows = self.store.list_replies(&filter, sort, offset, size).await.map_err(CustomerError::from)?;
        Ok(ListQuickRepliesResponse {
            next_page_token: domain::next_offset_token(offset, rows.len(), size),
            replies: rows.into_iter().map(reply_proto).collect::<Result<_, _>>()?,
        })
    }

    /// `SearchQuickReplies`.
    pub async fn search_replies(
        &self,
        caller: &Caller,
        request: SearchQuickRepliesRequest,
    ) -> Result<SearchQuickRepliesResponse, Status> {
        let query = domain::search_query(&request.query)?;
        let filter = ReplyFilter {
            libraries: domain::libraries_for(caller, request.scope)?,
            folder_id: None,
            kind: domain::kind_filter(request.kind)?,
        };
        let size = page_size(request.page_size)?;
        let offset = domain::parse_offset(&request.page_token)?;
        let rows = self.store.search_replies(&filter, &query, offset, size).await.map_err(CustomerError::from)?;
        Ok(SearchQuickRepliesResponse {
            next_page_token: domain::next_offset_token(offset, rows.len(), size),
            replies: rows.into_iter().map(reply_proto).collect::<Result<_, _>>()?,
        })
    }

    /// `RenderQuickReply`.
    pub async fn render_reply(
        &self,
        caller: &Caller,
        request: RenderQuickReplyRequest,
    ) -> Result<RenderQuickReplyResponse, Status> {
        let row = self.visible_row(caller, "quick_reply_id", request.quick_reply_id).await?;
        let audience = self.audience(caller, &request.external_userid, &request.chat_id).await?;
        let content = decode_content(&row.content)?;
        let staff_name = self.staff_name(caller).await;
        let message = domain::chat_message(&content, &audience, &staff_name).ok_or_else(|| {
            ApiError::new(
                ErrorCode::FailedPrecondition,
                "image replies need a WeCom media upload, which this release does not do yet",
            )
        })?;
        Ok(RenderQuickReplyResponse { message: Some(message) })
    }

    /// `RecordQuickReplySent`.
    pub async fn record_sent(
        &self,
        caller: &Caller,
        request: RecordQuickReplySentRequest,
    ) -> Result<RecordQuickReplySentResponse, Status> {
        let key = request.idempotency_key.trim();
        if key.is_empty() || key.chars().count() > MAX_IDEMPOTENCY_KEY_CHARS {
            return Err(ApiError::invalid(
                "idempotency_key",
                format!("idempotency_key is required, at most {MAX_IDEMPOTENCY_KEY_CHARS} characters"),
            )
            .into());
        }
        if let Some(first) = self.store.send(&caller.staff_id, key).await.map_err(CustomerError::from)? {
            return Ok(send_response(self.retry_pending(caller, key, first).await?, true));
        }
        check_chat(&request.external_userid, &request.chat_id)?;
        let row = self.visible_row(caller, "quick_reply_id", request.quick_reply_id).await?;
        let content = decode_content(&row.content)?;
        let coupon = domain::coupon_definition(&content);
        if coupon.is_some() && request.external_userid.is_empty() {
            return Err(
                ApiError::invalid("external_userid", "a coupon is sent to one customer, not into a group").into()
            );
        }
        let now = now_millis();
        let sent_at = match request.sent_at {
            Some(time) if time.seconds >= 0 && (0..1_000_000_000).contains(&time.nanos) => {
                time.seconds.saturating_mul(1000) + i64::from(time.nanos / 1_000_000)
            }
            Some(_) => return Err(ApiError::invalid("sent_at", "sent_at is not a valid time").into()),
            None => now,
        };
        let send = NewSend {
            staff_id: &caller.staff_id,
            idempotency_key: key,
            quick_reply_id: row.id,
            external_userid: &request.external_userid,
            chat_id: &request.chat_id,
            sent_at,
        };
        let Some(usage_count) = self.store.record_send(&send, now).await.map_err(CustomerError::from)? else {
            let first = self.store.send(&caller.staff_id, key).await.map_err(CustomerError::from)?;
            let first = first.ok_or_else(|| ApiError::new(ErrorCode::Internal, "a recorded send vanished"))?;
            return Ok(send_response(first, true));
        };
        let mut response = RecordQuickReplySentResponse { usage_count, ..Default::default() };
        if let Some(definition) = coupon {
            let reward = self.issue_coupon(caller, definition, row.id, &request.external_userid, key).await;
            self.store.set_send_reward(&caller.staff_id, key, &reward).await.map_err(CustomerError::from)?;
            response.reward_issue_status = reward.status;
            response.reward_grant_id = reward.grant_id;
            response.reward_message = reward.message;
            response.coupon_id = reward.coupon_id;
            response.coupon_code = reward.coupon_code;
        }
        Ok(response)
    }

    /// A send whose coupon is still pending tries `IssueReward` again (with the same idempotency key, so it
    /// issues at most one coupon); any other send is returned as recorded.
    async fn retry_pending(&self, caller: &Caller, key: &str, first: SendRow) -> Result<SendRow, Status> {
        if first.reward_status != RewardIssueStatus::Pending as i32 || first.external_userid.is_empty() {
            return Ok(first);
        }
        let Some(row) = self.store.reply(first.quick_reply_id).await.map_err(CustomerError::from)? else {
            return Ok(first);
        };
        let Some(definition) = domain::coupon_definition(&decode_content(&row.content)?) else {
            return Ok(first);
        };
        let reward = self.issue_coupon(caller, definition, row.id, &first.external_userid, key).await;
        if reward.status == RewardIssueStatus::Pending as i32 {
            return Ok(first);
        }
        self.store.set_send_reward(&caller.staff_id, key, &reward).await.map_err(CustomerError::from)?;
        Ok(SendRow {
            reward_status: reward.status,
            reward_grant_id: reward.grant_id,
            reward_message: reward.message,
            reward_coupon_id: reward.coupon_id,
            reward_coupon_code: reward.coupon_code,
            ..first
        })
    }

    /// Checks that a coupon reply names an active coupon definition of the rewards service
    /// (`RewardsService.GetRewardDefinition`); other kinds pass.
    async fn check_coupon_definition(&self, caller: &Caller, content: &QuickReplyContent) -> Result<(), Status> {
        let Some(id) = domain::coupon_definition(content) else {
            return Ok(());
        };
        let field = "content.coupon.reward_definition_id";
        let request = caller.outgoing(GetRewardDefinitionRequest { id })?;
        let definition = match self.clients.rewards.clone().get_reward_definition(request).await {
            Ok(response) => response.into_inner().definition.unwrap_or_default(),
            Err(status) if status.code() == tonic::Code::NotFound => {
                return Err(ApiError::invalid(field, format!("奖励 {id} 不存在")).into());
            }
            Err(status) => return Err(status),
        };
        if definition.kind != RewardKind::Coupon as i32 {
            return Err(ApiError::invalid(field, format!("奖励「{}」不是优惠券", definition.name)).into());
        }
        if definition.status != RewardDefinitionStatus::Active as i32 {
            return Err(ApiError::invalid(field, format!("优惠券「{}」已归档", definition.name)).into());
        }
        Ok(())
    }

    /// Issues a coupon through `RewardsService.IssueReward`; a refusal is reported, anything else leaves
    /// the coupon pending with the send record.
    async fn issue_coupon(
        &self,
        caller: &Caller,
        reward_definition_id: i64,
        quick_reply_id: i64,
        external_userid: &str,
        key: &str,
    ) -> SendReward {
        let request = IssueRewardRequest {
            reward_definition_id,
            recipient: Some(issue_reward_request::Recipient::ExternalUserid(external_userid.to_owned())),
            source: Some(RewardSource {
                kind: RewardSourceKind::QuickReply as i32,
                quick_reply_id,
                ..Default::default()
            }),
            idempotency_key: format!("quick-reply:{}:{key}", caller.staff_id),
            ..Default::default()
        };
        let outcome = match caller.outgoing(request) {
            Ok(request) => self.clients.rewards.clone().issue_reward(request).await,
            Err(error) => Err(error.into()),
        };
        match outcome {
            Ok(response) => {
                let grant = response.into_inner().grant.unwrap_or_default();
                let coupon = match grant.given {
                    Some(reward_grant::Given::Coupon(coupon)) => coupon,
                    _ => Coupon::default(),
                };
                SendReward {
                    status: RewardIssueStatus::Issued as i32,
                    grant_id: grant.id,
                    message: format!("优惠券已发放，券码 {}", coupon.code),
                    coupon_id: coupon.id,
                    coupon_code: coupon.code,
                }
            }
            Err(status)
                if matches!(
                    status.code(),
                    tonic::Code::FailedPrecondition | tonic::Code::ResourceExhausted | tonic::Code::NotFound
                ) =>
            {
                SendReward {
                    status: RewardIssueStatus::Refused as i32,
                    message: format!("优惠券未发放：{}", status.message()),
                    ..SendReward::default()
                }
            }
            Err(status) => {
                tracing::warn!(code = ?status.code(), message = status.message(), "coupon issuance is pending");
                SendReward {
                    status: RewardIssueStatus::Pending as i32,
                    message: PENDING_MESSAGE.to_owned(),
                    ..SendReward::default()
                }
            }
        }
    }

    /// The name `{员工姓名}` is filled with: the staff member's WeCom name from identity, or their staff id
    /// when identity does not know it.
    async fn staff_name(&self, caller: &Caller) -> String {
        let request = match caller.outgoing(GetStaffRequest { userid: caller.staff_id.clone() }) {
            Ok(request) => request,
            Err(_) => return caller.staff_id.clone(),
        };
        match self.clients.identity.clone().get_staff(request).await {
            Ok(response) => response
                .into_inner()
                .staff
                .map(|staff| staff.name)
                .filter(|name| !name.is_empty())
                .unwrap_or_else(|| caller.staff_id.clone()),
            Err(status) => {
                tracing::debug!(code = ?status.code(), "no staff name from identity; using the staff id");
                caller.staff_id.clone()
            }
        }
    }

    async fn audience(&self, caller: &Caller, external_userid: &str, chat_id: &str) -> Result<Audience, Status> {
        check_chat(external_userid, chat_id)?;
        if !chat_id.is_empty() {
            return Ok(Audience::Group);
        }
        let audience = self.store.audience(external_userid, &caller.staff_id).await.map_err(CustomerError::from)?;
        audience.ok_or_else(|| not_found("external_userid", "customer"))
    }

    async fn visible_folder(&self, caller: &Caller, field: &str, id: i64) -> Result<(FolderRow, Library), Status> {
        let folder = self.store.folder(id).await.map_err(CustomerError::from)?;
        folder
            .and_then(|folder| {
                folder.library().filter(|library| library.visible_to(caller)).map(|library| (folder, library))
            })
            .ok_or_else(|| not_found(field, "quick-reply folder"))
    }

    async fn visible_row(&self, caller: &Caller, field: &str, id: i64) -> Result<ReplyRow, Status> {
        let row = self.store.reply(id).await.map_err(CustomerError::from)?;
        row.filter(|row| row.library().is_some_and(|library| library.visible_to(caller)))
            .ok_or_else(|| not_found(field, "quick reply"))
    }

    async fn visible_reply(&self, caller: &Caller, field: &str, id: i64) -> Result<QuickReply, Status> {
        reply_proto(self.visible_row(caller, field, id).await?)
    }
}

/// Exactly one of `external_userid` and `chat_id` names the chat.
fn check_chat(external_userid: &str, chat_id: &str) -> Result<(), ApiError> {
    match (external_userid.is_empty(), chat_id.is_empty()) {
        (true, true) => Err(ApiError::invalid("external_userid", "external_userid or chat_id is required")),
        (false, false) => Err(ApiError::invalid("chat_id", "give external_userid or chat_id, not both")),
        _ if external_userid.chars().count() > MAX_ID_CHARS => {
            Err(ApiError::invalid("external_userid", "external_userid is too long"))
        }
        _ if chat_id.chars().count() > MAX_ID_CHARS => Err(ApiError::invalid("chat_id", "chat_id is too long")),
        _ => Ok(()),
    }
}

fn send_response(first: store::SendRow, duplicate: bool) -> RecordQuickReplySentResponse {
    RecordQuickReplySentResponse {
        usage_count: first.usage_count,
        reward_issue_status: first.reward_status,
        reward_grant_id: first.reward_grant_id,
        reward_message: first.reward_message,
        duplicate,
        coupon_id: first.reward_coupon_id,
        coupon_code: first.reward_coupon_code,
    }
}

fn not_found(field: &str, what: &str) -> Status {
    let mut error = ApiError::new(ErrorCode::NotFound, format!("no such {what}"));
    error.field = Some(field.to_owned());
    error.into()
}

fn write_error(error: WriteError) -> Status {
    match error {
        WriteError::DuplicateName => {
            let mut error = ApiError::new(ErrorCode::AlreadyExists, "a folder with this name exists in the library");
            error.field = Some("name".to_owned());
            error.into()
        }
        WriteError::Storage(error) => CustomerError::from(error).into(),
    }
}

fn row_library(library: Option<Library>) -> Result<Library, Status> {
    library.ok_or_else(|| ApiError::new(ErrorCode::Internal, "a stored quick reply has an unknown scope").into())
}

fn row_kind(kind: i32) -> scrm_proto::customer::v1::QuickReplyKind {
    scrm_proto::customer::v1::QuickReplyKind::try_from(kind).unwrap_or_default()
}

fn decode_content(bytes: &[u8]) -> Result<QuickReplyContent, Status> {
    QuickReplyContent::decode(bytes)
        .map_err(|_| ApiError::new(ErrorCode::Internal, "a stored quick reply cannot be read").into())
}

fn split_keywords(keywords: &str) -> Vec<String> {
    keywords.split('\n').filter(|keyword| !keyword.is_empty()).map(str::to_owned).collect()
}

fn timestamp(millis: i64) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds: millis.div_euclid(1000), nanos: (millis.rem_euclid(1000) * 1_000_000) as i32 }
}

fn folder_proto(row: FolderRow) -> QuickReplyFolder {
    QuickReplyFolder {
        id: row.id,
        name: row.name,
        scope: row.scope,
        owner_user_id: 0,
        sort_order: row.sort_order,
        reply_count: row.reply_count,
        created_at: Some(timestamp(row.created_at)),
        updated_at: Some(timestamp(row.updated_at)),
        owner_staff_id: row.owner,
    }
}

fn reply_proto(row: ReplyRow) -> Result<QuickReply, Status> {
    Ok(QuickReply {
        id: row.id,
        folder_id: row.folder_id,
        scope: row.scope,
        owner_user_id: 0,
        title: row.title,
        kind: row.kind,
        content: Some(decode_content(&row.content)?),
        keywords: split_keywords(&row.keywords),
        usage_count: row.usage_count,
        last_used_at: row.last_used_at.map(timestamp),
        created_by_user_id: 0,
        created_at: Some(timestamp(row.created_at)),
        updated_at: Some(timestamp(row.updated_at)),
        owner_staff_id: row.owner,
        created_by_staff_id: row.created_by,
    })
}

fn now_millis() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |since| since.as_millis() as i64)
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::{Arc, OnceLock};

    use scrm_kernel::Role;
    use scrm_kernel::rpc::RpcChannel;
    use scrm_proto::customer::v1::quick_reply_content::Content;
    use scrm_proto::customer::v1::{
        ChatTextMessage, CouponReplyContent, QuickReplyScope, TextReplyContent, chat_message,
    };
    use scrm_proto::rewards::v1::{
        CouponReward, CreateRewardDefinitionRequest, ListCouponsRequest, PointsReward, RewardDefinition, coupon_reward,
        reward_definition,
    };
    use scrm_storage::Dialect;
    use scrm_storage::testing::TestDb;

    use super::*;

    /// Handlers whose calls to other services fail as unavailable, as before a process wires them.
    pub(crate) fn unwired(db: &Db) -> QuickReplies {
        QuickReplies::new(db.clone(), Clients::new(|_| RpcChannel::late(Arc::new(OnceLock::new()))))
    }

    async fn handlers() -> (QuickReplies, TestDb) {
        let test_db = TestDb::new(Dialect::Sqlite).await;
        test_db.db.migrate(&crate::MIGRATIONS).await.unwrap();
        (unwired(&test_db.db), test_db)
    }

    fn as_staff(staff_id: &str, role: Role) -> Caller {
        Caller { staff_id: staff_id.into(), role, store_ids: Vec::new() }
    }

    fn text(text: &str) -> Option<QuickReplyContent> {
        Some(QuickReplyContent { content: Some(Content::Text(TextReplyContent { text: text.into() })) })
    }

    fn error_of(status: Status) -> ApiError {
        ApiError::from_status(&status)
    }

    async fn folder(handlers: &QuickReplies, staff: &str, role: Role, scope: QuickReplyScope, name: &str) -> i64 {
        let request = CreateQuickReplyFolderRequest { name: name.into(), scope: scope as i32, sort_order: 0 };
        handlers.create_folder(&as_staff(staff, role), request).await.unwrap().folder.unwrap().id
    }

    #[tokio::test]
    async fn libraries_are_guarded_and_personal_ones_private() {
        let (handlers, test_db) = handlers().await;
        let request = CreateQuickReplyFolderRequest {
            name: "售后".into(),
            scope: QuickReplyScope::Company as i32,
            sort_order: 0,
        };
        let status = handlers.create_folder(&as_staff("kefu", Role::Support), request).await.unwrap_err();
        assert_eq!(error_of(status).code, ErrorCode::PermissionDenied);
        let company = folder(&handlers, "op", Role::Operator, QuickReplyScope::Company, "售后").await;
        let mine = folder(&handlers, "kefu", Role::Support, QuickReplyScope::Personal, "我的").await;

        let create = |folder_id, title: &str| CreateQuickReplyRequest {
            folder_id,
            title: title.into(),
            content: text("{客户昵称}您好"),
            keywords: vec![],
        };
        let status = handlers.create_reply(&as_staff("kefu", Role::Support), create(company, "x")).await.unwrap_err();
        assert_eq!(error_of(status).code, ErrorCode::PermissionDenied);
        let status = handlers.create_reply(&as_staff("op", Role::Operator), create(mine, "x")).await.unwrap_err();
        assert_eq!(error_of(status).code, ErrorCode::NotFound);
        let own = handlers.create_reply(&as_staff("kefu", Role::Support), create(mine, "私房话")).await.unwrap();
        let own = own.reply.unwrap();
        assert_eq!((own.scope, own.owner_staff_id.as_str()), (QuickReplyScope::Personal as i32, "kefu"));
        let status =
            handlers.get_reply(&as_staff("op", Role::Operator), GetQuickReplyRequest { id: own.id }).await.unwrap_err();
        assert_eq!(error_of(status).code, ErrorCode::NotFound);

        let status = handlers
            .delete_folder(
                &as_staff("kefu", Role::Support),
                DeleteQuickReplyFolderRequest { id: mine, delete_replies: false },
            )
            .await
            .unwrap_err();
        assert_eq!(error_of(status).code, ErrorCode::FailedPrecondition);
        let deleted = handlers
            .delete_folder(
                &as_staff("kefu", Role::Support),
                DeleteQuickReplyFolderRequest { id: mine, delete_replies: true },
            )
            .await
            .unwrap();
        assert_eq!(deleted.replies_deleted, 1);
        test_db.cleanup().await;
    }

    #[tokio::test]
    async fn bad_input_names_its_field() {
        let (handlers, test_db) = handlers().await;
        let company = folder(&handlers, "op", Role::Operator, QuickReplyScope::Company, "售后").await;
        let duplicate = CreateQuickReplyFolderRequest {
            name: " 售后 ".into(),
            scope: QuickReplyScope::Company as i32,
            sort_order: 0,
        };
        let error = error_of(handlers.create_folder(&as_staff("op", Role::Operator), duplicate).await.unwrap_err());
        assert_eq!((error.code, error.field.as_deref()), (ErrorCode::AlreadyExists, Some("name")));
        let no_content =
            CreateQuickReplyRequest { folder_id: company, title: "t".into(), content: None, keywords: vec![] };
        let error = error_of(handlers.create_reply(&as_staff("op", Role::Operator), no_content).await.unwrap_err());
        assert_eq!(error.field.as_deref(), Some("content"));
        let search = SearchQuickRepliesRequest { query: " ".into(), ..Default::default() };
        let error = error_of(handlers.search_replies(&as_staff("op", Role::Operator), search).await.unwrap_err());
        assert_eq!(error.field.as_deref(), Some("query"));
        let record = RecordQuickReplySentRequest { quick_reply_id: 1, ..Default::default() };
        let error = error_of(handlers.record_sent(&as_staff("op", Role::Operator), record).await.unwrap_err());
        assert_eq!(error.field.as_deref(), Some("idempotency_key"));
        test_db.cleanup().await;
    }

    #[tokio::test]
    async fn render_fills_variables_and_sends_are_counted_once() {
        let (handlers, test_db) = handlers().await;
        sqlx::query(
            "INSERT INTO customer_contact (external_userid, name, created_at, updated_at) VALUES ('wmA', '李雷', 0, 0)",
        )
        .execute(test_db.db.pool())
        .await
        .unwrap();
        let company = folder(&handlers, "op", Role::Operator, QuickReplyScope::Company, "开场").await;
        let create = CreateQuickReplyRequest {
            folder_id: company,
            title: "问候".into(),
            content: text("{客户昵称}您好，我是{员工姓名}"),
            keywords: vec!["你好".into()],
        };
        let reply = handlers.create_reply(&as_staff("op", Role::Operator), create).await.unwrap().reply.unwrap();
        let render =
            RenderQuickReplyRequest { quick_reply_id: reply.id, external_userid: "wmA".into(), chat_id: String::new() };
        let message = handlers.render_reply(&as_staff("kefu", Role::Support), render).await.unwrap().message.unwrap();
        assert_eq!(
            message.body,
            Some(chat_message::Body::Text(ChatTextMessage { content: "李雷您好，我是kefu".into() }))
        );
        let unknown =
            RenderQuickReplyRequest { quick_reply_id: reply.id, external_userid: "wmX".into(), chat_id: String::new() };
        let error = error_of(handlers.render_reply(&as_staff("kefu", Role::Support), unknown).await.unwrap_err());
        assert_eq!((error.code, error.field.as_deref()), (ErrorCode::NotFound, Some("external_userid")));

        let record = |key: &str| RecordQuickReplySentRequest {
            idempotency_key: key.into(),
            quick_reply_id: reply.id,
            external_userid: "wmA".into(),
            ..Default::default()
        };
        let first = handlers.record_sent(&as_staff("kefu", Role::Support), record("tap-1")).await.unwrap();
        assert_eq!((first.usage_count, first.duplicate), (1, false));
        let retry = handlers.record_sent(&as_staff("kefu", Role::Support), record("tap-1")).await.unwrap();
        assert_eq!((retry.usage_count, retry.duplicate), (1, true));
        let second = handlers.record_sent(&as_staff("kefu", Role::Support), record("tap-2")).await.unwrap();
        assert_eq!(second.usage_count, 2);
        test_db.cleanup().await;
    }

    /// Handlers whose rewards service runs in-process over the same database; other services are unwired.
    async fn with_rewards() -> (QuickReplies, Clients, TestDb) {
        let test_db = TestDb::new(Dialect::Sqlite).await;
        test_db.db.migrate(&crate::MIGRATIONS).await.unwrap();
        test_db.db.migrate(&scrm_rewards::MIGRATIONS).await.unwrap();
        let rewards = RpcChannel::in_process(scrm_rewards::service(test_db.db.clone()));
        let clients = Clients::new(|kind| match kind {
            scrm_kernel::ServiceKind::Rewards => rewards.clone(),
            _ => RpcChannel::late(Arc::new(OnceLock::new())),
        });
        (QuickReplies::new(test_db.db.clone(), clients.clone()), clients, test_db)
    }

    async fn definition(clients: &Clients, definition: RewardDefinition) -> i64 {
        let request = as_staff("op", Role::Operator)
            .outgoing(CreateRewardDefinitionRequest { definition: Some(definition) })
            .unwrap();
        clients.rewards.clone().create_reward_definition(request).await.unwrap().into_inner().definition.unwrap().id
    }

    fn coupon_reward() -> RewardDefinition {
        RewardDefinition {
            name: "满100减20券".into(),
            kind: RewardKind::Coupon as i32,
            config: Some(reward_definition::Config::Coupon(CouponReward {
                face_value_fen: 2000,
                threshold_fen: 10_000,
                validity: Some(coupon_reward::Validity::ValidFor(prost_types::Duration { seconds: 86_400, nanos: 0 })),
                ..Default::default()
            })),
            ..Default::default()
        }
    }

    fn coupon_reply(folder_id: i64, reward_definition_id: i64) -> CreateQuickReplyRequest {
        CreateQuickReplyRequest {
            folder_id,
            title: "发券".into(),
            content: Some(QuickReplyContent {
                content: Some(Content::Coupon(CouponReplyContent {
                    reward_definition_id,
                    title: "满100减20券".into(),
                    url: "https://shop.example.com/coupon".into(),
                    ..Default::default()
                })),
            }),
            keywords: vec![],
        }
    }

    #[tokio::test]
    async fn a_coupon_reply_names_a_coupon_definition_and_issues_it_once_per_send() {
        let (handlers, clients, test_db) = with_rewards().await;
        let operator = as_staff("op", Role::Operator);
        let company = folder(&handlers, "op", Role::Operator, QuickReplyScope::Company, "券").await;
        let missing = error_of(handlers.create_reply(&operator, coupon_reply(company, 99)).await.unwrap_err());
        assert_eq!(missing.field.as_deref(), Some("content.coupon.reward_definition_id"));
        let points = definition(
            &clients,
            RewardDefinition {
                name: "10 积分".into(),
                kind: RewardKind::Points as i32,
                config: Some(reward_definition::Config::Points(PointsReward { points: 10 })),
                ..Default::default()
            },
        )
        .await;
        let not_coupon = error_of(handlers.create_reply(&operator, coupon_reply(company, points)).await.unwrap_err());
        assert_eq!(not_coupon.field.as_deref(), Some("content.coupon.reward_definition_id"));

        let coupon = definition(&clients, coupon_reward()).await;
        let reply = handlers.create_reply(&operator, coupon_reply(company, coupon)).await.unwrap().reply.unwrap();
        let in_group = RecordQuickReplySentRequest {
            idempotency_key: "g".into(),
            quick_reply_id: reply.id,
            chat_id: "wrC".into(),
            ..Default::default()
        };
        let error = error_of(handlers.record_sent(&as_staff("kefu", Role::Support), in_group).await.unwrap_err());
        assert_eq!(error.field.as_deref(), Some("external_userid"));
        let to_customer = RecordQuickReplySentRequest {
            idempotency_key: "c".into(),
            quick_reply_id: reply.id,
            external_userid: "wmA".into(),
            ..Default::default()
        };
        let sent = handlers.record_sent(&as_staff("kefu", Role::Support), to_customer.clone()).await.unwrap();
        assert_eq!(sent.reward_issue_status, RewardIssueStatus::Issued as i32);
        assert_eq!(sent.coupon_code.len(), 12);
        assert!(sent.reward_message.contains(&sent.coupon_code), "{}", sent.reward_message);
        let retry = handlers.record_sent(&as_staff("kefu", Role::Support), to_customer).await.unwrap();
        assert_eq!(
            (retry.duplicate, retry.coupon_code.as_str(), retry.usage_count),
            (true, sent.coupon_code.as_str(), 1)
        );

        let listed = clients
            .rewards
            .clone()
            .list_coupons(
                operator.outgoing(ListCouponsRequest { external_userid: "wmA".into(), ..Default::default() }).unwrap(),
            )
            .await
            .unwrap()
            .into_inner();
        assert_eq!(listed.coupons.iter().map(|coupon| coupon.id).collect::<Vec<_>>(), vec![sent.coupon_id]);
        test_db.cleanup().await;
    }

    #[tokio::test]
    async fn a_coupon_stays_pending_while_rewards_cannot_issue_it_and_is_issued_on_a_retry() {
        let (handlers, clients, test_db) = with_rewards().await;
        let company = folder(&handlers, "op", Role::Operator, QuickReplyScope::Company, "券").await;
        let coupon = definition(&clients, coupon_reward()).await;
        let create = coupon_reply(company, coupon);
        let reply = handlers.create_reply(&as_staff("op", Role::Operator), create).await.unwrap().reply.unwrap();
        let cut_off = unwired(&test_db.db);
        let to_customer = RecordQuickReplySentRequest {
            idempotency_key: "c".into(),
            quick_reply_id: reply.id,
            external_userid: "wmA".into(),
            ..Default::default()
        };
        let sent = cut_off.record_sent(&as_staff("kefu", Role::Support), to_customer.clone()).await.unwrap();
        assert_eq!(sent.reward_issue_status, RewardIssueStatus::Pending as i32);
        assert_eq!((sent.usage_count, sent.reward_message.as_str()), (1, PENDING_MESSAGE));
        let retry = cut_off.record_sent(&as_staff("kefu", Role::Support), to_customer.clone()).await.unwrap();
        assert_eq!((retry.reward_issue_status, retry.duplicate), (RewardIssueStatus::Pending as i32, true));
        let back = handlers.record_sent(&as_staff("kefu", Role::Support), to_customer.clone()).await.unwrap();
        assert_eq!((back.reward_issue_status, back.duplicate), (RewardIssueStatus::Issued as i32, true));
        assert_eq!((back.usage_count, back.coupon_code.len()), (1, 12), "counted once, issued on the retry");
        let again = handlers.record_sent(&as_staff("kefu", Role::Support), to_customer).await.unwrap();
        assert_eq!((again.coupon_id, again.coupon_code), (back.coupon_id, back.coupon_code));
        test_db.cleanup().await;
    }
}
