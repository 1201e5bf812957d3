//! Sign-in and roles: users with argon2 passwords or WeCom OAuth, cookie sessions with CSRF tokens,
//! API tokens, the per-RPC permission table, and the audit log.
//!
//! The gateway resolves every request's credential with `Authenticate` and passes the caller on in
//! metadata; the [`roles::PERMISSIONS`] table is then checked inside the service on every call.

mod convert;
mod roles;
mod secret;
mod store;

use std::sync::Arc;

use scrm_kernel::caller::{Credential, CredentialKind};
use scrm_kernel::paging::{BeforeId, page_size};
use scrm_kernel::{ApiError, Caller, ErrorCode, Role};
use scrm_proto::identity::v1 as pb;
use scrm_storage::Db;
use scrm_wecom::WeComClient;
use tonic::{Request, Response, Status};

pub use roles::PERMISSIONS;
pub use store::AuthStore;

use crate::error::IdentityError;
use convert::{store_ids_text, timestamp, to_millis};
use store::{ApiTokenRow, AuditFilter, AuditRow, NewUser, SessionRow, UserRow};

/// Unix milliseconds now; injectable for tests.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// How long a WeCom sign-in `state` stays valid.
const LOGIN_STATE_TTL_MS: i64 = 10 * 60 * 1000;
/// A session's last use and expiry are written at most this often.
const TOUCH_EVERY_MS: i64 = 60 * 1000;

/// Where WeCom sign-in sends the browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WecomLogin {
    /// WeCom corp id (`appid` of the sign-in URLs).
    pub corp_id: String,
    /// The app's `agentid`.
    pub agentid: i64,
    /// OAuth page opened inside the WeCom client, e.g. `https://open.weixin.qq.com/connect/oauth2/authorize`.
    pub oauth_url: String,
    /// QR-code login page for ordinary browsers, e.g. `https://login.work.weixin.qq.com/wwlogin/sso/login`.
    pub qr_url: String,
}

impl WecomLogin {
    /// WeCom's own sign-in pages for `corp_id`.
    pub fn wecom(corp_id: String, agentid: i64) -> Self {
        WecomLogin {
            corp_id,
            agentid,
            oauth_url: "https://open.weixin.qq.com/connect/oauth2/authorize".to_owned(),
            qr_url: "https://login.work.weixin.qq.com/wwlogin/sso/login".to_owned(),
        }
    }
}

/// Sign-in settings.
#[derive(Clone)]
pub struct AuthSettings {
    /// A session expires after this long unused.
    pub session_ttl_ms: i64,
    /// Role given to a WeCom member signing in with no user yet; `None` refuses them.
    pub default_staff_role: Option<Role>,
    /// WeCom sign-in pages; `None` when no corp is configured.
    pub wecom_login: Option<WecomLogin>,
    /// The clock.
    pub clock: Clock,
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            session_ttl_ms: 7 * 24 * 3600 * 1000,
            default_staff_role: None,
            wecom_login: None,
            clock: Arc::new(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |since| since.as_millis() as i64)
            }),
        }
    }
}

impl std::fmt::Debug for AuthSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthSettings")
            .field("session_ttl_ms", &self.session_ttl_ms)
            .field("default_staff_role", &self.default_staff_role)
            .field("wecom_login", &self.wecom_login)
            .finish_non_exhaustive()
    }
}

/// A change to record in the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AuditChange {
    /// Dotted action name, e.g. `identity.store.set`.
    pub action: &'static str,
    /// Kind of resource changed.
    pub resource_type: &'static str,
    /// Id of the resource changed.
    pub resource_id: String,
    /// One-line Chinese summary.
    pub summary: String,
    /// JSON before the change.
    pub before_json: String,
    /// JSON after the change.
    pub after_json: String,
}

/// The sign-in half of the identity service.
#[derive(Debug, Clone)]
pub struct Auth {
    store: AuthStore,
    wecom: Option<WeComClient>,
    settings: AuthSettings,
    default_staff_role: crate::corp::DefaultRole,
}

/// The first admin created on an empty database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirstAdmin {
    /// Its login name.
    pub username: String,
    /// The generated one-time password; `None` when the password was given.
    pub generated_password: Option<String>,
}

