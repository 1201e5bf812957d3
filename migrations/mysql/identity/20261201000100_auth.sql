-- scrm's own users: local logins (username + argon2 password hash) and WeCom staff logins (linked userid).
CREATE TABLE identity_user (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    username VARCHAR(64) NULL,
    display_name VARCHAR(128) NOT NULL,
    role VARCHAR(32) NOT NULL,
    store_ids VARCHAR(1024) NOT NULL DEFAULT '',
    userid VARCHAR(64) NULL,
    password_hash VARCHAR(255) NULL,
    must_change_password INT NOT NULL DEFAULT 0,
    disabled INT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    last_login_at BIGINT NULL,
    UNIQUE KEY identity_user_username (username),
    UNIQUE KEY identity_user_userid (userid)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- Signed-in browser sessions; only the SHA-256 of the session token is stored.
CREATE TABLE identity_session (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_id BIGINT NOT NULL,
    token_hash CHAR(64) NOT NULL,
    csrf_token VARCHAR(64) NOT NULL,
    method INT NOT NULL,
    ip VARCHAR(64) NOT NULL DEFAULT '',
    user_agent VARCHAR(512) NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT NULL,
    UNIQUE KEY identity_session_token (token_hash),
    KEY identity_session_user (user_id, id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- API tokens for integrations and scripts; only the SHA-256 of the token is stored.
CREATE TABLE identity_api_token (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(128) NOT NULL,
    role VARCHAR(32) NOT NULL,
    store_ids VARCHAR(1024) NOT NULL DEFAULT '',
    prefix VARCHAR(16) NOT NULL,
    token_hash CHAR(64) NOT NULL,
    created_by_user_id BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT NULL,
    expires_at BIGINT NULL,
    revoked_at BIGINT NULL,
    UNIQUE KEY identity_api_token_hash (token_hash)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- Who changed what, newest last; the idempotency key makes retried writes append nothing.
CREATE TABLE identity_audit_log (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    idempotency_key VARCHAR(191) NOT NULL,
    occurred_at BIGINT NOT NULL,
    actor_user_id BIGINT NOT NULL DEFAULT 0,
    actor_name VARCHAR(128) NOT NULL,
    actor_role VARCHAR(32) NOT NULL,
    credential_kind INT NOT NULL,
    service VARCHAR(32) NOT NULL,
    action VARCHAR(128) NOT NULL,
    resource_type VARCHAR(64) NOT NULL,
    resource_id VARCHAR(128) NOT NULL,
    summary VARCHAR(512) NOT NULL,
    before_json TEXT NOT NULL,
    after_json TEXT NOT NULL,
    request_id VARCHAR(128) NOT NULL,
    ip VARCHAR(64) NOT NULL,
    UNIQUE KEY identity_audit_log_key (idempotency_key),
    KEY identity_audit_log_actor (actor_user_id, id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- One-time `state` values of WeCom sign-ins, checked and consumed by Login.
CREATE TABLE identity_login_state (
    state VARCHAR(64) NOT NULL PRIMARY KEY,
    expires_at BIGINT NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
