//! The WeCom corp binding as the settings page shows and changes it (`GetCorpSettings`, `UpdateCorpSettings`,
//! `RotateCallbackKeys`), and the connection check against WeCom (`CheckCorpConnection`). Secrets never leave
//! the process, except freshly rotated callback keys, returned once: otherwise only whether each one is set.

use std::sync::{Arc, PoisonError, RwLock};
use std::time::Instant;

use scrm_kernel::{ApiError, ErrorCode, Role};
use scrm_proto::identity::v1 as pb;
use scrm_storage::Db;
use scrm_wecom::{WeComClient, WeComConfig, WeComError};
use scrm_wecom_crypto::{CallbackCrypto, CallbackKeyring};
use sqlx::FromRow;

use crate::auth::AuditChange;
use crate::error::IdentityError;

/// Path of the WeCom callback below the public base URL.
const CALLBACK_PATH: &str = "/wecom/callback";
/// Path of the sidebar H5 below the public base URL.
const SIDEBAR_PATH: &str = "/sidebar/";

/// The corp as the identity service serves it: the binding, the WeCom client to check it with, the role of
/// first-time WeCom sign-ins, and the table keeping what admins changed.
#[derive(Debug, Clone)]
pub struct Corp {
    state: Arc<RwLock<CorpState>>,
    default_staff_role: DefaultRole,
    store: CorpStore,
}

/// The binding in use and the client built from it.
#[derive(Debug)]
struct CorpState {
    binding: CorpBinding,
    wecom: Option<WeComClient>,
}

/// The role given to first-time WeCom sign-ins, shared with sign-in so that a change applies at once.
pub type DefaultRole = Arc<RwLock<Option<Role>>>;

impl Corp {
    /// The corp of `binding`, checked with `wecom`; `default_staff_role` is the sign-in setting; changes are kept
    /// in `db`.
    pub fn new(binding: CorpBinding, wecom: Option<WeComClient>, default_staff_role: DefaultRole, db: Db) -> Self {
        let state = Arc::new(RwLock::new(CorpState { binding, wecom }));
        Corp { state, default_staff_role, store: CorpStore { db } }
    }

