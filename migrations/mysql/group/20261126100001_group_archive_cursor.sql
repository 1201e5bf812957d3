-- Where the chat-archive worker stands in each feed it follows: the highest `seq` whose records are counted.
-- feed: the feed's name ('chat_archive'); updated_at: Unix ms.
CREATE TABLE group_feed_cursor (
    feed VARCHAR(64) NOT NULL PRIMARY KEY,
    seq BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
