//! Group broadcasts on REST (PR06): `POST /api/social/groups/broadcast` with the PRD's body and
//! `GET /api/social/groups/broadcast/{id}` with the state and the delivery report. Both call
//! MessagingService; field names in errors are translated to the REST body's spelling.

use std::str::FromStr;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use scrm_kernel::{ApiError, Caller, Clients};
use scrm_proto::messaging::v1::{
    Broadcast, BroadcastAttachment, BroadcastGroupResult, BroadcastMsgType, BroadcastState, BroadcastTargets,
    CreateBroadcastRequest, GetBroadcastRequest, ImageAttachment, LinkAttachment, ListBroadcastGroupResultsRequest,
    MiniprogramAttachment, broadcast_attachment,
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::rest::RestError;

/// Per-group results returned with a broadcast.
const GROUP_RESULTS_PAGE: i32 = 200;

/// The broadcast routes, to nest under `/api`.
pub fn router() -> Router<Clients> {
    Router::new().route("/social/groups/broadcast", post(create)).route("/social/groups/broadcast/{id}", get(fetch))
}

/// The PRD's body of `POST /api/social/groups/broadcast`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateBody {
    /// Target groups by scrm id.
    #[serde(default)]
    group_ids: Vec<i64>,
    /// `text`, `image`, `link` or `miniprogram`.
    #[serde(default)]
    msg_type: String,
    /// The text, or for image/link/miniprogram an object with the attachment's fields (a string is then the
    /// caption).
    #[serde(default)]
    content: Value,
    /// ISO-8601 send time; absent = now.
    #[serde(default)]
    scheduled_time: Option<String>,
    /// Name for operators.
    #[serde(default)]
    name: String,
    /// Caption text when `content` is an attachment object.
    #[serde(default)]
    text: String,
}

