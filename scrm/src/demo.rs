//! Demo mode: with no WeCom corp configured, the process runs the WeCom simulator in-process with a
//! generated demo corp, points its own WeCom client at it, and syncs from it at start, so a newcomer
//! sees live data within seconds. Owners confirm group messages after a few seconds, as in a real corp
//! where they tap 发送 in WeCom. The demo also gets a company folder of quick replies and a running fission
//! campaign with a KOC. Once synced, the corp lives on: the simulator's activity driver adds and
//! removes customers, members, groups and staff, and pushes the encrypted callbacks WeCom would send to
//! this process's own `/wecom/callback` (same token and key on both sides).

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use anyhow::Context;
use scrm_kernel::{Caller, Clients};
use scrm_proto::identity::v1::{StartSyncRequest, SyncScope, SyncState};
use scrm_wecom_sim::{ActivityConfig, CallbackConfig, SimConfig, Simulator, World, WorldSize};

use crate::config::WeComConfig;

/// Seconds after which demo owners confirm a group-message task.
const DEMO_CONFIRM_AFTER_SECS: u64 = 5;

/// Seconds between two reads of the demo corp's chat archive, unless configured.
const DEMO_CHAT_ARCHIVE_POLL_SECS: u64 = 5;

/// Callback token shared by the demo simulator and this process (loopback only).
const DEMO_CALLBACK_TOKEN: &str = "scrmdemo";

/// EncodingAESKey shared by the demo simulator and this process (loopback only).
const DEMO_ENCODING_AES_KEY: &str = "c2NybSBkZW1vIGNhbGxiYWNrIGtleSwgbG9vcGJhY2s";

/// The demo corp running on the in-process simulator.
#[derive(Debug, Clone)]
pub struct DemoCorp {
    simulator: Arc<Simulator>,
    activity_rate: f64,
}

impl DemoCorp {
    /// Starts pushing the simulator's callbacks to the gateway listening at `gateway`.
    pub fn push_callbacks_to(&self, gateway: SocketAddr, wecom: &WeComConfig) {
        let host = if gateway.ip().is_unspecified() { Ipv4Addr::LOCALHOST.into() } else { gateway.ip() };
        self.simulator.set_callback(Some(CallbackConfig {
            url: format!("http://{}/wecom/callback", SocketAddr::new(host, gateway.port())),
            token: wecom.callback_token.clone(),
            encoding_aes_key: wecom.encoding_aes_key.clone(),
            timeout_ms: 5_000,
            retries: 3,
        }));
        if scrm_wecom_sim::spawn_callback_pusher(self.simulator.clone()).is_none() {
            tracing::error!("the demo simulator cannot push callbacks: the demo corp will not change");
        }
    }

    /// Hands rotated callback keys to the simulator, as an admin pastes them into WeCom's console, so its
    /// callbacks to the gateway at `gateway` keep arriving.
    pub fn follow_rotated_keys(&self, gateway: SocketAddr, keyring: &scrm_wecom_crypto::CallbackKeyring) {
        let simulator = self.simulator.clone();
        let host = if gateway.ip().is_unspecified() { Ipv4Addr::LOCALHOST.into() } else { gateway.ip() };
        let url = format!("http://{}/wecom/callback", SocketAddr::new(host, gateway.port()));
        keyring.on_replace(move |crypto| {
            simulator.set_callback(crypto.map(|crypto| CallbackConfig {
                url: url.clone(),
                token: crypto.token().to_owned(),
                encoding_aes_key: crypto.encoding_aes_key(),
                timeout_ms: 5_000,
                retries: 3,
            }));
        });
    }

    /// Starts the activity driver at the configured rate (nothing when it is 0).
    fn come_alive(&self) {
        if self.activity_rate > 0.0 {
            self.simulator.start_activity(ActivityConfig { rate: self.activity_rate, ..ActivityConfig::default() });
            tracing::info!(rate = self.activity_rate, "the demo corp is live: changes arrive through /wecom/callback");
        }
    }
}

