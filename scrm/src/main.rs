//! The `scrm` command: run the product, migrate its database, show its configuration.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use scrm::{Config, Server, telemetry::Telemetry};
use scrm_kernel::{Role, ServiceKind};
use scrm_wecom_sim::{ActivityConfig, CallbackConfig, SimConfig, Simulator, World, WorldSize};

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
    /// Creates, lists and revokes API tokens (`Authorization: Bearer <token>`).
    #[command(subcommand)]
    Token(TokenCommand),
    /// Imports data into a running scrm.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Rebuilds the customer search index from the database: through the running scrm at `--server`, or
    /// directly in the data dir when none answers (a stopped server).
    Reindex(ReindexArgs),
}

#[derive(Debug, Subcommand)]
enum ImportCommand {
    /// Imports an order CSV (idempotent by order number) with a progress bar and a per-row error report; fails
    /// when any row was refused. Columns: order_no, status, amount (required); buyer_external_userid,
    /// buyer_unionid, member_no, buyer_phone, store_code, channel, discount, refund, paid_at, refunded_at,
    /// updated_at, coupon_codes.
    Orders(ImportOrdersArgs),
}

#[derive(Debug, Args)]
struct ImportOrdersArgs {
    /// The CSV file.
    file: PathBuf,
    /// The running scrm's gateway.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    server: String,
    /// Check every row and report, storing nothing.
    #[arg(long)]
    dry_run: bool,
    /// API token of an operator or admin (`scrm token create`).
    #[arg(long, env = "SCRM_TOKEN", hide_env_values = true)]
    token: Option<String>,
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Creates a token and prints it once on standard output.
    Create(TokenCreateArgs),
    /// Lists tokens (never their values).
    List(TokenListArgs),
    /// Revokes a token; it stops working at once.
    Revoke(TokenRevokeArgs),
}

#[derive(Debug, Args)]
struct TokenCreateArgs {
    /// Role the token acts with: operator, support, store_manager, koc or admin.
    #[arg(long)]
    role: Role,
    /// Name to recognise the token by, e.g. `数据中台订单导入`.
    #[arg(long)]
    name: String,
    /// Store the token is limited to (repeat for several); required for store_manager.
    #[arg(long = "store")]
    stores: Vec<i64>,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Debug, Args)]
struct TokenListArgs {
    /// Include revoked and expired tokens.
    #[arg(long)]
    all: bool,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Debug, Args)]
struct TokenRevokeArgs {
    /// Id of the token, as `scrm token list` shows it.
    id: i64,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Debug, Args)]
struct ReindexArgs {
    /// The running scrm's gateway.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    server: String,
    /// API token of an operator or admin (`scrm token create`), for the running scrm.
    #[arg(long, env = "SCRM_TOKEN", hide_env_values = true)]
    token: Option<String>,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Debug, Args)]
struct SyncArgs {
    /// The running scrm's gateway.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    server: String,
    /// API token of an operator or admin (`scrm token create`).
    #[arg(long, env = "SCRM_TOKEN", hide_env_values = true)]
    token: Option<String>,
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
    /// Runs the activity driver: customers add and delete staff, people join and leave groups, groups and
    /// staff change (each raising its callback), group messages fill the chat archive
    /// (`GET /sim/finance/chatdata`) and orders the orders feed (`GET /sim/orders`).
    #[arg(long)]
    activity: bool,
    /// Rate of the activity driver: 1 is about 6 changes, 30 group messages and 2 orders a minute.
    #[arg(long, default_value_t = 1.0, value_parser = parse_rate)]
    activity_rate: f64,
    /// Seed of the activity driver: the same seed gives the same activity.
    #[arg(long, default_value_t = ActivityConfig::default().seed)]
    activity_seed: u64,
}

/// A non-negative, finite rate.
fn parse_rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(r) if r.is_finite() && r >= 0.0 => Ok(r),
        _ => Err(format!("expected a number ≥ 0, got {s:?}")),
    }
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
        Command::Sync(args) => scrm::sync_cli::run(&args.server, args.token.as_deref()).await,
        Command::Import(ImportCommand::Orders(args)) => {
            scrm::import_cli::run_cli(&args.server, args.token.as_deref(), &args.file, args.dry_run).await
        }
        Command::Token(command) => run_token(command, config).await,
        Command::Reindex(args) => {
            args.common.apply(&mut config);
            let telemetry = Telemetry::install(&config.telemetry)?;
            let outcome = scrm::reindex::run(&config, &args.server, args.token.as_deref()).await;
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

async fn run_token(command: TokenCommand, mut config: Config) -> anyhow::Result<()> {
    match command {
        TokenCommand::Create(args) => {
            args.common.apply(&mut config);
            let (token, meta) = scrm::token_cli::create(&config, &args.name, args.role, &args.stores).await?;
            println!("{token}");
            eprintln!(
                "已创建 API 令牌 #{}「{}」（{}）。令牌只显示这一次，请妥善保存。",
                meta.id,
                meta.name,
                args.role.label()
            );
        }
        TokenCommand::List(args) => {
            args.common.apply(&mut config);
            for token in scrm::token_cli::list(&config, args.all).await? {
                println!("{}", scrm::token_cli::describe(&token));
            }
        }
        TokenCommand::Revoke(args) => {
            args.common.apply(&mut config);
            let token = scrm::token_cli::revoke(&config, args.id).await?;
            eprintln!("已吊销 API 令牌 #{}「{}」。", token.id, token.name);
        }
    }
    Ok(())
}

async fn run_simulator(args: SimArgs) -> anyhow::Result<()> {
    let activity = ActivityConfig {
        enabled: args.activity,
        seed: args.activity_seed,
        rate: args.activity_rate,
        ..ActivityConfig::default()
    };
    let mut config = SimConfig { seed: args.seed, activity, ..SimConfig::default() };
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
        activity = args.activity,
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
