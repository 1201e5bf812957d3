//! Welcome rules and settings (PR05): CreateWelcomeRule … DeleteWelcomeRule, GetWelcomeSettings,
//! UpdateWelcomeSettings, GetWelcomeCoverage and RecordWelcomeTemplateApplied.

use std::collections::HashMap;

use scrm_kernel::paging::{BeforeId, page_size};
use scrm_kernel::{ApiError, Caller, ErrorCode, Role};
use scrm_proto::group::v1::{
    CreateWelcomeRuleRequest, CreateWelcomeRuleResponse, DeleteWelcomeRuleRequest, DeleteWelcomeRuleResponse,
    GetWelcomeCoverageRequest, GetWelcomeCoverageResponse, GetWelcomeRuleRequest, GetWelcomeRuleResponse,
    GetWelcomeSettingsResponse, ListWelcomeRulesRequest, ListWelcomeRulesResponse, RecordWelcomeTemplateAppliedRequest,
    RecordWelcomeTemplateAppliedResponse, TemplateSyncState, UpdateWelcomeRuleRequest, UpdateWelcomeRuleResponse,
    UpdateWelcomeSettingsRequest, UpdateWelcomeSettingsResponse, WelcomeChannel, WelcomeCoverage, WelcomeCoverageEntry,
    WelcomeRule, WelcomeTemplateSync,
};

use super::mask::Mask;
use super::{GroupApi, now_millis, timestamp};
use crate::error::GroupError;
use crate::store::list::{ListedGroup, TagRef};
use crate::store::welcome::CoverageGroup;
use crate::welcome::{JoinTarget, check_rule, check_settings, default_settings, pick_rule};

/// Roles that manage welcome rules and settings.
const WELCOME_ROLES: [Role; 2] = [Role::Admin, Role::Operator];
/// Most chat_ids in one RecordWelcomeTemplateApplied.
const MAX_RECORDED: usize = 500;

fn not_found(id: i64) -> ApiError {
    ApiError::new(ErrorCode::NotFound, format!("welcome rule {id} does not exist"))
}

fn checked(rule: &WelcomeRule) -> Result<(), ApiError> {
    check_rule(rule).map_err(|(field, message)| ApiError::invalid(format!("rule.{field}"), message))
}

/// The template-sync record a rule gets for `revision`: pending when it uses the group-template channel.
fn pending_template(rule: &WelcomeRule, previous: Option<WelcomeTemplateSync>) -> Option<WelcomeTemplateSync> {
    if !rule.channels.contains(&(WelcomeChannel::GroupTemplate as i32)) {
        return None;
    }
    let notify = rule.template.as_ref().is_some_and(|template| template.notify);
    let mut template = previous.unwrap_or_default();
    if template.synced_revision < rule.revision {
        template.sync_state = TemplateSyncState::Pending as i32;
    }
    template.notify = notify;
    Some(template)
}

/// A listed group's welcome-template coverage, with the rule and templates behind it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct GroupCoverage {
    /// `WelcomeCoverage`.
    pub coverage: i32,
    /// The group-template rule that applies; 0 when none.
    pub rule_id: i64,
    /// Its name.
    pub rule_name: String,
    /// Its current WeCom template_id; empty when none yet.
    pub template_id: String,
    /// The template the group is recorded as carrying; empty when none.
    pub carried_template_id: String,
}

impl GroupApi {
    /// Ids of the live groups whose welcome coverage is one of `wanted` (`WelcomeCoverage` values).
    pub(super) async fn groups_with_coverage(&self, wanted: &[i32]) -> Result<Vec<i64>, GroupError> {
        let rules = self.store.welcome_rules().await?;
        let (groups, tags) = self.coverage_inputs(&[]).await?;
        Ok(groups
            .iter()
            .filter(|group| wanted.contains(&coverage_entry(&rules, group, &tags).coverage))
            .map(|group| group.id)
            .collect())
    }

