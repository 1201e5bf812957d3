//! The RPCs of `scrm.messaging.v1` whose bodies come with a later feature. Each answers
//! `UNIMPLEMENTED` with the feature's name until it lands; remove its line when it does.

use scrm_kernel::rpc::PlannedRpc;

/// Planned RPCs: method name and the feature that will build it.
pub const PLANNED: &[PlannedRpc] = &[
    ("CreateAutoReplyRule", "PR08 自动回复 — not scheduled yet"),
    ("GetAutoReplyRule", "PR08 自动回复 — not scheduled yet"),
    ("ListAutoReplyRules", "PR08 自动回复 — not scheduled yet"),
    ("UpdateAutoReplyRule", "PR08 自动回复 — not scheduled yet"),
    ("DeleteAutoReplyRule", "PR08 自动回复 — not scheduled yet"),
    ("GetAutoReplySettings", "PR08 自动回复 — not scheduled yet"),
    ("UpdateAutoReplySettings", "PR08 自动回复 — not scheduled yet"),
    ("TestAutoReply", "PR08 自动回复 — not scheduled yet"),
    ("ListAutoReplies", "PR08 自动回复 — not scheduled yet"),
    ("RecordAutoReplyFeedback", "PR08 自动回复 — not scheduled yet"),
    ("GetAutoReplyStats", "PR08 自动回复 — not scheduled yet"),
    ("CreateReminder", "PR09 定时提醒 — not scheduled yet"),
    ("GetReminder", "PR09 定时提醒 — not scheduled yet"),
    ("ListReminders", "PR09 定时提醒 — not scheduled yet"),
    ("UpdateReminder", "PR09 定时提醒 — not scheduled yet"),
    ("DeleteReminder", "PR09 定时提醒 — not scheduled yet"),
    ("ListReminderRuns", "PR09 定时提醒 — not scheduled yet"),
    ("SendAppMessage", "PR07 群预警推送 — issue #5"),
];
