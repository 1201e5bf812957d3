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
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

use crate::directory::GroupDirectory;
use crate::domain::{
    self, Attachment, BroadcastConfig, Clock, Targets, TaskState, backoff_ms, corp_day, next_remind_allowed,
    parse_remind_times, plan_tasks,
};
use crate::error::MessagingError;
use crate::store::{BroadcastRow, MessagingStore, StartingGroup, TaskRow};

/// scrm's errcode for a failure that never got a WeCom errcode (e.g. the network kept failing).
pub const ERRCODE_NO_ANSWER: i32 = -1002;
/// scrm's errcode when WeCom is not configured.
pub const ERRCODE_NOT_CONFIGURED: i32 = -1004;

/// Spaces calls so that at most `per_minute` start in any minute.
#[derive(Debug)]
pub struct RateLimiter {
    interval: Duration,
    next: Mutex<tokio::time::Instant>,
}

impl RateLimiter {
    /// A limiter allowing `per_minute` calls a minute.
    pub fn new(per_minute: u32) -> Self {
        let interval = Duration::from_secs(60) / per_minute.max(1);
        RateLimiter { interval, next: Mutex::new(tokio::time::Instant::now()) }
    }

    /// Waits for the next free slot.
    pub async fn acquire(&self) {
        let slot = {
            let mut next = self.next.lock().await;
            let slot = (*next).max(tokio::time::Instant::now());
            *next = slot + self.interval;
            slot
        };
        tokio::time::sleep_until(slot).await;
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
    /// The `add_msg_template` rate limit.
    pub limiter: Arc<RateLimiter>,
}

impl Engine {
    /// Runs the worker until `shutdown` is cancelled.
    pub async fn run(self, shutdown: CancellationToken) {
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

    /// One pass over every kind of due work.
    pub async fn tick(&self) -> Result<(), MessagingError> {
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
        let targets: Targets = serde_json::from_str(&broadcast.targets_json).unwrap_or_default();
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
        let quota = i64::from(broadcast.quota_per_day);
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

    /// Works the due tasks of the queue, `concurrency` at a time.
    async fn fan_out(&self) -> Result<(), MessagingError> {
        let batch = u32::try_from(self.config.concurrency.max(1) * 4).unwrap_or(64);
        loop {
            let tasks = self.store.claim_due_tasks(self.clock.now_ms(), batch, self.config.lease_ms).await?;
            if tasks.is_empty() {
                return Ok(());
            }
            let mut broadcasts: HashMap<i64, Arc<BroadcastRow>> = HashMap::new();
            for task in &tasks {
                if !broadcasts.contains_key(&task.broadcast_id)
                    && let Some(row) = self.store.broadcast(task.broadcast_id).await?
                {
                    broadcasts.insert(task.broadcast_id, Arc::new(row));
                }
            }
            let results: Vec<Result<(), MessagingError>> = futures::stream::iter(tasks)
                .map(|task| {
                    let broadcast = broadcasts.get(&task.broadcast_id).cloned();
                    async move {
                        match broadcast {
                            Some(broadcast) => self.create_task(&broadcast, task).await,
                            None => Ok(()),
                        }
                    }
                })
                .buffer_unordered(self.config.concurrency.max(1))
                .collect()
                .await;
            for result in results {
                result?;
            }
        }
    }

    /// Creates one owner task in WeCom, exactly once.
    async fn create_task(&self, broadcast: &BroadcastRow, task: TaskRow) -> Result<(), MessagingError> {
        let Some(wecom) = &self.wecom else {
            let now = self.clock.now_ms();
            self.store.mark_failed(task.id, ERRCODE_NOT_CONFIGURED, "WeCom is not configured", now).await?;
            return Ok(());
        };
        let chat_ids = self.store.task_chat_ids(task.id).await?;
        let request = add_msg_template_request(broadcast, &task.owner, &chat_ids);
        if task.state() == TaskState::Sending {
            match self.recover(wecom, &task, &chat_ids, &request).await {
                Ok(Some(msgid)) => {
                    tracing::info!(task = task.id, %msgid, "adopted a task WeCom created before a crash or lost answer");
                    self.store.mark_created(task.id, &msgid, &[], self.clock.now_ms()).await?;
                    return Ok(());
                }
                Ok(None) => {}
                Err(error) => {
                    let delay = self.delay(&task);
                    let now = self.clock.now_ms();
                    let errcode = errcode_of(&error);
                    self.store
                        .mark_retry(task.id, TaskState::Sending, now + delay, errcode, &error.to_string(), now)
                        .await?;
                    return Ok(());
                }
            }
            if task.attempts >= self.config.max_attempts {
                let now = self.clock.now_ms();
                self.store.mark_failed(task.id, task.errcode, &task.errmsg, now).await?;
                return Ok(());
            }
        }
        self.limiter.acquire().await;
        self.store.mark_sending(task.id, self.clock.now_ms()).await?;
        let attempt = task.attempts + 1;
        let result = wecom.add_msg_template(&request).await;
        let now = self.clock.now_ms();
        match result {
            Ok(response) => self.store.mark_created(task.id, &response.msgid, &response.fail_list, now).await?,
            Err(error) => {
                let errcode = errcode_of(&error);
                let message = error.to_string();
                let retry_at = now + self.delay(&TaskRow { attempts: attempt, ..task.clone() });
                if error.is_ambiguous() || is_ambiguous_exhaustion(&error) {
                    // WeCom may hold the task: the next attempt looks it up first.
                    self.store.mark_retry(task.id, TaskState::Sending, retry_at, errcode, &message, now).await?;
                } else if error.is_transient() && attempt < self.config.max_attempts {
                    self.store.mark_retry(task.id, TaskState::Pending, retry_at, errcode, &message, now).await?;
                } else {
                    tracing::warn!(task = task.id, %error, "giving up on a broadcast task");
                    self.store.mark_failed(task.id, errcode, &message, now).await?;
                }
            }
        }
        Ok(())
    }

    fn delay(&self, task: &TaskRow) -> i64 {
        let seed = u64::try_from(task.id).unwrap_or(0) ^ (u64::try_from(task.attempts).unwrap_or(0) << 32);
        backoff_ms(task.attempts.max(1), self.config.initial_backoff_ms, self.config.max_backoff_ms, seed)
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

/// The `add_msg_template` request of one owner task.
pub fn add_msg_template_request(broadcast: &BroadcastRow, owner: &str, chat_ids: &[String]) -> AddMsgTemplateRequest {
    let attachments: Vec<Attachment> = serde_json::from_str(&broadcast.attachments_json).unwrap_or_default();
    AddMsgTemplateRequest {
        chat_type: Some("group".to_owned()),
        chat_id_list: chat_ids.to_vec(),
        sender: Some(owner.to_owned()),
        text: (!broadcast.content.is_empty()).then(|| Text { content: broadcast.content.clone() }),
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

fn errcode_of(error: &WeComError) -> i32 {
    error.errcode().and_then(|code| i32::try_from(code).ok()).unwrap_or(ERRCODE_NO_ANSWER)
}

/// Whether an exhausted retry budget ended on a failure that may have reached WeCom.
fn is_ambiguous_exhaustion(error: &WeComError) -> bool {
    matches!(error, WeComError::RetryBudgetExhausted { last, .. } if last.is_ambiguous())
}
