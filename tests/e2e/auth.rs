//! Sign-in and roles end to end: the product default requires a credential, API tokens and browser
//! sessions (with CSRF) are accepted, WeCom OAuth signs staff in through the simulator, and each role is
//! refused at the service itself, not only at the gateway.

use scrm_kernel::{Role, ServiceKind};
use scrm_proto::customer::v1::CountCustomersRequest;
use scrm_proto::customer::v1::customer_service_client::CustomerServiceClient;
use scrm_proto::identity::v1::identity_service_client::IdentityServiceClient;
use scrm_proto::identity::v1::{
    CreateApiTokenRequest, CreateUserRequest, GetWecomLoginUrlRequest, ListAuditLogRequest, ListUsersRequest,
    RevokeApiTokenRequest, StartSyncRequest, WecomLoginKind,
};
use scrm_wecom_sim::{SimConfig, Simulator, World, WorldSize};
use serde_json::{Value, json};

use crate::harness::{PEER_TOKEN, TestApp, as_peer, bearer, denied, http, with_token};

async fn secure_app() -> TestApp {
    TestApp::spawn_with(&[], |config| config.auth.local_caller = false).await
}

/// Creates a local user through the API as an admin and returns its username and password.
async fn create_user(app: &TestApp, role: Role, stores: &[i64]) -> (String, String) {
    let admin = app.token(Role::Admin, &[]).await;
    let username = format!("{}-user", role.as_str().replace('_', "-"));
    let password = "a long enough password".to_owned();
    IdentityServiceClient::new(app.channel().await)
        .create_user(with_token(
            CreateUserRequest {
                username: username.clone(),
                password: password.clone(),
                display_name: "测试用户".into(),
                role: role.to_proto() as i32,
                store_ids: stores.to_vec(),
                userid: String::new(),
            },
            &admin,
        ))
        .await
        .expect("the admin creates the user");
    (username, password)
}

/// The `name=value` pairs of a response's Set-Cookie headers.
fn cookies(response: &reqwest::Response) -> Vec<(String, String, String)> {
    response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .filter_map(|cookie| {
            let (pair, attributes) = cookie.split_once(';').unwrap_or((cookie, ""));
            let (name, value) = pair.split_once('=')?;
            Some((name.to_owned(), value.to_owned(), attributes.to_owned()))
        })
        .collect()
}

#[tokio::test]
async fn without_a_credential_the_api_answers_401_and_a_token_opens_it() {
    let app = secure_app().await;
    let response = http().get(format!("{}/api/overview", app.url())).send().await.unwrap();
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "unauthenticated");

    let mut customers = CustomerServiceClient::new(app.channel().await);
    let status = customers.count_customers(CountCustomersRequest {}).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::Unauthenticated);

    let token = app.token(Role::Operator, &[]).await;
    assert_eq!(bearer(&token).get(format!("{}/api/overview", app.url())).send().await.unwrap().status(), 200);
    assert!(customers.count_customers(with_token(CountCustomersRequest {}, &token)).await.is_ok());
    let wrong = bearer("scrm_not-a-token").get(format!("{}/api/overview", app.url())).send().await.unwrap();
    assert_eq!(wrong.status(), 401);
    assert_eq!(http().get(format!("{}/healthz", app.url())).send().await.unwrap().status(), 200, "probes stay open");
}

#[tokio::test]
async fn a_revoked_token_stops_working_at_once() {
    let app = secure_app().await;
    let admin = app.token(Role::Admin, &[]).await;
    let mut identity = IdentityServiceClient::new(app.channel().await);
    let created = identity
        .create_api_token(with_token(
            CreateApiTokenRequest {
                name: "数据中台".into(),
                role: Role::Operator.to_proto() as i32,
                ..Default::default()
            },
            &admin,
        ))
        .await
        .unwrap()
        .into_inner();
    let token = created.token;
    assert!(token.starts_with("scrm_"));
    assert_eq!(bearer(&token).get(format!("{}/api/overview", app.url())).send().await.unwrap().status(), 200);
    let id = created.api_token.unwrap().id;
    identity.revoke_api_token(with_token(RevokeApiTokenRequest { id }, &admin)).await.unwrap();
    assert_eq!(bearer(&token).get(format!("{}/api/overview", app.url())).send().await.unwrap().status(), 401);
}

