-- The activity refresh (every minute) counts each group's current members who spoke in the last 30 days: the
-- index gives them as a range of recent speakers instead of a scan of every member.
CREATE INDEX group_member_last_message ON group_member (last_message_at, left_at);
