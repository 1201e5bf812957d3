//! The customer profile at scale: loads customers and orders into MariaDB, then drives
//! `GET /api/crm/customers/{wxId}` through the gateway and compares it with MariaDB's own primary-key lookup
//! rate on the same data.
//!
//! A load generator, not a criterion bench. Run:
//! `cargo bench -p scrm-benches --bench customer_profile` with, optionally,
//! `BENCH_CUSTOMERS` (default 1,000,000), `BENCH_ORDERS` (default 10,000,000), `BENCH_RATE` (requests/s,
//! default 1,000), `BENCH_SECONDS` (per phase, default 10) and `BENCH_DATABASE_URL` (default
//! `mysql://root@127.0.0.1:3306/scrm_bench_customer`, created and filled when its row counts differ).
//!
//! Phases: cold (each request a customer not requested before), warm (the same customers again), the
//! sustainable throughput (64 concurrent clients, closed loop), and MariaDB's PK lookups of
//! `customer_contact` (64 concurrent tasks over a 16-connection pool). The server runs in this process on the
//! same machine as the load.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use scrm::{Config, Server};
use scrm_kernel::ServiceKind;
use scrm_storage::{DatabaseConfig, Db};
use sqlx::Row;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|value| value.parse().ok()).unwrap_or(default)
}

fn external_userid(index: u64) -> String {
    format!("wmBench{index:010}")
}

/// Rows per multi-row INSERT while loading.
const LOAD_BATCH: u64 = 5_000;
/// Milliseconds of 2025-01-01T00:00:00Z, the first payment time generated.
const EPOCH_MS: i64 = 1_735_689_600_000;

async fn execute(db: &Db, sql: String) {
    sqlx::query(sqlx::AssertSqlSafe(sql)).execute(db.pool()).await.expect("a load statement runs");
}

async fn count(db: &Db, table: &str) -> u64 {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
        .fetch_one(db.pool())
        .await
        .expect("the table is counted");
    row.get::<i64, _>(0) as u64
}

/// Customer `index`'s order amounts in fen are `1000 + (order % 97) * 100`; returns (spend, count, first, last).
fn spend_of(customer: u64, customers: u64, orders: u64) -> (i64, i64, Option<i64>, Option<i64>) {
    let mut total = 0;
    let mut count = 0;
    let mut first = None;
    let mut last = None;
    let mut order = customer;
    while order < orders {
        total += 1_000 + (order % 97) as i64 * 100;
        count += 1;
        let paid = EPOCH_MS + order as i64 * 1_000;
        first = first.or(Some(paid));
        last = Some(paid);
        order += customers;
    }
    (total, count, first, last)
}

