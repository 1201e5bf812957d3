//! Pure rules of group alerts (PR07): the default rules, and when each kind's condition holds.

use prost_types::Duration;
use scrm_proto::group::v1::alert_evidence::Detail;
use scrm_proto::group::v1::alert_rule::Params;
use scrm_proto::group::v1::{
    ActivityDropEvidence, ActivityDropParams, AlertEvidence, AlertKind, AlertRule, DeadGroupEvidence, DeadGroupParams,
    MemberLossEvidence, MemberLossParams, SpamBurstEvidence, SpamBurstParams,
};

use crate::activity::{DAY_MILLIS, ratio_bps};

/// The rules before anyone changes them: every kind enabled, owners notified.
pub fn default_rules() -> Vec<AlertRule> {
    let rule = |kind: AlertKind, name: &str, params: Params| AlertRule {
        kind: kind as i32,
        name: name.to_owned(),
        enabled: true,
        params: Some(params),
        notify_owner: true,
        ..AlertRule::default()
    };
    vec![
        rule(AlertKind::DeadGroup, "死群预警", Params::DeadGroup(DeadGroupParams { silent_days: 7 })),
        rule(
            AlertKind::ActivityDrop,
            "活跃度下降预警",
            Params::ActivityDrop(ActivityDropParams { drop_bps: 5000, min_previous_week_messages: 20 }),
        ),
        rule(
            AlertKind::MemberLoss,
            "成员流失预警",
            Params::MemberLoss(MemberLossParams { loss_bps: 1000, min_member_count: 10 }),
        ),
        rule(
            AlertKind::SpamBurst,
            "刷屏预警",
            Params::SpamBurst(SpamBurstParams {
                window: Some(Duration { seconds: 60, nanos: 0 }),
                min_messages: 30,
                max_senders: 3,
                min_identical_texts: 5,
            }),
        ),
    ]
}

/// The dead-group rule's silent days among `rules` (7 when absent).
pub fn silent_days(rules: &[AlertRule]) -> i64 {
    rules
        .iter()
        .find_map(|rule| match &rule.params {
            Some(Params::DeadGroup(params)) => Some(i64::from(params.silent_days)),
            _ => None,
        })
        .unwrap_or(7)
}

/// Checks a rule's parameters; the error names the field.
pub fn check_params(params: &Params) -> Result<(), (&'static str, &'static str)> {
    match params {
        Params::DeadGroup(p) if !(1..=90).contains(&p.silent_days) => {
            Err(("rule.dead_group.silent_days", "silent_days must be 1 to 90"))
        }
        Params::ActivityDrop(p) if !(1..=10_000).contains(&p.drop_bps) => {
            Err(("rule.activity_drop.drop_bps", "drop_bps must be 1 to 10000"))
        }
        Params::ActivityDrop(p) if p.min_previous_week_messages < 0 => {
            Err(("rule.activity_drop.min_previous_week_messages", "must not be negative"))
        }
        Params::MemberLoss(p) if !(1..=10_000).contains(&p.loss_bps) => {
            Err(("rule.member_loss.loss_bps", "loss_bps must be 1 to 10000"))
        }
        Params::MemberLoss(p) if p.min_member_count < 0 => {
            Err(("rule.member_loss.min_member_count", "must not be negative"))
        }
        Params::SpamBurst(p) if p.window.as_ref().is_none_or(|window| !(1..=3600).contains(&window.seconds)) => {
            Err(("rule.spam_burst.window", "window must be 1 second to 1 hour"))
        }
        Params::SpamBurst(p) if p.min_messages < 1 || p.max_senders < 1 || p.min_identical_texts < 0 => {
            Err(("rule.spam_burst", "min_messages and max_senders must be positive"))
        }
        _ => Ok(()),
    }
}

/// Whether a group is dead: no message for `silent_days` (counting from its creation when it never had one).
pub fn dead_group(
    params: &DeadGroupParams,
    now: i64,
    created_at: i64,
    last_message_at: Option<i64>,
) -> Option<AlertEvidence> {
    let silent_since = last_message_at.unwrap_or(created_at);
    let silent_days = (now - silent_since).div_euclid(DAY_MILLIS);
    if silent_days < i64::from(params.silent_days) {
        return None;
    }
    Some(AlertEvidence {
        summary: match last_message_at {
            Some(_) => format!("{silent_days}天无人发言"),
            None => format!("建群{silent_days}天从未有人发言"),
        },
        detail: Some(Detail::DeadGroup(DeadGroupEvidence {
            last_message_at: last_message_at.map(crate::api::timestamp),
            silent_days: silent_days as i32,
        })),
    })
}

/// Whether messages of the last 7 days dropped from the 7 days before by at least the rule's share.
pub fn activity_drop(params: &ActivityDropParams, current: i64, previous: i64) -> Option<AlertEvidence> {
    if previous < params.min_previous_week_messages.max(1) || current >= previous {
        return None;
    }
    let drop = ratio_bps(previous - current, previous);
    if drop < params.drop_bps {
        return None;
    }
    Some(AlertEvidence {
        summary: format!("近7天消息{current}条，前7天{previous}条，下降{}%", drop / 100),
        detail: Some(Detail::ActivityDrop(ActivityDropEvidence {
            current_week_messages: current,
            previous_week_messages: previous,
            drop_bps: drop,
        })),
    })
}

