//! The WeCom callback URL: URL verification, encrypted events stored once in the inbox however
//! often WeCom retries them, and forged or broken deliveries refused with no state change.

use scrm_kernel::Role;
use scrm_proto::identity::v1::ListCallbackEventsRequest;
use scrm_proto::identity::v1::identity_service_client::IdentityServiceClient;
use scrm_wecom_crypto::{CallbackCrypto, SealedPost};
use serde_json::Value;

use crate::harness::{TestApp, http};

const CORP_ID: &str = "ww5823bf96d3bd56c7";
const TOKEN: &str = "QDG6eK";
const AES_KEY: &str = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";

const ADD_CONTACT: &str = "<xml><ToUserName><![CDATA[ww5823bf96d3bd56c7]]></ToUserName>\
<FromUserName><![CDATA[sys]]></FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[event]]></MsgType>\
<Event><![CDATA[change_external_contact]]></Event><ChangeType><![CDATA[add_external_contact]]></ChangeType>\
<UserID><![CDATA[zhangsan]]></UserID><ExternalUserID><![CDATA[wmEAlECwAAHrbWYDOK5u3Af13xlYDDNQ]]></ExternalUserID>\
<State><![CDATA[campaign-42]]></State><WelcomeCode><![CDATA[WELCOMECODE]]></WelcomeCode></xml>";

async fn app() -> TestApp {
    TestApp::spawn_with(&[], |config| {
        config.wecom.corp_id = CORP_ID.into();
        config.wecom.callback_token = TOKEN.into();
        config.wecom.encoding_aes_key = AES_KEY.into();
        config.caller.role = Role::Admin;
    })
    .await
}

fn seal(receive_id: &str, xml: &str) -> SealedPost {
    let crypto = CallbackCrypto::new(TOKEN, AES_KEY, receive_id).unwrap();
    crypto.seal_post(xml, "1700000001", "nonce123", Some(receive_id), Some("1000002")).unwrap()
}

async fn deliver(app: &TestApp, post: &SealedPost) -> reqwest::Response {
    http()
        .post(format!("{}/wecom/callback", app.url()))
        .query(&[("msg_signature", &post.msg_signature), ("timestamp", &post.timestamp), ("nonce", &post.nonce)])
        .body(post.body.clone())
        .send()
        .await
        .unwrap()
}

async fn inbox(app: &TestApp) -> Vec<scrm_proto::identity::v1::CallbackEvent> {
    let mut identity = IdentityServiceClient::new(app.channel().await);
    identity.list_callback_events(ListCallbackEventsRequest::default()).await.unwrap().into_inner().events
}

#[tokio::test]
async fn url_verification_echoes_the_decrypted_echostr() {
    let app = app().await;
    let crypto = CallbackCrypto::new(TOKEN, AES_KEY, CORP_ID).unwrap();
    let echostr = crypto.encrypt("1616140317555161061").unwrap();
    let msg_signature = crypto.signature("1409659589", "263014780", &echostr);
    let response = http()
        .get(format!("{}/wecom/callback", app.url()))
        .query(&[
            ("msg_signature", msg_signature.as_str()),
            ("timestamp", "1409659589"),
            ("nonce", "263014780"),
            ("echostr", &echostr),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "1616140317555161061");
}

#[tokio::test]
async fn an_event_delivered_three_times_is_stored_once() {
    let app = app().await;
    let post = seal(CORP_ID, ADD_CONTACT);
    for _ in 0..3 {
        let response = deliver(&app, &post).await;
        assert_eq!(response.status(), 200);
    }
    let events = inbox(&app).await;
    assert_eq!(events.len(), 1, "WeCom's retries change nothing");
    assert_eq!(events[0].event, "change_external_contact");
    assert_eq!(events[0].change_type, "add_external_contact");
    assert!(events[0].raw_xml.contains("campaign-42"));
}

#[tokio::test]
async fn forged_tampered_or_misaddressed_deliveries_are_refused_and_change_nothing() {
    let app = app().await;
    let mut forged = seal(CORP_ID, ADD_CONTACT);
    forged.msg_signature = "0".repeat(40);
    let response = deliver(&app, &forged).await;
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "unauthenticated");

    let mut tampered = seal(CORP_ID, ADD_CONTACT);
    tampered.body = tampered.body.replacen("<Encrypt><![CDATA[", "<Encrypt><![CDATA[AAAA", 1);
    assert!(deliver(&app, &tampered).await.status().is_client_error());

    let other_corp = seal("wwsomeoneelse000000", ADD_CONTACT);
    let response = deliver(&app, &other_corp).await;
    assert_eq!(response.status(), 400);

    assert!(inbox(&app).await.is_empty(), "nothing refused reached the inbox");
}

#[tokio::test]
async fn without_wecom_configured_the_callback_says_so() {
    let app = TestApp::spawn().await;
    let response = deliver(&app, &seal(CORP_ID, ADD_CONTACT)).await;
    assert_eq!(response.status(), 409);
    let body: Value = response.json().await.unwrap();
    assert!(body["message"].as_str().unwrap().contains("wecom.callback_token"), "{body}");
}
