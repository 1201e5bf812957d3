//! The `customer_order`, `customer_spend` and `customer_member` tables: order imports that keep each buyer's
//! spend current, members, and order listings.

use std::collections::{BTreeSet, HashMap};

use scrm_storage::Dialect;
use sqlx::{Any, AnyConnection, FromRow, QueryBuilder};

use super::{CustomerStore, ROWS_PER_STATEMENT, begin_write, push_in, split_list};
use crate::domain::orders::{OrderOutcome, OrderRecord, is_purchase_status, plan_order};

/// A customer's spend as maintained by imports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, FromRow)]
pub struct Spend {
    /// Paid amounts minus refunds, in fen.
    pub total_spend_fen: i64,
    /// Paid orders, refunded ones included.
    pub order_count: i64,
    /// First payment, Unix ms.
    pub first_purchase_at: Option<i64>,
    /// Latest payment, Unix ms.
    pub last_purchase_at: Option<i64>,
}

/// What importing one order did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Imported {
    /// Created, updated or unchanged.
    pub outcome: OrderOutcome,
    /// Whether the order is linked to a customer after the import.
    pub matched: bool,
}

/// What an order or member batch did: one result per input, and the customers whose data changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch<T> {
    /// One result per input, in order.
    pub results: Vec<T>,
    /// Customers whose orders, spend or member record changed.
    pub customers: Vec<String>,
}

/// A member record as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, FromRow)]
pub struct MemberRecord {
    /// Member number.
    pub member_no: String,
    /// Name.
    pub name: String,
    /// Mobile number, digits only.
    pub phone: String,
    /// WeChat unionid.
    pub unionid: String,
    /// Linked customer.
    pub external_userid: Option<String>,
    /// MemberMatch code.
    pub matched_by: i32,
    /// Home store code.
    pub store_code: String,
    /// Membership tier name.
    pub member_tier: String,
    /// Registration time, Unix ms.
    pub registered_at: Option<i64>,
    /// Last change in the data platform, Unix ms.
    pub updated_at: i64,
}

/// Filters of an order listing.
#[derive(Debug, Clone, Default)]
pub struct OrderFilter {
    /// Only this customer's.
    pub external_userid: Option<String>,
    /// Only this member's.
    pub member_no: Option<String>,
    /// Only this order.
    pub order_no: Option<String>,
    /// Only this store's.
    pub store_id: Option<i64>,
    /// Only these OrderStatus codes.
    pub statuses: Vec<i32>,
    /// Paid at or after, Unix ms.
    pub paid_since: Option<i64>,
    /// Paid before, Unix ms.
    pub paid_until: Option<i64>,
    /// Orders after this position (`paid_at`, `order_no`) in newest-first order.
    pub after: Option<(i64, String)>,
}

/// A `customer_order` row; `external_userid` is empty while the order is not matched to a customer.
#[derive(FromRow)]
pub(super) struct OrderRow {
    order_no: String,
    external_userid: String,
    member_no: String,
    buyer_unionid: String,
    buyer_phone: String,
    store_id: i64,
    store_code: String,
    channel: String,
    status: i32,
    amount_fen: i64,
    discount_fen: i64,
    refund_fen: i64,
    paid_at: Option<i64>,
    refunded_at: Option<i64>,
    items: String,
    coupon_codes: String,
    source: String,
    updated_at: i64,
    imported_at: i64,
}

pub(super) const ORDER_COLUMNS: &str = "order_no, external_userid, member_no, buyer_unionid, buyer_phone, store_id, store_code, \
     channel, status, amount_fen, discount_fen, refund_fen, paid_at, refunded_at, items, coupon_codes, source, \
     updated_at, imported_at";

pub(super) const MEMBER_COLUMNS: &str =
    "member_no, name, phone, unionid, external_userid, matched_by, store_code, member_tier, registered_at, updated_at";

