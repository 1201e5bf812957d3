-- Quick-reply folders (PR03): the company library (scope 1, owner '') and personal ones (scope 2, owner = the
-- owner's staff id). `scope` is a QuickReplyScope code.
CREATE TABLE customer_quick_reply_folder (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    scope INTEGER NOT NULL,
    owner TEXT NOT NULL DEFAULT '',
    sort_order INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (scope, owner, name)
);

-- Quick replies. `content` is the encoded scrm.customer.v1.QuickReplyContent; `kind` a QuickReplyKind code;
-- `keywords` newline-separated; `search_text` the lower-cased title, text and keywords matched by search.
-- Deleted replies keep their row (`deleted_at` set) so recorded sends still name them.
CREATE TABLE customer_quick_reply (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    folder_id BIGINT NOT NULL,
    scope INTEGER NOT NULL,
    owner TEXT NOT NULL DEFAULT '',
    title TEXT NOT NULL,
    kind INTEGER NOT NULL,
    content BLOB NOT NULL,
    keywords TEXT NOT NULL DEFAULT '',
    search_text TEXT NOT NULL DEFAULT '',
    usage_count BIGINT NOT NULL DEFAULT 0,
    last_used_at BIGINT,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    deleted_at BIGINT
);
CREATE INDEX customer_quick_reply_by_folder ON customer_quick_reply (folder_id, deleted_at);
CREATE INDEX customer_quick_reply_by_library ON customer_quick_reply (scope, owner, deleted_at, usage_count);

-- Recorded sends of quick replies, one per (staff member, idempotency key). `reward_status` is a
-- RewardIssueStatus code.
CREATE TABLE customer_quick_reply_send (
    staff_id TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    quick_reply_id BIGINT NOT NULL,
    external_userid TEXT NOT NULL DEFAULT '',
    chat_id TEXT NOT NULL DEFAULT '',
    sent_at BIGINT NOT NULL,
    usage_count BIGINT NOT NULL DEFAULT 0,
    reward_status INTEGER NOT NULL DEFAULT 0,
    reward_grant_id BIGINT NOT NULL DEFAULT 0,
    reward_message TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    PRIMARY KEY (staff_id, idempotency_key)
);
CREATE INDEX customer_quick_reply_send_by_reply ON customer_quick_reply_send (quick_reply_id, sent_at);
