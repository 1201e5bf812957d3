//! Crash test of the broadcast fan-out on the real binary: `kill -9` in the middle of a 2,000-group fan-out,
//! restart on the same data, and count the simulator's tasks (the simulator lives in this test process, so
//! it survives the kill): every group gets exactly one task, none is left out.

mod common;

use std::collections::BTreeSet;
use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use scrm_proto::group::v1::ListGroupsRequest;
use scrm_proto::group::v1::group_service_client::GroupServiceClient;
use scrm_proto::identity::v1::identity_service_client::IdentityServiceClient;
use scrm_proto::identity::v1::{StartSyncRequest, SyncScope};
use scrm_wecom_sim::{SimConfig, Simulator, World, WorldSize};

const CORP_ID: &str = "wwsimcorp0000000001";
const SECRET: &str = "sim-secret";

fn free_address() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap()
}

/// Starts `scrm serve` on the simulator and waits until `/healthz` answers.
async fn serve(data_dir: &std::path::Path, address: SocketAddr, sim_url: &str) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_scrm"));
    for (key, _) in std::env::vars().filter(|(key, _)| key.starts_with("SCRM_")) {
        command.env_remove(key);
    }
    let child = command
        .args(["serve", "--listen", &address.to_string(), "--data-dir"])
        .arg(data_dir)
        // Requests without a credential act as the local operator (`auth.local_caller`, for tests).
        .env("SCRM_AUTH_LOCAL_CALLER", "true")
        .env("RUST_LOG", "warn")
        .env("SCRM_WECOM_API_BASE", sim_url)
        .env("SCRM_WECOM_CORP_ID", CORP_ID)
        .env("SCRM_WECOM_SECRET", SECRET)
        .env("SCRM_WECOM_DEMO", "false")
        // Small tasks and a modest rate make the fan-out long enough to be killed in its middle.
        .env("SCRM_BROADCAST_MAX_CHATS_PER_TASK", "4")
        .env("SCRM_BROADCAST_RATE_PER_MINUTE", "3000")
        .env("SCRM_BROADCAST_LEASE_MS", "1500")
        .env("SCRM_BROADCAST_TICK_MS", "50")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the scrm binary starts");
    common::healthy(child, address, "scrm", 300).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_fanout_then_restart_gives_every_group_exactly_one_task() {
    let size = WorldSize { departments: 5, staff: 120, customers: 3_000, groups: 2_000 };
    let sim = Simulator::new(SimConfig::default(), World::generate(23, size));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(scrm_wecom_sim::serve(listener, Arc::clone(&sim)));

    let data_dir = tempfile::tempdir().unwrap();
    let address = free_address();
    let mut first = serve(data_dir.path(), address, &sim_url).await;
    let channel = tonic::transport::Channel::from_shared(format!("http://{address}")).unwrap().connect().await.unwrap();
    let mut sync = IdentityServiceClient::new(channel.clone())
        .start_sync(StartSyncRequest { scope: SyncScope::Full as i32 })
        .await
        .unwrap()
        .into_inner();
    while sync.message().await.unwrap().is_some() {}

    let mut groups = GroupServiceClient::new(channel);
    let (mut ids, mut chat_ids, mut page_token) = (Vec::new(), BTreeSet::new(), String::new());
    loop {
        let page = groups
            .list_groups(ListGroupsRequest { page_size: 200, page_token, ..ListGroupsRequest::default() })
            .await
            .unwrap()
            .into_inner();
        for group in page.groups {
            ids.push(group.id);
            chat_ids.insert(group.chat_id);
        }
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    assert!(ids.len() >= 1_900, "a 2,000-group fan-out ({} live groups)", ids.len());

    let http = reqwest::Client::new();
    let created: serde_json::Value = http
        .post(format!("http://{address}/api/social/groups/broadcast"))
        .header("Idempotency-Key", "crash-test")
        .json(&serde_json::json!({ "groupIds": ids, "msgType": "text", "content": "会员日福利，今晚8点开抢！" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_i64().unwrap_or_else(|| panic!("created: {created}"));

    // Kill once a good part, but not all, of the tasks exist in WeCom.
    loop {
        let made = sim.stats().calls.get("externalcontact/add_msg_template").copied().unwrap_or(0);
        if made >= 100 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    first.kill().expect("kill -9");
    first.wait().unwrap();
    let at_kill = sim.group_msg_tasks_per_chat();
    assert!(
        at_kill.len() < chat_ids.len(),
        "the kill came mid-way ({} of {} groups had a task)",
        at_kill.len(),
        chat_ids.len()
    );

    let mut second = serve(data_dir.path(), address, &sim_url).await;
    let mut report = serde_json::Value::Null;
    for _ in 0..600 {
        report = http
            .get(format!("http://{address}/api/social/groups/broadcast/{id}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let report_part = &report["report"];
        if report_part["tasksTotal"].as_i64().is_some_and(|total| total > 0)
            && report_part["tasksCreated"] == report_part["tasksTotal"]
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    second.kill().unwrap();
    second.wait().unwrap();
    assert_eq!(report["report"]["tasksCreated"], report["report"]["tasksTotal"], "{report}");

    let counts = sim.group_msg_tasks_per_chat();
    let twice: Vec<_> = counts.iter().filter(|(_, count)| **count > 1).collect();
    assert!(twice.is_empty(), "groups with two tasks: {twice:?}");
    let missing: Vec<_> = chat_ids.iter().filter(|chat_id| !counts.contains_key(*chat_id)).collect();
    assert!(missing.is_empty(), "groups left out: {missing:?}");
    assert_eq!(counts.len(), chat_ids.len());
}
