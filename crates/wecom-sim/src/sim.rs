//! The simulator: state behind a lock, the request pipeline (faults, token, rate limits), and test controls.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use serde_json::{Value, json};

use crate::api::ApiError;
use crate::clock::SimClock;
use crate::config::{ActivityConfig, Faults, RateLimits, SimConfig};
use crate::feeds::{ChatRecord, Feeds, Order};
use crate::groupmsg::GroupMsg;
use crate::world::{Customer, Member, World, random_id};

/// An access token the simulator issued.
#[derive(Debug, Clone)]
pub(crate) struct TokenInfo {
    pub expires_ms: i64,
}

/// A welcome code handed out with an `add_external_contact` event.
#[derive(Debug, Clone)]
pub(crate) struct WelcomeCode {
    pub userid: String,
    pub external_userid: String,
    pub expires_ms: i64,
    pub used: bool,
}

/// A join way (群活码) or contact way (渠道活码), as created.
#[derive(Debug, Clone)]
pub(crate) struct Way {
    /// The request as given (echoed back by `get_join_way` / `get_contact_way`).
    pub request: Value,
    pub state: String,
    /// Staff of a contact way, or chats of a join way.
    pub targets: Vec<String>,
    pub qr_code: String,
}

/// Counters of calls and answers, for benches ("calls lost to rate limits") and tests.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Stats {
    /// Calls per API (path after `/cgi-bin/`).
    pub calls: BTreeMap<String, u64>,
    /// Answers per errcode (0 included).
    pub errcodes: BTreeMap<i64, u64>,
    /// Connections dropped by fault injection.
    pub dropped: u64,
    /// HTTP 5xx answers from fault injection.
    pub http_5xx: u64,
    /// Callback POSTs attempted (retries included).
    pub callback_attempts: u64,
    /// Callbacks given up after the last retry.
    pub callback_failures: u64,
}

/// A message the simulator delivered (app message, robot message or welcome message), for tests to inspect.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Delivered {
    /// `message/send`, `webhook/send` or `send_welcome_msg`.
    pub api: String,
    /// The robot key, the welcome code's external_userid, or empty.
    pub to: String,
    /// The request body.
    pub body: Value,
    /// Simulator time (seconds).
    pub at: i64,
}

/// A customer added through a contact way, with the welcome code WeCom would push with the event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewContact {
    /// The new customer.
    pub external_userid: String,
    /// The staff member they added.
    pub userid: String,
    /// The welcome code (valid for `welcome_code_ttl_secs`, single use).
    pub welcome_code: String,
}

/// A callback event waiting to be pushed (the plaintext XML, before encryption).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingEvent {
    /// Plaintext XML as WeCom builds it for a self-built app.
    pub xml: String,
    /// Simulator time (seconds) of the change.
    pub at: i64,
}

pub(crate) struct State {
    pub world: World,
    pub cfg: SimConfig,
    pub rng: ChaCha8Rng,
    pub tokens: HashMap<String, TokenInfo>,
    pub current_token: HashMap<String, String>,
    pub api_windows: HashMap<String, (i64, u32)>,
    pub global_window: (i64, u32),
    pub webhook_hits: HashMap<String, VecDeque<i64>>,
    pub msgs: Vec<GroupMsg>,
    pub msg_index: HashMap<String, usize>,
    pub receipts_day: HashMap<(String, i64), u32>,
    pub receipts_month: HashMap<(String, (i64, u32)), u32>,
    pub welcome_codes: HashMap<String, WelcomeCode>,
    pub welcome_templates: BTreeMap<String, Value>,
    pub join_ways: HashMap<String, Way>,
    pub contact_ways: HashMap<String, Way>,
    pub oauth_codes: HashMap<String, (String, i64)>,
    pub jsapi_ticket: (String, i64),
    pub agent_ticket: (String, i64),
    pub delivered: Vec<Delivered>,
    pub events: VecDeque<PendingEvent>,
    pub stats: Stats,
    pub driver: Option<crate::activity::Driver>,
    pub feeds: Feeds,
    pub media: HashMap<String, Media>,
}

/// An uploaded temporary media file (`media/upload`), valid 3 days.
#[derive(Debug, Clone)]
pub(crate) struct Media {
    pub expires_ms: i64,
}

