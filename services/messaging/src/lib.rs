//! The messaging service (`scrm.messaging.v1.MessagingService`): scheduled group broadcasts (PR06), with
//! auto-reply and reminders (PR08, PR09) planned. It owns the `messaging_*` tables.
//!
//! A broadcast is stored, then started at its time by the [`worker`](Engine): its targets are resolved
//! through GroupService.ListGroups and frozen, groups certain to exceed WeCom's receive quota are flagged,
//! and one `add_msg_template` task per owner is queued in the database and created in WeCom exactly once.
//! Results come from `get_groupmsg_send_result`; owners who do not confirm are reminded.

mod api;
mod directory;
mod domain;
mod error;
mod media;
mod permissions;
mod planned;
mod robots;
mod secret;
mod store;
mod worker;

use std::sync::Arc;

use scrm_kernel::Clients;
use scrm_kernel::permissions::GatedServer;
use scrm_proto::messaging::v1::messaging_service_server::MessagingServiceServer;
use scrm_storage::{Db, ServiceMigrations};
use scrm_wecom::WeComClient;
use tokio_util::sync::CancellationToken;

pub use directory::{GroupDirectory, GroupServiceDirectory, Resolution, ResolvedGroup};
pub use domain::{BroadcastConfig, Clock, ManualClock, SystemClock, TargetGroup, Targets};
pub use permissions::PERMISSIONS;
pub use planned::PLANNED;
pub use secret::{KeyCipher, SecretError};
pub use worker::Engine;

/// scrm's errcode for groups WeCom put in `add_msg_template`'s `fail_list`.
pub const ERRCODE_IN_FAIL_LIST: i32 = -1003;

/// The messaging service's schema.
pub static MIGRATIONS: ServiceMigrations = ServiceMigrations {
    service: "messaging",
    sqlite: sqlx::migrate!("../../migrations/sqlite/messaging"),
    mysql: sqlx::migrate!("../../migrations/mysql/messaging"),
};

/// The gRPC service, ready to mount on a server or to call in-process: every built RPC is checked against
/// [`PERMISSIONS`] before its handler runs.
pub type Service = GatedServer<MessagingServiceServer<api::MessagingApi>>;

/// What the messaging service runs on.
#[derive(Debug, Clone)]
pub struct Setup {
    /// The database (migrated with [`MIGRATIONS`]).
    pub db: Db,
    /// The WeCom client; `None` when no corp is configured (broadcast tasks then fail with errcode -1004).
    pub wecom: Option<WeComClient>,
    /// Where targets are resolved; [`GroupServiceDirectory`] in production.
    pub directory: Arc<dyn GroupDirectory>,
    /// Broadcast settings.
    pub config: BroadcastConfig,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// Seals robot webhook keys at rest.
    pub cipher: KeyCipher,
}

impl Setup {
    /// The production setup: the group service through `clients`, the system clock, webhook keys sealed with
    /// `cipher`.
    pub fn new(
        db: Db,
        wecom: Option<WeComClient>,
        clients: Clients,
        config: BroadcastConfig,
        cipher: KeyCipher,
    ) -> Self {
        Setup {
            db,
            wecom,
            directory: Arc::new(GroupServiceDirectory::new(clients)),
            config,
            clock: Arc::new(SystemClock),
            cipher,
        }
    }

    /// The engine shared by the API and the worker.
    pub fn engine(&self) -> Engine {
        Engine {
            store: store::MessagingStore::new(self.db.clone()),
            wecom: self.wecom.clone(),
            directory: self.directory.clone(),
            config: self.config.clone(),
            clock: self.clock.clone(),
            cipher: self.cipher.clone(),
            limiter: Arc::new(worker::RateLimiter::new(self.config.rate_per_minute)),
            http: reqwest::Client::builder().timeout(std::time::Duration::from_secs(30)).build().unwrap_or_default(),
        }
    }
}

/// Builds the messaging service and starts its worker (broadcasts and queued robot posts; it first seals webhook
/// keys stored plain before encryption), which stops when `shutdown` is cancelled.
pub fn service(setup: Setup, shutdown: CancellationToken) -> Service {
    let engine = setup.engine();
    tokio::spawn(engine.clone().run(shutdown));
    scrm_kernel::permissions::gate(
        scrm_kernel::ServiceKind::Messaging.grpc_name(),
        PLANNED,
        PERMISSIONS,
        MessagingServiceServer::new(api::MessagingApi::new(engine)),
    )
}
