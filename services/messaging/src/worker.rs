//! The broadcast worker: starts due broadcasts, works the durable task queue (one `add_msg_template` per owner
//! task, under the rate limit, retried with backoff), recovers tasks whose creation outcome is unknown,
//! collects per-group results, reminds owners and completes broadcasts.
//!
//! Exactly-once task creation: before calling `add_msg_template` the task is committed as `Sending`; the
//! msgid is committed after WeCom answers. A crash (or an ambiguous network failure) in between leaves the
//! task `Sending`, and the next attempt first looks the task up in WeCom (`get_groupmsg_list_v2` by sender
//! since the attempt started, then `get_groupmsg_send_result` for its groups) and adopts it when found,
//! instead of creating a second one. WeCom's own answers with an errcode certainly created nothing.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use scrm_kernel::Caller;
use scrm_wecom::{
    AddMsgTemplateRequest, Attachment as WeComAttachment, GetGroupMsgListV2Request, Image, Link, MiniProgram, Text,
    WeComClient, WeComError,
};
use tokio_util::sync::CancellationToken;

use crate::directory::GroupDirectory;
use crate::domain::{
    self, Attachment, BroadcastConfig, Clock, Targets, TaskState, backoff_ms, bucket_slot, corp_day, media_fresh,
    next_remind_allowed, parse_remind_times, plan_tasks,
};
use crate::error::MessagingError;
use crate::media::{self, MediaFailure};
use crate::robots::Robots;
use crate::secret::KeyCipher;
use crate::store::{BroadcastRow, MessagingStore, StartingGroup, TaskRow, TaskUpdate};

/// scrm's errcode for a failure that never got a WeCom errcode (e.g. the network kept failing).
pub const ERRCODE_NO_ANSWER: i32 = -1002;
/// scrm's errcode when WeCom is not configured.
pub const ERRCODE_NOT_CONFIGURED: i32 = -1004;

/// A token bucket shared by every worker of the process: calls run at `per_minute` sustained, and up to one
/// second's worth of calls may start at once after a quiet spell (so tasks start without waiting for their
/// turn, and no minute sees more than `per_minute` plus that second's worth).
#[derive(Debug)]
pub struct RateLimiter {
    origin: tokio::time::Instant,
    interval_us: u64,
    burst_us: u64,
    tat_us: std::sync::Mutex<u64>,
}

impl RateLimiter {
    /// A limiter allowing `per_minute` calls a minute.
    pub fn new(per_minute: u32) -> Self {
        let per_minute = u64::from(per_minute.max(1));
        let interval_us = 60_000_000 / per_minute;
        let burst_us = interval_us * (per_minute / 60).saturating_sub(1);
        RateLimiter { origin: tokio::time::Instant::now(), interval_us, burst_us, tat_us: std::sync::Mutex::new(0) }
    }

    /// Waits for a token.
    pub async fn acquire(&self) {
        let now = u64::try_from(self.origin.elapsed().as_micros()).unwrap_or(u64::MAX);
        let slot = {
            let mut tat = self.tat_us.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let (slot, next) = bucket_slot(*tat, now, self.interval_us, self.burst_us);
            *tat = next;
            slot
        };
        if slot > now {
            tokio::time::sleep_until(self.origin + Duration::from_micros(slot)).await;
        }
    }
}

/// Everything the worker (and the API, for reminders and cancellation) works with.
#[derive(Debug, Clone)]
pub struct Engine {
    /// The tables.
    pub store: MessagingStore,
    /// The WeCom client; `None` when no corp is configured.
    pub wecom: Option<WeComClient>,
    /// Where targets are resolved.
    pub directory: Arc<dyn GroupDirectory>,
    /// Settings.
    pub config: BroadcastConfig,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// Seals robot webhook keys at rest.
    pub cipher: KeyCipher,
    /// The `add_msg_template` rate limit.
    pub limiter: Arc<RateLimiter>,
    /// Fetches the images uploaded before a broadcast's tasks.
    pub http: reqwest::Client,
}