/// What the pipeline decided to answer.
pub(crate) enum Outcome {
    /// A JSON body (WeCom answers HTTP 200 for logical errors too).
    Json(Value),
    /// Abort the connection after the headers.
    Drop,
    /// HTTP 502 with an HTML body.
    Http5xx,
    /// HTTP 404 for a path WeCom does not serve.
    NotFound,
}

/// The WeCom simulator. Share it in an `Arc`; every method takes `&self`.
pub struct Simulator {
    pub(crate) state: Mutex<State>,
    pub(crate) clock: SimClock,
    pub(crate) events_notify: tokio::sync::Notify,
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulator").field("now_ms", &self.clock.now_ms()).finish_non_exhaustive()
    }
}

/// GET APIs (everything else is POST). Paths are relative to `/cgi-bin/`.
const GET_APIS: &[&str] = &[
    "gettoken",
    "department/simplelist",
    "user/get",
    "externalcontact/list",
    "externalcontact/get",
    "externalcontact/get_follow_user_list",
    "get_jsapi_ticket",
    "ticket/get",
    "auth/getuserinfo",
    "user/getuserinfo",
    "sim/finance/chatdata",
];

/// APIs whose body is `multipart/form-data` rather than JSON.
const MULTIPART_APIS: &[&str] = &["media/upload", "media/uploadimg"];

/// APIs that need no access_token.
const NO_TOKEN_APIS: &[&str] = &["gettoken", "webhook/send"];

impl Simulator {
    /// A simulator serving `world` with `config`.
    pub fn new(config: SimConfig, world: World) -> Arc<Self> {
        let mut world = world;
        world.reindex();
        let rng = ChaCha8Rng::seed_from_u64(config.seed);
        Arc::new(Simulator {
            state: Mutex::new(State {
                world,
                cfg: config,
                rng,
                tokens: HashMap::new(),
                current_token: HashMap::new(),
                api_windows: HashMap::new(),
                global_window: (0, 0),
                webhook_hits: HashMap::new(),
                msgs: Vec::new(),
                msg_index: HashMap::new(),
                receipts_day: HashMap::new(),
                receipts_month: HashMap::new(),
                welcome_codes: HashMap::new(),
                welcome_templates: BTreeMap::new(),
                join_ways: HashMap::new(),
                contact_ways: HashMap::new(),
                oauth_codes: HashMap::new(),
                jsapi_ticket: (String::new(), 0),
                agent_ticket: (String::new(), 0),
                delivered: Vec::new(),
                events: VecDeque::new(),
                stats: Stats::default(),
                driver: None,
                feeds: Feeds::default(),
                media: HashMap::new(),
            }),
            clock: SimClock::new(),
            events_notify: tokio::sync::Notify::new(),
        })
    }

    /// The simulator's clock (freeze it or move it forward in tests).
    pub fn clock(&self) -> &SimClock {
        &self.clock
    }

    /// Moves the clock forward; tokens expire, welcome codes lapse and due group-message tasks are confirmed.
    pub fn advance(&self, by: Duration) {
        self.clock.advance_ms(by.as_millis().min(i64::MAX as u128) as i64);
        self.run_due(self.clock.now_ms());
    }

    /// Confirms due group-message tasks and runs the activity driver up to `now_ms`; wakes the callback
    /// pusher when events were raised.
    fn run_due(&self, now_ms: i64) {
        let raised = {
            let mut st = self.state.lock();
            st.run_due_tasks(now_ms);
            let before = st.events.len();
            st.run_activity(now_ms);
            st.events.len() != before
        };
        if raised {
            self.events_notify.notify_one();
        }
    }

    /// Starts the activity driver with `cfg` (replacing a running one); its first arrival follows now.
    /// Advancing the clock ([`Simulator::advance`]), any API call, or the ticker of a served simulator
    /// ([`crate::spawn_activity_ticker`]) then applies the arrivals that are due.
    pub fn start_activity(&self, cfg: ActivityConfig) {
        let now = self.clock.now_ms();
        let mut st = self.state.lock();
        st.cfg.activity = ActivityConfig { enabled: true, ..cfg.clone() };
        st.start_activity(cfg, now);
    }

    /// Stops the activity driver (what it produced stays).
    pub fn stop_activity(&self) {
        let mut st = self.state.lock();
        st.cfg.activity.enabled = false;
        st.driver = None;
    }

