//! Fission campaigns and KOC profiles (PR11, PR12, PR14) end to end against the WeCom simulator: a campaign is
//! created and started (its base contact way made in WeCom), a synced customer enters through it and invites a
//! newcomer, the customer is flagged a KOC, and `GET /api/crm/customers/{wxId}` shows the KOC flag and the
//! campaign; a campaign-link quick reply is created for the campaign and rendered by the sidebar as a link card.

use prost_types::{FieldMask, Timestamp};
use scrm_kernel::{Role, ServiceKind};
use scrm_proto::campaign::v1::campaign_service_client::CampaignServiceClient;
use scrm_proto::campaign::v1::{
    Campaign, CampaignKind, CampaignStage, CreateCampaignRequest, CreateKocProfileRequest, DeleteCampaignRequest,
    EndCampaignRequest, EntryChannel, EntryChannelKind, GetCampaignRequest, GetCampaignStatsRequest,
    GetCustomerCampaignsRequest, InvitationStatus, KocKind, KocProfile, LifecycleState, ListParticipantsRequest,
    PauseCampaignRequest, PosterTemplate, RecordInvitationRequest, StartCampaignRequest, UpdateCampaignRequest,
};
use scrm_proto::customer::v1::customer_service_client::CustomerServiceClient;
use scrm_proto::customer::v1::quick_reply_content::Content;
use scrm_proto::customer::v1::{
    CampaignLinkReplyContent, CreateQuickReplyFolderRequest, CreateQuickReplyRequest, QuickReplyContent,
    QuickReplyKind, QuickReplyScope,
};
use serde_json::{Value, json};

use crate::customer_profile::{Synced, synced_app_with};
use crate::harness::{TestApp, as_peer, http, insert_customer};

const PUBLIC_BASE_URL: &str = "https://scrm.example.com";

fn at(seconds: i64) -> Option<Timestamp> {
    Some(Timestamp { seconds, nanos: 0 })
}

fn now_seconds() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

/// A 邀请有礼 campaign entered through a contact way routed to `userid`: stages at 1 and 3 valid invitations.
fn invite_campaign(userid: &str) -> Campaign {
    let stage = |threshold, name: &str| CampaignStage {
        threshold,
        name: name.into(),
        reward_definition_id: 1,
        ..CampaignStage::default()
    };
    Campaign {
        name: "邀请好友得盲盒".into(),
        description: "邀请 3 位好友添加导购，即得盲盒一个".into(),
        kind: CampaignKind::InviteReward as i32,
        starts_at: at(now_seconds() - 60),
        ends_at: at(now_seconds() + 30 * 86_400),
        entry_channel: Some(EntryChannel {
            kind: EntryChannelKind::ContactWay as i32,
            userids: vec![userid.into()],
            skip_verify: true,
            ..EntryChannel::default()
        }),
        stages: vec![stage(1, "邀请1人得优惠券"), stage(3, "邀请3人得盲盒")],
        poster: Some(PosterTemplate {
            background_url: "https://cdn.example.com/poster.png".into(),
            ..PosterTemplate::default()
        }),
        ..Campaign::default()
    }
}

