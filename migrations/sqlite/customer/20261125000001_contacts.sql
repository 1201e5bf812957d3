-- External contacts (WeCom 客户) as the customer service knows them.
CREATE TABLE customer_contact (
    external_userid TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    avatar TEXT NOT NULL DEFAULT '',
    contact_type INTEGER NOT NULL DEFAULT 1,
    unionid TEXT,
    store_id TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX customer_contact_store ON customer_contact (store_id);
