//! Group messages (群发): tasks that members confirm, their progress and results.

use futures::stream::BoxStream;
use serde::{Deserialize, Serialize};

use crate::client::{ApiRequest, CallKind, ErrorResponse, WeComClient};
use crate::content::{Attachment, Text};
use crate::pagination::{collect_all, cursor_pages};
use crate::{WeComError, de};

/// `externalcontact/add_msg_template`'s request: a group-message task for a member to confirm.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AddMsgTemplateRequest {
    /// `single` to customers (default), `group` to customer groups.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chat_type: Option<String>,
    /// Customers to send to (`single`; at most 10000).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub external_userid: Vec<String>,
    /// Groups to send to (`group`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub chat_id_list: Vec<String>,
    /// The member who sends (required for `group`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sender: Option<String>,
    /// Whether the member may change the recipients.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_select: Option<bool>,
    /// Text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<Text>,
    /// Attachments (at most 9).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
}

/// `externalcontact/add_msg_template`'s answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AddMsgTemplateResponse {
    /// Recipients that cannot receive it (not customers, or over their receipt limit).
    pub fail_list: Vec<String>,
    /// Id of the group message.
    pub msgid: String,
}

/// `externalcontact/get_groupmsg_list_v2`'s request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GetGroupMsgListV2Request {
    /// `single` or `group`.
    pub chat_type: String,
    /// Start (Unix seconds).
    pub start_time: i64,
    /// End (Unix seconds; at most 1 month after the start).
    pub end_time: i64,
    /// Only messages created by this member.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub creator: Option<String>,
    /// 0 by the corp, 1 by members, 2 all (default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter_type: Option<i64>,
    /// Page size, at most 100.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Cursor from the previous page.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub cursor: String,
}

/// A group message of `get_groupmsg_list_v2`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GroupMsg {
    /// Id of the group message.
    pub msgid: String,
    /// Creator's userid.
    pub creator: String,
    /// Creation time (Unix seconds; WeCom sends it as a string, 0 when unreadable).
    #[serde(deserialize_with = "de::int")]
    pub create_time: i64,
    /// 0 by the corp, 1 by a member.
    pub create_type: i64,
    /// Text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<Text>,
    /// Attachments.
    pub attachments: Vec<Attachment>,
}

/// `externalcontact/get_groupmsg_list_v2`'s answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GetGroupMsgListV2Response {
    /// Cursor of the next page; empty on the last page.
    pub next_cursor: String,
    /// This page.
    pub group_msg_list: Vec<GroupMsg>,
}

/// `externalcontact/get_groupmsg_task`'s request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GetGroupMsgTaskRequest {
    /// Id of the group message.
    pub msgid: String,
    /// Page size, at most 1000.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Cursor from the previous page.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub cursor: String,
}

/// A member's task of a group message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GroupMsgTask {
    /// The member.
    pub userid: String,
    /// 0 not sent, 2 sent.
    pub status: i64,
    /// When the member sent it (Unix seconds; absent when not sent).
    #[serde(deserialize_with = "de::int")]
    pub send_time: i64,
}

/// `externalcontact/get_groupmsg_task`'s answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GetGroupMsgTaskResponse {
    /// Cursor of the next page; empty on the last page.
    pub next_cursor: String,
    /// This page.
    pub task_list: Vec<GroupMsgTask>,
}

/// `externalcontact/get_groupmsg_send_result`'s request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GetGroupMsgSendResultRequest {
    /// Id of the group message.
    pub msgid: String,
    /// The sending member.
    pub userid: String,
    /// Page size, at most 1000.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Cursor from the previous page.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub cursor: String,
}

/// The result for one recipient of a group message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GroupMsgSendResult {
    /// The customer (single messages).
    pub external_userid: String,
    /// The group (group messages).
    pub chat_id: String,
    /// The sending member.
    pub userid: String,
    /// 0 not sent, 1 sent, 2 not a friend any more, 3 over the customer's receipt limit.
    pub status: i64,
    /// When it was sent (Unix seconds).
    #[serde(deserialize_with = "de::int")]
    pub send_time: i64,
}

/// `externalcontact/get_groupmsg_send_result`'s answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GetGroupMsgSendResultResponse {
    /// Cursor of the next page; empty on the last page.
    pub next_cursor: String,
    /// This page.
    pub send_list: Vec<GroupMsgSendResult>,
}

#[derive(Serialize)]
struct MsgId<'a> {
    msgid: &'a str,
}