    /// Whether the activity driver runs.
    pub fn activity_running(&self) -> bool {
        self.state.lock().driver.is_some()
    }

    /// Runs the activity driver up to the clock's now (the ticker calls this).
    pub fn run_activity(&self) {
        self.run_due(self.clock.now_ms());
    }

    /// Up to `limit` archived group messages with a `seq` above `after`, oldest first (the chat-archive feed).
    pub fn chat_records(&self, after: u64, limit: usize) -> Vec<ChatRecord> {
        self.state.lock().feeds.messages_after(after, limit)
    }

    /// Up to `limit` orders with a `seq` above `after`, oldest first (the orders feed).
    pub fn orders(&self, after: u64, limit: usize) -> Vec<Order> {
        self.state.lock().feeds.orders_after(after, limit)
    }

    /// Whether `media_id` was issued by `media/upload` and has not expired (3 days on the simulator clock).
    pub fn media_valid(&self, media_id: &str) -> bool {
        let now = self.clock.now_ms();
        self.state.lock().media.get(media_id).is_some_and(|m| m.expires_ms > now)
    }

    /// Replaces where callbacks are pushed. Takes effect for a pusher started afterwards
    /// ([`crate::spawn_callback_pusher`]); the demo sets it once its own address is known.
    pub fn set_callback(&self, callback: Option<crate::config::CallbackConfig>) {
        self.state.lock().cfg.callback = callback;
    }

    /// A copy of the current configuration.
    pub fn config(&self) -> SimConfig {
        self.state.lock().cfg.clone()
    }

    /// Replaces the fault-injection settings.
    pub fn set_faults(&self, faults: Faults) {
        self.state.lock().cfg.faults = faults;
    }

    /// Replaces the rate limits (counting windows are kept).
    pub fn set_rate_limits(&self, limits: RateLimits) {
        self.state.lock().cfg.rate_limits = limits;
    }

    /// Sets the staff who never confirm group-message tasks; pending tasks of theirs stop being due.
    pub fn set_never_confirm(&self, userids: &[&str]) {
        let mut st = self.state.lock();
        st.cfg.group_msg.never_confirm = userids.iter().map(|s| s.to_string()).collect();
        let delay = st.cfg.group_msg.auto_confirm_after_secs;
        for m in &mut st.msgs {
            let created_ms = m.create_time * 1000;
            for t in &mut m.tasks {
                if t.status == 0 {
                    t.due_ms = if userids.contains(&t.userid.as_str()) {
                        None
                    } else {
                        delay.map(|d| created_ms + d as i64 * 1000)
                    };
                }
            }
        }
    }

    /// Sets the auto-confirm delay of tasks created from now on (`None`: nobody confirms on their own).
    pub fn set_auto_confirm(&self, after: Option<Duration>) {
        self.state.lock().cfg.group_msg.auto_confirm_after_secs = after.map(|d| d.as_secs());
    }

    /// The sender `userid` confirms their task of `msgid` now. Returns false when there is no such pending task.
    pub fn confirm_group_msg(&self, msgid: &str, userid: &str) -> bool {
        let now = self.clock.now_secs();
        let mut st = self.state.lock();
        let Some(&mi) = st.msg_index.get(msgid) else { return false };
        let Some(ti) = st.msgs[mi].tasks.iter().position(|t| t.userid == userid && t.status == 0) else {
            return false;
        };
        if st.msgs[mi].cancelled {
            return false;
        }
        st.confirm_task(mi, ti, now);
        true
    }

    /// Reads the world under the lock.
    pub fn with_world<R>(&self, f: impl FnOnce(&World) -> R) -> R {
        f(&self.state.lock().world)
    }

    /// Call and errcode counters so far.
    pub fn stats(&self) -> Stats {
        self.state.lock().stats.clone()
    }

    /// How many live group-message tasks (`add_msg_template` with `chat_type=group`, not cancelled) name each
    /// customer group, by `chat_id`: what exactly-once tests and the broadcast bench count.
    pub fn group_msg_tasks_per_chat(&self) -> BTreeMap<String, usize> {
        let st = self.state.lock();
        let mut counts = BTreeMap::new();
        let group_msgs = st.msgs.iter().filter(|m| m.chat_type == crate::groupmsg::ChatType::Group && !m.cancelled);
        for recipient in group_msgs.flat_map(|m| &m.tasks).flat_map(|t| &t.recipients) {
            *counts.entry(recipient.target.clone()).or_insert(0) += 1;
        }
        counts
    }