/// Creates the local `admin` user when no user exists yet, with `password` or a generated one-time
/// password (which must be changed at first sign-in). `None` when users already exist.
pub async fn ensure_first_admin(
    db: Db,
    password: Option<String>,
    now: i64,
) -> Result<Option<FirstAdmin>, IdentityError> {
    let store = AuthStore::new(db);
    if store.count_users().await? > 0 {
        return Ok(None);
    }
    if let Some(password) = &password
        && password.chars().count() < secret::MIN_PASSWORD_LEN
    {
        return Err(ApiError::invalid(
            "SCRM_ADMIN_PASSWORD",
            format!("SCRM_ADMIN_PASSWORD must be at least {} characters", secret::MIN_PASSWORD_LEN),
        )
        .into());
    }
    let generated = password.is_none();
    let password = password.unwrap_or_else(secret::one_time_password);
    let user = NewUser {
        username: Some("admin".to_owned()),
        display_name: "管理员".to_owned(),
        role: Role::Admin.as_str().to_owned(),
        store_ids: String::new(),
        userid: None,
        password_hash: Some(secret::hash_password(&password)),
        must_change_password: generated,
    };
    if store.insert_user(&user, now).await?.is_none() {
        return Ok(None);
    }
    Ok(Some(FirstAdmin { username: "admin".to_owned(), generated_password: generated.then_some(password) }))
}

/// An API token as `scrm token create` made it: the secret (shown once) and its metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedToken {
    /// The token value, shown once.
    pub token: String,
    /// The stored metadata.
    pub api_token: pb::ApiToken,
}

/// Creates an API token directly in the database (the CLI's path, with no running server).
pub async fn create_api_token(
    db: Db,
    name: &str,
    role: Role,
    store_ids: &[i64],
    now: i64,
) -> Result<IssuedToken, IdentityError> {
    let settings = AuthSettings { clock: Arc::new(move || now), ..AuthSettings::default() };
    let auth = Auth::new(db, None, settings, Arc::default());
    auth.issue_token(name, role, store_ids, None, 0).await
}

/// Lists API tokens directly in the database, revoked ones included when asked.
pub async fn list_api_tokens(db: Db, include_revoked: bool, now: i64) -> Result<Vec<pb::ApiToken>, IdentityError> {
    let rows = AuthStore::new(db).list_api_tokens(include_revoked, now, None, i32::MAX as u32).await?;
    Ok(rows.into_iter().map(convert::api_token).collect())
}

/// Revokes an API token directly in the database; `None` when there is no such token.
pub async fn revoke_api_token(db: Db, id: i64, now: i64) -> Result<Option<pb::ApiToken>, IdentityError> {
    Ok(AuthStore::new(db).revoke_api_token(id, now).await?.map(convert::api_token))
}

impl Auth {
    /// Sign-in over `db`; `wecom` answers `auth/getuserinfo` for WeCom sign-in; first-time WeCom sign-ins get
    /// the role `default_staff_role` holds at the time (the settings page changes it).
    pub fn new(
        db: Db,
        wecom: Option<WeComClient>,
        settings: AuthSettings,
        default_staff_role: crate::corp::DefaultRole,
    ) -> Self {
        Auth { store: AuthStore::new(db), wecom, settings, default_staff_role }
    }

    fn now(&self) -> i64 {
        (self.settings.clock)()
    }

