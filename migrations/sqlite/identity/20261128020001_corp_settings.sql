-- The corp binding as changed through UpdateCorpSettings and RotateCallbackKeys (one row, id 1). A NULL column
-- keeps the value of the configuration; an empty string clears it. Secrets are write-only through the API.
CREATE TABLE identity_corp_settings (
    id INTEGER NOT NULL PRIMARY KEY,
    corp_id TEXT,
    corp_name TEXT,
    agentid BIGINT,
    secret TEXT,
    callback_token TEXT,
    encoding_aes_key TEXT,
    public_base_url TEXT,
    timezone TEXT,
    default_staff_role TEXT,
    updated_at BIGINT NOT NULL
);
