//! The tonic implementation of `scrm.campaign.v1.CampaignService`: maps protobuf to domain calls and checks
//! the caller. RPCs not written here answer through [`crate::PLANNED`].

mod campaigns;
mod koc;
mod participation;

use scrm_kernel::{ApiError, Caller, Clients};
use scrm_proto::campaign::v1::campaign_service_server::CampaignService;
use scrm_proto::campaign::v1::{
    CreateCampaignRequest, CreateCampaignResponse, CreateKocProfileRequest, CreateKocProfileResponse,
    DeleteCampaignRequest, DeleteCampaignResponse, DeleteKocProfileRequest, DeleteKocProfileResponse,
    EndCampaignRequest, EndCampaignResponse, GetCampaignRequest, GetCampaignResponse, GetCampaignStatsRequest,
    GetCampaignStatsResponse, GetCustomerCampaignsRequest, GetCustomerCampaignsResponse, GetKocProfileRequest,
    GetKocProfileResponse, ListCampaignsRequest, ListCampaignsResponse, ListKocProfilesRequest,
    ListKocProfilesResponse, ListParticipantsRequest, ListParticipantsResponse, PauseCampaignRequest,
    PauseCampaignResponse, RecordInvitationRequest, RecordInvitationResponse, RevokeInvitationRequest,
    RevokeInvitationResponse, StartCampaignRequest, StartCampaignResponse, UpdateCampaignRequest,
    UpdateCampaignResponse, UpdateKocProfileRequest, UpdateKocProfileResponse,
};
use scrm_wecom::WeComClient;
use tonic::{Request, Response, Status};

use crate::store::CampaignStore;

/// The campaign service's gRPC handlers.
pub struct CampaignApi {
    store: CampaignStore,
    wecom: Option<WeComClient>,
    clients: Option<Clients>,
    public_base_url: String,
}

impl std::fmt::Debug for CampaignApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CampaignApi")
            .field("store", &self.store)
            .field("wecom", &self.wecom)
            .field("public_base_url", &self.public_base_url)
            .finish_non_exhaustive()
    }
}

impl CampaignApi {
    /// Handlers over `store`; contact ways are created in WeCom through `wecom`, join ways through the group
    /// service in `clients`; landing pages live under `public_base_url`.
    pub fn new(
        store: CampaignStore,
        wecom: Option<WeComClient>,
        clients: Option<Clients>,
        public_base_url: String,
    ) -> Self {
        CampaignApi { store, wecom, clients, public_base_url }
    }
}

/// The wall clock in Unix milliseconds.
pub(crate) fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX))
}

/// Whether `caller` may see data of `store_id` (0: the whole corp, everyone's).
fn sees_store(caller: &Caller, store_id: i64) -> bool {
    store_id == 0 || caller.can_see_store(&store_id.to_string())
}

/// Checks an idempotency key: required, at most 255 bytes.
fn idempotency_key(key: &str) -> Result<String, ApiError> {
    let key = key.trim();
    if key.is_empty() {
        return Err(ApiError::invalid("idempotency_key", "idempotency_key is required"));
    }
    if key.len() > 255 {
        return Err(ApiError::invalid("idempotency_key", "at most 255 bytes"));
    }
    Ok(key.to_owned())
}

/// Reads an offset page token (`offset:<n>`).
fn parse_offset(page_token: &str) -> Result<i64, ApiError> {
    if page_token.is_empty() {
        return Ok(0);
    }
    page_token
        .strip_prefix("offset:")
        .and_then(|offset| offset.parse().ok())
        .filter(|offset: &i64| *offset >= 0)
        .ok_or_else(|| ApiError::invalid("page_token", "page_token is not one this server issued"))
}

/// The token of the page after one at `offset` that returned `page_len` rows of `page_size`.
fn next_offset_token(offset: i64, page_len: usize, page_size: u32) -> String {
    if page_len == page_size as usize { format!("offset:{}", offset + page_len as i64) } else { String::new() }
}

#[tonic::async_trait]
impl CampaignService for CampaignApi {
    async fn create_campaign(
        &self,
        request: Request<CreateCampaignRequest>,
    ) -> Result<Response<CreateCampaignResponse>, Status> {
        let caller = Caller::from_request(&request)?;
        Ok(Response::new(self.create_campaign_for(&caller, request.into_inner()).await?))
    }

    async fn get_campaign(
        &self,
        request: Request<GetCampaignRequest>,
    ) -> Result<Response<GetCampaignResponse>, Status> {
        let caller = Caller::from_request(&request)?;
        let campaign = self.visible_campaign(&caller, request.into_inner().id).await?;
        Ok(Response::new(GetCampaignResponse { campaign: Some(self.present(campaign).await?) }))
    }

    async fn list_campaigns(
        &self,
        request: Request<ListCampaignsRequest>,
    ) -> Result<Response<ListCampaignsResponse>, Status> {
        let caller = Caller::from_request(&request)?;
        Ok(Response::new(self.list_campaigns_for(&caller, request.into_inner()).await?))
    }

