//! The welcome worker (PR05): posts robot welcomes for queued customer joins, combining the joins of a burst
//! into one post that names them and keeping within the robot's posts per minute, and mirrors welcome rules
//! into WeCom group welcome templates (`group_welcome_template/add` / `edit`), retrying transient failures.

use std::sync::Arc;
use std::time::Duration;

use scrm_kernel::{Caller, Clients};
use scrm_proto::group::v1::{
    TemplateSyncState, WelcomeChannel, WelcomeContent, WelcomeRule, WelcomeTemplateSync, welcome_content,
};
use scrm_proto::messaging::v1::{
    RobotDeliveryState, RobotMessageContent, RobotNews, RobotNewsArticle, RobotText, SendRobotMessageRequest,
    robot_message_content,
};
use scrm_wecom::{GroupWelcomeTemplate, Image, Link, MiniProgram, Text, WeComClient};
use tokio::sync::Notify;

use crate::api::timestamp;
use crate::clock::Clock;
use crate::store::GroupStore;
use crate::store::welcome::{JOIN_SKIPPED, JOIN_WELCOMED, QueuedJoin};
use crate::welcome::{JoinTarget, Settings, combined_names, pick_rule, render};

/// How often the worker looks for work when nothing wakes it.
const TICK: Duration = Duration::from_secs(1);
/// scrm's errcode for a group without an enabled robot (MessagingService.SendRobotMessage).
const NO_ROBOT: i32 = -1001;
/// WeCom's errcode for a robot over its rate.
const ROBOT_RATE: i32 = 45009;
/// WeCom errcodes worth retrying: busy, rate limits.
const TRANSIENT: &[i64] = &[-1, 45009, 45033];

/// Robot welcomes and template sync, in the background.
#[derive(Clone)]
pub struct WelcomeWorker {
    /// The tables.
    pub store: GroupStore,
    /// WeCom, for templates; `None`: templates are not synced.
    pub wecom: Option<WeComClient>,
    /// Other services: messaging posts robot welcomes; `None`: joins are skipped as having no robot.
    pub clients: Option<Clients>,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// Rings when a rule changed.
    pub wake: Arc<Notify>,
}

impl std::fmt::Debug for WelcomeWorker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WelcomeWorker").field("wecom", &self.wecom).finish_non_exhaustive()
    }
}

impl WelcomeWorker {
    /// Runs forever.
    pub async fn run(self) {
        loop {
            if let Err(error) = self.round().await {
                tracing::error!(%error, "welcome worker round failed");
            }
            let _ = tokio::time::timeout(TICK, self.wake.notified()).await;
        }
    }

    /// One round: due robot welcomes, then pending templates.
    pub async fn round(&self) -> Result<(), sqlx::Error> {
        self.post_robot_welcomes().await?;
        self.sync_templates().await
    }

    async fn post_robot_welcomes(&self) -> Result<(), sqlx::Error> {
        let now = self.clock.now_millis();
        let settings = Settings::from_proto(self.store.welcome_settings().await?.as_ref());
        let rules = self.store.welcome_rules().await?;
        for (chat_id, first_queued) in self.store.chats_with_pending_joins().await? {
            if first_queued + settings.burst_window_ms > now {
                continue;
            }
            if self.store.welcome_posts_since(&chat_id, now - 60_000).await? >= settings.per_minute {
                continue;
            }
            self.welcome_group(&chat_id, &rules, &settings, now).await?;
        }
        Ok(())
    }

