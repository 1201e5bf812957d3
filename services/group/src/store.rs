//! The group service's tables.

pub mod activity;
pub mod alerts;
pub mod cursor;
pub mod join_ways;
pub mod list;
pub mod statistic;
pub mod tags;
pub mod totals;
pub mod welcome;

use std::future::Future;

use scrm_kernel::StoreScope;
use scrm_storage::{Db, Dialect, push_store_filter};
use sqlx::error::ErrorKind;
use sqlx::{AnyConnection, FromRow, QueryBuilder};

use crate::domain::{
    ChatRecord, ChatSnapshot, Departure, MemberInput, MemberRecord, Merge, merge_dismissal, merge_member_changes,
    merge_snapshot, version_gap,
};
use crate::speakers::SpeakerCounter;
use crate::welcome::fresh_customer_joins;

/// What happened to one group snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotChange {
    /// The group was new.
    Created,
    /// Something stored changed.
    Updated,
    /// Nothing changed (identical, or older than the stored snapshot).
    Unchanged,
}

/// The result of writing one group snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotOutcome {
    /// What happened to the group.
    pub change: SnapshotChange,
    /// Members recorded as joined.
    pub members_joined: i32,
    /// Members recorded as left.
    pub members_left: i32,
}

/// The result of recording member joins and leaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MembersOutcome {
    /// Joins recorded.
    pub joined: i32,
    /// Leaves recorded.
    pub left: i32,
    /// Entries already applied.
    pub unchanged: i32,
    /// Whether the callback's last member version did not match the stored one.
    pub version_gap: bool,
}

/// The result of marking groups dismissed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DismissOutcome {
    /// Groups newly marked dismissed.
    pub dismissed: i32,
    /// Groups already dismissed.
    pub unchanged: i32,
    /// chat_ids not stored.
    pub unknown_chat_ids: Vec<String>,
}

#[derive(Debug, FromRow)]
struct ChatRow {
    chat_id: String,
    name: String,
    owner_userid: String,
    notice: Option<String>,
    status: i32,
    admin_userids: String,
    member_version: String,
    created_at: i64,
    dismissed_at: Option<i64>,
    observed_at: Option<i64>,
    member_count: i32,
    customer_count: i32,
    staff_count: i32,
}

impl From<ChatRow> for ChatRecord {
    fn from(row: ChatRow) -> Self {
        ChatRecord {
            chat_id: row.chat_id,
            name: row.name,
            owner_userid: row.owner_userid,
            notice: row.notice.unwrap_or_default(),
            status: row.status,
            admin_userids: row.admin_userids.split(',').filter(|id| !id.is_empty()).map(str::to_owned).collect(),
            member_version: row.member_version,
            created_at: row.created_at,
            dismissed_at: row.dismissed_at,
            observed_at: row.observed_at,
            member_count: row.member_count,
            customer_count: row.customer_count,
            staff_count: row.staff_count,
        }
    }
}

const CHAT_COLUMNS: &str = "chat_id, name, owner_userid, notice, status, admin_userids, member_version, created_at, \
     dismissed_at, observed_at, member_count, customer_count, staff_count";

const MEMBER_COLUMNS: &str = "userid, member_type, name, group_nickname, unionid, joined_at, join_scene, \
     inviter_userid, state, left_at, quit_scene";

/// Member columns an upsert replaces.
const MEMBER_UPDATE_COLUMNS: [&str; 11] = [
    "member_type",
    "name",
    "group_nickname",
    "unionid",
    "joined_at",
    "join_scene",
    "inviter_userid",
    "state",
    "left_at",
    "quit_scene",
    "updated_at",
];

/// Member rows per multi-row upsert.
const MEMBER_CHUNK: usize = 200;

/// Attempts of a write that lost a race with another writer of the same group.
const WRITE_ATTEMPTS: u32 = 3;

/// Reads and writes the `group_*` tables.
#[derive(Debug, Clone)]
pub struct GroupStore {
    db: Db,
    speakers: SpeakerCounter,
}

impl GroupStore {
    /// A store over `db`, counting speakers exactly.
    pub fn new(db: Db) -> Self {
        Self::with_speakers(db, SpeakerCounter::Exact)
    }

