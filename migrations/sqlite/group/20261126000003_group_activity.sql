-- Activity monitoring (PR07).
-- Group messages from the chat-archive feed, kept for deduplication by msgid and for burst detection.
-- msgtime: Unix ms; seq: the feed's position (0 when unknown); counted_as_speaker: 1 unless sent by a robot.
CREATE TABLE group_message (
    msgid TEXT PRIMARY KEY NOT NULL,
    chat_id TEXT NOT NULL,
    sender TEXT NOT NULL,
    msgtime BIGINT NOT NULL,
    seq BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX group_message_chat_time ON group_message (chat_id, msgtime);
CREATE INDEX group_message_seq ON group_message (seq);

-- Messages per group and calendar day (days since 1970-01-01 in the corp's timezone).
CREATE TABLE group_activity_day (
    chat_id TEXT NOT NULL,
    day BIGINT NOT NULL,
    messages BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (chat_id, day)
);

-- Messages per group, day and speaker: the exact distinct-speaker sets.
CREATE TABLE group_speaker_day (
    chat_id TEXT NOT NULL,
    day BIGINT NOT NULL,
    userid TEXT NOT NULL,
    messages BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (chat_id, day, userid)
);

-- Alert rules, one per kind (AlertKind); rule: the AlertRule message, protobuf-encoded and hex-written.
CREATE TABLE group_alert_rule (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind INTEGER NOT NULL UNIQUE,
    rule TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Alerts. state: AlertState (1 open, 2 resolved); evidence: AlertEvidence, protobuf-encoded and hex-written;
-- open_key: '<chat_id>/<kind>' while open, NULL once resolved, so that one alert per group and rule is open.
CREATE TABLE group_alert (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    rule_id BIGINT NOT NULL,
    kind INTEGER NOT NULL,
    state INTEGER NOT NULL,
    chat_id TEXT NOT NULL,
    group_name TEXT NOT NULL,
    owner TEXT NOT NULL,
    store_id BIGINT NOT NULL DEFAULT 0,
    evidence TEXT NOT NULL,
    raised_at BIGINT NOT NULL,
    resolved_at BIGINT,
    acknowledged_at BIGINT,
    acknowledged_by TEXT NOT NULL DEFAULT '',
    acknowledge_note TEXT NOT NULL DEFAULT '',
    owner_notified_at BIGINT,
    open_key TEXT UNIQUE
);
CREATE INDEX group_alert_chat ON group_alert (chat_id, state);