    fn default_role(&self) -> Option<Role> {
        *self.default_staff_role.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn current(&self) -> (CorpBinding, Option<WeComClient>) {
        let state = self.state.read().unwrap_or_else(PoisonError::into_inner);
        (state.binding.clone(), state.wecom.clone())
    }

    /// `GetCorpSettings`.
    pub fn settings(&self) -> pb::GetCorpSettingsResponse {
        pb::GetCorpSettingsResponse { settings: Some(self.current().0.settings(role_to_proto(self.default_role()))) }
    }

    /// `CheckCorpConnection`, with the credentials in use now.
    pub async fn check(&self) -> pb::CheckCorpConnectionResponse {
        check_connection(self.current().1.as_ref()).await
    }

    /// `UpdateCorpSettings` at `now` (Unix ms): validates, stores the changed fields, and puts them in use
    /// (callback keys at the callback URL, corp id and secret for the connection check, the sign-in role).
    /// The audit entry is `None` when nothing changed.
    pub(crate) async fn update(
        &self,
        request: pb::UpdateCorpSettingsRequest,
        now: i64,
    ) -> Result<(pb::UpdateCorpSettingsResponse, Option<AuditChange>), IdentityError> {
        let changes = CorpChanges::validate(request)?;
        let (before, _) = self.current();
        refuse_when_managed(&before)?;
        let mut after = before.clone();
        let fields = changes.apply(&mut after);
        if fields.is_empty() {
            let settings = before.settings(role_to_proto(self.default_role()));
            let unchanged = pb::UpdateCorpSettingsResponse { settings: Some(settings) };
            return Ok((unchanged, None));
        }
        after.updated_at_ms = now;
        self.store.save(&changes.columns(), now).await?;
        let role_before = self.default_role();
        if let Some(role) = changes.default_staff_role {
            *self.default_staff_role.write().unwrap_or_else(PoisonError::into_inner) = role;
        }
        self.put_in_use(&before, after.clone());
        let summary = format!("修改企业微信设置：{}", fields.join("、"));
        let mut entry = audit("identity.corp.update", &before, &after, summary);
        if changes.default_staff_role.is_some() {
            entry.before_json = with_role(&entry.before_json, role_before);
            entry.after_json = with_role(&entry.after_json, self.default_role());
        }
        let settings = after.settings(role_to_proto(self.default_role()));
        Ok((pb::UpdateCorpSettingsResponse { settings: Some(settings) }, Some(entry)))
    }

    /// `RotateCallbackKeys` at `now` (Unix ms): a fresh Token and EncodingAESKey, stored and in use at once at
    /// the callback URL (the old ones are refused from then on), returned this once.
    pub(crate) async fn rotate_callback_keys(
        &self,
        now: i64,
    ) -> Result<(pb::RotateCallbackKeysResponse, AuditChange), IdentityError> {
        let (before, _) = self.current();
        refuse_when_managed(&before)?;
        let token = scrm_wecom_crypto::generate_token();
        let key = scrm_wecom_crypto::generate_encoding_aes_key();
        let columns =
            vec![("callback_token", Column::Text(token.clone())), ("encoding_aes_key", Column::Text(key.clone()))];
        self.store.save(&columns, now).await?;
        let mut after = before.clone();
        after.secrets.callback_token.clone_from(&token);
        after.secrets.encoding_aes_key.clone_from(&key);
        after.updated_at_ms = now;
        self.put_in_use(&before, after.clone());
        let callback_url = after.settings(pb::Role::Unspecified).callback_url;
        let entry =
            audit("identity.corp.rotate_callback_keys", &before, &after, "重新生成回调 Token 和 EncodingAESKey".into());
        Ok((pb::RotateCallbackKeysResponse { callback_token: token, encoding_aes_key: key, callback_url }, entry))
    }

    /// Makes `after` the binding in use: a new WeCom client when the corp id or secret changed, new callback keys
    /// when they or the corp id changed.
    fn put_in_use(&self, before: &CorpBinding, after: CorpBinding) {
        let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
        if before.corp_id != after.corp_id || before.secrets.secret != after.secrets.secret {
            state.wecom = after.wecom_client();
        }
        if before.corp_id != after.corp_id
            || before.secrets.callback_token != after.secrets.callback_token
            || before.secrets.encoding_aes_key != after.secrets.encoding_aes_key
        {
            after.keyring.replace(after.callback_crypto());
        }
        state.binding = after;
    }
}

fn refuse_when_managed(binding: &CorpBinding) -> Result<(), IdentityError> {
    if binding.managed_by_config {
        return Err(ApiError::new(
            ErrorCode::FailedPrecondition,
            "the corp is configured through SCRM_WECOM_* settings (wecom.corp_id); change it there",
        )
        .into());
    }
    Ok(())
}

fn role_to_proto(role: Option<Role>) -> pb::Role {
    role.map_or(pb::Role::Unspecified, Role::to_proto)
}

/// The audit entry of a change from `before` to `after`: the non-secret settings and the "is set" flags.
fn audit(action: &'static str, before: &CorpBinding, after: &CorpBinding, summary: String) -> AuditChange {
    AuditChange {
        action,
        resource_type: "corp",
        resource_id: after.corp_id.clone(),
        summary,
        before_json: before.audit_json().to_string(),
        after_json: after.audit_json().to_string(),
    }
}

fn with_role(json: &str, role: Option<Role>) -> String {
    let mut value: serde_json::Value = serde_json::from_str(json).unwrap_or_default();
    value["default_staff_role"] = serde_json::Value::from(role.map(Role::as_str).unwrap_or_default());
    value.to_string()
}

/// A stored value of the corp settings table.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Column {
    Text(String),
    Int(i64),
}

/// The fields of an `UpdateCorpSettings` request, validated.
#[derive(Debug, Default)]
struct CorpChanges {
    corp_id: Option<String>,
    corp_name: Option<String>,
    agentid: Option<i64>,
    secret: Option<String>,
    callback_token: Option<String>,
    encoding_aes_key: Option<String>,
    public_base_url: Option<String>,
    timezone: Option<String>,
    default_staff_role: Option<Option<Role>>,
}

