-- Where the chat-archive worker stands in each feed it follows: the highest `seq` whose records are counted.
-- feed: the feed's name ('chat_archive'); updated_at: Unix ms.
CREATE TABLE group_feed_cursor (
    feed TEXT PRIMARY KEY NOT NULL,
    seq BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
