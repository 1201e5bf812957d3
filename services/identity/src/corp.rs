//! The WeCom corp binding as the settings page shows it (`GetCorpSettings`), and the connection check
//! against WeCom (`CheckCorpConnection`). Secrets never leave the process: only whether each one is set.

use std::time::Instant;

use scrm_proto::identity::v1 as pb;
use scrm_wecom::{WeComClient, WeComError};

/// Path of the WeCom callback below the public base URL.
const CALLBACK_PATH: &str = "/wecom/callback";
/// Path of the sidebar H5 below the public base URL.
const SIDEBAR_PATH: &str = "/sidebar/";

/// The corp as the identity service serves it: the binding, the WeCom client to check it with, and the role
/// of first-time WeCom sign-ins.
#[derive(Debug, Clone)]
pub struct Corp {
    binding: CorpBinding,
    wecom: Option<WeComClient>,
    default_staff_role: pb::Role,
}

impl Corp {
    /// The corp of `binding`, checked with `wecom`; `default_staff_role` is the sign-in setting.
    pub fn new(binding: CorpBinding, wecom: Option<WeComClient>, default_staff_role: pb::Role) -> Self {
        Corp { binding, wecom, default_staff_role }
    }

    /// `GetCorpSettings`.
    pub fn settings(&self) -> pb::GetCorpSettingsResponse {
        pb::GetCorpSettingsResponse { settings: Some(self.binding.settings(self.default_staff_role)) }
    }

    /// `CheckCorpConnection`.
    pub async fn check(&self) -> pb::CheckCorpConnectionResponse {
        check_connection(self.wecom.as_ref()).await
    }
}

/// The corp binding as configured (`wecom.*` settings, or the demo corp).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CorpBinding {
    /// WeCom corp id; empty when none is bound.
    pub corp_id: String,
    /// The self-built app's agentid; 0 when not set.
    pub agentid: i64,
    /// Whether the app secret is set.
    pub secret_set: bool,
    /// Whether the callback Token is set.
    pub callback_token_set: bool,
    /// Whether the callback EncodingAESKey is set.
    pub encoding_aes_key_set: bool,
    /// Externally reachable base URL of this deployment, without a trailing slash; empty when unknown.
    pub public_base_url: String,
    /// The trusted domain configured for the sidebar; empty derives it from `public_base_url`.
    pub trusted_domain: String,
    /// Base URL of the WeCom API in use.
    pub wecom_api_base: String,
    /// Whether the built-in simulator stands in for WeCom.
    pub demo_mode: bool,
    /// IANA timezone of the corp's calendar days.
    pub timezone: String,
}

impl CorpBinding {
    /// The settings page's view of the binding; `default_staff_role` is the sign-in setting.
    pub fn settings(&self, default_staff_role: pb::Role) -> pb::CorpSettings {
        let base = self.public_base_url.trim_end_matches('/');
        let under_base = |path: &str| if base.is_empty() { String::new() } else { format!("{base}{path}") };
        let trusted_domain = if self.trusted_domain.is_empty() { host_of(base) } else { self.trusted_domain.clone() };
        pb::CorpSettings {
            corp_id: self.corp_id.clone(),
            corp_name: if self.demo_mode { "演示企业".to_owned() } else { String::new() },
            agentid: self.agentid,
            secret_set: self.secret_set,
            callback_token_set: self.callback_token_set,
            encoding_aes_key_set: self.encoding_aes_key_set,
            public_base_url: base.to_owned(),
            callback_url: under_base(CALLBACK_PATH),
            sidebar_url: under_base(SIDEBAR_PATH),
            trusted_domain,
            wecom_api_base: self.wecom_api_base.clone(),
            demo_mode: self.demo_mode,
            managed_by_config: true,
            timezone: self.timezone.clone(),
            default_staff_role: default_staff_role as i32,
            ..Default::default()
        }
    }
}

/// The host (and port) of a base URL: `https://scrm.example.com:8443` → `scrm.example.com:8443`.
fn host_of(base: &str) -> String {
    let without_scheme = base.split_once("://").map_or(base, |(_, rest)| rest);
    without_scheme.split('/').next().unwrap_or_default().to_owned()
}

