//! The full sync from WeCom: departments, staff, external contacts and customer groups, then the
//! reconciliation of what disappeared. One run at a time per process; callers attach to the run in
//! progress through a `watch` channel of its progress.
//!
//! A run checkpoints its phase, its counts and the last key it wrote (items are written in key order) in
//! its row. When its process dies, the run stays RUNNING; the next identity process resumes it from that
//! checkpoint (every write is idempotent, so redoing the items after the checkpoint changes nothing).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt::Display;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures::{FutureExt, Stream, StreamExt};
use scrm_kernel::{ApiError, Caller, Clients, ErrorCode};
use scrm_proto::customer::v1::{
    AddWay, ContactSource, CustomerTag, ExternalContactInput, FollowUserInput, TagType, UpsertExternalContactsRequest,
};
use scrm_proto::group::v1::{GroupChatSnapshot, UpsertGroupChatsRequest};
use scrm_proto::identity::v1::{SyncPhase, SyncProgress, SyncScope, SyncState, SyncTrigger};
use scrm_wecom::{
    CallStats, ERRCODE_CONCURRENCY_LIMITED, ERRCODE_RATE_LIMITED, GroupChatListRequest, WeComClient, WeComError,
};
use tokio::sync::{Mutex, watch};

use crate::domain::{Counts, STAFF_STATUS_RESIGNED, fingerprint, percent, progress_message};
use crate::error::IdentityError;
use crate::store::{DepartmentRow, IdentityStore, StaffRow, SyncRunRow, department_ids};

/// Contacts per `UpsertExternalContacts` call (the customer service accepts at most 200).
pub const CONTACT_BATCH: usize = 200;
/// Group snapshots per `UpsertGroupChats` call.
pub const GROUP_BATCH: usize = 500;
/// WeCom calls in flight at once for per-item reads (`user/get`, `groupchat/get`).
const CONCURRENCY: usize = 8;
/// Most userids `batch/get_by_user` takes in one call.
const FOLLOW_USERS_PER_BATCH: usize = 100;
/// Least time between two progress messages within a phase.
const REPORT_EVERY: Duration = Duration::from_millis(250);
/// Least time between two checkpoints within the staff phase (the other phases checkpoint per batch).
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);
/// How long a per-item read keeps waiting out WeCom's rate limits (per-minute windows) once the client's
/// own retry budget is spent.
const RATE_LIMIT_PATIENCE: Duration = Duration::from_secs(180);
/// First and longest pause between two such waits.
const RATE_LIMIT_PAUSE: (Duration, Duration) = (Duration::from_secs(2), Duration::from_secs(15));

/// The run in progress (or the last one) of this process.
struct Current {
    progress: watch::Receiver<SyncProgress>,
    cancel: Arc<AtomicBool>,
}

/// Starts sync runs, resumes interrupted ones, and lets callers follow or cancel the one in progress.
pub struct SyncManager {
    store: IdentityStore,
    wecom: Option<WeComClient>,
    clients: Clients,
    current: Mutex<Option<Current>>,
}

impl std::fmt::Debug for SyncManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncManager").field("wecom", &self.wecom).finish_non_exhaustive()
    }
}

/// Whether `state` ends a run.
pub fn is_terminal(state: SyncState) -> bool {
    matches!(state, SyncState::Succeeded | SyncState::Failed | SyncState::Cancelled)
}

/// What a cancelled request found.
#[derive(Debug)]
pub enum CancelOutcome {
    /// The run is running in this process and will stop at its next checkpoint.
    Requested,
    /// The run was interrupted (its process died) and is now recorded as cancelled.
    Cancelled,
    /// The run had already ended; nothing changed.
    Finished,
}

impl SyncManager {
    /// A manager writing to `store`, reading WeCom through `wecom` (`None`: not configured).
    pub fn new(store: IdentityStore, wecom: Option<WeComClient>, clients: Clients) -> Self {
        SyncManager { store, wecom, clients, current: Mutex::new(None) }
    }

    fn wecom(&self) -> Result<WeComClient, IdentityError> {
        self.wecom.clone().ok_or_else(|| {
            ApiError::new(
                ErrorCode::FailedPrecondition,
                "WeCom is not configured: set wecom.corp_id and wecom.secret (SCRM_WECOM_CORP_ID, SCRM_WECOM_SECRET)",
            )
            .into()
        })
    }

