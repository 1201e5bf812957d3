//! The identity service's tables.

use scrm_storage::Db;
use sqlx::{FromRow, QueryBuilder};

use crate::domain::{InboxState, STAFF_STATUS_RESIGNED};

/// A callback event to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInboxEvent {
    /// Key identifying the event across WeCom's retries.
    pub dedup_key: String,
    /// WeCom `Event`.
    pub event: String,
    /// WeCom `ChangeType`, empty when none.
    pub change_type: String,
    /// WeCom `CreateTime`, Unix milliseconds.
    pub created_at_ms: i64,
    /// When the gateway received it, Unix milliseconds.
    pub received_at_ms: i64,
    /// The decrypted XML.
    pub raw_xml: String,
}

/// A stored callback event.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct InboxRow {
    /// Id minted by the database.
    pub id: i64,
    /// Key identifying the event across WeCom's retries.
    pub dedup_key: String,
    /// WeCom `Event`.
    pub event: String,
    /// WeCom `ChangeType`, empty when none.
    pub change_type: String,
    /// WeCom `CreateTime`, Unix milliseconds.
    pub created_at: i64,
    /// When the gateway received it, Unix milliseconds.
    pub received_at: i64,
    /// Stored state code; read it with [`InboxRow::state`].
    pub state: i32,
    /// Processing attempts so far.
    pub attempts: i32,
    /// Last processing error, empty when none.
    pub last_error: String,
    /// When it was last processed, Unix milliseconds.
    pub processed_at: Option<i64>,
    /// The decrypted XML.
    pub raw_xml: String,
}

impl InboxRow {
    /// The processing state.
    pub fn state(&self) -> InboxState {
        InboxState::from_code(self.state)
    }
}

/// What one processing attempt of an inbox event left behind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxAttempt {
    /// State after the attempt: processed, ignored, failed for good, or pending for a retry.
    pub state: InboxState,
    /// Attempts so far, this one included.
    pub attempts: i32,
    /// Why it failed or was ignored; empty when processed.
    pub last_error: String,
    /// When the attempt ended, Unix milliseconds; `None` while a retry is pending.
    pub processed_at: Option<i64>,
    /// When a pending retry is due, Unix milliseconds; 0 otherwise.
    pub next_attempt_at: i64,
}

/// Which inbox events to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InboxFilter {
    /// Only this state.
    pub state: Option<InboxState>,
    /// Only this WeCom `Event`.
    pub event: Option<String>,
    /// Only this WeCom `ChangeType`.
    pub change_type: Option<String>,
}

const INBOX_COLUMNS: &str =
    "id, dedup_key, event, change_type, created_at, received_at, state, attempts, last_error, processed_at, raw_xml";

/// Reads and writes the `identity_*` tables.
#[derive(Debug, Clone)]
pub struct IdentityStore {
    db: Db,
}

/// The department ids of a staff member as stored (`identity_staff.department_ids`, comma-separated); until
/// departments are flagged as stores, they are the staff member's stores.
pub fn department_ids(text: &str) -> Vec<i64> {
    text.split(',').filter_map(|id| id.trim().parse().ok()).collect()
}

impl IdentityStore {
    /// A store over `db`.
    pub fn new(db: Db) -> Self {
        IdentityStore { db }
    }

    /// Stores `event` unless its dedup key is already there; returns the row id and whether it was a duplicate.
    pub async fn insert_inbox_event(&self, event: &NewInboxEvent) -> Result<(i64, bool), sqlx::Error> {
        let insert = format!(
            "{} INTO identity_callback_inbox \
             (dedup_key, event, change_type, created_at, received_at, state, attempts, last_error, raw_xml) \
             VALUES (?, ?, ?, ?, ?, ?, 0, '', ?)",
            self.db.dialect().insert_ignore()
        );
        let inserted = sqlx::query(sqlx::AssertSqlSafe(insert))
            .bind(&event.dedup_key)
            .bind(&event.event)
            .bind(&event.change_type)
            .bind(event.created_at_ms)
            .bind(event.received_at_ms)
            .bind(InboxState::Pending.code())
            .bind(&event.raw_xml)
            .execute(self.db.pool())
            .await?
            .rows_affected();
        let id: i64 = sqlx::query_scalar("SELECT id FROM identity_callback_inbox WHERE dedup_key = ?")
            .bind(&event.dedup_key)
            .fetch_one(self.db.pool())
            .await?;
        Ok((id, inserted == 0))
    }

