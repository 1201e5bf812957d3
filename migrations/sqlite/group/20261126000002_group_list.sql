-- Group list (PR04) and activity monitoring (PR07).
-- group_chat is rebuilt to give every group scrm's numeric id (the PRD's `groupIds`), minted on first sight,
-- and the figures the list filters and sorts on:
--   messages_*/speakers_*: rolling activity over 1, 7 and 30 calendar days, refreshed by the activity rollup;
--   lurker_ratio_bps: current members silent for 30 days, in basis points of member_count;
--   last_message_at: Unix ms of the last ingested message; activity_band: ActivityBand;
--   alert_state: GroupAlertState (1 clear, 2 acknowledged, 3 alerting); open_alert_kinds: AlertKind values of the
--   open alerts, comma-separated; open_alert_count: their number; tag_count: group tags carried.
CREATE TABLE group_chat_v2 (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    owner_userid TEXT NOT NULL,
    store_id TEXT,
    member_count INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    dismissed_at BIGINT,
    updated_at BIGINT NOT NULL,
    notice TEXT,
    status INTEGER NOT NULL DEFAULT 1,
    admin_userids TEXT NOT NULL DEFAULT '',
    member_version TEXT NOT NULL DEFAULT '',
    customer_count INTEGER NOT NULL DEFAULT 0,
    staff_count INTEGER NOT NULL DEFAULT 0,
    observed_at BIGINT,
    messages_1d BIGINT NOT NULL DEFAULT 0,
    messages_7d BIGINT NOT NULL DEFAULT 0,
    messages_30d BIGINT NOT NULL DEFAULT 0,
    speakers_1d BIGINT NOT NULL DEFAULT 0,
    speakers_7d BIGINT NOT NULL DEFAULT 0,
    speakers_30d BIGINT NOT NULL DEFAULT 0,
    lurker_ratio_bps INTEGER NOT NULL DEFAULT 0,
    last_message_at BIGINT,
    activity_band INTEGER NOT NULL DEFAULT 0,
    alert_state INTEGER NOT NULL DEFAULT 1,
    open_alert_kinds TEXT NOT NULL DEFAULT '',
    open_alert_count INTEGER NOT NULL DEFAULT 0,
    tag_count INTEGER NOT NULL DEFAULT 0
);
INSERT INTO group_chat_v2 (chat_id, name, owner_userid, store_id, member_count, created_at, dismissed_at, updated_at,
    notice, status, admin_userids, member_version, customer_count, staff_count, observed_at)
SELECT chat_id, name, owner_userid, store_id, member_count, created_at, dismissed_at, updated_at, notice, status,
    admin_userids, member_version, customer_count, staff_count, observed_at
FROM group_chat ORDER BY created_at, chat_id;
DROP TABLE group_chat;
ALTER TABLE group_chat_v2 RENAME TO group_chat;
CREATE INDEX group_chat_store ON group_chat (store_id);
CREATE INDEX group_chat_owner ON group_chat (owner_userid);
CREATE INDEX group_chat_created ON group_chat (created_at, id);
CREATE INDEX group_chat_member_count ON group_chat (member_count, id);
CREATE INDEX group_chat_messages_7d ON group_chat (messages_7d, id);

-- Group tags (群标签), scrm's own.
CREATE TABLE group_tag (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    category TEXT NOT NULL DEFAULT '',
    sort_order INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (category, name)
);

-- Tags carried by groups (group_id: group_chat.id).
CREATE TABLE group_chat_tag (
    group_id BIGINT NOT NULL,
    tag_id BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (group_id, tag_id)
);
CREATE INDEX group_chat_tag_tag ON group_chat_tag (tag_id, group_id);

-- Member activity: the member's last message in the group (Unix ms).
ALTER TABLE group_member ADD COLUMN last_message_at BIGINT;
