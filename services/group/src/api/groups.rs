//! ListGroups and GetGroup (PR04): request checks, the caller's scope, and store rows to protobuf.

use prost::Message;
use scrm_kernel::paging::page_size;
use scrm_kernel::{ApiError, Caller, ErrorCode, Role};
use scrm_proto::group::v1::get_group_request::Key;
use scrm_proto::group::v1::{
    ActivityBand, GetGroupRequest, GetGroupResponse, Group, GroupActivitySummary, GroupMember, GroupTagRef,
    ListGroupsRequest, ListGroupsResponse, ListMemberGroupsRequest, ListMemberGroupsResponse, MemberGroup,
    WelcomeCoverage,
};

use super::welcome::GroupCoverage;
use super::{GroupApi, check_id, timestamp};
use crate::error::GroupError;
use crate::listing::{Cursor, GroupFilter, Sort, fingerprint, store_number};
use crate::store::list::{GroupKey, ListedGroup, MemberView, TagRef};

/// Most entries in one of ListGroups' list filters.
const MAX_FILTER_VALUES: usize = 1000;
/// Longest name query, in characters.
const MAX_NAME_QUERY_CHARS: usize = 100;
/// Most groups ListMemberGroups returns.
const MAX_MEMBER_GROUPS: u32 = 100;
/// `GroupChatStatus::Dismissed`.
const STATUS_DISMISSED: i32 = 5;

impl GroupApi {
    /// Serves ListGroups for `caller`.
    pub(super) async fn list_groups_for(
        &self,
        caller: &Caller,
        request: ListGroupsRequest,
    ) -> Result<ListGroupsResponse, GroupError> {
        let limit = page_size(request.page_size)?;
        let sort = Sort::from_proto(request.sort_by, request.sort_direction)
            .map_err(|field| ApiError::invalid(field, format!("{field} holds an unknown value")))?;
        let filter = list_filter(caller, &request)?;
        let fingerprint = fingerprint(
            &ListGroupsRequest { page_size: 0, page_token: String::new(), ..request.clone() }.encode_to_vec(),
        );
        let after = match request.page_token.as_str() {
            "" => None,
            token => {
                Some(Cursor::decode(token).filter(|cursor| cursor.fingerprint == fingerprint).ok_or_else(|| {
                    ApiError::invalid("page_token", "page_token is not one this server issued for these filters")
                })?)
            }
        };
        let mut filter = filter;
        if !request.welcome_coverages.is_empty() {
            filter.coverage_ids = Some(self.groups_with_coverage(&request.welcome_coverages).await?);
        }
        let mut rows = self.store.list_groups(&filter, sort, after.as_ref(), limit + 1).await?;
        let next_page_token = if rows.len() > limit as usize {
            rows.truncate(limit as usize);
            rows.last()
                .map(|last| Cursor { fingerprint, value: last.sort_value(sort.key), id: last.id }.encode())
                .unwrap_or_default()
        } else {
            String::new()
        };
        let total_size = self.store.count_matching(&filter).await?;
        let mut tags = self.store.tags_of(&rows.iter().map(|row| row.id).collect::<Vec<_>>()).await?;
        let mut coverage = self.coverage_of(&rows, &tags).await?;
        let groups = rows
            .into_iter()
            .map(|row| {
                let tags = tags.remove(&row.id).unwrap_or_default();
                let coverage = coverage.remove(&row.id).unwrap_or_default();
                group_proto(row, tags, coverage, self.store.speakers_approximate())
            })
            .collect();
        Ok(ListGroupsResponse { groups, next_page_token, total_size })
    }

    /// Serves ListMemberGroups for `caller`.
    pub(super) async fn member_groups_for(
        &self,
        caller: &Caller,
        request: ListMemberGroupsRequest,
    ) -> Result<ListMemberGroupsResponse, GroupError> {
        check_id("userid", &request.userid).map_err(ApiError::from)?;
        let rows = self.store.groups_of_member(&request.userid, &caller.store_scope(), MAX_MEMBER_GROUPS).await?;
        let groups = rows
            .into_iter()
            .map(|row| MemberGroup {
                chat_id: row.chat_id,
                id: row.id,
                name: row.name,
                joined_at: Some(timestamp(row.joined_at)),
            })
            .collect();
        Ok(ListMemberGroupsResponse { groups })
    }