/// Whether at least the rule's share of the members at the start of `day` left that day.
pub fn member_loss(
    params: &MemberLossParams,
    day: &str,
    members_at_start: i64,
    left: &[String],
) -> Option<AlertEvidence> {
    if members_at_start < i64::from(params.min_member_count) || left.is_empty() {
        return None;
    }
    let loss = ratio_bps(left.len() as i64, members_at_start);
    if loss < params.loss_bps {
        return None;
    }
    Some(AlertEvidence {
        summary: format!("{day} 退群{}人，占{}%", left.len(), loss / 100),
        detail: Some(Detail::MemberLoss(MemberLossEvidence {
            day: day.to_owned(),
            members_at_start,
            members_left: left.len() as i64,
            loss_bps: loss,
            sample_userids: left.iter().take(20).cloned().collect(),
        })),
    })
}

/// A message of a burst window: (msgid, sender, time).
pub type WindowMessage = (String, String, i64);

/// Whether the messages of the last window (newest last) are a burst from few senders.
pub fn spam_burst(params: &SpamBurstParams, window: &[WindowMessage]) -> Option<AlertEvidence> {
    if window.len() < params.min_messages.max(1) as usize {
        return None;
    }
    let mut senders: Vec<(String, usize)> = Vec::new();
    for (_, sender, _) in window {
        match senders.iter_mut().find(|(name, _)| name == sender) {
            Some((_, count)) => *count += 1,
            None => senders.push((sender.clone(), 1)),
        }
    }
    if senders.len() > params.max_senders.max(1) as usize {
        return None;
    }
    senders.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let (start, end) = (window.first().map_or(0, |m| m.2), window.last().map_or(0, |m| m.2));
    Some(AlertEvidence {
        summary: format!("{}秒内{}条消息，来自{}人", (end - start) / 1000 + 1, window.len(), senders.len()),
        detail: Some(Detail::SpamBurst(SpamBurstEvidence {
            window_start: Some(crate::api::timestamp(start)),
            window_end: Some(crate::api::timestamp(end)),
            messages: window.len() as i64,
            senders: senders.into_iter().map(|(sender, _)| sender).collect(),
            identical_texts: 0,
            sample_msgids: window.iter().take(20).map(|m| m.0.clone()).collect(),
        })),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_is_dead_after_its_silent_days() {
        let params = DeadGroupParams { silent_days: 7 };
        let now = 1_000 * DAY_MILLIS;
        assert!(dead_group(&params, now, 0, Some(now - 6 * DAY_MILLIS)).is_none());
        let evidence = dead_group(&params, now, 0, Some(now - 7 * DAY_MILLIS)).unwrap();
        assert_eq!(evidence.summary, "7天无人发言");
        assert!(dead_group(&params, now, now - DAY_MILLIS, None).is_none());
        assert_eq!(dead_group(&params, now, now - 8 * DAY_MILLIS, None).unwrap().summary, "建群8天从未有人发言");
    }

    #[test]
    fn drops_losses_and_bursts_need_their_thresholds() {
        let drop = ActivityDropParams { drop_bps: 5000, min_previous_week_messages: 20 };
        assert!(activity_drop(&drop, 10, 19).is_none());
        assert!(activity_drop(&drop, 11, 20).is_none());
        assert_eq!(activity_drop(&drop, 10, 20).unwrap().summary, "近7天消息10条，前7天20条，下降50%");
        let loss = MemberLossParams { loss_bps: 1000, min_member_count: 10 };
        let left: Vec<String> = (0..2).map(|i| format!("wm{i}")).collect();
        assert!(member_loss(&loss, "2025-03-03", 21, &left).is_none());
        assert!(member_loss(&loss, "2025-03-03", 20, &left).is_some());
        assert!(member_loss(&loss, "2025-03-03", 9, &left).is_none());
        let spam = SpamBurstParams { window: None, min_messages: 3, max_senders: 1, min_identical_texts: 0 };
        let burst: Vec<WindowMessage> = (0..3).map(|i| (format!("m{i}"), "bot".to_owned(), i * 1000)).collect();
        assert_eq!(spam_burst(&spam, &burst).unwrap().summary, "3秒内3条消息，来自1人");
        let mut lively = burst.clone();
        lively.push(("m9".into(), "other".into(), 4000));
        assert!(spam_burst(&spam, &lively).is_none());
        assert!(spam_burst(&spam, &burst[..2]).is_none());
    }

    #[test]
    fn defaults_pass_their_own_checks() {
        for rule in default_rules() {
            assert_eq!(check_params(rule.params.as_ref().unwrap()), Ok(()));
        }
        assert_eq!(silent_days(&default_rules()), 7);
    }
}
