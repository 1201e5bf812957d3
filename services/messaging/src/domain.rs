//! Broadcast rules without I/O: states and outcomes, validation, the split into owner tasks, quota days,
//! retry delays and the delivery report.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

pub use scrm_kernel::calendar::day_string;
use serde::{Deserialize, Serialize};

/// One day in milliseconds.
pub const DAY_MS: i64 = 86_400_000;
/// How far ahead a broadcast may be scheduled: 30 days.
pub const MAX_SCHEDULE_AHEAD_MS: i64 = 30 * DAY_MS;
/// A scheduled time this far in the past is still taken as "now" (clock skew between caller and server).
pub const PAST_TOLERANCE_MS: i64 = 60_000;
/// Most bytes of a broadcast's text (WeCom `text.content`).
pub const MAX_CONTENT_BYTES: usize = 4000;
/// Most attachments of one broadcast (WeCom `attachments`).
pub const MAX_ATTACHMENTS: usize = 9;
/// WeCom's corp timezone offset (China Standard Time), used to count the receive quota per day.
pub const CORP_UTC_OFFSET_MS: i64 = 8 * 3_600_000;
/// WeCom allows 3 reminders per task per 24 hours.
pub const REMINDS_PER_DAY: usize = 3;

/// A source of the current time, injectable in tests.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Now, in Unix milliseconds.
    fn now_ms(&self) -> i64;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        i64::try_from(now.as_millis()).unwrap_or(i64::MAX)
    }
}

/// A clock that only moves when told to, for tests.
#[derive(Debug, Clone, Default)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    /// A clock showing `now_ms`.
    pub fn new(now_ms: i64) -> Self {
        ManualClock(Arc::new(AtomicI64::new(now_ms)))
    }

    /// Moves the clock forward by `by_ms`.
    pub fn advance(&self, by_ms: i64) {
        self.0.fetch_add(by_ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// Settings of the broadcast fan-out and tracking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BroadcastConfig {
    /// Group messages a customer group may receive per day (WeCom's receive quota; it has changed over time).
    pub receive_quota_per_day: u32,
    /// Most groups in one `add_msg_template` task's `chat_id_list`.
    pub max_chats_per_task: usize,
    /// Most `add_msg_template` calls per minute (stay under WeCom's per-API limit).
    pub rate_per_minute: u32,
    /// Tasks created concurrently.
    pub concurrency: usize,
    /// Attempts to create one task before giving up on it.
    pub max_attempts: i32,
    /// First retry delay, in milliseconds; doubles per attempt, with jitter.
    pub initial_backoff_ms: i64,
    /// Longest retry delay, in milliseconds.
    pub max_backoff_ms: i64,
    /// How long a worker holds a task it works on, in milliseconds.
    pub lease_ms: i64,
    /// How often the worker looks for work, in milliseconds.
    pub tick_ms: u64,
    /// How often results of a created task are fetched, in milliseconds.
    pub result_poll_ms: i64,
    /// How long owners have to confirm, from the start of the broadcast, in milliseconds.
    pub confirm_window_ms: i64,
    /// First automatic reminder this long after a task is created, in milliseconds.
    pub remind_after_ms: i64,
    /// File holding the AES-256-GCM key (64 hex digits) that encrypts group robot webhook keys at rest; empty =
    /// `robot-webhook.key` in the data directory, generated with mode 0600 on first run. Every process running
    /// the messaging service must read the same key.
    pub robot_key_file: std::path::PathBuf,
}

impl Default for BroadcastConfig {
    fn default() -> Self {
        BroadcastConfig {
            receive_quota_per_day: 1,
            max_chats_per_task: 2000,
            rate_per_minute: 9_000,
            concurrency: 16,
            max_attempts: 8,
            initial_backoff_ms: 500,
            max_backoff_ms: 60_000,
            lease_ms: 60_000,
            tick_ms: 200,
            result_poll_ms: 5_000,
            confirm_window_ms: DAY_MS,
            remind_after_ms: 2 * 3_600_000,
            robot_key_file: std::path::PathBuf::new(),
        }
    }
}

/// Lifecycle state of a broadcast, as stored (values of `scrm.messaging.v1.BroadcastState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BroadcastState {
    /// Waiting for its time.
    Scheduled = 1,
    /// Targets resolved, tasks being created.
    FanningOut = 2,
    /// All tasks created; results being collected.
    AwaitingConfirmation = 3,
    /// Every group final.
    Completed = 4,
    /// Cancelled.
    Cancelled = 5,
    /// Could not start.
    Failed = 6,
}

