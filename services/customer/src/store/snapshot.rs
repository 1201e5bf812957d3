//! The profile's read: a customer with their follow relations and tags, spend, member record, latest notes,
//! latest orders and the level tiers, in one batch of four plain statements sent in one round trip (contact
//! with spend, member and note count, follow relations with their tags, notes, orders) and a cached copy of the
//! tiers.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

use futures::TryStreamExt;
use sqlx::any::AnyRow;
use sqlx::{Either, FromRow};

use super::orders::{MEMBER_COLUMNS, ORDER_COLUMNS, OrderRow, Spend};
use super::profile::NOTE_COLUMNS;
use super::{CONTACT_COLUMNS, ContactRow, CustomerStore, FOLLOW_COLUMNS, FollowRow, MemberRecord, NoteRecord};
use super::{TagRow, attach_follows};
use crate::domain::levels::Tier;
use crate::domain::orders::OrderRecord;
use crate::domain::{StoredCustomer, is_external_userid};

/// How long a process serves the level tiers it read before reading them again. Tier changes made through
/// this process apply at once; other processes see them within this time.
const TIERS_TTL: Duration = Duration::from_secs(5);

/// Everything the customer service itself knows for one profile.
#[derive(Debug, Clone)]
pub struct ProfileSnapshot {
    /// The contact with all its follow relations (ended ones included) and their tags.
    pub customer: StoredCustomer,
    /// Spend as maintained by order imports; zero when the customer never bought.
    pub spend: Spend,
    /// The linked member record, the most recently changed one when several link here.
    pub member: Option<MemberRecord>,
    /// The latest notes, newest first.
    pub notes: Vec<NoteRecord>,
    /// How many notes the customer has in all.
    pub note_count: i64,
    /// The latest orders, newest payment first (then by order number, descending).
    pub orders: Vec<OrderRecord>,
    /// The level tiers by rank.
    pub tiers: Arc<Vec<Tier>>,
}

/// Level tiers and when they were read.
type ReadTiers = (Instant, Arc<Vec<Tier>>);

/// The level tiers as last read, and when.
#[derive(Debug, Clone, Default)]
pub(super) struct TierCache(Arc<Mutex<Option<ReadTiers>>>);

impl TierCache {
    fn fresh(&self) -> Option<Arc<Vec<Tier>>> {
        let cached = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        cached.as_ref().filter(|(read_at, _)| read_at.elapsed() < TIERS_TTL).map(|(_, tiers)| tiers.clone())
    }

    fn store(&self, tiers: Arc<Vec<Tier>>) {
        *self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some((Instant::now(), tiers));
    }

    /// Forgets the cached tiers, after they changed.
    pub(super) fn clear(&self) {
        *self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = None;
    }
}

/// A contact with its spend, member record (`m_` columns, NULL when none) and number of notes.
#[derive(FromRow)]
struct ContactRowPlus {
    #[sqlx(flatten)]
    contact: ContactRow,
    total_spend_fen: Option<i64>,
    order_count: Option<i64>,
    first_purchase_at: Option<i64>,
    last_purchase_at: Option<i64>,
    m_member_no: Option<String>,
    m_name: Option<String>,
    m_phone: Option<String>,
    m_unionid: Option<String>,
    m_external_userid: Option<String>,
    m_matched_by: Option<i32>,
    m_store_code: Option<String>,
    m_member_tier: Option<String>,
    m_registered_at: Option<i64>,
    m_updated_at: Option<i64>,
    note_count: i64,
}

impl ContactRowPlus {
    fn member(&mut self) -> Option<MemberRecord> {
        Some(MemberRecord {
            member_no: self.m_member_no.take()?,
            name: self.m_name.take().unwrap_or_default(),
            phone: self.m_phone.take().unwrap_or_default(),
            unionid: self.m_unionid.take().unwrap_or_default(),
            external_userid: self.m_external_userid.take(),
            matched_by: self.m_matched_by.unwrap_or_default(),
            store_code: self.m_store_code.take().unwrap_or_default(),
            member_tier: self.m_member_tier.take().unwrap_or_default(),
            registered_at: self.m_registered_at,
            updated_at: self.m_updated_at.unwrap_or_default(),
        })
    }
}

#[derive(FromRow)]
struct FollowTagRow {
    #[sqlx(flatten)]
    follow: FollowRow,
    tag_type: Option<i32>,
    tag_id: Option<String>,
    tag_name: Option<String>,
    group_id: Option<String>,
    group_name: Option<String>,
}

