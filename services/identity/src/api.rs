//! The tonic implementation of `scrm.identity.v1.IdentityService`: maps protobuf to domain calls
//! and checks the caller. RPCs not written here answer through [`crate::PLANNED`].

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::StreamExt;
use scrm_kernel::paging::{BeforeId, page_size};
use scrm_kernel::{ApiError, Caller, ErrorCode};
use scrm_proto::identity::v1 as pb;
use scrm_proto::identity::v1::identity_service_server::IdentityService;
use scrm_proto::identity::v1::{
    CallbackEvent, CallbackEventState, CancelSyncRunRequest, CancelSyncRunResponse, GetSyncRunRequest,
    GetSyncRunResponse, IngestCallbackEventRequest, IngestCallbackEventResponse, ListCallbackEventsRequest,
    ListCallbackEventsResponse, ListSyncRunsRequest, ListSyncRunsResponse, ReprocessCallbackEventRequest,
    ReprocessCallbackEventResponse, StartSyncRequest, StartSyncResponse, SyncPhase, SyncProgress, SyncRun, SyncScope,
    SyncState, SyncTrigger, WatchSyncRunRequest, WatchSyncRunResponse,
};
use scrm_wecom_crypto::event::CallbackEvent as WecomEvent;
use tonic::codegen::BoxStream;
use tonic::{Request, Response, Status};

use crate::auth::{AuditChange, Auth};
use crate::corp::Corp;
use crate::domain::{Counts, InboxState, MAX_DEDUP_KEY_LEN, progress_message};
use crate::error::IdentityError;
use crate::jssdk::JsSdk;
use crate::org::Org;
use crate::store::{IdentityStore, InboxFilter, InboxRow, NewInboxEvent, SyncRunRow};
use crate::sync::{CancelOutcome, SharedSync, progress_stream};
use crate::worker::InboxWorker;

/// The identity service's gRPC handlers.
#[derive(Debug)]
pub struct IdentityApi {
    store: IdentityStore,
    sync: SharedSync,
    worker: InboxWorker,
    background: tokio::task::AbortHandle,
    jssdk: Arc<JsSdk>,
    auth: Auth,
    org: Org,
    corp: Corp,
}

impl Drop for IdentityApi {
    fn drop(&mut self) {
        self.background.abort();
    }
}

impl IdentityApi {
    /// Handlers over `store`, running syncs with `sync` and waking `worker` for new callback events;
    /// `background` (the worker's task) is stopped when the handlers are dropped; `jssdk` signs the JS-SDK;
    /// `auth` signs people in; `org` reads the org; `corp` is the WeCom corp binding.
    pub fn new(
        store: IdentityStore,
        sync: SharedSync,
        (worker, background): (InboxWorker, tokio::task::AbortHandle),
        jssdk: Arc<JsSdk>,
        auth: Auth,
        (org, corp): (Org, Corp),
    ) -> Self {
        IdentityApi { store, sync, worker, background, jssdk, auth, org, corp }
    }

    async fn run(&self, id: i64) -> Result<SyncRunRow, Status> {
        let row = self.store.sync_run(id).await.map_err(IdentityError::from)?;
        Ok(row.ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("no sync run with id {id}")))?)
    }
}

#[tonic::async_trait]
impl IdentityService for IdentityApi {
    async fn get_corp_settings(
        &self,
        _request: Request<pb::GetCorpSettingsRequest>,
    ) -> Result<Response<pb::GetCorpSettingsResponse>, Status> {
        Ok(Response::new(self.corp.settings()))
    }

    async fn update_corp_settings(
        &self,
        request: Request<pb::UpdateCorpSettingsRequest>,
    ) -> Result<Response<pb::UpdateCorpSettingsResponse>, Status> {
        let metadata = request.metadata().clone();
        let now = unix_millis(SystemTime::now());
        let (response, change) = self.corp.update(request.into_inner(), now).await?;
        if let Some(change) = change {
            self.auth.record_change(&metadata, change).await;
        }
        Ok(Response::new(response))
    }

    async fn rotate_callback_keys(
        &self,
        request: Request<pb::RotateCallbackKeysRequest>,
    ) -> Result<Response<pb::RotateCallbackKeysResponse>, Status> {
        let metadata = request.metadata().clone();
        let (response, change) = self.corp.rotate_callback_keys(unix_millis(SystemTime::now())).await?;
        self.auth.record_change(&metadata, change).await;
        Ok(Response::new(response))
    }

