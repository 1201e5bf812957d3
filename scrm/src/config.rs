//! The configuration of a scrm process: one typed struct, loaded from built-in defaults, then an
//! optional TOML file, then `SCRM_`-prefixed environment variables.
//!
//! An environment variable names a section and a key: `SCRM_SERVER_LISTEN` sets `server.listen`,
//! `SCRM_DATABASE_URL` sets `database.url`, `SCRM_DATA_DIR` sets `data_dir`. Lists are given
//! comma-separated. Variables that name no section are ignored; a misspelt key inside a known
//! section is an error naming it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use scrm_cache::CacheConfig;
use scrm_kernel::{Caller, Role, ServiceKind};
use scrm_storage::DatabaseConfig;
use serde::{Deserialize, Deserializer, Serialize};

/// Sections of the configuration, as they appear after `SCRM_` in environment variables.
const SECTIONS: [&str; 10] =
    ["server", "database", "cache", "telemetry", "cluster", "caller", "auth", "wecom", "broadcast", "debug"];
/// Top-level keys settable from the environment.
const TOP_LEVEL_KEYS: [&str; 1] = ["data_dir"];
/// The replacement shown for secrets by `scrm config`.
const REDACTED: &str = "<redacted>";

/// The whole configuration of a scrm process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Directory for the embedded database, search indexes and other local state; created on start.
    pub data_dir: PathBuf,
    /// The gateway: listening address, limits, CORS and static files.
    pub server: ServerConfig,
    /// The database: embedded SQLite by default, MySQL/MariaDB for production.
    pub database: DatabaseConfig,
    /// The cache and counters: in-process by default, Redis when a URL is set.
    pub cache: CacheConfig,
    /// Logs and traces.
    pub telemetry: TelemetryConfig,
    /// How this process finds the services it does not run.
    pub cluster: ClusterConfig,
    /// The local caller assumed for requests without credentials, when `auth.local_caller` opts in.
    pub caller: CallerConfig,
    /// Sign-in: sessions, WeCom sign-in and the development opt-in of a local caller.
    pub auth: AuthConfig,
    /// The WeCom corp this deployment serves.
    pub wecom: WeComConfig,
    /// Group broadcasts: WeCom's receive quota, the fan-out rate limit, retries and reminders.
    pub broadcast: scrm_messaging::BroadcastConfig,
    /// Diagnostics, all off by default.
    pub debug: DebugConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("./data"),
            server: ServerConfig::default(),
            database: DatabaseConfig::default(),
            cache: CacheConfig::default(),
            telemetry: TelemetryConfig::default(),
            cluster: ClusterConfig::default(),
            caller: CallerConfig::default(),
            auth: AuthConfig::default(),
            wecom: WeComConfig::default(),
            broadcast: scrm_messaging::BroadcastConfig::default(),
            debug: DebugConfig::default(),
        }
    }
}

/// The gateway's settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Address serving gRPC, grpc-web, REST, probes, metrics and the web admin on one port.
    pub listen: SocketAddr,
    /// Longest a request may run before it is answered with a timeout.
    pub request_timeout_secs: u64,
    /// Largest request body accepted, in bytes.
    pub body_limit_bytes: usize,
    /// Browser origins allowed to call the API (CORS), e.g. `https://admin.example.com`.
    #[serde(deserialize_with = "string_or_list")]
    pub cors_origins: Vec<String>,
    /// Directory of the built web admin, served at `/`; skipped when it does not exist.
    pub static_dir: PathBuf,
    /// Directory of the built sidebar H5 (`web/sidebar`), served at `/sidebar/`; skipped when it does not exist.
    pub sidebar_dir: PathBuf,
    /// Longest the process waits for in-flight requests after SIGTERM before it exits.
    pub shutdown_grace_secs: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            request_timeout_secs: 30,
            body_limit_bytes: 8 * 1024 * 1024,
            cors_origins: Vec::new(),
            static_dir: PathBuf::from("web/admin/dist"),
            sidebar_dir: PathBuf::from("web/sidebar/dist"),
            shutdown_grace_secs: 30,
        }
    }
}

/// Logging and tracing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TelemetryConfig {
    /// `human` (default) or `json` log lines.
    pub log_format: LogFormat,
    /// Which logs to keep, in `tracing` filter syntax (`RUST_LOG` overrides it).
    pub log_filter: String,
    /// OTLP/gRPC endpoint receiving traces, e.g. `http://otel-collector:4317`; empty turns export off.
    pub otlp_endpoint: String,
    /// The `service.name` traces are exported under.
    pub service_name: String,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        TelemetryConfig {
            log_format: LogFormat::Human,
            log_filter: "info".to_owned(),
            otlp_endpoint: String::new(),
            service_name: "scrm".to_owned(),
        }
    }
}

