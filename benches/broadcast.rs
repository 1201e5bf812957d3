//! Broadcast fan-out load generator (issue 5, PR06): 10,000 groups owned by about 500 staff, on the WeCom
//! simulator with its default rate limit (10,000 calls per API per minute).
//!
//! 1. **Fan-out time**: from `scheduledTime` until every `add_msg_template` task exists in the simulator,
//!    against the minimum the simulator's rate limit allows (tasks / 10,000 per minute) and the minimum scrm's
//!    own configured limit allows (`broadcast.rate_per_minute`, set below WeCom's). Every group must end with
//!    exactly one task.
//! 2. **Delivery rate** with 5% of WeCom calls failing transiently (errcode -1), owners auto-confirming and
//!    no quota conflicts: delivered / targeted (goal ≥ 99.9%), and every undelivered group with its reason.
//!
//! Run: `cargo bench -p scrm-benches --bench broadcast` (prints the figures; not a criterion bench, since one
//! run is seconds to minutes of wall time shaped by the rate limit). `BENCH_DB=mysql` runs on a fresh MariaDB
//! database (`SCRM_TEST_MYSQL_URL`, default `mysql://root@127.0.0.1:3306/test`) instead of the embedded SQLite.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use scrm::{Config, Server};
use scrm_kernel::Role;
use scrm_proto::group::v1::ListGroupsRequest;
use scrm_proto::group::v1::group_service_client::GroupServiceClient;
use scrm_proto::identity::v1::identity_service_client::IdentityServiceClient;
use scrm_proto::identity::v1::{StartSyncRequest, SyncScope};
use scrm_proto::messaging::v1::messaging_service_client::MessagingServiceClient;
use scrm_proto::messaging::v1::{
    BroadcastMsgType, BroadcastState, BroadcastTargets, CreateBroadcastRequest, GetBroadcastRequest,
    ListBroadcastGroupResultsRequest,
};
use scrm_storage::Dialect;
use scrm_storage::testing::TestDb;
use scrm_wecom_sim::{Faults, SimConfig, Simulator, World, WorldSize};
use tonic::transport::Channel;

/// The simulator's default per-API limit.
const SIM_LIMIT_PER_MINUTE: f64 = 10_000.0;
/// 10,000 groups; staff sized so that about 500 of them own groups.
const SIZE: WorldSize = WorldSize { departments: 20, staff: 573, customers: 20_000, groups: 10_000 };

struct Run {
    sim: Arc<Simulator>,
    server: Server,
    channel: Channel,
    db: TestDb,
    _data_dir: tempfile::TempDir,
}

impl Run {
    async fn stop(self) {
        self.server.stop().await.unwrap();
        self.db.cleanup().await;
    }
}

async fn start(dialect: Dialect, faults: Faults) -> Run {
    let sim = Simulator::new(SimConfig::default(), World::generate(5, SIZE));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(scrm_wecom_sim::serve(listener, sim.clone()));
    let db = TestDb::new(dialect).await;
    let data_dir = tempfile::tempdir().unwrap();
    let mut config = Config { data_dir: data_dir.path().to_path_buf(), ..Config::default() };
    config.database.url = db.url();
    config.server.listen = "127.0.0.1:0".parse().unwrap();
    config.server.static_dir = data_dir.path().join("no-admin");
    config.wecom.demo = false;
    // Calls without a credential act as the configured local caller (benches measure the work, not sign-in).
    config.auth.local_caller = true;
    config.wecom.api_base = sim_url;
    config.wecom.corp_id = "wwsimcorp0000000001".into();
    config.wecom.secret = "sim-secret".into();
    config.caller.role = Role::Operator;
    config.broadcast.tick_ms = 50;
    config.broadcast.result_poll_ms = 1_000;
    let server = Server::start(config, &BTreeSet::new()).await.unwrap();
    let channel = Channel::from_shared(format!("http://{}", server.local_addr())).unwrap().connect().await.unwrap();
    let mut sync = IdentityServiceClient::new(channel.clone())
        .start_sync(StartSyncRequest { scope: SyncScope::Full as i32 })
        .await
        .unwrap()
        .into_inner();
    while sync.message().await.unwrap().is_some() {}
    // Faults start after the sync: they are about the broadcast.
    sim.set_faults(faults);
    Run { sim, server, channel, db, _data_dir: data_dir }
}
/// The live groups: their ids, their chat ids and how many owners they have.
async fn group_ids(channel: &Channel) -> (Vec<i64>, BTreeSet<String>, usize) {
    let mut groups = GroupServiceClient::new(channel.clone());
    let (mut ids, mut chat_ids, mut owners, mut page_token) =
        (Vec::new(), BTreeSet::new(), BTreeSet::new(), String::new());
    loop {
        let page = groups
            .list_groups(ListGroupsRequest { page_size: 200, page_token, ..ListGroupsRequest::default() })
            .await
            .unwrap()
            .into_inner();
        for group in page.groups {
            ids.push(group.id);
            chat_ids.insert(group.chat_id);
            owners.insert(group.owner);
        }
        if page.next_page_token.is_empty() {
            return (ids, chat_ids, owners.len());
        }
        page_token = page.next_page_token;
    }
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64
}

/// Creates a broadcast to `ids` at now + 3 s; returns its id and the scheduled time (Unix ms).
async fn create(channel: &Channel, ids: Vec<i64>, key: &str) -> (i64, i64) {
    let at = now_ms() + 3_000;
    let broadcast = MessagingServiceClient::new(channel.clone())
        .create_broadcast(CreateBroadcastRequest {
            targets: Some(BroadcastTargets { group_ids: ids, ..BroadcastTargets::default() }),
            msg_type: BroadcastMsgType::Text as i32,
            content: "会员日福利：今晚8点盲盒秒杀，群内专享价！".into(),
            scheduled_at: Some(prost_types::Timestamp { seconds: at / 1000, nanos: ((at % 1000) * 1_000_000) as i32 }),
            idempotency_key: key.into(),
            ..CreateBroadcastRequest::default()
        })
        .await
        .unwrap()
        .into_inner()
        .broadcast
        .unwrap();
    (broadcast.id, at)
}

