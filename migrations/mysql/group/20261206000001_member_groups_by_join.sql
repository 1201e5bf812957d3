-- A member's groups, latest join first (ListMemberGroups, on every customer profile): the index now gives them
-- in order.
ALTER TABLE group_member
    DROP INDEX group_member_userid,
    ADD INDEX group_member_userid (userid, joined_at);