/// The rows of one profile's batch, by statement.
#[derive(Default)]
struct ProfileRows {
    contact: Option<ContactRowPlus>,
    follows: Vec<FollowTagRow>,
    notes: Vec<NoteRecord>,
    orders: Vec<OrderRow>,
}

impl ProfileRows {
    /// Adds `row`, a row of the batch's statement number `statement` (see [`profile_batch`]).
    fn add(&mut self, statement: usize, row: &AnyRow) -> Result<(), sqlx::Error> {
        match statement {
            0 => self.contact = Some(ContactRowPlus::from_row(row)?),
            1 => self.follows.push(FollowTagRow::from_row(row)?),
            2 => self.notes.push(NoteRecord::from_row(row)?),
            3 => self.orders.push(OrderRow::from_row(row)?),
            _ => return Err(sqlx::Error::Protocol(format!("the profile batch has no statement {statement}"))),
        }
        Ok(())
    }
}

impl CustomerStore {
    /// The profile data of customer `external_userid` with at most `notes` notes and `orders` orders; `None`
    /// when unknown (an id that is not a WeCom `external_userid` is unknown).
    pub async fn profile_snapshot(
        &self,
        external_userid: &str,
        notes: u32,
        orders: u32,
    ) -> Result<Option<ProfileSnapshot>, sqlx::Error> {
        let Some(literal) = external_userid_literal(external_userid) else { return Ok(None) };
        let batch = profile_batch(&literal, notes, orders);
        let (rows, tiers) = tokio::try_join!(self.profile_rows(&batch), self.cached_level_tiers())?;
        let ProfileRows { contact, follows, notes, orders } = rows;
        let Some(mut contact) = contact else { return Ok(None) };
        let member = contact.member();
        let spend = Spend {
            total_spend_fen: contact.total_spend_fen.unwrap_or(0),
            order_count: contact.order_count.unwrap_or(0),
            first_purchase_at: contact.first_purchase_at,
            last_purchase_at: contact.last_purchase_at,
        };
        let note_count = contact.note_count;
        let id = contact.contact.external_userid.clone();
        let mut customers =
            HashMap::from([(id.clone(), StoredCustomer { contact: contact.contact.into(), follows: Vec::new() })]);
        let (follows, tags) = split_follow_tags(follows);
        attach_follows(&mut customers, follows, tags);
        let customer = customers.remove(&id).expect("the customer was inserted above");
        let orders = orders.into_iter().map(OrderRecord::from).collect();
        Ok(Some(ProfileSnapshot { customer, spend, member, notes, note_count, orders, tiers }))
    }

    /// Runs a profile batch in one round trip and sorts its rows by statement: each statement's end is
    /// reported (as a query result) before the next statement's rows.
    async fn profile_rows(&self, batch: &str) -> Result<ProfileRows, sqlx::Error> {
        let mut results = sqlx::raw_sql(sqlx::AssertSqlSafe(batch)).fetch_many(self.db.pool());
        let (mut rows, mut statement) = (ProfileRows::default(), 0);
        while let Some(result) = results.try_next().await? {
            match result {
                Either::Left(_) => statement += 1,
                Either::Right(row) => rows.add(statement, &row)?,
            }
        }
        Ok(rows)
    }

    /// The level tiers by rank, read at most every [`TIERS_TTL`].
    pub async fn cached_level_tiers(&self) -> Result<Arc<Vec<Tier>>, sqlx::Error> {
        if let Some(tiers) = self.tiers.fresh() {
            return Ok(tiers);
        }
        let tiers = Arc::new(self.level_tiers().await?.0);
        self.tiers.store(tiers.clone());
        Ok(tiers)
    }
}

/// `external_userid` as an SQL string literal, when it is a WeCom `external_userid` (whose characters need no
/// escaping in any dialect); `None` otherwise.
fn external_userid_literal(external_userid: &str) -> Option<String> {
    is_external_userid(external_userid).then(|| format!("'{external_userid}'"))
}