    /// Messages delivered through `message/send`, `webhook/send` and `send_welcome_msg`.
    pub fn delivered(&self) -> Vec<Delivered> {
        self.state.lock().delivered.clone()
    }

    /// Issues an OAuth `code` for `auth/getuserinfo` (single use, valid 5 minutes), as the login page would.
    pub fn issue_oauth_code(&self, userid: &str) -> String {
        let now = self.clock.now_ms();
        let mut st = self.state.lock();
        let code = random_id(&mut st.rng, "", 43);
        st.oauth_codes.insert(code.clone(), (userid.to_string(), now + 300_000));
        code
    }

    /// Callback events raised by changes made outside the API (contact-way scans, joins, activity), oldest
    /// first, removed from the queue. Changes made through the API raise none, as in WeCom.
    pub fn drain_events(&self) -> Vec<PendingEvent> {
        self.state.lock().events.drain(..).collect()
    }

    /// A WeChat user scans the QR code of contact way `config_id` and adds one of its staff: a new customer
    /// with the way's `state`, and an `add_external_contact` event carrying `State` and `WelcomeCode`.
    pub fn scan_contact_way(&self, config_id: &str) -> Option<NewContact> {
        let now = self.clock.now_ms();
        let mut st = self.state.lock();
        let way = st.contact_ways.get(config_id)?.clone();
        let users: Vec<String> = way.targets.iter().filter(|u| st.world.staff(u).is_some()).cloned().collect();
        if users.is_empty() {
            return None;
        }
        let userid = users[st.rng.random_range(0..users.len())].clone();
        let customer = crate::activity::fresh_customer(&mut st.rng, &userid, &way.state, now.div_euclid(1000));
        let welcome_code = random_id(&mut st.rng, "", 43);
        let added = st.add_new_contact(customer, welcome_code, now);
        drop(st);
        self.events_notify.notify_one();
        Some(added)
    }

    /// A customer scans join way `config_id` and joins its first group that has room: the member carries the
    /// way's `state`, and a `change_external_chat` `add_member` event is raised. Returns the chat_id.
    pub fn scan_join_way(&self, config_id: &str, external_userid: &str) -> Option<String> {
        let now = self.clock.now_secs();
        let mut st = self.state.lock();
        let way = st.join_ways.get(config_id)?.clone();
        let gi = way.targets.iter().filter_map(|c| st.world.group_idx(c)).find(|&gi| {
            let g = &st.world.groups[gi];
            g.members.len() < 500 && !g.members.iter().any(|m| m.userid == external_userid)
        })?;
        st.add_member(gi, external_userid, 3, "", &way.state, now);
        let chat_id = st.world.groups[gi].chat_id.clone();
        drop(st);
        self.events_notify.notify_one();
        Some(chat_id)
    }

    /// A customer deletes staff member `userid` (or the reverse when `by_staff`): the follow relation goes,
    /// and a `del_follow_user` (or `del_external_contact`) event is raised.
    pub fn remove_contact(&self, userid: &str, external_userid: &str, by_staff: bool) -> bool {
        let now = self.clock.now_secs();
        let removed = self.state.lock().remove_contact_at(userid, external_userid, by_staff, now);
        if removed {
            self.events_notify.notify_one();
        }
        removed
    }

