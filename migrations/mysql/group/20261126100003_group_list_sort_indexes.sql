-- Group list pages (PR04) among 100,000 groups: indexes for the sorts and filters operators use most.
CREATE INDEX group_chat_messages_30d ON group_chat (messages_30d, id);
CREATE INDEX group_chat_lurker ON group_chat (lurker_ratio_bps, id);
CREATE INDEX group_chat_owner_messages_7d ON group_chat (owner_userid, messages_7d, id);
CREATE INDEX group_chat_store_members ON group_chat (store_id, member_count, id);
