//! The `scrm` command: run the product, migrate its database, show its configuration.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use scrm::{Config, Server, telemetry::Telemetry};
use scrm_kernel::ServiceKind;
use scrm_wecom_sim::{CallbackConfig, SimConfig, Simulator, World, WorldSize};

/// scrm: private-domain (私域) community operations for WeCom.
#[derive(Debug, Parser)]
#[command(name = "scrm", version, about)]
struct Cli {
    /// TOML configuration file; `SCRM_*` environment variables override it.
    #[arg(long, global = true, env = "SCRM_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs the services and the gateway (all of them unless `--services` narrows it).
    Serve(ServeArgs),
    /// Applies pending database migrations of every service, then exits.
    Migrate(CommonArgs),
    /// Prints the effective configuration as TOML, secrets redacted.
    Config(CommonArgs),
    /// Runs the WeCom simulator: WeCom's HTTP API over a generated corp, for demos and tests.
    Sim(SimArgs),
    /// Starts a full WeCom sync on a running scrm and shows its progress until it ends.
    Sync(SyncArgs),
    /// Rebuilds the customer search index from the database: through the running scrm at `--server`, or
    /// directly in the data dir when none answers (a stopped server).
    Reindex(ReindexArgs),
}

#[derive(Debug, Args)]
struct ReindexArgs {
    /// The running scrm's gateway.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    server: String,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Debug, Args)]
struct SyncArgs {
    /// The running scrm's gateway.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    server: String,
}

#[derive(Debug, Args)]
struct SimArgs {
    /// Address the simulator listens on; point `wecom.api_base` at it.
    #[arg(long, default_value = "127.0.0.1:8090")]
    listen: SocketAddr,
    /// Seed of the generated corp: the same seed gives the same corp.
    #[arg(long, default_value_t = SimConfig::default().seed)]
    seed: u64,
    /// Departments in the generated corp, including the root.
    #[arg(long, default_value_t = WorldSize::DEMO.departments)]
    departments: usize,
    /// Staff members in the generated corp.
    #[arg(long, default_value_t = WorldSize::DEMO.staff)]
    staff: usize,
    /// Customers (external contacts) in the generated corp.
    #[arg(long, default_value_t = WorldSize::DEMO.customers)]
    customers: usize,
    /// Customer groups in the generated corp.
    #[arg(long, default_value_t = WorldSize::DEMO.groups)]
    groups: usize,
    /// URL the simulator pushes encrypted callbacks to, e.g. `http://127.0.0.1:8080/wecom/callback`.
    #[arg(long, requires_all = ["callback_token", "encoding_aes_key"])]
    callback_url: Option<String>,
    /// Token signing the pushed callbacks.
    #[arg(long)]
    callback_token: Option<String>,
    /// EncodingAESKey encrypting the pushed callbacks (43 characters).
    #[arg(long)]
    encoding_aes_key: Option<String>,
}

#[derive(Debug, Args)]
struct CommonArgs {
    /// Directory for local state (overrides `data_dir`).
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Services to run in this process, comma-separated (identity, customer, group, messaging,
    /// campaign, rewards, analytics); the others are reached at `cluster.<service>_url`.
    #[arg(long, value_delimiter = ',')]
    services: Vec<ServiceKind>,
    /// Address of the gateway (overrides `server.listen`).
    #[arg(long)]
    listen: Option<SocketAddr>,
    #[command(flatten)]
    common: CommonArgs,
}

impl CommonArgs {
    fn apply(&self, config: &mut Config) {
        if let Some(data_dir) = &self.data_dir {
            config.data_dir = data_dir.clone();
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let mut config = Config::load(cli.config.as_deref())?;
    match cli.command {
        Command::Config(args) => {
            args.apply(&mut config);
            print!("{}", config.to_redacted_toml());
            Ok(())
        }
        Command::Sync(args) => scrm::sync_cli::run(&args.server).await,
        Command::Reindex(args) => {
            args.common.apply(&mut config);
            let telemetry = Telemetry::install(&config.telemetry)?;
            let outcome = scrm::reindex::run(&config, &args.server).await;
            telemetry.shutdown();
            outcome
        }
        Command::Sim(args) => {
            let telemetry = Telemetry::install(&config.telemetry)?;
            let outcome = run_simulator(args).await;
            telemetry.shutdown();
            outcome
        }
        Command::Migrate(args) => {
            args.apply(&mut config);
            let telemetry = Telemetry::install(&config.telemetry)?;
            std::fs::create_dir_all(&config.data_dir)
                .with_context(|| format!("data_dir: cannot create {}", config.data_dir.display()))?;
            let db = scrm::app::open_database(&config).await?;
            scrm::app::migrate(&db, &ServiceKind::ALL.into_iter().collect()).await?;
            db.close().await;
            tracing::info!("migrations applied");
            telemetry.shutdown();
            Ok(())
        }
        Command::Serve(args) => {
            args.common.apply(&mut config);
            if let Some(listen) = args.listen {
                config.server.listen = listen;
            }
            let telemetry = Telemetry::install(&config.telemetry)?;
            let services: BTreeSet<ServiceKind> = args.services.into_iter().collect();
            let server = Server::start(config, &services).await?;
            let shutdown = server.shutdown_token();
            tokio::spawn(async move {
                wait_for_signal().await;
                shutdown.cancel();
            });
            let outcome = server.wait().await;
            telemetry.shutdown();
            outcome
        }
    }
}

async fn run_simulator(args: SimArgs) -> anyhow::Result<()> {
    let mut config = SimConfig { seed: args.seed, ..SimConfig::default() };
    if let (Some(url), Some(token), Some(encoding_aes_key)) =
        (args.callback_url, args.callback_token, args.encoding_aes_key)
    {
        config.callback = Some(CallbackConfig { url, token, encoding_aes_key, timeout_ms: 5_000, retries: 3 });
    }
    let size =
        WorldSize { departments: args.departments, staff: args.staff, customers: args.customers, groups: args.groups };
    let world = World::generate(args.seed, size);
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("--listen: cannot listen on {}", args.listen))?;
    tracing::info!(
        address = %listener.local_addr()?,
        corp_id = %config.corp_id,
        secret = %config.corp_secrets.first().map(String::as_str).unwrap_or_default(),
        ?size,
        "the WeCom simulator is serving",
    );
    let simulator = Simulator::new(config, world);
    tokio::select! {
        served = scrm_wecom_sim::serve(listener, simulator) => served.context("the simulator failed"),
        () = wait_for_signal() => Ok(()),
    }
}

async fn wait_for_signal() {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("a SIGTERM handler can be installed");
    tokio::select! {
        _ = terminate.recv() => tracing::info!("SIGTERM received"),
        _ = tokio::signal::ctrl_c() => tracing::info!("interrupt received"),
    }
}
