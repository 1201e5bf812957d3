-- Orders, members, notes and spend levels: the scrm side of the customer profile.
CREATE INDEX customer_contact_unionid ON customer_contact (unionid);

-- Orders imported from the data platform, one row per order number. `external_userid` is NULL while the
-- buyer matches no customer; the buyer fields given are kept so that a later member record can link it.
-- `status` is an OrderStatus code; times are Unix ms; `items` is a JSON array; `coupon_codes` comma-separated.
CREATE TABLE customer_order (
    order_no VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL PRIMARY KEY,
    external_userid VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
    member_no VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL DEFAULT '',
    buyer_unionid VARCHAR(64) NOT NULL DEFAULT '',
    buyer_phone VARCHAR(32) NOT NULL DEFAULT '',
    store_id BIGINT NOT NULL DEFAULT 0,
    store_code VARCHAR(64) NOT NULL DEFAULT '',
    channel VARCHAR(64) NOT NULL DEFAULT '',
    status INT NOT NULL,
    amount_fen BIGINT NOT NULL,
    discount_fen BIGINT NOT NULL DEFAULT 0,
    refund_fen BIGINT NOT NULL DEFAULT 0,
    paid_at BIGINT NULL,
    refunded_at BIGINT NULL,
    items TEXT NOT NULL,
    coupon_codes VARCHAR(1024) NOT NULL DEFAULT '',
    source VARCHAR(255) NOT NULL DEFAULT '',
    updated_at BIGINT NOT NULL,
    imported_at BIGINT NOT NULL,
    KEY customer_order_buyer (external_userid, paid_at),
    KEY customer_order_member (member_no),
    KEY customer_order_paid (paid_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- Each customer's spend, kept up to date by order imports: the profile reads it with one point query.
CREATE TABLE customer_spend (
    external_userid VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL PRIMARY KEY,
    total_spend_fen BIGINT NOT NULL,
    order_count BIGINT NOT NULL,
    first_purchase_at BIGINT NULL,
    last_purchase_at BIGINT NULL,
    updated_at BIGINT NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- Members (会员) from the data platform. `matched_by` is a MemberMatch code.
CREATE TABLE customer_member (
    member_no VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL PRIMARY KEY,
    name VARCHAR(255) NOT NULL DEFAULT '',
    phone VARCHAR(32) NOT NULL DEFAULT '',
    unionid VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL DEFAULT '',
    external_userid VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
    matched_by INT NOT NULL DEFAULT 0,
    store_code VARCHAR(64) NOT NULL DEFAULT '',
    member_tier VARCHAR(255) NOT NULL DEFAULT '',
    registered_at BIGINT NULL,
    updated_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    KEY customer_member_phone (phone),
    KEY customer_member_unionid (unionid),
    KEY customer_member_customer (external_userid)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- Notes (跟进记录) written in scrm; deleted ones are removed.
CREATE TABLE customer_note (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    external_userid VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    content TEXT NOT NULL,
    author_id VARCHAR(64) NOT NULL,
    author_name VARCHAR(255) NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    KEY customer_note_customer (external_userid, id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- The spend tiers defining customer levels, by rank from 1.
CREATE TABLE customer_level_tier (
    level INT NOT NULL PRIMARY KEY,
    name VARCHAR(64) NOT NULL,
    min_spend_fen BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
