//! Welcome rules, settings, the robot-welcome join queue, contact-welcome results and the templates groups
//! carry (`group_welcome_*`, `group_contact_welcome`).

use std::collections::HashMap;

use prost::Message;
use scrm_proto::group::v1::{WelcomeRule, WelcomeSettings};
use sqlx::{AnyConnection, FromRow, QueryBuilder};

use super::GroupStore;
use super::alerts::{hex, unhex};

/// Join-queue state (0 is pending): named in a robot welcome.
pub const JOIN_WELCOMED: i32 = 1;
/// Join-queue state: not welcomed by the robot (reason says why).
pub const JOIN_SKIPPED: i32 = 2;

/// A customer join in the robot-welcome queue.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct QueuedJoin {
    /// The group.
    pub chat_id: String,
    /// The member.
    pub userid: String,
    /// WeCom's join time (Unix ms).
    pub joined_at: i64,
    /// Name shown in the welcome.
    pub name: String,
    /// The join way's state.
    pub member_state: String,
    /// When it was queued (Unix ms).
    pub queued_at: i64,
}

/// A customer who just joined, to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJoin {
    /// The member.
    pub userid: String,
    /// WeCom's join time (Unix ms).
    pub joined_at: i64,
    /// Name shown in the welcome.
    pub name: String,
    /// The join way's state.
    pub state: String,
}

/// A group's name and owner, for rendering.
#[derive(Debug, Clone, Default, PartialEq, Eq, FromRow)]
pub struct GroupFacts {
    /// Group name.
    pub name: String,
    /// Owner's userid.
    pub owner_userid: String,
}

/// The stored result of a contact welcome.
#[derive(Debug, Clone, Default, PartialEq, Eq, FromRow)]
pub struct ContactWelcomeRow {
    /// The rule applied.
    pub rule_id: i64,
    /// 1 when sent.
    pub welcomed: i32,
    /// ContactWelcomeSkipReason.
    pub skip_reason: i32,
    /// WeCom errcode.
    pub errcode: i32,
}

/// A group as coverage sees it.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct CoverageGroup {
    /// scrm id.
    pub id: i64,
    /// WeCom chat_id.
    pub chat_id: String,
    /// Name.
    pub name: String,
    /// Owner's userid.
    pub owner_userid: String,
    /// Template recorded as carried; empty when none.
    pub template_id: String,
    /// Its revision when recorded.
    pub revision: i64,
}

fn decode_rule(id: i64, body: &str) -> Option<WelcomeRule> {
    let mut rule = WelcomeRule::decode(unhex(body)?.as_slice()).ok()?;
    rule.id = id;
    Some(rule)
}

/// Queues the customer joins of a group for a robot welcome, once per member and join time, inside the
/// transaction that records them.
pub async fn queue_joins(
    connection: &mut AnyConnection,
    insert_ignore: &str,
    chat_id: &str,
    joins: &[NewJoin],
    now: i64,
) -> Result<(), sqlx::Error> {
    for join in joins {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "{insert_ignore} INTO group_welcome_join (chat_id, userid, joined_at, name, member_state, queued_at) \
             VALUES (?, ?, ?, ?, ?, ?)"
        )))
        .bind(chat_id)
        .bind(&join.userid)
        .bind(join.joined_at)
        .bind(&join.name)
        .bind(&join.state)
        .bind(now)
        .execute(&mut *connection)
        .await?;
    }
    Ok(())
}

