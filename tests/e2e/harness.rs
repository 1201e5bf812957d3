//! Starting scrm processes for tests, and the clients to talk to them.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use opentelemetry_sdk::trace::{InMemorySpanExporter, SpanData};
use scrm::Server;
use scrm::config::Config;
use scrm::telemetry::Telemetry;
use scrm_kernel::{Role, ServiceKind};
use tonic::transport::Channel;

/// Finished spans of every server in this test binary.
pub fn spans() -> &'static InMemorySpanExporter {
    static EXPORTER: OnceLock<InMemorySpanExporter> = OnceLock::new();
    EXPORTER.get_or_init(|| {
        let exporter = InMemorySpanExporter::default();
        let mut telemetry = Config::default().telemetry;
        telemetry.log_filter = "warn".to_owned();
        let telemetry = Telemetry::install_with_exporter(&telemetry, exporter.clone())
            .expect("the test binary installs telemetry once");
        std::mem::forget(telemetry);
        exporter
    })
}

/// Finished spans of the trace `trace_id`, waiting until `predicate` holds for them (or 5 s pass).
pub async fn spans_of_trace(
    trace_id: opentelemetry::trace::TraceId,
    predicate: impl Fn(&[SpanData]) -> bool,
) -> Vec<SpanData> {
    let mut found = Vec::new();
    for _ in 0..50 {
        found = spans()
            .get_finished_spans()
            .expect("the in-memory exporter answers")
            .into_iter()
            .filter(|span| span.span_context.trace_id() == trace_id)
            .collect();
        if predicate(&found) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    found
}

/// A scrm process started in this test, on a fresh data directory.
pub struct TestApp {
    /// The running server.
    pub server: Server,
    /// Its gateway address.
    pub addr: SocketAddr,
    /// Its configuration as started.
    pub config: Config,
    _data_dir: tempfile::TempDir,
}

impl TestApp {
    /// Every service in one process, embedded defaults.
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(&[], |_| {}).await
    }

    /// The given services (all when empty), with `configure` applied to the default configuration.
    ///
    /// Requests without a credential act as the `caller` section's local operator (`auth.local_caller`),
    /// so plain clients from [`TestApp::channel`] and [`http`] are authorized operators. Set
    /// `config.auth.local_caller = false` for the product default (sign-in required), and use
    /// [`TestApp::token`] with [`with_token`] / [`bearer`] to act as another role or store.
    pub async fn spawn_with(services: &[ServiceKind], configure: impl FnOnce(&mut Config)) -> TestApp {
        spans();
        let data_dir = tempfile::tempdir().expect("a temporary data directory");
        let mut config = Config { data_dir: data_dir.path().to_path_buf(), ..Config::default() };
        config.server.listen = "127.0.0.1:0".parse().unwrap();
        config.server.static_dir = data_dir.path().join("no-admin");
        config.wecom.demo = false;
        config.auth.local_caller = true;
        configure(&mut config);
        let services: BTreeSet<_> = services.iter().copied().collect();
        let server = Server::start(config.clone(), &services).await.expect("the server starts");
        let addr = server.local_addr();
        TestApp { server, addr, config, _data_dir: data_dir }
    }

    /// `http://ADDR`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A native gRPC channel to the gateway.
    pub async fn channel(&self) -> Channel {
        Channel::from_shared(self.url()).unwrap().connect().await.expect("the gateway accepts gRPC")
    }

    /// Creates an API token acting as `role`, limited to `stores` (store managers), straight in the
    /// database, as `scrm token create` does. Needs the identity service's tables in this process's database.
    pub async fn token(&self, role: Role, stores: &[i64]) -> String {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
        let name = format!("test {role}");
        scrm_identity::create_api_token(self.db().await, &name, role, stores, now)
            .await
            .expect("the test token is created")
            .token
    }

    /// The database the process uses, for fixtures.
    pub async fn db(&self) -> scrm_storage::Db {
        scrm::app::open_database(&self.config).await.expect("the test database opens")
    }
}

/// A gRPC request carrying the API `token` as `authorization: Bearer` metadata.
pub fn with_token<T>(message: T, token: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.metadata_mut().insert("authorization", format!("Bearer {token}").parse().expect("tokens are ASCII"));
    request
}

/// The cluster token tests configure (`config.cluster.token`) to call services straight, as a trusted peer.
pub const PEER_TOKEN: &str = "peer-secret";

/// A request a trusted peer forwards for `staff_id` with `role` and store scope `stores`, carrying
/// [`PEER_TOKEN`]: it reaches the service's own permission checks, past the gateway.
pub fn as_peer<T>(message: T, staff_id: &str, role: Role, stores: &[&str]) -> tonic::Request<T> {
    let store_ids = stores.iter().map(|store| (*store).to_owned()).collect();
    let caller = scrm_kernel::Caller { staff_id: staff_id.to_owned(), role, store_ids };
    let mut request = caller.outgoing(message).expect("the caller fits in metadata");
    request.metadata_mut().insert("x-scrm-cluster-token", PEER_TOKEN.parse().expect("ASCII"));
    request
}

/// The status code of a call that must fail.
pub fn denied<T: std::fmt::Debug>(result: Result<tonic::Response<T>, tonic::Status>) -> tonic::Code {
    match result {
        Ok(answer) => panic!("the call was allowed: {answer:?}"),
        Err(status) => status.code(),
    }
}

/// An HTTP client sending the API `token` as `Authorization: Bearer` on every request.
pub fn bearer(token: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::AUTHORIZATION, format!("Bearer {token}").parse().expect("tokens are ASCII"));
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .default_headers(headers)
        .build()
        .expect("an HTTP client")
}

/// A plain HTTP client.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(20)).build().expect("an HTTP client")
}

/// Inserts a customer and a group into the process's database, as sync will.
pub async fn insert_customer(db: &scrm_storage::Db, external_userid: &str, store_id: &str) {
    sqlx::query("INSERT INTO customer_contact (external_userid, name, store_id, created_at, updated_at) VALUES (?, '客户', ?, 0, 0)")
        .bind(external_userid)
        .bind(store_id)
        .execute(db.pool())
        .await
        .expect("the fixture customer is inserted");
}

/// Inserts a live customer group into the process's database, as sync will.
pub async fn insert_group(db: &scrm_storage::Db, chat_id: &str, store_id: &str) {
    sqlx::query(
        "INSERT INTO group_chat (chat_id, name, owner_userid, store_id, created_at, updated_at) VALUES (?, '福利群', 'owner', ?, 0, 0)",
    )
    .bind(chat_id)
    .bind(store_id)
    .execute(db.pool())
    .await
    .expect("the fixture group is inserted");
}
