//! The caller context: who the gateway says is calling, and what the services then show them.

use scrm_kernel::{Role, ServiceKind};
use serde_json::Value;

use crate::harness::{TestApp, http, insert_customer, insert_group};

async fn app_with_two_stores(configure: impl FnOnce(&mut scrm::Config)) -> TestApp {
    let app = TestApp::spawn_with(&[], configure).await;
    let db = app.db().await;
    insert_customer(&db, "wm1", "s1").await;
    insert_customer(&db, "wm2", "s2").await;
    insert_group(&db, "wr1", "s1").await;
    insert_group(&db, "wr2", "s2").await;
    app
}

async fn overview(app: &TestApp, headers: &[(&str, &str)]) -> Value {
    let mut request = http().get(format!("{}/api/overview", app.url()));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[tokio::test]
async fn a_store_manager_sees_only_their_store() {
    let app = app_with_two_stores(|config| {
        config.caller.role = Role::StoreManager;
        config.caller.store_ids = vec!["s1".into()];
    })
    .await;
    let body = overview(&app, &[]).await;
    assert_eq!((body["customerTotal"].as_i64(), body["groupTotal"].as_i64()), (Some(1), Some(1)));
}

#[tokio::test]
async fn caller_metadata_from_outside_is_ignored() {
    let app = app_with_two_stores(|_| {}).await;
    let forged =
        [("x-scrm-caller-id", "mallory"), ("x-scrm-caller-role", "store_manager"), ("x-scrm-caller-stores", "s2")];
    let body = overview(&app, &forged).await;
    assert_eq!(body["customerTotal"], 2, "the configured operator sees every store");
}

#[tokio::test]
async fn a_cluster_peer_forwards_its_caller_and_a_wrong_token_does_not() {
    let app = app_with_two_stores(|config| config.cluster.token = "peer-secret".into()).await;
    let caller =
        [("x-scrm-caller-id", "lisi"), ("x-scrm-caller-role", "store_manager"), ("x-scrm-caller-stores", "s2")];
    let with_token: Vec<_> = caller.iter().copied().chain([("x-scrm-cluster-token", "peer-secret")]).collect();
    assert_eq!(overview(&app, &with_token).await["customerTotal"], 1);
    let wrong_token: Vec<_> = caller.iter().copied().chain([("x-scrm-cluster-token", "guess")]).collect();
    assert_eq!(overview(&app, &wrong_token).await["customerTotal"], 2);
}

#[tokio::test]
async fn a_service_rejects_a_call_without_caller() {
    let app = TestApp::spawn_with(&[ServiceKind::Customer, ServiceKind::Group], |config| {
        config.cluster.token = "peer-secret".into();
    })
    .await;
    let mut client = scrm_proto::customer::v1::customer_service_client::CustomerServiceClient::new(app.channel().await);
    let mut request = tonic::Request::new(scrm_proto::customer::v1::CountCustomersRequest {});
    request.metadata_mut().insert("x-scrm-cluster-token", "peer-secret".parse().unwrap());
    let status = client.count_customers(request).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::Unauthenticated);
}
