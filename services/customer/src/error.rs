//! Errors of the customer service, mapped once to gRPC statuses.

use scrm_kernel::{ApiError, ErrorCode};

/// What can fail in the customer service.
#[derive(Debug, thiserror::Error)]
pub enum CustomerError {
    /// An error the caller should see as it is (bad input, no permission, not found).
    #[error(transparent)]
    Api(#[from] ApiError),
    /// The database failed.
    #[error("customer storage failed: {0}")]
    Storage(#[from] sqlx::Error),
    /// The search index failed.
    #[error("customer search failed: {0}")]
    Search(String),
    /// WeCom refused or failed a write-back.
    #[error(transparent)]
    WeCom(#[from] scrm_wecom::WeComError),
}

impl From<CustomerError> for tonic::Status {
    fn from(error: CustomerError) -> Self {
        match error {
            CustomerError::Api(error) => error.into(),
            CustomerError::Storage(error) => {
                tracing::error!(%error, "customer storage failed");
                ApiError::new(ErrorCode::Unavailable, "customer data is temporarily unavailable").into()
            }
            CustomerError::WeCom(scrm_wecom::WeComError::Api { api, errcode, errmsg }) => ApiError::new(
                ErrorCode::FailedPrecondition,
                format!("WeCom refused {api}: errcode {errcode}: {errmsg}"),
            )
            .into(),
            CustomerError::WeCom(error) => {
                tracing::error!(%error, "WeCom call failed");
                ApiError::new(ErrorCode::Unavailable, "WeCom is temporarily unavailable").into()
            }
            CustomerError::Search(error) => {
                tracing::error!(%error, "customer search failed");
                ApiError::new(ErrorCode::Unavailable, "customer search is temporarily unavailable").into()
            }
        }
    }
}
