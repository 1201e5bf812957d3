//! The tables of sign-in: users, sessions, API tokens, the audit log and WeCom sign-in states.

use scrm_storage::Db;
use sqlx::any::AnyRow;
use sqlx::{Any, FromRow, QueryBuilder};

/// A stored user.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct UserRow {
    /// Id minted by the database.
    pub id: i64,
    /// Login name; `None` for WeCom-only users.
    pub username: Option<String>,
    /// Name shown in the admin.
    pub display_name: String,
    /// Role id, e.g. `store_manager`.
    pub role: String,
    /// Store scope, comma-separated store ids.
    pub store_ids: String,
    /// Linked WeCom `userid`.
    pub userid: Option<String>,
    /// argon2 PHC hash; `None` when no password is set.
    pub password_hash: Option<String>,
    /// 1 when the password must be changed at next sign-in.
    pub must_change_password: i32,
    /// 1 when the user may not sign in.
    pub disabled: i32,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Unix milliseconds of the last sign-in.
    pub last_login_at: Option<i64>,
}

/// A user to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    /// Login name, if any.
    pub username: Option<String>,
    /// Name shown in the admin.
    pub display_name: String,
    /// Role id.
    pub role: String,
    /// Comma-separated store ids.
    pub store_ids: String,
    /// Linked WeCom `userid`, if any.
    pub userid: Option<String>,
    /// argon2 hash, if a password is set.
    pub password_hash: Option<String>,
    /// Whether the password must be changed at next sign-in.
    pub must_change_password: bool,
}

/// A stored session.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct SessionRow {
    /// Id minted by the database.
    pub id: i64,
    /// The signed-in user.
    pub user_id: i64,
    /// CSRF token echoed by the browser on state-changing calls.
    pub csrf_token: String,
    /// `LoginMethod` value.
    pub method: i32,
    /// Client IP at sign-in.
    pub ip: String,
    /// Browser user agent at sign-in.
    pub user_agent: String,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Unix milliseconds.
    pub last_seen_at: i64,
    /// Unix milliseconds.
    pub expires_at: i64,
    /// Unix milliseconds; `None` while open.
    pub revoked_at: Option<i64>,
}

/// A stored API token (never its value).
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct ApiTokenRow {
    /// Id minted by the database.
    pub id: i64,
    /// Name given at creation.
    pub name: String,
    /// Role id the token acts with.
    pub role: String,
    /// Comma-separated store ids.
    pub store_ids: String,
    /// First characters of the token.
    pub prefix: String,
    /// Creating user; 0 for the CLI.
    pub created_by_user_id: i64,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Unix milliseconds.
    pub last_used_at: Option<i64>,
    /// Unix milliseconds.
    pub expires_at: Option<i64>,
    /// Unix milliseconds.
    pub revoked_at: Option<i64>,
}

/// An audit log entry, stored or to store (`id` is ignored on insert).
#[derive(Debug, Clone, Default, PartialEq, Eq, FromRow)]
pub struct AuditRow {
    /// Id minted by the database.
    pub id: i64,
    /// Key making retries harmless.
    pub idempotency_key: String,
    /// Unix milliseconds.
    pub occurred_at: i64,
    /// Acting user; 0 for none.
    pub actor_user_id: i64,
    /// Actor's name at the time.
    pub actor_name: String,
    /// Actor's role id at the time.
    pub actor_role: String,
    /// `CredentialKind` value.
    pub credential_kind: i32,
    /// Service that made the change.
    pub service: String,
    /// Dotted action name.
    pub action: String,
    /// Kind of resource changed.
    pub resource_type: String,
    /// Id of the resource changed.
    pub resource_id: String,
    /// One-line Chinese summary.
    pub summary: String,
    /// JSON before the change.
    pub before_json: String,
    /// JSON after the change.
    pub after_json: String,
    /// Request id of the call.
    pub request_id: String,
    /// Client IP address.
    pub ip: String,
}

