//! Pure rules of the campaign service: campaign validation, the lifecycle state machine, update masks,
//! WeCom `state` attribution and invitation outcomes. No I/O here; unit-tested below.

use prost_types::Timestamp;
use scrm_kernel::{ApiError, ErrorCode};
use scrm_proto::campaign::v1::campaign::Settings;
use scrm_proto::campaign::v1::{
    Campaign, CampaignKind, CampaignStage, EntryChannel, EntryChannelKind, InvitationStatus, KocKind, KocProfile,
    KocStatus, LifecycleState,
};

/// Longest campaign name, in characters.
pub const MAX_NAME_CHARS: usize = 64;
/// Longest description, note or share text, in characters.
pub const MAX_TEXT_CHARS: usize = 2000;
/// Longest WeCom id accepted (external_userid, userid, chat_id).
pub const MAX_ID_CHARS: usize = 64;
/// Longest URL accepted.
pub const MAX_URL_CHARS: usize = 1024;
/// WeCom's longest `state`.
pub const MAX_STATE_CHARS: usize = 30;
/// WeCom's most groups per join way.
pub const MAX_JOIN_WAY_CHATS: usize = 5;
/// WeCom's most members per contact way.
pub const MAX_CONTACT_WAY_USERS: usize = 100;
/// Most stages of a campaign.
pub const MAX_STAGES: usize = 20;
/// Most groups a KOC runs.
pub const MAX_KOC_CHATS: usize = 200;
/// Latest time accepted: 9999-12-31T23:59:59Z.
const MAX_TIMESTAMP_SECONDS: i64 = 253_402_300_799;
/// Fields UpdateCampaign may change while DRAFT.
const DRAFT_FIELDS: [&str; 13] = [
    "name",
    "description",
    "kind",
    "starts_at",
    "ends_at",
    "entry_channel",
    "stages",
    "poster",
    "max_depth",
    "invite_reward",
    "group_buy",
    "distribution",
    "store_id",
];
/// Fields UpdateCampaign may change once started.
const STARTED_FIELDS: [&str; 4] = ["name", "description", "poster", "ends_at"];

/// A lifecycle command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// StartCampaign: DRAFT or PAUSED to ACTIVE.
    Start,
    /// PauseCampaign: ACTIVE to PAUSED.
    Pause,
    /// EndCampaign (or ends_at passing): ACTIVE or PAUSED to ENDED.
    End,
}

/// The state `transition` leads to from `from`; FAILED_PRECONDITION when it is not allowed.
pub fn next_state(from: LifecycleState, transition: Transition) -> Result<LifecycleState, ApiError> {
    use LifecycleState::{Active, Draft, Ended, Paused};
    let to = match (transition, from) {
        (Transition::Start, Draft | Paused) => Active,
        (Transition::Pause, Active) => Paused,
        (Transition::End, Active | Paused) => Ended,
        _ => {
            return Err(ApiError::new(
                ErrorCode::FailedPrecondition,
                format!("cannot {transition:?} a campaign in state {}", from.as_str_name()).to_lowercase(),
            ));
        }
    };
    Ok(to)
}

/// The WeCom `state` prefix of campaign `id`'s codes, e.g. `f12-`.
pub fn state_prefix(id: i64) -> String {
    format!("f{id}-")
}

/// The WeCom `state` of a code of campaign `campaign_id`: participant `participant_id`'s personal code, or the
/// base code (the un-personalised poster) for participant 0.
pub fn personal_state(campaign_id: i64, participant_id: i64) -> String {
    format!("{}{participant_id}", state_prefix(campaign_id))
}

/// The campaign and participant a WeCom `state` made by [`personal_state`] names; `None` for any other state.
pub fn parse_state(state: &str) -> Option<(i64, i64)> {
    let rest = state.strip_prefix('f')?;
    let (campaign, participant) = rest.split_once('-')?;
    let number = |text: &str| {
        (!text.is_empty() && text.bytes().all(|byte| byte.is_ascii_digit())).then(|| text.parse::<i64>().ok())?
    };
    let campaign = number(campaign).filter(|id| *id > 0)?;
    Some((campaign, number(participant)?))
}

/// The landing page of campaign `id` under the deployment's public `base` URL; empty when `base` is unknown.
pub fn landing_url(base: &str, id: i64) -> String {
    let base = base.trim_end_matches('/');
    if base.is_empty() { String::new() } else { format!("{base}/campaign/{id}") }
}

