-- Join ways (群活码) and welcome messages (PR04, PR05). Times are Unix milliseconds.

-- Join ways created through scrm. chat_ids: WeCom chat_id_list, comma-joined. idempotency_key: NULL when the
-- request had none.
CREATE TABLE group_join_way (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    config_id TEXT NOT NULL DEFAULT '',
    scene INTEGER NOT NULL,
    remark TEXT NOT NULL DEFAULT '',
    auto_create_room INTEGER NOT NULL DEFAULT 0,
    room_base_name TEXT NOT NULL DEFAULT '',
    room_base_id INTEGER NOT NULL DEFAULT 0,
    chat_ids TEXT NOT NULL,
    state TEXT NOT NULL UNIQUE,
    mark_source INTEGER NOT NULL DEFAULT 0,
    qr_code TEXT NOT NULL DEFAULT '',
    campaign_id BIGINT NOT NULL DEFAULT 0,
    idempotency_key TEXT UNIQUE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Welcome rules. rule: the WelcomeRule message without its counts, protobuf-encoded and hex-written;
-- scope_kind (WelcomeScopeKind) and enabled repeat it for filtering.
CREATE TABLE group_welcome_rule (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    rule TEXT NOT NULL,
    scope_kind INTEGER NOT NULL,
    enabled INTEGER NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Corp-wide welcome settings: one row (id 1), the WelcomeSettings message, hex-written.
CREATE TABLE group_welcome_settings (
    id INTEGER PRIMARY KEY NOT NULL,
    settings TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Customer joins waiting for, or done with, a robot welcome: one row per group, member and join time, the durable
-- dedupe key that welcomes each join at most once. state: 0 pending, 1 welcomed, 2 skipped (reason says why).
-- batch: idempotency key of the robot post that named the member.
CREATE TABLE group_welcome_join (
    chat_id TEXT NOT NULL,
    userid TEXT NOT NULL,
    joined_at BIGINT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    member_state TEXT NOT NULL DEFAULT '',
    queued_at BIGINT NOT NULL,
    state INTEGER NOT NULL DEFAULT 0,
    rule_id BIGINT NOT NULL DEFAULT 0,
    batch TEXT NOT NULL DEFAULT '',
    reason TEXT NOT NULL DEFAULT '',
    done_at BIGINT,
    PRIMARY KEY (chat_id, userid, joined_at)
);
CREATE INDEX group_welcome_join_state ON group_welcome_join (state, chat_id);
CREATE INDEX group_welcome_join_done ON group_welcome_join (chat_id, done_at);

-- Contact welcomes (send_welcome_msg) by idempotency key: the first result, returned to retries.
-- skip_reason: ContactWelcomeSkipReason.
CREATE TABLE group_contact_welcome (
    idempotency_key TEXT PRIMARY KEY NOT NULL,
    external_userid TEXT NOT NULL,
    userid TEXT NOT NULL,
    rule_id BIGINT NOT NULL DEFAULT 0,
    welcomed INTEGER NOT NULL DEFAULT 0,
    skip_reason INTEGER NOT NULL DEFAULT 0,
    errcode INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

-- The WeCom group welcome template each group carries, as recorded by RecordWelcomeTemplateApplied, with the
-- revision of its rule at that time.
CREATE TABLE group_welcome_carried (
    chat_id TEXT PRIMARY KEY NOT NULL,
    template_id TEXT NOT NULL,
    revision BIGINT NOT NULL,
    recorded_at BIGINT NOT NULL
);
