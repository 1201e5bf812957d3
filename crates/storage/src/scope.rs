//! Limiting queries to the caller's stores.

use scrm_kernel::StoreScope;
use sqlx::{Any, QueryBuilder};

/// Appends ` AND <column> IN (...)` to `builder` when `scope` is limited to some stores.
pub fn push_store_filter(builder: &mut QueryBuilder<Any>, column: &'static str, scope: &StoreScope) {
    if let StoreScope::Only(store_ids) = scope {
        builder.push(" AND ").push(column).push(" IN (");
        let mut list = builder.separated(", ");
        for store_id in store_ids {
            list.push_bind(store_id.clone());
        }
        builder.push(")");
    }
}
