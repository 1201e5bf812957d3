//! The identity service's tables.

use scrm_storage::Db;
use sqlx::{FromRow, QueryBuilder};

use crate::domain::InboxState;

/// A callback event to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInboxEvent {
    /// Key identifying the event across WeCom's retries.
    pub dedup_key: String,
    /// WeCom `Event`.
    pub event: String,
    /// WeCom `ChangeType`, empty when none.
    pub change_type: String,
    /// WeCom `CreateTime`, Unix milliseconds.
    pub created_at_ms: i64,
    /// When the gateway received it, Unix milliseconds.
    pub received_at_ms: i64,
    /// The decrypted XML.
    pub raw_xml: String,
}

/// A stored callback event.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct InboxRow {
    /// Id minted by the database.
    pub id: i64,
    /// Key identifying the event across WeCom's retries.
    pub dedup_key: String,
    /// WeCom `Event`.
    pub event: String,
    /// WeCom `ChangeType`, empty when none.
    pub change_type: String,
    /// WeCom `CreateTime`, Unix milliseconds.
    pub created_at: i64,
    /// When the gateway received it, Unix milliseconds.
    pub received_at: i64,
    /// Stored state code; read it with [`InboxRow::state`].
    pub state: i32,
    /// Processing attempts so far.
    pub attempts: i32,
    /// Last processing error, empty when none.
    pub last_error: String,
    /// When it was last processed, Unix milliseconds.
    pub processed_at: Option<i64>,
    /// The decrypted XML.
    pub raw_xml: String,
}

impl InboxRow {
    /// The processing state.
    pub fn state(&self) -> InboxState {
        InboxState::from_code(self.state)
    }
}

/// Which inbox events to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InboxFilter {
    /// Only this state.
    pub state: Option<InboxState>,
    /// Only this WeCom `Event`.
    pub event: Option<String>,
    /// Only this WeCom `ChangeType`.
    pub change_type: Option<String>,
}

const INBOX_COLUMNS: &str =
    "id, dedup_key, event, change_type, created_at, received_at, state, attempts, last_error, processed_at, raw_xml";

/// Reads and writes the `identity_*` tables.
#[derive(Debug, Clone)]
pub struct IdentityStore {
    db: Db,
}

impl IdentityStore {
    /// A store over `db`.
    pub fn new(db: Db) -> Self {
        IdentityStore { db }
    }

    /// Stores `event` unless its dedup key is already there; returns the row id and whether it was a duplicate.
    pub async fn insert_inbox_event(&self, event: &NewInboxEvent) -> Result<(i64, bool), sqlx::Error> {
        let insert = format!(
            "{} INTO identity_callback_inbox \
             (dedup_key, event, change_type, created_at, received_at, state, attempts, last_error, raw_xml) \
             VALUES (?, ?, ?, ?, ?, ?, 0, '', ?)",
            self.db.dialect().insert_ignore()
        );
        let inserted = sqlx::query(sqlx::AssertSqlSafe(insert))
            .bind(&event.dedup_key)
            .bind(&event.event)
            .bind(&event.change_type)
            .bind(event.created_at_ms)
            .bind(event.received_at_ms)
            .bind(InboxState::Pending.code())
            .bind(&event.raw_xml)
            .execute(self.db.pool())
            .await?
            .rows_affected();
        let id: i64 = sqlx::query_scalar("SELECT id FROM identity_callback_inbox WHERE dedup_key = ?")
            .bind(&event.dedup_key)
            .fetch_one(self.db.pool())
            .await?;
        Ok((id, inserted == 0))
    }