    /// Starts a run of `scope`, or attaches to the run in progress (resuming an interrupted one first);
    /// returns its progress channel.
    pub async fn start(
        &self,
        scope: SyncScope,
        trigger: SyncTrigger,
    ) -> Result<watch::Receiver<SyncProgress>, IdentityError> {
        let wecom = self.wecom()?;
        let mut current = self.current.lock().await;
        if let Some(running) = current.as_ref().filter(|current| !is_terminal(current.progress.borrow().state())) {
            return Ok(running.progress.clone());
        }
        if let Some(resumed) = self.resume_locked(&mut current, &wecom).await? {
            return Ok(resumed);
        }
        let started_at = unix_millis(SystemTime::now());
        let counts = Counts::default();
        let id = self
            .store
            .create_sync_run(scope as i32, trigger as i32, SyncState::Running as i32, &counts.to_json(), started_at)
            .await?;
        let row = SyncRunRow {
            id,
            scope: scope as i32,
            trigger_kind: trigger as i32,
            state: SyncState::Running as i32,
            phase: SyncPhase::Unspecified as i32,
            counts: counts.to_json(),
            api_calls: 0,
            rate_limited_calls: 0,
            started_at,
            finished_at: None,
            error_message: String::new(),
            checkpoint: String::new(),
            resume_count: 0,
        };
        tracing::info!(sync_run_id = id, ?scope, ?trigger, "sync run started");
        Ok(self.launch(&mut current, row, wecom))
    }

    /// Resumes the run a dead process left RUNNING, if any; returns whether one was resumed. Runs the
    /// process did not get to resume (more than one left RUNNING) end as failed.
    pub async fn resume_interrupted(&self) -> Result<bool, IdentityError> {
        let Some(wecom) = self.wecom.clone() else { return Ok(false) };
        let mut current = self.current.lock().await;
        if current.as_ref().is_some_and(|current| !is_terminal(current.progress.borrow().state())) {
            return Ok(false);
        }
        Ok(self.resume_locked(&mut current, &wecom).await?.is_some())
    }

    async fn resume_locked(
        &self,
        current: &mut Option<Current>,
        wecom: &WeComClient,
    ) -> Result<Option<watch::Receiver<SyncProgress>>, IdentityError> {
        let mut interrupted = self.store.list_sync_runs(Some(SyncState::Running as i32), None, 100).await?;
        if interrupted.is_empty() {
            return Ok(None);
        }
        let mut row = interrupted.remove(0);
        let now = unix_millis(SystemTime::now());
        for mut stale in interrupted {
            stale.state = SyncState::Failed as i32;
            stale.finished_at = Some(now);
            stale.error_message = format!("interrupted, and superseded by the resumed run {}", row.id);
            self.store.update_sync_run(&stale).await?;
        }
        row.resume_count += 1;
        tracing::warn!(
            sync_run_id = row.id,
            phase = row.phase,
            checkpoint = %row.checkpoint,
            resume_count = row.resume_count,
            "resuming a sync run its process left unfinished"
        );
        Ok(Some(self.launch(current, row, wecom.clone())))
    }

    /// Spawns the run of `row` (new, or resumed from its checkpoint) and makes it the current one.
    fn launch(
        &self,
        current: &mut Option<Current>,
        row: SyncRunRow,
        wecom: WeComClient,
    ) -> watch::Receiver<SyncProgress> {
        let counts = Counts::from_json(&row.counts);
        let resume_phase = SyncPhase::try_from(row.phase).unwrap_or_default();
        let initial = SyncProgress {
            sync_run_id: row.id,
            state: SyncState::Running as i32,
            phase: row.phase,
            percent: percent(resume_phase, 0, 0),
            message: progress_message(resume_phase, 0, 0),
            counts: Some(counts.to_proto()),
            api_calls: row.api_calls,
            rate_limited_calls: row.rate_limited_calls,
            elapsed: Some(prost_types::Duration::default()),
            ..SyncProgress::default()
        };
        let (tx, rx) = watch::channel(initial);
        let cancel = Arc::new(AtomicBool::new(false));
        *current = Some(Current { progress: rx.clone(), cancel: cancel.clone() });
        let run = Run {
            id: row.id,
            scope: SyncScope::try_from(row.scope).unwrap_or(SyncScope::Full),
            store: self.store.clone(),
            calls_at_start: wecom.call_stats(),
            wecom,
            clients: self.clients.clone(),
            tx,
            cancel,
            started: Instant::now(),
            last_report: Instant::now(),
            last_checkpoint: Instant::now(),
            counts,
            phase: SyncPhase::Unspecified,
            resume_phase,
            checkpoint: row.checkpoint,
            resume_count: row.resume_count,
            base_api_calls: row.api_calls,
            base_rate_limited: row.rate_limited_calls,
            follow_users: None,
            seen_staff: None,
        };
        tokio::spawn(run.execute());
        rx
    }

