//! Fission tracking (PR12): RecordInvitation (attribution by WeCom `state` or personal link),
//! RevokeInvitation and ListParticipants (one campaign's, or one customer's across campaigns).

use scrm_kernel::paging::page_size;
use scrm_kernel::{ApiError, Caller, ErrorCode};
use scrm_proto::campaign::v1::campaign::Settings;
use scrm_proto::campaign::v1::{
    GetCampaignStatsRequest, GetCampaignStatsResponse, GetCustomerCampaignsRequest, GetCustomerCampaignsResponse,
    Invitation, InvitationStatus, KocStatus, LifecycleState, ListKocProfilesRequest, ListParticipantsRequest,
    ListParticipantsResponse, Participant, ParticipantOrder, RecordInvitationRequest, RecordInvitationResponse,
    RevokeInvitationReason, RevokeInvitationRequest, RevokeInvitationResponse,
};

use super::{CampaignApi, idempotency_key, next_offset_token, now_millis, parse_offset, sees_store};
use crate::domain::{MAX_ID_CHARS, MAX_STATE_CHARS, check_id, landing_url, parse_state};
use crate::error::{CampaignError, not_found};
use crate::stats::{aggregate, series_range};
use crate::store::participation::{EntryOutcome, InvitationRow, NewEntry, ParticipantFilter, ParticipantRow};
use crate::store::timestamp;

/// Longest revocation note, in characters.
const MAX_NOTE_CHARS: usize = 1000;

impl CampaignApi {
    /// Serves RecordInvitation.
    pub(super) async fn record_invitation_for(
        &self,
        caller: &Caller,
        request: RecordInvitationRequest,
    ) -> Result<RecordInvitationResponse, CampaignError> {
        check_id("invitee_external_userid", &request.invitee_external_userid)?;
        let key = idempotency_key(&request.idempotency_key)?;
        for (field, value, limit) in [
            ("userid", &request.userid, MAX_ID_CHARS),
            ("chat_id", &request.chat_id, MAX_ID_CHARS),
            ("state", &request.state, MAX_STATE_CHARS),
        ] {
            if value.chars().count() > limit {
                return Err(ApiError::invalid(field, format!("{field} is too long")).into());
            }
        }
        let (campaign_id, inviter_id) = self.attribution(&request).await?;
        let campaign = self.visible_campaign(caller, campaign_id).await?;
        if !matches!(LifecycleState::try_from(campaign.state), Ok(LifecycleState::Active | LifecycleState::Paused)) {
            return Err(ApiError::new(ErrorCode::FailedPrecondition, "活动未开始或已结束，不记录邀请").into());
        }
        let occurred_at = match &request.occurred_at {
            Some(at) => at.seconds.saturating_mul(1000) + i64::from(at.nanos / 1_000_000),
            None => now_millis(),
        };
        let entry = NewEntry {
            landing_url: landing_url(&self.public_base_url, campaign.id),
            campaign,
            inviter_participant_id: inviter_id,
            invitee: request.invitee_external_userid,
            state: request.state,
            userid: request.userid,
            chat_id: request.chat_id,
            existing_customer: request.existing_customer,
            occurred_at,
            idempotency_key: key,
        };
        match self.store.record_entry(&entry).await? {
            EntryOutcome::Recorded(entry) => Ok(RecordInvitationResponse {
                invitation: Some(invitation_proto(entry.invitation)),
                inviter: entry.inviter.map(participant_proto),
                reached_stage_level: entry.reached_stage_level,
                reward_grant_ids: Vec::new(),
            }),
            EntryOutcome::UnknownInviter => Err(ApiError::new(
                ErrorCode::NotFound,
                format!("participant {inviter_id} is not in campaign {campaign_id}"),
            )
            .with_field("inviter_participant_id")
            .into()),
        }
    }

