//! Pure rules of the identity service.

use scrm_proto::identity::v1::{CallbackEventState, SyncCounts, SyncEntityCounts, SyncPhase};
use serde::{Deserialize, Serialize};

/// Longest dedup key the inbox accepts.
pub const MAX_DEDUP_KEY_LEN: usize = 128;

/// Processing state of an inbox event, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InboxState {
    /// Stored, waiting to be processed.
    Pending,
    /// Applied.
    Processed,
    /// Processing failed after retries.
    Failed,
    /// Understood, not relevant to scrm.
    Ignored,
}

impl InboxState {
    /// The stored code.
    pub fn code(self) -> i32 {
        self.to_proto() as i32
    }

    /// The state of a stored code; unknown codes read as failed, so they surface to admins.
    pub fn from_code(code: i32) -> InboxState {
        match CallbackEventState::try_from(code) {
            Ok(CallbackEventState::Pending) => InboxState::Pending,
            Ok(CallbackEventState::Processed) => InboxState::Processed,
            Ok(CallbackEventState::Ignored) => InboxState::Ignored,
            _ => InboxState::Failed,
        }
    }

    /// The contract's enum value.
    pub fn to_proto(self) -> CallbackEventState {
        match self {
            InboxState::Pending => CallbackEventState::Pending,
            InboxState::Processed => CallbackEventState::Processed,
            InboxState::Failed => CallbackEventState::Failed,
            InboxState::Ignored => CallbackEventState::Ignored,
        }
    }

    /// The state a list filter asks for; `None` means any.
    pub fn from_filter(state: CallbackEventState) -> Option<InboxState> {
        match state {
            CallbackEventState::Unspecified => None,
            CallbackEventState::Pending => Some(InboxState::Pending),
            CallbackEventState::Processed => Some(InboxState::Processed),
            CallbackEventState::Failed => Some(InboxState::Failed),
            CallbackEventState::Ignored => Some(InboxState::Ignored),
        }
    }
}

/// Processing attempts of an inbox event before it is left failed (an admin may reprocess it).
pub const MAX_ATTEMPTS: i32 = 6;

/// Wait before the next attempt of an event that failed `attempts` times: 2 s doubling up to 5 minutes;
/// `None` once [`MAX_ATTEMPTS`] attempts failed.
pub fn retry_delay(attempts: i32) -> Option<std::time::Duration> {
    if attempts >= MAX_ATTEMPTS {
        return None;
    }
    let exponent = attempts.clamp(1, 16) as u32 - 1;
    Some(std::time::Duration::from_secs((2u64 << exponent).min(300)))
}

/// Stored status of a staff member scrm saw disappear from WeCom (WeCom's own 5, 退出企业).
pub const STAFF_STATUS_RESIGNED: i32 = 5;

/// What a sync did to one kind of entity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EntityCounts {
    /// Read from WeCom.
    pub seen: i64,
    /// New in scrm.
    pub created: i64,
    /// Known and changed.
    pub updated: i64,
    /// Known and identical.
    pub unchanged: i64,
    /// Gone from WeCom.
    pub deleted: i64,
}

impl EntityCounts {
    fn to_proto(self) -> SyncEntityCounts {
        SyncEntityCounts {
            seen: self.seen,
            created: self.created,
            updated: self.updated,
            unchanged: self.unchanged,
            deleted: self.deleted,
        }
    }
}

/// Per-entity counts of a sync run, stored as JSON.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Counts {
    /// Departments.
    pub departments: EntityCounts,
    /// Staff members.
    pub staff: EntityCounts,
    /// Corp tags.
    pub corp_tags: EntityCounts,
    /// External contacts.
    pub external_contacts: EntityCounts,
    /// Follow relations.
    pub follow_users: EntityCounts,
    /// Customer groups.
    pub group_chats: EntityCounts,
}

impl Counts {
    /// The stored JSON.
    pub fn to_json(self) -> String {
        serde_json::to_string(&self).unwrap_or_else(|_| "{}".to_owned())
    }

    /// Reads stored JSON; unreadable text reads as zero counts.
    pub fn from_json(text: &str) -> Counts {
        serde_json::from_str(text).unwrap_or_default()
    }

    /// The contract's message.
    pub fn to_proto(self) -> SyncCounts {
        SyncCounts {
            departments: Some(self.departments.to_proto()),
            staff: Some(self.staff.to_proto()),
            corp_tags: Some(self.corp_tags.to_proto()),
            external_contacts: Some(self.external_contacts.to_proto()),
            follow_users: Some(self.follow_users.to_proto()),
            group_chats: Some(self.group_chats.to_proto()),
        }
    }
}

