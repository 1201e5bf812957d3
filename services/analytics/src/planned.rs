//! The RPCs of `scrm.analytics.v1` whose bodies come with a later feature. Each answers
//! `UNIMPLEMENTED` with the feature's name until it lands; remove its line when it does.

use scrm_kernel::rpc::PlannedRpc;

/// Planned RPCs: method name and the feature that will build it.
pub const PLANNED: &[PlannedRpc] = &[
    ("GetDashboard", "PR16 私域运营看板 — not scheduled yet"),
    ("GetLifecycleFunnel", "PR17 用户生命周期分析 — not scheduled yet"),
    ("GetKocBoard", "PR15 KOC收益看板 — not scheduled yet"),
];