    /// Lists inbox events matching `filter`, newest first, with ids below `before`.
    pub async fn list_inbox_events(
        &self,
        filter: &InboxFilter,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<InboxRow>, sqlx::Error> {
        let mut query = QueryBuilder::new(format!("SELECT {INBOX_COLUMNS} FROM identity_callback_inbox WHERE 1 = 1"));
        if let Some(state) = filter.state {
            query.push(" AND state = ").push_bind(state.code());
        }
        if let Some(event) = &filter.event {
            query.push(" AND event = ").push_bind(event.clone());
        }
        if let Some(change_type) = &filter.change_type {
            query.push(" AND change_type = ").push_bind(change_type.clone());
        }
        if let Some(before) = before {
            query.push(" AND id < ").push_bind(before);
        }
        query.push(" ORDER BY id DESC LIMIT ").push_bind(i64::from(limit));
        query.build_query_as().fetch_all(self.db.pool()).await
    }

    /// Pending events whose next attempt is due at `now` (Unix milliseconds), oldest first.
    pub async fn due_inbox_events(&self, now: i64, limit: u32) -> Result<Vec<InboxRow>, sqlx::Error> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {INBOX_COLUMNS} FROM identity_callback_inbox WHERE state = ? AND next_attempt_at <= ? \
             ORDER BY id LIMIT ?"
        )))
        .bind(InboxState::Pending.code())
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(self.db.pool())
        .await
    }

    /// Records the outcome of one processing attempt of event `id`.
    pub async fn record_inbox_attempt(&self, id: i64, attempt: &InboxAttempt) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE identity_callback_inbox SET state = ?, attempts = ?, last_error = ?, processed_at = ?, \
             next_attempt_at = ? WHERE id = ?",
        )
        .bind(attempt.state.code())
        .bind(attempt.attempts)
        .bind(&attempt.last_error)
        .bind(attempt.processed_at)
        .bind(attempt.next_attempt_at)
        .bind(id)
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    /// Puts event `id` back in the pending state, due now; `None` when there is no such event.
    pub async fn requeue_inbox_event(&self, id: i64) -> Result<Option<InboxRow>, sqlx::Error> {
        sqlx::query(
            "UPDATE identity_callback_inbox SET state = ?, processed_at = NULL, next_attempt_at = 0 WHERE id = ?",
        )
        .bind(InboxState::Pending.code())
        .bind(id)
        .execute(self.db.pool())
        .await?;
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {INBOX_COLUMNS} FROM identity_callback_inbox WHERE id = ?")))
            .bind(id)
            .fetch_optional(self.db.pool())
            .await
    }
}

/// A department as read from WeCom.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct DepartmentRow {
    /// WeCom department id.
    pub id: i64,
    /// WeCom `parentid`.
    pub parent_id: i64,
    /// WeCom `order`.
    pub sort_order: i64,
    /// Name; empty when WeCom does not return one.
    pub name: String,
}

/// A staff member as read from WeCom.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct StaffRow {
    /// WeCom `userid`.
    pub userid: String,
    /// WeCom `name`.
    pub name: String,
    /// WeCom `department`, comma-separated.
    pub department_ids: String,
    /// WeCom `main_department`.
    pub main_department: i64,
    /// WeCom `position`.
    pub position: String,
    /// WeCom `mobile`.
    pub mobile: String,
    /// WeCom `gender` (0, 1, 2).
    pub gender: i32,
    /// WeCom `email`.
    pub email: String,
    /// WeCom `avatar`.
    pub avatar: String,
    /// WeCom `alias`.
    pub alias: String,
    /// WeCom `status`, or 5 once scrm infers the member resigned.
    pub status: i32,
    /// 1 when the member is in WeCom's `get_follow_user_list` (may have customers).
    pub external_contact_enabled: i32,
    /// Content fingerprint of the fields above as read from WeCom.
    pub fingerprint: String,
    /// When scrm saw the member gone, Unix milliseconds.
    pub resigned_at: Option<i64>,
}