impl From<OrderRow> for OrderRecord {
    fn from(row: OrderRow) -> Self {
        OrderRecord {
            order_no: row.order_no,
            external_userid: Some(row.external_userid).filter(|id| !id.is_empty()),
            member_no: row.member_no,
            buyer_unionid: row.buyer_unionid,
            buyer_phone: row.buyer_phone,
            store_id: row.store_id,
            store_code: row.store_code,
            channel: row.channel,
            status: row.status,
            amount_fen: row.amount_fen,
            discount_fen: row.discount_fen,
            refund_fen: row.refund_fen,
            paid_at: row.paid_at,
            refunded_at: row.refunded_at,
            items_json: row.items,
            coupon_codes: split_list(&row.coupon_codes).map(str::to_owned).collect(),
            source: row.source,
            updated_at: row.updated_at,
            imported_at: row.imported_at,
        }
    }
}

/// The `paid_at` sort key of an order: unpaid orders sort last (oldest).
fn paid_key(paid_at: Option<i64>) -> i64 {
    paid_at.unwrap_or(-1)
}

impl CustomerStore {
    /// Imports valid orders from `source` at time `now` in one transaction: each buyer without an
    /// `external_userid` is matched by unionid (customer, then member), member number, or phone on a member
    /// record; changed orders are written; and the spend of every customer whose orders changed is refreshed
    /// from their orders. Later orders with the same number see earlier ones of the batch. With `dry_run`,
    /// nothing is written. Returns one result per order, in order.
    pub async fn import_orders(
        &self,
        orders: Vec<OrderRecord>,
        source: &str,
        now: i64,
        dry_run: bool,
    ) -> Result<Batch<Imported>, sqlx::Error> {
        if orders.is_empty() {
            return Ok(Batch { results: Vec::new(), customers: Vec::new() });
        }
        let dialect = self.db.dialect();
        let mut connection = self.db.pool().acquire().await?;
        let mut tx = begin_write(&mut connection, dialect).await?;
        let numbers: Vec<String> =
            orders.iter().map(|order| order.order_no.clone()).collect::<BTreeSet<_>>().into_iter().collect();
        let mut current = load_orders(&mut tx, dialect, &numbers).await?;
        let buyers = BuyerIndex::load(&mut tx, &orders).await?;
        let mut results = Vec::with_capacity(orders.len());
        let mut changed: Vec<String> = Vec::new();
        let mut affected = BTreeSet::new();
        for mut order in orders {
            if order.external_userid.is_none() {
                order.external_userid = buyers.match_buyer(&order);
            }
            order.source = source.to_owned();
            let stored = current.get(&order.order_no);
            let outcome = plan_order(&order, stored);
            let matched = match (outcome, stored) {
                (OrderOutcome::Unchanged, Some(stored)) => stored.external_userid.is_some(),
                _ => order.external_userid.is_some(),
            };
            results.push(Imported { outcome, matched });
            if outcome == OrderOutcome::Unchanged {
                continue;
            }
            order.imported_at = stored.map_or(now, |stored| stored.imported_at);
            if let Some(old) = stored.and_then(|stored| stored.external_userid.clone()) {
                affected.insert(old);
            }
            affected.extend(order.external_userid.clone());
            changed.push(order.order_no.clone());
            current.insert(order.order_no.clone(), order);
        }
        if dry_run {
            return Ok(Batch { results, customers: Vec::new() });
        }
        changed.sort();
        changed.dedup();
        let to_write: Vec<&OrderRecord> = changed.iter().filter_map(|number| current.get(number)).collect();
        write_orders(&mut tx, dialect, &to_write).await?;
        let affected: Vec<String> = affected.into_iter().collect();
        refresh_spend(&mut tx, dialect, &affected, now).await?;
        tx.commit().await?;
        Ok(Batch { results, customers: affected })
    }

    /// The spend of customer `external_userid`; zero when they have no orders.
    pub async fn spend(&self, external_userid: &str) -> Result<Spend, sqlx::Error> {
        let spend = sqlx::query_as(
            "SELECT total_spend_fen, order_count, first_purchase_at, last_purchase_at FROM customer_spend \
             WHERE external_userid = ?",
        )
        .bind(external_userid)
        .fetch_optional(self.db.pool())
        .await?;
        Ok(spend.unwrap_or_default())
    }

