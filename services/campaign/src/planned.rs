//! The RPCs of `scrm.campaign.v1` whose bodies come with a later feature. Each answers
//! `UNIMPLEMENTED` with the feature's name until it lands; remove its line when it does.

use scrm_kernel::rpc::PlannedRpc;

/// Planned RPCs: method name and the feature that will build it.
pub const PLANNED: &[PlannedRpc] = &[
    ("CreateCheckInActivity", "PR10 群打卡 — not scheduled yet"),
    ("GetCheckInActivity", "PR10 群打卡 — not scheduled yet"),
    ("ListCheckInActivities", "PR10 群打卡 — not scheduled yet"),
    ("UpdateCheckInActivity", "PR10 群打卡 — not scheduled yet"),
    ("DeleteCheckInActivity", "PR10 群打卡 — not scheduled yet"),
    ("StartCheckInActivity", "PR10 群打卡 — not scheduled yet"),
    ("PauseCheckInActivity", "PR10 群打卡 — not scheduled yet"),
    ("EndCheckInActivity", "PR10 群打卡 — not scheduled yet"),
    ("CheckIn", "PR10 群打卡 — not scheduled yet"),
    ("ListCheckIns", "PR10 群打卡 — not scheduled yet"),
    ("GetCheckInStats", "PR10 群打卡 — not scheduled yet"),
    ("GetCheckInLeaderboard", "PR10 群打卡 — not scheduled yet"),
    ("GeneratePoster", "PR11 裂变活动配置 — not scheduled yet"),
    ("RecordConversion", "PR12 裂变追踪 — not scheduled yet"),
    ("GetInvitationTree", "PR12 裂变追踪 — not scheduled yet"),
    ("AssignKocTask", "PR14 KOC社群任务 — not scheduled yet"),
    ("GetKocTask", "PR14 KOC社群任务 — not scheduled yet"),
    ("ListKocTasks", "PR14 KOC社群任务 — not scheduled yet"),
    ("UpdateKocTask", "PR14 KOC社群任务 — not scheduled yet"),
    ("AcceptKocTask", "PR14 KOC社群任务 — not scheduled yet"),
    ("CompleteKocTask", "PR14 KOC社群任务 — not scheduled yet"),
    ("VerifyKocTask", "PR14 KOC社群任务 — not scheduled yet"),
    ("CancelKocTask", "PR14 KOC社群任务 — not scheduled yet"),
];
