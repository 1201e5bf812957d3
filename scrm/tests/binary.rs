//! The real `scrm` binary: its commands, its start on embedded defaults, and a graceful stop.

use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn scrm() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_scrm"));
    for (key, _) in std::env::vars().filter(|(key, _)| key.starts_with("SCRM_")) {
        command.env_remove(key);
    }
    command.env("RUST_LOG", "warn");
    command
}

fn run(command: &mut Command) -> Output {
    command.output().expect("the scrm binary runs")
}

fn free_address() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap()
}

/// Starts `scrm serve` and waits until `/healthz` answers, returning the process and the wait.
async fn serve(data_dir: &std::path::Path, address: SocketAddr, envs: &[(&str, &str)]) -> (Child, Duration) {
    let started = Instant::now();
    let mut child = scrm()
        .args(["serve", "--listen", &address.to_string(), "--data-dir"])
        .arg(data_dir)
        .envs(envs.iter().copied())
        .stdout(Stdio::null())
        .spawn()
        .expect("scrm serve starts");
    let client = reqwest::Client::new();
    for _ in 0..300 {
        if let Ok(response) = client.get(format!("http://{address}/healthz")).send().await
            && response.status() == 200
        {
            return (child, started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("scrm serve did not answer /healthz within 6 s");
}

fn terminate(child: &Child) {
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success(), "SIGTERM could be sent");
}

#[test]
fn version_is_printed() {
    let output = run(scrm().arg("--version"));
    assert!(output.status.success());
    assert_eq!(String::from_utf8(output.stdout).unwrap().trim(), format!("scrm {}", env!("CARGO_PKG_VERSION")));
}

#[test]
fn config_shows_the_effective_values_with_secrets_redacted() {
    let output = run(scrm()
        .arg("config")
        .env("SCRM_DATABASE_URL", "mysql://scrm:hunter2@db:3306/scrm")
        .env("SCRM_CLUSTER_TOKEN", "hunter2")
        .env("SCRM_SERVER_LISTEN", "0.0.0.0:9000"));
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let shown = String::from_utf8(output.stdout).unwrap();
    assert!(shown.contains(r#"listen = "0.0.0.0:9000""#), "{shown}");
    assert!(shown.contains("mysql://<redacted>@db:3306/scrm"), "{shown}");
    assert!(!shown.contains("hunter2"), "{shown}");
}

#[test]
fn invalid_configuration_fails_naming_the_key() {
    let output = run(scrm().arg("config").env("SCRM_SERVER_LISTEN", "everywhere"));
    assert!(!output.status.success());
    let error = String::from_utf8(output.stderr).unwrap();
    assert!(error.contains("server.listen"), "{error}");
}

#[test]
fn migrate_creates_the_embedded_database() {
    let data_dir = tempfile::tempdir().unwrap();
    let output = run(scrm().arg("migrate").arg("--data-dir").arg(data_dir.path()));
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(data_dir.path().join("scrm.db").exists());
    let again = run(scrm().arg("migrate").arg("--data-dir").arg(data_dir.path()));
    assert!(again.status.success(), "migrations are idempotent: {}", String::from_utf8_lossy(&again.stderr));
}

/// Creates an API token with `scrm token create` and returns it.
fn create_token(data_dir: &std::path::Path, role: &str) -> String {
    let output =
        run(scrm().args(["token", "create", "--role", role, "--name", "测试令牌", "--data-dir"]).arg(data_dir));
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

#[test]
fn tokens_are_created_once_listed_and_revoked() {
    let data_dir = tempfile::tempdir().unwrap();
    let token = create_token(data_dir.path(), "operator");
    assert!(token.starts_with("scrm_"), "{token}");
    let manager = run(scrm()
        .args(["token", "create", "--role", "store_manager", "--name", "店长", "--data-dir"])
        .arg(data_dir.path()));
    assert!(!manager.status.success(), "a store manager token needs --store");
    assert!(String::from_utf8_lossy(&manager.stderr).contains("store"));
    let list = run(scrm().args(["token", "list", "--data-dir"]).arg(data_dir.path()));
    let listed = String::from_utf8_lossy(&list.stdout).to_string();
    assert!(listed.contains("测试令牌") && listed.contains(&token[..9]) && !listed.contains(&token), "{listed}");
    let revoke = run(scrm().args(["token", "revoke", "1", "--data-dir"]).arg(data_dir.path()));
    assert!(revoke.status.success(), "{}", String::from_utf8_lossy(&revoke.stderr));
    let list = run(scrm().args(["token", "list", "--data-dir"]).arg(data_dir.path()));
    assert!(String::from_utf8_lossy(&list.stdout).trim().is_empty(), "revoked tokens are listed only with --all");
    let all = run(scrm().args(["token", "list", "--all", "--data-dir"]).arg(data_dir.path()));
    assert!(String::from_utf8_lossy(&all.stdout).contains("revoked"));
}

#[tokio::test]
async fn serve_starts_on_embedded_defaults_in_a_new_data_directory() {
    let parent = tempfile::tempdir().unwrap();
    let data_dir = parent.path().join("fresh");
    let address = free_address();
    let (child, startup) = serve(&data_dir, address, &[]).await;
    println!("scrm serve answered /healthz {} ms after launch", startup.as_millis());
    let overview = reqwest::get(format!("http://{address}/api/overview")).await.unwrap();
    assert_eq!(overview.status(), 401, "the product default requires signing in");
    assert!(data_dir.join("scrm.db").exists(), "the data directory and SQLite file are created on first run");
    let token = create_token(&data_dir, "operator");
    let overview =
        reqwest::Client::new().get(format!("http://{address}/api/overview")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(overview.status(), 200);
    terminate(&child);
    let status = child.wait_with_output().unwrap().status;
    assert!(status.success(), "{status}");
}

#[tokio::test]
async fn sigterm_lets_an_in_flight_request_finish_then_exits_zero() {
    let data_dir = tempfile::tempdir().unwrap();
    let address = free_address();
    let (child, _) = serve(data_dir.path(), address, &[("SCRM_DEBUG_SLEEP_ENDPOINT", "true")]).await;
    let slow = tokio::spawn(reqwest::get(format!("http://{address}/debug/sleep?ms=1500")));
    tokio::time::sleep(Duration::from_millis(300)).await;
    terminate(&child);
    let response = slow.await.unwrap().expect("the in-flight request is answered");
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "slept 1500 ms");
    let status = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap().status).await.unwrap();
    assert!(status.success(), "scrm exits 0 after a graceful shutdown, got {status}");
    assert!(reqwest::get(format!("http://{address}/healthz")).await.is_err(), "nothing listens after exit");
}

#[tokio::test]
async fn sim_serves_the_wecom_api_over_a_generated_corp() {
    let address = free_address();
    let mut child = scrm()
        .args(["sim", "--listen", &address.to_string(), "--departments", "2", "--staff", "4", "--customers", "40"])
        .args(["--groups", "6", "--seed", "7"])
        .stdout(Stdio::null())
        .spawn()
        .expect("scrm sim starts");
    let client = reqwest::Client::new();
    let token_url = format!("http://{address}/cgi-bin/gettoken?corpid=wwsimcorp0000000001&corpsecret=sim-secret");
    let mut token = None;
    for _ in 0..300 {
        if let Ok(response) = client.get(&token_url).send().await {
            let body: serde_json::Value = response.json().await.unwrap();
            token = body["access_token"].as_str().map(str::to_owned);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let Some(token) = token else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("scrm sim did not hand out a token");
    };
    let groups: serde_json::Value = client
        .post(format!("http://{address}/cgi-bin/externalcontact/groupchat/list?access_token={token}"))
        .json(&serde_json::json!({"limit": 100}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(groups["errcode"], 0, "{groups}");
    assert_eq!(groups["group_chat_list"].as_array().map(Vec::len), Some(6), "{groups}");
    terminate(&child);
    assert!(child.wait().unwrap().success());
}

#[tokio::test]
async fn sync_runs_a_full_sync_of_the_demo_corp_and_reports_it() {
    let data_dir = tempfile::tempdir().unwrap();
    let address = free_address();
    let (child, _) = serve(data_dir.path(), address, &[]).await;
    let token = create_token(data_dir.path(), "operator");
    let output = tokio::task::spawn_blocking(move || {
        run(scrm().args(["sync", "--server", &format!("http://{address}"), "--token", &token]))
    })
    .await
    .unwrap();
    terminate(&child);
    assert!(child.wait_with_output().unwrap().status.success());
    let shown = String::from_utf8_lossy(&output.stderr).to_string() + &String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{shown}");
    assert!(shown.contains("同步完成"), "{shown}");
}
