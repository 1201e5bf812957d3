-- What WeCom's groupchat/get says about a group beyond its name and owner (PR01 sync).
-- notice: 群公告, NULL when never synced. status: GroupChatStatus (1 normal .. 4 inherited); dismissal is
-- dismissed_at. admin_userids: admin_list, comma-separated in WeCom's order. observed_at: observed_at of
-- the last snapshot applied, so that an older one is ignored.
ALTER TABLE group_chat
    ADD COLUMN notice TEXT NULL,
    ADD COLUMN status INT NOT NULL DEFAULT 1,
    ADD COLUMN admin_userids VARCHAR(1024) NOT NULL DEFAULT '',
    ADD COLUMN member_version VARCHAR(64) NOT NULL DEFAULT '',
    ADD COLUMN customer_count INT NOT NULL DEFAULT 0,
    ADD COLUMN staff_count INT NOT NULL DEFAULT 0,
    ADD COLUMN observed_at BIGINT NULL;

-- Members of customer groups, current and departed (left_at set). member_type: GroupMemberType (1 staff,
-- 2 customer); join_scene: JoinScene; quit_scene: QuitScene (0 while a member).
CREATE TABLE group_member (
    chat_id VARCHAR(64) NOT NULL,
    userid VARCHAR(64) NOT NULL,
    member_type INT NOT NULL DEFAULT 0,
    name VARCHAR(255) NOT NULL DEFAULT '',
    group_nickname VARCHAR(255) NOT NULL DEFAULT '',
    unionid VARCHAR(64) NOT NULL DEFAULT '',
    joined_at BIGINT NOT NULL,
    join_scene INT NOT NULL DEFAULT 0,
    inviter_userid VARCHAR(64) NOT NULL DEFAULT '',
    state VARCHAR(64) NOT NULL DEFAULT '',
    left_at BIGINT NULL,
    quit_scene INT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (chat_id, userid),
    KEY group_member_userid (userid),
    KEY group_member_state (state)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
