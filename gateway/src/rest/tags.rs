//! The corp tag REST endpoints: the tag library under `/api/crm/tags` (list, create, rename or reorder,
//! delete) and tagging a customer (`POST /api/crm/customers/{wxId}/tags`, also served to the sidebar as
//! `POST /api/sidebar/customers/{wxId}/tags`). Each calls the customer service as the caller, which writes
//! to WeCom first.

use axum::extract::{Path, Query, State};
use axum::routing::{get, patch, post};
use axum::{Extension, Json, Router};
use prost_types::Timestamp;
use scrm_kernel::{Caller, Clients};
use scrm_proto::customer::v1::{
    CorpTag, CorpTagGroup, CorpTagInput, CreateCorpTagGroupRequest, CreateCorpTagsRequest, DeleteCorpTagGroupRequest,
    DeleteCorpTagsRequest, ListCorpTagsRequest, MarkCustomerTagsRequest, UpdateCorpTagGroupRequest,
    UpdateCorpTagRequest,
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::RestError;
use super::crm::{follow_json, tag_json};

/// The `/api/crm` tag routes.
pub fn router() -> Router<Clients> {
    Router::new()
        .route("/crm/tags", get(list).post(create))
        .route("/crm/tags/groups/{group_id}", patch(update_group).delete(delete_group))
        .route("/crm/tags/{tag_id}", patch(update_tag).delete(delete_tag))
        .route("/crm/customers/{wx_id}/tags", post(mark))
}

fn time(timestamp: Option<Timestamp>) -> Value {
    timestamp.map_or(Value::Null, |timestamp| Value::String(timestamp.to_string()))
}

fn tag_json_of(tag: &CorpTag) -> Value {
    json!({
        "tagId": tag.tag_id,
        "name": tag.name,
        "order": tag.order,
        "createdAt": time(tag.created_at),
        "deleted": tag.deleted,
        "customerCount": tag.customer_count,
    })
}

fn group_json(group: &CorpTagGroup) -> Value {
    json!({
        "groupId": group.group_id,
        "groupName": group.group_name,
        "order": group.order,
        "createdAt": time(group.created_at),
        "deleted": group.deleted,
        "tags": group.tag.iter().map(tag_json_of).collect::<Vec<_>>(),
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct ListQuery {
    /// Include groups and tags deleted in WeCom.
    include_deleted: bool,
}

/// `GET /api/crm/tags?includeDeleted=`: `{groups}`, each with its tags and their customer counts.
async fn list(
    State(clients): State<Clients>,
    Extension(caller): Extension<Caller>,
    Query(query): Query<ListQuery>,
) -> Result<Json<Value>, RestError> {
    let request =
        caller.outgoing(ListCorpTagsRequest { include_deleted: query.include_deleted, ..Default::default() })?;
    let groups = clients.customer.clone().list_corp_tags(request).await?.into_inner().groups;
    Ok(Json(json!({"groups": groups.iter().map(group_json).collect::<Vec<_>>()})))
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct NewTag {
    name: String,
    order: i64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct CreateBody {
    /// Existing group to add the tags to; empty to create the group `groupName`.
    group_id: String,
    /// Name of the new group.
    group_name: String,
    /// Sort value of the new group.
    order: i64,
    /// Tags to create.
    tags: Vec<NewTag>,
}

/// `POST /api/crm/tags` `{groupName, order, tags: [{name, order}]}` creates a group with its tags, or
/// `{groupId, tags}` adds tags to a group; answers `{group}`.
async fn create(
    State(clients): State<Clients>,
    Extension(caller): Extension<Caller>,
    Json(body): Json<CreateBody>,
) -> Result<Json<Value>, RestError> {
    let tags: Vec<CorpTagInput> =
        body.tags.into_iter().map(|tag| CorpTagInput { name: tag.name, order: tag.order }).collect();
    let mut client = clients.customer.clone();
    let group = if body.group_id.is_empty() {
        let request =
            caller.outgoing(CreateCorpTagGroupRequest { group_name: body.group_name, order: body.order, tags })?;
        client.create_corp_tag_group(request).await?.into_inner().group
    } else {
        let request = caller.outgoing(CreateCorpTagsRequest { group_id: body.group_id, tags })?;
        client.create_corp_tags(request).await?.into_inner().group
    };
    Ok(Json(json!({"group": group.as_ref().map_or(Value::Null, group_json)})))
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct UpdateBody {
    /// New name.
    name: Option<String>,
    /// New sort value.
    order: Option<i64>,
}

/// `PATCH /api/crm/tags/groups/{groupId}` `{name?, order?}`: renames or reorders a group; `{group}`.
async fn update_group(
    State(clients): State<Clients>,
    Extension(caller): Extension<Caller>,
    Path(group_id): Path<String>,
    Json(body): Json<UpdateBody>,
) -> Result<Json<Value>, RestError> {
    let request = caller.outgoing(UpdateCorpTagGroupRequest { group_id, group_name: body.name, order: body.order })?;
    let group = clients.customer.clone().update_corp_tag_group(request).await?.into_inner().group;
    Ok(Json(json!({"group": group.as_ref().map_or(Value::Null, group_json)})))
}

/// `DELETE /api/crm/tags/groups/{groupId}`: deletes a group and its tags; `{customersAffected}`.
async fn delete_group(
    State(clients): State<Clients>,
    Extension(caller): Extension<Caller>,
    Path(group_id): Path<String>,
) -> Result<Json<Value>, RestError> {
    let request = caller.outgoing(DeleteCorpTagGroupRequest { group_id })?;
    let deleted = clients.customer.clone().delete_corp_tag_group(request).await?.into_inner();
    Ok(Json(json!({"customersAffected": deleted.customers_affected})))
}

/// `PATCH /api/crm/tags/{tagId}` `{name?, order?}`: renames or reorders a tag; `{tag}`.
async fn update_tag(
    State(clients): State<Clients>,
    Extension(caller): Extension<Caller>,
    Path(tag_id): Path<String>,
    Json(body): Json<UpdateBody>,
) -> Result<Json<Value>, RestError> {
    let request = caller.outgoing(UpdateCorpTagRequest { tag_id, name: body.name, order: body.order })?;
    let tag = clients.customer.clone().update_corp_tag(request).await?.into_inner().tag;
    Ok(Json(json!({"tag": tag.as_ref().map_or(Value::Null, tag_json_of)})))
}

/// `DELETE /api/crm/tags/{tagId}`: deletes a tag; `{customersAffected, deletedGroupIds}`.
async fn delete_tag(
    State(clients): State<Clients>,
    Extension(caller): Extension<Caller>,
    Path(tag_id): Path<String>,
) -> Result<Json<Value>, RestError> {
    let request = caller.outgoing(DeleteCorpTagsRequest { tag_ids: vec![tag_id] })?;
    let deleted = clients.customer.clone().delete_corp_tags(request).await?.into_inner();
    Ok(Json(json!({"customersAffected": deleted.customers_affected, "deletedGroupIds": deleted.deleted_group_ids})))
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(super) struct MarkBody {
    /// Follow user whose tags change; empty for the caller.
    userid: String,
    /// Corp tag ids to add.
    add_tag_ids: Vec<String>,
    /// Corp tag ids to remove.
    remove_tag_ids: Vec<String>,
}

/// `POST /api/crm/customers/{wxId}/tags` (and `/api/sidebar/customers/{wxId}/tags`)
/// `{userid?, addTagIds, removeTagIds}`: tags the customer in WeCom, then in scrm; `{tags, followUser}`.
pub(super) async fn mark(
    State(clients): State<Clients>,
    Extension(caller): Extension<Caller>,
    Path(wx_id): Path<String>,
    Json(body): Json<MarkBody>,
) -> Result<Json<Value>, RestError> {
    let request = caller.outgoing(MarkCustomerTagsRequest {
        external_userid: wx_id,
        userid: body.userid,
        add_tag_ids: body.add_tag_ids,
        remove_tag_ids: body.remove_tag_ids,
    })?;
    let marked = clients.customer.clone().mark_customer_tags(request).await?.into_inner();
    Ok(Json(json!({
        "tags": marked.tags.iter().map(tag_json).collect::<Vec<_>>(),
        "followUser": marked.follow_user.as_ref().map_or(Value::Null, follow_json),
    })))
}