async fn load(db: &Db, customers: u64, orders: u64) {
    let started = Instant::now();
    for table in ["customer_contact", "customer_follow_user", "customer_spend", "customer_order"] {
        execute(db, format!("DELETE FROM {table}")).await;
    }
    let mut start = 0;
    while start < customers {
        let end = (start + LOAD_BATCH).min(customers);
        let mut contacts = Vec::new();
        let mut follows = Vec::new();
        let mut spends = Vec::new();
        for index in start..end {
            let id = external_userid(index);
            let store = index % 50 + 1;
            contacts.push(format!(
                "('{id}', '顾客{index}', 'https://wx.qlogo.cn/{index}.png', 1, 'oBench{index:010}', '{store}', 0, 0, 0)"
            ));
            follows.push(format!(
                "('{id}', 'staff{}', '备注{index}', '', {EPOCH_MS}, 1, '', '', '', '13800{:06}', '{store}', 1, 0, 0, 0)",
                index % 500,
                index % 1_000_000
            ));
            let (total, count, first, last) = spend_of(index, customers, orders);
            let time = |at: Option<i64>| at.map_or("NULL".to_owned(), |at| at.to_string());
            spends.push(format!("('{id}', {total}, {count}, {}, {}, 0)", time(first), time(last)));
        }
        execute(db, format!(
            "INSERT INTO customer_contact (external_userid, name, avatar, contact_type, unionid, store_id, observed_at, \
             created_at, updated_at) VALUES {}", contacts.join(","))).await;
        execute(db, format!(
            "INSERT INTO customer_follow_user (external_userid, userid, remark, description, added_at, add_way, state, \
             oper_userid, remark_corp_name, remark_mobiles, store_ids, status, observed_at, created_at, updated_at) \
             VALUES {}", follows.join(","))).await;
        execute(
            db,
            format!(
                "INSERT INTO customer_spend (external_userid, total_spend_fen, order_count, first_purchase_at, \
             last_purchase_at, updated_at) VALUES {}",
                spends.join(",")
            ),
        )
        .await;
        start = end;
    }
    println!("loaded {customers} customers in {:.1} s", started.elapsed().as_secs_f64());
    let started = Instant::now();
    let mut start = 0;
    while start < orders {
        let end = (start + LOAD_BATCH).min(orders);
        let rows: Vec<String> = (start..end)
            .map(|order| {
                let buyer = external_userid(order % customers);
                let amount = 1_000 + (order % 97) * 100;
                let paid = EPOCH_MS + order as i64 * 1_000;
                format!(
                    "('O{order:012}', '{buyer}', '', 'S{}', '门店', 2, {amount}, 0, 0, {paid}, '[]', '', 'bench', {paid}, 0)",
                    order % 50 + 1
                )
            })
            .collect();
        execute(db, format!(
            "INSERT INTO customer_order (order_no, external_userid, member_no, store_code, channel, status, amount_fen, \
             discount_fen, refund_fen, paid_at, items, coupon_codes, source, updated_at, imported_at) VALUES {}",
            rows.join(","))).await;
        start = end;
        if start % 1_000_000 == 0 {
            println!("  {start} orders after {:.1} s", started.elapsed().as_secs_f64());
        }
    }
    println!("loaded {orders} orders in {:.1} s", started.elapsed().as_secs_f64());
}

/// Latency percentiles in ms of sorted samples.
fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let at = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[at].as_secs_f64() * 1_000.0
}

/// Sends one request per `1/rate` s for `seconds`, each to the next id of `ids`; latency counts from the
/// scheduled send time, so a stalled server cannot hide its queue. Returns sorted latencies and failures.
async fn open_loop(
    client: &reqwest::Client,
    base: &str,
    ids: &[String],
    rate: u64,
    seconds: u64,
) -> (Vec<Duration>, u64) {
    let total = (rate * seconds) as usize;
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let started = tokio::time::Instant::now();
    let mut tasks = Vec::with_capacity(total);
    for index in 0..total {
        let scheduled = started + interval * index as u32;
        tokio::time::sleep_until(scheduled).await;
        let request = client.get(format!("{base}/api/crm/customers/{}", ids[index % ids.len()]));
        tasks.push(tokio::spawn(async move {
            let ok = match request.send().await {
                Ok(response) => response.status() == 200 && response.bytes().await.is_ok(),
                Err(_) => false,
            };
            (scheduled.elapsed(), ok)
        }));
    }
    let mut latencies = Vec::with_capacity(total);
    let mut failures = 0;
    for task in tasks {
        let (latency, ok) = task.await.expect("a request task ends");
        latencies.push(latency);
        failures += u64::from(!ok);
    }
    latencies.sort();
    (latencies, failures)
}

/// Requests per second `workers` closed-loop clients achieve in `seconds`.
async fn closed_loop<F, Fut>(workers: usize, seconds: u64, call: F) -> f64
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let call = Arc::new(call);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..workers {
        let call = call.clone();
        tasks.push(tokio::spawn(async move {
            let mut done = 0_u64;
            let mut next = worker as u64 * 7_919;
            while Instant::now() < deadline {
                call(next).await;
                next = next.wrapping_add(104_729);
                done += 1;
            }
            done
        }));
    }
    let mut total = 0;
    for task in tasks {
        total += task.await.expect("a worker ends");
    }
    total as f64 / started.elapsed().as_secs_f64()
}

