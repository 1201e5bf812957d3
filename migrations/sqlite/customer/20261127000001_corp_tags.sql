-- The corp tag library (企业客户标签) as read from WeCom or written through scrm. Times are Unix ms; deleted
-- groups and tags are kept, flagged, so that history and callbacks arriving late stay consistent.
CREATE TABLE customer_tag_group (
    group_id TEXT PRIMARY KEY NOT NULL,
    group_name TEXT NOT NULL,
    sort_order BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL DEFAULT 0,
    deleted INTEGER NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL
);

CREATE TABLE customer_corp_tag (
    tag_id TEXT PRIMARY KEY NOT NULL,
    group_id TEXT NOT NULL,
    name TEXT NOT NULL,
    sort_order BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL DEFAULT 0,
    deleted INTEGER NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL
);
CREATE INDEX customer_corp_tag_group ON customer_corp_tag (group_id);