    /// The welcome coverage of each of `rows` with its `tags`, by group id; dismissed groups have none
    /// (NOT_APPLICABLE).
    pub(super) async fn coverage_of(
        &self,
        rows: &[ListedGroup],
        tags: &HashMap<i64, Vec<TagRef>>,
    ) -> Result<HashMap<i64, GroupCoverage>, GroupError> {
        let live: Vec<&ListedGroup> = rows.iter().filter(|row| row.dismissed_at.is_none()).collect();
        if live.is_empty() {
            return Ok(HashMap::new());
        }
        let rules = self.store.welcome_rules().await?;
        let chat_ids: Vec<String> = live.iter().map(|row| row.chat_id.clone()).collect();
        let mut carried = self.store.carried_of(&chat_ids).await?;
        let index = TagIndex(
            tags.iter().map(|(id, tags)| (*id, tags.iter().map(|tag| tag.id).collect())).collect::<HashMap<_, _>>(),
        );
        let mut coverage = HashMap::new();
        for row in live {
            let (template_id, revision) = carried.remove(&row.chat_id).unwrap_or_default();
            let group = CoverageGroup {
                id: row.id,
                chat_id: row.chat_id.clone(),
                name: row.name.clone(),
                owner_userid: row.owner_userid.clone(),
                template_id,
                revision,
            };
            let entry = coverage_entry(&rules, &group, &index);
            let rule = rules.iter().find(|rule| rule.id == entry.rule_id && entry.rule_id != 0);
            coverage.insert(
                row.id,
                GroupCoverage {
                    coverage: entry.coverage,
                    rule_id: entry.rule_id,
                    rule_name: rule.map(|rule| rule.name.clone()).unwrap_or_default(),
                    template_id: rule
                        .and_then(|rule| rule.template.as_ref())
                        .map(|template| template.template_id.clone())
                        .unwrap_or_default(),
                    carried_template_id: entry.carried_template_id,
                },
            );
        }
        Ok(coverage)
    }

    /// The rule with its counts.
    async fn counted(
        &self,
        mut rule: WelcomeRule,
        groups: &[CoverageGroup],
        tags: &TagIndex,
    ) -> Result<WelcomeRule, GroupError> {
        rule.group_count =
            groups.iter().filter(|group| crate::welcome::covers(&rule, &tags.target(group))).count() as i64;
        rule.welcomed_count = self.store.welcomed_count(rule.id).await?;
        Ok(rule)
    }

    async fn coverage_inputs(&self, owners: &[String]) -> Result<(Vec<CoverageGroup>, TagIndex), GroupError> {
        let groups = self.store.coverage_groups(owners).await?;
        let mut tags: HashMap<i64, Vec<i64>> = HashMap::new();
        for (group_id, tag_id) in self.store.all_group_tags().await? {
            tags.entry(group_id).or_default().push(tag_id);
        }
        Ok((groups, TagIndex(tags)))
    }

    async fn one_counted(&self, rule: WelcomeRule) -> Result<WelcomeRule, GroupError> {
        let (groups, tags) = self.coverage_inputs(&[]).await?;
        self.counted(rule, &groups, &tags).await
    }

    /// Serves CreateWelcomeRule.
    pub(super) async fn create_welcome_rule_for(
        &self,
        caller: &Caller,
        request: CreateWelcomeRuleRequest,
    ) -> Result<CreateWelcomeRuleResponse, GroupError> {
        caller.require_any(&WELCOME_ROLES)?;
        let mut rule = request.rule.ok_or_else(|| ApiError::invalid("rule", "rule is required"))?;
        checked(&rule)?;
        let now = now_millis();
        rule.id = 0;
        rule.name = rule.name.trim().to_owned();
        rule.revision = 1;
        rule.template = pending_template(&rule, None);
        rule.group_count = 0;
        rule.welcomed_count = 0;
        rule.created_at = Some(timestamp(now));
        rule.updated_at = Some(timestamp(now));
        rule.id = self.store.insert_welcome_rule(&rule, now).await?;
        self.welcome_wake.notify_one();
        Ok(CreateWelcomeRuleResponse { rule: Some(self.one_counted(rule).await?) })
    }

