//! Kill -9 during a full WeCom sync, restart: the real `scrm serve` resumes the run from its checkpoint, and
//! the database ends up holding exactly the simulated corp — nothing lost, nothing duplicated — and a second
//! run changes nothing.

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use scrm::sync_tally::Tally;
use scrm_proto::identity::v1::identity_service_client::IdentityServiceClient;
use scrm_proto::identity::v1::{GetSyncRunRequest, StartSyncRequest, SyncPhase, SyncProgress, SyncScope, SyncState};
use scrm_wecom_sim::{Faults, SimConfig, Simulator, World, WorldSize};
use tonic::transport::Channel;

/// Mid-size: large enough that a sync takes seconds with the simulator's added latency.
const SIZE: WorldSize = WorldSize { departments: 12, staff: 100, customers: 2_000, groups: 800 };
/// Latency the simulator adds to every call.
const LATENCY_MS: u64 = 30;

/// The synced row counts in the database of `data_dir`.
async fn stored(data_dir: &Path) -> Tally {
    let config = scrm::Config { data_dir: data_dir.to_path_buf(), ..scrm::Config::default() };
    let db = scrm::app::open_database(&config).await.expect("the database opens");
    let tally = Tally::stored(&db).await.expect("the rows are counted");
    db.pool().close().await;
    tally
}

fn free_address() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap()
}

/// Starts `scrm serve` against the simulator at `sim_url` and waits until it answers gRPC.
async fn serve(data_dir: &Path, address: SocketAddr, sim_url: &str) -> (Child, Channel) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_scrm"));
    for (key, _) in std::env::vars().filter(|(key, _)| key.starts_with("SCRM_")) {
        command.env_remove(key);
    }
    let defaults = SimConfig::default();
    let mut child = command
        .args(["serve", "--listen", &address.to_string(), "--data-dir"])
        .arg(data_dir)
        // Requests without a credential act as the local operator (`auth.local_caller`, for tests).
        .env("SCRM_AUTH_LOCAL_CALLER", "true")
        .env("RUST_LOG", "warn")
        .env("SCRM_WECOM_API_BASE", sim_url)
        .env("SCRM_WECOM_CORP_ID", &defaults.corp_id)
        .env("SCRM_WECOM_SECRET", &defaults.corp_secrets[0])
        .stdout(Stdio::null())
        .spawn()
        .expect("scrm serve starts");
    for _ in 0..500 {
        if let Ok(channel) = Channel::from_shared(format!("http://{address}")).unwrap().connect().await {
            return (child, channel);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("scrm serve did not accept connections within 10 s");
}

fn kill_9(child: &mut Child) {
    let status = Command::new("kill").args(["-KILL", &child.id().to_string()]).status().unwrap();
    assert!(status.success(), "SIGKILL could be sent");
    child.wait().expect("the killed process is reaped");
}

/// Waits until run `id` ends; returns its last state.
async fn finished_run(channel: Channel, id: i64) -> scrm_proto::identity::v1::SyncRun {
    let mut identity = IdentityServiceClient::new(channel);
    for _ in 0..1_200 {
        let run = identity.get_sync_run(GetSyncRunRequest { sync_run_id: id }).await.unwrap().into_inner().run.unwrap();
        if run.state() != SyncState::Running {
            return run;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("sync run {id} did not end within 2 minutes of the restart");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_killed_mid_way_resumes_after_restart_with_nothing_lost_or_duplicated() {
    let config = SimConfig { faults: Faults { latency_ms: LATENCY_MS, ..Faults::default() }, ..SimConfig::default() };
    let world = World::generate(config.seed, SIZE);
    let expected = Tally::expected(&world);
    let sim: Arc<Simulator> = Simulator::new(config, world);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(scrm_wecom_sim::serve(listener, sim.clone()));
    let data_dir = tempfile::tempdir().unwrap();
    let address = free_address();

    let (mut first, channel) = serve(data_dir.path(), address, &sim_url).await;
    let mut stream = IdentityServiceClient::new(channel)
        .start_sync(StartSyncRequest { scope: SyncScope::Full as i32 })
        .await
        .expect("StartSync answers")
        .into_inner();
    // Kill once the group phase wrote its first batch (500 groups) and is well into the next one.
    let mut killed_at: Option<SyncProgress> = None;
    while let Some(message) = stream.message().await.expect("the progress stream is healthy") {
        let progress = message.progress.unwrap();
        assert_eq!(progress.state(), SyncState::Running, "the run ended before the kill: {progress:?}");
        if progress.phase() == SyncPhase::GroupChats && progress.phase_done >= 600 {
            killed_at = Some(progress);
            kill_9(&mut first);
            break;
        }
    }
    let killed_at = killed_at.expect("the kill happened during the group phase");
    let id = killed_at.sync_run_id;
    let partial = stored(data_dir.path()).await;
    assert!(partial.groups > 0 && partial.groups < expected.groups, "killed mid-way: {partial:?}");
    assert_eq!(partial.customers, expected.customers, "contacts were done before groups: {partial:?}");

    let (mut second, channel) = serve(data_dir.path(), address, &sim_url).await;
    let run = finished_run(channel.clone(), id).await;
    assert_eq!(run.state(), SyncState::Succeeded, "{run:?}");
    assert_eq!(run.resume_count, 1);
    let counts = run.counts.unwrap();
    assert_eq!(counts.group_chats.unwrap().seen, expected.groups);
    assert_eq!(counts.external_contacts.unwrap().seen, expected.customers);
    assert!(run.api_calls > killed_at.api_calls, "calls of both processes are counted: {run:?}");
    assert_eq!(stored(data_dir.path()).await, expected, "the database holds exactly the simulated corp");

    let mut stream = IdentityServiceClient::new(channel)
        .start_sync(StartSyncRequest { scope: SyncScope::Full as i32 })
        .await
        .unwrap()
        .into_inner();
    let mut last = None;
    while let Some(message) = stream.message().await.unwrap() {
        last = message.progress;
    }
    let last = last.unwrap();
    assert_eq!(last.state(), SyncState::Succeeded, "{last:?}");
    assert_ne!(last.sync_run_id, id, "a new run, not the resumed one");
    let again = last.counts.unwrap();
    for counts in [again.departments, again.staff, again.external_contacts, again.group_chats] {
        let counts = counts.unwrap();
        assert_eq!((counts.created, counts.updated, counts.deleted), (0, 0, 0), "{again:?}");
    }
    assert_eq!(again.follow_users.unwrap().created, 0);
    assert_eq!(stored(data_dir.path()).await, expected);
    kill_9(&mut second);
}