/// The shape of log lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// Readable lines for a terminal.
    Human,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Where the services this process does not run can be reached.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClusterConfig {
    /// Shared secret presented between scrm processes; required when services run apart.
    pub token: String,
    /// URL of the identity service, e.g. `http://scrm-identity:8080`.
    pub identity_url: String,
    /// URL of the customer service.
    pub customer_url: String,
    /// URL of the group service.
    pub group_url: String,
    /// URL of the messaging service.
    pub messaging_url: String,
    /// URL of the campaign service.
    pub campaign_url: String,
    /// URL of the rewards service.
    pub rewards_url: String,
    /// URL of the analytics service.
    pub analytics_url: String,
}

impl ClusterConfig {
    /// The configured URL of `service`, if any.
    pub fn url_of(&self, service: ServiceKind) -> Option<&str> {
        let url = match service {
            ServiceKind::Identity => &self.identity_url,
            ServiceKind::Customer => &self.customer_url,
            ServiceKind::Group => &self.group_url,
            ServiceKind::Messaging => &self.messaging_url,
            ServiceKind::Campaign => &self.campaign_url,
            ServiceKind::Rewards => &self.rewards_url,
            ServiceKind::Analytics => &self.analytics_url,
        };
        Some(url.as_str()).filter(|url| !url.is_empty())
    }
}

/// Sign-in settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// Development and test opt-in: requests that bring no credential act as the `caller` section's local
    /// caller instead of being answered 401. Never turn this on where the port is reachable by others.
    pub local_caller: bool,
    /// A browser session expires after this many hours unused.
    pub session_ttl_hours: u64,
    /// Role given to a WeCom member who signs in without a user created by an admin (`operator`,
    /// `support`, `store_manager`, `koc` or `admin`); empty refuses them. The demo corp uses `operator`
    /// when this is empty.
    pub default_staff_role: String,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig { local_caller: false, session_ttl_hours: 168, default_staff_role: String::new() }
    }
}

impl AuthConfig {
    /// The configured default staff role; `None` when empty.
    pub fn default_staff_role(&self) -> Result<Option<Role>, ConfigError> {
        if self.default_staff_role.is_empty() {
            return Ok(None);
        }
        self.default_staff_role
            .parse()
            .map(Some)
            .map_err(|message: String| ConfigError(format!("auth.default_staff_role: {message}")))
    }
}

/// The local operator requests act as when `auth.local_caller` is on (development and tests only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CallerConfig {
    /// Staff id of the local operator.
    pub staff_id: String,
    /// Role id: `operator`, `support`, `store_manager`, `koc` or `admin`.
    pub role: Role,
    /// Stores the local operator is limited to; empty for all.
    #[serde(deserialize_with = "string_or_list")]
    pub store_ids: Vec<String>,
}

impl Default for CallerConfig {
    fn default() -> Self {
        CallerConfig { staff_id: "local-operator".to_owned(), role: Role::Operator, store_ids: Vec::new() }
    }
}

impl CallerConfig {
    /// The caller this configuration describes.
    pub fn caller(&self) -> Caller {
        Caller { staff_id: self.staff_id.clone(), role: self.role, store_ids: self.store_ids.clone() }
    }
}

/// The WeCom corp: its id, the app secret, and the keys of the callback URL (WeCom's console shows them
/// under the app's 接收消息 settings).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WeComConfig {
    /// The corp id (企业ID), also the receive id every callback is checked against.
    pub corp_id: String,
    /// The app or customer-contact secret used to fetch access tokens (secret).
    pub secret: String,
    /// The callback Token (secret).
    pub callback_token: String,
    /// The callback EncodingAESKey, 43 characters (secret).
    pub encoding_aes_key: String,
    /// Base URL of the WeCom API; empty means WeCom itself, `https://qyapi.weixin.qq.com`.
    pub api_base: String,
    /// The agent id (AgentId) of the self-built app: it sends app messages, e.g. group alerts to owners
    /// (`message/send`), is signed into the sidebar's `wx.agentConfig` and goes into WeCom sign-in URLs;
    /// 0 sends none.
    pub agent_id: i64,
    /// With no `corp_id` set, run the built-in WeCom simulator with a demo corp and sync from it at start,
    /// so a first run shows live data. Ignored once a corp is configured.
    pub demo: bool,
    /// The app's trusted domain (可信域名) the sidebar is served under; pages elsewhere are not signed.
    /// Empty: any host.
    pub trusted_domain: String,
    /// The externally reachable base URL of this deployment (scheme and host, e.g. `https://scrm.example.com`):
    /// the settings page derives the callback URL, sidebar URL and trusted domain to paste into WeCom's
    /// console from it. Empty: unknown, except in demo mode, where the listening address stands in.
    pub public_base_url: String,
    /// How lively the demo corp is once synced: the rate of the simulator's activity driver (customers
    /// adding and deleting staff, group joins and leaves, messages, orders), pushed to this process's own
    /// `/wecom/callback`. 1 is gentle (a change every ten seconds or so); 0 keeps the demo corp still.
    pub demo_activity_rate: f64,
    /// How often, in seconds, the group service reads the chat archive (会话存档) at
    /// `<api_base>/sim/finance/chatdata` and counts its group messages; 0 never reads it. The demo corp reads
    /// it every 5 seconds when this is 0.
    pub chat_archive_poll_secs: u64,
    /// Staff of the demo corp (userids, a list or comma-separated) who never confirm group-message tasks, to
    /// try the unconfirmed-owner report and reminders; everyone else confirms 5 seconds after a task is created.
    #[serde(deserialize_with = "string_or_list")]
    pub demo_never_confirm: Vec<String>,
}

