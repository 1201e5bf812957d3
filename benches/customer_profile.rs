//! The customer profile at scale: generates customers and orders in MariaDB (see `profile_data.rs`), then
//! drives `GET /api/crm/customers/{wxId}` through the gateway and compares it with MariaDB's own primary-key
//! lookup rate on the same data.
//!
//! A load generator, not a criterion bench. Run:
//! `cargo bench -p scrm-benches --bench customer_profile` with, optionally,
//! `BENCH_CUSTOMERS` (default 1,000,000), `BENCH_ORDERS` (default 10,000,000), `BENCH_RATE` (requests/s,
//! default 1,000), `BENCH_SECONDS` (per open-loop phase, default 30), `BENCH_STEP_SECONDS` (per closed-loop
//! step, default 5), `BENCH_BUFFER_POOL_MIB` (InnoDB's buffer pool during the phases, default 8,192; emptied
//! first so the cold phase starts cold; 0 leaves the server as it is; restored at the end) and
//! `BENCH_DATABASE_URL` (default `mysql://root@127.0.0.1:3306/scrm_bench`, created and
//! filled when it lacks the wanted data; an interrupted fill resumes). The customer search index is kept in
//! `$TMPDIR/scrm-bench-<database>` and built before the server starts, so no rebuild runs during the phases.
//!
//! Phases: cold (open loop at the rate, each request a customer not requested before in this run, picked at
//! random over the table), warm (the same customers again), the endpoint's closed-loop throughput at growing
//! concurrency (its sustainable throughput: the best one whose p99 stays within 20 ms), and MariaDB's PK
//! lookups of `customer_contact` at growing concurrency. Open-loop latency counts from each request's
//! scheduled send time, so a stalled server cannot hide its queue (no coordinated omission). The server (scrm
//! with the customer, group and campaign services) runs in this process, on the same 2 cores as the load and MariaDB.
//! Each open-loop phase also reports its p99 per 5 s, the machine's busy cores and InnoDB's page reads per
//! request. Before the phases, the group alerts are evaluated once, so the data is in a running deployment's
//! steady state.

#[path = "profile_data.rs"]
mod profile_data;

use std::collections::{BTreeSet, HashSet};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use profile_data::{Shape, external_userid};
use scrm::{Config, Server};
use scrm_kernel::ServiceKind;
use scrm_storage::{DatabaseConfig, Db};

/// The latency goal of the profile endpoint's p99.
const P99_GOAL: Duration = Duration::from_millis(20);
/// Concurrency steps of the closed-loop phases.
const STEPS: [usize; 7] = [1, 2, 4, 8, 16, 32, 64];

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|value| value.parse().ok()).unwrap_or(default)
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| text.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

/// `count` distinct customers at random, a new draw each run so a rerun starts cold too.
fn random_customers(count: usize, customers: u64) -> Vec<String> {
    let seed = SystemTime::now().duration_since(UNIX_EPOCH).map_or(1, |since| since.as_nanos() as u64) | 1;
    let mut rng = Rng(seed);
    let mut seen = HashSet::new();
    let mut ids = Vec::with_capacity(count);
    while ids.len() < count.min(customers as usize) {
        let index = rng.below(customers);
        if seen.insert(index) {
            ids.push(external_userid(index));
        }
    }
    ids
}

/// Sorted latencies and failures of a phase.
struct Latencies {
    sorted: Vec<Duration>,
    failures: u64,
}

impl Latencies {
    fn new(mut samples: Vec<(Duration, bool)>) -> Self {
        let failures = samples.iter().filter(|(_, ok)| !ok).count() as u64;
        samples.sort();
        Latencies { sorted: samples.into_iter().map(|(latency, _)| latency).collect(), failures }
    }

    /// The `p` quantile in ms.
    fn ms(&self, p: f64) -> f64 {
        if self.sorted.is_empty() {
            return f64::NAN;
        }
        let at = ((self.sorted.len() as f64 * p).ceil() as usize).clamp(1, self.sorted.len()) - 1;
        self.sorted[at].as_secs_f64() * 1_000.0
    }

    fn summary(&self) -> String {
        format!(
            "p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms, max {:.2} ms, {} requests, {} failed",
            self.ms(0.50),
            self.ms(0.99),
            self.ms(0.999),
            self.ms(1.0),
            self.sorted.len(),
            self.failures
        )
    }
}

async fn get_profile(client: &reqwest::Client, base: &str, id: &str) -> bool {
    match client.get(format!("{base}/api/crm/customers/{id}")).send().await {
        Ok(response) => response.status() == 200 && response.bytes().await.is_ok(),
        Err(_) => false,
    }
}

