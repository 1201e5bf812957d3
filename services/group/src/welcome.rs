//! Welcome rules in the domain's terms (PR05): which rule covers a join, what a rule may say, how its text
//! renders, and the corp-wide settings with their defaults. Pure functions, unit-tested.

use scrm_proto::group::v1::{
    GroupMemberType, WelcomeChannel, WelcomeContent, WelcomeRule, WelcomeScopeKind, WelcomeSettings, welcome_content,
};

use crate::domain::MemberRecord;
use crate::store::welcome::NewJoin;

/// Variable replaced by the joiner's nickname (the joiners' in a combined welcome).
pub const NICKNAME: &str = "%NICKNAME%";
/// Variable replaced by the group's name (robot and contact welcomes).
pub const GROUP_NAME: &str = "%GROUP_NAME%";
/// Variable replaced by the group owner's (or the added staff member's) name (robot and contact welcomes).
pub const OWNER_NAME: &str = "%OWNER_NAME%";
/// Longest welcome text, in bytes.
const MAX_TEXT_BYTES: usize = 4000;
/// Longest rule name, in characters.
const MAX_NAME_CHARS: usize = 64;
/// Joins older than this when scrm learns of them (after an outage, or on a group's first sync) are not welcomed.
const FRESH_JOIN_MS: i64 = 60 * 60 * 1000;
/// Default robot burst window, in seconds.
const DEFAULT_BURST_SECONDS: i64 = 30;
/// Longest robot burst window, in seconds.
const MAX_BURST_SECONDS: i64 = 600;
/// Default most joiners named in a combined welcome.
const DEFAULT_MAX_NAMES: i32 = 20;
/// WeCom's robot posts per minute.
const ROBOT_PER_MINUTE: i32 = 20;

/// What a join (or a contact add) is matched against.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JoinTarget {
    /// The group joined; empty for a contact add.
    pub chat_id: String,
    /// Group tags the group carries.
    pub tag_ids: Vec<i64>,
    /// The join way's or contact way's state; empty when none.
    pub state: String,
}

/// The corp-wide welcome settings with defaults applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// Robot burst window, milliseconds.
    pub burst_window_ms: i64,
    /// Most joiners named in a combined welcome.
    pub max_names: usize,
    /// Robot welcome posts per group per minute.
    pub per_minute: i64,
    /// Whether contact welcomes are sent.
    pub contact_enabled: bool,
}

impl Settings {
    /// The settings stored as `settings`; defaults when none are stored.
    pub fn from_proto(settings: Option<&WelcomeSettings>) -> Settings {
        let Some(settings) = settings else { return Settings::from_proto(Some(&default_settings())) };
        Settings {
            burst_window_ms: settings.robot_burst_window.map_or(0, |window| window.seconds * 1000),
            max_names: usize::try_from(settings.robot_max_names).unwrap_or(1).max(1),
            per_minute: i64::from(settings.robot_messages_per_minute.clamp(1, ROBOT_PER_MINUTE)),
            contact_enabled: settings.contact_welcome_enabled,
        }
    }
}

/// The settings before any change.
pub fn default_settings() -> WelcomeSettings {
    WelcomeSettings {
        robot_burst_window: Some(prost_types::Duration { seconds: DEFAULT_BURST_SECONDS, nanos: 0 }),
        robot_max_names: DEFAULT_MAX_NAMES,
        robot_messages_per_minute: ROBOT_PER_MINUTE,
        contact_welcome_enabled: true,
        updated_at: None,
    }
}

/// Checks settings; the error names the bad field.
pub fn check_settings(settings: &WelcomeSettings) -> Result<(), (&'static str, String)> {
    let window = settings.robot_burst_window.unwrap_or_default();
    if !(0..=MAX_BURST_SECONDS).contains(&window.seconds) || window.nanos != 0 {
        return Err(("robot_burst_window", format!("whole seconds from 0 to {MAX_BURST_SECONDS}")));
    }
    if !(1..=200).contains(&settings.robot_max_names) {
        return Err(("robot_max_names", "from 1 to 200".to_owned()));
    }
    if !(1..=ROBOT_PER_MINUTE).contains(&settings.robot_messages_per_minute) {
        return Err(("robot_messages_per_minute", format!("from 1 to WeCom's {ROBOT_PER_MINUTE}")));
    }
    Ok(())
}

