-- Group list (PR04) and activity monitoring (PR07).
-- id: scrm's numeric id of a group (the PRD's `groupIds`), minted on first sight. The figures the list filters
-- and sorts on:
--   messages_*/speakers_*: rolling activity over 1, 7 and 30 calendar days, refreshed by the activity rollup;
--   lurker_ratio_bps: current members silent for 30 days, in basis points of member_count;
--   last_message_at: Unix ms of the last ingested message; activity_band: ActivityBand;
--   alert_state: GroupAlertState (1 clear, 2 acknowledged, 3 alerting); open_alert_kinds: AlertKind values of the
--   open alerts, comma-separated; open_alert_count: their number; tag_count: group tags carried.
ALTER TABLE group_chat
    ADD COLUMN id BIGINT NOT NULL AUTO_INCREMENT,
    ADD UNIQUE KEY group_chat_id (id),
    ADD COLUMN messages_1d BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN messages_7d BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN messages_30d BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN speakers_1d BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN speakers_7d BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN speakers_30d BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN lurker_ratio_bps INT NOT NULL DEFAULT 0,
    ADD COLUMN last_message_at BIGINT NULL,
    ADD COLUMN activity_band INT NOT NULL DEFAULT 0,
    ADD COLUMN alert_state INT NOT NULL DEFAULT 1,
    ADD COLUMN open_alert_kinds VARCHAR(32) NOT NULL DEFAULT '',
    ADD COLUMN open_alert_count INT NOT NULL DEFAULT 0,
    ADD COLUMN tag_count INT NOT NULL DEFAULT 0,
    ADD KEY group_chat_created (created_at, id),
    ADD KEY group_chat_member_count (member_count, id),
    ADD KEY group_chat_messages_7d (messages_7d, id);

-- Group tags (群标签), scrm's own.
CREATE TABLE group_tag (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(30) NOT NULL,
    category VARCHAR(30) NOT NULL DEFAULT '',
    sort_order INT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE KEY group_tag_name (category, name)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- Tags carried by groups (group_id: group_chat.id).
CREATE TABLE group_chat_tag (
    group_id BIGINT NOT NULL,
    tag_id BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (group_id, tag_id),
    KEY group_chat_tag_tag (tag_id, group_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- Member activity: the member's last message in the group (Unix ms).
ALTER TABLE group_member ADD COLUMN last_message_at BIGINT NULL;
