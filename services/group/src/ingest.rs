//! Turning group-message events (IngestMessages, the chat-archive worker) into counted messages: the checks
//! every event passes, and the chat-archive record each event stands for.

use scrm_proto::group::v1::{GroupMessageEvent, MessageSenderType};
use scrm_wecom::ChatRecord;

use crate::store::activity::MessageInput;

/// Longest archive msgid stored.
const MAX_MSGID_CHARS: usize = 128;
/// Longest chat_id or sender id stored.
const MAX_ID_CHARS: usize = 64;

/// The message `event` counts as, or why it is not counted.
pub fn message_input(event: GroupMessageEvent) -> Result<MessageInput, &'static str> {
    let problem = if event.msgid.is_empty() {
        Some("msgid missing")
    } else if event.chat_id.is_empty() {
        Some("chat_id missing")
    } else if event.sender.is_empty() {
        Some("sender missing")
    } else if !matches!(event.action.as_str(), "" | "send") {
        Some("action is not send")
    } else if event.msgtime.is_none() {
        Some("msgtime missing")
    } else if event.msgid.chars().count() > MAX_MSGID_CHARS
        || event.chat_id.chars().count() > MAX_ID_CHARS
        || event.sender.chars().count() > MAX_ID_CHARS
    {
        Some("an id is too long")
    } else {
        None
    };
    if let Some(problem) = problem {
        return Err(problem);
    }
    let msgtime = event.msgtime.map_or(0, |time| time.seconds * 1000 + i64::from(time.nanos / 1_000_000));
    Ok(MessageInput {
        speaker: event.sender_type != MessageSenderType::Robot as i32,
        msgid: event.msgid,
        chat_id: event.chat_id,
        sender: event.sender,
        msgtime,
        seq: event.seq,
    })
}

/// The group-message event of an archive record; `None` for one-to-one chats (no `roomid`).
pub fn event_of_record(record: ChatRecord) -> Option<GroupMessageEvent> {
    if record.roomid.is_empty() {
        return None;
    }
    let sender_type = if record.from.starts_with("wm") || record.from.starts_with("wo") {
        MessageSenderType::Customer
    } else {
        MessageSenderType::Staff
    };
    Some(GroupMessageEvent {
        msgid: record.msgid,
        chat_id: record.roomid,
        sender: record.from,
        sender_type: sender_type as i32,
        msgtime: Some(prost_types::Timestamp {
            seconds: record.msgtime.div_euclid(1000),
            nanos: (record.msgtime.rem_euclid(1000) * 1_000_000) as i32,
        }),
        msgtype: record.msgtype,
        action: record.action,
        seq: i64::try_from(record.seq).unwrap_or(i64::MAX),
        text: record.text.map(|text| text.content).unwrap_or_default(),
        mentioned_ids: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(roomid: &str, from: &str) -> ChatRecord {
        ChatRecord {
            seq: 7,
            msgid: "m7".into(),
            action: "send".into(),
            from: from.into(),
            roomid: roomid.into(),
            msgtime: 1_740_974_400_123,
            msgtype: "text".into(),
            ..ChatRecord::default()
        }
    }

    #[test]
    fn archive_records_of_groups_become_counted_messages() {
        let event = event_of_record(record("wr1", "wmCustomer")).unwrap();
        assert_eq!(event.sender_type, MessageSenderType::Customer as i32);
        let input = message_input(event).unwrap();
        assert_eq!((input.msgid.as_str(), input.chat_id.as_str(), input.sender.as_str()), ("m7", "wr1", "wmCustomer"));
        assert_eq!((input.msgtime, input.seq, input.speaker), (1_740_974_400_123, 7, true));
        let staff = event_of_record(record("wr1", "zhangsan")).unwrap();
        assert_eq!(staff.sender_type, MessageSenderType::Staff as i32);
        assert_eq!(event_of_record(record("", "zhangsan")), None);
    }

    #[test]
    fn events_missing_a_field_or_not_sent_are_refused() {
        let event = event_of_record(record("wr1", "zhangsan")).unwrap();
        assert_eq!(message_input(GroupMessageEvent { msgid: String::new(), ..event.clone() }), Err("msgid missing"));
        assert_eq!(
            message_input(GroupMessageEvent { action: "recall".into(), ..event.clone() }),
            Err("action is not send")
        );
        assert_eq!(message_input(GroupMessageEvent { msgtime: None, ..event.clone() }), Err("msgtime missing"));
        assert_eq!(message_input(GroupMessageEvent { sender: "x".repeat(65), ..event }), Err("an id is too long"));
    }
}
