//! Join ways (群活码, `groupchat/add_join_way`) and contact ways (渠道活码, `add_contact_way`), each
//! with the `state` WeCom carries into the events of those who come through them.

use serde::{Deserialize, Serialize};

use crate::WeComError;
use crate::client::{ApiRequest, CallKind, ErrorResponse, WeComClient};
use crate::content::{Image, Link, MiniProgram, Text};

/// A join way (群活码): `add_join_way`'s request, and what `get_join_way` returns.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct JoinWay {
    /// Id of the join way (set by WeCom; leave empty when adding).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub config_id: String,
    /// 1 mini-program button, 2 QR code.
    pub scene: i64,
    /// Remark.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub remark: String,
    /// 1 to create a new group when the groups are full.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_create_room: Option<i64>,
    /// Base name of groups created automatically.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub room_base_name: String,
    /// Starting number of groups created automatically.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub room_base_id: Option<i64>,
    /// Groups to join (at most 5).
    pub chat_id_list: Vec<String>,
    /// QR code URL (set by WeCom).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub qr_code: String,
    /// Up to 30 characters that WeCom carries into the join events (`State`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub state: String,
    /// Whether to mark where members came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mark_source: Option<bool>,
}

/// `add_join_way`'s / `add_contact_way`'s answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AddWayResponse {
    /// Id of the new way.
    pub config_id: String,
    /// QR code URL (`add_contact_way` with scene 2 only).
    pub qr_code: String,
}

/// `groupchat/get_join_way`'s answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GetJoinWayResponse {
    /// The join way.
    pub join_way: JoinWay,
}

/// Messages sent after a temporary session (`conclusions` of a contact way).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Conclusions {
    /// Text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<Text>,
    /// Image.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<Image>,
    /// Link.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<Link>,
    /// Mini program.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub miniprogram: Option<MiniProgram>,
}

/// A contact way (渠道活码, 「联系我」): `add_contact_way`'s request and what `get_contact_way` returns.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ContactWay {
    /// Id of the contact way (set by WeCom; leave empty when adding).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub config_id: String,
    /// 1 single member, 2 several members.
    #[serde(rename = "type")]
    pub way_type: i64,
    /// 1 mini-program button, 2 QR code.
    pub scene: i64,
    /// Mini-program button style.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub style: Option<i64>,
    /// Remark.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub remark: String,
    /// Whether adding needs no confirmation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip_verify: Option<bool>,
    /// Up to 30 characters that WeCom carries into the add events (`State`) and `follow_user.state`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub state: String,
    /// QR code URL (set by WeCom).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub qr_code: String,
    /// Members.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub user: Vec<String>,
    /// Departments.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub party: Vec<i64>,
    /// Whether it is a temporary session way.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_temp: Option<bool>,
    /// Temporary way lifetime, seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<i64>,
    /// Temporary session lifetime, seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chat_expires_in: Option<i64>,
    /// Only this WeChat user may use a temporary way.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub unionid: String,
    /// Whether the way is exclusive (one customer, one member).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_exclusive: Option<bool>,
    /// Messages after a temporary session.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conclusions: Option<Conclusions>,
}

/// `externalcontact/get_contact_way`'s answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GetContactWayResponse {
    /// The contact way.
    pub contact_way: ContactWay,
}

#[derive(Serialize)]
struct ConfigId<'a> {
    config_id: &'a str,
}

impl WeComClient {
    /// `POST externalcontact/groupchat/add_join_way`: creates a join way (群活码).
    pub async fn add_join_way(&self, join_way: &JoinWay) -> Result<AddWayResponse, WeComError> {
        self.execute(ApiRequest::post("externalcontact/groupchat/add_join_way", CallKind::NonIdempotent, join_way)?)
            .await
    }

    /// `POST externalcontact/groupchat/get_join_way`: a join way with its QR code.
    pub async fn get_join_way(&self, config_id: &str) -> Result<GetJoinWayResponse, WeComError> {
        let body = ConfigId { config_id };
        self.execute(ApiRequest::post("externalcontact/groupchat/get_join_way", CallKind::Idempotent, &body)?).await
    }

    /// `POST externalcontact/groupchat/update_join_way`: replaces the configuration of the join way
    /// `join_way.config_id` (WeCom updates by overwriting: send every field, `scene` and `chat_id_list` included).
    /// The QR code stays the same; `qr_code` is not sent.
    pub async fn update_join_way(&self, join_way: &JoinWay) -> Result<ErrorResponse, WeComError> {
        let body = JoinWay { qr_code: String::new(), ..join_way.clone() };
        self.execute(ApiRequest::post("externalcontact/groupchat/update_join_way", CallKind::Idempotent, &body)?).await
    }

    /// `POST externalcontact/groupchat/del_join_way`: deletes a join way; its QR code stops working.
    pub async fn del_join_way(&self, config_id: &str) -> Result<ErrorResponse, WeComError> {
        let body = ConfigId { config_id };
        self.execute(ApiRequest::post("externalcontact/groupchat/del_join_way", CallKind::Idempotent, &body)?).await
    }

    /// `POST externalcontact/add_contact_way`: creates a contact way (渠道活码).
    pub async fn add_contact_way(&self, contact_way: &ContactWay) -> Result<AddWayResponse, WeComError> {
        self.execute(ApiRequest::post("externalcontact/add_contact_way", CallKind::NonIdempotent, contact_way)?).await
    }

    /// `POST externalcontact/get_contact_way`: a contact way.
    pub async fn get_contact_way(&self, config_id: &str) -> Result<GetContactWayResponse, WeComError> {
        let body = ConfigId { config_id };
        self.execute(ApiRequest::post("externalcontact/get_contact_way", CallKind::Idempotent, &body)?).await
    }
}
