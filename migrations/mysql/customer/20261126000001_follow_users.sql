-- WeCom fields of external contacts, and the newest WeCom observation applied to each (Unix ms; older input
-- is ignored). WeCom ids are compared byte for byte, as SQLite does (the table default collation ignores case).
ALTER TABLE customer_contact
    MODIFY external_userid VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    ADD COLUMN gender INT NOT NULL DEFAULT 0,
    ADD COLUMN position VARCHAR(255) NOT NULL DEFAULT '',
    ADD COLUMN corp_name VARCHAR(255) NOT NULL DEFAULT '',
    ADD COLUMN corp_full_name VARCHAR(255) NOT NULL DEFAULT '',
    ADD COLUMN observed_at BIGINT NOT NULL DEFAULT 0;

-- Follow relations (WeCom follow_user): a staff member having the customer as a contact. Ended relations are
-- kept, with why (`status`, a FollowStatus code) and when (`removed_at`). `remark_mobiles` and `store_ids` are
-- comma-separated.
CREATE TABLE customer_follow_user (
    external_userid VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    userid VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    remark VARCHAR(255) NOT NULL DEFAULT '',
    description VARCHAR(1024) NOT NULL DEFAULT '',
    added_at BIGINT NOT NULL,
    add_way INT NOT NULL DEFAULT 0,
    state VARCHAR(255) NOT NULL DEFAULT '',
    oper_userid VARCHAR(64) NOT NULL DEFAULT '',
    remark_corp_name VARCHAR(255) NOT NULL DEFAULT '',
    remark_mobiles VARCHAR(1024) NOT NULL DEFAULT '',
    store_ids VARCHAR(1024) NOT NULL DEFAULT '',
    status INT NOT NULL,
    removed_at BIGINT NULL,
    observed_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (external_userid, userid),
    KEY customer_follow_user_userid (userid, status)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- Tags a follow user has put on the customer (WeCom follow_user.tags); `tag_type` is a TagType code.
CREATE TABLE customer_follow_tag (
    external_userid VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    userid VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    tag_type INT NOT NULL,
    tag_id VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL DEFAULT '',
    tag_name VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL DEFAULT '',
    group_id VARCHAR(64) NOT NULL DEFAULT '',
    group_name VARCHAR(255) NOT NULL DEFAULT '',
    PRIMARY KEY (external_userid, userid, tag_type, tag_id, tag_name),
    KEY customer_follow_tag_tag (tag_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
