//! The group service's background work: refreshing the rolling activity figures and evaluating the alert rules
//! (PR07) on an injectable clock, raising, refreshing and resolving alerts and telling owners of new ones.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use scrm_proto::group::v1::alert_rule::Params;
use scrm_proto::group::v1::{AlertEvidence, AlertKind, AlertRule};
use scrm_wecom::{AppMessage, WeComClient};

use crate::activity::{day_of, day_string, start_of_day};
use crate::alerts::{WindowMessage, activity_drop, dead_group, member_loss, silent_days, spam_burst};
use crate::clock::Clock;
use crate::store::GroupStore;
use crate::store::alerts::{AlertRow, JudgedGroup};

/// How often the worker runs when nothing asks it to.
pub const EVALUATION_INTERVAL: Duration = Duration::from_secs(60);

/// Sends new alerts to group owners as WeCom app messages (`message/send`).
#[derive(Debug, Clone)]
pub struct AlertNotifier {
    /// The WeCom API client.
    pub client: WeComClient,
    /// The agent id of the app sending the messages.
    pub agent_id: i64,
}

/// What one evaluation did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Evaluation {
    /// Alerts raised.
    pub raised: usize,
    /// Alerts resolved.
    pub resolved: usize,
    /// Owners told of new alerts.
    pub notified: usize,
}

/// Refreshes activity and evaluates every rule as of the clock's now.
pub async fn evaluate(
    store: &GroupStore,
    clock: &dyn Clock,
    notifier: Option<&AlertNotifier>,
) -> Result<Evaluation, sqlx::Error> {
    let now = clock.now_millis();
    let rules = store.alert_rules(now).await?;
    store.refresh_activity(now, silent_days(&rules), None).await?;
    let groups = store.judged_groups().await?;
    let today = day_of(now);
    let mut weeks: HashMap<String, (i64, i64)> = HashMap::new();
    for (chat_id, day, messages) in store.daily_messages_since(today - 13).await? {
        let entry = weeks.entry(chat_id).or_default();
        if day > today - 7 {
            entry.0 += messages;
        } else {
            entry.1 += messages;
        }
    }
    let mut changes: HashMap<String, (i64, i64, Vec<String>)> = HashMap::new();
    for (chat_id, userid, joined_at, left_at) in store.membership_changes_since(start_of_day(today)).await? {
        let entry = changes.entry(chat_id).or_default();
        if joined_at >= start_of_day(today) {
            entry.0 += 1;
        }
        if left_at.is_some_and(|left_at| left_at >= start_of_day(today)) {
            entry.1 += 1;
            entry.2.push(userid);
        }
    }
    let longest_window = rules
        .iter()
        .filter_map(|rule| match &rule.params {
            Some(Params::SpamBurst(params)) => params.window.as_ref().map(|window| window.seconds * 1000),
            _ => None,
        })
        .max()
        .unwrap_or(60_000);
    let mut windows: HashMap<String, Vec<WindowMessage>> = HashMap::new();
    for (chat_id, msgid, sender, msgtime) in store.messages_since(now - longest_window).await? {
        windows.entry(chat_id).or_default().push((msgid, sender, msgtime));
    }

    let mut evaluation = Evaluation::default();
    let open = store.open_alerts().await?;
    let open_by_group: HashMap<(&str, i32), &AlertRow> =
        open.iter().map(|alert| ((alert.chat_id.as_str(), alert.kind), alert)).collect();
    for rule in &rules {
        let mut holding: HashMap<&str, AlertEvidence> = HashMap::new();
        if rule.enabled {
            for (group, tags) in &groups {
                if !rule.tag_ids.is_empty() && !rule.tag_ids.iter().any(|tag| tags.contains(tag)) {
                    continue;
                }
                let evidence = judge(rule, group, now, &weeks, &changes, &windows);
                if let Some(evidence) = evidence {
                    holding.insert(group.chat_id.as_str(), evidence);
                }
            }
        }
        for alert in open.iter().filter(|alert| alert.kind == rule.kind) {
            if !holding.contains_key(alert.chat_id.as_str()) {
                store.resolve_alert(alert.id, now).await?;
                evaluation.resolved += 1;
            }
        }
        for (group, _) in &groups {
            let Some(evidence) = holding.get(group.chat_id.as_str()) else { continue };
            if let Some(alert) = open_by_group.get(&(group.chat_id.as_str(), rule.kind)) {
                store.refresh_alert_evidence(alert, evidence).await?;
                continue;
            }
            let Some(id) = store.raise_alert(rule.id, rule.kind, group, evidence, now).await? else { continue };
            evaluation.raised += 1;
            if let Some(notifier) = notifier
                && notify(notifier, rule, group, evidence).await
            {
                store.mark_owner_notified(id, now).await?;
                evaluation.notified += 1;
            }
        }
    }
    store.sync_alert_states().await?;
    Ok(evaluation)
}

/// The evidence when `rule`'s condition holds for `group`.
fn judge(
    rule: &AlertRule,
    group: &JudgedGroup,
    now: i64,
    weeks: &HashMap<String, (i64, i64)>,
    changes: &HashMap<String, (i64, i64, Vec<String>)>,
    windows: &HashMap<String, Vec<WindowMessage>>,
) -> Option<AlertEvidence> {
    match rule.params.as_ref()? {
        Params::DeadGroup(params) => dead_group(params, now, group.created_at, group.last_message_at),
        Params::ActivityDrop(params) => {
            let (current, previous) = weeks.get(&group.chat_id).copied().unwrap_or_default();
            activity_drop(params, current, previous)
        }
        Params::MemberLoss(params) => {
            let (joins, leaves, left) = changes.get(&group.chat_id)?;
            let at_start = i64::from(group.member_count) + leaves - joins;
            member_loss(params, &day_string(day_of(now)), at_start, left)
        }
        Params::SpamBurst(params) => {
            let window = params.window.as_ref().map_or(60_000, |window| window.seconds * 1000);
            let messages: Vec<WindowMessage> =
                windows.get(&group.chat_id)?.iter().filter(|message| message.2 > now - window).cloned().collect();
            spam_burst(params, &messages)
        }
    }
}

/// Tells the owner of a new alert; true when WeCom accepted the message.
async fn notify(notifier: &AlertNotifier, rule: &AlertRule, group: &JudgedGroup, evidence: &AlertEvidence) -> bool {
    let name = if group.name.is_empty() { "未命名群" } else { group.name.as_str() };
    let text = format!("【{}】群「{name}」：{}。请及时关注。", rule.name, evidence.summary);
    let message = AppMessage::text(notifier.agent_id, group.owner_userid.clone(), text);
    match notifier.client.message_send(&message).await {
        Ok(_) => true,
        Err(error) => {
            tracing::warn!(%error, chat_id = %group.chat_id, kind = ?AlertKind::try_from(rule.kind), "alert push failed");
            false
        }
    }
}

/// Runs [`evaluate`] every `interval` until the process ends.
pub fn spawn(store: GroupStore, clock: Arc<dyn Clock>, notifier: Option<AlertNotifier>, interval: Duration) {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(interval);
        loop {
            ticks.tick().await;
            match evaluate(&store, clock.as_ref(), notifier.as_ref()).await {
                Ok(evaluation) if evaluation != Evaluation::default() => {
                    tracing::info!(?evaluation, "group alerts evaluated")
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "group alert evaluation failed"),
            }
        }
    });
}
