//! Join ways and welcome messages end to end (PR04, PR05), against the simulator pushing its encrypted callbacks:
//! a customer joining through a join way created in scrm shows with its `state` and is welcomed once by the
//! group's robot; a burst of joins gets one combined welcome naming them; a staff join and a redelivered
//! callback welcome nobody; a customer added through a contact way gets `send_welcome_msg` inside WeCom's
//! 20-second window.

use std::time::Duration;

use scrm_proto::group::v1::group_service_client::GroupServiceClient;
use scrm_proto::group::v1::{
    ContactWelcomeSkipReason, CreateJoinWayRequest, CreateWelcomeRuleRequest, GetGroupRequest,
    GetWelcomeCoverageRequest, GetWelcomeRuleRequest, JoinWay, JoinWayScene, ListGroupsRequest,
    RecordWelcomeTemplateAppliedRequest, SendContactWelcomeRequest, TemplateSyncState, UpdateJoinWayRequest,
    UpdateWelcomeRuleRequest, UpdateWelcomeSettingsRequest, WelcomeChannel, WelcomeContent, WelcomeCoverage,
    WelcomeRule, WelcomeScope, WelcomeScopeKind, WelcomeSettings, get_group_request,
};
use scrm_proto::identity::v1::identity_service_client::IdentityServiceClient;
use scrm_proto::identity::v1::{IngestCallbackEventRequest, ListCallbackEventsRequest, ReprocessCallbackEventRequest};
use scrm_proto::messaging::v1::UpsertGroupRobotRequest;
use scrm_proto::messaging::v1::messaging_service_client::MessagingServiceClient;
use scrm_wecom::ContactWay;
use scrm_wecom_sim::Simulator;
use tonic::transport::Channel;

use crate::harness::http;
use crate::inbox::{Corp, corp, eventually, full_sync};

/// The simulator's robot key.
const ROBOT_KEY: &str = "sim-webhook-key";

fn rule(name: &str, scope: WelcomeScope, channel: WelcomeChannel, text: &str) -> WelcomeRule {
    WelcomeRule {
        name: name.into(),
        scope: Some(scope),
        content: Some(WelcomeContent { text: text.into(), attachment: None }),
        channels: vec![channel as i32],
        enabled: true,
        ..WelcomeRule::default()
    }
}

fn campaign(state: &str) -> WelcomeScope {
    WelcomeScope { kind: WelcomeScopeKind::Campaign as i32, states: vec![state.into()], ..WelcomeScope::default() }
}

