//! The sidebar's REST context against the WeCom simulator: `wx.config` / `wx.agentConfig` signatures for a page
//! under the trusted domain, with the tickets fetched once and cached, and a page elsewhere refused.

use scrm_wecom_sim::{SimConfig, Simulator, World, WorldSize};
use serde_json::Value;

use crate::harness::{TestApp, http};

#[tokio::test]
async fn the_sidebar_context_signs_the_js_sdk_with_cached_tickets() {
    let sim = Simulator::new(SimConfig::default(), World::generate(7, WorldSize::DEMO));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(scrm_wecom_sim::serve(listener, sim.clone()));
    let app = TestApp::spawn_with(&[], move |config| {
        config.wecom.api_base = sim_url;
        config.wecom.corp_id = "wwsimcorp0000000001".into();
        config.wecom.secret = "sim-secret".into();
        config.wecom.agent_id = 1_000_002;
        config.wecom.trusted_domain = "scrm.example.com".into();
    })
    .await;
    let context = |url: &str| {
        let request = http().get(format!("{}/api/sidebar/context", app.url())).query(&[("url", url)]);
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 200);
            response.json::<Value>().await.unwrap()
        }
    };

    let first = context("https://scrm.example.com/sidebar/?contact=wm1").await;
    assert_eq!(first["demo"], false);
    let jssdk = &first["jssdk"];
    assert_eq!((jssdk["corpid"].as_str(), jssdk["agentid"].as_i64()), (Some("wwsimcorp0000000001"), Some(1_000_002)));
    for signature in [&jssdk["config"], &jssdk["agentConfig"]] {
        let hex = signature["signature"].as_str().unwrap();
        assert!(hex.len() == 40 && hex.chars().all(|c| c.is_ascii_hexdigit()), "{signature}");
        assert!(signature["timestamp"].as_i64().unwrap() > 1_700_000_000);
    }
    let second = context("https://scrm.example.com/sidebar/?contact=wm2").await;
    assert_ne!(second["jssdk"]["config"]["nonceStr"], jssdk["config"]["nonceStr"]);
    let calls = sim.stats().calls;
    assert_eq!(calls.get("get_jsapi_ticket"), Some(&1), "the corp ticket is cached: {calls:?}");
    assert_eq!(calls.get("ticket/get"), Some(&1), "the agent ticket is cached: {calls:?}");

    let elsewhere = context("https://evil.example.org/sidebar/").await;
    assert_eq!(elsewhere["jssdk"], Value::Null);
    assert!(elsewhere["jssdkError"].as_str().unwrap().contains("trusted domain"));
}
