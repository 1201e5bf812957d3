-- Media a broadcast uploaded to WeCom (media/upload) before its tasks: one row per attachment, reused
-- by every owner's task and replaced when older than WeCom's 3-day media lifetime. Times are Unix milliseconds.
CREATE TABLE messaging_broadcast_media (
    broadcast_id BIGINT NOT NULL,
    attachment_index INT NOT NULL,
    media_id VARCHAR(255) NOT NULL,
    uploaded_at BIGINT NOT NULL,
    PRIMARY KEY (broadcast_id, attachment_index)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
