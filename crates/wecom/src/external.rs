//! External contacts (客户) and corp tags (企业客户标签).

use futures::stream::BoxStream;
use serde::{Deserialize, Serialize};

use crate::client::{ApiRequest, CallKind, ErrorResponse, WeComClient};
use crate::contacts::ExternalProfile;
use crate::pagination::{collect_all, cursor_pages};
use crate::{WeComError, de};

/// `externalcontact/list`'s answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExternalContactListResponse {
    /// External userids of the member's customers.
    pub external_userid: Vec<String>,
}

/// An external contact's own data.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExternalContact {
    /// External userid.
    pub external_userid: String,
    /// Name (WeChat nickname, or the name in their WeCom).
    pub name: String,
    /// Position (WeCom users only).
    pub position: String,
    /// Avatar URL.
    pub avatar: String,
    /// Corp short name (WeCom users only).
    pub corp_name: String,
    /// Corp full name (WeCom users only).
    pub corp_full_name: String,
    /// 1 WeChat user, 2 WeCom user.
    #[serde(rename = "type")]
    pub contact_type: i64,
    /// 0 unknown, 1 male, 2 female.
    pub gender: i64,
    /// WeChat unionid (only when the corp has a bound open platform account).
    pub unionid: String,
    /// External profile (WeCom users only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_profile: Option<ExternalProfile>,
}

/// A tag on a follow user's relation (`follow_user[].tags[]`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FollowUserTag {
    /// Tag group name.
    pub group_name: String,
    /// Tag name.
    pub tag_name: String,
    /// Tag id (absent for personal tags).
    pub tag_id: String,
    /// 1 corp tag, 2 personal tag, 3 rule-group tag.
    #[serde(rename = "type")]
    pub tag_type: i64,
}

/// A member who has the external contact as a customer (`externalcontact/get`'s `follow_user[]`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FollowUser {
    /// Member userid.
    pub userid: String,
    /// The member's remark for the customer.
    pub remark: String,
    /// Description.
    pub description: String,
    /// When the member added the customer (Unix seconds).
    #[serde(deserialize_with = "de::int")]
    pub createtime: i64,
    /// Tags the member put on the customer.
    pub tags: Vec<FollowUserTag>,
    /// Remarked corp name.
    pub remark_corp_name: String,
    /// Remarked mobiles.
    pub remark_mobiles: Vec<String>,
    /// Who added whom: the member's userid, or the customer's external userid.
    pub oper_userid: String,
    /// How the customer was added (see WeCom's add_way table; 1 QR code, 3 contact way…).
    pub add_way: i64,
    /// The `state` of the contact way (渠道活码) the customer came through.
    pub state: String,
}

/// `externalcontact/get`'s answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExternalContactGetResponse {
    /// The customer.
    pub external_contact: ExternalContact,
    /// This page of members following the customer.
    pub follow_user: Vec<FollowUser>,
    /// Cursor of the next page of `follow_user`; empty on the last page.
    pub next_cursor: String,
}

/// `externalcontact/batch/get_by_user`'s request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BatchGetByUserRequest {
    /// Members whose customers to list (at most 100).
    pub userid_list: Vec<String>,
    /// Cursor from the previous page; empty for the first.
    pub cursor: String,
    /// Page size, at most 100.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// A member's relation to a customer, as `batch/get_by_user` returns it (tag ids only).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FollowInfo {
    /// Member userid.
    pub userid: String,
    /// The member's remark for the customer.
    pub remark: String,
    /// Description.
    pub description: String,
    /// When the member added the customer (Unix seconds).
    #[serde(deserialize_with = "de::int")]
    pub createtime: i64,
    /// Ids of the tags on the customer.
    pub tag_id: Vec<String>,
    /// Remarked corp name.
    pub remark_corp_name: String,
    /// Remarked mobiles.
    pub remark_mobiles: Vec<String>,
    /// Who added whom.
    pub oper_userid: String,
    /// How the customer was added.
    pub add_way: i64,
    /// The `state` of the contact way the customer came through.
    pub state: String,
}

/// One customer with one member's relation (`external_contact_list[]`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExternalContactWithFollowInfo {
    /// The customer.
    pub external_contact: ExternalContact,
    /// The member's relation.
    pub follow_info: FollowInfo,
}

