-- A member's current groups (ListMemberGroups, on every customer profile) are read off the index alone: it now
-- holds left_at too (chat_id rides along as the primary key), so no member row is read.
-- The alert evaluation's membership changes of the day (joined or left since midnight, every minute) are found
-- through an index each instead of a scan of every member.
ALTER TABLE group_member
    DROP INDEX group_member_userid,
    ADD INDEX group_member_userid (userid, left_at, joined_at),
    ADD INDEX group_member_joined (joined_at),
    ADD INDEX group_member_left (left_at);
