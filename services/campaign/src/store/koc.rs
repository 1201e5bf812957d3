//! KOC profiles (PR14): `campaign_koc_profile`.

use scrm_kernel::StoreScope;
use scrm_proto::campaign::v1::KocProfile;
use sqlx::{FromRow, QueryBuilder};

use super::{CampaignStore, LIKE_ESCAPE, escape_like, push_scope, timestamp};
use crate::domain::koc_person;

/// A KOC profile row.
#[derive(Debug, Clone, FromRow)]
struct KocRow {
    id: i64,
    kind: i32,
    external_userid: String,
    userid: String,
    name: String,
    avatar_url: String,
    chat_ids: String,
    status: i32,
    store_id: i64,
    koc_system_id: String,
    note: String,
    created_at: i64,
    updated_at: i64,
}

/// Filters of ListKocProfiles.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KocFilter {
    /// Only this status (0: any).
    pub status: i32,
    /// Only this kind (0: any).
    pub kind: i32,
    /// Only KOCs running this group.
    pub chat_id: String,
    /// Only this store (0: any in scope).
    pub store_id: i64,
    /// Substring of the name.
    pub query: String,
    /// Only this customer.
    pub external_userid: String,
    /// Only this staff member (a `koc` caller's own profile).
    pub userid: String,
}

/// Why a profile was not inserted.
#[derive(Debug)]
pub enum KocInsertError {
    /// The person already has a profile.
    Exists,
    /// The database failed.
    Storage(sqlx::Error),
}

const KOC_COLUMNS: &str = "id, kind, external_userid, userid, name, avatar_url, chat_ids, status, store_id, \
     koc_system_id, note, created_at, updated_at FROM campaign_koc_profile";

impl CampaignStore {
    /// Stores a new profile; returns it with its id.
    pub async fn insert_koc(&self, profile: &KocProfile, now: i64) -> Result<KocProfile, KocInsertError> {
        let mut connection = self.db.pool().acquire().await.map_err(KocInsertError::Storage)?;
        let inserted = sqlx::query(
            "INSERT INTO campaign_koc_profile (kind, person, external_userid, userid, name, avatar_url, chat_ids, \
             status, store_id, koc_system_id, note, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(profile.kind)
        .bind(koc_person(profile))
        .bind(&profile.external_userid)
        .bind(&profile.userid)
        .bind(&profile.name)
        .bind(&profile.avatar_url)
        .bind(profile.chat_ids.join(","))
        .bind(profile.status)
        .bind(profile.store_id)
        .bind(&profile.koc_system_id)
        .bind(&profile.note)
        .bind(now)
        .bind(now)
        .execute(&mut *connection)
        .await;
        match inserted {
            Ok(_) => {}
            Err(sqlx::Error::Database(error)) if error.is_unique_violation() => return Err(KocInsertError::Exists),
            Err(error) => return Err(KocInsertError::Storage(error)),
        }
        let id = self.last_insert_id(&mut connection).await.map_err(KocInsertError::Storage)?;
        self.koc(id).await.map_err(KocInsertError::Storage)?.ok_or(KocInsertError::Storage(sqlx::Error::RowNotFound))
    }

    /// Profile `id`; `None` when unknown.
    pub async fn koc(&self, id: i64) -> Result<Option<KocProfile>, sqlx::Error> {
        let row: Option<KocRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {KOC_COLUMNS} WHERE id = ?")))
            .bind(id)
            .fetch_optional(self.db.pool())
            .await?;
        Ok(row.map(koc_proto))
    }

    /// Up to `limit` profiles matching `filter` within `scope`, by name then id, from `offset`.
    pub async fn list_kocs(
        &self,
        filter: &KocFilter,
        scope: &StoreScope,
        offset: i64,
        limit: u32,
    ) -> Result<Vec<KocProfile>, sqlx::Error> {
        let mut query = QueryBuilder::new(format!("SELECT {KOC_COLUMNS} WHERE 1 = 1"));
        if filter.status != 0 {
            query.push(" AND status = ").push_bind(filter.status);
        }
        if filter.kind != 0 {
            query.push(" AND kind = ").push_bind(filter.kind);
        }
        if filter.store_id != 0 {
            query.push(" AND store_id = ").push_bind(filter.store_id);
        }
        if !filter.external_userid.is_empty() {
            query.push(" AND person = ").push_bind(format!("c:{}", filter.external_userid));
        }
        if !filter.userid.is_empty() {
            query.push(" AND person = ").push_bind(format!("s:{}", filter.userid));
        }
        if !filter.query.is_empty() {
            query.push(" AND name LIKE ").push_bind(format!("%{}%", escape_like(&filter.query))).push(LIKE_ESCAPE);
        }
        if !filter.chat_id.is_empty() {
            let padded = match self.db.dialect() {
                scrm_storage::Dialect::Sqlite => "(',' || chat_ids || ',')",
                scrm_storage::Dialect::MySql => "CONCAT(',', chat_ids, ',')",
            };
            query.push(format!(" AND {padded} LIKE ")).push_bind(format!("%,{},%", escape_like(&filter.chat_id)));
            query.push(LIKE_ESCAPE);
        }
        push_scope(&mut query, "store_id", scope);
        query.push(" ORDER BY name, id LIMIT ").push_bind(i64::from(limit)).push(" OFFSET ").push_bind(offset);
        let rows: Vec<KocRow> = query.build_query_as().fetch_all(self.db.pool()).await?;
        Ok(rows.into_iter().map(koc_proto).collect())
    }

    /// Writes the editable fields of `profile` (name, chat_ids, status, store, KOC system id, note).
    pub async fn save_koc(&self, profile: &KocProfile, now: i64) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE campaign_koc_profile SET name = ?, chat_ids = ?, status = ?, store_id = ?, koc_system_id = ?, \
             note = ?, updated_at = ? WHERE id = ?",
        )
        .bind(&profile.name)
        .bind(profile.chat_ids.join(","))
        .bind(profile.status)
        .bind(profile.store_id)
        .bind(&profile.koc_system_id)
        .bind(&profile.note)
        .bind(now)
        .bind(profile.id)
        .execute(self.db.pool())
        .await?;
        Ok(())
    }
}

