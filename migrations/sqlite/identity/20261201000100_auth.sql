-- scrm's own users: local logins (username + argon2 password hash) and WeCom staff logins (linked userid).
CREATE TABLE identity_user (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT UNIQUE,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL,
    store_ids TEXT NOT NULL DEFAULT '',
    userid TEXT UNIQUE,
    password_hash TEXT,
    must_change_password INTEGER NOT NULL DEFAULT 0,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    last_login_at BIGINT
);

-- Signed-in browser sessions; only the SHA-256 of the session token is stored.
CREATE TABLE identity_session (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    csrf_token TEXT NOT NULL,
    method INTEGER NOT NULL,
    ip TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX identity_session_user ON identity_session (user_id, id);

-- API tokens for integrations and scripts; only the SHA-256 of the token is stored.
CREATE TABLE identity_api_token (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    store_ids TEXT NOT NULL DEFAULT '',
    prefix TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_by_user_id BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    expires_at BIGINT,
    revoked_at BIGINT
);

-- Who changed what, newest last; the idempotency key makes retried writes append nothing.
CREATE TABLE identity_audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    idempotency_key TEXT NOT NULL UNIQUE,
    occurred_at BIGINT NOT NULL,
    actor_user_id BIGINT NOT NULL DEFAULT 0,
    actor_name TEXT NOT NULL,
    actor_role TEXT NOT NULL,
    credential_kind INTEGER NOT NULL,
    service TEXT NOT NULL,
    action TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    summary TEXT NOT NULL,
    before_json TEXT NOT NULL,
    after_json TEXT NOT NULL,
    request_id TEXT NOT NULL,
    ip TEXT NOT NULL
);
CREATE INDEX identity_audit_log_actor ON identity_audit_log (actor_user_id, id);

-- One-time `state` values of WeCom sign-ins, checked and consumed by Login.
CREATE TABLE identity_login_state (
    state TEXT NOT NULL PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
