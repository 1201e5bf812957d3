//! Customer groups (客户群): list, details, statistics.

use futures::stream::BoxStream;
use serde::{Deserialize, Serialize};

use crate::client::{ApiRequest, CallKind, WeComClient};
use crate::pagination::{collect_all, cursor_pages};
use crate::{WeComError, de};

/// Restricts a query to groups owned by some members.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OwnerFilter {
    /// Owners' userids.
    pub userid_list: Vec<String>,
}

/// `externalcontact/groupchat/list`'s request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GroupChatListRequest {
    /// 0 all groups, 1 waiting for inheritance after the owner left, 2 inheritance in progress,
    /// 3 inheritance done.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_filter: Option<i64>,
    /// Only groups owned by these members.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner_filter: Option<OwnerFilter>,
    /// Cursor from the previous page; empty for the first.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub cursor: String,
    /// Page size, 1–1000.
    pub limit: u32,
}

/// A group of `groupchat/list`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GroupChatStatus {
    /// Group id.
    pub chat_id: String,
    /// 0 normal, 1 owner left (to inherit), 2 inheriting, 3 inherited.
    pub status: i64,
}

/// `externalcontact/groupchat/list`'s answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GroupChatListResponse {
    /// This page.
    pub group_chat_list: Vec<GroupChatStatus>,
    /// Cursor of the next page; empty on the last page.
    pub next_cursor: String,
}

/// The member who invited another.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Invitor {
    /// Inviting member's userid.
    pub userid: String,
}

/// A member of a group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GroupChatMember {
    /// A member's userid (type 1) or a customer's external userid (type 2).
    pub userid: String,
    /// 1 corp member, 2 external contact.
    #[serde(rename = "type")]
    pub member_type: i64,
    /// WeChat unionid (external contacts, when available).
    pub unionid: String,
    /// Join time (Unix seconds).
    #[serde(deserialize_with = "de::int")]
    pub join_time: i64,
    /// 1 invited directly, 2 via link, 3 via QR code.
    pub join_scene: i64,
    /// Who invited them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invitor: Option<Invitor>,
    /// Nickname in the group.
    pub group_nickname: String,
    /// Name (only when asked with `need_name`).
    pub name: String,
    /// The `state` of the join way (群活码) they came through.
    pub state: String,
}

/// A group administrator.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GroupChatAdmin {
    /// Administrator's userid.
    pub userid: String,
}

/// A customer group's details.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GroupChat {
    /// Group id.
    pub chat_id: String,
    /// Group name.
    pub name: String,
    /// Owner's userid.
    pub owner: String,
    /// Creation time (Unix seconds).
    #[serde(deserialize_with = "de::int")]
    pub create_time: i64,
    /// Group notice.
    pub notice: String,
    /// Members.
    pub member_list: Vec<GroupChatMember>,
    /// Administrators.
    pub admin_list: Vec<GroupChatAdmin>,
    /// Version of the member list (changes whenever it does).
    pub member_version: String,
}

/// `externalcontact/groupchat/get`'s answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GroupChatGetResponse {
    /// The group.
    pub group_chat: GroupChat,
}

#[derive(Serialize)]
struct GroupChatGetRequest<'a> {
    chat_id: &'a str,
    need_name: u8,
}

/// `externalcontact/groupchat/statistic`'s request (by owner).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GroupChatStatisticRequest {
    /// First day (Unix seconds of its 00:00).
    pub day_begin_time: i64,
    /// Last day (Unix seconds of its 00:00); at most 30 days after the first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub day_end_time: Option<i64>,
    /// Owners to report on.
    pub owner_filter: OwnerFilter,
    /// Sort key: 1 new groups, 2 groups total, 3 new members, 4 members total.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_by: Option<i64>,
    /// 0 descending, 1 ascending.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_asc: Option<i64>,
    /// Offset into the results.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<i64>,
    /// Page size, at most 1000.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
}