/// The profile's reads of customer `id` (an SQL literal) as one batch, sent in one round trip (text protocol,
/// which is why the id is a literal): a statement per round trip cost more than the statements themselves.
/// Statements, in order: (0) the contact with its spend, its member record (the most recently changed one
/// when several link here; `m_` columns, NULL when none) and its number of notes, (1) the follow relations by
/// staff id with their tags, (2) the latest `notes` notes, (3) the latest `orders` orders.
fn profile_batch(id: &str, notes: u32, orders: u32) -> String {
    static CONTACT: LazyLock<String> = LazyLock::new(|| {
        let member: Vec<String> =
            MEMBER_COLUMNS.split(", ").map(|column| format!("m.{column} AS m_{column}")).collect();
        format!(
            "SELECT {}, s.total_spend_fen, s.order_count, s.first_purchase_at, s.last_purchase_at, {}, \
             (SELECT COUNT(*) FROM customer_note n WHERE n.external_userid = c.external_userid) AS note_count \
             FROM customer_contact c LEFT JOIN customer_spend s ON s.external_userid = c.external_userid \
             LEFT JOIN customer_member m ON m.member_no = (SELECT member_no FROM customer_member \
             WHERE external_userid = c.external_userid ORDER BY updated_at DESC LIMIT 1) \
             WHERE c.external_userid = ",
            qualified(CONTACT_COLUMNS, "c"),
            member.join(", ")
        )
    });
    static FOLLOWS: LazyLock<String> = LazyLock::new(|| {
        format!(
            "SELECT {}, t.tag_type, t.tag_id, t.tag_name, t.group_id, t.group_name FROM customer_follow_user f \
             LEFT JOIN customer_follow_tag t ON t.external_userid = f.external_userid AND t.userid = f.userid \
             WHERE f.external_userid = ",
            qualified(FOLLOW_COLUMNS, "f")
        )
    });
    format!(
        "{contact}{id};\n{follows}{id} ORDER BY f.userid;\n\
         SELECT {NOTE_COLUMNS} FROM customer_note WHERE external_userid = {id} ORDER BY id DESC LIMIT {notes};\n\
         SELECT {ORDER_COLUMNS} FROM customer_order WHERE external_userid = {id} \
         ORDER BY paid_at DESC, order_no DESC LIMIT {orders}",
        contact = CONTACT.as_str(),
        follows = FOLLOWS.as_str(),
    )
}

/// The follow relations of joined follow-and-tag rows (ordered by staff id), and their tags.
fn split_follow_tags(rows: Vec<FollowTagRow>) -> (Vec<FollowRow>, Vec<TagRow>) {
    let mut follows: Vec<FollowRow> = Vec::new();
    let mut tags = Vec::new();
    for row in rows {
        if let (Some(tag_type), Some(tag_id), Some(tag_name)) = (row.tag_type, row.tag_id, row.tag_name) {
            tags.push(TagRow {
                external_userid: row.follow.external_userid.clone(),
                userid: row.follow.userid.clone(),
                tag_type,
                tag_id,
                tag_name,
                group_id: row.group_id.unwrap_or_default(),
                group_name: row.group_name.unwrap_or_default(),
            });
        }
        if follows.last().is_none_or(|last| last.userid != row.follow.userid) {
            follows.push(row.follow);
        }
    }
    (follows, tags)
}