    async fn check_corp_connection(
        &self,
        _request: Request<pb::CheckCorpConnectionRequest>,
    ) -> Result<Response<pb::CheckCorpConnectionResponse>, Status> {
        Ok(Response::new(self.corp.check().await))
    }

    async fn list_departments(
        &self,
        request: Request<pb::ListDepartmentsRequest>,
    ) -> Result<Response<pb::ListDepartmentsResponse>, Status> {
        let caller = Caller::from_request(&request)?;
        Ok(Response::new(self.org.list_departments(&caller, request.into_inner()).await?))
    }

    async fn get_department(
        &self,
        request: Request<pb::GetDepartmentRequest>,
    ) -> Result<Response<pb::GetDepartmentResponse>, Status> {
        let caller = Caller::from_request(&request)?;
        Ok(Response::new(self.org.get_department(&caller, request.into_inner()).await?))
    }

    async fn list_stores(
        &self,
        request: Request<pb::ListStoresRequest>,
    ) -> Result<Response<pb::ListStoresResponse>, Status> {
        let caller = Caller::from_request(&request)?;
        Ok(Response::new(self.org.list_stores(&caller, request.into_inner()).await?))
    }

    async fn set_department_store(
        &self,
        request: Request<pb::SetDepartmentStoreRequest>,
    ) -> Result<Response<pb::SetDepartmentStoreResponse>, Status> {
        let caller = Caller::from_request(&request)?;
        let metadata = request.metadata().clone();
        let now = unix_millis(SystemTime::now());
        let (response, change) = self.org.set_department_store(&caller, request.into_inner(), now).await?;
        let entry = AuditChange {
            action: "identity.store.set",
            resource_type: "department",
            resource_id: change.department_id.to_string(),
            summary: change.summary,
            before_json: change.before_json,
            after_json: change.after_json,
        };
        self.auth.record_change(&metadata, entry).await;
        Ok(Response::new(response))
    }

    async fn list_staff(
        &self,
        request: Request<pb::ListStaffRequest>,
    ) -> Result<Response<pb::ListStaffResponse>, Status> {
        let caller = Caller::from_request(&request)?;
        Ok(Response::new(self.org.list_staff(&caller, request.into_inner()).await?))
    }

    async fn get_staff(&self, request: Request<pb::GetStaffRequest>) -> Result<Response<pb::GetStaffResponse>, Status> {
        Ok(Response::new(self.org.get_staff(request.into_inner()).await?))
    }

    async fn batch_get_staff(
        &self,
        request: Request<pb::BatchGetStaffRequest>,
    ) -> Result<Response<pb::BatchGetStaffResponse>, Status> {
        Ok(Response::new(self.org.batch_get_staff(request.into_inner()).await?))
    }

    async fn count_staff(
        &self,
        request: Request<pb::CountStaffRequest>,
    ) -> Result<Response<pb::CountStaffResponse>, Status> {
        let caller = Caller::from_request(&request)?;
        Ok(Response::new(self.org.count_staff(&caller, request.into_inner()).await?))
    }

    async fn get_js_sdk_signatures(
        &self,
        request: Request<pb::GetJsSdkSignaturesRequest>,
    ) -> Result<Response<pb::GetJsSdkSignaturesResponse>, Status> {
        Ok(Response::new(self.jssdk.signatures(&request.get_ref().url).await?))
    }

    async fn list_roles(
        &self,
        request: Request<pb::ListRolesRequest>,
    ) -> Result<Response<pb::ListRolesResponse>, Status> {
        self.auth.list_roles(request).await
    }

    async fn list_users(
        &self,
        request: Request<pb::ListUsersRequest>,
    ) -> Result<Response<pb::ListUsersResponse>, Status> {
        self.auth.list_users(request).await
    }

    async fn get_user(&self, request: Request<pb::GetUserRequest>) -> Result<Response<pb::GetUserResponse>, Status> {
        self.auth.get_user(request).await
    }

    async fn create_user(
        &self,
        request: Request<pb::CreateUserRequest>,
    ) -> Result<Response<pb::CreateUserResponse>, Status> {
        self.auth.create_user(request).await
    }

    async fn update_user(
        &self,
        request: Request<pb::UpdateUserRequest>,
    ) -> Result<Response<pb::UpdateUserResponse>, Status> {
        self.auth.update_user(request).await
    }

