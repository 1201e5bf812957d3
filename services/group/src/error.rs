//! Errors of the group service, mapped once to gRPC statuses.

use scrm_kernel::{ApiError, ErrorCode};

/// What can fail in the group service.
#[derive(Debug, thiserror::Error)]
pub enum GroupError {
    /// An error the caller should see as it is (bad input, no permission, not found).
    #[error(transparent)]
    Api(#[from] ApiError),
    /// The database failed.
    #[error("group storage failed: {0}")]
    Storage(#[from] sqlx::Error),
}

impl From<GroupError> for tonic::Status {
    fn from(error: GroupError) -> Self {
        match error {
            GroupError::Api(error) => error.into(),
            GroupError::Storage(error) => {
                tracing::error!(%error, "group storage failed");
                ApiError::new(ErrorCode::Unavailable, "group data is temporarily unavailable").into()
            }
        }
    }
}
