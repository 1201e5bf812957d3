//! The customer service's tables.

use scrm_kernel::StoreScope;
use scrm_storage::{Db, push_store_filter};
use sqlx::QueryBuilder;

/// Reads and writes the `customer_*` tables.
#[derive(Debug, Clone)]
pub struct CustomerStore {
    db: Db,
}

impl CustomerStore {
    /// A store over `db`.
    pub fn new(db: Db) -> Self {
        CustomerStore { db }
    }

    /// Counts the external contacts in `scope`.
    pub async fn count_contacts(&self, scope: &StoreScope) -> Result<i64, sqlx::Error> {
        let mut query = QueryBuilder::new("SELECT COUNT(*) FROM customer_contact WHERE 1 = 1");
        push_store_filter(&mut query, "store_id", scope);
        query.build_query_scalar().fetch_one(self.db.pool()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn insert_contact(db: &Db, external_userid: &str, store_id: Option<&str>) {
        sqlx::query(
            "INSERT INTO customer_contact (external_userid, name, store_id, created_at, updated_at) VALUES (?, ?, ?, 0, 0)",
        )
        .bind(external_userid)
        .bind("张三")
        .bind(store_id)
        .execute(db.pool())
        .await
        .unwrap();
    }

    async fn counts_contacts_within_scope(db: Db) {
        db.migrate(&crate::MIGRATIONS).await.unwrap();
        let store = CustomerStore::new(db.clone());
        assert_eq!(store.count_contacts(&StoreScope::All).await.unwrap(), 0);
        insert_contact(&db, "wm1", Some("s1")).await;
        insert_contact(&db, "wm2", Some("s2")).await;
        insert_contact(&db, "wm3", None).await;
        assert_eq!(store.count_contacts(&StoreScope::All).await.unwrap(), 3);
        assert_eq!(store.count_contacts(&StoreScope::Only(vec!["s1".into()])).await.unwrap(), 1);
        assert_eq!(store.count_contacts(&StoreScope::Only(vec!["s1".into(), "s2".into()])).await.unwrap(), 2);
    }

    async fn migrations_apply_twice_without_change(db: Db) {
        db.migrate(&crate::MIGRATIONS).await.unwrap();
        db.migrate(&crate::MIGRATIONS).await.unwrap();
        assert_eq!(CustomerStore::new(db).count_contacts(&StoreScope::All).await.unwrap(), 0);
    }

    scrm_storage::store_test_suite!(counts_contacts_within_scope, migrations_apply_twice_without_change);
}
