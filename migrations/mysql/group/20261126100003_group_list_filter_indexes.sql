-- Group list pages (PR04) among 100,000 groups: indexes for the owner and store filters with their usual sorts.
CREATE INDEX group_chat_owner_messages_7d ON group_chat (owner_userid, messages_7d, id);
CREATE INDEX group_chat_store_members ON group_chat (store_id, member_count, id);
