-- Stores (门店): departments flagged as stores, with the attributes scrm keeps for them. A row stays when the
-- flag is cleared, so a later re-flag keeps the code and address.
CREATE TABLE identity_store (
    department_id BIGINT NOT NULL PRIMARY KEY,
    is_store INT NOT NULL,
    store_code VARCHAR(64) NULL,
    address VARCHAR(512) NOT NULL DEFAULT '',
    updated_at BIGINT NOT NULL,
    UNIQUE KEY identity_store_code (store_code)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
