-- The coupon a quick-reply send issued through RewardsService.IssueReward: its id and redemption code
-- (0 and empty unless the coupon was issued).
ALTER TABLE customer_quick_reply_send
    ADD COLUMN reward_coupon_id BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN reward_coupon_code VARCHAR(128) NOT NULL DEFAULT '';