#[tokio::test]
async fn a_browser_signs_in_with_a_password_and_writes_need_the_csrf_token() {
    let app = secure_app().await;
    let (username, password) = create_user(&app, Role::Operator, &[]).await;
    let url = |path: &str| format!("{}{path}", app.url());

    let wrong = http().post(url("/api/auth/login")).json(&json!({"username": username, "password": "nope"})).send();
    assert_eq!(wrong.await.unwrap().status(), 401);
    let missing = http().post(url("/api/auth/login")).json(&json!({"username": username})).send().await.unwrap();
    assert_eq!(missing.status(), 400);
    assert_eq!(missing.json::<Value>().await.unwrap()["field"], "password");

    let login = http().post(url("/api/auth/login")).json(&json!({"username": username, "password": password}));
    let response = login.send().await.unwrap();
    assert_eq!(response.status(), 200);
    let cookies = cookies(&response);
    let session = cookies.iter().find(|(name, ..)| name == "scrm_session").expect("a session cookie");
    assert!(session.2.contains("HttpOnly"), "{}", session.2);
    let csrf = cookies.iter().find(|(name, ..)| name == "scrm_csrf").expect("a CSRF cookie").1.clone();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["user"]["role"], "operator");
    assert!(body.to_string().find(&session.1).is_none(), "the session token stays out of the body");
    let cookie = format!("scrm_session={}; scrm_csrf={csrf}", session.1);

    let me: Value =
        http().get(url("/api/auth/me")).header("cookie", &cookie).send().await.unwrap().json().await.unwrap();
    assert_eq!((me["role"].as_str(), me["displayName"].as_str()), (Some("operator"), Some("测试用户")));
    let no_csrf = http().post(url("/api/auth/logout")).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(no_csrf.status(), 403, "a state-changing call without the CSRF header is refused");
    let logout = http().post(url("/api/auth/logout")).header("cookie", &cookie).header("x-csrf-token", &csrf);
    assert_eq!(logout.send().await.unwrap().status(), 200);
    let after = http().get(url("/api/auth/me")).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(after.status(), 401, "the session ended with the sign-out");
}

