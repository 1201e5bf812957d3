//! Reads of the synced org (departments, staff) and the store flags scrm keeps on departments.

use scrm_storage::Db;
use sqlx::{Any, FromRow, QueryBuilder};

use crate::store::{STAFF_COLUMNS, StaffRow};

/// A stored department with when it was last synced.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct DepartmentRecord {
    /// WeCom department id.
    pub id: i64,
    /// WeCom `parentid`.
    pub parent_id: i64,
    /// WeCom `order`.
    pub sort_order: i64,
    /// Name.
    pub name: String,
    /// Last synced, Unix milliseconds.
    pub updated_at: i64,
}

/// The store attributes scrm keeps for a department.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct StoreRow {
    /// WeCom department id, also the store id.
    pub department_id: i64,
    /// 1 while the department is flagged as a store.
    pub is_store: i32,
    /// Store code of the data platform; `None` when not set.
    pub store_code: Option<String>,
    /// Street address.
    pub address: String,
    /// Last change, Unix milliseconds.
    pub updated_at: i64,
}

/// A stored staff member with when they were first and last synced.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct StaffRecord {
    /// The member as WeCom describes them.
    #[sqlx(flatten)]
    pub staff: StaffRow,
    /// First synced, Unix milliseconds.
    pub created_at: i64,
    /// Last synced, Unix milliseconds.
    pub updated_at: i64,
}

/// A scrm user linked to a WeCom member.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct LinkedUser {
    /// The scrm user's id.
    pub id: i64,
    /// The member's WeCom `userid`.
    pub userid: String,
}

/// The org tables.
#[derive(Debug, Clone)]
pub struct OrgStore {
    db: Db,
}

impl OrgStore {
    /// The org tables in `db`.
    pub fn new(db: Db) -> Self {
        OrgStore { db }
    }

    /// Every department.
    pub async fn departments(&self) -> Result<Vec<DepartmentRecord>, sqlx::Error> {
        sqlx::query_as("SELECT id, parent_id, sort_order, name, updated_at FROM identity_department")
            .fetch_all(self.db.pool())
            .await
    }

    /// The store attributes of every department that has some, flagged or not.
    pub async fn stores(&self) -> Result<Vec<StoreRow>, sqlx::Error> {
        sqlx::query_as("SELECT department_id, is_store, store_code, address, updated_at FROM identity_store")
            .fetch_all(self.db.pool())
            .await
    }

    /// Every staff member, resigned included.
    pub async fn all_staff(&self) -> Result<Vec<StaffRecord>, sqlx::Error> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {STAFF_COLUMNS}, created_at, updated_at FROM identity_staff"
        )))
        .fetch_all(self.db.pool())
        .await
    }

    /// The staff members with these userids; unknown ones are left out.
    pub async fn staff_by_userids(&self, userids: &[String]) -> Result<Vec<StaffRecord>, sqlx::Error> {
        if userids.is_empty() {
            return Ok(Vec::new());
        }
        let mut query = QueryBuilder::<Any>::new(format!(
            "SELECT {STAFF_COLUMNS}, created_at, updated_at FROM identity_staff WHERE userid IN ("
        ));
        let mut list = query.separated(", ");
        for userid in userids {
            list.push_bind(userid.clone());
        }
        query.push(")");
        query.build_query_as().fetch_all(self.db.pool()).await
    }

    /// The scrm users linked to WeCom members.
    pub async fn linked_users(&self) -> Result<Vec<LinkedUser>, sqlx::Error> {
        sqlx::query_as("SELECT id, userid FROM identity_user WHERE userid IS NOT NULL").fetch_all(self.db.pool()).await
    }

    /// The department other than `department_id` whose store uses `store_code`, if any.
    pub async fn store_code_owner(&self, store_code: &str, department_id: i64) -> Result<Option<i64>, sqlx::Error> {
        sqlx::query_scalar("SELECT department_id FROM identity_store WHERE store_code = ? AND department_id <> ?")
            .bind(store_code)
            .bind(department_id)
            .fetch_optional(self.db.pool())
            .await
    }

    /// Flags a department as a store with its attributes, or clears the flag keeping the attributes.
    pub async fn set_store(&self, row: &StoreRow) -> Result<(), sqlx::Error> {
        let updated: &[&str] = if row.is_store == 1 {
            &["is_store", "store_code", "address", "updated_at"]
        } else {
            &["is_store", "updated_at"]
        };
        let upsert = self.db.dialect().upsert_clause(&["department_id"], updated);
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO identity_store (department_id, is_store, store_code, address, updated_at) \
             VALUES (?, ?, ?, ?, ?) {upsert}"
        )))
        .bind(row.department_id)
        .bind(row.is_store)
        .bind(row.store_code.clone())
        .bind(&row.address)
        .bind(row.updated_at)
        .execute(self.db.pool())
        .await?;
        Ok(())
    }
}
