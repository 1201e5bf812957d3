//! Fission campaigns (PR11): CreateCampaign, GetCampaign, ListCampaigns, UpdateCampaign, DeleteCampaign and
//! the lifecycle (StartCampaign, PauseCampaign, EndCampaign). The first start creates the campaign's base WeCom
//! code: a contact way (`add_contact_way`) or a join way (`GroupService.CreateJoinWay`), carrying the state
//! `f<id>-0`.

use scrm_kernel::paging::{BeforeId, page_size};
use scrm_kernel::{ApiError, Caller, ErrorCode};
use scrm_proto::campaign::v1::{
    Campaign, CreateCampaignRequest, CreateCampaignResponse, EntryChannel, EntryChannelKind, LifecycleState,
    ListCampaignsRequest, ListCampaignsResponse, UpdateCampaignRequest, UpdateCampaignResponse,
};
use scrm_proto::group::v1::{CreateJoinWayRequest, JoinWayScene};

use super::{CampaignApi, now_millis, sees_store};
use crate::domain::{
    Transition, apply_update, check_campaign, check_startable, landing_url, new_campaign, next_state, personal_state,
};
use crate::error::{CampaignError, not_found};
use crate::store::CampaignFilter;

/// WeCom's longest contact-way remark, in characters.
const MAX_REMARK_CHARS: usize = 30;

impl CampaignApi {
    /// Campaign `id` if `caller` may see it; NOT_FOUND otherwise.
    pub(super) async fn visible_campaign(&self, caller: &Caller, id: i64) -> Result<Campaign, CampaignError> {
        match self.store.campaign(id).await? {
            Some(campaign) if sees_store(caller, campaign.store_id) => Ok(campaign),
            _ => Err(not_found(format!("campaign {id}")).into()),
        }
    }

    /// A stored campaign as the contract shows it: its landing page and each stage's claimed count.
    pub(super) async fn present(&self, mut campaign: Campaign) -> Result<Campaign, CampaignError> {
        campaign.landing_url = landing_url(&self.public_base_url, campaign.id);
        if !campaign.stages.is_empty() {
            let reach = self.store.stage_reach(campaign.id).await?;
            for stage in &mut campaign.stages {
                let claimed: i64 =
                    reach.iter().filter(|(level, _)| *level >= stage.level).map(|(_, count)| count).sum();
                stage.claimed_count = i32::try_from(claimed).unwrap_or(i32::MAX);
            }
        }
        Ok(campaign)
    }

    /// Serves CreateCampaign.
    pub(super) async fn create_campaign_for(
        &self,
        caller: &Caller,
        request: CreateCampaignRequest,
    ) -> Result<CreateCampaignResponse, CampaignError> {
        let campaign = request.campaign.ok_or_else(|| ApiError::invalid("campaign", "campaign is required"))?;
        check_campaign(&campaign)?;
        if !sees_store(caller, campaign.store_id) {
            return Err(ApiError::invalid("campaign.store_id", "不能为其他门店创建活动").into());
        }
        let stored = self.store.insert_campaign(&new_campaign(campaign, &caller.staff_id), now_millis()).await?;
        Ok(CreateCampaignResponse { campaign: Some(self.present(stored).await?) })
    }

    /// Serves ListCampaigns: newest first, within the caller's stores.
    pub(super) async fn list_campaigns_for(
        &self,
        caller: &Caller,
        request: ListCampaignsRequest,
    ) -> Result<ListCampaignsResponse, CampaignError> {
        let size = page_size(request.page_size)?;
        let before = BeforeId::parse(&request.page_token)?;
        let filter = CampaignFilter {
            state: request.state,
            kind: request.kind,
            store_id: request.store_id,
            query: request.query.trim().to_owned(),
        };
        let rows =
            self.store.list_campaigns(&filter, &caller.store_scope(), before.map(|before| before.0), size).await?;
        let next_page_token = BeforeId::next_token(rows.last().map(|campaign| campaign.id), rows.len(), size);
        let mut campaigns = Vec::with_capacity(rows.len());
        for campaign in rows {
            campaigns.push(self.present(campaign).await?);
        }
        Ok(ListCampaignsResponse { campaigns, next_page_token })
    }

    /// Serves UpdateCampaign.
    pub(super) async fn update_campaign_for(
        &self,
        caller: &Caller,
        request: UpdateCampaignRequest,
    ) -> Result<UpdateCampaignResponse, CampaignError> {
        let patch = request.campaign.ok_or_else(|| ApiError::invalid("campaign", "campaign is required"))?;
        let paths = request.update_mask.map(|mask| mask.paths).unwrap_or_default();
        let mut campaign = self.visible_campaign(caller, patch.id).await?;
        let state = LifecycleState::try_from(campaign.state).unwrap_or(LifecycleState::Unspecified);
        apply_update(&mut campaign, patch, &paths)?;
        check_campaign(&campaign)?;
        if !sees_store(caller, campaign.store_id) {
            return Err(ApiError::invalid("campaign.store_id", "不能把活动移到其他门店").into());
        }
        if !self.store.save_campaign(&campaign, state, now_millis()).await? {
            return Err(changed_meanwhile().into());
        }
        let stored = self.visible_campaign(caller, campaign.id).await?;
        Ok(UpdateCampaignResponse { campaign: Some(self.present(stored).await?) })
    }

