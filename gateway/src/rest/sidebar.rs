//! The REST endpoints of the WeCom sidebar H5 (`web/sidebar`, served at `/sidebar/`): its start-up context
//! (demo flag, caller, JS-SDK signatures), customer notes and tags, and the quick replies it searches, renders for
//! `sendChatMessage` and records as sent. Each calls its service as the caller.

use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use scrm_kernel::{Caller, Clients};
use scrm_proto::customer::v1::{
    AddCustomerNoteRequest, ChatMessage, ListCustomerNotesRequest, ListQuickRepliesRequest, Note, QuickReply,
    QuickReplyKind, RecordQuickReplySentRequest, RenderQuickReplyRequest, SearchQuickRepliesRequest, chat_message,
    quick_reply_content,
};
use scrm_proto::identity::v1::{GetJsSdkSignaturesRequest, JsSdkSignature};
use serde::Deserialize;
use serde_json::{Value, json};

use super::RestError;

/// Whether the process runs the demo corp, so the sidebar loads its JS-SDK shim.
#[derive(Debug, Clone, Copy, Default)]
pub struct SidebarDemo(pub bool);

/// The `/api/sidebar` routes.
pub fn router() -> Router<Clients> {
    Router::new()
        .route("/sidebar/context", get(context))
        .route("/sidebar/customers/{wx_id}/notes", get(list_notes).post(add_note))
        .route("/sidebar/customers/{wx_id}/tags", post(super::tags::mark))
        .route("/sidebar/quick-replies", get(quick_replies))
        .route("/sidebar/quick-replies/{id}/render", post(render))
        .route("/sidebar/quick-replies/{id}/sent", post(record_sent))
}

#[derive(Debug, Deserialize)]
struct ContextQuery {
    /// The page URL to sign, without the fragment.
    #[serde(default)]
    url: String,
}

fn signature_json(signature: Option<JsSdkSignature>) -> Value {
    signature.map_or(Value::Null, |signature| {
        json!({"timestamp": signature.timestamp, "nonceStr": signature.nonce_str, "signature": signature.signature})
    })
}

/// `GET /api/sidebar/context?url=`: `{demo, staffId, jssdk, jssdkError}`. In demo mode the page needs no
/// signatures (its shim stands in for the JS-SDK); otherwise a signing failure is reported in `jssdkError`.
async fn context(
    State(clients): State<Clients>,
    Extension(caller): Extension<Caller>,
    Extension(demo): Extension<SidebarDemo>,
    Query(query): Query<ContextQuery>,
) -> Result<Json<Value>, RestError> {
    let (jssdk, jssdk_error) = if demo.0 {
        (Value::Null, Value::Null)
    } else {
        let request = caller.outgoing(GetJsSdkSignaturesRequest { url: query.url })?;
        match clients.identity.clone().get_js_sdk_signatures(request).await {
            Ok(response) => {
                let response = response.into_inner();
                let jssdk = json!({
                    "corpid": response.corpid,
                    "agentid": response.agentid,
                    "config": signature_json(response.config),
                    "agentConfig": signature_json(response.agent_config),
                });
                (jssdk, Value::Null)
            }
            Err(status) => (Value::Null, Value::String(status.message().to_owned())),
        }
    };
    Ok(Json(json!({"demo": demo.0, "staffId": caller.staff_id, "jssdk": jssdk, "jssdkError": jssdk_error})))
}

fn note_json(note: &Note) -> Value {
    json!({
        "id": note.id,
        "content": note.content,
        "authorName": note.author_name,
        "createdAt": note.created_at.map_or(Value::Null, |time| Value::String(time.to_string())),
    })
}

/// `GET /api/sidebar/customers/{wxId}/notes`: the newest 20 notes.
async fn list_notes(
    State(clients): State<Clients>,
    Extension(caller): Extension<Caller>,
    Path(wx_id): Path<String>,
) -> Result<Json<Value>, RestError> {
    let request = caller.outgoing(ListCustomerNotesRequest { external_userid: wx_id, ..Default::default() })?;
    let notes = clients.customer.clone().list_customer_notes(request).await?.into_inner().notes;
    Ok(Json(json!({"notes": notes.iter().map(note_json).collect::<Vec<_>>()})))
}

#[derive(Debug, Deserialize)]
struct NoteBody {
    /// The note's text.
    #[serde(default)]
    content: String,
}

/// `POST /api/sidebar/customers/{wxId}/notes` `{content}`: adds a note; answers it.
async fn add_note(
    State(clients): State<Clients>,
    Extension(caller): Extension<Caller>,
    Path(wx_id): Path<String>,
    Json(body): Json<NoteBody>,
) -> Result<Json<Value>, RestError> {
    let request = caller.outgoing(AddCustomerNoteRequest { external_userid: wx_id, content: body.content })?;
    let note = clients.customer.clone().add_customer_note(request).await?.into_inner().note.unwrap_or_default();
    Ok(Json(note_json(&note)))
}

