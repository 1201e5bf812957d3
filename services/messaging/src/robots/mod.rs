//! Group robots (群机器人): registration of a group's webhook and posts through it (`webhook/send`), used by the
//! group service for robot welcomes. A post is recorded under its idempotency key, so a retry posts nothing more;
//! a robot posts at most [`PER_MINUTE`] times a minute, as WeCom allows. A post beyond that is queued durably in
//! the database (state QUEUED, with the time it is expected to go out) and sent by the worker's [`Robots::drain`]
//! as the robot's budget allows, oldest first; a retry under the same key shows its current state. Webhook keys
//! are stored sealed with AES-256-GCM (see [`crate::secret`]) and only ever returned masked.

mod content;
mod store;

use std::collections::HashMap;

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use scrm_kernel::paging::page_size;
use scrm_kernel::{ApiError, Caller, ErrorCode, Role};
use scrm_proto::messaging::v1::{
    DeleteGroupRobotRequest, DeleteGroupRobotResponse, GroupRobot, ListGroupRobotsRequest, ListGroupRobotsResponse,
    RobotDeliveryState, SendRobotMessageRequest, SendRobotMessageResponse, UpsertGroupRobotRequest,
    UpsertGroupRobotResponse,
};
use scrm_storage::Db;
use scrm_wecom::{WeComClient, WebhookMessage};

use crate::domain::Clock;
use crate::error::MessagingError;
use crate::secret::KeyCipher;
use crate::worker::is_transient_failure;
use store::{PostRow, QueuedRow, RobotRow, RobotStore};

/// Posts WeCom lets a group robot make per minute.
pub const PER_MINUTE: i64 = 20;
/// WeCom's errcode for a robot over its rate.
const ERRCODE_RATE: i32 = 45009;
/// scrm's errcode for a group without an enabled robot.
const ERRCODE_NO_ROBOT: i32 = -1001;
/// scrm's errcode when no WeCom client is configured.
const ERRCODE_NO_WECOM: i32 = -1004;
/// Roles that may register and remove robots.
const MANAGE_ROLES: &[Role] = &[Role::Operator, Role::Admin];
/// Roles that may post through robots (services call as admin).
const POST_ROLES: &[Role] = &[Role::Operator, Role::Admin];
/// Longest idempotency key.
const MAX_KEY_LEN: usize = 255;
/// The window of WeCom's robot rate limit, in milliseconds.
const WINDOW_MS: i64 = 60_000;
/// How long the worker holds a queued post it is sending, in milliseconds.
const LEASE_MS: i64 = 60_000;
/// Delay before a queued post that failed transiently is tried again, in milliseconds.
const RETRY_MS: i64 = 10_000;
/// Transient failures after which a queued post is given up.
const MAX_ATTEMPTS: i32 = 10;
/// Queued posts the worker looks at per pass.
const DRAIN_BATCH: u32 = 500;
/// scrm's errcode for a failure that never got a WeCom errcode.
const ERRCODE_NO_ANSWER: i32 = -1002;

/// The robot RPCs' logic.
#[derive(Debug, Clone)]
pub struct Robots {
    store: RobotStore,
    wecom: Option<WeComClient>,
    clock: Arc<dyn Clock>,
}

impl Robots {
    /// Robots over `db` with webhook keys sealed by `cipher`, posting through `wecom`, telling time by `clock`.
    pub fn new(db: Db, cipher: KeyCipher, wecom: Option<WeComClient>, clock: Arc<dyn Clock>) -> Self {
        Robots { store: RobotStore::new(db, cipher), wecom, clock }
    }

    /// Seals the webhook keys stored plain before encryption; returns how many it sealed.
    pub async fn seal_plain_keys(&self) -> Result<u64, MessagingError> {
        Ok(self.store.seal_plain_keys().await?)
    }