/// What the sync knows of a stored staff member before writing.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct StaffFingerprint {
    /// WeCom `userid`.
    pub userid: String,
    /// Stored fingerprint.
    pub fingerprint: String,
    /// Stored status.
    pub status: i32,
}

/// A stored sync run.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct SyncRunRow {
    /// Id minted by the database.
    pub id: i64,
    /// `SyncScope` code.
    pub scope: i32,
    /// `SyncTrigger` code.
    pub trigger_kind: i32,
    /// `SyncState` code.
    pub state: i32,
    /// `SyncPhase` code.
    pub phase: i32,
    /// Counts as JSON ([`crate::domain::Counts`]).
    pub counts: String,
    /// WeCom API calls made.
    pub api_calls: i64,
    /// Calls answered with a rate-limit errcode.
    pub rate_limited_calls: i64,
    /// Unix milliseconds.
    pub started_at: i64,
    /// Unix milliseconds; `None` while running.
    pub finished_at: Option<i64>,
    /// Why it failed; empty unless failed.
    pub error_message: String,
    /// Where the run is inside its phase: the last key (userid, external_userid, chat_id) written, in key order.
    pub checkpoint: String,
    /// Times the run was resumed after its process died.
    pub resume_count: i32,
}

pub(crate) const STAFF_COLUMNS: &str = "userid, name, department_ids, main_department, position, mobile, gender, email, avatar, \
     alias, status, external_contact_enabled, fingerprint, resigned_at";
const SYNC_RUN_COLUMNS: &str = "id, scope, trigger_kind, state, phase, counts, api_calls, rate_limited_calls, \
     started_at, finished_at, error_message, checkpoint, resume_count";

impl IdentityStore {
    /// Every stored department.
    pub async fn departments(&self) -> Result<Vec<DepartmentRow>, sqlx::Error> {
        sqlx::query_as("SELECT id, parent_id, sort_order, name FROM identity_department ORDER BY id")
            .fetch_all(self.db.pool())
            .await
    }

    /// One department by WeCom id.
    pub async fn department(&self, id: i64) -> Result<Option<DepartmentRow>, sqlx::Error> {
        sqlx::query_as("SELECT id, parent_id, sort_order, name FROM identity_department WHERE id = ?")
            .bind(id)
            .fetch_optional(self.db.pool())
            .await
    }

