-- Join ways (群活码) and welcome messages (PR04, PR05). Times are Unix milliseconds.

-- Join ways created through scrm. chat_ids: WeCom chat_id_list, comma-joined. idempotency_key: NULL when the
-- request had none.
CREATE TABLE group_join_way (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    config_id VARCHAR(64) NOT NULL DEFAULT '',
    scene INT NOT NULL,
    remark VARCHAR(255) NOT NULL DEFAULT '',
    auto_create_room INT NOT NULL DEFAULT 0,
    room_base_name VARCHAR(255) NOT NULL DEFAULT '',
    room_base_id INT NOT NULL DEFAULT 0,
    chat_ids VARCHAR(512) NOT NULL,
    state VARCHAR(64) NOT NULL,
    mark_source INT NOT NULL DEFAULT 0,
    qr_code VARCHAR(1024) NOT NULL DEFAULT '',
    campaign_id BIGINT NOT NULL DEFAULT 0,
    idempotency_key VARCHAR(255) NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE KEY group_join_way_state (state),
    UNIQUE KEY group_join_way_idempotency (idempotency_key)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- Welcome rules. rule: the WelcomeRule message without its counts, protobuf-encoded and hex-written;
-- scope_kind (WelcomeScopeKind) and enabled repeat it for filtering.
CREATE TABLE group_welcome_rule (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    rule MEDIUMTEXT NOT NULL,
    scope_kind INT NOT NULL,
    enabled INT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- Corp-wide welcome settings: one row (id 1), the WelcomeSettings message, hex-written.
CREATE TABLE group_welcome_settings (
    id BIGINT NOT NULL PRIMARY KEY,
    settings TEXT NOT NULL,
    updated_at BIGINT NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- Customer joins waiting for, or done with, a robot welcome: one row per group, member and join time, the durable
-- dedupe key that welcomes each join at most once. state: 0 pending, 1 welcomed, 2 skipped (reason says why).
-- batch: idempotency key of the robot post that named the member.
CREATE TABLE group_welcome_join (
    chat_id VARCHAR(64) NOT NULL,
    userid VARCHAR(64) NOT NULL,
    joined_at BIGINT NOT NULL,
    name VARCHAR(255) NOT NULL DEFAULT '',
    member_state VARCHAR(64) NOT NULL DEFAULT '',
    queued_at BIGINT NOT NULL,
    state INT NOT NULL DEFAULT 0,
    rule_id BIGINT NOT NULL DEFAULT 0,
    batch VARCHAR(255) NOT NULL DEFAULT '',
    reason VARCHAR(255) NOT NULL DEFAULT '',
    done_at BIGINT NULL,
    PRIMARY KEY (chat_id, userid, joined_at),
    KEY group_welcome_join_state (state, chat_id),
    KEY group_welcome_join_done (chat_id, done_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- Contact welcomes (send_welcome_msg) by idempotency key: the first result, returned to retries.
-- skip_reason: ContactWelcomeSkipReason.
CREATE TABLE group_contact_welcome (
    idempotency_key VARCHAR(255) NOT NULL PRIMARY KEY,
    external_userid VARCHAR(64) NOT NULL,
    userid VARCHAR(64) NOT NULL,
    rule_id BIGINT NOT NULL DEFAULT 0,
    welcomed INT NOT NULL DEFAULT 0,
    skip_reason INT NOT NULL DEFAULT 0,
    errcode INT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- The WeCom group welcome template each group carries, as recorded by RecordWelcomeTemplateApplied, with the
-- revision of its rule at that time.
CREATE TABLE group_welcome_carried (
    chat_id VARCHAR(64) NOT NULL PRIMARY KEY,
    template_id VARCHAR(128) NOT NULL,
    revision BIGINT NOT NULL,
    recorded_at BIGINT NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
