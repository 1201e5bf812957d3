//! The corp directory (通讯录): departments and staff.
//!
//! Only `department/simplelist`, `user/list_id` and `user/get`: WeCom restricts `department/list`
//! and `user/list` for IPs added since 2022.

use futures::stream::BoxStream;
use serde::{Deserialize, Serialize};

use crate::client::{ApiRequest, CallKind, WeComClient};
use crate::pagination::{collect_all, cursor_pages};
use crate::{WeComError, de};

/// One department of `department/simplelist`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DepartmentId {
    /// Department id.
    pub id: i64,
    /// Parent department id (0 for the root).
    pub parentid: i64,
    /// Order within the parent (larger first).
    pub order: i64,
}

/// `department/simplelist`'s answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DepartmentSimpleListResponse {
    /// The departments.
    pub department_id: Vec<DepartmentId>,
}

/// `user/list_id`'s request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct UserListIdRequest {
    /// Cursor from the previous page's `next_cursor`; empty for the first page.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub cursor: String,
    /// Page size, 1–10000.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// A (user, department) pair of `user/list_id`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeptUser {
    /// Member userid.
    pub userid: String,
    /// A department the member is in.
    pub department: i64,
}

/// `user/list_id`'s answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct UserListIdResponse {
    /// Cursor of the next page; empty on the last page.
    pub next_cursor: String,
    /// One entry per (member, department).
    pub dept_user: Vec<DeptUser>,
}

/// Text value of an extended attribute.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AttrText {
    /// The text.
    pub value: String,
}

/// Web value of an extended attribute.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AttrWeb {
    /// URL.
    pub url: String,
    /// Title.
    pub title: String,
}

/// Mini-program value of an extended attribute.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AttrMiniProgram {
    /// Mini program appid.
    pub appid: String,
    /// Page path.
    pub pagepath: String,
    /// Title.
    pub title: String,
}

/// One extended attribute (`extattr.attrs[]`, `external_profile.external_attr[]`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExtAttr {
    /// 0 text, 1 web, 2 mini program.
    #[serde(rename = "type")]
    pub attr_type: i64,
    /// Attribute name.
    pub name: String,
    /// Value when text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<AttrText>,
    /// Value when web.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub web: Option<AttrWeb>,
    /// Value when mini program.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub miniprogram: Option<AttrMiniProgram>,
}

/// A member's custom attributes (`extattr`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExtAttrs {
    /// The attributes.
    pub attrs: Vec<ExtAttr>,
}

/// A WeChat Channels (视频号) account shown on a profile.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct WechatChannels {
    /// Channel nickname.
    pub nickname: String,
    /// Status (1 verified).
    pub status: i64,
}

/// The external profile (对外资料) of a member or an external contact.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExternalProfile {
    /// Corp short name shown to outsiders.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub external_corp_name: String,
    /// Channels account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wechat_channels: Option<WechatChannels>,
    /// Attributes shown to outsiders.
    pub external_attr: Vec<ExtAttr>,
}

/// A member (`user/get`). Fields the app may not read are absent and left empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct User {
    /// Member userid.
    pub userid: String,
    /// Name.
    pub name: String,
    /// Departments the member is in.
    pub department: Vec<i64>,
    /// Order within each department of `department`.
    pub order: Vec<i64>,
    /// Position.
    pub position: String,
    /// Mobile number.
    pub mobile: String,
    /// Gender: "0" unknown, "1" male, "2" female (WeCom sends a string).
    #[serde(deserialize_with = "de::string")]
    pub gender: String,
    /// Email.
    pub email: String,
    /// Corp email.
    pub biz_mail: String,
    /// For each department of `department`, 1 if the member leads it.
    pub is_leader_in_dept: Vec<i64>,
    /// Direct leaders' userids.
    pub direct_leader: Vec<String>,
    /// Avatar URL.
    pub avatar: String,
    /// Avatar thumbnail URL.
    pub thumb_avatar: String,
    /// Landline.
    pub telephone: String,
    /// Alias.
    pub alias: String,
    /// Address.
    pub address: String,
    /// Global id of the member for third-party apps.
    pub open_userid: String,
    /// Main department.
    pub main_department: i64,
    /// Custom attributes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extattr: Option<ExtAttrs>,
    /// 1 active, 2 disabled, 4 not yet active, 5 left the corp.
    pub status: i64,
    /// Personal QR code URL.
    pub qr_code: String,
    /// Position shown to outsiders.
    pub external_position: String,
    /// Profile shown to outsiders.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_profile: Option<ExternalProfile>,
}

impl WeComClient {
    /// `GET department/simplelist?id=`: department ids below `id` (all visible ones when `None`).
    pub async fn department_simplelist(&self, id: Option<i64>) -> Result<DepartmentSimpleListResponse, WeComError> {
        let mut req = ApiRequest::get("department/simplelist");
        if let Some(id) = id {
            req = req.query("id", id.to_string());
        }
        self.execute(req).await
    }

    /// `POST user/list_id`: one page of (member, department) pairs.
    pub async fn user_list_id(&self, req: &UserListIdRequest) -> Result<UserListIdResponse, WeComError> {
        self.execute(ApiRequest::post("user/list_id", CallKind::Idempotent, req)?).await
    }

    /// Every page of `user/list_id`, following `next_cursor`.
    pub fn user_list_id_pages(&self, limit: Option<u32>) -> BoxStream<'static, Result<Vec<DeptUser>, WeComError>> {
        let client = self.clone();
        cursor_pages("user/list_id", move |cursor| {
            let client = client.clone();
            async move {
                let page = client.user_list_id(&UserListIdRequest { cursor, limit }).await?;
                Ok((page.dept_user, page.next_cursor))
            }
        })
    }

    /// All (member, department) pairs of `user/list_id`.
    pub async fn user_list_id_all(&self, limit: Option<u32>) -> Result<Vec<DeptUser>, WeComError> {
        collect_all(self.user_list_id_pages(limit)).await
    }

    /// `GET user/get?userid=`: one member.
    pub async fn user_get(&self, userid: &str) -> Result<User, WeComError> {
        self.execute(ApiRequest::get("user/get").query("userid", userid)).await
    }
}