    /// Writes a department: inserts it when new to scrm, rewrites it otherwise.
    pub async fn upsert_department(&self, department: &DepartmentRow, now: i64) -> Result<(), sqlx::Error> {
        let upsert = self.db.dialect().upsert_clause(&["id"], &["parent_id", "sort_order", "name", "updated_at"]);
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO identity_department (id, parent_id, sort_order, name, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?) {upsert}"
        )))
        .bind(department.id)
        .bind(department.parent_id)
        .bind(department.sort_order)
        .bind(&department.name)
        .bind(now)
        .bind(now)
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    /// Deletes department `id`; returns whether it existed.
    pub async fn delete_department(&self, id: i64) -> Result<bool, sqlx::Error> {
        let deleted = sqlx::query("DELETE FROM identity_department WHERE id = ?")
            .bind(id)
            .execute(self.db.pool())
            .await?
            .rows_affected();
        Ok(deleted > 0)
    }

    /// Userid, fingerprint and status of every stored staff member.
    pub async fn staff_fingerprints(&self) -> Result<Vec<StaffFingerprint>, sqlx::Error> {
        sqlx::query_as("SELECT userid, fingerprint, status FROM identity_staff ORDER BY id")
            .fetch_all(self.db.pool())
            .await
    }

    /// Userid and WeCom `department` ids (comma-separated) of every stored staff member.
    pub async fn staff_departments(&self) -> Result<Vec<(String, String)>, sqlx::Error> {
        sqlx::query_as("SELECT userid, department_ids FROM identity_staff").fetch_all(self.db.pool()).await
    }

    /// Writes a staff member as WeCom describes them now: inserts them when new to scrm, rewrites them (by
    /// userid) otherwise.
    pub async fn upsert_staff(&self, staff: &StaffRow, now: i64) -> Result<(), sqlx::Error> {
        let updated: Vec<&str> =
            STAFF_COLUMNS.split(", ").map(str::trim).filter(|column| *column != "userid").collect();
        let upsert = self.db.dialect().upsert_clause(&["userid"], &[updated.as_slice(), &["updated_at"]].concat());
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO identity_staff ({STAFF_COLUMNS}, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) {upsert}"
        )))
        .bind(&staff.userid)
        .bind(&staff.name)
        .bind(&staff.department_ids)
        .bind(staff.main_department)
        .bind(&staff.position)
        .bind(&staff.mobile)
        .bind(staff.gender)
        .bind(&staff.email)
        .bind(&staff.avatar)
        .bind(&staff.alias)
        .bind(staff.status)
        .bind(staff.external_contact_enabled)
        .bind(&staff.fingerprint)
        .bind(staff.resigned_at)
        .bind(now)
        .bind(now)
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    /// Renames a staff member's userid (WeCom allows one change, announced by `update_user` with
    /// `NewUserID`); returns whether a row was renamed. Nothing changes when `new` is already taken.
    pub async fn rename_staff(&self, old: &str, new: &str, now: i64) -> Result<bool, sqlx::Error> {
        let renamed = sqlx::query(
            "UPDATE identity_staff SET userid = ?, updated_at = ? WHERE userid = ? \
             AND NOT EXISTS (SELECT 1 FROM (SELECT userid FROM identity_staff WHERE userid = ?) AS taken)",
        )
        .bind(new)
        .bind(now)
        .bind(old)
        .bind(new)
        .execute(self.db.pool())
        .await?
        .rows_affected();
        Ok(renamed > 0)
    }

    /// Flags `userid` as resigned (status 5) unless it already is; returns whether it changed.
    pub async fn mark_staff_resigned(&self, userid: &str, now: i64) -> Result<bool, sqlx::Error> {
        let changed = sqlx::query(
            "UPDATE identity_staff SET status = ?, resigned_at = ?, updated_at = ? WHERE userid = ? AND status <> ?",
        )
        .bind(STAFF_STATUS_RESIGNED)
        .bind(now)
        .bind(now)
        .bind(userid)
        .bind(STAFF_STATUS_RESIGNED)
        .execute(self.db.pool())
        .await?
        .rows_affected();
        Ok(changed > 0)
    }

    /// One staff member by userid.
    pub async fn staff(&self, userid: &str) -> Result<Option<StaffRow>, sqlx::Error> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {STAFF_COLUMNS} FROM identity_staff WHERE userid = ?")))
            .bind(userid)
            .fetch_optional(self.db.pool())
            .await
    }

    /// Creates a sync run in state `state`; returns its id.
    pub async fn create_sync_run(
        &self,
        scope: i32,
        trigger: i32,
        state: i32,
        counts: &str,
        now: i64,
    ) -> Result<i64, sqlx::Error> {
        // Runs are created one at a time (the service holds a lock while starting one), so the largest id
        // in the same transaction is this run's; the Any driver does not report insert ids on every backend.
        let mut tx = self.db.pool().begin().await?;
        sqlx::query(
            "INSERT INTO identity_sync_run (scope, trigger_kind, state, phase, counts, api_calls, rate_limited_calls, \
             started_at, error_message) VALUES (?, ?, ?, 0, ?, 0, 0, ?, '')",
        )
        .bind(scope)
        .bind(trigger)
        .bind(state)
        .bind(counts)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let id: i64 = sqlx::query_scalar("SELECT MAX(id) FROM identity_sync_run").fetch_one(&mut *tx).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Writes a run's progress (and, with `finished_at`, its end).
    pub async fn update_sync_run(&self, run: &SyncRunRow) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE identity_sync_run SET state = ?, phase = ?, counts = ?, api_calls = ?, rate_limited_calls = ?, \
             finished_at = ?, error_message = ?, checkpoint = ?, resume_count = ? WHERE id = ?",
        )
        .bind(run.state)
        .bind(run.phase)
        .bind(&run.counts)
        .bind(run.api_calls)
        .bind(run.rate_limited_calls)
        .bind(run.finished_at)
        .bind(&run.error_message)
        .bind(&run.checkpoint)
        .bind(run.resume_count)
        .bind(run.id)
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    /// One sync run.
    pub async fn sync_run(&self, id: i64) -> Result<Option<SyncRunRow>, sqlx::Error> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {SYNC_RUN_COLUMNS} FROM identity_sync_run WHERE id = ?")))
            .bind(id)
            .fetch_optional(self.db.pool())
            .await
    }

    /// Sync runs, newest first, optionally only in `state`, with ids below `before`.
    pub async fn list_sync_runs(
        &self,
        state: Option<i32>,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<SyncRunRow>, sqlx::Error> {
        let mut query = QueryBuilder::new(format!("SELECT {SYNC_RUN_COLUMNS} FROM identity_sync_run WHERE 1 = 1"));
        if let Some(state) = state {
            query.push(" AND state = ").push_bind(state);
        }
        if let Some(before) = before {
            query.push(" AND id < ").push_bind(before);
        }
        query.push(" ORDER BY id DESC LIMIT ").push_bind(i64::from(limit));
        query.build_query_as().fetch_all(self.db.pool()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(dedup_key: &str, event: &str) -> NewInboxEvent {
        NewInboxEvent {
            dedup_key: dedup_key.to_owned(),
            event: event.to_owned(),
            change_type: "add_external_contact".to_owned(),
            created_at_ms: 1_700_000_000_000,
            received_at_ms: 1_700_000_000_500,
            raw_xml: "<xml><Event>change_external_contact</Event></xml>".to_owned(),
        }
    }

    async fn the_same_event_is_stored_once(db: Db) {
        db.migrate(&crate::MIGRATIONS).await.unwrap();
        let store = IdentityStore::new(db);
        let (first, duplicate) = store.insert_inbox_event(&event("k1", "change_external_contact")).await.unwrap();
        assert!(!duplicate);
        for _ in 0..2 {
            assert_eq!(store.insert_inbox_event(&event("k1", "change_external_contact")).await.unwrap(), (first, true));
        }
        let rows = store.list_inbox_events(&InboxFilter::default(), None, 10).await.unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].state(), InboxState::Pending);
        assert_eq!(rows[0].received_at, 1_700_000_000_500);
    }

    async fn lists_page_newest_first_with_filters(db: Db) {
        db.migrate(&crate::MIGRATIONS).await.unwrap();
        let store = IdentityStore::new(db);
        for index in 0..5 {
            let kind = if index % 2 == 0 { "change_external_contact" } else { "change_external_chat" };
            store.insert_inbox_event(&event(&format!("k{index}"), kind)).await.unwrap();
        }
        let first = store.list_inbox_events(&InboxFilter::default(), None, 2).await.unwrap();
        let keys: Vec<_> = first.iter().map(|row| row.dedup_key.as_str()).collect();
        assert_eq!(keys, ["k4", "k3"]);
        let second = store.list_inbox_events(&InboxFilter::default(), Some(first[1].id), 2).await.unwrap();
        let keys: Vec<_> = second.iter().map(|row| row.dedup_key.as_str()).collect();
        assert_eq!(keys, ["k2", "k1"]);
        let chats = InboxFilter { event: Some("change_external_chat".into()), ..InboxFilter::default() };
        assert_eq!(store.list_inbox_events(&chats, None, 10).await.unwrap().len(), 2);
        let processed = InboxFilter { state: Some(InboxState::Processed), ..InboxFilter::default() };
        assert!(store.list_inbox_events(&processed, None, 10).await.unwrap().is_empty());
    }

    async fn requeue_returns_the_event_pending(db: Db) {
        db.migrate(&crate::MIGRATIONS).await.unwrap();
        let store = IdentityStore::new(db);
        let (id, _) = store.insert_inbox_event(&event("k1", "change_contact")).await.unwrap();
        let row = store.requeue_inbox_event(id).await.unwrap().unwrap();
        assert_eq!((row.id, row.state()), (id, InboxState::Pending));
        assert_eq!(store.requeue_inbox_event(id + 100).await.unwrap(), None);
    }

    fn staff(userid: &str, fingerprint: &str) -> StaffRow {
        StaffRow {
            userid: userid.to_owned(),
            name: "张三".to_owned(),
            department_ids: "1,2".to_owned(),
            main_department: 1,
            position: "导购".to_owned(),
            mobile: "13800000000".to_owned(),
            gender: 1,
            email: String::new(),
            avatar: String::new(),
            alias: String::new(),
            status: 1,
            external_contact_enabled: 1,
            fingerprint: fingerprint.to_owned(),
            resigned_at: None,
        }
    }

    async fn departments_and_staff_are_written_and_resigned(db: Db) {
        db.migrate(&crate::MIGRATIONS).await.unwrap();
        let store = IdentityStore::new(db);
        let department = DepartmentRow { id: 2, parent_id: 1, sort_order: 100, name: String::new() };
        store.upsert_department(&department, 10).await.unwrap();
        store.upsert_department(&DepartmentRow { sort_order: 50, ..department.clone() }, 20).await.unwrap();
        assert_eq!(store.departments().await.unwrap(), [DepartmentRow { sort_order: 50, ..department.clone() }]);
        assert_eq!(store.department(2).await.unwrap().map(|row| row.sort_order), Some(50));
        assert!(store.delete_department(2).await.unwrap());
        assert!(!store.delete_department(2).await.unwrap(), "already gone");
        assert_eq!(store.department(2).await.unwrap(), None);

        store.upsert_staff(&staff("zhangsan", "f1"), 10).await.unwrap();
        store.upsert_staff(&staff("lisi", "f2"), 10).await.unwrap();
        store.upsert_staff(&StaffRow { name: "张三丰".into(), ..staff("zhangsan", "f3") }, 20).await.unwrap();
        let fingerprints = store.staff_fingerprints().await.unwrap();
        let pairs: Vec<_> = fingerprints.iter().map(|row| (row.userid.as_str(), row.fingerprint.as_str())).collect();
        assert_eq!(pairs, [("zhangsan", "f3"), ("lisi", "f2")]);
        assert_eq!(store.staff("zhangsan").await.unwrap().unwrap().name, "张三丰");

        assert!(store.mark_staff_resigned("lisi", 30).await.unwrap());
        assert!(!store.mark_staff_resigned("lisi", 40).await.unwrap(), "already resigned");
        let lisi = store.staff("lisi").await.unwrap().unwrap();
        assert_eq!((lisi.status, lisi.resigned_at), (STAFF_STATUS_RESIGNED, Some(30)));
        store.upsert_staff(&staff("lisi", "f2"), 50).await.unwrap();
        let back = store.staff("lisi").await.unwrap().unwrap();
        assert_eq!((back.status, back.resigned_at), (1, None));
        assert_eq!(store.staff("nobody").await.unwrap(), None);

        assert!(store.rename_staff("lisi", "lisi2", 60).await.unwrap());
        assert_eq!(store.staff("lisi2").await.unwrap().map(|row| row.fingerprint), Some("f2".to_owned()));
        assert!(!store.rename_staff("lisi2", "zhangsan", 70).await.unwrap(), "the new userid is taken");
        assert!(!store.rename_staff("nobody", "someone", 70).await.unwrap());
        assert_eq!(store.staff_fingerprints().await.unwrap().len(), 2);
    }

    async fn sync_runs_are_recorded_and_listed_newest_first(db: Db) {
        db.migrate(&crate::MIGRATIONS).await.unwrap();
        let store = IdentityStore::new(db);
        let first = store.create_sync_run(1, 1, 2, "{}", 1_000).await.unwrap();
        let second = store.create_sync_run(1, 1, 2, "{}", 2_000).await.unwrap();
        assert!(second > first);
        let mut row = store.sync_run(first).await.unwrap().unwrap();
        assert_eq!((row.state, row.finished_at, row.error_message.as_str()), (2, None, ""));
        row.state = 4;
        row.phase = 2;
        row.api_calls = 81;
        row.counts = r#"{"staff":{"seen":20}}"#.to_owned();
        row.finished_at = Some(3_000);
        row.error_message = "user/get: boom".to_owned();
        row.checkpoint = "wmCustomer0042".to_owned();
        row.resume_count = 1;
        store.update_sync_run(&row).await.unwrap();
        assert_eq!(store.sync_run(first).await.unwrap().unwrap(), row);
        assert_eq!(store.sync_run(second + 100).await.unwrap(), None);

        let ids = |rows: Vec<SyncRunRow>| rows.into_iter().map(|row| row.id).collect::<Vec<_>>();
        assert_eq!(ids(store.list_sync_runs(None, None, 10).await.unwrap()), [second, first]);
        assert_eq!(ids(store.list_sync_runs(None, Some(second), 10).await.unwrap()), [first]);
        assert_eq!(ids(store.list_sync_runs(Some(4), None, 10).await.unwrap()), [first]);
        assert_eq!(ids(store.list_sync_runs(None, None, 1).await.unwrap()), [second]);
    }

    async fn attempts_are_recorded_and_retries_wait_until_due(db: Db) {
        db.migrate(&crate::MIGRATIONS).await.unwrap();
        let store = IdentityStore::new(db);
        let (first, _) = store.insert_inbox_event(&event("k1", "change_contact")).await.unwrap();
        let (second, _) = store.insert_inbox_event(&event("k2", "change_contact")).await.unwrap();
        let ids = |rows: Vec<InboxRow>| rows.into_iter().map(|row| row.id).collect::<Vec<_>>();
        assert_eq!(ids(store.due_inbox_events(0, 10).await.unwrap()), [first, second]);
        assert_eq!(ids(store.due_inbox_events(0, 1).await.unwrap()), [first]);

        let retry = InboxAttempt {
            state: InboxState::Pending,
            attempts: 1,
            last_error: "user/get: system busy".to_owned(),
            processed_at: None,
            next_attempt_at: 5_000,
        };
        store.record_inbox_attempt(first, &retry).await.unwrap();
        assert_eq!(ids(store.due_inbox_events(4_999, 10).await.unwrap()), [second]);
        assert_eq!(ids(store.due_inbox_events(5_000, 10).await.unwrap()), [first, second]);

        let done = InboxAttempt {
            state: InboxState::Processed,
            attempts: 2,
            last_error: String::new(),
            processed_at: Some(6_000),
            next_attempt_at: 0,
        };
        store.record_inbox_attempt(first, &done).await.unwrap();
        let row = store.list_inbox_events(&InboxFilter::default(), None, 10).await.unwrap().pop().unwrap();
        assert_eq!(
            (row.id, row.state(), row.attempts, row.processed_at),
            (first, InboxState::Processed, 2, Some(6_000))
        );
        assert_eq!(ids(store.due_inbox_events(10_000, 10).await.unwrap()), [second]);
        store.requeue_inbox_event(first).await.unwrap();
        assert_eq!(ids(store.due_inbox_events(0, 10).await.unwrap()), [first, second]);
    }

    scrm_storage::store_test_suite!(
        attempts_are_recorded_and_retries_wait_until_due,
        the_same_event_is_stored_once,
        lists_page_newest_first_with_filters,
        requeue_returns_the_event_pending,
        departments_and_staff_are_written_and_resigned,
        sync_runs_are_recorded_and_listed_newest_first
    );
}