/// The p99 of each run of `per_window` samples of an open-loop phase (in send order), in ms.
fn windowed_p99(samples: &[(Duration, bool)], per_window: usize) -> String {
    samples
        .chunks(per_window.max(1))
        .map(|window| format!("{:.0}", Latencies::new(window.to_vec()).ms(0.99)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Busy and total CPU time of the machine so far, in clock ticks (`/proc/stat`).
fn cpu_ticks() -> (u64, u64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let ticks: Vec<u64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .filter_map(|field| field.parse().ok())
        .collect();
    let idle = ticks.get(3).copied().unwrap_or(0) + ticks.get(4).copied().unwrap_or(0);
    let total: u64 = ticks.iter().take(8).sum();
    (total - idle, total)
}

/// A numeric server status variable (`SHOW GLOBAL STATUS`).
async fn global_status(db: &Db, name: &str) -> i64 {
    let (_, value): (String, String) = sqlx::query_as(sqlx::AssertSqlSafe(format!("SHOW GLOBAL STATUS LIKE '{name}'")))
        .fetch_one(db.pool())
        .await
        .expect("the server status is read");
    value.parse().unwrap_or(0)
}

/// Pages InnoDB has read from disk so far.
async fn page_reads(db: &Db) -> i64 {
    global_status(db, "Innodb_buffer_pool_reads").await
}

/// The machine's CPU use and InnoDB's page reads over one phase.
struct PhaseCost {
    ticks: (u64, u64),
    page_reads: i64,
}

impl PhaseCost {
    async fn start(db: &Db) -> PhaseCost {
        PhaseCost { ticks: cpu_ticks(), page_reads: page_reads(db).await }
    }

    /// Busy cores (of the machine's) and page reads per request since [`PhaseCost::start`].
    async fn summary(&self, db: &Db, requests: usize) -> String {
        let (busy, total) = cpu_ticks();
        let cores = std::thread::available_parallelism().map_or(1, |cores| cores.get()) as f64;
        let busy_share = (busy - self.ticks.0) as f64 / (total - self.ticks.1).max(1) as f64;
        let reads = page_reads(db).await - self.page_reads;
        format!(
            "CPU {:.2} of {cores:.0} cores busy, {:.2} InnoDB page reads per request",
            busy_share * cores,
            reads as f64 / requests.max(1) as f64
        )
    }
}

/// Sends one request per `1/rate` s for `seconds`, each to the next id of `ids`; latency counts from the
/// scheduled send time. Returns the samples in send order.
async fn open_loop(
    client: &reqwest::Client,
    base: &str,
    ids: &[String],
    rate: u64,
    seconds: u64,
) -> Vec<(Duration, bool)> {
    let total = (rate * seconds) as usize;
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let started = tokio::time::Instant::now();
    let mut tasks = Vec::with_capacity(total);
    for index in 0..total {
        let scheduled = started + interval.mul_f64(index as f64);
        tokio::time::sleep_until(scheduled).await;
        let (client, base, id) = (client.clone(), base.to_owned(), ids[index % ids.len()].clone());
        tasks.push(tokio::spawn(async move {
            let ok = get_profile(&client, &base, &id).await;
            (scheduled.elapsed(), ok)
        }));
    }
    let mut samples = Vec::with_capacity(total);
    for task in tasks {
        samples.push(task.await.expect("a request task ends"));
    }
    samples
}

/// Runs an open-loop phase (see [`open_loop`]) and prints its latencies, its p99 per 5 s and its cost.
async fn open_loop_phase(
    label: &str,
    (client, base): (&reqwest::Client, &str),
    db: &Db,
    ids: &[String],
    rate: u64,
    seconds: u64,
) {
    let cost = PhaseCost::start(db).await;
    let samples = open_loop(client, base, ids, rate, seconds).await;
    let cost = cost.summary(db, samples.len()).await;
    let by_window = windowed_p99(&samples, (rate * 5) as usize);
    println!("  {label}: {} (load {})", Latencies::new(samples).summary(), load_average());
    println!("    p99 per 5 s (ms): {by_window}; {cost}");
}

/// Calls per second `workers` closed-loop clients achieve in `seconds`, and their latencies.
async fn closed_loop<F, Fut>(workers: usize, seconds: u64, call: Arc<F>) -> (f64, Latencies)
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = bool> + Send,
{
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for worker in 0..workers {
        let call = call.clone();
        tasks.push(tokio::spawn(async move {
            let mut samples = Vec::new();
            let mut rng = Rng((worker as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
            while Instant::now() < deadline {
                let sent = Instant::now();
                let ok = call(rng.below(u64::MAX)).await;
                samples.push((sent.elapsed(), ok));
            }
            samples
        }));
    }
    let mut samples = Vec::new();
    for task in tasks {
        samples.extend(task.await.expect("a worker ends"));
    }
    let rate = samples.len() as f64 / started.elapsed().as_secs_f64();
    (rate, Latencies::new(samples))
}

/// Runs `call` closed-loop at each concurrency of [`STEPS`], printing each step; returns the best rate with
/// p99 within [`P99_GOAL`] (`None`: none kept it) and the best rate overall.
async fn sweep<F, Fut>(label: &str, seconds: u64, call: F) -> (Option<f64>, f64)
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = bool> + Send,
{
    let call = Arc::new(call);
    let (mut sustainable, mut best) = (None::<f64>, 0_f64);
    for workers in STEPS {
        let (rate, latencies) = closed_loop(workers, seconds, call.clone()).await;
        println!("  {label}, {workers:>2} clients: {rate:>7.0}/s, {} (load {})", latencies.summary(), load_average());
        best = best.max(rate);
        if latencies.ms(0.99) <= P99_GOAL.as_secs_f64() * 1_000.0 && latencies.failures == 0 {
            sustainable = Some(sustainable.map_or(rate, |kept| kept.max(rate)));
        }
    }
    (sustainable, best)
}

/// Bytes of data and indexes of `tables` in `database`.
async fn table_bytes(db: &Db, database: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(data_length + index_length), 0) AS SIGNED) FROM information_schema.tables \
         WHERE table_schema = ? AND table_name IN ('customer_contact', 'customer_follow_user', \
         'customer_follow_tag', 'customer_spend', 'customer_order', 'group_chat', 'group_member')",
    )
    .bind(database)
    .fetch_one(db.pool())
    .await
    .expect("the table sizes are read")
}

/// Pages of data in InnoDB's buffer pool.
async fn buffer_pool_data_pages(db: &Db) -> i64 {
    global_status(db, "Innodb_buffer_pool_pages_data").await
}

/// Empties InnoDB's buffer pool (shrinking it to 128 MiB evicts what the load left cached), then sizes it to
/// `mib` MiB, as a production server on this 24 GiB machine would be: the cold phase then reads every page it
/// needs from disk once, the warm phase from memory. `mib` 0 leaves the server as it is.
async fn empty_buffer_pool(db: &Db, mib: u64) {
    if mib == 0 {
        return;
    }
    let resize = |bytes: u64| {
        sqlx::query(sqlx::AssertSqlSafe(format!("SET GLOBAL innodb_buffer_pool_size = {bytes}"))).execute(db.pool())
    };
    resize(128 << 20).await.expect("the buffer pool shrinks");
    for _ in 0..600 {
        if buffer_pool_data_pages(db).await * 16_384 <= 128 << 20 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    resize(mib << 20).await.expect("the buffer pool grows");
}

async fn server_variable(db: &Db, name: &str) -> String {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT CAST(@@{name} AS CHAR)")))
        .fetch_one(db.pool())
        .await
        .expect("a server variable is read")
}

/// Opens the bench's customer search index in `data_dir`, building it from `db` when new.
async fn prepare_index(config: &Config, db: &Db) {
    let dir = scrm::reindex::customer_index_dir(config);
    let (index, fresh) = scrm_customer::SearchIndex::open(&dir).expect("the search index opens");
    if fresh {
        let started = Instant::now();
        let summary = scrm_customer::reindex(db.clone(), index).await.expect("the index builds");
        println!("search index built from MariaDB in {:.1} s: {summary:?}", started.elapsed().as_secs_f64());
    }
}

/// Brings the data to a running deployment's steady state: the group service's alert worker has raised its
/// dead-group alerts (the bench's groups never hear a message), so the measured server's own first evaluation,
/// at its start, finds nothing to write. Once they are raised, this evaluation only reads.
async fn settle_group_alerts(db: &Db) {
    let started = Instant::now();
    let evaluation =
        scrm_group::evaluate_alerts(db, &scrm_group::SystemClock, None).await.expect("the group alerts evaluate");
    println!("group alerts evaluated in {:.1} s: {evaluation:?}", started.elapsed().as_secs_f64());
}

#[tokio::main]
async fn main() {
    let shape = Shape { customers: env_or("BENCH_CUSTOMERS", 1_000_000), orders: env_or("BENCH_ORDERS", 10_000_000) };
    let rate = env_or("BENCH_RATE", 1_000);
    let seconds = env_or("BENCH_SECONDS", 30);
    let step_seconds = env_or("BENCH_STEP_SECONDS", 5);
    let url =
        std::env::var("BENCH_DATABASE_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/scrm_bench".to_owned());
    let (server_url, database) = url.rsplit_once('/').expect("the URL names a database");
    println!("load average at start: {}", load_average());

    let admin = Db::connect(&format!("{server_url}/test"), &DatabaseConfig::default()).await.expect("MariaDB answers");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE IF NOT EXISTS {database}")))
        .execute(admin.pool())
        .await
        .expect("the bench database is created");
    let db = Db::connect(&url, &DatabaseConfig { max_connections: 16, ..DatabaseConfig::default() })
        .await
        .expect("the bench database opens");
    db.migrate(&scrm_customer::MIGRATIONS).await.expect("the customer schema applies");
    db.migrate(&scrm_group::MIGRATIONS).await.expect("the group schema applies");
    let started = Instant::now();
    profile_data::load(&db, shape).await.expect("the bench data loads");
    println!(
        "data ready in {:.1} s: {} customers, {} orders; {:.2} GiB of tables and indexes, InnoDB buffer pool {:.2} GiB",
        started.elapsed().as_secs_f64(),
        shape.customers,
        shape.orders,
        table_bytes(&db, database).await as f64 / f64::from(1 << 30),
        server_variable(&db, "innodb_buffer_pool_size").await.parse::<f64>().unwrap_or(0.0) / f64::from(1 << 30),
    );

    let data_dir = std::env::temp_dir().join(format!("scrm-bench-{database}"));
    let mut config = Config { data_dir: data_dir.clone(), ..Config::default() };
    config.server.listen = "127.0.0.1:0".parse().unwrap();
    config.server.static_dir = data_dir.join("no-admin");
    config.wecom.demo = false;
    // Calls without a credential act as the configured local caller (benches measure the work, not sign-in).
    config.auth.local_caller = true;
    config.database.url = url.clone();
    config.database.max_connections = 16;
    config.telemetry.log_filter = "warn".to_owned();
    config.cluster.token = "bench".to_owned();
    prepare_index(&config, &db).await;
    settle_group_alerts(&db).await;
    let original_pool = server_variable(&db, "innodb_buffer_pool_size").await;
    empty_buffer_pool(&db, env_or("BENCH_BUFFER_POOL_MIB", 8_192)).await;
    println!(
        "InnoDB buffer pool emptied and sized to {:.2} GiB ({} pages of data left)",
        server_variable(&db, "innodb_buffer_pool_size").await.parse::<f64>().unwrap_or(0.0) / f64::from(1 << 30),
        buffer_pool_data_pages(&db).await
    );
    let services: BTreeSet<ServiceKind> =
        [ServiceKind::Customer, ServiceKind::Group, ServiceKind::Campaign].into_iter().collect();
    let server = Server::start(config, &services).await.expect("scrm starts on the bench database");
    let base = format!("http://{}", server.local_addr());
    let client = reqwest::Client::builder().pool_max_idle_per_host(1024).build().unwrap();

    let ids = random_customers((rate * seconds) as usize, shape.customers);
    println!("GET /api/crm/customers/{{wxId}}, open loop at {rate} req/s for {seconds} s per phase:");
    open_loop_phase("cold", (&client, &base), &db, &ids, rate, seconds).await;
    open_loop_phase("warm", (&client, &base), &db, &ids, rate, seconds).await;

    println!("GET /api/crm/customers/{{wxId}}, closed loop over random customers, {step_seconds} s per step:");
    let (sustainable, endpoint_best) = {
        let (client, base) = (client.clone(), base.clone());
        sweep("endpoint", step_seconds, move |draw| {
            let (client, base) = (client.clone(), base.clone());
            async move { get_profile(&client, &base, &external_userid(draw % shape.customers)).await }
        })
        .await
    };
    println!("MariaDB PK lookups of customer_contact (16 connections), {step_seconds} s per step:");
    let (_, pk_best) = {
        let pool = db.pool().clone();
        sweep("PK lookup", step_seconds, move |draw| {
            let pool = pool.clone();
            async move {
                sqlx::query(
                    "SELECT external_userid, name, avatar, unionid, store_id FROM customer_contact \
                     WHERE external_userid = ?",
                )
                .bind(external_userid(draw % shape.customers))
                .fetch_optional(&pool)
                .await
                .is_ok_and(|row| row.is_some())
            }
        })
        .await
    };
    match sustainable {
        Some(sustainable) => println!(
            "endpoint sustainable throughput (p99 <= 20 ms): {sustainable:.0} req/s; MariaDB PK lookups: {pk_best:.0}/s; \
             ratio {:.3}",
            sustainable / pk_best
        ),
        None => println!(
            "endpoint kept p99 <= 20 ms at no step; best {endpoint_best:.0} req/s; MariaDB PK lookups: {pk_best:.0}/s; \
             ratio {:.3}",
            endpoint_best / pk_best
        ),
    }
    println!("load average at end: {}", load_average());
    sqlx::query(sqlx::AssertSqlSafe(format!("SET GLOBAL innodb_buffer_pool_size = {original_pool}")))
        .execute(db.pool())
        .await
        .expect("the buffer pool size is restored");
    // The client's idle keep-alive connections would hold the server's graceful stop open indefinitely.
    drop(client);
    server.stop().await.expect("scrm stops");
}