    /// The progress channel of the run in progress, or of run `id` if it is the latest one this process ran.
    pub async fn watch(&self, id: i64) -> Option<watch::Receiver<SyncProgress>> {
        let current = self.current.lock().await;
        current
            .as_ref()
            .map(|current| &current.progress)
            .filter(|rx| {
                let progress = rx.borrow();
                if id == 0 { !is_terminal(progress.state()) } else { progress.sync_run_id == id }
            })
            .cloned()
    }

    /// Asks run `id` to stop. `None` when there is no such run.
    pub async fn cancel(&self, id: i64) -> Result<Option<CancelOutcome>, IdentityError> {
        let current = self.current.lock().await;
        if let Some(running) = current.as_ref().filter(|current| {
            let progress = current.progress.borrow();
            progress.sync_run_id == id && !is_terminal(progress.state())
        }) {
            running.cancel.store(true, Ordering::Relaxed);
            tracing::info!(sync_run_id = id, "sync run cancellation requested");
            return Ok(Some(CancelOutcome::Requested));
        }
        let Some(mut row) = self.store.sync_run(id).await? else { return Ok(None) };
        if is_terminal(SyncState::try_from(row.state).unwrap_or_default()) {
            return Ok(Some(CancelOutcome::Finished));
        }
        row.state = SyncState::Cancelled as i32;
        row.finished_at = Some(unix_millis(SystemTime::now()));
        self.store.update_sync_run(&row).await?;
        tracing::info!(sync_run_id = id, "interrupted sync run cancelled");
        Ok(Some(CancelOutcome::Cancelled))
    }
}

/// The progress messages of a channel, ending after the one carrying a terminal state.
pub fn progress_stream(rx: watch::Receiver<SyncProgress>) -> impl Stream<Item = SyncProgress> + Send + 'static {
    futures::stream::unfold(Some((rx, true)), |state| async move {
        let (mut rx, first) = state?;
        if !first && rx.changed().await.is_err() {
            return None;
        }
        let progress = rx.borrow_and_update().clone();
        let next = if is_terminal(progress.state()) { None } else { Some((rx, false)) };
        Some((progress, next))
    })
}

/// One run in progress.
struct Run {
    id: i64,
    scope: SyncScope,
    store: IdentityStore,
    wecom: WeComClient,
    /// The client's counters when this process took the run up.
    calls_at_start: CallStats,
    clients: Clients,
    tx: watch::Sender<SyncProgress>,
    cancel: Arc<AtomicBool>,
    started: Instant,
    last_report: Instant,
    last_checkpoint: Instant,
    counts: Counts,
    phase: SyncPhase,
    /// The phase a resumed run was in; earlier phases are done. `Unspecified` for a fresh run.
    resume_phase: SyncPhase,
    /// Last key written in the current phase (see [`SyncRunRow::checkpoint`]).
    checkpoint: String,
    resume_count: i32,
    /// API calls and rate-limited calls of the run before this process took it up.
    base_api_calls: i64,
    base_rate_limited: i64,
    /// `get_follow_user_list`, once read.
    follow_users: Option<Vec<String>>,
    /// Userids read in the staff phase; `None` when it did not run.
    seen_staff: Option<HashSet<String>>,
}

/// Why a run stopped before its end.
enum Stop {
    Failed(String),
    Cancelled,
}

type Step<T = ()> = Result<T, Stop>;

fn failed<E: Display>(what: &'static str) -> impl FnOnce(E) -> Stop {
    move |error| Stop::Failed(format!("{what}: {error}"))
}