#[tokio::test]
async fn a_campaign_its_koc_and_a_campaign_link_reach_the_customer_profile_and_the_sidebar() {
    let Synced { app, sim, external_userid: wx, follower, .. } =
        synced_app_with(|config| config.wecom.public_base_url = PUBLIC_BASE_URL.into()).await;
    let mut campaigns = CampaignServiceClient::new(app.channel().await);

    // Create: a draft, its fields checked and named when wrong.
    let bad = Campaign { name: String::new(), ..invite_campaign(&follower) };
    let status = campaigns.create_campaign(CreateCampaignRequest { campaign: Some(bad) }).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    assert!(status.message().contains("活动名称"), "{status:?}");
    let created = campaigns
        .create_campaign(CreateCampaignRequest { campaign: Some(invite_campaign(&follower)) })
        .await
        .unwrap()
        .into_inner()
        .campaign
        .unwrap();
    assert_eq!(created.state, LifecycleState::Draft as i32);
    assert_eq!(created.landing_url, format!("{PUBLIC_BASE_URL}/campaign/{}", created.id));
    assert_eq!(created.entry_channel.as_ref().unwrap().state_prefix, format!("f{}-", created.id));
    assert_eq!(created.created_by_userid, "local-operator");
    let recorded_too_early = campaigns
        .record_invitation(RecordInvitationRequest {
            state: format!("f{}-0", created.id),
            invitee_external_userid: wx.clone(),
            idempotency_key: "too-early".into(),
            ..RecordInvitationRequest::default()
        })
        .await
        .unwrap_err();
    assert_eq!(recorded_too_early.code(), tonic::Code::FailedPrecondition, "a draft records nothing");

    // Start: the base contact way is made in WeCom with the campaign's state; a started campaign cannot be
    // deleted, and only some fields stay editable.
    let started =
        campaigns.start_campaign(StartCampaignRequest { id: created.id }).await.unwrap().into_inner().campaign.unwrap();
    assert_eq!(started.state, LifecycleState::Active as i32);
    let channel = started.entry_channel.clone().unwrap();
    assert!(!channel.config_id.is_empty() && !channel.qr_code_url.is_empty(), "{channel:?}");
    let newcomer = sim.scan_contact_way(&channel.config_id).expect("WeCom has the campaign's contact way");
    let newcomer_state = sim.with_world(|world| {
        let customer = world.customers.iter().find(|customer| customer.external_userid == newcomer.external_userid);
        customer.map(|customer| customer.follow[0].state.clone())
    });
    assert_eq!(newcomer_state.as_deref(), Some(format!("f{}-0", created.id).as_str()));
    let status = campaigns.delete_campaign(DeleteCampaignRequest { id: created.id }).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::FailedPrecondition);
    let rename = UpdateCampaignRequest {
        campaign: Some(Campaign {
            id: created.id, name: "邀请好友得盲盒（第二季）".into(), ..Campaign::default()
        }),
        update_mask: Some(FieldMask { paths: vec!["name".into()] }),
    };
    campaigns.update_campaign(rename).await.unwrap();
    let change_kind = UpdateCampaignRequest {
        campaign: Some(Campaign { id: created.id, kind: CampaignKind::GroupBuy as i32, ..Campaign::default() }),
        update_mask: Some(FieldMask { paths: vec!["kind".into()] }),
    };
    let status = campaigns.update_campaign(change_kind).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::FailedPrecondition);

    // The synced customer enters through the base code (as identity reports the add_external_contact State)...
    let seed_entry = RecordInvitationRequest {
        state: format!("f{}-0", created.id),
        invitee_external_userid: wx.clone(),
        userid: follower.clone(),
        existing_customer: true,
        idempotency_key: format!("callback-{wx}"),
        ..RecordInvitationRequest::default()
    };
    let seed = campaigns.record_invitation(seed_entry.clone()).await.unwrap().into_inner();
    let seed_invitation = seed.invitation.unwrap();
    assert_eq!((seed_invitation.status, seed_invitation.depth), (InvitationStatus::Valid as i32, 1));
    assert!(seed.inviter.is_none(), "the base channel has no inviter");
    let again = campaigns.record_invitation(seed_entry).await.unwrap().into_inner().invitation.unwrap();
    assert_eq!(again.id, seed_invitation.id, "a retried callback records nothing more");
    let seed_participant = seed_invitation.invitee_participant_id;

    // ... and invites the newcomer through their personal link, reaching the first stage.
    let invited = campaigns
        .record_invitation(RecordInvitationRequest {
            inviter_participant_id: seed_participant,
            invitee_external_userid: newcomer.external_userid.clone(),
            userid: newcomer.userid.clone(),
            idempotency_key: format!("callback-{}", newcomer.external_userid),
            ..RecordInvitationRequest::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(invited.invitation.unwrap().depth, 2);
    let inviter = invited.inviter.unwrap();
    assert_eq!((inviter.external_userid.as_str(), inviter.valid_invite_count), (wx.as_str(), 1));
    assert_eq!((invited.reached_stage_level, inviter.descendant_count), (1, 1));
    assert_eq!(
        inviter.link_url,
        format!("{PUBLIC_BASE_URL}/campaign/{}?state=f{}-{seed_participant}", created.id, created.id)
    );
    let read = campaigns.get_campaign(GetCampaignRequest { id: created.id }).await.unwrap().into_inner();
    let stages: Vec<i32> = read.campaign.unwrap().stages.iter().map(|stage| stage.claimed_count).collect();
    assert_eq!(stages, [1, 0], "one participant reached the first stage");

    // Paused, invitations are still recorded; ended, nothing more.
    campaigns.pause_campaign(PauseCampaignRequest { id: created.id }).await.unwrap();
    let while_paused = RecordInvitationRequest {
        inviter_participant_id: seed_participant,
        invitee_external_userid: "wmPausedFriend".into(),
        idempotency_key: "callback-wmPausedFriend".into(),
        ..RecordInvitationRequest::default()
    };
    let paused = campaigns.record_invitation(while_paused).await.unwrap().into_inner();
    assert_eq!(paused.inviter.unwrap().valid_invite_count, 2);
    let all = ListParticipantsRequest { campaign_id: created.id, ..ListParticipantsRequest::default() };
    assert_eq!(campaigns.list_participants(all).await.unwrap().into_inner().total_size, 3);
    let stats = campaigns
        .get_campaign_stats(GetCampaignStatsRequest { campaign_id: created.id, ..GetCampaignStatsRequest::default() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((stats.participant_total, stats.invitation_total, stats.valid_invitation_total), (3, 3, 3));
    assert_eq!((stats.new_customer_total, stats.max_depth_reached), (2, 2), "the seed was a customer already");
    let joined: i64 = stats.days.iter().map(|day| day.new_participant_count).sum();
    let entered: i64 = stats.days.iter().map(|day| day.invitation_count).sum();
    assert_eq!((joined, entered), (3, 3), "the series covers the campaign so far: {stats:?}");

    // The customer is flagged a KOC.
    let profile = KocProfile {
        kind: KocKind::Customer as i32,
        external_userid: wx.clone(),
        name: "群里的活跃宝妈".into(),
        ..KocProfile::default()
    };
    let koc = CreateKocProfileRequest { profile: Some(profile) };
    campaigns.create_koc_profile(koc.clone()).await.unwrap();
    assert_eq!(campaigns.create_koc_profile(koc).await.unwrap_err().code(), tonic::Code::AlreadyExists);

    // The profile shows the KOC flag and the campaign joined.
    let profile: Value =
        http().get(format!("{}/api/crm/customers/{wx}", app.url())).send().await.unwrap().json().await.unwrap();
    assert_eq!(profile["isKoc"], true, "{profile}");
    let joined = profile["campaigns"].as_array().unwrap();
    assert_eq!(joined.len(), 1, "{profile}");
    assert_eq!(joined[0]["campaignId"], created.id);
    assert_eq!(joined[0]["name"], "邀请好友得盲盒（第二季）");
    assert!(joined[0]["joinedAt"].is_string());
    // The same from the campaign service in one call, which names a missing customer id.
    let mine = GetCustomerCampaignsRequest { external_userid: wx.clone(), page_size: 0 };
    let mine = campaigns.get_customer_campaigns(mine).await.unwrap().into_inner();
    assert_eq!(mine.koc_profile.map(|koc| koc.name).as_deref(), Some("群里的活跃宝妈"));
    assert_eq!((mine.participations.len(), mine.total_participations), (1, 1));
    assert_eq!(mine.participations[0].campaign_id, created.id);
    let nobody = campaigns.get_customer_campaigns(GetCustomerCampaignsRequest::default()).await.unwrap_err();
    assert_eq!((nobody.code(), nobody.message()), (tonic::Code::InvalidArgument, "external_userid is required"));
    // A store manager of another store cannot see the profile at all.
    let mut customers = CustomerServiceClient::new(app.channel().await);
    let request = scrm_proto::customer::v1::GetCustomerRequest { external_userid: wx.clone() };
    let status = customers.get_customer(as_peer(request, "dianzhang", Role::StoreManager, &["999999"])).await;
    assert_eq!(status.unwrap_err().code(), tonic::Code::PermissionDenied);

    // A campaign-link quick reply: its campaign must exist; the sidebar renders it as a link card.
    let folder = CreateQuickReplyFolderRequest {
        name: "活动话术".into(),
        scope: QuickReplyScope::Company as i32,
        sort_order: 0,
    };
    let folder = customers.create_quick_reply_folder(folder).await.unwrap().into_inner().folder.unwrap();
    let link = |campaign_id: i64| CreateQuickReplyRequest {
        folder_id: folder.id,
        title: "裂变活动".into(),
        content: Some(QuickReplyContent {
            content: Some(Content::CampaignLink(CampaignLinkReplyContent {
                campaign_id,
                url: format!("{PUBLIC_BASE_URL}/campaign/{campaign_id}"),
                title: "邀请好友得盲盒".into(),
                description: "邀请 3 位好友得盲盒".into(),
                cover_url: String::new(),
            })),
        }),
        keywords: vec!["裂变".into()],
    };
    let status = customers.create_quick_reply(link(created.id + 1000)).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    assert!(status.message().contains("不存在"), "{status:?}");
    let reply = customers.create_quick_reply(link(created.id)).await.unwrap().into_inner().reply.unwrap();
    assert_eq!(reply.kind, QuickReplyKind::CampaignLink as i32);
    let rendered: Value = http()
        .post(format!("{}/api/sidebar/quick-replies/{}/render", app.url(), reply.id))
        .json(&json!({ "externalUserid": wx }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(rendered["message"]["msgtype"], "news", "{rendered}");
    assert_eq!(rendered["message"]["news"]["link"], format!("{PUBLIC_BASE_URL}/campaign/{}", created.id));
    let sent: Value = http()
        .post(format!("{}/api/sidebar/quick-replies/{}/sent", app.url(), reply.id))
        .json(&json!({ "externalUserid": wx, "idempotencyKey": "tap-1" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(sent["usageCount"], 1, "{sent}");

    // Ended for good: nothing more is recorded, and new campaign links to it are refused.
    campaigns.end_campaign(EndCampaignRequest { id: created.id }).await.unwrap();
    let late = RecordInvitationRequest {
        inviter_participant_id: seed_participant,
        invitee_external_userid: "wmLateComer".into(),
        idempotency_key: "late".into(),
        ..RecordInvitationRequest::default()
    };
    assert_eq!(campaigns.record_invitation(late).await.unwrap_err().code(), tonic::Code::FailedPrecondition);
    assert_eq!(customers.create_quick_reply(link(created.id)).await.unwrap_err().code(), tonic::Code::InvalidArgument);
}

#[tokio::test]
async fn the_profile_is_served_without_its_campaigns_when_the_campaign_service_is_down() {
    // Customer, identity and group run here; the campaign service's address refuses connections.
    let services = [ServiceKind::Identity, ServiceKind::Customer, ServiceKind::Group];
    let app = TestApp::spawn_with(&services, |config| {
        config.cluster.token = "peer-secret".into();
        config.cluster.campaign_url = "http://127.0.0.1:9".into();
    })
    .await;
    insert_customer(&app.db().await, "wmAlone", "1").await;
    let response = http().get(format!("{}/api/crm/customers/wmAlone", app.url())).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let profile: Value = response.json().await.unwrap();
    assert_eq!((&profile["isKoc"], &profile["campaigns"]), (&json!(false), &json!([])), "{profile}");
}