/// Checks a rule's editable fields; the error names the bad field.
pub fn check_rule(rule: &WelcomeRule) -> Result<(), (String, String)> {
    let problem = |field: &str, message: &str| Err((field.to_owned(), message.to_owned()));
    let name = rule.name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return problem("name", "name is required (at most 64 characters)");
    }
    let scope = rule.scope.clone().unwrap_or_default();
    match scope.kind() {
        WelcomeScopeKind::Unspecified => return problem("scope.kind", "scope.kind is required"),
        WelcomeScopeKind::Groups if scope.chat_ids.is_empty() => {
            return problem("scope.chat_ids", "a GROUPS rule needs at least one chat_id");
        }
        WelcomeScopeKind::GroupTags if scope.tag_ids.is_empty() => {
            return problem("scope.tag_ids", "a GROUP_TAGS rule needs at least one tag_id");
        }
        WelcomeScopeKind::Campaign if scope.states.iter().all(|state| state.trim().is_empty()) => {
            return problem("scope.states", "a CAMPAIGN rule needs at least one state");
        }
        _ => {}
    }
    if rule.channels.is_empty() {
        return problem("channels", "at least one channel is required");
    }
    if rule.channels.iter().any(|channel| {
        WelcomeChannel::try_from(*channel).map_or(true, |channel| channel == WelcomeChannel::Unspecified)
    }) {
        return problem("channels", "unknown channel");
    }
    let content = rule.content.clone().unwrap_or_default();
    let template_only_nickname = rule.channels.contains(&(WelcomeChannel::GroupTemplate as i32));
    check_content(&content, template_only_nickname).map_err(|(field, message)| (format!("content.{field}"), message))
}

fn check_content(content: &WelcomeContent, template: bool) -> Result<(), (String, String)> {
    let problem = |field: &str, message: &str| Err((field.to_owned(), message.to_owned()));
    if content.text.trim().is_empty() && content.attachment.is_none() {
        return problem("text", "text is required when there is no attachment");
    }
    if content.text.len() > MAX_TEXT_BYTES {
        return problem("text", "at most 4000 bytes");
    }
    let allowed: &[&str] = if template { &[NICKNAME] } else { &[NICKNAME, GROUP_NAME, OWNER_NAME] };
    if let Some(unknown) = variables(&content.text).into_iter().find(|variable| !allowed.contains(variable)) {
        let message = if template {
            format!("{unknown}: a group welcome template may only use {NICKNAME}")
        } else {
            format!("{unknown} is not a known variable")
        };
        return Err(("text".to_owned(), message));
    }
    match &content.attachment {
        Some(welcome_content::Attachment::Link(link)) if link.url.trim().is_empty() || link.title.trim().is_empty() => {
            problem("link", "a link needs a title and a url")
        }
        Some(welcome_content::Attachment::Image(image)) if image.pic_url.is_empty() && image.media_id.is_empty() => {
            problem("image.pic_url", "an image needs pic_url")
        }
        Some(welcome_content::Attachment::Miniprogram(mini))
            if mini.appid.is_empty() || mini.page.is_empty() || mini.title.is_empty() =>
        {
            problem("miniprogram", "a mini-program needs a title, an appid and a page")
        }
        _ => Ok(()),
    }
}

/// The `%…%` variables in `text`.
fn variables(text: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find('%') {
        let after = &rest[start + 1..];
        let Some(end) = after.find('%') else { break };
        let name = &after[..end];
        if !name.is_empty() && name.chars().all(|c| c.is_ascii_uppercase() || c == '_') {
            found.push(&rest[start..start + end + 2]);
            rest = &after[end + 1..];
        } else {
            rest = after;
        }
    }
    found
}

/// `text` with its variables replaced.
pub fn render(text: &str, nicknames: &str, group_name: &str, owner_name: &str) -> String {
    text.replace(NICKNAME, nicknames).replace(GROUP_NAME, group_name).replace(OWNER_NAME, owner_name)
}

/// The joiners' names for a combined welcome: at most `max` of them joined by "、", then "等N人".
pub fn combined_names(names: &[String], max: usize) -> String {
    let shown: Vec<&str> = names.iter().take(max).map(String::as_str).collect();
    if names.len() > max { format!("{}等{}人", shown.join("、"), names.len()) } else { shown.join("、") }
}

