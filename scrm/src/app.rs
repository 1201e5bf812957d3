//! Starting and stopping a scrm process.
//!
//! Every service of the process is built once, mounted on the gateway, and wired in-process into
//! the clients the other services use. Services the process does not run are reached at their
//! configured URLs. The code path is the same in both modes: a generated client over an
//! [`RpcChannel`], with the same layers on both ends.

use std::collections::BTreeSet;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::Context;
use http::HeaderValue;
use scrm_gateway::{Gateway, GatewayConfig, GrpcRoutes};
use scrm_kernel::rpc::{RpcChannel, ServerTracing};
use scrm_kernel::{Clients, ServiceKind};
use scrm_storage::{Db, ServiceMigrations};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tower::{Layer, Service};

use crate::config::Config;

/// Every migration set, by owning service.
const MIGRATIONS: [&ServiceMigrations; 6] = [
    &scrm_identity::MIGRATIONS,
    &scrm_customer::MIGRATIONS,
    &scrm_group::MIGRATIONS,
    &scrm_messaging::MIGRATIONS,
    &scrm_rewards::MIGRATIONS,
    &scrm_campaign::MIGRATIONS,
];

/// A running scrm process: the gateway listening, the services behind it.
pub struct Server {
    local_addr: SocketAddr,
    shutdown: CancellationToken,
    task: JoinHandle<anyhow::Result<()>>,
}

impl Server {
    /// Starts `services` (every service when empty) with the gateway, per `config`.
    pub async fn start(mut config: Config, services: &BTreeSet<ServiceKind>) -> anyhow::Result<Server> {
        let services = if services.is_empty() { ServiceKind::ALL.into_iter().collect() } else { services.clone() };
        let corp_managed_by_config = !config.wecom.corp_id.is_empty();
        let demo = if services.len() == ServiceKind::ALL.len() && config.wecom.runs_demo() {
            Some(crate::demo::start_simulator(&mut config.wecom).await?)
        } else {
            None
        };
        let cluster_token = cluster_token(&config, &services)?;
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("data_dir: cannot create {}", config.data_dir.display()))?;
        let db = open_database(&config).await?;
        migrate(&db, &services).await?;
        let runs_identity = services.contains(&ServiceKind::Identity);
        if runs_identity {
            crate::first_run::ensure_admin(&db).await?;
        }
        let mut stored_corp = None;
        if !corp_managed_by_config {
            // Without the identity service here, its table may not exist in this database: then nothing was stored.
            stored_corp = match scrm_identity::stored_corp_settings(&db).await {
                Ok(stored) => stored,
                Err(error) if runs_identity => return Err(error).context("identity: cannot read the corp settings"),
                Err(_) => None,
            };
            apply_stored_corp(&mut config, stored_corp.as_ref())?;
        }
        let callback_keys = scrm_wecom_crypto::CallbackKeyring::new(wecom_callback(&config)?);
        let cache = scrm_cache::connect(&config.cache).await.context("cache: cannot connect")?;
        scrm_gateway::metrics::install();

        let slots: Vec<_> = ServiceKind::ALL.iter().map(|_| Arc::new(OnceLock::new())).collect();
        let mut channels = Vec::with_capacity(ServiceKind::ALL.len());
        let mut routes = GrpcRoutes::new();
        for kind in ServiceKind::ALL {
            let channel = match (services.contains(&kind), config.cluster.url_of(kind)) {
                (false, Some(url)) => {
                    let channel =
                        remote_channel(url, cluster_token.clone()).with_context(|| format!("cluster.{kind}_url"))?;
                    routes = routes.forward(kind.grpc_name(), crate::forward::forwarder(channel.clone()));
                    channel
                }
                (local, _) => {
                    if !local {
                        tracing::warn!(service = %kind, "not run here and cluster.{kind}_url is unset: calls to it will fail");
                    }
                    RpcChannel::late(slots[index_of(kind)].clone())
                }
            };
            channels.push(channel);
        }
        let clients = Clients::new(|kind| channels[index_of(kind)].clone());

