//! The customer service's tables.

mod orders;
mod profile;
mod search;
mod snapshot;
mod tags;

use std::collections::HashMap;

use scrm_kernel::StoreScope;
use scrm_proto::customer::v1::{CustomerStatus, FollowStatus};
use scrm_storage::{Db, Dialect, push_store_filter};
use sqlx::{Any, AnyConnection, Connection, Executor, FromRow, QueryBuilder, Transaction};

pub use orders::{MemberKey, MemberRecord, OrderFilter, order_position};
pub use profile::NoteRecord;
pub use search::SearchExtras;
pub use snapshot::ProfileSnapshot;

use crate::domain::{
    ContactFields, ContactInput, EVENT_TIME_SLACK_MS, FollowFields, Outcome, StoredContact, StoredCustomer,
    StoredFollow, Tag, canonical_tags, customer_status, merge_duplicates, plan_contact, removal_is_stale,
};

/// Rows per multi-row statement, well inside both databases' bind-parameter limits.
const ROWS_PER_STATEMENT: usize = 400;

/// What an upsert did, counted per contact (and per relation for the last two).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UpsertSummary {
    /// Contacts new to scrm.
    pub created: i64,
    /// Contacts that existed and changed.
    pub updated: i64,
    /// Contacts that existed and were identical, or whose input was older than what is stored.
    pub unchanged: i64,
    /// Relations that started (new, or current again).
    pub follow_users_added: i64,
    /// Relations ended because they were missing from a complete set.
    pub follow_users_removed: i64,
}

/// What a follow-user removal did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Removal {
    /// Whether this call ended the relation.
    pub removed: bool,
    /// The customer's state afterwards.
    pub customer_status: CustomerStatus,
}

#[derive(FromRow)]
struct ContactRow {
    external_userid: String,
    name: String,
    avatar: String,
    contact_type: i32,
    gender: i32,
    unionid: Option<String>,
    position: String,
    corp_name: String,
    corp_full_name: String,
    store_id: Option<String>,
    observed_at: i64,
    created_at: i64,
    updated_at: i64,
}

const CONTACT_COLUMNS: &str = "external_userid, name, avatar, contact_type, gender, unionid, position, corp_name, \
     corp_full_name, store_id, observed_at, created_at, updated_at";

