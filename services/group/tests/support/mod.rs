//! What the group service's integration tests share: a simulated WeCom corp served on a loopback port.

use std::sync::Arc;

use scrm_wecom::{WeComClient, WeComConfig};
use scrm_wecom_sim::{SimConfig, Simulator, World, WorldSize};

/// The demo-size corp generated from `seed`, served by the simulator, and a WeCom client pointed at it.
pub async fn served_corp(seed: u64) -> (Arc<Simulator>, WeComClient) {
    let config = SimConfig::default();
    let sim = Simulator::new(config.clone(), World::generate(seed, WorldSize::DEMO));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(scrm_wecom_sim::serve(listener, sim.clone()));
    let wecom =
        WeComClient::new(WeComConfig::new(config.corp_id, config.corp_secrets[0].clone()).with_api_base(&sim_url))
            .unwrap();
    (sim, wecom)
}
