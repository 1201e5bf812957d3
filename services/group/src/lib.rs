//! The group service (`scrm.group.v1.GroupService`): customer groups (客户群), welcome
//! messages and activity monitoring (PR04, PR05, PR07). It owns the `group_*` tables.

mod activity;
mod alerts;
mod api;
mod archive;
mod clock;
mod domain;
mod error;
mod ingest;
mod listing;
mod permissions;
mod planned;
mod speakers;
mod statistic;
mod store;
mod welcome;
mod welcome_worker;
mod worker;

use std::sync::Arc;
use std::time::Duration;

use scrm_kernel::Clients;
use scrm_kernel::permissions::GatedServer;
use scrm_proto::group::v1::group_service_server::GroupServiceServer;
use scrm_storage::{Db, ServiceMigrations};
use scrm_wecom::WeComClient;
use tokio::sync::Notify;

pub use archive::{ArchivePoll, FeedError};
pub use clock::{Clock, ManualClock, SystemClock};
pub use permissions::PERMISSIONS;
pub use planned::PLANNED;
pub use speakers::SpeakerCounter;
pub use statistic::STATISTIC_INTERVAL;
pub use worker::{AlertNotifier, EVALUATION_INTERVAL, Evaluation};

/// The group service's schema.
pub static MIGRATIONS: ServiceMigrations = ServiceMigrations {
    service: "group",
    sqlite: sqlx::migrate!("../../migrations/sqlite/group"),
    mysql: sqlx::migrate!("../../migrations/mysql/group"),
};

/// The gRPC service, ready to mount on a server or to call in-process: every built RPC is checked against
/// [`PERMISSIONS`] before its handler runs.
pub type Service = GatedServer<GroupServiceServer<api::GroupApi>>;

/// What join ways and welcomes reach outside the service.
#[derive(Clone, Default)]
pub struct Welcomes {
    /// WeCom: join ways, group welcome templates and `send_welcome_msg` (`None`: join ways answer
    /// FAILED_PRECONDITION, templates stay pending, contact welcomes are skipped).
    pub wecom: Option<WeComClient>,
    /// The other services: messaging posts robot welcomes (`None`: joins are not welcomed by robots).
    pub clients: Option<Clients>,
}

impl std::fmt::Debug for Welcomes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Welcomes").field("wecom", &self.wecom).field("clients", &self.clients.is_some()).finish()
    }
}

/// Builds the group service over `db` on the wall clock, counting distinct speakers with `speakers`, and starts
/// its workers: activity figures and alert rules evaluated every [`EVALUATION_INTERVAL`], new alerts pushed to
/// owners through `notifier` (none: not pushed); robot welcomes and welcome templates through `welcomes`.
pub fn service(db: Db, speakers: SpeakerCounter, notifier: Option<AlertNotifier>, welcomes: Welcomes) -> Service {
    build(db, speakers, Arc::new(SystemClock), notifier, Some(EVALUATION_INTERVAL), welcomes)
}

/// Builds the group service telling time by `clock`, without WeCom or other services for welcomes; the
/// workers run every `interval` (`None`: not started, tests run [`evaluate_alerts`] themselves).
pub fn service_with_clock(
    db: Db,
    speakers: SpeakerCounter,
    clock: Arc<dyn Clock>,
    notifier: Option<AlertNotifier>,
    interval: Option<Duration>,
) -> Service {
    build(db, speakers, clock, notifier, interval, Welcomes::default())
}

fn build(
    db: Db,
    speakers: SpeakerCounter,
    clock: Arc<dyn Clock>,
    notifier: Option<AlertNotifier>,
    interval: Option<Duration>,
    welcomes: Welcomes,
) -> Service {
    let store = store::GroupStore::with_speakers(db, speakers);
    let wake = Arc::new(Notify::new());
    if let Some(interval) = interval {
        worker::spawn(store.clone(), clock.clone(), notifier, interval);
        let welcome_worker = welcome_worker::WelcomeWorker {
            store: store.clone(),
            wecom: welcomes.wecom.clone(),
            clients: welcomes.clients,
            clock: clock.clone(),
            wake: wake.clone(),
        };
        tokio::spawn(welcome_worker.run());
    }
    let api = api::GroupApi::new(store, clock, welcomes.wecom, wake);
    scrm_kernel::permissions::gate(
        scrm_kernel::ServiceKind::Group.grpc_name(),
        PLANNED,
        PERMISSIONS,
        GroupServiceServer::new(api),
    )
}

/// Refreshes activity figures and evaluates the alert rules once, as of `clock`'s now.
pub async fn evaluate_alerts(
    db: &Db,
    clock: &dyn Clock,
    notifier: Option<&AlertNotifier>,
) -> Result<Evaluation, sqlx::Error> {
    worker::evaluate(&store::GroupStore::new(db.clone()), clock, notifier).await
}

/// Starts the chat-archive worker: every `interval`, the archive feed is read through `client` from the stored
/// checkpoint and its group messages are counted (distinct speakers with `speakers`), as of the wall clock.
pub fn follow_chat_archive(db: Db, speakers: SpeakerCounter, client: WeComClient, interval: Duration) {
    archive::spawn(store::GroupStore::with_speakers(db, speakers), Arc::new(SystemClock), client, interval);
}

/// Reads the chat archive once from the stored checkpoint until drained, counting its group messages as of
/// `clock`'s now.
pub async fn poll_chat_archive(db: &Db, clock: &dyn Clock, client: &WeComClient) -> Result<ArchivePoll, FeedError> {
    archive::poll(&store::GroupStore::new(db.clone()), clock, client).await
}

/// Starts the daily statistics worker: every `interval`, WeCom's `groupchat/statistic` figures of each finished
/// day not fetched yet are stored for every group owner, as of the wall clock.
pub fn follow_group_statistics(db: Db, client: WeComClient, interval: Duration) {
    statistic::spawn(store::GroupStore::new(db), Arc::new(SystemClock), client, interval);
}

/// Fetches WeCom's `groupchat/statistic` figures of every finished day not fetched yet, as of `clock`'s now;
/// returns the owner-days stored.
pub async fn fetch_group_statistics(db: &Db, clock: &dyn Clock, client: &WeComClient) -> Result<usize, FeedError> {
    statistic::fetch(&store::GroupStore::new(db.clone()), clock, client).await
}
