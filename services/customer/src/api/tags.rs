//! The corp tag library (企业客户标签) and tagging customers: every write goes to WeCom first, then to the
//! store, then to the search index.

use std::collections::HashMap;

use scrm_kernel::{ApiError, Caller, ErrorCode, Role};
use scrm_proto::customer::v1::{
    CorpTag, CorpTagGroup, CorpTagInput, CreateCorpTagGroupRequest, CreateCorpTagGroupResponse, CreateCorpTagsRequest,
    CreateCorpTagsResponse, DeleteCorpTagGroupRequest, DeleteCorpTagGroupResponse, DeleteCorpTagsRequest,
    DeleteCorpTagsResponse, ListCorpTagsRequest, ListCorpTagsResponse, MarkCustomerTagsRequest,
    MarkCustomerTagsResponse, TagType, UpdateCorpTagGroupRequest, UpdateCorpTagGroupResponse, UpdateCorpTagRequest,
    UpdateCorpTagResponse, UpsertCorpTagGroupsRequest, UpsertCorpTagGroupsResponse,
};
use scrm_wecom::{AddCorpTagRequest, DelCorpTagRequest, EditCorpTagRequest, MarkTagRequest, NewCorpTag, WeComClient};

use super::profile::{follow_proto, tag_proto, timestamp};
use super::{CustomerApi, check_id, optional_millis, unix_millis};
use crate::domain::tags::{LibraryChange, LibraryOutcome, StoredTag, StoredTagGroup, TagOnCustomer, check_tag_name};
use crate::domain::{ContactInput, StoredCustomer, Tag, canonical_tags};
use crate::error::CustomerError;

/// Roles that may edit the tag library.
const LIBRARY_EDITORS: &[Role] = &[Role::Operator, Role::Admin];
/// Most tags created, deleted or marked in one call.
const MAX_TAGS_PER_CALL: usize = 100;
/// Most groups in one UpsertCorpTagGroups call.
const MAX_GROUPS_PER_UPSERT: usize = 1_000;

impl CustomerApi {
    /// The WeCom client, or FAILED_PRECONDITION when WeCom is not configured.
    fn wecom(&self) -> Result<&WeComClient, CustomerError> {
        self.wecom.as_ref().ok_or_else(|| {
            ApiError::new(ErrorCode::FailedPrecondition, "WeCom is not configured (wecom.corp_id, wecom.secret)").into()
        })
    }

    /// Renames or reorders a tag or group in WeCom (`edit_corp_tag`).
    async fn edit_in_wecom(&self, id: String, name: Option<String>, order: Option<i64>) -> Result<(), CustomerError> {
        self.wecom()?.edit_corp_tag(&EditCorpTagRequest { id, name, order, agentid: None }).await?;
        Ok(())
    }

    /// The stored library, and the current customers per tag.
    async fn library(&self) -> Result<(Vec<StoredTagGroup>, HashMap<String, i64>), CustomerError> {
        Ok((self.store.tag_library().await?, self.store.tag_customer_counts().await?))
    }

