//! Errors of the messaging service, mapped once to gRPC statuses.

use scrm_kernel::{ApiError, ErrorCode};

/// What can fail in the messaging service.
#[derive(Debug, thiserror::Error)]
pub enum MessagingError {
    /// An error the caller should see as it is (bad input, no permission, not found).
    #[error(transparent)]
    Api(#[from] ApiError),
    /// The database failed.
    #[error("messaging storage failed: {0}")]
    Storage(#[from] sqlx::Error),
}

impl From<MessagingError> for tonic::Status {
    fn from(error: MessagingError) -> Self {
        match error {
            MessagingError::Api(error) => error.into(),
            MessagingError::Storage(error) => {
                tracing::error!(%error, "messaging storage failed");
                ApiError::new(ErrorCode::Unavailable, "messaging data is temporarily unavailable").into()
            }
        }
    }
}
