-- WeCom fields of external contacts, and the newest WeCom observation applied to each (Unix ms; older input
-- is ignored).
ALTER TABLE customer_contact ADD COLUMN gender INTEGER NOT NULL DEFAULT 0;
ALTER TABLE customer_contact ADD COLUMN position TEXT NOT NULL DEFAULT '';
ALTER TABLE customer_contact ADD COLUMN corp_name TEXT NOT NULL DEFAULT '';
ALTER TABLE customer_contact ADD COLUMN corp_full_name TEXT NOT NULL DEFAULT '';
ALTER TABLE customer_contact ADD COLUMN observed_at BIGINT NOT NULL DEFAULT 0;

-- Follow relations (WeCom follow_user): a staff member having the customer as a contact. Ended relations are
-- kept, with why (`status`, a FollowStatus code) and when (`removed_at`). `remark_mobiles` and `store_ids` are
-- comma-separated.
CREATE TABLE customer_follow_user (
    external_userid TEXT NOT NULL,
    userid TEXT NOT NULL,
    remark TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    added_at BIGINT NOT NULL,
    add_way INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL DEFAULT '',
    oper_userid TEXT NOT NULL DEFAULT '',
    remark_corp_name TEXT NOT NULL DEFAULT '',
    remark_mobiles TEXT NOT NULL DEFAULT '',
    store_ids TEXT NOT NULL DEFAULT '',
    status INTEGER NOT NULL,
    removed_at BIGINT,
    observed_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (external_userid, userid)
);
CREATE INDEX customer_follow_user_userid ON customer_follow_user (userid, status);

-- Tags a follow user has put on the customer (WeCom follow_user.tags); `tag_type` is a TagType code.
CREATE TABLE customer_follow_tag (
    external_userid TEXT NOT NULL,
    userid TEXT NOT NULL,
    tag_type INTEGER NOT NULL,
    tag_id TEXT NOT NULL DEFAULT '',
    tag_name TEXT NOT NULL DEFAULT '',
    group_id TEXT NOT NULL DEFAULT '',
    group_name TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (external_userid, userid, tag_type, tag_id, tag_name)
);
CREATE INDEX customer_follow_tag_tag ON customer_follow_tag (tag_id);