#[derive(Debug, Deserialize)]
struct RepliesQuery {
    /// Search text; empty lists the most used.
    #[serde(default)]
    q: String,
}

/// A short text shown under a reply's title.
fn preview(reply: &QuickReply) -> String {
    use quick_reply_content::Content;
    match reply.content.as_ref().and_then(|content| content.content.as_ref()) {
        Some(Content::Text(text)) => text.text.clone(),
        Some(Content::Image(_)) => "[图片]".to_owned(),
        Some(Content::Link(link)) => format!("[链接] {}", link.title),
        Some(Content::Miniprogram(card)) => format!("[小程序] {}", card.title),
        Some(Content::Coupon(coupon)) => format!("[优惠券] {}", coupon.title),
        Some(Content::CampaignLink(link)) => format!("[活动] {}", link.title),
        None => String::new(),
    }
}

fn reply_json(reply: &QuickReply) -> Value {
    json!({
        "id": reply.id,
        "folderId": reply.folder_id,
        "title": reply.title,
        "kind": QuickReplyKind::try_from(reply.kind).unwrap_or_default().as_str_name(),
        "personal": reply.scope == scrm_proto::customer::v1::QuickReplyScope::Personal as i32,
        "preview": preview(reply),
        "usageCount": reply.usage_count,
    })
}

/// `GET /api/sidebar/quick-replies?q=`: matching replies (company and the caller's own), or the most used
/// when `q` is empty.
async fn quick_replies(
    State(clients): State<Clients>,
    Extension(caller): Extension<Caller>,
    Query(query): Query<RepliesQuery>,
) -> Result<Json<Value>, RestError> {
    let mut client = clients.customer.clone();
    let replies = if query.q.trim().is_empty() {
        let request = caller.outgoing(ListQuickRepliesRequest { page_size: 50, ..Default::default() })?;
        client.list_quick_replies(request).await?.into_inner().replies
    } else {
        let request =
            caller.outgoing(SearchQuickRepliesRequest { query: query.q, page_size: 50, ..Default::default() })?;
        client.search_quick_replies(request).await?.into_inner().replies
    };
    Ok(Json(json!({"replies": replies.iter().map(reply_json).collect::<Vec<_>>()})))
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct ChatBody {
    /// The customer of a one-to-one chat.
    external_userid: String,
    /// The group of a group chat.
    chat_id: String,
    /// Key of one tap (sent only).
    idempotency_key: String,
}

/// The message in the JS-SDK's `sendChatMessage` shape.
fn js_sdk_message(message: ChatMessage) -> Value {
    match message.body {
        Some(chat_message::Body::Text(text)) => json!({"msgtype": "text", "text": {"content": text.content}}),
        Some(chat_message::Body::Image(image)) => json!({"msgtype": "image", "image": {"mediaid": image.media_id}}),
        Some(chat_message::Body::News(news)) => json!({
            "msgtype": "news",
            "news": {"link": news.link, "title": news.title, "desc": news.desc, "imgUrl": news.img_url},
        }),
        Some(chat_message::Body::Miniprogram(card)) => json!({
            "msgtype": "miniprogram",
            "miniprogram": {"appid": card.appid, "title": card.title, "imgUrl": card.img_url, "page": card.page},
        }),
        None => Value::Null,
    }
}

/// `POST /api/sidebar/quick-replies/{id}/render` `{externalUserid | chatId}`: `{message}` for
/// `sendChatMessage`.
async fn render(
    State(clients): State<Clients>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
    Json(body): Json<ChatBody>,
) -> Result<Json<Value>, RestError> {
    let request = caller.outgoing(RenderQuickReplyRequest {
        quick_reply_id: id,
        external_userid: body.external_userid,
        chat_id: body.chat_id,
    })?;
    let message = clients.customer.clone().render_quick_reply(request).await?.into_inner().message;
    Ok(Json(json!({"message": message.map_or(Value::Null, js_sdk_message)})))
}

/// `POST /api/sidebar/quick-replies/{id}/sent` `{idempotencyKey, externalUserid | chatId}`: records the send;
/// `{usageCount, rewardIssueStatus, rewardMessage, duplicate, couponId, couponCode}` (the coupon a coupon reply
/// issued; 0 and empty otherwise).
async fn record_sent(
    State(clients): State<Clients>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
    Json(body): Json<ChatBody>,
) -> Result<Json<Value>, RestError> {
    let request = caller.outgoing(RecordQuickReplySentRequest {
        idempotency_key: body.idempotency_key,
        quick_reply_id: id,
        external_userid: body.external_userid,
        chat_id: body.chat_id,
        sent_at: None,
    })?;
    let sent = clients.customer.clone().record_quick_reply_sent(request).await?.into_inner();
    Ok(Json(json!({
        "usageCount": sent.usage_count,
        "rewardIssueStatus": sent.reward_issue_status().as_str_name(),
        "rewardMessage": sent.reward_message,
        "duplicate": sent.duplicate,
        "couponId": sent.coupon_id,
        "couponCode": sent.coupon_code,
    })))
}
