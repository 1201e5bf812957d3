//! Message-event ingestion rate (PR07): an all-in-one scrm process with the Redis cache
//! (`SCRM_BENCH_REDIS_URL`, default `redis://127.0.0.1:6379`) and its embedded SQLite database (or
//! `--database-url URL`) takes group-message events through `GroupService.IngestMessages` over gRPC, from two
//! concurrent streams of 1,000-message batches, into 1,000 groups of 20 members. Prints messages per second and,
//! when `redis-benchmark` is installed, the ratio to its pipelined INCR rate (`redis-benchmark -t incr -P 16 -q`)
//! measured in the same run on the same machine, with the load average beside the figures.
//!
//! Run on demand: `cargo run --release -p scrm-benches --bin group_ingest_bench [-- --messages 200000]`.

use std::collections::BTreeSet;
use std::process::Command;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, ensure};
use scrm::{Config, Server};
use scrm_proto::group::v1::group_service_client::GroupServiceClient;
use scrm_proto::group::v1::{
    GroupChatMember, GroupChatSnapshot, GroupMemberType, GroupMessageEvent, IngestMessagesRequest,
    UpsertGroupChatsRequest,
};
use tonic::transport::Channel;

const GROUPS: usize = 1_000;
const MEMBERS: usize = 20;
const BATCH: usize = 1_000;
const STREAMS: usize = 2;

fn at(millis: i64) -> Option<prost_types::Timestamp> {
    Some(prost_types::Timestamp { seconds: millis / 1000, nanos: 0 })
}

fn argument(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|arg| arg == name).and_then(|at| args.get(at + 1).cloned())
}

fn group(index: usize, now: i64) -> GroupChatSnapshot {
    let member = |userid: String, kind: GroupMemberType| GroupChatMember {
        userid,
        r#type: kind as i32,
        joined_at: at(now - 86_400_000),
        ..GroupChatMember::default()
    };
    let mut member_list = vec![member(format!("staff{}", index % 50), GroupMemberType::Staff)];
    member_list.extend((1..MEMBERS).map(|n| member(format!("wm{index}-{n}"), GroupMemberType::Customer)));
    GroupChatSnapshot {
        chat_id: format!("wrbench{index}"),
        name: format!("压测群{index}"),
        owner: format!("staff{}", index % 50),
        created_at: at(now - 86_400_000),
        members_complete: true,
        member_list,
        observed_at: at(now - 86_400_000),
        ..GroupChatSnapshot::default()
    }
}

/// Message `n`: in group n mod GROUPS, from one of its customers, within the last hour.
fn message(n: usize, now: i64) -> GroupMessageEvent {
    let group = n % GROUPS;
    GroupMessageEvent {
        msgid: format!("bench-{n}"),
        chat_id: format!("wrbench{group}"),
        sender: format!("wm{group}-{}", 1 + (n / GROUPS) % (MEMBERS - 1)),
        msgtime: at(now - 3_600_000 + (n % 3_600_000) as i64),
        msgtype: "text".into(),
        seq: n as i64 + 1,
        ..GroupMessageEvent::default()
    }
}

/// Sends messages `range` in batches over one IngestMessages stream; returns the count accepted.
async fn ingest(channel: Channel, range: std::ops::Range<usize>, now: i64) -> anyhow::Result<i64> {
    let batches: Vec<IngestMessagesRequest> = range
        .step_by(BATCH)
        .map(|start| IngestMessagesRequest { messages: (start..start + BATCH).map(|n| message(n, now)).collect() })
        .collect();
    let response =
        GroupServiceClient::new(channel).ingest_messages(tonic::codegen::tokio_stream::iter(batches)).await?;
    Ok(response.into_inner().accepted)
}

/// `redis-benchmark -t incr -P 16 -q`'s INCR requests per second; `None` when it is not installed.
fn redis_incr_rate() -> Option<f64> {
    let output =
        Command::new("redis-benchmark").args(["-t", "incr", "-P", "16", "-q", "-n", "2000000"]).output().ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let line = text.rsplit(['\r', '\n']).find(|line| line.starts_with("INCR:"))?;
    line.trim_start_matches("INCR:").split_whitespace().next()?.parse().ok()
}

fn uptime() -> String {
    Command::new("uptime")
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .unwrap_or_default()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let messages: usize = argument("--messages").map(|n| n.parse()).transpose()?.unwrap_or(200_000);
    ensure!(messages.is_multiple_of(BATCH * STREAMS), "--messages must be a multiple of {}", BATCH * STREAMS);
    let data_dir = tempfile::tempdir()?;
    let mut config = Config { data_dir: data_dir.path().to_path_buf(), ..Config::default() };
    config.server.listen = "127.0.0.1:0".parse()?;
    config.server.static_dir = data_dir.path().join("no-admin");
    config.wecom.demo = false;
    // Calls without a credential act as the configured local caller (benches measure the work, not sign-in).
    config.auth.local_caller = true;
    config.cache.redis_url =
        std::env::var("SCRM_BENCH_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    config.cache.key_prefix = format!("scrm-bench-{}:", std::process::id());
    if let Some(url) = argument("--database-url") {
        config.database.url = url;
    }
    let server = Server::start(config, &BTreeSet::new()).await?;
    let channel = Channel::from_shared(format!("http://{}", server.local_addr()))?.connect().await?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis() as i64;
    let mut groups = GroupServiceClient::new(channel.clone());
    for start in (0..GROUPS).step_by(100) {
        let request = UpsertGroupChatsRequest {
            group_chats: (start..start + 100).map(|n| group(n, now)).collect(),
            sync_run_id: 0,
        };
        groups.upsert_group_chats(request).await.context("seeding the groups")?;
    }

    let started = Instant::now();
    let share = messages / STREAMS;
    let streams: Vec<_> = (0..STREAMS)
        .map(|stream| tokio::spawn(ingest(channel.clone(), stream * share..(stream + 1) * share, now)))
        .collect();
    let mut accepted = 0;
    for stream in streams {
        accepted += stream.await??;
    }
    let elapsed = started.elapsed().as_secs_f64();
    ensure!(accepted == messages as i64, "{accepted} of {messages} messages were accepted");
    let rate = messages as f64 / elapsed;
    println!(
        "ingested {messages} messages in {elapsed:.2} s: {rate:.0} messages/s ({STREAMS} streams, batches of {BATCH})"
    );
    match redis_incr_rate() {
        Some(incr) => {
            println!("redis-benchmark INCR -P 16: {incr:.0} requests/s; ingestion / INCR = {:.4}", rate / incr)
        }
        None => println!("redis-benchmark is not installed: no INCR reference"),
    }
    println!("uptime: {}", uptime());
    Ok(())
}
