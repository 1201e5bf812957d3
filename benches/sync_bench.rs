//! The full WeCom sync at benchmark size: a simulated corp of 50 departments, 2,000 staff, 200,000 customers
//! and 20,000 groups (`WorldSize::BENCH`) served by the WeCom simulator at its default rate limits (10,000
//! calls per API per minute, WeCom's documented per-corp limit), synced by an all-in-one scrm process on
//! SQLite. Prints the wall time, the WeCom API calls by API and the calls lost to rate limits (45009), checks
//! the database against the simulated world, then runs a second sync and checks that it changed nothing.
//!
//! Run on demand (it takes minutes): `cargo run --release -p scrm-benches --bin sync_bench`.
//! `--demo` syncs the 500-customer demo corp instead, for a quick look.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use scrm::sync_tally::Tally;
use scrm::{Config, Server};
use scrm_proto::identity::v1::identity_service_client::IdentityServiceClient;
use scrm_proto::identity::v1::{StartSyncRequest, SyncEntityCounts, SyncProgress, SyncScope, SyncState};
use scrm_wecom_sim::{SimConfig, Simulator, World, WorldSize};
use tonic::transport::Channel;

/// Runs one full sync, printing a progress line every few seconds; returns the last progress message.
async fn sync(channel: Channel) -> anyhow::Result<(SyncProgress, Duration)> {
    let started = Instant::now();
    let mut identity = IdentityServiceClient::new(channel);
    let mut stream = identity.start_sync(StartSyncRequest { scope: SyncScope::Full as i32 }).await?.into_inner();
    let mut last = None;
    let mut printed = Instant::now();
    while let Some(message) = stream.message().await? {
        let progress = message.progress.context("a progress message without progress")?;
        if printed.elapsed() >= Duration::from_secs(5) {
            printed = Instant::now();
            eprintln!(
                "  {:>6.1}s {:>5.1}% {} (API calls {}, lost to rate limits {})",
                started.elapsed().as_secs_f64(),
                progress.percent,
                progress.message,
                progress.api_calls,
                progress.rate_limited_calls
            );
        }
        last = Some(progress);
    }
    Ok((last.context("the sync stream ended without a message")?, started.elapsed()))
}

fn entity(name: &str, counts: Option<SyncEntityCounts>) -> String {
    let counts = counts.unwrap_or_default();
    format!(
        "{name:<18} seen {:>8}  created {:>8}  updated {:>6}  unchanged {:>8}  deleted {:>4}",
        counts.seen, counts.created, counts.updated, counts.unchanged, counts.deleted
    )
}

fn print_run(label: &str, progress: &SyncProgress, wall: Duration, calls: &BTreeMap<String, u64>) {
    println!("{label}: {:?} in {:.1} s", progress.state(), wall.as_secs_f64());
    println!(
        "  WeCom API calls: {} (the run's count), lost to rate limits (45009): {}",
        progress.api_calls, progress.rate_limited_calls
    );
    for (api, count) in calls {
        println!("    {api:<40} {count:>8}");
    }
    let counts = progress.counts.unwrap_or_default();
    for (name, entity_counts) in [
        ("departments", counts.departments),
        ("staff", counts.staff),
        ("external contacts", counts.external_contacts),
        ("follow relations", counts.follow_users),
        ("groups", counts.group_chats),
    ] {
        println!("  {}", entity(name, entity_counts));
    }
}

fn changed_nothing(progress: &SyncProgress) -> bool {
    let counts = progress.counts.unwrap_or_default();
    [counts.departments, counts.staff, counts.external_contacts, counts.group_chats].into_iter().all(|counts| {
        let counts = counts.unwrap_or_default();
        counts.created == 0 && counts.updated == 0 && counts.deleted == 0 && counts.unchanged == counts.seen
    }) && counts.follow_users.is_some_and(|follow| follow.created == 0 && follow.deleted == 0)
}

fn calls_between(before: &BTreeMap<String, u64>, after: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    let apis: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    apis.into_iter()
        .map(|api| (api.clone(), after.get(api).copied().unwrap_or(0) - before.get(api).copied().unwrap_or(0)))
        .filter(|(_, count)| *count > 0)
        .collect()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let size = if std::env::args().any(|arg| arg == "--demo") { WorldSize::DEMO } else { WorldSize::BENCH };
    let generated = Instant::now();
    let sim_config = SimConfig::default();
    let world = World::generate(sim_config.seed, size);
    let expected = Tally::expected(&world);
    println!("world {size:?} generated in {:.1} s: expecting {expected:?}", generated.elapsed().as_secs_f64());
    let sim = Simulator::new(sim_config.clone(), world);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let sim_url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(scrm_wecom_sim::serve(listener, sim.clone()));

    let data_dir = tempfile::tempdir()?;
    let mut config = Config { data_dir: data_dir.path().to_path_buf(), ..Config::default() };
    config.server.listen = "127.0.0.1:0".parse()?;
    config.server.static_dir = data_dir.path().join("no-admin");
    config.wecom.demo = false;
    // Calls without a credential act as the configured local caller (benches measure the work, not sign-in).
    config.auth.local_caller = true;
    config.wecom.api_base = sim_url;
    config.wecom.corp_id = sim_config.corp_id.clone();
    config.wecom.secret = sim_config.corp_secrets[0].clone();
    let server = Server::start(config.clone(), &BTreeSet::new()).await?;
    let channel = Channel::from_shared(format!("http://{}", server.local_addr()))?.connect().await?;
    let db = scrm::app::open_database(&config).await?;

    let before = sim.stats();
    let (first, wall) = sync(channel.clone()).await?;
    let after = sim.stats();
    print_run("first sync", &first, wall, &calls_between(&before.calls, &after.calls));
    let lost = after.errcodes.get(&45009).copied().unwrap_or(0) - before.errcodes.get(&45009).copied().unwrap_or(0);
    println!("  the simulator answered 45009 {lost} times");
    ensure!(first.state() == SyncState::Succeeded, "the first sync did not succeed: {}", first.error_message);
    let tally = Tally::stored(&db).await?;
    println!("  database: {tally:?}");
    ensure!(tally == expected, "the database differs from the world: {tally:?} != {expected:?}");

    let before = sim.stats();
    let (second, wall) = sync(channel).await?;
    let after = sim.stats();
    print_run("second sync", &second, wall, &calls_between(&before.calls, &after.calls));
    ensure!(second.state() == SyncState::Succeeded, "the second sync did not succeed: {}", second.error_message);
    ensure!(changed_nothing(&second), "the second sync changed something");
    let again = Tally::stored(&db).await?;
    ensure!(again == expected, "the database changed in the second sync: {again:?}");
    println!("second sync changed nothing; the database still matches the world");
    server.stop().await?;
    Ok(())
}