    /// The campaign and inviting participant (0: the base channel) a RecordInvitation names, by state or by
    /// explicit inviter.
    async fn attribution(&self, request: &RecordInvitationRequest) -> Result<(i64, i64), CampaignError> {
        if !request.state.is_empty() {
            let (campaign_id, participant_id) = parse_state(&request.state).ok_or_else(|| {
                ApiError::new(ErrorCode::NotFound, format!("state {} is not a campaign code", request.state))
                    .with_field("state")
            })?;
            if request.campaign_id != 0 && request.campaign_id != campaign_id {
                return Err(ApiError::invalid("state", "state belongs to another campaign").into());
            }
            if request.inviter_participant_id != 0 && request.inviter_participant_id != participant_id {
                return Err(ApiError::invalid("inviter_participant_id", "state names another inviter").into());
            }
            return Ok((campaign_id, participant_id));
        }
        if request.inviter_participant_id <= 0 {
            return Err(ApiError::invalid("state", "state or inviter_participant_id is required").into());
        }
        let inviter = self.store.participant(request.inviter_participant_id).await?.ok_or_else(|| {
            not_found(format!("participant {}", request.inviter_participant_id)).with_field("inviter_participant_id")
        })?;
        if request.campaign_id != 0 && request.campaign_id != inviter.campaign_id {
            return Err(ApiError::invalid("campaign_id", "the inviter is in another campaign").into());
        }
        Ok((inviter.campaign_id, inviter.id))
    }

    /// Serves RevokeInvitation: an invitation by id, or the invitee's invitations (in one campaign, or in every
    /// ACTIVE campaign). Leaving revokes only in campaigns that deduct on leave.
    pub(super) async fn revoke_invitation_for(
        &self,
        caller: &Caller,
        request: RevokeInvitationRequest,
    ) -> Result<RevokeInvitationResponse, CampaignError> {
        let to = match RevokeInvitationReason::try_from(request.reason).unwrap_or(RevokeInvitationReason::Unspecified) {
            RevokeInvitationReason::Unspecified => {
                return Err(ApiError::invalid("reason", "reason is required (LEFT or FRAUD)").into());
            }
            RevokeInvitationReason::Left => InvitationStatus::Left,
            RevokeInvitationReason::Fraud => InvitationStatus::Revoked,
        };
        if request.note.chars().count() > MAX_NOTE_CHARS {
            return Err(ApiError::invalid("note", "at most 1000 characters").into());
        }
        let candidates = if request.invitation_id != 0 {
            let invitation = self
                .store
                .invitation(request.invitation_id)
                .await?
                .ok_or_else(|| not_found(format!("invitation {}", request.invitation_id)))?;
            vec![invitation]
        } else {
            check_id("invitee_external_userid", &request.invitee_external_userid)?;
            self.store.invitations_of(request.campaign_id, &request.invitee_external_userid).await?
        };
        let mut invitations = Vec::new();
        for invitation in candidates {
            let Some(campaign) = self.store.campaign(invitation.campaign_id).await? else { continue };
            if !sees_store(caller, campaign.store_id) {
                if request.invitation_id != 0 {
                    return Err(not_found(format!("invitation {}", request.invitation_id)).into());
                }
                continue;
            }
            if request.invitation_id == 0 && request.campaign_id == 0 && campaign.state != LifecycleState::Active as i32
            {
                continue;
            }
            let deducts =
                matches!(&campaign.settings, Some(Settings::InviteReward(settings)) if settings.deduct_on_leave);
            if to == InvitationStatus::Left && !deducts {
                continue;
            }
            if let Some(revoked) =
                self.store.revoke_invitation(invitation.id, to, request.note.trim(), now_millis()).await?
            {
                invitations.push(invitation_proto(revoked));
            }
        }
        Ok(RevokeInvitationResponse { invitations })
    }

    /// Serves GetCampaignStats: totals, levels and stages over the whole campaign, and the per-day series.
    pub(super) async fn campaign_stats_for(
        &self,
        caller: &Caller,
        request: GetCampaignStatsRequest,
    ) -> Result<GetCampaignStatsResponse, CampaignError> {
        if request.campaign_id <= 0 {
            return Err(ApiError::invalid("campaign_id", "campaign_id is required").into());
        }
        let campaign = self.visible_campaign(caller, request.campaign_id).await?;
        let millis = |at: Option<&prost_types::Timestamp>| at.map_or(0, |at| at.seconds.saturating_mul(1000));
        let now = now_millis();
        let range = series_range(
            &request.start_date,
            &request.end_date,
            millis(campaign.starts_at.as_ref()),
            millis(campaign.ends_at.as_ref()),
            now,
        )?;
        let (participants, invitations) = self.store.stats_rows(campaign.id).await?;
        Ok(aggregate(campaign.id, &campaign.stages, &participants, &invitations, range, now))
    }

