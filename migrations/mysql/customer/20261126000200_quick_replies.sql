-- Quick-reply folders (PR03): the company library (scope 1, owner '') and personal ones (scope 2, owner = the
-- owner's staff id). `scope` is a QuickReplyScope code.
CREATE TABLE customer_quick_reply_folder (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(64) NOT NULL,
    scope INT NOT NULL,
    owner VARCHAR(64) NOT NULL DEFAULT '',
    sort_order INT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE KEY customer_quick_reply_folder_name (scope, owner, name)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- Quick replies. `content` is the encoded scrm.customer.v1.QuickReplyContent; `kind` a QuickReplyKind code;
-- `keywords` newline-separated; `search_text` the lower-cased title, text and keywords matched by search.
-- Deleted replies keep their row (`deleted_at` set) so recorded sends still name them.
CREATE TABLE customer_quick_reply (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    folder_id BIGINT NOT NULL,
    scope INT NOT NULL,
    owner VARCHAR(64) NOT NULL DEFAULT '',
    title VARCHAR(128) NOT NULL,
    kind INT NOT NULL,
    content BLOB NOT NULL,
    keywords TEXT NOT NULL,
    search_text TEXT NOT NULL,
    usage_count BIGINT NOT NULL DEFAULT 0,
    last_used_at BIGINT NULL,
    created_by VARCHAR(64) NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    deleted_at BIGINT NULL,
    KEY customer_quick_reply_by_folder (folder_id, deleted_at),
    KEY customer_quick_reply_by_library (scope, owner, deleted_at, usage_count)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- Recorded sends of quick replies, one per (staff member, idempotency key). `reward_status` is a
-- RewardIssueStatus code.
CREATE TABLE customer_quick_reply_send (
    staff_id VARCHAR(64) NOT NULL,
    idempotency_key VARCHAR(128) NOT NULL,
    quick_reply_id BIGINT NOT NULL,
    external_userid VARCHAR(64) NOT NULL DEFAULT '',
    chat_id VARCHAR(64) NOT NULL DEFAULT '',
    sent_at BIGINT NOT NULL,
    usage_count BIGINT NOT NULL DEFAULT 0,
    reward_status INT NOT NULL DEFAULT 0,
    reward_grant_id BIGINT NOT NULL DEFAULT 0,
    reward_message VARCHAR(255) NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    PRIMARY KEY (staff_id, idempotency_key),
    KEY customer_quick_reply_send_by_reply (quick_reply_id, sent_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