impl GroupStore {
    /// Stores a new rule; returns its id.
    pub async fn insert_welcome_rule(&self, rule: &WelcomeRule, now: i64) -> Result<i64, sqlx::Error> {
        let mut connection = self.db.pool().acquire().await?;
        sqlx::query(
            "INSERT INTO group_welcome_rule (rule, scope_kind, enabled, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(hex(&rule.encode_to_vec()))
        .bind(rule.scope.as_ref().map_or(0, |scope| scope.kind))
        .bind(i32::from(rule.enabled))
        .bind(now)
        .bind(now)
        .execute(&mut *connection)
        .await?;
        let last_id = match self.db.dialect() {
            scrm_storage::Dialect::Sqlite => "SELECT last_insert_rowid()",
            scrm_storage::Dialect::MySql => "SELECT CAST(LAST_INSERT_ID() AS SIGNED)",
        };
        sqlx::query_scalar(last_id).fetch_one(&mut *connection).await
    }

    /// The rule `id`.
    pub async fn welcome_rule(&self, id: i64) -> Result<Option<WelcomeRule>, sqlx::Error> {
        let row: Option<(i64, String)> = sqlx::query_as("SELECT id, rule FROM group_welcome_rule WHERE id = ?")
            .bind(id)
            .fetch_optional(self.db.pool())
            .await?;
        Ok(row.and_then(|(id, body)| decode_rule(id, &body)))
    }

    /// Every rule, newest first.
    pub async fn welcome_rules(&self) -> Result<Vec<WelcomeRule>, sqlx::Error> {
        let rows: Vec<(i64, String)> = sqlx::query_as("SELECT id, rule FROM group_welcome_rule ORDER BY id DESC")
            .fetch_all(self.db.pool())
            .await?;
        Ok(rows.into_iter().filter_map(|(id, body)| decode_rule(id, &body)).collect())
    }

    /// Replaces rule `id`; false when it does not exist.
    pub async fn update_welcome_rule(&self, rule: &WelcomeRule, now: i64) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "UPDATE group_welcome_rule SET rule = ?, scope_kind = ?, enabled = ?, updated_at = ? WHERE id = ?",
        )
        .bind(hex(&rule.encode_to_vec()))
        .bind(rule.scope.as_ref().map_or(0, |scope| scope.kind))
        .bind(i32::from(rule.enabled))
        .bind(now)
        .bind(rule.id)
        .execute(self.db.pool())
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Deletes rule `id`; false when it did not exist.
    pub async fn delete_welcome_rule(&self, id: i64) -> Result<bool, sqlx::Error> {
        let done = sqlx::query("DELETE FROM group_welcome_rule WHERE id = ?").bind(id).execute(self.db.pool()).await?;
        Ok(done.rows_affected() > 0)
    }

    /// Joins and contact adds welcomed under rule `id`.
    pub async fn welcomed_count(&self, id: i64) -> Result<i64, sqlx::Error> {
        let joins: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM group_welcome_join WHERE rule_id = ? AND state = 1")
            .bind(id)
            .fetch_one(self.db.pool())
            .await?;
        let adds: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM group_contact_welcome WHERE rule_id = ? AND welcomed = 1")
                .bind(id)
                .fetch_one(self.db.pool())
                .await?;
        Ok(joins + adds)
    }

    /// The stored settings; `None` before the first change.
    pub async fn welcome_settings(&self) -> Result<Option<WelcomeSettings>, sqlx::Error> {
        let row: Option<String> = sqlx::query_scalar("SELECT settings FROM group_welcome_settings WHERE id = 1")
            .fetch_optional(self.db.pool())
            .await?;
        Ok(row.and_then(|body| WelcomeSettings::decode(unhex(&body)?.as_slice()).ok()))
    }