/// A participant's personal link: the landing page carrying their `state`; empty without a landing page.
pub fn personal_link(landing: &str, state: &str) -> String {
    if landing.is_empty() { String::new() } else { format!("{landing}?state={state}") }
}

/// Checks a campaign as given to CreateCampaign or as an update leaves it; the error names the bad field.
pub fn check_campaign(campaign: &Campaign) -> Result<(), ApiError> {
    let name = campaign.name.trim();
    if name.is_empty() {
        return Err(ApiError::invalid("campaign.name", "活动名称不能为空"));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(ApiError::invalid("campaign.name", "活动名称最多 64 个字符"));
    }
    if campaign.description.chars().count() > MAX_TEXT_CHARS {
        return Err(ApiError::invalid("campaign.description", "活动说明最多 2000 个字符"));
    }
    let kind = CampaignKind::try_from(campaign.kind).unwrap_or(CampaignKind::Unspecified);
    if kind == CampaignKind::Unspecified {
        return Err(ApiError::invalid("campaign.kind", "请选择活动类型（邀请有礼、拼团或分销）"));
    }
    let starts = seconds("campaign.starts_at", campaign.starts_at.as_ref())?;
    let ends = seconds("campaign.ends_at", campaign.ends_at.as_ref())?;
    if ends <= starts {
        return Err(ApiError::invalid("campaign.ends_at", "结束时间必须晚于开始时间"));
    }
    if let Some(channel) = &campaign.entry_channel {
        check_channel(channel)?;
    }
    check_stages(&campaign.stages)?;
    if let Some(poster) = &campaign.poster {
        check_url("campaign.poster.background_url", &poster.background_url, false)?;
        if poster.share_text.chars().count() > MAX_TEXT_CHARS {
            return Err(ApiError::invalid("campaign.poster.share_text", "分享语最多 2000 个字符"));
        }
    }
    if campaign.max_depth < 0 {
        return Err(ApiError::invalid("campaign.max_depth", "最大层级不能为负数"));
    }
    if campaign.store_id < 0 {
        return Err(ApiError::invalid("campaign.store_id", "门店编号不能为负数"));
    }
    check_settings(kind, campaign.settings.as_ref())
}

fn check_channel(channel: &EntryChannel) -> Result<(), ApiError> {
    match EntryChannelKind::try_from(channel.kind).unwrap_or(EntryChannelKind::Unspecified) {
        EntryChannelKind::Unspecified => {
            Err(ApiError::invalid("campaign.entry_channel.kind", "请选择入口渠道（渠道活码或群活码）"))
        }
        EntryChannelKind::ContactWay => {
            if channel.userids.is_empty() || channel.userids.len() > MAX_CONTACT_WAY_USERS {
                return Err(ApiError::invalid("campaign.entry_channel.userids", "渠道活码需要 1 到 100 名员工"));
            }
            check_ids("campaign.entry_channel.userids", &channel.userids)
        }
        EntryChannelKind::JoinWay => {
            if channel.chat_ids.is_empty() || channel.chat_ids.len() > MAX_JOIN_WAY_CHATS {
                return Err(ApiError::invalid("campaign.entry_channel.chat_ids", "群活码需要 1 到 5 个群"));
            }
            check_ids("campaign.entry_channel.chat_ids", &channel.chat_ids)
        }
    }
}

fn check_ids(field: &str, ids: &[String]) -> Result<(), ApiError> {
    for (index, id) in ids.iter().enumerate() {
        if id.is_empty() || id.chars().count() > MAX_ID_CHARS || id.contains([',', ' ']) {
            return Err(ApiError::invalid(format!("{field}[{index}]"), "不是有效的企业微信 ID"));
        }
    }
    Ok(())
}

