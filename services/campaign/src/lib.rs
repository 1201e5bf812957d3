//! The campaign service (`scrm.campaign.v1.CampaignService`): group check-ins, fission campaigns and KOC tasks (PR10-PR12, PR14).
//! It owns the `campaign_*` tables.
//!
//! Built: fission campaigns and their lifecycle, attribution of invitations by WeCom `state` or personal link,
//! participants, and KOC profiles. The other RPCs answer `UNIMPLEMENTED` naming the feature that will build
//! them (see [`PLANNED`]).

mod api;
mod domain;
mod error;
mod permissions;
mod planned;
mod stats;
mod store;
mod worker;

use std::time::Duration;

use scrm_kernel::Clients;
use scrm_kernel::permissions::GatedServer;
use scrm_proto::campaign::v1::campaign_service_server::CampaignServiceServer;
use scrm_storage::{Db, ServiceMigrations};
use scrm_wecom::WeComClient;

pub use permissions::PERMISSIONS;
pub use planned::PLANNED;
pub use worker::END_CHECK_INTERVAL;

/// The campaign service's schema.
pub static MIGRATIONS: ServiceMigrations = ServiceMigrations {
    service: "campaign",
    sqlite: sqlx::migrate!("../../migrations/sqlite/campaign"),
    mysql: sqlx::migrate!("../../migrations/mysql/campaign"),
};

/// The gRPC service, ready to mount on a server or to call in-process: every built RPC is checked against
/// [`PERMISSIONS`] before its handler runs.
pub type Service = GatedServer<CampaignServiceServer<api::CampaignApi>>;

/// What the campaign service reaches outside itself.
#[derive(Clone, Default)]
pub struct Setup {
    /// WeCom: contact ways of campaigns entered through a 渠道活码 (`None`: starting one answers
    /// FAILED_PRECONDITION).
    pub wecom: Option<WeComClient>,
    /// The other services: the group service creates join ways (`None`: starting a 群活码 campaign answers
    /// FAILED_PRECONDITION).
    pub clients: Option<Clients>,
    /// The deployment's externally reachable base URL, under which campaign landing pages live
    /// (`<base>/campaign/<id>`); empty: campaigns have no landing URL.
    pub public_base_url: String,
    /// How often campaigns past their ends_at are ended (`None`: never, for tests).
    pub end_check_interval: Option<Duration>,
}

impl std::fmt::Debug for Setup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Setup")
            .field("wecom", &self.wecom)
            .field("clients", &self.clients.is_some())
            .field("public_base_url", &self.public_base_url)
            .field("end_check_interval", &self.end_check_interval)
            .finish()
    }
}

/// Builds the campaign service over `db` with `setup`, starting its worker when `setup` asks for one.
pub fn service(db: Db, setup: Setup) -> Service {
    let store = store::CampaignStore::new(db);
    if let Some(interval) = setup.end_check_interval {
        worker::spawn(store.clone(), interval);
    }
    let api = api::CampaignApi::new(store, setup.wecom, setup.clients, setup.public_base_url);
    scrm_kernel::permissions::gate(
        scrm_kernel::ServiceKind::Campaign.grpc_name(),
        PLANNED,
        PERMISSIONS,
        CampaignServiceServer::new(api),
    )
}

/// Ends every ACTIVE or PAUSED campaign in `db` whose ends_at is at or before `now_ms`; returns their ids.
pub async fn end_due_campaigns(db: &Db, now_ms: i64) -> Result<Vec<i64>, sqlx::Error> {
    worker::end_due(&store::CampaignStore::new(db.clone()), now_ms).await
}