/// Group statistics of one owner or one day.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GroupChatStatData {
    /// New groups.
    pub new_chat_cnt: i64,
    /// Groups total.
    pub chat_total: i64,
    /// Groups with messages.
    pub chat_has_msg: i64,
    /// New members.
    pub new_member_cnt: i64,
    /// Members total.
    pub member_total: i64,
    /// Members who sent messages.
    pub member_has_msg: i64,
    /// Messages total.
    pub msg_total: i64,
    /// Groups migrated from trainee accounts.
    pub migrate_trainee_chat_cnt: i64,
}

/// One owner's statistics.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GroupChatStatisticItem {
    /// Owner's userid.
    pub owner: String,
    /// The numbers.
    pub data: GroupChatStatData,
}

/// `externalcontact/groupchat/statistic`'s answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GroupChatStatisticResponse {
    /// Number of owners in all.
    pub total: i64,
    /// Offset of the next page.
    pub next_offset: i64,
    /// This page.
    pub items: Vec<GroupChatStatisticItem>,
}

/// `externalcontact/groupchat/statistic_group_by_day`'s request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GroupChatStatisticByDayRequest {
    /// First day (Unix seconds of its 00:00).
    pub day_begin_time: i64,
    /// Last day; at most 30 days after the first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub day_end_time: Option<i64>,
    /// Owners to report on.
    pub owner_filter: OwnerFilter,
}

/// One day's statistics.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GroupChatStatisticByDayItem {
    /// The day (Unix seconds of its 00:00).
    pub stat_time: i64,
    /// The numbers.
    pub data: GroupChatStatData,
}

/// `externalcontact/groupchat/statistic_group_by_day`'s answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GroupChatStatisticByDayResponse {
    /// One item per day.
    pub items: Vec<GroupChatStatisticByDayItem>,
}

impl WeComClient {
    /// `POST externalcontact/groupchat/list`: one page of customer groups.
    pub async fn groupchat_list(&self, req: &GroupChatListRequest) -> Result<GroupChatListResponse, WeComError> {
        self.execute(ApiRequest::post("externalcontact/groupchat/list", CallKind::Idempotent, req)?).await
    }

    /// Every page of `groupchat/list` for the filters of `req` (its `cursor` is ignored).
    pub fn groupchat_list_pages(
        &self,
        req: GroupChatListRequest,
    ) -> BoxStream<'static, Result<Vec<GroupChatStatus>, WeComError>> {
        let client = self.clone();
        cursor_pages("externalcontact/groupchat/list", move |cursor| {
            let client = client.clone();
            let req = GroupChatListRequest { cursor, ..req.clone() };
            async move {
                let page = client.groupchat_list(&req).await?;
                Ok((page.group_chat_list, page.next_cursor))
            }
        })
    }

    /// All customer groups matching `req`.
    pub async fn groupchat_list_all(&self, req: GroupChatListRequest) -> Result<Vec<GroupChatStatus>, WeComError> {
        collect_all(self.groupchat_list_pages(req)).await
    }

    /// `POST externalcontact/groupchat/get`: a group with its members (with names if `need_name`).
    pub async fn groupchat_get(&self, chat_id: &str, need_name: bool) -> Result<GroupChatGetResponse, WeComError> {
        let body = GroupChatGetRequest { chat_id, need_name: u8::from(need_name) };
        self.execute(ApiRequest::post("externalcontact/groupchat/get", CallKind::Idempotent, &body)?).await
    }

    /// `POST externalcontact/groupchat/statistic`: group statistics by owner.
    pub async fn groupchat_statistic(
        &self,
        req: &GroupChatStatisticRequest,
    ) -> Result<GroupChatStatisticResponse, WeComError> {
        self.execute(ApiRequest::post("externalcontact/groupchat/statistic", CallKind::Idempotent, req)?).await
    }

    /// `POST externalcontact/groupchat/statistic_group_by_day`: group statistics by day.
    pub async fn groupchat_statistic_group_by_day(
        &self,
        req: &GroupChatStatisticByDayRequest,
    ) -> Result<GroupChatStatisticByDayResponse, WeComError> {
        self.execute(ApiRequest::post("externalcontact/groupchat/statistic_group_by_day", CallKind::Idempotent, req)?)
            .await
    }
}
