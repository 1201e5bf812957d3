-- WeCom callback events, stored under their dedup key before the gateway answers WeCom.
CREATE TABLE identity_callback_inbox (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    dedup_key VARCHAR(128) NOT NULL,
    event VARCHAR(64) NOT NULL,
    change_type VARCHAR(64) NOT NULL,
    created_at BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    state INT NOT NULL,
    attempts INT NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL,
    processed_at BIGINT NULL,
    raw_xml MEDIUMTEXT NOT NULL,
    UNIQUE KEY identity_callback_inbox_dedup (dedup_key),
    KEY identity_callback_inbox_state (state, id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