fn check_stages(stages: &[CampaignStage]) -> Result<(), ApiError> {
    if stages.len() > MAX_STAGES {
        return Err(ApiError::invalid("campaign.stages", "最多 20 个阶梯"));
    }
    let mut previous = 0;
    for (index, stage) in stages.iter().enumerate() {
        let field = |name: &str| format!("campaign.stages[{index}].{name}");
        if stage.threshold <= previous {
            return Err(ApiError::invalid(field("threshold"), "阶梯门槛必须为正数且逐级递增"));
        }
        previous = stage.threshold;
        if stage.reward_definition_id <= 0 {
            return Err(ApiError::invalid(field("reward_definition_id"), "每个阶梯都需要奖品"));
        }
        if stage.claim_limit < 0 {
            return Err(ApiError::invalid(field("claim_limit"), "名额不能为负数"));
        }
        if stage.name.chars().count() > MAX_NAME_CHARS {
            return Err(ApiError::invalid(field("name"), "阶梯名称最多 64 个字符"));
        }
    }
    Ok(())
}

fn check_settings(kind: CampaignKind, settings: Option<&Settings>) -> Result<(), ApiError> {
    let matches = match settings {
        None => true,
        Some(Settings::InviteReward(_)) => kind == CampaignKind::InviteReward,
        Some(Settings::GroupBuy(group_buy)) => {
            if group_buy.team_size < 2 {
                return Err(ApiError::invalid("campaign.group_buy.team_size", "成团人数至少 2 人"));
            }
            if group_buy.team_window.as_ref().is_none_or(|window| window.seconds <= 0) {
                return Err(ApiError::invalid("campaign.group_buy.team_window", "请设置成团时限"));
            }
            kind == CampaignKind::GroupBuy
        }
        Some(Settings::Distribution(distribution)) => {
            let bps = |value: i32| (0..=10_000).contains(&value);
            if !bps(distribution.direct_commission_bps) {
                return Err(ApiError::invalid(
                    "campaign.distribution.direct_commission_bps",
                    "佣金比例须在 0 到 10000 之间",
                ));
            }
            if !bps(distribution.indirect_commission_bps) {
                return Err(ApiError::invalid(
                    "campaign.distribution.indirect_commission_bps",
                    "佣金比例须在 0 到 10000 之间",
                ));
            }
            kind == CampaignKind::Distribution
        }
    };
    if matches { Ok(()) } else { Err(ApiError::invalid("campaign.settings", "活动规则与活动类型不符")) }
}

/// Checks what starting needs beyond [`check_campaign`]: an entry channel, stages (except for 分销), a poster
/// background and an end still ahead of `now_ms`.
pub fn check_startable(campaign: &Campaign, now_ms: i64) -> Result<(), ApiError> {
    let precondition =
        |field: &str, message: &str| ApiError::new(ErrorCode::FailedPrecondition, message).with_field(field);
    let channel = campaign
        .entry_channel
        .as_ref()
        .ok_or_else(|| precondition("campaign.entry_channel", "开始前请设置入口渠道"))?;
    check_channel(channel)?;
    if campaign.stages.is_empty() && campaign.kind != CampaignKind::Distribution as i32 {
        return Err(precondition("campaign.stages", "开始前请至少设置一个奖励阶梯"));
    }
    if campaign.poster.as_ref().is_none_or(|poster| poster.background_url.is_empty()) {
        return Err(precondition("campaign.poster.background_url", "开始前请上传海报背景图"));
    }
    let ends = campaign.ends_at.as_ref().map_or(0, |at| at.seconds.saturating_mul(1000));
    if ends <= now_ms {
        return Err(precondition("campaign.ends_at", "活动结束时间已过"));
    }
    Ok(())
}

fn seconds(field: &str, at: Option<&Timestamp>) -> Result<i64, ApiError> {
    let at = at.ok_or_else(|| ApiError::invalid(field, "请设置时间"))?;
    if !(0..=MAX_TIMESTAMP_SECONDS).contains(&at.seconds) || !(0..1_000_000_000).contains(&at.nanos) {
        return Err(ApiError::invalid(field, "时间超出范围"));
    }
    Ok(at.seconds)
}

/// Checks an http(s) URL; empty passes when `optional`.
pub fn check_url(field: &str, url: &str, optional: bool) -> Result<(), ApiError> {
    if url.is_empty() && optional {
        return Ok(());
    }
    if !(url.starts_with("https://") || url.starts_with("http://")) || url.chars().count() > MAX_URL_CHARS {
        return Err(ApiError::invalid(field, "请填写 http(s) 链接"));
    }
    Ok(())
}