    /// Serves GetGroup for `caller`.
    pub(super) async fn get_group_for(
        &self,
        caller: &Caller,
        request: GetGroupRequest,
    ) -> Result<GetGroupResponse, GroupError> {
        let key = match request.key {
            Some(Key::ChatId(chat_id)) if !chat_id.is_empty() => GroupKey::ChatId(chat_id),
            Some(Key::Id(id)) if id > 0 => GroupKey::Id(id),
            _ => return Err(ApiError::invalid("key", "chat_id or a positive id is required").into()),
        };
        let filter = GroupFilter::all(caller.store_scope());
        let not_found = || ApiError::new(ErrorCode::NotFound, "the group is unknown or outside your scope");
        let row = self.store.find_group(&key, &filter).await?.ok_or_else(not_found)?;
        if caller.role == Role::Koc && row.owner_userid != caller.staff_id {
            return Err(not_found().into());
        }
        let members = self.store.members_of(&row.chat_id, request.include_left_members).await?;
        let first_day = crate::activity::day_of(self.clock.now_millis()) - 29;
        let messages_30d = self.store.member_messages_since(&row.chat_id, first_day).await?;
        let open_alerts =
            self.store.open_alerts_of(&row.chat_id).await?.into_iter().map(super::alerts::alert_proto).collect();
        let mut tags = self.store.tags_of(&[row.id]).await?;
        let coverage = self.coverage_of(std::slice::from_ref(&row), &tags).await?.remove(&row.id).unwrap_or_default();
        let tags = tags.remove(&row.id).unwrap_or_default();
        let admin_userids: Vec<String> =
            row.admin_userids.split(',').filter(|id| !id.is_empty()).map(str::to_owned).collect();
        let owner = row.owner_userid.clone();
        let welcomed = self.store.welcomed_members(&row.chat_id).await?;
        let members = members
            .into_iter()
            .map(|member| {
                let messages = messages_30d.get(&member.member.userid).copied().unwrap_or(0);
                let welcomed = welcomed.contains(&member.member.userid);
                member_proto(member, &owner, &admin_userids, messages, welcomed)
            })
            .collect();
        Ok(GetGroupResponse {
            member_version: row.member_version.clone(),
            dismissed_at: row.dismissed_at.map(timestamp),
            welcome_rule_id: coverage.rule_id,
            open_alerts,
            admin_userids,
            members,
            group: Some(group_proto(row, tags, coverage, self.store.speakers_approximate())),
        })
    }
}

fn check_filter_len(field: &str, len: usize) -> Result<(), ApiError> {
    if len > MAX_FILTER_VALUES {
        return Err(ApiError::invalid(field, format!("{field} holds more than {MAX_FILTER_VALUES} values")));
    }
    Ok(())
}

/// The filter a ListGroups request asks for, within the caller's scope.
pub(super) fn list_filter(caller: &Caller, request: &ListGroupsRequest) -> Result<GroupFilter, ApiError> {
    check_filter_len("owner_userids", request.owner_userids.len())?;
    check_filter_len("store_ids", request.store_ids.len())?;
    check_filter_len("tag_ids", request.tag_ids.len())?;
    check_filter_len("chat_ids", request.chat_ids.len())?;
    check_filter_len("ids", request.ids.len())?;
    if request.name_query.chars().count() > MAX_NAME_QUERY_CHARS {
        return Err(ApiError::invalid("name_query", format!("longer than {MAX_NAME_QUERY_CHARS} characters")));
    }
    if let Some(band) = request.activity_bands.iter().find(|band| !(1..=5).contains(*band)) {
        return Err(ApiError::invalid("activity_bands", format!("unknown activity band {band}")));
    }
    if let Some(state) = request.alert_states.iter().find(|state| !(1..=3).contains(*state)) {
        return Err(ApiError::invalid("alert_states", format!("unknown alert state {state}")));
    }
    if let Some(coverage) = request.welcome_coverages.iter().find(|coverage| !(1..=4).contains(*coverage)) {
        return Err(ApiError::invalid("welcome_coverages", format!("unknown welcome coverage {coverage}")));
    }
    let mut tag_ids = request.tag_ids.clone();
    tag_ids.sort_unstable();
    tag_ids.dedup();
    let mut filter = GroupFilter {
        owners: request.owner_userids.clone(),
        store_ids: request.store_ids.iter().map(i64::to_string).collect(),
        tag_ids,
        match_all_tags: request.match_all_tags,
        activity_bands: request.activity_bands.clone(),
        alert_states: request.alert_states.clone(),
        name_query: request.name_query.trim().to_owned(),
        chat_ids: request.chat_ids.clone(),
        ids: request.ids.clone(),
        include_dismissed: request.include_dismissed,
        ..GroupFilter::all(caller.store_scope())
    };
    if caller.role == Role::Koc {
        // A KOC sees the groups they own.
        if !filter.owners.is_empty() && !filter.owners.contains(&caller.staff_id) {
            filter.matches_nothing = true;
        }
        filter.owners = vec![caller.staff_id.clone()];
    }
    Ok(filter)
}

