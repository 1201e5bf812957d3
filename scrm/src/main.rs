//! The `scrm` command: run the product, migrate its database, show its configuration.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use scrm::{Config, Server, telemetry::Telemetry};
use scrm_kernel::ServiceKind;

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

async fn wait_for_signal() {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("a SIGTERM handler can be installed");
    tokio::select! {
        _ = terminate.recv() => tracing::info!("SIGTERM received"),
        _ = tokio::signal::ctrl_c() => tracing::info!("interrupt received"),
    }
}