    /// UpsertGroupRobot.
    pub async fn upsert(
        &self,
        caller: &Caller,
        request: UpsertGroupRobotRequest,
    ) -> Result<UpsertGroupRobotResponse, MessagingError> {
        caller.require_any(MANAGE_ROLES)?;
        let chat_id = required_chat_id(&request.chat_id)?;
        let stored = self.store.robot(&chat_id).await?;
        let webhook_key = match (request.webhook_key.trim().is_empty(), &stored) {
            (true, Some(stored)) => stored.webhook_key.clone(),
            (true, None) => return Err(ApiError::invalid("webhook_key", "webhook_key is required").into()),
            (false, _) => content::webhook_key(&request.webhook_key).ok_or_else(|| {
                ApiError::invalid("webhook_key", "webhook_key must be a robot key or its webhook URL")
            })?,
        };
        if request.name.chars().count() > 64 {
            return Err(ApiError::invalid("name", "name is longer than 64 characters").into());
        }
        let robot = RobotRow {
            chat_id: chat_id.clone(),
            name: request.name.trim().to_owned(),
            webhook_key,
            enabled: i32::from(request.enabled),
            last_sent_at: None,
            last_errcode: 0,
            created_at: 0,
        };
        self.store.upsert(&robot, self.clock.now_ms()).await?;
        let queued = self.store.queued_counts(std::slice::from_ref(&chat_id)).await?;
        let robot = self.store.robot(&chat_id).await?.map(|robot| to_proto(robot, &queued));
        Ok(UpsertGroupRobotResponse { robot })
    }

    /// ListGroupRobots: in chat_id order; the page token is the last chat_id.
    pub async fn list(
        &self,
        caller: &Caller,
        request: ListGroupRobotsRequest,
    ) -> Result<ListGroupRobotsResponse, MessagingError> {
        caller.require_any(MANAGE_ROLES)?;
        let size = page_size(request.page_size)?;
        let after = match request.page_token.strip_prefix("after:") {
            Some(after) => after.to_owned(),
            None if request.page_token.is_empty() => String::new(),
            None => return Err(ApiError::invalid("page_token", "page_token is not one this server issued").into()),
        };
        let rows = self.store.list(&request.chat_ids, &after, size).await?;
        let next_page_token = match rows.last() {
            Some(last) if rows.len() == size as usize => format!("after:{}", last.chat_id),
            _ => String::new(),
        };
        let chat_ids: Vec<String> = rows.iter().map(|row| row.chat_id.clone()).collect();
        let queued = self.store.queued_counts(&chat_ids).await?;
        let robots = rows.into_iter().map(|row| to_proto(row, &queued)).collect();
        Ok(ListGroupRobotsResponse { robots, next_page_token })
    }

    /// DeleteGroupRobot.
    pub async fn delete(
        &self,
        caller: &Caller,
        request: DeleteGroupRobotRequest,
    ) -> Result<DeleteGroupRobotResponse, MessagingError> {
        caller.require_any(MANAGE_ROLES)?;
        let chat_id = required_chat_id(&request.chat_id)?;
        if !self.store.delete(&chat_id).await? {
            return Err(ApiError::new(ErrorCode::NotFound, format!("group {chat_id} has no robot")).into());
        }
        Ok(DeleteGroupRobotResponse {})
    }

    /// SendRobotMessage.
    pub async fn send(
        &self,
        caller: &Caller,
        request: SendRobotMessageRequest,
    ) -> Result<SendRobotMessageResponse, MessagingError> {
        caller.require_any(POST_ROLES)?;
        let chat_id = required_chat_id(&request.chat_id)?;
        let key = request.idempotency_key.trim().to_owned();
        if key.is_empty() || key.len() > MAX_KEY_LEN {
            return Err(ApiError::invalid("idempotency_key", "idempotency_key is required (at most 255 bytes)").into());
        }
        let message =
            content::webhook_message(request.content).map_err(|(field, message)| ApiError::invalid(field, message))?;
        if let Some(post) = self.store.post(&key).await? {
            return Ok(SendRobotMessageResponse { replayed: true, ..response(&post) });
        }
        let now = self.clock.now_ms();
        let robot = self.store.robot(&chat_id).await?.filter(|robot| robot.enabled == 1);
        let Some(robot) = robot else {
            return Ok(response(&failed(ERRCODE_NO_ROBOT, "the group has no enabled robot", now)));
        };
        let Some(wecom) = &self.wecom else {
            return Ok(response(&failed(ERRCODE_NO_WECOM, "WeCom is not configured", now)));
        };
        let sent = self.store.sent_times(&chat_id, now - WINDOW_MS).await?;
        let queued = self.store.queued_times(&chat_id).await?;
        if !queued.is_empty() || sent.len() >= PER_MINUTE as usize {
            let send_after = next_slot(&sent, &queued, now);
            return self.enqueue(&key, &chat_id, &request.origin, &message, send_after, now).await;
        }
        let post = match wecom.webhook_send(&robot.webhook_key, &message).await {
            Ok(_) => sent_post(0, now),
            Err(error) if error.errcode() == Some(i64::from(ERRCODE_RATE)) => {
                // WeCom counted posts scrm did not make (the key is shared): wait out a whole window.
                return self.enqueue(&key, &chat_id, &request.origin, &message, now + WINDOW_MS, now).await;
            }
            Err(error) => {
                let errcode = error.errcode().map_or(-1, |code| i32::try_from(code).unwrap_or(-1));
                failed(errcode, &error.to_string(), now)
            }
        };
        self.store.record_post(&key, &chat_id, &request.origin, &post).await?;
        Ok(response(&post))
    }