    /// Orders matching `filter`, newest payment first (then by order number, descending), at most `limit`.
    pub async fn list_orders(&self, filter: &OrderFilter, limit: u32) -> Result<Vec<OrderRecord>, sqlx::Error> {
        let paid = "COALESCE(paid_at, -1)";
        let mut query = QueryBuilder::<Any>::new(format!("SELECT {ORDER_COLUMNS} FROM customer_order WHERE 1 = 1"));
        if let Some(id) = &filter.external_userid {
            query.push(" AND external_userid = ").push_bind(id.clone());
        }
        if let Some(member_no) = &filter.member_no {
            query.push(" AND member_no = ").push_bind(member_no.clone());
        }
        if let Some(order_no) = &filter.order_no {
            query.push(" AND order_no = ").push_bind(order_no.clone());
        }
        if let Some(store_id) = filter.store_id {
            query.push(" AND store_id = ").push_bind(store_id);
        }
        if !filter.statuses.is_empty() {
            query.push(" AND status IN (");
            let mut list = query.separated(", ");
            for status in &filter.statuses {
                list.push_bind(*status);
            }
            query.push(")");
        }
        if let Some(since) = filter.paid_since {
            query.push(" AND paid_at >= ").push_bind(since);
        }
        if let Some(until) = filter.paid_until {
            query.push(" AND paid_at < ").push_bind(until);
        }
        if let Some((paid_at, order_no)) = &filter.after {
            query
                .push(format!(" AND ({paid} < "))
                .push_bind(*paid_at)
                .push(format!(" OR ({paid} = "))
                .push_bind(*paid_at)
                .push(" AND order_no < ")
                .push_bind(order_no.clone())
                .push("))");
        }
        // For one customer, `paid_at DESC` walks the (external_userid, paid_at) index; unpaid orders (NULL)
        // sort last in both databases.
        query.push(" ORDER BY paid_at DESC, order_no DESC LIMIT ").push_bind(i64::from(limit));
        let rows: Vec<OrderRow> = query.build_query_as().fetch_all(self.db.pool()).await?;
        Ok(rows.into_iter().map(OrderRecord::from).collect())
    }