    /// Lists inbox events matching `filter`, newest first, with ids below `before`.
    pub async fn list_inbox_events(
        &self,
        filter: &InboxFilter,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<InboxRow>, sqlx::Error> {
        let mut query = QueryBuilder::new(format!("SELECT {INBOX_COLUMNS} FROM identity_callback_inbox WHERE 1 = 1"));
        if let Some(state) = filter.state {
            query.push(" AND state = ").push_bind(state.code());
        }
        if let Some(event) = &filter.event {
            query.push(" AND event = ").push_bind(event.clone());
        }
        if let Some(change_type) = &filter.change_type {
            query.push(" AND change_type = ").push_bind(change_type.clone());
        }
        if let Some(before) = before {
            query.push(" AND id < ").push_bind(before);
        }
        query.push(" ORDER BY id DESC LIMIT ").push_bind(i64::from(limit));
        query.build_query_as().fetch_all(self.db.pool()).await
    }

    /// Puts event `id` back in the pending state; `None` when there is no such event.
    pub async fn requeue_inbox_event(&self, id: i64) -> Result<Option<InboxRow>, sqlx::Error> {
        sqlx::query("UPDATE identity_callback_inbox SET state = ?, processed_at = NULL WHERE id = ?")
            .bind(InboxState::Pending.code())
            .bind(id)
            .execute(self.db.pool())
            .await?;
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {INBOX_COLUMNS} FROM identity_callback_inbox WHERE id = ?")))
            .bind(id)
            .fetch_optional(self.db.pool())
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(dedup_key: &str, event: &str) -> NewInboxEvent {
        NewInboxEvent {
            dedup_key: dedup_key.to_owned(),
            event: event.to_owned(),
            change_type: "add_external_contact".to_owned(),
            created_at_ms: 1_700_000_000_000,
            received_at_ms: 1_700_000_000_500,
            raw_xml: "<xml><Event>change_external_contact</Event></xml>".to_owned(),
        }
    }

    async fn the_same_event_is_stored_once(db: Db) {
        db.migrate(&crate::MIGRATIONS).await.unwrap();
        let store = IdentityStore::new(db);
        let (first, duplicate) = store.insert_inbox_event(&event("k1", "change_external_contact")).await.unwrap();
        assert!(!duplicate);
        for _ in 0..2 {
            assert_eq!(store.insert_inbox_event(&event("k1", "change_external_contact")).await.unwrap(), (first, true));
        }
        let rows = store.list_inbox_events(&InboxFilter::default(), None, 10).await.unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].state(), InboxState::Pending);
        assert_eq!(rows[0].received_at, 1_700_000_000_500);
    }

    async fn lists_page_newest_first_with_filters(db: Db) {
        db.migrate(&crate::MIGRATIONS).await.unwrap();
        let store = IdentityStore::new(db);
        for index in 0..5 {
            let kind = if index % 2 == 0 { "change_external_contact" } else { "change_external_chat" };
            store.insert_inbox_event(&event(&format!("k{index}"), kind)).await.unwrap();
        }
        let first = store.list_inbox_events(&InboxFilter::default(), None, 2).await.unwrap();
        let keys: Vec<_> = first.iter().map(|row| row.dedup_key.as_str()).collect();
        assert_eq!(keys, ["k4", "k3"]);
        let second = store.list_inbox_events(&InboxFilter::default(), Some(first[1].id), 2).await.unwrap();
        let keys: Vec<_> = second.iter().map(|row| row.dedup_key.as_str()).collect();
        assert_eq!(keys, ["k2", "k1"]);
        let chats = InboxFilter { event: Some("change_external_chat".into()), ..InboxFilter::default() };
        assert_eq!(store.list_inbox_events(&chats, None, 10).await.unwrap().len(), 2);
        let processed = InboxFilter { state: Some(InboxState::Processed), ..InboxFilter::default() };
        assert!(store.list_inbox_events(&processed, None, 10).await.unwrap().is_empty());
    }

    async fn requeue_returns_the_event_pending(db: Db) {
        db.migrate(&crate::MIGRATIONS).await.unwrap();
        let store = IdentityStore::new(db);
        let (id, _) = store.insert_inbox_event(&event("k1", "change_contact")).await.unwrap();
        let row = store.requeue_inbox_event(id).await.unwrap().unwrap();
        assert_eq!((row.id, row.state()), (id, InboxState::Pending));
        assert_eq!(store.requeue_inbox_event(id + 100).await.unwrap(), None);
    }

    scrm_storage::store_test_suite!(
        the_same_event_is_stored_once,
        lists_page_newest_first_with_filters,
        requeue_returns_the_event_pending
    );
}
