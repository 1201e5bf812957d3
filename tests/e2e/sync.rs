//! The full sync from WeCom (PR01) against the WeCom simulator: StartSync streams progress to a terminal
//! state, customers and groups land in their services, and a second run changes nothing.

use std::collections::HashSet;
use std::sync::Arc;

use scrm_kernel::Role;
use scrm_proto::customer::v1::CountCustomersRequest;
use scrm_proto::customer::v1::customer_service_client::CustomerServiceClient;
use scrm_proto::group::v1::CountGroupsRequest;
use scrm_proto::group::v1::group_service_client::GroupServiceClient;
use scrm_proto::identity::v1::identity_service_client::IdentityServiceClient;
use scrm_proto::identity::v1::{
    CancelSyncRunRequest, GetSyncRunRequest, ListSyncRunsRequest, StartSyncRequest, SyncEntityCounts, SyncPhase,
    SyncProgress, SyncScope, SyncState,
};
use scrm_wecom_sim::{Faults, SimConfig, Simulator, World, WorldSize};
use tonic::transport::Channel;

use crate::harness::TestApp;

/// What the DEMO world holds, as the sync should see it.
pub(crate) struct Expected {
    /// Staff who have not resigned.
    pub staff: i64,
    customers: i64,
    groups: i64,
}

pub(crate) async fn simulator() -> (Arc<Simulator>, String, Expected) {
    simulator_with(SimConfig::default()).await
}