/// Starts the simulator on a free loopback port and points `wecom` at its demo corp, with the demo's callback
/// keys unless some are configured.
pub async fn start_simulator(wecom: &mut WeComConfig) -> anyhow::Result<DemoCorp> {
    let mut config = SimConfig::default();
    config.group_msg.auto_confirm_after_secs = Some(DEMO_CONFIRM_AFTER_SECS);
    config.group_msg.never_confirm.clone_from(&wecom.demo_never_confirm);
    let listener =
        tokio::net::TcpListener::bind("127.0.0.1:0").await.context("demo: cannot start the WeCom simulator")?;
    let address = listener.local_addr()?;
    wecom.corp_id = config.corp_id.clone();
    wecom.secret = config.corp_secrets.first().cloned().unwrap_or_default();
    wecom.api_base = format!("http://{address}");
    wecom.agent_id = config.agent_id;
    if wecom.chat_archive_poll_secs == 0 {
        wecom.chat_archive_poll_secs = DEMO_CHAT_ARCHIVE_POLL_SECS;
    }
    if wecom.callback_token.is_empty() || wecom.encoding_aes_key.is_empty() {
        wecom.callback_token = DEMO_CALLBACK_TOKEN.into();
        wecom.encoding_aes_key = DEMO_ENCODING_AES_KEY.into();
    }
    let simulator = Simulator::new(config.clone(), World::generate(config.seed, WorldSize::DEMO));
    let demo = DemoCorp { simulator: simulator.clone(), activity_rate: wecom.demo_activity_rate };
    tokio::spawn(async move {
        if let Err(error) = scrm_wecom_sim::serve(listener, simulator).await {
            tracing::error!(%error, "the demo WeCom simulator stopped");
        }
    });
    tracing::warn!(
        simulator = %wecom.api_base,
        "no WeCom corp configured: running the demo corp on the built-in simulator (set wecom.corp_id to use a real corp)"
    );
    Ok(demo)
}

/// Runs a full sync from the demo corp in the background, logging how it ends; once it succeeded, the demo
/// corp's activity starts.
pub fn sync_in_background(clients: Clients, demo: DemoCorp) {
    tokio::spawn(async move {
        let request = match Caller::system("demo").outgoing(StartSyncRequest { scope: SyncScope::Full as i32 }) {
            Ok(request) => request,
            Err(error) => return tracing::error!(%error, "demo sync could not be requested"),
        };
        let mut stream = match clients.identity.clone().start_sync(request).await {
            Ok(response) => response.into_inner(),
            Err(status) => return tracing::error!(%status, "demo sync could not start"),
        };
        let mut last = None;
        loop {
            match stream.message().await {
                Ok(Some(message)) => last = message.progress,
                Ok(None) => break,
                Err(status) => return tracing::error!(%status, "demo sync failed"),
            }
        }
        match last {
            Some(progress) if progress.state() == SyncState::Succeeded => {
                tracing::info!(run = progress.sync_run_id, "demo corp synced");
                match seed_quick_replies(&clients).await {
                    Ok(folder_id) => {
                        if let Err(status) = seed_campaign(&clients, &demo, folder_id).await {
                            tracing::error!(%status, "the demo campaign could not be created");
                        }
                    }
                    Err(status) => tracing::error!(%status, "demo quick replies could not be created"),
                }
                demo.come_alive();
            }
            other => tracing::error!(?other, "demo sync ended without success"),
        }
    });
}

/// The demo's company quick replies: (title, text).
const DEMO_QUICK_REPLIES: [(&str, &str); 3] = [
    ("开场白", "{客户昵称}您好，我是{员工姓名}，很高兴为您服务，有什么可以帮您？"),
    ("会员权益", "{客户昵称}，本月会员日全场满200减30，门店和小程序同享。"),
    ("售后流程", "收到商品7天内可无理由退换，请保留包装并联系{员工姓名}办理。"),
];