    /// Posts one welcome per rule for the pending joins of a group.
    async fn welcome_group(
        &self,
        chat_id: &str,
        rules: &[WelcomeRule],
        settings: &Settings,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        let joins = self.store.pending_joins(chat_id).await?;
        let tag_ids = self.store.tag_ids_of(chat_id).await?;
        let carried = self.store.carried_template(chat_id).await?;
        let mut batches: Vec<(&WelcomeRule, Vec<QueuedJoin>)> = Vec::new();
        let mut unruled = Vec::new();
        for join in joins {
            let target =
                JoinTarget { chat_id: chat_id.to_owned(), tag_ids: tag_ids.clone(), state: join.member_state.clone() };
            match pick_rule(rules, &target, WelcomeChannel::Robot) {
                Some(rule) if template_welcomes(rule, carried.as_ref()) => unruled.push((join, "WeCom's template")),
                Some(rule) => match batches.iter_mut().find(|(batch_rule, _)| batch_rule.id == rule.id) {
                    Some((_, batch)) => batch.push(join),
                    None => batches.push((rule, vec![join])),
                },
                None => unruled.push((join, "no robot rule")),
            }
        }
        for (join, reason) in unruled {
            self.store.finish_joins(std::slice::from_ref(&join), JOIN_SKIPPED, 0, "", reason, now).await?;
        }
        for (rule, batch) in batches {
            let first = &batch[0];
            let key = format!("group.welcome:{chat_id}:{}:{}:{}", rule.id, first.userid, first.joined_at);
            let names: Vec<String> = batch.iter().map(|join| join.name.clone()).collect();
            let facts = self.store.group_facts(chat_id).await?;
            let nicknames = combined_names(&names, settings.max_names);
            let content =
                robot_content(&rule.content.clone().unwrap_or_default(), &nicknames, &facts.name, &facts.owner_userid);
            match self.post(chat_id, content, &key).await {
                Ok(()) => self.store.finish_joins(&batch, JOIN_WELCOMED, rule.id, &key, "", now).await?,
                Err(Some(reason)) => self.store.finish_joins(&batch, JOIN_SKIPPED, rule.id, &key, &reason, now).await?,
                Err(None) => {}
            }
        }
        Ok(())
    }

    /// Posts through the group's robot. `Err(Some(reason))`: will never be posted; `Err(None)`: try again later.
    async fn post(&self, chat_id: &str, content: Option<RobotMessageContent>, key: &str) -> Result<(), Option<String>> {
        let Some(content) = content else { return Err(Some("the rule has nothing a robot can post".to_owned())) };
        let Some(clients) = &self.clients else { return Err(Some("robot welcomes are not wired".to_owned())) };
        let request = SendRobotMessageRequest {
            chat_id: chat_id.to_owned(),
            content: Some(content),
            idempotency_key: key.to_owned(),
            origin: "group.welcome".to_owned(),
        };
        let request = Caller::system("group-welcome").outgoing(request).map_err(|error| Some(error.to_string()))?;
        let response = match clients.messaging.clone().send_robot_message(request).await {
            Ok(response) => response.into_inner(),
            Err(status) => {
                tracing::warn!(%status, chat_id, "robot welcome not posted; will retry");
                return Err(None);
            }
        };
        match response.state() {
            RobotDeliveryState::Sent => Ok(()),
            RobotDeliveryState::Failed if response.errcode == NO_ROBOT => {
                Err(Some("the group has no robot".to_owned()))
            }
            RobotDeliveryState::Failed if response.errcode == ROBOT_RATE || response.errcode == -1 => Err(None),
            RobotDeliveryState::Queued | RobotDeliveryState::Unspecified => Err(None),
            RobotDeliveryState::Failed => Err(Some(format!("WeCom errcode {}: {}", response.errcode, response.errmsg))),
        }
    }