async fn simulator_with(config: SimConfig) -> (Arc<Simulator>, String, Expected) {
    let sim = Simulator::new(config, World::generate(7, WorldSize::DEMO));
    let expected = sim.with_world(|world| {
        let follow_users: HashSet<&str> = world
            .staff
            .iter()
            .filter(|staff| staff.customer_contact && staff.status == 1)
            .map(|staff| staff.userid.as_str())
            .collect();
        Expected {
            staff: world.staff.iter().filter(|staff| staff.status != 5).count() as i64,
            customers: world
                .customers
                .iter()
                .filter(|customer| customer.follow.iter().any(|follow| follow_users.contains(follow.userid.as_str())))
                .count() as i64,
            groups: world.groups.iter().filter(|group| !group.dismissed).count() as i64,
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(scrm_wecom_sim::serve(listener, sim.clone()));
    (sim, url, expected)
}

pub(crate) async fn app_on(sim_url: &str) -> TestApp {
    let sim_url = sim_url.to_owned();
    TestApp::spawn_with(&[], move |config| {
        config.wecom.api_base = sim_url;
        config.wecom.corp_id = "wwsimcorp0000000001".into();
        config.wecom.secret = "sim-secret".into();
        config.caller.role = Role::Operator;
    })
    .await
}

/// Runs StartSync and reads its stream to the end.
pub(crate) async fn sync(channel: Channel) -> Vec<SyncProgress> {
    let mut identity = IdentityServiceClient::new(channel);
    let mut stream = identity
        .start_sync(StartSyncRequest { scope: SyncScope::Full as i32 })
        .await
        .expect("StartSync answers")
        .into_inner();
    let mut messages = Vec::new();
    while let Some(message) = stream.message().await.expect("the progress stream is healthy") {
        messages.push(message.progress.expect("every message carries progress"));
    }
    messages
}

fn counts(progress: &SyncProgress) -> scrm_proto::identity::v1::SyncCounts {
    progress.counts.expect("progress carries counts")
}

fn unchanged_only(counts: Option<SyncEntityCounts>) -> bool {
    counts.is_some_and(|counts| counts.created == 0 && counts.updated == 0 && counts.unchanged == counts.seen)
}

#[tokio::test]
async fn a_full_sync_mirrors_the_simulated_corp_and_a_second_changes_nothing() {
    let (sim, sim_url, expected) = simulator().await;
    let app = app_on(&sim_url).await;

    let messages = sync(app.channel().await).await;
    let last = messages.last().expect("at least one message");
    assert_eq!(last.state(), SyncState::Succeeded, "{last:?}");
    assert_eq!(last.percent, 100.0);
    assert!(messages[..messages.len() - 1].iter().all(|message| message.state() == SyncState::Running));
    for phase in [SyncPhase::Departments, SyncPhase::Staff, SyncPhase::ExternalContacts, SyncPhase::GroupChats] {
        assert!(messages.iter().any(|message| message.phase() == phase), "no progress for {phase:?}");
    }
    assert!(messages.iter().any(|message| message.message.starts_with("正在同步客户")));
    let first = counts(last);
    let staff = first.staff.unwrap();
    let contacts = first.external_contacts.unwrap();
    let groups = first.group_chats.unwrap();
    assert_eq!((staff.seen, staff.created, staff.deleted), (expected.staff, expected.staff, 0));
    assert_eq!((contacts.seen, contacts.created), (expected.customers, expected.customers));
    assert_eq!((groups.seen, groups.created), (expected.groups, expected.groups));
    assert!(first.departments.unwrap().created > 0);
    let calls = sim.stats().calls;
    println!("first run: {} API calls reported, simulator saw {calls:?}", last.api_calls);

    let channel = app.channel().await;
    let customers = CustomerServiceClient::new(channel.clone()).count_customers(CountCustomersRequest {}).await;
    assert_eq!(customers.unwrap().into_inner().total, expected.customers);
    let group_total = GroupServiceClient::new(channel.clone()).count_groups(CountGroupsRequest {}).await;
    assert_eq!(group_total.unwrap().into_inner().total, expected.groups);

    let again = sync(channel.clone()).await;
    let last_again = again.last().unwrap();
    assert_eq!(last_again.state(), SyncState::Succeeded, "{last_again:?}");
    assert_ne!(last_again.sync_run_id, last.sync_run_id);
    let second = counts(last_again);
    assert!(unchanged_only(second.departments), "{second:?}");
    assert!(unchanged_only(second.staff), "{second:?}");
    assert!(unchanged_only(second.external_contacts), "{second:?}");
    assert!(unchanged_only(second.group_chats), "{second:?}");
    assert_eq!(second.staff.unwrap().seen, expected.staff);
    assert_eq!(second.follow_users.unwrap().created, 0);
    println!("second run: {} API calls", last_again.api_calls);

    let mut identity = IdentityServiceClient::new(channel);
    let run = identity.get_sync_run(GetSyncRunRequest { sync_run_id: last.sync_run_id }).await.unwrap();
    let run = run.into_inner().run.unwrap();
    assert_eq!((run.state(), run.phase()), (SyncState::Succeeded, SyncPhase::Done));
    assert_eq!(run.counts, last.counts);
    assert_eq!(run.api_calls, last.api_calls);
    assert!(run.finished_at.is_some());
    let page = identity.list_sync_runs(ListSyncRunsRequest { page_size: 1, ..Default::default() }).await.unwrap();
    let page = page.into_inner();
    assert_eq!(page.runs.iter().map(|run| run.id).collect::<Vec<_>>(), [last_again.sync_run_id]);
    let rest = ListSyncRunsRequest { page_size: 1, page_token: page.next_page_token, ..Default::default() };
    let rest = identity.list_sync_runs(rest).await.unwrap().into_inner();
    assert_eq!(rest.runs.iter().map(|run| run.id).collect::<Vec<_>>(), [last.sync_run_id]);
    let missing = identity.get_sync_run(GetSyncRunRequest { sync_run_id: 9_999 }).await.unwrap_err();
    assert_eq!(missing.code(), tonic::Code::NotFound);
}

#[tokio::test]
async fn without_a_corp_start_sync_names_the_missing_settings() {
    let app = TestApp::spawn_with(&[], |config| config.caller.role = Role::Operator).await;
    let mut identity = IdentityServiceClient::new(app.channel().await);
    let status = identity.start_sync(StartSyncRequest::default()).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::FailedPrecondition);
    assert!(status.message().contains("wecom.corp_id") && status.message().contains("wecom.secret"), "{status:?}");
}

#[tokio::test]
async fn a_support_agent_may_not_start_a_sync() {
    let (_sim, sim_url, _) = simulator().await;
    let sim_url = sim_url.clone();
    let app = TestApp::spawn_with(&[], move |config| {
        config.wecom.api_base = sim_url;
        config.wecom.corp_id = "wwsimcorp0000000001".into();
        config.wecom.secret = "sim-secret".into();
        config.caller.role = Role::Support;
    })
    .await;
    let mut identity = IdentityServiceClient::new(app.channel().await);
    let status = identity.start_sync(StartSyncRequest::default()).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::PermissionDenied);
}

#[tokio::test]
async fn a_cancelled_run_stops_at_its_next_checkpoint_and_a_new_one_starts_afresh() {
    let slow = SimConfig { faults: Faults { latency_ms: 30, ..Faults::default() }, ..SimConfig::default() };
    let (_sim, sim_url, expected) = simulator_with(slow).await;
    let app = app_on(&sim_url).await;
    let mut identity = IdentityServiceClient::new(app.channel().await);
    let mut stream =
        identity.start_sync(StartSyncRequest { scope: SyncScope::Full as i32 }).await.unwrap().into_inner();
    let first = stream.message().await.unwrap().unwrap().progress.unwrap();
    let id = first.sync_run_id;

    let cancelled = identity.cancel_sync_run(CancelSyncRunRequest { sync_run_id: id }).await.unwrap().into_inner();
    assert_eq!(cancelled.run.unwrap().id, id);
    let mut last = first;
    while let Some(message) = stream.message().await.unwrap() {
        last = message.progress.unwrap();
    }
    assert_eq!(last.state(), SyncState::Cancelled, "{last:?}");
    assert_eq!(last.message, "同步已取消");
    let run = identity.get_sync_run(GetSyncRunRequest { sync_run_id: id }).await.unwrap().into_inner().run.unwrap();
    assert_eq!(run.state(), SyncState::Cancelled);
    assert!(run.finished_at.is_some());

    let again = identity.cancel_sync_run(CancelSyncRunRequest { sync_run_id: id }).await.unwrap().into_inner();
    assert_eq!(again.run.unwrap().state(), SyncState::Cancelled, "cancelling a finished run changes nothing");
    let missing = identity.cancel_sync_run(CancelSyncRunRequest { sync_run_id: id + 100 }).await.unwrap_err();
    assert_eq!(missing.code(), tonic::Code::NotFound);
    let invalid = identity.cancel_sync_run(CancelSyncRunRequest { sync_run_id: 0 }).await.unwrap_err();
    assert_eq!(invalid.code(), tonic::Code::InvalidArgument);

    let fresh = sync(app.channel().await).await;
    let fresh = fresh.last().unwrap();
    assert_eq!(fresh.state(), SyncState::Succeeded, "{fresh:?}");
    assert_ne!(fresh.sync_run_id, id);
    assert_eq!(counts(fresh).external_contacts.unwrap().seen, expected.customers);
}