    /// Creates or updates members at time `now`; a record older than the stored one (by `updated_at`) is left
    /// alone. A record without a customer is linked by
    /// unionid to a customer carrying it. Returns per record: created/updated/unchanged and whether this call
    /// newly linked it. Orders of newly linked members (by member number or phone) still without a customer
    /// are linked to theirs, and those customers' spend refreshed.
    pub async fn upsert_members(
        &self,
        members: Vec<MemberRecord>,
        now: i64,
    ) -> Result<Batch<(OrderOutcome, bool)>, sqlx::Error> {
        if members.is_empty() {
            return Ok(Batch { results: Vec::new(), customers: Vec::new() });
        }
        let dialect = self.db.dialect();
        let mut connection = self.db.pool().acquire().await?;
        let mut tx = begin_write(&mut connection, dialect).await?;
        let numbers: Vec<String> = members.iter().map(|member| member.member_no.clone()).collect();
        let mut stored: HashMap<String, MemberRecord> = HashMap::new();
        for chunk in numbers.chunks(ROWS_PER_STATEMENT) {
            let mut query = QueryBuilder::<Any>::new(format!("SELECT {MEMBER_COLUMNS} FROM customer_member WHERE "));
            push_in(&mut query, "member_no", chunk);
            let rows: Vec<MemberRecord> = query.build_query_as().fetch_all(&mut *tx).await?;
            stored.extend(rows.into_iter().map(|row| (row.member_no.clone(), row)));
        }
        let unionids: Vec<String> = members
            .iter()
            .filter(|member| member.external_userid.is_none() && !member.unionid.is_empty())
            .map(|member| member.unionid.clone())
            .collect();
        let by_unionid = contacts_by_unionid(&mut tx, &unionids).await?;
        let mut results = Vec::with_capacity(members.len());
        let mut writes: Vec<MemberRecord> = Vec::new();
        let mut linked: Vec<MemberRecord> = Vec::new();
        let mut changed_customers = BTreeSet::new();
        for mut member in members {
            if member.external_userid.is_none()
                && let Some(id) = by_unionid.get(&member.unionid)
            {
                member.external_userid = Some(id.clone());
                member.matched_by = scrm_proto::customer::v1::MemberMatch::Unionid as i32;
            }
            let old = stored.get(&member.member_no);
            let outcome = match old {
                None => OrderOutcome::Created,
                Some(old) if member.updated_at < old.updated_at || *old == member => OrderOutcome::Unchanged,
                Some(_) => OrderOutcome::Updated,
            };
            let newly_linked = outcome != OrderOutcome::Unchanged
                && member.external_userid.is_some()
                && old.is_none_or(|old| old.external_userid != member.external_userid);
            results.push((outcome, newly_linked));
            if outcome == OrderOutcome::Unchanged {
                continue;
            }
            if newly_linked {
                linked.push(member.clone());
            }
            changed_customers.extend(old.and_then(|old| old.external_userid.clone()));
            changed_customers.extend(member.external_userid.clone());
            stored.insert(member.member_no.clone(), member.clone());
            writes.retain(|written| written.member_no != member.member_no);
            writes.push(member);
        }
        let upsert = dialect.upsert_clause(
            &["member_no"],
            &[
                "name",
                "phone",
                "unionid",
                "external_userid",
                "matched_by",
                "store_code",
                "member_tier",
                "registered_at",
                "updated_at",
            ],
        );
        for chunk in writes.chunks(ROWS_PER_STATEMENT / 2) {
            let mut query =
                QueryBuilder::<Any>::new(format!("INSERT INTO customer_member ({MEMBER_COLUMNS}, created_at) "));
            query.push_values(chunk, |mut row, member| {
                row.push_bind(member.member_no.clone())
                    .push_bind(member.name.clone())
                    .push_bind(member.phone.clone())
                    .push_bind(member.unionid.clone())
                    .push_bind(member.external_userid.clone())
                    .push_bind(member.matched_by)
                    .push_bind(member.store_code.clone())
                    .push_bind(member.member_tier.clone())
                    .push_bind(member.registered_at)
                    .push_bind(member.updated_at)
                    .push_bind(now);
            });
            query.push(" ").push(&upsert);
            query.build().execute(&mut *tx).await?;
        }
        let mut affected = BTreeSet::new();
        for member in &linked {
            let Some(id) = &member.external_userid else { continue };
            let mut query = QueryBuilder::<Any>::new("UPDATE customer_order SET external_userid = ");
            query.push_bind(id.clone()).push(" WHERE external_userid = '' AND (member_no = ");
            query.push_bind(member.member_no.clone());
            if !member.phone.is_empty() {
                query.push(" OR buyer_phone = ").push_bind(member.phone.clone());
            }
            query.push(")");
            if query.build().execute(&mut *tx).await?.rows_affected() > 0 {
                affected.insert(id.clone());
            }
        }
        let affected: Vec<String> = affected.into_iter().collect();
        refresh_spend(&mut tx, dialect, &affected, now).await?;
        tx.commit().await?;
        changed_customers.extend(affected);
        Ok(Batch { results, customers: changed_customers.into_iter().collect() })
    }

    /// One member by a column (`member_no`, `external_userid`, `phone` or `unionid`) equal to `value`.
    pub async fn member_by(&self, column: MemberKey, value: &str) -> Result<Option<MemberRecord>, sqlx::Error> {
        let sql = format!(
            "SELECT {MEMBER_COLUMNS} FROM customer_member WHERE {} = ? ORDER BY updated_at DESC LIMIT 1",
            column.column()
        );
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(value).fetch_optional(self.db.pool()).await
    }
}