        let shutdown = CancellationToken::new();
        for kind in &services {
            let slot = &slots[index_of(*kind)];
            routes = match kind {
                ServiceKind::Identity => mount(
                    routes,
                    slot,
                    *kind,
                    scrm_identity::service(
                        db.clone(),
                        wecom_client(&config)?,
                        clients.clone(),
                        scrm_identity::JsSdkSettings {
                            agent_id: config.wecom.agent_id,
                            trusted_domain: config.wecom.trusted_domain.clone(),
                        },
                        auth_settings(&config, demo.is_some())?,
                        corp_binding(
                            &config,
                            demo.is_some(),
                            corp_managed_by_config,
                            stored_corp.as_ref(),
                            &callback_keys,
                        ),
                    ),
                ),
                ServiceKind::Customer => {
                    let search = crate::reindex::open_customer_index(&config, &db)?;
                    mount(
                        routes,
                        slot,
                        *kind,
                        scrm_customer::service(db.clone(), clients.clone(), search, wecom_client(&config)?),
                    )
                }
                ServiceKind::Group => {
                    let speakers = scrm_group::SpeakerCounter::for_cache(cache.clone());
                    follow_group_feeds(&config, &db, &speakers)?;
                    let welcomes =
                        scrm_group::Welcomes { wecom: wecom_client(&config)?, clients: Some(clients.clone()) };
                    let notifier = alert_notifier(&config)?;
                    mount(routes, slot, *kind, scrm_group::service(db.clone(), speakers, notifier, welcomes))
                }
                ServiceKind::Messaging => {
                    let setup = scrm_messaging::Setup::new(
                        db.clone(),
                        wecom_client(&config)?,
                        clients.clone(),
                        config.broadcast.clone(),
                        robot_key_cipher(&config)?,
                    );
                    mount(routes, slot, *kind, scrm_messaging::service(setup, shutdown.child_token()))
                }
                ServiceKind::Campaign => {
                    let setup = scrm_campaign::Setup {
                        wecom: wecom_client(&config)?,
                        clients: Some(clients.clone()),
                        public_base_url: public_base_url(&config, demo.is_some()),
                        end_check_interval: Some(scrm_campaign::END_CHECK_INTERVAL),
                    };
                    mount(routes, slot, *kind, scrm_campaign::service(db.clone(), setup))
                }
                ServiceKind::Rewards => mount(routes, slot, *kind, scrm_rewards::service(db.clone())),
                ServiceKind::Analytics => mount(routes, slot, *kind, scrm_analytics::service(clients.clone())),
            };
        }

        if let Some(demo) = &demo {
            crate::demo::sync_in_background(clients.clone(), demo.clone());
        }
        let gateway = Gateway {
            config: gateway_config(&config, cluster_token, demo.is_some(), callback_keys.clone())?,
            clients,
            grpc: routes,
            db: db.clone(),
            cache,
        };
        let router = gateway.into_router().await;
        let listener = TcpListener::bind(config.server.listen)
            .await
            .with_context(|| format!("server.listen: cannot listen on {}", config.server.listen))?;
        let local_addr = listener.local_addr()?;
        if let Some(demo) = &demo {
            demo.push_callbacks_to(local_addr, &config.wecom);
            demo.follow_rotated_keys(local_addr, &callback_keys);
        }
        let grace = Duration::from_secs(config.server.shutdown_grace_secs);
        let task = tokio::spawn(serve(listener, router, shutdown.clone(), grace, db));
        let names: Vec<_> = services.iter().map(|kind| kind.as_str()).collect();
        tracing::info!(address = %local_addr, services = %names.join(","), "scrm is serving");
        Ok(Server { local_addr, shutdown, task })
    }

    /// The address the gateway listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// A token that, once cancelled, starts a graceful shutdown.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Waits until the process has shut down: in-flight requests finished, connections closed.
    pub async fn wait(self) -> anyhow::Result<()> {
        self.task.await.context("the server task panicked")?
    }

    /// Shuts down gracefully and waits for it.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        self.wait().await
    }
}