impl CorpChanges {
    fn validate(request: pb::UpdateCorpSettingsRequest) -> Result<Self, ApiError> {
        let corp_id = request.corp_id.map(|value| value.trim().to_owned());
        if let Some(value) = &corp_id
            && (value.len() > 64 || !value.chars().all(|c| c.is_ascii_alphanumeric()))
        {
            return Err(ApiError::invalid(
                "corp_id",
                "the corp id is letters and digits, at most 64 (e.g. ww1234567890abcdef)",
            ));
        }
        let corp_name = request.corp_name.map(|value| value.trim().to_owned());
        if corp_name.as_ref().is_some_and(|value| value.chars().count() > 64) {
            return Err(ApiError::invalid("corp_name", "the corp name is at most 64 characters"));
        }
        if request.agentid.is_some_and(|value| value < 0) {
            return Err(ApiError::invalid("agentid", "the agentid is a positive number, or 0 for none"));
        }
        let secret = request.secret.map(|value| value.trim().to_owned());
        if secret.as_ref().is_some_and(|value| value.len() > 128 || value.chars().any(|c| !c.is_ascii_graphic())) {
            return Err(ApiError::invalid("secret", "the secret is at most 128 printable characters without spaces"));
        }
        let callback_token = request.callback_token.map(|value| value.trim().to_owned());
        if let Some(value) = &callback_token
            && !value.is_empty()
            && (!(3..=32).contains(&value.len()) || !value.chars().all(|c| c.is_ascii_alphanumeric()))
        {
            return Err(ApiError::invalid("callback_token", "the callback Token is 3 to 32 letters and digits"));
        }
        let encoding_aes_key = request.encoding_aes_key.map(|value| value.trim().to_owned());
        if let Some(value) = &encoding_aes_key
            && !value.is_empty()
            && scrm_wecom_crypto::decode_encoding_aes_key(value).is_err()
        {
            return Err(ApiError::invalid("encoding_aes_key", "the EncodingAESKey is 43 letters and digits"));
        }
        let public_base_url = request.public_base_url.map(|value| value.trim().trim_end_matches('/').to_owned());
        if let Some(value) = &public_base_url
            && !value.is_empty()
            && !is_base_url(value)
        {
            return Err(ApiError::invalid(
                "public_base_url",
                "the public base URL is http(s)://host[:port] with no path, e.g. https://scrm.example.com",
            ));
        }
        let timezone = request.timezone.map(|value| value.trim().to_owned());
        if timezone.as_ref().is_some_and(|value| !is_timezone_name(value)) {
            return Err(ApiError::invalid("timezone", "the timezone is an IANA name such as Asia/Shanghai"));
        }
        let default_staff_role = match request.default_staff_role {
            None => None,
            Some(value) if value == pb::Role::Unspecified as i32 => Some(None),
            Some(value) => match Role::from_proto(value) {
                Some(Role::Admin) => {
                    return Err(ApiError::invalid(
                        "default_staff_role",
                        "first-time WeCom sign-ins cannot be admins; create admin users one by one",
                    ));
                }
                Some(role) => Some(Some(role)),
                None => return Err(ApiError::invalid("default_staff_role", format!("unknown role {value}"))),
            },
        };
        Ok(CorpChanges {
            corp_id,
            corp_name,
            agentid: request.agentid,
            secret,
            callback_token,
            encoding_aes_key,
            public_base_url,
            timezone,
            default_staff_role,
        })
    }

