-- WeCom callback events, stored under their dedup key before the gateway answers WeCom.
CREATE TABLE identity_callback_inbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    dedup_key TEXT NOT NULL UNIQUE,
    event TEXT NOT NULL,
    change_type TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    state INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    processed_at BIGINT,
    raw_xml TEXT NOT NULL
);
CREATE INDEX identity_callback_inbox_state ON identity_callback_inbox (state, id);