impl BroadcastState {
    /// The stored code.
    pub fn code(self) -> i32 {
        self as i32
    }

    /// The state of a stored code.
    pub fn from_code(code: i32) -> Option<Self> {
        Some(match code {
            1 => Self::Scheduled,
            2 => Self::FanningOut,
            3 => Self::AwaitingConfirmation,
            4 => Self::Completed,
            5 => Self::Cancelled,
            6 => Self::Failed,
            _ => return None,
        })
    }
}

/// State of an owner task in the fan-out queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskState {
    /// Not attempted yet, or the last attempt certainly did not reach WeCom.
    Pending = 0,
    /// An `add_msg_template` call was started and its outcome is unknown: WeCom may have created the task.
    Sending = 1,
    /// WeCom created the task; `msgid` is recorded.
    Created = 2,
    /// Given up on.
    Failed = 3,
    /// Cancelled before it was created.
    Cancelled = 4,
}

impl TaskState {
    /// The stored code.
    pub fn code(self) -> i32 {
        self as i32
    }

    /// The state of a stored code.
    pub fn from_code(code: i32) -> Self {
        match code {
            1 => Self::Sending,
            2 => Self::Created,
            3 => Self::Failed,
            4 => Self::Cancelled,
            _ => Self::Pending,
        }
    }
}

/// Per-group outcome, as stored (values of `scrm.messaging.v1.BroadcastGroupOutcome`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    /// Task not created yet.
    Pending = 1,
    /// Task created, owner not confirmed yet.
    AwaitingConfirmation = 2,
    /// Sent.
    Delivered = 3,
    /// Window closed unconfirmed.
    Unconfirmed = 4,
    /// Lost to the receive quota.
    QuotaExceeded = 5,
    /// WeCom status 2.
    NotFriend = 6,
    /// Lost to an error.
    Error = 7,
    /// Cancelled.
    Cancelled = 8,
    /// Group dismissed.
    GroupDismissed = 9,
}

impl Outcome {
    /// The stored code.
    pub fn code(self) -> i32 {
        self as i32
    }

    /// The outcome of a stored code.
    pub fn from_code(code: i32) -> Self {
        match code {
            2 => Self::AwaitingConfirmation,
            3 => Self::Delivered,
            4 => Self::Unconfirmed,
            5 => Self::QuotaExceeded,
            6 => Self::NotFriend,
            7 => Self::Error,
            8 => Self::Cancelled,
            9 => Self::GroupDismissed,
            _ => Self::Pending,
        }
    }

    /// Whether the outcome can still change.
    pub fn is_open(self) -> bool {
        matches!(self, Self::Pending | Self::AwaitingConfirmation)
    }

    /// The outcome of WeCom's `get_groupmsg_send_result` status (0 not sent, 1 sent, 2 not a friend, 3 quota).
    pub fn of_wecom_status(status: i64) -> Self {
        match status {
            1 => Self::Delivered,
            2 => Self::NotFriend,
            3 => Self::QuotaExceeded,
            _ => Self::AwaitingConfirmation,
        }
    }
}

/// The PRD's message types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MsgType {
    /// Text only.
    Text = 1,
    /// An image.
    Image = 2,
    /// A link card.
    Link = 3,
    /// A mini-program card.
    Miniprogram = 4,
}

impl MsgType {
    /// The type of a stored code or proto value.
    pub fn from_code(code: i32) -> Option<Self> {
        Some(match code {
            1 => Self::Text,
            2 => Self::Image,
            3 => Self::Link,
            4 => Self::Miniprogram,
            _ => return None,
        })
    }
}

