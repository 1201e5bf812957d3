//! What the activity driver produces besides world changes: the chat archive (会话存档) stand-in, the orders
//! feed, and per-group daily message statistics.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde::{Deserialize, Serialize};

use crate::clock::cst_day;

/// How many messages or orders the feeds keep (the oldest go first).
const FEED_CAPACITY: usize = 500_000;

/// The text of a `text` message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatText {
    /// `content`.
    pub content: String,
}

/// One archived message, shaped like a record the chat-archive SDK yields after `DecryptData`, plus the
/// `seq` that `GetChatData` returns beside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatRecord {
    /// Position in the corp's archive, increasing by one per message (the paging cursor).
    pub seq: u64,
    /// `msgid`: unique per message.
    pub msgid: String,
    /// `action`: `send` (WeCom also has `recall` and `switch`).
    pub action: String,
    /// `from`: the sender's userid or external_userid.
    pub from: String,
    /// `tolist`: everyone else in the group (or the other party of a one-to-one chat).
    pub tolist: Vec<String>,
    /// `roomid`: the group's chat_id (empty for one-to-one chats).
    pub roomid: String,
    /// `msgtime`: milliseconds since the epoch.
    pub msgtime: i64,
    /// `msgtype`: `text` here.
    pub msgtype: String,
    /// `text` of a `text` message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<ChatText>,
}

/// An order paid in a store, as a POS or e-commerce system would report it (not a WeCom API).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    /// Position in the orders feed, increasing by one per order (the paging cursor).
    pub seq: u64,
    /// The shop system's order number.
    pub order_id: String,
    /// The buyer, an external contact of the corp.
    pub external_userid: String,
    /// The buyer's WeChat unionid (empty when not bound).
    pub unionid: String,
    /// The buyer's mobile number.
    pub phone: String,
    /// Amount paid, in fen (分).
    pub amount_fen: i64,
    /// The store (a department with `store` set).
    pub store_id: u32,
    /// The store's name.
    pub store_name: String,
    /// The staff member credited with the sale (one of the buyer's follow users).
    pub userid: String,
    /// Payment time (seconds since the epoch).
    pub paid_at: i64,
}

/// Messages of one group on one day (China Standard Time).
#[derive(Debug, Clone, Default)]
pub(crate) struct DayStat {
    pub msgs: u64,
    pub senders: BTreeSet<String>,
}

/// The chat archive, the orders feed and the message statistics.
#[derive(Debug, Default)]
pub(crate) struct Feeds {
    messages: VecDeque<ChatRecord>,
    orders: VecDeque<Order>,
    last_msg_seq: u64,
    last_order_seq: u64,
    /// (chat_id, CST day) → messages.
    pub day_stats: BTreeMap<(String, i64), DayStat>,
}

impl Feeds {
    /// Appends a message (its `seq` is assigned here) and counts it.
    pub(crate) fn record_message(&mut self, mut record: ChatRecord) {
        self.last_msg_seq += 1;
        record.seq = self.last_msg_seq;
        let stat = self.day_stats.entry((record.roomid.clone(), cst_day(record.msgtime.div_euclid(1000)))).or_default();
        stat.msgs += 1;
        stat.senders.insert(record.from.clone());
        if self.messages.len() >= FEED_CAPACITY {
            self.messages.pop_front();
        }
        self.messages.push_back(record);
    }

    /// Appends an order (its `seq` is assigned here).
    pub(crate) fn record_order(&mut self, mut order: Order) {
        self.last_order_seq += 1;
        order.seq = self.last_order_seq;
        if self.orders.len() >= FEED_CAPACITY {
            self.orders.pop_front();
        }
        self.orders.push_back(order);
    }

    /// Up to `limit` messages with a `seq` above `after`, oldest first.
    pub(crate) fn messages_after(&self, after: u64, limit: usize) -> Vec<ChatRecord> {
        after_seq(&self.messages, after, limit, |m| m.seq)
    }

    /// Up to `limit` orders with a `seq` above `after`, oldest first.
    pub(crate) fn orders_after(&self, after: u64, limit: usize) -> Vec<Order> {
        after_seq(&self.orders, after, limit, |o| o.seq)
    }
}

fn after_seq<T: Clone>(items: &VecDeque<T>, after: u64, limit: usize, seq: impl Fn(&T) -> u64) -> Vec<T> {
    let start = items.partition_point(|x| seq(x) <= after);
    items.iter().skip(start).take(limit).cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(room: &str, from: &str, at_ms: i64) -> ChatRecord {
        ChatRecord {
            seq: 0,
            msgid: format!("{at_ms}"),
            action: "send".into(),
            from: from.into(),
            tolist: vec![],
            roomid: room.into(),
            msgtime: at_ms,
            msgtype: "text".into(),
            text: Some(ChatText { content: "hi".into() }),
        }
    }

    #[test]
    fn seq_paging_and_day_stats() {
        let mut f = Feeds::default();
        for i in 0..5 {
            f.record_message(msg("wr1", if i % 2 == 0 { "a" } else { "b" }, 1_700_000_000_000 + i));
        }
        let page = f.messages_after(0, 2);
        assert_eq!(page.iter().map(|m| m.seq).collect::<Vec<_>>(), vec![1, 2]);
        let rest = f.messages_after(2, 10);
        assert_eq!(rest.iter().map(|m| m.seq).collect::<Vec<_>>(), vec![3, 4, 5]);
        assert!(f.messages_after(5, 10).is_empty());
        let stat = &f.day_stats[&("wr1".to_string(), cst_day(1_700_000_000))];
        assert_eq!((stat.msgs, stat.senders.len()), (5, 2));
    }
}
