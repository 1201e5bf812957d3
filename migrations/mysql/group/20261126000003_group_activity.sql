-- Activity monitoring (PR07).
-- Group messages from the chat-archive feed, kept for deduplication by msgid and for burst detection.
-- msgtime: Unix ms; seq: the feed's position (0 when unknown).
CREATE TABLE group_message (
    msgid VARCHAR(128) NOT NULL PRIMARY KEY,
    chat_id VARCHAR(64) NOT NULL,
    sender VARCHAR(64) NOT NULL,
    msgtime BIGINT NOT NULL,
    seq BIGINT NOT NULL DEFAULT 0,
    KEY group_message_chat_time (chat_id, msgtime),
    KEY group_message_seq (seq)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- Messages per group and calendar day (days since 1970-01-01 in the corp's timezone).
CREATE TABLE group_activity_day (
    chat_id VARCHAR(64) NOT NULL,
    day BIGINT NOT NULL,
    messages BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (chat_id, day)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- Messages per group, day and speaker: the exact distinct-speaker sets.
CREATE TABLE group_speaker_day (
    chat_id VARCHAR(64) NOT NULL,
    day BIGINT NOT NULL,
    userid VARCHAR(64) NOT NULL,
    messages BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (chat_id, day, userid)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- Alert rules, one per kind (AlertKind); rule: the AlertRule message, protobuf-encoded and hex-written.
CREATE TABLE group_alert_rule (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    kind INT NOT NULL,
    rule TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE KEY group_alert_rule_kind (kind)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- Alerts. state: AlertState (1 open, 2 resolved); evidence: AlertEvidence, protobuf-encoded and hex-written;
-- open_key: '<chat_id>/<kind>' while open, NULL once resolved, so that one alert per group and rule is open.
CREATE TABLE group_alert (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    rule_id BIGINT NOT NULL,
    kind INT NOT NULL,
    state INT NOT NULL,
    chat_id VARCHAR(64) NOT NULL,
    group_name VARCHAR(255) NOT NULL,
    owner VARCHAR(64) NOT NULL,
    store_id BIGINT NOT NULL DEFAULT 0,
    evidence TEXT NOT NULL,
    raised_at BIGINT NOT NULL,
    resolved_at BIGINT NULL,
    acknowledged_at BIGINT NULL,
    acknowledged_by VARCHAR(64) NOT NULL DEFAULT '',
    acknowledge_note VARCHAR(500) NOT NULL DEFAULT '',
    owner_notified_at BIGINT NULL,
    open_key VARCHAR(80) NULL,
    UNIQUE KEY group_alert_open (open_key),
    KEY group_alert_chat (chat_id, state)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