impl WeComClient {
    /// `POST externalcontact/add_msg_template`: creates a group-message task. Not retried after
    /// ambiguous failures unless configured (it could create two tasks).
    pub async fn add_msg_template(&self, req: &AddMsgTemplateRequest) -> Result<AddMsgTemplateResponse, WeComError> {
        self.execute(ApiRequest::post("externalcontact/add_msg_template", CallKind::NonIdempotent, req)?).await
    }

    /// `POST externalcontact/get_groupmsg_list_v2`: one page of group messages.
    pub async fn get_groupmsg_list_v2(
        &self,
        req: &GetGroupMsgListV2Request,
    ) -> Result<GetGroupMsgListV2Response, WeComError> {
        self.execute(ApiRequest::post("externalcontact/get_groupmsg_list_v2", CallKind::Idempotent, req)?).await
    }

    /// Every page of `get_groupmsg_list_v2` for the filters of `req` (its `cursor` is ignored).
    pub fn get_groupmsg_list_v2_pages(
        &self,
        req: GetGroupMsgListV2Request,
    ) -> BoxStream<'static, Result<Vec<GroupMsg>, WeComError>> {
        let client = self.clone();
        cursor_pages("externalcontact/get_groupmsg_list_v2", move |cursor| {
            let client = client.clone();
            let req = GetGroupMsgListV2Request { cursor, ..req.clone() };
            async move {
                let page = client.get_groupmsg_list_v2(&req).await?;
                Ok((page.group_msg_list, page.next_cursor))
            }
        })
    }

    /// `POST externalcontact/get_groupmsg_task`: one page of the members' tasks of a group message.
    pub async fn get_groupmsg_task(&self, req: &GetGroupMsgTaskRequest) -> Result<GetGroupMsgTaskResponse, WeComError> {
        self.execute(ApiRequest::post("externalcontact/get_groupmsg_task", CallKind::Idempotent, req)?).await
    }

    /// Every member's task of the group message `msgid`.
    pub async fn get_groupmsg_task_all(
        &self,
        msgid: &str,
        limit: Option<u32>,
    ) -> Result<Vec<GroupMsgTask>, WeComError> {
        let client = self.clone();
        let msgid = msgid.to_owned();
        collect_all(cursor_pages("externalcontact/get_groupmsg_task", move |cursor| {
            let client = client.clone();
            let req = GetGroupMsgTaskRequest { msgid: msgid.clone(), limit, cursor };
            async move {
                let page = client.get_groupmsg_task(&req).await?;
                Ok((page.task_list, page.next_cursor))
            }
        }))
        .await
    }

    /// `POST externalcontact/get_groupmsg_send_result`: one page of one member's recipients.
    pub async fn get_groupmsg_send_result(
        &self,
        req: &GetGroupMsgSendResultRequest,
    ) -> Result<GetGroupMsgSendResultResponse, WeComError> {
        self.execute(ApiRequest::post("externalcontact/get_groupmsg_send_result", CallKind::Idempotent, req)?).await
    }

    /// Every recipient result of member `userid` for the group message `msgid`.
    pub async fn get_groupmsg_send_result_all(
        &self,
        msgid: &str,
        userid: &str,
        limit: Option<u32>,
    ) -> Result<Vec<GroupMsgSendResult>, WeComError> {
        let client = self.clone();
        let (msgid, userid) = (msgid.to_owned(), userid.to_owned());
        collect_all(cursor_pages("externalcontact/get_groupmsg_send_result", move |cursor| {
            let client = client.clone();
            let req = GetGroupMsgSendResultRequest { msgid: msgid.clone(), userid: userid.clone(), limit, cursor };
            async move {
                let page = client.get_groupmsg_send_result(&req).await?;
                Ok((page.send_list, page.next_cursor))
            }
        }))
        .await
    }

    /// `POST externalcontact/remind_groupmsg_send`: reminds the members who have not sent yet.
    pub async fn remind_groupmsg_send(&self, msgid: &str) -> Result<ErrorResponse, WeComError> {
        let body = MsgId { msgid };
        self.execute(ApiRequest::post("externalcontact/remind_groupmsg_send", CallKind::NonIdempotent, &body)?).await
    }

    /// `POST externalcontact/cancel_groupmsg_send`: stops a group message that is not sent yet.
    pub async fn cancel_groupmsg_send(&self, msgid: &str) -> Result<ErrorResponse, WeComError> {
        let body = MsgId { msgid };
        self.execute(ApiRequest::post("externalcontact/cancel_groupmsg_send", CallKind::Idempotent, &body)?).await
    }
}
