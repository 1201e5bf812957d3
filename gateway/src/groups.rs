//! The group list on REST (PR04): `GET /api/social/groups` and `GET /api/social/groups/{id}`, camelCase JSON over
//! `GroupService.ListGroups` and `GetGroup`.
//!
//! List filters are query parameters; lists are comma-separated: `owners`, `storeIds`, `tagIds`
//! (`matchAllTags=true` to require all), `activityBands` (new, dead, low, medium, high), `alertStates` (clear,
//! acknowledged, alerting), `welcomeCoverages` (current, outdated, missing, not_applicable; `outdated,missing`
//! lists the groups lacking their current welcome template), `chatIds`, `ids`, `q` (name contains),
//! `includeDismissed`, `sortBy` (name, owner,
//! store, memberCount, customerCount, staffCount, createdAt, speakers1d, speakers7d, speakers30d, messages1d,
//! messages7d, messages30d, lurkerRatio, lastMessageAt, alertState, tagCount), `sortDirection` (asc, desc),
//! `pageSize`, `pageToken`.

use std::collections::HashMap;
use std::str::FromStr;

use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Extension, Json, Router};
use scrm_kernel::{ApiError, Caller, Clients};
use scrm_proto::group::v1::get_group_request::Key;
use scrm_proto::group::v1::{
    ActivityBand, AlertKind, GetGroupRequest, Group, GroupAlertState, GroupMember, GroupMemberType, GroupSortField,
    JoinScene, ListGroupsRequest, SortDirection, WelcomeCoverage,
};
use serde::Serialize;

use crate::rest::RestError;

/// The `/social/groups` routes, nested under `/api`.
pub fn router() -> Router<Clients> {
    Router::new().route("/social/groups", get(list_groups)).route("/social/groups/{id}", get(get_group))
}

/// One group on the list.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct GroupBody {
    /// scrm's id (the PRD's `groupIds`).
    id: i64,
    /// WeCom chat_id.
    chat_id: String,
    /// Group name.
    name: String,
    /// Owner's WeCom userid.
    owner: String,
    /// Owner's display name; empty until identity serves staff names.
    owner_name: String,
    /// Store id; 0 when none.
    store_id: i64,
    /// Store name; empty when none.
    store_name: String,
    /// Current members.
    member_count: i32,
    /// Current customers.
    customer_count: i32,
    /// Current staff.
    staff_count: i32,
    /// Creation in WeCom, RFC 3339.
    created_at: Option<String>,
    /// Group tags.
    tags: Vec<TagBody>,
    /// Activity figures.
    activity: ActivityBody,
    /// clear, acknowledged or alerting.
    alert_state: &'static str,
    /// Kinds of open alerts: dead_group, activity_drop, member_loss, spam_burst.
    open_alert_kinds: Vec<&'static str>,
    /// 群公告.
    notice: String,
    /// Whether the group is dismissed.
    dismissed: bool,
    /// The group's welcome template (入群欢迎语模板) against the rule that applies to it.
    welcome: WelcomeBody,
}

/// Whether a group carries the current welcome template.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct WelcomeBody {
    /// current, outdated, missing or not_applicable (no group-template rule applies).
    coverage: &'static str,
    /// True when coverage is current.
    carries_current_template: bool,
    /// The applying group-template rule's id; 0 when none.
    rule_id: i64,
    /// Its name.
    rule_name: String,
    /// Its current WeCom template_id; empty when none yet.
    template_id: String,
    /// The template_id the group carries; empty when none.
    carried_template_id: String,
}

/// A tag on a group.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct TagBody {
    /// Tag id.
    id: i64,
    /// Tag name.
    name: String,
    /// Tag category.
    category: String,
}