impl Engine {
    /// Runs the worker until `shutdown` is cancelled.
    pub async fn run(self, shutdown: CancellationToken) {
        match self.robots().seal_plain_keys().await {
            Ok(0) => {}
            Ok(sealed) => tracing::info!(sealed, "sealed robot webhook keys stored plain"),
            Err(error) => tracing::error!(%error, "cannot seal robot webhook keys stored plain"),
        }
        loop {
            if let Err(error) = self.tick().await {
                tracing::warn!(%error, "broadcast worker pass failed; retrying");
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(Duration::from_millis(self.config.tick_ms)) => {}
            }
        }
    }

    /// The group robots, over the same database, WeCom client and clock.
    pub fn robots(&self) -> Robots {
        Robots::new(self.store.db().clone(), self.cipher.clone(), self.wecom.clone(), self.clock.clone())
    }

    /// One pass over every kind of due work.
    pub async fn tick(&self) -> Result<(), MessagingError> {
        if let Err(error) = self.robots().drain().await {
            tracing::warn!(%error, "robot queue pass failed; retrying");
        }
        for id in self.store.due_broadcasts(self.clock.now_ms()).await? {
            self.start(id).await?;
        }
        self.fan_out().await?;
        self.store.finish_fanouts().await?;
        self.poll_results().await?;
        self.store.complete_broadcasts(self.clock.now_ms()).await?;
        Ok(())
    }

    /// Resolves the targets of broadcast `id`, flags quota losses and queues its tasks.
    async fn start(&self, id: i64) -> Result<(), MessagingError> {
        let Some(broadcast) = self.store.broadcast(id).await? else { return Ok(()) };
        let now = self.clock.now_ms();
        let targets: Targets = serde_json::from_str(&broadcast.spec.targets_json).unwrap_or_default();
        let resolution = match self.directory.resolve(&Caller::system("messaging-broadcast"), &targets).await {
            Ok(resolution) => resolution,
            Err(error) => {
                tracing::warn!(broadcast = id, %error, "cannot resolve broadcast targets; will retry");
                return Ok(());
            }
        };
        if resolution.groups.is_empty() {
            self.store.fail_broadcast(id, "没有匹配的客户群", now).await?;
            return Ok(());
        }
        let day = corp_day(now);
        let chat_ids: Vec<String> = resolution.groups.iter().map(|resolved| resolved.group.chat_id.clone()).collect();
        let usage = self.store.quota_usage(&chat_ids, day).await?;
        let quota = i64::from(broadcast.spec.quota_per_day);
        let starting: Vec<StartingGroup> = resolution
            .groups
            .into_iter()
            .map(|resolved| StartingGroup {
                quota_flagged: usage.get(&resolved.group.chat_id).copied().unwrap_or(0) >= quota,
                dismissed: resolved.dismissed,
                group: resolved.group,
            })
            .collect();
        let sendable: Vec<_> = starting
            .iter()
            .filter(|starting| !starting.quota_flagged && !starting.dismissed)
            .map(|starting| starting.group.clone())
            .collect();
        let tasks = plan_tasks(&sendable, self.config.max_chats_per_task);
        let deadline = now + self.config.confirm_window_ms;
        if self.store.start_broadcast(id, &starting, &tasks, now, deadline, day).await? {
            tracing::info!(broadcast = id, groups = starting.len(), tasks = tasks.len(), "broadcast started");
        }
        Ok(())
    }

    /// Works the due tasks of the queue in waves: one claim, one chat-id read and one `Sending` mark per wave,
    /// the calls concurrent under the shared rate limit, and their outcomes stored in one transaction.
    async fn fan_out(&self) -> Result<(), MessagingError> {
        let batch = u32::try_from(self.config.concurrency.max(1) * 4).unwrap_or(64);
        let mut prepared: HashMap<i64, Prepared> = HashMap::new();
        loop {
            let tasks = self.store.claim_due_tasks(self.clock.now_ms(), batch, self.config.lease_ms).await?;
            if tasks.is_empty() {
                return Ok(());
            }
            for task in &tasks {
                if !prepared.contains_key(&task.broadcast_id)
                    && let Some(row) = self.store.broadcast(task.broadcast_id).await?
                {
                    prepared.insert(task.broadcast_id, self.prepare(row).await?);
                }
            }
            let ids: Vec<i64> = tasks.iter().map(|task| task.id).collect();
            let mut chat_ids = self.store.chat_ids_of_tasks(&ids).await?;
            let jobs: Vec<Job> = tasks
                .into_iter()
                .filter_map(|task| {
                    let request = prepared.get(&task.broadcast_id)?.clone();
                    let chat_ids = chat_ids.remove(&task.id).unwrap_or_default();
                    Some(Job { task, chat_ids, request })
                })
                .collect();
            let outcomes = match &self.wecom {
                Some(wecom) => self.work(wecom, jobs).await?,
                None => jobs.into_iter().map(|job| (job.task.id, not_configured())).collect(),
            };
            self.store.settle(&outcomes, self.clock.now_ms()).await?;
        }
    }