/// The customers a merge brings into a known group (`stored`: its members before, `written`: the member rows
/// written): current now, not current before, joined within the last hour. Staff joins are never welcomed.
pub fn fresh_customer_joins(stored: &[MemberRecord], written: &[MemberRecord], now: i64) -> Vec<NewJoin> {
    written
        .iter()
        .filter(|member| member.is_current() && member.member_type == GroupMemberType::Customer as i32)
        .filter(|member| member.joined_at >= now - FRESH_JOIN_MS)
        .filter(|member| !stored.iter().any(|before| before.userid == member.userid && before.is_current()))
        .map(|member| NewJoin {
            userid: member.userid.clone(),
            joined_at: member.joined_at,
            name: [&member.group_nickname, &member.name]
                .into_iter()
                .find(|name| !name.is_empty())
                .cloned()
                .unwrap_or_else(|| "新朋友".to_owned()),
            state: member.state.clone(),
        })
        .collect()
}

/// Whether `rule` applies to `target`.
pub fn covers(rule: &WelcomeRule, target: &JoinTarget) -> bool {
    let scope = rule.scope.clone().unwrap_or_default();
    match scope.kind() {
        WelcomeScopeKind::Default => true,
        WelcomeScopeKind::Groups => scope.chat_ids.contains(&target.chat_id),
        WelcomeScopeKind::GroupTags => scope.tag_ids.iter().any(|tag| target.tag_ids.contains(tag)),
        WelcomeScopeKind::Campaign => !target.state.is_empty() && scope.states.contains(&target.state),
        WelcomeScopeKind::Unspecified => false,
    }
}

/// How specific a scope kind is: the more specific wins.
fn specificity(rule: &WelcomeRule) -> u8 {
    match rule.scope.as_ref().map(|scope| scope.kind()) {
        Some(WelcomeScopeKind::Groups) => 4,
        Some(WelcomeScopeKind::GroupTags) => 3,
        Some(WelcomeScopeKind::Campaign) => 2,
        Some(WelcomeScopeKind::Default) => 1,
        _ => 0,
    }
}

/// The rule that welcomes `target` through `channel`: among enabled rules using the channel and covering the
/// target, the most specific scope, then the highest priority, then the newest.
pub fn pick_rule<'a>(
    rules: &'a [WelcomeRule],
    target: &JoinTarget,
    channel: WelcomeChannel,
) -> Option<&'a WelcomeRule> {
    rules
        .iter()
        .filter(|rule| rule.enabled && rule.channels.contains(&(channel as i32)) && covers(rule, target))
        .max_by_key(|rule| (specificity(rule), rule.priority, rule.id))
}

#[cfg(test)]
mod tests {
    use scrm_proto::group::v1::{LinkAttachment, WelcomeScope};

    use super::*;

    fn rule(id: i64, kind: WelcomeScopeKind, channels: &[WelcomeChannel]) -> WelcomeRule {
        WelcomeRule {
            id,
            name: format!("规则{id}"),
            scope: Some(WelcomeScope {
                kind: kind as i32,
                chat_ids: vec!["wr1".into()],
                tag_ids: vec![7],
                campaign_id: 0,
                states: vec!["spring".into()],
            }),
            content: Some(WelcomeContent { text: "欢迎 %NICKNAME%".into(), attachment: None }),
            channels: channels.iter().map(|channel| *channel as i32).collect(),
            enabled: true,
            ..WelcomeRule::default()
        }
    }

    #[test]
    fn the_most_specific_enabled_rule_with_the_channel_wins() {
        let robot = [WelcomeChannel::Robot];
        let rules = vec![
            rule(1, WelcomeScopeKind::Default, &robot),
            rule(2, WelcomeScopeKind::Campaign, &robot),
            rule(3, WelcomeScopeKind::GroupTags, &robot),
            rule(4, WelcomeScopeKind::Groups, &[WelcomeChannel::ContactWelcomeMsg]),
        ];
        let target = |chat_id: &str, tag_ids: Vec<i64>, state: &str| JoinTarget {
            chat_id: chat_id.into(),
            tag_ids,
            state: state.into(),
        };
        let pick = |target: JoinTarget| pick_rule(&rules, &target, WelcomeChannel::Robot).map(|rule| rule.id);
        assert_eq!(pick(target("wr1", vec![7], "spring")), Some(3), "the GROUPS rule lacks the robot channel");
        assert_eq!(pick(target("wr2", vec![], "spring")), Some(2));
        assert_eq!(pick(target("wr2", vec![], "")), Some(1));
        let mut disabled = rules.clone();
        disabled.iter_mut().for_each(|rule| rule.enabled = false);
        assert_eq!(pick_rule(&disabled, &target("wr1", vec![], ""), WelcomeChannel::Robot), None);
    }

