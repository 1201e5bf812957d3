//! The messaging service's tables: broadcasts, their owner tasks (the durable fan-out queue) and per-group
//! results.

use scrm_storage::Db;
use std::collections::{BTreeMap, HashMap};

use sqlx::{Any, AnyConnection, FromRow, QueryBuilder};

use crate::domain::{BroadcastState, GroupFigure, Outcome, PlannedTask, TargetGroup, TaskState};

/// Rows per multi-row statement.
const ROWS_PER_STATEMENT: usize = 500;

/// What a broadcast asks for: the stored fields a creation sets.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct NewBroadcast {
    /// Retry key.
    pub idempotency_key: String,
    /// Name.
    pub name: String,
    /// Targets as JSON.
    pub targets_json: String,
    /// Message type code.
    pub msg_type: i32,
    /// Text.
    pub content: String,
    /// Attachments as JSON.
    pub attachments_json: String,
    /// Send time, Unix ms.
    pub scheduled_at: i64,
    /// Creation time, Unix ms.
    pub created_at: i64,
    /// Creator.
    pub creator: String,
    /// Receive quota in force.
    pub quota_per_day: i32,
}

/// A stored broadcast: what it asks for and where it stands.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct BroadcastRow {
    /// Id.
    pub id: i64,
    /// State code.
    pub state: i32,
    /// What it asks for.
    #[sqlx(flatten)]
    pub spec: NewBroadcast,
    /// Fan-out start.
    pub starts_at: Option<i64>,
    /// End.
    pub ends_at: Option<i64>,
    /// End of the confirmation window.
    pub confirm_deadline: Option<i64>,
    /// Why it failed.
    pub failure_reason: String,
}

const BROADCAST_COLUMNS: &str = "id, idempotency_key, name, state, targets_json, msg_type, content, attachments_json, \
     scheduled_at, created_at, creator, starts_at, ends_at, confirm_deadline, failure_reason, quota_per_day";

/// A task of the fan-out queue.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct TaskRow {
    /// Id.
    pub id: i64,
    /// Broadcast.
    pub broadcast_id: i64,
    /// Sender.
    pub owner: String,
    /// Sender's name.
    pub owner_name: String,
    /// Index among the owner's tasks.
    pub seq: i32,
    /// State code.
    pub state: i32,
    /// Attempts so far.
    pub attempts: i32,
    /// When it is next due.
    pub next_run_at: i64,
    /// When the current attempt started.
    pub attempt_started_at: Option<i64>,
    /// WeCom msgid once created.
    pub msgid: String,
    /// Last errcode.
    pub errcode: i32,
    /// Last errmsg.
    pub errmsg: String,
    /// 1 once every group of the task has a final WeCom status.
    pub confirmed: i32,
    /// Reminder times, comma-separated Unix ms.
    pub remind_times: String,
    /// When created in our queue.
    pub created_at: i64,
}

impl TaskRow {
    /// The task's state.
    pub fn state(&self) -> TaskState {
        TaskState::from_code(self.state)
    }
}

const TASK_COLUMNS: &str = "id, broadcast_id, owner, owner_name, seq, state, attempts, next_run_at, attempt_started_at, \
     msgid, errcode, errmsg, confirmed, remind_times, created_at";

/// A per-group result.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct GroupRow {
    /// Broadcast.
    pub broadcast_id: i64,
    /// WeCom chat id.
    pub chat_id: String,
    /// scrm group id.
    pub group_id: i64,
    /// Group name.
    pub group_name: String,
    /// Owner.
    pub owner: String,
    /// Owner's name.
    pub owner_name: String,
    /// Task, when one was planned.
    pub task_id: Option<i64>,
    /// Outcome code.
    pub outcome: i32,
    /// WeCom status + 1 (0 = not fetched).
    pub status: i32,
    /// 1 when flagged for the quota before sending.
    pub quota_flagged: i32,
    /// WeCom send time, Unix ms.
    pub sent_at: Option<i64>,
    /// Last errcode.
    pub errcode: i32,
    /// Last errmsg.
    pub errmsg: String,
    /// Updated at, Unix ms.
    pub updated_at: i64,
}

const GROUP_COLUMNS: &str = "broadcast_id, chat_id, group_id, group_name, owner, owner_name, task_id, outcome, status, \
     quota_flagged, sent_at, errcode, errmsg, updated_at";

/// Which broadcasts to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BroadcastFilter {
    /// State codes; empty = any.
    pub states: Vec<i32>,
    /// Scheduled at or after.
    pub scheduled_after: Option<i64>,
    /// Scheduled before.
    pub scheduled_before: Option<i64>,
    /// Substring of name or content.
    pub query: String,
}

/// A target of a started broadcast, with its quota verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartingGroup {
    /// The group.
    pub group: TargetGroup,
    /// Certain to exceed the quota: not sent.
    pub quota_flagged: bool,
    /// Dismissed before the start: not sent.
    pub dismissed: bool,
}

/// Counts of a broadcast's tasks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TaskCounts {
    /// Tasks planned.
    pub total: i64,
    /// Tasks created in WeCom.
    pub created: i64,
}

/// Reads and writes the `messaging_*` tables.
#[derive(Debug, Clone)]
pub struct MessagingStore {
    db: Db,
}

impl MessagingStore {
    /// A store over `db`.
    pub fn new(db: Db) -> Self {
        MessagingStore { db }
    }