    /// Settles what needs no `add_msg_template` call (media failures, tasks of earlier attempts found in
    /// WeCom), marks the rest `Sending` in one statement, then creates them concurrently under the rate limit.
    async fn work(&self, wecom: &WeComClient, jobs: Vec<Job>) -> Result<Vec<(i64, TaskUpdate)>, MessagingError> {
        let concurrency = self.config.concurrency.max(1);
        let steps: Vec<Step> =
            futures::stream::iter(jobs).map(|job| self.step(wecom, job)).buffer_unordered(concurrency).collect().await;
        let mut outcomes = Vec::with_capacity(steps.len());
        let mut to_create = Vec::new();
        for step in steps {
            match step {
                Step::Settled(id, update) => outcomes.push((id, update)),
                Step::Create(creatable) => to_create.push(creatable),
            }
        }
        let sending: Vec<i64> = to_create.iter().map(|creatable| creatable.task.id).collect();
        self.store.mark_sending(&sending, self.clock.now_ms()).await?;
        let created: Vec<(i64, TaskUpdate)> = futures::stream::iter(to_create)
            .map(|creatable| async move { (creatable.task.id, self.create(wecom, &creatable).await) })
            .buffer_unordered(concurrency)
            .collect()
            .await;
        outcomes.extend(created);
        Ok(outcomes)
    }

    /// What to do with one claimed task: settle it without a call, or create it.
    async fn step(&self, wecom: &WeComClient, job: Job) -> Step {
        let Job { task, chat_ids, request } = job;
        let request = match request {
            Ok(request) => request,
            Err(failure) => return Step::Settled(task.id, self.after_media_failure(&task, &failure)),
        };
        if task.state() != TaskState::Sending {
            return Step::Create(Creatable { task, chat_ids, request });
        }
        let settled = match self.recover(wecom, &task, &chat_ids, &request).await {
            Ok(Some(msgid)) => {
                tracing::info!(task = task.id, %msgid, "adopted a task WeCom created before a crash or lost answer");
                TaskUpdate::Created { msgid, fail_list: Vec::new() }
            }
            Ok(None) if task.attempts >= self.config.max_attempts => {
                TaskUpdate::Failed { errcode: task.errcode, errmsg: task.errmsg.clone() }
            }
            Ok(None) => return Step::Create(Creatable { task, chat_ids, request }),
            Err(error) => TaskUpdate::Retry {
                state: TaskState::Sending,
                next_run_at: self.clock.now_ms() + self.delay(task.id, task.attempts),
                errcode: errcode_of(&error),
                errmsg: error.to_string(),
                counts_attempt: false,
            },
        };
        Step::Settled(task.id, settled)
    }

    /// Retries a task whose media could not be uploaded (counting the attempt), or gives up on it.
    fn after_media_failure(&self, task: &TaskRow, failure: &MediaFailure) -> TaskUpdate {
        let attempt = task.attempts + 1;
        if failure.transient && attempt < self.config.max_attempts {
            TaskUpdate::Retry {
                state: TaskState::Pending,
                next_run_at: self.clock.now_ms() + self.delay(task.id, attempt),
                errcode: failure.errcode,
                errmsg: failure.errmsg.clone(),
                counts_attempt: true,
            }
        } else {
            TaskUpdate::Failed { errcode: failure.errcode, errmsg: failure.errmsg.clone() }
        }
    }