/// Creates a company folder of quick replies, so the sidebar has something to send; returns the folder's id.
async fn seed_quick_replies(clients: &Clients) -> Result<i64, tonic::Status> {
    use scrm_proto::customer::v1::quick_reply_content::Content;
    use scrm_proto::customer::v1::{
        CreateQuickReplyFolderRequest, CreateQuickReplyRequest, QuickReplyContent, QuickReplyScope, TextReplyContent,
    };
    let caller = Caller::system("demo");
    let mut customer = clients.customer.clone();
    let folder = CreateQuickReplyFolderRequest {
        name: "常用话术".into(),
        scope: QuickReplyScope::Company as i32,
        sort_order: 0,
    };
    let folder = customer.create_quick_reply_folder(caller.outgoing(folder)?).await?.into_inner().folder;
    let folder_id = folder.map_or(0, |folder| folder.id);
    for (title, text) in DEMO_QUICK_REPLIES {
        let reply = CreateQuickReplyRequest {
            folder_id,
            title: title.into(),
            content: Some(QuickReplyContent { content: Some(Content::Text(TextReplyContent { text: text.into() })) }),
            keywords: Vec::new(),
        };
        customer.create_quick_reply(caller.outgoing(reply)?).await?;
    }
    let coupon = demo_coupon_reply(clients, &caller, folder_id).await?;
    customer.create_quick_reply(caller.outgoing(coupon)?).await?;
    Ok(folder_id)
}

/// A running 邀请有礼 campaign entered through a contact way of the first staff member who has customers (the
/// first of WeCom's follow-user list), whose first customer entered it and is a KOC; and a campaign-link reply
/// to it in the demo folder `folder_id`. So the sidebar shows a KOC badge and a campaign, and can send the link.
async fn seed_campaign(clients: &Clients, demo: &DemoCorp, folder_id: i64) -> Result<(), tonic::Status> {
    use scrm_proto::campaign::v1::{
        Campaign, CampaignKind, CampaignStage, CreateCampaignRequest, CreateKocProfileRequest, EntryChannel,
        EntryChannelKind, KocKind, KocProfile, PosterTemplate, RecordInvitationRequest, StartCampaignRequest,
    };
    use scrm_proto::customer::v1::quick_reply_content::Content;
    use scrm_proto::customer::v1::{CampaignLinkReplyContent, CreateQuickReplyRequest, QuickReplyContent};
    let seed = demo.simulator.with_world(|world| {
        world.staff.iter().filter(|staff| staff.customer_contact && staff.status == 1).find_map(|staff| {
            let customer = world
                .customers
                .iter()
                .find(|customer| customer.follow.iter().any(|follow| follow.userid == staff.userid))?;
            Some((customer.external_userid.clone(), staff.userid.clone()))
        })
    });
    let Some((external_userid, userid)) = seed else { return Ok(()) };
    let caller = Caller::system("demo");
    let mut campaigns = clients.campaign.clone();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |at| at.as_secs() as i64);
    let stage = |threshold, name: &str| CampaignStage {
        threshold,
        name: name.into(),
        reward_definition_id: 1,
        ..CampaignStage::default()
    };
    let campaign = Campaign {
        name: "邀请好友得盲盒".into(),
        description: "邀请 3 位好友添加导购企业微信，即得限定盲盒一个".into(),
        kind: CampaignKind::InviteReward as i32,
        starts_at: Some(prost_types::Timestamp { seconds: now - 60, nanos: 0 }),
        ends_at: Some(prost_types::Timestamp { seconds: now + 30 * 86_400, nanos: 0 }),
        entry_channel: Some(EntryChannel {
            kind: EntryChannelKind::ContactWay as i32,
            userids: vec![userid.clone()],
            skip_verify: true,
            ..EntryChannel::default()
        }),
        stages: vec![stage(1, "邀请1人得优惠券"), stage(3, "邀请3人得盲盒")],
        poster: Some(PosterTemplate {
            background_url: "https://cdn.example.com/scrm-demo/poster.png".into(),
            share_text: "扫码加我，一起领盲盒".into(),
            ..PosterTemplate::default()
        }),
        ..Campaign::default()
    };
    let created =
        campaigns.create_campaign(caller.outgoing(CreateCampaignRequest { campaign: Some(campaign) })?).await?;
    let id = created.into_inner().campaign.map_or(0, |campaign| campaign.id);
    let started = campaigns.start_campaign(caller.outgoing(StartCampaignRequest { id })?).await?.into_inner();
    let landing_url = started.campaign.map(|campaign| campaign.landing_url).unwrap_or_default();
    let entry = RecordInvitationRequest {
        state: format!("f{id}-0"),
        invitee_external_userid: external_userid.clone(),
        userid,
        existing_customer: true,
        idempotency_key: format!("demo-{id}-{external_userid}"),
        ..RecordInvitationRequest::default()
    };
    campaigns.record_invitation(caller.outgoing(entry)?).await?;
    let koc = KocProfile {
        kind: KocKind::Customer as i32,
        external_userid,
        name: "社群活跃宝妈".into(),
        note: "演示数据".into(),
        ..KocProfile::default()
    };
    campaigns.create_koc_profile(caller.outgoing(CreateKocProfileRequest { profile: Some(koc) })?).await?;
    if landing_url.is_empty() {
        return Ok(());
    }
    let reply = CreateQuickReplyRequest {
        folder_id,
        title: "邀请好友得盲盒".into(),
        content: Some(QuickReplyContent {
            content: Some(Content::CampaignLink(CampaignLinkReplyContent {
                campaign_id: id,
                url: landing_url,
                title: "邀请好友得盲盒".into(),
                description: "邀请 3 位好友，即得限定盲盒".into(),
                cover_url: String::new(),
            })),
        }),
        keywords: vec!["裂变".into(), "活动".into()],
    };
    clients.customer.clone().create_quick_reply(caller.outgoing(reply)?).await?;
    Ok(())
}