#[tokio::test]
async fn staff_sign_in_with_wecom_oauth_through_the_simulator() {
    let sim = Simulator::new(
        SimConfig::default(),
        World::generate(7, WorldSize { departments: 2, staff: 3, customers: 5, groups: 1 }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(scrm_wecom_sim::serve(listener, sim.clone()));
    let userid = sim.with_world(|world| world.staff[0].userid.clone());
    let app = TestApp::spawn_with(&[], |config| {
        config.auth.local_caller = false;
        config.auth.default_staff_role = "support".into();
        config.wecom.api_base = sim_url;
        config.wecom.corp_id = SimConfig::default().corp_id;
        config.wecom.secret = SimConfig::default().corp_secrets[0].clone();
    })
    .await;
    let start = http()
        .get(format!("{}/api/auth/wecom-url", app.url()))
        .query(&[("redirect", "https://scrm.example.com/login/wecom")])
        .send()
        .await
        .unwrap();
    let start: Value = start.json().await.unwrap();
    let state = start["state"].as_str().unwrap().to_owned();
    assert!(start["url"].as_str().unwrap().contains(&format!("state={state}")), "{start}");

    let code = sim.issue_oauth_code(&userid);
    let login = http().post(format!("{}/api/auth/login", app.url())).json(&json!({"code": code, "state": state}));
    let response = login.send().await.unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        (body["user"]["userid"].as_str(), body["user"]["role"].as_str()),
        (Some(userid.as_str()), Some("support"))
    );

    let again = sim.issue_oauth_code(&userid);
    let replay = http().post(format!("{}/api/auth/login", app.url())).json(&json!({"code": again, "state": state}));
    let replay = replay.send().await.unwrap();
    assert_eq!(replay.status(), 401, "a sign-in state is single use");
    assert_eq!(replay.json::<Value>().await.unwrap()["field"], "wecom_code.state");

    let mut identity = IdentityServiceClient::new(app.channel().await);
    let url = identity
        .get_wecom_login_url(GetWecomLoginUrlRequest {
            redirect_uri: "https://scrm.example.com/login/wecom".into(),
            kind: WecomLoginKind::Oauth as i32,
        })
        .await
        .expect("GetWecomLoginUrl needs no caller")
        .into_inner();
    assert!(url.url.contains("response_type=code") && url.url.ends_with("#wechat_redirect"), "{}", url.url);
}

/// Calls the identity service straight, as a trusted peer would, with a caller of `role`.
fn as_role<T>(message: T, role: Role) -> tonic::Request<T> {
    as_peer(message, &format!("{role}-someone"), role, &["1"])
}

#[tokio::test]
async fn every_role_is_refused_a_forbidden_call_at_the_service() {
    let app = TestApp::spawn_with(&[ServiceKind::Identity], |config| {
        config.cluster.token = PEER_TOKEN.into();
        config.auth.local_caller = false;
    })
    .await;
    let mut identity = IdentityServiceClient::new(app.channel().await);
    let token = CreateApiTokenRequest { name: "x".into(), role: Role::Admin.to_proto() as i32, ..Default::default() };
    let operator = identity.create_api_token(as_role(token.clone(), Role::Operator)).await;
    assert_eq!(denied(operator), tonic::Code::PermissionDenied, "an operator may not mint tokens");
    let support = identity.start_sync(as_role(StartSyncRequest::default(), Role::Support)).await;
    assert_eq!(denied(support), tonic::Code::PermissionDenied, "support may not start a sync");
    let manager = identity.list_users(as_role(ListUsersRequest::default(), Role::StoreManager)).await;
    assert_eq!(denied(manager), tonic::Code::PermissionDenied, "a store manager may not list users");
    let koc = identity.list_audit_log(as_role(ListAuditLogRequest::default(), Role::Koc)).await;
    assert_eq!(denied(koc), tonic::Code::PermissionDenied, "a KOC may not read the audit log");
    let anonymous = identity.list_users(ListUsersRequest::default()).await;
    assert_eq!(denied(anonymous), tonic::Code::Unauthenticated, "no caller, no answer");
    let admin = identity.create_api_token(as_role(token, Role::Admin)).await;
    assert!(admin.is_ok(), "the admin may: {admin:?}");
}

#[tokio::test]
async fn state_changing_calls_land_in_the_audit_log() {
    let app = secure_app().await;
    let admin = app.token(Role::Admin, &[]).await;
    let (username, _) = create_user(&app, Role::Support, &[]).await;
    let mut identity = IdentityServiceClient::new(app.channel().await);
    let sync = identity.start_sync(with_token(StartSyncRequest::default(), &admin)).await;
    assert!(sync.is_err(), "no corp is configured, so the sync fails and is not recorded");
    let entries = identity
        .list_audit_log(with_token(
            ListAuditLogRequest { action_prefix: "identity.".into(), ..Default::default() },
            &admin,
        ))
        .await
        .unwrap()
        .into_inner()
        .entries;
    let created = entries.iter().find(|entry| entry.action == "identity.user.create").expect("the creation is audited");
    assert!(created.summary.contains("测试用户"), "{}", created.summary);
    assert!(
        created.after_json.contains(&username) && !created.after_json.contains("password"),
        "{}",
        created.after_json
    );
    assert!(created.actor_name.starts_with("token-"), "{}", created.actor_name);
    assert!(entries.iter().all(|entry| entry.action != "identity.StartSync"));
}