fn koc_proto(row: KocRow) -> KocProfile {
    KocProfile {
        id: row.id,
        kind: row.kind,
        external_userid: row.external_userid,
        userid: row.userid,
        name: row.name,
        avatar_url: row.avatar_url,
        chat_ids: row.chat_ids.split(',').filter(|id| !id.is_empty()).map(str::to_owned).collect(),
        status: row.status,
        store_id: row.store_id,
        koc_system_id: row.koc_system_id,
        note: row.note,
        open_task_count: 0,
        created_at: Some(timestamp(row.created_at)),
        updated_at: Some(timestamp(row.updated_at)),
    }
}

#[cfg(test)]
mod tests {
    use scrm_proto::campaign::v1::{KocKind, KocStatus};
    use scrm_storage::Db;

    use super::*;

    fn customer(external_userid: &str, name: &str, store_id: i64) -> KocProfile {
        KocProfile {
            kind: KocKind::Customer as i32,
            external_userid: external_userid.into(),
            name: name.into(),
            chat_ids: vec!["wrA".into(), "wrB".into()],
            status: KocStatus::Active as i32,
            store_id,
            ..KocProfile::default()
        }
    }

    async fn koc_profiles_are_one_per_person_and_filter(db: Db) {
        db.migrate(&crate::MIGRATIONS).await.unwrap();
        let store = CampaignStore::new(db);
        let li = store.insert_koc(&customer("wmLi", "李雷", 7), 5).await.unwrap();
        assert_eq!((li.chat_ids.len(), li.created_at), (2, Some(timestamp(5))));
        assert!(matches!(store.insert_koc(&customer("wmLi", "又一个", 0), 6).await, Err(KocInsertError::Exists)));
        let staff = KocProfile {
            kind: KocKind::Staff as i32,
            userid: "wmLi".into(),
            name: "阿李".into(),
            status: KocStatus::Active as i32,
            ..KocProfile::default()
        };
        let staff = store.insert_koc(&staff, 7).await.unwrap();
        let han = store.insert_koc(&customer("wmHan", "韩梅梅", 8), 8).await.unwrap();

        let ids = |profiles: Vec<KocProfile>| profiles.into_iter().map(|profile| profile.id).collect::<Vec<_>>();
        let all = |filter: KocFilter| {
            let store = store.clone();
            async move { ids(store.list_kocs(&filter, &StoreScope::All, 0, 20).await.unwrap()) }
        };
        assert_eq!(all(KocFilter { external_userid: "wmLi".into(), ..KocFilter::default() }).await, [li.id]);
        assert_eq!(all(KocFilter { userid: "wmLi".into(), ..KocFilter::default() }).await, [staff.id]);
        assert_eq!(all(KocFilter { chat_id: "wrB".into(), ..KocFilter::default() }).await, [li.id, han.id]);
        assert_eq!(all(KocFilter { query: "梅".into(), ..KocFilter::default() }).await, [han.id]);
        let store_seven = StoreScope::Only(vec!["7".into()]);
        let seen = ids(store.list_kocs(&KocFilter::default(), &store_seven, 0, 20).await.unwrap());
        assert_eq!(seen.len(), 2, "store 7's KOC and the corp-wide staff KOC");
        assert!(seen.contains(&li.id) && seen.contains(&staff.id));

        let mut unflagged = li.clone();
        unflagged.status = KocStatus::Inactive as i32;
        unflagged.note = "转为普通客户".into();
        store.save_koc(&unflagged, 9).await.unwrap();
        let read = store.koc(li.id).await.unwrap().unwrap();
        assert_eq!((read.status, read.note.as_str()), (KocStatus::Inactive as i32, "转为普通客户"));
        let active = KocFilter { status: KocStatus::Active as i32, ..KocFilter::default() };
        assert!(!all(active).await.contains(&li.id));
    }

    scrm_storage::store_test_suite!(koc_profiles_are_one_per_person_and_filter);
}