    /// Runs one request through the pipeline: faults, token, rate limits, then the API itself.
    pub(crate) async fn handle(
        &self,
        api: &str,
        is_post: bool,
        query: &HashMap<String, String>,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Outcome {
        // Fault decisions are drawn first, under the lock, from the seeded generator.
        let (latency, fault) = {
            let mut st = self.state.lock();
            *st.stats.calls.entry(api.to_string()).or_default() += 1;
            let f = st.cfg.faults.clone();
            let exempt = f.exempt.iter().any(|e| e == api);
            let mut fault = None;
            if !exempt {
                if f.drop_rate > 0.0 && st.rng.random_bool(f.drop_rate.clamp(0.0, 1.0)) {
                    st.stats.dropped += 1;
                    fault = Some(Outcome::Drop);
                } else if f.http_5xx_rate > 0.0 && st.rng.random_bool(f.http_5xx_rate.clamp(0.0, 1.0)) {
                    st.stats.http_5xx += 1;
                    fault = Some(Outcome::Http5xx);
                } else if f.error_rate > 0.0 && st.rng.random_bool(f.error_rate.clamp(0.0, 1.0)) {
                    fault = Some(Outcome::Json(ApiError::new(-1, "system busy").to_json()));
                }
            }
            (if exempt { 0 } else { f.latency_ms }, fault)
        };
        if latency > 0 {
            tokio::time::sleep(Duration::from_millis(latency)).await;
        }
        let out = match fault {
            Some(o) => o,
            None => {
                let now = self.clock.now_ms();
                let mut st = self.state.lock();
                match st.pipeline(api, is_post, query, content_type, body, now) {
                    Ok(v) => Outcome::Json(v),
                    Err(e) if e.code == i64::MIN => Outcome::NotFound,
                    Err(e) => Outcome::Json(e.to_json()),
                }
            }
        };
        if let Outcome::Json(v) = &out {
            let code = v.get("errcode").and_then(Value::as_i64).unwrap_or(0);
            *self.state.lock().stats.errcodes.entry(code).or_default() += 1;
        }
        out
    }
}

impl State {
    /// Adds a customer who just added a staff member, with a welcome code, and raises
    /// `add_external_contact` with `State` and `WelcomeCode`.
    pub(crate) fn add_new_contact(&mut self, customer: Customer, welcome_code: String, now_ms: i64) -> NewContact {
        let external_userid = customer.external_userid.clone();
        let follow = &customer.follow[0];
        let (userid, state) = (follow.userid.clone(), follow.state.clone());
        self.world.add_follow(customer);
        let ttl = self.cfg.welcome_code_ttl_secs as i64 * 1000;
        self.welcome_codes.insert(
            welcome_code.clone(),
            WelcomeCode {
                userid: userid.clone(),
                external_userid: external_userid.clone(),
                expires_ms: now_ms + ttl,
                used: false,
            },
        );
        let at = now_ms.div_euclid(1000);
        let extra = [("State", state.as_str()), ("WelcomeCode", welcome_code.as_str())];
        let xml = crate::events::external_contact_xml(
            &self.cfg.corp_id,
            at,
            "add_external_contact",
            &userid,
            &external_userid,
            &extra,
        );
        self.push_event(xml, at);
        NewContact { external_userid, userid, welcome_code }
    }

    /// Adds a customer to group `gi` (member `join_scene` 1 invited, 2 link, 3 QR code) and raises
    /// `add_member`, whose `JoinScene` is 0 for invitations and 3 for QR codes, as WeCom documents.
    pub(crate) fn add_member(
        &mut self,
        gi: usize,
        external_userid: &str,
        join_scene: u8,
        invitor: &str,
        state: &str,
        at: i64,
    ) {
        // A staff member scanning a join way joins as staff (type 1), as WeCom reports them.
        let kind = if self.world.staff(external_userid).is_some() { 1 } else { 2 };
        let g = &mut self.world.groups[gi];
        g.members.push(Member {
            userid: external_userid.to_string(),
            kind,
            join_time: at,
            join_scene,
            invitor: invitor.to_string(),
            group_nickname: String::new(),
            state: state.to_string(),
        });
        let event_scene = if join_scene == 3 { 3 } else { 0 };
        let xml = crate::events::chat_update_xml(
            &self.cfg.corp_id,
            at,
            &g.chat_id,
            "add_member",
            event_scene,
            0,
            &[external_userid],
        );
        self.push_event(xml, at);
    }

    /// Removes the follow relation and raises `del_external_contact` (staff deleted the customer) or
    /// `del_follow_user` (the customer deleted the staff member). Returns whether the relation existed.
    pub(crate) fn remove_contact_at(&mut self, userid: &str, external_userid: &str, by_staff: bool, at: i64) -> bool {
        let Some(ci) = self.world.customer_idx(external_userid) else { return false };
        if !self.world.remove_follow(userid, ci) {
            return false;
        }
        let kind = if by_staff { "del_external_contact" } else { "del_follow_user" };
        let xml = crate::events::external_contact_xml(&self.cfg.corp_id, at, kind, userid, external_userid, &[]);
        self.push_event(xml, at);
        true
    }

