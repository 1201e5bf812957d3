//! Group tags (群标签): CreateGroupTag, ListGroupTags, UpdateGroupTag, DeleteGroupTag and TagGroups.

use scrm_kernel::paging::page_size;
use scrm_kernel::{ApiError, Caller, ErrorCode};
use scrm_proto::group::v1::{
    CreateGroupTagRequest, CreateGroupTagResponse, DeleteGroupTagRequest, DeleteGroupTagResponse, GroupTag,
    ListGroupTagsRequest, ListGroupTagsResponse, TagGroupsRequest, TagGroupsResponse, UpdateGroupTagRequest,
    UpdateGroupTagResponse,
};

use super::mask::Mask;
use super::{GroupApi, now_millis, timestamp};
use crate::domain::MAX_BATCH;
use crate::error::GroupError;
use crate::store::tags::{TagCursor, TagFields, TagRecord, TagWriteError};

/// Longest tag name or category, in characters.
const MAX_TAG_CHARS: usize = 30;

impl From<TagWriteError> for GroupError {
    fn from(error: TagWriteError) -> Self {
        match error {
            TagWriteError::Duplicate => {
                ApiError::new(ErrorCode::AlreadyExists, "the category already has a tag of that name").into()
            }
            TagWriteError::Storage(error) => error.into(),
        }
    }
}

impl GroupApi {
    /// Serves CreateGroupTag.
    pub(super) async fn create_tag_for(
        &self,
        request: CreateGroupTagRequest,
    ) -> Result<CreateGroupTagResponse, GroupError> {
        let fields = tag_fields(request.name, request.category, request.sort_order)?;
        let tag = self.store.create_tag(&fields, now_millis()).await?;
        Ok(CreateGroupTagResponse { tag: Some(tag_proto(tag)) })
    }

    /// Serves ListGroupTags.
    pub(super) async fn list_tags_for(
        &self,
        request: ListGroupTagsRequest,
    ) -> Result<ListGroupTagsResponse, GroupError> {
        let limit = page_size(request.page_size)?;
        let after = match request.page_token.as_str() {
            "" => None,
            token => Some(
                decode_tag_token(token)
                    .ok_or_else(|| ApiError::invalid("page_token", "page_token is not one this server issued"))?,
            ),
        };
        let mut tags = self.store.list_tags(&request.category, after.as_ref(), limit + 1).await?;
        let next_page_token = if tags.len() > limit as usize {
            tags.truncate(limit as usize);
            tags.last().map(encode_tag_token).unwrap_or_default()
        } else {
            String::new()
        };
        Ok(ListGroupTagsResponse { tags: tags.into_iter().map(tag_proto).collect(), next_page_token })
    }

    /// Serves UpdateGroupTag.
    pub(super) async fn update_tag_for(
        &self,
        request: UpdateGroupTagRequest,
    ) -> Result<UpdateGroupTagResponse, GroupError> {
        let tag = request.tag.ok_or_else(|| ApiError::invalid("tag", "tag is required"))?;
        let not_found = || ApiError::new(ErrorCode::NotFound, format!("group tag {} does not exist", tag.id));
        let stored = self.store.tag(tag.id).await?.ok_or_else(not_found)?;
        let mask = Mask::parse(request.update_mask, &["name", "category", "sort_order"])?;
        let wants = |field: &str| mask.wants(field);
        let fields = tag_fields(
            if wants("name") { tag.name } else { stored.name },
            if wants("category") { tag.category } else { stored.category },
            if wants("sort_order") { tag.sort_order } else { stored.sort_order },
        )?;
        let tag = self.store.update_tag(tag.id, &fields, now_millis()).await?.ok_or_else(not_found)?;
        Ok(UpdateGroupTagResponse { tag: Some(tag_proto(tag)) })
    }

    /// Serves DeleteGroupTag.
    pub(super) async fn delete_tag_for(
        &self,
        request: DeleteGroupTagRequest,
    ) -> Result<DeleteGroupTagResponse, GroupError> {
        let groups_untagged =
            self.store.delete_tag(request.id).await?.ok_or_else(|| {
                ApiError::new(ErrorCode::NotFound, format!("group tag {} does not exist", request.id))
            })?;
        Ok(DeleteGroupTagResponse { groups_untagged })
    }

    /// Serves TagGroups.
    pub(super) async fn tag_groups_for(
        &self,
        caller: &Caller,
        request: TagGroupsRequest,
    ) -> Result<TagGroupsResponse, GroupError> {
        if request.chat_ids.is_empty() || request.chat_ids.len() > MAX_BATCH {
            return Err(ApiError::invalid("chat_ids", format!("chat_ids must hold 1 to {MAX_BATCH} groups")).into());
        }
        if let Some(tag_id) = request.add_tag_ids.iter().find(|id| request.remove_tag_ids.contains(id)) {
            return Err(ApiError::invalid("remove_tag_ids", format!("tag {tag_id} is both added and removed")).into());
        }
        for (field, ids) in [("add_tag_ids", &request.add_tag_ids), ("remove_tag_ids", &request.remove_tag_ids)] {
            if let Some(id) = self.store.unknown_tags(ids).await?.first() {
                return Err(ApiError::invalid(field, format!("group tag {id} does not exist")).into());
            }
        }
        let mut chat_ids = request.chat_ids;
        chat_ids.dedup();
        let outcome = self
            .store
            .tag_groups(&chat_ids, &request.add_tag_ids, &request.remove_tag_ids, &caller.store_scope(), now_millis())
            .await?;
        Ok(TagGroupsResponse {
            updated: outcome.updated,
            unchanged: outcome.unchanged,
            unknown_chat_ids: outcome.unknown_chat_ids,
        })
    }
}

/// Checks a tag's fields: name 1 to 30 characters, category at most 30.
fn tag_fields(name: String, category: String, sort_order: i32) -> Result<TagFields, ApiError> {
    let name = name.trim().to_owned();
    let category = category.trim().to_owned();
    if name.is_empty() || name.chars().count() > MAX_TAG_CHARS {
        return Err(ApiError::invalid("name", format!("name must be 1 to {MAX_TAG_CHARS} characters")));
    }
    if category.chars().count() > MAX_TAG_CHARS {
        return Err(ApiError::invalid("category", format!("category must be at most {MAX_TAG_CHARS} characters")));
    }
    Ok(TagFields { name, category, sort_order })
}

fn tag_proto(tag: TagRecord) -> GroupTag {
    GroupTag {
        id: tag.id,
        name: tag.name,
        category: tag.category,
        sort_order: tag.sort_order,
        group_count: tag.group_count,
        created_at: Some(timestamp(tag.created_at)),
    }
}

/// `tg1.<sort_order>.<id>.<hex category>`.
fn encode_tag_token(tag: &TagRecord) -> String {
    let category: String = tag.category.bytes().map(|byte| format!("{byte:02x}")).collect();
    format!("tg1.{}.{}.{category}", tag.sort_order, tag.id)
}

fn decode_tag_token(token: &str) -> Option<TagCursor> {
    let mut parts = token.splitn(4, '.');
    if parts.next()? != "tg1" {
        return None;
    }
    let sort_order = parts.next()?.parse().ok()?;
    let id = parts.next()?.parse().ok()?;
    let hex = parts.next()?;
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|at| hex.get(at..at + 2).and_then(|pair| u8::from_str_radix(pair, 16).ok()))
        .collect::<Option<Vec<u8>>>()?;
    Some(TagCursor { category: String::from_utf8(bytes).ok()?, sort_order, id })
}