/// Waits until every group of `chat_ids` has a task in the simulator (or 5 minutes passed); returns when
/// (Unix ms), how many groups have a task and the most tasks any group got.
async fn all_tasks_exist(sim: &Simulator, chat_ids: &BTreeSet<String>) -> (i64, usize, usize) {
    let started = Instant::now();
    loop {
        let counts = sim.group_msg_tasks_per_chat();
        let with_task = chat_ids.iter().filter(|chat_id| counts.contains_key(*chat_id)).count();
        if with_task == chat_ids.len() || started.elapsed() > Duration::from_secs(300) {
            return (now_ms(), with_task, counts.values().copied().max().unwrap_or(0));
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg").unwrap_or_default().trim().to_owned()
}

#[tokio::main]
async fn main() {
    let dialect = match std::env::var("BENCH_DB").as_deref() {
        Ok("mysql") => Dialect::MySql,
        _ => Dialect::Sqlite,
    };
    println!("store: {dialect:?}; load average before: {}", load());
    // 1. Fan-out time at the default rate limit, no faults.
    let run = start(dialect, Faults::default()).await;
    let (ids, chat_ids, owners) = group_ids(&run.channel).await;
    let (id, at) = create(&run.channel, ids.clone(), "bench-fanout").await;
    let (done_at, with_task, most) = all_tasks_exist(&run.sim, &chat_ids).await;
    let tasks = run.sim.stats().calls.get("externalcontact/add_msg_template").copied().unwrap_or(0);
    let report = MessagingServiceClient::new(run.channel.clone())
        .get_broadcast(GetBroadcastRequest { id })
        .await
        .unwrap()
        .into_inner()
        .broadcast
        .unwrap()
        .report
        .unwrap();
    let took = (done_at - at) as f64 / 1000.0;
    let planned = f64::from(report.tasks_total);
    let sim_minimum = planned * 60.0 / SIM_LIMIT_PER_MINUTE;
    let own_limit = f64::from(scrm_messaging::BroadcastConfig::default().rate_per_minute);
    let own_minimum = planned * 60.0 / own_limit;
    println!("fan-out: {} groups, {owners} owners, {} tasks planned", ids.len(), report.tasks_total);
    println!("  scheduledTime → every group's task exists in WeCom: {took:.2} s (load average: {})", load());
    println!("  minimum at the simulator's 10,000/min: {sim_minimum:.2} s → ratio {:.2}", took / sim_minimum);
    println!("  minimum at scrm's configured {own_limit}/min: {own_minimum:.2} s → ratio {:.2}", took / own_minimum);
    println!("  groups with a task: {with_task}; most tasks naming one group: {most} (must be 1)");
    println!("  add_msg_template calls: {tasks}");
    println!("  simulator errcodes: {:?}", run.sim.stats().errcodes);
    assert_eq!((with_task, most), (chat_ids.len(), 1), "every group gets exactly one task");
    run.stop().await;

    // 2. Delivery rate with 5% transient faults, owners auto-confirming, no quota conflicts (a fresh corp).
    let faults = Faults { error_rate: 0.05, ..Faults::default() };
    let run = start(dialect, faults).await;
    let (ids, chat_ids, _) = group_ids(&run.channel).await;
    let started = Instant::now();
    let (id, at) = create(&run.channel, ids.clone(), "bench-delivery").await;
    let (done_at, with_task, most) = all_tasks_exist(&run.sim, &chat_ids).await;
    println!(
        "delivery run (5% faults): {with_task} of {} groups got a task after {:.2} s; most tasks naming one group: {most}",
        chat_ids.len(),
        (done_at - at) as f64 / 1000.0
    );
    let mut messaging = MessagingServiceClient::new(run.channel.clone());
    let broadcast = loop {
        let broadcast =
            messaging.get_broadcast(GetBroadcastRequest { id }).await.unwrap().into_inner().broadcast.unwrap();
        if broadcast.state == BroadcastState::Completed as i32 || started.elapsed() > Duration::from_secs(600) {
            break broadcast;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let report = broadcast.report.unwrap();
    println!(
        "delivery with 5% transient faults: {} / {} groups delivered = {:.2}% (state {}, {:.0} s)",
        report.delivered_groups,
        report.targeted_groups,
        f64::from(report.delivery_rate_bps) / 100.0,
        broadcast.state,
        started.elapsed().as_secs_f64()
    );
    let mut reasons: BTreeMap<(i32, i32, String), usize> = BTreeMap::new();
    let mut page_token = String::new();
    loop {
        let page = messaging
            .list_broadcast_group_results(ListBroadcastGroupResultsRequest {
                broadcast_id: id,
                page_size: 200,
                page_token,
                outcomes: (1..=9).filter(|outcome| *outcome != 3).collect(),
                ..ListBroadcastGroupResultsRequest::default()
            })
            .await
            .unwrap()
            .into_inner();
        for result in page.results {
            *reasons.entry((result.outcome, result.errcode, result.errmsg)).or_default() += 1;
        }
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    for ((outcome, errcode, errmsg), count) in reasons {
        println!("  undelivered: {count} groups, outcome {outcome}, errcode {errcode}: {errmsg}");
    }
    println!("  simulator errcodes: {:?}; load average after: {}", run.sim.stats().errcodes, load());
    run.stop().await;
}
