//! The tonic implementation of `scrm.customer.v1.CustomerService`: maps protobuf to domain calls
//! and checks the caller. RPCs not written here answer through [`crate::PLANNED`].

use scrm_kernel::Caller;
use scrm_proto::customer::v1::customer_service_server::CustomerService;
use scrm_proto::customer::v1::{CountCustomersRequest, CountCustomersResponse};
use tonic::{Request, Response, Status};

use crate::error::CustomerError;
use crate::store::CustomerStore;

/// The customer service's gRPC handlers.
#[derive(Debug)]
pub struct CustomerApi {
    store: CustomerStore,
}

impl CustomerApi {
    /// Handlers over `store`.
    pub fn new(store: CustomerStore) -> Self {
        CustomerApi { store }
    }
}

#[tonic::async_trait]
impl CustomerService for CustomerApi {
    async fn count_customers(
        &self,
        request: Request<CountCustomersRequest>,
    ) -> Result<Response<CountCustomersResponse>, Status> {
        let caller = Caller::from_request(&request)?;
        let total = self.store.count_contacts(&caller.store_scope()).await.map_err(CustomerError::from)?;
        Ok(Response::new(CountCustomersResponse { total }))
    }
}