/// A listed group as protobuf, with its welcome `coverage`; `speakers_approximate` when its speaker figures are
/// estimates.
pub(super) fn group_proto(
    row: ListedGroup,
    tags: Vec<TagRef>,
    coverage: GroupCoverage,
    speakers_approximate: bool,
) -> Group {
    let welcome_coverage =
        if coverage.coverage == 0 { WelcomeCoverage::NotApplicable as i32 } else { coverage.coverage };
    let open_alert_kinds = row.open_alert_kinds();
    Group {
        id: row.id,
        store_id: store_number(row.store_id.as_deref()),
        store_name: String::new(),
        owner_name: String::new(),
        member_count: row.member_count,
        customer_count: row.customer_count,
        staff_count: row.staff_count,
        created_at: Some(timestamp(row.created_at)),
        tags: tags.into_iter().map(|tag| GroupTagRef { id: tag.id, name: tag.name, category: tag.category }).collect(),
        activity: Some(GroupActivitySummary {
            speakers_1d: row.speakers_1d,
            speakers_7d: row.speakers_7d,
            speakers_30d: row.speakers_30d,
            messages_1d: row.messages_1d,
            messages_7d: row.messages_7d,
            messages_30d: row.messages_30d,
            lurker_ratio_bps: row.lurker_ratio_bps,
            last_message_at: row.last_message_at.map(timestamp),
            band: if ActivityBand::try_from(row.activity_band).is_ok() { row.activity_band } else { 0 },
            speakers_approximate,
        }),
        alert_state: row.alert_state,
        open_alert_kinds,
        carries_current_welcome_template: welcome_coverage == WelcomeCoverage::Current as i32,
        welcome_coverage,
        welcome_rule_id: coverage.rule_id,
        welcome_rule_name: coverage.rule_name,
        welcome_template_id: coverage.template_id,
        carried_welcome_template_id: coverage.carried_template_id,
        status: if row.dismissed_at.is_some() { STATUS_DISMISSED } else { row.status },
        notice: row.notice.unwrap_or_default(),
        updated_at: Some(timestamp(row.updated_at)),
        chat_id: row.chat_id,
        name: row.name,
        owner: row.owner_userid,
    }
}

fn member_proto(view: MemberView, owner: &str, admins: &[String], messages_30d: i64, welcomed: bool) -> GroupMember {
    let member = view.member;
    GroupMember {
        is_admin: admins.contains(&member.userid),
        is_owner: member.userid == owner,
        r#type: member.member_type,
        name: member.name,
        group_nickname: member.group_nickname,
        unionid: member.unionid,
        joined_at: Some(timestamp(member.joined_at)),
        join_scene: member.join_scene,
        inviter_userid: member.inviter_userid,
        state: member.state,
        left_at: member.left_at.map(timestamp),
        quit_scene: member.quit_scene,
        last_message_at: view.last_message_at.map(timestamp),
        messages_30d,
        welcomed,
        userid: member.userid,
    }
}
