-- Stores (门店): departments flagged as stores, with the attributes scrm keeps for them. A row stays when the
-- flag is cleared, so a later re-flag keeps the code and address.
CREATE TABLE identity_store (
    department_id BIGINT NOT NULL PRIMARY KEY,
    is_store INTEGER NOT NULL,
    store_code TEXT,
    address TEXT NOT NULL DEFAULT '',
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX identity_store_code ON identity_store (store_code);
