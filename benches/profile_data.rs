//! The customer profile bench's data: customers with follow users, tags, spend and groups, and their orders,
//! generated inside MariaDB (`INSERT … SELECT` over the SEQUENCE engine's `seq_A_to_B` tables, so no row
//! crosses the network) in chunks that each commit with their progress. An interrupted load resumes at the
//! next chunk; a complete one is reused as it is.
//!
//! Customer `c` (of `C`) is `wmBench{c:010}`, store `c % 50 + 1`, followed by `staff{c % 500}` (and, for every
//! fourth customer, by a second staff member), with `c % 4` of 20 corp tags, in `c % 3` of `C / 100` groups.
//! Order `o` (of `O`) is `O{o:012}`, bought by customer `o % C` for `1000 + (o % 97) * 100` fen at
//! 2025-01-01 + `o` s, so one customer's orders are spread over the whole time range; they are stored together,
//! as the table is clustered by buyer.

use std::time::Instant;

use scrm_storage::Db;

/// Customers (with their orders) per committed chunk.
const CUSTOMER_CHUNK: u64 = 100_000;
/// Milliseconds of 2025-01-01T00:00:00Z, the first time generated.
const EPOCH_MS: i64 = 1_735_689_600_000;
/// Tables the load fills (and the group alerts raised on its groups), wiped when the wanted size changes.
const TABLES: [&str; 8] = [
    "customer_contact",
    "customer_follow_user",
    "customer_follow_tag",
    "customer_spend",
    "customer_order",
    "group_chat",
    "group_member",
    "group_alert",
];

/// How much data to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// Customers.
    pub customers: u64,
    /// Orders.
    pub orders: u64,
}

impl Shape {
    /// Groups the customers are members of.
    fn groups(self) -> u64 {
        (self.customers / 100).max(1)
    }

    /// Orders per customer, rounded up: every order of customer `c` is `c + k * customers` for some `k` below
    /// this.
    fn rounds(self) -> u64 {
        self.orders.div_ceil(self.customers).max(1)
    }
}

/// The `external_userid` of customer `index`.
pub fn external_userid(index: u64) -> String {
    format!("wmBench{index:010}")
}

async fn run(db: &Db, sql: String) -> Result<(), sqlx::Error> {
    sqlx::query(sqlx::AssertSqlSafe(sql)).execute(db.pool()).await.map(drop)
}

async fn done(db: &Db, step: &str) -> Result<Option<u64>, sqlx::Error> {
    let done: Option<i64> =
        sqlx::query_scalar("SELECT done FROM bench_load WHERE step = ?").bind(step).fetch_optional(db.pool()).await?;
    Ok(done.map(|done| done as u64))
}

/// Runs `statements` and records `step` as done up to `upto`, in one transaction.
async fn commit_chunk(db: &Db, statements: Vec<String>, step: &str, upto: u64) -> Result<(), sqlx::Error> {
    let mut tx = db.pool().begin().await?;
    for sql in statements {
        sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut *tx).await?;
    }
    sqlx::query("UPDATE bench_load SET done = ? WHERE step = ?").bind(upto as i64).bind(step).execute(&mut *tx).await?;
    tx.commit().await
}

/// Fills `db` (with the customer and group schemas applied) up to `shape`, resuming an interrupted load and
/// starting over when the data there has another shape.
pub async fn load(db: &Db, shape: Shape) -> Result<(), sqlx::Error> {
    run(db, "CREATE TABLE IF NOT EXISTS bench_load (step VARCHAR(32) PRIMARY KEY, done BIGINT NOT NULL)".into())
        .await?;
    if done(db, "customers_total").await? != Some(shape.customers)
        || done(db, "orders_total").await? != Some(shape.orders)
    {
        println!("generating {} customers and {} orders", shape.customers, shape.orders);
        for table in TABLES.into_iter().chain(["bench_load"]) {
            run(db, format!("TRUNCATE TABLE {table}")).await?;
        }
        run(
            db,
            format!(
                "INSERT INTO bench_load (step, done) VALUES ('customers_total', {}), ('orders_total', {}), \
                 ('customers', 0)",
                shape.customers, shape.orders
            ),
        )
        .await?;
        run(db, groups_sql(shape)).await?;
    }
    let started = Instant::now();
    let mut next = done(db, "customers").await?.unwrap_or(0);
    while next < shape.customers {
        let end = (next + CUSTOMER_CHUNK).min(shape.customers);
        let mut statements = customer_sql(shape, next, end);
        statements.push(order_sql(shape, next, end));
        commit_chunk(db, statements, "customers", end).await?;
        println!(
            "  customers (with their orders) {end}/{} after {:.1} s",
            shape.customers,
            started.elapsed().as_secs_f64()
        );
        next = end;
    }
    if done(db, "analyzed").await?.is_none() {
        run(db, format!("ANALYZE TABLE {}", TABLES.join(", "))).await?;
        run(db, "INSERT INTO bench_load (step, done) VALUES ('analyzed', 1)".into()).await?;
    }
    Ok(())
}

/// The `external_userid` of the customer numbered by SQL expression `index`.
fn id_sql(index: &str) -> String {
    format!("CONCAT('wmBench', LPAD({index}, 10, '0'))")
}

fn groups_sql(shape: Shape) -> String {
    format!(
        "INSERT INTO group_chat (chat_id, name, owner_userid, store_id, member_count, customer_count, created_at, \
         updated_at) SELECT CONCAT('wrBench', LPAD(seq, 7, '0')), CONCAT('会员福利群', seq), CONCAT('staff', seq % 500), \
         seq % 50 + 1, 300, 300, {EPOCH_MS}, {EPOCH_MS} FROM seq_0_to_{}",
        shape.groups() - 1
    )
}