    async fn set_user_password(
        &self,
        request: Request<pb::SetUserPasswordRequest>,
    ) -> Result<Response<pb::SetUserPasswordResponse>, Status> {
        self.auth.set_user_password(request).await
    }

    async fn get_wecom_login_url(
        &self,
        request: Request<pb::GetWecomLoginUrlRequest>,
    ) -> Result<Response<pb::GetWecomLoginUrlResponse>, Status> {
        self.auth.get_wecom_login_url(request).await
    }

    async fn login(&self, request: Request<pb::LoginRequest>) -> Result<Response<pb::LoginResponse>, Status> {
        self.auth.login(request).await
    }

    async fn logout(&self, request: Request<pb::LogoutRequest>) -> Result<Response<pb::LogoutResponse>, Status> {
        self.auth.logout(request).await
    }

    async fn get_current_user(
        &self,
        request: Request<pb::GetCurrentUserRequest>,
    ) -> Result<Response<pb::GetCurrentUserResponse>, Status> {
        self.auth.get_current_user(request).await
    }

    async fn authenticate(
        &self,
        request: Request<pb::AuthenticateRequest>,
    ) -> Result<Response<pb::AuthenticateResponse>, Status> {
        self.auth.authenticate(request).await
    }

    async fn list_sessions(
        &self,
        request: Request<pb::ListSessionsRequest>,
    ) -> Result<Response<pb::ListSessionsResponse>, Status> {
        self.auth.list_sessions(request).await
    }

    async fn revoke_session(
        &self,
        request: Request<pb::RevokeSessionRequest>,
    ) -> Result<Response<pb::RevokeSessionResponse>, Status> {
        self.auth.revoke_session(request).await
    }

    async fn create_api_token(
        &self,
        request: Request<pb::CreateApiTokenRequest>,
    ) -> Result<Response<pb::CreateApiTokenResponse>, Status> {
        self.auth.create_api_token(request).await
    }

    async fn list_api_tokens(
        &self,
        request: Request<pb::ListApiTokensRequest>,
    ) -> Result<Response<pb::ListApiTokensResponse>, Status> {
        self.auth.list_api_tokens(request).await
    }

    async fn revoke_api_token(
        &self,
        request: Request<pb::RevokeApiTokenRequest>,
    ) -> Result<Response<pb::RevokeApiTokenResponse>, Status> {
        self.auth.revoke_api_token(request).await
    }

    async fn list_audit_log(
        &self,
        request: Request<pb::ListAuditLogRequest>,
    ) -> Result<Response<pb::ListAuditLogResponse>, Status> {
        self.auth.list_audit_log(request).await
    }

    async fn record_audit_entry(
        &self,
        request: Request<pb::RecordAuditEntryRequest>,
    ) -> Result<Response<pb::RecordAuditEntryResponse>, Status> {
        self.auth.record_audit_entry(request).await
    }

    async fn ingest_callback_event(
        &self,
        request: Request<IngestCallbackEventRequest>,
    ) -> Result<Response<IngestCallbackEventResponse>, Status> {
        let request = request.into_inner();
        let event = inbox_event(request)?;
        let (id, duplicate) = self.store.insert_inbox_event(&event).await.map_err(IdentityError::from)?;
        if duplicate {
            tracing::info!(dedup_key = %event.dedup_key, id, "a WeCom retry of a stored callback event; nothing written");
        } else {
            self.worker.welcome_new_contact(&event.raw_xml, &event.dedup_key);
            self.worker.wake();
        }
        Ok(Response::new(IngestCallbackEventResponse { id, duplicate }))
    }

