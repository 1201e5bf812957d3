//! Helpers shared by the tests that run the real `scrm` binary.

use std::net::SocketAddr;
use std::process::Child;
use std::time::Duration;

/// Waits up to `tries` × 100 ms until `child`, serving at `address`, answers `/healthz`; kills it and
/// panics naming `what` otherwise.
pub async fn healthy(mut child: Child, address: SocketAddr, what: &str, tries: u32) -> Child {
    let client = reqwest::Client::new();
    for _ in 0..tries {
        if client.get(format!("http://{address}/healthz")).send().await.is_ok_and(|r| r.status().is_success()) {
            return child;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    child.kill().ok();
    child.wait().ok();
    panic!("{what} did not become healthy");
}
