-- Group robots (群机器人, PR05) and their posts. Times are Unix milliseconds.
-- webhook_key: the robot's webhook key. last_errcode: WeCom errcode of the last failed post, 0 after a success.
CREATE TABLE messaging_group_robot (
    chat_id VARCHAR(64) NOT NULL PRIMARY KEY,
    name VARCHAR(255) NOT NULL DEFAULT '',
    webhook_key VARCHAR(255) NOT NULL,
    enabled INT NOT NULL DEFAULT 1,
    last_sent_at BIGINT NULL,
    last_errcode INT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- Robot posts by idempotency key: the first result (state: RobotDeliveryState), returned to retries. Posts that
-- reached WeCom (state 1) count towards the robot's 20 per minute.
CREATE TABLE messaging_robot_post (
    idempotency_key VARCHAR(255) NOT NULL PRIMARY KEY,
    chat_id VARCHAR(64) NOT NULL,
    origin VARCHAR(255) NOT NULL DEFAULT '',
    state INT NOT NULL,
    errcode INT NOT NULL DEFAULT 0,
    errmsg VARCHAR(1024) NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    KEY messaging_robot_post_chat (chat_id, created_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
