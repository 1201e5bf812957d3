-- Orders, members, notes and spend levels: the scrm side of the customer profile.
CREATE INDEX customer_contact_unionid ON customer_contact (unionid);

-- Orders imported from the data platform, one row per order number. `external_userid` is NULL while the
-- buyer matches no customer; the buyer fields given are kept so that a later member record can link it.
-- `status` is an OrderStatus code; times are Unix ms; `items` is a JSON array; `coupon_codes` comma-separated.
CREATE TABLE customer_order (
    order_no TEXT PRIMARY KEY NOT NULL,
    external_userid TEXT,
    member_no TEXT NOT NULL DEFAULT '',
    buyer_unionid TEXT NOT NULL DEFAULT '',
    buyer_phone TEXT NOT NULL DEFAULT '',
    store_id BIGINT NOT NULL DEFAULT 0,
    store_code TEXT NOT NULL DEFAULT '',
    channel TEXT NOT NULL DEFAULT '',
    status INTEGER NOT NULL,
    amount_fen BIGINT NOT NULL,
    discount_fen BIGINT NOT NULL DEFAULT 0,
    refund_fen BIGINT NOT NULL DEFAULT 0,
    paid_at BIGINT,
    refunded_at BIGINT,
    items TEXT NOT NULL DEFAULT '[]',
    coupon_codes TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT '',
    updated_at BIGINT NOT NULL,
    imported_at BIGINT NOT NULL
);
CREATE INDEX customer_order_buyer ON customer_order (external_userid, paid_at);
CREATE INDEX customer_order_member ON customer_order (member_no);
CREATE INDEX customer_order_paid ON customer_order (paid_at);

-- Each customer's spend, kept up to date by order imports: the profile reads it with one point query.
CREATE TABLE customer_spend (
    external_userid TEXT PRIMARY KEY NOT NULL,
    total_spend_fen BIGINT NOT NULL,
    order_count BIGINT NOT NULL,
    first_purchase_at BIGINT,
    last_purchase_at BIGINT,
    updated_at BIGINT NOT NULL
);

-- Members (会员) from the data platform. `matched_by` is a MemberMatch code.
CREATE TABLE customer_member (
    member_no TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '',
    unionid TEXT NOT NULL DEFAULT '',
    external_userid TEXT,
    matched_by INTEGER NOT NULL DEFAULT 0,
    store_code TEXT NOT NULL DEFAULT '',
    member_tier TEXT NOT NULL DEFAULT '',
    registered_at BIGINT,
    updated_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX customer_member_phone ON customer_member (phone);
CREATE INDEX customer_member_unionid ON customer_member (unionid);
CREATE INDEX customer_member_customer ON customer_member (external_userid);

-- Notes (跟进记录) written in scrm; deleted ones are removed.
CREATE TABLE customer_note (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    external_userid TEXT NOT NULL,
    content TEXT NOT NULL,
    author_id TEXT NOT NULL,
    author_name TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);
CREATE INDEX customer_note_customer ON customer_note (external_userid, id);

-- The spend tiers defining customer levels, by rank from 1.
CREATE TABLE customer_level_tier (
    level INTEGER PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    min_spend_fen BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
