//! App messages (`message/send`) and group-robot webhooks (`webhook/send`).

use serde::{Deserialize, Serialize};

use crate::WeComError;
use crate::client::{ApiRequest, CallKind, ErrorResponse, WeComClient};
use crate::content::{Media, Text};

/// A text card (`textcard`) of an app message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TextCard {
    /// Title.
    pub title: String,
    /// Description (a little HTML allowed).
    pub description: String,
    /// Target URL.
    pub url: String,
    /// Button text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub btntxt: Option<String>,
}

/// A news article (`news.articles[]`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Article {
    /// Title.
    pub title: String,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Target URL.
    pub url: String,
    /// Picture URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub picurl: Option<String>,
}

/// News (`news`): one to eight articles.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct News {
    /// The articles.
    pub articles: Vec<Article>,
}

/// Markdown content (`markdown`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Markdown {
    /// The markdown.
    pub content: String,
}

/// `message/send`'s request: an app message to members, departments or tags. `msgtype` names
/// the content field that is set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AppMessage {
    /// Members, `|`-separated, or `@all`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub touser: Option<String>,
    /// Departments, `|`-separated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub toparty: Option<String>,
    /// Tags, `|`-separated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub totag: Option<String>,
    /// `text`, `image`, `file`, `textcard`, `news`, `markdown`…
    pub msgtype: String,
    /// The app sending it.
    pub agentid: i64,
    /// Text content.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<Text>,
    /// Image content.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<Media>,
    /// File content.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<Media>,
    /// Text card content.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub textcard: Option<TextCard>,
    /// News content.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub news: Option<News>,
    /// Markdown content.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub markdown: Option<Markdown>,
    /// 1 for a confidential message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub safe: Option<i64>,
    /// 1 to translate ids in the content.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_id_trans: Option<i64>,
    /// 1 to drop duplicates within `duplicate_check_interval` (makes retries safe).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_duplicate_check: Option<i64>,
    /// Duplicate-check window in seconds (default 1800).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duplicate_check_interval: Option<i64>,
}

impl AppMessage {
    /// A text message from app `agentid` to members `touser` (`|`-separated, or `@all`).
    pub fn text(agentid: i64, touser: impl Into<String>, content: impl Into<String>) -> Self {
        Self {
            touser: Some(touser.into()),
            msgtype: "text".into(),
            agentid,
            text: Some(Text { content: content.into() }),
            ..Self::default()
        }
    }
}

/// `message/send`'s answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AppMessageResponse {
    /// Unknown members, `|`-separated.
    pub invaliduser: String,
    /// Unknown departments.
    pub invalidparty: String,
    /// Unknown tags.
    pub invalidtag: String,
    /// Members without a licence.
    pub unlicenseduser: String,
    /// Message id (for recall).
    pub msgid: String,
    /// Code to update a template card.
    pub response_code: String,
}

/// Text of a group-robot message, with mentions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct WebhookText {
    /// The text.
    pub content: String,
    /// Userids to mention (`@all` for everyone).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mentioned_list: Vec<String>,
    /// Mobiles to mention.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mentioned_mobile_list: Vec<String>,
}

/// Image of a group-robot message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct WebhookImage {
    /// Base64 of the image (≤ 2 MB before encoding).
    pub base64: String,
    /// MD5 of the image before encoding.
    pub md5: String,
}

/// A group-robot message (`webhook/send`); `msgtype` names the content field that is set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct WebhookMessage {
    /// `text`, `markdown`, `image`, `news` or `file`.
    pub msgtype: String,
    /// Text content.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<WebhookText>,
    /// Markdown content.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub markdown: Option<Markdown>,
    /// Image content.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<WebhookImage>,
    /// News content.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub news: Option<News>,
    /// File content (media id from the robot's own upload).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<Media>,
}

impl WebhookMessage {
    /// A text message.
    pub fn text(content: impl Into<String>) -> Self {
        Self {
            msgtype: "text".into(),
            text: Some(WebhookText { content: content.into(), ..WebhookText::default() }),
            ..Self::default()
        }
    }

    /// A markdown message.
    pub fn markdown(content: impl Into<String>) -> Self {
        Self { msgtype: "markdown".into(), markdown: Some(Markdown { content: content.into() }), ..Self::default() }
    }
}

impl WeComClient {
    /// `POST message/send`: an app message. Not retried after ambiguous failures unless configured;
    /// set `enable_duplicate_check` to make such retries safe.
    pub async fn message_send(&self, message: &AppMessage) -> Result<AppMessageResponse, WeComError> {
        let kind =
            if message.enable_duplicate_check == Some(1) { CallKind::Idempotent } else { CallKind::NonIdempotent };
        self.execute(ApiRequest::post("message/send", kind, message)?).await
    }

    /// `POST webhook/send?key=`: a group-robot message. Uses the robot's key, not the access
    /// token, so it works without a corp secret.
    pub async fn webhook_send(&self, key: &str, message: &WebhookMessage) -> Result<ErrorResponse, WeComError> {
        let mut req = ApiRequest::post("webhook/send", CallKind::NonIdempotent, message)?.query("key", key);
        req.needs_token = false;
        self.execute(req).await
    }
}