/// Checks the credentials against WeCom: `gettoken`, then a cheap read (`get_follow_user_list`).
async fn check_connection(wecom: Option<&WeComClient>) -> pb::CheckCorpConnectionResponse {
    let started = Instant::now();
    let outcome = match wecom {
        None => Err(Failure::NotConfigured),
        Some(client) => match client.gettoken().await {
            Err(error) => Err(Failure::WeCom(error)),
            Ok(_) => client.get_follow_user_list().await.map(drop).map_err(Failure::WeCom),
        },
    };
    let latency = prost_types::Duration::try_from(started.elapsed()).ok();
    match outcome {
        Ok(()) => pb::CheckCorpConnectionResponse { ok: true, latency, ..Default::default() },
        Err(failure) => {
            let (errcode, errmsg) = failure.code_and_message();
            pb::CheckCorpConnectionResponse { ok: false, errcode, errmsg, hint: hint(&failure, errcode), latency }
        }
    }
}

/// Why a connection check failed.
enum Failure {
    /// No corp is configured.
    NotConfigured,
    /// WeCom refused, or could not be reached.
    WeCom(WeComError),
}

impl Failure {
    fn code_and_message(&self) -> (i64, String) {
        match self {
            Failure::NotConfigured => (0, "no WeCom corp is configured".to_owned()),
            Failure::WeCom(WeComError::Api { errcode, errmsg, .. }) => (*errcode, errmsg.clone()),
            Failure::WeCom(error) => (0, error.to_string()),
        }
    }
}

/// What to fix, in plain Chinese, naming the setting.
fn hint(failure: &Failure, errcode: i64) -> String {
    let text = match (failure, errcode) {
        (Failure::NotConfigured, _) => "尚未配置企业微信：请设置企业ID（wecom.corp_id）和应用Secret（wecom.secret）。",
        (Failure::WeCom(WeComError::Api { .. }), 40013) => {
            "企业ID不正确：请核对 wecom.corp_id（企业微信管理后台 → 我的企业）。"
        }
        (Failure::WeCom(WeComError::Api { .. }), 40001 | 40091) => {
            "应用Secret不正确：请核对 wecom.secret（应用管理 → 自建应用 → Secret）。"
        }
        (Failure::WeCom(WeComError::Api { .. }), 48002 | 48009) => {
            "应用没有客户联系接口权限：请在 客户联系 → API 中把该应用加入可调用应用。"
        }
        (Failure::WeCom(WeComError::Api { .. }), 60020) => {
            "服务器IP不在应用的企业可信IP中：请在应用设置中添加本服务器的出口IP。"
        }
        (Failure::WeCom(WeComError::Api { .. }), _) => "企业微信拒绝了请求：请按错误码查阅企业微信文档。",
        (Failure::WeCom(_), _) => "无法连接企业微信接口：请检查网络和 wecom.api_base 设置。",
    };
    text.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binding() -> CorpBinding {
        CorpBinding {
            corp_id: "ww1234".into(),
            secret_set: true,
            public_base_url: "https://scrm.example.com/".into(),
            ..CorpBinding::default()
        }
    }

    #[test]
    fn urls_derive_from_the_public_base_url() {
        let settings = binding().settings(pb::Role::Unspecified);
        assert_eq!(settings.callback_url, "https://scrm.example.com/wecom/callback");
        assert_eq!(settings.sidebar_url, "https://scrm.example.com/sidebar/");
        assert_eq!(settings.trusted_domain, "scrm.example.com");
        assert!(settings.secret_set && !settings.callback_token_set);
        let unknown = CorpBinding { public_base_url: String::new(), ..binding() }.settings(pb::Role::Unspecified);
        assert_eq!((unknown.callback_url.as_str(), unknown.trusted_domain.as_str()), ("", ""));
    }

    #[tokio::test]
    async fn an_unconfigured_corp_fails_the_check_with_a_hint() {
        let outcome = check_connection(None).await;
        assert!(!outcome.ok);
        assert!(outcome.hint.contains("wecom.corp_id"), "{}", outcome.hint);
    }
}