/// A column list with each column prefixed by `alias`.
fn qualified(columns: &str, alias: &str) -> String {
    columns.split(", ").map(|column| format!("{alias}.{column}")).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use scrm_storage::Db;

    use super::*;
    use crate::domain::{ContactFields, ContactInput, FollowFields, Tag};
    use crate::store::{MemberKey, OrderFilter};

    #[test]
    fn columns_are_qualified() {
        assert_eq!(qualified("a, b_c", "f"), "f.a, f.b_c");
    }

    #[test]
    fn only_wecom_ids_become_literals() {
        assert_eq!(external_userid_literal("wmAb_1-Z").as_deref(), Some("'wmAb_1-Z'"));
        for id in ["", "wm'A", "wm\\A", "wm A", "客户", "wm;A", &"a".repeat(65)] {
            assert_eq!(external_userid_literal(id), None, "{id}");
        }
    }

    fn tag(name: &str) -> Tag {
        Tag {
            tag_type: 1,
            tag_id: format!("et-{name}"),
            tag_name: name.into(),
            group_id: "g".into(),
            group_name: "兴趣".into(),
        }
    }

    async fn fill(store: &CustomerStore) {
        let follow = |userid: &str, tags: Vec<Tag>| FollowFields {
            userid: userid.into(),
            remark: format!("{userid} 的 \"老客\""),
            added_at: 1_700_000_000_000,
            remark_mobiles: vec!["13800000001".into()],
            tags,
            store_ids: vec![7, 9],
            ..FollowFields::default()
        };
        let contact =
            |id: &str| ContactFields {
                external_userid: id.into(), name: "王小美".into(), ..ContactFields::default()
            };
        let inputs = vec![
            ContactInput {
                contact: contact("wmA"),
                follow_users: vec![follow("zhangsan", vec![tag("美妆"), tag("VIP")]), follow("lisi", Vec::new())],
                follow_user_complete: true,
            },
            ContactInput {
                contact: contact("wmB"),
                follow_users: vec![follow("lisi", vec![tag("母婴")])],
                follow_user_complete: true,
            },
        ];
        store.upsert_contacts(inputs, 1, 1).await.unwrap();
        let orders = (1..=12)
            .map(|index| OrderRecord {
                order_no: format!("NO{index:02}"),
                external_userid: Some(if index == 12 { "wmB" } else { "wmA" }.into()),
                status: 2,
                amount_fen: 1_000 * index,
                paid_at: (index != 3).then_some(1_700_000_000_000 + (index % 5) * 1_000),
                items_json: r#"[{"sku":"S1","name":"口红"}]"#.into(),
                coupon_codes: vec!["C1".into()],
                ..OrderRecord::default()
            })
            .collect();
        store.import_orders(orders, "test", 1, false).await.unwrap();
        let member = MemberRecord {
            member_no: "M1".into(),
            name: "王小美".into(),
            phone: "13800000001".into(),
            external_userid: Some("wmA".into()),
            updated_at: 5,
            ..MemberRecord::default()
        };
        let older = MemberRecord { member_no: "M0".into(), updated_at: 3, ..member.clone() };
        store.upsert_members(vec![older, member], 5).await.unwrap();
        for index in 0..7 {
            store.add_note("wmA", &format!("回访 {index}"), "zhangsan", "张三", index).await.unwrap();
        }
        let tiers = [
            Tier { level: 1, name: "银卡".into(), min_spend_fen: 100 },
            Tier { level: 2, name: "金卡".into(), min_spend_fen: 5_000 },
        ];
        store.replace_level_tiers(&tiers, 1).await.unwrap();
    }

    async fn the_snapshot_equals_the_separate_reads(db: Db) {
        db.migrate(&crate::MIGRATIONS).await.unwrap();
        let store = CustomerStore::new(db);
        assert!(store.profile_snapshot("wmA", 5, 10).await.unwrap().is_none());
        fill(&store).await;
        assert!(store.profile_snapshot("wmA' OR '1' = '1", 5, 10).await.unwrap().is_none(), "not an id");
        let snapshot = store.profile_snapshot("wmA", 5, 10).await.unwrap().expect("wmA is known");
        assert_eq!(snapshot.customer, store.customer("wmA").await.unwrap().unwrap());
        assert_eq!(snapshot.customer.follows.len(), 2);
        assert_eq!(snapshot.spend, store.spend("wmA").await.unwrap());
        assert_eq!(snapshot.member, store.member_by(MemberKey::ExternalUserid, "wmA").await.unwrap());
        assert_eq!(snapshot.member.as_ref().map(|member| member.member_no.as_str()), Some("M1"), "the latest");
        assert_eq!(snapshot.notes, store.notes("wmA", None, 5).await.unwrap());
        assert_eq!(snapshot.note_count, 7);
        let filter = OrderFilter { external_userid: Some("wmA".into()), ..OrderFilter::default() };
        assert_eq!(snapshot.orders, store.list_orders(&filter, 10).await.unwrap());
        let numbers: Vec<&str> = snapshot.orders.iter().map(|order| order.order_no.as_str()).collect();
        assert_eq!((numbers.len(), numbers[0], numbers[9]), (10, "NO09", "NO05"), "ties by number, unpaid last");
        assert_eq!(*snapshot.tiers, store.level_tiers().await.unwrap().0);
        store.replace_level_tiers(&snapshot.tiers[..1], 2).await.unwrap();
        assert_eq!(store.cached_level_tiers().await.unwrap().len(), 1, "a tier change clears the cache");

        let other = store.profile_snapshot("wmB", 5, 10).await.unwrap().expect("wmB is known");
        assert_eq!(other.customer.follows[0].fields.tags, vec![tag("母婴")]);
        assert_eq!((other.notes.len(), other.note_count, other.member), (0, 0, None));
        assert_eq!(other.orders.len(), 1);
    }

    scrm_storage::store_test_suite!(the_snapshot_equals_the_separate_reads);
}