    /// Serves GetWelcomeRule.
    pub(super) async fn get_welcome_rule_for(
        &self,
        request: GetWelcomeRuleRequest,
    ) -> Result<GetWelcomeRuleResponse, GroupError> {
        let rule = self.store.welcome_rule(request.id).await?.ok_or_else(|| not_found(request.id))?;
        Ok(GetWelcomeRuleResponse { rule: Some(self.one_counted(rule).await?) })
    }

    /// Serves ListWelcomeRules: newest first.
    pub(super) async fn list_welcome_rules_for(
        &self,
        request: ListWelcomeRulesRequest,
    ) -> Result<ListWelcomeRulesResponse, GroupError> {
        let size = page_size(request.page_size)?;
        let before = BeforeId::parse(&request.page_token)?;
        let (groups, tags) = self.coverage_inputs(&[]).await?;
        let group = groups.iter().find(|group| group.chat_id == request.chat_id);
        let mut page = Vec::new();
        for rule in self.store.welcome_rules().await? {
            let wanted = before.is_none_or(|before| rule.id < before.0)
                && (request.include_disabled || rule.enabled)
                && (request.scope_kind == 0
                    || rule.scope.as_ref().is_some_and(|scope| scope.kind == request.scope_kind))
                && (request.chat_id.is_empty()
                    || group.is_some_and(|group| crate::welcome::covers(&rule, &tags.target(group))));
            if wanted {
                page.push(self.counted(rule, &groups, &tags).await?);
                if page.len() == size as usize {
                    break;
                }
            }
        }
        let next_page_token = BeforeId::next_token(page.last().map(|rule| rule.id), page.len(), size);
        Ok(ListWelcomeRulesResponse { rules: page, next_page_token })
    }

    /// Serves UpdateWelcomeRule: a change of content or channels bumps the revision and re-syncs the template.
    pub(super) async fn update_welcome_rule_for(
        &self,
        caller: &Caller,
        request: UpdateWelcomeRuleRequest,
    ) -> Result<UpdateWelcomeRuleResponse, GroupError> {
        caller.require_any(&WELCOME_ROLES)?;
        let change = request.rule.ok_or_else(|| ApiError::invalid("rule", "rule is required"))?;
        let stored = self.store.welcome_rule(change.id).await?.ok_or_else(|| not_found(change.id))?;
        let mask = Mask::parse(
            request.update_mask,
            &["name", "scope", "content", "channels", "enabled", "priority", "template.notify"],
        )?;
        let wants = |field: &str| mask.wants(field);
        let mut rule = stored.clone();
        if wants("name") {
            rule.name = change.name.trim().to_owned();
        }
        if wants("scope") {
            rule.scope = change.scope;
        }
        if wants("content") {
            rule.content = change.content;
        }
        if wants("channels") {
            rule.channels = change.channels;
        }
        if wants("enabled") {
            rule.enabled = change.enabled;
        }
        if wants("priority") {
            rule.priority = change.priority;
        }
        if wants("template.notify") {
            rule.template = Some(WelcomeTemplateSync {
                notify: change.template.is_some_and(|template| template.notify),
                ..rule.template.unwrap_or_default()
            });
        }
        checked(&rule)?;
        if rule.content != stored.content || rule.channels != stored.channels {
            rule.revision = stored.revision + 1;
        }
        rule.template = pending_template(&rule, rule.template.clone());
        let now = now_millis();
        rule.updated_at = Some(timestamp(now));
        if !self.store.update_welcome_rule(&rule, now).await? {
            return Err(not_found(rule.id).into());
        }
        self.welcome_wake.notify_one();
        Ok(UpdateWelcomeRuleResponse { rule: Some(self.one_counted(rule).await?) })
    }

