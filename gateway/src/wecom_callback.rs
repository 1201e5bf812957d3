//! The WeCom callback URL, `/wecom/callback`.
//!
//! `GET` is WeCom's URL verification: the decrypted `echostr` is echoed back. `POST` carries an
//! encrypted event: it is verified, decrypted, parsed, and written to the identity service's inbox
//! under its dedup key before WeCom gets its answer, so a retry of the same delivery changes
//! nothing. Processing happens later; the answer never waits on the WeCom API. Anything forged or
//! malformed gets a 4xx with a JSON body, a log line, and no state change.

use std::sync::Arc;
use std::time::SystemTime;

use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use scrm_kernel::{ApiError, Caller, Clients, ErrorCode};
use scrm_proto::identity::v1::IngestCallbackEventRequest;
use scrm_wecom_crypto::{CallbackCrypto, CallbackEvent, CallbackKeyring};
use serde::Deserialize;

use crate::rest::RestError;

/// The `/wecom/callback` route, verifying with the keys `keyring` holds at each request (answering that WeCom is
/// not configured while it holds none).
pub fn router(keyring: CallbackKeyring, clients: Clients) -> Router {
    Router::new()
        .route("/wecom/callback", get(verify_url).post(receive_event))
        .with_state(Arc::new(CallbackState { keyring, clients }))
}

struct CallbackState {
    keyring: CallbackKeyring,
    clients: Clients,
}

impl CallbackState {
    fn crypto(&self) -> Result<CallbackCrypto, RestError> {
        self.keyring.current().ok_or_else(|| {
            RestError::from(ApiError::new(
                ErrorCode::FailedPrecondition,
                "the WeCom callback is not configured: set wecom.corp_id, wecom.callback_token and wecom.encoding_aes_key",
            ))
        })
    }
}

/// The query WeCom signs every callback request with.
#[derive(Debug, Deserialize)]
struct Signed {
    msg_signature: String,
    timestamp: String,
    nonce: String,
    #[serde(default)]
    echostr: Option<String>,
}

async fn verify_url(State(state): State<Arc<CallbackState>>, Query(query): Query<Signed>) -> Result<String, RestError> {
    let crypto = state.crypto()?;
    let echostr =
        query.echostr.ok_or_else(|| ApiError::invalid("echostr", "the URL verification carries no echostr"))?;
    crypto.verify_url(&query.msg_signature, &query.timestamp, &query.nonce, &echostr).map_err(rejected)
}

async fn receive_event(
    State(state): State<Arc<CallbackState>>,
    Query(query): Query<Signed>,
    body: String,
) -> Result<Response, RestError> {
    let crypto = state.crypto()?;
    let xml = crypto.decrypt_message(&query.msg_signature, &query.timestamp, &query.nonce, &body).map_err(rejected)?;
    let event = CallbackEvent::parse(&xml).map_err(rejected)?;
    let request = IngestCallbackEventRequest {
        dedup_key: event.dedup_key(),
        raw_xml: xml,
        received_at: Some(prost_types::Timestamp::from(SystemTime::now())),
    };
    let ingested = state
        .clients
        .identity
        .clone()
        .ingest_callback_event(Caller::system("wecom-callback").outgoing(request)?)
        .await?
        .into_inner();
    tracing::info!(
        event = event.event(),
        change_type = event.change_type().unwrap_or_default(),
        inbox_id = ingested.id,
        duplicate = ingested.duplicate,
        "WeCom callback stored"
    );
    Ok(String::new().into_response())
}

fn rejected(error: scrm_wecom_crypto::Error) -> RestError {
    tracing::warn!(reason = error.code(), %error, "WeCom callback rejected");
    let status_code = match error {
        scrm_wecom_crypto::Error::SignatureMismatch => ErrorCode::Unauthenticated,
        _ => ErrorCode::InvalidArgument,
    };
    RestError::from(ApiError::new(status_code, format!("rejected WeCom callback: {}", error.code())))
}