impl Run {
    async fn execute(mut self) {
        let outcome = self.phases().await;
        let (state, error_message) = match outcome {
            Ok(()) => {
                self.phase = SyncPhase::Done;
                self.checkpoint.clear();
                (SyncState::Succeeded, String::new())
            }
            Err(Stop::Cancelled) => {
                tracing::info!(sync_run_id = self.id, phase = ?self.phase, "sync run cancelled");
                (SyncState::Cancelled, String::new())
            }
            Err(Stop::Failed(error)) => {
                tracing::warn!(sync_run_id = self.id, phase = ?self.phase, %error, "sync run failed");
                (SyncState::Failed, error)
            }
        };
        let finished_at = unix_millis(SystemTime::now());
        if let Err(error) = self.store.update_sync_run(&self.row(state, Some(finished_at), &error_message)).await {
            tracing::error!(sync_run_id = self.id, %error, "could not record the end of a sync run");
        }
        let message = match state {
            SyncState::Succeeded => progress_message(SyncPhase::Done, 0, 0),
            SyncState::Cancelled => "同步已取消".to_owned(),
            _ => format!("同步失败：{error_message}"),
        };
        let mut progress = self.progress(state, 0, 0, message);
        progress.error_message = error_message;
        if state == SyncState::Succeeded {
            progress.percent = 100.0;
        }
        let (api_calls, rate_limited_calls) = self.calls();
        tracing::info!(
            sync_run_id = self.id,
            state = ?state,
            api_calls,
            rate_limited_calls,
            resume_count = self.resume_count,
            elapsed_ms = self.started.elapsed().as_millis() as u64,
            counts = %self.counts.to_json(),
            "sync run ended"
        );
        self.tx.send_replace(progress);
    }

    async fn phases(&mut self) -> Step {
        let (organization, contacts, groups) = match self.scope {
            SyncScope::Organization => (true, false, false),
            SyncScope::ExternalContacts => (false, true, false),
            SyncScope::GroupChats => (false, false, true),
            SyncScope::Full | SyncScope::Unspecified => (true, true, true),
        };
        if organization && self.runs(SyncPhase::Departments) {
            self.departments().await?;
        }
        if organization && self.runs(SyncPhase::Staff) {
            self.staff().await?;
        }
        if contacts && self.runs(SyncPhase::ExternalContacts) {
            self.external_contacts().await?;
        }
        if groups && self.runs(SyncPhase::GroupChats) {
            self.group_chats().await?;
        }
        if organization && self.runs(SyncPhase::Reconcile) {
            self.reconcile().await?;
        }
        Ok(())
    }

    /// Whether `phase` is still to do: a resumed run skips the phases before the one it was in.
    fn runs(&self, phase: SyncPhase) -> bool {
        phase as i32 >= self.resume_phase as i32
    }

    /// Enters `phase` and reports it. A resumed run entering the phase it was in keeps its checkpoint.
    async fn enter(&mut self, phase: SyncPhase) -> Step {
        if phase != self.resume_phase {
            self.checkpoint.clear();
        }
        self.phase = phase;
        self.checkpoint().await?;
        self.report(0, 0, true);
        Ok(())
    }

    /// Whether `key` was written before the checkpoint (by this run, before its process died).
    fn done_before(&self, key: &str) -> bool {
        !self.checkpoint.is_empty() && key <= self.checkpoint.as_str()
    }

    /// Persists the run's progress; stops the run when it was asked to.
    async fn checkpoint(&mut self) -> Step {
        if self.cancel.load(Ordering::Relaxed) {
            return Err(Stop::Cancelled);
        }
        self.last_checkpoint = Instant::now();
        self.store
            .update_sync_run(&self.row(SyncState::Running, None, ""))
            .await
            .map_err(failed("cannot record the sync run's progress"))
    }

    /// API calls and calls lost to rate limits over the whole run (every process that worked on it).
    fn calls(&self) -> (i64, i64) {
        let since = self.wecom.call_stats().since(&self.calls_at_start);
        (self.base_api_calls + since.total() as i64, self.base_rate_limited + since.rate_limited as i64)
    }

    fn row(&self, state: SyncState, finished_at: Option<i64>, error_message: &str) -> SyncRunRow {
        let (api_calls, rate_limited_calls) = self.calls();
        SyncRunRow {
            id: self.id,
            scope: self.scope as i32,
            trigger_kind: 0,
            state: state as i32,
            phase: self.phase as i32,
            counts: self.counts.to_json(),
            api_calls,
            rate_limited_calls,
            started_at: 0,
            finished_at,
            error_message: error_message.to_owned(),
            checkpoint: self.checkpoint.clone(),
            resume_count: self.resume_count,
        }
    }

