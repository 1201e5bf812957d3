//! Where the background workers stand in the feeds they follow (the chat archive), kept across restarts.

use super::GroupStore;

impl GroupStore {
    /// The last `seq` counted from `feed`; 0 when it was never polled.
    pub async fn feed_cursor(&self, feed: &str) -> Result<u64, sqlx::Error> {
        let seq: Option<i64> = sqlx::query_scalar("SELECT seq FROM group_feed_cursor WHERE feed = ?")
            .bind(feed)
            .fetch_optional(self.db.pool())
            .await?;
        Ok(seq.map_or(0, |seq| u64::try_from(seq).unwrap_or(0)))
    }

    /// Records that `feed` is counted up to `seq`, at `now` (Unix ms).
    pub async fn save_feed_cursor(&self, feed: &str, seq: u64, now: i64) -> Result<(), sqlx::Error> {
        let upsert = format!(
            "INSERT INTO group_feed_cursor (feed, seq, updated_at) VALUES (?, ?, ?) {}",
            self.db.dialect().upsert_clause(&["feed"], &["seq", "updated_at"])
        );
        sqlx::query(sqlx::AssertSqlSafe(upsert))
            .bind(feed)
            .bind(i64::try_from(seq).unwrap_or(i64::MAX))
            .bind(now)
            .execute(self.db.pool())
            .await?;
        Ok(())
    }
}
