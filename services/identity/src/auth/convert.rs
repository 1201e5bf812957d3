//! Rows ↔ protobuf, request checks, and the small text formats of sign-in (store lists, page offsets).

use std::time::{Duration, UNIX_EPOCH};

use scrm_kernel::caller::{Credential, CredentialKind};
use scrm_kernel::{ApiError, Caller, Role};
use scrm_proto::identity::v1 as pb;
use tonic::metadata::MetadataMap;

use super::secret;
use super::store::{ApiTokenRow, AuditRow, NewUser, SessionRow, UserRow};

/// Unix milliseconds as a protobuf timestamp.
pub fn timestamp(millis: i64) -> prost_types::Timestamp {
    prost_types::Timestamp::from(UNIX_EPOCH + Duration::from_millis(millis.max(0) as u64))
}

/// A protobuf timestamp as Unix milliseconds.
pub fn to_millis(time: &prost_types::Timestamp) -> i64 {
    time.seconds.saturating_mul(1000) + i64::from(time.nanos / 1_000_000)
}

/// The stored role of a row; unknown text (never written by scrm) reads as the least powerful role.
pub fn role_of(text: &str) -> Role {
    text.parse().unwrap_or(Role::Koc)
}

/// The stored store scope: kept only for store managers.
pub fn store_ids_text(role: Role, store_ids: &[i64]) -> String {
    if role != Role::StoreManager {
        return String::new();
    }
    store_ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

fn store_ids(text: &str) -> Vec<i64> {
    text.split(',').filter_map(|id| id.parse().ok()).collect()
}

/// The staff id services see for a user: the linked WeCom userid, else `user-<id>`.
pub fn staff_id_of(user: &UserRow) -> String {
    user.userid.clone().filter(|userid| !userid.is_empty()).unwrap_or_else(|| format!("user-{}", user.id))
}

/// The protobuf credential kind.
pub fn credential_kind(kind: CredentialKind) -> pb::CredentialKind {
    match kind {
        CredentialKind::Session => pb::CredentialKind::Session,
        CredentialKind::ApiToken => pb::CredentialKind::ApiToken,
        CredentialKind::Local => pb::CredentialKind::Local,
    }
}

/// The caller a user's credential identifies.
pub fn user_caller(user: &UserRow, kind: pb::CredentialKind, credential_id: i64) -> pb::Caller {
    pb::Caller {
        scrm_user_id: user.id,
        userid: user.userid.clone().unwrap_or_default(),
        display_name: user.display_name.clone(),
        role: role_of(&user.role).to_proto() as i32,
        store_ids: store_ids(&user.store_ids),
        credential_kind: kind as i32,
        credential_id,
    }
}

/// The caller an API token identifies.
pub fn token_caller(token: &ApiTokenRow) -> pb::Caller {
    pb::Caller {
        scrm_user_id: 0,
        userid: String::new(),
        display_name: token.name.clone(),
        role: role_of(&token.role).to_proto() as i32,
        store_ids: store_ids(&token.store_ids),
        credential_kind: pb::CredentialKind::ApiToken as i32,
        credential_id: token.id,
    }
}

/// The caller as only the metadata describes it (the configured local caller, system work).
pub fn metadata_caller(caller: &Caller, credential: Credential) -> pb::Caller {
    pb::Caller {
        scrm_user_id: credential.user_id,
        userid: String::new(),
        display_name: caller.staff_id.clone(),
        role: caller.role.to_proto() as i32,
        store_ids: caller.store_ids.iter().filter_map(|id| id.parse().ok()).collect(),
        credential_kind: credential_kind(credential.kind) as i32,
        credential_id: credential.id,
    }
}

/// A user as the API shows it.
pub fn user(row: &UserRow) -> pb::User {
    pb::User {
        id: row.id,
        username: row.username.clone().unwrap_or_default(),
        display_name: row.display_name.clone(),
        role: role_of(&row.role).to_proto() as i32,
        store_ids: store_ids(&row.store_ids),
        userid: row.userid.clone().unwrap_or_default(),
        password_set: row.password_hash.is_some(),
        must_change_password: row.must_change_password != 0,
        disabled: row.disabled != 0,
        created_at: Some(timestamp(row.created_at)),
        last_login_at: row.last_login_at.map(timestamp),
    }
}

/// A user's audited fields as JSON (never the password hash).
pub fn user_json(row: &UserRow) -> String {
    serde_json::json!({
        "username": row.username,
        "displayName": row.display_name,
        "role": row.role,
        "storeIds": store_ids(&row.store_ids),
        "userid": row.userid,
        "disabled": row.disabled != 0,
    })
    .to_string()
}

/// A session as the API shows it.
pub fn session(row: &SessionRow, current: bool) -> pb::Session {
    pb::Session {
        id: row.id,
        user_id: row.user_id,
        method: row.method,
        ip: row.ip.clone(),
        user_agent: row.user_agent.clone(),
        created_at: Some(timestamp(row.created_at)),
        last_seen_at: Some(timestamp(row.last_seen_at)),
        expires_at: Some(timestamp(row.expires_at)),
        current,
    }
}

/// An API token's metadata as the API shows it.
pub fn api_token(row: ApiTokenRow) -> pb::ApiToken {
    pb::ApiToken {
        id: row.id,
        role: role_of(&row.role).to_proto() as i32,
        store_ids: store_ids(&row.store_ids),
        name: row.name,
        prefix: row.prefix,
        created_by_user_id: row.created_by_user_id,
        created_at: Some(timestamp(row.created_at)),
        last_used_at: row.last_used_at.map(timestamp),
        expires_at: row.expires_at.map(timestamp),
        revoked_at: row.revoked_at.map(timestamp),
    }
}

/// An audit entry as the API shows it.
pub fn audit_entry(row: AuditRow) -> pb::AuditEntry {
    pb::AuditEntry {
        id: row.id,
        occurred_at: Some(timestamp(row.occurred_at)),
        actor_user_id: row.actor_user_id,
        actor_name: row.actor_name,
        actor_role: role_of(&row.actor_role).to_proto() as i32,
        credential_kind: row.credential_kind,
        service: row.service,
        action: row.action,
        resource_type: row.resource_type,
        resource_id: row.resource_id,
        summary: row.summary,
        before_json: row.before_json,
        after_json: row.after_json,
        request_id: row.request_id,
        ip: row.ip,
    }
}

/// Fills an audit entry's actor, time, key and request id from the request metadata.
pub fn with_actor(mut entry: AuditRow, metadata: &MetadataMap, now: i64) -> AuditRow {
    let caller = Caller::from_metadata(metadata).ok();
    let credential = Credential::from_metadata(metadata);
    let text = |key: &str| metadata.get(key).and_then(|value| value.to_str().ok()).unwrap_or_default().to_owned();
    entry.actor_user_id = credential.map_or(0, |credential| credential.user_id);
    entry.credential_kind =
        credential_kind(credential.map_or(CredentialKind::Local, |credential| credential.kind)) as i32;
    if entry.actor_name.is_empty() {
        entry.actor_name = caller.as_ref().map_or_else(|| "系统".to_owned(), |caller| caller.staff_id.clone());
    }
    entry.actor_role = caller.map_or(Role::Admin, |caller| caller.role).as_str().to_owned();
    if entry.occurred_at == 0 {
        entry.occurred_at = now;
    }
    if entry.request_id.is_empty() {
        entry.request_id = text("x-request-id");
    }
    if entry.ip.is_empty() {
        entry.ip = text("x-forwarded-for").split(',').next().unwrap_or_default().trim().to_owned();
    }
    if entry.idempotency_key.is_empty() {
        entry.idempotency_key = uuid::Uuid::new_v4().to_string();
    }
    entry
}

/// Reads an offset page token; empty means the first page.
pub fn parse_offset(page_token: &str) -> Result<i64, ApiError> {
    if page_token.is_empty() {
        return Ok(0);
    }
    page_token
        .strip_prefix("offset:")
        .and_then(|offset| offset.parse().ok())
        .filter(|offset: &i64| *offset >= 0)
        .ok_or_else(|| ApiError::invalid("page_token", "page_token is not one this server issued"))
}

/// The token of the page after one that started at `offset`; empty when the page was not full.
pub fn next_offset(offset: i64, page_len: usize, page_size: u32) -> String {
    if page_len == page_size as usize { format!("offset:{}", offset + page_len as i64) } else { String::new() }
}

/// Percent-encodes a URL for a query parameter.
pub fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (byte as char).to_string(),
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

fn valid_username(username: &str) -> bool {
    (3..=32).contains(&username.len())
        && username.bytes().all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b'-'))
}

