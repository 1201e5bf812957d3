//! The corp binding changed on the settings page: an admin binds the corp (the connection check uses the new
//! credentials at once), rotates the callback keys (callbacks signed with the new keys are accepted at once,
//! the old ones refused), every change is audited without secrets, and only admins may do it; a corp
//! configured through `wecom.*` settings cannot be changed through the API.

use scrm_kernel::Role;
use scrm_proto::identity::v1::identity_service_client::IdentityServiceClient;
use scrm_proto::identity::v1::{
    CheckCorpConnectionRequest, GetCorpSettingsRequest, ListAuditLogRequest, ListCallbackEventsRequest,
    RotateCallbackKeysRequest, UpdateCorpSettingsRequest,
};
use scrm_wecom_crypto::{CallbackCrypto, SealedPost};

use crate::harness::{TestApp, http, with_token};
use crate::sync::{app_on, simulator};

const SIM_CORP: &str = "wwsimcorp0000000001";
const OLD_TOKEN: &str = "QDG6eK";
const OLD_KEY: &str = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";

fn event(external_userid: &str) -> String {
    format!(
        "<xml><ToUserName><![CDATA[{SIM_CORP}]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName>\
<CreateTime>1700000000</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[change_external_contact]]></Event>\
<ChangeType><![CDATA[edit_external_contact]]></ChangeType><UserID><![CDATA[zhangsan]]></UserID>\
<ExternalUserID><![CDATA[{external_userid}]]></ExternalUserID></xml>"
    )
}

fn seal(token: &str, key: &str, xml: &str) -> SealedPost {
    let crypto = CallbackCrypto::new(token, key, SIM_CORP).unwrap();
    crypto.seal_post(xml, "1700000001", "nonce123", Some(SIM_CORP), Some("1000002")).unwrap()
}

async fn deliver(app: &TestApp, post: &SealedPost) -> u16 {
    deliver_to(&app.url(), post).await
}

async fn deliver_to(base: &str, post: &SealedPost) -> u16 {
    let response = http()
        .post(format!("{base}/wecom/callback"))
        .query(&[("msg_signature", &post.msg_signature), ("timestamp", &post.timestamp), ("nonce", &post.nonce)])
        .body(post.body.clone())
        .send()
        .await
        .unwrap();
    response.status().as_u16()
}