/// An attachment as stored (WeCom's `attachments[]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "msgtype", rename_all = "lowercase")]
pub enum Attachment {
    /// An image by URL, or by a WeCom media id.
    Image {
        /// Where the image is.
        pic_url: String,
        /// WeCom media id, when uploaded.
        media_id: String,
    },
    /// A link card.
    Link {
        /// Title.
        title: String,
        /// Cover URL.
        picurl: String,
        /// Description.
        desc: String,
        /// Target URL.
        url: String,
    },
    /// A mini-program card.
    Miniprogram {
        /// Title.
        title: String,
        /// Cover URL.
        pic_url: String,
        /// WeCom media id of the cover, when uploaded.
        pic_media_id: String,
        /// Mini-program appid.
        appid: String,
        /// Page path.
        page: String,
    },
}

impl Attachment {
    fn kind(&self) -> MsgType {
        match self {
            Attachment::Image { .. } => MsgType::Image,
            Attachment::Link { .. } => MsgType::Link,
            Attachment::Miniprogram { .. } => MsgType::Miniprogram,
        }
    }
}

/// A target filter as stored (passed to GroupService.ListGroups).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TargetFilter {
    /// Group tags.
    pub tag_ids: Vec<i64>,
    /// Require every tag.
    pub match_all_tags: bool,
    /// Owners.
    pub owner_userids: Vec<String>,
    /// Stores.
    pub store_ids: Vec<i64>,
    /// Activity bands (proto values).
    pub activity_bands: Vec<i32>,
}

/// Who a broadcast goes to, as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Targets {
    /// scrm group ids.
    pub group_ids: Vec<i64>,
    /// WeCom chat ids.
    pub chat_ids: Vec<String>,
    /// A filter instead of explicit groups.
    pub filter: Option<TargetFilter>,
}

impl Targets {
    /// Whether explicit groups are named.
    pub fn is_explicit(&self) -> bool {
        !self.group_ids.is_empty() || !self.chat_ids.is_empty()
    }
}

/// A target group as resolved from the group service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetGroup {
    /// scrm group id.
    pub group_id: i64,
    /// WeCom chat id.
    pub chat_id: String,
    /// Group name.
    pub name: String,
    /// Owner's userid.
    pub owner: String,
    /// Owner's display name.
    pub owner_name: String,
    /// Member count.
    pub member_count: i32,
}

/// A field-naming validation problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// The request field, snake_case path.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl Issue {
    fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Issue { field: field.into(), message: message.into() }
    }
}

/// What a broadcast sends, checked against its type.
pub fn validate_content(msg_type: Option<MsgType>, content: &str, attachments: &[Attachment]) -> Vec<Issue> {
    let mut issues = Vec::new();
    let Some(msg_type) = msg_type else {
        issues.push(Issue::new("msg_type", "msg_type must be one of text, image, link, miniprogram"));
        return issues;
    };
    if content.len() > MAX_CONTENT_BYTES {
        issues.push(Issue::new("content", format!("content is longer than {MAX_CONTENT_BYTES} bytes")));
    }
    if msg_type == MsgType::Text && content.trim().is_empty() {
        issues.push(Issue::new("content", "content must not be empty"));
    }
    if attachments.len() > MAX_ATTACHMENTS {
        issues.push(Issue::new("attachments", format!("at most {MAX_ATTACHMENTS} attachments")));
    }
    if msg_type != MsgType::Text && !attachments.iter().any(|attachment| attachment.kind() == msg_type) {
        issues.push(Issue::new("attachments", format!("a {msg_type:?} broadcast needs an attachment of that type")));
    }
    for (index, attachment) in attachments.iter().enumerate() {
        let missing = match attachment {
            Attachment::Image { pic_url, media_id } => (pic_url.is_empty() && media_id.is_empty()).then_some("pic_url"),
            Attachment::Link { title, url, .. } => {
                if url.is_empty() {
                    Some("url")
                } else if title.is_empty() {
                    Some("title")
                } else {
                    None
                }
            }
            Attachment::Miniprogram { title, appid, page, pic_url, pic_media_id } => {
                if appid.is_empty() {
                    Some("appid")
                } else if page.is_empty() {
                    Some("page")
                } else if title.is_empty() {
                    Some("title")
                } else if pic_url.is_empty() && pic_media_id.is_empty() {
                    Some("pic_url")
                } else {
                    None
                }
            }
        };
        if let Some(field) = missing {
            issues.push(Issue::new(format!("attachments[{index}].{field}"), format!("{field} is required")));
        }
    }
    issues
}