/// The campaign as CreateCampaign stores it: server-set fields cleared, stage levels numbered, DRAFT.
pub fn new_campaign(mut campaign: Campaign, created_by: &str) -> Campaign {
    campaign.id = 0;
    campaign.state = LifecycleState::Draft as i32;
    campaign.name = campaign.name.trim().to_owned();
    campaign.created_by_userid = created_by.to_owned();
    campaign.created_at = None;
    campaign.updated_at = None;
    campaign.landing_url = String::new();
    if let Some(channel) = &mut campaign.entry_channel {
        clear_channel(channel);
    }
    number_stages(&mut campaign.stages);
    campaign
}

fn clear_channel(channel: &mut EntryChannel) {
    channel.state_prefix = String::new();
    channel.config_id = String::new();
    channel.qr_code_url = String::new();
    channel.join_way_id = 0;
}

fn number_stages(stages: &mut [CampaignStage]) {
    for (index, stage) in stages.iter_mut().enumerate() {
        stage.level = index as i32 + 1;
        stage.claimed_count = 0;
    }
}

/// Applies the fields of `patch` named in `paths` to `stored`, as UpdateCampaign does: every field while DRAFT,
/// only name, description, poster and ends_at once started, nothing once ENDED. The result still has to pass
/// [`check_campaign`].
pub fn apply_update(stored: &mut Campaign, patch: Campaign, paths: &[String]) -> Result<(), ApiError> {
    if paths.is_empty() {
        return Err(ApiError::invalid("update_mask", "update_mask is required"));
    }
    let state = LifecycleState::try_from(stored.state).unwrap_or(LifecycleState::Unspecified);
    if state == LifecycleState::Ended {
        return Err(ApiError::new(ErrorCode::FailedPrecondition, "已结束的活动不能修改"));
    }
    for path in paths {
        if !DRAFT_FIELDS.contains(&path.as_str()) {
            return Err(ApiError::invalid("update_mask", format!("{path} cannot be updated")));
        }
        if state != LifecycleState::Draft && !STARTED_FIELDS.contains(&path.as_str()) {
            return Err(ApiError::new(
                ErrorCode::FailedPrecondition,
                format!("活动开始后不能修改 {path}（只能修改名称、说明、海报和结束时间）"),
            )
            .with_field("update_mask"));
        }
    }
    let server_channel = stored.entry_channel.clone();
    for path in paths {
        match path.as_str() {
            "name" => stored.name = patch.name.trim().to_owned(),
            "description" => stored.description.clone_from(&patch.description),
            "kind" => stored.kind = patch.kind,
            "starts_at" => stored.starts_at = patch.starts_at,
            "ends_at" => stored.ends_at = patch.ends_at,
            "entry_channel" => {
                let mut channel = patch.entry_channel.clone();
                if let Some(channel) = &mut channel {
                    clear_channel(channel);
                }
                stored.entry_channel = channel;
            }
            "stages" => {
                stored.stages.clone_from(&patch.stages);
                number_stages(&mut stored.stages);
            }
            "poster" => stored.poster.clone_from(&patch.poster),
            "max_depth" => stored.max_depth = patch.max_depth,
            "invite_reward" | "group_buy" | "distribution" => stored.settings.clone_from(&patch.settings),
            "store_id" => stored.store_id = patch.store_id,
            _ => {}
        }
    }
    if stored.entry_channel.is_none() {
        stored.entry_channel = server_channel.filter(|channel| !channel.config_id.is_empty());
    }
    Ok(())
}

/// What the campaign and the invitee's history say about a new entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryFacts {
    /// The invitee already has a participant in this campaign.
    pub already_participant: bool,
    /// The inviter is the invitee.
    pub self_invite: bool,
    /// The inviter's depth (0 through the base channel).
    pub inviter_depth: i32,
    /// The campaign's max_depth (0 unlimited).
    pub max_depth: i32,
    /// The invitee was a customer before.
    pub existing_customer: bool,
    /// The campaign counts new customers only.
    pub new_customers_only: bool,
    /// The campaign has a min_stay.
    pub has_min_stay: bool,
}

/// Whether an entry counts, and why not.
pub fn invitation_status(facts: EntryFacts) -> InvitationStatus {
    if facts.self_invite {
        InvitationStatus::Self_
    } else if facts.already_participant {
        InvitationStatus::Duplicate
    } else if facts.max_depth > 0 && facts.inviter_depth >= facts.max_depth {
        InvitationStatus::TooDeep
    } else if facts.new_customers_only && facts.existing_customer {
        InvitationStatus::NotNew
    } else if facts.has_min_stay {
        InvitationStatus::Pending
    } else {
        InvitationStatus::Valid
    }
}

