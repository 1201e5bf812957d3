//! Errors of the rewards service, mapped once to gRPC statuses.

use scrm_kernel::{ApiError, ErrorCode};

/// What can fail in the rewards service.
#[derive(Debug, thiserror::Error)]
pub enum RewardsError {
    /// An error the caller should see as it is (bad input, not found, refused).
    #[error(transparent)]
    Api(#[from] ApiError),
    /// The database failed.
    #[error("rewards storage failed: {0}")]
    Storage(#[from] sqlx::Error),
}

impl From<RewardsError> for tonic::Status {
    fn from(error: RewardsError) -> Self {
        match error {
            RewardsError::Api(error) => error.into(),
            RewardsError::Storage(error) => {
                tracing::error!(%error, "rewards storage failed");
                ApiError::new(ErrorCode::Unavailable, "rewards data is temporarily unavailable").into()
            }
        }
    }
}
