//! The scale-out mode on the real binary: identity, customer, group, messaging and analytics each in its own
//! `scrm serve` process on one MariaDB database and Redis, plus a gateway process running none of them, all
//! wired by `cluster.*_url` and the cluster token. A user story runs through the gateway only: a WeCom sync,
//! a contact-way scan pushed to `/wecom/callback`, an order CSV import, a broadcast, a refused call; then the
//! customer process is killed with `kill -9`, restarted, and answers again. A second messaging process runs
//! beside the first, and every broadcast task is still created in WeCom exactly once.

mod common;

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use scrm_proto::group::v1::ListGroupsRequest;
use scrm_proto::group::v1::group_service_client::GroupServiceClient;
use scrm_wecom::{ContactWay, WeComClient, WeComConfig};
use scrm_wecom_sim::{CallbackConfig, SimConfig, Simulator, World, WorldSize};
use serde_json::{Value, json};
use sqlx::Connection;

const CALLBACK_TOKEN: &str = "split-callback-token";
const ENCODING_AES_KEY: &str = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";
const CLUSTER_TOKEN: &str = "split-cluster-token";
/// The services run one per process, each with its own gateway port.
const SERVICES: [&str; 5] = ["identity", "customer", "group", "messaging", "analytics"];

fn free_address() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap()
}

/// The shared settings of every process of the deployment.
struct Deployment {
    env: Vec<(String, String)>,
    root: tempfile::TempDir,
}

impl Deployment {
    fn command(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_scrm"));
        for (key, _) in std::env::vars().filter(|(key, _)| key.starts_with("SCRM_")) {
            command.env_remove(key);
        }
        command.env("RUST_LOG", "warn").envs(self.env.iter().map(|(key, value)| (key, value)));
        command
    }

    /// Starts `scrm serve --services <services>` on `address` and waits until `/healthz` answers.
    async fn serve(&self, name: &str, services: &str, address: SocketAddr) -> Child {
        let data_dir = self.root.path().join(name);
        let mut command = self.command();
        command.args(["serve", "--listen", &address.to_string(), "--data-dir"]).arg(&data_dir);
        if !services.is_empty() {
            command.args(["--services", services]);
        }
        let child = command.stdout(Stdio::null()).stderr(Stdio::inherit()).spawn().expect("scrm serve starts");
        common::healthy(child, address, &format!("the {name} process"), 600).await
    }