/// A group's activity.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ActivityBody {
    /// Speakers today.
    speakers1d: i64,
    /// Speakers in 7 days.
    speakers7d: i64,
    /// Speakers in 30 days.
    speakers30d: i64,
    /// Messages today.
    messages1d: i64,
    /// Messages in 7 days.
    messages7d: i64,
    /// Messages in 30 days.
    messages30d: i64,
    /// 潜水率 in basis points (10000 = 100%).
    lurker_ratio_bps: i32,
    /// Last message, RFC 3339.
    last_message_at: Option<String>,
    /// new, dead, low, medium, high; empty when not computed yet.
    band: &'static str,
}

/// A page of the list.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ListBody {
    /// The groups.
    groups: Vec<GroupBody>,
    /// Cursor of the next page; empty on the last.
    next_page_token: String,
    /// Groups matching the filters.
    total_size: i64,
}

/// A member on the detail.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct MemberBody {
    /// WeCom userid or external_userid.
    userid: String,
    /// staff or customer.
    r#type: &'static str,
    /// Name.
    name: String,
    /// Nickname in the group.
    group_nickname: String,
    /// Join time, RFC 3339.
    joined_at: Option<String>,
    /// direct_invite, invite_link, qr_code; empty when unknown.
    join_scene: &'static str,
    /// Inviter's userid.
    inviter_userid: String,
    /// The join way's state.
    state: String,
    /// Group admin.
    is_admin: bool,
    /// Group owner.
    is_owner: bool,
    /// Leave time, RFC 3339; absent for current members.
    left_at: Option<String>,
    /// Last message, RFC 3339.
    last_message_at: Option<String>,
    /// Messages in 30 days.
    messages30d: i64,
}

/// A group's detail.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct DetailBody {
    /// The group as listed.
    group: GroupBody,
    /// Members, current first.
    members: Vec<MemberBody>,
    /// Admins' userids.
    admin_userids: Vec<String>,
}

