//! WeCom's `groupchat/statistic` figures per owner and day, kept beside scrm's own counters.

use std::collections::HashMap;

use scrm_wecom::GroupChatStatData;

use super::GroupStore;

/// The columns of the figures, in [`GroupChatStatData`]'s order.
const FIGURES: [&str; 8] = [
    "new_chat_cnt",
    "chat_total",
    "chat_has_msg",
    "new_member_cnt",
    "member_total",
    "member_has_msg",
    "msg_total",
    "migrate_trainee_chat_cnt",
];

/// One owner's figures for one day, with when they were fetched (Unix ms).
pub type StoredStatistic = (GroupChatStatData, i64);

impl GroupStore {
    /// The owners of live groups, by userid.
    pub async fn group_owners(&self) -> Result<Vec<String>, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT DISTINCT owner_userid FROM group_chat WHERE dismissed_at IS NULL ORDER BY owner_userid",
        )
        .fetch_all(self.db.pool())
        .await
    }

    /// Stores `owner`'s figures for `day`, replacing earlier ones.
    pub async fn save_wecom_statistic(
        &self,
        owner: &str,
        day: i64,
        data: &GroupChatStatData,
        fetched_at: i64,
    ) -> Result<(), sqlx::Error> {
        let mut columns = vec!["fetched_at"];
        columns.extend(FIGURES);
        let upsert = format!(
            "INSERT INTO group_wecom_statistic (owner, day, {}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) {}",
            columns.join(", "),
            self.db.dialect().upsert_clause(&["owner", "day"], &columns)
        );
        sqlx::query(sqlx::AssertSqlSafe(upsert))
            .bind(owner)
            .bind(day)
            .bind(fetched_at)
            .bind(data.new_chat_cnt)
            .bind(data.chat_total)
            .bind(data.chat_has_msg)
            .bind(data.new_member_cnt)
            .bind(data.member_total)
            .bind(data.member_has_msg)
            .bind(data.msg_total)
            .bind(data.migrate_trainee_chat_cnt)
            .execute(self.db.pool())
            .await?;
        Ok(())
    }

    /// `owner`'s figures from `first_day` to `last_day`, by day.
    pub async fn wecom_statistics(
        &self,
        owner: &str,
        first_day: i64,
        last_day: i64,
    ) -> Result<HashMap<i64, StoredStatistic>, sqlx::Error> {
        type Row = (i64, i64, i64, i64, i64, i64, i64, i64, i64, i64);
        let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT day, fetched_at, {} FROM group_wecom_statistic WHERE owner = ? AND day >= ? AND day <= ?",
            FIGURES.join(", ")
        )))
        .bind(owner)
        .bind(first_day)
        .bind(last_day)
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let data = GroupChatStatData {
                    new_chat_cnt: row.2,
                    chat_total: row.3,
                    chat_has_msg: row.4,
                    new_member_cnt: row.5,
                    member_total: row.6,
                    member_has_msg: row.7,
                    msg_total: row.8,
                    migrate_trainee_chat_cnt: row.9,
                };
                (row.0, (data, row.1))
            })
            .collect())
    }
}