    #[test]
    fn rules_are_checked_field_by_field() {
        let good = rule(1, WelcomeScopeKind::Default, &[WelcomeChannel::GroupTemplate]);
        assert_eq!(check_rule(&good), Ok(()));
        let mut template_owner = good.clone();
        template_owner.content.as_mut().unwrap().text = "%OWNER_NAME% 欢迎你".into();
        assert_eq!(check_rule(&template_owner).unwrap_err().0, "content.text");
        let mut robot_owner = template_owner.clone();
        robot_owner.channels = vec![WelcomeChannel::Robot as i32];
        assert_eq!(check_rule(&robot_owner), Ok(()));
        let mut unknown = robot_owner.clone();
        unknown.content.as_mut().unwrap().text = "%PHONE%".into();
        assert_eq!(check_rule(&unknown).unwrap_err().0, "content.text");
        let mut no_url = good.clone();
        no_url.content.as_mut().unwrap().attachment = Some(welcome_content::Attachment::Link(LinkAttachment {
            title: "活动".into(),
            ..LinkAttachment::default()
        }));
        assert_eq!(check_rule(&no_url).unwrap_err().0, "content.link");
        let mut no_groups = rule(1, WelcomeScopeKind::Groups, &[WelcomeChannel::Robot]);
        no_groups.scope.as_mut().unwrap().chat_ids.clear();
        assert_eq!(check_rule(&no_groups).unwrap_err().0, "scope.chat_ids");
        let mut no_channel = good;
        no_channel.channels.clear();
        assert_eq!(check_rule(&no_channel).unwrap_err().0, "channels");
    }

    #[test]
    fn texts_render_and_bursts_name_their_joiners() {
        assert_eq!(render("欢迎%NICKNAME%加入%GROUP_NAME%", "小王", "会员群", "店长"), "欢迎小王加入会员群");
        let names: Vec<String> = ["甲", "乙", "丙"].iter().map(|name| name.to_string()).collect();
        assert_eq!(combined_names(&names, 5), "甲、乙、丙");
        assert_eq!(combined_names(&names, 2), "甲、乙等3人");
    }

    #[test]
    fn only_fresh_customer_joins_are_queued() {
        let member = |userid: &str, member_type: GroupMemberType, joined_at: i64, left_at: Option<i64>| MemberRecord {
            userid: userid.into(),
            member_type: member_type as i32,
            name: format!("{userid}名"),
            group_nickname: String::new(),
            unionid: String::new(),
            joined_at,
            join_scene: 3,
            inviter_userid: String::new(),
            state: "spring".into(),
            left_at,
            quit_scene: 0,
        };
        let now = 10 * 3_600_000;
        let stored = [member("back", GroupMemberType::Customer, 0, Some(5))];
        let written = [
            member("new", GroupMemberType::Customer, now - 1000, None),
            member("back", GroupMemberType::Customer, now - 500, None),
            member("staff", GroupMemberType::Staff, now - 1000, None),
            member("stale", GroupMemberType::Customer, now - 2 * 3_600_000, None),
        ];
        let joins = fresh_customer_joins(&stored, &written, now);
        let names: Vec<_> = joins.iter().map(|join| (join.userid.as_str(), join.name.as_str())).collect();
        assert_eq!(names, [("new", "new名"), ("back", "back名")]);
        assert_eq!(joins[0].state, "spring");
    }

    #[test]
    fn settings_default_and_are_checked() {
        let defaults = Settings::from_proto(None);
        assert_eq!(defaults.burst_window_ms, 30_000);
        assert_eq!(defaults.per_minute, 20);
        assert!(defaults.contact_enabled);
        let mut too_fast = default_settings();
        too_fast.robot_messages_per_minute = 21;
        assert_eq!(check_settings(&too_fast).unwrap_err().0, "robot_messages_per_minute");
    }
}