async fn serve(
    listener: TcpListener,
    router: axum::Router,
    shutdown: CancellationToken,
    grace: Duration,
    db: Db,
) -> anyhow::Result<()> {
    let server = axum::serve(listener, router).with_graceful_shutdown(shutdown.clone().cancelled_owned());
    let deadline = async {
        shutdown.cancelled().await;
        tracing::info!(grace_secs = grace.as_secs(), "shutting down: finishing in-flight requests");
        tokio::time::sleep(grace).await;
    };
    tokio::select! {
        result = server => result.context("the gateway failed")?,
        () = deadline => tracing::warn!("shutdown grace period expired; dropping the remaining requests"),
    }
    db.close().await;
    tracing::info!("scrm stopped");
    Ok(())
}

/// Opens the configured database.
pub async fn open_database(config: &Config) -> anyhow::Result<Db> {
    let url = config.database.effective_url(&config.data_dir);
    Db::connect(&url, &config.database).await.context("database: cannot connect")
}

/// Applies the migrations of `services`.
pub async fn migrate(db: &Db, services: &BTreeSet<ServiceKind>) -> anyhow::Result<()> {
    for migrations in MIGRATIONS {
        if services.iter().any(|kind| kind.as_str() == migrations.service) {
            db.migrate(migrations).await?;
        }
    }
    Ok(())
}

fn index_of(kind: ServiceKind) -> usize {
    ServiceKind::ALL.iter().position(|candidate| *candidate == kind).expect("every kind is in ALL")
}

fn mount<S, B>(routes: GrpcRoutes, slot: &OnceLock<RpcChannel>, kind: ServiceKind, service: S) -> GrpcRoutes
where
    S: Service<http::Request<axum::body::Body>, Response = http::Response<B>, Error = Infallible>
        + Service<http::Request<tonic::body::Body>, Response = http::Response<B>, Error = Infallible>
        + Clone
        + Send
        + Sync
        + 'static,
    <S as Service<http::Request<axum::body::Body>>>::Future: Send + 'static,
    <S as Service<http::Request<tonic::body::Body>>>::Future: Send + 'static,
    B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    let _ = slot.set(RpcChannel::in_process(ServerTracing.layer(service.clone())));
    routes.add(kind.grpc_name(), service)
}

fn remote_channel(url: &str, cluster_token: Option<HeaderValue>) -> anyhow::Result<RpcChannel> {
    let endpoint = tonic::transport::Endpoint::from_shared(url.to_owned())
        .with_context(|| format!("`{url}` is not a valid service URL"))?
        .connect_timeout(Duration::from_secs(5));
    Ok(RpcChannel::remote(endpoint.connect_lazy(), cluster_token))
}

fn cluster_token(config: &Config, services: &BTreeSet<ServiceKind>) -> anyhow::Result<Option<HeaderValue>> {
    let split = services.len() < ServiceKind::ALL.len();
    match (config.cluster.token.as_str(), split) {
        ("", true) => anyhow::bail!("cluster.token must be set when services run in separate processes"),
        ("", false) => Ok(None),
        (token, _) => HeaderValue::from_str(token).map(Some).context("cluster.token must be printable ASCII"),
    }
}

fn gateway_config(
    config: &Config,
    cluster_token: Option<HeaderValue>,
    demo: bool,
    wecom_callback: scrm_wecom_crypto::CallbackKeyring,
) -> anyhow::Result<GatewayConfig> {
    let cors_origins = config
        .server
        .cors_origins
        .iter()
        .map(|origin| {
            HeaderValue::from_str(origin)
                .with_context(|| format!("server.cors_origins: `{origin}` is not a valid origin"))
        })
        .collect::<anyhow::Result<_>>()?;
    Ok(GatewayConfig {
        request_timeout: Duration::from_secs(config.server.request_timeout_secs),
        body_limit_bytes: config.server.body_limit_bytes,
        cors_origins,
        static_dir: config.server.static_dir.clone(),
        sidebar_dir: config.server.sidebar_dir.clone(),
        demo,
        cluster_token,
        local_caller: config.auth.local_caller.then(|| config.caller.caller()),
        sleep_endpoint: config.debug.sleep_endpoint,
        wecom_callback,
    })
}