    async fn enqueue(
        &self,
        key: &str,
        chat_id: &str,
        origin: &str,
        message: &WebhookMessage,
        send_after: i64,
        now: i64,
    ) -> Result<SendRobotMessageResponse, MessagingError> {
        let payload = serde_json::to_string(message).unwrap_or_default();
        self.store.enqueue(key, chat_id, origin, &payload, send_after, now).await?;
        let post = self.store.post(key).await?.unwrap_or_else(|| failed(ERRCODE_NO_ANSWER, "post not stored", now));
        Ok(response(&post))
    }

    /// One pass of the queue: sends the queued posts that are due, oldest first, each robot within its
    /// [`PER_MINUTE`] budget; posts the budget does not cover move to the robot's next free slot. Returns how
    /// many posts reached WeCom.
    pub async fn drain(&self) -> Result<usize, MessagingError> {
        let now = self.clock.now_ms();
        let mut sent_times: HashMap<String, Vec<i64>> = HashMap::new();
        let mut delivered = 0;
        for post in self.store.due(now, DRAIN_BATCH).await? {
            if !sent_times.contains_key(&post.chat_id) {
                let times = self.store.sent_times(&post.chat_id, now - WINDOW_MS).await?;
                sent_times.insert(post.chat_id.clone(), times);
            }
            let sent = sent_times.get_mut(&post.chat_id).map(std::mem::take).unwrap_or_default();
            if sent.len() >= PER_MINUTE as usize {
                self.store.reschedule(&post, next_slot(&sent, &[], now), false).await?;
                sent_times.insert(post.chat_id.clone(), sent);
                continue;
            }
            let mut sent = sent;
            match self.send_queued(post.clone(), now).await {
                Ok(true) => {
                    sent.push(now);
                    delivered += 1;
                }
                Ok(false) => {}
                // One robot's trouble (e.g. a key sealed under another key) holds up no other robot's posts.
                Err(error) => tracing::warn!(chat_id = %post.chat_id, %error, "queued robot post not sent; will retry"),
            }
            sent_times.insert(post.chat_id, sent);
        }
        Ok(delivered)
    }

    /// Sends one due queued post under a lease; true when it reached WeCom.
    async fn send_queued(&self, post: QueuedRow, now: i64) -> Result<bool, MessagingError> {
        if !self.store.reschedule(&post, now + LEASE_MS, false).await? {
            return Ok(false);
        }
        let claimed = QueuedRow { send_after: now + LEASE_MS, ..post };
        let robot = self.store.robot(&claimed.chat_id).await?.filter(|robot| robot.enabled == 1);
        let outcome = match (robot, &self.wecom) {
            (None, _) => failed(ERRCODE_NO_ROBOT, "the group has no enabled robot", now),
            (_, None) => failed(ERRCODE_NO_WECOM, "WeCom is not configured", now),
            (Some(robot), Some(wecom)) => {
                let message: WebhookMessage =
                    serde_json::from_str(claimed.payload.as_deref().unwrap_or_default()).unwrap_or_default();
                match wecom.webhook_send(&robot.webhook_key, &message).await {
                    Ok(_) => sent_post(claimed.send_after, now),
                    Err(error) if error.errcode() == Some(i64::from(ERRCODE_RATE)) => {
                        self.store.reschedule(&claimed, now + WINDOW_MS, false).await?;
                        return Ok(false);
                    }
                    Err(error) if is_transient_failure(&error) && claimed.attempts + 1 < MAX_ATTEMPTS => {
                        tracing::warn!(chat_id = %claimed.chat_id, %error, "queued robot post failed; will retry");
                        self.store.reschedule(&claimed, now + RETRY_MS, true).await?;
                        return Ok(false);
                    }
                    Err(error) => {
                        let errcode =
                            error.errcode().and_then(|code| i32::try_from(code).ok()).unwrap_or(ERRCODE_NO_ANSWER);
                        failed(errcode, &error.to_string(), now)
                    }
                }
            }
        };
        let post = PostRow { send_after: claimed.send_after, ..outcome };
        self.store.finish(&claimed.idempotency_key, &claimed.chat_id, &post).await?;
        Ok(post.sent_at.is_some())
    }
}

