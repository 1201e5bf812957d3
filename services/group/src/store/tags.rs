//! Group tags (群标签) and the tags groups carry.

use scrm_kernel::StoreScope;
use scrm_storage::push_store_filter;
use sqlx::error::ErrorKind;
use sqlx::{FromRow, QueryBuilder};

use super::GroupStore;

/// A group tag as stored, with the number of live groups carrying it.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct TagRecord {
    /// scrm's id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Category; empty when none.
    pub category: String,
    /// Order within the category.
    pub sort_order: i32,
    /// Live groups carrying it.
    pub group_count: i64,
    /// Creation time, Unix ms.
    pub created_at: i64,
}

/// A tag's editable fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagFields {
    /// Name.
    pub name: String,
    /// Category.
    pub category: String,
    /// Order within the category.
    pub sort_order: i32,
}

/// Where a tag listing resumes: after this (category, sort_order, id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagCursor {
    /// Category of the last tag.
    pub category: String,
    /// Sort order of the last tag.
    pub sort_order: i32,
    /// Id of the last tag.
    pub id: i64,
}

/// The result of tagging groups.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TagOutcome {
    /// Groups whose tags changed.
    pub updated: i32,
    /// Groups already as requested.
    pub unchanged: i32,
    /// chat_ids unknown or outside the scope.
    pub unknown_chat_ids: Vec<String>,
}

/// Why a tag write failed.
#[derive(Debug, thiserror::Error)]
pub enum TagWriteError {
    /// The category already has a tag of that name.
    #[error("the category already has a tag of that name")]
    Duplicate,
    /// The database failed.
    #[error(transparent)]
    Storage(#[from] sqlx::Error),
}

fn duplicate_or(error: sqlx::Error) -> TagWriteError {
    match &error {
        sqlx::Error::Database(database) if database.kind() == ErrorKind::UniqueViolation => TagWriteError::Duplicate,
        _ => TagWriteError::Storage(error),
    }
}

const TAG_SELECT: &str = "SELECT t.id, t.name, t.category, t.sort_order, t.created_at, \
     (SELECT COUNT(*) FROM group_chat_tag ct JOIN group_chat c ON c.id = ct.group_id \
      WHERE ct.tag_id = t.id AND c.dismissed_at IS NULL) AS group_count FROM group_tag t";

impl GroupStore {
    /// Creates a tag.
    pub async fn create_tag(&self, fields: &TagFields, now: i64) -> Result<TagRecord, TagWriteError> {
        sqlx::query(
            "INSERT INTO group_tag (name, category, sort_order, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(&fields.name)
        .bind(&fields.category)
        .bind(fields.sort_order)
        .bind(now)
        .bind(now)
        .execute(self.db.pool())
        .await
        .map_err(duplicate_or)?;
        let tag = sqlx::query_as(sqlx::AssertSqlSafe(format!("{TAG_SELECT} WHERE t.category = ? AND t.name = ?")))
            .bind(&fields.category)
            .bind(&fields.name)
            .fetch_one(self.db.pool())
            .await?;
        Ok(tag)
    }

    /// One tag.
    pub async fn tag(&self, id: i64) -> Result<Option<TagRecord>, sqlx::Error> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{TAG_SELECT} WHERE t.id = ?")))
            .bind(id)
            .fetch_optional(self.db.pool())
            .await
    }

    /// Up to `limit` tags of `category` (all when empty) after `after`, by category, sort order and id.
    pub async fn list_tags(
        &self,
        category: &str,
        after: Option<&TagCursor>,
        limit: u32,
    ) -> Result<Vec<TagRecord>, sqlx::Error> {
        let mut query = QueryBuilder::new(format!("{TAG_SELECT} WHERE 1 = 1"));
        if !category.is_empty() {
            query.push(" AND t.category = ").push_bind(category.to_owned());
        }
        if let Some(after) = after {
            query.push(" AND (t.category > ").push_bind(after.category.clone());
            query.push(" OR (t.category = ").push_bind(after.category.clone());
            query.push(" AND (t.sort_order > ").push_bind(after.sort_order);
            query.push(" OR (t.sort_order = ").push_bind(after.sort_order);
            query.push(" AND t.id > ").push_bind(after.id).push("))))");
        }
        query.push(" ORDER BY t.category, t.sort_order, t.id LIMIT ").push_bind(i64::from(limit));
        query.build_query_as().fetch_all(self.db.pool()).await
    }