/// Which audit entries to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Only this actor.
    pub actor_user_id: Option<i64>,
    /// Only actions with this prefix.
    pub action_prefix: Option<String>,
    /// Only this resource type.
    pub resource_type: Option<String>,
    /// Only this resource id.
    pub resource_id: Option<String>,
    /// At or after, Unix milliseconds.
    pub since: Option<i64>,
    /// Before, Unix milliseconds.
    pub until: Option<i64>,
}

const USER_COLUMNS: &str = "id, username, display_name, role, store_ids, userid, password_hash, \
     must_change_password, disabled, created_at, last_login_at";
const SESSION_COLUMNS: &str =
    "id, user_id, csrf_token, method, ip, user_agent, created_at, last_seen_at, expires_at, revoked_at";
const TOKEN_COLUMNS: &str =
    "id, name, role, store_ids, prefix, created_by_user_id, created_at, last_used_at, expires_at, revoked_at";
const AUDIT_COLUMNS: &str = "id, idempotency_key, occurred_at, actor_user_id, actor_name, actor_role, \
     credential_kind, service, action, resource_type, resource_id, summary, before_json, after_json, request_id, ip";

/// A sign-in table read one row at a time: its row type, name and columns.
trait Table: for<'r> FromRow<'r, AnyRow> + Send + Unpin {
    /// The table's name.
    const NAME: &'static str;
    /// The columns the row type reads.
    const COLUMNS: &'static str;
}

impl Table for UserRow {
    const NAME: &'static str = "identity_user";
    const COLUMNS: &'static str = USER_COLUMNS;
}

impl Table for SessionRow {
    const NAME: &'static str = "identity_session";
    const COLUMNS: &'static str = SESSION_COLUMNS;
}

impl Table for ApiTokenRow {
    const NAME: &'static str = "identity_api_token";
    const COLUMNS: &'static str = TOKEN_COLUMNS;
}

/// Reads and writes the sign-in tables.
#[derive(Debug, Clone)]
pub struct AuthStore {
    db: Db,
}

impl AuthStore {
    /// A store over `db`.
    pub fn new(db: Db) -> Self {
        AuthStore { db }
    }

    /// The row of table `T` whose `column` (a unique key) equals `value`.
    async fn row_where<T, V>(&self, column: &'static str, value: V) -> Result<Option<T>, sqlx::Error>
    where
        T: Table,
        V: for<'q> sqlx::Encode<'q, Any> + sqlx::Type<Any> + Send + 'static,
    {
        let query = format!("SELECT {} FROM {} WHERE {column} = ?", T::COLUMNS, T::NAME);
        sqlx::query_as(sqlx::AssertSqlSafe(query)).bind(value).fetch_optional(self.db.pool()).await
    }

    /// The row of table `T` just inserted under `token_hash`.
    async fn inserted<T: Table>(&self, token_hash: &str) -> Result<T, sqlx::Error> {
        self.row_where("token_hash", token_hash.to_owned()).await?.ok_or(sqlx::Error::RowNotFound)
    }

    /// Revokes row `id` of table `T` unless it already is.
    async fn revoke<T: Table>(&self, id: i64, now: i64) -> Result<(), sqlx::Error> {
        let update = format!("UPDATE {} SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", T::NAME);
        sqlx::query(sqlx::AssertSqlSafe(update)).bind(now).bind(id).execute(self.db.pool()).await.map(drop)
    }

    /// How many users exist.
    pub async fn count_users(&self) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar("SELECT COUNT(*) FROM identity_user").fetch_one(self.db.pool()).await
    }

    /// Creates a user; `None` when the username or userid is taken.
    pub async fn insert_user(&self, user: &NewUser, now: i64) -> Result<Option<UserRow>, sqlx::Error> {
        let taken = self.user_by_username_or_userid(user.username.as_deref(), user.userid.as_deref()).await?;
        if taken.is_some() {
            return Ok(None);
        }
        let result = sqlx::query(
            "INSERT INTO identity_user (username, display_name, role, store_ids, userid, password_hash, \
             must_change_password, disabled, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)",
        )
        .bind(user.username.clone())
        .bind(&user.display_name)
        .bind(&user.role)
        .bind(&user.store_ids)
        .bind(user.userid.clone())
        .bind(user.password_hash.clone())
        .bind(i32::from(user.must_change_password))
        .bind(now)
        .execute(self.db.pool())
        .await;
        match result {
            Ok(_) => self.user_by_username_or_userid(user.username.as_deref(), user.userid.as_deref()).await,
            Err(sqlx::Error::Database(error)) if error.is_unique_violation() => Ok(None),
            Err(error) => Err(error),
        }
    }

