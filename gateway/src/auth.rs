//! Browser sign-in under `/api/auth/`: the gateway calls `IdentityService.Login` and keeps the session
//! token out of JavaScript's reach in an HttpOnly cookie. The CSRF token goes in a readable cookie that
//! the web admin echoes in the `x-csrf-token` header on state-changing calls.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use scrm_kernel::caller::CALLER_KEYS;
use scrm_kernel::{ApiError, Clients, ErrorCode};
use scrm_proto::identity::v1::{
    GetCurrentUserRequest, GetWecomLoginUrlRequest, LoginRequest, LogoutRequest, PasswordCredential, User,
    WecomCodeCredential, WecomLoginKind, login_request,
};
use serde::{Deserialize, Serialize};
use tonic::metadata::MetadataMap;

use crate::caller::{CSRF_COOKIE, SESSION_COOKIE};
use crate::rest::RestError;

/// The `/api/auth` routes.
pub fn router() -> Router<Clients> {
    Router::new()
        .route("/login", post(login))
        .route("/logout", post(logout))
        .route("/me", get(me))
        .route("/wecom-url", get(wecom_url))
}

/// `POST /api/auth/login`: a username and password, or the `code` and `state` WeCom sent back.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LoginBody {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    state: String,
}

/// A user as the web admin reads it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct UserBody {
    id: i64,
    username: String,
    display_name: String,
    role: String,
    store_ids: Vec<i64>,
    userid: String,
    must_change_password: bool,
}

impl From<User> for UserBody {
    fn from(user: User) -> Self {
        let role = scrm_kernel::Role::from_proto(user.role).map_or("", |role| role.as_str()).to_owned();
        UserBody {
            id: user.id,
            username: user.username,
            display_name: user.display_name,
            role,
            store_ids: user.store_ids,
            userid: user.userid,
            must_change_password: user.must_change_password,
        }
    }
}

/// Answer of a successful sign-in.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct LoginAnswer {
    user: Option<UserBody>,
    csrf_token: String,
    expires_at: Option<String>,
}

async fn login(
    State(clients): State<Clients>,
    headers: HeaderMap,
    Json(body): Json<LoginBody>,
) -> Result<Response, RestError> {
    let credential = if !body.code.is_empty() {
        login_request::Credential::WecomCode(WecomCodeCredential { code: body.code, state: body.state })
    } else {
        if body.username.trim().is_empty() {
            return Err(ApiError::invalid("username", "请输入用户名").into());
        }
        if body.password.is_empty() {
            return Err(ApiError::invalid("password", "请输入密码").into());
        }
        login_request::Credential::Password(PasswordCredential { username: body.username, password: body.password })
    };
    let request = LoginRequest {
        credential: Some(credential),
        user_agent: text(&headers, header::USER_AGENT.as_str()).chars().take(512).collect(),
        ip: client_ip(&headers),
    };
    let answer = clients.identity.clone().login(request).await?.into_inner();
    let max_age = answer.expires_at.map_or(0, |expires| {
        expires.seconds
            - std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |now| now.as_secs() as i64)
    });
    let secure = if text(&headers, "x-forwarded-proto") == "https" { "; Secure" } else { "" };
    let session =
        format!("{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}", answer.session_token);
    let csrf = format!("{CSRF_COOKIE}={}; Path=/; SameSite=Lax; Max-Age={max_age}{secure}", answer.csrf_token);
    let body = LoginAnswer {
        user: answer.user.map(UserBody::from),
        csrf_token: answer.csrf_token,
        expires_at: answer.expires_at.map(|time| time.to_string()),
    };
    let mut response = Json(body).into_response();
    for cookie in [session, csrf] {
        let value =
            HeaderValue::from_str(&cookie).map_err(|_| ApiError::new(ErrorCode::Internal, "unprintable cookie"))?;
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    Ok(response)
}

async fn logout(State(clients): State<Clients>, headers: HeaderMap) -> Result<Response, RestError> {
    clients.identity.clone().logout(with_caller(&headers, LogoutRequest {})).await?;
    let mut response = Json(serde_json::json!({})).into_response();
    for name in [SESSION_COOKIE, CSRF_COOKIE] {
        let cookie = HeaderValue::from_str(&format!("{name}=; Path=/; Max-Age=0"))
            .map_err(|_| ApiError::new(ErrorCode::Internal, "unprintable cookie"))?;
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

/// Answer of `GET /api/auth/me`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct MeAnswer {
    user: Option<UserBody>,
    display_name: String,
    role: String,
    store_ids: Vec<i64>,
    permissions: Vec<String>,
}

async fn me(State(clients): State<Clients>, headers: HeaderMap) -> Result<Json<MeAnswer>, RestError> {
    let answer =
        clients.identity.clone().get_current_user(with_caller(&headers, GetCurrentUserRequest {})).await?.into_inner();
    let caller = answer.caller.unwrap_or_default();
    Ok(Json(MeAnswer {
        user: answer.user.map(UserBody::from),
        display_name: caller.display_name,
        role: scrm_kernel::Role::from_proto(caller.role).map_or("", |role| role.as_str()).to_owned(),
        store_ids: caller.store_ids,
        permissions: answer.permissions,
    }))
}

/// `GET /api/auth/wecom-url?redirect=<url>[&kind=oauth]`: where to send the browser for WeCom sign-in: the
/// QR-code page for ordinary browsers, or with `kind=oauth` the OAuth page for pages opened inside WeCom
/// (the sidebar).
#[derive(Debug, Deserialize)]
struct WecomUrlQuery {
    redirect: String,
    #[serde(default)]
    kind: String,
}

/// Answer of `GET /api/auth/wecom-url`.
#[derive(Debug, Serialize)]
struct WecomUrlAnswer {
    url: String,
    state: String,
}

async fn wecom_url(
    State(clients): State<Clients>,
    Query(query): Query<WecomUrlQuery>,
) -> Result<Json<WecomUrlAnswer>, RestError> {
    let kind = match query.kind.as_str() {
        "" | "qr" => WecomLoginKind::Qr,
        "oauth" => WecomLoginKind::Oauth,
        other => return Err(ApiError::invalid("kind", format!("kind is qr or oauth, not {other}")).into()),
    };
    let request = GetWecomLoginUrlRequest { redirect_uri: query.redirect, kind: kind as i32 };
    let answer = clients.identity.clone().get_wecom_login_url(request).await?.into_inner();
    Ok(Json(WecomUrlAnswer { url: answer.url, state: answer.state }))
}

/// `message` with the caller metadata the caller layer put on this request.
fn with_caller<T>(headers: &HeaderMap, message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    let mut caller = HeaderMap::new();
    for key in CALLER_KEYS {
        if let Some(value) = headers.get(key) {
            caller.insert(key, value.clone());
        }
    }
    *request.metadata_mut() = MetadataMap::from_headers(caller);
    request
}

fn text<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers.get(name).and_then(|value| value.to_str().ok()).unwrap_or_default()
}

fn client_ip(headers: &HeaderMap) -> String {
    text(headers, "x-forwarded-for").split(',').next().unwrap_or_default().trim().chars().take(64).collect()
}
