-- Cash grants to KOCs (REWARD_KIND_CASH): the amount credited and its entry in the KOC earnings ledger.
ALTER TABLE rewards_grant ADD COLUMN cash_fen BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rewards_grant ADD COLUMN earnings_entry_id BIGINT NOT NULL DEFAULT 0;

-- The KOC earnings ledger. `kind`: KocEarningsKind code; `day`: the corp-timezone day (YYYY-MM-DD) it counts for.
-- Written today by cash grants (task rewards, commissions, other rewards).
CREATE TABLE rewards_koc_earnings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    koc_id BIGINT NOT NULL,
    kind INTEGER NOT NULL,
    amount_fen BIGINT NOT NULL,
    external_userid TEXT NOT NULL DEFAULT '',
    chat_id TEXT NOT NULL DEFAULT '',
    campaign_id BIGINT NOT NULL DEFAULT 0,
    coupon_id BIGINT NOT NULL DEFAULT 0,
    grant_id BIGINT NOT NULL DEFAULT 0,
    koc_task_id BIGINT NOT NULL DEFAULT 0,
    order_no TEXT NOT NULL DEFAULT '',
    order_amount_fen BIGINT NOT NULL DEFAULT 0,
    day TEXT NOT NULL,
    occurred_at BIGINT NOT NULL
);
CREATE INDEX rewards_koc_earnings_koc ON rewards_koc_earnings (koc_id, id);