    /// Serves ListParticipants.
    pub(super) async fn list_participants_for(
        &self,
        caller: &Caller,
        request: ListParticipantsRequest,
    ) -> Result<ListParticipantsResponse, CampaignError> {
        if request.campaign_id == 0 {
            if request.external_userid.is_empty() {
                return Err(ApiError::invalid("campaign_id", "campaign_id is required without external_userid").into());
            }
        } else {
            self.visible_campaign(caller, request.campaign_id).await?;
        }
        if !request.external_userid.is_empty() {
            check_id("external_userid", &request.external_userid)?;
        }
        let size = page_size(request.page_size)?;
        let offset = parse_offset(&request.page_token)?;
        let filter = ParticipantFilter {
            campaign_id: request.campaign_id,
            depth: request.depth,
            min_stage_level: request.min_stage_level,
            external_userid: request.external_userid.clone(),
        };
        let order = ParticipantOrder::try_from(request.order).unwrap_or(ParticipantOrder::Unspecified);
        let (rows, total_size) =
            self.store.list_participants(&filter, &caller.store_scope(), order, offset, size).await?;
        Ok(ListParticipantsResponse {
            next_page_token: next_offset_token(offset, rows.len(), size),
            participants: rows.into_iter().map(participant_proto).collect(),
            total_size,
        })
    }
}

impl CampaignApi {
    /// Serves GetCustomerCampaigns: ListKocProfiles (active, this customer) and ListParticipants (this customer,
    /// across campaigns) side by side, each with its own checks and scope.
    pub(super) async fn customer_campaigns_for(
        &self,
        caller: &Caller,
        request: GetCustomerCampaignsRequest,
    ) -> Result<GetCustomerCampaignsResponse, CampaignError> {
        if request.external_userid.is_empty() {
            return Err(ApiError::invalid("external_userid", "external_userid is required").into());
        }
        let kocs = ListKocProfilesRequest {
            external_userid: request.external_userid.clone(),
            status: KocStatus::Active as i32,
            page_size: 1,
            ..ListKocProfilesRequest::default()
        };
        let participants = ListParticipantsRequest {
            external_userid: request.external_userid,
            page_size: request.page_size,
            ..ListParticipantsRequest::default()
        };
        let (kocs, participants) =
            tokio::try_join!(self.list_kocs_for(caller, kocs), self.list_participants_for(caller, participants))?;
        Ok(GetCustomerCampaignsResponse {
            koc_profile: kocs.profiles.into_iter().next(),
            participations: participants.participants,
            total_participations: participants.total_size,
        })
    }
}

fn invitation_proto(row: InvitationRow) -> Invitation {
    Invitation {
        id: row.id,
        campaign_id: row.campaign_id,
        inviter_participant_id: row.inviter_participant_id,
        inviter_external_userid: row.inviter_external_userid,
        invitee_external_userid: row.invitee_external_userid,
        invitee_participant_id: row.invitee_participant_id,
        depth: row.depth,
        state: row.state,
        userid: row.userid,
        chat_id: row.chat_id,
        status: row.status,
        converted: row.converted == 1,
        converted_at: row.converted_at.map(timestamp),
        occurred_at: Some(timestamp(row.occurred_at)),
    }
}

fn participant_proto(row: ParticipantRow) -> Participant {
    Participant {
        id: row.id,
        campaign_id: row.campaign_id,
        external_userid: row.external_userid,
        userid: row.userid,
        name: row.name,
        avatar_url: row.avatar_url,
        inviter_participant_id: row.inviter_participant_id,
        depth: row.depth,
        state: row.state,
        poster_url: String::new(),
        link_url: row.link_url,
        qr_code_url: String::new(),
        config_id: String::new(),
        invite_count: row.invite_count,
        valid_invite_count: row.valid_invite_count,
        converted_count: row.converted_count,
        descendant_count: row.descendant_count,
        reached_stage_level: row.reached_stage_level,
        reward_grant_ids: Vec::new(),
        team_leader_participant_id: 0,
        team_state: 0,
        koc_id: row.koc_id,
        joined_at: Some(timestamp(row.joined_at)),
        campaign_name: row.campaign_name,
    }
}
