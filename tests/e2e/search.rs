//! Customer search end to end: WeCom writes reach the index, REST and gRPC searches find customers by
//! Chinese text, phone fragments, tags and stores within the caller's scope, and the index can be rebuilt
//! from the database, on a running server or a stopped one.

use std::time::{Duration, Instant};

use scrm_proto::customer::v1::customer_service_client::CustomerServiceClient;
use scrm_proto::customer::v1::{
    AddCustomerNoteRequest, CustomerTag, DeleteCustomerNoteRequest, ExternalContactInput, FollowRemovalReason,
    FollowUserInput, MemberInput, ReindexCustomersRequest, RemoveFollowUserRequest, TagType,
    UpsertExternalContactsRequest, UpsertMembersRequest,
};
use serde_json::Value;

use crate::harness::{TestApp, http, insert_customer};

const TOKEN: &str = "peer-secret";

fn contact(
    id: &str,
    name: &str,
    userid: &str,
    remark: &str,
    phone: &str,
    store: i64,
    tag: Option<&str>,
) -> ExternalContactInput {
    ExternalContactInput {
        external_userid: id.into(),
        name: name.into(),
        follow_user: vec![FollowUserInput {
            userid: userid.into(),
            remark: remark.into(),
            remark_mobiles: vec![phone.into()],
            store_ids: vec![store],
            tags: tag
                .map(|tag| CustomerTag {
                    tag_id: format!("et_{tag}"),
                    tag_name: tag.into(),
                    r#type: TagType::Corp as i32,
                    ..CustomerTag::default()
                })
                .into_iter()
                .collect(),
            ..FollowUserInput::default()
        }],
        follow_user_complete: true,
        ..ExternalContactInput::default()
    }
}

async fn app_with_customers() -> TestApp {
    let app = TestApp::spawn_with(&[], |config| config.cluster.token = TOKEN.into()).await;
    let mut client = CustomerServiceClient::new(app.channel().await);
    let contacts = vec![
        contact("wm_wang", "王小明", "zhangsan", "喜欢红色连衣裙的老客户", "13800138000", 101, Some("高意向")),
        contact("wm_fang", "王芳", "lisi", "团购客户", "13912345678", 102, None),
        contact("wm_lei", "李雷", "lisi", "朝阳门店常客", "15011112222", 101, None),
    ];
    client.upsert_external_contacts(UpsertExternalContactsRequest { contacts, ..Default::default() }).await.unwrap();
    app
}