    /// A group of the library as the contract's message, with current tags only.
    async fn current_group(&self, group_id: &str) -> Result<CorpTagGroup, CustomerError> {
        let (library, counts) = self.library().await?;
        library
            .into_iter()
            .find(|group| group.group_id == group_id)
            .map(|group| group_proto(group, &counts, false))
            .ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("no tag group {group_id}")).into())
    }

    /// Applies a library change and re-indexes the customers whose tags changed.
    async fn apply_library(&self, change: LibraryChange) -> Result<LibraryOutcome, CustomerError> {
        let outcome = self.store.apply_tag_library(change, unix_millis(std::time::SystemTime::now())).await?;
        self.search.index_customers(&outcome.customers).await;
        Ok(outcome)
    }

    /// ListCorpTags: any signed-in caller.
    pub(crate) async fn list_corp_tags(
        &self,
        _caller: &Caller,
        request: ListCorpTagsRequest,
    ) -> Result<ListCorpTagsResponse, CustomerError> {
        let (library, counts) = self.library().await?;
        let groups = library
            .into_iter()
            .filter(|group| request.include_deleted || !group.deleted)
            .filter(|group| request.group_ids.is_empty() || request.group_ids.contains(&group.group_id))
            .map(|group| group_proto(group, &counts, request.include_deleted))
            .collect();
        Ok(ListCorpTagsResponse { groups })
    }

    /// CreateCorpTagGroup: `add_corp_tag` with a group name, then stored.
    pub(crate) async fn create_corp_tag_group(
        &self,
        caller: &Caller,
        request: CreateCorpTagGroupRequest,
    ) -> Result<CreateCorpTagGroupResponse, CustomerError> {
        caller.require_any(LIBRARY_EDITORS)?;
        let group_name =
            check_tag_name(&request.group_name).map_err(|reason| ApiError::invalid("group_name", reason))?;
        let tags = new_tags(request.tags)?;
        let added = self
            .wecom()?
            .add_corp_tag(&AddCorpTagRequest {
                group_name: Some(group_name),
                order: (request.order != 0).then_some(request.order),
                tag: tags,
                ..AddCorpTagRequest::default()
            })
            .await?;
        let group_id = added.tag_group.group_id.clone();
        self.apply_library(LibraryChange { groups: vec![wecom_group(added.tag_group)], ..LibraryChange::default() })
            .await?;
        Ok(CreateCorpTagGroupResponse { group: Some(self.current_group(&group_id).await?) })
    }

    /// CreateCorpTags: `add_corp_tag` into an existing group, then stored.
    pub(crate) async fn create_corp_tags(
        &self,
        caller: &Caller,
        request: CreateCorpTagsRequest,
    ) -> Result<CreateCorpTagsResponse, CustomerError> {
        caller.require_any(LIBRARY_EDITORS)?;
        check_id("group_id", &request.group_id)?;
        let tags = new_tags(request.tags)?;
        self.current_group(&request.group_id).await?;
        let added = self
            .wecom()?
            .add_corp_tag(&AddCorpTagRequest {
                group_id: Some(request.group_id.clone()),
                tag: tags,
                ..AddCorpTagRequest::default()
            })
            .await?;
        self.apply_library(LibraryChange { groups: vec![wecom_group(added.tag_group)], ..LibraryChange::default() })
            .await?;
        Ok(CreateCorpTagsResponse { group: Some(self.current_group(&request.group_id).await?) })
    }

    /// UpdateCorpTagGroup: `edit_corp_tag` on the group, then stored; customers see the new group name.
    pub(crate) async fn update_corp_tag_group(
        &self,
        caller: &Caller,
        request: UpdateCorpTagGroupRequest,
    ) -> Result<UpdateCorpTagGroupResponse, CustomerError> {
        caller.require_any(LIBRARY_EDITORS)?;
        check_id("group_id", &request.group_id)?;
        let name = new_name("group_name", request.group_name.as_deref())?;
        let library = self.store.tag_library().await?;
        let mut group = library
            .into_iter()
            .find(|group| group.group_id == request.group_id && !group.deleted)
            .ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("no tag group {}", request.group_id)))?;
        self.edit_in_wecom(request.group_id.clone(), name.clone(), request.order).await?;
        group.group_name = name.unwrap_or(group.group_name);
        group.order = request.order.unwrap_or(group.order);
        group.tags.clear();
        self.apply_library(LibraryChange { groups: vec![group], ..LibraryChange::default() }).await?;
        Ok(UpdateCorpTagGroupResponse { group: Some(self.current_group(&request.group_id).await?) })
    }

    /// UpdateCorpTag: `edit_corp_tag` on the tag, then stored; customers see the new name.
    pub(crate) async fn update_corp_tag(
        &self,
        caller: &Caller,
        request: UpdateCorpTagRequest,
    ) -> Result<UpdateCorpTagResponse, CustomerError> {
        caller.require_any(LIBRARY_EDITORS)?;
        check_id("tag_id", &request.tag_id)?;
        let name = new_name("name", request.name.as_deref())?;
        let library = self.store.tag_library().await?;
        let (mut group, mut tag) = library
            .into_iter()
            .filter(|group| !group.deleted)
            .find_map(|group| {
                let tag = group.tags.iter().find(|tag| tag.tag_id == request.tag_id && !tag.deleted).cloned();
                tag.map(|tag| (group, tag))
            })
            .ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("no tag {}", request.tag_id)))?;
        self.edit_in_wecom(request.tag_id.clone(), name.clone(), request.order).await?;
        tag.name = name.unwrap_or(tag.name);
        tag.order = request.order.unwrap_or(tag.order);
        group.tags = vec![tag];
        self.apply_library(LibraryChange { groups: vec![group.clone()], ..LibraryChange::default() }).await?;
        let (_, counts) = self.library().await?;
        let tag = group.tags.pop().map(|tag| tag_message(tag, &counts));
        Ok(UpdateCorpTagResponse { tag })
    }

    /// DeleteCorpTagGroup: `del_corp_tag` on the group, then stored; customers lose its tags.
    pub(crate) async fn delete_corp_tag_group(
        &self,
        caller: &Caller,
        request: DeleteCorpTagGroupRequest,
    ) -> Result<DeleteCorpTagGroupResponse, CustomerError> {
        caller.require_any(LIBRARY_EDITORS)?;
        check_id("group_id", &request.group_id)?;
        self.current_group(&request.group_id).await?;
        self.wecom()?
            .del_corp_tag(&DelCorpTagRequest {
                group_id: vec![request.group_id.clone()],
                ..DelCorpTagRequest::default()
            })
            .await?;
        let outcome = self
            .apply_library(LibraryChange { deleted_group_ids: vec![request.group_id], ..LibraryChange::default() })
            .await?;
        Ok(DeleteCorpTagGroupResponse { customers_affected: outcome.customers_affected })
    }

    /// DeleteCorpTags: `del_corp_tag` on the tags, then stored; customers lose them.
    pub(crate) async fn delete_corp_tags(
        &self,
        caller: &Caller,
        request: DeleteCorpTagsRequest,
    ) -> Result<DeleteCorpTagsResponse, CustomerError> {
        caller.require_any(LIBRARY_EDITORS)?;
        let tag_ids = tag_ids("tag_ids", request.tag_ids)?;
        if tag_ids.is_empty() {
            return Err(ApiError::invalid("tag_ids", "name at least one tag").into());
        }
        let current = self.current_tags().await?;
        if let Some(unknown) = tag_ids.iter().find(|id| !current.contains_key(*id)) {
            return Err(ApiError::new(ErrorCode::NotFound, format!("no tag {unknown}")).with_field("tag_ids").into());
        }
        self.wecom()?
            .del_corp_tag(&DelCorpTagRequest { tag_id: tag_ids.clone(), ..DelCorpTagRequest::default() })
            .await?;
        let outcome =
            self.apply_library(LibraryChange { deleted_tag_ids: tag_ids, ..LibraryChange::default() }).await?;
        Ok(DeleteCorpTagsResponse {
            customers_affected: outcome.customers_affected,
            deleted_group_ids: outcome.emptied_group_ids,
        })
    }

    /// UpsertCorpTagGroups: the library as read from WeCom (identity's sync and callbacks).
    pub(crate) async fn upsert_corp_tag_groups(
        &self,
        caller: &Caller,
        request: UpsertCorpTagGroupsRequest,
    ) -> Result<UpsertCorpTagGroupsResponse, CustomerError> {
        caller.require_any(LIBRARY_EDITORS)?;
        if request.groups.len() > MAX_GROUPS_PER_UPSERT {
            return Err(ApiError::invalid("groups", format!("at most {MAX_GROUPS_PER_UPSERT} groups per call")).into());
        }
        optional_millis("observed_at", request.observed_at.as_ref())?;
        let mut groups = Vec::with_capacity(request.groups.len());
        for (index, group) in request.groups.into_iter().enumerate() {
            groups.push(input_group(index, group)?);
        }
        let change = LibraryChange {
            groups,
            deleted_group_ids: tag_ids("deleted_group_ids", request.deleted_group_ids)?,
            deleted_tag_ids: tag_ids("deleted_tag_ids", request.deleted_tag_ids)?,
            full_snapshot: request.full_snapshot,
        };
        let outcome = self.apply_library(change).await?;
        Ok(UpsertCorpTagGroupsResponse {
            created: outcome.created,
            updated: outcome.updated,
            unchanged: outcome.unchanged,
            deleted: outcome.deleted,
        })
    }

    /// Current corp tags by id, with their group.
    async fn current_tags(&self) -> Result<HashMap<String, TagOnCustomer>, CustomerError> {
        let library = self.store.tag_library().await?;
        Ok(library
            .into_iter()
            .filter(|group| !group.deleted)
            .flat_map(|group| {
                let group_name = group.group_name;
                group.tags.into_iter().filter(|tag| !tag.deleted).map(move |tag| {
                    let on_customer = TagOnCustomer {
                        tag_id: tag.tag_id.clone(),
                        name: tag.name,
                        group_id: tag.group_id,
                        group_name: group_name.clone(),
                    };
                    (tag.tag_id, on_customer)
                })
            })
            .collect())
    }

    /// Fills the name and group of corp tags given by id only (the sync's `batch/get_by_user`) from the library.
    pub(crate) async fn name_corp_tags(&self, inputs: &mut [ContactInput]) -> Result<(), CustomerError> {
        let unnamed = |tag: &Tag| tag.tag_type == TagType::Corp as i32 && tag.tag_name.is_empty();
        let tags = |inputs: &[ContactInput]| -> bool {
            inputs.iter().flat_map(|input| &input.follow_users).flat_map(|follow| &follow.tags).any(unnamed)
        };
        if !tags(inputs) {
            return Ok(());
        }
        let library = self.current_tags().await?;
        for follow in inputs.iter_mut().flat_map(|input| input.follow_users.iter_mut()) {
            for tag in follow.tags.iter_mut().filter(|tag| unnamed(tag)) {
                if let Some(known) = library.get(&tag.tag_id) {
                    tag.tag_name = known.name.clone();
                    tag.group_id = known.group_id.clone();
                    tag.group_name = known.group_name.clone();
                }
            }
        }
        Ok(())
    }

    /// MarkCustomerTags: the caller must be allowed to see the customer (as for GetCustomer); the tags must be
    /// current corp tags; WeCom's `mark_tag` is called first.
    pub(crate) async fn mark_customer_tags(
        &self,
        caller: &Caller,
        request: MarkCustomerTagsRequest,
    ) -> Result<MarkCustomerTagsResponse, CustomerError> {
        let add = tag_ids("add_tag_ids", request.add_tag_ids)?;
        let remove = tag_ids("remove_tag_ids", request.remove_tag_ids)?;
        if add.is_empty() && remove.is_empty() {
            return Err(ApiError::invalid("add_tag_ids", "name at least one tag to add or remove").into());
        }
        if let Some(both) = add.iter().find(|id| remove.contains(id)) {
            return Err(ApiError::invalid("remove_tag_ids", format!("tag {both} is both added and removed")).into());
        }
        let customer = self.visible_customer(caller, &request.external_userid).await?;
        let userid = if request.userid.is_empty() { caller.staff_id.clone() } else { request.userid };
        check_id("userid", &userid)?;
        if !follows(&customer, &userid) {
            return Err(ApiError::new(
                ErrorCode::FailedPrecondition,
                format!("{userid} does not follow customer {}", request.external_userid),
            )
            .with_field("userid")
            .into());
        }
        let current = self.current_tags().await?;
        let mut added = Vec::with_capacity(add.len());
        for id in &add {
            let tag = current.get(id).ok_or_else(|| {
                ApiError::new(ErrorCode::NotFound, format!("no corp tag {id}")).with_field("add_tag_ids")
            })?;
            added.push(tag.clone());
        }
        self.wecom()?
            .mark_tag(&MarkTagRequest {
                userid: userid.clone(),
                external_userid: request.external_userid.clone(),
                add_tag: add,
                remove_tag: remove.clone(),
            })
            .await?;
        let now = unix_millis(std::time::SystemTime::now());
        self.store.mark_tags(&request.external_userid, &userid, &added, &remove, now).await?;
        self.search.index_customers(std::slice::from_ref(&request.external_userid)).await;
        let customer =
            self.store.customer(&request.external_userid).await?.ok_or_else(|| {
                ApiError::new(ErrorCode::NotFound, format!("no customer {}", request.external_userid))
            })?;
        let active = customer.follows.iter().filter(|follow| follow.is_active());
        let tags = canonical_tags(active.flat_map(|follow| follow.fields.tags.iter().cloned()).collect());
        let follow_user = customer.follows.iter().find(|follow| follow.fields.userid == userid).map(follow_proto);
        Ok(MarkCustomerTagsResponse { tags: tags.into_iter().map(tag_proto).collect(), follow_user })
    }
}

