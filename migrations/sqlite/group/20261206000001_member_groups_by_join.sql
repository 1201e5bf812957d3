-- A member's groups, latest join first (ListMemberGroups, on every customer profile): the index now gives them
-- in order.
DROP INDEX group_member_userid;
CREATE INDEX group_member_userid ON group_member (userid, joined_at);