    /// A store over `db` counting distinct speakers with `speakers`.
    pub fn with_speakers(db: Db, speakers: SpeakerCounter) -> Self {
        GroupStore { db, speakers }
    }

    /// Whether the speaker figures are estimates.
    pub fn speakers_approximate(&self) -> bool {
        self.speakers.approximate()
    }

    /// Counts the customer groups in `scope` that are not dismissed.
    pub async fn count_groups(&self, scope: &StoreScope) -> Result<i64, sqlx::Error> {
        let mut query = QueryBuilder::new("SELECT COUNT(*) FROM group_chat WHERE dismissed_at IS NULL");
        push_store_filter(&mut query, "store_id", scope);
        query.build_query_scalar().fetch_one(self.db.pool()).await
    }

    /// Writes one group snapshot read from WeCom. Unchanged snapshots (the common case of a repeated sync) are
    /// detected without a write lock.
    pub async fn upsert_group_chat(&self, snapshot: &ChatSnapshot, now: i64) -> Result<SnapshotOutcome, sqlx::Error> {
        {
            let mut connection = self.db.pool().acquire().await?;
            let stored = load_chat(&mut connection, self.db.dialect(), &snapshot.chat_id, false).await?;
            let members = match &stored {
                Some(_) => load_members(&mut connection, &snapshot.chat_id).await?,
                None => Vec::new(),
            };
            if stored.is_some() && !merge_snapshot(stored.as_ref(), &members, snapshot, now).changes_anything() {
                return Ok(SnapshotOutcome { change: SnapshotChange::Unchanged, members_joined: 0, members_left: 0 });
            }
        }
        retrying(|| async {
            let mut tx = self.begin_write().await?;
            let stored = load_chat(&mut tx, self.db.dialect(), &snapshot.chat_id, true).await?;
            let members = match &stored {
                Some(_) => load_members(&mut tx, &snapshot.chat_id).await?,
                None => Vec::new(),
            };
            let merge = merge_snapshot(stored.as_ref(), &members, snapshot, now);
            let change = match &stored {
                None => SnapshotChange::Created,
                Some(_) if merge.changes_anything() => SnapshotChange::Updated,
                Some(_) => SnapshotChange::Unchanged,
            };
            let outcome = SnapshotOutcome { change, members_joined: merge.joined, members_left: merge.left };
            write_merge(&mut tx, self.db.dialect(), &snapshot.chat_id, &merge, stored.is_none(), now).await?;
            if stored.is_some() {
                let joins = fresh_customer_joins(&members, &merge.members, now);
                welcome::queue_joins(&mut tx, self.db.dialect().insert_ignore(), &snapshot.chat_id, &joins, now)
                    .await?;
            }
            tx.commit().await?;
            Ok(outcome)
        })
        .await
    }

    /// Records member joins and leaves of one group; `None` when the group is not stored.
    pub async fn upsert_group_members(
        &self,
        chat_id: &str,
        joined: &[MemberInput],
        departed: &[Departure],
        last_mem_ver: &str,
        cur_mem_ver: &str,
        now: i64,
    ) -> Result<Option<MembersOutcome>, sqlx::Error> {
        retrying(|| async {
            let mut tx = self.begin_write().await?;
            let Some(stored) = load_chat(&mut tx, self.db.dialect(), chat_id, true).await? else {
                return Ok(None);
            };
            let members = load_members(&mut tx, chat_id).await?;
            let gap = version_gap(&stored.member_version, last_mem_ver, cur_mem_ver);
            // After a gap the stored version stays, so that every later callback reports it until a snapshot.
            let member_version = if gap { "" } else { cur_mem_ver };
            let merge = merge_member_changes(&stored, &members, joined, departed, member_version, now);
            write_merge(&mut tx, self.db.dialect(), chat_id, &merge, false, now).await?;
            let joins = fresh_customer_joins(&members, &merge.members, now);
            welcome::queue_joins(&mut tx, self.db.dialect().insert_ignore(), chat_id, &joins, now).await?;
            tx.commit().await?;
            Ok(Some(MembersOutcome {
                joined: merge.joined,
                left: merge.left,
                unchanged: merge.unchanged,
                version_gap: gap,
            }))
        })
        .await
    }