/// Sign-in settings: session lifetime, and WeCom sign-in through the corp's pages (the simulator's in demo
/// mode, where any demo staff member may sign in as an operator unless `auth.default_staff_role` says
/// otherwise).
fn auth_settings(config: &Config, demo: bool) -> anyhow::Result<scrm_identity::AuthSettings> {
    let mut default_staff_role = config.auth.default_staff_role()?;
    if demo && default_staff_role.is_none() {
        default_staff_role = Some(scrm_kernel::Role::Operator);
    }
    let wecom = &config.wecom;
    let wecom_login = (!wecom.corp_id.is_empty()).then(|| {
        let mut login = scrm_identity::WecomLogin::wecom(wecom.corp_id.clone(), wecom.agent_id);
        if demo {
            let base = wecom.api_base.trim_end_matches('/');
            login.oauth_url = format!("{base}/connect/oauth2/authorize");
            login.qr_url = login.oauth_url.clone();
        }
        login
    });
    Ok(scrm_identity::AuthSettings {
        session_ttl_ms: i64::try_from(config.auth.session_ttl_hours).unwrap_or(i64::MAX / 3_600_000) * 3_600_000,
        default_staff_role,
        wecom_login,
        ..scrm_identity::AuthSettings::default()
    })
}

/// The deployment's externally reachable base URL: `wecom.public_base_url`, or in demo mode the listening
/// address when it is unset.
fn public_base_url(config: &Config, demo: bool) -> String {
    let wecom = &config.wecom;
    if wecom.public_base_url.is_empty() && demo {
        format!("http://{}", config.server.listen)
    } else {
        wecom.public_base_url.trim_end_matches('/').to_owned()
    }
}

/// Puts what admins changed on the settings page (kept by the identity service) over the `wecom.*` settings and
/// the sign-in role, before anything is built from them. Only when the corp is not configured through settings.
fn apply_stored_corp(config: &mut Config, stored: Option<&scrm_identity::StoredCorp>) -> anyhow::Result<()> {
    let Some(stored) = stored else { return Ok(()) };
    let wecom = &mut config.wecom;
    let texts = [
        (&stored.corp_id, &mut wecom.corp_id),
        (&stored.secret, &mut wecom.secret),
        (&stored.callback_token, &mut wecom.callback_token),
        (&stored.encoding_aes_key, &mut wecom.encoding_aes_key),
        (&stored.public_base_url, &mut wecom.public_base_url),
    ];
    for (value, setting) in texts {
        if let Some(value) = value {
            value.clone_into(setting);
        }
    }
    if let Some(agentid) = stored.agentid {
        wecom.agent_id = agentid;
    }
    if let Some(role) = &stored.default_staff_role {
        config.auth.default_staff_role.clone_from(role);
        config.auth.default_staff_role().context("identity_corp_settings.default_staff_role")?;
    }
    Ok(())
}