/// Whether an entry with `status` makes the invitee a participant (who can invite in turn).
pub fn creates_participant(status: InvitationStatus) -> bool {
    matches!(status, InvitationStatus::Valid | InvitationStatus::Pending | InvitationStatus::NotNew)
}

/// The highest stage level `valid` counted invitations reach.
pub fn reached_stage(stages: &[CampaignStage], valid: i32) -> i32 {
    stages.iter().filter(|stage| valid >= stage.threshold).map(|stage| stage.level).max().unwrap_or(0)
}

/// Checks a KOC profile given to CreateKocProfile; the error names the bad field.
pub fn check_new_koc(profile: &KocProfile) -> Result<(), ApiError> {
    match KocKind::try_from(profile.kind).unwrap_or(KocKind::Unspecified) {
        KocKind::Unspecified => return Err(ApiError::invalid("profile.kind", "请选择 KOC 类型（客户或员工）")),
        KocKind::Customer => {
            check_id("profile.external_userid", &profile.external_userid)?;
            if !profile.userid.is_empty() {
                return Err(ApiError::invalid("profile.userid", "客户 KOC 不能填写员工 userid"));
            }
        }
        KocKind::Staff => {
            check_id("profile.userid", &profile.userid)?;
            if !profile.external_userid.is_empty() {
                return Err(ApiError::invalid("profile.external_userid", "员工 KOC 不能填写 external_userid"));
            }
        }
    }
    check_koc_fields(profile)
}

/// Checks the editable fields of a KOC profile.
pub fn check_koc_fields(profile: &KocProfile) -> Result<(), ApiError> {
    if profile.name.chars().count() > MAX_NAME_CHARS {
        return Err(ApiError::invalid("profile.name", "名称最多 64 个字符"));
    }
    check_url("profile.avatar_url", &profile.avatar_url, true)?;
    if profile.chat_ids.len() > MAX_KOC_CHATS {
        return Err(ApiError::invalid("profile.chat_ids", "最多 200 个群"));
    }
    check_ids("profile.chat_ids", &profile.chat_ids)?;
    if profile.store_id < 0 {
        return Err(ApiError::invalid("profile.store_id", "门店编号不能为负数"));
    }
    if profile.koc_system_id.chars().count() > MAX_ID_CHARS {
        return Err(ApiError::invalid("profile.koc_system_id", "最多 64 个字符"));
    }
    if profile.note.chars().count() > MAX_TEXT_CHARS {
        return Err(ApiError::invalid("profile.note", "备注最多 2000 个字符"));
    }
    Ok(())
}

/// Checks a WeCom id (external_userid, userid): 1–64 ASCII letters, digits, `_`, `-`, `.` or `@`.
pub fn check_id(field: &str, id: &str) -> Result<(), ApiError> {
    if id.is_empty() {
        return Err(ApiError::invalid(field, format!("{field} is required")));
    }
    if id.len() > MAX_ID_CHARS || !id.chars().all(|c| c.is_ascii_alphanumeric() || "_-.@".contains(c)) {
        return Err(ApiError::invalid(field, format!("{field} is not a WeCom id")));
    }
    Ok(())
}

/// Applies the fields of `patch` named in `paths` to `stored` (UpdateKocProfile).
pub fn apply_koc_update(stored: &mut KocProfile, patch: KocProfile, paths: &[String]) -> Result<(), ApiError> {
    if paths.is_empty() {
        return Err(ApiError::invalid("update_mask", "update_mask is required"));
    }
    for path in paths {
        match path.as_str() {
            "name" => stored.name = patch.name.trim().to_owned(),
            "chat_ids" => stored.chat_ids.clone_from(&patch.chat_ids),
            "status" => {
                let status = KocStatus::try_from(patch.status).unwrap_or(KocStatus::Unspecified);
                if status == KocStatus::Unspecified {
                    return Err(ApiError::invalid("profile.status", "status must be ACTIVE or INACTIVE"));
                }
                stored.status = status as i32;
            }
            "store_id" => stored.store_id = patch.store_id,
            "koc_system_id" => stored.koc_system_id.clone_from(&patch.koc_system_id),
            "note" => stored.note.clone_from(&patch.note),
            other => return Err(ApiError::invalid("update_mask", format!("{other} cannot be updated"))),
        }
    }
    check_koc_fields(stored)
}