    /// Applies the changes to `binding`; returns the names of the settings that changed.
    fn apply(&self, binding: &mut CorpBinding) -> Vec<&'static str> {
        let mut changed = Vec::new();
        let mut set = |name: &'static str, new: &Option<String>, old: &mut String| {
            if let Some(new) = new
                && new != old
            {
                new.clone_into(old);
                changed.push(name);
            }
        };
        set("corp_id", &self.corp_id, &mut binding.corp_id);
        set("corp_name", &self.corp_name, &mut binding.corp_name);
        set("secret", &self.secret, &mut binding.secrets.secret);
        set("callback_token", &self.callback_token, &mut binding.secrets.callback_token);
        set("encoding_aes_key", &self.encoding_aes_key, &mut binding.secrets.encoding_aes_key);
        set("public_base_url", &self.public_base_url, &mut binding.public_base_url);
        set("timezone", &self.timezone, &mut binding.timezone);
        if let Some(agentid) = self.agentid
            && agentid != binding.agentid
        {
            binding.agentid = agentid;
            changed.push("agentid");
        }
        if self.default_staff_role.is_some() {
            changed.push("default_staff_role");
        }
        changed
    }

    /// The table columns to store.
    fn columns(&self) -> Vec<(&'static str, Column)> {
        let texts = [
            ("corp_id", &self.corp_id),
            ("corp_name", &self.corp_name),
            ("secret", &self.secret),
            ("callback_token", &self.callback_token),
            ("encoding_aes_key", &self.encoding_aes_key),
            ("public_base_url", &self.public_base_url),
            ("timezone", &self.timezone),
        ];
        let mut columns: Vec<_> = texts
            .into_iter()
            .filter_map(|(name, value)| value.clone().map(|value| (name, Column::Text(value))))
            .collect();
        if let Some(agentid) = self.agentid {
            columns.push(("agentid", Column::Int(agentid)));
        }
        if let Some(role) = self.default_staff_role {
            columns.push(("default_staff_role", Column::Text(role.map(Role::as_str).unwrap_or_default().to_owned())));
        }
        columns
    }
}

/// `http(s)://host[:port]`, nothing after.
fn is_base_url(value: &str) -> bool {
    let Some((scheme, rest)) = value.split_once("://") else { return false };
    matches!(scheme, "http" | "https")
        && !rest.is_empty()
        && rest.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
}

/// An IANA zone name such as `Asia/Shanghai`, `UTC` or `America/Argentina/Buenos_Aires`.
fn is_timezone_name(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 64
        && value.split('/').all(|part| {
            part.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && part.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+'))
        })
}

/// The corp settings table.
#[derive(Debug, Clone)]
struct CorpStore {
    db: Db,
}

impl CorpStore {
    /// Stores `columns` (and the change time) in the single row.
    async fn save(&self, columns: &[(&'static str, Column)], now: i64) -> Result<(), sqlx::Error> {
        let mut names: Vec<&str> = columns.iter().map(|(name, _)| *name).collect();
        names.push("updated_at");
        let upsert = self.db.dialect().upsert_clause(&["id"], &names);
        let placeholders = vec!["?"; names.len()].join(", ");
        let sql = format!(
            "INSERT INTO identity_corp_settings (id, {}) VALUES (1, {placeholders}) {upsert}",
            names.join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (_, value) in columns {
            query = match value {
                Column::Text(text) => query.bind(text.clone()),
                Column::Int(number) => query.bind(*number),
            };
        }
        query.bind(now).execute(self.db.pool()).await?;
        Ok(())
    }
}

/// What admins changed through `UpdateCorpSettings` and `RotateCallbackKeys`, as stored; `None` keeps the
/// configured value. Read at start-up by [`stored_corp_settings`].
#[derive(Clone, Default, PartialEq, Eq, FromRow)]
pub struct StoredCorp {
    /// WeCom corp id.
    pub corp_id: Option<String>,
    /// Display name.
    pub corp_name: Option<String>,
    /// App agentid.
    pub agentid: Option<i64>,
    /// App secret.
    pub secret: Option<String>,
    /// Callback Token.
    pub callback_token: Option<String>,
    /// Callback EncodingAESKey.
    pub encoding_aes_key: Option<String>,
    /// Public base URL.
    pub public_base_url: Option<String>,
    /// IANA timezone.
    pub timezone: Option<String>,
    /// Role id of first-time WeCom sign-ins; empty refuses them.
    pub default_staff_role: Option<String>,
    /// Last change, Unix milliseconds.
    pub updated_at: i64,
}

impl std::fmt::Debug for StoredCorp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredCorp")
            .field("corp_id", &self.corp_id)
            .field("agentid", &self.agentid)
            .field("public_base_url", &self.public_base_url)
            .finish_non_exhaustive()
    }
}

/// The corp settings admins changed, if any; apply them over the configuration before building WeCom clients,
/// unless the corp is configured through `wecom.*` settings.
pub async fn stored_corp_settings(db: &Db) -> Result<Option<StoredCorp>, IdentityError> {
    let row = sqlx::query_as(
        "SELECT corp_id, corp_name, agentid, secret, callback_token, encoding_aes_key, public_base_url, timezone, \
         default_staff_role, updated_at FROM identity_corp_settings WHERE id = 1",
    )
    .fetch_optional(db.pool())
    .await?;
    Ok(row)
}

/// The corp binding: the configuration (`wecom.*` settings, or the demo corp) with the changes admins made.
#[derive(Debug, Clone, Default)]
pub struct CorpBinding {
    /// WeCom corp id; empty when none is bound.
    pub corp_id: String,
    /// Display name typed by the admin.
    pub corp_name: String,
    /// The self-built app's agentid; 0 when not set.
    pub agentid: i64,
    /// The app secret and callback keys.
    pub secrets: CorpSecrets,
    /// Externally reachable base URL of this deployment, without a trailing slash; empty when unknown.
    pub public_base_url: String,
    /// The trusted domain configured for the sidebar; empty derives it from `public_base_url`.
    pub trusted_domain: String,
    /// Base URL of the WeCom API in use.
    pub wecom_api_base: String,
    /// Whether the built-in simulator stands in for WeCom.
    pub demo_mode: bool,
    /// Whether the corp comes from `wecom.*` settings, so that the API may not change it.
    pub managed_by_config: bool,
    /// IANA timezone of the corp's calendar days.
    pub timezone: String,
    /// Last change through the API, Unix milliseconds; 0 if never.
    pub updated_at_ms: i64,
    /// The callback keys in use at the callback URL, replaced when they change.
    pub keyring: CallbackKeyring,
}

/// The write-only secrets of the binding. `Debug` shows only whether each is set.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct CorpSecrets {
    /// App secret (应用Secret).
    pub secret: String,
    /// Callback Token.
    pub callback_token: String,
    /// Callback EncodingAESKey.
    pub encoding_aes_key: String,
}

