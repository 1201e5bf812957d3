//! `scrm sync`: starts a full WeCom sync on a running scrm and draws its progress in the terminal.

use std::io::IsTerminal;
use std::time::Duration;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use scrm_proto::identity::v1::identity_service_client::IdentityServiceClient;
use scrm_proto::identity::v1::{StartSyncRequest, SyncProgress, SyncScope, SyncState};

/// Starts (or attaches to) a full sync at `server`, signed in with the API `token` when given, and shows it
/// until it ends; fails unless it succeeds.
pub async fn run(server: &str, token: Option<&str>) -> anyhow::Result<()> {
    let mut identity = IdentityServiceClient::connect(server.to_owned())
        .await
        .with_context(|| format!("--server: cannot reach scrm at {server}"))?;
    let mut request = tonic::Request::new(StartSyncRequest { scope: SyncScope::Full as i32 });
    crate::cli_token::authorize(&mut request, token)?;
    let mut stream = identity
        .start_sync(request)
        .await
        .map_err(|status| anyhow::anyhow!("the sync could not start: {}", status.message()))?
        .into_inner();
    let bar = ProgressBar::new(100);
    bar.set_style(ProgressStyle::with_template("{bar:40} {pos:>3}% {msg}").expect("the template is valid"));
    bar.enable_steady_tick(Duration::from_millis(200));
    let mut last: Option<SyncProgress> = None;
    while let Some(message) = stream.message().await.context("the sync stream broke off")? {
        if let Some(progress) = message.progress {
            bar.set_position(progress.percent.clamp(0.0, 100.0) as u64);
            bar.set_message(progress.message.clone());
            last = Some(progress);
        }
    }
    let progress = last.context("the sync ended without reporting progress")?;
    let succeeded = progress.state() == SyncState::Succeeded;
    let summary = if succeeded {
        format!("同步完成（第 {} 次同步，{} 次企业微信接口调用）", progress.sync_run_id, progress.api_calls)
    } else {
        format!("同步未完成：{:?} {}", progress.state(), progress.error_message)
    };
    if !std::io::stderr().is_terminal() {
        println!("{summary}");
    }
    bar.finish_with_message(summary);
    anyhow::ensure!(
        succeeded,
        "sync run {} ended {:?}: {}",
        progress.sync_run_id,
        progress.state(),
        progress.error_message
    );
    Ok(())
}