/// Robot posts the simulator received.
fn robot_posts(sim: &Simulator) -> Vec<String> {
    sim.delivered()
        .into_iter()
        .filter(|delivered| delivered.api == "webhook/send")
        .map(|delivered| delivered.body["text"]["content"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// (state, type, welcomed) of a member on the group's detail.
async fn member_on_detail(channel: Channel, chat_id: &str, userid: &str) -> Option<(String, i32, bool)> {
    let request =
        GetGroupRequest { key: Some(get_group_request::Key::ChatId(chat_id.into())), include_left_members: false };
    let detail = GroupServiceClient::new(channel).get_group(request).await.ok()?.into_inner();
    detail
        .members
        .into_iter()
        .find(|member| member.userid == userid)
        .map(|member| (member.state, member.r#type, member.welcomed))
}

#[tokio::test]
async fn join_way_members_get_one_robot_welcome_and_bursts_one_combined_welcome() {
    let Corp { sim, app, .. } = corp().await;
    let channel = app.channel().await;
    full_sync(channel.clone()).await;
    let mut group = GroupServiceClient::new(channel.clone());
    let (chat_id, staff, customers) = sim.with_world(|world| {
        let group = world.groups.iter().find(|group| !group.dismissed && group.members.len() < 400).unwrap();
        let staff = world.staff.iter().find(|staff| !group.members.iter().any(|member| member.userid == staff.userid));
        let customers: Vec<String> = world
            .customers
            .iter()
            .filter(|customer| !group.members.iter().any(|member| member.userid == customer.external_userid))
            .take(21)
            .map(|customer| customer.external_userid.clone())
            .collect();
        (group.chat_id.clone(), staff.unwrap().userid.clone(), customers)
    });
    let robot = UpsertGroupRobotRequest {
        chat_id: chat_id.clone(),
        name: "小助手".into(),
        webhook_key: ROBOT_KEY.into(),
        enabled: true,
    };
    let registered = MessagingServiceClient::new(channel.clone()).upsert_group_robot(robot).await.unwrap();
    let registered = registered.into_inner().robot.unwrap();
    assert!(registered.webhook_key_masked.ends_with("-key") && !registered.webhook_key_masked.contains(ROBOT_KEY));
    // The key is stored encrypted under the key file generated in the data directory, readable by its owner only.
    let stored: String = sqlx::query_scalar("SELECT webhook_key FROM messaging_group_robot WHERE chat_id = ?")
        .bind(&chat_id)
        .fetch_one(app.db().await.pool())
        .await
        .unwrap();
    assert!(stored.starts_with("v1:") && !stored.contains(ROBOT_KEY), "{stored}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let key_file = app.config.data_dir.join("robot-webhook.key");
        assert_eq!(std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let window = WelcomeSettings {
        robot_burst_window: Some(prost_types::Duration { seconds: 3, nanos: 0 }),
        ..WelcomeSettings::default()
    };
    let settings = UpdateWelcomeSettingsRequest {
        settings: Some(window),
        update_mask: Some(prost_types::FieldMask { paths: vec!["robot_burst_window".into()] }),
    };
    group.update_welcome_settings(settings).await.unwrap();
    let welcome =
        rule("春季活动欢迎语", campaign("e2e_spring"), WelcomeChannel::Robot, "欢迎%NICKNAME%加入%GROUP_NAME%！");
    let rule_id = group
        .create_welcome_rule(CreateWelcomeRuleRequest { rule: Some(welcome) })
        .await
        .unwrap()
        .into_inner()
        .rule
        .unwrap()
        .id;
    let way = CreateJoinWayRequest {
        scene: JoinWayScene::QrCode as i32,
        remark: "春季活动".into(),
        chat_id_list: vec![chat_id.clone()],
        state: "e2e_spring".into(),
        idempotency_key: "e2e-join-way".into(),
        ..CreateJoinWayRequest::default()
    };
    let way = group.create_join_way(way.clone()).await.unwrap().into_inner().join_way.unwrap();
    assert!(way.qr_code.starts_with("https://"), "{way:?}");

    // A staff member and a customer join through the way: both carry its state; only the customer is welcomed.
    assert_eq!(sim.scan_join_way(&way.config_id, &staff).as_deref(), Some(chat_id.as_str()));
    assert_eq!(sim.scan_join_way(&way.config_id, &customers[0]).as_deref(), Some(chat_id.as_str()));
    let customer = eventually(Some(("e2e_spring".to_owned(), 2, true)), async || {
        Some(member_on_detail(channel.clone(), &chat_id, &customers[0]).await)
    })
    .await;
    assert_eq!(customer, Some(Some(("e2e_spring".to_owned(), 2, true))), "the detail shows the state and the welcome");
    let staff_member = member_on_detail(channel.clone(), &chat_id, &staff).await;
    assert_eq!(staff_member, Some(("e2e_spring".to_owned(), 1, false)), "staff joins are never welcomed");
    let posts = robot_posts(&sim);
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert!(posts[0].starts_with("欢迎") && posts[0].ends_with("！"), "{posts:?}");

    // WeCom redelivers the join and an admin reprocesses it: nobody is welcomed twice.
    let mut identity = IdentityServiceClient::new(channel.clone());
    let events = identity.list_callback_events(ListCallbackEventsRequest::default()).await.unwrap().into_inner().events;
    let join = events.iter().find(|event| event.raw_xml.contains("add_member")).unwrap().clone();
    let again = IngestCallbackEventRequest {
        dedup_key: join.dedup_key.clone(),
        raw_xml: join.raw_xml.clone(),
        received_at: None,
    };
    assert!(identity.ingest_callback_event(again).await.unwrap().into_inner().duplicate);
    identity.reprocess_callback_event(ReprocessCallbackEventRequest { id: join.id }).await.unwrap();

    // A burst of 20 joins gets one welcome naming them all.
    for customer in &customers[1..] {
        assert_eq!(sim.scan_join_way(&way.config_id, customer).as_deref(), Some(chat_id.as_str()));
    }
    let posted = eventually(2, async || Some(robot_posts(&sim).len())).await;
    assert_eq!(posted, Some(2), "{:?}", robot_posts(&sim));
    let combined = robot_posts(&sim).pop().unwrap();
    assert_eq!(combined.matches('、').count(), 19, "20 joiners named: {combined}");
    let welcomed = eventually(21, async || {
        let mut welcomed = 0;
        for customer in &customers {
            welcomed +=
                i32::from(member_on_detail(channel.clone(), &chat_id, customer).await.is_some_and(|member| member.2));
        }
        Some(welcomed)
    })
    .await;
    assert_eq!(welcomed, Some(21));
    let rule = group.get_welcome_rule(GetWelcomeRuleRequest { id: rule_id }).await.unwrap().into_inner().rule.unwrap();
    assert_eq!(rule.welcomed_count, 21, "each customer join welcomed once");
    assert_eq!(robot_posts(&sim).len(), 2, "the redelivered join was not welcomed again");

    // A retried create returns the same way and creates no second WeCom configuration.
    let retried = CreateJoinWayRequest {
        idempotency_key: "e2e-join-way".into(),
        scene: JoinWayScene::QrCode as i32,
        chat_id_list: vec![chat_id.clone()],
        state: "e2e_spring".into(),
        ..CreateJoinWayRequest::default()
    };
    let retried = group.create_join_way(retried).await.unwrap().into_inner().join_way.unwrap();
    assert_eq!((retried.id, retried.config_id.clone(), retried.joined_count), (way.id, way.config_id.clone(), 22));

    // The way on REST, and its deletion there, which deletes it in WeCom too.
    let url = format!("{}/api/social/join-ways", app.url());
    let listed: serde_json::Value =
        http().get(format!("{url}?state=e2e_spring")).send().await.unwrap().json().await.unwrap();
    assert_eq!(listed["joinWays"][0]["configId"], way.config_id.as_str(), "{listed}");
    assert_eq!(listed["joinWays"][0]["joinedCount"], 22);

    // An update goes to WeCom's update_join_way whole: the QR code stays, later joins carry the new state, and
    // members who joined before keep theirs.
    let patch = serde_json::json!({ "state": "e2e_summer", "remark": "夏季活动" });
    let patched = http().patch(format!("{url}/{}", way.id)).json(&patch).send().await.unwrap();
    assert_eq!(patched.status(), 200);
    let patched: serde_json::Value = patched.json().await.unwrap();
    assert_eq!((patched["state"].as_str(), patched["remark"].as_str()), (Some("e2e_summer"), Some("夏季活动")));
    assert_eq!(patched["qrCode"], way.qr_code.as_str(), "{patched}");
    assert_eq!(patched["chatIdList"][0], chat_id.as_str(), "fields left out keep their values");
    assert_eq!(sim.stats().calls.get("externalcontact/groupchat/update_join_way"), Some(&1));
    assert_eq!(sim.scan_join_way(&way.config_id, "wmE2ESUMMER").as_deref(), Some(chat_id.as_str()));
    let summer = eventually(Some(("e2e_summer".to_owned(), 2, false)), async || {
        Some(member_on_detail(channel.clone(), &chat_id, "wmE2ESUMMER").await)
    })
    .await;
    assert_eq!(summer, Some(Some(("e2e_summer".to_owned(), 2, false))), "no rule welcomes the new state");
    let before = member_on_detail(channel.clone(), &chat_id, &customers[0]).await;
    assert_eq!(before.map(|member| member.0), Some("e2e_spring".to_owned()));
    let empty = http().patch(format!("{url}/{}", way.id)).json(&serde_json::json!({})).send().await.unwrap();
    assert_eq!(empty.status(), 400);
    let bad = UpdateJoinWayRequest {
        join_way: Some(JoinWay { id: way.id, chat_id_list: Vec::new(), ..JoinWay::default() }),
        update_mask: Some(prost_types::FieldMask { paths: vec!["chat_id_list".into()] }),
    };
    let refused = group.update_join_way(bad).await.unwrap_err();
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    let field = refused.metadata().get("scrm-error-field").and_then(|field| field.to_str().ok());
    assert_eq!(field, Some("join_way.chat_id_list"), "{refused:?}");
    let unknown = UpdateJoinWayRequest {
        join_way: Some(JoinWay { id: 999_999, remark: "无".into(), ..JoinWay::default() }),
        update_mask: Some(prost_types::FieldMask { paths: vec!["remark".into()] }),
    };
    assert_eq!(group.update_join_way(unknown).await.unwrap_err().code(), tonic::Code::NotFound);

    let deleted = http().delete(format!("{url}/{}", way.id)).send().await.unwrap();
    assert_eq!(deleted.status(), 200);
    assert_eq!(sim.scan_join_way(&way.config_id, &customers[0]), None, "WeCom no longer knows the way");
    let missing = http().get(format!("{url}/{}", way.id)).send().await.unwrap();
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn contact_way_customers_get_send_welcome_msg_inside_the_window() {
    let Corp { sim, app, wecom } = corp().await;
    let channel = app.channel().await;
    full_sync(channel.clone()).await;
    let mut group = GroupServiceClient::new(channel.clone());
    let welcome =
        rule("海报欢迎语", campaign("e2e_poster"), WelcomeChannel::ContactWelcomeMsg, "你好，我是%OWNER_NAME%，欢迎！");
    group.create_welcome_rule(CreateWelcomeRuleRequest { rule: Some(welcome) }).await.unwrap();
    let userid = sim.with_world(|world| {
        world.staff.iter().find(|staff| staff.customer_contact && staff.status == 1).unwrap().userid.clone()
    });
    let way = ContactWay {
        way_type: 1,
        scene: 2,
        state: "e2e_poster".into(),
        user: vec![userid.clone()],
        ..ContactWay::default()
    };
    let config_id = wecom.add_contact_way(&way).await.unwrap().config_id;

    let added = sim.scan_contact_way(&config_id).unwrap();
    let sent = eventually(1, async || {
        Some(
            sim.delivered()
                .iter()
                .filter(|delivered| delivered.api == "send_welcome_msg" && delivered.to == added.external_userid)
                .count(),
        )
    })
    .await;
    assert_eq!(sent, Some(1), "send_welcome_msg was accepted, so inside the 20 s window (the simulator refuses later)");
    let text = sim.delivered().into_iter().find(|delivered| delivered.api == "send_welcome_msg").unwrap().body;
    assert!(text["text"]["content"].as_str().unwrap().starts_with("你好，我是"), "{text}");

    // A retry of the same callback replays the result; a late code is not even tried.
    let retry = SendContactWelcomeRequest {
        welcome_code: added.welcome_code.clone(),
        userid: userid.clone(),
        external_userid: added.external_userid.clone(),
        state: "e2e_poster".into(),
        added_at: None,
        idempotency_key: String::new(),
    };
    let first = group.send_contact_welcome(retry.clone()).await.unwrap().into_inner();
    assert!(!first.welcomed, "the code was used by the callback's welcome: {first:?}");
    let replay = group.send_contact_welcome(retry).await.unwrap().into_inner();
    assert_eq!(replay, first, "the same key replays the first result");
    let late = sim.scan_contact_way(&config_id).unwrap();
    let stale = SendContactWelcomeRequest {
        welcome_code: late.welcome_code,
        userid,
        external_userid: late.external_userid,
        state: "e2e_poster".into(),
        added_at: Some(prost_types::Timestamp::from(std::time::SystemTime::now() - Duration::from_secs(30))),
        idempotency_key: "late-add".into(),
    };
    let stale = group.send_contact_welcome(stale).await.unwrap().into_inner();
    assert_eq!(stale.skip_reason(), ContactWelcomeSkipReason::CodeExpired);
}

#[tokio::test]
async fn group_template_rules_sync_to_wecom_and_coverage_shows_the_gaps() {
    let Corp { sim, app, .. } = corp().await;
    let channel = app.channel().await;
    full_sync(channel.clone()).await;
    let mut group = GroupServiceClient::new(channel.clone());
    let default = WelcomeScope { kind: WelcomeScopeKind::Default as i32, ..WelcomeScope::default() };
    let welcome = rule("默认入群欢迎语", default, WelcomeChannel::GroupTemplate, "欢迎%NICKNAME%，新人福利看群公告");
    let created = group.create_welcome_rule(CreateWelcomeRuleRequest { rule: Some(welcome) }).await.unwrap();
    let rule_id = created.into_inner().rule.unwrap().id;
    let reader = group.clone();
    let synced = move |revision: i64| {
        let mut group = reader.clone();
        async move {
            let request = GetWelcomeRuleRequest { id: rule_id };
            let rule = group.get_welcome_rule(request).await.ok()?.into_inner().rule?;
            let template = rule.template?;
            (template.sync_state() == TemplateSyncState::Synced && template.synced_revision == revision)
                .then_some(template.template_id)
        }
    };
    let template_id = eventually(true, async || Some(synced(1).await.is_some())).await;
    assert_eq!(template_id, Some(true), "the worker mirrors the rule into a WeCom template");
    let template_id = synced(1).await.unwrap();
    assert_eq!(sim.stats().calls.get("externalcontact/group_welcome_template/add"), Some(&1));

    let chat_ids: Vec<String> = sim.with_world(|world| {
        world.groups.iter().filter(|group| !group.dismissed).take(2).map(|group| group.chat_id.clone()).collect()
    });
    let applied = RecordWelcomeTemplateAppliedRequest { chat_ids: chat_ids.clone(), template_id: template_id.clone() };
    assert_eq!(group.record_welcome_template_applied(applied).await.unwrap().into_inner().updated, 2);
    let reader = group.clone();
    let coverage = move |coverages: Vec<WelcomeCoverage>| {
        let mut group = reader.clone();
        async move {
            let request = GetWelcomeCoverageRequest {
                coverages: coverages.into_iter().map(|coverage| coverage as i32).collect(),
                page_size: 200,
                ..GetWelcomeCoverageRequest::default()
            };
            group.get_welcome_coverage(request).await.unwrap().into_inner()
        }
    };
    let before = coverage(vec![WelcomeCoverage::Current]).await;
    assert_eq!(before.current_groups, 2);
    assert_eq!(before.missing_groups, before.applicable_groups - 2, "every other live group lacks the template");
    let current: Vec<String> = before.entries.iter().map(|entry| entry.chat_id.clone()).collect();
    assert_eq!(current.len(), 2);
    assert!(chat_ids.iter().all(|chat_id| current.contains(chat_id)));

    // The group list shows the same: each group with its coverage and rule, filterable to the gaps.
    let reader = group.clone();
    let listed = move |coverages: Vec<WelcomeCoverage>| {
        let mut group = reader.clone();
        async move {
            let request = ListGroupsRequest {
                welcome_coverages: coverages.into_iter().map(|coverage| coverage as i32).collect(),
                page_size: 200,
                ..ListGroupsRequest::default()
            };
            group.list_groups(request).await.unwrap().into_inner()
        }
    };
    let carrying = listed(vec![WelcomeCoverage::Current]).await;
    assert_eq!(carrying.total_size, 2);
    for listed_group in &carrying.groups {
        assert!(chat_ids.contains(&listed_group.chat_id), "{listed_group:?}");
        assert!(listed_group.carries_current_welcome_template);
        assert_eq!(listed_group.welcome_coverage(), WelcomeCoverage::Current);
        assert_eq!(
            (listed_group.welcome_rule_id, listed_group.welcome_rule_name.as_str()),
            (rule_id, "默认入群欢迎语")
        );
        assert_eq!(listed_group.welcome_template_id, template_id);
        assert_eq!(listed_group.carried_welcome_template_id, template_id);
    }
    let gaps = listed(vec![WelcomeCoverage::Missing, WelcomeCoverage::Outdated]).await;
    assert_eq!(gaps.total_size, before.missing_groups);
    assert!(gaps.groups.iter().all(|listed_group| !chat_ids.contains(&listed_group.chat_id)
        && listed_group.welcome_coverage() == WelcomeCoverage::Missing
        && listed_group.welcome_rule_id == rule_id
        && listed_group.carried_welcome_template_id.is_empty()));
    let everything = listed(Vec::new()).await;
    let covered = everything.groups.iter().filter(|listed_group| listed_group.carries_current_welcome_template);
    assert_eq!(covered.count(), 2, "without the filter every group shows its coverage too");
    assert!(listed(vec![WelcomeCoverage::NotApplicable]).await.groups.is_empty(), "the default rule applies to all");
    let rest: serde_json::Value = http()
        .get(format!("{}/api/social/groups?welcomeCoverages=missing,outdated&pageSize=200", app.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(rest["totalSize"], before.missing_groups, "{rest}");
    assert_eq!(rest["groups"][0]["welcome"]["coverage"], "missing");
    assert_eq!(rest["groups"][0]["welcome"]["ruleId"], rule_id);
    assert_eq!(rest["groups"][0]["welcome"]["templateId"], template_id.as_str());
    let bad = http().get(format!("{}/api/social/groups?welcomeCoverages=everywhere", app.url())).send().await.unwrap();
    assert_eq!(bad.status(), 400);

    // Editing the text bumps the revision: WeCom's template is edited, and the two groups become outdated.
    let get = GetWelcomeRuleRequest { id: rule_id };
    let mut edited = group.get_welcome_rule(get).await.unwrap().into_inner().rule.unwrap();
    edited.content =
        Some(WelcomeContent { text: "欢迎%NICKNAME%！今晚8点盲盒秒杀".into(), attachment: None });
    let update = UpdateWelcomeRuleRequest {
        rule: Some(edited),
        update_mask: Some(prost_types::FieldMask { paths: vec!["content".into()] }),
    };
    let updated = group.update_welcome_rule(update).await.unwrap().into_inner().rule.unwrap();
    assert_eq!(updated.revision, 2);
    assert_eq!(eventually(true, async || Some(synced(2).await.is_some())).await, Some(true));
    assert_eq!(sim.stats().calls.get("externalcontact/group_welcome_template/edit"), Some(&1));
    let after = coverage(vec![WelcomeCoverage::Outdated]).await;
    assert_eq!((after.current_groups, after.outdated_groups), (0, 2));
    assert_eq!(after.coverage_bps, 0);
    let outdated = listed(vec![WelcomeCoverage::Outdated]).await;
    assert_eq!(outdated.total_size, 2);
    assert!(outdated.groups.iter().all(|listed_group| !listed_group.carries_current_welcome_template));
}