    /// Serves DeleteWelcomeRule; its WeCom template is deleted too.
    pub(super) async fn delete_welcome_rule_for(
        &self,
        caller: &Caller,
        request: DeleteWelcomeRuleRequest,
    ) -> Result<DeleteWelcomeRuleResponse, GroupError> {
        caller.require_any(&WELCOME_ROLES)?;
        let rule = self.store.welcome_rule(request.id).await?.ok_or_else(|| not_found(request.id))?;
        let template_id = rule.template.map(|template| template.template_id).unwrap_or_default();
        if let (false, Some(wecom)) = (template_id.is_empty(), &self.wecom)
            && let Err(error) = wecom.group_welcome_template_del(&template_id, None).await
        {
            tracing::warn!(%error, template_id, "could not delete the WeCom welcome template of a deleted rule");
        }
        self.store.delete_welcome_rule(request.id).await?;
        Ok(DeleteWelcomeRuleResponse {})
    }

    /// Serves GetWelcomeSettings.
    pub(super) async fn welcome_settings_for(&self) -> Result<GetWelcomeSettingsResponse, GroupError> {
        let settings = self.store.welcome_settings().await?.unwrap_or_else(default_settings);
        Ok(GetWelcomeSettingsResponse { settings: Some(settings) })
    }

    /// Serves UpdateWelcomeSettings.
    pub(super) async fn update_welcome_settings_for(
        &self,
        caller: &Caller,
        request: UpdateWelcomeSettingsRequest,
    ) -> Result<UpdateWelcomeSettingsResponse, GroupError> {
        caller.require_any(&WELCOME_ROLES)?;
        let change = request.settings.ok_or_else(|| ApiError::invalid("settings", "settings is required"))?;
        let mask = Mask::parse(
            request.update_mask,
            &["robot_burst_window", "robot_max_names", "robot_messages_per_minute", "contact_welcome_enabled"],
        )?;
        let wants = |field: &str| mask.wants(field);
        let mut settings = self.store.welcome_settings().await?.unwrap_or_else(default_settings);
        if wants("robot_burst_window") {
            settings.robot_burst_window = Some(change.robot_burst_window.unwrap_or_default());
        }
        if wants("robot_max_names") {
            settings.robot_max_names = change.robot_max_names;
        }
        if wants("robot_messages_per_minute") {
            settings.robot_messages_per_minute = change.robot_messages_per_minute;
        }
        if wants("contact_welcome_enabled") {
            settings.contact_welcome_enabled = change.contact_welcome_enabled;
        }
        check_settings(&settings)
            .map_err(|(field, message)| ApiError::invalid(format!("settings.{field}"), message))?;
        let now = now_millis();
        settings.updated_at = Some(timestamp(now));
        self.store.put_welcome_settings(&settings, now).await?;
        Ok(UpdateWelcomeSettingsResponse { settings: Some(settings) })
    }