    /// Creates one owner task in WeCom; the task is already marked `Sending`.
    async fn create(&self, wecom: &WeComClient, creatable: &Creatable) -> TaskUpdate {
        let task = &creatable.task;
        let request = AddMsgTemplateRequest {
            chat_id_list: creatable.chat_ids.clone(),
            sender: Some(task.owner.clone()),
            ..(*creatable.request).clone()
        };
        self.limiter.acquire().await;
        let attempt = task.attempts + 1;
        match wecom.add_msg_template(&request).await {
            Ok(response) => TaskUpdate::Created { msgid: response.msgid, fail_list: response.fail_list },
            Err(error) => {
                let errcode = errcode_of(&error);
                let errmsg = error.to_string();
                let next_run_at = self.clock.now_ms() + self.delay(task.id, attempt);
                let state = if error.is_ambiguous() || is_ambiguous_exhaustion(&error) {
                    // WeCom may hold the task: the next attempt looks it up first.
                    TaskState::Sending
                } else if is_transient_failure(&error) && attempt < self.config.max_attempts {
                    TaskState::Pending
                } else {
                    tracing::warn!(task = task.id, %error, "giving up on a broadcast task");
                    return TaskUpdate::Failed { errcode, errmsg };
                };
                TaskUpdate::Retry { state, next_run_at, errcode, errmsg, counts_attempt: false }
            }
        }
    }

    fn delay(&self, task_id: i64, attempts: i32) -> i64 {
        let seed = u64::try_from(task_id).unwrap_or(0) ^ (u64::try_from(attempts).unwrap_or(0) << 32);
        backoff_ms(attempts.max(1), self.config.initial_backoff_ms, self.config.max_backoff_ms, seed)
    }

    /// A broadcast ready to fan out: its `add_msg_template` request without sender and groups, with its images
    /// uploaded first (`media/upload`, once per broadcast, again when older than WeCom's 3-day lifetime).
    async fn prepare(&self, row: BroadcastRow) -> Result<Prepared, MessagingError> {
        let attachments: Vec<Attachment> = serde_json::from_str(&row.spec.attachments_json).unwrap_or_default();
        let attachments = match &self.wecom {
            Some(wecom) => self.upload_media(wecom, row.id, attachments).await?,
            None => Ok(attachments),
        };
        Ok(attachments.map(|attachments| Arc::new(add_msg_template_request(&row.spec.content, attachments))))
    }

    /// `attachments` with every image given by URL uploaded (or its fresh upload reused).
    async fn upload_media(
        &self,
        wecom: &WeComClient,
        broadcast_id: i64,
        attachments: Vec<Attachment>,
    ) -> Result<Result<Vec<Attachment>, MediaFailure>, MessagingError> {
        if attachments.iter().all(|attachment| attachment.upload_url().is_none()) {
            return Ok(Ok(attachments));
        }
        let uploaded = self.store.uploaded_media(broadcast_id).await?;
        let mut ready = Vec::with_capacity(attachments.len());
        for (index, attachment) in attachments.into_iter().enumerate() {
            let Some(url) = attachment.upload_url().map(str::to_owned) else {
                ready.push(attachment);
                continue;
            };
            let index = i32::try_from(index).unwrap_or(i32::MAX);
            let now = self.clock.now_ms();
            let reusable = uploaded
                .iter()
                .find(|(at, _, uploaded_at)| *at == index && media_fresh(*uploaded_at, now))
                .map(|(_, media_id, _)| media_id.clone());
            let media_id = match reusable {
                Some(media_id) => media_id,
                None => match media::upload_image(&self.http, wecom, &url).await {
                    Ok(media_id) => {
                        self.store.save_media(broadcast_id, index, &media_id, now).await?;
                        tracing::info!(broadcast = broadcast_id, index, %media_id, "uploaded a broadcast image");
                        media_id
                    }
                    Err(failure) => {
                        tracing::warn!(broadcast = broadcast_id, url, error = %failure.errmsg, "cannot upload a broadcast image");
                        return Ok(Err(failure));
                    }
                },
            };
            ready.push(attachment.with_media_id(media_id));
        }
        Ok(Ok(ready))
    }