/// The unique key of a KOC's person: `c:<external_userid>` or `s:<userid>`.
pub fn koc_person(profile: &KocProfile) -> String {
    if profile.kind == KocKind::Staff as i32 {
        format!("s:{}", profile.userid)
    } else {
        format!("c:{}", profile.external_userid)
    }
}

#[cfg(test)]
mod tests {
    use scrm_proto::campaign::v1::{DistributionSettings, GroupBuySettings, PosterTemplate};

    use super::*;

    fn at(seconds: i64) -> Option<Timestamp> {
        Some(Timestamp { seconds, nanos: 0 })
    }

    fn stage(threshold: i32) -> CampaignStage {
        CampaignStage { threshold, reward_definition_id: 9, ..CampaignStage::default() }
    }

    fn campaign() -> Campaign {
        Campaign {
            name: "邀请好友得盲盒".into(),
            kind: CampaignKind::InviteReward as i32,
            starts_at: at(1_800_000_000),
            ends_at: at(1_900_000_000),
            entry_channel: Some(EntryChannel {
                kind: EntryChannelKind::ContactWay as i32,
                userids: vec!["zhangsan".into()],
                ..EntryChannel::default()
            }),
            stages: vec![stage(3), stage(10)],
            poster: Some(PosterTemplate {
                background_url: "https://cdn.example.com/bg.png".into(),
                ..Default::default()
            }),
            ..Campaign::default()
        }
    }

    fn field(result: Result<(), ApiError>) -> String {
        result.unwrap_err().field.unwrap_or_default()
    }

    #[test]
    fn a_campaign_names_its_bad_field() {
        assert!(check_campaign(&campaign()).is_ok());
        assert_eq!(field(check_campaign(&Campaign { name: " ".into(), ..campaign() })), "campaign.name");
        assert_eq!(field(check_campaign(&Campaign { name: "长".repeat(65), ..campaign() })), "campaign.name");
        assert_eq!(field(check_campaign(&Campaign { kind: 0, ..campaign() })), "campaign.kind");
        assert_eq!(field(check_campaign(&Campaign { starts_at: None, ..campaign() })), "campaign.starts_at");
        assert_eq!(field(check_campaign(&Campaign { ends_at: at(1_700_000_000), ..campaign() })), "campaign.ends_at");
        let decreasing = Campaign { stages: vec![stage(5), stage(5)], ..campaign() };
        assert_eq!(field(check_campaign(&decreasing)), "campaign.stages[1].threshold");
        let unrewarded = Campaign { stages: vec![CampaignStage { threshold: 1, ..Default::default() }], ..campaign() };
        assert_eq!(field(check_campaign(&unrewarded)), "campaign.stages[0].reward_definition_id");
        let no_users = Campaign {
            entry_channel: Some(EntryChannel { kind: EntryChannelKind::ContactWay as i32, ..Default::default() }),
            ..campaign()
        };
        assert_eq!(field(check_campaign(&no_users)), "campaign.entry_channel.userids");
        let six_groups = Campaign {
            entry_channel: Some(EntryChannel {
                kind: EntryChannelKind::JoinWay as i32,
                chat_ids: (0..6).map(|index| format!("wr{index}")).collect(),
                ..Default::default()
            }),
            ..campaign()
        };
        assert_eq!(field(check_campaign(&six_groups)), "campaign.entry_channel.chat_ids");
        let mismatched = Campaign { settings: Some(Settings::GroupBuy(GroupBuySettings::default())), ..campaign() };
        assert_eq!(field(check_campaign(&mismatched)), "campaign.group_buy.team_size");
        let wrong_kind = Campaign {
            settings: Some(Settings::Distribution(DistributionSettings {
                direct_commission_bps: 500,
                ..Default::default()
            })),
            ..campaign()
        };
        assert_eq!(field(check_campaign(&wrong_kind)), "campaign.settings");
        let bad_poster = Campaign {
            poster: Some(PosterTemplate { background_url: "ftp://x".into(), ..Default::default() }),
            ..campaign()
        };
        assert_eq!(field(check_campaign(&bad_poster)), "campaign.poster.background_url");
    }

