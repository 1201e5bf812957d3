-- The corp binding as changed through UpdateCorpSettings and RotateCallbackKeys (one row, id 1). A NULL column
-- keeps the value of the configuration; an empty string clears it. Secrets are write-only through the API.
CREATE TABLE identity_corp_settings (
    id INT NOT NULL PRIMARY KEY,
    corp_id VARCHAR(64) NULL,
    corp_name VARCHAR(255) NULL,
    agentid BIGINT NULL,
    secret VARCHAR(255) NULL,
    callback_token VARCHAR(64) NULL,
    encoding_aes_key VARCHAR(64) NULL,
    public_base_url VARCHAR(512) NULL,
    timezone VARCHAR(64) NULL,
    default_staff_role VARCHAR(32) NULL,
    updated_at BIGINT NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
