-- Broadcasts to customer groups (PR06). Times are Unix milliseconds.
CREATE TABLE messaging_broadcast (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    idempotency_key VARCHAR(255) NOT NULL,
    name VARCHAR(255) NOT NULL,
    state INT NOT NULL,
    targets_json MEDIUMTEXT NOT NULL,
    msg_type INT NOT NULL,
    content TEXT NOT NULL,
    attachments_json TEXT NOT NULL,
    scheduled_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    creator VARCHAR(255) NOT NULL,
    starts_at BIGINT NULL,
    ends_at BIGINT NULL,
    confirm_deadline BIGINT NULL,
    failure_reason TEXT NOT NULL,
    quota_per_day INT NOT NULL,
    UNIQUE KEY messaging_broadcast_idempotency (idempotency_key),
    KEY messaging_broadcast_state (state, scheduled_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- The durable fan-out queue: one row per add_msg_template task (one owner, up to WeCom's chat_id_list limit).
-- state: 0 pending, 1 sending (a call may have reached WeCom), 2 created, 3 failed, 4 cancelled.
CREATE TABLE messaging_broadcast_task (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    broadcast_id BIGINT NOT NULL,
    owner VARCHAR(64) NOT NULL,
    owner_name VARCHAR(255) NOT NULL,
    seq INT NOT NULL,
    state INT NOT NULL,
    attempts INT NOT NULL DEFAULT 0,
    next_run_at BIGINT NOT NULL,
    lease_until BIGINT NOT NULL DEFAULT 0,
    attempt_started_at BIGINT NULL,
    msgid VARCHAR(128) NOT NULL DEFAULT '',
    errcode INT NOT NULL DEFAULT 0,
    errmsg VARCHAR(1024) NOT NULL DEFAULT '',
    confirmed INT NOT NULL DEFAULT 0,
    remind_times VARCHAR(255) NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE KEY messaging_broadcast_task_owner (broadcast_id, owner, seq),
    KEY messaging_broadcast_task_due (state, next_run_at),
    KEY messaging_broadcast_task_msgid (msgid)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- Per-group results of a broadcast.
CREATE TABLE messaging_broadcast_group (
    broadcast_id BIGINT NOT NULL,
    chat_id VARCHAR(128) NOT NULL,
    group_id BIGINT NOT NULL,
    group_name VARCHAR(255) NOT NULL,
    owner VARCHAR(64) NOT NULL,
    owner_name VARCHAR(255) NOT NULL,
    task_id BIGINT NULL,
    outcome INT NOT NULL,
    status INT NOT NULL DEFAULT 0,
    quota_flagged INT NOT NULL DEFAULT 0,
    sent_at BIGINT NULL,
    errcode INT NOT NULL DEFAULT 0,
    errmsg VARCHAR(1024) NOT NULL DEFAULT '',
    day BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (broadcast_id, chat_id),
    KEY messaging_broadcast_group_task (task_id),
    KEY messaging_broadcast_group_day (chat_id, day)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
