//! Who may call each `MessagingService` method. Reads are open to every signed-in role; broadcasts are
//! scoped to the sender's stores in the handlers.

use scrm_kernel::Role;
use scrm_kernel::permissions::{Access, RpcAccess};

/// Operators, and administrators (scrm's own work acts as one).
const WRITERS: Access = Access::Roles(&[Role::Operator, Role::Admin]);
/// Writers and store managers, who message their stores' groups.
const SENDERS: Access = Access::Roles(&[Role::Operator, Role::Admin, Role::StoreManager]);
const SIGNED_IN: Access = Access::SignedIn;

/// Who may call each `MessagingService` method.
pub const PERMISSIONS: &[RpcAccess] = &[
    ("CreateBroadcast", SENDERS),
    ("PreviewBroadcast", SENDERS),
    ("GetBroadcast", SIGNED_IN),
    ("ListBroadcasts", SIGNED_IN),
    ("CancelBroadcast", SENDERS),
    ("RescheduleBroadcast", SENDERS),
    ("ListBroadcastGroupResults", SIGNED_IN),
    ("RemindOwners", SENDERS),
    ("CreateAutoReplyRule", WRITERS),
    ("GetAutoReplyRule", SIGNED_IN),
    ("ListAutoReplyRules", SIGNED_IN),
    ("UpdateAutoReplyRule", WRITERS),
    ("DeleteAutoReplyRule", WRITERS),
    ("GetAutoReplySettings", SIGNED_IN),
    ("UpdateAutoReplySettings", WRITERS),
    ("TestAutoReply", WRITERS),
    ("ListAutoReplies", SIGNED_IN),
    ("RecordAutoReplyFeedback", SIGNED_IN),
    ("GetAutoReplyStats", SIGNED_IN),
    ("CreateReminder", SENDERS),
    ("GetReminder", SIGNED_IN),
    ("ListReminders", SIGNED_IN),
    ("UpdateReminder", SENDERS),
    ("DeleteReminder", SENDERS),
    ("ListReminderRuns", SIGNED_IN),
    ("UpsertGroupRobot", WRITERS),
    ("ListGroupRobots", SIGNED_IN),
    ("DeleteGroupRobot", WRITERS),
    ("SendAppMessage", WRITERS),
    ("SendRobotMessage", WRITERS),
];