async fn create(
    State(clients): State<Clients>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    body: Result<Json<CreateBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<Value>, RestError> {
    let Json(body) = body.map_err(|rejection| ApiError::invalid("body", rejection.body_text()))?;
    let idempotency_key = headers
        .get("idempotency-key")
        .and_then(|value| value.to_str().ok())
        .map(str::trim)
        .filter(|key| !key.is_empty())
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let msg_type = match body.msg_type.as_str() {
        "text" => BroadcastMsgType::Text,
        "image" => BroadcastMsgType::Image,
        "link" => BroadcastMsgType::Link,
        "miniprogram" => BroadcastMsgType::Miniprogram,
        _ => return Err(ApiError::invalid("msgType", "msgType must be one of text, image, link, miniprogram").into()),
    };
    let (content, attachments) = match (&body.content, msg_type) {
        (Value::String(text), _) => (text.clone(), Vec::new()),
        (Value::Null, _) => (body.text.clone(), Vec::new()),
        (Value::Object(fields), BroadcastMsgType::Image | BroadcastMsgType::Link | BroadcastMsgType::Miniprogram) => {
            (body.text.clone(), vec![attachment(msg_type, fields)])
        }
        _ => return Err(ApiError::invalid("content", "content must be a string, or an object for attachments").into()),
    };
    let scheduled_at = match body.scheduled_time.as_deref().map(str::trim).filter(|time| !time.is_empty()) {
        None => None,
        Some(time) => Some(prost_types::Timestamp::from_str(time).map_err(|_| {
            ApiError::invalid("scheduledTime", "scheduledTime must be ISO-8601, e.g. 2026-03-03T20:00:00+08:00")
        })?),
    };
    let request = CreateBroadcastRequest {
        name: body.name,
        targets: Some(BroadcastTargets { group_ids: body.group_ids, ..BroadcastTargets::default() }),
        msg_type: msg_type as i32,
        content,
        attachments,
        scheduled_at,
        idempotency_key,
    };
    let broadcast = clients
        .messaging
        .clone()
        .create_broadcast(caller.outgoing(request)?)
        .await
        .map_err(rest_field)?
        .into_inner()
        .broadcast
        .unwrap_or_default();
    Ok(Json(broadcast_json(&broadcast, &[])))
}

async fn fetch(
    State(clients): State<Clients>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<Value>, RestError> {
    let id: i64 = id.parse().map_err(|_| ApiError::invalid("id", "the broadcast id must be a number"))?;
    let mut messaging = clients.messaging.clone();
    let broadcast = messaging
        .get_broadcast(caller.outgoing(GetBroadcastRequest { id })?)
        .await?
        .into_inner()
        .broadcast
        .unwrap_or_default();
    let results = messaging
        .list_broadcast_group_results(caller.outgoing(ListBroadcastGroupResultsRequest {
            broadcast_id: id,
            page_size: GROUP_RESULTS_PAGE,
            ..ListBroadcastGroupResultsRequest::default()
        })?)
        .await?
        .into_inner()
        .results;
    Ok(Json(broadcast_json(&broadcast, &results)))
}

/// Builds an attachment from the fields of a REST `content` object (camelCase or WeCom's names).
fn attachment(msg_type: BroadcastMsgType, fields: &serde_json::Map<String, Value>) -> BroadcastAttachment {
    let field = |names: &[&str]| {
        names.iter().find_map(|name| fields.get(*name).and_then(Value::as_str)).unwrap_or_default().to_owned()
    };
    let body = match msg_type {
        BroadcastMsgType::Image => broadcast_attachment::Body::Image(ImageAttachment {
            pic_url: field(&["picUrl", "pic_url", "url"]),
            media_id: field(&["mediaId", "media_id"]),
        }),
        BroadcastMsgType::Miniprogram => broadcast_attachment::Body::Miniprogram(MiniprogramAttachment {
            title: field(&["title"]),
            pic_url: field(&["picUrl", "pic_url"]),
            pic_media_id: field(&["picMediaId", "pic_media_id"]),
            appid: field(&["appid", "appId"]),
            page: field(&["page"]),
        }),
        _ => broadcast_attachment::Body::Link(LinkAttachment {
            title: field(&["title"]),
            picurl: field(&["picUrl", "picurl"]),
            desc: field(&["desc", "description"]),
            url: field(&["url"]),
        }),
    };
    BroadcastAttachment { body: Some(body) }
}

/// The error with its field renamed to the REST body's spelling.
fn rest_field(status: tonic::Status) -> RestError {
    let mut error = ApiError::from_status(&status);
    if let Some(field) = &error.field {
        let renamed = if let Some(rest) = field.strip_prefix("targets.group_ids") {
            format!("groupIds{rest}")
        } else if field.starts_with("targets") {
            "groupIds".to_owned()
        } else if field == "msg_type" {
            "msgType".to_owned()
        } else if field == "scheduled_at" {
            "scheduledTime".to_owned()
        } else if field == "idempotency_key" {
            "Idempotency-Key".to_owned()
        } else if field.starts_with("attachments") {
            "content".to_owned()
        } else {
            field.clone()
        };
        error.field = Some(renamed);
    }
    RestError::from(error)
}

fn time(timestamp: Option<&prost_types::Timestamp>) -> Value {
    timestamp.map_or(Value::Null, |timestamp| Value::String(timestamp.to_string()))
}

fn state_name(state: i32) -> &'static str {
    match BroadcastState::try_from(state).unwrap_or(BroadcastState::Unspecified) {
        BroadcastState::Scheduled => "scheduled",
        BroadcastState::FanningOut => "fanning_out",
        BroadcastState::AwaitingConfirmation => "awaiting_confirmation",
        BroadcastState::Completed => "completed",
        BroadcastState::Cancelled => "cancelled",
        BroadcastState::Failed => "failed",
        BroadcastState::Unspecified => "unknown",
    }
}

fn outcome_name(outcome: i32) -> &'static str {
    use scrm_proto::messaging::v1::BroadcastGroupOutcome as O;
    match O::try_from(outcome).unwrap_or(O::Unspecified) {
        O::Pending => "pending",
        O::AwaitingConfirmation => "awaiting_confirmation",
        O::Delivered => "delivered",
        O::Unconfirmed => "unconfirmed",
        O::QuotaExceeded => "quota_exceeded",
        O::NotFriend => "not_friend",
        O::Error => "error",
        O::Cancelled => "cancelled",
        O::GroupDismissed => "group_dismissed",
        O::Unspecified => "unknown",
    }
}

