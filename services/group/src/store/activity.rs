//! Activity counters (PR07): ingesting group messages once per msgid, the rolling figures on the group list,
//! and per-day series.

use std::collections::{HashMap, HashSet};

use scrm_storage::Dialect;
use sqlx::QueryBuilder;

use super::GroupStore;
use crate::activity::{BandInput, activity_band, day_of, ratio_bps, start_of_day};

/// One message to count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageInput {
    /// Archive msgid.
    pub msgid: String,
    /// Group chat_id.
    pub chat_id: String,
    /// Sender id.
    pub sender: String,
    /// Whether the sender counts as a speaker (not a robot).
    pub speaker: bool,
    /// Send time, Unix ms.
    pub msgtime: i64,
    /// Feed position.
    pub seq: i64,
}

/// What ingesting a batch did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IngestOutcome {
    /// Messages counted.
    pub accepted: i64,
    /// Messages already counted.
    pub duplicates: i64,
    /// chat_ids of the batch that are not stored groups.
    pub unknown_chat_ids: HashSet<String>,
}

/// One day of a series.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DayFigures {
    /// Messages.
    pub messages: i64,
    /// Distinct speakers.
    pub speakers: i64,
    /// Joins.
    pub joins: i64,
    /// Leaves.
    pub leaves: i64,
}

/// The clause adding the inserted row's `messages` to an existing row's.
fn increment_clause(dialect: Dialect, key: &str) -> String {
    match dialect {
        Dialect::Sqlite => format!("ON CONFLICT ({key}) DO UPDATE SET messages = messages + excluded.messages"),
        Dialect::MySql => "ON DUPLICATE KEY UPDATE messages = messages + VALUES(messages)".to_owned(),
    }
}

impl GroupStore {
    /// [`GroupStore::ingest_messages`] judged by the dead-group rule in force at `now`.
    pub async fn ingest_messages_now(&self, messages: &[MessageInput], now: i64) -> Result<IngestOutcome, sqlx::Error> {
        let silent_days = crate::alerts::silent_days(&self.alert_rules(now).await?);
        self.ingest_messages(messages, now, silent_days).await
    }

