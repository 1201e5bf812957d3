//! Errors of the identity service, mapped once to gRPC statuses.

use scrm_kernel::{ApiError, ErrorCode};

/// What can fail in the identity service.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// An error the caller should see as it is (bad input, no permission, not found).
    #[error(transparent)]
    Api(#[from] ApiError),
    /// The database failed.
    #[error("identity storage failed: {0}")]
    Storage(#[from] sqlx::Error),
}

impl From<IdentityError> for tonic::Status {
    fn from(error: IdentityError) -> Self {
        match error {
            IdentityError::Api(error) => error.into(),
            IdentityError::Storage(error) => {
                tracing::error!(%error, "identity storage failed");
                ApiError::new(ErrorCode::Unavailable, "identity data is temporarily unavailable").into()
            }
        }
    }
}