async fn list_groups(
    State(clients): State<Clients>,
    Extension(caller): Extension<Caller>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<ListBody>, RestError> {
    let request = list_request(&params)?;
    let response = clients.group.clone().list_groups(caller.outgoing(request)?).await?.into_inner();
    Ok(Json(ListBody {
        groups: response.groups.into_iter().map(group_body).collect(),
        next_page_token: response.next_page_token,
        total_size: response.total_size,
    }))
}

async fn get_group(
    State(clients): State<Clients>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<DetailBody>, RestError> {
    let key = match id.parse::<i64>() {
        Ok(id) => Key::Id(id),
        Err(_) => Key::ChatId(id),
    };
    let include_left_members = flag(&params, "includeLeftMembers")?;
    let request = GetGroupRequest { key: Some(key), include_left_members };
    let response = clients.group.clone().get_group(caller.outgoing(request)?).await?.into_inner();
    let group = response.group.unwrap_or_default();
    Ok(Json(DetailBody {
        group: group_body(group),
        members: response.members.into_iter().map(member_body).collect(),
        admin_userids: response.admin_userids,
    }))
}

fn list_request(params: &HashMap<String, String>) -> Result<ListGroupsRequest, ApiError> {
    Ok(ListGroupsRequest {
        page_size: number(params, "pageSize")?.unwrap_or(0),
        page_token: params.get("pageToken").cloned().unwrap_or_default(),
        owner_userids: list(params, "owners", |value| Some(value.to_owned()))?,
        store_ids: list(params, "storeIds", |value| value.parse().ok())?,
        tag_ids: list(params, "tagIds", |value| value.parse().ok())?,
        match_all_tags: flag(params, "matchAllTags")?,
        activity_bands: list(params, "activityBands", |value| {
            ActivityBand::from_str_name(&format!("ACTIVITY_BAND_{}", value.to_uppercase())).map(|band| band as i32)
        })?,
        alert_states: list(params, "alertStates", |value| {
            GroupAlertState::from_str_name(&format!("GROUP_ALERT_STATE_{}", value.to_uppercase()))
                .map(|state| state as i32)
        })?,
        name_query: params.get("q").cloned().unwrap_or_default(),
        chat_ids: list(params, "chatIds", |value| Some(value.to_owned()))?,
        ids: list(params, "ids", |value| value.parse().ok())?,
        welcome_coverages: list(params, "welcomeCoverages", |value| {
            WelcomeCoverage::from_str_name(&format!("WELCOME_COVERAGE_{}", value.to_uppercase()))
                .filter(|coverage| *coverage != WelcomeCoverage::Unspecified)
                .map(|coverage| coverage as i32)
        })?,
        include_dismissed: flag(params, "includeDismissed")?,
        sort_by: match params.get("sortBy").map(String::as_str) {
            None | Some("") => 0,
            Some(name) => {
                sort_field(name).ok_or_else(|| ApiError::invalid("sortBy", format!("unknown column {name}")))? as i32
            }
        },
        sort_direction: match params.get("sortDirection").map(String::as_str) {
            None | Some("") => 0,
            Some("asc") => SortDirection::Asc as i32,
            Some("desc") => SortDirection::Desc as i32,
            Some(other) => return Err(ApiError::invalid("sortDirection", format!("{other} is not asc or desc"))),
        },
    })
}

fn sort_field(name: &str) -> Option<GroupSortField> {
    Some(match name {
        "name" => GroupSortField::Name,
        "owner" => GroupSortField::Owner,
        "store" => GroupSortField::Store,
        "memberCount" => GroupSortField::MemberCount,
        "customerCount" => GroupSortField::CustomerCount,
        "staffCount" => GroupSortField::StaffCount,
        "createdAt" => GroupSortField::CreateTime,
        "speakers1d" => GroupSortField::Speakers1d,
        "speakers7d" => GroupSortField::Speakers7d,
        "speakers30d" => GroupSortField::Speakers30d,
        "messages1d" => GroupSortField::Messages1d,
        "messages7d" => GroupSortField::Messages7d,
        "messages30d" => GroupSortField::Messages30d,
        "lurkerRatio" => GroupSortField::LurkerRatio,
        "lastMessageAt" => GroupSortField::LastMessageTime,
        "alertState" => GroupSortField::AlertState,
        "tagCount" => GroupSortField::TagCount,
        _ => return None,
    })
}

fn number<T: FromStr>(params: &HashMap<String, String>, name: &str) -> Result<Option<T>, ApiError> {
    match params.get(name).map(String::as_str) {
        None | Some("") => Ok(None),
        Some(value) => value.parse().map(Some).map_err(|_| ApiError::invalid(name, format!("{value} is not a number"))),
    }
}

fn flag(params: &HashMap<String, String>, name: &str) -> Result<bool, ApiError> {
    match params.get(name).map(String::as_str) {
        None | Some("") | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(ApiError::invalid(name, format!("{other} is not true or false"))),
    }
}

fn list<T>(
    params: &HashMap<String, String>,
    name: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Vec<T>, ApiError> {
    let Some(value) = params.get(name) else { return Ok(Vec::new()) };
    value
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| parse(item).ok_or_else(|| ApiError::invalid(name, format!("{item} is not a valid value"))))
        .collect()
}

/// The REST name of an `ActivityBand`.
fn band_name(band: i32) -> &'static str {
    match ActivityBand::try_from(band) {
        Ok(ActivityBand::New) => "new",
        Ok(ActivityBand::Dead) => "dead",
        Ok(ActivityBand::Low) => "low",
        Ok(ActivityBand::Medium) => "medium",
        Ok(ActivityBand::High) => "high",
        _ => "",
    }
}

/// The REST name of a `GroupAlertState`.
fn alert_state_name(state: i32) -> &'static str {
    match GroupAlertState::try_from(state) {
        Ok(GroupAlertState::Clear) => "clear",
        Ok(GroupAlertState::Acknowledged) => "acknowledged",
        Ok(GroupAlertState::Alerting) => "alerting",
        _ => "",
    }
}

