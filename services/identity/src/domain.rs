//! Pure rules of the identity service.

use scrm_proto::identity::v1::CallbackEventState;

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
}