    async fn user_by_username_or_userid(
        &self,
        username: Option<&str>,
        userid: Option<&str>,
    ) -> Result<Option<UserRow>, sqlx::Error> {
        if let Some(username) = username
            && let Some(user) = self.user_by("username", username).await?
        {
            return Ok(Some(user));
        }
        match userid {
            Some(userid) => self.user_by("userid", userid).await,
            None => Ok(None),
        }
    }

    /// The user with this login name.
    pub async fn user_by_username(&self, username: &str) -> Result<Option<UserRow>, sqlx::Error> {
        self.user_by("username", username).await
    }

    /// The user linked to this WeCom userid.
    pub async fn user_by_userid(&self, userid: &str) -> Result<Option<UserRow>, sqlx::Error> {
        self.user_by("userid", userid).await
    }

    async fn user_by(&self, column: &'static str, value: &str) -> Result<Option<UserRow>, sqlx::Error> {
        self.row_where(column, value.to_owned()).await
    }

    /// One user by id.
    pub async fn user(&self, id: i64) -> Result<Option<UserRow>, sqlx::Error> {
        self.row_where("id", id).await
    }

    /// Users matching the filters, ordered by display name then id, `offset` rows skipped.
    pub async fn list_users(
        &self,
        role: Option<&str>,
        query: &str,
        include_disabled: bool,
        offset: i64,
        limit: u32,
    ) -> Result<Vec<UserRow>, sqlx::Error> {
        let mut builder = QueryBuilder::new(format!("SELECT {USER_COLUMNS} FROM identity_user WHERE 1 = 1"));
        if let Some(role) = role {
            builder.push(" AND role = ").push_bind(role.to_owned());
        }
        if !include_disabled {
            builder.push(" AND disabled = 0");
        }
        if !query.is_empty() {
            let pattern = format!("%{}%", query.to_lowercase());
            builder.push(" AND (LOWER(COALESCE(username, '')) LIKE ").push_bind(pattern.clone());
            builder.push(" OR LOWER(display_name) LIKE ").push_bind(pattern.clone());
            builder.push(" OR LOWER(COALESCE(userid, '')) LIKE ").push_bind(pattern).push(")");
        }
        builder.push(" ORDER BY display_name, id LIMIT ").push_bind(i64::from(limit));
        builder.push(" OFFSET ").push_bind(offset);
        builder.build_query_as().fetch_all(self.db.pool()).await
    }