/// Checks a CreateUser request and builds the user to insert.
pub fn new_user(request: &pb::CreateUserRequest) -> Result<NewUser, ApiError> {
    let role = Role::from_proto(request.role).ok_or_else(|| ApiError::invalid("role", "role is required"))?;
    let username = request.username.trim();
    let userid = request.userid.trim();
    if username.is_empty() && userid.is_empty() {
        return Err(ApiError::invalid("username", "give a username (with a password), a WeCom userid, or both"));
    }
    if !username.is_empty() && !valid_username(username) {
        return Err(ApiError::invalid("username", "username must be 3 to 32 letters, digits, `.`, `_` or `-`"));
    }
    if !username.is_empty() && request.password.chars().count() < secret::MIN_PASSWORD_LEN {
        return Err(ApiError::invalid(
            "password",
            format!("password must be at least {} characters", secret::MIN_PASSWORD_LEN),
        ));
    }
    if role == Role::StoreManager && request.store_ids.is_empty() {
        return Err(ApiError::invalid("store_ids", "a store manager needs at least one store"));
    }
    let display_name = match request.display_name.trim() {
        "" if username.is_empty() => userid,
        "" => username,
        name => name,
    };
    Ok(NewUser {
        username: Some(username.to_owned()).filter(|name| !name.is_empty()),
        display_name: display_name.chars().take(64).collect(),
        role: role.as_str().to_owned(),
        store_ids: store_ids_text(role, &request.store_ids),
        userid: Some(userid.to_owned()).filter(|userid| !userid.is_empty()),
        password_hash: (!username.is_empty()).then(|| secret::hash_password(&request.password)),
        must_change_password: !username.is_empty(),
    })
}