    /// Looks for a WeCom task created by an earlier attempt of `task` whose answer was lost: a group message
    /// by the same sender since that attempt, with the same text, unknown to scrm, sent to our groups only.
    async fn recover(
        &self,
        wecom: &WeComClient,
        task: &TaskRow,
        chat_ids: &[String],
        request: &AddMsgTemplateRequest,
    ) -> Result<Option<String>, WeComError> {
        let started = task.attempt_started_at.unwrap_or(task.created_at) / 1000;
        let now = self.clock.now_ms() / 1000;
        let ours: BTreeSet<&str> = chat_ids.iter().map(String::as_str).collect();
        let lookup = GetGroupMsgListV2Request {
            chat_type: "group".to_owned(),
            start_time: started - 300,
            end_time: (now + 300).min(started - 300 + 30 * 86_400),
            creator: Some(task.owner.clone()),
            limit: Some(100),
            ..GetGroupMsgListV2Request::default()
        };
        let mut pages = wecom.get_groupmsg_list_v2_pages(lookup);
        while let Some(page) = pages.next().await {
            for message in page? {
                if message.text != request.text || message.attachments.len() != request.attachments.len() {
                    continue;
                }
                if self.store.msgid_known(&message.msgid).await.unwrap_or(true) {
                    continue;
                }
                let results = wecom.get_groupmsg_send_result_all(&message.msgid, &task.owner, Some(1000)).await?;
                if !results.is_empty() && results.iter().all(|result| ours.contains(result.chat_id.as_str())) {
                    return Ok(Some(message.msgid));
                }
            }
        }
        Ok(None)
    }

    /// Fetches the results of created tasks that are due, and reminds owners who have not confirmed.
    async fn poll_results(&self) -> Result<(), MessagingError> {
        let Some(wecom) = &self.wecom else { return Ok(()) };
        let tasks = self.store.tasks_to_poll(self.clock.now_ms(), 200).await?;
        let results: Vec<Result<(), MessagingError>> = futures::stream::iter(tasks)
            .map(|task| async move { self.poll_task(wecom, task).await })
            .buffer_unordered(self.config.concurrency.max(1))
            .collect()
            .await;
        for result in results {
            result?;
        }
        Ok(())
    }

    async fn poll_task(&self, wecom: &WeComClient, task: TaskRow) -> Result<(), MessagingError> {
        let now = self.clock.now_ms();
        let next_poll = now + self.config.result_poll_ms;
        match wecom.get_groupmsg_send_result_all(&task.msgid, &task.owner, Some(1000)).await {
            Ok(list) => {
                let results: Vec<_> =
                    list.into_iter().map(|result| (result.chat_id, result.status, result.send_time * 1000)).collect();
                self.store.apply_results(task.id, &results, next_poll, now).await?;
                let waiting = results.iter().any(|(_, status, _)| *status == 0);
                let created_at = task.attempt_started_at.unwrap_or(task.created_at);
                let times = parse_remind_times(&task.remind_times);
                let last = times.iter().copied().max().unwrap_or(created_at);
                if waiting
                    && now - created_at >= self.config.remind_after_ms
                    && now - last >= self.config.remind_after_ms
                    && next_remind_allowed(&times, now).is_none()
                {
                    self.remind(wecom, &task, now).await?;
                }
            }
            Err(error) => {
                tracing::warn!(task = task.id, %error, "cannot fetch broadcast results; will retry");
                self.store.apply_results(task.id, &[], next_poll, now).await?;
            }
        }
        Ok(())
    }

    /// Sends WeCom's reminder for `task` and records it; returns WeCom's error when it refused.
    pub async fn remind(&self, wecom: &WeComClient, task: &TaskRow, now: i64) -> Result<Option<i64>, MessagingError> {
        match wecom.remind_groupmsg_send(&task.msgid).await {
            Ok(_) => {
                let mut times = parse_remind_times(&task.remind_times);
                times.retain(|time| *time > now - domain::DAY_MS);
                times.push(now);
                self.store.set_remind_times(task.id, &times).await?;
                Ok(None)
            }
            Err(error) => {
                tracing::warn!(task = task.id, %error, "WeCom refused a reminder");
                Ok(Some(error.errcode().unwrap_or(i64::from(ERRCODE_NO_ANSWER))))
            }
        }
    }
}

/// A broadcast ready for its tasks: the request they share, or why its media could not be uploaded.
type Prepared = Result<Arc<AddMsgTemplateRequest>, MediaFailure>;

/// A claimed task with what it needs.
struct Job {
    task: TaskRow,
    chat_ids: Vec<String>,
    request: Prepared,
}

/// A task to create in WeCom now.
struct Creatable {
    task: TaskRow,
    chat_ids: Vec<String>,
    request: Arc<AddMsgTemplateRequest>,
}

/// Where a claimed task goes.
enum Step {
    /// Settled without a call.
    Settled(i64, TaskUpdate),
    /// To create.
    Create(Creatable),
}