    async fn issue_token(
        &self,
        name: &str,
        role: Role,
        store_ids: &[i64],
        expires_at: Option<i64>,
        created_by_user_id: i64,
    ) -> Result<IssuedToken, IdentityError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 64 {
            return Err(ApiError::invalid("name", "name must be 1 to 64 characters").into());
        }
        if role == Role::StoreManager && store_ids.is_empty() {
            return Err(ApiError::invalid("store_ids", "a store manager token needs at least one store").into());
        }
        let token = secret::new_api_token();
        let row = ApiTokenRow {
            id: 0,
            name: name.to_owned(),
            role: role.as_str().to_owned(),
            store_ids: store_ids_text(role, store_ids),
            prefix: secret::token_prefix(&token),
            created_by_user_id,
            created_at: self.now(),
            last_used_at: None,
            expires_at,
            revoked_at: None,
        };
        let row = self.store.insert_api_token(&secret::token_hash(&token), &row).await?;
        Ok(IssuedToken { token, api_token: convert::api_token(row) })
    }

    async fn user(&self, id: i64) -> Result<UserRow, IdentityError> {
        self.store
            .user(id)
            .await?
            .ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("no user with id {id}")).into())
    }

    /// Records a change made elsewhere in the identity service by the caller in `metadata`.
    pub(crate) async fn record_change(&self, metadata: &tonic::metadata::MetadataMap, change: AuditChange) {
        let entry = AuditRow {
            service: "identity".into(),
            action: change.action.into(),
            resource_type: change.resource_type.into(),
            resource_id: change.resource_id,
            summary: change.summary,
            before_json: change.before_json,
            after_json: change.after_json,
            ..AuditRow::default()
        };
        self.audit(metadata, entry).await;
    }

    /// Appends an audit entry made by the caller in `metadata` (best effort: a failure is logged).
    async fn audit(&self, metadata: &tonic::metadata::MetadataMap, entry: AuditRow) {
        let entry = self.with_actor(entry, metadata).await;
        if let Err(error) = self.store.insert_audit(&entry).await {
            tracing::error!(%error, action = %entry.action, "the audit entry could not be written");
        }
    }

    /// Fills the actor of an entry, with the acting user's display name when a user stands behind the call.
    async fn with_actor(&self, mut entry: AuditRow, metadata: &tonic::metadata::MetadataMap) -> AuditRow {
        if let Some(credential) = Credential::from_metadata(metadata).filter(|credential| credential.user_id > 0)
            && let Ok(Some(user)) = self.store.user(credential.user_id).await
        {
            entry.actor_name = user.display_name;
        }
        convert::with_actor(entry, metadata, self.now())
    }

    /// `Authenticate`.
    pub async fn authenticate(
        &self,
        request: Request<pb::AuthenticateRequest>,
    ) -> Result<Response<pb::AuthenticateResponse>, Status> {
        let request = request.into_inner();
        let now = self.now();
        let unknown = || ApiError::new(ErrorCode::Unauthenticated, "the credential is unknown, expired or revoked");
        let response = match request.credential {
            Some(pb::authenticate_request::Credential::SessionToken(token)) => {
                let session =
                    self.store.session_by_hash(&secret::token_hash(&token)).await.map_err(IdentityError::from)?;
                let session = session
                    .filter(|session| session.revoked_at.is_none() && session.expires_at > now)
                    .ok_or_else(unknown)?;
                let user = self.user(session.user_id).await?;
                if user.disabled != 0 {
                    return Err(unknown().into());
                }
                if request.state_changing && !secret::constant_time_eq(&session.csrf_token, &request.csrf_token) {
                    return Err(ApiError::new(
                        ErrorCode::PermissionDenied,
                        "the x-csrf-token header is missing or wrong",
                    )
                    .with_field("x-csrf-token")
                    .into());
                }
                let mut expires_at = session.expires_at;
                if now - session.last_seen_at >= TOUCH_EVERY_MS {
                    expires_at = now + self.settings.session_ttl_ms;
                    self.store.touch_session(session.id, now, expires_at).await.map_err(IdentityError::from)?;
                }
                pb::AuthenticateResponse {
                    caller: Some(convert::user_caller(&user, pb::CredentialKind::Session, session.id)),
                    expires_at: Some(timestamp(expires_at)),
                }
            }
            Some(pb::authenticate_request::Credential::ApiToken(token)) => {
                let row =
                    self.store.api_token_by_hash(&secret::token_hash(&token)).await.map_err(IdentityError::from)?;
                let row = row
                    .filter(|row| row.revoked_at.is_none() && row.expires_at.is_none_or(|expires| expires > now))
                    .ok_or_else(unknown)?;
                if row.last_used_at.is_none_or(|used| now - used >= TOUCH_EVERY_MS) {
                    self.store.touch_api_token(row.id, now).await.map_err(IdentityError::from)?;
                }
                pb::AuthenticateResponse {
                    expires_at: row.expires_at.map(timestamp),
                    caller: Some(convert::token_caller(&row)),
                }
            }
            None => return Err(ApiError::invalid("credential", "give a session_token or an api_token").into()),
        };
        Ok(Response::new(response))
    }

    /// `Login`.
    pub async fn login(&self, request: Request<pb::LoginRequest>) -> Result<Response<pb::LoginResponse>, Status> {
        let metadata = request.metadata().clone();
        let request = request.into_inner();
        let now = self.now();
        let wrong = || ApiError::new(ErrorCode::Unauthenticated, "wrong username or password");
        let (mut user, method) = match request.credential {
            Some(pb::login_request::Credential::Password(credential)) => {
                let user =
                    self.store.user_by_username(credential.username.trim()).await.map_err(IdentityError::from)?;
                let user = user
                    .filter(|user| {
                        user.password_hash
                            .as_deref()
                            .is_some_and(|hash| secret::verify_password(&credential.password, hash))
                    })
                    .ok_or_else(wrong)?;
                (user, pb::LoginMethod::Password)
            }
            Some(pb::login_request::Credential::WecomCode(credential)) => {
                (self.wecom_user(&credential, now).await?, pb::LoginMethod::Wecom)
            }
            None => return Err(ApiError::invalid("credential", "give a password or a wecom_code").into()),
        };
        if user.disabled != 0 {
            return Err(ApiError::new(ErrorCode::Unauthenticated, "this account is disabled").into());
        }
        let token = secret::random_hex();
        let session = SessionRow {
            id: 0,
            user_id: user.id,
            csrf_token: secret::random_hex(),
            method: method as i32,
            ip: request.ip.chars().take(64).collect(),
            user_agent: request.user_agent.chars().take(512).collect(),
            created_at: now,
            last_seen_at: now,
            expires_at: now + self.settings.session_ttl_ms,
            revoked_at: None,
        };
        let session =
            self.store.insert_session(&secret::token_hash(&token), &session).await.map_err(IdentityError::from)?;
        user.last_login_at = Some(now);
        self.store.update_user(&user).await.map_err(IdentityError::from)?;
        let mut as_user = metadata.clone();
        Caller { staff_id: convert::staff_id_of(&user), role: convert::role_of(&user.role), store_ids: vec![] }
            .write_to(&mut as_user)?;
        Credential { kind: CredentialKind::Session, id: session.id, user_id: user.id }.write_to(&mut as_user);
        let action = AuditRow {
            idempotency_key: format!("login:{}", session.id),
            action: "identity.session.login".into(),
            resource_type: "session".into(),
            resource_id: session.id.to_string(),
            summary: format!("{} 登录", user.display_name),
            ip: session.ip.clone(),
            ..AuditRow::default()
        };
        self.audit(&as_user, action).await;
        Ok(Response::new(pb::LoginResponse {
            session_token: token,
            csrf_token: session.csrf_token.clone(),
            expires_at: Some(timestamp(session.expires_at)),
            user: Some(convert::user(&user)),
            session: Some(convert::session(&session, true)),
        }))
    }

    async fn wecom_user(&self, credential: &pb::WecomCodeCredential, now: i64) -> Result<UserRow, IdentityError> {
        if credential.code.is_empty() {
            return Err(ApiError::invalid("wecom_code.code", "the WeCom sign-in code is missing").into());
        }
        if !self.store.take_login_state(&credential.state, now).await? {
            return Err(ApiError::new(
                ErrorCode::Unauthenticated,
                "the sign-in link expired or was already used; start again",
            )
            .with_field("wecom_code.state")
            .into());
        }
        let wecom = self.wecom.as_ref().ok_or_else(|| {
            ApiError::new(ErrorCode::FailedPrecondition, "WeCom sign-in needs a configured WeCom corp")
        })?;
        let info = wecom.auth_getuserinfo(&credential.code).await.map_err(|error| {
            tracing::info!(%error, "WeCom refused a sign-in code");
            ApiError::new(ErrorCode::Unauthenticated, "WeCom did not accept the sign-in code; start again")
        })?;
        if !info.is_member() {
            return Err(ApiError::new(ErrorCode::PermissionDenied, "only members of the corp may sign in").into());
        }
        if let Some(user) = self.store.user_by_userid(&info.userid).await? {
            return Ok(user);
        }
        let role =
            self.default_staff_role.read().unwrap_or_else(std::sync::PoisonError::into_inner).ok_or_else(|| {
                ApiError::new(
                    ErrorCode::PermissionDenied,
                    format!("WeCom member `{}` has no scrm account; ask an admin to create one", info.userid),
                )
            })?;
        let user = NewUser {
            username: None,
            display_name: info.userid.clone(),
            role: role.as_str().to_owned(),
            store_ids: String::new(),
            userid: Some(info.userid.clone()),
            password_hash: None,
            must_change_password: false,
        };
        match self.store.insert_user(&user, now).await? {
            Some(user) => Ok(user),
            None => {
                self.store.user_by_userid(&info.userid).await?.ok_or_else(|| {
                    ApiError::new(ErrorCode::Unavailable, "the account is being created; try again").into()
                })
            }
        }
    }

    /// `GetWecomLoginUrl`.
    pub async fn get_wecom_login_url(
        &self,
        request: Request<pb::GetWecomLoginUrlRequest>,
    ) -> Result<Response<pb::GetWecomLoginUrlResponse>, Status> {
        let request = request.into_inner();
        let login = self.settings.wecom_login.as_ref().ok_or_else(|| {
            ApiError::new(ErrorCode::FailedPrecondition, "WeCom sign-in needs a configured WeCom corp")
        })?;
        if !(request.redirect_uri.starts_with("http://") || request.redirect_uri.starts_with("https://")) {
            return Err(ApiError::invalid("redirect_uri", "redirect_uri must be an http(s) URL").into());
        }
        let state = secret::random_hex()[..32].to_owned();
        self.store.insert_login_state(&state, self.now() + LOGIN_STATE_TTL_MS).await.map_err(IdentityError::from)?;
        let redirect = convert::url_encode(&request.redirect_uri);
        let url = match request.kind() {
            pb::WecomLoginKind::Qr => format!(
                "{}?login_type=CorpApp&appid={}&agentid={}&redirect_uri={redirect}&state={state}",
                login.qr_url, login.corp_id, login.agentid
            ),
            _ => format!(
                "{}?appid={}&redirect_uri={redirect}&response_type=code&scope=snsapi_base&state={state}&agentid={}#wechat_redirect",
                login.oauth_url, login.corp_id, login.agentid
            ),
        };
        Ok(Response::new(pb::GetWecomLoginUrlResponse { url, state }))
    }

    /// `Logout`.
    pub async fn logout(&self, request: Request<pb::LogoutRequest>) -> Result<Response<pb::LogoutResponse>, Status> {
        if let Some(credential) = Credential::from_metadata(request.metadata())
            && credential.kind == CredentialKind::Session
        {
            self.store.revoke_session(credential.id, self.now()).await.map_err(IdentityError::from)?;
        }
        Ok(Response::new(pb::LogoutResponse {}))
    }

    /// `GetCurrentUser`.
    pub async fn get_current_user(
        &self,
        request: Request<pb::GetCurrentUserRequest>,
    ) -> Result<Response<pb::GetCurrentUserResponse>, Status> {
        let caller = Caller::from_request(&request)?;
        let credential = Credential::from_metadata(request.metadata()).unwrap_or(Credential {
            kind: CredentialKind::Local,
            id: 0,
            user_id: 0,
        });
        let user = match credential.user_id {
            0 => None,
            id => self.store.user(id).await.map_err(IdentityError::from)?,
        };
        let caller_proto = match &user {
            Some(user) => convert::user_caller(user, convert::credential_kind(credential.kind), credential.id),
            None => convert::metadata_caller(&caller, credential),
        };
        Ok(Response::new(pb::GetCurrentUserResponse {
            user: user.as_ref().map(convert::user),
            caller: Some(caller_proto),
            permissions: roles::permissions_of(caller.role).iter().map(|name| (*name).to_owned()).collect(),
            staff: None,
        }))
    }

    /// `ListRoles`.
    pub async fn list_roles(
        &self,
        _: Request<pb::ListRolesRequest>,
    ) -> Result<Response<pb::ListRolesResponse>, Status> {
        Ok(Response::new(pb::ListRolesResponse { roles: Role::ALL.into_iter().map(roles::role_info).collect() }))
    }

    /// `ListUsers`.
    pub async fn list_users(
        &self,
        request: Request<pb::ListUsersRequest>,
    ) -> Result<Response<pb::ListUsersResponse>, Status> {
        let request = request.into_inner();
        let limit = page_size(request.page_size)?;
        let offset = convert::parse_offset(&request.page_token)?;
        let role = Role::from_proto(request.role).map(Role::as_str);
        let rows = self
            .store
            .list_users(role, request.query.trim(), request.include_disabled, offset, limit)
            .await
            .map_err(IdentityError::from)?;
        let next_page_token = convert::next_offset(offset, rows.len(), limit);
        Ok(Response::new(pb::ListUsersResponse { users: rows.iter().map(convert::user).collect(), next_page_token }))
    }

    /// `GetUser`.
    pub async fn get_user(
        &self,
        request: Request<pb::GetUserRequest>,
    ) -> Result<Response<pb::GetUserResponse>, Status> {
        let caller = Caller::from_request(&request)?;
        let credential = Credential::from_metadata(request.metadata());
        let id = request.into_inner().id;
        if caller.role != Role::Admin && credential.is_none_or(|credential| credential.user_id != id) {
            return Err(ApiError::new(ErrorCode::PermissionDenied, "only admins may read other users").into());
        }
        Ok(Response::new(pb::GetUserResponse { user: Some(convert::user(&self.user(id).await?)) }))
    }

    /// `CreateUser`.
    pub async fn create_user(
        &self,
        request: Request<pb::CreateUserRequest>,
    ) -> Result<Response<pb::CreateUserResponse>, Status> {
        let metadata = request.metadata().clone();
        let request = request.into_inner();
        let new = convert::new_user(&request)?;
        let row = self.store.insert_user(&new, self.now()).await.map_err(IdentityError::from)?.ok_or_else(|| {
            ApiError::new(ErrorCode::AlreadyExists, "the username or WeCom userid already belongs to a user")
                .with_field(if request.username.is_empty() { "userid" } else { "username" })
        })?;
        let user = convert::user(&row);
        let entry = AuditRow {
            action: "identity.user.create".into(),
            resource_type: "user".into(),
            resource_id: row.id.to_string(),
            summary: format!("创建用户 {}（{}）", row.display_name, convert::role_of(&row.role).label()),
            after_json: convert::user_json(&row),
            ..AuditRow::default()
        };
        self.audit(&metadata, entry).await;
        Ok(Response::new(pb::CreateUserResponse { user: Some(user) }))
    }

    /// `UpdateUser`.
    pub async fn update_user(
        &self,
        request: Request<pb::UpdateUserRequest>,
    ) -> Result<Response<pb::UpdateUserResponse>, Status> {
        let metadata = request.metadata().clone();
        let request = request.into_inner();
        let before = self.user(request.id).await?;
        let after = convert::apply_update(before.clone(), &request)?;
        self.store.update_user(&after).await.map_err(IdentityError::from)?;
        if after.disabled != 0 && before.disabled == 0 {
            self.store.revoke_user_sessions(after.id, 0, self.now()).await.map_err(IdentityError::from)?;
        }
        let entry = AuditRow {
            action: "identity.user.update".into(),
            resource_type: "user".into(),
            resource_id: after.id.to_string(),
            summary: format!("修改用户 {}", after.display_name),
            before_json: convert::user_json(&before),
            after_json: convert::user_json(&after),
            ..AuditRow::default()
        };
        self.audit(&metadata, entry).await;
        Ok(Response::new(pb::UpdateUserResponse { user: Some(convert::user(&after)) }))
    }

    /// `SetUserPassword`.
    pub async fn set_user_password(
        &self,
        request: Request<pb::SetUserPasswordRequest>,
    ) -> Result<Response<pb::SetUserPasswordResponse>, Status> {
        let caller = Caller::from_request(&request)?;
        let metadata = request.metadata().clone();
        let credential = Credential::from_metadata(&metadata);
        let request = request.into_inner();
        let own_id = credential.map_or(0, |credential| credential.user_id);
        let id = if request.id == 0 { own_id } else { request.id };
        if id == 0 {
            return Err(ApiError::invalid("id", "give the id of the user").into());
        }
        let own = id == own_id;
        if !own && caller.role != Role::Admin {
            return Err(ApiError::new(ErrorCode::PermissionDenied, "only admins may set other users' passwords").into());
        }
        if request.new_password.chars().count() < secret::MIN_PASSWORD_LEN {
            return Err(ApiError::invalid(
                "new_password",
                format!("new_password must be at least {} characters", secret::MIN_PASSWORD_LEN),
            )
            .into());
        }
        let mut user = self.user(id).await?;
        if own
            && !user
                .password_hash
                .as_deref()
                .is_some_and(|hash| secret::verify_password(&request.current_password, hash))
        {
            return Err(ApiError::invalid("current_password", "the current password is wrong").into());
        }
        user.password_hash = Some(secret::hash_password(&request.new_password));
        user.must_change_password = i32::from(!own);
        self.store.update_user(&user).await.map_err(IdentityError::from)?;
        let keep = credential.filter(|_| own).map_or(0, |credential| credential.id);
        self.store.revoke_user_sessions(user.id, keep, self.now()).await.map_err(IdentityError::from)?;
        let entry = AuditRow {
            action: "identity.user.password".into(),
            resource_type: "user".into(),
            resource_id: user.id.to_string(),
            summary: format!("设置用户 {} 的密码", user.display_name),
            ..AuditRow::default()
        };
        self.audit(&metadata, entry).await;
        Ok(Response::new(pb::SetUserPasswordResponse { user: Some(convert::user(&user)) }))
    }

    /// `ListSessions`.
    pub async fn list_sessions(
        &self,
        request: Request<pb::ListSessionsRequest>,
    ) -> Result<Response<pb::ListSessionsResponse>, Status> {
        let caller = Caller::from_request(&request)?;
        let credential = Credential::from_metadata(request.metadata());
        let request = request.into_inner();
        let own_id = credential.map_or(0, |credential| credential.user_id);
        let user_id = if request.user_id == 0 { own_id } else { request.user_id };
        if user_id != own_id && caller.role != Role::Admin {
            return Err(ApiError::new(ErrorCode::PermissionDenied, "only admins may list other users' sessions").into());
        }
        let limit = page_size(request.page_size)?;
        let offset = convert::parse_offset(&request.page_token)?;
        let rows = self.store.list_sessions(user_id, self.now(), offset, limit).await.map_err(IdentityError::from)?;
        let current = credential.filter(|credential| credential.kind == CredentialKind::Session).map_or(0, |c| c.id);
        Ok(Response::new(pb::ListSessionsResponse {
            next_page_token: convert::next_offset(offset, rows.len(), limit),
            sessions: rows.iter().map(|row| convert::session(row, row.id == current)).collect(),
        }))
    }

    /// `RevokeSession`.
    pub async fn revoke_session(
        &self,
        request: Request<pb::RevokeSessionRequest>,
    ) -> Result<Response<pb::RevokeSessionResponse>, Status> {
        let caller = Caller::from_request(&request)?;
        let credential = Credential::from_metadata(request.metadata());
        let metadata = request.metadata().clone();
        let id = request.into_inner().id;
        let session = self
            .store
            .session(id)
            .await
            .map_err(IdentityError::from)?
            .ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("no session with id {id}")))?;
        if caller.role != Role::Admin && credential.is_none_or(|credential| credential.user_id != session.user_id) {
            return Err(
                ApiError::new(ErrorCode::PermissionDenied, "only admins may revoke other users' sessions").into()
            );
        }
        self.store.revoke_session(id, self.now()).await.map_err(IdentityError::from)?;
        let entry = AuditRow {
            action: "identity.session.revoke".into(),
            resource_type: "session".into(),
            resource_id: id.to_string(),
            summary: format!("注销会话 {id}"),
            ..AuditRow::default()
        };
        self.audit(&metadata, entry).await;
        Ok(Response::new(pb::RevokeSessionResponse {}))
    }

    /// `CreateApiToken`.
    pub async fn create_api_token(
        &self,
        request: Request<pb::CreateApiTokenRequest>,
    ) -> Result<Response<pb::CreateApiTokenResponse>, Status> {
        let metadata = request.metadata().clone();
        let created_by = Credential::from_metadata(&metadata).map_or(0, |credential| credential.user_id);
        let request = request.into_inner();
        let role = Role::from_proto(request.role).ok_or_else(|| ApiError::invalid("role", "role is required"))?;
        let expires_at = request.expires_at.map(|time| to_millis(&time));
        let issued = self.issue_token(&request.name, role, &request.store_ids, expires_at, created_by).await?;
        let entry = AuditRow {
            action: "identity.token.create".into(),
            resource_type: "api_token".into(),
            resource_id: issued.api_token.id.to_string(),
            summary: format!("创建 API 令牌 {}（{}）", issued.api_token.name, role.label()),
            ..AuditRow::default()
        };
        self.audit(&metadata, entry).await;
        Ok(Response::new(pb::CreateApiTokenResponse { token: issued.token, api_token: Some(issued.api_token) }))
    }

    /// `ListApiTokens`.
    pub async fn list_api_tokens(
        &self,
        request: Request<pb::ListApiTokensRequest>,
    ) -> Result<Response<pb::ListApiTokensResponse>, Status> {
        let request = request.into_inner();
        let limit = page_size(request.page_size)?;
        let before = BeforeId::parse(&request.page_token)?.map(|BeforeId(id)| id);
        let rows = self
            .store
            .list_api_tokens(request.include_revoked, self.now(), before, limit)
            .await
            .map_err(IdentityError::from)?;
        let next_page_token = BeforeId::next_token(rows.last().map(|row| row.id), rows.len(), limit);
        Ok(Response::new(pb::ListApiTokensResponse {
            api_tokens: rows.into_iter().map(convert::api_token).collect(),
            next_page_token,
        }))
    }

    /// `RevokeApiToken`.
    pub async fn revoke_api_token(
        &self,
        request: Request<pb::RevokeApiTokenRequest>,
    ) -> Result<Response<pb::RevokeApiTokenResponse>, Status> {
        let metadata = request.metadata().clone();
        let id = request.into_inner().id;
        let row = self
            .store
            .revoke_api_token(id, self.now())
            .await
            .map_err(IdentityError::from)?
            .ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("no API token with id {id}")))?;
        let entry = AuditRow {
            action: "identity.token.revoke".into(),
            resource_type: "api_token".into(),
            resource_id: id.to_string(),
            summary: format!("吊销 API 令牌 {}", row.name),
            ..AuditRow::default()
        };
        self.audit(&metadata, entry).await;
        Ok(Response::new(pb::RevokeApiTokenResponse { api_token: Some(convert::api_token(row)) }))
    }

    /// `ListAuditLog`.
    pub async fn list_audit_log(
        &self,
        request: Request<pb::ListAuditLogRequest>,
    ) -> Result<Response<pb::ListAuditLogResponse>, Status> {
        let request = request.into_inner();
        let limit = page_size(request.page_size)?;
        let before = BeforeId::parse(&request.page_token)?.map(|BeforeId(id)| id);
        let text = |value: String| Some(value).filter(|value| !value.is_empty());
        let filter = AuditFilter {
            actor_user_id: Some(request.actor_user_id).filter(|id| *id != 0),
            action_prefix: text(request.action_prefix),
            resource_type: text(request.resource_type),
            resource_id: text(request.resource_id),
            since: request.since.as_ref().map(to_millis),
            until: request.until.as_ref().map(to_millis),
        };
        let rows = self.store.list_audit(&filter, before, limit).await.map_err(IdentityError::from)?;
        let next_page_token = BeforeId::next_token(rows.last().map(|row| row.id), rows.len(), limit);
        Ok(Response::new(pb::ListAuditLogResponse {
            entries: rows.into_iter().map(convert::audit_entry).collect(),
            next_page_token,
        }))
    }

    /// `RecordAuditEntry`.
    pub async fn record_audit_entry(
        &self,
        request: Request<pb::RecordAuditEntryRequest>,
    ) -> Result<Response<pb::RecordAuditEntryResponse>, Status> {
        let metadata = request.metadata().clone();
        let request = request.into_inner();
        for (field, value) in [("service", &request.service), ("action", &request.action)] {
            if value.trim().is_empty() || value.len() > 128 {
                return Err(ApiError::invalid(field, format!("{field} must be 1 to 128 characters")).into());
            }
        }
        if request.summary.chars().count() > 500 {
            return Err(ApiError::invalid("summary", "summary must be at most 500 characters").into());
        }
        let entry = AuditRow {
            idempotency_key: request.idempotency_key.chars().take(191).collect(),
            occurred_at: request.occurred_at.as_ref().map_or(0, to_millis),
            service: request.service,
            action: request.action,
            resource_type: request.resource_type,
            resource_id: request.resource_id,
            summary: request.summary,
            before_json: request.before_json,
            after_json: request.after_json,
            ..AuditRow::default()
        };
        let entry = self.with_actor(entry, &metadata).await;
        let id = self.store.insert_audit(&entry).await.map_err(IdentityError::from)?;
        Ok(Response::new(pb::RecordAuditEntryResponse { id }))
    }
}