impl std::fmt::Debug for CorpSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CorpSecrets")
            .field("secret_set", &!self.secret.is_empty())
            .field("callback_token_set", &!self.callback_token.is_empty())
            .field("encoding_aes_key_set", &!self.encoding_aes_key.is_empty())
            .finish()
    }
}

impl CorpBinding {
    /// The settings page's view of the binding; `default_staff_role` is the sign-in setting.
    pub fn settings(&self, default_staff_role: pb::Role) -> pb::CorpSettings {
        let base = self.public_base_url.trim_end_matches('/');
        let under_base = |path: &str| if base.is_empty() { String::new() } else { format!("{base}{path}") };
        let trusted_domain = if self.trusted_domain.is_empty() { host_of(base) } else { self.trusted_domain.clone() };
        let corp_name = if self.corp_name.is_empty() && self.demo_mode { "演示企业" } else { &self.corp_name };
        pb::CorpSettings {
            corp_id: self.corp_id.clone(),
            corp_name: corp_name.to_owned(),
            agentid: self.agentid,
            secret_set: !self.secrets.secret.is_empty(),
            callback_token_set: !self.secrets.callback_token.is_empty(),
            encoding_aes_key_set: !self.secrets.encoding_aes_key.is_empty(),
            public_base_url: base.to_owned(),
            callback_url: under_base(CALLBACK_PATH),
            sidebar_url: under_base(SIDEBAR_PATH),
            trusted_domain,
            wecom_api_base: self.wecom_api_base.clone(),
            demo_mode: self.demo_mode,
            managed_by_config: self.managed_by_config,
            timezone: self.timezone.clone(),
            default_staff_role: default_staff_role as i32,
            updated_at: (self.updated_at_ms > 0).then(|| timestamp(self.updated_at_ms)),
            ..Default::default()
        }
    }

    /// The callback keys of the binding; `None` unless the corp id, Token and EncodingAESKey are all set.
    pub fn callback_crypto(&self) -> Option<CallbackCrypto> {
        let secrets = &self.secrets;
        if self.corp_id.is_empty() || secrets.callback_token.is_empty() || secrets.encoding_aes_key.is_empty() {
            return None;
        }
        CallbackCrypto::new(secrets.callback_token.clone(), &secrets.encoding_aes_key, self.corp_id.clone()).ok()
    }