    async fn list_callback_events(
        &self,
        request: Request<ListCallbackEventsRequest>,
    ) -> Result<Response<ListCallbackEventsResponse>, Status> {
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
        let id = request.into_inner().id;
        let row = self.store.requeue_inbox_event(id).await.map_err(IdentityError::from)?;
        let row = row.ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("no callback event with id {id}")))?;
        self.worker.wake();
        Ok(Response::new(ReprocessCallbackEventResponse { event: Some(to_proto(row)) }))
    }

    async fn start_sync(
        &self,
        request: Request<StartSyncRequest>,
    ) -> Result<Response<BoxStream<StartSyncResponse>>, Status> {
        let scope = match request.into_inner().scope() {
            SyncScope::Unspecified => SyncScope::Full,
            scope => scope,
        };
        let rx = self.sync.start(scope, SyncTrigger::Manual).await?;
        let stream = progress_stream(rx).map(|progress| Ok(StartSyncResponse { progress: Some(progress) }));
        Ok(Response::new(Box::pin(stream)))
    }

    async fn watch_sync_run(
        &self,
        request: Request<WatchSyncRunRequest>,
    ) -> Result<Response<BoxStream<WatchSyncRunResponse>>, Status> {
        Caller::from_request(&request)?;
        let id = request.into_inner().sync_run_id;
        if let Some(rx) = self.sync.watch(id).await {
            let stream = progress_stream(rx).map(|progress| Ok(WatchSyncRunResponse { progress: Some(progress) }));
            return Ok(Response::new(Box::pin(stream)));
        }
        if id == 0 {
            return Err(ApiError::new(ErrorCode::NotFound, "no sync run is in progress").into());
        }
        let progress = finished_progress(self.run(id).await?);
        let stream = futures::stream::once(async move { Ok(WatchSyncRunResponse { progress: Some(progress) }) });
        Ok(Response::new(Box::pin(stream)))
    }

    async fn cancel_sync_run(
        &self,
        request: Request<CancelSyncRunRequest>,
    ) -> Result<Response<CancelSyncRunResponse>, Status> {
        let id = request.into_inner().sync_run_id;
        if id <= 0 {
            return Err(ApiError::invalid("sync_run_id", "sync_run_id must be a run's id").into());
        }
        let outcome = self.sync.cancel(id).await?;
        let outcome = outcome.ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("no sync run with id {id}")))?;
        if !matches!(outcome, CancelOutcome::Finished) {
            tracing::info!(sync_run_id = id, ?outcome, "CancelSyncRun");
        }
        Ok(Response::new(CancelSyncRunResponse { run: Some(run_to_proto(self.run(id).await?)) }))
    }

    async fn get_sync_run(&self, request: Request<GetSyncRunRequest>) -> Result<Response<GetSyncRunResponse>, Status> {
        Caller::from_request(&request)?;
        let row = self.run(request.into_inner().sync_run_id).await?;
        Ok(Response::new(GetSyncRunResponse { run: Some(run_to_proto(row)) }))
    }

    async fn list_sync_runs(
        &self,
        request: Request<ListSyncRunsRequest>,
    ) -> Result<Response<ListSyncRunsResponse>, Status> {
        Caller::from_request(&request)?;
        let request = request.into_inner();
        let limit = page_size(request.page_size)?;
        let before = BeforeId::parse(&request.page_token)?.map(|BeforeId(id)| id);
        let state = match request.state() {
            SyncState::Unspecified => None,
            state => Some(state as i32),
        };
        let rows = self.store.list_sync_runs(state, before, limit).await.map_err(IdentityError::from)?;
        let next_page_token = BeforeId::next_token(rows.last().map(|row| row.id), rows.len(), limit);
        Ok(Response::new(ListSyncRunsResponse { runs: rows.into_iter().map(run_to_proto).collect(), next_page_token }))
    }
}

fn run_to_proto(row: SyncRunRow) -> SyncRun {
    SyncRun {
        id: row.id,
        scope: row.scope,
        trigger: row.trigger_kind,
        state: row.state,
        phase: row.phase,
        started_by_user_id: 0,
        started_at: Some(timestamp(row.started_at)),
        finished_at: row.finished_at.map(timestamp),
        counts: Some(Counts::from_json(&row.counts).to_proto()),
        api_calls: row.api_calls,
        rate_limited_calls: row.rate_limited_calls,
        resume_count: row.resume_count,
        error_message: row.error_message,
    }
}

/// The one progress message of a run this process is not running (finished, or interrupted).
fn finished_progress(row: SyncRunRow) -> SyncProgress {
    let phase = SyncPhase::try_from(row.phase).unwrap_or_default();
    let elapsed_ms = row.finished_at.map_or(0, |finished| (finished - row.started_at).max(0));
    SyncProgress {
        sync_run_id: row.id,
        state: row.state,
        phase: row.phase,
        percent: if row.state == SyncState::Succeeded as i32 { 100.0 } else { 0.0 },
        counts: Some(Counts::from_json(&row.counts).to_proto()),
        api_calls: row.api_calls,
        rate_limited_calls: row.rate_limited_calls,
        elapsed: Some(prost_types::Duration {
            seconds: elapsed_ms / 1000,
            nanos: ((elapsed_ms % 1000) * 1_000_000) as i32,
        }),
        message: progress_message(phase, 0, 0),
        error_message: row.error_message,
        ..SyncProgress::default()
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
