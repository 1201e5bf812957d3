//! The tonic implementation of `scrm.identity.v1.IdentityService`: maps protobuf to domain calls
//! and checks the caller. RPCs not written here answer through [`crate::PLANNED`].

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use scrm_kernel::paging::{BeforeId, page_size};
use scrm_kernel::{ApiError, Caller, ErrorCode, Role};
use scrm_proto::identity::v1::identity_service_server::IdentityService;
use scrm_proto::identity::v1::{
    CallbackEvent, CallbackEventState, IngestCallbackEventRequest, IngestCallbackEventResponse,
    ListCallbackEventsRequest, ListCallbackEventsResponse, ReprocessCallbackEventRequest,
    ReprocessCallbackEventResponse,
};
use scrm_wecom_crypto::event::CallbackEvent as WecomEvent;
use tonic::{Request, Response, Status};

use crate::domain::{InboxState, MAX_DEDUP_KEY_LEN};
use crate::error::IdentityError;
use crate::store::{IdentityStore, InboxFilter, InboxRow, NewInboxEvent};

/// The identity service's gRPC handlers.
#[derive(Debug)]
pub struct IdentityApi {
    store: IdentityStore,
}

impl IdentityApi {
    /// Handlers over `store`.
    pub fn new(store: IdentityStore) -> Self {
        IdentityApi { store }
    }
}

#[tonic::async_trait]
impl IdentityService for IdentityApi {
    async fn ingest_callback_event(
        &self,
        request: Request<IngestCallbackEventRequest>,
    ) -> Result<Response<IngestCallbackEventResponse>, Status> {
        Caller::from_request(&request)?.require_any(&[Role::Admin])?;
        let request = request.into_inner();
        let event = inbox_event(request)?;
        let (id, duplicate) = self.store.insert_inbox_event(&event).await.map_err(IdentityError::from)?;
        if duplicate {
            tracing::info!(dedup_key = %event.dedup_key, id, "a WeCom retry of a stored callback event; nothing written");
        }
        Ok(Response::new(IngestCallbackEventResponse { id, duplicate }))
    }

    async fn list_callback_events(
        &self,
        request: Request<ListCallbackEventsRequest>,
    ) -> Result<Response<ListCallbackEventsResponse>, Status> {
        Caller::from_request(&request)?.require_any(&[Role::Admin])?;
        let request = request.into_inner();
        let limit = page_size(request.page_size)?;
        let before = BeforeId::parse(&request.page_token)?.map(|BeforeId(id)| id);
        let filter = InboxFilter {
            state: InboxState::from_filter(request.state()),
            event: Some(request.event).filter(|event| !event.is_empty()),
            change_type: Some(request.change_type).filter(|change_type| !change_type.is_empty()),
        };
        let rows = self.store.list_inbox_events(&filter, before, limit).await.map_err(IdentityError::from)?;
        let next_page_token = BeforeId::next_token(rows.last().map(|row| row.id), rows.len(), limit);
        Ok(Response::new(ListCallbackEventsResponse {
            events: rows.into_iter().map(to_proto).collect(),
            next_page_token,
        }))
    }

    async fn reprocess_callback_event(
        &self,
        request: Request<ReprocessCallbackEventRequest>,
    ) -> Result<Response<ReprocessCallbackEventResponse>, Status> {
        Caller::from_request(&request)?.require_any(&[Role::Admin])?;
        let id = request.into_inner().id;
        let row = self.store.requeue_inbox_event(id).await.map_err(IdentityError::from)?;
        let row = row.ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("no callback event with id {id}")))?;
        Ok(Response::new(ReprocessCallbackEventResponse { event: Some(to_proto(row)) }))
    }
}

/// Checks an ingest request and reads the event's kind and time from its XML.
fn inbox_event(request: IngestCallbackEventRequest) -> Result<NewInboxEvent, ApiError> {
    if request.dedup_key.is_empty() || request.dedup_key.len() > MAX_DEDUP_KEY_LEN {
        return Err(ApiError::invalid("dedup_key", format!("dedup_key must be 1 to {MAX_DEDUP_KEY_LEN} characters")));
    }
    let parsed = WecomEvent::parse(&request.raw_xml)
        .map_err(|error| ApiError::invalid("raw_xml", format!("raw_xml is not a WeCom callback event: {error}")))?;
    let received_at_ms = match request.received_at {
        Some(time) => SystemTime::try_from(time)
            .ok()
            .and_then(|time| time.duration_since(UNIX_EPOCH).ok())
            .map(|since| since.as_millis() as i64)
            .ok_or_else(|| ApiError::invalid("received_at", "received_at is not a valid time"))?,
        None => unix_millis(SystemTime::now()),
    };
    Ok(NewInboxEvent {
        event: parsed.event().to_owned(),
        change_type: parsed.change_type().unwrap_or_default().to_owned(),
        created_at_ms: parsed.header().map_or(0, |header| header.create_time.saturating_mul(1000)),
        dedup_key: request.dedup_key,
        received_at_ms,
        raw_xml: request.raw_xml,
    })
}

fn unix_millis(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |since| since.as_millis() as i64)
}

fn timestamp(millis: i64) -> prost_types::Timestamp {
    prost_types::Timestamp::from(UNIX_EPOCH + Duration::from_millis(millis.max(0) as u64))
}

fn to_proto(row: InboxRow) -> CallbackEvent {
    let state: CallbackEventState = row.state().to_proto();
    CallbackEvent {
        id: row.id,
        dedup_key: row.dedup_key,
        event: row.event,
        change_type: row.change_type,
        created_at: Some(timestamp(row.created_at)),
        received_at: Some(timestamp(row.received_at)),
        state: state as i32,
        attempts: row.attempts,
        last_error: row.last_error,
        processed_at: row.processed_at.map(timestamp),
        raw_xml: row.raw_xml,
    }
}