/// The send time of a request: `None` means now. Errors when in the past or more than 30 days ahead.
pub fn validate_schedule(scheduled_at_ms: Option<i64>, now_ms: i64) -> Result<i64, Issue> {
    let Some(at) = scheduled_at_ms else { return Ok(now_ms) };
    if at < now_ms - PAST_TOLERANCE_MS {
        return Err(Issue::new("scheduled_at", "scheduled time is in the past"));
    }
    if at > now_ms + MAX_SCHEDULE_AHEAD_MS {
        return Err(Issue::new("scheduled_at", "scheduled time is more than 30 days ahead"));
    }
    Ok(at.max(now_ms))
}

/// The corp-timezone day number of a Unix-millisecond time (days since 1970-01-01 in China Standard Time).
pub fn corp_day(at_ms: i64) -> i64 {
    (at_ms + CORP_UTC_OFFSET_MS).div_euclid(DAY_MS)
}

/// One planned `add_msg_template` task: an owner and up to the per-task limit of their groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedTask {
    /// Owner userid (the sender).
    pub owner: String,
    /// Owner's display name.
    pub owner_name: String,
    /// Index of this task among the owner's tasks.
    pub seq: i32,
    /// The groups' chat ids.
    pub chat_ids: Vec<String>,
}

/// Splits `groups` into one task per owner, more when an owner has more than `max_chats_per_task` groups.
/// Owners and chat ids come out sorted, so the same groups always give the same tasks.
pub fn plan_tasks(groups: &[TargetGroup], max_chats_per_task: usize) -> Vec<PlannedTask> {
    let mut by_owner: BTreeMap<&str, (&str, Vec<&str>)> = BTreeMap::new();
    for group in groups {
        by_owner.entry(&group.owner).or_insert_with(|| (&group.owner_name, Vec::new())).1.push(&group.chat_id);
    }
    let mut tasks = Vec::new();
    for (owner, (owner_name, mut chat_ids)) in by_owner {
        chat_ids.sort_unstable();
        chat_ids.dedup();
        for (seq, chunk) in chat_ids.chunks(max_chats_per_task.max(1)).enumerate() {
            tasks.push(PlannedTask {
                owner: owner.to_owned(),
                owner_name: owner_name.to_owned(),
                seq: i32::try_from(seq).unwrap_or(i32::MAX),
                chat_ids: chunk.iter().map(|chat_id| (*chat_id).to_owned()).collect(),
            });
        }
    }
    tasks
}

