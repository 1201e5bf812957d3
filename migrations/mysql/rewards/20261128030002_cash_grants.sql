-- Cash grants to KOCs (REWARD_KIND_CASH): the amount credited and its entry in the KOC earnings ledger.
ALTER TABLE rewards_grant
    ADD COLUMN cash_fen BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN earnings_entry_id BIGINT NOT NULL DEFAULT 0;

-- The KOC earnings ledger. `kind`: KocEarningsKind code; `day`: the corp-timezone day (YYYY-MM-DD) it counts for.
-- Written today by cash grants (task rewards, commissions, other rewards).
CREATE TABLE rewards_koc_earnings (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    koc_id BIGINT NOT NULL,
    kind INT NOT NULL,
    amount_fen BIGINT NOT NULL,
    external_userid VARCHAR(128) NOT NULL DEFAULT '',
    chat_id VARCHAR(128) NOT NULL DEFAULT '',
    campaign_id BIGINT NOT NULL DEFAULT 0,
    coupon_id BIGINT NOT NULL DEFAULT 0,
    grant_id BIGINT NOT NULL DEFAULT 0,
    koc_task_id BIGINT NOT NULL DEFAULT 0,
    order_no VARCHAR(128) NOT NULL DEFAULT '',
    order_amount_fen BIGINT NOT NULL DEFAULT 0,
    day CHAR(10) NOT NULL,
    occurred_at BIGINT NOT NULL,
    KEY rewards_koc_earnings_koc (koc_id, id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