/// A demo coupon (满100减20, valid 7 days from issue, one per customer) and the company quick reply that issues
/// it: a link card to the shop's coupon page.
async fn demo_coupon_reply(
    clients: &Clients,
    caller: &Caller,
    folder_id: i64,
) -> Result<scrm_proto::customer::v1::CreateQuickReplyRequest, tonic::Status> {
    use scrm_proto::customer::v1::quick_reply_content::Content;
    use scrm_proto::customer::v1::{CouponReplyContent, CreateQuickReplyRequest, QuickReplyContent};
    use scrm_proto::rewards::v1::{
        CouponReward, CreateRewardDefinitionRequest, RewardDefinition, RewardKind, coupon_reward, reward_definition,
    };
    let definition = RewardDefinition {
        name: "新客满100减20券".into(),
        description: "到店消费满100元立减20元".into(),
        kind: RewardKind::Coupon as i32,
        config: Some(reward_definition::Config::Coupon(CouponReward {
            face_value_fen: 2000,
            threshold_fen: 10_000,
            validity: Some(coupon_reward::Validity::ValidFor(prost_types::Duration { seconds: 7 * 86_400, nanos: 0 })),
            applicable_store_ids: Vec::new(),
            usage_note: "仅限到店使用".into(),
        })),
        per_recipient_limit: 1,
        ..RewardDefinition::default()
    };
    let request = caller.outgoing(CreateRewardDefinitionRequest { definition: Some(definition) })?;
    let definition = clients.rewards.clone().create_reward_definition(request).await?.into_inner().definition;
    Ok(CreateQuickReplyRequest {
        folder_id,
        title: "新客优惠券".into(),
        content: Some(QuickReplyContent {
            content: Some(Content::Coupon(CouponReplyContent {
                reward_definition_id: definition.map_or(0, |definition| definition.id),
                title: "送您一张满100减20券".into(),
                description: "到店消费满100元立减20元，7天内有效".into(),
                cover_url: String::new(),
                url: "https://shop.example.com/coupons".into(),
            })),
        }),
        keywords: vec!["优惠券".into()],
    })
}
