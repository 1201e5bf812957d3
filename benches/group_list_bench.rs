//! The group list (PR04) at scale: 100,000 groups of 200 owners in 50 stores, pages of 20 through
//! `GroupService.ListGroups` (in process, the gRPC service as mounted) with the filters operators use: by
//! owner, by store and activity band, by name, by alert state, and unfiltered by 30-day messages, each also
//! followed to its second page. Prints p50/p99/max per query and overall, on SQLite and on MySQL
//! (`SCRM_TEST_MYSQL_URL`, default `mysql://root@127.0.0.1:3306/test`; a scratch database is made and dropped),
//! with the load average beside the figures.
//!
//! Run on demand: `cargo run --release -p scrm-benches --bin group_list_bench [-- --groups 100000 --rounds 100]`.

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use scrm_group::SystemClock;
use scrm_kernel::Caller;
use scrm_kernel::rpc::RpcChannel;
use scrm_proto::group::v1::group_service_client::GroupServiceClient;
use scrm_proto::group::v1::{ActivityBand, GroupAlertState, GroupSortField, ListGroupsRequest};
use scrm_storage::Dialect;
use scrm_storage::testing::TestDb;
use sqlx::QueryBuilder;

const OWNERS: usize = 200;
const STORES: usize = 50;
const ROWS_PER_INSERT: usize = 500;

fn argument(name: &str, default: usize) -> anyhow::Result<usize> {
    let args: Vec<String> = std::env::args().collect();
    Ok(args
        .iter()
        .position(|arg| arg == name)
        .and_then(|at| args.get(at + 1))
        .map(|n| n.parse())
        .transpose()?
        .unwrap_or(default))
}

/// A deterministic spread of numbers for group `n`.
fn spread(n: usize, salt: u64) -> u64 {
    let mut x = (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ salt;
    x ^= x >> 31;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^ (x >> 29)
}

async fn seed(db: &scrm_storage::Db, groups: usize) -> anyhow::Result<()> {
    let now: i64 = 1_764_000_000_000;
    for start in (0..groups).step_by(ROWS_PER_INSERT) {
        let mut insert = QueryBuilder::new(
            "INSERT INTO group_chat (chat_id, name, owner_userid, store_id, member_count, customer_count, \
             staff_count, created_at, updated_at, messages_7d, messages_30d, speakers_7d, speakers_30d, \
             lurker_ratio_bps, activity_band, alert_state) ",
        );
        insert.push_values(start..(start + ROWS_PER_INSERT).min(groups), |mut row, n| {
            let members = 3 + (spread(n, 1) % 480) as i64;
            let messages_30d = (spread(n, 2) % 3000) as i64;
            let band = 2 + (spread(n, 3) % 4) as i32;
            let kind = ["会员福利群", "门店群", "宝妈交流群", "新品体验群"][n % 4];
            row.push_bind(format!("wr{n:08}"))
                .push_bind(format!("{kind}{n}"))
                .push_bind(format!("owner{}", n % OWNERS))
                .push_bind(format!("{}", 1 + n % STORES))
                .push_bind(members)
                .push_bind(members - 2)
                .push_bind(2_i64)
                .push_bind(now - (spread(n, 4) % 31_536_000_000) as i64)
                .push_bind(now)
                .push_bind(messages_30d / 4)
                .push_bind(messages_30d)
                .push_bind((members / 5).min(messages_30d / 8))
                .push_bind((members / 3).min(messages_30d / 4))
                .push_bind((spread(n, 5) % 10_000) as i64)
                .push_bind(band)
                .push_bind(if n % 17 == 0 { 2_i32 } else { 1_i32 });
        });
        insert.build().execute(db.pool()).await?;
    }
    Ok(())
}

/// The queries operators run, by name.
fn queries(round: usize) -> Vec<(&'static str, ListGroupsRequest)> {
    let page = |request: ListGroupsRequest| ListGroupsRequest { page_size: 20, ..request };
    vec![
        (
            "owner, by 7-day messages",
            page(ListGroupsRequest {
                owner_userids: vec![format!("owner{}", round % OWNERS)],
                sort_by: GroupSortField::Messages7d as i32,
                ..Default::default()
            }),
        ),
        (
            "store + band, by members",
            page(ListGroupsRequest {
                store_ids: vec![1 + (round % STORES) as i64],
                activity_bands: vec![ActivityBand::Medium as i32, ActivityBand::High as i32],
                sort_by: GroupSortField::MemberCount as i32,
                ..Default::default()
            }),
        ),
        (
            "name search, newest first",
            page(ListGroupsRequest { name_query: format!("福利群{}", round % 10), ..Default::default() }),
        ),
        (
            "alerting, by lurker ratio",
            page(ListGroupsRequest {
                alert_states: vec![GroupAlertState::Alerting as i32],
                sort_by: GroupSortField::LurkerRatio as i32,
                ..Default::default()
            }),
        ),
        (
            "all, by 30-day messages",
            page(ListGroupsRequest { sort_by: GroupSortField::Messages30d as i32, ..Default::default() }),
        ),
    ]
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

fn report(label: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "  {label:<28} n={:<5} p50 {:>7.2} ms  p99 {:>7.2} ms  max {:>7.2} ms",
        samples.len(),
        ms(percentile(&samples, 0.50)),
        ms(percentile(&samples, 0.99)),
        ms(*samples.last().unwrap_or(&Duration::ZERO))
    );
}

async fn run(dialect: Dialect, groups: usize, rounds: usize) -> anyhow::Result<()> {
    let test_db = TestDb::new(dialect).await;
    let db = test_db.db.clone();
    db.migrate(&scrm_group::MIGRATIONS).await?;
    let seeded = Instant::now();
    seed(&db, groups).await?;
    println!("{dialect:?}: {groups} groups seeded in {:.1} s", seeded.elapsed().as_secs_f64());
    let service = scrm_group::service_with_clock(
        db.clone(),
        scrm_group::SpeakerCounter::Exact,
        Arc::new(SystemClock),
        None,
        None,
    );
    let mut client = GroupServiceClient::new(RpcChannel::in_process(service));
    let caller = Caller::system("bench");
    let names: Vec<&str> = queries(0).iter().map(|(name, _)| *name).collect();
    let mut by_query: Vec<Vec<Duration>> = vec![Vec::new(); names.len()];
    for round in 0..rounds {
        for (at, (_, request)) in queries(round).into_iter().enumerate() {
            let started = Instant::now();
            let first = client.list_groups(caller.outgoing(request.clone())?).await?.into_inner();
            by_query[at].push(started.elapsed());
            if !first.next_page_token.is_empty() {
                let next = ListGroupsRequest { page_token: first.next_page_token, ..request };
                let started = Instant::now();
                client.list_groups(caller.outgoing(next)?).await?;
                by_query[at].push(started.elapsed());
            }
        }
    }
    for (name, samples) in names.iter().zip(&by_query) {
        report(name, samples.clone());
    }
    report("every page", by_query.into_iter().flatten().collect());
    test_db.cleanup().await;
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let groups = argument("--groups", 100_000)?;
    let rounds = argument("--rounds", 100)?;
    run(Dialect::Sqlite, groups, rounds).await?;
    run(Dialect::MySql, groups, rounds).await?;
    let uptime = Command::new("uptime").output().map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())?;
    println!("uptime: {uptime}");
    Ok(())
}