/// The corp binding the settings page shows and changes; secrets only as "is set" flags. `managed_by_config`: the
/// corp comes from `wecom.*` settings; `stored` is what admins changed; `callback_keys` the keys in use.
fn corp_binding(
    config: &Config,
    demo: bool,
    managed_by_config: bool,
    stored: Option<&scrm_identity::StoredCorp>,
    callback_keys: &scrm_wecom_crypto::CallbackKeyring,
) -> scrm_identity::CorpBinding {
    let wecom = &config.wecom;
    let public_base_url = public_base_url(config, demo);
    scrm_identity::CorpBinding {
        corp_id: wecom.corp_id.clone(),
        corp_name: stored.and_then(|stored| stored.corp_name.clone()).unwrap_or_default(),
        agentid: wecom.agent_id,
        secrets: scrm_identity::CorpSecrets {
            secret: wecom.secret.clone(),
            callback_token: wecom.callback_token.clone(),
            encoding_aes_key: wecom.encoding_aes_key.clone(),
        },
        public_base_url,
        trusted_domain: wecom.trusted_domain.clone(),
        wecom_api_base: if wecom.api_base.is_empty() {
            scrm_wecom::DEFAULT_API_BASE.to_owned()
        } else {
            wecom.api_base.clone()
        },
        demo_mode: demo,
        managed_by_config,
        timezone: stored
            .and_then(|stored| stored.timezone.clone())
            .filter(|timezone| !timezone.is_empty())
            .unwrap_or_else(|| "Asia/Shanghai".to_owned()),
        updated_at_ms: stored.map_or(0, |stored| stored.updated_at),
        keyring: callback_keys.clone(),
    }
}

/// The WeCom API client for sync: `None` unless `wecom.corp_id` and `wecom.secret` are set; an empty
/// `wecom.api_base` means WeCom itself.
/// The cipher sealing robot webhook keys: the key in `broadcast.robot_key_file`, by default
/// `<data_dir>/robot-webhook.key`, generated on first run.
fn robot_key_cipher(config: &Config) -> anyhow::Result<scrm_messaging::KeyCipher> {
    let path = if config.broadcast.robot_key_file.as_os_str().is_empty() {
        config.data_dir.join("robot-webhook.key")
    } else {
        config.broadcast.robot_key_file.clone()
    };
    scrm_messaging::KeyCipher::load_or_create(&path).context("broadcast.robot_key_file")
}

fn wecom_client(config: &Config) -> anyhow::Result<Option<scrm_wecom::WeComClient>> {
    let wecom = &config.wecom;
    if wecom.corp_id.is_empty() || wecom.secret.is_empty() {
        return Ok(None);
    }
    let mut client_config = scrm_wecom::WeComConfig::new(wecom.corp_id.clone(), wecom.secret.clone());
    if !wecom.api_base.is_empty() {
        client_config = client_config.with_api_base(wecom.api_base.trim_end_matches('/'));
    }
    let client = scrm_wecom::WeComClient::new(client_config).context("wecom: cannot build the WeCom API client")?;
    Ok(Some(client))
}

/// The sender of group alerts to owners: `None` unless WeCom is configured with an app's `wecom.agent_id`.
fn alert_notifier(config: &Config) -> anyhow::Result<Option<scrm_group::AlertNotifier>> {
    let agent_id = config.wecom.agent_id;
    Ok(wecom_client(config)?.filter(|_| agent_id > 0).map(|client| scrm_group::AlertNotifier { client, agent_id }))
}

/// Starts the group service's WeCom readers when WeCom is configured: the daily `groupchat/statistic` figures,
/// and the chat archive (distinct speakers counted with `speakers`) when `wecom.chat_archive_poll_secs` is set.
fn follow_group_feeds(config: &Config, db: &Db, speakers: &scrm_group::SpeakerCounter) -> anyhow::Result<()> {
    let Some(client) = wecom_client(config)? else { return Ok(()) };
    scrm_group::follow_group_statistics(db.clone(), client.clone(), scrm_group::STATISTIC_INTERVAL);
    let every = config.wecom.chat_archive_poll_secs;
    if every > 0 {
        scrm_group::follow_chat_archive(db.clone(), speakers.clone(), client, Duration::from_secs(every));
    }
    Ok(())
}

fn wecom_callback(config: &Config) -> anyhow::Result<Option<scrm_wecom_crypto::CallbackCrypto>> {
    let wecom = &config.wecom;
    if !wecom.callback_configured() {
        return Ok(None);
    }
    scrm_wecom_crypto::CallbackCrypto::new(wecom.callback_token.clone(), &wecom.encoding_aes_key, wecom.corp_id.clone())
        .map(Some)
        .context("wecom.encoding_aes_key / wecom.callback_token: the callback keys are invalid")
}