/// The columns a member can be found by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberKey {
    /// Member number.
    MemberNo,
    /// Linked customer.
    ExternalUserid,
    /// Mobile number.
    Phone,
    /// WeChat unionid.
    Unionid,
}

impl MemberKey {
    fn column(self) -> &'static str {
        match self {
            MemberKey::MemberNo => "member_no",
            MemberKey::ExternalUserid => "external_userid",
            MemberKey::Phone => "phone",
            MemberKey::Unionid => "unionid",
        }
    }
}

async fn load_orders(
    connection: &mut AnyConnection,
    dialect: Dialect,
    numbers: &[String],
) -> Result<HashMap<String, OrderRecord>, sqlx::Error> {
    let lock = if dialect == Dialect::MySql { " FOR UPDATE" } else { "" };
    let mut orders = HashMap::new();
    for chunk in numbers.chunks(ROWS_PER_STATEMENT) {
        let mut query = QueryBuilder::<Any>::new(format!("SELECT {ORDER_COLUMNS} FROM customer_order WHERE "));
        push_in(&mut query, "order_no", chunk);
        query.push(lock);
        let rows: Vec<OrderRow> = query.build_query_as().fetch_all(&mut *connection).await?;
        orders.extend(rows.into_iter().map(|row| (row.order_no.clone(), OrderRecord::from(row))));
    }
    Ok(orders)
}

async fn contacts_by_unionid(
    connection: &mut AnyConnection,
    unionids: &[String],
) -> Result<HashMap<String, String>, sqlx::Error> {
    let mut found = HashMap::new();
    let unionids: Vec<String> = unionids.iter().cloned().collect::<BTreeSet<_>>().into_iter().collect();
    for chunk in unionids.chunks(ROWS_PER_STATEMENT) {
        let mut query = QueryBuilder::<Any>::new("SELECT unionid, external_userid FROM customer_contact WHERE ");
        push_in(&mut query, "unionid", chunk);
        let rows: Vec<(String, String)> = query.build_query_as().fetch_all(&mut *connection).await?;
        found.extend(rows);
    }
    Ok(found)
}

/// Customers known for the buyer fields of a batch of orders.
struct BuyerIndex {
    by_unionid: HashMap<String, String>,
    by_member_no: HashMap<String, String>,
    by_phone: HashMap<String, String>,
}

impl BuyerIndex {
    async fn load(connection: &mut AnyConnection, orders: &[OrderRecord]) -> Result<BuyerIndex, sqlx::Error> {
        let unmatched = || orders.iter().filter(|order| order.external_userid.is_none());
        let collect = |pick: fn(&OrderRecord) -> &String| -> Vec<String> {
            unmatched()
                .map(pick)
                .filter(|value| !value.is_empty())
                .cloned()
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect()
        };
        let unionids = collect(|order| &order.buyer_unionid);
        let mut by_unionid = contacts_by_unionid(connection, &unionids).await?;
        for (unionid, id) in members_by(connection, "unionid", &unionids).await? {
            by_unionid.entry(unionid).or_insert(id);
        }
        let by_member_no = members_by(connection, "member_no", &collect(|order| &order.member_no)).await?;
        let by_phone = members_by(connection, "phone", &collect(|order| &order.buyer_phone)).await?;
        Ok(BuyerIndex { by_unionid, by_member_no, by_phone })
    }

    /// The customer of an order's buyer: by unionid, member number, then phone.
    fn match_buyer(&self, order: &OrderRecord) -> Option<String> {
        self.by_unionid
            .get(&order.buyer_unionid)
            .or_else(|| self.by_member_no.get(&order.member_no))
            .or_else(|| self.by_phone.get(&order.buyer_phone))
            .cloned()
    }
}

