//! The `messaging_group_robot` and `messaging_robot_post` tables. Webhook keys are sealed with the service's
//! [`KeyCipher`] on the way in and opened on the way out; the rest of the service sees plain keys.

use std::collections::HashMap;

use scrm_storage::Db;
use sqlx::QueryBuilder;

use crate::secret::KeyCipher;

/// A registered group robot.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RobotRow {
    /// WeCom chat_id of the group.
    pub chat_id: String,
    /// Name for operators.
    pub name: String,
    /// The webhook key (plain in memory, sealed in the database).
    pub webhook_key: String,
    /// 1 when used.
    pub enabled: i32,
    /// Last successful post (Unix ms).
    pub last_sent_at: Option<i64>,
    /// WeCom errcode of the last failed post.
    pub last_errcode: i32,
    /// Registration time (Unix ms).
    pub created_at: i64,
}

/// The stored result of a robot post.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PostRow {
    /// RobotDeliveryState.
    pub state: i32,
    /// WeCom errcode (or scrm's -1001 for no robot).
    pub errcode: i32,
    /// Message for the errcode.
    pub errmsg: String,
    /// When it was recorded (Unix ms).
    pub created_at: i64,
    /// When a queued post is expected to go out (Unix ms); 0 for posts never queued.
    pub send_after: i64,
    /// When it reached WeCom (Unix ms).
    pub sent_at: Option<i64>,
}

/// A queued post due for sending.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct QueuedRow {
    /// The post's idempotency key.
    pub idempotency_key: String,
    /// WeCom chat_id of the group.
    pub chat_id: String,
    /// The `webhook/send` body, as JSON.
    pub payload: Option<String>,
    /// When it became due (Unix ms).
    pub send_after: i64,
    /// Transient failures so far.
    pub attempts: i32,
}

const ROBOT_COLUMNS: &str = "chat_id, name, webhook_key, enabled, last_sent_at, last_errcode, created_at";
const POST_COLUMNS: &str = "state, errcode, errmsg, created_at, send_after, sent_at";
/// RobotDeliveryState QUEUED.
const QUEUED: i32 = 2;

/// Reads and writes group robots and their posts.
#[derive(Debug, Clone)]
pub struct RobotStore {
    db: Db,
    cipher: KeyCipher,
}

impl RobotStore {
    /// A store over `db`, sealing webhook keys with `cipher`.
    pub fn new(db: Db, cipher: KeyCipher) -> Self {
        RobotStore { db, cipher }
    }

    fn open(&self, mut row: RobotRow) -> Result<RobotRow, sqlx::Error> {
        row.webhook_key = self.cipher.open(&row.webhook_key).map_err(|error| sqlx::Error::Decode(Box::new(error)))?;
        Ok(row)
    }