impl From<ContactRow> for StoredContact {
    fn from(row: ContactRow) -> Self {
        StoredContact {
            fields: ContactFields {
                external_userid: row.external_userid,
                name: row.name,
                avatar: row.avatar,
                contact_type: row.contact_type,
                gender: row.gender,
                unionid: row.unionid.unwrap_or_default(),
                position: row.position,
                corp_name: row.corp_name,
                corp_full_name: row.corp_full_name,
            },
            store_id: row.store_id,
            observed_at: row.observed_at,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

#[derive(FromRow)]
struct FollowRow {
    external_userid: String,
    userid: String,
    remark: String,
    description: String,
    added_at: i64,
    add_way: i32,
    state: String,
    oper_userid: String,
    remark_corp_name: String,
    remark_mobiles: String,
    store_ids: String,
    status: i32,
    removed_at: Option<i64>,
    observed_at: i64,
    created_at: i64,
    updated_at: i64,
}

const FOLLOW_COLUMNS: &str = "external_userid, userid, remark, description, added_at, add_way, state, oper_userid, \
     remark_corp_name, remark_mobiles, store_ids, status, removed_at, observed_at, created_at, updated_at";

impl From<FollowRow> for StoredFollow {
    fn from(row: FollowRow) -> Self {
        StoredFollow {
            external_userid: row.external_userid,
            fields: FollowFields {
                userid: row.userid,
                remark: row.remark,
                description: row.description,
                added_at: row.added_at,
                add_way: row.add_way,
                state: row.state,
                oper_userid: row.oper_userid,
                remark_corp_name: row.remark_corp_name,
                remark_mobiles: split_list(&row.remark_mobiles).map(str::to_owned).collect(),
                tags: Vec::new(),
                store_ids: split_list(&row.store_ids).filter_map(|id| id.parse().ok()).collect(),
            },
            status: row.status,
            removed_at: row.removed_at,
            observed_at: row.observed_at,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

#[derive(FromRow)]
struct TagRow {
    external_userid: String,
    userid: String,
    tag_type: i32,
    tag_id: String,
    tag_name: String,
    group_id: String,
    group_name: String,
}

const TAG_COLUMNS: &str = "external_userid, userid, tag_type, tag_id, tag_name, group_id, group_name";

fn split_list(text: &str) -> impl Iterator<Item = &str> {
    text.split(',').filter(|item| !item.is_empty())
}

fn join_ids(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

/// Reads and writes the `customer_*` tables.
#[derive(Debug, Clone)]
pub struct CustomerStore {
    db: Db,
    tiers: snapshot::TierCache,
}

impl CustomerStore {
    /// A store over `db`.
    pub fn new(db: Db) -> Self {
        CustomerStore { db, tiers: snapshot::TierCache::default() }
    }

    /// Counts the external contacts in `scope`.
    pub async fn count_contacts(&self, scope: &StoreScope) -> Result<i64, sqlx::Error> {
        let mut query = QueryBuilder::new("SELECT COUNT(*) FROM customer_contact WHERE 1 = 1");
        push_store_filter(&mut query, "store_id", scope);
        query.build_query_scalar().fetch_one(self.db.pool()).await
    }

    /// One customer with all their follow relations (ended ones included) and tags; `None` when unknown.
    pub async fn customer(&self, external_userid: &str) -> Result<Option<StoredCustomer>, sqlx::Error> {
        let mut connection = self.db.pool().acquire().await?;
        let mut customers =
            load_customers(&mut connection, self.db.dialect(), &[external_userid.to_owned()], false).await?;
        Ok(customers.remove(external_userid))
    }

    /// Applies contacts read from WeCom at `observed_at` (Unix ms), at time `now`, in one transaction. Only
    /// what changed is written: the same input twice writes nothing the second time. Inputs naming the same
    /// contact are merged first.
    pub async fn upsert_contacts(
        &self,
        inputs: Vec<ContactInput>,
        observed_at: i64,
        now: i64,
    ) -> Result<UpsertSummary, sqlx::Error> {
        let inputs = merge_duplicates(inputs);
        let mut summary = UpsertSummary::default();
        if inputs.is_empty() {
            return Ok(summary);
        }
        let dialect = self.db.dialect();
        let mut connection = self.db.pool().acquire().await?;
        let mut tx = begin_write(&mut connection, dialect).await?;
        let ids: Vec<String> = inputs.iter().map(|input| input.contact.external_userid.clone()).collect();
        let stored = load_customers(&mut tx, dialect, &ids, true).await?;
        let mut contacts = Vec::new();
        let mut follows = Vec::new();
        let mut retag = Vec::new();
        for input in &inputs {
            let plan = plan_contact(input, stored.get(&input.contact.external_userid), observed_at, now);
            match plan.outcome {
                Outcome::Created => summary.created += 1,
                Outcome::Updated => summary.updated += 1,
                Outcome::Unchanged => summary.unchanged += 1,
            }
            summary.follow_users_added += plan.follows_added;
            summary.follow_users_removed += plan.follows_removed;
            contacts.extend(plan.contact);
            for userid in &plan.retag {
                if let Some(follow) = plan.follows.iter().find(|follow| &follow.fields.userid == userid) {
                    retag.push(follow.clone());
                }
            }
            follows.extend(plan.follows);
        }
        write_contacts(&mut tx, dialect, &contacts).await?;
        write_follows(&mut tx, dialect, &follows).await?;
        replace_tags(&mut tx, &retag).await?;
        tx.commit().await?;
        Ok(summary)
    }

    /// Ends the relation between customer `external_userid` and staff member `userid` with `status`, as of
    /// `occurred_at` (Unix ms), at time `now`. Nothing changes when the relation is unknown, already ended, or
    /// was seen current after `occurred_at` (re-added since).
    pub async fn remove_follow_user(
        &self,
        external_userid: &str,
        userid: &str,
        status: FollowStatus,
        occurred_at: i64,
        now: i64,
    ) -> Result<Removal, sqlx::Error> {
        let dialect = self.db.dialect();
        let mut connection = self.db.pool().acquire().await?;
        let mut tx = begin_write(&mut connection, dialect).await?;
        let mut customers = load_customers(&mut tx, dialect, &[external_userid.to_owned()], true).await?;
        let Some(mut customer) = customers.remove(external_userid) else {
            return Ok(Removal { removed: false, customer_status: CustomerStatus::Unspecified });
        };
        let Some(follow) = customer.follows.iter_mut().find(|follow| follow.fields.userid == userid) else {
            return Ok(Removal { removed: false, customer_status: customer_status(&customer.follows) });
        };
        if !follow.is_active() || removal_is_stale(follow, occurred_at) {
            return Ok(Removal { removed: false, customer_status: customer_status(&customer.follows) });
        }
        sqlx::query(
            "UPDATE customer_follow_user SET status = ?, removed_at = ?, observed_at = ?, updated_at = ? \
             WHERE external_userid = ? AND userid = ?",
        )
        .bind(status as i32)
        .bind(occurred_at)
        .bind(follow.observed_at.max(occurred_at.saturating_add(EVENT_TIME_SLACK_MS)))
        .bind(now)
        .bind(external_userid)
        .bind(userid)
        .execute(&mut *tx)
        .await?;
        follow.status = status as i32;
        follow.removed_at = Some(occurred_at);
        follow.updated_at = now;
        sqlx::query("UPDATE customer_contact SET updated_at = ? WHERE external_userid = ?")
            .bind(now)
            .bind(external_userid)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Removal { removed: true, customer_status: customer_status(&customer.follows) })
    }

    /// The customers `ids` that exist, with all their relations and tags.
    pub async fn customers(&self, ids: &[String]) -> Result<HashMap<String, StoredCustomer>, sqlx::Error> {
        let mut connection = self.db.pool().acquire().await?;
        load_customers(&mut connection, self.db.dialect(), ids, false).await
    }

    /// Up to `limit` customer ids in ascending order, after `after` (empty for the first page): walks
    /// every customer, e.g. to rebuild the search index.
    pub async fn customer_ids_after(&self, after: &str, limit: i64) -> Result<Vec<String>, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT external_userid FROM customer_contact WHERE external_userid > ? ORDER BY external_userid LIMIT ?",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(self.db.pool())
        .await
    }
}

/// Begins a transaction whose reads may be followed by writes: on SQLite it takes the write lock at once
/// (`BEGIN IMMEDIATE`, so it never fails upgrading); on MySQL it reads committed data, so that the rows read
/// with `FOR UPDATE` are locked without gap locks between concurrent batches.
async fn begin_write(connection: &mut AnyConnection, dialect: Dialect) -> Result<Transaction<'_, Any>, sqlx::Error> {
    match dialect {
        Dialect::Sqlite => connection.begin_with("BEGIN IMMEDIATE").await,
        Dialect::MySql => {
            connection.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED").await?;
            connection.begin().await
        }
    }
}

/// Loads the contacts `ids` that exist, with all their relations and tags; locks them on MySQL when `lock`.
async fn load_customers(
    connection: &mut AnyConnection,
    dialect: Dialect,
    ids: &[String],
    lock: bool,
) -> Result<HashMap<String, StoredCustomer>, sqlx::Error> {
    let lock = if lock && dialect == Dialect::MySql { " FOR UPDATE" } else { "" };
    let mut customers = HashMap::new();
    for chunk in ids.chunks(ROWS_PER_STATEMENT) {
        let mut query = QueryBuilder::<Any>::new(format!("SELECT {CONTACT_COLUMNS} FROM customer_contact WHERE "));
        push_in(&mut query, "external_userid", chunk);
        query.push(lock);
        let rows: Vec<ContactRow> = query.build_query_as().fetch_all(&mut *connection).await?;
        for row in rows {
            let contact = StoredContact::from(row);
            customers.insert(contact.fields.external_userid.clone(), StoredCustomer { contact, follows: Vec::new() });
        }
        let mut query = QueryBuilder::<Any>::new(format!("SELECT {FOLLOW_COLUMNS} FROM customer_follow_user WHERE "));
        push_in(&mut query, "external_userid", chunk);
        query.push(" ORDER BY external_userid, userid").push(lock);
        let follows: Vec<FollowRow> = query.build_query_as().fetch_all(&mut *connection).await?;
        let mut query = QueryBuilder::<Any>::new(format!("SELECT {TAG_COLUMNS} FROM customer_follow_tag WHERE "));
        push_in(&mut query, "external_userid", chunk);
        let tags: Vec<TagRow> = query.build_query_as().fetch_all(&mut *connection).await?;
        attach_follows(&mut customers, follows, tags);
    }
    Ok(customers)
}

/// Gives each customer in `customers` their follow relations, in the order of `follows`, each with its tags.
fn attach_follows(customers: &mut HashMap<String, StoredCustomer>, follows: Vec<FollowRow>, tags: Vec<TagRow>) {
    let mut by_key: HashMap<(String, String), StoredFollow> = HashMap::new();
    let mut order = Vec::new();
    for row in follows {
        let follow = StoredFollow::from(row);
        let key = (follow.external_userid.clone(), follow.fields.userid.clone());
        order.push(key.clone());
        by_key.insert(key, follow);
    }
    for row in tags {
        if let Some(follow) = by_key.get_mut(&(row.external_userid, row.userid)) {
            follow.fields.tags.push(Tag {
                tag_type: row.tag_type,
                tag_id: row.tag_id,
                tag_name: row.tag_name,
                group_id: row.group_id,
                group_name: row.group_name,
            });
        }
    }
    for key in order {
        let Some(mut follow) = by_key.remove(&key) else { continue };
        follow.fields.tags = canonical_tags(std::mem::take(&mut follow.fields.tags));
        if let Some(customer) = customers.get_mut(&key.0) {
            customer.follows.push(follow);
        }
    }
}

fn push_in(query: &mut QueryBuilder<Any>, column: &str, values: &[String]) {
    query.push(column).push(" IN (");
    let mut list = query.separated(", ");
    for value in values {
        list.push_bind(value.clone());
    }
    query.push(")");
}

async fn write_contacts(
    connection: &mut AnyConnection,
    dialect: Dialect,
    contacts: &[StoredContact],
) -> Result<(), sqlx::Error> {
    let upsert = dialect.upsert_clause(
        &["external_userid"],
        &[
            "name",
            "avatar",
            "contact_type",
            "gender",
            "unionid",
            "position",
            "corp_name",
            "corp_full_name",
            "store_id",
            "observed_at",
            "updated_at",
        ],
    );
    for chunk in contacts.chunks(ROWS_PER_STATEMENT) {
        let mut query = QueryBuilder::<Any>::new(format!("INSERT INTO customer_contact ({CONTACT_COLUMNS}) "));
        query.push_values(chunk, |mut row, contact| {
            let fields = &contact.fields;
            row.push_bind(fields.external_userid.clone())
                .push_bind(fields.name.clone())
                .push_bind(fields.avatar.clone())
                .push_bind(fields.contact_type)
                .push_bind(fields.gender)
                .push_bind(Some(fields.unionid.clone()).filter(|unionid| !unionid.is_empty()))
                .push_bind(fields.position.clone())
                .push_bind(fields.corp_name.clone())
                .push_bind(fields.corp_full_name.clone())
                .push_bind(contact.store_id.clone())
                .push_bind(contact.observed_at)
                .push_bind(contact.created_at)
                .push_bind(contact.updated_at);
        });
        query.push(" ").push(&upsert);
        query.build().execute(&mut *connection).await?;
    }
    Ok(())
}

async fn write_follows(
    connection: &mut AnyConnection,
    dialect: Dialect,
    follows: &[StoredFollow],
) -> Result<(), sqlx::Error> {
    let upsert = dialect.upsert_clause(
        &["external_userid", "userid"],
        &[
            "remark",
            "description",
            "added_at",
            "add_way",
            "state",
            "oper_userid",
            "remark_corp_name",
            "remark_mobiles",
            "store_ids",
            "status",
            "removed_at",
            "observed_at",
            "updated_at",
        ],
    );
    for chunk in follows.chunks(ROWS_PER_STATEMENT) {
        let mut query = QueryBuilder::<Any>::new(format!("INSERT INTO customer_follow_user ({FOLLOW_COLUMNS}) "));
        query.push_values(chunk, |mut row, follow| {
            let fields = &follow.fields;
            row.push_bind(follow.external_userid.clone())
                .push_bind(fields.userid.clone())
                .push_bind(fields.remark.clone())
                .push_bind(fields.description.clone())
                .push_bind(fields.added_at)
                .push_bind(fields.add_way)
                .push_bind(fields.state.clone())
                .push_bind(fields.oper_userid.clone())
                .push_bind(fields.remark_corp_name.clone())
                .push_bind(fields.remark_mobiles.join(","))
                .push_bind(join_ids(&fields.store_ids))
                .push_bind(follow.status)
                .push_bind(follow.removed_at)
                .push_bind(follow.observed_at)
                .push_bind(follow.created_at)
                .push_bind(follow.updated_at);
        });
        query.push(" ").push(&upsert);
        query.build().execute(&mut *connection).await?;
    }
    Ok(())
}

/// Replaces the tags of each relation in `follows` by the relation's tags.
async fn replace_tags(connection: &mut AnyConnection, follows: &[StoredFollow]) -> Result<(), sqlx::Error> {
    for chunk in follows.chunks(ROWS_PER_STATEMENT) {
        let mut query = QueryBuilder::<Any>::new("DELETE FROM customer_follow_tag WHERE ");
        for (index, follow) in chunk.iter().enumerate() {
            if index > 0 {
                query.push(" OR ");
            }
            query
                .push("(external_userid = ")
                .push_bind(follow.external_userid.clone())
                .push(" AND userid = ")
                .push_bind(follow.fields.userid.clone())
                .push(")");
        }
        query.build().execute(&mut *connection).await?;
    }
    let tags: Vec<(&StoredFollow, &Tag)> =
        follows.iter().flat_map(|follow| follow.fields.tags.iter().map(move |tag| (follow, tag))).collect();
    for chunk in tags.chunks(ROWS_PER_STATEMENT) {
        let mut query = QueryBuilder::<Any>::new(
            "INSERT INTO customer_follow_tag (external_userid, userid, tag_type, tag_id, tag_name, group_id, group_name) ",
        );
        query.push_values(chunk, |mut row, (follow, tag)| {
            row.push_bind(follow.external_userid.clone())
                .push_bind(follow.fields.userid.clone())
                .push_bind(tag.tag_type)
                .push_bind(tag.tag_id.clone())
                .push_bind(tag.tag_name.clone())
                .push_bind(tag.group_id.clone())
                .push_bind(tag.group_name.clone());
        });
        query.build().execute(&mut *connection).await?;
    }
    Ok(())
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

    fn tag(id: &str, name: &str) -> Tag {
        Tag {
            tag_type: 1, tag_id: id.into(), tag_name: name.into(), group_id: "g1".into(), group_name: "意向".into()
        }
    }

    fn follow(userid: &str, remark: &str, store: i64) -> FollowFields {
        FollowFields {
            userid: userid.into(),
            remark: remark.into(),
            description: "描述".into(),
            added_at: 1_700_000_000_000,
            add_way: 1,
            state: "ch_1".into(),
            oper_userid: userid.into(),
            remark_corp_name: "某公司".into(),
            remark_mobiles: vec!["13800000000".into(), "13900000000".into()],
            tags: vec![tag("t1", "高意向"), tag("t2", "老客")],
            store_ids: vec![store],
        }
    }

    fn contact(external_userid: &str, follows: Vec<FollowFields>) -> ContactInput {
        ContactInput {
            contact: ContactFields {
                external_userid: external_userid.into(),
                name: "张三".into(),
                avatar: "https://wx.qlogo.cn/a.png".into(),
                contact_type: 1,
                gender: 2,
                unionid: "oAbC".into(),
                ..ContactFields::default()
            },
            follow_users: follows,
            follow_user_complete: false,
        }
    }

    async fn table_snapshot(db: &Db) -> Vec<String> {
        let mut lines = Vec::new();
        let rows: Vec<ContactRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {CONTACT_COLUMNS} FROM customer_contact ORDER BY external_userid"
        )))
        .fetch_all(db.pool())
        .await
        .unwrap();
        lines.extend(rows.into_iter().map(|row| format!("{:?}", StoredContact::from(row))));
        let rows: Vec<FollowRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {FOLLOW_COLUMNS} FROM customer_follow_user ORDER BY external_userid, userid"
        )))
        .fetch_all(db.pool())
        .await
        .unwrap();
        lines.extend(rows.into_iter().map(|row| format!("{:?}", StoredFollow::from(row))));
        let rows: Vec<TagRow> = sqlx::query_as(
            "SELECT external_userid, userid, tag_type, tag_id, tag_name, group_id, group_name FROM customer_follow_tag \
             ORDER BY external_userid, userid, tag_type, tag_id, tag_name",
        )
        .fetch_all(db.pool())
        .await
        .unwrap();
        lines.extend(
            rows.into_iter()
                .map(|row| format!("{} {} {} {}", row.external_userid, row.userid, row.tag_id, row.tag_name)),
        );
        lines
    }

    async fn upsert_creates_then_the_same_batch_changes_nothing(db: Db) {
        db.migrate(&crate::MIGRATIONS).await.unwrap();
        let store = CustomerStore::new(db.clone());
        let batch = vec![
            contact("wmA", vec![follow("zhangsan", "张总", 12), follow("lisi", "", 3)]),
            contact("wmB", vec![follow("zhangsan", "", 12)]),
        ];
        let first = store.upsert_contacts(batch.clone(), 1_000, 1_000).await.unwrap();
        assert_eq!(
            first,
            UpsertSummary { created: 2, updated: 0, unchanged: 0, follow_users_added: 3, follow_users_removed: 0 }
        );
        let customer = store.customer("wmA").await.unwrap().unwrap();
        assert_eq!(customer.contact.fields, batch[0].contact);
        assert_eq!(customer.contact.store_id.as_deref(), Some("3"));
        assert_eq!((customer.contact.created_at, customer.contact.updated_at), (1_000, 1_000));
        assert_eq!(customer.follows.len(), 2);
        let zhangsan = customer.follows.iter().find(|follow| follow.fields.userid == "zhangsan").unwrap();
        assert_eq!(zhangsan.fields, batch[0].follow_users[0]);
        assert!(zhangsan.is_active() && zhangsan.removed_at.is_none());
        assert_eq!(store.count_contacts(&StoreScope::All).await.unwrap(), 2);
        assert_eq!(store.count_contacts(&StoreScope::Only(vec!["12".into()])).await.unwrap(), 1);

        let before = table_snapshot(&db).await;
        let second = store.upsert_contacts(batch, 2_000, 2_000).await.unwrap();
        assert_eq!(second, UpsertSummary { unchanged: 2, ..UpsertSummary::default() });
        assert_eq!(table_snapshot(&db).await, before, "a repeated batch must not write");
    }

    async fn a_changed_remark_updates_only_that_contact(db: Db) {
        db.migrate(&crate::MIGRATIONS).await.unwrap();
        let store = CustomerStore::new(db.clone());
        let batch =
            vec![contact("wmA", vec![follow("zhangsan", "张总", 1)]), contact("wmB", vec![follow("zhangsan", "", 1)])];
        store.upsert_contacts(batch.clone(), 1_000, 1_000).await.unwrap();
        let mut changed = batch.clone();
        changed[0].follow_users[0].remark = "张总（VIP）".into();
        changed[0].follow_users[0].tags = vec![tag("t3", "VIP")];
        let summary = store.upsert_contacts(changed, 2_000, 2_000).await.unwrap();
        assert_eq!(summary, UpsertSummary { updated: 1, unchanged: 1, ..UpsertSummary::default() });
        let a = store.customer("wmA").await.unwrap().unwrap();
        assert_eq!((a.contact.created_at, a.contact.updated_at, a.contact.observed_at), (1_000, 2_000, 2_000));
        assert_eq!(a.follows[0].fields.remark, "张总（VIP）");
        assert_eq!(a.follows[0].fields.tags, vec![tag("t3", "VIP")]);
        assert_eq!((a.follows[0].created_at, a.follows[0].updated_at), (1_000, 2_000));
        let b = store.customer("wmB").await.unwrap().unwrap();
        assert_eq!(b.contact.updated_at, 1_000);
        // Older input is ignored.
        let mut stale = batch;
        stale[0].contact.name = "旧名".into();
        let summary = store.upsert_contacts(stale, 1_500, 3_000).await.unwrap();
        assert_eq!(summary.unchanged, 2);
        assert_eq!(store.customer("wmA").await.unwrap().unwrap().contact.fields.name, "张三");
    }

    async fn a_complete_set_ends_missing_follow_users(db: Db) {
        db.migrate(&crate::MIGRATIONS).await.unwrap();
        let store = CustomerStore::new(db.clone());
        store
            .upsert_contacts(vec![contact("wmA", vec![follow("zhangsan", "", 1), follow("lisi", "", 2)])], 1_000, 1_000)
            .await
            .unwrap();
        let mut complete = contact("wmA", vec![follow("lisi", "", 2)]);
        complete.follow_user_complete = true;
        let summary = store.upsert_contacts(vec![complete.clone()], 2_000, 2_000).await.unwrap();
        assert_eq!(summary, UpsertSummary { updated: 1, follow_users_removed: 1, ..UpsertSummary::default() });
        let customer = store.customer("wmA").await.unwrap().unwrap();
        let gone = customer.follows.iter().find(|follow| follow.fields.userid == "zhangsan").unwrap();
        assert_eq!((gone.status, gone.removed_at), (FollowStatus::Gone as i32, Some(2_000)));
        assert_eq!(customer.contact.store_id.as_deref(), Some("2"));
        let summary = store.upsert_contacts(vec![complete], 3_000, 3_000).await.unwrap();
        assert_eq!(summary, UpsertSummary { unchanged: 1, ..UpsertSummary::default() });
    }

    async fn removing_a_follow_user_keeps_history_and_is_idempotent(db: Db) {
        db.migrate(&crate::MIGRATIONS).await.unwrap();
        let store = CustomerStore::new(db.clone());
        store
            .upsert_contacts(vec![contact("wmA", vec![follow("zhangsan", "", 1), follow("lisi", "", 2)])], 1_000, 1_000)
            .await
            .unwrap();
        let removal = store
            .remove_follow_user("wmA", "zhangsan", FollowStatus::StaffDeletedCustomer, 5_000, 6_000)
            .await
            .unwrap();
        assert_eq!(removal, Removal { removed: true, customer_status: CustomerStatus::Active });
        let before = table_snapshot(&db).await;
        let again = store
            .remove_follow_user("wmA", "zhangsan", FollowStatus::StaffDeletedCustomer, 5_000, 7_000)
            .await
            .unwrap();
        assert_eq!(again, Removal { removed: false, customer_status: CustomerStatus::Active });
        assert_eq!(table_snapshot(&db).await, before);

        let churn =
            store.remove_follow_user("wmA", "lisi", FollowStatus::CustomerDeletedStaff, 8_000, 9_000).await.unwrap();
        assert_eq!(churn, Removal { removed: true, customer_status: CustomerStatus::Churned });
        let customer = store.customer("wmA").await.unwrap().unwrap();
        assert_eq!(customer.contact.updated_at, 9_000);
        let lisi = customer.follows.iter().find(|follow| follow.fields.userid == "lisi").unwrap();
        assert_eq!(
            (lisi.status, lisi.removed_at, lisi.updated_at),
            (FollowStatus::CustomerDeletedStaff as i32, Some(8_000), 9_000)
        );
        assert_eq!(lisi.fields.tags.len(), 2, "history keeps the relation's data");
        // CountCustomers keeps counting stored contacts.
        assert_eq!(store.count_contacts(&StoreScope::All).await.unwrap(), 1);

        // A read from before the removal does not bring it back; a later one does.
        let stale =
            store.upsert_contacts(vec![contact("wmA", vec![follow("lisi", "", 2)])], 7_000, 10_000).await.unwrap();
        assert_eq!(stale, UpsertSummary { unchanged: 1, ..UpsertSummary::default() });
        let readded =
            store.upsert_contacts(vec![contact("wmA", vec![follow("lisi", "", 2)])], 20_000, 20_000).await.unwrap();
        assert_eq!(readded, UpsertSummary { updated: 1, follow_users_added: 1, ..UpsertSummary::default() });
        // A removal told late, older than the re-add, changes nothing.
        let late =
            store.remove_follow_user("wmA", "lisi", FollowStatus::CustomerDeletedStaff, 8_000, 21_000).await.unwrap();
        assert_eq!(late, Removal { removed: false, customer_status: CustomerStatus::Active });

        let unknown = store.remove_follow_user("wmZ", "lisi", FollowStatus::Gone, 1, 1).await.unwrap();
        assert_eq!(unknown, Removal { removed: false, customer_status: CustomerStatus::Unspecified });
    }

    async fn ids_differing_in_case_are_different_contacts(db: Db) {
        db.migrate(&crate::MIGRATIONS).await.unwrap();
        let store = CustomerStore::new(db.clone());
        let summary = store
            .upsert_contacts(
                vec![contact("wmAbc", vec![follow("u", "", 1)]), contact("wmABC", vec![follow("u", "", 1)])],
                1,
                1,
            )
            .await
            .unwrap();
        assert_eq!(summary.created, 2);
        assert_eq!(store.count_contacts(&StoreScope::All).await.unwrap(), 2);
    }

    async fn large_batches_are_written_in_chunks(db: Db) {
        db.migrate(&crate::MIGRATIONS).await.unwrap();
        let store = CustomerStore::new(db.clone());
        let batch: Vec<_> = (0..450)
            .map(|index| contact(&format!("wm{index:04}"), vec![follow("u1", "", 1), follow("u2", "", 2)]))
            .collect();
        let summary = store.upsert_contacts(batch.clone(), 1, 1).await.unwrap();
        assert_eq!((summary.created, summary.follow_users_added), (450, 900));
        let summary = store.upsert_contacts(batch, 2, 2).await.unwrap();
        assert_eq!(summary.unchanged, 450);
        let tags: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM customer_follow_tag").fetch_one(db.pool()).await.unwrap();
        assert_eq!(tags, 1800);
    }

    async fn migrations_apply_twice_without_change(db: Db) {
        db.migrate(&crate::MIGRATIONS).await.unwrap();
        db.migrate(&crate::MIGRATIONS).await.unwrap();
        assert_eq!(CustomerStore::new(db).count_contacts(&StoreScope::All).await.unwrap(), 0);
    }

    scrm_storage::store_test_suite!(
        counts_contacts_within_scope,
        migrations_apply_twice_without_change,
        upsert_creates_then_the_same_batch_changes_nothing,
        a_changed_remark_updates_only_that_contact,
        a_complete_set_ends_missing_follow_users,
        removing_a_follow_user_keeps_history_and_is_idempotent,
        ids_differing_in_case_are_different_contacts,
        large_batches_are_written_in_chunks,
    );
}