    /// Marks groups dismissed at `dismissed_at`, their members leaving with them.
    pub async fn mark_dismissed(
        &self,
        chat_ids: &[String],
        dismissed_at: i64,
        now: i64,
    ) -> Result<DismissOutcome, sqlx::Error> {
        let mut outcome = DismissOutcome::default();
        for chat_id in chat_ids {
            let dismissed = retrying(|| async {
                let mut tx = self.begin_write().await?;
                let Some(stored) = load_chat(&mut tx, self.db.dialect(), chat_id, true).await? else {
                    return Ok(None);
                };
                let members = load_members(&mut tx, chat_id).await?;
                let Some(merge) = merge_dismissal(&stored, &members, dismissed_at) else {
                    return Ok(Some(false));
                };
                write_merge(&mut tx, self.db.dialect(), chat_id, &merge, false, now).await?;
                tx.commit().await?;
                Ok(Some(true))
            })
            .await?;
            match dismissed {
                Some(true) => outcome.dismissed += 1,
                Some(false) => outcome.unchanged += 1,
                None => outcome.unknown_chat_ids.push(chat_id.clone()),
            }
        }
        Ok(outcome)
    }

    /// A transaction that serialises writers of the same group: SQLite takes its write lock up front
    /// (`BEGIN IMMEDIATE`, so that no read lock has to be upgraded), MySQL locks the group row on reading it.
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        match self.db.dialect() {
            Dialect::Sqlite => self.db.pool().begin_with("BEGIN IMMEDIATE").await,
            Dialect::MySql => self.db.pool().begin().await,
        }
    }
}

/// Reads a stored group, locking its row for the transaction when `for_update` (MySQL).
async fn load_chat(
    connection: &mut AnyConnection,
    dialect: Dialect,
    chat_id: &str,
    for_update: bool,
) -> Result<Option<ChatRecord>, sqlx::Error> {
    let lock = if for_update && dialect == Dialect::MySql { " FOR UPDATE" } else { "" };
    let row: Option<ChatRow> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {CHAT_COLUMNS} FROM group_chat WHERE chat_id = ?{lock}")))
            .bind(chat_id)
            .fetch_optional(&mut *connection)
            .await?;
    Ok(row.map(ChatRecord::from))
}

/// Reads every stored member of a group, current and departed.
async fn load_members(connection: &mut AnyConnection, chat_id: &str) -> Result<Vec<MemberRecord>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {MEMBER_COLUMNS} FROM group_member WHERE chat_id = ?")))
        .bind(chat_id)
        .fetch_all(&mut *connection)
        .await
}

