-- The rewards service's core (PR13): reward definitions, grants, points accounts and ledgers, coupons.
-- Times are Unix milliseconds; amounts in fen.

-- Reward definitions. `kind`: RewardKind code; `config`: the encoded oneof content (a scrm.rewards.v1
-- PointsReward or CouponReward, by kind); `status`: RewardDefinitionStatus code; `stock_total` 0 = unlimited.
CREATE TABLE rewards_definition (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(255) NOT NULL,
    description VARCHAR(2048) NOT NULL DEFAULT '',
    image_url VARCHAR(1024) NOT NULL DEFAULT '',
    kind INT NOT NULL,
    config BLOB NOT NULL,
    status INT NOT NULL,
    stock_total BIGINT NOT NULL DEFAULT 0,
    issued_count BIGINT NOT NULL DEFAULT 0,
    per_recipient_limit INT NOT NULL DEFAULT 0,
    store_id BIGINT NOT NULL DEFAULT 0,
    created_by VARCHAR(128) NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
CREATE INDEX rewards_definition_status ON rewards_definition (status, kind, id);

-- Grants, one per idempotency key. `source`: the encoded scrm.rewards.v1.RewardSource, with its kind and the
-- ids lists filter on copied into columns. What was given: `points`/`balance_after`/`ledger_entry_id` for
-- points, `coupon_id` for a coupon.
CREATE TABLE rewards_grant (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    idempotency_key VARCHAR(255) NOT NULL UNIQUE,
    reward_definition_id BIGINT NOT NULL DEFAULT 0,
    reward_name VARCHAR(255) NOT NULL,
    kind INT NOT NULL,
    external_userid VARCHAR(128) NOT NULL DEFAULT '',
    koc_id BIGINT NOT NULL DEFAULT 0,
    source BLOB NOT NULL,
    source_kind INT NOT NULL,
    campaign_id BIGINT NOT NULL DEFAULT 0,
    check_in_activity_id BIGINT NOT NULL DEFAULT 0,
    attributed_koc_id BIGINT NOT NULL DEFAULT 0,
    status INT NOT NULL,
    store_id BIGINT NOT NULL DEFAULT 0,
    issued_by VARCHAR(128) NOT NULL DEFAULT '',
    issued_at BIGINT NOT NULL,
    points BIGINT NOT NULL DEFAULT 0,
    balance_after BIGINT NOT NULL DEFAULT 0,
    ledger_entry_id BIGINT NOT NULL DEFAULT 0,
    coupon_id BIGINT NOT NULL DEFAULT 0
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
CREATE INDEX rewards_grant_recipient ON rewards_grant (external_userid, id);
CREATE INDEX rewards_grant_definition ON rewards_grant (reward_definition_id, external_userid);

-- Points accounts, one row per customer who ever had points.
CREATE TABLE rewards_points_account (
    external_userid VARCHAR(128) NOT NULL PRIMARY KEY,
    balance BIGINT NOT NULL DEFAULT 0,
    earned_total BIGINT NOT NULL DEFAULT 0,
    spent_total BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- Points movements. `reason`: PointsChangeReason code. `idempotency_key`: `adjust:<key>` for AdjustPoints,
-- `grant:<id>` for grants.
CREATE TABLE rewards_points_ledger (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    idempotency_key VARCHAR(255) NOT NULL UNIQUE,
    external_userid VARCHAR(128) NOT NULL,
    delta BIGINT NOT NULL,
    balance_after BIGINT NOT NULL,
    reason INT NOT NULL,
    grant_id BIGINT NOT NULL DEFAULT 0,
    note VARCHAR(1024) NOT NULL DEFAULT '',
    operator_userid VARCHAR(128) NOT NULL DEFAULT '',
    occurred_at BIGINT NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
CREATE INDEX rewards_points_ledger_customer ON rewards_points_ledger (external_userid, id);

-- Issued coupons. `status`: CouponStatus code as stored (AVAILABLE or REDEEMED; expiry is derived from
-- valid_until when read). `store_ids`: comma-separated applicable stores, empty = every store.
-- `redeem_key`: the RedeemCoupon idempotency key, NULL until redeemed.
CREATE TABLE rewards_coupon (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    code VARCHAR(128) NOT NULL UNIQUE,
    reward_definition_id BIGINT NOT NULL,
    grant_id BIGINT NOT NULL,
    external_userid VARCHAR(128) NOT NULL,
    name VARCHAR(255) NOT NULL,
    face_value_fen BIGINT NOT NULL,
    threshold_fen BIGINT NOT NULL,
    valid_from BIGINT NOT NULL,
    valid_until BIGINT NOT NULL,
    store_ids VARCHAR(2048) NOT NULL DEFAULT '',
    usage_note VARCHAR(1024) NOT NULL DEFAULT '',
    status INT NOT NULL,
    attributed_koc_id BIGINT NOT NULL DEFAULT 0,
    issued_at BIGINT NOT NULL,
    redeemed_at BIGINT NULL,
    redeemed_by VARCHAR(128) NOT NULL DEFAULT '',
    redeemed_store_id BIGINT NOT NULL DEFAULT 0,
    order_no VARCHAR(128) NOT NULL DEFAULT '',
    order_amount_fen BIGINT NOT NULL DEFAULT 0,
    discount_fen BIGINT NOT NULL DEFAULT 0,
    redeem_key VARCHAR(255) NULL UNIQUE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
CREATE INDEX rewards_coupon_customer ON rewards_coupon (external_userid, id);
