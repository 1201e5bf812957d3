//! The group service's tables.

use scrm_kernel::StoreScope;
use scrm_storage::{Db, push_store_filter};
use sqlx::QueryBuilder;

/// Reads and writes the `group_*` tables.
#[derive(Debug, Clone)]
pub struct GroupStore {
    db: Db,
}

impl GroupStore {
    /// A store over `db`.
    pub fn new(db: Db) -> Self {
        GroupStore { db }
    }

    /// Counts the customer groups in `scope` that are not dismissed.
    pub async fn count_groups(&self, scope: &StoreScope) -> Result<i64, sqlx::Error> {
        let mut query = QueryBuilder::new("SELECT COUNT(*) FROM group_chat WHERE dismissed_at IS NULL");
        push_store_filter(&mut query, "store_id", scope);
        query.build_query_scalar().fetch_one(self.db.pool()).await
    }
}

#[cfg(test)]
mod tests {
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

    scrm_storage::store_test_suite!(counts_live_groups_within_scope);
}