    /// Stores the settings.
    pub async fn put_welcome_settings(&self, settings: &WelcomeSettings, now: i64) -> Result<(), sqlx::Error> {
        let upsert = self.db.dialect().upsert_clause(&["id"], &["settings", "updated_at"]);
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO group_welcome_settings (id, settings, updated_at) VALUES (1, ?, ?) {upsert}"
        )))
        .bind(hex(&settings.encode_to_vec()))
        .bind(now)
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    /// Groups with pending joins, with the time their oldest was queued.
    pub async fn chats_with_pending_joins(&self) -> Result<Vec<(String, i64)>, sqlx::Error> {
        sqlx::query_as(
            "SELECT chat_id, MIN(queued_at) FROM group_welcome_join WHERE state = 0 GROUP BY chat_id ORDER BY 2",
        )
        .fetch_all(self.db.pool())
        .await
    }

    /// The pending joins of a group, oldest first.
    pub async fn pending_joins(&self, chat_id: &str) -> Result<Vec<QueuedJoin>, sqlx::Error> {
        sqlx::query_as(
            "SELECT chat_id, userid, joined_at, name, member_state, queued_at FROM group_welcome_join \
             WHERE chat_id = ? AND state = 0 ORDER BY queued_at, joined_at, userid LIMIT 500",
        )
        .bind(chat_id)
        .fetch_all(self.db.pool())
        .await
    }

    /// Robot welcomes posted to a group since `since` (Unix ms).
    pub async fn welcome_posts_since(&self, chat_id: &str, since: i64) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT COUNT(DISTINCT batch) FROM group_welcome_join WHERE chat_id = ? AND state = 1 AND done_at > ?",
        )
        .bind(chat_id)
        .bind(since)
        .fetch_one(self.db.pool())
        .await
    }

    /// Marks queued joins done: welcomed in `batch` under `rule_id`, or skipped for `reason`.
    pub async fn finish_joins(
        &self,
        joins: &[QueuedJoin],
        state: i32,
        rule_id: i64,
        batch: &str,
        reason: &str,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        for join in joins {
            sqlx::query(
                "UPDATE group_welcome_join SET state = ?, rule_id = ?, batch = ?, reason = ?, done_at = ? \
                 WHERE chat_id = ? AND userid = ? AND joined_at = ? AND state = 0",
            )
            .bind(state)
            .bind(rule_id)
            .bind(batch)
            .bind(reason)
            .bind(now)
            .bind(&join.chat_id)
            .bind(&join.userid)
            .bind(join.joined_at)
            .execute(self.db.pool())
            .await?;
        }
        Ok(())
    }

    /// Members of a group welcomed by a robot post.
    pub async fn welcomed_members(&self, chat_id: &str) -> Result<std::collections::HashSet<String>, sqlx::Error> {
        let userids: Vec<String> =
            sqlx::query_scalar("SELECT DISTINCT userid FROM group_welcome_join WHERE chat_id = ? AND state = 1")
                .bind(chat_id)
                .fetch_all(self.db.pool())
                .await?;
        Ok(userids.into_iter().collect())
    }

    /// Name and owner of a group.
    pub async fn group_facts(&self, chat_id: &str) -> Result<GroupFacts, sqlx::Error> {
        let facts = sqlx::query_as("SELECT name, owner_userid FROM group_chat WHERE chat_id = ?")
            .bind(chat_id)
            .fetch_optional(self.db.pool())
            .await?;
        Ok(facts.unwrap_or_default())
    }

    /// Group tags of a group.
    pub async fn tag_ids_of(&self, chat_id: &str) -> Result<Vec<i64>, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT ct.tag_id FROM group_chat_tag ct JOIN group_chat c ON c.id = ct.group_id WHERE c.chat_id = ?",
        )
        .bind(chat_id)
        .fetch_all(self.db.pool())
        .await
    }

    /// Every group's tags, by scrm group id.
    pub async fn all_group_tags(&self) -> Result<Vec<(i64, i64)>, sqlx::Error> {
        sqlx::query_as("SELECT group_id, tag_id FROM group_chat_tag").fetch_all(self.db.pool()).await
    }

    /// The template a group carries, as recorded: (template_id, revision).
    pub async fn carried_template(&self, chat_id: &str) -> Result<Option<(String, i64)>, sqlx::Error> {
        sqlx::query_as("SELECT template_id, revision FROM group_welcome_carried WHERE chat_id = ?")
            .bind(chat_id)
            .fetch_optional(self.db.pool())
            .await
    }

    /// Records that groups carry `template_id` at `revision` (empty: none); returns the chat_ids that are
    /// unknown.
    pub async fn record_carried(
        &self,
        chat_ids: &[String],
        template_id: &str,
        revision: i64,
        now: i64,
    ) -> Result<(i32, Vec<String>), sqlx::Error> {
        let upsert = self.db.dialect().upsert_clause(&["chat_id"], &["template_id", "revision", "recorded_at"]);
        let (mut updated, mut unknown) = (0, Vec::new());
        for chat_id in chat_ids {
            let known: Option<i64> = sqlx::query_scalar("SELECT id FROM group_chat WHERE chat_id = ?")
                .bind(chat_id)
                .fetch_optional(self.db.pool())
                .await?;
            if known.is_none() {
                unknown.push(chat_id.clone());
                continue;
            }
            if self.carried_template(chat_id).await? == Some((template_id.to_owned(), revision)) {
                continue;
            }
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO group_welcome_carried (chat_id, template_id, revision, recorded_at) VALUES (?, ?, ?, ?) \
                 {upsert}"
            )))
            .bind(chat_id)
            .bind(template_id)
            .bind(revision)
            .bind(now)
            .execute(self.db.pool())
            .await?;
            updated += 1;
        }
        Ok((updated, unknown))
    }

    /// Every live group with the template it carries, in id order.
    pub async fn coverage_groups(&self, owners: &[String]) -> Result<Vec<CoverageGroup>, sqlx::Error> {
        let mut query = QueryBuilder::new(
            "SELECT c.id, c.chat_id, c.name, c.owner_userid, COALESCE(w.template_id, '') AS template_id, \
             COALESCE(w.revision, 0) AS revision FROM group_chat c \
             LEFT JOIN group_welcome_carried w ON w.chat_id = c.chat_id WHERE c.dismissed_at IS NULL",
        );
        if !owners.is_empty() {
            query.push(" AND c.owner_userid IN (");
            let mut separated = query.separated(", ");
            for owner in owners {
                separated.push_bind(owner.clone());
            }
            query.push(")");
        }
        query.push(" ORDER BY c.id");
        query.build_query_as().fetch_all(self.db.pool()).await
    }

    /// The template each of `chat_ids` is recorded as carrying, with its revision; groups without one are absent.
    pub async fn carried_of(&self, chat_ids: &[String]) -> Result<HashMap<String, (String, i64)>, sqlx::Error> {
        if chat_ids.is_empty() {
            return Ok(HashMap::new());
        }
        let mut query =
            QueryBuilder::new("SELECT chat_id, template_id, revision FROM group_welcome_carried WHERE chat_id IN (");
        let mut separated = query.separated(", ");
        for chat_id in chat_ids {
            separated.push_bind(chat_id.clone());
        }
        query.push(")");
        let rows: Vec<(String, String, i64)> = query.build_query_as().fetch_all(self.db.pool()).await?;
        Ok(rows.into_iter().map(|(chat_id, template_id, revision)| (chat_id, (template_id, revision))).collect())
    }

    /// Claims a contact welcome's idempotency key; the stored result when it was claimed before.
    pub async fn claim_contact_welcome(
        &self,
        key: &str,
        external_userid: &str,
        userid: &str,
        now: i64,
    ) -> Result<Option<ContactWelcomeRow>, sqlx::Error> {
        let claimed = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{} INTO group_contact_welcome (idempotency_key, external_userid, userid, created_at) VALUES (?, ?, ?, ?)",
            self.db.dialect().insert_ignore()
        )))
        .bind(key)
        .bind(external_userid)
        .bind(userid)
        .bind(now)
        .execute(self.db.pool())
        .await?;
        if claimed.rows_affected() > 0 {
            return Ok(None);
        }
        let row = sqlx::query_as(
            "SELECT rule_id, welcomed, skip_reason, errcode FROM group_contact_welcome WHERE idempotency_key = ?",
        )
        .bind(key)
        .fetch_one(self.db.pool())
        .await?;
        Ok(Some(row))
    }

    /// Stores a contact welcome's result under its claimed key.
    pub async fn finish_contact_welcome(&self, key: &str, result: &ContactWelcomeRow) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE group_contact_welcome SET rule_id = ?, welcomed = ?, skip_reason = ?, errcode = ? \
             WHERE idempotency_key = ?",
        )
        .bind(result.rule_id)
        .bind(result.welcomed)
        .bind(result.skip_reason)
        .bind(result.errcode)
        .bind(key)
        .execute(self.db.pool())
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use scrm_proto::group::v1::{WelcomeScope, WelcomeScopeKind};
    use scrm_storage::Db;

    use super::*;
    use crate::store::join_ways::{JoinWayFilter, JoinWayKey, JoinWayRow};
    use crate::store::tests::{member, snapshot};

    const NOW: i64 = 1_800_000_000_000;

    async fn rules_and_settings_round_trip(db: Db) {
        db.migrate(&crate::MIGRATIONS).await.unwrap();
        let store = GroupStore::new(db);
        let rule = |name: &str| WelcomeRule {
            name: name.into(),
            scope: Some(WelcomeScope { kind: WelcomeScopeKind::Default as i32, ..WelcomeScope::default() }),
            enabled: true,
            ..WelcomeRule::default()
        };
        let first = store.insert_welcome_rule(&rule("甲"), NOW).await.unwrap();
        let second = store.insert_welcome_rule(&rule("乙"), NOW).await.unwrap();
        assert_ne!(first, second);
        assert_eq!(
            store.welcome_rule(second).await.unwrap().map(|rule| (rule.id, rule.name)),
            Some((second, "乙".into()))
        );
        assert_eq!(store.welcome_rules().await.unwrap().len(), 2);
        assert!(store.delete_welcome_rule(first).await.unwrap());
        assert!(!store.delete_welcome_rule(first).await.unwrap());
        assert_eq!(store.welcome_settings().await.unwrap(), None);
        let settings = WelcomeSettings { robot_max_names: 5, ..WelcomeSettings::default() };
        store.put_welcome_settings(&settings, NOW).await.unwrap();
        store.put_welcome_settings(&settings, NOW).await.unwrap();
        assert_eq!(store.welcome_settings().await.unwrap(), Some(settings));
    }

    async fn a_customer_join_is_queued_once_and_staff_never(db: Db) {
        db.migrate(&crate::MIGRATIONS).await.unwrap();
        let store = GroupStore::new(db);
        let founders = vec![member("zhangsan", 1, NOW - 10_000)];
        store.upsert_group_chat(&snapshot("wr1", founders.clone(), NOW - 5_000), NOW - 5_000).await.unwrap();
        assert!(store.chats_with_pending_joins().await.unwrap().is_empty(), "a group's first sight welcomes nobody");
        let mut joined = founders;
        joined.extend([member("wm1", 2, NOW - 1_000), member("lisi", 1, NOW - 1_000)]);
        for observed in [NOW, NOW + 1] {
            store.upsert_group_chat(&snapshot("wr1", joined.clone(), observed), observed).await.unwrap();
        }
        let pending = store.pending_joins("wr1").await.unwrap();
        assert_eq!(
            pending.iter().map(|join| (join.userid.as_str(), join.member_state.as_str())).collect::<Vec<_>>(),
            [("wm1", "join-way-1")]
        );
        store.finish_joins(&pending, JOIN_WELCOMED, 7, "batch-1", "", NOW).await.unwrap();
        store.finish_joins(&pending, JOIN_SKIPPED, 0, "", "again", NOW).await.unwrap();
        assert!(store.welcomed_members("wr1").await.unwrap().contains("wm1"));
        assert_eq!(store.welcome_posts_since("wr1", NOW - 60_000).await.unwrap(), 1);
        assert_eq!(store.welcomed_count(7).await.unwrap(), 1);
        let (updated, unknown) = store.record_carried(&["wr1".into(), "nope".into()], "tpl", 2, NOW).await.unwrap();
        assert_eq!((updated, unknown), (1, vec!["nope".to_owned()]));
        assert_eq!(store.carried_template("wr1").await.unwrap(), Some(("tpl".into(), 2)));
    }

    async fn join_ways_are_found_by_key_and_group(db: Db) {
        db.migrate(&crate::MIGRATIONS).await.unwrap();
        let store = GroupStore::new(db);
        let way = JoinWayRow {
            config_id: "cfg1".into(),
            scene: 2,
            chat_ids: "wr1,wr2".into(),
            state: "s1".into(),
            ..JoinWayRow::default()
        };
        store.insert_join_way(&way, Some("key-1"), NOW).await.unwrap();
        let stored = store.join_way_by(JoinWayKey::IdempotencyKey, "key-1").await.unwrap().unwrap();
        assert_eq!(store.join_way(stored.id).await.unwrap().map(|way| way.config_id), Some("cfg1".into()));
        let by_group = |chat_id: &str| JoinWayFilter { chat_id: chat_id.into(), ..JoinWayFilter::default() };
        assert_eq!(store.list_join_ways(&by_group("wr2"), None, 20).await.unwrap().len(), 1);
        assert!(store.list_join_ways(&by_group("wr"), None, 20).await.unwrap().is_empty());
        store.delete_join_way(stored.id).await.unwrap();
        assert_eq!(store.join_way_by(JoinWayKey::ConfigId, "cfg1").await.unwrap(), None);
    }

    scrm_storage::store_test_suite!(
        rules_and_settings_round_trip,
        a_customer_join_is_queued_once_and_staff_never,
        join_ways_are_found_by_key_and_group,
    );
}