    /// Runs a one-shot `scrm` command and returns its standard output; panics when it fails.
    fn run(&self, args: &[&str], data_dir: &Path) -> String {
        let output = self.command().args(args).env("SCRM_DATA_DIR", data_dir).output().expect("scrm runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "scrm {args:?} failed: {stdout}{stderr}");
        String::from_utf8(output.stdout).unwrap()
    }
}

/// Kills every child process when the test ends, also on a failed assertion.
struct Processes(Vec<(String, Child)>);

impl Drop for Processes {
    fn drop(&mut self) {
        for (_, child) in &mut self.0 {
            child.kill().ok();
            child.wait().ok();
        }
    }
}

/// A fresh MariaDB database for this test; the server comes from `SCRM_TEST_MYSQL_URL`.
async fn fresh_database() -> (String, String) {
    let server = std::env::var("SCRM_TEST_MYSQL_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into());
    let name = format!("scrm_split_{}", std::process::id());
    let mut connection = sqlx::MySqlConnection::connect(&server).await.expect("MariaDB is reachable");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name}; CREATE DATABASE {name}")))
        .execute(&mut connection)
        .await
        .unwrap();
    let base = server.rsplit_once('/').map_or(server.as_str(), |(base, _)| base).to_owned();
    (format!("{base}/{name}"), name)
}

/// Polls `probe` until it gives `Some`, for at most 30 s.
async fn eventually<T>(what: &str, mut probe: impl AsyncFnMut() -> Option<T>) -> T {
    for _ in 0..300 {
        if let Some(value) = probe().await {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what} did not happen within 30 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_service_per_process_serves_the_whole_user_story_through_the_gateway() {
    let (database_url, database) = fresh_database().await;
    let gateway = free_address();
    let addresses: Vec<SocketAddr> = SERVICES.iter().map(|_| free_address()).collect();

    let size = WorldSize { departments: 3, staff: 10, customers: 60, groups: 8 };
    let callback = CallbackConfig {
        url: format!("http://{gateway}/wecom/callback"),
        token: CALLBACK_TOKEN.into(),
        encoding_aes_key: ENCODING_AES_KEY.into(),
        timeout_ms: 5_000,
        retries: 3,
    };
    let defaults = SimConfig::default();
    let (corp_id, secret) = (defaults.corp_id.clone(), defaults.corp_secrets[0].clone());
    let sim = Simulator::new(SimConfig { callback: Some(callback), ..defaults }, World::generate(5, size));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(scrm_wecom_sim::serve(listener, Arc::clone(&sim)));

    let redis = std::env::var("SCRM_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let mut env: Vec<(String, String)> = vec![
        ("SCRM_DATABASE_URL".into(), database_url),
        ("SCRM_CACHE_REDIS_URL".into(), redis),
        ("SCRM_CACHE_KEY_PREFIX".into(), format!("{database}:")),
        ("SCRM_CLUSTER_TOKEN".into(), CLUSTER_TOKEN.into()),
        ("SCRM_WECOM_API_BASE".into(), sim_url.clone()),
        ("SCRM_WECOM_CORP_ID".into(), corp_id.clone()),
        ("SCRM_WECOM_SECRET".into(), secret.clone()),
        ("SCRM_WECOM_CALLBACK_TOKEN".into(), CALLBACK_TOKEN.into()),
        ("SCRM_WECOM_ENCODING_AES_KEY".into(), ENCODING_AES_KEY.into()),
        ("SCRM_WECOM_AGENT_ID".into(), "1000002".into()),
        ("SCRM_WECOM_DEMO".into(), "false".into()),
        ("SCRM_BROADCAST_TICK_MS".into(), "50".into()),
        // One group per task: many small tasks for the two messaging replicas to compete for.
        ("SCRM_BROADCAST_MAX_CHATS_PER_TASK".into(), "1".into()),
    ];
    for (service, address) in SERVICES.iter().zip(&addresses) {
        env.push((format!("SCRM_CLUSTER_{}_URL", service.to_uppercase()), format!("http://{address}")));
    }
    let deployment = Deployment { env, root: tempfile::tempdir().unwrap() };

    let mut processes = Processes(Vec::new());
    for (service, address) in SERVICES.iter().zip(&addresses) {
        let child = deployment.serve(service, service, *address).await;
        processes.0.push((service.to_string(), child));
    }
    // A second messaging replica, reached by nobody: its broadcast worker competes for the same tasks.
    let replica = deployment.serve("messaging-2", "messaging", free_address()).await;
    processes.0.push(("messaging-2".into(), replica));
    // The gateway process runs only the services nobody else runs (campaign, rewards) and forwards the rest.
    let child = deployment.serve("gateway", "campaign,rewards", gateway).await;
    processes.0.push(("gateway".into(), child));

    let cli_dir = deployment.root.path().join("cli");
    let token = deployment.run(&["token", "create", "--role", "operator", "--name", "分离部署测试"], &cli_dir);
    let token = token.trim().to_owned();
    let support = deployment.run(&["token", "create", "--role", "support", "--name", "客服"], &cli_dir);
    let support = support.trim().to_owned();
    let server = format!("http://{gateway}");

    // A full sync, started over gRPC at the gateway and run by the identity process.
    deployment.run(&["sync", "--server", &server, "--token", &token], &cli_dir);

    // A contact-way scan: the callback reaches the gateway, the identity inbox worker applies it in the
    // customer process, and the customer is served through REST.
    let wecom = WeComClient::new(WeComConfig::new(corp_id.as_str(), secret.as_str()).with_api_base(&sim_url)).unwrap();
    let userid = sim.with_world(|world| {
        world.staff.iter().find(|staff| staff.customer_contact && staff.status == 1).unwrap().userid.clone()
    });
    let way =
        ContactWay { way_type: 1, scene: 2, state: "split_poster".into(), user: vec![userid], ..ContactWay::default() };
    let config_id = wecom.add_contact_way(&way).await.unwrap().config_id;
    let scanned = sim.scan_contact_way(&config_id).expect("the contact way adds a customer");
    let http = reqwest::Client::new();
    let customer_url = format!("{server}/api/crm/customers/{}", scanned.external_userid);
    let customer: Value = eventually("the scanned customer's arrival", async || {
        let response = http.get(&customer_url).bearer_auth(&token).send().await.ok()?;
        if response.status() == 200 { response.json().await.ok() } else { None }
    })
    .await;
    assert!(customer.to_string().contains(&scanned.external_userid), "{customer}");

    // An order CSV import through the gateway, stored by the customer process.
    let csv = cli_dir.join("orders.csv");
    std::fs::write(
        &csv,
        format!(
            "order_no,status,amount,paid_at,buyer_external_userid\nSPLIT-1,paid,99.00,2026-03-01 10:00:00,{}\n",
            scanned.external_userid
        ),
    )
    .unwrap();
    let imported =
        deployment.run(&["import", "orders", csv.to_str().unwrap(), "--server", &server, "--token", &token], &cli_dir);
    assert!(imported.contains("新增 1") && imported.contains("0 个订单暂未匹配"), "{imported}");

    // The groups, listed over gRPC through the gateway, and a broadcast to all of them per the PRD's REST body.
    let channel = tonic::transport::Channel::from_shared(server.clone()).unwrap().connect().await.unwrap();
    let mut request = tonic::Request::new(ListGroupsRequest { page_size: 100, ..ListGroupsRequest::default() });
    request.metadata_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
    let groups = GroupServiceClient::new(channel).list_groups(request).await.unwrap().into_inner().groups;
    assert!(!groups.is_empty(), "the sync brought the groups");
    let ids: Vec<i64> = groups.iter().map(|group| group.id).collect();
    let body = json!({ "groupIds": ids, "msgType": "text", "content": "会员日福利，今晚8点开抢！" });
    let broadcast_url = format!("{server}/api/social/groups/broadcast");

    let refused = http.post(&broadcast_url).bearer_auth(&support).json(&body).send().await.unwrap();
    assert_eq!(refused.status(), 403, "support may not broadcast");

    let created: Value = http
        .post(&broadcast_url)
        .bearer_auth(&token)
        .header("Idempotency-Key", "split-mode")
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_i64().unwrap_or_else(|| panic!("created: {created}"));
    let report: Value = eventually("the broadcast's fan-out", async || {
        let report: Value =
            http.get(format!("{broadcast_url}/{id}")).bearer_auth(&token).send().await.ok()?.json().await.ok()?;
        let part = &report["report"];
        (part["tasksTotal"].as_i64().is_some_and(|total| total > 0) && part["tasksCreated"] == part["tasksTotal"])
            .then_some(report)
    })
    .await;
    let made = sim.stats().calls.get("externalcontact/add_msg_template").copied().unwrap_or(0);
    assert_eq!(Some(made as i64), report["report"]["tasksTotal"].as_i64(), "each task created once: {report}");

    // kill -9 the customer process and restart it: the gateway reaches the new one.
    let (_, customer_process) = processes.0.iter_mut().find(|(name, _)| name == "customer").unwrap();
    customer_process.kill().unwrap();
    customer_process.wait().unwrap();
    *customer_process = deployment.serve("customer", "customer", addresses[1]).await;
    eventually("the restarted customer process answering", async || {
        let response = http.get(&customer_url).bearer_auth(&token).send().await.ok()?;
        (response.status() == 200).then_some(())
    })
    .await;

    drop(processes);
    let mut connection = sqlx::MySqlConnection::connect(
        &std::env::var("SCRM_TEST_MYSQL_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into()),
    )
    .await
    .unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE {database}"))).execute(&mut connection).await.unwrap();
}
