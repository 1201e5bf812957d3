//! Callback push: encrypted with WeCom's scheme, retried when unanswered in time.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::extract::{Query, State};
use axum::routing::post;
use scrm_wecom_crypto::CallbackCrypto;
use scrm_wecom_sim::{CallbackConfig, SimConfig, Simulator, World, WorldSize};
use serde_json::json;

const AES_KEY: &str = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";

#[derive(Clone)]
struct Rx {
    hits: Arc<AtomicUsize>,
    got: Arc<tokio::sync::Mutex<Vec<String>>>,
    crypto: Arc<CallbackCrypto>,
}

async fn receive(
    State(rx): State<Rx>,
    Query(q): Query<std::collections::HashMap<String, String>>,
    body: String,
) -> &'static str {
    let n = rx.hits.fetch_add(1, Ordering::SeqCst);
    if n == 0 {
        // The first attempt is answered too late: the simulator must retry.
        tokio::time::sleep(Duration::from_millis(600)).await;
    }
    let plain = rx.crypto.decrypt_message(&q["msg_signature"], &q["timestamp"], &q["nonce"], &body).unwrap();
    rx.got.lock().await.push(plain);
    "success"
}

#[tokio::test]
async fn contact_way_scan_is_pushed_encrypted_and_retried() {
    let rx = Rx {
        hits: Arc::new(AtomicUsize::new(0)),
        got: Arc::default(),
        crypto: Arc::new(CallbackCrypto::new("cbtoken", AES_KEY, "wwsimcorp0000000001").unwrap()),
    };
    let app = axum::Router::new().route("/wecom/callback", post(receive)).with_state(rx.clone());
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/wecom/callback", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await });

    let cfg = SimConfig {
        callback: Some(CallbackConfig {
            url,
            token: "cbtoken".into(),
            encoding_aes_key: AES_KEY.into(),
            timeout_ms: 200,
            retries: 3,
        }),
        ..SimConfig::default()
    };
    let sim = Simulator::new(cfg, World::generate(3, WorldSize::DEMO));
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", l.local_addr().unwrap());
    tokio::spawn(scrm_wecom_sim::serve(l, sim.clone()));

    let http = reqwest::Client::new();
    let tok: serde_json::Value = http
        .get(format!("{base}/cgi-bin/gettoken?corpid=wwsimcorp0000000001&corpsecret=sim-secret"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let tok = tok["access_token"].as_str().unwrap();
    let user = sim.with_world(|w| w.staff[0].userid.clone());
    let v: serde_json::Value = http
        .post(format!("{base}/cgi-bin/externalcontact/add_contact_way?access_token={tok}"))
        .json(&json!({"type": 1, "scene": 2, "user": [user], "state": "poster_A"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let added = sim.scan_contact_way(v["config_id"].as_str().unwrap()).unwrap();

    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while rx.got.lock().await.is_empty() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let got = rx.got.lock().await.clone();
    assert!(!got.is_empty(), "callback delivered");
    assert!(got[0].contains("<ChangeType><![CDATA[add_external_contact]]></ChangeType>"));
    assert!(got[0].contains("<State><![CDATA[poster_A]]></State>"));
    assert!(got[0].contains(&added.external_userid));
    assert!(rx.hits.load(Ordering::SeqCst) >= 2, "the late first attempt was retried");
    assert!(sim.stats().callback_attempts >= 2);
}