/// The delay before retry number `attempt` (1-based): exponential from `initial_ms`, capped at `max_ms`, with
/// jitter drawn from the upper half, seeded by `seed` so that tasks failing together spread out.
pub fn backoff_ms(attempt: i32, initial_ms: i64, max_ms: i64, seed: u64) -> i64 {
    let exponent = u32::try_from(attempt.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
    let ceiling = initial_ms.saturating_mul(1_i64 << exponent).min(max_ms).max(1);
    let half = ceiling / 2;
    let jitter = i64::try_from(splitmix(seed) % u64::try_from(half.max(1)).unwrap_or(1)).unwrap_or(0);
    half + jitter
}

fn splitmix(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// How long a WeCom temporary media id (`media/upload`) stays valid: 3 days.
pub const MEDIA_LIFETIME_MS: i64 = 3 * DAY_MS;
/// An uploaded media id is reused while younger than this: an hour short of its lifetime, so no task is created
/// with a media id about to expire.
pub const MEDIA_REUSE_MS: i64 = MEDIA_LIFETIME_MS - 3_600_000;

/// Whether media uploaded at `uploaded_at` (Unix ms) may still be used at `now_ms`.
pub fn media_fresh(uploaded_at: i64, now_ms: i64) -> bool {
    now_ms - uploaded_at < MEDIA_REUSE_MS
}

impl Attachment {
    /// The image URL to upload with `media/upload` before sending: images and mini-program covers given by URL
    /// only (WeCom takes a mini-program cover by media id alone, and an image `pic_url` only from
    /// `media/uploadimg`).
    pub fn upload_url(&self) -> Option<&str> {
        match self {
            Attachment::Image { pic_url, media_id }
            | Attachment::Miniprogram { pic_url, pic_media_id: media_id, .. }
                if media_id.is_empty() && !pic_url.is_empty() =>
            {
                Some(pic_url)
            }
            _ => None,
        }
    }

    /// This attachment sending the uploaded `media_id` (for an image or a mini-program cover).
    pub fn with_media_id(self, uploaded: String) -> Self {
        match self {
            Attachment::Image { pic_url, .. } => Attachment::Image { pic_url, media_id: uploaded },
            Attachment::Miniprogram { title, pic_url, appid, page, .. } => {
                Attachment::Miniprogram { title, pic_url, pic_media_id: uploaded, appid, page }
            }
            link => link,
        }
    }
}

/// Token-bucket arithmetic (GCRA): given the theoretical arrival time `tat` of the next call, the time `now`,
/// the spacing `interval` of the sustained rate and `burst` (how far ahead of the sustained rate calls may
/// run), returns when the call may start and the new `tat`. Times are in any one unit.
pub fn bucket_slot(tat: u64, now: u64, interval: u64, burst: u64) -> (u64, u64) {
    let start = tat.max(now);
    (start.saturating_sub(burst).max(now), start + interval)
}

/// Reminder times (Unix ms) stored as a comma-separated list.
pub fn parse_remind_times(stored: &str) -> Vec<i64> {
    stored.split(',').filter_map(|time| time.parse().ok()).collect()
}

/// When another reminder is allowed given earlier ones: `None` when one is allowed at `now_ms`.
pub fn next_remind_allowed(remind_times: &[i64], now_ms: i64) -> Option<i64> {
    let mut recent: Vec<i64> = remind_times.iter().copied().filter(|time| *time > now_ms - DAY_MS).collect();
    if recent.len() < REMINDS_PER_DAY {
        return None;
    }
    recent.sort_unstable();
    Some(recent[recent.len() - REMINDS_PER_DAY] + DAY_MS)
}

/// One group's row, as the report needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupFigure {
    /// Outcome.
    pub outcome: Outcome,
    /// Owner userid.
    pub owner: String,
    /// Owner's name.
    pub owner_name: String,
    /// Flagged for the quota before sending.
    pub quota_flagged: bool,
    /// Last errcode.
    pub errcode: i32,
    /// Last errmsg.
    pub errmsg: String,
}

/// An owner's unconfirmed groups in the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnerLoss {
    /// Owner userid.
    pub userid: String,
    /// Owner's name.
    pub name: String,
    /// Groups waiting on, or lost to, the owner.
    pub group_count: i64,
}

/// The delivery report's figures.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Groups targeted.
    pub targeted: i64,
    /// Groups delivered.
    pub delivered: i64,
    /// Delivered per targeted, in basis points.
    pub rate_bps: i32,
    /// Groups without a final result.
    pub pending: i64,
    /// Groups waiting on or lost to owners.
    pub unconfirmed: i64,
    /// Those owners, most groups first.
    pub unconfirmed_owners: Vec<OwnerLoss>,
    /// Groups lost to the quota.
    pub quota: i64,
    /// Of those, flagged before sending.
    pub quota_flagged: i64,
    /// Groups lost to errors.
    pub errors: i64,
    /// Errors by (errcode, errmsg), most groups first.
    pub errors_by_code: Vec<(i32, String, i64)>,
    /// Not-friend groups.
    pub not_friend: i64,
    /// Cancelled groups.
    pub cancelled: i64,
    /// Dismissed groups.
    pub dismissed: i64,
}