    #[test]
    fn the_lifecycle_moves_only_forward_or_between_active_and_paused() {
        use LifecycleState::{Active, Draft, Ended, Paused};
        assert_eq!(next_state(Draft, Transition::Start).unwrap(), Active);
        assert_eq!(next_state(Paused, Transition::Start).unwrap(), Active);
        assert_eq!(next_state(Active, Transition::Pause).unwrap(), Paused);
        assert_eq!(next_state(Active, Transition::End).unwrap(), Ended);
        assert_eq!(next_state(Paused, Transition::End).unwrap(), Ended);
        for (from, transition) in [
            (Active, Transition::Start),
            (Ended, Transition::Start),
            (Draft, Transition::Pause),
            (Paused, Transition::Pause),
            (Draft, Transition::End),
            (Ended, Transition::End),
        ] {
            let error = next_state(from, transition).unwrap_err();
            assert_eq!(error.code, ErrorCode::FailedPrecondition, "{from:?} {transition:?}");
        }
    }

    #[test]
    fn starting_needs_a_channel_stages_a_poster_and_time_left() {
        let now = 1_850_000_000_000;
        assert!(check_startable(&campaign(), now).is_ok());
        assert_eq!(
            field(check_startable(&Campaign { entry_channel: None, ..campaign() }, now)),
            "campaign.entry_channel"
        );
        assert_eq!(field(check_startable(&Campaign { stages: vec![], ..campaign() }, now)), "campaign.stages");
        let distribution = Campaign { kind: CampaignKind::Distribution as i32, stages: vec![], ..campaign() };
        assert!(check_startable(&distribution, now).is_ok(), "分销 stages are optional");
        assert_eq!(
            field(check_startable(&Campaign { poster: None, ..campaign() }, now)),
            "campaign.poster.background_url"
        );
        assert_eq!(field(check_startable(&campaign(), 1_950_000_000_000)), "campaign.ends_at");
    }

    #[test]
    fn states_round_trip_and_others_are_not_ours() {
        assert_eq!(state_prefix(12), "f12-");
        assert_eq!(personal_state(12, 345), "f12-345");
        assert_eq!(parse_state("f12-345"), Some((12, 345)));
        assert_eq!(parse_state("f12-0"), Some((12, 0)));
        for other in ["", "f-1", "f0-1", "f12-", "f12-x", "jw1700000000", "g12-3", "f1 2-3", "f12-+3"] {
            assert_eq!(parse_state(other), None, "{other}");
        }
        assert!(personal_state(i64::MAX, i64::MAX).len() > MAX_STATE_CHARS, "ids this large never occur");
        assert!(personal_state(999_999_999, 9_999_999_999).len() <= MAX_STATE_CHARS);
        assert_eq!(landing_url("https://scrm.example.com/", 7), "https://scrm.example.com/campaign/7");
        assert_eq!(landing_url("", 7), "");
        assert_eq!(personal_link("https://s/campaign/7", "f7-3"), "https://s/campaign/7?state=f7-3");
        assert_eq!(personal_link("", "f7-3"), "");
    }

    #[test]
    fn updates_follow_the_lifecycle() {
        let paths = |names: &[&str]| names.iter().map(|name| name.to_string()).collect::<Vec<_>>();
        let mut draft = new_campaign(campaign(), "yunying");
        let patch = Campaign { name: "新名字".into(), kind: CampaignKind::GroupBuy as i32, ..Campaign::default() };
        apply_update(&mut draft, patch.clone(), &paths(&["name", "kind"])).unwrap();
        assert_eq!((draft.name.as_str(), draft.kind), ("新名字", CampaignKind::GroupBuy as i32));
        assert_eq!(apply_update(&mut draft, patch.clone(), &[]).unwrap_err().field.as_deref(), Some("update_mask"));
        assert_eq!(
            apply_update(&mut draft, patch.clone(), &paths(&["state"])).unwrap_err().code,
            ErrorCode::InvalidArgument
        );

        let mut active = Campaign { state: LifecycleState::Active as i32, ..new_campaign(campaign(), "yunying") };
        apply_update(&mut active, patch.clone(), &paths(&["name"])).unwrap();
        let error = apply_update(&mut active, patch.clone(), &paths(&["kind"])).unwrap_err();
        assert_eq!(error.code, ErrorCode::FailedPrecondition);
        let mut ended = Campaign { state: LifecycleState::Ended as i32, ..campaign() };
        assert_eq!(apply_update(&mut ended, patch, &paths(&["name"])).unwrap_err().code, ErrorCode::FailedPrecondition);
    }