    fn progress(&self, state: SyncState, done: i64, total: i64, message: String) -> SyncProgress {
        let elapsed = self.started.elapsed();
        let (api_calls, rate_limited_calls) = self.calls();
        SyncProgress {
            sync_run_id: self.id,
            state: state as i32,
            phase: self.phase as i32,
            phase_done: done,
            phase_total: total,
            percent: percent(self.phase, done, total),
            counts: Some(self.counts.to_proto()),
            api_calls,
            rate_limited_calls,
            elapsed: Some(prost_types::Duration {
                seconds: elapsed.as_secs() as i64,
                nanos: elapsed.subsec_nanos() as i32,
            }),
            message,
            error_message: String::new(),
        }
    }

    /// Sends progress when `force`d or when the last message is old enough.
    fn report(&mut self, done: i64, total: i64, force: bool) {
        if !force && self.last_report.elapsed() < REPORT_EVERY {
            return;
        }
        self.last_report = Instant::now();
        let message = progress_message(self.phase, done, total);
        self.tx.send_replace(self.progress(SyncState::Running, done, total, message));
    }

    async fn departments(&mut self) -> Step {
        self.enter(SyncPhase::Departments).await?;
        let list = self.wecom.department_simplelist(None).await.map_err(failed("department/simplelist"))?;
        let stored: HashMap<i64, DepartmentRow> = self
            .store
            .departments()
            .await
            .map_err(failed("cannot read departments"))?
            .into_iter()
            .map(|row| (row.id, row))
            .collect();
        let now = unix_millis(SystemTime::now());
        let total = list.department_id.len() as i64;
        for (index, department) in list.department_id.into_iter().enumerate() {
            self.counts.departments.seen += 1;
            let old = stored.get(&department.id);
            if old.is_some_and(|old| old.parent_id == department.parentid && old.sort_order == department.order) {
                self.counts.departments.unchanged += 1;
            } else {
                let row = DepartmentRow {
                    id: department.id,
                    parent_id: department.parentid,
                    sort_order: department.order,
                    name: old.map(|old| old.name.clone()).unwrap_or_default(),
                };
                self.store.upsert_department(&row, now).await.map_err(failed("cannot write a department"))?;
                match old {
                    None => self.counts.departments.created += 1,
                    Some(_) => self.counts.departments.updated += 1,
                }
            }
            self.report(index as i64 + 1, total, false);
        }
        self.report(total, total, true);
        Ok(())
    }

    async fn follow_users(&mut self) -> Step<Vec<String>> {
        if let Some(users) = &self.follow_users {
            return Ok(users.clone());
        }
        let users = self
            .wecom
            .get_follow_user_list()
            .await
            .map_err(failed("externalcontact/get_follow_user_list"))?
            .follow_user;
        self.follow_users = Some(users.clone());
        Ok(users)
    }

    /// The stores of each staff member: their departments, as read by the staff phase. Until departments
    /// are flagged as stores (`SetDepartmentStore`), every department counts as one, so a store manager's
    /// scope is a set of department ids.
    async fn staff_stores(&self) -> Step<HashMap<String, Vec<i64>>> {
        let rows = self.store.staff_departments().await.map_err(failed("cannot read the staff's departments"))?;
        Ok(rows.into_iter().map(|(userid, departments)| (userid, department_ids(&departments))).collect())
    }

    /// Every userid in WeCom's address book, in key order.
    async fn list_staff(&mut self) -> Step<BTreeSet<String>> {
        let mut listed = BTreeSet::new();
        let mut pages = self.wecom.user_list_id_pages(Some(10_000));
        while let Some(page) = pages.next().await {
            listed.extend(page.map_err(failed("user/list_id"))?.into_iter().map(|user| user.userid));
        }
        Ok(listed)
    }