/// Applies an UpdateUser request to a user.
pub fn apply_update(mut user: UserRow, request: &pb::UpdateUserRequest) -> Result<UserRow, ApiError> {
    if let Some(name) = &request.display_name {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 64 {
            return Err(ApiError::invalid("display_name", "display_name must be 1 to 64 characters"));
        }
        user.display_name = name.to_owned();
    }
    if let Some(role) = request.role {
        let role = Role::from_proto(role).ok_or_else(|| ApiError::invalid("role", "role is not a known role"))?;
        user.role = role.as_str().to_owned();
    }
    let role = role_of(&user.role);
    if request.update_store_ids {
        user.store_ids = store_ids_text(role, &request.store_ids);
    } else if role != Role::StoreManager {
        user.store_ids = String::new();
    }
    if role == Role::StoreManager && user.store_ids.is_empty() {
        return Err(ApiError::invalid("store_ids", "a store manager needs at least one store"));
    }
    if let Some(userid) = &request.userid {
        user.userid = Some(userid.trim().to_owned()).filter(|userid| !userid.is_empty());
    }
    if let Some(disabled) = request.disabled {
        user.disabled = i32::from(disabled);
    }
    Ok(user)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> pb::CreateUserRequest {
        pb::CreateUserRequest {
            username: "zhang.san".into(),
            password: "long enough!".into(),
            display_name: String::new(),
            role: pb::Role::StoreManager as i32,
            store_ids: vec![3],
            userid: String::new(),
        }
    }

    #[test]
    fn create_user_requests_name_the_bad_field() {
        let field = |request: pb::CreateUserRequest| new_user(&request).unwrap_err().field.unwrap();
        assert_eq!(field(pb::CreateUserRequest { role: 0, ..request() }), "role");
        assert_eq!(field(pb::CreateUserRequest { username: "张三".into(), ..request() }), "username");
        assert_eq!(field(pb::CreateUserRequest { password: "short".into(), ..request() }), "password");
        assert_eq!(field(pb::CreateUserRequest { store_ids: vec![], ..request() }), "store_ids");
        assert_eq!(field(pb::CreateUserRequest { username: String::new(), ..request() }), "username");
        let user = new_user(&request()).unwrap();
        assert_eq!((user.display_name.as_str(), user.store_ids.as_str()), ("zhang.san", "3"));
        assert!(user.must_change_password);
        let wecom = new_user(&pb::CreateUserRequest {
            username: String::new(),
            userid: "lisi".into(),
            role: pb::Role::Support as i32,
            ..request()
        })
        .unwrap();
        assert_eq!((wecom.username, wecom.password_hash, wecom.store_ids.as_str()), (None, None, ""));
    }

    #[test]
    fn offsets_round_trip() {
        assert_eq!(parse_offset("").unwrap(), 0);
        assert_eq!(parse_offset(&next_offset(20, 20, 20)).unwrap(), 40);
        assert_eq!(next_offset(0, 3, 20), "");
        assert_eq!(parse_offset("offset:-1").unwrap_err().field.as_deref(), Some("page_token"));
    }

    #[test]
    fn urls_are_encoded_for_query_parameters() {
        assert_eq!(url_encode("http://a.b/login?x=1"), "http%3A%2F%2Fa.b%2Flogin%3Fx%3D1");
    }
}
