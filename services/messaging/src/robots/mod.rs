//! Group robots (群机器人): registration of a group's webhook and posts through it (`webhook/send`), used by the
//! group service for robot welcomes. A post is recorded under its idempotency key, so a retry posts nothing more;
//! a robot posts at most [`PER_MINUTE`] times a minute, as WeCom allows, and a post beyond that is refused with
//! WeCom's errcode 45009 without reaching WeCom, for the caller to retry later under the same key.

mod content;
mod store;

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
use scrm_wecom::WeComClient;

use crate::domain::Clock;
use crate::error::MessagingError;
use store::{PostRow, RobotRow, RobotStore};

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

/// The robot RPCs' logic.
#[derive(Debug, Clone)]
pub struct Robots {
    store: RobotStore,
    wecom: Option<WeComClient>,
    clock: Arc<dyn Clock>,
}

impl Robots {
    /// Robots over `db`, posting through `wecom`, telling time by `clock`.
    pub fn new(db: Db, wecom: Option<WeComClient>, clock: Arc<dyn Clock>) -> Self {
        Robots { store: RobotStore::new(db), wecom, clock }
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
        let robot = self.store.robot(&chat_id).await?.map(to_proto);
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
        Ok(ListGroupRobotsResponse { robots: rows.into_iter().map(to_proto).collect(), next_page_token })
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
        if self.store.sent_since(&chat_id, now - 60_000).await? >= PER_MINUTE {
            return Ok(response(&failed(ERRCODE_RATE, "the robot posted 20 times in the last minute", now)));
        }
        let Some(wecom) = &self.wecom else {
            return Ok(response(&failed(ERRCODE_NO_WECOM, "WeCom is not configured", now)));
        };
        let post = match wecom.webhook_send(&robot.webhook_key, &message).await {
            Ok(_) => {
                PostRow { state: RobotDeliveryState::Sent as i32, errcode: 0, errmsg: String::new(), created_at: now }
            }
            Err(error) => {
                let errcode = error.errcode().map_or(-1, |code| i32::try_from(code).unwrap_or(-1));
                failed(errcode, &error.to_string(), now)
            }
        };
        if post.errcode != ERRCODE_RATE {
            self.store.record_post(&key, &chat_id, &request.origin, &post).await?;
        }
        Ok(response(&post))
    }
}

fn required_chat_id(chat_id: &str) -> Result<String, ApiError> {
    let chat_id = chat_id.trim();
    if chat_id.is_empty() || chat_id.len() > 64 {
        return Err(ApiError::invalid("chat_id", "chat_id is required (at most 64 characters)"));
    }
    Ok(chat_id.to_owned())
}

fn failed(errcode: i32, errmsg: &str, now: i64) -> PostRow {
    PostRow { state: RobotDeliveryState::Failed as i32, errcode, errmsg: errmsg.to_owned(), created_at: now }
}

fn response(post: &PostRow) -> SendRobotMessageResponse {
    let sent = post.state == RobotDeliveryState::Sent as i32;
    SendRobotMessageResponse {
        state: post.state,
        sent_at: sent.then(|| timestamp(post.created_at)),
        expected_send_at: None,
        errcode: post.errcode,
        errmsg: post.errmsg.clone(),
        replayed: false,
    }
}

fn to_proto(row: RobotRow) -> GroupRobot {
    GroupRobot {
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
