//! SendContactWelcome (PR05): `send_welcome_msg` to a customer just added through a contact way, within
//! WeCom's 20-second window for the single-use `welcome_code`. The identity service calls it the moment the
//! `add_external_contact` callback is stored, ahead of its inbox.

use scrm_kernel::{ApiError, Caller, Role};
use scrm_proto::group::v1::{
    ContactWelcomeSkipReason, SendContactWelcomeRequest, SendContactWelcomeResponse, WelcomeChannel, WelcomeContent,
    welcome_content,
};
use scrm_wecom::{Attachment, Image, Link, MiniProgram, SendWelcomeMsgRequest, Text};

use super::{GroupApi, now_millis};
use crate::error::GroupError;
use crate::store::welcome::ContactWelcomeRow;
use crate::welcome::{JoinTarget, NICKNAME, OWNER_NAME, Settings, pick_rule, render};

/// Roles that may send contact welcomes: identity's callback path runs as admin.
const CONTACT_WELCOME_ROLES: [Role; 2] = [Role::Admin, Role::Operator];
/// WeCom's validity of a welcome_code, milliseconds.
const WELCOME_CODE_TTL_MS: i64 = 20_000;
/// scrm's errcode when WeCom is not configured.
const ERRCODE_NO_WECOM: i32 = -1004;

impl GroupApi {
    /// Serves SendContactWelcome.
    pub(super) async fn send_contact_welcome_for(
        &self,
        caller: &Caller,
        request: SendContactWelcomeRequest,
    ) -> Result<SendContactWelcomeResponse, GroupError> {
        caller.require_any(&CONTACT_WELCOME_ROLES)?;
        if request.welcome_code.is_empty() || request.welcome_code.len() > 128 {
            return Err(ApiError::invalid("welcome_code", "welcome_code is required").into());
        }
        let key = match request.idempotency_key.trim() {
            "" => format!("welcome_code:{}", request.welcome_code),
            key if key.len() <= 255 => key.to_owned(),
            _ => return Err(ApiError::invalid("idempotency_key", "at most 255 bytes").into()),
        };
        let now = now_millis();
        if let Some(stored) =
            self.store.claim_contact_welcome(&key, &request.external_userid, &request.userid, now).await?
        {
            return Ok(response(&stored));
        }
        let result = self.contact_welcome(&request, now).await?;
        self.store.finish_contact_welcome(&key, &result).await?;
        tracing::info!(
            userid = %request.userid,
            external_userid = %request.external_userid,
            welcomed = result.welcomed,
            skip_reason = result.skip_reason,
            errcode = result.errcode,
            "contact welcome"
        );
        Ok(response(&result))
    }

    async fn contact_welcome(
        &self,
        request: &SendContactWelcomeRequest,
        now: i64,
    ) -> Result<ContactWelcomeRow, GroupError> {
        let skipped = |reason: ContactWelcomeSkipReason, rule_id: i64, errcode: i32| ContactWelcomeRow {
            rule_id,
            welcomed: 0,
            skip_reason: reason as i32,
            errcode,
        };
        let settings = Settings::from_proto(self.store.welcome_settings().await?.as_ref());
        if !settings.contact_enabled {
            return Ok(skipped(ContactWelcomeSkipReason::Disabled, 0, 0));
        }
        let rules = self.store.welcome_rules().await?;
        let target = JoinTarget { state: request.state.clone(), ..JoinTarget::default() };
        let Some(rule) = pick_rule(&rules, &target, WelcomeChannel::ContactWelcomeMsg) else {
            return Ok(skipped(ContactWelcomeSkipReason::NoRule, 0, 0));
        };
        let added_at = request.added_at.as_ref().map(|time| time.seconds * 1000 + i64::from(time.nanos / 1_000_000));
        if added_at.is_some_and(|added_at| now - added_at > WELCOME_CODE_TTL_MS) {
            return Ok(skipped(ContactWelcomeSkipReason::CodeExpired, rule.id, 0));
        }
        let Some(wecom) = &self.wecom else {
            return Ok(skipped(ContactWelcomeSkipReason::WecomError, rule.id, ERRCODE_NO_WECOM));
        };
        let content = rule.content.clone().unwrap_or_default();
        let nickname = if content.text.contains(NICKNAME) {
            wecom.external_contact_get(&request.external_userid, "").await.map(|got| got.external_contact.name)
        } else {
            Ok(String::new())
        };
        let owner = if content.text.contains(OWNER_NAME) {
            wecom.user_get(&request.userid).await.map(|user| user.name)
        } else {
            Ok(String::new())
        };
        let (nickname, owner) = (nickname.unwrap_or_default(), owner.unwrap_or_default());
        let message = welcome_msg(&request.welcome_code, &content, &nickname, &owner);
        Ok(match wecom.send_welcome_msg(&message).await {
            Ok(_) => ContactWelcomeRow { rule_id: rule.id, welcomed: 1, skip_reason: 0, errcode: 0 },
            Err(error) => {
                let errcode = error.errcode().map_or(-1, |code| i32::try_from(code).unwrap_or(-1));
                tracing::warn!(%error, "send_welcome_msg refused");
                skipped(ContactWelcomeSkipReason::WecomError, rule.id, errcode)
            }
        })
    }
}

/// The `send_welcome_msg` body of `content` for `welcome_code`.
fn welcome_msg(welcome_code: &str, content: &WelcomeContent, nickname: &str, owner: &str) -> SendWelcomeMsgRequest {
    let text = render(&content.text, nickname, "", owner);
    let attachment = match &content.attachment {
        Some(welcome_content::Attachment::Link(link)) => Some(Attachment::link(Link {
            title: link.title.clone(),
            picurl: Some(link.picurl.clone()).filter(|url| !url.is_empty()),
            desc: Some(link.desc.clone()).filter(|desc| !desc.is_empty()),
            url: link.url.clone(),
        })),
        Some(welcome_content::Attachment::Image(image)) => Some(Attachment::image(Image {
            media_id: Some(image.media_id.clone()).filter(|id| !id.is_empty()),
            pic_url: Some(image.pic_url.clone()).filter(|url| !url.is_empty()),
        })),
        Some(welcome_content::Attachment::Miniprogram(mini)) => Some(Attachment::miniprogram(MiniProgram {
            title: mini.title.clone(),
            pic_media_id: mini.pic_media_id.clone(),
            appid: mini.appid.clone(),
            page: mini.page.clone(),
        })),
        None => None,
    };
    SendWelcomeMsgRequest {
        welcome_code: welcome_code.to_owned(),
        text: Some(Text { content: text }).filter(|text| !text.content.trim().is_empty()),
        attachments: attachment.into_iter().collect(),
    }
}

fn response(row: &ContactWelcomeRow) -> SendContactWelcomeResponse {
    SendContactWelcomeResponse {
        welcomed: row.welcomed == 1,
        skip_reason: row.skip_reason,
        welcome_rule_id: row.rule_id,
        errcode: row.errcode,
    }
}