    /// Serves GetWelcomeCoverage: which groups carry the current template of the group-template rule that
    /// applies to them.
    pub(super) async fn welcome_coverage_for(
        &self,
        request: GetWelcomeCoverageRequest,
    ) -> Result<GetWelcomeCoverageResponse, GroupError> {
        let size = page_size(request.page_size)? as usize;
        let offset: usize = match request.page_token.strip_prefix("offset:") {
            Some(offset) => {
                offset.parse().map_err(|_| ApiError::invalid("page_token", "not a token of this server"))?
            }
            None if request.page_token.is_empty() => 0,
            None => return Err(ApiError::invalid("page_token", "not a token of this server").into()),
        };
        let wanted: Vec<WelcomeCoverage> = if request.coverages.is_empty() {
            vec![WelcomeCoverage::Missing, WelcomeCoverage::Outdated]
        } else {
            request.coverages.iter().map(|coverage| WelcomeCoverage::try_from(*coverage).unwrap_or_default()).collect()
        };
        let rules = self.store.welcome_rules().await?;
        let (groups, tags) = self.coverage_inputs(&request.owner_userids).await?;
        let mut response = GetWelcomeCoverageResponse::default();
        let mut matching = Vec::new();
        for group in &groups {
            let entry = coverage_entry(&rules, group, &tags);
            if request.rule_id != 0 && entry.rule_id != request.rule_id {
                continue;
            }
            match entry.coverage() {
                WelcomeCoverage::Current => response.current_groups += 1,
                WelcomeCoverage::Outdated => response.outdated_groups += 1,
                WelcomeCoverage::Missing => response.missing_groups += 1,
                _ => {}
            }
            if wanted.contains(&entry.coverage()) {
                matching.push(entry);
            }
        }
        response.applicable_groups = response.current_groups + response.outdated_groups + response.missing_groups;
        response.coverage_bps = coverage_bps(response.current_groups, response.applicable_groups);
        if matching.len() > offset + size {
            response.next_page_token = format!("offset:{}", offset + size);
        }
        response.entries = matching.into_iter().skip(offset).take(size).collect();
        Ok(response)
    }

    /// Serves RecordWelcomeTemplateApplied.
    pub(super) async fn record_template_applied_for(
        &self,
        caller: &Caller,
        request: RecordWelcomeTemplateAppliedRequest,
    ) -> Result<RecordWelcomeTemplateAppliedResponse, GroupError> {
        caller.require_any(&WELCOME_ROLES)?;
        if request.chat_ids.is_empty() || request.chat_ids.len() > MAX_RECORDED {
            return Err(ApiError::invalid("chat_ids", format!("1 to {MAX_RECORDED} chat_ids are required")).into());
        }
        let revision = if request.template_id.is_empty() {
            0
        } else {
            self.store
                .welcome_rules()
                .await?
                .into_iter()
                .filter_map(|rule| rule.template)
                .find(|template| template.template_id == request.template_id)
                .map_or(0, |template| template.synced_revision)
        };
        let (updated, unknown_chat_ids) =
            self.store.record_carried(&request.chat_ids, &request.template_id, revision, now_millis()).await?;
        Ok(RecordWelcomeTemplateAppliedResponse { updated, unknown_chat_ids })
    }
}

/// Group tags by scrm group id.
struct TagIndex(HashMap<i64, Vec<i64>>);

impl TagIndex {
    fn target(&self, group: &CoverageGroup) -> JoinTarget {
        JoinTarget {
            chat_id: group.chat_id.clone(),
            tag_ids: self.0.get(&group.id).cloned().unwrap_or_default(),
            state: String::new(),
        }
    }
}

fn coverage_entry(rules: &[WelcomeRule], group: &CoverageGroup, tags: &TagIndex) -> WelcomeCoverageEntry {
    let rule = pick_rule(rules, &tags.target(group), WelcomeChannel::GroupTemplate);
    let template = rule.and_then(|rule| rule.template.clone()).unwrap_or_default();
    let coverage = match rule {
        None => WelcomeCoverage::NotApplicable,
        Some(_) if group.template_id.is_empty() => WelcomeCoverage::Missing,
        Some(rule) if group.template_id == template.template_id && group.revision >= rule.revision => {
            WelcomeCoverage::Current
        }
        Some(_) => WelcomeCoverage::Outdated,
    };
    WelcomeCoverageEntry {
        chat_id: group.chat_id.clone(),
        name: group.name.clone(),
        owner: group.owner_userid.clone(),
        owner_name: String::new(),
        coverage: coverage as i32,
        rule_id: rule.map_or(0, |rule| rule.id),
        carried_template_id: group.template_id.clone(),
        carried_revision: group.revision,
        current_revision: rule.map_or(0, |rule| rule.revision),
    }
}

fn coverage_bps(current: i64, applicable: i64) -> i32 {
    if applicable == 0 { 10_000 } else { i32::try_from(current * 10_000 / applicable).unwrap_or(10_000) }
}