impl Default for WeComConfig {
    fn default() -> Self {
        WeComConfig {
            corp_id: String::new(),
            secret: String::new(),
            callback_token: String::new(),
            encoding_aes_key: String::new(),
            api_base: String::new(),
            agent_id: 0,
            demo: true,
            trusted_domain: String::new(),
            public_base_url: String::new(),
            demo_activity_rate: 1.0,
            chat_archive_poll_secs: 0,
            demo_never_confirm: Vec::new(),
        }
    }
}

impl WeComConfig {
    /// Whether the process runs the demo corp: demo mode on and no corp configured.
    pub fn runs_demo(&self) -> bool {
        self.demo && self.corp_id.is_empty()
    }

    /// Whether the callback URL can be served: corp id, token and AES key are all set.
    pub fn callback_configured(&self) -> bool {
        !(self.corp_id.is_empty() || self.callback_token.is_empty() || self.encoding_aes_key.is_empty())
    }
}

/// Diagnostics for operators, off by default.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DebugConfig {
    /// Serves `GET /debug/sleep?ms=N`, a request that takes N ms, for shutdown and timeout drills.
    pub sleep_endpoint: bool,
}

/// A configuration that could not be loaded.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(String);

impl Config {
    /// Loads defaults, then `file` (if given), then the environment.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(file) = file {
            if !file.exists() {
                return Err(ConfigError(format!("configuration file {} does not exist", file.display())));
            }
            figment = figment.merge(Toml::file(file));
        }
        let config: Config = figment.merge(environment()).extract().map_err(|error| ConfigError(describe(error)))?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if self.caller.staff_id.trim().is_empty() {
            return Err(ConfigError("caller.staff_id must not be empty".to_owned()));
        }
        self.auth.default_staff_role()?;
        if self.auth.session_ttl_hours == 0 {
            return Err(ConfigError("auth.session_ttl_hours must be at least 1".to_owned()));
        }
        if self.server.request_timeout_secs == 0 {
            return Err(ConfigError("server.request_timeout_secs must be at least 1".to_owned()));
        }
        for (index, origin) in self.server.cors_origins.iter().enumerate() {
            if !(origin.starts_with("http://") || origin.starts_with("https://")) {
                return Err(ConfigError(format!(
                    "server.cors_origins[{index}] `{origin}` must be an origin such as https://admin.example.com"
                )));
            }
        }
        Ok(())
    }

    /// The configuration with every secret replaced, for display.
    pub fn redacted(&self) -> Config {
        let mut config = self.clone();
        config.database.url = redact_url(&config.database.url);
        config.cache.redis_url = redact_url(&config.cache.redis_url);
        for secret in [
            &mut config.cluster.token,
            &mut config.wecom.secret,
            &mut config.wecom.callback_token,
            &mut config.wecom.encoding_aes_key,
        ] {
            if !secret.is_empty() {
                *secret = REDACTED.to_owned();
            }
        }
        config
    }

    /// The configuration as TOML, secrets redacted.
    pub fn to_redacted_toml(&self) -> String {
        toml::to_string_pretty(&self.redacted()).expect("the configuration serializes to TOML")
    }
}

/// Each error as `key: problem (source)`, with keys spelled as in the TOML file.
fn describe(error: figment::Error) -> String {
    let problems: Vec<_> = error
        .into_iter()
        .map(|error| {
            let key = error.path.join(".").to_ascii_lowercase();
            let source = error.metadata.as_ref().map(|metadata| metadata.name.to_string()).unwrap_or_default();
            if key.is_empty() {
                format!("{} ({source})", error.kind)
            } else {
                format!("{key}: {} ({source})", error.kind)
            }
        })
        .collect();
    problems.join("; ")
}

fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!("{}{REDACTED}{}", &url[..scheme_end + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

/// `SCRM_<SECTION>_<KEY>` → `section.key`, `SCRM_DATA_DIR` → `data_dir`; others are ignored.
fn environment() -> Env {
    Env::prefixed("SCRM_").filter_map(|key| {
        let key = key.as_str().to_ascii_lowercase();
        if TOP_LEVEL_KEYS.contains(&key.as_str()) {
            return Some(key.into());
        }
        SECTIONS.iter().find_map(|section| {
            key.strip_prefix(section)
                .and_then(|rest| rest.strip_prefix('_'))
                .filter(|field| !field.is_empty())
                .map(|field| format!("{section}.{field}").into())
        })
    })
}

/// Accepts a list, or a string of comma-separated items (as environment variables give).
fn string_or_list<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum StringOrList {
        String(String),
        List(Vec<String>),
    }
    Ok(match StringOrList::deserialize(deserializer)? {
        StringOrList::String(text) => {
            text.split(',').map(str::trim).filter(|item| !item.is_empty()).map(str::to_owned).collect()
        }
        StringOrList::List(items) => items,
    })
}

#[cfg(test)]
// figment::Jail's closures must return figment's own (large) error type.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;

    #[test]
    fn defaults_run_out_of_the_box() {
        figment::Jail::expect_with(|_| {
            let config = Config::load(None).unwrap();
            assert_eq!(config.server.listen.to_string(), "127.0.0.1:8080");
            assert_eq!(config.data_dir, PathBuf::from("./data"));
            assert_eq!(config.database.url, "");
            Ok(())
        });
    }

    #[test]
    fn file_then_environment_override_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("scrm.toml", "[server]\nlisten = \"0.0.0.0:9000\"\nrequest_timeout_secs = 5\n")?;
            jail.set_env("SCRM_SERVER_LISTEN", "127.0.0.1:9100");
            jail.set_env("SCRM_DATABASE_URL", "mysql://root:pw@db/scrm");
            jail.set_env("SCRM_SERVER_CORS_ORIGINS", "https://a.example.com, https://b.example.com");
            jail.set_env("SCRM_CLUSTER_GROUP_URL", "http://group:8080");
            jail.set_env("SCRM_DATA_DIR", "/var/lib/scrm");
            jail.set_env("SCRM_TEST_MYSQL_URL", "ignored: no such section");
            let config = Config::load(Some(Path::new("scrm.toml"))).unwrap();
            assert_eq!(config.server.listen.to_string(), "127.0.0.1:9100");
            assert_eq!(config.server.request_timeout_secs, 5);
            assert_eq!(config.database.url, "mysql://root:pw@db/scrm");
            assert_eq!(config.server.cors_origins, ["https://a.example.com", "https://b.example.com"]);
            assert_eq!(config.cluster.url_of(ServiceKind::Group), Some("http://group:8080"));
            assert_eq!(config.cluster.url_of(ServiceKind::Customer), None);
            assert_eq!(config.data_dir, PathBuf::from("/var/lib/scrm"));
            Ok(())
        });
    }

    #[test]
    fn an_invalid_value_names_its_key() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("SCRM_SERVER_LISTEN", "not-an-address");
            let error = Config::load(None).unwrap_err().to_string();
            assert!(error.contains("server.listen"), "{error}");
            Ok(())
        });
    }

    #[test]
    fn a_misspelt_key_is_an_error_naming_it() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("SCRM_SERVER_LISTNE", "127.0.0.1:1");
            let error = Config::load(None).unwrap_err().to_string();
            assert!(error.contains("listne"), "{error}");
            Ok(())
        });
    }

    #[test]
    fn an_unknown_role_is_an_error_naming_it() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("SCRM_CALLER_ROLE", "root");
            let error = Config::load(None).unwrap_err().to_string();
            assert!(error.contains("caller.role"), "{error}");
            Ok(())
        });
    }

    #[test]
    fn secrets_are_redacted() {
        let mut config = Config::default();
        config.database.url = "mysql://root:hunter2@db:3306/scrm".to_owned();
        config.cache.redis_url = "redis://:hunter2@cache:6379".to_owned();
        config.cluster.token = "hunter2".to_owned();
        config.wecom.secret = "hunter2".to_owned();
        config.wecom.encoding_aes_key = "hunter2".to_owned();
        let shown = config.to_redacted_toml();
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("mysql://<redacted>@db:3306/scrm"), "{shown}");
    }
}