    /// Counts `messages`, each once per msgid, those of unknown groups aside; then refreshes the figures of the
    /// groups touched, as of `now`.
    pub async fn ingest_messages(
        &self,
        messages: &[MessageInput],
        now: i64,
        silent_days: i64,
    ) -> Result<IngestOutcome, sqlx::Error> {
        let mut outcome = IngestOutcome::default();
        let chat_ids: HashSet<&str> = messages.iter().map(|message| message.chat_id.as_str()).collect();
        let mut known: HashSet<String> = HashSet::new();
        if !chat_ids.is_empty() {
            let mut query = QueryBuilder::new("SELECT chat_id FROM group_chat WHERE chat_id IN (");
            let mut list = query.separated(", ");
            for chat_id in &chat_ids {
                list.push_bind((*chat_id).to_owned());
            }
            query.push(")");
            known.extend(query.build_query_scalar::<String>().fetch_all(self.db.pool()).await?);
        }
        outcome.unknown_chat_ids =
            chat_ids.iter().filter(|chat_id| !known.contains(**chat_id)).map(|chat_id| (*chat_id).to_owned()).collect();
        let dialect = self.db.dialect();
        let day_upsert = format!(
            "INSERT INTO group_activity_day (chat_id, day, messages) VALUES (?, ?, ?) {}",
            increment_clause(dialect, "chat_id, day")
        );
        let speaker_upsert = format!(
            "INSERT INTO group_speaker_day (chat_id, day, userid, messages) VALUES (?, ?, ?, ?) {}",
            increment_clause(dialect, "chat_id, day, userid")
        );
        let insert_message = format!(
            "{} INTO group_message (msgid, chat_id, sender, msgtime, seq) VALUES (?, ?, ?, ?, ?)",
            dialect.insert_ignore()
        );
        let mut tx = self.db.pool().begin().await?;
        let mut days: HashMap<(&str, i64), i64> = HashMap::new();
        let mut chat_last: HashMap<&str, i64> = HashMap::new();
        let mut speakers: HashMap<(&str, i64, &str), i64> = HashMap::new();
        let mut member_last: HashMap<(&str, &str), i64> = HashMap::new();
        for message in messages.iter().filter(|message| known.contains(&message.chat_id)) {
            let inserted = sqlx::query(sqlx::AssertSqlSafe(insert_message.clone()))
                .bind(&message.msgid)
                .bind(&message.chat_id)
                .bind(&message.sender)
                .bind(message.msgtime)
                .bind(message.seq)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if inserted == 0 {
                outcome.duplicates += 1;
                continue;
            }
            outcome.accepted += 1;
            let (chat_id, day) = (message.chat_id.as_str(), day_of(message.msgtime));
            *days.entry((chat_id, day)).or_default() += 1;
            let last = chat_last.entry(chat_id).or_insert(message.msgtime);
            *last = (*last).max(message.msgtime);
            if message.speaker {
                *speakers.entry((chat_id, day, message.sender.as_str())).or_default() += 1;
                let last = member_last.entry((chat_id, message.sender.as_str())).or_insert(message.msgtime);
                *last = (*last).max(message.msgtime);
            }
        }
        for ((chat_id, day), count) in &days {
            sqlx::query(sqlx::AssertSqlSafe(day_upsert.clone()))
                .bind(*chat_id)
                .bind(*day)
                .bind(*count)
                .execute(&mut *tx)
                .await?;
        }
        for (chat_id, last) in &chat_last {
            sqlx::query(
                "UPDATE group_chat SET last_message_at = ? WHERE chat_id = ? \
                 AND (last_message_at IS NULL OR last_message_at < ?)",
            )
            .bind(*last)
            .bind(*chat_id)
            .bind(*last)
            .execute(&mut *tx)
            .await?;
        }
        for ((chat_id, day, sender), count) in &speakers {
            sqlx::query(sqlx::AssertSqlSafe(speaker_upsert.clone()))
                .bind(*chat_id)
                .bind(*day)
                .bind(*sender)
                .bind(*count)
                .execute(&mut *tx)
                .await?;
        }
        for ((chat_id, sender), last) in &member_last {
            sqlx::query(
                "UPDATE group_member SET last_message_at = ? WHERE chat_id = ? AND userid = ? \
                 AND (last_message_at IS NULL OR last_message_at < ?)",
            )
            .bind(*last)
            .bind(*chat_id)
            .bind(*sender)
            .bind(*last)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        self.speakers.record(speakers.keys().copied()).await;
        let touched: Vec<String> = chat_last.into_keys().map(str::to_owned).collect();
        if !touched.is_empty() {
            self.refresh_activity(now, silent_days, Some(&touched)).await?;
        }
        Ok(outcome)
    }

    /// The highest feed position recorded; 0 when none.
    pub async fn max_seq(&self) -> Result<i64, sqlx::Error> {
        let max: Option<i64> =
            sqlx::query_scalar("SELECT MAX(seq) FROM group_message").fetch_one(self.db.pool()).await?;
        Ok(max.unwrap_or(0))
    }

    /// Recomputes the rolling figures, lurker ratio and band of the live groups `only` (all when `None`) as of
    /// `now`, writing the groups whose figures changed.
    pub async fn refresh_activity(
        &self,
        now: i64,
        silent_days: i64,
        only: Option<&[String]>,
    ) -> Result<(), sqlx::Error> {
        let today = day_of(now);
        let chat_filter = |query: &mut QueryBuilder<sqlx::Any>, column: &str| {
            if let Some(chat_ids) = only {
                query.push(format!(" AND {column} IN ("));
                let mut list = query.separated(", ");
                for chat_id in chat_ids {
                    list.push_bind(chat_id.clone());
                }
                query.push(")");
            }
        };
        let mut groups = QueryBuilder::new(
            "SELECT chat_id, created_at, last_message_at, member_count, messages_1d, messages_7d, messages_30d, \
             speakers_1d, speakers_7d, speakers_30d, lurker_ratio_bps, activity_band FROM group_chat \
             WHERE dismissed_at IS NULL",
        );
        chat_filter(&mut groups, "chat_id");
        type Row = (String, i64, Option<i64>, i32, i64, i64, i64, i64, i64, i64, i32, i32);
        let rows: Vec<Row> = groups.build_query_as().fetch_all(self.db.pool()).await?;

        let mut messages = QueryBuilder::new("SELECT chat_id, day, messages FROM group_activity_day WHERE day >= ");
        messages.push_bind(today - 29).push(" AND day <= ").push_bind(today);
        chat_filter(&mut messages, "chat_id");
        let mut figures: HashMap<String, [i64; 6]> = HashMap::new();
        let message_rows: Vec<(String, i64, i64)> = messages.build_query_as().fetch_all(self.db.pool()).await?;
        for (chat_id, day, count) in message_rows {
            let entry = figures.entry(chat_id).or_default();
            for (slot, span) in [(0, 1), (1, 7), (2, 30)] {
                if day > today - span {
                    entry[slot] += count;
                }
            }
        }
        let chat_ids: Vec<String> = rows.iter().map(|row| row.0.clone()).collect();
        if let Some(estimates) = self.speakers.rolling(&chat_ids, today).await {
            for (chat_id, estimate) in chat_ids.into_iter().zip(estimates) {
                figures.entry(chat_id).or_default()[3..].copy_from_slice(&estimate);
            }
        } else {
            let mut speakers =
                QueryBuilder::new("SELECT chat_id, userid, MAX(day) FROM group_speaker_day WHERE day >= ");
            speakers.push_bind(today - 29).push(" AND day <= ").push_bind(today);
            chat_filter(&mut speakers, "chat_id");
            speakers.push(" GROUP BY chat_id, userid");
            let speaker_rows: Vec<(String, String, i64)> = speakers.build_query_as().fetch_all(self.db.pool()).await?;
            for (chat_id, _, last_day) in speaker_rows {
                let entry = figures.entry(chat_id).or_default();
                for (slot, span) in [(3, 1), (4, 7), (5, 30)] {
                    if last_day > today - span {
                        entry[slot] += 1;
                    }
                }
            }
        }
        let mut active = QueryBuilder::new(
            "SELECT chat_id, COUNT(*) FROM group_member WHERE left_at IS NULL AND last_message_at >= ",
        );
        active.push_bind(start_of_day(today - 29));
        chat_filter(&mut active, "chat_id");
        active.push(" GROUP BY chat_id");
        let active: HashMap<String, i64> =
            active.build_query_as().fetch_all(self.db.pool()).await?.into_iter().collect();

        for row in rows {
            let (chat_id, created_at, last_message_at, member_count) = (&row.0, row.1, row.2, i64::from(row.3));
            let [m1, m7, m30, s1, s7, s30] = figures.get(chat_id).copied().unwrap_or_default();
            let silent_members = member_count - active.get(chat_id).copied().unwrap_or(0);
            let lurker = ratio_bps(silent_members, member_count);
            let band = activity_band(&BandInput {
                now,
                created_at,
                last_message_at,
                speakers_7d: s7,
                member_count,
                silent_days,
            });
            if (m1, m7, m30, s1, s7, s30, lurker, band) == (row.4, row.5, row.6, row.7, row.8, row.9, row.10, row.11) {
                continue;
            }
            sqlx::query(
                "UPDATE group_chat SET messages_1d = ?, messages_7d = ?, messages_30d = ?, speakers_1d = ?, \
                 speakers_7d = ?, speakers_30d = ?, lurker_ratio_bps = ?, activity_band = ? WHERE chat_id = ?",
            )
            .bind(m1)
            .bind(m7)
            .bind(m30)
            .bind(s1)
            .bind(s7)
            .bind(s30)
            .bind(lurker)
            .bind(band)
            .bind(chat_id)
            .execute(self.db.pool())
            .await?;
        }
        Ok(())
    }

    /// Each member's messages in a group since `first_day`, by userid.
    pub async fn member_messages_since(
        &self,
        chat_id: &str,
        first_day: i64,
    ) -> Result<HashMap<String, i64>, sqlx::Error> {
        let sum = match self.db.dialect() {
            Dialect::Sqlite => "SUM(messages)",
            Dialect::MySql => "CAST(SUM(messages) AS SIGNED)",
        };
        let rows: Vec<(String, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT userid, {sum} FROM group_speaker_day WHERE chat_id = ? AND day >= ? GROUP BY userid"
        )))
        .bind(chat_id)
        .bind(first_day)
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows.into_iter().collect())
    }

    /// Per-day figures of the groups `chat_ids` from `first_day` to `last_day`, summed; speakers are counted
    /// distinct across the groups.
    pub async fn activity_series(
        &self,
        chat_ids: &[String],
        first_day: i64,
        last_day: i64,
    ) -> Result<HashMap<i64, DayFigures>, sqlx::Error> {
        let mut series: HashMap<i64, DayFigures> = HashMap::new();
        if chat_ids.is_empty() {
            return Ok(series);
        }
        let in_list = |query: &mut QueryBuilder<sqlx::Any>| {
            query.push(" AND chat_id IN (");
            let mut list = query.separated(", ");
            for chat_id in chat_ids {
                list.push_bind(chat_id.clone());
            }
            query.push(")");
        };
        let mut messages = QueryBuilder::new("SELECT day, messages FROM group_activity_day WHERE day >= ");
        messages.push_bind(first_day).push(" AND day <= ").push_bind(last_day);
        in_list(&mut messages);
        for (day, count) in messages.build_query_as::<(i64, i64)>().fetch_all(self.db.pool()).await? {
            series.entry(day).or_default().messages += count;
        }
        let mut speakers = QueryBuilder::new("SELECT DISTINCT day, userid FROM group_speaker_day WHERE day >= ");
        speakers.push_bind(first_day).push(" AND day <= ").push_bind(last_day);
        in_list(&mut speakers);
        for (day, _) in speakers.build_query_as::<(i64, String)>().fetch_all(self.db.pool()).await? {
            series.entry(day).or_default().speakers += 1;
        }
        let mut members = QueryBuilder::new("SELECT joined_at, left_at FROM group_member WHERE 1 = 1");
        in_list(&mut members);
        members.push(" AND (joined_at >= ").push_bind(start_of_day(first_day));
        members.push(" OR left_at >= ").push_bind(start_of_day(first_day)).push(")");
        for (joined_at, left_at) in members.build_query_as::<(i64, Option<i64>)>().fetch_all(self.db.pool()).await? {
            let joined = day_of(joined_at);
            if (first_day..=last_day).contains(&joined) {
                series.entry(joined).or_default().joins += 1;
            }
            if let Some(left) = left_at.map(day_of).filter(|left| (first_day..=last_day).contains(left)) {
                series.entry(left).or_default().leaves += 1;
            }
        }
        Ok(series)
    }

    /// The live chat_ids owned by `owner`.
    pub async fn chat_ids_of_owner(&self, owner: &str) -> Result<Vec<String>, sqlx::Error> {
        sqlx::query_scalar("SELECT chat_id FROM group_chat WHERE owner_userid = ? AND dismissed_at IS NULL")
            .bind(owner)
            .fetch_all(self.db.pool())
            .await
    }
}

impl GroupStore {
    /// Current members across the groups `chat_ids`.
    pub async fn member_count_of(&self, chat_ids: &[String]) -> Result<i64, sqlx::Error> {
        let mut total = 0;
        for chat_id in chat_ids {
            let count: Option<i32> = sqlx::query_scalar("SELECT member_count FROM group_chat WHERE chat_id = ?")
                .bind(chat_id)
                .fetch_optional(self.db.pool())
                .await?;
            total += i64::from(count.unwrap_or(0));
        }
        Ok(total)
    }
}
