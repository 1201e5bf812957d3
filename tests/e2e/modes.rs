//! The two deployment modes: all services in one process, or apart over the network; and the
//! production stores (MariaDB, Redis) in place of the embedded ones.

use opentelemetry::trace::{SpanId, TraceId};
use opentelemetry_sdk::trace::SpanData;
use scrm_kernel::ServiceKind;
use scrm_storage::Dialect;
use scrm_storage::testing::TestDb;
use serde_json::Value;

use crate::harness::{TestApp, http, insert_customer, insert_group, spans_of_trace};

fn attribute(span: &SpanData, key: &str) -> Option<String> {
    span.attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.to_string())
}

fn has_span(spans: &[SpanData], key: &str, value: &str) -> bool {
    spans.iter().any(|span| attribute(span, key).as_deref() == Some(value))
}

#[tokio::test]
async fn services_apart_answer_as_one_and_share_one_trace() {
    let backend = TestApp::spawn_with(&[ServiceKind::Customer, ServiceKind::Group], |config| {
        config.cluster.token = "cluster-secret".into();
    })
    .await;
    let db = backend.db().await;
    insert_customer(&db, "wm1", "s1").await;
    insert_group(&db, "wr1", "s1").await;
    insert_group(&db, "wr2", "s1").await;
    let front = TestApp::spawn_with(&[ServiceKind::Analytics], |config| {
        config.cluster.token = "cluster-secret".into();
        config.cluster.customer_url = backend.url();
        config.cluster.group_url = backend.url();
    })
    .await;

    let trace_id = TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap();
    let traceparent = format!("00-{trace_id}-{}-01", SpanId::from_hex("00f067aa0ba902b7").unwrap());
    let response =
        http().get(format!("{}/api/overview", front.url())).header("traceparent", traceparent).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!((body["customerTotal"].as_i64(), body["groupTotal"].as_i64()), (Some(1), Some(2)));

    let complete = |spans: &[SpanData]| {
        has_span(spans, "rpc.service", "scrm.analytics.v1.AnalyticsService")
            && has_span(spans, "rpc.service", "scrm.customer.v1.CustomerService")
            && has_span(spans, "rpc.service", "scrm.group.v1.GroupService")
            && has_span(spans, "url.path", "/scrm.customer.v1.CustomerService/CountCustomers")
            && has_span(spans, "url.path", "/api/overview")
    };
    let spans = spans_of_trace(trace_id, complete).await;
    let names: Vec<_> = spans.iter().map(|span| span.name.to_string()).collect();
    assert!(complete(&spans), "one trace should span the front and the back process; got {names:?}");
}

#[tokio::test]
async fn services_apart_need_a_cluster_token() {
    let data_dir = tempfile::tempdir().unwrap();
    let mut config = scrm::Config { data_dir: data_dir.path().to_path_buf(), ..scrm::Config::default() };
    config.server.listen = "127.0.0.1:0".parse().unwrap();
    let services = [ServiceKind::Group].into_iter().collect();
    let error = scrm::Server::start(config, &services).await.err().expect("a split process without token is refused");
    assert!(error.to_string().contains("cluster.token"), "{error}");
}

#[tokio::test]
async fn runs_on_mariadb_and_redis() {
    let database = TestDb::new(Dialect::MySql).await;
    let app = TestApp::spawn_with(&[], |config| {
        config.database.url = database.url();
        config.cache.redis_url =
            std::env::var("SCRM_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
        config.cache.key_prefix = format!("scrm-e2e-{}:", std::process::id());
    })
    .await;
    let ready: Value = http().get(format!("{}/readyz", app.url())).send().await.unwrap().json().await.unwrap();
    assert_eq!(ready["status"], "ready", "{ready}");
    insert_customer(&database.db, "wm1", "s1").await;
    insert_group(&database.db, "wr1", "s1").await;
    let body: Value = http().get(format!("{}/api/overview", app.url())).send().await.unwrap().json().await.unwrap();
    assert_eq!((body["customerTotal"].as_i64(), body["groupTotal"].as_i64()), (Some(1), Some(1)));
    app.server.stop().await.unwrap();
    database.cleanup().await;
}

#[tokio::test]
async fn an_invalid_service_url_fails_the_start_naming_its_key() {
    let data_dir = tempfile::tempdir().unwrap();
    let mut config = scrm::Config { data_dir: data_dir.path().to_path_buf(), ..scrm::Config::default() };
    config.server.listen = "127.0.0.1:0".parse().unwrap();
    config.cluster.token = "cluster-secret".into();
    config.cluster.customer_url = "not a url".into();
    let services = [ServiceKind::Analytics].into_iter().collect();
    let error = scrm::Server::start(config, &services).await.err().expect("a bad URL is refused");
    assert!(format!("{error:#}").contains("cluster.customer_url"), "{error:#}");
}

#[tokio::test]
async fn with_no_corp_configured_a_demo_corp_is_synced_at_start() {
    let app = TestApp::spawn_with(&[], |config| {
        config.wecom.demo = true;
        // A still corp, so the counts stay those of the generated one.
        config.wecom.demo_activity_rate = 0.0;
    })
    .await;
    let mut overview = Value::Null;
    for _ in 0..100 {
        overview = http().get(format!("{}/api/overview", app.url())).send().await.unwrap().json().await.unwrap();
        if overview["customerTotal"].as_i64() == Some(500) && overview["groupTotal"].as_i64() == Some(50) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the demo corp (500 customers, 50 groups) was not synced within 10 s: {overview}");
}