    /// The database, for the robot tables.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Stores `broadcast` unless its idempotency key exists; returns the stored one and whether it was a retry.
    pub async fn insert_broadcast(&self, broadcast: &NewBroadcast) -> Result<(BroadcastRow, bool), sqlx::Error> {
        let insert = format!(
            "{} INTO messaging_broadcast (idempotency_key, name, state, targets_json, msg_type, content, \
             attachments_json, scheduled_at, created_at, creator, failure_reason, quota_per_day) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', ?)",
            self.db.dialect().insert_ignore()
        );
        let inserted = sqlx::query(sqlx::AssertSqlSafe(insert))
            .bind(&broadcast.idempotency_key)
            .bind(&broadcast.name)
            .bind(BroadcastState::Scheduled.code())
            .bind(&broadcast.targets_json)
            .bind(broadcast.msg_type)
            .bind(&broadcast.content)
            .bind(&broadcast.attachments_json)
            .bind(broadcast.scheduled_at)
            .bind(broadcast.created_at)
            .bind(&broadcast.creator)
            .bind(broadcast.quota_per_day)
            .execute(self.db.pool())
            .await?
            .rows_affected();
        let row = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {BROADCAST_COLUMNS} FROM messaging_broadcast WHERE idempotency_key = ?"
        )))
        .bind(&broadcast.idempotency_key)
        .fetch_one(self.db.pool())
        .await?;
        Ok((row, inserted == 0))
    }

    /// The broadcast `id`.
    pub async fn broadcast(&self, id: i64) -> Result<Option<BroadcastRow>, sqlx::Error> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {BROADCAST_COLUMNS} FROM messaging_broadcast WHERE id = ?")))
            .bind(id)
            .fetch_optional(self.db.pool())
            .await
    }

    /// Broadcasts matching `filter`, newest first, with ids below `before`.
    pub async fn list_broadcasts(
        &self,
        filter: &BroadcastFilter,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<BroadcastRow>, sqlx::Error> {
        let mut query =
            QueryBuilder::<Any>::new(format!("SELECT {BROADCAST_COLUMNS} FROM messaging_broadcast WHERE 1 = 1"));
        if !filter.states.is_empty() {
            query.push(" AND state");
            push_in_list(&mut query, &filter.states);
        }
        if let Some(after) = filter.scheduled_after {
            query.push(" AND scheduled_at >= ").push_bind(after);
        }
        if let Some(before) = filter.scheduled_before {
            query.push(" AND scheduled_at < ").push_bind(before);
        }
        if !filter.query.is_empty() {
            let pattern = format!("%{}%", filter.query.to_lowercase());
            query.push(" AND (LOWER(name) LIKE ").push_bind(pattern.clone());
            query.push(" OR LOWER(content) LIKE ").push_bind(pattern).push(")");
        }
        if let Some(before) = before {
            query.push(" AND id < ").push_bind(before);
        }
        query.push(" ORDER BY id DESC LIMIT ").push_bind(i64::from(limit));
        query.build_query_as().fetch_all(self.db.pool()).await
    }

    /// Ids of scheduled broadcasts whose time has come.
    pub async fn due_broadcasts(&self, now: i64) -> Result<Vec<i64>, sqlx::Error> {
        sqlx::query_scalar("SELECT id FROM messaging_broadcast WHERE state = ? AND scheduled_at <= ? ORDER BY id")
            .bind(BroadcastState::Scheduled.code())
            .bind(now)
            .fetch_all(self.db.pool())
            .await
    }

    /// Ids of broadcasts in `state`.
    pub async fn broadcasts_in(&self, state: BroadcastState) -> Result<Vec<BroadcastRow>, sqlx::Error> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {BROADCAST_COLUMNS} FROM messaging_broadcast WHERE state = ? ORDER BY id"
        )))
        .bind(state.code())
        .fetch_all(self.db.pool())
        .await
    }

    /// Starts broadcast `id`: freezes its groups and queues its tasks, in one transaction, only if it is
    /// still scheduled. Returns false when it was not (cancelled, or started by another worker).
    pub async fn start_broadcast(
        &self,
        id: i64,
        groups: &[StartingGroup],
        tasks: &[PlannedTask],
        now: i64,
        confirm_deadline: i64,
        day: i64,
    ) -> Result<bool, sqlx::Error> {
        let mut tx = self.db.pool().begin().await?;
        let started = sqlx::query(
            "UPDATE messaging_broadcast SET state = ?, starts_at = ?, confirm_deadline = ? WHERE id = ? AND state = ?",
        )
        .bind(BroadcastState::FanningOut.code())
        .bind(now)
        .bind(confirm_deadline)
        .bind(id)
        .bind(BroadcastState::Scheduled.code())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if started == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        for chunk in tasks.chunks(ROWS_PER_STATEMENT) {
            let mut query = QueryBuilder::<Any>::new(
                "INSERT INTO messaging_broadcast_task (broadcast_id, owner, owner_name, seq, state, next_run_at, \
                 created_at, updated_at) ",
            );
            query.push_values(chunk, |mut row, task| {
                row.push_bind(id)
                    .push_bind(task.owner.clone())
                    .push_bind(task.owner_name.clone())
                    .push_bind(task.seq)
                    .push_bind(TaskState::Pending.code())
                    .push_bind(now)
                    .push_bind(now)
                    .push_bind(now);
            });
            query.build().execute(&mut *tx).await?;
        }
        let task_ids: Vec<(i64, String, i32)> =
            sqlx::query_as("SELECT id, owner, seq FROM messaging_broadcast_task WHERE broadcast_id = ?")
                .bind(id)
                .fetch_all(&mut *tx)
                .await?;
        let id_of: HashMap<(&str, i32), i64> =
            task_ids.iter().map(|(task_id, owner, seq)| ((owner.as_str(), *seq), *task_id)).collect();
        let mut task_of = HashMap::new();
        for task in tasks {
            let task_id = id_of.get(&(task.owner.as_str(), task.seq)).copied();
            for chat_id in &task.chat_ids {
                task_of.insert(chat_id.as_str(), task_id);
            }
        }
        for chunk in groups.chunks(ROWS_PER_STATEMENT) {
            let mut query =
                QueryBuilder::<Any>::new(format!("INSERT INTO messaging_broadcast_group ({GROUP_COLUMNS}, day) "));
            query.push_values(chunk, |mut row, starting| {
                let group = &starting.group;
                let (task_id, outcome) = if starting.dismissed {
                    (None, Outcome::GroupDismissed)
                } else if starting.quota_flagged {
                    (None, Outcome::QuotaExceeded)
                } else {
                    (task_of.get(group.chat_id.as_str()).copied().flatten(), Outcome::Pending)
                };
                row.push_bind(id)
                    .push_bind(group.chat_id.clone())
                    .push_bind(group.group_id)
                    .push_bind(group.name.clone())
                    .push_bind(group.owner.clone())
                    .push_bind(group.owner_name.clone())
                    .push_bind(task_id)
                    .push_bind(outcome.code())
                    .push_bind(0_i32)
                    .push_bind(i32::from(starting.quota_flagged))
                    .push_bind(None::<i64>)
                    .push_bind(0_i32)
                    .push_bind(String::new())
                    .push_bind(now)
                    .push_bind(day);
            });
            query.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Group messages already sent to, or queued for, each of `chat_ids` on corp day `day` by other broadcasts.
    pub async fn quota_usage(&self, chat_ids: &[String], day: i64) -> Result<HashMap<String, i64>, sqlx::Error> {
        let mut usage = HashMap::new();
        for chunk in chat_ids.chunks(ROWS_PER_STATEMENT) {
            let mut query =
                QueryBuilder::<Any>::new("SELECT chat_id, COUNT(*) FROM messaging_broadcast_group WHERE day = ");
            query.push_bind(day).push(" AND outcome");
            let counted = [Outcome::Pending, Outcome::AwaitingConfirmation, Outcome::Delivered].map(Outcome::code);
            push_in_list(&mut query, &counted);
            query.push(" AND chat_id");
            push_in_list(&mut query, chunk);
            query.push(" GROUP BY chat_id");
            let rows: Vec<(String, i64)> = query.build_query_as().fetch_all(self.db.pool()).await?;
            usage.extend(rows);
        }
        Ok(usage)
    }

    /// Marks broadcast `id` failed to start.
    pub async fn fail_broadcast(&self, id: i64, reason: &str, now: i64) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE messaging_broadcast SET state = ?, failure_reason = ?, ends_at = ? WHERE id = ? AND state = ?",
        )
        .bind(BroadcastState::Failed.code())
        .bind(reason)
        .bind(now)
        .bind(id)
        .bind(BroadcastState::Scheduled.code())
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    /// Cancels broadcast `id` if it is still scheduled; returns whether it was.
    pub async fn cancel_scheduled(&self, id: i64, now: i64) -> Result<bool, sqlx::Error> {
        let changed = sqlx::query("UPDATE messaging_broadcast SET state = ?, ends_at = ? WHERE id = ? AND state = ?")
            .bind(BroadcastState::Cancelled.code())
            .bind(now)
            .bind(id)
            .bind(BroadcastState::Scheduled.code())
            .execute(self.db.pool())
            .await?
            .rows_affected();
        Ok(changed > 0)
    }

    /// Stops a started broadcast: tasks not created are cancelled, open groups become cancelled. Returns
    /// the msgids of created tasks whose owners have not confirmed (to cancel in WeCom).
    pub async fn cancel_started(&self, id: i64, now: i64) -> Result<Vec<String>, sqlx::Error> {
        let mut tx = self.db.pool().begin().await?;
        sqlx::query("UPDATE messaging_broadcast SET state = ?, ends_at = ? WHERE id = ? AND state IN (?, ?)")
            .bind(BroadcastState::Cancelled.code())
            .bind(now)
            .bind(id)
            .bind(BroadcastState::FanningOut.code())
            .bind(BroadcastState::AwaitingConfirmation.code())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE messaging_broadcast_task SET state = ?, updated_at = ? WHERE broadcast_id = ? AND state = ?",
        )
        .bind(TaskState::Cancelled.code())
        .bind(now)
        .bind(id)
        .bind(TaskState::Pending.code())
        .execute(&mut *tx)
        .await?;
        let msgids: Vec<String> = sqlx::query_scalar(
            "SELECT msgid FROM messaging_broadcast_task WHERE broadcast_id = ? AND state = ? AND confirmed = 0",
        )
        .bind(id)
        .bind(TaskState::Created.code())
        .fetch_all(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE messaging_broadcast_group SET outcome = ?, updated_at = ? WHERE broadcast_id = ? AND outcome IN (?, ?)",
        )
        .bind(Outcome::Cancelled.code())
        .bind(now)
        .bind(id)
        .bind(Outcome::Pending.code())
        .bind(Outcome::AwaitingConfirmation.code())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(msgids)
    }

    /// Moves scheduled broadcast `id` to `scheduled_at`; returns whether it was still scheduled.
    pub async fn reschedule(&self, id: i64, scheduled_at: i64) -> Result<bool, sqlx::Error> {
        let changed = sqlx::query("UPDATE messaging_broadcast SET scheduled_at = ? WHERE id = ? AND state = ?")
            .bind(scheduled_at)
            .bind(id)
            .bind(BroadcastState::Scheduled.code())
            .execute(self.db.pool())
            .await?
            .rows_affected();
        Ok(changed > 0)
    }

    /// Leases up to `limit` tasks of fanning-out broadcasts that are due, for `lease_ms`, in one transaction.
    pub async fn claim_due_tasks(&self, now: i64, limit: u32, lease_ms: i64) -> Result<Vec<TaskRow>, sqlx::Error> {
        let mut tx = self.db.pool().begin().await?;
        let candidates: Vec<i64> = sqlx::query_scalar(
            "SELECT t.id FROM messaging_broadcast_task t JOIN messaging_broadcast b ON b.id = t.broadcast_id \
             WHERE t.state IN (?, ?) AND t.next_run_at <= ? AND t.lease_until < ? AND b.state = ? \
             ORDER BY t.next_run_at, t.id LIMIT ?",
        )
        .bind(TaskState::Pending.code())
        .bind(TaskState::Sending.code())
        .bind(now)
        .bind(now)
        .bind(BroadcastState::FanningOut.code())
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await?;
        let mut won = Vec::with_capacity(candidates.len());
        for id in candidates {
            let leased =
                sqlx::query("UPDATE messaging_broadcast_task SET lease_until = ? WHERE id = ? AND lease_until < ?")
                    .bind(now + lease_ms)
                    .bind(id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            if leased > 0 {
                won.push(id);
            }
        }
        let claimed = if won.is_empty() {
            Vec::new()
        } else {
            let mut query =
                QueryBuilder::<Any>::new(format!("SELECT {TASK_COLUMNS} FROM messaging_broadcast_task WHERE id"));
            push_in_list(&mut query, &won);
            query.push(" ORDER BY next_run_at, id");
            query.build_query_as().fetch_all(&mut *tx).await?
        };
        tx.commit().await?;
        Ok(claimed)
    }

    /// The task `id`.
    pub async fn task(&self, id: i64) -> Result<Option<TaskRow>, sqlx::Error> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {TASK_COLUMNS} FROM messaging_broadcast_task WHERE id = ?")))
            .bind(id)
            .fetch_optional(self.db.pool())
            .await
    }

    /// Tasks of broadcast `id`.
    pub async fn tasks_of(&self, broadcast_id: i64) -> Result<Vec<TaskRow>, sqlx::Error> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {TASK_COLUMNS} FROM messaging_broadcast_task WHERE broadcast_id = ? ORDER BY owner, seq"
        )))
        .bind(broadcast_id)
        .fetch_all(self.db.pool())
        .await
    }

    /// Chat ids of the groups of each of `task_ids`, sorted, in one query.
    pub async fn chat_ids_of_tasks(&self, task_ids: &[i64]) -> Result<HashMap<i64, Vec<String>>, sqlx::Error> {
        let mut chats: HashMap<i64, Vec<String>> = HashMap::new();
        if task_ids.is_empty() {
            return Ok(chats);
        }
        let mut query =
            QueryBuilder::<Any>::new("SELECT task_id, chat_id FROM messaging_broadcast_group WHERE task_id");
        push_in_list(&mut query, task_ids);
        query.push(" ORDER BY task_id, chat_id");
        let rows: Vec<(i64, String)> = query.build_query_as().fetch_all(self.db.pool()).await?;
        for (task_id, chat_id) in rows {
            chats.entry(task_id).or_default().push(chat_id);
        }
        Ok(chats)
    }

    /// Records that `add_msg_template` calls for tasks `ids` start now, in one statement: from here until the
    /// outcome is stored, WeCom may hold a task we do not know of, and recovery must look it up before calling
    /// again.
    pub async fn mark_sending(&self, ids: &[i64], now: i64) -> Result<(), sqlx::Error> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut query = QueryBuilder::<Any>::new("UPDATE messaging_broadcast_task SET state = ");
        query.push_bind(TaskState::Sending.code());
        query.push(", attempts = attempts + 1, attempt_started_at = ").push_bind(now);
        query.push(", updated_at = ").push_bind(now).push(" WHERE id");
        push_in_list(&mut query, ids);
        query.build().execute(self.db.pool()).await?;
        Ok(())
    }

    /// Whether `msgid` is already recorded on some task.
    pub async fn msgid_known(&self, msgid: &str) -> Result<bool, sqlx::Error> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM messaging_broadcast_task WHERE msgid = ?")
            .bind(msgid)
            .fetch_one(self.db.pool())
            .await?;
        Ok(count > 0)
    }

    /// Stores the outcomes of a batch of attempts, in one transaction.
    pub async fn settle(&self, outcomes: &[(i64, TaskUpdate)], now: i64) -> Result<(), sqlx::Error> {
        if outcomes.is_empty() {
            return Ok(());
        }
        let mut tx = self.db.pool().begin().await?;
        for (id, update) in outcomes {
            match update {
                TaskUpdate::Created { msgid, fail_list } => mark_created(&mut tx, *id, msgid, fail_list, now).await?,
                TaskUpdate::Retry { state, next_run_at, errcode, errmsg, counts_attempt } => {
                    sqlx::query(
                        "UPDATE messaging_broadcast_task SET state = ?, next_run_at = ?, lease_until = 0, \
                         attempts = attempts + ?, errcode = ?, errmsg = ?, updated_at = ? WHERE id = ?",
                    )
                    .bind(state.code())
                    .bind(*next_run_at)
                    .bind(i32::from(*counts_attempt))
                    .bind(*errcode)
                    .bind(errmsg)
                    .bind(now)
                    .bind(*id)
                    .execute(&mut *tx)
                    .await?;
                }
                TaskUpdate::Failed { errcode, errmsg } => mark_failed(&mut tx, *id, *errcode, errmsg, now).await?,
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// The media broadcast `broadcast_id` uploaded: `(attachment index, media_id, uploaded_at)`.
    pub async fn uploaded_media(&self, broadcast_id: i64) -> Result<Vec<(i32, String, i64)>, sqlx::Error> {
        sqlx::query_as(
            "SELECT attachment_index, media_id, uploaded_at FROM messaging_broadcast_media WHERE broadcast_id = ? \
             ORDER BY attachment_index",
        )
        .bind(broadcast_id)
        .fetch_all(self.db.pool())
        .await
    }

    /// Records that attachment `index` of broadcast `broadcast_id` was uploaded as `media_id` at `uploaded_at`.
    pub async fn save_media(
        &self,
        broadcast_id: i64,
        index: i32,
        media_id: &str,
        uploaded_at: i64,
    ) -> Result<(), sqlx::Error> {
        let upsert = format!(
            "INSERT INTO messaging_broadcast_media (broadcast_id, attachment_index, media_id, uploaded_at) \
             VALUES (?, ?, ?, ?) {}",
            self.db.dialect().upsert_clause(&["broadcast_id", "attachment_index"], &["media_id", "uploaded_at"])
        );
        sqlx::query(sqlx::AssertSqlSafe(upsert))
            .bind(broadcast_id)
            .bind(index)
            .bind(media_id)
            .bind(uploaded_at)
            .execute(self.db.pool())
            .await?;
        Ok(())
    }

    /// Moves fanning-out broadcasts whose tasks are all settled to awaiting confirmation.
    pub async fn finish_fanouts(&self) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE messaging_broadcast SET state = ? WHERE state = ? AND NOT EXISTS (SELECT 1 FROM \
             messaging_broadcast_task t WHERE t.broadcast_id = messaging_broadcast.id AND t.state IN (?, ?))",
        )
        .bind(BroadcastState::AwaitingConfirmation.code())
        .bind(BroadcastState::FanningOut.code())
        .bind(TaskState::Pending.code())
        .bind(TaskState::Sending.code())
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    /// Created tasks of live broadcasts not yet fully confirmed whose results are due.
    pub async fn tasks_to_poll(&self, now: i64, limit: u32) -> Result<Vec<TaskRow>, sqlx::Error> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {} FROM messaging_broadcast_task t JOIN messaging_broadcast b ON b.id = t.broadcast_id \
             WHERE t.state = ? AND t.confirmed = 0 AND t.next_run_at <= ? AND b.state IN (?, ?) \
             ORDER BY t.next_run_at, t.id LIMIT ?",
            TASK_COLUMNS.split(", ").map(|column| format!("t.{column}")).collect::<Vec<_>>().join(", ")
        )))
        .bind(TaskState::Created.code())
        .bind(now)
        .bind(BroadcastState::FanningOut.code())
        .bind(BroadcastState::AwaitingConfirmation.code())
        .bind(i64::from(limit))
        .fetch_all(self.db.pool())
        .await
    }

    /// Stores WeCom's per-group results of task `id` (`(chat_id, wecom status, send_time ms)`), and schedules
    /// the next poll; the task counts as confirmed when none of its groups is still waiting.
    pub async fn apply_results(
        &self,
        id: i64,
        results: &[(String, i64, i64)],
        next_poll_at: i64,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        // Groups confirmed together share a status and a send time: one statement per such set.
        let mut sets: BTreeMap<(i64, i64), Vec<String>> = BTreeMap::new();
        for (chat_id, status, sent_at) in results {
            sets.entry((*status, *sent_at)).or_default().push(chat_id.clone());
        }
        let mut tx = self.db.pool().begin().await?;
        for ((status, sent_at), chat_ids) in sets {
            let stored_status = i32::try_from(status + 1).unwrap_or(0);
            let mut query = QueryBuilder::<Any>::new("UPDATE messaging_broadcast_group SET outcome = ");
            query.push_bind(Outcome::of_wecom_status(status).code()).push(", status = ").push_bind(stored_status);
            query.push(", sent_at = ").push_bind((sent_at > 0).then_some(sent_at));
            query.push(", updated_at = ").push_bind(now).push(" WHERE task_id = ").push_bind(id);
            query.push(" AND outcome = ").push_bind(Outcome::AwaitingConfirmation.code());
            query.push(" AND status <> ").push_bind(stored_status).push(" AND chat_id");
            push_in_list(&mut query, &chat_ids);
            query.build().execute(&mut *tx).await?;
        }
        let open: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM messaging_broadcast_group WHERE task_id = ? AND outcome = ?")
                .bind(id)
                .bind(Outcome::AwaitingConfirmation.code())
                .fetch_one(&mut *tx)
                .await?;
        sqlx::query("UPDATE messaging_broadcast_task SET confirmed = ?, next_run_at = ?, updated_at = ? WHERE id = ?")
            .bind(i32::from(open == 0))
            .bind(next_poll_at)
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records the reminder times of task `id`.
    pub async fn set_remind_times(&self, id: i64, times: &[i64]) -> Result<(), sqlx::Error> {
        let stored = times.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        sqlx::query("UPDATE messaging_broadcast_task SET remind_times = ? WHERE id = ?")
            .bind(stored)
            .bind(id)
            .execute(self.db.pool())
            .await?;
        Ok(())
    }

    /// Completes awaiting broadcasts with no open group, and those whose confirmation window closed (their
    /// waiting groups become unconfirmed). Returns the ids completed.
    pub async fn complete_broadcasts(&self, now: i64) -> Result<Vec<i64>, sqlx::Error> {
        let awaiting = self.broadcasts_in(BroadcastState::AwaitingConfirmation).await?;
        let mut completed = Vec::new();
        for broadcast in awaiting {
            let open: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM messaging_broadcast_group WHERE broadcast_id = ? AND outcome IN (?, ?)",
            )
            .bind(broadcast.id)
            .bind(Outcome::Pending.code())
            .bind(Outcome::AwaitingConfirmation.code())
            .fetch_one(self.db.pool())
            .await?;
            let window_closed = broadcast.confirm_deadline.is_some_and(|deadline| deadline <= now);
            if open > 0 && !window_closed {
                continue;
            }
            let mut tx = self.db.pool().begin().await?;
            sqlx::query(
                "UPDATE messaging_broadcast_group SET outcome = ?, updated_at = ? WHERE broadcast_id = ? AND outcome IN (?, ?)",
            )
            .bind(Outcome::Unconfirmed.code())
            .bind(now)
            .bind(broadcast.id)
            .bind(Outcome::Pending.code())
            .bind(Outcome::AwaitingConfirmation.code())
            .execute(&mut *tx)
            .await?;
            sqlx::query("UPDATE messaging_broadcast SET state = ?, ends_at = ? WHERE id = ? AND state = ?")
                .bind(BroadcastState::Completed.code())
                .bind(now)
                .bind(broadcast.id)
                .bind(BroadcastState::AwaitingConfirmation.code())
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            completed.push(broadcast.id);
        }
        Ok(completed)
    }

    /// The report figures of broadcast `id`'s groups.
    pub async fn group_figures(&self, broadcast_id: i64) -> Result<Vec<GroupFigure>, sqlx::Error> {
        let rows: Vec<(i32, String, String, i32, i32, String)> = sqlx::query_as(
            "SELECT outcome, owner, owner_name, quota_flagged, errcode, errmsg FROM messaging_broadcast_group \
             WHERE broadcast_id = ?",
        )
        .bind(broadcast_id)
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(outcome, owner, owner_name, quota_flagged, errcode, errmsg)| GroupFigure {
                outcome: Outcome::from_code(outcome),
                owner,
                owner_name,
                quota_flagged: quota_flagged != 0,
                errcode,
                errmsg,
            })
            .collect())
    }

    /// Task counts of broadcast `id`.
    pub async fn task_counts(&self, broadcast_id: i64) -> Result<TaskCounts, sqlx::Error> {
        let (total, created): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), COUNT(CASE WHEN state = ? THEN 1 END) FROM messaging_broadcast_task \
             WHERE broadcast_id = ?",
        )
        .bind(TaskState::Created.code())
        .bind(broadcast_id)
        .fetch_one(self.db.pool())
        .await?;
        Ok(TaskCounts { total, created })
    }

    /// A page of broadcast `id`'s group results, by owner then group name, after `offset` rows.
    pub async fn group_results(
        &self,
        broadcast_id: i64,
        outcomes: &[i32],
        owners: &[String],
        offset: i64,
        limit: u32,
    ) -> Result<Vec<GroupRow>, sqlx::Error> {
        let mut query = QueryBuilder::<Any>::new(format!(
            "SELECT {GROUP_COLUMNS} FROM messaging_broadcast_group WHERE broadcast_id = "
        ));
        query.push_bind(broadcast_id);
        if !outcomes.is_empty() {
            query.push(" AND outcome");
            push_in_list(&mut query, outcomes);
        }
        if !owners.is_empty() {
            query.push(" AND owner");
            push_in_list(&mut query, owners);
        }
        query.push(" ORDER BY owner, group_name, chat_id LIMIT ").push_bind(i64::from(limit));
        query.push(" OFFSET ").push_bind(offset);
        query.build_query_as().fetch_all(self.db.pool()).await
    }
}