    /// Replaces a tag's fields; `None` when the tag does not exist.
    pub async fn update_tag(&self, id: i64, fields: &TagFields, now: i64) -> Result<Option<TagRecord>, TagWriteError> {
        let result =
            sqlx::query("UPDATE group_tag SET name = ?, category = ?, sort_order = ?, updated_at = ? WHERE id = ?")
                .bind(&fields.name)
                .bind(&fields.category)
                .bind(fields.sort_order)
                .bind(now)
                .bind(id)
                .execute(self.db.pool())
                .await
                .map_err(duplicate_or)?;
        if result.rows_affected() == 0 && self.tag(id).await?.is_none() {
            return Ok(None);
        }
        Ok(self.tag(id).await?)
    }

    /// Deletes a tag, removing it from every group; `None` when it does not exist, else the groups untagged.
    pub async fn delete_tag(&self, id: i64) -> Result<Option<i64>, sqlx::Error> {
        let mut tx = self.db.pool().begin().await?;
        let deleted = sqlx::query("DELETE FROM group_tag WHERE id = ?").bind(id).execute(&mut *tx).await?;
        if deleted.rows_affected() == 0 {
            return Ok(None);
        }
        let group_ids: Vec<i64> = sqlx::query_scalar("SELECT group_id FROM group_chat_tag WHERE tag_id = ?")
            .bind(id)
            .fetch_all(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM group_chat_tag WHERE tag_id = ?").bind(id).execute(&mut *tx).await?;
        for group_id in &group_ids {
            refresh_tag_count(&mut tx, *group_id).await?;
        }
        tx.commit().await?;
        Ok(Some(group_ids.len() as i64))
    }

    /// The ids among `ids` that are not stored tags.
    pub async fn unknown_tags(&self, ids: &[i64]) -> Result<Vec<i64>, sqlx::Error> {
        let mut unknown = Vec::new();
        for id in ids {
            let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM group_tag WHERE id = ?")
                .bind(*id)
                .fetch_optional(self.db.pool())
                .await?;
            if exists.is_none() {
                unknown.push(*id);
            }
        }
        Ok(unknown)
    }

    /// Adds and removes tags on the groups `chat_ids` within `scope`.
    pub async fn tag_groups(
        &self,
        chat_ids: &[String],
        add: &[i64],
        remove: &[i64],
        scope: &StoreScope,
        now: i64,
    ) -> Result<TagOutcome, sqlx::Error> {
        let mut outcome = TagOutcome::default();
        for chat_id in chat_ids {
            let mut query = QueryBuilder::new("SELECT id FROM group_chat WHERE chat_id = ");
            query.push_bind(chat_id.clone());
            push_store_filter(&mut query, "store_id", scope);
            let Some(group_id): Option<i64> = query.build_query_scalar().fetch_optional(self.db.pool()).await? else {
                outcome.unknown_chat_ids.push(chat_id.clone());
                continue;
            };
            let mut tx = self.db.pool().begin().await?;
            let mut changed = 0;
            for tag_id in add {
                let insert = format!(
                    "{} INTO group_chat_tag (group_id, tag_id, created_at) VALUES (?, ?, ?)",
                    self.db.dialect().insert_ignore()
                );
                changed += sqlx::query(sqlx::AssertSqlSafe(insert))
                    .bind(group_id)
                    .bind(*tag_id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            }
            for tag_id in remove {
                changed += sqlx::query("DELETE FROM group_chat_tag WHERE group_id = ? AND tag_id = ?")
                    .bind(group_id)
                    .bind(*tag_id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            }
            if changed > 0 {
                refresh_tag_count(&mut tx, group_id).await?;
                outcome.updated += 1;
            } else {
                outcome.unchanged += 1;
            }
            tx.commit().await?;
        }
        Ok(outcome)
    }
}

async fn refresh_tag_count(connection: &mut sqlx::AnyConnection, group_id: i64) -> Result<(), sqlx::Error> {
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM group_chat_tag WHERE group_id = ?")
        .bind(group_id)
        .fetch_one(&mut *connection)
        .await?;
    sqlx::query("UPDATE group_chat SET tag_count = ? WHERE id = ?")
        .bind(count)
        .bind(group_id)
        .execute(&mut *connection)
        .await?;
    Ok(())
}
