-- What WeCom's groupchat/get says about a group beyond its name and owner (PR01 sync).
-- notice: 群公告, NULL when never synced. status: GroupChatStatus (1 normal .. 4 inherited); dismissal is
-- dismissed_at. admin_userids: admin_list, comma-separated in WeCom's order. observed_at: observed_at of
-- the last snapshot applied, so that an older one is ignored.
ALTER TABLE group_chat ADD COLUMN notice TEXT;
ALTER TABLE group_chat ADD COLUMN status INTEGER NOT NULL DEFAULT 1;
ALTER TABLE group_chat ADD COLUMN admin_userids TEXT NOT NULL DEFAULT '';
ALTER TABLE group_chat ADD COLUMN member_version TEXT NOT NULL DEFAULT '';
ALTER TABLE group_chat ADD COLUMN customer_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE group_chat ADD COLUMN staff_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE group_chat ADD COLUMN observed_at BIGINT;

-- Members of customer groups, current and departed (left_at set). member_type: GroupMemberType (1 staff,
-- 2 customer); join_scene: JoinScene; quit_scene: QuitScene (0 while a member).
CREATE TABLE group_member (
    chat_id TEXT NOT NULL,
    userid TEXT NOT NULL,
    member_type INTEGER NOT NULL DEFAULT 0,
    name TEXT NOT NULL DEFAULT '',
    group_nickname TEXT NOT NULL DEFAULT '',
    unionid TEXT NOT NULL DEFAULT '',
    joined_at BIGINT NOT NULL,
    join_scene INTEGER NOT NULL DEFAULT 0,
    inviter_userid TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL DEFAULT '',
    left_at BIGINT,
    quit_scene INTEGER NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (chat_id, userid)
);
CREATE INDEX group_member_userid ON group_member (userid);
CREATE INDEX group_member_state ON group_member (state);