/// What an attempt at a task came to, to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskUpdate {
    /// WeCom created the task `msgid`; groups in `fail_list` (WeCom refused them) become errors.
    Created {
        /// WeCom's msgid.
        msgid: String,
        /// Chat ids WeCom refused.
        fail_list: Vec<String>,
    },
    /// Back in the queue at `next_run_at`, in `state`, with the error that delayed it.
    Retry {
        /// Pending (certainly not created) or Sending (look it up first).
        state: TaskState,
        /// When it is next due.
        next_run_at: i64,
        /// The error's errcode.
        errcode: i32,
        /// The error's message.
        errmsg: String,
        /// Whether this counts as an attempt (a failed preparation, before any `add_msg_template` call).
        counts_attempt: bool,
    },
    /// Given up on: the task and its open groups fail with `errcode`.
    Failed {
        /// The errcode.
        errcode: i32,
        /// The message.
        errmsg: String,
    },
}

/// Appends ` IN (?, ?, ...)` binding `values`.
fn push_in_list<T>(query: &mut QueryBuilder<Any>, values: &[T])
where
    T: for<'t> sqlx::Encode<'t, Any> + sqlx::Type<Any> + Clone,
{
    query.push(" IN (");
    let mut list = query.separated(", ");
    for value in values {
        list.push_bind(value.clone());
    }
    query.push(")");
}

