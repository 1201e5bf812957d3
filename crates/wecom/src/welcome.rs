//! Welcome messages: group welcome templates (入群欢迎语素材) and the welcome message sent to a new
//! customer with the `WelcomeCode` of its add event.

use serde::{Deserialize, Serialize};

use crate::WeComError;
use crate::client::{ApiRequest, CallKind, ErrorResponse, WeComClient};
use crate::content::{Attachment, Image, Link, Media, MiniProgram, Text};

/// A group welcome template: the request of `group_welcome_template/add` and `/edit` (with
/// `template_id`), and what `/get` returns.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GroupWelcomeTemplate {
    /// Template id (for `edit`; absent when adding).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template_id: Option<String>,
    /// Text; `%NICKNAME%` is replaced by the new member's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<Text>,
    /// Image.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<Image>,
    /// Link.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<Link>,
    /// Mini program.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub miniprogram: Option<MiniProgram>,
    /// File.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<Media>,
    /// Video.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub video: Option<Media>,
    /// App id, when calling with an app's secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agentid: Option<i64>,
    /// Whether to notify group owners of the new template (1, default) or not (0); `add` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notify: Option<i64>,
}

/// `group_welcome_template/add`'s answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AddGroupWelcomeTemplateResponse {
    /// Id of the new template.
    pub template_id: String,
}

#[derive(Serialize)]
struct TemplateId<'a> {
    template_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    agentid: Option<i64>,
}

/// `externalcontact/send_welcome_msg`'s request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SendWelcomeMsgRequest {
    /// `WelcomeCode` of the add event (valid 20 seconds, once).
    pub welcome_code: String,
    /// Text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<Text>,
    /// Attachments (at most 9).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
}

impl WeComClient {
    /// `POST externalcontact/group_welcome_template/add`.
    pub async fn group_welcome_template_add(
        &self,
        template: &GroupWelcomeTemplate,
    ) -> Result<AddGroupWelcomeTemplateResponse, WeComError> {
        self.execute(ApiRequest::post("externalcontact/group_welcome_template/add", CallKind::NonIdempotent, template)?)
            .await
    }

    /// `POST externalcontact/group_welcome_template/edit` (`template.template_id` names it).
    pub async fn group_welcome_template_edit(
        &self,
        template: &GroupWelcomeTemplate,
    ) -> Result<ErrorResponse, WeComError> {
        self.execute(ApiRequest::post("externalcontact/group_welcome_template/edit", CallKind::Idempotent, template)?)
            .await
    }

    /// `POST externalcontact/group_welcome_template/get`.
    pub async fn group_welcome_template_get(&self, template_id: &str) -> Result<GroupWelcomeTemplate, WeComError> {
        let body = TemplateId { template_id, agentid: None };
        self.execute(ApiRequest::post("externalcontact/group_welcome_template/get", CallKind::Idempotent, &body)?).await
    }

    /// `POST externalcontact/group_welcome_template/del`.
    pub async fn group_welcome_template_del(
        &self,
        template_id: &str,
        agentid: Option<i64>,
    ) -> Result<ErrorResponse, WeComError> {
        let body = TemplateId { template_id, agentid };
        self.execute(ApiRequest::post("externalcontact/group_welcome_template/del", CallKind::Idempotent, &body)?).await
    }

    /// `POST externalcontact/send_welcome_msg`: the welcome message to a new customer. A
    /// `welcome_code` works once, so a retry after an ambiguous failure fails harmlessly.
    pub async fn send_welcome_msg(&self, req: &SendWelcomeMsgRequest) -> Result<ErrorResponse, WeComError> {
        self.execute(ApiRequest::post("externalcontact/send_welcome_msg", CallKind::Idempotent, req)?).await
    }
}
