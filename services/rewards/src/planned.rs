//! The RPCs of `scrm.rewards.v1` whose bodies come with a later feature. Each answers
//! `UNIMPLEMENTED` with the feature's name until it lands; remove its line when it does.

use scrm_kernel::rpc::PlannedRpc;

/// Planned RPCs: method name and the feature that will build it.
pub const PLANNED: &[PlannedRpc] = &[
    ("CreateRewardDefinition", "PR13 奖励发放 — not scheduled yet"),
    ("GetRewardDefinition", "PR13 奖励发放 — not scheduled yet"),
    ("ListRewardDefinitions", "PR13 奖励发放 — not scheduled yet"),
    ("UpdateRewardDefinition", "PR13 奖励发放 — not scheduled yet"),
    ("ArchiveRewardDefinition", "PR13 奖励发放 — not scheduled yet"),
    ("IssueReward", "PR13 奖励发放 — not scheduled yet"),
    ("GetGrant", "PR13 奖励发放 — not scheduled yet"),
    ("ListGrants", "PR13 奖励发放 — not scheduled yet"),
    ("FulfillGrant", "PR13 奖励发放 — not scheduled yet"),
    ("GetPointsBalance", "PR13 奖励发放 — not scheduled yet"),
    ("ListPointsLedger", "PR13 奖励发放 — not scheduled yet"),
    ("AdjustPoints", "PR13 奖励发放 — not scheduled yet"),
    ("ListCoupons", "PR13 奖励发放 — not scheduled yet"),
    ("GetCoupon", "PR13 奖励发放 — not scheduled yet"),
    ("RedeemCoupon", "PR13 奖励发放 — not scheduled yet"),
    ("ListKocEarnings", "PR15 KOC收益看板 — not scheduled yet"),
    ("GetKocEarningsSummary", "PR15 KOC收益看板 — not scheduled yet"),
    ("GetKocEarningsPolicy", "PR15 KOC收益看板 — not scheduled yet"),
    ("UpdateKocEarningsPolicy", "PR15 KOC收益看板 — not scheduled yet"),
];