    /// The robot of `chat_id`, if registered.
    pub async fn robot(&self, chat_id: &str) -> Result<Option<RobotRow>, sqlx::Error> {
        let row: Option<RobotRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {ROBOT_COLUMNS} FROM messaging_group_robot WHERE chat_id = ?"
        )))
        .bind(chat_id)
        .fetch_optional(self.db.pool())
        .await?;
        row.map(|row| self.open(row)).transpose()
    }

    /// Registers or replaces a group's robot.
    pub async fn upsert(&self, robot: &RobotRow, now: i64) -> Result<(), sqlx::Error> {
        let upsert = self.db.dialect().upsert_clause(&["chat_id"], &["name", "webhook_key", "enabled", "updated_at"]);
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO messaging_group_robot (chat_id, name, webhook_key, enabled, last_errcode, created_at, \
             updated_at) VALUES (?, ?, ?, ?, 0, ?, ?) {upsert}"
        )))
        .bind(&robot.chat_id)
        .bind(&robot.name)
        .bind(self.cipher.seal(&robot.webhook_key))
        .bind(robot.enabled)
        .bind(now)
        .bind(now)
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    /// Seals the webhook keys stored plain before encryption; returns how many rows it sealed.
    pub async fn seal_plain_keys(&self) -> Result<u64, sqlx::Error> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT chat_id, webhook_key FROM messaging_group_robot WHERE webhook_key NOT LIKE 'v1:%'")
                .fetch_all(self.db.pool())
                .await?;
        let mut sealed = 0;
        for (chat_id, plain) in rows {
            let done =
                sqlx::query("UPDATE messaging_group_robot SET webhook_key = ? WHERE chat_id = ? AND webhook_key = ?")
                    .bind(self.cipher.seal(&plain))
                    .bind(&chat_id)
                    .bind(&plain)
                    .execute(self.db.pool())
                    .await?;
            sealed += done.rows_affected();
        }
        Ok(sealed)
    }

    /// Robots in chat_id order after `after`, only of `chat_ids` when not empty.
    pub async fn list(&self, chat_ids: &[String], after: &str, limit: u32) -> Result<Vec<RobotRow>, sqlx::Error> {
        let mut query =
            QueryBuilder::new(format!("SELECT {ROBOT_COLUMNS} FROM messaging_group_robot WHERE chat_id > "));
        query.push_bind(after.to_owned());
        if !chat_ids.is_empty() {
            query.push(" AND chat_id IN (");
            let mut separated = query.separated(", ");
            for chat_id in chat_ids {
                separated.push_bind(chat_id.clone());
            }
            query.push(")");
        }
        query.push(" ORDER BY chat_id LIMIT ").push_bind(i64::from(limit));
        let rows: Vec<RobotRow> = query.build_query_as().fetch_all(self.db.pool()).await?;
        rows.into_iter().map(|row| self.open(row)).collect()
    }

    /// Queued posts per group, for `chat_ids`.
    pub async fn queued_counts(&self, chat_ids: &[String]) -> Result<HashMap<String, i64>, sqlx::Error> {
        if chat_ids.is_empty() {
            return Ok(HashMap::new());
        }
        let mut query = QueryBuilder::new("SELECT chat_id, COUNT(*) FROM messaging_robot_post WHERE state = ");
        query.push_bind(QUEUED).push(" AND chat_id IN (");
        let mut separated = query.separated(", ");
        for chat_id in chat_ids {
            separated.push_bind(chat_id.clone());
        }
        query.push(") GROUP BY chat_id");
        let rows: Vec<(String, i64)> = query.build_query_as().fetch_all(self.db.pool()).await?;
        Ok(rows.into_iter().collect())
    }

    /// Removes a group's robot; false when there was none.
    pub async fn delete(&self, chat_id: &str) -> Result<bool, sqlx::Error> {
        let done = sqlx::query("DELETE FROM messaging_group_robot WHERE chat_id = ?")
            .bind(chat_id)
            .execute(self.db.pool())
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// The stored result of the post with `idempotency_key`.
    pub async fn post(&self, idempotency_key: &str) -> Result<Option<PostRow>, sqlx::Error> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {POST_COLUMNS} FROM messaging_robot_post WHERE idempotency_key = ?"
        )))
        .bind(idempotency_key)
        .fetch_optional(self.db.pool())
        .await
    }

    /// When the posts to `chat_id` that reached WeCom after `since` (Unix ms) did, oldest first.
    pub async fn sent_times(&self, chat_id: &str, since: i64) -> Result<Vec<i64>, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT sent_at FROM messaging_robot_post WHERE chat_id = ? AND sent_at > ? ORDER BY sent_at",
        )
        .bind(chat_id)
        .bind(since)
        .fetch_all(self.db.pool())
        .await
    }

    /// When the queued posts to `chat_id` are expected to go out, earliest first.
    pub async fn queued_times(&self, chat_id: &str) -> Result<Vec<i64>, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT send_after FROM messaging_robot_post WHERE chat_id = ? AND state = ? ORDER BY send_after",
        )
        .bind(chat_id)
        .bind(QUEUED)
        .fetch_all(self.db.pool())
        .await
    }

    /// Records a post's result (the first one wins for a key) and the robot's last outcome.
    pub async fn record_post(
        &self,
        idempotency_key: &str,
        chat_id: &str,
        origin: &str,
        post: &PostRow,
    ) -> Result<(), sqlx::Error> {
        let ignore = self.db.dialect().insert_ignore();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "{ignore} INTO messaging_robot_post (idempotency_key, chat_id, origin, state, errcode, errmsg, created_at, \
             send_after, sent_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        )))
        .bind(idempotency_key)
        .bind(chat_id)
        .bind(origin)
        .bind(post.state)
        .bind(post.errcode)
        .bind(&post.errmsg)
        .bind(post.created_at)
        .bind(post.send_after)
        .bind(post.sent_at)
        .execute(self.db.pool())
        .await?;
        self.record_outcome(chat_id, post).await
    }

    async fn record_outcome(&self, chat_id: &str, post: &PostRow) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE messaging_group_robot SET last_errcode = ?, last_sent_at = COALESCE(?, last_sent_at) \
             WHERE chat_id = ?",
        )
        .bind(post.errcode)
        .bind(post.sent_at)
        .bind(chat_id)
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    /// Queues a post (the first one wins for a key) to go out at `send_after`.
    pub async fn enqueue(
        &self,
        idempotency_key: &str,
        chat_id: &str,
        origin: &str,
        payload: &str,
        send_after: i64,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        let ignore = self.db.dialect().insert_ignore();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "{ignore} INTO messaging_robot_post (idempotency_key, chat_id, origin, state, errcode, errmsg, created_at, \
             payload, send_after) VALUES (?, ?, ?, ?, 0, '', ?, ?, ?)"
        )))
        .bind(idempotency_key)
        .bind(chat_id)
        .bind(origin)
        .bind(QUEUED)
        .bind(now)
        .bind(payload)
        .bind(send_after)
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    /// Queued posts due at `now`, earliest first.
    pub async fn due(&self, now: i64, limit: u32) -> Result<Vec<QueuedRow>, sqlx::Error> {
        sqlx::query_as(
            "SELECT idempotency_key, chat_id, payload, send_after, attempts FROM messaging_robot_post \
             WHERE state = ? AND send_after <= ? ORDER BY send_after, created_at, idempotency_key LIMIT ?",
        )
        .bind(QUEUED)
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(self.db.pool())
        .await
    }

    /// Moves a queued post to `send_after` (a lease while it is being sent, or a later slot), counting a
    /// transient failure when `failed`; false when another worker moved it first.
    pub async fn reschedule(&self, post: &QueuedRow, send_after: i64, failed: bool) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "UPDATE messaging_robot_post SET send_after = ?, attempts = attempts + ? \
             WHERE idempotency_key = ? AND state = ? AND send_after = ?",
        )
        .bind(send_after)
        .bind(i32::from(failed))
        .bind(&post.idempotency_key)
        .bind(QUEUED)
        .bind(post.send_after)
        .execute(self.db.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Stores the final result of a queued post and the robot's last outcome.
    pub async fn finish(&self, idempotency_key: &str, chat_id: &str, post: &PostRow) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE messaging_robot_post SET state = ?, errcode = ?, errmsg = ?, sent_at = ?, payload = NULL \
             WHERE idempotency_key = ? AND state = ?",
        )
        .bind(post.state)
        .bind(post.errcode)
        .bind(&post.errmsg)
        .bind(post.sent_at)
        .bind(idempotency_key)
        .bind(QUEUED)
        .execute(self.db.pool())
        .await?;
        self.record_outcome(chat_id, post).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn robot(key: &str) -> RobotRow {
        RobotRow {
            chat_id: "wr1".into(),
            name: "小助手".into(),
            webhook_key: key.into(),
            enabled: 1,
            last_sent_at: None,
            last_errcode: 0,
            created_at: 0,
        }
    }

    async fn robots_and_posts_round_trip(db: Db) {
        db.migrate(&crate::MIGRATIONS).await.unwrap();
        let store = RobotStore::new(db, KeyCipher::random());
        let robot = robot("key-1");
        store.upsert(&robot, 1_000).await.unwrap();
        store.upsert(&RobotRow { name: "欢迎官".into(), ..robot.clone() }, 2_000).await.unwrap();
        let stored = store.robot("wr1").await.unwrap().unwrap();
        assert_eq!((stored.name.as_str(), stored.created_at, stored.webhook_key.as_str()), ("欢迎官", 1_000, "key-1"));
        assert_eq!(store.list(&[], "", 20).await.unwrap()[0].webhook_key, "key-1");
        assert!(store.list(&["wr2".into()], "", 20).await.unwrap().is_empty());
        let sent = PostRow {
            state: 1,
            errcode: 0,
            errmsg: String::new(),
            created_at: 5_000,
            send_after: 0,
            sent_at: Some(5_000),
        };
        store.record_post("p1", "wr1", "group.welcome", &sent).await.unwrap();
        store.record_post("p1", "wr1", "group.welcome", &PostRow { state: 3, ..sent.clone() }).await.unwrap();
        assert_eq!(store.post("p1").await.unwrap(), Some(sent));
        assert_eq!(store.sent_times("wr1", 4_000).await.unwrap(), [5_000]);
        assert!(store.sent_times("wr1", 5_000).await.unwrap().is_empty());
        assert_eq!(store.robot("wr1").await.unwrap().unwrap().last_sent_at, Some(5_000));
        assert!(store.delete("wr1").await.unwrap());
        assert!(!store.delete("wr1").await.unwrap());
    }

    async fn queued_posts_are_claimed_once_and_finished(db: Db) {
        db.migrate(&crate::MIGRATIONS).await.unwrap();
        let store = RobotStore::new(db, KeyCipher::random());
        store.enqueue("q1", "wr1", "test", "{\"msgtype\":\"text\"}", 60_000, 1_000).await.unwrap();
        store.enqueue("q1", "wr1", "test", "{}", 1, 1_000).await.unwrap();
        assert_eq!(store.queued_times("wr1").await.unwrap(), [60_000]);
        assert_eq!(store.queued_counts(&["wr1".into(), "wr2".into()]).await.unwrap().get("wr1"), Some(&1));
        assert!(store.due(59_999, 10).await.unwrap().is_empty());
        let due = store.due(60_000, 10).await.unwrap();
        assert_eq!(due[0].payload.as_deref(), Some("{\"msgtype\":\"text\"}"));
        assert!(store.reschedule(&due[0], 90_000, false).await.unwrap());
        assert!(!store.reschedule(&due[0], 90_000, false).await.unwrap(), "a second claim of the same slot loses");
        let sent = PostRow {
            state: 1,
            errcode: 0,
            errmsg: String::new(),
            created_at: 1_000,
            send_after: 90_000,
            sent_at: Some(61_000),
        };
        store.finish("q1", "wr1", &sent).await.unwrap();
        assert_eq!(store.post("q1").await.unwrap(), Some(sent));
        assert!(store.queued_times("wr1").await.unwrap().is_empty());
        assert_eq!(store.sent_times("wr1", 0).await.unwrap(), [61_000]);
    }

    async fn webhook_keys_are_sealed_in_the_database_and_plain_rows_migrate(db: Db) {
        db.migrate(&crate::MIGRATIONS).await.unwrap();
        let cipher = KeyCipher::random();
        let store = RobotStore::new(db.clone(), cipher.clone());
        let key = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa";
        store.upsert(&robot(key), 1_000).await.unwrap();
        let column: String = sqlx::query_scalar("SELECT webhook_key FROM messaging_group_robot WHERE chat_id = 'wr1'")
            .fetch_one(db.pool())
            .await
            .unwrap();
        assert!(!column.contains(key), "the column holds no plain key: {column}");
        assert!(!column.contains("5aaa"));
        assert_eq!(cipher.open(&column).unwrap(), key);

        sqlx::query(
            "INSERT INTO messaging_group_robot (chat_id, name, webhook_key, enabled, last_errcode, created_at, \
             updated_at) VALUES ('wr-old', '', 'plain-old-key', 1, 0, 0, 0)",
        )
        .execute(db.pool())
        .await
        .unwrap();
        assert_eq!(store.seal_plain_keys().await.unwrap(), 1);
        assert_eq!(store.seal_plain_keys().await.unwrap(), 0);
        let column: String =
            sqlx::query_scalar("SELECT webhook_key FROM messaging_group_robot WHERE chat_id = 'wr-old'")
                .fetch_one(db.pool())
                .await
                .unwrap();
        assert!(KeyCipher::is_sealed(&column) && !column.contains("plain-old-key"));
        assert_eq!(store.robot("wr-old").await.unwrap().unwrap().webhook_key, "plain-old-key");
        let stranger = RobotStore::new(db, KeyCipher::random());
        assert!(stranger.robot("wr1").await.is_err(), "another key cannot open the stored key");
    }

    scrm_storage::store_test_suite!(
        robots_and_posts_round_trip,
        queued_posts_are_claimed_once_and_finished,
        webhook_keys_are_sealed_in_the_database_and_plain_rows_migrate,
    );
}