/// Whether `userid` currently follows `customer`.
fn follows(customer: &StoredCustomer, userid: &str) -> bool {
    customer.follows.iter().any(|follow| follow.is_active() && follow.fields.userid == userid)
}

/// Checks a list of WeCom ids at `field`: each 1 to 64 characters, at most 100; duplicates dropped.
fn tag_ids(field: &str, mut ids: Vec<String>) -> Result<Vec<String>, ApiError> {
    if ids.len() > MAX_TAGS_PER_CALL {
        return Err(ApiError::invalid(field, format!("at most {MAX_TAGS_PER_CALL} ids per call")));
    }
    for id in &ids {
        check_id(field, id)?;
    }
    ids.sort();
    ids.dedup();
    Ok(ids)
}

/// Checks an optional new name at `field`; returns it trimmed.
fn new_name(field: &str, name: Option<&str>) -> Result<Option<String>, ApiError> {
    name.map(check_tag_name).transpose().map_err(|reason| ApiError::invalid(field, reason))
}

/// Checks the tags to create: 1 to 100, names 1 to 30 characters, unique.
fn new_tags(tags: Vec<CorpTagInput>) -> Result<Vec<NewCorpTag>, ApiError> {
    if tags.is_empty() || tags.len() > MAX_TAGS_PER_CALL {
        return Err(ApiError::invalid("tags", format!("1 to {MAX_TAGS_PER_CALL} tags")));
    }
    let mut checked: Vec<NewCorpTag> = Vec::with_capacity(tags.len());
    for (index, tag) in tags.into_iter().enumerate() {
        let field = format!("tags[{index}].name");
        let name = check_tag_name(&tag.name).map_err(|reason| ApiError::invalid(&field, reason))?;
        if checked.iter().any(|other| other.name == name) {
            return Err(ApiError::invalid(field, format!("tag {name} is listed twice")));
        }
        checked.push(NewCorpTag { name, order: (tag.order != 0).then_some(tag.order) });
    }
    Ok(checked)
}