/// Linked members' customers by `column` (one of the member table's lookup columns).
async fn members_by(
    connection: &mut AnyConnection,
    column: &'static str,
    values: &[String],
) -> Result<HashMap<String, String>, sqlx::Error> {
    let mut found = HashMap::new();
    for chunk in values.chunks(ROWS_PER_STATEMENT) {
        let mut query = QueryBuilder::<Any>::new(format!(
            "SELECT {column}, external_userid FROM customer_member WHERE external_userid IS NOT NULL AND "
        ));
        push_in(&mut query, column, chunk);
        let rows: Vec<(String, String)> = query.build_query_as().fetch_all(&mut *connection).await?;
        for (key, id) in rows {
            found.entry(key).or_insert(id);
        }
    }
    Ok(found)
}

async fn write_orders(
    connection: &mut AnyConnection,
    dialect: Dialect,
    orders: &[&OrderRecord],
) -> Result<(), sqlx::Error> {
    let upsert = dialect.upsert_clause(
        &["order_no"],
        &[
            "external_userid",
            "member_no",
            "buyer_unionid",
            "buyer_phone",
            "store_id",
            "store_code",
            "channel",
            "status",
            "amount_fen",
            "discount_fen",
            "refund_fen",
            "paid_at",
            "refunded_at",
            "items",
            "coupon_codes",
            "source",
            "updated_at",
        ],
    );
    for chunk in orders.chunks(ROWS_PER_STATEMENT / 2) {
        let mut query = QueryBuilder::<Any>::new(format!("INSERT INTO customer_order ({ORDER_COLUMNS}) "));
        query.push_values(chunk, |mut row, order| {
            row.push_bind(order.order_no.clone())
                .push_bind(order.external_userid.clone().unwrap_or_default())
                .push_bind(order.member_no.clone())
                .push_bind(order.buyer_unionid.clone())
                .push_bind(order.buyer_phone.clone())
                .push_bind(order.store_id)
                .push_bind(order.store_code.clone())
                .push_bind(order.channel.clone())
                .push_bind(order.status)
                .push_bind(order.amount_fen)
                .push_bind(order.discount_fen)
                .push_bind(order.refund_fen)
                .push_bind(order.paid_at)
                .push_bind(order.refunded_at)
                .push_bind(order.items_json.clone())
                .push_bind(order.coupon_codes.join(","))
                .push_bind(order.source.clone())
                .push_bind(order.updated_at)
                .push_bind(order.imported_at);
        });
        query.push(" ").push(&upsert);
        query.build().execute(&mut *connection).await?;
    }
    Ok(())
}

/// A customer's spend as aggregated from their orders: id, total, count, first and last payment.
type SpendRow = (String, i64, i64, Option<i64>, Option<i64>);

/// Recomputes the spend of `ids` from their orders (one grouped query over the buyer index per chunk) and
/// stores it.
async fn refresh_spend(
    connection: &mut AnyConnection,
    dialect: Dialect,
    ids: &[String],
    now: i64,
) -> Result<(), sqlx::Error> {
    let int = match dialect {
        Dialect::Sqlite => "INTEGER",
        Dialect::MySql => "SIGNED",
    };
    let upsert = dialect.upsert_clause(
        &["external_userid"],
        &["total_spend_fen", "order_count", "first_purchase_at", "last_purchase_at", "updated_at"],
    );
    for chunk in ids.chunks(ROWS_PER_STATEMENT) {
        let mut query = QueryBuilder::<Any>::new(format!(
            "SELECT external_userid, CAST(SUM(amount_fen - refund_fen) AS {int}), COUNT(*), MIN(paid_at), \
             MAX(paid_at) FROM customer_order WHERE "
        ));
        push_in(&mut query, "external_userid", chunk);
        query.push(" AND status IN (");
        let mut list = query.separated(", ");
        for status in 0..=6 {
            if is_purchase_status(status) {
                list.push_bind(status);
            }
        }
        query.push(") GROUP BY external_userid");
        let rows: Vec<SpendRow> = query.build_query_as().fetch_all(&mut *connection).await?;
        let mut spends: HashMap<String, Spend> = rows
            .into_iter()
            .map(|(id, total, count, first, last)| {
                (
                    id,
                    Spend {
                        total_spend_fen: total,
                        order_count: count,
                        first_purchase_at: first,
                        last_purchase_at: last,
                    },
                )
            })
            .collect();
        let mut query = QueryBuilder::<Any>::new(
            "INSERT INTO customer_spend (external_userid, total_spend_fen, order_count, first_purchase_at, \
             last_purchase_at, updated_at) ",
        );
        query.push_values(chunk, |mut row, id| {
            let spend = spends.remove(id).unwrap_or_default();
            row.push_bind(id.clone())
                .push_bind(spend.total_spend_fen)
                .push_bind(spend.order_count)
                .push_bind(spend.first_purchase_at)
                .push_bind(spend.last_purchase_at)
                .push_bind(now);
        });
        query.push(" ").push(&upsert);
        query.build().execute(&mut *connection).await?;
    }
    Ok(())
}

