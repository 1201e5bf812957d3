//! Simulator configuration: every knob has a default that behaves like WeCom.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Configuration of a [`crate::Simulator`]. Every field has a default (see [`SimConfig::default`]), so an empty
/// TOML/JSON object is a valid configuration.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct SimConfig {
    /// The corp id (`corpid` of `gettoken`, and the receive id of callbacks).
    pub corp_id: String,
    /// Secrets accepted by `gettoken` (WeCom has one per app plus the contacts and customer-contact secrets).
    pub corp_secrets: Vec<String>,
    /// The agent id of the self-built app (checked by `message/send`).
    pub agent_id: i64,
    /// Lifetime of an access token in seconds (WeCom: 7200). Tokens really expire on the simulator's clock.
    pub token_ttl_secs: u64,
    /// Group robot keys accepted by `webhook/send?key=`.
    pub webhook_keys: Vec<String>,
    /// Messages a group robot accepts per minute per key (WeCom: 20); more are answered with errcode 45009.
    pub webhook_per_minute: u32,
    /// Rate limits answered with errcode 45009.
    pub rate_limits: RateLimits,
    /// Fault injection (errors, latency, dropped connections, HTTP 5xx).
    pub faults: Faults,
    /// Group-message (企业群发) behaviour.
    pub group_msg: GroupMsgConfig,
    /// How long a `welcome_code` stays valid, in seconds (WeCom: 20).
    pub welcome_code_ttl_secs: u64,
    /// Encrypted callback push; `None` pushes nothing.
    pub callback: Option<CallbackConfig>,
    /// Seed of the simulator's own randomness (tokens, ids of created objects, fault decisions).
    pub seed: u64,
    /// The activity driver: ongoing changes, group messages and orders (off by default).
    pub activity: ActivityConfig,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            corp_id: "wwsimcorp0000000001".into(),
            corp_secrets: vec!["sim-secret".into()],
            agent_id: 1_000_002,
            token_ttl_secs: 7200,
            webhook_keys: vec!["sim-webhook-key".into()],
            webhook_per_minute: 20,
            rate_limits: RateLimits::default(),
            faults: Faults::default(),
            group_msg: GroupMsgConfig::default(),
            welcome_code_ttl_secs: 20,
            callback: None,
            seed: 0x5C12_3000,
            activity: ActivityConfig::default(),
        }
    }
}

/// Rate limits, counted per minute of the simulator's clock (fixed windows aligned on the minute).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct RateLimits {
    /// Calls per minute allowed for any single API (WeCom documents 10,000 per corp per API per minute).
    /// `None` disables the per-API limit.
    pub per_api_per_minute: Option<u32>,
    /// Overrides of the per-API limit, keyed by the path after `/cgi-bin/` (e.g. `externalcontact/get`).
    pub per_api_overrides: BTreeMap<String, u32>,
    /// Calls per minute allowed over all APIs together; `None` (the default) disables it.
    pub global_per_minute: Option<u32>,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self { per_api_per_minute: Some(10_000), per_api_overrides: BTreeMap::new(), global_per_minute: None }
    }
}

/// Fault injection. Rates are probabilities in `[0, 1]`, drawn per request from the seeded generator.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Faults {
    /// Probability of answering errcode -1 "system busy" instead of doing the call.
    pub error_rate: f64,
    /// Latency added to every request, in milliseconds (real time).
    pub latency_ms: u64,
    /// Probability of dropping the connection (headers are sent, then the body aborts).
    pub drop_rate: f64,
    /// Probability of answering HTTP 502 with an HTML body, as a gateway in front of WeCom would.
    pub http_5xx_rate: f64,
    /// APIs (path after `/cgi-bin/`) exempt from faults; `gettoken` is not exempt unless listed.
    pub exempt: Vec<String>,
}

/// Group-message (企业群发, `add_msg_template`) behaviour.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct GroupMsgConfig {
    /// Seconds after creation at which a sender confirms their task. `None`: nobody confirms on their own
    /// (tests then call [`crate::Simulator::confirm_group_msg`]).
    pub auto_confirm_after_secs: Option<u64>,
    /// Staff (userids) who never confirm a task on their own.
    pub never_confirm: Vec<String>,
    /// Corp group messages one customer receives per day (WeCom: 1). `None`: unlimited.
    pub customer_daily_limit: Option<u32>,
    /// Corp group messages one customer receives per calendar month (WeCom since 2022: 4). `None`: unlimited.
    pub customer_monthly_limit: Option<u32>,
    /// Group messages one customer group receives per day. `None`: unlimited.
    pub group_daily_limit: Option<u32>,
    /// `remind_groupmsg_send` calls allowed per message per 24 hours (WeCom: 3).
    pub reminds_per_day: u32,
}

impl Default for GroupMsgConfig {
    fn default() -> Self {
        Self {
            auto_confirm_after_secs: Some(3),
            never_confirm: Vec::new(),
            customer_daily_limit: Some(1),
            customer_monthly_limit: Some(4),
            group_daily_limit: Some(1),
            reminds_per_day: 3,
        }
    }
}

/// Where and how encrypted callbacks are pushed (by [`crate::spawn_callback_pusher`], which [`crate::serve`]
/// starts when this is set).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CallbackConfig {
    /// The callback URL (e.g. `http://127.0.0.1:8080/wecom/callback`).
    pub url: String,
    /// The callback token.
    pub token: String,
    /// The 43-character EncodingAESKey.
    pub encoding_aes_key: String,
    /// Milliseconds to wait for an answer before retrying (WeCom: 5 s).
    #[serde(default = "default_callback_timeout")]
    pub timeout_ms: u64,
    /// Retries after the first attempt (WeCom: 3).
    #[serde(default = "default_callback_retries")]
    pub retries: u32,
}

fn default_callback_timeout() -> u64 {
    5_000
}

fn default_callback_retries() -> u32 {
    3
}

/// The activity driver ([`crate::Simulator::start_activity`]): customers adding and deleting staff, people
/// joining and leaving groups, groups created, renamed, handed over and dismissed, staff joining, changing and
/// leaving, group messages (into the chat archive) and orders. Arrivals are Poisson processes on the simulator
/// clock drawn from `seed`, so the same seed and the same clock give the same activity.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct ActivityConfig {
    /// Whether [`crate::serve`] starts the driver. Off by default, so tests stay deterministic.
    pub enabled: bool,
    /// Seed of the driver's randomness.
    pub seed: u64,
    /// Multiplies every rate below (the `--activity-rate` knob); 0 pauses the activity.
    pub rate: f64,
    /// Changes to the corp (contacts, members, groups, staff) per simulated minute at rate 1.
    pub changes_per_minute: f64,
    /// Group messages per simulated minute at rate 1, spread over groups by their activity weight.
    pub messages_per_minute: f64,
    /// Orders per simulated minute at rate 1.
    pub orders_per_minute: f64,
    /// Share of message arrivals that are a spam burst (one customer posting the same advert 5–15 times).
    pub spam_share: f64,
    /// Real-time interval, in milliseconds, at which a served simulator runs the driver up to the clock.
    pub tick_ms: u64,
}

impl Default for ActivityConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            seed: 0xAC71_0001,
            rate: 1.0,
            changes_per_minute: 6.0,
            messages_per_minute: 30.0,
            orders_per_minute: 2.0,
            spam_share: 0.02,
            tick_ms: 1_000,
        }
    }
}