    async fn sync_templates(&self) -> Result<(), sqlx::Error> {
        let Some(wecom) = &self.wecom else { return Ok(()) };
        for rule in self.store.welcome_rules().await? {
            let Some(template) = rule.template.clone() else { continue };
            if template.sync_state != TemplateSyncState::Pending as i32 {
                continue;
            }
            let mut body = wecom_template(&rule.content.clone().unwrap_or_default());
            let outcome = if template.template_id.is_empty() {
                body.notify = Some(i64::from(template.notify));
                wecom.group_welcome_template_add(&body).await.map(|added| added.template_id)
            } else {
                body.template_id = Some(template.template_id.clone());
                wecom.group_welcome_template_edit(&body).await.map(|_| template.template_id.clone())
            };
            let now = self.clock.now_millis();
            let synced = match outcome {
                Ok(template_id) => WelcomeTemplateSync {
                    template_id,
                    sync_state: TemplateSyncState::Synced as i32,
                    synced_revision: rule.revision,
                    synced_at: Some(timestamp(now)),
                    last_errcode: 0,
                    last_errmsg: String::new(),
                    notify: template.notify,
                },
                Err(error) => {
                    let errcode = error.errcode();
                    let transient = errcode.is_none_or(|code| TRANSIENT.contains(&code));
                    tracing::warn!(%error, rule_id = rule.id, transient, "welcome template not synced");
                    let state = if transient { TemplateSyncState::Pending } else { TemplateSyncState::Failed };
                    WelcomeTemplateSync {
                        sync_state: state as i32,
                        last_errcode: errcode.map_or(-1, |code| i32::try_from(code).unwrap_or(-1)),
                        last_errmsg: error.to_string(),
                        ..template
                    }
                }
            };
            // Written only when the rule did not change meanwhile; a newer revision syncs next round.
            if let Some(mut current) = self.store.welcome_rule(rule.id).await?
                && current.revision == rule.revision
            {
                current.template = Some(synced);
                self.store.update_welcome_rule(&current, now).await?;
            }
        }
        Ok(())
    }
}

/// Whether a group-template channel ahead of the robot already welcomes joins of a group carrying `carried`.
fn template_welcomes(rule: &WelcomeRule, carried: Option<&(String, i64)>) -> bool {
    let template_first = rule.channels.iter().position(|channel| *channel == WelcomeChannel::GroupTemplate as i32)
        < rule.channels.iter().position(|channel| *channel == WelcomeChannel::Robot as i32);
    let template_id = rule.template.as_ref().map(|template| template.template_id.as_str()).unwrap_or_default();
    template_first && !template_id.is_empty() && carried.is_some_and(|(carried, _)| carried == template_id)
}

/// A robot post of `content`: its text with the variables filled in, or a news card of its link.
fn robot_content(content: &WelcomeContent, nicknames: &str, group: &str, owner: &str) -> Option<RobotMessageContent> {
    let text = render(&content.text, nicknames, group, owner);
    let body = if !text.trim().is_empty() {
        robot_message_content::Body::Text(RobotText { content: text, ..RobotText::default() })
    } else if let Some(welcome_content::Attachment::Link(link)) = &content.attachment {
        robot_message_content::Body::News(RobotNews {
            articles: vec![RobotNewsArticle {
                title: link.title.clone(),
                description: link.desc.clone(),
                url: link.url.clone(),
                picurl: link.picurl.clone(),
            }],
        })
    } else {
        return None;
    };
    Some(RobotMessageContent { body: Some(body) })
}

/// The WeCom group welcome template of `content` (%NICKNAME% left for WeCom to fill).
fn wecom_template(content: &WelcomeContent) -> GroupWelcomeTemplate {
    let mut template = GroupWelcomeTemplate {
        text: Some(Text { content: content.text.clone() }).filter(|text| !text.content.is_empty()),
        ..GroupWelcomeTemplate::default()
    };
    match &content.attachment {
        Some(welcome_content::Attachment::Image(image)) => {
            template.image = Some(Image {
                media_id: Some(image.media_id.clone()).filter(|id| !id.is_empty()),
                pic_url: Some(image.pic_url.clone()).filter(|url| !url.is_empty()),
            });
        }
        Some(welcome_content::Attachment::Link(link)) => {
            template.link = Some(Link {
                title: link.title.clone(),
                picurl: Some(link.picurl.clone()).filter(|url| !url.is_empty()),
                desc: Some(link.desc.clone()).filter(|desc| !desc.is_empty()),
                url: link.url.clone(),
            });
        }
        Some(welcome_content::Attachment::Miniprogram(mini)) => {
            template.miniprogram = Some(MiniProgram {
                title: mini.title.clone(),
                pic_media_id: mini.pic_media_id.clone(),
                appid: mini.appid.clone(),
                page: mini.page.clone(),
            });
        }
        None => {}
    }
    template
}