/// The position after `order` in newest-first order, for page tokens.
pub fn order_position(order: &OrderRecord) -> (i64, String) {
    (paid_key(order.paid_at), order.order_no.clone())
}

#[cfg(test)]
mod tests {
    use scrm_proto::customer::v1::{MemberMatch, OrderStatus};
    use scrm_storage::Db;

    use super::*;
    use crate::domain::ContactFields;
    use crate::domain::ContactInput;

    fn order(order_no: &str, buyer: Option<&str>, amount: i64, paid_at: i64) -> OrderRecord {
        OrderRecord {
            order_no: order_no.into(),
            external_userid: buyer.map(str::to_owned),
            status: OrderStatus::Paid as i32,
            amount_fen: amount,
            paid_at: Some(paid_at),
            items_json: "[]".into(),
            updated_at: paid_at,
            ..OrderRecord::default()
        }
    }

    async fn contact_with_unionid(store: &CustomerStore, id: &str, unionid: &str) {
        let input = ContactInput {
            contact: ContactFields {
                external_userid: id.into(),
                name: "张三".into(),
                unionid: unionid.into(),
                ..ContactFields::default()
            },
            follow_users: Vec::new(),
            follow_user_complete: false,
        };
        store.upsert_contacts(vec![input], 1, 1).await.unwrap();
    }

    async fn imports_keep_spend_current_and_are_idempotent(db: Db) {
        db.migrate(&crate::MIGRATIONS).await.unwrap();
        let store = CustomerStore::new(db.clone());
        let batch = vec![order("NO1", Some("wm1"), 10_000, 1_000), order("NO2", Some("wm1"), 5_000, 2_000)];
        let first = store.import_orders(batch.clone(), "csv:a.csv", 10, false).await.unwrap().results;
        assert!(first.iter().all(|result| result.outcome == OrderOutcome::Created && result.matched));
        let spend = store.spend("wm1").await.unwrap();
        assert_eq!(
            spend,
            Spend {
                total_spend_fen: 15_000,
                order_count: 2,
                first_purchase_at: Some(1_000),
                last_purchase_at: Some(2_000)
            }
        );
        let again = store.import_orders(batch, "csv:a.csv", 20, false).await.unwrap().results;
        assert!(again.iter().all(|result| result.outcome == OrderOutcome::Unchanged));

        let refund = OrderRecord {
            status: OrderStatus::PartiallyRefunded as i32,
            refund_fen: 2_000,
            updated_at: 3_000,
            ..order("NO2", Some("wm1"), 5_000, 2_000)
        };
        let pending = OrderRecord {
            status: OrderStatus::PendingPayment as i32,
            paid_at: None,
            ..order("NO3", Some("wm1"), 900, 0)
        };
        let results = store.import_orders(vec![refund, pending], "api", 30, false).await.unwrap().results;
        assert_eq!(
            results.iter().map(|r| r.outcome).collect::<Vec<_>>(),
            [OrderOutcome::Updated, OrderOutcome::Created]
        );
        let spend = store.spend("wm1").await.unwrap();
        assert_eq!((spend.total_spend_fen, spend.order_count), (13_000, 2));

        let filter = OrderFilter { external_userid: Some("wm1".into()), ..OrderFilter::default() };
        let page = store.list_orders(&filter, 2).await.unwrap();
        assert_eq!(page.iter().map(|o| o.order_no.as_str()).collect::<Vec<_>>(), ["NO2", "NO1"]);
        assert_eq!((page[0].refund_fen, page[0].imported_at, page[0].source.as_str()), (2_000, 10, "api"));
        let rest = OrderFilter { after: Some(order_position(&page[1])), ..filter };
        let rest = store.list_orders(&rest, 2).await.unwrap();
        assert_eq!(rest.iter().map(|o| o.order_no.as_str()).collect::<Vec<_>>(), ["NO3"]);

        let dry = store.import_orders(vec![order("NO9", Some("wm1"), 1, 1)], "dry", 40, true).await.unwrap().results;
        assert_eq!(dry[0].outcome, OrderOutcome::Created);
        assert_eq!(store.spend("wm1").await.unwrap().order_count, 2, "a dry run stores nothing");
    }

