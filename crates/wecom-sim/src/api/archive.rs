//! The chat-archive (会话存档) stand-in: `GET /sim/finance/chatdata?access_token=&seq=&limit=`.
//!
//! WeCom's archive is read through a closed native SDK (`GetChatData`, then `DecryptData` per record). The
//! simulator serves what that pair would yield, already decrypted: records with `seq` above the given one,
//! oldest first, at most `limit` (1–1000, as the SDK allows).

use serde_json::json;

use super::{R, Req, invalid};
use crate::sim::State;

impl State {
    pub(super) fn chatdata(&mut self, r: &Req) -> R {
        let seq = match r.q("seq").filter(|s| !s.is_empty()) {
            None => 0,
            Some(s) => s.parse::<u64>().map_err(|_| invalid("seq"))?,
        };
        let limit = match r.q("limit").filter(|s| !s.is_empty()) {
            None => 100,
            Some(s) => s.parse::<usize>().ok().filter(|n| (1..=1000).contains(n)).ok_or_else(|| invalid("limit"))?,
        };
        Ok(json!({ "chatdata": self.feeds.messages_after(seq, limit) }))
    }
}