    async fn staff(&mut self) -> Step {
        self.enter(SyncPhase::Staff).await?;
        let follow: HashSet<String> = self.follow_users().await?.into_iter().collect();
        let listed = self.list_staff().await?;
        let stored: HashMap<String, (String, i32)> = self
            .store
            .staff_fingerprints()
            .await
            .map_err(failed("cannot read staff"))?
            .into_iter()
            .map(|row| (row.userid, (row.fingerprint, row.status)))
            .collect();
        let total = listed.len() as i64;
        let todo: Vec<String> = listed.iter().filter(|userid| !self.done_before(userid)).cloned().collect();
        let mut done = total - todo.len() as i64;
        let wecom = self.wecom.clone();
        let mut users = futures::stream::iter(todo)
            .map(|userid| {
                let wecom = wecom.clone();
                async move { patiently(|| wecom.user_get(&userid)).await }
            })
            .buffered(CONCURRENCY);
        while let Some(user) = users.next().await {
            let user = user.map_err(failed("user/get"))?;
            let row = staff_row(&user, follow.contains(&user.userid));
            match stored.get(&row.userid) {
                Some((old, status)) if *old == row.fingerprint && *status != STAFF_STATUS_RESIGNED => {
                    self.counts.staff.unchanged += 1;
                }
                old => {
                    let now = unix_millis(SystemTime::now());
                    self.store.upsert_staff(&row, now).await.map_err(failed("cannot write a staff member"))?;
                    match old {
                        None => self.counts.staff.created += 1,
                        Some(_) => self.counts.staff.updated += 1,
                    }
                }
            }
            self.counts.staff.seen += 1;
            self.checkpoint = row.userid;
            done += 1;
            if self.last_checkpoint.elapsed() >= CHECKPOINT_EVERY {
                self.checkpoint().await?;
            }
            self.report(done, total, false);
        }
        self.seen_staff = Some(listed.into_iter().collect());
        self.report(total, total, true);
        Ok(())
    }

    async fn external_contacts(&mut self) -> Step {
        self.enter(SyncPhase::ExternalContacts).await?;
        let follow_users = self.follow_users().await?;
        let stores = self.staff_stores().await?;
        let mut contacts: BTreeMap<String, ExternalContactInput> = BTreeMap::new();
        let mut relations = 0;
        for chunk in follow_users.chunks(FOLLOW_USERS_PER_BATCH) {
            let mut pages = self.wecom.batch_get_by_user_pages(chunk.to_vec(), Some(100));
            while let Some(page) = pages.next().await {
                for item in page.map_err(failed("externalcontact/batch/get_by_user"))? {
                    relations += 1;
                    let contact = item.external_contact;
                    contacts
                        .entry(contact.external_userid.clone())
                        .or_insert_with(|| contact_input(contact))
                        .follow_user
                        .push(follow_input(item.follow_info, &stores));
                }
                self.counts.external_contacts.seen = contacts.len() as i64;
                self.counts.follow_users.seen = relations;
                self.report(contacts.len() as i64, 0, false);
            }
        }
        let total = contacts.len() as i64;
        self.report(0, total, true);
        let observed_at = Some(timestamp_now());
        let mut pending: Vec<ExternalContactInput> =
            contacts.into_values().filter(|contact| !self.done_before(&contact.external_userid)).collect();
        let mut done = total - pending.len() as i64;
        while !pending.is_empty() {
            let rest = pending.split_off(pending.len().min(CONTACT_BATCH));
            let batch = std::mem::replace(&mut pending, rest);
            let size = batch.len() as i64;
            let last = batch.last().map(|contact| contact.external_userid.clone()).unwrap_or_default();
            let request = UpsertExternalContactsRequest {
                contacts: batch,
                source: ContactSource::Sync as i32,
                sync_run_id: self.id,
                observed_at,
            };
            let request =
                Caller::system("sync").outgoing(request).map_err(failed("cannot address the customer service"))?;
            let response = self
                .clients
                .customer
                .clone()
                .upsert_external_contacts(request)
                .await
                .map_err(failed("customer service UpsertExternalContacts"))?
                .into_inner();
            self.counts.external_contacts.created += response.created;
            self.counts.external_contacts.updated += response.updated;
            self.counts.external_contacts.unchanged += response.unchanged;
            self.counts.follow_users.created += response.follow_users_added;
            self.counts.follow_users.deleted += response.follow_users_removed;
            self.checkpoint = last;
            self.checkpoint().await?;
            done += size;
            self.report(done, total, false);
        }
        self.report(total, total, true);
        Ok(())
    }

