//! The RPCs of `scrm.rewards.v1` whose bodies come with a later feature. Each answers
//! `UNIMPLEMENTED` with the feature's name until it lands; remove its line when it does.

use scrm_kernel::rpc::PlannedRpc;

/// Planned RPCs: method name and the feature that will build it.
pub const PLANNED: &[PlannedRpc] = &[
    ("FulfillGrant", "PR13 奖励发放 (blind boxes) — not scheduled yet"),
    ("ListKocEarnings", "PR15 KOC收益看板 — not scheduled yet"),
    ("GetKocEarningsSummary", "PR15 KOC收益看板 — not scheduled yet"),
    ("GetKocEarningsPolicy", "PR15 KOC收益看板 — not scheduled yet"),
    ("UpdateKocEarningsPolicy", "PR15 KOC收益看板 — not scheduled yet"),
];