/// Share of a full run each phase stands for, in percent, and the percent done before it starts.
pub fn phase_span(phase: SyncPhase) -> (f64, f64) {
    match phase {
        SyncPhase::Unspecified => (0.0, 0.0),
        SyncPhase::Departments => (0.0, 5.0),
        SyncPhase::Staff => (5.0, 15.0),
        SyncPhase::CorpTags => (20.0, 0.0),
        SyncPhase::ExternalContacts => (20.0, 50.0),
        SyncPhase::GroupChats => (70.0, 25.0),
        SyncPhase::Reconcile => (95.0, 5.0),
        SyncPhase::Done => (100.0, 0.0),
    }
}

/// Overall percent when `done` of `total` items of `phase` are done (`total` 0: phase start).
pub fn percent(phase: SyncPhase, done: i64, total: i64) -> f64 {
    let (start, span) = phase_span(phase);
    if total <= 0 {
        return start;
    }
    start + span * (done.min(total) as f64 / total as f64)
}

/// A number with thousands separators, as the progress messages show it: `12,000`.
pub fn grouped(number: i64) -> String {
    let digits = number.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if number < 0 {
        out.push('-');
    }
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// The progress line for `phase`, e.g. `正在同步客户 1,200 / 5,000`.
pub fn progress_message(phase: SyncPhase, done: i64, total: i64) -> String {
    let what = match phase {
        SyncPhase::Unspecified => return "准备同步".to_owned(),
        SyncPhase::Departments => "部门",
        SyncPhase::Staff => "成员",
        SyncPhase::CorpTags => "企业标签",
        SyncPhase::ExternalContacts => "客户",
        SyncPhase::GroupChats => "客户群",
        SyncPhase::Reconcile => return "正在核对离职成员".to_owned(),
        SyncPhase::Done => return "同步完成".to_owned(),
    };
    if total > 0 {
        format!("正在同步{what} {} / {}", grouped(done), grouped(total))
    } else {
        format!("正在同步{what} {}", grouped(done))
    }
}

/// A stable 64-bit content fingerprint (FNV-1a) of `fields`, as 16 hex digits.
pub fn fingerprint(fields: &[&str]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for field in fields {
        for byte in field.bytes().chain([0x1f]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip_through_their_codes() {
        for state in [InboxState::Pending, InboxState::Processed, InboxState::Failed, InboxState::Ignored] {
            assert_eq!(InboxState::from_code(state.code()), state);
            assert_eq!(InboxState::from_filter(state.to_proto()), Some(state));
        }
        assert_eq!(InboxState::from_code(99), InboxState::Failed);
        assert_eq!(InboxState::from_filter(CallbackEventState::Unspecified), None);
    }

    #[test]
    fn retries_back_off_then_stop() {
        let delays: Vec<_> = (1..=MAX_ATTEMPTS).map(|attempts| retry_delay(attempts).map(|d| d.as_secs())).collect();
        assert_eq!(delays, [Some(2), Some(4), Some(8), Some(16), Some(32), None]);
        assert_eq!(retry_delay(0).map(|d| d.as_secs()), Some(2));
    }

    #[test]
    fn progress_lines_group_thousands() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(1_200), "1,200");
        assert_eq!(grouped(200_000), "200,000");
        assert_eq!(grouped(-1_234_567), "-1,234,567");
        assert_eq!(progress_message(SyncPhase::ExternalContacts, 1_200, 5_000), "正在同步客户 1,200 / 5,000");
        assert_eq!(percent(SyncPhase::ExternalContacts, 25, 50), 45.0);
        assert_eq!(percent(SyncPhase::Done, 0, 0), 100.0);
    }

    #[test]
    fn fingerprints_are_stable_and_field_separated() {
        assert_eq!(fingerprint(&["a", "b"]), fingerprint(&["a", "b"]));
        assert_ne!(fingerprint(&["ab", ""]), fingerprint(&["a", "b"]));
        assert_eq!(fingerprint(&[]).len(), 16);
    }

    #[test]
    fn counts_round_trip_through_json() {
        let mut counts = Counts::default();
        counts.staff.seen = 20;
        counts.group_chats.unchanged = 7;
        assert_eq!(Counts::from_json(&counts.to_json()), counts);
        assert_eq!(Counts::from_json("not json"), Counts::default());
    }
}
