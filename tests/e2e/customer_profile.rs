//! The customer profile (PR02) end to end: sync from the WeCom simulator, import an order CSV over REST and
//! with `scrm import orders`, read `GET /api/crm/customers/{wxId}` and check level, spend and latest orders;
//! bad CSV rows are reported while good ones land; and who may see which profile.

use std::collections::HashSet;
use std::sync::Arc;

use scrm_kernel::Role;
use scrm_proto::customer::v1::customer_service_client::CustomerServiceClient;
use scrm_proto::customer::v1::{
    ExternalContactInput, FollowUserInput, LevelTier, UpdateLevelTiersRequest, UpsertExternalContactsRequest,
};
use scrm_proto::identity::v1::identity_service_client::IdentityServiceClient;
use scrm_proto::identity::v1::{StartSyncRequest, SyncScope, SyncState};
use scrm_wecom_sim::{SimConfig, Simulator, World, WorldSize};
use serde_json::Value;

use crate::harness::{TestApp, http};

/// A synced customer of the simulated corp and the staff member following them.
pub(crate) struct Synced {
    /// scrm, synced from `sim`.
    pub(crate) app: TestApp,
    /// The simulated corp.
    pub(crate) sim: Arc<Simulator>,
    /// A customer followed by an active staff member.
    pub(crate) external_userid: String,
    /// That staff member.
    pub(crate) follower: String,
    /// The follower's departments, which count as their stores.
    pub(crate) follower_departments: Vec<i64>,
    /// The chat_ids of the groups the customer is in, latest join first.
    pub(crate) groups: Vec<String>,
}

/// scrm (local caller: operator; cluster token `peer-secret`) after a full sync of a simulated corp.
pub(crate) async fn synced_app() -> Synced {
    synced_app_with(|_| {}).await
}