/// The REST name of an `AlertKind`.
fn alert_kind_name(kind: i32) -> &'static str {
    match AlertKind::try_from(kind) {
        Ok(AlertKind::DeadGroup) => "dead_group",
        Ok(AlertKind::ActivityDrop) => "activity_drop",
        Ok(AlertKind::MemberLoss) => "member_loss",
        Ok(AlertKind::SpamBurst) => "spam_burst",
        _ => "",
    }
}

/// The REST name of a `GroupMemberType`.
fn member_type_name(kind: i32) -> &'static str {
    match GroupMemberType::try_from(kind) {
        Ok(GroupMemberType::Staff) => "staff",
        Ok(GroupMemberType::Customer) => "customer",
        _ => "",
    }
}

/// The REST name of a `JoinScene`.
fn join_scene_name(scene: i32) -> &'static str {
    match JoinScene::try_from(scene) {
        Ok(JoinScene::DirectInvite) => "direct_invite",
        Ok(JoinScene::InviteLink) => "invite_link",
        Ok(JoinScene::QrCode) => "qr_code",
        _ => "",
    }
}

fn time(value: Option<prost_types::Timestamp>) -> Option<String> {
    value.map(|time| time.to_string())
}

fn group_body(group: Group) -> GroupBody {
    let activity = group.activity.unwrap_or_default();
    GroupBody {
        alert_state: alert_state_name(group.alert_state),
        open_alert_kinds: group.open_alert_kinds.iter().map(|kind| alert_kind_name(*kind)).collect(),
        dismissed: group.status == 5,
        id: group.id,
        chat_id: group.chat_id,
        name: group.name,
        owner: group.owner,
        owner_name: group.owner_name,
        store_id: group.store_id,
        store_name: group.store_name,
        member_count: group.member_count,
        customer_count: group.customer_count,
        staff_count: group.staff_count,
        created_at: time(group.created_at),
        tags: group
            .tags
            .into_iter()
            .map(|tag| TagBody { id: tag.id, name: tag.name, category: tag.category })
            .collect(),
        activity: ActivityBody {
            speakers1d: activity.speakers_1d,
            speakers7d: activity.speakers_7d,
            speakers30d: activity.speakers_30d,
            messages1d: activity.messages_1d,
            messages7d: activity.messages_7d,
            messages30d: activity.messages_30d,
            lurker_ratio_bps: activity.lurker_ratio_bps,
            last_message_at: time(activity.last_message_at),
            band: band_name(activity.band),
        },
        notice: group.notice,
        welcome: WelcomeBody {
            coverage: coverage_name(group.welcome_coverage),
            carries_current_template: group.carries_current_welcome_template,
            rule_id: group.welcome_rule_id,
            rule_name: group.welcome_rule_name,
            template_id: group.welcome_template_id,
            carried_template_id: group.carried_welcome_template_id,
        },
    }
}

/// The REST name of a `WelcomeCoverage`.
fn coverage_name(coverage: i32) -> &'static str {
    match WelcomeCoverage::try_from(coverage) {
        Ok(WelcomeCoverage::Current) => "current",
        Ok(WelcomeCoverage::Outdated) => "outdated",
        Ok(WelcomeCoverage::Missing) => "missing",
        Ok(WelcomeCoverage::NotApplicable) => "not_applicable",
        _ => "",
    }
}

fn member_body(member: GroupMember) -> MemberBody {
    MemberBody {
        r#type: member_type_name(member.r#type),
        join_scene: join_scene_name(member.join_scene),
        userid: member.userid,
        name: member.name,
        group_nickname: member.group_nickname,
        joined_at: time(member.joined_at),
        inviter_userid: member.inviter_userid,
        state: member.state,
        is_admin: member.is_admin,
        is_owner: member.is_owner,
        left_at: time(member.left_at),
        last_message_at: time(member.last_message_at),
        messages30d: member.messages_30d,
    }
}
