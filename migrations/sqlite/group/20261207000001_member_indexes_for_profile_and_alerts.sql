-- A member's current groups (ListMemberGroups, on every customer profile) are read off the index alone: it now
-- holds left_at too, so no member row is read.
-- The alert evaluation's membership changes of the day (joined or left since midnight, every minute) are found
-- through an index each instead of a scan of every member.
DROP INDEX group_member_userid;
CREATE INDEX group_member_userid ON group_member (userid, left_at, joined_at);
CREATE INDEX group_member_joined ON group_member (joined_at);
CREATE INDEX group_member_left ON group_member (left_at);