    pub(crate) fn push_event(&mut self, xml: String, at: i64) {
        // Bounded: an unconsumed queue must not grow without limit.
        if self.events.len() >= 100_000 {
            self.events.pop_front();
        }
        self.events.push_back(PendingEvent { xml, at });
    }

    fn pipeline(
        &mut self,
        api: &str,
        is_post: bool,
        query: &HashMap<String, String>,
        content_type: Option<&str>,
        body: &[u8],
        now_ms: i64,
    ) -> Result<Value, ApiError> {
        if !crate::api::is_known(api) {
            return Err(ApiError { code: i64::MIN, msg: String::new() });
        }
        let is_get_api = GET_APIS.contains(&api);
        if !is_get_api && !is_post {
            return Err(ApiError::new(43002, "require POST method"));
        }
        if !NO_TOKEN_APIS.contains(&api) {
            self.check_token(query, now_ms)?;
        }
        self.check_rate(api, now_ms)?;
        let raw = body;
        let body: Value = if is_post && !MULTIPART_APIS.contains(&api) && !body.iter().all(u8::is_ascii_whitespace) {
            match serde_json::from_slice::<Value>(body) {
                Ok(v @ Value::Object(_)) => v,
                _ => return Err(ApiError::new(47001, "data format error")),
            }
        } else {
            json!({})
        };
        self.run_due_tasks(now_ms);
        self.run_activity(now_ms);
        let req = crate::api::Req { query, body: &body, raw, content_type, now_ms };
        let mut v = self.call(api, &req)?;
        if let Value::Object(m) = &mut v {
            m.insert("errcode".into(), json!(0));
            m.insert("errmsg".into(), json!("ok"));
        }
        Ok(v)
    }

    fn check_token(&mut self, query: &HashMap<String, String>, now_ms: i64) -> Result<(), ApiError> {
        let Some(tok) = query.get("access_token").filter(|t| !t.is_empty()) else {
            return Err(ApiError::new(41001, "access_token missing"));
        };
        match self.tokens.get(tok) {
            None => Err(ApiError::new(40014, "invalid access_token")),
            Some(t) if t.expires_ms <= now_ms => Err(ApiError::new(42001, "access_token expired")),
            Some(_) => Ok(()),
        }
    }

    fn check_rate(&mut self, api: &str, now_ms: i64) -> Result<(), ApiError> {
        let minute = now_ms.div_euclid(60_000);
        let limits = &self.cfg.rate_limits;
        let per_api = limits.per_api_overrides.get(api).copied().or(limits.per_api_per_minute);
        let global = limits.global_per_minute;
        if let Some(limit) = global {
            if self.global_window.0 != minute {
                self.global_window = (minute, 0);
            }
            if self.global_window.1 >= limit {
                return Err(ApiError::new(45009, "api freq out of limit"));
            }
        }
        if let Some(limit) = per_api {
            let w = self.api_windows.entry(api.to_string()).or_insert((minute, 0));
            if w.0 != minute {
                *w = (minute, 0);
            }
            if w.1 >= limit {
                return Err(ApiError::new(45009, "api freq out of limit"));
            }
            w.1 += 1;
        }
        if global.is_some() {
            self.global_window.1 += 1;
        }
        Ok(())
    }

    /// Issues (or returns the still-valid) token for a secret.
    pub(crate) fn issue_token(&mut self, secret: &str, now_ms: i64) -> (String, i64) {
        if let Some(tok) = self.current_token.get(secret)
            && let Some(info) = self.tokens.get(tok)
            && info.expires_ms > now_ms
        {
            return (tok.clone(), (info.expires_ms - now_ms).div_euclid(1000));
        }
        let ttl = self.cfg.token_ttl_secs as i64;
        let tok = random_id(&mut self.rng, "", 64);
        // Keep expired tokens (to answer 42001 rather than 40014) but bound the table.
        if self.tokens.len() > 10_000 {
            self.tokens.retain(|_, t| t.expires_ms > now_ms - 86_400_000);
        }
        self.tokens.insert(tok.clone(), TokenInfo { expires_ms: now_ms + ttl * 1000 });
        self.current_token.insert(secret.to_string(), tok.clone());
        (tok, ttl)
    }
}