/// `GET /api/crm/customers?...` as the configured operator, or as `caller` (id, role, stores) forwarded by a
/// cluster peer.
async fn search(app: &TestApp, query: &str, caller: Option<(&str, &str, &str)>) -> (u16, Value) {
    let mut request = http().get(format!("{}/api/crm/customers?{query}", app.url()));
    if let Some((id, role, stores)) = caller {
        request = request
            .header("x-scrm-cluster-token", TOKEN)
            .header("x-scrm-caller-id", id)
            .header("x-scrm-caller-role", role)
            .header("x-scrm-caller-stores", stores);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

fn ids(body: &Value) -> Vec<String> {
    let mut ids: Vec<String> = body["customers"]
        .as_array()
        .expect("a customer list")
        .iter()
        .map(|customer| customer["externalUserid"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

/// Searches until the result is `expected` or the deadline passes; returns the last result.
async fn eventually(app: &TestApp, query: &str, caller: Option<(&str, &str, &str)>, expected: &[&str]) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (status, body) = search(app, query, caller).await;
        assert_eq!(status, 200, "{body}");
        let found = ids(&body);
        if found == expected || Instant::now() > deadline {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn written_customers_are_found_by_chinese_text_phone_tag_and_store() {
    let app = app_with_customers().await;
    assert_eq!(eventually(&app, "q=王", None, &["wm_fang", "wm_wang"]).await, ["wm_fang", "wm_wang"]);
    assert_eq!(ids(&search(&app, "q=红色", None).await.1), ["wm_wang"], "a word inside a remark");
    assert_eq!(ids(&search(&app, "q=5678", None).await.1), ["wm_fang"], "a phone fragment");
    assert_eq!(ids(&search(&app, "q=&tag=et_高意向", None).await.1), ["wm_wang"]);
    assert_eq!(ids(&search(&app, "store=101", None).await.1), ["wm_lei", "wm_wang"]);
    assert_eq!(ids(&search(&app, "followUser=lisi&q=王", None).await.1), ["wm_fang"]);

    let (_, body) = search(&app, "q=王小明", None).await;
    let row = &body["customers"][0];
    assert_eq!((row["name"].as_str(), row["remark"].as_str()), (Some("王小明"), Some("喜欢红色连衣裙的老客户")));
    assert_eq!(row["tags"][0]["tagName"], "高意向");
    assert_eq!(body["total"], 1);

    let (_, page) = search(&app, "pageSize=2", None).await;
    assert_eq!((ids(&page).len(), page["total"].as_i64()), (2, Some(3)));
    let token = page["nextPageToken"].as_str().unwrap().to_owned();
    let (_, rest) = search(&app, &format!("pageSize=2&pageToken={token}"), None).await;
    assert_eq!(ids(&rest).len(), 1);
    assert_eq!(rest["nextPageToken"], "");
}

#[tokio::test]
async fn a_store_manager_finds_only_their_stores_and_a_koc_only_their_customers() {
    let app = app_with_customers().await;
    eventually(&app, "", None, &["wm_fang", "wm_lei", "wm_wang"]).await;
    let manager = Some(("boss", "store_manager", "101"));
    assert_eq!(ids(&search(&app, "q=王", manager).await.1), ["wm_wang"]);
    assert_eq!(ids(&search(&app, "store=102", manager).await.1), Vec::<String>::new());
    let koc = Some(("lisi", "koc", ""));
    assert_eq!(ids(&search(&app, "", koc).await.1), ["wm_fang", "wm_lei"]);
}

#[tokio::test]
async fn order_numbers_notes_and_member_phones_are_found_right_after_their_writes() {
    let app = app_with_customers().await;
    eventually(&app, "q=李雷", None, &["wm_lei"]).await;
    let response = http()
        .post(format!("{}/api/crm/orders/import?source=e2e", app.url()))
        .header("content-type", "text/csv")
        .body("order_no,buyer_external_userid,status,amount,paid_at\nSO20261126001,wm_lei,paid,99.00,2026-11-20 10:00:00\n")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(eventually(&app, "q=SO20261126001", None, &["wm_lei"]).await, ["wm_lei"], "an order number");

    let mut client = CustomerServiceClient::new(app.channel().await);
    let note = AddCustomerNoteRequest { external_userid: "wm_fang".into(), content: "她想要限量版盲盒".into() };
    let note = client.add_customer_note(note).await.unwrap().into_inner().note.unwrap();
    assert_eq!(eventually(&app, "q=盲盒", None, &["wm_fang"]).await, ["wm_fang"], "a word of a note");
    client.delete_customer_note(DeleteCustomerNoteRequest { id: note.id }).await.unwrap();
    assert_eq!(eventually(&app, "q=盲盒", None, &[]).await, Vec::<String>::new(), "a deleted note");

    let member = MemberInput {
        member_no: "M-1".into(),
        phone: "18699990000".into(),
        external_userid: "wm_wang".into(),
        ..MemberInput::default()
    };
    client.upsert_members(UpsertMembersRequest { members: vec![member], source: "e2e".into() }).await.unwrap();
    assert_eq!(eventually(&app, "q=18699990000", None, &["wm_wang"]).await, ["wm_wang"], "a member's phone");
}

#[tokio::test]
async fn removals_update_the_index() {
    let app = app_with_customers().await;
    eventually(&app, "q=李雷", None, &["wm_lei"]).await;
    let mut client = CustomerServiceClient::new(app.channel().await);
    client
        .remove_follow_user(RemoveFollowUserRequest {
            external_userid: "wm_lei".into(),
            userid: "lisi".into(),
            reason: FollowRemovalReason::CustomerDeletedStaff as i32,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(eventually(&app, "q=李雷", None, &[]).await, Vec::<String>::new(), "churned customers are not active");
}

#[tokio::test]
async fn bad_parameters_answer_400_naming_the_parameter() {
    let app = TestApp::spawn().await;
    for (query, field) in [
        ("pageSize=500", "pageSize"),
        ("pageSize=x", "pageSize"),
        ("store=abc", "store"),
        ("pageToken=nope", "pageToken"),
        ("level=-1", "level"),
        ("color=red", "color"),
    ] {
        let (status, body) = search(&app, query, None).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["field"], field, "{query}: {body}");
        assert_eq!(body["code"], "invalid_argument", "{query}: {body}");
    }
}

#[tokio::test]
async fn reindex_rebuilds_from_the_database_on_a_running_server() {
    let app = app_with_customers().await;
    eventually(&app, "", None, &["wm_fang", "wm_lei", "wm_wang"]).await;
    insert_customer(&app.db().await, "wm_direct", "101").await;
    sqlx::query("INSERT INTO customer_follow_user (external_userid, userid, remark, added_at, status, observed_at, created_at, updated_at) VALUES ('wm_direct', 'zhangsan', '数据库直写', 1, 1, 1, 1, 1)")
        .execute(app.db().await.pool())
        .await
        .unwrap();
    assert!(ids(&search(&app, "q=数据库直写", None).await.1).is_empty(), "written past the service");
    let mut client = CustomerServiceClient::new(app.channel().await);
    let response = client.reindex_customers(ReindexCustomersRequest {}).await.unwrap().into_inner();
    assert_eq!(response.customers_indexed, 4);
    assert_eq!(ids(&search(&app, "q=数据库直写", None).await.1), ["wm_direct"]);
}

#[tokio::test]
async fn scrm_reindex_rebuilds_the_index_of_a_stopped_server() {
    let data_dir = tempfile::tempdir().unwrap();
    let config = scrm::Config { data_dir: data_dir.path().to_path_buf(), ..scrm::Config::default() };
    let db = scrm::app::open_database(&config).await.unwrap();
    scrm::app::migrate(&db, &[scrm_kernel::ServiceKind::Customer].into_iter().collect()).await.unwrap();
    insert_customer(&db, "wm_offline", "101").await;
    scrm::reindex::run(&config, "http://127.0.0.1:1", None).await.unwrap();
    let dir = scrm::reindex::customer_index_dir(&config);
    let deadline = Instant::now() + Duration::from_secs(15);
    let (index, fresh) = loop {
        // The finished rebuild's writer thread releases the index lock once it has stopped.
        match scrm_customer::SearchIndex::open(&dir) {
            Ok(opened) => break opened,
            Err(error) => assert!(Instant::now() < deadline, "the index stayed locked: {error}"),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(!fresh);
    assert_eq!(index.num_docs(), 1);
}
