//! The `messaging_group_robot` and `messaging_robot_post` tables.

use scrm_storage::Db;
use sqlx::QueryBuilder;

/// A registered group robot.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RobotRow {
    /// WeCom chat_id of the group.
    pub chat_id: String,
    /// Name for operators.
    pub name: String,
    /// The webhook key.
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
}

const ROBOT_COLUMNS: &str = "chat_id, name, webhook_key, enabled, last_sent_at, last_errcode, created_at";

/// Reads and writes group robots and their posts.
#[derive(Debug, Clone)]
pub struct RobotStore {
    db: Db,
}

impl RobotStore {
    /// A store over `db`.
    pub fn new(db: Db) -> Self {
        RobotStore { db }
    }

    /// The robot of `chat_id`, if registered.
    pub async fn robot(&self, chat_id: &str) -> Result<Option<RobotRow>, sqlx::Error> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {ROBOT_COLUMNS} FROM messaging_group_robot WHERE chat_id = ?"
        )))
        .bind(chat_id)
        .fetch_optional(self.db.pool())
        .await
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
        .bind(&robot.webhook_key)
        .bind(robot.enabled)
        .bind(now)
        .bind(now)
        .execute(self.db.pool())
        .await?;
        Ok(())
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
        query.build_query_as().fetch_all(self.db.pool()).await
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
        sqlx::query_as("SELECT state, errcode, errmsg, created_at FROM messaging_robot_post WHERE idempotency_key = ?")
            .bind(idempotency_key)
            .fetch_optional(self.db.pool())
            .await
    }

    /// Posts to `chat_id` that reached WeCom since `since` (Unix ms).
    pub async fn sent_since(&self, chat_id: &str, since: i64) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM messaging_robot_post WHERE chat_id = ? AND state = 1 AND created_at > ?",
        )
        .bind(chat_id)
        .bind(since)
        .fetch_one(self.db.pool())
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
            "{ignore} INTO messaging_robot_post (idempotency_key, chat_id, origin, state, errcode, errmsg, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?)"
        )))
        .bind(idempotency_key)
        .bind(chat_id)
        .bind(origin)
        .bind(post.state)
        .bind(post.errcode)
        .bind(&post.errmsg)
        .bind(post.created_at)
        .execute(self.db.pool())
        .await?;
        let last_sent = if post.errcode == 0 { Some(post.created_at) } else { None };
        sqlx::query(
            "UPDATE messaging_group_robot SET last_errcode = ?, last_sent_at = COALESCE(?, last_sent_at) \
             WHERE chat_id = ?",
        )
        .bind(post.errcode)
        .bind(last_sent)
        .bind(chat_id)
        .execute(self.db.pool())
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn robots_and_posts_round_trip(db: Db) {
        db.migrate(&crate::MIGRATIONS).await.unwrap();
        let store = RobotStore::new(db);
        let robot = RobotRow {
            chat_id: "wr1".into(),
            name: "小助手".into(),
            webhook_key: "key-1".into(),
            enabled: 1,
            last_sent_at: None,
            last_errcode: 0,
            created_at: 0,
        };
        store.upsert(&robot, 1_000).await.unwrap();
        store.upsert(&RobotRow { name: "欢迎官".into(), ..robot.clone() }, 2_000).await.unwrap();
        let stored = store.robot("wr1").await.unwrap().unwrap();
        assert_eq!((stored.name.as_str(), stored.created_at), ("欢迎官", 1_000));
        assert_eq!(store.list(&[], "", 20).await.unwrap().len(), 1);
        assert!(store.list(&["wr2".into()], "", 20).await.unwrap().is_empty());
        let sent = PostRow { state: 1, errcode: 0, errmsg: String::new(), created_at: 5_000 };
        store.record_post("p1", "wr1", "group.welcome", &sent).await.unwrap();
        store.record_post("p1", "wr1", "group.welcome", &PostRow { state: 3, ..sent.clone() }).await.unwrap();
        assert_eq!(store.post("p1").await.unwrap(), Some(sent));
        assert_eq!(store.sent_since("wr1", 4_000).await.unwrap(), 1);
        assert_eq!(store.sent_since("wr1", 5_000).await.unwrap(), 0);
        assert_eq!(store.robot("wr1").await.unwrap().unwrap().last_sent_at, Some(5_000));
        assert!(store.delete("wr1").await.unwrap());
        assert!(!store.delete("wr1").await.unwrap());
    }

    scrm_storage::store_test_suite!(robots_and_posts_round_trip);
}