    async fn update_campaign(
        &self,
        request: Request<UpdateCampaignRequest>,
    ) -> Result<Response<UpdateCampaignResponse>, Status> {
        let caller = Caller::from_request(&request)?;
        Ok(Response::new(self.update_campaign_for(&caller, request.into_inner()).await?))
    }

    async fn delete_campaign(
        &self,
        request: Request<DeleteCampaignRequest>,
    ) -> Result<Response<DeleteCampaignResponse>, Status> {
        let caller = Caller::from_request(&request)?;
        self.delete_campaign_for(&caller, request.into_inner().id).await?;
        Ok(Response::new(DeleteCampaignResponse {}))
    }

    async fn start_campaign(
        &self,
        request: Request<StartCampaignRequest>,
    ) -> Result<Response<StartCampaignResponse>, Status> {
        let caller = Caller::from_request(&request)?;
        let campaign = self.start_campaign_for(&caller, request.into_inner().id).await?;
        Ok(Response::new(StartCampaignResponse { campaign: Some(campaign) }))
    }

    async fn pause_campaign(
        &self,
        request: Request<PauseCampaignRequest>,
    ) -> Result<Response<PauseCampaignResponse>, Status> {
        let caller = Caller::from_request(&request)?;
        let id = request.into_inner().id;
        let campaign = self.transition_for(&caller, id, crate::domain::Transition::Pause).await?;
        Ok(Response::new(PauseCampaignResponse { campaign: Some(campaign) }))
    }

    async fn end_campaign(
        &self,
        request: Request<EndCampaignRequest>,
    ) -> Result<Response<EndCampaignResponse>, Status> {
        let caller = Caller::from_request(&request)?;
        let id = request.into_inner().id;
        let campaign = self.transition_for(&caller, id, crate::domain::Transition::End).await?;
        Ok(Response::new(EndCampaignResponse { campaign: Some(campaign) }))
    }

    async fn record_invitation(
        &self,
        request: Request<RecordInvitationRequest>,
    ) -> Result<Response<RecordInvitationResponse>, Status> {
        let caller = Caller::from_request(&request)?;
        Ok(Response::new(self.record_invitation_for(&caller, request.into_inner()).await?))
    }

    async fn revoke_invitation(
        &self,
        request: Request<RevokeInvitationRequest>,
    ) -> Result<Response<RevokeInvitationResponse>, Status> {
        let caller = Caller::from_request(&request)?;
        Ok(Response::new(self.revoke_invitation_for(&caller, request.into_inner()).await?))
    }

    async fn get_campaign_stats(
        &self,
        request: Request<GetCampaignStatsRequest>,
    ) -> Result<Response<GetCampaignStatsResponse>, Status> {
        let caller = Caller::from_request(&request)?;
        Ok(Response::new(self.campaign_stats_for(&caller, request.into_inner()).await?))
    }

    async fn list_participants(
        &self,
        request: Request<ListParticipantsRequest>,
    ) -> Result<Response<ListParticipantsResponse>, Status> {
        let caller = Caller::from_request(&request)?;
        Ok(Response::new(self.list_participants_for(&caller, request.into_inner()).await?))
    }

    async fn get_customer_campaigns(
        &self,
        request: Request<GetCustomerCampaignsRequest>,
    ) -> Result<Response<GetCustomerCampaignsResponse>, Status> {
        let caller = Caller::from_request(&request)?;
        Ok(Response::new(self.customer_campaigns_for(&caller, request.into_inner()).await?))
    }

    async fn create_koc_profile(
        &self,
        request: Request<CreateKocProfileRequest>,
    ) -> Result<Response<CreateKocProfileResponse>, Status> {
        let caller = Caller::from_request(&request)?;
        Ok(Response::new(self.create_koc_for(&caller, request.into_inner()).await?))
    }

    async fn get_koc_profile(
        &self,
        request: Request<GetKocProfileRequest>,
    ) -> Result<Response<GetKocProfileResponse>, Status> {
        let caller = Caller::from_request(&request)?;
        let profile = self.visible_koc(&caller, request.into_inner().id).await?;
        Ok(Response::new(GetKocProfileResponse { profile: Some(profile) }))
    }

    async fn list_koc_profiles(
        &self,
        request: Request<ListKocProfilesRequest>,
    ) -> Result<Response<ListKocProfilesResponse>, Status> {
        let caller = Caller::from_request(&request)?;
        Ok(Response::new(self.list_kocs_for(&caller, request.into_inner()).await?))
    }

    async fn update_koc_profile(
        &self,
        request: Request<UpdateKocProfileRequest>,
    ) -> Result<Response<UpdateKocProfileResponse>, Status> {
        let caller = Caller::from_request(&request)?;
        Ok(Response::new(self.update_koc_for(&caller, request.into_inner()).await?))
    }

    async fn delete_koc_profile(
        &self,
        request: Request<DeleteKocProfileRequest>,
    ) -> Result<Response<DeleteKocProfileResponse>, Status> {
        let caller = Caller::from_request(&request)?;
        Ok(Response::new(self.delete_koc_for(&caller, request.into_inner().id).await?))
    }
}
