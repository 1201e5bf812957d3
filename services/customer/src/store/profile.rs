//! The `customer_note` and `customer_level_tier` tables.

use sqlx::{Any, FromRow, QueryBuilder};

use super::{CustomerStore, begin_write};
use crate::domain::levels::Tier;

/// A stored note.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct NoteRecord {
    /// Id minted by the database.
    pub id: i64,
    /// The customer.
    pub external_userid: String,
    /// Text.
    pub content: String,
    /// The author's staff id.
    pub author_id: String,
    /// The author's display name at the time.
    pub author_name: String,
    /// When it was written, Unix ms.
    pub created_at: i64,
}

pub(super) const NOTE_COLUMNS: &str = "id, external_userid, content, author_id, author_name, created_at";

impl CustomerStore {
    /// Adds a note and returns it.
    pub async fn add_note(
        &self,
        external_userid: &str,
        content: &str,
        author_id: &str,
        author_name: &str,
        now: i64,
    ) -> Result<NoteRecord, sqlx::Error> {
        let mut tx = self.db.pool().begin().await?;
        sqlx::query(
            "INSERT INTO customer_note (external_userid, content, author_id, author_name, created_at) \
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(external_userid)
        .bind(content)
        .bind(author_id)
        .bind(author_name)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let id: i64 = sqlx::query_scalar(
            "SELECT MAX(id) FROM customer_note WHERE external_userid = ? AND author_id = ? AND created_at = ?",
        )
        .bind(external_userid)
        .bind(author_id)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(NoteRecord {
            id,
            external_userid: external_userid.to_owned(),
            content: content.to_owned(),
            author_id: author_id.to_owned(),
            author_name: author_name.to_owned(),
            created_at: now,
        })
    }

    /// A customer's notes, newest first, with ids below `before` when given, at most `limit`.
    pub async fn notes(
        &self,
        external_userid: &str,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<NoteRecord>, sqlx::Error> {
        let mut query =
            QueryBuilder::<Any>::new(format!("SELECT {NOTE_COLUMNS} FROM customer_note WHERE external_userid = "));
        query.push_bind(external_userid.to_owned());
        if let Some(before) = before {
            query.push(" AND id < ").push_bind(before);
        }
        query.push(" ORDER BY id DESC LIMIT ").push_bind(i64::from(limit));
        query.build_query_as().fetch_all(self.db.pool()).await
    }

    /// One note; `None` when unknown or deleted.
    pub async fn note(&self, id: i64) -> Result<Option<NoteRecord>, sqlx::Error> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {NOTE_COLUMNS} FROM customer_note WHERE id = ?")))
            .bind(id)
            .fetch_optional(self.db.pool())
            .await
    }

    /// Deletes a note; deleting a deleted note does nothing.
    pub async fn delete_note(&self, id: i64) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM customer_note WHERE id = ?").bind(id).execute(self.db.pool()).await?;
        Ok(())
    }

    /// The level tiers by rank, and when they last changed (Unix ms); empty and `None` when never set.
    pub async fn level_tiers(&self) -> Result<(Vec<Tier>, Option<i64>), sqlx::Error> {
        let rows: Vec<(i32, String, i64, i64)> =
            sqlx::query_as("SELECT level, name, min_spend_fen, updated_at FROM customer_level_tier ORDER BY level")
                .fetch_all(self.db.pool())
                .await?;
        let updated_at = rows.iter().map(|row| row.3).max();
        let tiers =
            rows.into_iter().map(|(level, name, min_spend_fen, _)| Tier { level, name, min_spend_fen }).collect();
        Ok((tiers, updated_at))
    }

    /// Replaces the level tiers (validated) at time `now`; returns how many customers have a spend record, whose
    /// level follows the new tiers from now on.
    pub async fn replace_level_tiers(&self, tiers: &[Tier], now: i64) -> Result<i64, sqlx::Error> {
        let dialect = self.db.dialect();
        let mut connection = self.db.pool().acquire().await?;
        let mut tx = begin_write(&mut connection, dialect).await?;
        sqlx::query("DELETE FROM customer_level_tier").execute(&mut *tx).await?;
        if !tiers.is_empty() {
            let mut query =
                QueryBuilder::<Any>::new("INSERT INTO customer_level_tier (level, name, min_spend_fen, updated_at) ");
            query.push_values(tiers, |mut row, tier| {
                row.push_bind(tier.level).push_bind(tier.name.clone()).push_bind(tier.min_spend_fen).push_bind(now);
            });
            query.build().execute(&mut *tx).await?;
        }
        let customers: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM customer_spend").fetch_one(&mut *tx).await?;
        tx.commit().await?;
        self.tiers.clear();
        Ok(customers)
    }
}

#[cfg(test)]
mod tests {
    use scrm_storage::Db;

    use super::*;

    async fn notes_page_newest_first_and_tiers_replace(db: Db) {
        db.migrate(&crate::MIGRATIONS).await.unwrap();
        let store = CustomerStore::new(db);
        let first = store.add_note("wm1", "第一次回访", "zhangsan", "张三", 1).await.unwrap();
        let second = store.add_note("wm1", "第二次回访", "lisi", "李四", 2).await.unwrap();
        store.add_note("wm2", "别人的", "lisi", "李四", 3).await.unwrap();
        assert!(second.id > first.id);
        let notes = store.notes("wm1", None, 1).await.unwrap();
        assert_eq!(notes, std::slice::from_ref(&second));
        assert_eq!(store.notes("wm1", Some(second.id), 5).await.unwrap(), std::slice::from_ref(&first));
        store.delete_note(first.id).await.unwrap();
        store.delete_note(first.id).await.unwrap();
        assert_eq!(store.note(first.id).await.unwrap(), None);

        assert_eq!(store.level_tiers().await.unwrap(), (Vec::new(), None));
        let tiers = vec![
            Tier { level: 1, name: "银卡".into(), min_spend_fen: 100 },
            Tier { level: 2, name: "金卡".into(), min_spend_fen: 1_000 },
        ];
        store.replace_level_tiers(&tiers, 50).await.unwrap();
        assert_eq!(store.level_tiers().await.unwrap(), (tiers.clone(), Some(50)));
        store.replace_level_tiers(&tiers[..1], 60).await.unwrap();
        assert_eq!(store.level_tiers().await.unwrap(), (tiers[..1].to_vec(), Some(60)));
    }

    scrm_storage::store_test_suite!(notes_page_newest_first_and_tiers_replace);
}
