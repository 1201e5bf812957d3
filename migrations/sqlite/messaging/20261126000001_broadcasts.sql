-- Broadcasts to customer groups (PR06). Times are Unix milliseconds.
CREATE TABLE messaging_broadcast (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    idempotency_key TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    state INTEGER NOT NULL,
    targets_json TEXT NOT NULL,
    msg_type INTEGER NOT NULL,
    content TEXT NOT NULL,
    attachments_json TEXT NOT NULL,
    scheduled_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    creator TEXT NOT NULL,
    starts_at BIGINT,
    ends_at BIGINT,
    confirm_deadline BIGINT,
    failure_reason TEXT NOT NULL DEFAULT '',
    quota_per_day INTEGER NOT NULL
);
CREATE INDEX messaging_broadcast_state ON messaging_broadcast (state, scheduled_at);

-- The durable fan-out queue: one row per add_msg_template task (one owner, up to WeCom's chat_id_list limit).
-- state: 0 pending, 1 sending (a call may have reached WeCom), 2 created, 3 failed, 4 cancelled.
CREATE TABLE messaging_broadcast_task (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    broadcast_id BIGINT NOT NULL,
    owner TEXT NOT NULL,
    owner_name TEXT NOT NULL,
    seq INTEGER NOT NULL,
    state INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_run_at BIGINT NOT NULL,
    lease_until BIGINT NOT NULL DEFAULT 0,
    attempt_started_at BIGINT,
    msgid TEXT NOT NULL DEFAULT '',
    errcode INTEGER NOT NULL DEFAULT 0,
    errmsg TEXT NOT NULL DEFAULT '',
    confirmed INTEGER NOT NULL DEFAULT 0,
    remind_times TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (broadcast_id, owner, seq)
);
CREATE INDEX messaging_broadcast_task_due ON messaging_broadcast_task (state, next_run_at);
CREATE INDEX messaging_broadcast_task_msgid ON messaging_broadcast_task (msgid);

-- Per-group results of a broadcast.
CREATE TABLE messaging_broadcast_group (
    broadcast_id BIGINT NOT NULL,
    chat_id TEXT NOT NULL,
    group_id BIGINT NOT NULL,
    group_name TEXT NOT NULL,
    owner TEXT NOT NULL,
    owner_name TEXT NOT NULL,
    task_id BIGINT,
    outcome INTEGER NOT NULL,
    status INTEGER NOT NULL DEFAULT 0,
    quota_flagged INTEGER NOT NULL DEFAULT 0,
    sent_at BIGINT,
    errcode INTEGER NOT NULL DEFAULT 0,
    errmsg TEXT NOT NULL DEFAULT '',
    day BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (broadcast_id, chat_id)
);
CREATE INDEX messaging_broadcast_group_task ON messaging_broadcast_group (task_id);
CREATE INDEX messaging_broadcast_group_day ON messaging_broadcast_group (chat_id, day);