    /// Serves DeleteCampaign: DRAFT only.
    pub(super) async fn delete_campaign_for(&self, caller: &Caller, id: i64) -> Result<(), CampaignError> {
        let campaign = self.visible_campaign(caller, id).await?;
        if campaign.state != LifecycleState::Draft as i32 || !self.store.delete_draft(id).await? {
            return Err(ApiError::new(ErrorCode::FailedPrecondition, "只能删除草稿活动；已开始的活动请结束").into());
        }
        Ok(())
    }

    /// Serves StartCampaign: checks the campaign can run, creates its base WeCom code on the first start, and
    /// moves it to ACTIVE.
    pub(super) async fn start_campaign_for(&self, caller: &Caller, id: i64) -> Result<Campaign, CampaignError> {
        let mut campaign = self.visible_campaign(caller, id).await?;
        let from = LifecycleState::try_from(campaign.state).unwrap_or(LifecycleState::Unspecified);
        campaign.state = next_state(from, Transition::Start)? as i32;
        check_startable(&campaign, now_millis())?;
        if let Some(channel) = campaign.entry_channel.as_mut().filter(|channel| channel.config_id.is_empty()) {
            let name = campaign.name.clone();
            self.create_entry_channel(caller, id, &name, channel).await?;
        }
        if !self.store.save_campaign(&campaign, from, now_millis()).await? {
            return Err(changed_meanwhile().into());
        }
        let stored = self.visible_campaign(caller, id).await?;
        self.present(stored).await
    }

    /// Serves PauseCampaign and EndCampaign.
    pub(super) async fn transition_for(
        &self,
        caller: &Caller,
        id: i64,
        transition: Transition,
    ) -> Result<Campaign, CampaignError> {
        let mut campaign = self.visible_campaign(caller, id).await?;
        let from = LifecycleState::try_from(campaign.state).unwrap_or(LifecycleState::Unspecified);
        campaign.state = next_state(from, transition)? as i32;
        if !self.store.save_campaign(&campaign, from, now_millis()).await? {
            return Err(changed_meanwhile().into());
        }
        let stored = self.visible_campaign(caller, id).await?;
        self.present(stored).await
    }

    /// Creates the campaign's base code in WeCom and records its config_id and QR code on `channel`.
    async fn create_entry_channel(
        &self,
        caller: &Caller,
        id: i64,
        name: &str,
        channel: &mut EntryChannel,
    ) -> Result<(), CampaignError> {
        let state = personal_state(id, 0);
        let remark: String = name.chars().take(MAX_REMARK_CHARS).collect();
        match EntryChannelKind::try_from(channel.kind).unwrap_or(EntryChannelKind::Unspecified) {
            EntryChannelKind::ContactWay => {
                let wecom = self.wecom.as_ref().ok_or_else(|| {
                    ApiError::new(
                        ErrorCode::FailedPrecondition,
                        "WeCom is not configured (wecom.corp_id, wecom.secret)",
                    )
                })?;
                let way = scrm_wecom::ContactWay {
                    way_type: if channel.userids.len() == 1 { 1 } else { 2 },
                    scene: 2,
                    remark,
                    skip_verify: Some(channel.skip_verify),
                    state,
                    user: channel.userids.clone(),
                    ..scrm_wecom::ContactWay::default()
                };
                let added = wecom.add_contact_way(&way).await.map_err(|error| {
                    ApiError::new(ErrorCode::FailedPrecondition, format!("WeCom refused add_contact_way: {error}"))
                })?;
                channel.config_id = added.config_id;
                channel.qr_code_url = added.qr_code;
            }
            EntryChannelKind::JoinWay => {
                let mut group = self
                    .clients
                    .as_ref()
                    .ok_or_else(|| ApiError::new(ErrorCode::FailedPrecondition, "the group service is not reachable"))?
                    .group
                    .clone();
                let request = CreateJoinWayRequest {
                    scene: JoinWayScene::QrCode as i32,
                    remark,
                    chat_id_list: channel.chat_ids.clone(),
                    state,
                    campaign_id: id,
                    idempotency_key: format!("campaign-{id}-base"),
                    ..CreateJoinWayRequest::default()
                };
                let way = group
                    .create_join_way(caller.outgoing(request)?)
                    .await
                    .map_err(|status| ApiError::from_status(&status))?
                    .into_inner()
                    .join_way
                    .unwrap_or_default();
                channel.config_id = way.config_id;
                channel.qr_code_url = way.qr_code;
                channel.join_way_id = way.id;
            }
            EntryChannelKind::Unspecified => {
                return Err(ApiError::invalid("campaign.entry_channel.kind", "请选择入口渠道").into());
            }
        }
        Ok(())
    }
}

fn changed_meanwhile() -> ApiError {
    ApiError::new(ErrorCode::FailedPrecondition, "the campaign changed meanwhile; read it again and retry")
}