/// `externalcontact/batch/get_by_user`'s answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BatchGetByUserResponse {
    /// This page.
    pub external_contact_list: Vec<ExternalContactWithFollowInfo>,
    /// Cursor of the next page; empty on the last page.
    pub next_cursor: String,
}

/// `externalcontact/get_follow_user_list`'s answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FollowUserListResponse {
    /// Members allowed to have customers.
    pub follow_user: Vec<String>,
}

/// A corp tag.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CorpTag {
    /// Tag id.
    pub id: String,
    /// Tag name.
    pub name: String,
    /// Creation time (Unix seconds).
    #[serde(deserialize_with = "de::int")]
    pub create_time: i64,
    /// Order (larger first).
    pub order: i64,
    /// Whether the tag was deleted.
    #[serde(deserialize_with = "de::flag")]
    pub deleted: bool,
}

/// A corp tag group with its tags.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CorpTagGroup {
    /// Group id.
    pub group_id: String,
    /// Group name.
    pub group_name: String,
    /// Creation time (Unix seconds).
    #[serde(deserialize_with = "de::int")]
    pub create_time: i64,
    /// Order (larger first).
    pub order: i64,
    /// Whether the group was deleted.
    #[serde(deserialize_with = "de::flag")]
    pub deleted: bool,
    /// The group's tags.
    pub tag: Vec<CorpTag>,
}

/// `externalcontact/get_corp_tag_list`'s request: both lists empty for all tags.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GetCorpTagListRequest {
    /// Tags to get.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tag_id: Vec<String>,
    /// Groups to get (ignored when `tag_id` is set).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub group_id: Vec<String>,
}

/// `externalcontact/get_corp_tag_list`'s answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GetCorpTagListResponse {
    /// The tag groups.
    pub tag_group: Vec<CorpTagGroup>,
}

/// A tag to create.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct NewCorpTag {
    /// Tag name.
    pub name: String,
    /// Order (larger first).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order: Option<i64>,
}

/// `externalcontact/add_corp_tag`'s request: tags into the group `group_id`, or into a new group
/// named `group_name` (an existing group of that name is reused).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AddCorpTagRequest {
    /// Existing group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    /// Group name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_name: Option<String>,
    /// Group order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order: Option<i64>,
    /// Tags to add.
    pub tag: Vec<NewCorpTag>,
    /// App id, when calling with an app's secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agentid: Option<i64>,
}

/// `externalcontact/add_corp_tag`'s answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AddCorpTagResponse {
    /// The group with the tags created.
    pub tag_group: CorpTagGroup,
}

/// `externalcontact/edit_corp_tag`'s request: renames or reorders a tag or a group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EditCorpTagRequest {
    /// Tag or group id.
    pub id: String,
    /// New name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// New order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order: Option<i64>,
    /// App id, when calling with an app's secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agentid: Option<i64>,
}

/// `externalcontact/del_corp_tag`'s request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DelCorpTagRequest {
    /// Tags to delete.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tag_id: Vec<String>,
    /// Groups to delete, with their tags.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub group_id: Vec<String>,
    /// App id, when calling with an app's secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agentid: Option<i64>,
}

/// `externalcontact/mark_tag`'s request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MarkTagRequest {
    /// The member whose relation is tagged.
    pub userid: String,
    /// The customer.
    pub external_userid: String,
    /// Tags to add.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub add_tag: Vec<String>,
    /// Tags to remove.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub remove_tag: Vec<String>,
}

impl WeComClient {
    /// `GET externalcontact/list?userid=`: the member's customers.
    pub async fn external_contact_list(&self, userid: &str) -> Result<ExternalContactListResponse, WeComError> {
        self.execute(ApiRequest::get("externalcontact/list").query("userid", userid)).await
    }

    /// `GET externalcontact/get?external_userid=&cursor=`: a customer and one page of the members
    /// following them (see [`external_contact_get_all`](Self::external_contact_get_all)).
    pub async fn external_contact_get(
        &self,
        external_userid: &str,
        cursor: &str,
    ) -> Result<ExternalContactGetResponse, WeComError> {
        let mut req = ApiRequest::get("externalcontact/get").query("external_userid", external_userid);
        if !cursor.is_empty() {
            req = req.query("cursor", cursor);
        }
        self.execute(req).await
    }

