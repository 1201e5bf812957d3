-- The rewards service's core (PR13): reward definitions, grants, points accounts and ledgers, coupons.
-- Times are Unix milliseconds; amounts in fen.

-- Reward definitions. `kind`: RewardKind code; `config`: the encoded oneof content (a scrm.rewards.v1
-- PointsReward or CouponReward, by kind); `status`: RewardDefinitionStatus code; `stock_total` 0 = unlimited.
CREATE TABLE rewards_definition (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    image_url TEXT NOT NULL DEFAULT '',
    kind INTEGER NOT NULL,
    config BLOB NOT NULL,
    status INTEGER NOT NULL,
    stock_total BIGINT NOT NULL DEFAULT 0,
    issued_count BIGINT NOT NULL DEFAULT 0,
    per_recipient_limit INTEGER NOT NULL DEFAULT 0,
    store_id BIGINT NOT NULL DEFAULT 0,
    created_by TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX rewards_definition_status ON rewards_definition (status, kind, id);

-- Grants, one per idempotency key. `source`: the encoded scrm.rewards.v1.RewardSource, with its kind and the
-- ids lists filter on copied into columns. What was given: `points`/`balance_after`/`ledger_entry_id` for
-- points, `coupon_id` for a coupon.
CREATE TABLE rewards_grant (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    idempotency_key TEXT NOT NULL UNIQUE,
    reward_definition_id BIGINT NOT NULL DEFAULT 0,
    reward_name TEXT NOT NULL,
    kind INTEGER NOT NULL,
    external_userid TEXT NOT NULL DEFAULT '',
    koc_id BIGINT NOT NULL DEFAULT 0,
    source BLOB NOT NULL,
    source_kind INTEGER NOT NULL,
    campaign_id BIGINT NOT NULL DEFAULT 0,
    check_in_activity_id BIGINT NOT NULL DEFAULT 0,
    attributed_koc_id BIGINT NOT NULL DEFAULT 0,
    status INTEGER NOT NULL,
    store_id BIGINT NOT NULL DEFAULT 0,
    issued_by TEXT NOT NULL DEFAULT '',
    issued_at BIGINT NOT NULL,
    points BIGINT NOT NULL DEFAULT 0,
    balance_after BIGINT NOT NULL DEFAULT 0,
    ledger_entry_id BIGINT NOT NULL DEFAULT 0,
    coupon_id BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX rewards_grant_recipient ON rewards_grant (external_userid, id);
CREATE INDEX rewards_grant_definition ON rewards_grant (reward_definition_id, external_userid);

-- Points accounts, one row per customer who ever had points.
CREATE TABLE rewards_points_account (
    external_userid TEXT PRIMARY KEY NOT NULL,
    balance BIGINT NOT NULL DEFAULT 0,
    earned_total BIGINT NOT NULL DEFAULT 0,
    spent_total BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL
);

-- Points movements. `reason`: PointsChangeReason code. `idempotency_key`: `adjust:<key>` for AdjustPoints,
-- `grant:<id>` for grants.
CREATE TABLE rewards_points_ledger (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    idempotency_key TEXT NOT NULL UNIQUE,
    external_userid TEXT NOT NULL,
    delta BIGINT NOT NULL,
    balance_after BIGINT NOT NULL,
    reason INTEGER NOT NULL,
    grant_id BIGINT NOT NULL DEFAULT 0,
    note TEXT NOT NULL DEFAULT '',
    operator_userid TEXT NOT NULL DEFAULT '',
    occurred_at BIGINT NOT NULL
);
CREATE INDEX rewards_points_ledger_customer ON rewards_points_ledger (external_userid, id);

-- Issued coupons. `status`: CouponStatus code as stored (AVAILABLE or REDEEMED; expiry is derived from
-- valid_until when read). `store_ids`: comma-separated applicable stores, empty = every store.
-- `redeem_key`: the RedeemCoupon idempotency key, NULL until redeemed.
CREATE TABLE rewards_coupon (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    code TEXT NOT NULL UNIQUE,
    reward_definition_id BIGINT NOT NULL,
    grant_id BIGINT NOT NULL,
    external_userid TEXT NOT NULL,
    name TEXT NOT NULL,
    face_value_fen BIGINT NOT NULL,
    threshold_fen BIGINT NOT NULL,
    valid_from BIGINT NOT NULL,
    valid_until BIGINT NOT NULL,
    store_ids TEXT NOT NULL DEFAULT '',
    usage_note TEXT NOT NULL DEFAULT '',
    status INTEGER NOT NULL,
    attributed_koc_id BIGINT NOT NULL DEFAULT 0,
    issued_at BIGINT NOT NULL,
    redeemed_at BIGINT,
    redeemed_by TEXT NOT NULL DEFAULT '',
    redeemed_store_id BIGINT NOT NULL DEFAULT 0,
    order_no TEXT NOT NULL DEFAULT '',
    order_amount_fen BIGINT NOT NULL DEFAULT 0,
    discount_fen BIGINT NOT NULL DEFAULT 0,
    redeem_key TEXT UNIQUE
);
CREATE INDEX rewards_coupon_customer ON rewards_coupon (external_userid, id);
