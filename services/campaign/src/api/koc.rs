//! KOC profiles (PR14): CreateKocProfile, GetKocProfile, ListKocProfiles, UpdateKocProfile and
//! DeleteKocProfile. A `koc` caller sees only their own profile (a staff KOC whose userid is theirs).

use scrm_kernel::{ApiError, Caller, ErrorCode, Role};
use scrm_proto::campaign::v1::{
    CreateKocProfileRequest, CreateKocProfileResponse, DeleteKocProfileResponse, KocProfile, KocStatus,
    ListKocProfilesRequest, ListKocProfilesResponse, UpdateKocProfileRequest, UpdateKocProfileResponse,
};

use super::{CampaignApi, next_offset_token, now_millis, parse_offset, sees_store};
use crate::domain::{apply_koc_update, check_id, check_new_koc};
use crate::error::{CampaignError, not_found};
use crate::store::koc::{KocFilter, KocInsertError};

impl CampaignApi {
    /// Profile `id` (0: the caller's own) if `caller` may see it; NOT_FOUND otherwise.
    pub(super) async fn visible_koc(&self, caller: &Caller, id: i64) -> Result<KocProfile, CampaignError> {
        let profile = if id == 0 {
            let own = KocFilter { userid: caller.staff_id.clone(), ..KocFilter::default() };
            self.store.list_kocs(&own, &scrm_kernel::StoreScope::All, 0, 1).await?.pop()
        } else {
            self.store.koc(id).await?
        };
        match profile {
            Some(profile) if may_see(caller, &profile) => Ok(profile),
            _ if id == 0 => Err(not_found(format!("a KOC profile of {}", caller.staff_id)).into()),
            _ => Err(not_found(format!("KOC profile {id}")).into()),
        }
    }

    /// Serves CreateKocProfile.
    pub(super) async fn create_koc_for(
        &self,
        caller: &Caller,
        request: CreateKocProfileRequest,
    ) -> Result<CreateKocProfileResponse, CampaignError> {
        let mut profile = request.profile.ok_or_else(|| ApiError::invalid("profile", "profile is required"))?;
        check_new_koc(&profile)?;
        if !sees_store(caller, profile.store_id) {
            return Err(ApiError::invalid("profile.store_id", "不能为其他门店设置 KOC").into());
        }
        profile.id = 0;
        profile.name = profile.name.trim().to_owned();
        profile.status = KocStatus::Active as i32;
        match self.store.insert_koc(&profile, now_millis()).await {
            Ok(stored) => Ok(CreateKocProfileResponse { profile: Some(stored) }),
            Err(KocInsertError::Exists) => {
                Err(ApiError::new(ErrorCode::AlreadyExists, "此人已有 KOC 档案").with_field("profile").into())
            }
            Err(KocInsertError::Storage(error)) => Err(error.into()),
        }
    }

    /// Serves ListKocProfiles: by name, within the caller's stores; a `koc` caller gets only their own.
    pub(super) async fn list_kocs_for(
        &self,
        caller: &Caller,
        request: ListKocProfilesRequest,
    ) -> Result<ListKocProfilesResponse, CampaignError> {
        let size = scrm_kernel::paging::page_size(request.page_size)?;
        let offset = parse_offset(&request.page_token)?;
        if !request.external_userid.is_empty() {
            check_id("external_userid", &request.external_userid)?;
        }
        let filter = KocFilter {
            status: request.status,
            kind: request.kind,
            chat_id: request.chat_id,
            store_id: request.store_id,
            query: request.query.trim().to_owned(),
            external_userid: request.external_userid,
            userid: if caller.role == Role::Koc { caller.staff_id.clone() } else { String::new() },
        };
        let profiles = self.store.list_kocs(&filter, &caller.store_scope(), offset, size).await?;
        Ok(ListKocProfilesResponse { next_page_token: next_offset_token(offset, profiles.len(), size), profiles })
    }

    /// Serves UpdateKocProfile.
    pub(super) async fn update_koc_for(
        &self,
        caller: &Caller,
        request: UpdateKocProfileRequest,
    ) -> Result<UpdateKocProfileResponse, CampaignError> {
        let patch = request.profile.ok_or_else(|| ApiError::invalid("profile", "profile is required"))?;
        let paths = request.update_mask.map(|mask| mask.paths).unwrap_or_default();
        if patch.id <= 0 {
            return Err(ApiError::invalid("profile.id", "profile.id is required").into());
        }
        let mut profile = self.visible_koc(caller, patch.id).await?;
        apply_koc_update(&mut profile, patch, &paths)?;
        if !sees_store(caller, profile.store_id) {
            return Err(ApiError::invalid("profile.store_id", "不能把 KOC 移到其他门店").into());
        }
        self.store.save_koc(&profile, now_millis()).await?;
        let stored = self.visible_koc(caller, profile.id).await?;
        Ok(UpdateKocProfileResponse { profile: Some(stored) })
    }

    /// Serves DeleteKocProfile: the profile stays, INACTIVE. (KOC tasks are not built yet, so none is open.)
    pub(super) async fn delete_koc_for(
        &self,
        caller: &Caller,
        id: i64,
    ) -> Result<DeleteKocProfileResponse, CampaignError> {
        if id <= 0 {
            return Err(ApiError::invalid("id", "id is required").into());
        }
        let mut profile = self.visible_koc(caller, id).await?;
        profile.status = KocStatus::Inactive as i32;
        self.store.save_koc(&profile, now_millis()).await?;
        let stored = self.visible_koc(caller, profile.id).await?;
        Ok(DeleteKocProfileResponse { profile: Some(stored), cancelled_task_count: 0 })
    }
}

/// Whether `caller` may see `profile`: within their stores, and only their own for a `koc` caller.
fn may_see(caller: &Caller, profile: &KocProfile) -> bool {
    if caller.role == Role::Koc {
        return profile.userid == caller.staff_id;
    }
    sees_store(caller, profile.store_id)
}
