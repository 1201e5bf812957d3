//! A typed, async client for the WeCom (企业微信) server API: the APIs scrm needs, with WeCom's own
//! field names.
//!
//! ```no_run
//! # async fn demo() -> Result<(), scrm_wecom::WeComError> {
//! use scrm_wecom::{WeComClient, WeComConfig};
//! let client = WeComClient::new(WeComConfig::new("ww0123456789", "secret"))?;
//! let staff = client.user_list_id_all(Some(1000)).await?;
//! let customers = client.batch_get_by_user_all(vec!["zhangsan".into()], Some(100)).await?;
//! # let _ = (staff, customers);
//! # Ok(()) }
//! ```
//!
//! # What every call does
//! - **Access token.** Cached per (API base, corp id, secret) in a [`TokenCache`], refreshed
//!   [`token_refresh_margin_secs`](WeComConfig::token_refresh_margin_secs) before it expires, and
//!   fetched by one caller at a time while concurrent callers wait for its result (single flight).
//!   When WeCom rejects the token (errcode 40014, 42001 or 40001) it is dropped, fetched anew and the
//!   call is tried once more.
//! - **Retries.** Transient failures (errcode -1, 45009, 45033, timeouts, connection errors, HTTP
//!   5xx) are retried with exponential backoff and jitter within a [`RetryConfig`] budget (attempts
//!   and total time); then the call fails with [`WeComError::RetryBudgetExhausted`]. Logic errors
//!   (other errcodes, HTTP 4xx) are returned at once. Calls that create or send something
//!   ([`CallKind::NonIdempotent`]) are not retried after failures that leave it unknown whether WeCom
//!   acted, unless [`RetryConfig::retry_ambiguous_writes`] is set.
//! - **Observability.** A `wecom.api` tracing span per call (fields `api`, `errcode`, `attempts`);
//!   per HTTP request the counter `scrm_wecom_api_calls_total{api, errcode}` and the histogram
//!   `scrm_wecom_api_duration_seconds{api}`; `scrm_wecom_api_retries_total{api}` per retry and
//!   `scrm_wecom_token_fetches_total{corp_id}` per token fetched, through the `metrics` facade.
//!   Neither the token nor the secret is ever logged.
//!
//! # APIs
//! | WeCom API | method |
//! |---|---|
//! | `gettoken` | [`WeComClient::gettoken`], [`WeComClient::access_token`] (cached) |
//! | `department/simplelist` | [`WeComClient::department_simplelist`] |
//! | `user/list_id` | [`WeComClient::user_list_id`], `_pages`, `_all` |
//! | `user/get` | [`WeComClient::user_get`] |
//! | `externalcontact/list` | [`WeComClient::external_contact_list`] |
//! | `externalcontact/get` | [`WeComClient::external_contact_get`], `_all` (every `follow_user` page) |
//! | `externalcontact/batch/get_by_user` | [`WeComClient::batch_get_by_user`], `_pages`, `_all` |
//! | `externalcontact/get_follow_user_list` | [`WeComClient::get_follow_user_list`] |
//! | `externalcontact/get_corp_tag_list`, `add_corp_tag`, `edit_corp_tag`, `del_corp_tag`, `mark_tag` | [`WeComClient::get_corp_tag_list`], [`WeComClient::add_corp_tag`], [`WeComClient::edit_corp_tag`], [`WeComClient::del_corp_tag`], [`WeComClient::mark_tag`] |
//! | `externalcontact/groupchat/list` | [`WeComClient::groupchat_list`], `_pages`, `_all` |
//! | `externalcontact/groupchat/get` | [`WeComClient::groupchat_get`] |
//! | `externalcontact/groupchat/statistic`, `statistic_group_by_day` | [`WeComClient::groupchat_statistic`], [`WeComClient::groupchat_statistic_group_by_day`] |
//! | `externalcontact/groupchat/add_join_way`, `get_join_way`, `update_join_way` | [`WeComClient::add_join_way`], [`WeComClient::get_join_way`], [`WeComClient::update_join_way`] |
//! | `externalcontact/add_contact_way`, `get_contact_way` | [`WeComClient::add_contact_way`], [`WeComClient::get_contact_way`] |
//! | `externalcontact/add_msg_template` | [`WeComClient::add_msg_template`] |
//! | `externalcontact/get_groupmsg_list_v2` | [`WeComClient::get_groupmsg_list_v2`], `_pages` |
//! | `externalcontact/get_groupmsg_task` | [`WeComClient::get_groupmsg_task`], `_all` |
//! | `externalcontact/get_groupmsg_send_result` | [`WeComClient::get_groupmsg_send_result`], `_all` |
//! | `externalcontact/remind_groupmsg_send`, `cancel_groupmsg_send` | [`WeComClient::remind_groupmsg_send`], [`WeComClient::cancel_groupmsg_send`] |
//! | `externalcontact/group_welcome_template/add`, `edit`, `get`, `del` | [`WeComClient::group_welcome_template_add`] and siblings |
//! | `externalcontact/send_welcome_msg` | [`WeComClient::send_welcome_msg`] |
//! | `media/upload`, `media/uploadimg` | [`WeComClient::media_upload`], [`WeComClient::media_uploadimg`] |
//! | chat archive (会话存档), decrypted: `GET /sim/finance/chatdata` | [`WeComClient::chatdata`] |
//! | `message/send` | [`WeComClient::message_send`] |
//! | `webhook/send?key=` (group robot, no token) | [`WeComClient::webhook_send`] |
//! | `get_jsapi_ticket`, `ticket/get?type=agent_config` | [`WeComClient::get_jsapi_ticket`], [`WeComClient::get_agent_config_ticket`] |
//! | `auth/getuserinfo` | [`WeComClient::auth_getuserinfo`] |
//! | anything else | [`WeComClient::get_json`], [`WeComClient::post_json`] |