fn not_configured() -> TaskUpdate {
    TaskUpdate::Failed { errcode: ERRCODE_NOT_CONFIGURED, errmsg: "WeCom is not configured".to_owned() }
}

/// The `add_msg_template` request of a broadcast's tasks, without sender and groups.
pub fn add_msg_template_request(content: &str, attachments: Vec<Attachment>) -> AddMsgTemplateRequest {
    AddMsgTemplateRequest {
        chat_type: Some("group".to_owned()),
        text: (!content.is_empty()).then(|| Text { content: content.to_owned() }),
        attachments: attachments.into_iter().map(wecom_attachment).collect(),
        ..AddMsgTemplateRequest::default()
    }
}

fn wecom_attachment(attachment: Attachment) -> WeComAttachment {
    let non_empty = |value: String| (!value.is_empty()).then_some(value);
    match attachment {
        Attachment::Image { pic_url, media_id } => WeComAttachment {
            msgtype: "image".to_owned(),
            image: Some(Image {
                media_id: non_empty(media_id.clone()),
                pic_url: media_id.is_empty().then_some(pic_url),
            }),
            ..WeComAttachment::default()
        },
        Attachment::Link { title, picurl, desc, url } => WeComAttachment {
            msgtype: "link".to_owned(),
            link: Some(Link { title, picurl: non_empty(picurl), desc: non_empty(desc), url }),
            ..WeComAttachment::default()
        },
        Attachment::Miniprogram { title, pic_media_id, appid, page, .. } => WeComAttachment {
            msgtype: "miniprogram".to_owned(),
            miniprogram: Some(MiniProgram { title, pic_media_id, appid, page }),
            ..WeComAttachment::default()
        },
    }
}

/// The errcode to record for `error`: WeCom's, or [`ERRCODE_NO_ANSWER`].
pub fn errcode_of(error: &WeComError) -> i32 {
    error.errcode().and_then(|code| i32::try_from(code).ok()).unwrap_or(ERRCODE_NO_ANSWER)
}

/// Whether trying again later may succeed: a transient error, or a retry budget spent on transient ones.
pub fn is_transient_failure(error: &WeComError) -> bool {
    error.is_transient() || matches!(error, WeComError::RetryBudgetExhausted { last, .. } if last.is_transient())
}

