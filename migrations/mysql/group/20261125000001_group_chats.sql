-- Customer groups (客户群) as the group service knows them.
CREATE TABLE group_chat (
    chat_id VARCHAR(64) NOT NULL PRIMARY KEY,
    name VARCHAR(255) NOT NULL,
    owner_userid VARCHAR(64) NOT NULL,
    store_id VARCHAR(64) NULL,
    member_count INT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    dismissed_at BIGINT NULL,
    updated_at BIGINT NOT NULL,
    KEY group_chat_store (store_id),
    KEY group_chat_owner (owner_userid)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