    async fn group_chats(&mut self) -> Step {
        self.enter(SyncPhase::GroupChats).await?;
        let mut listed = BTreeMap::new();
        let mut pages = self.wecom.groupchat_list_pages(GroupChatListRequest { limit: 1000, ..Default::default() });
        while let Some(page) = pages.next().await {
            for chat in page.map_err(failed("externalcontact/groupchat/list"))? {
                listed.insert(chat.chat_id.clone(), chat);
            }
            self.report(listed.len() as i64, 0, false);
        }
        drop(pages);
        let total = listed.len() as i64;
        self.counts.group_chats.seen = total;
        self.report(0, total, true);
        let todo: Vec<_> = listed.into_values().filter(|chat| !self.done_before(&chat.chat_id)).collect();
        let mut done = total - todo.len() as i64;
        let wecom = self.wecom.clone();
        let mut chats = futures::stream::iter(todo)
            .map(|listed| {
                let wecom = wecom.clone();
                async move { patiently(|| wecom.groupchat_get(&listed.chat_id, true)).await }
                    .map(move |got| (listed.status, got))
            })
            .buffered(CONCURRENCY);
        let mut pending = Vec::new();
        while let Some((status, got)) = chats.next().await {
            let chat = got.map_err(failed("externalcontact/groupchat/get"))?.group_chat;
            pending.push(group_snapshot(chat, Some(status)));
            if pending.len() == GROUP_BATCH {
                self.write_groups(std::mem::take(&mut pending)).await?;
            }
            done += 1;
            self.report(done, total, false);
        }
        if !pending.is_empty() {
            self.write_groups(pending).await?;
        }
        self.report(total, total, true);
        Ok(())
    }

    async fn write_groups(&mut self, group_chats: Vec<GroupChatSnapshot>) -> Step {
        let last = group_chats.last().map(|chat| chat.chat_id.clone()).unwrap_or_default();
        let request = UpsertGroupChatsRequest { group_chats, sync_run_id: self.id };
        let request = Caller::system("sync").outgoing(request).map_err(failed("cannot address the group service"))?;
        let response = self
            .clients
            .group
            .clone()
            .upsert_group_chats(request)
            .await
            .map_err(failed("group service UpsertGroupChats"))?
            .into_inner();
        self.counts.group_chats.created += i64::from(response.created);
        self.counts.group_chats.updated += i64::from(response.updated);
        self.counts.group_chats.unchanged += i64::from(response.unchanged);
        for failure in &response.failures {
            tracing::warn!(sync_run_id = self.id, chat_id = %failure.chat_id, reason = %failure.reason, "a group snapshot was rejected");
        }
        self.checkpoint = last;
        self.checkpoint().await
    }

    async fn reconcile(&mut self) -> Step {
        self.enter(SyncPhase::Reconcile).await?;
        let seen = match self.seen_staff.take() {
            Some(seen) => seen,
            // A run resumed after its staff phase lists the address book again.
            None => self.list_staff().await?.into_iter().collect(),
        };
        let stored = self.store.staff_fingerprints().await.map_err(failed("cannot read staff"))?;
        let now = unix_millis(SystemTime::now());
        for row in stored {
            if row.status != STAFF_STATUS_RESIGNED
                && !seen.contains(&row.userid)
                && self
                    .store
                    .mark_staff_resigned(&row.userid, now)
                    .await
                    .map_err(failed("cannot flag resigned staff"))?
            {
                tracing::info!(sync_run_id = self.id, userid = %row.userid, "staff member gone from WeCom: flagged resigned");
                self.counts.staff.deleted += 1;
            }
        }
        self.report(1, 1, true);
        Ok(())
    }
}

/// Runs `call` until WeCom stops refusing it for rate limits, for at most [`RATE_LIMIT_PATIENCE`]: a full
/// sync makes more calls of one API than WeCom allows per minute, and the client's retry budget is shorter
/// than a window.
async fn patiently<T, F, Fut>(mut call: F) -> Result<T, WeComError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, WeComError>>,
{
    let (mut pause, longest) = RATE_LIMIT_PAUSE;
    let mut waited = Duration::ZERO;
    loop {
        match call().await {
            Err(error)
                if matches!(error.errcode(), Some(ERRCODE_RATE_LIMITED | ERRCODE_CONCURRENCY_LIMITED))
                    && waited < RATE_LIMIT_PATIENCE =>
            {
                tokio::time::sleep(pause).await;
                waited += pause;
                pause = (pause * 2).min(longest);
            }
            other => return other,
        }
    }
}

/// A staff member as stored, from `user/get`.
pub(crate) fn staff_row(user: &scrm_wecom::User, external_contact_enabled: bool) -> StaffRow {
    let department_ids = user.department.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let gender: i32 = user.gender.parse().unwrap_or(0);
    let status = i32::try_from(user.status).unwrap_or(0);
    let enabled = i32::from(external_contact_enabled);
    let fingerprint = fingerprint(&[
        &user.name,
        &department_ids,
        &user.main_department.to_string(),
        &user.position,
        &user.mobile,
        &gender.to_string(),
        &user.email,
        &user.avatar,
        &user.alias,
        &status.to_string(),
        &enabled.to_string(),
    ]);
    StaffRow {
        userid: user.userid.clone(),
        name: user.name.clone(),
        department_ids,
        main_department: user.main_department,
        position: user.position.clone(),
        mobile: user.mobile.clone(),
        gender,
        email: user.email.clone(),
        avatar: user.avatar.clone(),
        alias: user.alias.clone(),
        status,
        external_contact_enabled: enabled,
        fingerprint,
        resigned_at: None,
    }
}