mod auth;
mod chatdata;
mod client;
mod config;
mod contacts;
mod content;
mod de;
mod error;
mod external;
mod groupchat;
mod groupmsg;
mod media;
mod message;
pub mod pagination;
mod token;
mod ways;
mod welcome;

pub use auth::{JsapiTicket, UserInfo};
pub use chatdata::{CHATDATA_MAX_LIMIT, ChatDataResponse, ChatRecord, ChatText};
pub use client::{
    AccessTokenResponse, CallKind, CallStats, ErrorResponse, METRIC_CALLS, METRIC_DURATION, METRIC_RETRIES,
    METRIC_TOKEN_FETCHES, WeComClient,
};
pub use config::{DEFAULT_API_BASE, RetryConfig, WeComConfig};
pub use contacts::{
    AttrMiniProgram, AttrText, AttrWeb, DepartmentId, DepartmentSimpleListResponse, DeptUser, ExtAttr, ExtAttrs,
    ExternalProfile, User, UserListIdRequest, UserListIdResponse, WechatChannels,
};
pub use content::{Attachment, Image, Link, Media, MiniProgram, Text};
pub use error::{
    ERRCODE_ACCESS_TOKEN_EXPIRED, ERRCODE_CONCURRENCY_LIMITED, ERRCODE_INVALID_ACCESS_TOKEN,
    ERRCODE_INVALID_CREDENTIAL, ERRCODE_RATE_LIMITED, ERRCODE_SYSTEM_BUSY, WeComError, is_token_errcode,
    is_transient_errcode,
};
pub use external::{
    AddCorpTagRequest, AddCorpTagResponse, BatchGetByUserRequest, BatchGetByUserResponse, CorpTag, CorpTagGroup,
    DelCorpTagRequest, EditCorpTagRequest, ExternalContact, ExternalContactGetResponse, ExternalContactListResponse,
    ExternalContactWithFollowInfo, FollowInfo, FollowUser, FollowUserListResponse, FollowUserTag,
    GetCorpTagListRequest, GetCorpTagListResponse, MarkTagRequest, NewCorpTag,
};
pub use groupchat::{
    GroupChat, GroupChatAdmin, GroupChatGetResponse, GroupChatListRequest, GroupChatListResponse, GroupChatMember,
    GroupChatStatData, GroupChatStatisticByDayItem, GroupChatStatisticByDayRequest, GroupChatStatisticByDayResponse,
    GroupChatStatisticItem, GroupChatStatisticRequest, GroupChatStatisticResponse, GroupChatStatus, Invitor,
    OwnerFilter,
};
pub use groupmsg::{
    AddMsgTemplateRequest, AddMsgTemplateResponse, GetGroupMsgListV2Request, GetGroupMsgListV2Response,
    GetGroupMsgSendResultRequest, GetGroupMsgSendResultResponse, GetGroupMsgTaskRequest, GetGroupMsgTaskResponse,
    GroupMsg, GroupMsgSendResult, GroupMsgTask,
};
pub use media::{MediaType, MediaUploadResponse, Upload, UploadImgResponse};
pub use message::{
    AppMessage, AppMessageResponse, Article, Markdown, News, TextCard, WebhookImage, WebhookMessage, WebhookText,
};
pub use token::TokenCache;
pub use ways::{AddWayResponse, Conclusions, ContactWay, GetContactWayResponse, GetJoinWayResponse, JoinWay};
pub use welcome::{AddGroupWelcomeTemplateResponse, GroupWelcomeTemplate, SendWelcomeMsgRequest};

/// Decodes a WeCom answer body as `T`, turning a non-zero `errcode` into [`WeComError::Api`]: what
/// every call does with the body it receives. Public for tests and for the simulator's own checks.
pub fn decode_response<T: serde::de::DeserializeOwned>(api: &'static str, body: &[u8]) -> Result<T, WeComError> {
    client::decode(api, body)
}
