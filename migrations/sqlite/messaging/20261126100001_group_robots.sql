-- Group robots (群机器人, PR05) and their posts. Times are Unix milliseconds.
-- webhook_key: the robot's webhook key. last_errcode: WeCom errcode of the last failed post, 0 after a success.
CREATE TABLE messaging_group_robot (
    chat_id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    webhook_key TEXT NOT NULL,
    enabled INTEGER NOT NULL DEFAULT 1,
    last_sent_at BIGINT,
    last_errcode INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Robot posts by idempotency key: the first result (state: RobotDeliveryState), returned to retries. Posts that
-- reached WeCom (state 1) count towards the robot's 20 per minute.
CREATE TABLE messaging_robot_post (
    idempotency_key TEXT PRIMARY KEY NOT NULL,
    chat_id TEXT NOT NULL,
    origin TEXT NOT NULL DEFAULT '',
    state INTEGER NOT NULL,
    errcode INTEGER NOT NULL DEFAULT 0,
    errmsg TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);
CREATE INDEX messaging_robot_post_chat ON messaging_robot_post (chat_id, created_at);