/// Computes the report of a broadcast from its groups. Groups whose task exists but whose owner has not
/// confirmed yet count both as pending and as waiting on their owner (unconfirmed).
pub fn report(groups: &[GroupFigure]) -> Report {
    let mut report = Report { targeted: i64::try_from(groups.len()).unwrap_or(i64::MAX), ..Report::default() };
    let mut owners: BTreeMap<&str, (&str, i64)> = BTreeMap::new();
    let mut errors: BTreeMap<i32, (&str, i64)> = BTreeMap::new();
    for group in groups {
        match group.outcome {
            Outcome::Pending => report.pending += 1,
            Outcome::AwaitingConfirmation | Outcome::Unconfirmed => {
                if group.outcome == Outcome::AwaitingConfirmation {
                    report.pending += 1;
                }
                report.unconfirmed += 1;
                owners.entry(&group.owner).or_insert((&group.owner_name, 0)).1 += 1;
            }
            Outcome::Delivered => report.delivered += 1,
            Outcome::QuotaExceeded => {
                report.quota += 1;
                report.quota_flagged += i64::from(group.quota_flagged);
            }
            Outcome::NotFriend => report.not_friend += 1,
            Outcome::Error => {
                report.errors += 1;
                errors.entry(group.errcode).or_insert((&group.errmsg, 0)).1 += 1;
            }
            Outcome::Cancelled => report.cancelled += 1,
            Outcome::GroupDismissed => report.dismissed += 1,
        }
    }
    report.rate_bps = if report.targeted == 0 {
        0
    } else {
        i32::try_from(report.delivered * 10_000 / report.targeted).unwrap_or(i32::MAX)
    };
    report.unconfirmed_owners = owners
        .into_iter()
        .map(|(userid, (name, group_count))| OwnerLoss {
            userid: userid.to_owned(),
            name: name.to_owned(),
            group_count,
        })
        .collect();
    report.unconfirmed_owners.sort_by(|a, b| b.group_count.cmp(&a.group_count).then_with(|| a.userid.cmp(&b.userid)));
    report.errors_by_code =
        errors.into_iter().map(|(code, (message, count))| (code, message.to_owned(), count)).collect();
    report.errors_by_code.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(owner: &str, chat_id: &str) -> TargetGroup {
        TargetGroup {
            group_id: 1,
            chat_id: chat_id.to_owned(),
            name: String::new(),
            owner: owner.to_owned(),
            owner_name: owner.to_uppercase(),
            member_count: 3,
        }
    }

    #[test]
    fn tasks_are_one_per_owner_split_at_the_chat_limit() {
        let groups = vec![group("b", "c3"), group("a", "c2"), group("a", "c1"), group("a", "c4"), group("a", "c1")];
        let tasks = plan_tasks(&groups, 2);
        let shape: Vec<_> = tasks.iter().map(|task| (task.owner.as_str(), task.seq, task.chat_ids.clone())).collect();
        assert_eq!(
            shape,
            vec![
                ("a", 0, vec!["c1".to_owned(), "c2".to_owned()]),
                ("a", 1, vec!["c4".to_owned()]),
                ("b", 0, vec!["c3".to_owned()]),
            ]
        );
    }

    #[test]
    fn schedule_window_is_now_to_thirty_days() {
        let now = 1_000_000_000;
        assert_eq!(validate_schedule(None, now), Ok(now));
        assert_eq!(validate_schedule(Some(now - 10), now), Ok(now));
        assert_eq!(validate_schedule(Some(now - 2 * PAST_TOLERANCE_MS), now).unwrap_err().field, "scheduled_at");
        assert!(validate_schedule(Some(now + MAX_SCHEDULE_AHEAD_MS), now).is_ok());
        assert!(validate_schedule(Some(now + MAX_SCHEDULE_AHEAD_MS + 1), now).is_err());
    }

    #[test]
    fn content_rules_name_the_field() {
        let fields = |issues: Vec<Issue>| issues.into_iter().map(|issue| issue.field).collect::<Vec<_>>();
        assert_eq!(fields(validate_content(Some(MsgType::Text), "  ", &[])), vec!["content"]);
        assert_eq!(fields(validate_content(None, "hi", &[])), vec!["msg_type"]);
        assert_eq!(fields(validate_content(Some(MsgType::Link), "", &[])), vec!["attachments"]);
        let link =
            Attachment::Link { title: "t".into(), picurl: String::new(), desc: String::new(), url: String::new() };
        assert_eq!(fields(validate_content(Some(MsgType::Link), "", &[link])), vec!["attachments[0].url"]);
        assert!(validate_content(Some(MsgType::Text), "今晚8点秒杀", &[]).is_empty());
    }

    #[test]
    fn corp_days_follow_china_standard_time() {
        // 2026-03-02T16:30:00Z is 2026-03-03 00:30 in Shanghai.
        let at = 1_772_469_000_000;
        assert_eq!(day_string(corp_day(at)), "2026-03-03");
        assert_eq!(day_string(0), "1970-01-01");
    }

    #[test]
    fn backoff_grows_with_jitter_under_the_cap() {
        for seed in 0..50 {
            let first = backoff_ms(1, 500, 60_000, seed);
            assert!((250..500).contains(&first), "{first}");
            let late = backoff_ms(20, 500, 60_000, seed);
            assert!((30_000..60_000).contains(&late), "{late}");
        }
    }

    #[test]
    fn reminders_are_limited_to_three_per_day() {
        let now = 10 * DAY_MS;
        assert_eq!(next_remind_allowed(&[now - 10, now - 5], now), None);
        assert_eq!(next_remind_allowed(&[now - 30, now - 20, now - 10], now), Some(now - 30 + DAY_MS));
        assert_eq!(next_remind_allowed(&[now - DAY_MS - 1, now - 20, now - 10], now), None);
        assert_eq!(parse_remind_times("5,7"), vec![5, 7]);
    }

    #[test]
    fn report_splits_losses() {
        let figure = |outcome, owner: &str, errcode| GroupFigure {
            outcome,
            owner: owner.to_owned(),
            owner_name: owner.to_owned(),
            quota_flagged: outcome == Outcome::QuotaExceeded,
            errcode,
            errmsg: String::new(),
        };
        let groups = vec![
            figure(Outcome::Delivered, "a", 0),
            figure(Outcome::Delivered, "a", 0),
            figure(Outcome::Unconfirmed, "b", 0),
            figure(Outcome::QuotaExceeded, "a", 0),
            figure(Outcome::Error, "c", 40050),
        ];
        let report = report(&groups);
        assert_eq!((report.targeted, report.delivered, report.rate_bps), (5, 2, 4000));
        assert_eq!((report.unconfirmed, report.quota, report.quota_flagged, report.errors), (1, 1, 1, 1));
        assert_eq!(report.unconfirmed_owners[0].userid, "b");
        assert_eq!(report.errors_by_code, vec![(40050, String::new(), 1)]);
    }

    #[test]
    fn the_bucket_lets_a_burst_through_then_paces_at_the_rate() {
        // 10 µs spacing, bursts of up to 3 calls (2 intervals ahead).
        let (mut tat, mut slots) = (0, Vec::new());
        for _ in 0..5 {
            let (slot, next) = bucket_slot(tat, 100, 10, 20);
            slots.push(slot);
            tat = next;
        }
        assert_eq!(slots, vec![100, 100, 100, 110, 120]);
        let (slot, _) = bucket_slot(tat, 1_000, 10, 20);
        assert_eq!(slot, 1_000, "a quiet spell refills the bucket");
    }

    #[test]
    fn media_is_uploaded_for_urls_and_reused_until_near_expiry() {
        let image = Attachment::Image { pic_url: "https://cdn/x.png".to_owned(), media_id: String::new() };
        assert_eq!(image.upload_url(), Some("https://cdn/x.png"));
        let uploaded = image.with_media_id("m1".to_owned());
        assert_eq!(uploaded.upload_url(), None);
        assert_eq!(uploaded, Attachment::Image { pic_url: "https://cdn/x.png".to_owned(), media_id: "m1".to_owned() });
        let cover = Attachment::Miniprogram {
            title: "秒杀".to_owned(),
            pic_url: "https://cdn/c.jpg".to_owned(),
            pic_media_id: String::new(),
            appid: "wx1".to_owned(),
            page: "pages/index".to_owned(),
        };
        assert_eq!(cover.upload_url(), Some("https://cdn/c.jpg"));
        let link = Attachment::Link { title: "t".into(), picurl: "p".into(), desc: String::new(), url: "u".into() };
        assert_eq!(link.upload_url(), None);
        assert!(media_fresh(0, MEDIA_REUSE_MS - 1));
        assert!(!media_fresh(0, MEDIA_REUSE_MS));
        assert!(!media_fresh(0, MEDIA_LIFETIME_MS - 1), "never used in the last hour before WeCom expires it");
    }
}
