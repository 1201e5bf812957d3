-- WeCom's own `groupchat/statistic` figures per owner and day, fetched once the day is over, kept beside scrm's
-- counters. day: days since 1970-01-01 in the corp's timezone; fetched_at: Unix ms.
CREATE TABLE group_wecom_statistic (
    owner VARCHAR(64) NOT NULL,
    day BIGINT NOT NULL,
    new_chat_cnt BIGINT NOT NULL,
    chat_total BIGINT NOT NULL,
    chat_has_msg BIGINT NOT NULL,
    new_member_cnt BIGINT NOT NULL,
    member_total BIGINT NOT NULL,
    member_has_msg BIGINT NOT NULL,
    msg_total BIGINT NOT NULL,
    migrate_trainee_chat_cnt BIGINT NOT NULL,
    fetched_at BIGINT NOT NULL,
    PRIMARY KEY (owner, day)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
