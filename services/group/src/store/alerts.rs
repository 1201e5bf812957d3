//! Alert rules and alerts (PR07).

use std::collections::{HashMap, HashSet};

use prost::Message;
use scrm_proto::group::v1::{AlertEvidence, AlertRule};
use sqlx::error::ErrorKind;
use sqlx::{FromRow, QueryBuilder};

use super::GroupStore;
use crate::alerts::default_rules;

/// `AlertState::Open`.
pub const OPEN: i32 = 1;
/// `AlertState::Resolved`.
pub const RESOLVED: i32 = 2;

/// An alert as stored.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct AlertRow {
    /// Id.
    pub id: i64,
    /// Rule id.
    pub rule_id: i64,
    /// `AlertKind`.
    pub kind: i32,
    /// `AlertState`.
    pub state: i32,
    /// Group chat_id.
    pub chat_id: String,
    /// Group name when raised.
    pub group_name: String,
    /// Owner when raised.
    pub owner: String,
    /// Store id; 0 when none.
    pub store_id: i64,
    /// Hex of the encoded `AlertEvidence`.
    pub evidence: String,
    /// Raised, Unix ms.
    pub raised_at: i64,
    /// Resolved, Unix ms.
    pub resolved_at: Option<i64>,
    /// Acknowledged, Unix ms.
    pub acknowledged_at: Option<i64>,
    /// Who acknowledged.
    pub acknowledged_by: String,
    /// Acknowledgement note.
    pub acknowledge_note: String,
    /// Owner notified, Unix ms.
    pub owner_notified_at: Option<i64>,
}

impl AlertRow {
    /// The decoded evidence.
    pub fn evidence(&self) -> AlertEvidence {
        unhex(&self.evidence).and_then(|bytes| AlertEvidence::decode(bytes.as_slice()).ok()).unwrap_or_default()
    }
}

/// A group as the alert rules judge it.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct JudgedGroup {
    /// scrm id.
    pub id: i64,
    /// chat_id.
    pub chat_id: String,
    /// Name.
    pub name: String,
    /// Owner.
    pub owner_userid: String,
    /// Store id.
    pub store_id: Option<String>,
    /// Creation, Unix ms.
    pub created_at: i64,
    /// Last message, Unix ms.
    pub last_message_at: Option<i64>,
    /// Current members.
    pub member_count: i32,
}

/// Filters of an alert listing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertFilter {
    /// States; empty = any.
    pub states: Vec<i32>,
    /// Kinds; empty = any.
    pub kinds: Vec<i32>,
    /// Group; empty = any.
    pub chat_id: String,
    /// Owners; empty = any.
    pub owners: Vec<String>,
    /// Stores; empty = any.
    pub store_ids: Vec<i64>,
    /// Only unacknowledged.
    pub unacknowledged_only: bool,
    /// Raised at or after.
    pub raised_after: Option<i64>,
    /// Raised before.
    pub raised_before: Option<i64>,
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The bytes of lower-case or upper-case hex `text`; `None` when it is not hex.
pub fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|at| text.get(at..at + 2).and_then(|pair| u8::from_str_radix(pair, 16).ok()))
        .collect()
}

/// A group's alert summary as stored on `group_chat`: alert state, open kinds (comma-separated), open count.
type AlertSummary = (i32, String, i32);

const ALERT_COLUMNS: &str = "id, rule_id, kind, state, chat_id, group_name, owner, store_id, evidence, raised_at, \
     resolved_at, acknowledged_at, acknowledged_by, acknowledge_note, owner_notified_at";