/// A contact as the customer service takes it, without its follow relations.
pub(crate) fn contact_input(contact: scrm_wecom::ExternalContact) -> ExternalContactInput {
    ExternalContactInput {
        external_userid: contact.external_userid,
        name: contact.name,
        avatar: contact.avatar,
        r#type: known_enum(contact.contact_type, 2),
        gender: known_enum(contact.gender, 2),
        unionid: contact.unionid,
        position: contact.position,
        corp_name: contact.corp_name,
        corp_full_name: contact.corp_full_name,
        follow_user: Vec::new(),
        follow_user_complete: false,
    }
}

/// A follow relation as the customer service takes it, with the stores of its staff member from `stores`.
fn follow_input(follow: scrm_wecom::FollowInfo, stores: &HashMap<String, Vec<i64>>) -> FollowUserInput {
    let store_ids = stores.get(&follow.userid).cloned().unwrap_or_default();
    FollowUserInput {
        userid: follow.userid,
        remark: follow.remark,
        description: follow.description,
        added_at: (follow.createtime > 0).then_some(prost_types::Timestamp { seconds: follow.createtime, nanos: 0 }),
        add_way: i32::try_from(follow.add_way)
            .ok()
            .and_then(|way| AddWay::try_from(way).ok())
            .map_or(0, |way| way as i32),
        state: follow.state,
        oper_userid: follow.oper_userid,
        remark_corp_name: follow.remark_corp_name,
        remark_mobiles: follow.remark_mobiles,
        tags: follow
            .tag_id
            .into_iter()
            .filter(|tag_id| !tag_id.is_empty())
            .map(|tag_id| CustomerTag { tag_id, r#type: TagType::Corp as i32, ..CustomerTag::default() })
            .collect(),
        store_ids,
    }
}

/// The snapshot of a group read with `groupchat/get`; `listed_status` is its `groupchat/list` status, `None`
/// when not listed (the stored status is kept).
pub(crate) fn group_snapshot(chat: scrm_wecom::GroupChat, listed_status: Option<i64>) -> GroupChatSnapshot {
    use scrm_proto::group::v1::GroupChatMember;
    GroupChatSnapshot {
        chat_id: chat.chat_id,
        name: chat.name,
        owner: chat.owner,
        created_at: (chat.create_time > 0).then_some(prost_types::Timestamp { seconds: chat.create_time, nanos: 0 }),
        notice: chat.notice,
        // WeCom's 0 normal, 1 owner resigned, 2 inheriting, 3 inherited → the contract's 1..=4.
        status: listed_status.filter(|status| (0..=3).contains(status)).map_or(0, |status| status as i32 + 1),
        admin_userids: chat.admin_list.into_iter().map(|admin| admin.userid).collect(),
        members_complete: true,
        member_list: chat
            .member_list
            .into_iter()
            .map(|member| GroupChatMember {
                userid: member.userid,
                r#type: known_enum(member.member_type, 2),
                joined_at: (member.join_time > 0)
                    .then_some(prost_types::Timestamp { seconds: member.join_time, nanos: 0 }),
                join_scene: known_enum(member.join_scene, 3),
                inviter_userid: member.invitor.map(|invitor| invitor.userid).unwrap_or_default(),
                group_nickname: member.group_nickname,
                name: member.name,
                unionid: member.unionid,
                state: member.state,
            })
            .collect(),
        member_version: chat.member_version,
        observed_at: Some(timestamp_now()),
    }
}

/// A WeCom code that maps one to one onto a contract enum of values `0..=max`; anything else is 0.
pub(crate) fn known_enum(value: i64, max: i64) -> i32 {
    if (0..=max).contains(&value) { value as i32 } else { 0 }
}

pub(crate) fn timestamp_now() -> prost_types::Timestamp {
    prost_types::Timestamp::from(SystemTime::now())
}

pub(crate) fn unix_millis(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |since| since.as_millis() as i64)
}

/// Shares a manager between the gRPC handlers.
pub type SharedSync = Arc<SyncManager>;