    /// Writes back a user's changeable fields.
    pub async fn update_user(&self, user: &UserRow) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE identity_user SET display_name = ?, role = ?, store_ids = ?, userid = ?, password_hash = ?, \
             must_change_password = ?, disabled = ?, last_login_at = ? WHERE id = ?",
        )
        .bind(&user.display_name)
        .bind(&user.role)
        .bind(&user.store_ids)
        .bind(user.userid.clone())
        .bind(user.password_hash.clone())
        .bind(user.must_change_password)
        .bind(user.disabled)
        .bind(user.last_login_at)
        .bind(user.id)
        .execute(self.db.pool())
        .await
        .map(drop)
    }

    /// Opens a session under the digest of its token.
    pub async fn insert_session(&self, token_hash: &str, session: &SessionRow) -> Result<SessionRow, sqlx::Error> {
        sqlx::query(
            "INSERT INTO identity_session (user_id, token_hash, csrf_token, method, ip, user_agent, created_at, \
             last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(session.user_id)
        .bind(token_hash)
        .bind(&session.csrf_token)
        .bind(session.method)
        .bind(&session.ip)
        .bind(&session.user_agent)
        .bind(session.created_at)
        .bind(session.last_seen_at)
        .bind(session.expires_at)
        .execute(self.db.pool())
        .await?;
        self.inserted(token_hash).await
    }

    /// The session stored under this token digest, revoked or not.
    pub async fn session_by_hash(&self, token_hash: &str) -> Result<Option<SessionRow>, sqlx::Error> {
        self.row_where("token_hash", token_hash.to_owned()).await
    }

    /// One session by id.
    pub async fn session(&self, id: i64) -> Result<Option<SessionRow>, sqlx::Error> {
        self.row_where("id", id).await
    }

    /// Records a use of a session and slides its expiry.
    pub async fn touch_session(&self, id: i64, now: i64, expires_at: i64) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE identity_session SET last_seen_at = ?, expires_at = ? WHERE id = ?")
            .bind(now)
            .bind(expires_at)
            .bind(id)
            .execute(self.db.pool())
            .await
            .map(drop)
    }

    /// Open sessions of a user, most recently used first, `offset` rows skipped.
    pub async fn list_sessions(
        &self,
        user_id: i64,
        now: i64,
        offset: i64,
        limit: u32,
    ) -> Result<Vec<SessionRow>, sqlx::Error> {
        let query = format!(
            "SELECT {SESSION_COLUMNS} FROM identity_session WHERE user_id = ? AND revoked_at IS NULL \
             AND expires_at > ? ORDER BY last_seen_at DESC, id DESC LIMIT ? OFFSET ?"
        );
        sqlx::query_as(sqlx::AssertSqlSafe(query))
            .bind(user_id)
            .bind(now)
            .bind(i64::from(limit))
            .bind(offset)
            .fetch_all(self.db.pool())
            .await
    }

    /// Revokes one session; revoking twice changes nothing.
    pub async fn revoke_session(&self, id: i64, now: i64) -> Result<(), sqlx::Error> {
        self.revoke::<SessionRow>(id, now).await
    }

    /// Revokes every open session of a user except `keep` (0 keeps none).
    pub async fn revoke_user_sessions(&self, user_id: i64, keep: i64, now: i64) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE identity_session SET revoked_at = ? WHERE user_id = ? AND id <> ? AND revoked_at IS NULL")
            .bind(now)
            .bind(user_id)
            .bind(keep)
            .execute(self.db.pool())
            .await
            .map(drop)
    }

    /// Stores an API token under the digest of its value.
    pub async fn insert_api_token(&self, token_hash: &str, token: &ApiTokenRow) -> Result<ApiTokenRow, sqlx::Error> {
        sqlx::query(
            "INSERT INTO identity_api_token (name, role, store_ids, prefix, token_hash, created_by_user_id, \
             created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&token.name)
        .bind(&token.role)
        .bind(&token.store_ids)
        .bind(&token.prefix)
        .bind(token_hash)
        .bind(token.created_by_user_id)
        .bind(token.created_at)
        .bind(token.expires_at)
        .execute(self.db.pool())
        .await?;
        self.inserted(token_hash).await
    }

    /// The API token stored under this digest, revoked or not.
    pub async fn api_token_by_hash(&self, token_hash: &str) -> Result<Option<ApiTokenRow>, sqlx::Error> {
        self.row_where("token_hash", token_hash.to_owned()).await
    }

    /// One API token by id.
    pub async fn api_token(&self, id: i64) -> Result<Option<ApiTokenRow>, sqlx::Error> {
        self.row_where("id", id).await
    }

    /// API tokens newest first with ids below `before`; revoked and expired ones only when asked.
    pub async fn list_api_tokens(
        &self,
        include_revoked: bool,
        now: i64,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<ApiTokenRow>, sqlx::Error> {
        let mut builder = QueryBuilder::new(format!("SELECT {TOKEN_COLUMNS} FROM identity_api_token WHERE 1 = 1"));
        if !include_revoked {
            builder.push(" AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ").push_bind(now).push(")");
        }
        if let Some(before) = before {
            builder.push(" AND id < ").push_bind(before);
        }
        builder.push(" ORDER BY id DESC LIMIT ").push_bind(i64::from(limit));
        builder.build_query_as().fetch_all(self.db.pool()).await
    }

    /// Records a use of an API token.
    pub async fn touch_api_token(&self, id: i64, now: i64) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE identity_api_token SET last_used_at = ? WHERE id = ?")
            .bind(now)
            .bind(id)
            .execute(self.db.pool())
            .await
            .map(drop)
    }

    /// Revokes an API token; revoking twice keeps the first time.
    pub async fn revoke_api_token(&self, id: i64, now: i64) -> Result<Option<ApiTokenRow>, sqlx::Error> {
        self.revoke::<ApiTokenRow>(id, now).await?;
        self.api_token(id).await
    }

    /// Appends an audit entry unless its idempotency key is already there; returns the entry's id.
    pub async fn insert_audit(&self, entry: &AuditRow) -> Result<i64, sqlx::Error> {
        let insert = format!(
            "{} INTO identity_audit_log (idempotency_key, occurred_at, actor_user_id, actor_name, actor_role, \
             credential_kind, service, action, resource_type, resource_id, summary, before_json, after_json, \
             request_id, ip) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            self.db.dialect().insert_ignore()
        );
        sqlx::query(sqlx::AssertSqlSafe(insert))
            .bind(&entry.idempotency_key)
            .bind(entry.occurred_at)
            .bind(entry.actor_user_id)
            .bind(&entry.actor_name)
            .bind(&entry.actor_role)
            .bind(entry.credential_kind)
            .bind(&entry.service)
            .bind(&entry.action)
            .bind(&entry.resource_type)
            .bind(&entry.resource_id)
            .bind(&entry.summary)
            .bind(&entry.before_json)
            .bind(&entry.after_json)
            .bind(&entry.request_id)
            .bind(&entry.ip)
            .execute(self.db.pool())
            .await?;
        sqlx::query_scalar("SELECT id FROM identity_audit_log WHERE idempotency_key = ?")
            .bind(&entry.idempotency_key)
            .fetch_one(self.db.pool())
            .await
    }

    /// Audit entries matching `filter`, newest first, with ids below `before`.
    pub async fn list_audit(
        &self,
        filter: &AuditFilter,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AuditRow>, sqlx::Error> {
        let mut builder = QueryBuilder::new(format!("SELECT {AUDIT_COLUMNS} FROM identity_audit_log WHERE 1 = 1"));
        if let Some(actor) = filter.actor_user_id {
            builder.push(" AND actor_user_id = ").push_bind(actor);
        }
        if let Some(prefix) = &filter.action_prefix {
            builder.push(" AND action LIKE ").push_bind(format!("{}%", prefix.replace(['%', '_'], "")));
        }
        if let Some(resource_type) = &filter.resource_type {
            builder.push(" AND resource_type = ").push_bind(resource_type.clone());
        }
        if let Some(resource_id) = &filter.resource_id {
            builder.push(" AND resource_id = ").push_bind(resource_id.clone());
        }
        if let Some(since) = filter.since {
            builder.push(" AND occurred_at >= ").push_bind(since);
        }
        if let Some(until) = filter.until {
            builder.push(" AND occurred_at < ").push_bind(until);
        }
        if let Some(before) = before {
            builder.push(" AND id < ").push_bind(before);
        }
        builder.push(" ORDER BY id DESC LIMIT ").push_bind(i64::from(limit));
        builder.build_query_as().fetch_all(self.db.pool()).await
    }

    /// Stores a one-time WeCom sign-in state.
    pub async fn insert_login_state(&self, state: &str, expires_at: i64) -> Result<(), sqlx::Error> {
        sqlx::query("INSERT INTO identity_login_state (state, expires_at) VALUES (?, ?)")
            .bind(state)
            .bind(expires_at)
            .execute(self.db.pool())
            .await
            .map(drop)
    }

    /// Consumes a WeCom sign-in state: true when it existed and had not expired.
    pub async fn take_login_state(&self, state: &str, now: i64) -> Result<bool, sqlx::Error> {
        let deleted = sqlx::query("DELETE FROM identity_login_state WHERE state = ? AND expires_at > ?")
            .bind(state)
            .bind(now)
            .execute(self.db.pool())
            .await?
            .rows_affected();
        sqlx::query("DELETE FROM identity_login_state WHERE expires_at <= ?").bind(now).execute(self.db.pool()).await?;
        Ok(deleted == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn store(db: Db) -> AuthStore {
        db.migrate(&crate::MIGRATIONS).await.unwrap();
        AuthStore::new(db)
    }

    fn new_user(username: &str, userid: Option<&str>) -> NewUser {
        NewUser {
            username: Some(username.to_owned()),
            display_name: username.to_owned(),
            role: "operator".to_owned(),
            store_ids: String::new(),
            userid: userid.map(str::to_owned),
            password_hash: Some("hash".to_owned()),
            must_change_password: true,
        }
    }

    async fn users_are_unique_by_username_and_userid(db: Db) {
        let store = store(db).await;
        let alice = store.insert_user(&new_user("alice", Some("u1")), 1_000).await.unwrap().unwrap();
        assert_eq!((alice.username.as_deref(), alice.must_change_password), (Some("alice"), 1));
        assert_eq!(store.insert_user(&new_user("alice", None), 1_000).await.unwrap(), None);
        assert_eq!(store.insert_user(&new_user("bob", Some("u1")), 1_000).await.unwrap(), None);
        let wecom_only = NewUser { username: None, userid: Some("u2".into()), ..new_user("x", None) };
        let carol = store.insert_user(&wecom_only, 1_000).await.unwrap().unwrap();
        assert_eq!(store.user_by_userid("u2").await.unwrap().unwrap().id, carol.id);
        assert_eq!(store.count_users().await.unwrap(), 2);

        let mut changed = alice.clone();
        changed.disabled = 1;
        changed.role = "admin".into();
        store.update_user(&changed).await.unwrap();
        assert_eq!(store.user(alice.id).await.unwrap().unwrap(), changed);
        assert_eq!(store.list_users(None, "", false, 0, 10).await.unwrap().len(), 1);
        assert_eq!(store.list_users(None, "ALI", true, 0, 10).await.unwrap()[0].id, alice.id);
        assert_eq!(store.list_users(Some("admin"), "", true, 0, 10).await.unwrap().len(), 1);
        assert_eq!(store.list_users(None, "", true, 1, 10).await.unwrap().len(), 1);
    }

    async fn sessions_open_slide_and_revoke(db: Db) {
        let store = store(db).await;
        let session = SessionRow {
            id: 0,
            user_id: 7,
            csrf_token: "csrf".into(),
            method: 1,
            ip: "127.0.0.1".into(),
            user_agent: "test".into(),
            created_at: 1_000,
            last_seen_at: 1_000,
            expires_at: 5_000,
            revoked_at: None,
        };
        let first = store.insert_session("h1", &session).await.unwrap();
        let second = store.insert_session("h2", &session).await.unwrap();
        assert_eq!(store.session_by_hash("h1").await.unwrap().unwrap().id, first.id);
        store.touch_session(first.id, 2_000, 9_000).await.unwrap();
        assert_eq!(store.session(first.id).await.unwrap().unwrap().expires_at, 9_000);
        assert_eq!(store.list_sessions(7, 6_000, 0, 10).await.unwrap().len(), 1, "the second expired at 5 000");
        assert_eq!(store.list_sessions(7, 1_500, 0, 10).await.unwrap()[0].id, first.id, "most recently used first");
        store.revoke_user_sessions(7, second.id, 3_000).await.unwrap();
        assert_eq!(store.session(first.id).await.unwrap().unwrap().revoked_at, Some(3_000));
        assert_eq!(store.session(second.id).await.unwrap().unwrap().revoked_at, None);
        store.revoke_session(second.id, 4_000).await.unwrap();
        store.revoke_session(second.id, 4_500).await.unwrap();
        assert_eq!(store.session(second.id).await.unwrap().unwrap().revoked_at, Some(4_000));
    }

    async fn api_tokens_are_found_by_digest_and_revoked_once(db: Db) {
        let store = store(db).await;
        let token = ApiTokenRow {
            id: 0,
            name: "数据中台".into(),
            role: "operator".into(),
            store_ids: String::new(),
            prefix: "scrm_ab12".into(),
            created_by_user_id: 0,
            created_at: 1_000,
            last_used_at: None,
            expires_at: None,
            revoked_at: None,
        };
        let first = store.insert_api_token("d1", &token).await.unwrap();
        let second = store.insert_api_token("d2", &ApiTokenRow { expires_at: Some(2_000), ..token }).await.unwrap();
        assert_eq!(store.api_token_by_hash("d1").await.unwrap().unwrap().name, "数据中台");
        store.touch_api_token(first.id, 1_500).await.unwrap();
        assert_eq!(store.api_token(first.id).await.unwrap().unwrap().last_used_at, Some(1_500));
        let ids = |rows: Vec<ApiTokenRow>| rows.into_iter().map(|row| row.id).collect::<Vec<_>>();
        assert_eq!(ids(store.list_api_tokens(false, 1_800, None, 10).await.unwrap()), [second.id, first.id]);
        assert_eq!(ids(store.list_api_tokens(false, 3_000, None, 10).await.unwrap()), [first.id]);
        let revoked = store.revoke_api_token(first.id, 4_000).await.unwrap().unwrap();
        assert_eq!(revoked.revoked_at, Some(4_000));
        assert_eq!(store.revoke_api_token(first.id, 5_000).await.unwrap().unwrap().revoked_at, Some(4_000));
        assert!(store.list_api_tokens(false, 3_000, None, 10).await.unwrap().is_empty());
        assert_eq!(ids(store.list_api_tokens(true, 3_000, Some(second.id), 10).await.unwrap()), [first.id]);
    }

    async fn audit_entries_append_once_and_filter(db: Db) {
        let store = store(db).await;
        let entry = |key: &str, action: &str, at: i64| AuditRow {
            idempotency_key: key.into(),
            occurred_at: at,
            actor_user_id: 1,
            actor_name: "admin".into(),
            actor_role: "admin".into(),
            service: "identity".into(),
            action: action.into(),
            resource_type: "user".into(),
            resource_id: "2".into(),
            summary: "创建用户".into(),
            ..AuditRow::default()
        };
        let first = store.insert_audit(&entry("k1", "identity.user.create", 1_000)).await.unwrap();
        assert_eq!(store.insert_audit(&entry("k1", "identity.user.create", 1_000)).await.unwrap(), first);
        let second = store.insert_audit(&entry("k2", "customer.tag.mark", 2_000)).await.unwrap();
        let ids = |rows: Vec<AuditRow>| rows.into_iter().map(|row| row.id).collect::<Vec<_>>();
        assert_eq!(ids(store.list_audit(&AuditFilter::default(), None, 10).await.unwrap()), [second, first]);
        let prefix = AuditFilter { action_prefix: Some("identity.".into()), ..AuditFilter::default() };
        assert_eq!(ids(store.list_audit(&prefix, None, 10).await.unwrap()), [first]);
        let since = AuditFilter { since: Some(1_500), ..AuditFilter::default() };
        assert_eq!(ids(store.list_audit(&since, None, 10).await.unwrap()), [second]);
        assert_eq!(ids(store.list_audit(&AuditFilter::default(), Some(second), 10).await.unwrap()), [first]);
    }

    async fn login_states_are_single_use(db: Db) {
        let store = store(db).await;
        store.insert_login_state("s1", 2_000).await.unwrap();
        store.insert_login_state("s2", 2_000).await.unwrap();
        assert!(store.take_login_state("s1", 1_000).await.unwrap());
        assert!(!store.take_login_state("s1", 1_000).await.unwrap());
        assert!(!store.take_login_state("s2", 3_000).await.unwrap(), "expired");
    }

    scrm_storage::store_test_suite!(
        users_are_unique_by_username_and_userid,
        sessions_open_slide_and_revoke,
        api_tokens_are_found_by_digest_and_revoked_once,
        audit_entries_append_once_and_filter,
        login_states_are_single_use
    );
}
