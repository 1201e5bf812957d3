//! The tonic implementation of `scrm.group.v1.GroupService`: maps protobuf to domain calls
//! and checks the caller. RPCs not written here answer through [`crate::PLANNED`].

use scrm_kernel::Caller;
use scrm_proto::group::v1::group_service_server::GroupService;
use scrm_proto::group::v1::{CountGroupsRequest, CountGroupsResponse};
use tonic::{Request, Response, Status};

use crate::error::GroupError;
use crate::store::GroupStore;

/// The group service's gRPC handlers.
#[derive(Debug)]
pub struct GroupApi {
    store: GroupStore,
}

impl GroupApi {
    /// Handlers over `store`.
    pub fn new(store: GroupStore) -> Self {
        GroupApi { store }
    }
}

#[tonic::async_trait]
impl GroupService for GroupApi {
    async fn count_groups(
        &self,
        request: Request<CountGroupsRequest>,
    ) -> Result<Response<CountGroupsResponse>, Status> {
        let caller = Caller::from_request(&request)?;
        let total = self.store.count_groups(&caller.store_scope()).await.map_err(GroupError::from)?;
        Ok(Response::new(CountGroupsResponse { total }))
    }
}