/// A broadcast, its report and `results` as the REST JSON body.
fn broadcast_json(broadcast: &Broadcast, results: &[BroadcastGroupResult]) -> Value {
    let report = broadcast.report.clone().unwrap_or_default();
    let unconfirmed = report.unconfirmed.unwrap_or_default();
    let quota = report.quota.unwrap_or_default();
    let errors = report.errors.unwrap_or_default();
    json!({
        "id": broadcast.id,
        "name": broadcast.name,
        "state": state_name(broadcast.state),
        "msgType": match BroadcastMsgType::try_from(broadcast.msg_type).unwrap_or(BroadcastMsgType::Unspecified) {
            BroadcastMsgType::Text => "text",
            BroadcastMsgType::Image => "image",
            BroadcastMsgType::Link => "link",
            BroadcastMsgType::Miniprogram => "miniprogram",
            BroadcastMsgType::Unspecified => "unknown",
        },
        "content": broadcast.content,
        "groupIds": broadcast.targets.as_ref().map(|targets| targets.group_ids.clone()).unwrap_or_default(),
        "scheduledTime": time(broadcast.scheduled_at.as_ref()),
        "createdAt": time(broadcast.created_at.as_ref()),
        "startsAt": time(broadcast.starts_at.as_ref()),
        "endsAt": time(broadcast.ends_at.as_ref()),
        "confirmDeadline": time(broadcast.confirm_deadline.as_ref()),
        "failureReason": broadcast.failure_reason,
        "report": {
            "targetedGroups": report.targeted_groups,
            "deliveredGroups": report.delivered_groups,
            "deliveryRateBps": report.delivery_rate_bps,
            "pendingGroups": report.pending_groups,
            "tasksTotal": report.tasks_total,
            "tasksCreated": report.tasks_created,
            "unconfirmed": {
                "groupCount": unconfirmed.group_count,
                "owners": unconfirmed.owners.iter().map(|owner| json!({
                    "userid": owner.userid,
                    "name": owner.name,
                    "groupCount": owner.group_count,
                    "remindersSent": owner.reminders_sent,
                    "lastRemindedAt": time(owner.last_reminded_at.as_ref()),
                    "nextRemindAllowedAt": time(owner.next_remind_allowed_at.as_ref()),
                })).collect::<Vec<_>>(),
            },
            "quota": {
                "groupCount": quota.group_count,
                "flaggedBeforeSend": quota.flagged_before_send,
                "receiveQuotaPerDay": quota.receive_quota_per_day,
            },
            "errors": {
                "groupCount": errors.group_count,
                "byErrcode": errors.by_errcode.iter().map(|count| json!({
                    "errcode": count.errcode,
                    "errmsg": count.errmsg,
                    "groupCount": count.group_count,
                })).collect::<Vec<_>>(),
            },
            "notFriendGroups": report.not_friend_groups,
            "cancelledGroups": report.cancelled_groups,
            "dismissedGroups": report.dismissed_groups,
        },
        "groups": results.iter().map(|result| json!({
            "groupId": result.group_id,
            "chatId": result.chat_id,
            "name": result.group_name,
            "owner": result.owner,
            "ownerName": result.owner_name,
            "outcome": outcome_name(result.outcome),
            "msgid": result.msgid,
            "sentAt": time(result.sent_at.as_ref()),
            "errcode": result.errcode,
            "errmsg": result.errmsg,
        })).collect::<Vec<_>>(),
    })
}
