//! Corp tags end to end against the WeCom simulator: the sync pulls the library and names customers' tags,
//! the REST API creates, renames and deletes tags in WeCom first, tags a customer (`mark_tag`) so that the
//! profile and the simulator both show it, and a `change_external_tag` callback brings a rename made in WeCom.

use scrm_kernel::Role;
use scrm_proto::identity::v1::IngestCallbackEventRequest;
use scrm_proto::identity::v1::identity_service_client::IdentityServiceClient;
use scrm_wecom::{EditCorpTagRequest, WeComClient, WeComConfig};
use serde_json::{Value, json};

use crate::customer_profile::{Synced, synced_app};
use crate::harness::{http, with_token};
use crate::inbox::eventually;

/// `GET path` as the local operator: the JSON answer of a 200.
async fn get(app: &crate::harness::TestApp, path: &str) -> Value {
    let response = http().get(format!("{}{path}", app.url())).send().await.unwrap();
    assert_eq!(response.status(), 200, "GET {path}");
    response.json().await.unwrap()
}

async fn tags(app: &crate::harness::TestApp) -> Value {
    get(app, "/api/crm/tags").await
}

/// `POST path` with a JSON body as the local operator: the status and the JSON answer.
async fn post(app: &crate::harness::TestApp, path: &str, body: Value) -> (u16, Value) {
    let response = http().post(format!("{}{path}", app.url())).json(&body).send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

fn tag_names(library: &Value) -> Vec<String> {
    let groups = library["groups"].as_array().unwrap();
    groups
        .iter()
        .flat_map(|group| group["tags"].as_array().unwrap())
        .map(|tag| tag["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn tags_sync_from_wecom_and_writes_go_to_wecom_first() {
    let Synced { app, sim, external_userid, follower, .. } = synced_app().await;
    let library = tags(&app).await;
    let wecom_names: Vec<String> = sim.with_world(|world| {
        world.tag_groups.iter().flat_map(|group| &group.tags).map(|tag| tag.name.clone()).collect()
    });
    let mut listed = tag_names(&library);
    listed.sort();
    let mut expected = wecom_names.clone();
    expected.sort();
    assert_eq!(listed, expected, "the sync pulled the whole library");
    let profile = get(&app, &format!("/api/crm/customers/{external_userid}")).await;
    for tag in profile["tags"].as_array().unwrap() {
        assert!(wecom_names.contains(&tag["tagName"].as_str().unwrap().to_owned()), "synced tags are named: {tag}");
    }

    let body = json!({"groupName": "会员偏好", "tags": [{"name": "喜欢盲盒"}, {"name": "喜欢手办"}]});
    let (status, created) = post(&app, "/api/crm/tags", body).await;
    assert_eq!(status, 200, "{created}");
    let group_id = created["group"]["groupId"].as_str().unwrap().to_owned();
    let tag_id = created["group"]["tags"][0]["tagId"].as_str().unwrap().to_owned();
    assert!(sim.with_world(|world| world.tag_groups.iter().any(|group| group.group_id == group_id)));

    let tagging = format!("/api/crm/customers/{external_userid}/tags");
    let (status, marked) = post(&app, &tagging, json!({"userid": follower, "addTagIds": [tag_id]})).await;
    assert_eq!(status, 200, "{marked}");
    assert!(marked["tags"].as_array().unwrap().iter().any(|tag| tag["tagId"] == tag_id.as_str()), "{marked}");
    let in_wecom = sim.with_world(|world| {
        let customer = world.customers.iter().find(|customer| customer.external_userid == external_userid).unwrap();
        customer.follow.iter().any(|follow| follow.userid == follower && follow.tags.contains(&tag_id))
    });
    assert!(in_wecom, "mark_tag wrote the tag back to WeCom");
    let profile = get(&app, &format!("/api/crm/customers/{external_userid}")).await;
    assert!(profile["tags"].as_array().unwrap().iter().any(|tag| tag["tagId"] == tag_id.as_str()));

    let (status, body) = post(&app, &tagging, json!({"userid": follower, "addTagIds": ["et_nope"]})).await;
    assert_eq!((status, body["field"].as_str()), (404, Some("add_tag_ids")));

    let config = scrm_wecom_sim::SimConfig::default();
    let wecom = WeComClient::new(
        WeComConfig::new(config.corp_id, config.corp_secrets[0].clone())
            .with_api_base(app.config.wecom.api_base.as_str()),
    )
    .unwrap();
    let rename = EditCorpTagRequest { id: tag_id.clone(), name: Some("超爱盲盒".into()), ..Default::default() };
    wecom.edit_corp_tag(&rename).await.unwrap();
    let event = format!(
        "<xml><ToUserName><![CDATA[wwsimcorp0000000001]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName>\
         <CreateTime>1700000000</CreateTime><MsgType><![CDATA[event]]></MsgType>\
         <Event><![CDATA[change_external_tag]]></Event><ChangeType><![CDATA[update]]></ChangeType>\
         <Id><![CDATA[{tag_id}]]></Id><TagType><![CDATA[tag]]></TagType></xml>"
    );
    let mut identity = IdentityServiceClient::new(app.channel().await);
    let ingest = IngestCallbackEventRequest { dedup_key: "tag-rename".into(), raw_xml: event, received_at: None };
    let admin = app.token(Role::Admin, &[]).await;
    identity.ingest_callback_event(with_token(ingest, &admin)).await.unwrap();
    let renamed = eventually(true, async || Some(tag_names(&tags(&app).await).contains(&"超爱盲盒".to_owned()))).await;
    assert_eq!(renamed, Some(true), "the callback brought WeCom's rename");

    let deleted = http().delete(format!("{}/api/crm/tags/groups/{group_id}", app.url())).send().await.unwrap();
    assert_eq!(deleted.status(), 200);
    let deleted: Value = deleted.json().await.unwrap();
    assert_eq!(deleted["customersAffected"], 1);
    assert!(sim.with_world(|world| world.tag_groups.iter().all(|group| group.group_id != group_id)));
    assert!(!tag_names(&tags(&app).await).contains(&"喜欢手办".to_owned()));
}
