-- Customer groups (客户群) as the group service knows them.
CREATE TABLE group_chat (
    chat_id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    owner_userid TEXT NOT NULL,
    store_id TEXT,
    member_count INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    dismissed_at BIGINT,
    updated_at BIGINT NOT NULL
);
CREATE INDEX group_chat_store ON group_chat (store_id);
CREATE INDEX group_chat_owner ON group_chat (owner_userid);