/// A group as WeCom returns it (times in seconds) in the store's terms.
fn wecom_group(group: scrm_wecom::CorpTagGroup) -> StoredTagGroup {
    let group_id = group.group_id;
    StoredTagGroup {
        tags: group
            .tag
            .into_iter()
            .map(|tag| StoredTag {
                tag_id: tag.id,
                group_id: group_id.clone(),
                name: tag.name,
                order: tag.order,
                created_at: tag.create_time.saturating_mul(1000),
                deleted: tag.deleted,
            })
            .collect(),
        group_id,
        group_name: group.group_name,
        order: group.order,
        created_at: group.create_time.saturating_mul(1000),
        deleted: group.deleted,
    }
}

/// Checks a group of an UpsertCorpTagGroups request.
fn input_group(index: usize, group: CorpTagGroup) -> Result<StoredTagGroup, ApiError> {
    let at = |field: &str| format!("groups[{index}].{field}");
    check_id(&at("group_id"), &group.group_id)?;
    let created_at = optional_millis(&at("created_at"), group.created_at.as_ref())?.unwrap_or(0);
    let mut tags = Vec::with_capacity(group.tag.len());
    for (tag_index, tag) in group.tag.into_iter().enumerate() {
        let at = |field: &str| format!("groups[{index}].tag[{tag_index}].{field}");
        check_id(&at("tag_id"), &tag.tag_id)?;
        super::check_len(&at("name"), &tag.name, 255)?;
        tags.push(StoredTag {
            tag_id: tag.tag_id,
            group_id: group.group_id.clone(),
            name: tag.name,
            order: tag.order,
            created_at: optional_millis(&at("created_at"), tag.created_at.as_ref())?.unwrap_or(0),
            deleted: tag.deleted,
        });
    }
    super::check_len(&at("group_name"), &group.group_name, 255)?;
    Ok(StoredTagGroup {
        group_id: group.group_id,
        group_name: group.group_name,
        order: group.order,
        created_at,
        deleted: group.deleted,
        tags,
    })
}