    /// A WeCom client for the binding's corp id and secret; `None` unless both are set.
    fn wecom_client(&self) -> Option<WeComClient> {
        if self.corp_id.is_empty() || self.secrets.secret.is_empty() {
            return None;
        }
        let config = WeComConfig::new(self.corp_id.clone(), self.secrets.secret.clone())
            .with_api_base(self.wecom_api_base.trim_end_matches('/'));
        WeComClient::new(config).ok()
    }

    /// What the audit log keeps of the binding: no secret, only whether each is set.
    fn audit_json(&self) -> serde_json::Value {
        serde_json::json!({
            "corp_id": self.corp_id,
            "corp_name": self.corp_name,
            "agentid": self.agentid,
            "secret_set": !self.secrets.secret.is_empty(),
            "callback_token_set": !self.secrets.callback_token.is_empty(),
            "encoding_aes_key_set": !self.secrets.encoding_aes_key.is_empty(),
            "public_base_url": self.public_base_url,
            "timezone": self.timezone,
        })
    }
}

fn timestamp(unix_ms: i64) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds: unix_ms.div_euclid(1000), nanos: (unix_ms.rem_euclid(1000) * 1_000_000) as i32 }
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
            secrets: CorpSecrets { secret: "s3cret".into(), ..CorpSecrets::default() },
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

    #[test]
    fn updates_are_validated_naming_the_field() {
        let field_of = |request: pb::UpdateCorpSettingsRequest| CorpChanges::validate(request).unwrap_err().field;
        let cases = [
            (pb::UpdateCorpSettingsRequest { corp_id: Some("ww 12".into()), ..Default::default() }, "corp_id"),
            (pb::UpdateCorpSettingsRequest { agentid: Some(-1), ..Default::default() }, "agentid"),
            (
                pb::UpdateCorpSettingsRequest { callback_token: Some("ab".into()), ..Default::default() },
                "callback_token",
            ),
            (
                pb::UpdateCorpSettingsRequest { encoding_aes_key: Some("short".into()), ..Default::default() },
                "encoding_aes_key",
            ),
            (
                pb::UpdateCorpSettingsRequest { public_base_url: Some("ftp://x".into()), ..Default::default() },
                "public_base_url",
            ),
            (
                pb::UpdateCorpSettingsRequest { public_base_url: Some("https://x/a".into()), ..Default::default() },
                "public_base_url",
            ),
            (
                pb::UpdateCorpSettingsRequest { timezone: Some("Asia Shanghai".into()), ..Default::default() },
                "timezone",
            ),
            (
                pb::UpdateCorpSettingsRequest {
                    default_staff_role: Some(pb::Role::Admin as i32),
                    ..Default::default()
                },
                "default_staff_role",
            ),
        ];
        for (request, field) in cases {
            assert_eq!(field_of(request).as_deref(), Some(field));
        }
    }

    #[test]
    fn applying_changes_names_what_changed_and_empty_strings_clear() {
        let request = pb::UpdateCorpSettingsRequest {
            corp_id: Some("ww1234".into()),
            corp_name: Some("示例企业".into()),
            secret: Some(String::new()),
            public_base_url: Some("https://scrm.example.com/".into()),
            ..Default::default()
        };
        let changes = CorpChanges::validate(request).unwrap();
        let mut binding = binding();
        let changed = changes.apply(&mut binding);
        assert_eq!(changed, ["corp_name", "secret", "public_base_url"]);
        assert!(binding.secrets.secret.is_empty());
        assert_eq!(binding.public_base_url, "https://scrm.example.com");
        let names: Vec<_> = changes.columns().into_iter().map(|(name, _)| name).collect();
        assert_eq!(names, ["corp_id", "corp_name", "secret", "public_base_url"]);
    }

    #[test]
    fn secrets_stay_out_of_debug_and_audit() {
        let binding = binding();
        assert!(!format!("{binding:?}").contains("s3cret"));
        assert!(!binding.audit_json().to_string().contains("s3cret"));
    }
}
