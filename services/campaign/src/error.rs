//! Errors of the campaign service, mapped once to gRPC statuses.

use scrm_kernel::{ApiError, ErrorCode};

/// What can fail in the campaign service.
#[derive(Debug, thiserror::Error)]
pub enum CampaignError {
    /// An error the caller should see as it is (bad input, no permission, not found, wrong state).
    #[error(transparent)]
    Api(#[from] ApiError),
    /// The database failed.
    #[error("campaign storage failed: {0}")]
    Storage(#[from] sqlx::Error),
}

impl From<CampaignError> for tonic::Status {
    fn from(error: CampaignError) -> Self {
        match error {
            CampaignError::Api(error) => error.into(),
            CampaignError::Storage(error) => {
                tracing::error!(%error, "campaign storage failed");
                ApiError::new(ErrorCode::Unavailable, "campaign data is temporarily unavailable").into()
            }
        }
    }
}

/// Shorthand for NOT_FOUND naming what is missing.
pub fn not_found(what: impl std::fmt::Display) -> ApiError {
    ApiError::new(ErrorCode::NotFound, format!("{what} does not exist"))
}