/// Whether an exhausted retry budget ended on a failure that may have reached WeCom.
fn is_ambiguous_exhaustion(error: &WeComError) -> bool {
    matches!(error, WeComError::RetryBudgetExhausted { last, .. } if last.is_ambiguous())
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use scrm_kernel::ApiError;
    use scrm_storage::Dialect;
    use scrm_storage::testing::TestDb;
    use scrm_wecom::WeComConfig;
    use scrm_wecom_sim::{SimConfig, Simulator, World, WorldSize};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;
    use crate::directory::{Resolution, ResolvedGroup};
    use crate::domain::{ManualClock, TargetGroup};
    use crate::store::NewBroadcast;

    /// Resolves any targets to a fixed list of groups.
    #[derive(Debug)]
    struct FixedGroups(Vec<TargetGroup>);

    #[tonic::async_trait]
    impl GroupDirectory for FixedGroups {
        async fn resolve(&self, _caller: &Caller, _targets: &Targets) -> Result<Resolution, ApiError> {
            let groups = self.0.iter().map(|group| ResolvedGroup { group: group.clone(), dismissed: false }).collect();
            Ok(Resolution { groups, ..Resolution::default() })
        }
    }

    /// Serves a small PNG at any path; returns its base URL and how many times it was fetched.
    async fn image_server() -> (String, Arc<AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let fetches = Arc::new(AtomicUsize::new(0));
        let counter = fetches.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                let mut request = [0_u8; 4096];
                let _ = socket.read(&mut request).await;
                let png = b"\x89PNG\r\n\x1a\n-a-small-test-image";
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    png.len()
                );
                let _ = socket.write_all(head.as_bytes()).await;
                let _ = socket.write_all(png).await;
            }
        });
        (url, fetches)
    }

    #[tokio::test]
    async fn images_are_uploaded_once_per_broadcast_reused_by_every_owner_and_renewed_after_three_days() {
        let size = WorldSize { departments: 2, staff: 12, customers: 60, groups: 30 };
        let sim = Simulator::new(SimConfig::default(), World::generate(3, size));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let sim_url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(scrm_wecom_sim::serve(listener, sim.clone()));
        let groups: Vec<TargetGroup> = sim.with_world(|world| {
            world
                .groups
                .iter()
                .filter(|group| !group.dismissed)
                .enumerate()
                .map(|(index, group)| TargetGroup {
                    group_id: i64::try_from(index).unwrap() + 1,
                    chat_id: group.chat_id.clone(),
                    name: group.name.clone(),
                    owner: group.owner.clone(),
                    owner_name: group.owner.clone(),
                    member_count: 3,
                })
                .collect()
        });
        let owners: BTreeSet<&str> = groups.iter().map(|group| group.owner.as_str()).collect();
        assert!(owners.len() >= 2, "the broadcast spans several owners");
        let (image_url, fetches) = image_server().await;

        let test_db = TestDb::new(Dialect::Sqlite).await;
        test_db.db.migrate(&crate::MIGRATIONS).await.unwrap();
        let clock = ManualClock::new(sim.clock().now_ms());
        let wecom =
            WeComClient::new(WeComConfig::new("wwsimcorp0000000001", "sim-secret").with_api_base(&sim_url)).unwrap();
        let setup = crate::Setup {
            db: test_db.db.clone(),
            wecom: Some(wecom),
            directory: Arc::new(FixedGroups(groups.clone())),
            config: BroadcastConfig::default(),
            clock: Arc::new(clock.clone()),
            cipher: KeyCipher::random(),
        };
        let engine = setup.engine();
        let image = Attachment::Image { pic_url: format!("{image_url}/banner.png"), media_id: String::new() };
        let (broadcast, _) = engine
            .store
            .insert_broadcast(&NewBroadcast {
                idempotency_key: "media".to_owned(),
                name: "海报".to_owned(),
                targets_json: "{}".to_owned(),
                msg_type: 2,
                content: "新品海报".to_owned(),
                attachments_json: serde_json::to_string(&[image]).unwrap(),
                scheduled_at: clock.now_ms(),
                created_at: clock.now_ms(),
                creator: "admin".to_owned(),
                quota_per_day: 1,
            })
            .await
            .unwrap();

        engine.tick().await.unwrap();
        let tasks = engine.store.tasks_of(broadcast.id).await.unwrap();
        assert_eq!(tasks.len(), owners.len());
        assert!(tasks.iter().all(|task| task.state() == TaskState::Created), "{tasks:?}");
        let uploads = || sim.stats().calls.get("media/upload").copied().unwrap_or(0);
        assert_eq!((uploads(), fetches.load(Ordering::SeqCst)), (1, 1), "one upload serves every owner's task");
        let first = engine.store.uploaded_media(broadcast.id).await.unwrap();
        assert!(sim.media_valid(&first[0].1));
        assert_eq!(sim.group_msg_tasks_per_chat().len(), groups.len());

        let row = engine.store.broadcast(broadcast.id).await.unwrap().unwrap();
        let reused = engine.prepare(row.clone()).await.unwrap().unwrap();
        assert_eq!((uploads(), fetches.load(Ordering::SeqCst)), (1, 1), "a fresh upload is reused");
        assert_eq!(reused.attachments[0].image.as_ref().unwrap().media_id.as_deref(), Some(first[0].1.as_str()));

        sim.advance(Duration::from_millis(u64::try_from(domain::MEDIA_LIFETIME_MS).unwrap()));
        clock.advance(domain::MEDIA_LIFETIME_MS);
        assert!(!sim.media_valid(&first[0].1), "WeCom's media expired");
        let renewed = engine.prepare(row).await.unwrap().unwrap();
        let media_id = renewed.attachments[0].image.as_ref().unwrap().media_id.clone().unwrap();
        // (The simulator's access token expired too: the client fetched a new one and called media/upload again.)
        assert_eq!(fetches.load(Ordering::SeqCst), 2, "media older than 3 days are uploaded again");
        assert_ne!(media_id, first[0].1);
        assert!(sim.media_valid(&media_id));
        assert_eq!(engine.store.uploaded_media(broadcast.id).await.unwrap()[0].1, media_id);
        test_db.cleanup().await;
    }
}