/// Writes what a merge produced: the group row (inserted when `create`) and the member rows.
async fn write_merge(
    connection: &mut AnyConnection,
    dialect: Dialect,
    chat_id: &str,
    merge: &Merge,
    create: bool,
    now: i64,
) -> Result<(), sqlx::Error> {
    if let Some(chat) = &merge.chat {
        if create {
            sqlx::query(
                "INSERT INTO group_chat (chat_id, name, owner_userid, notice, status, admin_userids, member_version, \
                 created_at, dismissed_at, observed_at, member_count, customer_count, staff_count, updated_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(&chat.chat_id)
            .bind(&chat.name)
            .bind(&chat.owner_userid)
            .bind(&chat.notice)
            .bind(chat.status)
            .bind(chat.admin_userids.join(","))
            .bind(&chat.member_version)
            .bind(chat.created_at)
            .bind(chat.dismissed_at)
            .bind(chat.observed_at)
            .bind(chat.member_count)
            .bind(chat.customer_count)
            .bind(chat.staff_count)
            .bind(now)
            .execute(&mut *connection)
            .await?;
        } else {
            let mut update = QueryBuilder::new("UPDATE group_chat SET name = ");
            update.push_bind(chat.name.clone());
            update.push(", owner_userid = ").push_bind(chat.owner_userid.clone());
            update.push(", notice = ").push_bind(chat.notice.clone());
            update.push(", status = ").push_bind(chat.status);
            update.push(", admin_userids = ").push_bind(chat.admin_userids.join(","));
            update.push(", member_version = ").push_bind(chat.member_version.clone());
            update.push(", created_at = ").push_bind(chat.created_at);
            update.push(", dismissed_at = ").push_bind(chat.dismissed_at);
            update.push(", observed_at = ").push_bind(chat.observed_at);
            update.push(", member_count = ").push_bind(chat.member_count);
            update.push(", customer_count = ").push_bind(chat.customer_count);
            update.push(", staff_count = ").push_bind(chat.staff_count);
            if merge.touch_updated_at {
                update.push(", updated_at = ").push_bind(now);
            }
            update.push(" WHERE chat_id = ").push_bind(chat_id.to_owned());
            update.build().execute(&mut *connection).await?;
        }
    }
    let upsert = dialect.upsert_clause(&["chat_id", "userid"], &MEMBER_UPDATE_COLUMNS);
    for chunk in merge.members.chunks(MEMBER_CHUNK) {
        let mut insert = QueryBuilder::new(
            "INSERT INTO group_member (chat_id, userid, member_type, name, group_nickname, unionid, joined_at, \
             join_scene, inviter_userid, state, left_at, quit_scene, updated_at) ",
        );
        insert.push_values(chunk, |mut row, member| {
            row.push_bind(chat_id.to_owned())
                .push_bind(member.userid.clone())
                .push_bind(member.member_type)
                .push_bind(member.name.clone())
                .push_bind(member.group_nickname.clone())
                .push_bind(member.unionid.clone())
                .push_bind(member.joined_at)
                .push_bind(member.join_scene)
                .push_bind(member.inviter_userid.clone())
                .push_bind(member.state.clone())
                .push_bind(member.left_at)
                .push_bind(member.quit_scene)
                .push_bind(now);
        });
        insert.push(" ").push(&upsert);
        insert.build().execute(&mut *connection).await?;
    }
    Ok(())
}

/// Runs `attempt` again when it lost a race with another writer (a MySQL deadlock, a busy SQLite, or a
/// duplicate key from a concurrent first insert of the same group).
async fn retrying<T, F, Fut>(mut attempt: F) -> Result<T, sqlx::Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, sqlx::Error>>,
{
    let mut tries = 1;
    loop {
        match attempt().await {
            Err(error) if tries < WRITE_ATTEMPTS && lost_a_race(&error) => {
                tracing::debug!(%error, tries, "a group write lost a race with another writer; retrying");
                tries += 1;
            }
            result => return result,
        }
    }
}

fn lost_a_race(error: &sqlx::Error) -> bool {
    let sqlx::Error::Database(error) = error else { return false };
    // 40001: MySQL deadlock (1213); 5, 261, 517: SQLITE_BUSY and its extended codes.
    error.kind() == ErrorKind::UniqueViolation || matches!(error.code().as_deref(), Some("40001" | "5" | "261" | "517"))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    async fn insert_group(db: &Db, chat_id: &str, store_id: Option<&str>, dismissed_at: Option<i64>) {
        sqlx::query(
            "INSERT INTO group_chat (chat_id, name, owner_userid, store_id, created_at, dismissed_at, updated_at) \
             VALUES (?, ?, ?, ?, 0, ?, 0)",
        )
        .bind(chat_id)
        .bind("盲盒福利群")
        .bind("zhangsan")
        .bind(store_id)
        .bind(dismissed_at)
        .execute(db.pool())
        .await
        .unwrap();
    }

    async fn counts_live_groups_within_scope(db: Db) {
        db.migrate(&crate::MIGRATIONS).await.unwrap();
        let store = GroupStore::new(db.clone());
        assert_eq!(store.count_groups(&StoreScope::All).await.unwrap(), 0);
        insert_group(&db, "wr1", Some("s1"), None).await;
        insert_group(&db, "wr2", Some("s2"), None).await;
        insert_group(&db, "wr3", Some("s1"), Some(1_700_000_000_000)).await;
        assert_eq!(store.count_groups(&StoreScope::All).await.unwrap(), 2);
        assert_eq!(store.count_groups(&StoreScope::Only(vec!["s1".into()])).await.unwrap(), 1);
        assert_eq!(store.count_groups(&StoreScope::Only(vec!["s3".into()])).await.unwrap(), 0);
    }

    /// A member joining through join way `join-way-1`.
    pub(crate) fn member(userid: &str, member_type: i32, joined_at: i64) -> MemberInput {
        MemberInput {
            userid: userid.to_owned(),
            member_type,
            joined_at: Some(joined_at),
            join_scene: 3,
            inviter_userid: "zhangsan".to_owned(),
            group_nickname: String::new(),
            name: format!("name of {userid}"),
            unionid: String::new(),
            state: "join-way-1".to_owned(),
        }
    }

    /// A complete snapshot of group `chat_id`.
    pub(crate) fn snapshot(chat_id: &str, members: Vec<MemberInput>, observed_at: i64) -> ChatSnapshot {
        ChatSnapshot {
            chat_id: chat_id.to_owned(),
            name: "盲盒福利群".to_owned(),
            owner_userid: "zhangsan".to_owned(),
            created_at: Some(500),
            notice: "欢迎".to_owned(),
            status: 1,
            admin_userids: vec!["lisi".to_owned()],
            members_complete: true,
            members,
            member_version: format!("v{observed_at}"),
            observed_at: Some(observed_at),
        }
    }

    fn three_members() -> Vec<MemberInput> {
        vec![member("zhangsan", 1, 1_000), member("wm1", 2, 2_000), member("wm2", 2, 3_000)]
    }

    /// Every stored row of both tables, as text, to compare database states.
    async fn dump(db: &Db) -> Vec<String> {
        let chats: Vec<ChatRow> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {CHAT_COLUMNS} FROM group_chat ORDER BY chat_id")))
                .fetch_all(db.pool())
                .await
                .unwrap();
        let updated: Vec<(String, i64)> = sqlx::query_as("SELECT chat_id, updated_at FROM group_chat ORDER BY chat_id")
            .fetch_all(db.pool())
            .await
            .unwrap();
        let members: Vec<(String, String, i64, Option<i64>, i32, i64)> = sqlx::query_as(
            "SELECT chat_id, userid, joined_at, left_at, quit_scene, updated_at FROM group_member ORDER BY chat_id, userid",
        )
        .fetch_all(db.pool())
        .await
        .unwrap();
        let mut rows: Vec<String> = chats.iter().map(|row| format!("{row:?}")).collect();
        rows.extend(updated.iter().map(|row| format!("{row:?}")));
        rows.extend(members.iter().map(|row| format!("{row:?}")));
        rows
    }

    async fn member_row(db: &Db, chat_id: &str, userid: &str) -> MemberRecord {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {MEMBER_COLUMNS} FROM group_member WHERE chat_id = ? AND userid = ?"
        )))
        .bind(chat_id)
        .bind(userid)
        .fetch_one(db.pool())
        .await
        .unwrap()
    }

    async fn chat_row(db: &Db, chat_id: &str) -> ChatRecord {
        let mut connection = db.pool().acquire().await.unwrap();
        load_chat(&mut connection, db.dialect(), chat_id, false).await.unwrap().unwrap()
    }

    async fn updated_at(db: &Db, chat_id: &str) -> i64 {
        sqlx::query_scalar("SELECT updated_at FROM group_chat WHERE chat_id = ?")
            .bind(chat_id)
            .fetch_one(db.pool())
            .await
            .unwrap()
    }

    async fn a_snapshot_creates_the_group_and_repeating_it_changes_nothing(db: Db) {
        db.migrate(&crate::MIGRATIONS).await.unwrap();
        let store = GroupStore::new(db.clone());
        let input = snapshot("wr1", three_members(), 1_700_000_000_000);
        let outcome = store.upsert_group_chat(&input, 1_700_000_001_000).await.unwrap();
        assert_eq!(outcome, SnapshotOutcome { change: SnapshotChange::Created, members_joined: 3, members_left: 0 });
        let chat = chat_row(&db, "wr1").await;
        assert_eq!((chat.member_count, chat.customer_count, chat.staff_count), (3, 2, 1));
        assert_eq!(
            (chat.name.as_str(), chat.notice.as_str(), chat.admin_userids.as_slice()),
            ("盲盒福利群", "欢迎", &["lisi".to_owned()][..])
        );
        assert_eq!((chat.created_at, chat.observed_at, chat.status), (500, Some(1_700_000_000_000), 1));
        assert_eq!(updated_at(&db, "wr1").await, 1_700_000_001_000);
        let wm1 = member_row(&db, "wr1", "wm1").await;
        assert_eq!((wm1.member_type, wm1.join_scene, wm1.state.as_str(), wm1.left_at), (2, 3, "join-way-1", None));
        assert_eq!(store.count_groups(&StoreScope::All).await.unwrap(), 1);

        let before = dump(&db).await;
        for now in [1_700_000_002_000, 1_700_000_003_000] {
            let again = store.upsert_group_chat(&input, now).await.unwrap();
            assert_eq!(
                again,
                SnapshotOutcome { change: SnapshotChange::Unchanged, members_joined: 0, members_left: 0 }
            );
        }
        // A later sync reading the same group changes nothing either.
        let later = snapshot("wr1", three_members(), 1_700_000_000_000);
        let later = ChatSnapshot { observed_at: Some(1_800_000_000_000), ..later };
        assert_eq!(store.upsert_group_chat(&later, 1_800_000_001_000).await.unwrap().change, SnapshotChange::Unchanged);
        assert_eq!(dump(&db).await, before);
    }

    async fn a_changed_snapshot_updates_and_an_older_one_is_ignored(db: Db) {
        db.migrate(&crate::MIGRATIONS).await.unwrap();
        let store = GroupStore::new(db.clone());
        store.upsert_group_chat(&snapshot("wr1", three_members(), 1_000_000), 1_000_500).await.unwrap();
        let renamed = ChatSnapshot { name: "会员群".into(), ..snapshot("wr1", three_members(), 2_000_000) };
        let outcome = store.upsert_group_chat(&renamed, 2_000_500).await.unwrap();
        assert_eq!(outcome.change, SnapshotChange::Updated);
        assert_eq!(updated_at(&db, "wr1").await, 2_000_500);
        let stale = ChatSnapshot { name: "旧名字".into(), ..snapshot("wr1", three_members(), 1_500_000) };
        assert_eq!(store.upsert_group_chat(&stale, 3_000_000).await.unwrap().change, SnapshotChange::Unchanged);
        assert_eq!(chat_row(&db, "wr1").await.name, "会员群");
        // A member joining changes the members, not updated_at.
        let mut four = three_members();
        four.push(member("wm3", 2, 2_500_000));
        let four = ChatSnapshot { name: "会员群".into(), ..snapshot("wr1", four, 3_000_000) };
        let outcome = store.upsert_group_chat(&four, 3_000_500).await.unwrap();
        assert_eq!(outcome, SnapshotOutcome { change: SnapshotChange::Updated, members_joined: 1, members_left: 0 });
        assert_eq!(updated_at(&db, "wr1").await, 2_000_500);
        assert_eq!(chat_row(&db, "wr1").await.member_count, 4);
    }

    async fn members_missing_from_a_complete_snapshot_are_marked_left(db: Db) {
        db.migrate(&crate::MIGRATIONS).await.unwrap();
        let store = GroupStore::new(db.clone());
        store.upsert_group_chat(&snapshot("wr1", three_members(), 1_000_000), 1_000_500).await.unwrap();
        let two = vec![member("zhangsan", 1, 1_000), member("wm2", 2, 3_000)];
        let outcome = store.upsert_group_chat(&snapshot("wr1", two.clone(), 2_000_000), 2_000_500).await.unwrap();
        assert_eq!(outcome, SnapshotOutcome { change: SnapshotChange::Updated, members_joined: 0, members_left: 1 });
        let wm1 = member_row(&db, "wr1", "wm1").await;
        assert_eq!((wm1.left_at, wm1.quit_scene), (Some(2_000_000), crate::domain::quit_scene::MISSING_FROM_SNAPSHOT));
        let chat = chat_row(&db, "wr1").await;
        assert_eq!((chat.member_count, chat.customer_count, chat.staff_count), (2, 1, 1));
        let before = dump(&db).await;
        assert_eq!(
            store.upsert_group_chat(&snapshot("wr1", two, 2_000_000), 2_100_000).await.unwrap().change,
            SnapshotChange::Unchanged
        );
        // A partial snapshot leaves absent members alone.
        let partial = ChatSnapshot { members_complete: false, members: vec![], ..snapshot("wr1", vec![], 2_000_000) };
        assert_eq!(store.upsert_group_chat(&partial, 2_200_000).await.unwrap().change, SnapshotChange::Unchanged);
        assert_eq!(dump(&db).await, before);
        let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM group_member").fetch_one(db.pool()).await.unwrap();
        assert_eq!(rows, 3, "departed members are kept");
    }

    async fn member_joins_and_leaves_are_recorded_once(db: Db) {
        db.migrate(&crate::MIGRATIONS).await.unwrap();
        let store = GroupStore::new(db.clone());
        store.upsert_group_chat(&snapshot("wr1", three_members(), 1_000_000), 1_000_500).await.unwrap();
        let join = [member("wm9", 2, 2_000_000)];
        let first = store.upsert_group_members("wr1", &join, &[], "v1000000", "v2", 2_000_500).await.unwrap().unwrap();
        assert_eq!(first, MembersOutcome { joined: 1, left: 0, unchanged: 0, version_gap: false });
        assert_eq!(chat_row(&db, "wr1").await.member_count, 4);
        assert_eq!(member_row(&db, "wr1", "wm9").await.state, "join-way-1");
        let before = dump(&db).await;
        let replay = store.upsert_group_members("wr1", &join, &[], "v1000000", "v2", 2_100_000).await.unwrap().unwrap();
        assert_eq!(replay, MembersOutcome { joined: 0, left: 0, unchanged: 1, version_gap: false });
        assert_eq!(dump(&db).await, before);

        let leave = [Departure { userid: "wm9".into(), quit_scene: 2, left_at: Some(3_000_000) }];
        let left = store.upsert_group_members("wr1", &[], &leave, "v2", "v3", 3_000_500).await.unwrap().unwrap();
        assert_eq!(left, MembersOutcome { joined: 0, left: 1, unchanged: 0, version_gap: false });
        let wm9 = member_row(&db, "wr1", "wm9").await;
        assert_eq!((wm9.left_at, wm9.quit_scene), (Some(3_000_000), 2));
        let chat = chat_row(&db, "wr1").await;
        assert_eq!((chat.member_count, chat.customer_count, chat.member_version.as_str()), (3, 2, "v3"));
        let before = dump(&db).await;
        let replay = store.upsert_group_members("wr1", &[], &leave, "v2", "v3", 3_100_000).await.unwrap().unwrap();
        assert_eq!(replay, MembersOutcome { joined: 0, left: 0, unchanged: 1, version_gap: false });
        // A leave of someone never seen changes nothing.
        let stranger = [Departure { userid: "wm404".into(), quit_scene: 1, left_at: None }];
        let outcome = store.upsert_group_members("wr1", &[], &stranger, "", "", 3_200_000).await.unwrap().unwrap();
        assert_eq!((outcome.left, outcome.unchanged), (0, 1));
        assert_eq!(dump(&db).await, before);

        // A callback whose previous version is not the stored one reports the gap, and keeps reporting it.
        let late = [member("wm10", 2, 4_000_000)];
        let gap = store.upsert_group_members("wr1", &late, &[], "v5", "v6", 4_000_500).await.unwrap().unwrap();
        assert_eq!(gap, MembersOutcome { joined: 1, left: 0, unchanged: 0, version_gap: true });
        assert_eq!(chat_row(&db, "wr1").await.member_version, "v3");
        assert_eq!(store.upsert_group_members("wr9", &late, &[], "", "", 0).await.unwrap(), None);
    }

    async fn dismissal_is_recorded_once_and_hides_the_group(db: Db) {
        db.migrate(&crate::MIGRATIONS).await.unwrap();
        let store = GroupStore::new(db.clone());
        store.upsert_group_chat(&snapshot("wr1", three_members(), 1_000_000), 1_000_500).await.unwrap();
        store.upsert_group_chat(&snapshot("wr2", vec![], 1_000_000), 1_000_500).await.unwrap();
        let ids = vec!["wr1".to_owned(), "wr404".to_owned()];
        let outcome = store.mark_dismissed(&ids, 5_000_000, 5_000_500).await.unwrap();
        assert_eq!(outcome, DismissOutcome { dismissed: 1, unchanged: 0, unknown_chat_ids: vec!["wr404".into()] });
        assert_eq!(store.count_groups(&StoreScope::All).await.unwrap(), 1);
        let chat = chat_row(&db, "wr1").await;
        assert_eq!((chat.dismissed_at, chat.member_count), (Some(5_000_000), 0));
        assert_eq!(updated_at(&db, "wr1").await, 5_000_500);
        let wm1 = member_row(&db, "wr1", "wm1").await;
        assert_eq!((wm1.left_at, wm1.quit_scene), (Some(5_000_000), crate::domain::quit_scene::GROUP_DISMISSED));
        let before = dump(&db).await;
        let again = store.mark_dismissed(&ids, 6_000_000, 6_000_500).await.unwrap();
        assert_eq!(again, DismissOutcome { dismissed: 0, unchanged: 1, unknown_chat_ids: vec!["wr404".into()] });
        // A snapshot read before the dismissal does not bring the members back.
        store.upsert_group_chat(&snapshot("wr1", three_members(), 1_000_000), 7_000_000).await.unwrap();
        assert_eq!(dump(&db).await, before);
    }

    async fn rows_written_by_fixtures_take_snapshots(db: Db) {
        db.migrate(&crate::MIGRATIONS).await.unwrap();
        // The columns end-to-end fixtures write.
        sqlx::query(
            "INSERT INTO group_chat (chat_id, name, owner_userid, store_id, created_at, updated_at) \
             VALUES ('wr1', '福利群', 'owner', 's1', 0, 0)",
        )
        .execute(db.pool())
        .await
        .unwrap();
        let store = GroupStore::new(db.clone());
        assert_eq!(store.count_groups(&StoreScope::Only(vec!["s1".into()])).await.unwrap(), 1);
        let outcome = store.upsert_group_chat(&snapshot("wr1", three_members(), 1_000_000), 1_000_500).await.unwrap();
        assert_eq!(outcome, SnapshotOutcome { change: SnapshotChange::Updated, members_joined: 3, members_left: 0 });
        assert_eq!(store.count_groups(&StoreScope::Only(vec!["s1".into()])).await.unwrap(), 1, "the store stays");
        assert_eq!(chat_row(&db, "wr1").await.member_count, 3);
    }

    async fn concurrent_snapshots_of_one_group_create_it_once(db: Db) {
        db.migrate(&crate::MIGRATIONS).await.unwrap();
        let store = GroupStore::new(db.clone());
        let tasks: Vec<_> = (0..6)
            .map(|_| {
                let store = store.clone();
                tokio::spawn(async move {
                    store.upsert_group_chat(&snapshot("wr1", three_members(), 1_000_000), 1_000_500).await
                })
            })
            .collect();
        let mut created = 0;
        for task in tasks {
            let outcome = task.await.unwrap().unwrap();
            created += i32::from(outcome.change == SnapshotChange::Created);
            assert_ne!(outcome.change, SnapshotChange::Updated);
        }
        assert_eq!(created, 1);
        let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM group_member").fetch_one(db.pool()).await.unwrap();
        assert_eq!((rows, chat_row(&db, "wr1").await.member_count), (3, 3));
    }

    scrm_storage::store_test_suite!(
        counts_live_groups_within_scope,
        a_snapshot_creates_the_group_and_repeating_it_changes_nothing,
        a_changed_snapshot_updates_and_an_older_one_is_ignored,
        members_missing_from_a_complete_snapshot_are_marked_left,
        member_joins_and_leaves_are_recorded_once,
        dismissal_is_recorded_once_and_hides_the_group,
        rows_written_by_fixtures_take_snapshots,
        concurrent_snapshots_of_one_group_create_it_once,
    );
}