    #[test]
    fn new_campaigns_are_drafts_with_numbered_stages() {
        let mut given = campaign();
        given.id = 99;
        given.state = LifecycleState::Active as i32;
        given.stages[1].claimed_count = 40;
        given.entry_channel.as_mut().unwrap().config_id = "forged".into();
        let stored = new_campaign(given, "yunying");
        assert_eq!((stored.id, stored.state), (0, LifecycleState::Draft as i32));
        assert_eq!(
            stored.stages.iter().map(|stage| (stage.level, stage.claimed_count)).collect::<Vec<_>>(),
            [(1, 0), (2, 0)]
        );
        assert_eq!(stored.entry_channel.unwrap().config_id, "");
        assert_eq!(stored.created_by_userid, "yunying");
    }

    #[test]
    fn invitations_count_only_when_they_should() {
        let valid = EntryFacts {
            already_participant: false,
            self_invite: false,
            inviter_depth: 1,
            max_depth: 0,
            existing_customer: false,
            new_customers_only: true,
            has_min_stay: false,
        };
        assert_eq!(invitation_status(valid), InvitationStatus::Valid);
        assert_eq!(invitation_status(EntryFacts { self_invite: true, ..valid }), InvitationStatus::Self_);
        assert_eq!(invitation_status(EntryFacts { already_participant: true, ..valid }), InvitationStatus::Duplicate);
        assert_eq!(invitation_status(EntryFacts { max_depth: 1, ..valid }), InvitationStatus::TooDeep);
        assert_eq!(invitation_status(EntryFacts { max_depth: 2, ..valid }), InvitationStatus::Valid);
        assert_eq!(invitation_status(EntryFacts { existing_customer: true, ..valid }), InvitationStatus::NotNew);
        let old_friends_welcome = EntryFacts { existing_customer: true, new_customers_only: false, ..valid };
        assert_eq!(invitation_status(old_friends_welcome), InvitationStatus::Valid);
        assert_eq!(invitation_status(EntryFacts { has_min_stay: true, ..valid }), InvitationStatus::Pending);
        assert!(creates_participant(InvitationStatus::NotNew));
        assert!(!creates_participant(InvitationStatus::Duplicate));
    }

    #[test]
    fn stages_are_reached_by_threshold() {
        let mut stages = vec![stage(3), stage(10)];
        number_stages(&mut stages);
        assert_eq!(reached_stage(&stages, 0), 0);
        assert_eq!(reached_stage(&stages, 3), 1);
        assert_eq!(reached_stage(&stages, 12), 2);
    }

    #[test]
    fn koc_profiles_name_their_bad_field() {
        let customer =
            KocProfile { kind: KocKind::Customer as i32, external_userid: "wmA".into(), ..Default::default() };
        assert!(check_new_koc(&customer).is_ok());
        assert_eq!(koc_person(&customer), "c:wmA");
        let field = |profile: KocProfile| check_new_koc(&profile).unwrap_err().field.unwrap_or_default();
        assert_eq!(field(KocProfile { kind: 0, ..customer.clone() }), "profile.kind");
        assert_eq!(field(KocProfile { external_userid: String::new(), ..customer.clone() }), "profile.external_userid");
        assert_eq!(field(KocProfile { userid: "zhang".into(), ..customer.clone() }), "profile.userid");
        assert_eq!(field(KocProfile { chat_ids: vec!["".into()], ..customer.clone() }), "profile.chat_ids[0]");
        let staff = KocProfile { kind: KocKind::Staff as i32, userid: "zhangsan".into(), ..Default::default() };
        assert_eq!(koc_person(&staff), "s:zhangsan");
        let mut stored = customer.clone();
        let patch = KocProfile { note: "很活跃".into(), status: KocStatus::Inactive as i32, ..Default::default() };
        apply_koc_update(&mut stored, patch.clone(), &["note".into(), "status".into()]).unwrap();
        assert_eq!((stored.note.as_str(), stored.status), ("很活跃", KocStatus::Inactive as i32));
        assert!(apply_koc_update(&mut stored, patch, &["kind".into()]).is_err());
    }
}
