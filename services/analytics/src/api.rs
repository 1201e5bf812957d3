//! The tonic implementation of `scrm.analytics.v1.AnalyticsService`. RPCs not written here
//! answer through [`crate::PLANNED`].

use std::time::SystemTime;

use scrm_kernel::{ApiError, Caller, Clients};
use scrm_proto::analytics::v1::analytics_service_server::AnalyticsService;
use scrm_proto::analytics::v1::{
    GetGroupActivityRankingRequest, GetGroupActivityRankingResponse, GetOverviewRequest, GetOverviewResponse,
};
use scrm_proto::customer::v1::CountCustomersRequest;
use scrm_proto::group::v1::CountGroupsRequest;
use tonic::{Request, Response, Status};

use crate::ranking::{RankingQuery, rank};

/// The analytics service's gRPC handlers.
pub struct AnalyticsApi {
    clients: Clients,
}

impl AnalyticsApi {
    /// Handlers reaching the other services through `clients`.
    pub fn new(clients: Clients) -> Self {
        AnalyticsApi { clients }
    }
}

#[tonic::async_trait]
impl AnalyticsService for AnalyticsApi {
    async fn get_overview(
        &self,
        request: Request<GetOverviewRequest>,
    ) -> Result<Response<GetOverviewResponse>, Status> {
        let caller = Caller::from_request(&request)?;
        let mut customers = self.clients.customer.clone();
        let mut groups = self.clients.group.clone();
        let (customer_total, group_total) = tokio::try_join!(
            customers.count_customers(caller.outgoing(CountCustomersRequest {})?),
            groups.count_groups(caller.outgoing(CountGroupsRequest {})?),
        )
        .map_err(|status| {
            let error = ApiError::from_status(&status);
            tracing::warn!(%error, "a headline count failed");
            error
        })?;
        Ok(Response::new(GetOverviewResponse {
            customer_total: customer_total.into_inner().total,
            group_total: group_total.into_inner().total,
            computed_at: Some(prost_types::Timestamp::from(SystemTime::now())),
        }))
    }

    async fn get_group_activity_ranking(
        &self,
        request: Request<GetGroupActivityRankingRequest>,
    ) -> Result<Response<GetGroupActivityRankingResponse>, Status> {
        let caller = Caller::from_request(&request)?;
        let query = RankingQuery::parse(request.into_inner())?;
        let totals = self
            .clients
            .group
            .clone()
            .list_group_activity_totals(caller.outgoing(query.totals)?)
            .await
            .map_err(|status| {
                let error = ApiError::from_status(&status);
                match error.field.as_deref() {
                    Some("start_day") => error.with_field("start_date"),
                    Some("end_day") => error.with_field("end_date"),
                    _ => error,
                }
            })?
            .into_inner();
        let rows = rank(totals.groups, query.metric, query.direction);
        let total_size = rows.len();
        let end = query.offset.saturating_add(query.limit).min(total_size);
        let next_page_token = if end < total_size { end.to_string() } else { String::new() };
        let rows = rows.into_iter().skip(query.offset).take(query.limit).collect();
        Ok(Response::new(GetGroupActivityRankingResponse {
            rows,
            next_page_token,
            total_size: total_size as i64,
            computed_at: Some(prost_types::Timestamp::from(SystemTime::now())),
        }))
    }
}