async fn mark_created(
    conn: &mut AnyConnection,
    id: i64,
    msgid: &str,
    fail_list: &[String],
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE messaging_broadcast_task SET state = ?, msgid = ?, next_run_at = ?, lease_until = 0, errcode = 0, \
         errmsg = '', updated_at = ? WHERE id = ?",
    )
    .bind(TaskState::Created.code())
    .bind(msgid)
    .bind(now)
    .bind(now)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE messaging_broadcast_group SET outcome = ?, updated_at = ? WHERE task_id = ? AND outcome = ?")
        .bind(Outcome::AwaitingConfirmation.code())
        .bind(now)
        .bind(id)
        .bind(Outcome::Pending.code())
        .execute(&mut *conn)
        .await?;
    if fail_list.is_empty() {
        return Ok(());
    }
    let mut query = QueryBuilder::<Any>::new("UPDATE messaging_broadcast_group SET outcome = ");
    query.push_bind(Outcome::Error.code()).push(", errcode = ").push_bind(crate::ERRCODE_IN_FAIL_LIST);
    query.push(", errmsg = ").push_bind("WeCom refused the group (fail_list): not owned by the sender or not sendable");
    query.push(", updated_at = ").push_bind(now).push(" WHERE task_id = ").push_bind(id).push(" AND chat_id");
    push_in_list(&mut query, fail_list);
    query.build().execute(&mut *conn).await?;
    Ok(())
}

