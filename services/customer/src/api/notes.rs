//! Notes (跟进记录) and level tiers.

use scrm_kernel::paging::{BeforeId, page_size};
use scrm_kernel::{ApiError, Caller, ErrorCode, Role};
use scrm_proto::customer::v1::{
    AddCustomerNoteRequest, AddCustomerNoteResponse, DeleteCustomerNoteRequest, DeleteCustomerNoteResponse,
    GetLevelTiersResponse, LevelTier, ListCustomerNotesRequest, ListCustomerNotesResponse, UpdateLevelTiersRequest,
    UpdateLevelTiersResponse,
};

use super::profile::{note_proto, timestamp};
use super::{CustomerApi, unix_millis};
use crate::domain::levels::{Tier, validate_tiers};
use crate::error::CustomerError;

/// Longest note, in characters.
const MAX_NOTE_CHARS: usize = 2_000;

fn tier_proto(tier: Tier) -> LevelTier {
    LevelTier { level: tier.level, name: tier.name, min_spend_fen: tier.min_spend_fen }
}

impl CustomerApi {
    /// AddCustomerNote: any caller who may see the customer.
    pub(crate) async fn add_note(
        &self,
        caller: &Caller,
        request: AddCustomerNoteRequest,
    ) -> Result<AddCustomerNoteResponse, CustomerError> {
        let content = request.content.trim();
        let chars = content.chars().count();
        if chars == 0 || chars > MAX_NOTE_CHARS {
            return Err(ApiError::invalid("content", format!("a note has 1 to {MAX_NOTE_CHARS} characters")).into());
        }
        self.visible_customer(caller, &request.external_userid).await?;
        let now = unix_millis(std::time::SystemTime::now());
        let note =
            self.store.add_note(&request.external_userid, content, &caller.staff_id, &caller.staff_id, now).await?;
        self.search.index_customers(std::slice::from_ref(&request.external_userid)).await;
        Ok(AddCustomerNoteResponse { note: Some(note_proto(note)) })
    }

    /// ListCustomerNotes.
    pub(crate) async fn list_notes(
        &self,
        caller: &Caller,
        request: ListCustomerNotesRequest,
    ) -> Result<ListCustomerNotesResponse, CustomerError> {
        let limit = page_size(request.page_size)?;
        let before = BeforeId::parse(&request.page_token)?.map(|BeforeId(id)| id);
        self.visible_customer(caller, &request.external_userid).await?;
        let notes = self.store.notes(&request.external_userid, before, limit).await?;
        let next_page_token = BeforeId::next_token(notes.last().map(|note| note.id), notes.len(), limit);
        Ok(ListCustomerNotesResponse { notes: notes.into_iter().map(note_proto).collect(), next_page_token })
    }

    /// DeleteCustomerNote: its author, or an operator or admin.
    pub(crate) async fn delete_note(
        &self,
        caller: &Caller,
        request: DeleteCustomerNoteRequest,
    ) -> Result<DeleteCustomerNoteResponse, CustomerError> {
        if request.id <= 0 {
            return Err(ApiError::invalid("id", "id must be positive").into());
        }
        let Some(note) = self.store.note(request.id).await? else {
            return Ok(DeleteCustomerNoteResponse {});
        };
        if note.author_id != caller.staff_id && !matches!(caller.role, Role::Operator | Role::Admin) {
            return Err(
                ApiError::new(ErrorCode::PermissionDenied, "only its author or an operator may delete a note").into()
            );
        }
        self.store.delete_note(request.id).await?;
        self.search.index_customers(&[note.external_userid]).await;
        Ok(DeleteCustomerNoteResponse {})
    }

    /// GetLevelTiers.
    pub(crate) async fn tiers(&self) -> Result<GetLevelTiersResponse, CustomerError> {
        let (tiers, updated_at) = self.store.level_tiers().await?;
        Ok(GetLevelTiersResponse {
            tiers: tiers.into_iter().map(tier_proto).collect(),
            updated_at: updated_at.map(timestamp),
        })
    }

    /// UpdateLevelTiers: operators. Levels are derived from the tiers when read, so every customer's level
    /// follows the new tiers as soon as they are stored: at once in this process, within the tier cache's 5 s in
    /// other customer-service processes.
    pub(crate) async fn update_tiers(
        &self,
        request: UpdateLevelTiersRequest,
    ) -> Result<UpdateLevelTiersResponse, CustomerError> {
        let tiers: Vec<Tier> = request
            .tiers
            .into_iter()
            .map(|tier| Tier {
                level: tier.level,
                name: tier.name.trim().to_owned(),
                min_spend_fen: tier.min_spend_fen,
            })
            .collect();
        validate_tiers(&tiers).map_err(|(field, message)| ApiError::invalid(field, message))?;
        let now = unix_millis(std::time::SystemTime::now());
        let customers_to_recompute = self.store.replace_level_tiers(&tiers, now).await?;
        Ok(UpdateLevelTiersResponse { tiers: tiers.into_iter().map(tier_proto).collect(), customers_to_recompute })
    }
}
