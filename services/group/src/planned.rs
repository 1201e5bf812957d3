//! The RPCs of `scrm.group.v1` whose bodies come with a later feature. Each answers
//! `UNIMPLEMENTED` with the feature's name until it lands; remove its line when it does.

use scrm_kernel::rpc::PlannedRpc;

/// Planned RPCs: method name and the feature that will build it.
pub const PLANNED: &[PlannedRpc] = &[
    ("CreateJoinWay", "PR04 群活码 — issue #5"),
    ("GetJoinWay", "PR04 群活码 — issue #5"),
    ("ListJoinWays", "PR04 群活码 — issue #5"),
    ("UpdateJoinWay", "PR04 群活码 — issue #5"),
    ("DeleteJoinWay", "PR04 群活码 — issue #5"),
    ("CreateWelcomeRule", "PR05 入群欢迎语 — issue #5"),
    ("GetWelcomeRule", "PR05 入群欢迎语 — issue #5"),
    ("ListWelcomeRules", "PR05 入群欢迎语 — issue #5"),
    ("UpdateWelcomeRule", "PR05 入群欢迎语 — issue #5"),
    ("DeleteWelcomeRule", "PR05 入群欢迎语 — issue #5"),
    ("GetWelcomeCoverage", "PR05 入群欢迎语 — issue #5"),
    ("RecordWelcomeTemplateApplied", "PR05 入群欢迎语 — issue #5"),
    ("SendContactWelcome", "PR05 入群欢迎语 — issue #5"),
    ("GetWelcomeSettings", "PR05 入群欢迎语 — issue #5"),
    ("UpdateWelcomeSettings", "PR05 入群欢迎语 — issue #5"),
];
