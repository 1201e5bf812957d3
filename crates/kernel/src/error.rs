//! The one error-code table of scrm, shared by gRPC and REST.
//!
//! Every error a caller can see carries a stable [`ErrorCode`]. Its string form, gRPC code and
//! HTTP status never change once released: clients branch on them. Services build an
//! [`ApiError`], turn it into a [`tonic::Status`] once, and the gateway turns that status back
//! into the REST body `{"code": ..., "message": ..., "field": ...}`.

use serde::Serialize;
use tonic::metadata::MetadataValue;

/// gRPC metadata key carrying the stable error code of a failed call.
pub const ERROR_CODE_KEY: &str = "scrm-error-code";
/// gRPC metadata key naming the request field an error is about, when there is one.
pub const ERROR_FIELD_KEY: &str = "scrm-error-field";

macro_rules! error_codes {
    ($($variant:ident => $code:literal, $grpc:ident, $http:literal, $doc:literal;)*) => {
        /// A stable, documented error code; see the table in the README.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $(#[doc = $doc] $variant,)*
        }

        impl ErrorCode {
            /// Every code, in table order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The code as it appears on the wire, e.g. `invalid_argument`.
            pub fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $code,)* }
            }

            /// The gRPC status code this error is sent with.
            pub fn grpc_code(self) -> tonic::Code {
                match self { $(ErrorCode::$variant => tonic::Code::$grpc,)* }
            }

            /// The HTTP status this error is sent with on REST.
            pub fn http_status(self) -> http::StatusCode {
                let status = match self { $(ErrorCode::$variant => $http,)* };
                http::StatusCode::from_u16(status).expect("the table holds valid HTTP statuses")
            }

            /// What the code means, for documentation.
            pub fn description(self) -> &'static str {
                match self { $(ErrorCode::$variant => $doc,)* }
            }

            /// Parses the wire form back into a code.
            pub fn parse(code: &str) -> Option<ErrorCode> {
                match code { $($code => Some(ErrorCode::$variant),)* _ => None }
            }
        }
    };
}

error_codes! {
    InvalidArgument => "invalid_argument", InvalidArgument, 400, "A request field is missing or malformed; `field` names it.";
    Unauthenticated => "unauthenticated", Unauthenticated, 401, "The caller could not be identified.";
    PermissionDenied => "permission_denied", PermissionDenied, 403, "The caller's role or scope does not allow this.";
    NotFound => "not_found", NotFound, 404, "The resource does not exist or is not visible to the caller.";
    AlreadyExists => "already_exists", AlreadyExists, 409, "A resource with the same key exists.";
    FailedPrecondition => "failed_precondition", FailedPrecondition, 409, "The resource is not in a state that allows this.";
    PayloadTooLarge => "payload_too_large", OutOfRange, 413, "The request body exceeds the configured limit.";
    RateLimited => "rate_limited", ResourceExhausted, 429, "Too many requests; retry after a pause.";
    Unimplemented => "unimplemented", Unimplemented, 501, "The feature is planned and not built yet; the message names it.";
    Unavailable => "unavailable", Unavailable, 503, "A dependency is down; the call may be retried.";
    Timeout => "timeout", DeadlineExceeded, 504, "The request took longer than its deadline.";
    Internal => "internal", Internal, 500, "An unexpected error; the log has the details under the request id.";
}

impl ErrorCode {
    /// The code a bare gRPC status maps to, for statuses that did not come from an [`ApiError`].
    pub fn from_grpc(code: tonic::Code) -> ErrorCode {
        use tonic::Code;
        match code {
            Code::InvalidArgument => ErrorCode::InvalidArgument,
            Code::Unauthenticated => ErrorCode::Unauthenticated,
            Code::PermissionDenied => ErrorCode::PermissionDenied,
            Code::NotFound => ErrorCode::NotFound,
            Code::AlreadyExists => ErrorCode::AlreadyExists,
            Code::FailedPrecondition | Code::Aborted => ErrorCode::FailedPrecondition,
            Code::OutOfRange => ErrorCode::PayloadTooLarge,
            Code::ResourceExhausted => ErrorCode::RateLimited,
            Code::Unimplemented => ErrorCode::Unimplemented,
            Code::Unavailable => ErrorCode::Unavailable,
            Code::DeadlineExceeded | Code::Cancelled => ErrorCode::Timeout,
            Code::Ok | Code::Unknown | Code::Internal | Code::DataLoss => ErrorCode::Internal,
        }
    }
}

/// An error as callers see it: a code, a plain-language message and, for bad input, the field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{code}: {message}", code = self.code.as_str())]
pub struct ApiError {
    /// The stable error code.
    #[serde(serialize_with = "serialize_code")]
    pub code: ErrorCode,
    /// What went wrong, for people.
    pub message: String,
    /// The request field at fault, in the caller's spelling (camelCase on REST).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

fn serialize_code<S: serde::Serializer>(code: &ErrorCode, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(code.as_str())
}

impl ApiError {
    /// An error with a code and message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError { code, message: message.into(), field: None }
    }

    /// A bad-input error naming the field at fault.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError { code: ErrorCode::InvalidArgument, message: message.into(), field: Some(field.into()) }
    }

    /// The same error, naming the request field at fault.
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// The error for a planned feature that is not built yet.
    pub fn unimplemented(feature: &str) -> Self {
        ApiError::new(ErrorCode::Unimplemented, format!("not implemented yet: {feature}"))
    }

    /// Reads an error back from a gRPC status, including statuses that no scrm service made.
    pub fn from_status(status: &tonic::Status) -> Self {
        let metadata = status.metadata();
        let code = metadata
            .get(ERROR_CODE_KEY)
            .and_then(|value| value.to_str().ok())
            .and_then(ErrorCode::parse)
            .unwrap_or_else(|| ErrorCode::from_grpc(status.code()));
        let field = metadata.get(ERROR_FIELD_KEY).and_then(|value| value.to_str().ok()).map(str::to_owned);
        ApiError { code, message: status.message().to_owned(), field }
    }
}

impl From<ApiError> for tonic::Status {
    fn from(error: ApiError) -> Self {
        let mut status = tonic::Status::new(error.code.grpc_code(), error.message);
        let metadata = status.metadata_mut();
        metadata.insert(ERROR_CODE_KEY, MetadataValue::from_static(error.code.as_str()));
        if let Some(value) = error.field.and_then(|field| MetadataValue::try_from(field).ok()) {
            metadata.insert(ERROR_FIELD_KEY, value);
        }
        status
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips_through_its_wire_form() {
        for code in ErrorCode::ALL {
            assert_eq!(ErrorCode::parse(code.as_str()), Some(*code));
        }
    }

    #[test]
    fn an_error_survives_the_trip_through_a_grpc_status() {
        let error = ApiError::invalid("groupIds", "未知的群：wr123");
        let status = tonic::Status::from(error.clone());
        assert_eq!(status.code(), tonic::Code::InvalidArgument);
        assert_eq!(ApiError::from_status(&status), error);
    }

    #[test]
    fn a_foreign_status_maps_by_its_grpc_code() {
        let error = ApiError::from_status(&tonic::Status::not_found("gone"));
        assert_eq!(error.code, ErrorCode::NotFound);
        assert_eq!(error.code.http_status(), http::StatusCode::NOT_FOUND);
        assert_eq!(error.field, None);
    }

    #[test]
    fn the_rest_body_names_code_message_and_field() {
        let body = serde_json::to_value(ApiError::invalid("content", "内容不能为空")).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"code": "invalid_argument", "message": "内容不能为空", "field": "content"})
        );
    }
}