/// When a post may go out that joins a robot's queue behind posts expected at `queued`, given the times of the
/// robot's posts in the last minute `sent`, at `now`: no earlier than the last queued post, and late enough that
/// the window before it holds fewer than [`PER_MINUTE`] posts.
pub fn next_slot(sent: &[i64], queued: &[i64], now: i64) -> i64 {
    let mut events: Vec<i64> = sent.iter().chain(queued).copied().collect();
    events.sort_unstable();
    let mut slot = queued.iter().copied().max().unwrap_or(now).max(now);
    let limit = PER_MINUTE as usize;
    if events.len() >= limit {
        slot = slot.max(events[events.len() - limit] + WINDOW_MS);
    }
    slot
}

fn required_chat_id(chat_id: &str) -> Result<String, ApiError> {
    let chat_id = chat_id.trim();
    if chat_id.is_empty() || chat_id.len() > 64 {
        return Err(ApiError::invalid("chat_id", "chat_id is required (at most 64 characters)"));
    }
    Ok(chat_id.to_owned())
}

fn failed(errcode: i32, errmsg: &str, now: i64) -> PostRow {
    PostRow {
        state: RobotDeliveryState::Failed as i32,
        errcode,
        errmsg: errmsg.to_owned(),
        created_at: now,
        send_after: 0,
        sent_at: None,
    }
}

fn sent_post(send_after: i64, now: i64) -> PostRow {
    PostRow {
        state: RobotDeliveryState::Sent as i32,
        errcode: 0,
        errmsg: String::new(),
        created_at: now,
        send_after,
        sent_at: Some(now),
    }
}

fn response(post: &PostRow) -> SendRobotMessageResponse {
    let queued = post.state == RobotDeliveryState::Queued as i32;
    SendRobotMessageResponse {
        state: post.state,
        sent_at: post.sent_at.map(timestamp),
        expected_send_at: queued.then(|| timestamp(post.send_after)),
        errcode: post.errcode,
        errmsg: post.errmsg.clone(),
        replayed: false,
    }
}

fn to_proto(row: RobotRow, queued: &HashMap<String, i64>) -> GroupRobot {
    GroupRobot {
        queued_posts: queued.get(&row.chat_id).copied().unwrap_or(0),
        chat_id: row.chat_id,
        name: row.name,
        webhook_key_masked: content::masked(&row.webhook_key),
        enabled: row.enabled == 1,
        last_sent_at: row.last_sent_at.map(timestamp),
        last_errcode: row.last_errcode,
        created_at: Some(timestamp(row.created_at)),
    }
}

