-- External contacts (WeCom 客户) as the customer service knows them.
CREATE TABLE customer_contact (
    external_userid VARCHAR(64) NOT NULL PRIMARY KEY,
    name VARCHAR(255) NOT NULL,
    avatar VARCHAR(1024) NOT NULL DEFAULT '',
    contact_type INT NOT NULL DEFAULT 1,
    unionid VARCHAR(64) NULL,
    store_id VARCHAR(64) NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    KEY customer_contact_store (store_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