fn group_proto(group: StoredTagGroup, counts: &HashMap<String, i64>, include_deleted: bool) -> CorpTagGroup {
    CorpTagGroup {
        group_id: group.group_id,
        group_name: group.group_name,
        order: group.order,
        created_at: (group.created_at > 0).then(|| timestamp(group.created_at)),
        deleted: group.deleted,
        tag: group
            .tags
            .into_iter()
            .filter(|tag| include_deleted || !tag.deleted)
            .map(|tag| tag_message(tag, counts))
            .collect(),
    }
}

fn tag_message(tag: StoredTag, counts: &HashMap<String, i64>) -> CorpTag {
    CorpTag {
        customer_count: counts.get(&tag.tag_id).copied().unwrap_or(0),
        tag_id: tag.tag_id,
        name: tag.name,
        order: tag.order,
        created_at: (tag.created_at > 0).then(|| timestamp(tag.created_at)),
        deleted: tag.deleted,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use scrm_proto::customer::v1::customer_service_server::CustomerService;
    use scrm_proto::customer::v1::{
        ExternalContactInput, FollowUserInput, GetCustomerRequest, SearchCustomersRequest,
        UpsertExternalContactsRequest,
    };
    use scrm_storage::Db;
    use scrm_wecom::{GetCorpTagListRequest, WeComConfig};
    use scrm_wecom_sim::{SimConfig, Simulator, World, WorldSize};

    use super::*;
    use crate::search::CustomerSearch;
    use crate::store::CustomerStore;

    /// The handlers over `db`, writing to a fresh simulated corp.
    async fn api_with_sim(db: &Db) -> (CustomerApi, Arc<Simulator>) {
        db.migrate(&crate::MIGRATIONS).await.unwrap();
        let sim = Simulator::new(SimConfig::default(), World::generate(5, WorldSize::DEMO));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(scrm_wecom_sim::serve(listener, sim.clone()));
        let config = SimConfig::default();
        let wecom =
            WeComClient::new(WeComConfig::new(config.corp_id, config.corp_secrets[0].clone()).with_api_base(&url))
                .unwrap();
        let store = CustomerStore::new(db.clone());
        let search = CustomerSearch::new(scrm_search::SearchIndex::in_ram().unwrap(), store.clone());
        let groups = scrm_proto::group::v1::group_service_client::GroupServiceClient::new(
            scrm_kernel::rpc::RpcChannel::late(std::sync::Arc::default()),
        );
        let campaigns = scrm_proto::campaign::v1::campaign_service_client::CampaignServiceClient::new(
            scrm_kernel::rpc::RpcChannel::late(std::sync::Arc::default()),
        );
        (CustomerApi::new(store, crate::quick_replies::tests::unwired(db), search, Some(wecom), groups, campaigns), sim)
    }

    /// Stores customer `external_userid`, followed by `userid`, as the sync would.
    async fn add_customer(api: &CustomerApi, external_userid: &str, userid: &str) {
        let contact = ExternalContactInput {
            external_userid: external_userid.into(),
            name: "王小美".into(),
            follow_user: vec![FollowUserInput { userid: userid.into(), ..Default::default() }],
            ..Default::default()
        };
        let upsert = UpsertExternalContactsRequest { contacts: vec![contact], ..Default::default() };
        let request = caller("system:sync", Role::Admin).outgoing(upsert).unwrap();
        api.upsert_external_contacts(request).await.unwrap();
    }

    fn caller(staff_id: &str, role: Role) -> Caller {
        Caller { staff_id: staff_id.into(), role, store_ids: Vec::new() }
    }

    /// The simulated corp's library as the sync hands it over.
    async fn sync_library(api: &CustomerApi) -> UpsertCorpTagGroupsResponse {
        let library = api.wecom.as_ref().unwrap().get_corp_tag_list(&GetCorpTagListRequest::default()).await.unwrap();
        let groups = library
            .tag_group
            .into_iter()
            .map(|group| {
                let group = wecom_group(group);
                CorpTagGroup {
                    tag: group
                        .tags
                        .iter()
                        .map(|tag| CorpTag { tag_id: tag.tag_id.clone(), name: tag.name.clone(), ..CorpTag::default() })
                        .collect(),
                    group_id: group.group_id,
                    group_name: group.group_name,
                    ..CorpTagGroup::default()
                }
            })
            .collect();
        let request = UpsertCorpTagGroupsRequest { groups, full_snapshot: true, ..Default::default() };
        api.upsert_corp_tag_groups(&caller("system:sync", Role::Admin), request).await.unwrap()
    }

    /// Customer ids a search for `query` finds, polled until they are `expected` or 10 s pass.
    async fn found(api: &CustomerApi, query: &str, expected: &[&str]) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let request = SearchCustomersRequest { query: query.into(), ..Default::default() };
            let page = api.search.search(&caller("op", Role::Operator), request).await.unwrap();
            let ids: Vec<String> = page.customers.into_iter().map(|customer| customer.external_userid).collect();
            if ids == expected || Instant::now() > deadline {
                return ids;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn code<T: std::fmt::Debug>(result: Result<T, CustomerError>) -> tonic::Code {
        tonic::Status::from(result.unwrap_err()).code()
    }

    async fn the_library_round_trips_through_wecom_and_tags_reach_customers_and_search(db: Db) {
        let (api, sim) = api_with_sim(&db).await;
        let first = sync_library(&api).await;
        assert!(first.created > 0 && first.updated == 0, "{first:?}");
        let again = sync_library(&api).await;
        assert_eq!((again.created, again.updated, again.deleted, again.unchanged), (0, 0, 0, first.created));

        let (external_userid, userid) = sim.with_world(|world| {
            let customer = &world.customers[0];
            (customer.external_userid.clone(), customer.follow[0].userid.clone())
        });
        add_customer(&api, &external_userid, &userid).await;

        let operator = caller("op", Role::Operator);
        let create = CreateCorpTagGroupRequest {
            group_name: "复购意向".into(),
            order: 0,
            tags: vec![
                CorpTagInput { name: "想买盲盒".into(), order: 0 },
                CorpTagInput { name: "已买过".into(), order: 0 },
            ],
        };
        let group = api.create_corp_tag_group(&operator, create).await.unwrap().group.unwrap();
        assert_eq!(group.tag.len(), 2);
        let tag_id = group.tag.iter().find(|tag| tag.name == "想买盲盒").unwrap().tag_id.clone();
        let in_wecom = sim.with_world(|world| {
            world.tag_groups.iter().any(|wecom| wecom.group_id == group.group_id && wecom.tags.len() == 2)
        });
        assert!(in_wecom, "the group is created in WeCom first");

        let staff = caller(&userid, Role::Koc);
        let mark = MarkCustomerTagsRequest {
            external_userid: external_userid.clone(),
            add_tag_ids: vec![tag_id.clone()],
            ..Default::default()
        };
        let marked = api.mark_customer_tags(&staff, mark.clone()).await.unwrap();
        assert_eq!(marked.tags.iter().map(|tag| tag.tag_name.as_str()).collect::<Vec<_>>(), ["想买盲盒"]);
        let tagged_in_wecom = sim.with_world(|world| {
            let customer = world.customers.iter().find(|customer| customer.external_userid == external_userid);
            customer.unwrap().follow.iter().any(|follow| follow.userid == userid && follow.tags.contains(&tag_id))
        });
        assert!(tagged_in_wecom, "mark_tag reached WeCom");
        let profile = api.profile(&operator, GetCustomerRequest { external_userid: external_userid.clone() }).await;
        let profile = profile.unwrap().customer.unwrap();
        assert_eq!(profile.tags[0].group_name, "复购意向");
        assert_eq!(found(&api, "盲盒", &[&external_userid]).await, [external_userid.as_str()]);
        let listed = api.list_corp_tags(&staff, ListCorpTagsRequest::default()).await.unwrap();
        let counted = listed.groups.iter().flat_map(|group| &group.tag).find(|tag| tag.tag_id == tag_id).unwrap();
        assert_eq!(counted.customer_count, 1);

        let rename = UpdateCorpTagRequest { tag_id: tag_id.clone(), name: Some("想买手办".into()), order: None };
        assert_eq!(api.update_corp_tag(&operator, rename).await.unwrap().tag.unwrap().name, "想买手办");
        assert_eq!(found(&api, "手办", &[&external_userid]).await, [external_userid.as_str()]);
        assert_eq!(found(&api, "盲盒", &[]).await, Vec::<String>::new());

        let delete = DeleteCorpTagsRequest { tag_ids: group.tag.iter().map(|tag| tag.tag_id.clone()).collect() };
        let deleted = api.delete_corp_tags(&operator, delete).await.unwrap();
        assert_eq!((deleted.customers_affected, deleted.deleted_group_ids), (1, vec![group.group_id.clone()]));
        let profile = api.profile(&operator, GetCustomerRequest { external_userid: external_userid.clone() }).await;
        assert!(profile.unwrap().customer.unwrap().tags.is_empty());
        assert!(sim.with_world(|world| world.tag_groups.iter().all(|wecom| wecom.group_id != group.group_id)));
        let listed = api.list_corp_tags(&operator, ListCorpTagsRequest::default()).await.unwrap();
        assert!(listed.groups.iter().all(|listed| listed.group_id != group.group_id));
        assert_eq!(code(api.mark_customer_tags(&staff, mark).await), tonic::Code::NotFound, "a deleted tag");
    }

    async fn tag_writes_check_roles_relations_and_input(db: Db) {
        let (api, sim) = api_with_sim(&db).await;
        sync_library(&api).await;
        let (external_userid, userid, tag_id) = sim.with_world(|world| {
            let customer = &world.customers[0];
            (
                customer.external_userid.clone(),
                customer.follow[0].userid.clone(),
                world.tag_groups[0].tags[0].id.clone(),
            )
        });
        add_customer(&api, &external_userid, &userid).await;

        let create = CreateCorpTagGroupRequest {
            group_name: "组".into(),
            tags: vec![CorpTagInput { name: "标签".into(), order: 0 }],
            order: 0,
        };
        let koc = caller(&userid, Role::Koc);
        assert_eq!(code(api.create_corp_tag_group(&koc, create.clone()).await), tonic::Code::PermissionDenied);
        let operator = caller("op", Role::Operator);
        let no_tags = CreateCorpTagGroupRequest { tags: Vec::new(), ..create.clone() };
        assert_eq!(code(api.create_corp_tag_group(&operator, no_tags).await), tonic::Code::InvalidArgument);
        let long = CreateCorpTagGroupRequest { group_name: "长".repeat(31), ..create };
        assert_eq!(code(api.create_corp_tag_group(&operator, long).await), tonic::Code::InvalidArgument);

        let mark = |add: &str| MarkCustomerTagsRequest {
            external_userid: external_userid.clone(),
            add_tag_ids: vec![add.to_owned()],
            ..Default::default()
        };
        let stranger = caller("someone_else", Role::Koc);
        assert_eq!(code(api.mark_customer_tags(&stranger, mark(&tag_id)).await), tonic::Code::PermissionDenied);
        assert_eq!(code(api.mark_customer_tags(&operator, mark(&tag_id)).await), tonic::Code::FailedPrecondition);
        let for_follower = MarkCustomerTagsRequest { userid: userid.clone(), ..mark(&tag_id) };
        assert_eq!(api.mark_customer_tags(&operator, for_follower).await.unwrap().tags.len(), 1);
        assert_eq!(code(api.mark_customer_tags(&koc, mark("et_unknown")).await), tonic::Code::NotFound);
        let nothing = MarkCustomerTagsRequest { external_userid: external_userid.clone(), ..Default::default() };
        assert_eq!(code(api.mark_customer_tags(&koc, nothing).await), tonic::Code::InvalidArgument);

        let offline = CustomerApi::for_tests(&db);
        assert_eq!(code(offline.mark_customer_tags(&koc, mark(&tag_id)).await), tonic::Code::FailedPrecondition);
    }

    scrm_storage::store_test_suite!(
        the_library_round_trips_through_wecom_and_tags_reach_customers_and_search,
        tag_writes_check_roles_relations_and_input,
    );
}