fn timestamp(millis: i64) -> prost_types::Timestamp {
    prost_types::Timestamp::from(UNIX_EPOCH + Duration::from_millis(millis.max(0) as u64))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use scrm_proto::messaging::v1::{RobotMessageContent, RobotText, robot_message_content};
    use scrm_storage::Dialect;
    use scrm_storage::testing::TestDb;
    use scrm_wecom::WeComConfig;
    use scrm_wecom_sim::{SimConfig, Simulator, World, WorldSize};

    use super::*;
    use crate::domain::ManualClock;

    #[test]
    fn the_next_slot_keeps_every_minute_within_twenty_posts_and_the_queue_in_order() {
        assert_eq!(next_slot(&[1_000; 19], &[], 5_000), 5_000);
        assert_eq!(next_slot(&[1_000; 20], &[], 5_000), 61_000);
        assert_eq!(next_slot(&[1_000; 20], &[61_000, 61_000], 5_000), 61_000);
        let sent: Vec<i64> = (0..20).map(|index| index * 1_000).collect();
        assert_eq!(next_slot(&sent, &[], 30_000), 60_000, "the oldest post leaves the window first");
        let queued: Vec<i64> = (0..20).map(|index| 60_000 + index * 1_000).collect();
        assert_eq!(next_slot(&sent, &queued, 30_000), 120_000, "a full minute of queued posts pushes a minute on");
        assert_eq!(next_slot(&[], &[90_000], 30_000), 90_000, "never ahead of a queued post");
    }

    fn text(content: &str) -> Option<RobotMessageContent> {
        Some(RobotMessageContent {
            body: Some(robot_message_content::Body::Text(RobotText {
                content: content.into(),
                ..RobotText::default()
            })),
        })
    }

    #[tokio::test]
    async fn a_burst_of_25_posts_sends_20_now_queues_5_and_delivers_them_the_next_minute() {
        let size = WorldSize { departments: 1, staff: 2, customers: 2, groups: 1 };
        let sim = Simulator::new(SimConfig::default(), World::generate(5, size));
        sim.clock().freeze_at(1_790_000_000_000);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let sim_url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(scrm_wecom_sim::serve(listener, sim.clone()));
        let test_db = TestDb::new(Dialect::Sqlite).await;
        test_db.db.migrate(&crate::MIGRATIONS).await.unwrap();
        let start = sim.clock().now_ms();
        let clock = ManualClock::new(start);
        let wecom =
            WeComClient::new(WeComConfig::new("wwsimcorp0000000001", "sim-secret").with_api_base(&sim_url)).unwrap();
        let robots = Robots::new(test_db.db.clone(), KeyCipher::random(), Some(wecom), Arc::new(clock.clone()));
        let admin = Caller::system("test");
        let robot = UpsertGroupRobotRequest {
            chat_id: "wr-burst".into(),
            name: "小助手".into(),
            webhook_key: "sim-webhook-key".into(),
            enabled: true,
        };
        robots.upsert(&admin, robot).await.unwrap();
        let posts = || sim.delivered().into_iter().filter(|delivered| delivered.api == "webhook/send").count();

        let mut states = Vec::new();
        for index in 0..25 {
            let request = SendRobotMessageRequest {
                chat_id: "wr-burst".into(),
                content: text(&format!("第{index}条")),
                idempotency_key: format!("burst-{index}"),
                origin: "test".into(),
            };
            states.push(robots.send(&admin, request).await.unwrap());
        }
        let sent = states.iter().filter(|response| response.state == RobotDeliveryState::Sent as i32).count();
        let queued: Vec<_> =
            states.iter().filter(|response| response.state == RobotDeliveryState::Queued as i32).collect();
        assert_eq!((sent, queued.len()), (20, 5), "{states:?}");
        assert!(queued.iter().all(|response| response.expected_send_at == Some(timestamp(start + WINDOW_MS))));
        assert_eq!(posts(), 20);
        let listed = robots.list(&admin, ListGroupRobotsRequest::default()).await.unwrap();
        assert_eq!(listed.robots[0].queued_posts, 5);

        sim.advance(Duration::from_secs(30));
        clock.advance(30_000);
        assert_eq!(robots.drain().await.unwrap(), 0, "nothing is due within the minute");
        assert_eq!(posts(), 20);

        sim.advance(Duration::from_secs(30));
        clock.advance(30_000);
        assert_eq!(robots.drain().await.unwrap(), 5);
        assert_eq!(posts(), 25, "all 25 posts reached WeCom");
        let replay = SendRobotMessageRequest {
            chat_id: "wr-burst".into(),
            content: text("第24条"),
            idempotency_key: "burst-24".into(),
            origin: "test".into(),
        };
        let replayed = robots.send(&admin, replay).await.unwrap();
        assert_eq!(replayed.state, RobotDeliveryState::Sent as i32);
        assert!(replayed.replayed);
        assert_eq!(replayed.sent_at, Some(timestamp(start + WINDOW_MS)));
        assert_eq!(robots.drain().await.unwrap(), 0, "each queued post is sent once");
        assert_eq!(posts(), 25);
        let listed = robots.list(&admin, ListGroupRobotsRequest::default()).await.unwrap();
        assert_eq!(listed.robots[0].queued_posts, 0);
        test_db.cleanup().await;
    }
}