    async fn buyers_match_by_unionid_member_and_phone(db: Db) {
        db.migrate(&crate::MIGRATIONS).await.unwrap();
        let store = CustomerStore::new(db.clone());
        contact_with_unionid(&store, "wmU", "oUnion1").await;
        let by_unionid = OrderRecord { buyer_unionid: "oUnion1".into(), ..order("NO1", None, 100, 1_000) };
        let by_phone = OrderRecord { buyer_phone: "13800000001".into(), ..order("NO2", None, 200, 2_000) };
        let results = store.import_orders(vec![by_unionid, by_phone], "api", 1, false).await.unwrap().results;
        assert_eq!(results.iter().map(|r| r.matched).collect::<Vec<_>>(), [true, false]);
        assert_eq!(store.spend("wmU").await.unwrap().total_spend_fen, 100);
        let by_number = |number: &str| OrderFilter { order_no: Some(number.into()), ..OrderFilter::default() };
        let unmatched = store.list_orders(&by_number("NO2"), 1).await.unwrap();
        assert_eq!(unmatched[0].external_userid, None, "an unmatched order has no customer");

        let member = MemberRecord {
            member_no: "M1".into(),
            phone: "13800000001".into(),
            external_userid: Some("wmP".into()),
            matched_by: MemberMatch::ExternalUserid as i32,
            updated_at: 5,
            ..MemberRecord::default()
        };
        let results = store.upsert_members(vec![member.clone()], 10).await.unwrap().results;
        assert_eq!(results, [(OrderOutcome::Created, true)]);
        assert_eq!(store.spend("wmP").await.unwrap().total_spend_fen, 200, "the earlier order is linked");
        let linked = store.list_orders(&by_number("NO2"), 1).await.unwrap();
        assert_eq!(linked[0].external_userid.as_deref(), Some("wmP"));
        assert_eq!(store.upsert_members(vec![member], 11).await.unwrap().results, [(OrderOutcome::Unchanged, false)]);
        let by_member = OrderRecord { member_no: "M1".into(), ..order("NO3", None, 300, 3_000) };
        let results = store.import_orders(vec![by_member], "api", 12, false).await.unwrap().results;
        assert!(results[0].matched);
        assert_eq!(store.spend("wmP").await.unwrap().total_spend_fen, 500);

        let unionid_member = MemberRecord {
            member_no: "M2".into(),
            unionid: "oUnion1".into(),
            updated_at: 1,
            ..MemberRecord::default()
        };
        assert_eq!(
            store.upsert_members(vec![unionid_member], 13).await.unwrap().results,
            [(OrderOutcome::Created, true)]
        );
        let found = store.member_by(MemberKey::Unionid, "oUnion1").await.unwrap().unwrap();
        assert_eq!((found.external_userid.as_deref(), found.matched_by), (Some("wmU"), MemberMatch::Unionid as i32));
        assert!(store.member_by(MemberKey::Phone, "13900000000").await.unwrap().is_none());
    }

    scrm_storage::store_test_suite!(
        imports_keep_spend_current_and_are_idempotent,
        buyers_match_by_unionid_member_and_phone
    );
}