fn field_of(status: &tonic::Status) -> String {
    status
        .metadata()
        .get(scrm_kernel::error::ERROR_FIELD_KEY)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn an_admin_binds_the_corp_and_rotated_callback_keys_apply_at_once() {
    let (_sim, sim_url, _) = simulator().await;
    let app = TestApp::spawn_with(&[], move |config| config.wecom.api_base = sim_url).await;
    let mut identity = IdentityServiceClient::new(app.channel().await);
    let admin = app.token(Role::Admin, &[]).await;
    let operator = app.token(Role::Operator, &[]).await;

    let before = identity.get_corp_settings(with_token(GetCorpSettingsRequest {}, &admin)).await.unwrap();
    let before = before.into_inner().settings.unwrap();
    assert!(before.corp_id.is_empty() && !before.managed_by_config, "{before:?}");
    assert!(
        !identity
            .check_corp_connection(with_token(CheckCorpConnectionRequest {}, &admin))
            .await
            .unwrap()
            .into_inner()
            .ok
    );

    let bind = UpdateCorpSettingsRequest {
        corp_id: Some(SIM_CORP.into()),
        corp_name: Some("模拟企业".into()),
        agentid: Some(1_000_002),
        secret: Some("sim-secret".into()),
        callback_token: Some(OLD_TOKEN.into()),
        encoding_aes_key: Some(OLD_KEY.into()),
        public_base_url: Some("https://scrm.example.com/".into()),
        ..Default::default()
    };
    let refused = identity.update_corp_settings(with_token(bind.clone(), &operator)).await.unwrap_err();
    assert_eq!(refused.code(), tonic::Code::PermissionDenied, "only admins change the corp, at the service");
    let bad = UpdateCorpSettingsRequest { callback_token: Some("a!".into()), ..Default::default() };
    let invalid = identity.update_corp_settings(with_token(bad, &admin)).await.unwrap_err();
    assert_eq!((invalid.code(), field_of(&invalid).as_str()), (tonic::Code::InvalidArgument, "callback_token"));

    let settings =
        identity.update_corp_settings(with_token(bind, &admin)).await.unwrap().into_inner().settings.unwrap();
    assert_eq!(
        (settings.corp_id.as_str(), settings.corp_name.as_str(), settings.agentid),
        (SIM_CORP, "模拟企业", 1_000_002)
    );
    assert!(settings.secret_set && settings.callback_token_set && settings.encoding_aes_key_set);
    assert_eq!(settings.callback_url, "https://scrm.example.com/wecom/callback");
    assert!(settings.updated_at.is_some());
    let check = identity.check_corp_connection(with_token(CheckCorpConnectionRequest {}, &admin)).await.unwrap();
    assert!(check.get_ref().ok, "the new credentials are used at once: {:?}", check.get_ref());

    assert_eq!(deliver(&app, &seal(OLD_TOKEN, OLD_KEY, &event("wm-before"))).await, 200, "the keys set apply at once");

    let refused = identity.rotate_callback_keys(with_token(RotateCallbackKeysRequest {}, &operator)).await.unwrap_err();
    assert_eq!(refused.code(), tonic::Code::PermissionDenied);
    let rotated = identity.rotate_callback_keys(with_token(RotateCallbackKeysRequest {}, &admin)).await.unwrap();
    let rotated = rotated.into_inner();
    assert_eq!((rotated.callback_token.len(), rotated.encoding_aes_key.len()), (32, 43));
    assert_ne!(rotated.callback_token, OLD_TOKEN);
    assert_eq!(rotated.callback_url, "https://scrm.example.com/wecom/callback");

    let new_keys = seal(&rotated.callback_token, &rotated.encoding_aes_key, &event("wm-after"));
    assert_eq!(deliver(&app, &new_keys).await, 200, "a callback signed with the new keys is accepted");
    assert_eq!(deliver(&app, &seal(OLD_TOKEN, OLD_KEY, &event("wm-stale"))).await, 401, "the old keys are refused");
    let events = identity.list_callback_events(with_token(ListCallbackEventsRequest::default(), &admin)).await.unwrap();
    let mut stored: Vec<_> = events.into_inner().events.into_iter().map(|event| event.raw_xml).collect();
    stored.sort();
    assert_eq!(stored.len(), 2, "{stored:?}");
    assert!(stored[0].contains("wm-after") && stored[1].contains("wm-before"));

    let after = identity.get_corp_settings(with_token(GetCorpSettingsRequest {}, &admin)).await.unwrap();
    assert!(!format!("{:?}", after.get_ref()).contains(&rotated.callback_token), "the keys are shown once");

    let saved = scrm_identity::stored_corp_settings(&app.db().await).await.unwrap().expect("the changes are stored");
    assert_eq!(saved.corp_id.as_deref(), Some(SIM_CORP));
    assert_eq!(saved.callback_token.as_deref(), Some(rotated.callback_token.as_str()));

    let unchanged = UpdateCorpSettingsRequest { corp_id: Some(SIM_CORP.into()), ..Default::default() };
    identity.update_corp_settings(with_token(unchanged, &admin)).await.unwrap();
    let audit = ListAuditLogRequest { action_prefix: "identity.corp".into(), ..Default::default() };
    let entries = identity.list_audit_log(with_token(audit, &admin)).await.unwrap().into_inner().entries;
    let actions: Vec<_> = entries.iter().map(|entry| entry.action.as_str()).collect();
    assert_eq!(actions.len(), 2, "one entry per change, none for a change to nothing: {actions:?}");
    assert!(
        actions.contains(&"identity.corp.update") && actions.contains(&"identity.corp.rotate_callback_keys"),
        "{actions:?}"
    );
    let logged = format!("{entries:?}");
    assert!(!logged.contains("sim-secret") && !logged.contains(&rotated.encoding_aes_key), "no secret is audited");
}

#[tokio::test]
async fn a_corp_configured_in_settings_cannot_be_changed_through_the_api() {
    let (_sim, sim_url, _) = simulator().await;
    let app = app_on(&sim_url).await;
    let mut identity = IdentityServiceClient::new(app.channel().await);
    let admin = app.token(Role::Admin, &[]).await;
    let update = UpdateCorpSettingsRequest { corp_name: Some("新名字".into()), ..Default::default() };
    let refused = identity.update_corp_settings(with_token(update, &admin)).await.unwrap_err();
    assert_eq!(refused.code(), tonic::Code::FailedPrecondition);
    let refused = identity.rotate_callback_keys(with_token(RotateCallbackKeysRequest {}, &admin)).await.unwrap_err();
    assert_eq!(refused.code(), tonic::Code::FailedPrecondition);
}

#[tokio::test]
async fn settings_changed_through_the_api_apply_after_a_restart() {
    let app = TestApp::spawn().await;
    let mut identity = IdentityServiceClient::new(app.channel().await);
    let admin = app.token(Role::Admin, &[]).await;
    let bind = UpdateCorpSettingsRequest {
        corp_id: Some(SIM_CORP.into()),
        corp_name: Some("重启后仍在".into()),
        timezone: Some("Asia/Urumqi".into()),
        ..Default::default()
    };
    identity.update_corp_settings(with_token(bind, &admin)).await.unwrap();
    let rotated = identity.rotate_callback_keys(with_token(RotateCallbackKeysRequest {}, &admin)).await.unwrap();
    let rotated = rotated.into_inner();

    // A second process over the same database, running the identity service (the first keeps the search index).
    let mut config = app.config.clone();
    config.cluster.token = "corp-settings-test".into();
    let identity_only = [scrm_kernel::ServiceKind::Identity].into_iter().collect();
    let restarted = scrm::Server::start(config, &identity_only).await.expect("the second start");
    let base = format!("http://{}", restarted.local_addr());
    let post = seal(&rotated.callback_token, &rotated.encoding_aes_key, &event("wm-restart"));
    assert_eq!(deliver_to(&base, &post).await, 200, "the rotated keys are read back at start");
    let channel = tonic::transport::Channel::from_shared(base).unwrap().connect().await.unwrap();
    let mut second = IdentityServiceClient::new(channel);
    let settings = second.get_corp_settings(with_token(GetCorpSettingsRequest {}, &admin)).await.unwrap();
    let settings = settings.into_inner().settings.unwrap();
    assert_eq!((settings.corp_id.as_str(), settings.corp_name.as_str()), (SIM_CORP, "重启后仍在"));
    assert_eq!(settings.timezone, "Asia/Urumqi");
    assert!(settings.callback_token_set && settings.encoding_aes_key_set && settings.updated_at.is_some());
    restarted.stop().await.unwrap();
}
