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
mod planned;
mod speakers;
mod statistic;
mod store;
mod worker;

use std::sync::Arc;
use std::time::Duration;

use scrm_kernel::rpc::{PlannedRpcs, PlannedRpcsService};
use scrm_proto::group::v1::group_service_server::GroupServiceServer;
use scrm_storage::{Db, ServiceMigrations};
use scrm_wecom::WeComClient;
use tower::Layer;

pub use archive::{ArchivePoll, FeedError};
pub use clock::{Clock, ManualClock, SystemClock};
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

/// The gRPC service, ready to mount on a server or to call in-process.
pub type Service = PlannedRpcsService<GroupServiceServer<api::GroupApi>>;

/// Builds the group service over `db` on the wall clock, counting distinct speakers with `speakers`, and starts
/// its worker: activity figures and alert rules evaluated every [`EVALUATION_INTERVAL`], new alerts pushed to
/// owners through `notifier` (none: not pushed).
pub fn service(db: Db, speakers: SpeakerCounter, notifier: Option<AlertNotifier>) -> Service {
    service_with_clock(db, speakers, Arc::new(SystemClock), notifier, Some(EVALUATION_INTERVAL))
}

/// Builds the group service telling time by `clock`; the worker runs every `interval` (`None`: not started,
/// tests run [`evaluate_alerts`] themselves).
pub fn service_with_clock(
    db: Db,
    speakers: SpeakerCounter,
    clock: Arc<dyn Clock>,
    notifier: Option<AlertNotifier>,
    interval: Option<Duration>,
) -> Service {
    let store = store::GroupStore::with_speakers(db, speakers);
    if let Some(interval) = interval {
        worker::spawn(store.clone(), clock.clone(), notifier, interval);
    }
    let api = api::GroupApi::new(store, clock);
    PlannedRpcs::new(scrm_kernel::ServiceKind::Group.grpc_name(), PLANNED).layer(GroupServiceServer::new(api))
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