#[tokio::main]
async fn main() {
    let customers = env_or("BENCH_CUSTOMERS", 1_000_000);
    let orders = env_or("BENCH_ORDERS", 10_000_000);
    let rate = env_or("BENCH_RATE", 1_000);
    let seconds = env_or("BENCH_SECONDS", 10);
    let url = std::env::var("BENCH_DATABASE_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/scrm_bench_customer".to_owned());
    let (server_url, database) = url.rsplit_once('/').expect("the URL names a database");
    let admin = Db::connect(&format!("{server_url}/test"), &DatabaseConfig::default()).await.expect("MariaDB answers");
    execute(&admin, format!("CREATE DATABASE IF NOT EXISTS {database}")).await;
    let db = Db::connect(&url, &DatabaseConfig { max_connections: 16, ..DatabaseConfig::default() })
        .await
        .expect("the bench database opens");
    db.migrate(&scrm_customer::MIGRATIONS).await.expect("the customer schema applies");
    if count(&db, "customer_contact").await != customers || count(&db, "customer_order").await != orders {
        load(&db, customers, orders).await;
    } else {
        println!("reusing {customers} customers and {orders} orders already in {database}");
    }

    let data_dir = tempfile::tempdir().unwrap();
    let mut config = Config { data_dir: data_dir.path().to_path_buf(), ..Config::default() };
    config.server.listen = "127.0.0.1:0".parse().unwrap();
    config.server.static_dir = data_dir.path().join("no-admin");
    config.wecom.demo = false;
    // Calls without a credential act as the configured local caller (benches measure the work, not sign-in).
    config.auth.local_caller = true;
    config.database.url = url.clone();
    config.database.max_connections = 16;
    config.telemetry.log_filter = "warn".to_owned();
    config.cluster.token = "bench".to_owned();
    let services: BTreeSet<ServiceKind> = [ServiceKind::Customer].into_iter().collect();
    let server = Server::start(config, &services).await.expect("scrm starts on the bench database");
    let base = format!("http://{}", server.local_addr());
    let client = reqwest::Client::builder().pool_max_idle_per_host(256).build().unwrap();

    // Customers spread over the whole table, each requested once in the cold phase.
    let sample = (rate * seconds) as usize;
    let step = (customers / sample as u64).max(1);
    let ids: Vec<String> = (0..sample as u64).map(|index| external_userid((index * step + 13) % customers)).collect();
    let (cold, cold_failures) = open_loop(&client, &base, &ids, rate, seconds).await;
    let (warm, warm_failures) = open_loop(&client, &base, &ids, rate, seconds).await;
    let endpoint_rate = {
        let client = client.clone();
        let base = base.clone();
        closed_loop(64, 5, move |next| {
            let request = client.get(format!("{base}/api/crm/customers/{}", external_userid(next % customers)));
            async move {
                let _ = request.send().await.map(|response| response.bytes());
            }
        })
        .await
    };
    let pk_rate = {
        let pool = db.pool().clone();
        closed_loop(64, 5, move |next| {
            let pool = pool.clone();
            async move {
                sqlx::query("SELECT external_userid, name, avatar, unionid, store_id FROM customer_contact WHERE external_userid = ?")
                    .bind(external_userid(next % customers))
                    .fetch_optional(&pool)
                    .await
                    .expect("a PK lookup runs");
            }
        })
        .await
    };
    println!("data: {customers} customers, {orders} orders ({} per customer)", orders / customers.max(1));
    for (phase, latencies, failures) in [("cold", &cold, cold_failures), ("warm", &warm, warm_failures)] {
        println!(
            "GET /api/crm/customers/{{wxId}} {phase} at {rate} req/s for {seconds} s: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms, {} requests, {failures} failed",
            percentile(latencies, 0.50),
            percentile(latencies, 0.99),
            percentile(latencies, 1.0),
            latencies.len()
        );
    }
    println!("endpoint sustainable throughput (64 clients, closed loop): {endpoint_rate:.0} req/s");
    println!("MariaDB PK lookups of customer_contact (64 tasks, 16 connections): {pk_rate:.0} /s");
    println!("ratio endpoint / PK lookup: {:.3}", endpoint_rate / pk_rate);
    server.stop().await.expect("scrm stops");
}