/// Customers `start..end`: contacts, follow users, tags, spend and group memberships.
fn customer_sql(shape: Shape, start: u64, end: u64) -> Vec<String> {
    let last = end - 1;
    let id = id_sql("c.seq");
    let rounds = shape.rounds();
    let customers = shape.customers;
    let orders = shape.orders;
    let groups = shape.groups();
    let tag_names = "'高意向', '低意向', '新客', '老客', 'VIP', '团购', '复购', '流失预警', '母婴', '美妆', '运动', \
                     '数码', '家居', '学生', '白领', '宝妈', '男士', '女士', '北方', '南方'";
    vec![
        format!(
            "INSERT INTO customer_contact (external_userid, name, avatar, contact_type, unionid, store_id, gender, \
             observed_at, created_at, updated_at) \
             SELECT {id}, CONCAT(ELT(c.seq % 8 + 1, '王', '李', '张', '刘', '陈', '杨', '黄', '赵'), \
             ELT(c.seq % 10 + 1, '伟', '芳', '娜', '敏', '静', '丽', '强', '磊', '军', '洋')), \
             CONCAT('https://wx.qlogo.cn/bench/', c.seq, '.png'), 1, CONCAT('oBench', LPAD(c.seq, 10, '0')), \
             c.seq % 50 + 1, c.seq % 3, {EPOCH_MS}, {EPOCH_MS}, {EPOCH_MS} FROM seq_{start}_to_{last} c"
        ),
        format!(
            "INSERT INTO customer_follow_user (external_userid, userid, remark, added_at, add_way, remark_mobiles, \
             store_ids, status, observed_at, created_at, updated_at) \
             SELECT {id}, CONCAT('staff', (c.seq + f.seq * 250) % 500), CONCAT('备注', c.seq), \
             {EPOCH_MS} + c.seq * 1000 + f.seq, 1, CONCAT('138', LPAD(c.seq, 8, '0')), c.seq % 50 + 1, 1, \
             {EPOCH_MS}, {EPOCH_MS}, {EPOCH_MS} FROM seq_{start}_to_{last} c JOIN seq_0_to_1 f \
             ON f.seq = 0 OR c.seq % 4 = 0"
        ),
        format!(
            "INSERT INTO customer_follow_tag (external_userid, userid, tag_type, tag_id, tag_name, group_id, \
             group_name) SELECT {id}, CONCAT('staff', c.seq % 500), 1, CONCAT('etBench', (c.seq * 7 + t.seq * 3) % 20), \
             ELT((c.seq * 7 + t.seq * 3) % 20 + 1, {tag_names}), 'egBench', '客户画像' \
             FROM seq_{start}_to_{last} c JOIN seq_0_to_2 t ON t.seq < c.seq % 4"
        ),
        format!(
            "INSERT INTO customer_spend (external_userid, total_spend_fen, order_count, first_purchase_at, \
             last_purchase_at, updated_at) \
             SELECT {id}, SUM(1000 + ((c.seq + k.seq * {customers}) % 97) * 100), COUNT(*), \
             MIN({EPOCH_MS} + (c.seq + k.seq * {customers}) * 1000), MAX({EPOCH_MS} + (c.seq + k.seq * {customers}) * 1000), \
             {EPOCH_MS} FROM seq_{start}_to_{last} c JOIN seq_0_to_{} k ON c.seq + k.seq * {customers} < {orders} \
             GROUP BY c.seq",
            rounds - 1
        ),
        format!(
            "INSERT IGNORE INTO group_member (chat_id, userid, member_type, name, joined_at, join_scene, updated_at) \
             SELECT CONCAT('wrBench', LPAD((c.seq * 7 + j.seq * 4999) % {groups}, 7, '0')), {id}, 2, \
             CONCAT('顾客', c.seq), {EPOCH_MS} + c.seq * 1000 + j.seq, 3, {EPOCH_MS} \
             FROM seq_{start}_to_{last} c JOIN seq_0_to_1 j ON j.seq < c.seq % 3"
        ),
    ]
}

/// The orders of customers `start..end` (order `o` is bought by customer `o % customers`), inserted in the
/// table's primary-key order (buyer, then order number), as the clustered index keeps them whatever order they
/// arrive in.
fn order_sql(shape: Shape, start: u64, end: u64) -> String {
    let (customers, orders) = (shape.customers, shape.orders);
    let rounds = shape.rounds();
    let order = format!("(c.seq + k.seq * {customers})");
    let buyer = id_sql("c.seq");
    format!(
        "INSERT INTO customer_order (order_no, external_userid, member_no, store_id, store_code, channel, status, \
         amount_fen, discount_fen, refund_fen, paid_at, items, coupon_codes, source, updated_at, imported_at) \
         SELECT CONCAT('O', LPAD({order}, 12, '0')), {buyer}, '', {order} % 50 + 1, CONCAT('S', {order} % 50 + 1), \
         '门店', 2, 1000 + ({order} % 97) * 100, 0, 0, {EPOCH_MS} + {order} * 1000, \
         CONCAT('[{{\"sku\":\"SKU', {order} % 1000, '\",\"name\":\"商品', {order} % 1000, \
         '\",\"quantity\":1,\"unit_price_fen\":', 1000 + ({order} % 97) * 100, '}}]'), '', 'bench', \
         {EPOCH_MS} + {order} * 1000, {EPOCH_MS} FROM seq_{start}_to_{} c JOIN seq_0_to_{} k ON {order} < {orders} \
         ORDER BY c.seq, k.seq",
        end - 1,
        rounds - 1
    )
}