async fn mark_failed(
    conn: &mut AnyConnection,
    id: i64,
    errcode: i32,
    errmsg: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE messaging_broadcast_task SET state = ?, lease_until = 0, errcode = ?, errmsg = ?, updated_at = ? \
         WHERE id = ?",
    )
    .bind(TaskState::Failed.code())
    .bind(errcode)
    .bind(errmsg)
    .bind(now)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE messaging_broadcast_group SET outcome = ?, errcode = ?, errmsg = ?, updated_at = ? \
         WHERE task_id = ? AND outcome = ?",
    )
    .bind(Outcome::Error.code())
    .bind(errcode)
    .bind(errmsg)
    .bind(now)
    .bind(id)
    .bind(Outcome::Pending.code())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::plan_tasks;

    fn target(owner: &str, chat_id: &str) -> TargetGroup {
        TargetGroup {
            group_id: 7,
            chat_id: chat_id.to_owned(),
            name: format!("群{chat_id}"),
            owner: owner.to_owned(),
            owner_name: owner.to_owned(),
            member_count: 10,
        }
    }

    fn new_broadcast(key: &str) -> NewBroadcast {
        NewBroadcast {
            idempotency_key: key.to_owned(),
            name: "预告".to_owned(),
            targets_json: "{}".to_owned(),
            msg_type: 1,
            content: "今晚8点盲盒秒杀".to_owned(),
            attachments_json: "[]".to_owned(),
            scheduled_at: 1_000,
            created_at: 500,
            creator: "admin".to_owned(),
            quota_per_day: 1,
        }
    }

    async fn idempotent_create_and_full_lifecycle(db: Db) {
        db.migrate(&crate::MIGRATIONS).await.unwrap();
        let store = MessagingStore::new(db);
        let (first, replayed) = store.insert_broadcast(&new_broadcast("k1")).await.unwrap();
        assert!(!replayed);
        let (again, replayed) = store.insert_broadcast(&new_broadcast("k1")).await.unwrap();
        assert!(replayed);
        assert_eq!(first.id, again.id);
        assert_eq!(store.due_broadcasts(999).await.unwrap(), Vec::<i64>::new());
        assert_eq!(store.due_broadcasts(1_000).await.unwrap(), vec![first.id]);

        let groups = vec![target("a", "c1"), target("a", "c2"), target("b", "c3")];
        let tasks = plan_tasks(&groups, 2000);
        let starting: Vec<_> = groups
            .iter()
            .map(|group| StartingGroup { group: group.clone(), quota_flagged: group.chat_id == "c3", dismissed: false })
            .collect();
        assert!(store.start_broadcast(first.id, &starting, &tasks, 1_000, 9_000, 3).await.unwrap());
        assert!(!store.start_broadcast(first.id, &starting, &tasks, 1_000, 9_000, 3).await.unwrap(), "starts once");
        let usage = store.quota_usage(&["c1".to_owned(), "c3".to_owned()], 3).await.unwrap();
        assert_eq!(usage.get("c1"), Some(&1));
        assert_eq!(usage.get("c3"), None, "a flagged group uses no quota");

        let claimed = store.claim_due_tasks(1_000, 10, 60_000).await.unwrap();
        assert_eq!(claimed.len(), 2);
        assert!(store.claim_due_tasks(1_001, 10, 60_000).await.unwrap().is_empty(), "leased tasks are not claimed");
        let task_a = claimed.iter().find(|task| task.owner == "a").unwrap();
        let task_b = claimed.iter().find(|task| task.owner == "b").unwrap();
        let chats = store.chat_ids_of_tasks(&[task_a.id, task_b.id]).await.unwrap();
        assert_eq!(chats[&task_a.id], vec!["c1", "c2"]);
        assert!(!chats.contains_key(&task_b.id), "c3 was flagged, so b's task names no group");
        store.mark_sending(&[task_a.id, task_b.id], 1_001).await.unwrap();
        let sending = store.task(task_a.id).await.unwrap().unwrap();
        assert_eq!(
            (sending.state(), sending.attempts, sending.attempt_started_at),
            (TaskState::Sending, 1, Some(1_001))
        );
        let created = TaskUpdate::Created { msgid: "msgA".to_owned(), fail_list: vec!["c2".to_owned()] };
        let failed = TaskUpdate::Failed { errcode: 40003, errmsg: "invalid userid".to_owned() };
        store.settle(&[(task_a.id, created), (task_b.id, failed)], 1_002).await.unwrap();
        assert!(store.msgid_known("msgA").await.unwrap());
        store.finish_fanouts().await.unwrap();
        assert_eq!(
            store.broadcast(first.id).await.unwrap().unwrap().state,
            BroadcastState::AwaitingConfirmation.code()
        );

        let to_poll = store.tasks_to_poll(1_003, 10).await.unwrap();
        assert_eq!(to_poll.len(), 1);
        store.apply_results(task_a.id, &[("c1".to_owned(), 1, 1_500)], 2_000, 1_500).await.unwrap();
        assert!(store.tasks_to_poll(1_600, 10).await.unwrap().is_empty());
        assert_eq!(store.complete_broadcasts(1_600).await.unwrap(), vec![first.id]);

        let report = crate::domain::report(&store.group_figures(first.id).await.unwrap());
        assert_eq!((report.targeted, report.delivered, report.quota, report.errors), (3, 1, 1, 1));
        assert_eq!(report.errors_by_code[0].0, crate::ERRCODE_IN_FAIL_LIST);
        let counts = store.task_counts(first.id).await.unwrap();
        assert_eq!((counts.total, counts.created), (2, 1));
        let page = store.group_results(first.id, &[], &["a".to_owned()], 0, 10).await.unwrap();
        assert_eq!(page.iter().map(|row| row.chat_id.as_str()).collect::<Vec<_>>(), vec!["c1", "c2"]);
        assert_eq!(page[0].sent_at, Some(1_500));
    }

    async fn cancel_and_reschedule_only_before_start(db: Db) {
        db.migrate(&crate::MIGRATIONS).await.unwrap();
        let store = MessagingStore::new(db);
        let (one, _) = store.insert_broadcast(&new_broadcast("a")).await.unwrap();
        assert!(store.reschedule(one.id, 5_000).await.unwrap());
        assert!(store.cancel_scheduled(one.id, 600).await.unwrap());
        assert!(!store.reschedule(one.id, 6_000).await.unwrap());
        assert!(!store.start_broadcast(one.id, &[], &[], 5_000, 9_000, 0).await.unwrap());
        let listed = store
            .list_broadcasts(&BroadcastFilter { query: "盲盒".to_owned(), ..BroadcastFilter::default() }, None, 10)
            .await
            .unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].state, BroadcastState::Cancelled.code());
    }

    async fn retries_count_only_when_asked_and_media_upserts(db: Db) {
        db.migrate(&crate::MIGRATIONS).await.unwrap();
        let store = MessagingStore::new(db);
        let (broadcast, _) = store.insert_broadcast(&new_broadcast("m")).await.unwrap();
        let groups = vec![target("a", "c1")];
        let starting = vec![StartingGroup { group: groups[0].clone(), quota_flagged: false, dismissed: false }];
        assert!(
            store.start_broadcast(broadcast.id, &starting, &plan_tasks(&groups, 2000), 1_000, 9_000, 3).await.unwrap()
        );
        let task = store.claim_due_tasks(1_000, 10, 60_000).await.unwrap().remove(0);
        let retry = |counts_attempt| TaskUpdate::Retry {
            state: TaskState::Pending,
            next_run_at: 2_000,
            errcode: -1005,
            errmsg: "cannot fetch".to_owned(),
            counts_attempt,
        };
        store.settle(&[(task.id, retry(true))], 1_001).await.unwrap();
        store.settle(&[(task.id, retry(false))], 1_002).await.unwrap();
        let stored = store.task(task.id).await.unwrap().unwrap();
        assert_eq!((stored.attempts, stored.next_run_at, stored.errcode), (1, 2_000, -1005));
        assert_eq!(store.claim_due_tasks(2_000, 10, 60_000).await.unwrap().len(), 1, "the lease was released");

        assert!(store.uploaded_media(broadcast.id).await.unwrap().is_empty());
        store.save_media(broadcast.id, 0, "media-1", 1_000).await.unwrap();
        store.save_media(broadcast.id, 0, "media-2", 5_000).await.unwrap();
        assert_eq!(store.uploaded_media(broadcast.id).await.unwrap(), vec![(0, "media-2".to_owned(), 5_000)]);
    }

    scrm_storage::store_test_suite!(
        idempotent_create_and_full_lifecycle,
        cancel_and_reschedule_only_before_start,
        retries_count_only_when_asked_and_media_upserts
    );
}
