//! JS-SDK tickets and web sign-in (OAuth code → user).

use serde::{Deserialize, Serialize};

use crate::WeComError;
use crate::client::{ApiRequest, WeComClient};

/// A JS-SDK ticket (`get_jsapi_ticket`, `ticket/get?type=agent_config`).
///
/// WeCom limits how often tickets may be fetched (per hour, per corp and per app): cache the
/// ticket for `expires_in` seconds rather than fetching it for every page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct JsapiTicket {
    /// The ticket.
    pub ticket: String,
    /// Lifetime in seconds (normally 7200).
    pub expires_in: i64,
}

/// `auth/getuserinfo`'s answer: a member (`userid`, `user_ticket`) or, for someone outside the
/// corp, `openid` and, when they are a customer, `external_userid`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct UserInfo {
    /// The member's userid (absent for non-members).
    #[serde(alias = "UserId")]
    pub userid: String,
    /// Ticket for `auth/getuserdetail` (scope `snsapi_privateinfo`).
    pub user_ticket: String,
    /// A non-member's openid.
    #[serde(alias = "OpenId")]
    pub openid: String,
    /// A non-member customer's external userid.
    pub external_userid: String,
    /// Device id (older API versions).
    #[serde(alias = "DeviceId")]
    pub deviceid: String,
}

impl UserInfo {
    /// Whether the signed-in person is a corp member.
    pub fn is_member(&self) -> bool {
        !self.userid.is_empty()
    }
}

impl WeComClient {
    /// `GET get_jsapi_ticket`: the corp's JS-SDK ticket (for `wx.config`).
    pub async fn get_jsapi_ticket(&self) -> Result<JsapiTicket, WeComError> {
        self.execute(ApiRequest::get("get_jsapi_ticket")).await
    }

    /// `GET ticket/get?type=agent_config`: the app's JS-SDK ticket (for `wx.agentConfig`).
    pub async fn get_agent_config_ticket(&self) -> Result<JsapiTicket, WeComError> {
        self.execute(ApiRequest::get("ticket/get").query("type", "agent_config")).await
    }

    /// `GET auth/getuserinfo?code=`: who signed in with an OAuth `code` (valid 5 minutes, once).
    pub async fn auth_getuserinfo(&self, code: &str) -> Result<UserInfo, WeComError> {
        self.execute(ApiRequest::get("auth/getuserinfo").query("code", code)).await
    }
}
