//! Alert rules and alerts (PR07): ListAlertRules, UpdateAlertRule, ListAlerts, GetAlert, AcknowledgeAlert.

use scrm_kernel::paging::{BeforeId, page_size};
use scrm_kernel::{ApiError, Caller, ErrorCode, Role};
use scrm_proto::group::v1::{
    AcknowledgeAlertRequest, AcknowledgeAlertResponse, Alert, GetAlertRequest, GetAlertResponse,
    ListAlertRulesResponse, ListAlertsRequest, ListAlertsResponse, UpdateAlertRuleRequest, UpdateAlertRuleResponse,
};

use super::mask::Mask;
use super::{GroupApi, millis, timestamp};
use crate::alerts::check_params;
use crate::error::GroupError;
use crate::store::alerts::{AlertFilter, AlertRow, RESOLVED};

/// Longest acknowledgement note, in characters.
const MAX_NOTE_CHARS: usize = 500;
/// Fields UpdateAlertRule may change.
const RULE_FIELDS: [&str; 6] = ["name", "enabled", "params", "tag_ids", "notify_owner", "notify_userids"];

impl GroupApi {
    /// Serves ListAlertRules.
    pub(super) async fn alert_rules_for(&self) -> Result<ListAlertRulesResponse, GroupError> {
        Ok(ListAlertRulesResponse { rules: self.store.alert_rules(self.clock.now_millis()).await? })
    }

    /// Serves UpdateAlertRule.
    pub(super) async fn update_rule_for(
        &self,
        request: UpdateAlertRuleRequest,
    ) -> Result<UpdateAlertRuleResponse, GroupError> {
        let wanted = request.rule.ok_or_else(|| ApiError::invalid("rule", "rule is required"))?;
        let now = self.clock.now_millis();
        let rules = self.store.alert_rules(now).await?;
        let mut rule = rules
            .into_iter()
            .find(|rule| rule.id == wanted.id)
            .ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("alert rule {} does not exist", wanted.id)))?;
        if wanted.kind != 0 && wanted.kind != rule.kind {
            return Err(ApiError::invalid("rule.kind", "a rule's kind cannot change").into());
        }
        let mask = Mask::parse(request.update_mask, &RULE_FIELDS)?;
        let wants = |field: &str| mask.wants(field);
        if wants("name") {
            let name = wanted.name.trim();
            if name.is_empty() || name.chars().count() > 30 {
                return Err(ApiError::invalid("rule.name", "name must be 1 to 30 characters").into());
            }
            rule.name = name.to_owned();
        }
        if wants("enabled") {
            rule.enabled = wanted.enabled;
        }
        if wants("params") {
            let params = wanted.params.ok_or_else(|| ApiError::invalid("rule.params", "params are required"))?;
            if std::mem::discriminant(&params) != std::mem::discriminant(rule.params.as_ref().unwrap_or(&params)) {
                return Err(ApiError::invalid("rule.params", "params must match the rule's kind").into());
            }
            check_params(&params).map_err(|(field, message)| ApiError::invalid(field, message))?;
            rule.params = Some(params);
        }
        if wants("tag_ids") {
            let unknown = self.store.unknown_tags(&wanted.tag_ids).await?;
            if let Some(id) = unknown.first() {
                return Err(ApiError::invalid("rule.tag_ids", format!("group tag {id} does not exist")).into());
            }
            rule.tag_ids = wanted.tag_ids;
        }
        if wants("notify_owner") {
            rule.notify_owner = wanted.notify_owner;
        }
        if wants("notify_userids") {
            rule.notify_userids = wanted.notify_userids;
        }
        self.store.save_alert_rule(&rule, now).await?;
        rule.updated_at = Some(timestamp(now));
        Ok(UpdateAlertRuleResponse { rule: Some(rule) })
    }

    /// Serves ListAlerts.
    pub(super) async fn list_alerts_for(
        &self,
        caller: &Caller,
        request: ListAlertsRequest,
    ) -> Result<ListAlertsResponse, GroupError> {
        let limit = page_size(request.page_size)?;
        let before = BeforeId::parse(&request.page_token)?;
        let mut owners = request.owner_userids;
        if caller.role == Role::Koc {
            owners = vec![caller.staff_id.clone()];
        }
        let filter = AlertFilter {
            states: request.states,
            kinds: request.kinds,
            chat_id: request.chat_id,
            owners,
            store_ids: request.store_ids,
            unacknowledged_only: request.unacknowledged_only,
            raised_after: millis("raised_after", request.raised_after.as_ref()).map_err(ApiError::from)?,
            raised_before: millis("raised_before", request.raised_before.as_ref()).map_err(ApiError::from)?,
        };
        let alerts =
            self.store.list_alerts(&filter, &caller.store_scope(), before.map(|before| before.0), limit).await?;
        let next_page_token = BeforeId::next_token(alerts.last().map(|alert| alert.id), alerts.len(), limit);
        Ok(ListAlertsResponse { alerts: alerts.into_iter().map(alert_proto).collect(), next_page_token })
    }

    /// Serves GetAlert.
    pub(super) async fn get_alert_for(
        &self,
        caller: &Caller,
        request: GetAlertRequest,
    ) -> Result<GetAlertResponse, GroupError> {
        let alert = self.visible_alert(caller, request.id).await?;
        Ok(GetAlertResponse { alert: Some(alert_proto(alert)) })
    }

    /// Serves AcknowledgeAlert.
    pub(super) async fn acknowledge_for(
        &self,
        caller: &Caller,
        request: AcknowledgeAlertRequest,
    ) -> Result<AcknowledgeAlertResponse, GroupError> {
        if request.note.chars().count() > MAX_NOTE_CHARS {
            return Err(ApiError::invalid("note", format!("note is longer than {MAX_NOTE_CHARS} characters")).into());
        }
        let alert = self.visible_alert(caller, request.id).await?;
        if alert.state == RESOLVED {
            return Err(ApiError::new(ErrorCode::FailedPrecondition, "the alert is already resolved").into());
        }
        self.store.acknowledge_alert(alert.id, &caller.staff_id, &request.note, self.clock.now_millis()).await?;
        self.store.sync_alert_states().await?;
        let alert = self.visible_alert(caller, request.id).await?;
        Ok(AcknowledgeAlertResponse { alert: Some(alert_proto(alert)) })
    }

    async fn visible_alert(&self, caller: &Caller, id: i64) -> Result<AlertRow, GroupError> {
        let alert = self.store.alert(id).await?;
        alert
            .filter(|alert| caller.can_see_store(&alert.store_id.to_string()) || caller.store_ids.is_empty())
            .filter(|alert| caller.role != Role::Koc || alert.owner == caller.staff_id)
            .ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("alert {id} does not exist")).into())
    }
}

/// An alert as protobuf.
pub(super) fn alert_proto(alert: AlertRow) -> Alert {
    Alert {
        evidence: Some(alert.evidence()),
        id: alert.id,
        rule_id: alert.rule_id,
        kind: alert.kind,
        state: alert.state,
        chat_id: alert.chat_id,
        group_name: alert.group_name,
        owner: alert.owner,
        store_id: alert.store_id,
        raised_at: Some(timestamp(alert.raised_at)),
        resolved_at: alert.resolved_at.map(timestamp),
        acknowledged_at: alert.acknowledged_at.map(timestamp),
        acknowledged_by: alert.acknowledged_by,
        acknowledge_note: alert.acknowledge_note,
        owner_notified_at: alert.owner_notified_at.map(timestamp),
    }
}
