//! The chat archive (会话存档): messages of the corp's archived conversations, polled by `seq`.
//!
//! WeCom serves the archive only through a closed native SDK (`GetChatData` returns encrypted records,
//! `DecryptData` opens each one). scrm reads the *decrypted* records over HTTP instead, from
//! `GET /sim/finance/chatdata?access_token=&seq=&limit=` under the API base: the WeCom simulator serves it
//! (see its README), and a production deployment would put a bridge around the SDK behind the same path.

use serde::{Deserialize, Serialize};

use crate::client::{ApiRequest, WeComClient};
use crate::{WeComError, de};

/// Most records one call returns (the SDK's limit).
pub const CHATDATA_MAX_LIMIT: u32 = 1000;

/// The text of a `text` message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ChatText {
    /// `content`.
    pub content: String,
}

/// One decrypted archive record, with WeCom's field names.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ChatRecord {
    /// Position in the archive; pass the largest one seen as the next call's `seq`.
    pub seq: u64,
    /// `msgid`: unique per message.
    pub msgid: String,
    /// `action`: `send`, `recall` or `switch`.
    pub action: String,
    /// `from`: the sender's userid or external_userid.
    pub from: String,
    /// `tolist`: the receivers.
    pub tolist: Vec<String>,
    /// `roomid`: the group's chat_id (empty for one-to-one chats).
    pub roomid: String,
    /// `msgtime`: milliseconds since the epoch.
    #[serde(deserialize_with = "de::int")]
    pub msgtime: i64,
    /// `msgtype`: `text`, `image`, `revoke`, …
    pub msgtype: String,
    /// The content of a `text` message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<ChatText>,
    /// The content of other message types, keyed by their `msgtype` (kept as JSON).
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

/// The answer of the chat-archive poll.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ChatDataResponse {
    /// Records with a `seq` above the one asked for, oldest first.
    pub chatdata: Vec<ChatRecord>,
}

impl ChatDataResponse {
    /// The `seq` to poll from next: the largest one returned, or `seq` when nothing was.
    pub fn next_seq(&self, seq: u64) -> u64 {
        self.chatdata.iter().map(|r| r.seq).max().unwrap_or(seq).max(seq)
    }
}

impl WeComClient {
    /// `GET /sim/finance/chatdata?seq=&limit=`: up to `limit` (1–1000) decrypted archive records after
    /// `seq` (0: the oldest kept). Retried and token-managed like every WeCom call.
    pub async fn chatdata(&self, seq: u64, limit: u32) -> Result<ChatDataResponse, WeComError> {
        let limit = limit.clamp(1, CHATDATA_MAX_LIMIT);
        let req = ApiRequest { root: "/sim/", ..ApiRequest::get("finance/chatdata") }
            .query("seq", seq.to_string())
            .query("limit", limit.to_string());
        self.execute(req).await
    }
}