/// [`synced_app`], with `configure` applied to the configuration last.
pub(crate) async fn synced_app_with(configure: impl FnOnce(&mut scrm::config::Config)) -> Synced {
    let sim = Simulator::new(SimConfig::default(), World::generate(11, WorldSize::DEMO));
    let (external_userid, follower, follower_departments, groups) = sim.with_world(|world| {
        let active: HashSet<&str> = world
            .staff
            .iter()
            .filter(|staff| staff.customer_contact && staff.status == 1)
            .map(|staff| staff.userid.as_str())
            .collect();
        let joined = |external_userid: &str| {
            let mut groups: Vec<(i64, &str)> = world
                .groups
                .iter()
                .filter(|group| !group.dismissed)
                .filter_map(|group| {
                    let member = group.members.iter().find(|member| member.userid == external_userid)?;
                    Some((member.join_time, group.chat_id.as_str()))
                })
                .collect();
            groups.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
            groups.into_iter().map(|(_, chat_id)| chat_id.to_owned()).collect::<Vec<_>>()
        };
        let customer = world
            .customers
            .iter()
            .filter(|customer| customer.follow.iter().any(|follow| active.contains(follow.userid.as_str())))
            .find(|customer| !joined(&customer.external_userid).is_empty())
            .expect("the demo corp has a followed customer in a group");
        let follow = customer.follow.iter().find(|follow| active.contains(follow.userid.as_str())).unwrap();
        let staff = world.staff.iter().find(|staff| staff.userid == follow.userid).unwrap();
        let departments = staff.department.iter().map(|id| i64::from(*id)).collect();
        (customer.external_userid.clone(), follow.userid.clone(), departments, joined(&customer.external_userid))
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(scrm_wecom_sim::serve(listener, sim.clone()));
    let app = TestApp::spawn_with(&[], move |config| {
        config.wecom.api_base = sim_url;
        config.wecom.corp_id = "wwsimcorp0000000001".into();
        config.wecom.secret = "sim-secret".into();
        config.caller.role = Role::Operator;
        config.cluster.token = "peer-secret".into();
        configure(config);
    })
    .await;
    let mut identity = IdentityServiceClient::new(app.channel().await);
    let mut stream =
        identity.start_sync(StartSyncRequest { scope: SyncScope::Full as i32 }).await.unwrap().into_inner();
    let mut last = None;
    while let Some(message) = stream.message().await.unwrap() {
        last = message.progress;
    }
    assert_eq!(last.unwrap().state(), SyncState::Succeeded);
    Synced { app, sim, external_userid, follower, follower_departments, groups }
}

async fn post_csv(app: &TestApp, csv: &str) -> Value {
    let response = http()
        .post(format!("{}/api/crm/orders/import?source=e2e", app.url()))
        .header("content-type", "text/csv")
        .body(csv.to_owned())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// GET the profile as a cluster peer forwarding `caller` (role, staff id, stores); `None` = the local operator.
async fn get_profile(app: &TestApp, wx_id: &str, caller: Option<(&str, &str, &str)>) -> (u16, Value) {
    let mut request = http().get(format!("{}/api/crm/customers/{wx_id}", app.url()));
    if let Some((staff_id, role, stores)) = caller {
        request = request
            .header("x-scrm-cluster-token", "peer-secret")
            .header("x-scrm-caller-id", staff_id)
            .header("x-scrm-caller-role", role)
            .header("x-scrm-caller-stores", stores);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn sync_import_orders_and_read_the_profile() {
    let Synced { app, external_userid: wx, follower, follower_departments, groups, .. } = synced_app().await;
    let mut customers = CustomerServiceClient::new(app.channel().await);
    let tiers = vec![
        LevelTier { level: 1, name: "银卡".into(), min_spend_fen: 10_000 },
        LevelTier { level: 2, name: "金卡".into(), min_spend_fen: 100_000 },
        LevelTier { level: 3, name: "钻石卡".into(), min_spend_fen: 1_000_000 },
    ];
    customers.update_level_tiers(UpdateLevelTiersRequest { tiers }).await.unwrap();

    let mut csv = String::from("order_no,buyer_external_userid,status,amount,refund,paid_at,store_code,channel\n");
    for day in 1..=12 {
        csv.push_str(&format!("E2E-{day:02},{wx},paid,100.00,,2025-03-{day:02} 12:00:00,S01,门店\n"));
    }
    csv.push_str(&format!("E2E-BAD-1,{wx},paid,100.00,200.00,2025-03-20 12:00:00,S01,门店\n"));
    csv.push_str(&format!("E2E-BAD-2,{wx},lost,100.00,,2025-03-20 12:00:00,S01,门店\n"));
    csv.push_str(&format!("E2E-BAD-3,{wx},paid,100.00,,,S01,门店\n"));
    csv.push_str(&format!("E2E-BAD-4,{wx},paid,一百,,2025-03-20 12:00:00,S01,门店\n"));
    let report = post_csv(&app, &csv).await;
    assert_eq!(
        (&report["received"], &report["created"], &report["rejected"], &report["unmatched"]),
        (&Value::from(16), &Value::from(12), &Value::from(4), &Value::from(0)),
        "{report}"
    );
    let errors: Vec<(i64, &str, &str)> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|error| {
            (
                error["rowNumber"].as_i64().unwrap(),
                error["orderNo"].as_str().unwrap(),
                error["reason"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(errors.len(), 4);
    assert_eq!(errors[0], (13, "E2E-BAD-1", "退款金额大于实付金额"));
    assert_eq!((errors[1].0, errors[1].1), (14, "E2E-BAD-2"));
    assert!(errors[1].2.contains("lost"), "{errors:?}");
    assert_eq!(errors[2], (15, "E2E-BAD-3", "已支付的订单缺少支付时间"));
    assert_eq!((errors[3].0, errors[3].1), (16, "E2E-BAD-4"));

    let again = post_csv(&app, &csv).await;
    assert_eq!((&again["created"], &again["unchanged"]), (&Value::from(0), &Value::from(12)), "{again}");

    // A refund arrives through the CLI path (gRPC stream through the gateway).
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("refunds.csv");
    std::fs::write(
        &file,
        format!("order_no,buyer_external_userid,status,amount,refund,paid_at,updated_at\nE2E-12,{wx},partially_refunded,100.00,40.00,2025-03-12 12:00:00,2025-03-25 09:00:00\n"),
    )
    .unwrap();
    let cli = scrm::import_cli::import_orders(&app.url(), None, &file, false).await.unwrap();
    assert_eq!((cli.received, cli.updated, cli.rejected), (1, 1, 0), "{cli:?}");

    let (status, profile) = get_profile(&app, &wx, None).await;
    assert_eq!(status, 200, "{profile}");
    assert_eq!(profile["externalUserid"], wx.as_str());
    assert_eq!(profile["totalSpendFen"], 12 * 10_000 - 4_000);
    assert_eq!(profile["orderCount"], 12);
    assert_eq!((&profile["level"], &profile["levelName"]), (&Value::from(2), &Value::from("金卡")));
    let orders: Vec<&str> =
        profile["latestOrders"].as_array().unwrap().iter().map(|order| order["orderNo"].as_str().unwrap()).collect();
    let expected: Vec<String> = (3..=12).rev().map(|day| format!("E2E-{day:02}")).collect();
    assert_eq!(orders, expected);
    assert_eq!(profile["latestOrders"][0]["status"], "ORDER_STATUS_PARTIALLY_REFUNDED");
    assert_eq!(profile["latestOrders"][0]["refundFen"], 4_000);
    assert_eq!(profile["lastPurchaseAt"], "2025-03-12T04:00:00Z");
    assert!(profile["followUsers"].as_array().unwrap().iter().any(|follow| follow["userid"] == follower.as_str()));
    let stores: Vec<i64> = profile["storeIds"].as_array().unwrap().iter().filter_map(Value::as_i64).collect();
    assert!(
        follower_departments.iter().all(|department| stores.contains(department)),
        "the sync gives the customer the stores (departments) of its follower: {stores:?} ⊇ {follower_departments:?}"
    );
    assert!(!profile["name"].as_str().unwrap().is_empty());
    // Groups joined come from the group service.
    let joined: Vec<&str> =
        profile["groups"].as_array().unwrap().iter().map(|group| group["chatId"].as_str().unwrap()).collect();
    assert_eq!(joined, groups);
    assert!(profile["groups"][0]["joinedAt"].is_string(), "{profile}");

    // The staff member who follows the customer sees it; another (not an operator) gets 403.
    let (status, _) = get_profile(&app, &wx, Some((&follower, "koc", ""))).await;
    assert_eq!(status, 200);
    let (status, body) = get_profile(&app, &wx, Some(("not-a-follower", "koc", ""))).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("permission_denied")), "{body}");
    let (status, body) = get_profile(&app, "wmUnknownCustomer", None).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("not_found")), "{body}");
    let (status, body) = get_profile(&app, "bad!id", None).await;
    assert_eq!((status, body["field"].as_str()), (400, Some("external_userid")), "{body}");
}

#[tokio::test]
async fn a_store_manager_sees_only_customers_of_their_store() {
    let app = TestApp::spawn_with(&[], |config| {
        config.caller.role = Role::Operator;
        config.cluster.token = "peer-secret".into();
    })
    .await;
    let contact = |id: &str, userid: &str, store: i64| ExternalContactInput {
        external_userid: id.into(),
        name: "顾客".into(),
        r#type: 1,
        follow_user: vec![FollowUserInput { userid: userid.into(), store_ids: vec![store], ..Default::default() }],
        ..Default::default()
    };
    let mut customers = CustomerServiceClient::new(app.channel().await);
    let upsert = UpsertExternalContactsRequest {
        contacts: vec![contact("wmStore7", "clerk7", 7), contact("wmStore8", "clerk8", 8)],
        ..Default::default()
    };
    customers.upsert_external_contacts(upsert).await.unwrap();
    let manager = Some(("manager7", "store_manager", "7"));
    assert_eq!(get_profile(&app, "wmStore7", manager).await.0, 200);
    let (status, body) = get_profile(&app, "wmStore8", manager).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("permission_denied")), "{body}");
    assert_eq!(get_profile(&app, "wmStore8", Some(("kefu", "support", ""))).await.0, 200);
}

#[tokio::test]
async fn a_file_without_the_required_columns_is_refused_whole() {
    let app = TestApp::spawn_with(&[], |config| config.caller.role = Role::Operator).await;
    let response = http()
        .post(format!("{}/api/crm/orders/import", app.url()))
        .body("order_no,amount\nNO1,1\n")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!((body["code"].as_str(), body["field"].as_str()), (Some("invalid_argument"), Some("body")));
    assert!(body["message"].as_str().unwrap().contains("status"), "{body}");
}
