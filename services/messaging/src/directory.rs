//! Resolving broadcast targets into groups with their owners, through GroupService.ListGroups.

use scrm_kernel::{ApiError, Caller, Clients};
use scrm_proto::group::v1::{GroupChatStatus, ListGroupsRequest};

use crate::domain::{TargetFilter, TargetGroup, Targets};

/// ListGroups' largest page.
const PAGE_SIZE: i32 = 200;
/// Ids per ListGroups call for explicit targets.
const IDS_PER_CALL: usize = 500;

/// A resolved group and whether it is dismissed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedGroup {
    /// The group.
    pub group: TargetGroup,
    /// Dismissed groups are not sent to.
    pub dismissed: bool,
}

/// What resolving targets gave.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resolution {
    /// The groups found, each once.
    pub groups: Vec<ResolvedGroup>,
    /// Requested group ids not found, with their index in the request.
    pub unknown_group_ids: Vec<(usize, i64)>,
    /// Requested chat ids not found, with their index in the request.
    pub unknown_chat_ids: Vec<(usize, String)>,
}

/// Where broadcast targets are looked up.
#[tonic::async_trait]
pub trait GroupDirectory: Send + Sync + std::fmt::Debug {
    /// Resolves `targets` as `caller` may see them.
    async fn resolve(&self, caller: &Caller, targets: &Targets) -> Result<Resolution, ApiError>;
}

/// The group service, reached through its generated client.
#[derive(Clone)]
pub struct GroupServiceDirectory {
    clients: Clients,
}

impl std::fmt::Debug for GroupServiceDirectory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GroupServiceDirectory")
    }
}

impl GroupServiceDirectory {
    /// A directory over `clients.group`.
    pub fn new(clients: Clients) -> Self {
        GroupServiceDirectory { clients }
    }

    async fn list_all(&self, caller: &Caller, request: ListGroupsRequest) -> Result<Vec<ResolvedGroup>, ApiError> {
        let mut groups = Vec::new();
        let mut page_token = String::new();
        loop {
            let page = ListGroupsRequest { page_size: PAGE_SIZE, page_token: page_token.clone(), ..request.clone() };
            let response = self
                .clients
                .group
                .clone()
                .list_groups(caller.outgoing(page)?)
                .await
                .map_err(|status| {
                    let error = ApiError::from_status(&status);
                    ApiError::new(error.code, format!("cannot resolve the target groups: {}", error.message))
                })?
                .into_inner();
            groups.extend(response.groups.into_iter().map(|group| ResolvedGroup {
                dismissed: group.status == GroupChatStatus::Dismissed as i32,
                group: TargetGroup {
                    group_id: group.id,
                    chat_id: group.chat_id,
                    name: group.name,
                    // The group service names owners from identity's sync; until a name is known the userid
                    // stands in, so that reports always name someone.
                    owner_name: if group.owner_name.is_empty() { group.owner.clone() } else { group.owner_name },
                    owner: group.owner,
                    member_count: group.member_count,
                },
            }));
            if response.next_page_token.is_empty() {
                return Ok(groups);
            }
            page_token = response.next_page_token;
        }
    }
}

#[tonic::async_trait]
impl GroupDirectory for GroupServiceDirectory {
    async fn resolve(&self, caller: &Caller, targets: &Targets) -> Result<Resolution, ApiError> {
        let mut found = Vec::new();
        if let Some(filter) = &targets.filter {
            found = self.list_all(caller, filter_request(filter)).await?;
        }
        for chunk in targets.group_ids.chunks(IDS_PER_CALL) {
            let request =
                ListGroupsRequest { ids: chunk.to_vec(), include_dismissed: true, ..ListGroupsRequest::default() };
            found.extend(self.list_all(caller, request).await?);
        }
        for chunk in targets.chat_ids.chunks(IDS_PER_CALL) {
            let request =
                ListGroupsRequest { chat_ids: chunk.to_vec(), include_dismissed: true, ..ListGroupsRequest::default() };
            found.extend(self.list_all(caller, request).await?);
        }
        Ok(unite(targets, found))
    }
}

fn filter_request(filter: &TargetFilter) -> ListGroupsRequest {
    ListGroupsRequest {
        owner_userids: filter.owner_userids.clone(),
        store_ids: filter.store_ids.clone(),
        tag_ids: filter.tag_ids.clone(),
        match_all_tags: filter.match_all_tags,
        activity_bands: filter.activity_bands.clone(),
        ..ListGroupsRequest::default()
    }
}

/// Deduplicates `found` by chat id and lists the requested groups that were not found.
pub fn unite(targets: &Targets, found: Vec<ResolvedGroup>) -> Resolution {
    let mut seen = std::collections::HashSet::new();
    let groups: Vec<ResolvedGroup> =
        found.into_iter().filter(|resolved| seen.insert(resolved.group.chat_id.clone())).collect();
    let ids: std::collections::HashSet<i64> = groups.iter().map(|resolved| resolved.group.group_id).collect();
    let unknown_group_ids = targets.group_ids.iter().copied().enumerate().filter(|(_, id)| !ids.contains(id)).collect();
    let unknown_chat_ids =
        targets.chat_ids.iter().cloned().enumerate().filter(|(_, chat_id)| !seen.contains(chat_id)).collect();
    Resolution { groups, unknown_group_ids, unknown_chat_ids }
}