impl GroupStore {
    /// The alert rules, one per kind, the defaults written on first use.
    pub async fn alert_rules(&self, now: i64) -> Result<Vec<AlertRule>, sqlx::Error> {
        let insert = format!(
            "{} INTO group_alert_rule (kind, rule, updated_at) VALUES (?, ?, ?)",
            self.db.dialect().insert_ignore()
        );
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM group_alert_rule").fetch_one(self.db.pool()).await?;
        if count < default_rules().len() as i64 {
            for rule in default_rules() {
                sqlx::query(sqlx::AssertSqlSafe(insert.clone()))
                    .bind(rule.kind)
                    .bind(hex(&rule.encode_to_vec()))
                    .bind(now)
                    .execute(self.db.pool())
                    .await?;
            }
        }
        let rows: Vec<(i64, String, i64)> =
            sqlx::query_as("SELECT id, rule, updated_at FROM group_alert_rule ORDER BY kind")
                .fetch_all(self.db.pool())
                .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, rule, updated_at)| {
                let mut rule = AlertRule::decode(unhex(&rule)?.as_slice()).ok()?;
                rule.id = id;
                rule.updated_at = Some(crate::api::timestamp(updated_at));
                Some(rule)
            })
            .collect())
    }

    /// Replaces a rule (selected by its id).
    pub async fn save_alert_rule(&self, rule: &AlertRule, now: i64) -> Result<(), sqlx::Error> {
        let stored = AlertRule { id: 0, updated_at: None, ..rule.clone() };
        sqlx::query("UPDATE group_alert_rule SET rule = ?, updated_at = ? WHERE id = ?")
            .bind(hex(&stored.encode_to_vec()))
            .bind(now)
            .bind(rule.id)
            .execute(self.db.pool())
            .await?;
        Ok(())
    }

    /// The live groups, each with the tag ids it carries.
    pub async fn judged_groups(&self) -> Result<Vec<(JudgedGroup, HashSet<i64>)>, sqlx::Error> {
        let groups: Vec<JudgedGroup> = sqlx::query_as(
            "SELECT id, chat_id, name, owner_userid, store_id, created_at, last_message_at, member_count \
             FROM group_chat WHERE dismissed_at IS NULL",
        )
        .fetch_all(self.db.pool())
        .await?;
        let tags: Vec<(i64, i64)> =
            sqlx::query_as("SELECT group_id, tag_id FROM group_chat_tag").fetch_all(self.db.pool()).await?;
        let mut by_group: HashMap<i64, HashSet<i64>> = HashMap::new();
        for (group_id, tag_id) in tags {
            by_group.entry(group_id).or_default().insert(tag_id);
        }
        Ok(groups
            .into_iter()
            .map(|group| {
                let tags = by_group.remove(&group.id).unwrap_or_default();
                (group, tags)
            })
            .collect())
    }

    /// Messages per group and day from `first_day` on.
    pub async fn daily_messages_since(&self, first_day: i64) -> Result<Vec<(String, i64, i64)>, sqlx::Error> {
        sqlx::query_as("SELECT chat_id, day, messages FROM group_activity_day WHERE day >= ?")
            .bind(first_day)
            .fetch_all(self.db.pool())
            .await
    }

    /// Members who joined or left since `since`: (chat_id, userid, joined_at, left_at).
    pub async fn membership_changes_since(
        &self,
        since: i64,
    ) -> Result<Vec<(String, String, i64, Option<i64>)>, sqlx::Error> {
        sqlx::query_as(
            "SELECT chat_id, userid, joined_at, left_at FROM group_member WHERE joined_at >= ? OR left_at >= ? \
             ORDER BY chat_id, userid",
        )
        .bind(since)
        .bind(since)
        .fetch_all(self.db.pool())
        .await
    }

    /// Messages sent since `since`, oldest first: (chat_id, msgid, sender, msgtime).
    pub async fn messages_since(&self, since: i64) -> Result<Vec<(String, String, String, i64)>, sqlx::Error> {
        sqlx::query_as(
            "SELECT chat_id, msgid, sender, msgtime FROM group_message WHERE msgtime >= ? ORDER BY msgtime, msgid",
        )
        .bind(since)
        .fetch_all(self.db.pool())
        .await
    }

    /// Open alerts, all groups.
    pub async fn open_alerts(&self) -> Result<Vec<AlertRow>, sqlx::Error> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {ALERT_COLUMNS} FROM group_alert WHERE state = {OPEN}")))
            .fetch_all(self.db.pool())
            .await
    }

    /// Open alerts of one group.
    pub async fn open_alerts_of(&self, chat_id: &str) -> Result<Vec<AlertRow>, sqlx::Error> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {ALERT_COLUMNS} FROM group_alert WHERE chat_id = ? AND state = {OPEN} ORDER BY id DESC"
        )))
        .bind(chat_id)
        .fetch_all(self.db.pool())
        .await
    }

    /// Raises an alert unless one of its kind is open on the group (then its evidence is refreshed). Returns the
    /// new alert's id, or `None` when one was already open.
    pub async fn raise_alert(
        &self,
        rule_id: i64,
        kind: i32,
        group: &JudgedGroup,
        evidence: &AlertEvidence,
        now: i64,
    ) -> Result<Option<i64>, sqlx::Error> {
        let open_key = format!("{}/{kind}", group.chat_id);
        let evidence = hex(&evidence.encode_to_vec());
        let inserted = sqlx::query(
            "INSERT INTO group_alert (rule_id, kind, state, chat_id, group_name, owner, store_id, evidence, raised_at, \
             open_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(rule_id)
        .bind(kind)
        .bind(OPEN)
        .bind(&group.chat_id)
        .bind(&group.name)
        .bind(&group.owner_userid)
        .bind(crate::listing::store_number(group.store_id.as_deref()))
        .bind(&evidence)
        .bind(now)
        .bind(&open_key)
        .execute(self.db.pool())
        .await;
        match inserted {
            Ok(_) => {
                let id: i64 = sqlx::query_scalar("SELECT id FROM group_alert WHERE open_key = ?")
                    .bind(&open_key)
                    .fetch_one(self.db.pool())
                    .await?;
                Ok(Some(id))
            }
            Err(sqlx::Error::Database(error)) if error.kind() == ErrorKind::UniqueViolation => {
                sqlx::query("UPDATE group_alert SET evidence = ? WHERE open_key = ?")
                    .bind(&evidence)
                    .bind(&open_key)
                    .execute(self.db.pool())
                    .await?;
                Ok(None)
            }
            Err(error) => Err(error),
        }
    }

    /// Refreshes an open alert's evidence; writes nothing when it is unchanged.
    pub async fn refresh_alert_evidence(&self, alert: &AlertRow, evidence: &AlertEvidence) -> Result<(), sqlx::Error> {
        let evidence = hex(&evidence.encode_to_vec());
        if evidence == alert.evidence {
            return Ok(());
        }
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE group_alert SET evidence = ? WHERE id = ? AND state = {OPEN}"
        )))
        .bind(evidence)
        .bind(alert.id)
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    /// Resolves an open alert.
    pub async fn resolve_alert(&self, id: i64, now: i64) -> Result<(), sqlx::Error> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE group_alert SET state = {RESOLVED}, resolved_at = ?, open_key = NULL WHERE id = ? AND state = {OPEN}"
        )))
        .bind(now)
        .bind(id)
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    /// Records that the owner was sent the alert.
    pub async fn mark_owner_notified(&self, id: i64, now: i64) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE group_alert SET owner_notified_at = ? WHERE id = ?")
            .bind(now)
            .bind(id)
            .execute(self.db.pool())
            .await?;
        Ok(())
    }

    /// One alert.
    pub async fn alert(&self, id: i64) -> Result<Option<AlertRow>, sqlx::Error> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {ALERT_COLUMNS} FROM group_alert WHERE id = ?")))
            .bind(id)
            .fetch_optional(self.db.pool())
            .await
    }

    /// Acknowledges an open alert, keeping a first acknowledgement.
    pub async fn acknowledge_alert(&self, id: i64, by: &str, note: &str, now: i64) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE group_alert SET acknowledged_at = ?, acknowledged_by = ?, acknowledge_note = ? \
             WHERE id = ? AND acknowledged_at IS NULL",
        )
        .bind(now)
        .bind(by)
        .bind(note)
        .bind(id)
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    /// Up to `limit` alerts matching `filter` with ids below `before`, newest first.
    pub async fn list_alerts(
        &self,
        filter: &AlertFilter,
        scope: &scrm_kernel::StoreScope,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AlertRow>, sqlx::Error> {
        let mut query = QueryBuilder::new(format!("SELECT {ALERT_COLUMNS} FROM group_alert WHERE 1 = 1"));
        let in_list = |query: &mut QueryBuilder<sqlx::Any>, column: &str, values: Vec<String>| {
            if values.is_empty() {
                return;
            }
            query.push(format!(" AND {column} IN ("));
            let mut list = query.separated(", ");
            for value in values {
                list.push_bind(value);
            }
            query.push(")");
        };
        if let scrm_kernel::StoreScope::Only(stores) = scope {
            let numbers: Vec<i64> = stores.iter().filter_map(|store| store.parse().ok()).collect();
            query.push(" AND store_id IN (");
            let mut list = query.separated(", ");
            list.push_bind(-1_i64);
            for number in numbers {
                list.push_bind(number);
            }
            query.push(")");
        }
        for (column, values) in [("state", &filter.states), ("kind", &filter.kinds)] {
            if !values.is_empty() {
                query.push(format!(" AND {column} IN ("));
                let mut list = query.separated(", ");
                for value in values {
                    list.push_bind(*value);
                }
                query.push(")");
            }
        }
        in_list(&mut query, "owner", filter.owners.clone());
        if !filter.store_ids.is_empty() {
            query.push(" AND store_id IN (");
            let mut list = query.separated(", ");
            for store in &filter.store_ids {
                list.push_bind(*store);
            }
            query.push(")");
        }
        if !filter.chat_id.is_empty() {
            query.push(" AND chat_id = ").push_bind(filter.chat_id.clone());
        }
        if filter.unacknowledged_only {
            query.push(" AND acknowledged_at IS NULL");
        }
        if let Some(after) = filter.raised_after {
            query.push(" AND raised_at >= ").push_bind(after);
        }
        if let Some(before) = filter.raised_before {
            query.push(" AND raised_at < ").push_bind(before);
        }
        if let Some(before) = before {
            query.push(" AND id < ").push_bind(before);
        }
        query.push(" ORDER BY id DESC LIMIT ").push_bind(i64::from(limit));
        query.build_query_as().fetch_all(self.db.pool()).await
    }

    /// Writes every group's alert summary (state, open kinds, count) from its open alerts; groups whose summary
    /// is already right are not written.
    pub async fn sync_alert_states(&self) -> Result<(), sqlx::Error> {
        let open = self.open_alerts().await?;
        let mut by_group: HashMap<String, Vec<&AlertRow>> = HashMap::new();
        for alert in &open {
            by_group.entry(alert.chat_id.clone()).or_default().push(alert);
        }
        let current: HashMap<String, AlertSummary> = sqlx::query_as(
            "SELECT chat_id, alert_state, open_alert_kinds, open_alert_count FROM group_chat \
             WHERE alert_state <> 1 OR open_alert_kinds <> '' OR open_alert_count <> 0",
        )
        .fetch_all(self.db.pool())
        .await?
        .into_iter()
        .map(|(chat_id, state, kinds, count)| (chat_id, (state, kinds, count)))
        .collect();
        let mut wanted: HashMap<String, AlertSummary> =
            current.keys().map(|chat_id| (chat_id.clone(), (1, String::new(), 0))).collect();
        for (chat_id, alerts) in by_group {
            let state = if alerts.iter().any(|alert| alert.acknowledged_at.is_none()) { 3 } else { 2 };
            let mut kinds: Vec<i32> = alerts.iter().map(|alert| alert.kind).collect();
            kinds.sort_unstable();
            kinds.dedup();
            let kinds = kinds.iter().map(i32::to_string).collect::<Vec<_>>().join(",");
            wanted.insert(chat_id, (state, kinds, alerts.len() as i32));
        }
        for (chat_id, summary) in wanted {
            if current.get(&chat_id) == Some(&summary) {
                continue;
            }
            let (state, kinds, count) = summary;
            sqlx::query(
                "UPDATE group_chat SET alert_state = ?, open_alert_kinds = ?, open_alert_count = ? WHERE chat_id = ?",
            )
            .bind(state)
            .bind(kinds)
            .bind(count)
            .bind(chat_id)
            .execute(self.db.pool())
            .await?;
        }
        Ok(())
    }
}