    /// A customer with every member following them (all pages of `follow_user`).
    pub async fn external_contact_get_all(
        &self,
        external_userid: &str,
    ) -> Result<ExternalContactGetResponse, WeComError> {
        let mut first = self.external_contact_get(external_userid, "").await?;
        let mut cursor = std::mem::take(&mut first.next_cursor);
        while !cursor.is_empty() {
            let page = self.external_contact_get(external_userid, &cursor).await?;
            if page.next_cursor == cursor {
                return Err(WeComError::PaginationStalled { api: "externalcontact/get", cursor });
            }
            first.follow_user.extend(page.follow_user);
            cursor = page.next_cursor;
        }
        Ok(first)
    }

    /// `POST externalcontact/batch/get_by_user`: one page of the customers of some members.
    pub async fn batch_get_by_user(&self, req: &BatchGetByUserRequest) -> Result<BatchGetByUserResponse, WeComError> {
        self.execute(ApiRequest::post("externalcontact/batch/get_by_user", CallKind::Idempotent, req)?).await
    }

    /// Every page of `batch/get_by_user` for `userid_list`.
    pub fn batch_get_by_user_pages(
        &self,
        userid_list: Vec<String>,
        limit: Option<u32>,
    ) -> BoxStream<'static, Result<Vec<ExternalContactWithFollowInfo>, WeComError>> {
        let client = self.clone();
        cursor_pages("externalcontact/batch/get_by_user", move |cursor| {
            let client = client.clone();
            let req = BatchGetByUserRequest { userid_list: userid_list.clone(), cursor, limit };
            async move {
                let page = client.batch_get_by_user(&req).await?;
                Ok((page.external_contact_list, page.next_cursor))
            }
        })
    }

    /// All customers of `userid_list` (every page of `batch/get_by_user`).
    pub async fn batch_get_by_user_all(
        &self,
        userid_list: Vec<String>,
        limit: Option<u32>,
    ) -> Result<Vec<ExternalContactWithFollowInfo>, WeComError> {
        collect_all(self.batch_get_by_user_pages(userid_list, limit)).await
    }

    /// `GET externalcontact/get_follow_user_list`: members allowed to have customers.
    pub async fn get_follow_user_list(&self) -> Result<FollowUserListResponse, WeComError> {
        self.execute(ApiRequest::get("externalcontact/get_follow_user_list")).await
    }

    /// `POST externalcontact/get_corp_tag_list`.
    pub async fn get_corp_tag_list(&self, req: &GetCorpTagListRequest) -> Result<GetCorpTagListResponse, WeComError> {
        self.execute(ApiRequest::post("externalcontact/get_corp_tag_list", CallKind::Idempotent, req)?).await
    }

    /// `POST externalcontact/add_corp_tag`.
    pub async fn add_corp_tag(&self, req: &AddCorpTagRequest) -> Result<AddCorpTagResponse, WeComError> {
        self.execute(ApiRequest::post("externalcontact/add_corp_tag", CallKind::NonIdempotent, req)?).await
    }

    /// `POST externalcontact/edit_corp_tag`.
    pub async fn edit_corp_tag(&self, req: &EditCorpTagRequest) -> Result<ErrorResponse, WeComError> {
        // Setting a name or an order twice has the same effect as once.
        self.execute(ApiRequest::post("externalcontact/edit_corp_tag", CallKind::Idempotent, req)?).await
    }

    /// `POST externalcontact/del_corp_tag`.
    pub async fn del_corp_tag(&self, req: &DelCorpTagRequest) -> Result<ErrorResponse, WeComError> {
        self.execute(ApiRequest::post("externalcontact/del_corp_tag", CallKind::Idempotent, req)?).await
    }

    /// `POST externalcontact/mark_tag`: adds and removes tags on a member's customer.
    pub async fn mark_tag(&self, req: &MarkTagRequest) -> Result<ErrorResponse, WeComError> {
        // Adding or removing the same tags again changes nothing.
        self.execute(ApiRequest::post("externalcontact/mark_tag", CallKind::Idempotent, req)?).await
    }
}
