//! The activity driver: ongoing life in the simulated corp, raising the callbacks WeCom would send.
//!
//! Three Poisson processes run on the simulator clock (corp changes, group messages, orders), merged into one
//! stream of arrivals drawn from the driver's own seeded generator. Running the driver up to a time applies
//! every arrival due by then, so the outcome depends on the seed and the clock, not on how often it runs.

use std::collections::BTreeSet;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::config::ActivityConfig;
use crate::events;
use crate::feeds::{ChatRecord, ChatText, Order};
use crate::sim::State;
use crate::world::{
    Customer, Follow, GROUP_KINDS, GroupChat, Member, STORE_POSITIONS, Staff, chinese_name, nickname, pareto, pick,
    random_id,
};

/// Ordinary group messages.
const CHATTER: &[&str] = &[
    "大家好，新人报到～",
    "今天有什么活动吗？",
    "这个多少钱呀",
    "收到，谢谢！",
    "请问门店几点关门？",
    "上次买的用着挺好的",
    "有优惠券吗",
    "已下单，坐等发货",
    "👍",
    "周末有空去店里看看",
    "能帮我查下会员积分吗",
    "好的好的",
    "这个颜色还有货吗？",
    "打卡第3天",
    "孩子很喜欢，回购了",
];

/// Adverts posted in spam bursts.
const SPAM: &[&str] =
    &["加V信 kf8888 免费领取福利，名额有限！", "兼职刷单日赚300，私聊我", "低价代购大牌，点击 http://t.cn/sim0001"];

/// Corp changes and their relative weights.
const CHANGES: &[(Change, u32)] = &[
    (Change::AddContact, 30),
    (Change::RemoveContact, 10),
    (Change::JoinGroup, 25),
    (Change::LeaveGroup, 12),
    (Change::CreateGroup, 5),
    (Change::RenameGroup, 4),
    (Change::HandOver, 2),
    (Change::DismissGroup, 2),
    (Change::CreateStaff, 3),
    (Change::UpdateStaff, 4),
    (Change::DeleteStaff, 1),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    AddContact,
    RemoveContact,
    JoinGroup,
    LeaveGroup,
    CreateGroup,
    RenameGroup,
    HandOver,
    DismissGroup,
    CreateStaff,
    UpdateStaff,
    DeleteStaff,
}

/// The running driver: its generator, the next arrival, and the groups' cumulative activity weights.
pub(crate) struct Driver {
    cfg: ActivityConfig,
    rng: ChaCha8Rng,
    next_at_ms: i64,
    /// Cumulative activity weights of `world.groups` (dismissed ones included, skipped when drawn).
    cumulative: Vec<f64>,
}

impl Driver {
    /// A driver whose first arrival follows `now_ms`.
    pub(crate) fn new(cfg: ActivityConfig, now_ms: i64) -> Self {
        let mut d =
            Driver { rng: ChaCha8Rng::seed_from_u64(cfg.seed), cfg, next_at_ms: now_ms, cumulative: Vec::new() };
        d.next_at_ms = d.after(now_ms);
        d
    }

    fn per_ms(&self) -> [f64; 3] {
        let r = self.cfg.rate.max(0.0) / 60_000.0;
        [
            self.cfg.changes_per_minute.max(0.0) * r,
            self.cfg.messages_per_minute.max(0.0) * r,
            self.cfg.orders_per_minute.max(0.0) * r,
        ]
    }

    /// The arrival after `t` (exponential gap), or never when every rate is 0.
    fn after(&mut self, t: i64) -> i64 {
        let total: f64 = self.per_ms().iter().sum();
        if total <= 0.0 {
            return i64::MAX;
        }
        let u: f64 = self.rng.random_range(f64::EPSILON..1.0);
        t.saturating_add((-u.ln() / total).ceil().max(1.0) as i64)
    }

    fn draw_change(&mut self) -> Change {
        let total: u32 = CHANGES.iter().map(|c| c.1).sum();
        let mut x = self.rng.random_range(0..total);
        for (c, w) in CHANGES {
            if x < *w {
                return *c;
            }
            x -= w;
        }
        Change::AddContact
    }
}

impl State {
    /// Starts (or restarts) the activity driver with `cfg`, its first arrival after `now_ms`.
    pub(crate) fn start_activity(&mut self, cfg: ActivityConfig, now_ms: i64) {
        self.driver = Some(Driver::new(cfg, now_ms));
    }

    /// Applies every arrival due by `now_ms`. Returns how many there were.
    pub(crate) fn run_activity(&mut self, now_ms: i64) -> usize {
        let Some(mut d) = self.driver.take() else { return 0 };
        let mut n = 0;
        while d.next_at_ms <= now_ms {
            let at = d.next_at_ms;
            let [changes, messages, _] = d.per_ms();
            let total = d.per_ms().iter().sum::<f64>();
            let x = d.rng.random_range(0.0..total);
            if x < changes {
                let change = d.draw_change();
                self.apply_change(&mut d.rng, change, at);
            } else if x < changes + messages {
                if d.rng.random_bool(d.cfg.spam_share.clamp(0.0, 1.0)) {
                    self.spam_burst(&mut d, at);
                } else {
                    self.group_message(&mut d, at);
                }
            } else {
                self.place_order(&mut d.rng, at);
            }
            n += 1;
            d.next_at_ms = d.after(at);
        }
        self.driver = Some(d);
        n
    }

    fn apply_change(&mut self, rng: &mut ChaCha8Rng, change: Change, at_ms: i64) {
        let at = at_ms.div_euclid(1000);
        match change {
            Change::AddContact => self.driver_add_contact(rng, at_ms),
            Change::RemoveContact => self.driver_remove_contact(rng, at),
            Change::JoinGroup => self.driver_join(rng, at),
            Change::LeaveGroup => self.driver_leave(rng, at),
            Change::CreateGroup => self.driver_create_group(rng, at),
            Change::RenameGroup => self.driver_rename(rng, at),
            Change::HandOver => self.driver_change_owner(rng, at),
            Change::DismissGroup => self.driver_dismiss(rng, at),
            Change::CreateStaff => self.driver_create_staff(rng, at),
            Change::UpdateStaff => self.driver_update_staff(rng, at),
            Change::DeleteStaff => self.driver_delete_staff(rng, at),
        }
    }

    /// Active staff with the customer-contact permission, in creation order.
    fn contact_staff(&self) -> Vec<usize> {
        (0..self.world.staff.len())
            .filter(|&i| {
                let s = &self.world.staff[i];
                s.status == 1 && s.customer_contact
            })
            .collect()
    }

    /// A live group drawn uniformly (a few tries; `None` when there is none).
    fn random_live_group(&self, rng: &mut ChaCha8Rng) -> Option<usize> {
        if self.world.groups.is_empty() {
            return None;
        }
        (0..8).map(|_| rng.random_range(0..self.world.groups.len())).find(|&gi| !self.world.groups[gi].dismissed)
    }

    /// A new WeChat user adds a staff member, through a contact way (70 % when one exists, with its `state`)
    /// or by scanning a store's QR code (`state` `store_<dept>`).
    fn driver_add_contact(&mut self, rng: &mut ChaCha8Rng, at_ms: i64) {
        let mut ways: Vec<&String> = self.contact_ways.keys().collect();
        ways.sort();
        let via_way = if !ways.is_empty() && rng.random_bool(0.7) {
            let w = &self.contact_ways[*pick(rng, &ways)];
            let users: Vec<String> = w.targets.iter().filter(|u| self.world.staff(u).is_some()).cloned().collect();
            (!users.is_empty()).then(|| (pick(rng, &users).clone(), w.state.clone()))
        } else {
            None
        };
        let (userid, state) = match via_way {
            Some(v) => v,
            None => {
                let staff = self.contact_staff();
                if staff.is_empty() {
                    return;
                }
                let s = &self.world.staff[*pick(rng, &staff)];
                let dept = s.department[0];
                let in_store = self.world.departments.iter().any(|d| d.id == dept && d.store);
                (s.userid.clone(), if in_store { format!("store_{dept}") } else { String::new() })
            }
        };
        let customer = fresh_customer(rng, &userid, &state, at_ms.div_euclid(1000));
        let welcome_code = random_id(rng, "", 43);
        self.add_new_contact(customer, welcome_code, at_ms);
    }

    /// A customer deletes a staff member (`del_follow_user`, 流失) or the reverse (`del_external_contact`).
    fn driver_remove_contact(&mut self, rng: &mut ChaCha8Rng, at: i64) {
        if self.world.customers.is_empty() {
            return;
        }
        for _ in 0..8 {
            let ci = rng.random_range(0..self.world.customers.len());
            let c = &self.world.customers[ci];
            if c.follow.is_empty() {
                continue;
            }
            let userid = pick(rng, &c.follow).userid.clone();
            let external_userid = c.external_userid.clone();
            let by_staff = rng.random_bool(0.3);
            self.remove_contact_at(&userid, &external_userid, by_staff, at);
            return;
        }
    }

    /// A customer joins a group: through a join way (60 % when one exists, member `state` set, scene 3) or
    /// invited by the owner (scene 1) or by the group's QR code (scene 3).
    fn driver_join(&mut self, rng: &mut ChaCha8Rng, at: i64) {
        let mut ways: Vec<&String> = self.join_ways.keys().collect();
        ways.sort();
        let (gi, state, scene) = if !ways.is_empty() && rng.random_bool(0.6) {
            let w = &self.join_ways[*pick(rng, &ways)];
            let state = w.state.clone();
            let Some(gi) = w
                .targets
                .iter()
                .filter_map(|c| self.world.group_idx(c))
                .find(|&gi| self.world.groups[gi].members.len() < 500)
            else {
                return;
            };
            (gi, state, 3u8)
        } else {
            let Some(gi) = self.random_live_group(rng) else { return };
            (gi, String::new(), if rng.random_bool(0.5) { 1 } else { 3 })
        };
        let g = &self.world.groups[gi];
        if g.members.len() >= 500 || self.world.customers.is_empty() {
            return;
        }
        let own: Vec<u32> = self.world.customers_of(&g.owner).map(|s| s.iter().copied().collect()).unwrap_or_default();
        let ci = if !own.is_empty() && rng.random_bool(0.7) {
            *pick(rng, &own) as usize
        } else {
            rng.random_range(0..self.world.customers.len())
        };
        let external_userid = self.world.customers[ci].external_userid.clone();
        if g.members.iter().any(|m| m.userid == external_userid) {
            return;
        }
        let invitor = if scene == 1 { g.owner.clone() } else { String::new() };
        self.add_member(gi, &external_userid, scene, &invitor, &state, at);
    }

    /// A customer leaves a group on their own (`QuitScene` 0) or is removed by the owner (1).
    fn driver_leave(&mut self, rng: &mut ChaCha8Rng, at: i64) {
        let Some(gi) = self.random_live_group(rng) else { return };
        let customers: Vec<usize> =
            self.world.groups[gi].members.iter().enumerate().filter(|(_, m)| m.kind == 2).map(|(i, _)| i).collect();
        if customers.is_empty() {
            return;
        }
        let mi = *pick(rng, &customers);
        let quit_scene = u8::from(rng.random_bool(0.2));
        let g = &mut self.world.groups[gi];
        let member = g.members.remove(mi);
        let xml = events::chat_update_xml(
            &self.cfg.corp_id,
            at,
            &g.chat_id,
            "del_member",
            0,
            quit_scene,
            &[member.userid.as_str()],
        );
        self.push_event(xml, at);
    }

    /// A staff member creates a group with a few of their customers (`create`).
    fn driver_create_group(&mut self, rng: &mut ChaCha8Rng, at: i64) {
        let staff = self.contact_staff();
        if staff.is_empty() {
            return;
        }
        let owner = self.world.staff[*pick(rng, &staff)].userid.clone();
        let mut members = vec![Member {
            userid: owner.clone(),
            kind: 1,
            join_time: at,
            join_scene: 1,
            invitor: String::new(),
            group_nickname: String::new(),
            state: String::new(),
        }];
        let own: Vec<u32> = self.world.customers_of(&owner).map(|s| s.iter().copied().collect()).unwrap_or_default();
        let mut picked = BTreeSet::new();
        for _ in 0..rng.random_range(2..=6) {
            if let Some(&ci) = own.get(rng.random_range(0..own.len().max(1))) {
                picked.insert(ci);
            }
        }
        for ci in picked {
            members.push(Member {
                userid: self.world.customers[ci as usize].external_userid.clone(),
                kind: 2,
                join_time: at,
                join_scene: 1,
                invitor: owner.clone(),
                group_nickname: String::new(),
                state: String::new(),
            });
        }
        let chat_id = loop {
            let id = random_id(rng, "wr", 30);
            if !self.world.group_index.contains_key(&id) {
                break id;
            }
        };
        let name = format!("{}{}", pick(rng, GROUP_KINDS), self.world.groups.len() % 97 + 1);
        self.world.group_index.insert(chat_id.clone(), self.world.groups.len());
        self.world.groups.push(GroupChat {
            chat_id: chat_id.clone(),
            name,
            owner,
            create_time: at,
            notice: String::new(),
            members,
            admins: Vec::new(),
            status: 0,
            dismissed: false,
            activity: pareto(rng, 1.0, 1.2).min(1000.0),
        });
        let xml = events::chat_change_xml(&self.cfg.corp_id, at, &chat_id, "create");
        self.push_event(xml, at);
    }

    /// The owner renames a group (`change_name`).
    fn driver_rename(&mut self, rng: &mut ChaCha8Rng, at: i64) {
        let Some(gi) = self.random_live_group(rng) else { return };
        let name = format!("{}{}", pick(rng, GROUP_KINDS), rng.random_range(1..100));
        let g = &mut self.world.groups[gi];
        if g.name == name {
            return;
        }
        g.name = name;
        let xml = events::chat_update_xml(&self.cfg.corp_id, at, &g.chat_id, "change_name", 0, 0, &[]);
        self.push_event(xml, at);
    }

    /// The owner hands a group over to another staff member, who joins it if needed (`change_owner`).
    fn driver_change_owner(&mut self, rng: &mut ChaCha8Rng, at: i64) {
        let Some(gi) = self.random_live_group(rng) else { return };
        let staff = self.contact_staff();
        if staff.is_empty() {
            return;
        }
        let new_owner = self.world.staff[*pick(rng, &staff)].userid.clone();
        let g = &mut self.world.groups[gi];
        if g.owner == new_owner {
            return;
        }
        if !g.members.iter().any(|m| m.userid == new_owner) {
            if g.members.len() >= 500 {
                return;
            }
            g.members.push(Member {
                userid: new_owner.clone(),
                kind: 1,
                join_time: at,
                join_scene: 1,
                invitor: g.owner.clone(),
                group_nickname: String::new(),
                state: String::new(),
            });
        }
        g.admins.retain(|a| *a != new_owner);
        g.owner = new_owner;
        let xml = events::chat_update_xml(&self.cfg.corp_id, at, &g.chat_id, "change_owner", 0, 0, &[]);
        self.push_event(xml, at);
    }

    /// The owner dismisses a group (`dismiss`).
    fn driver_dismiss(&mut self, rng: &mut ChaCha8Rng, at: i64) {
        let Some(gi) = self.random_live_group(rng) else { return };
        let g = &mut self.world.groups[gi];
        g.dismissed = true;
        let xml = events::chat_change_xml(&self.cfg.corp_id, at, &g.chat_id, "dismiss");
        self.push_event(xml, at);
    }

    /// A new store employee joins the corp (`create_user`).
    fn driver_create_staff(&mut self, rng: &mut ChaCha8Rng, at: i64) {
        let stores: Vec<u32> = self.world.departments.iter().filter(|d| d.store).map(|d| d.id).collect();
        let Some(&dept) = stores.get(rng.random_range(0..stores.len().max(1))) else { return };
        let (name, py) = chinese_name(rng);
        let mut n = self.world.staff.len() + 1;
        let userid = loop {
            let id = format!("{py}{n:04}");
            if !self.world.staff_index.contains_key(&id) {
                break id;
            }
            n += 1;
        };
        let staff = Staff {
            userid: userid.clone(),
            name: name.clone(),
            department: vec![dept],
            position: (*pick(rng, STORE_POSITIONS)).into(),
            gender: rng.random_range(1..=2),
            mobile: format!("1{}{:08}", rng.random_range(30..=99), rng.random_range(0..100_000_000u32)),
            status: 1,
            customer_contact: true,
        };
        let dept = dept.to_string();
        let gender = staff.gender.to_string();
        let xml = events::contact_xml(
            &self.cfg.corp_id,
            at,
            "create_user",
            &userid,
            &[
                ("Name", &name),
                ("Department", &dept),
                ("MainDepartment", &dept),
                ("Position", &staff.position),
                ("Gender", &gender),
                ("Status", "1"),
            ],
        );
        self.world.staff_index.insert(userid, self.world.staff.len());
        self.world.staff.push(staff);
        self.push_event(xml, at);
    }

    /// A staff member changes position or moves to another store (`update_user`).
    fn driver_update_staff(&mut self, rng: &mut ChaCha8Rng, at: i64) {
        let active: Vec<usize> = (1..self.world.staff.len()).filter(|&i| self.world.staff[i].status == 1).collect();
        let Some(&si) = active.get(rng.random_range(0..active.len().max(1))) else { return };
        let stores: Vec<u32> = self.world.departments.iter().filter(|d| d.store).map(|d| d.id).collect();
        let corp_id = self.cfg.corp_id.clone();
        let s = &mut self.world.staff[si];
        let xml = if rng.random_bool(0.5) && !stores.is_empty() {
            let dept = *pick(rng, &stores);
            if s.department[0] == dept {
                return;
            }
            s.department = vec![dept];
            let dept = dept.to_string();
            events::contact_xml(
                &corp_id,
                at,
                "update_user",
                &s.userid,
                &[("Department", &dept), ("MainDepartment", &dept)],
            )
        } else {
            let position: String = (*pick(rng, STORE_POSITIONS)).into();
            if s.position == position {
                return;
            }
            s.position = position;
            events::contact_xml(&corp_id, at, "update_user", &s.userid, &[("Position", &s.position)])
        };
        self.push_event(xml, at);
    }

    /// A staff member leaves the corp (`delete_user`): their groups wait for 离职继承 (status 1); their
    /// customers keep the follow entry, as in WeCom until the handover.
    fn driver_delete_staff(&mut self, rng: &mut ChaCha8Rng, at: i64) {
        // The first staff member (the corp's admin) never leaves.
        let active: Vec<usize> = (1..self.world.staff.len()).filter(|&i| self.world.staff[i].status == 1).collect();
        let Some(&si) = active.get(rng.random_range(0..active.len().max(1))) else { return };
        self.world.staff[si].status = 5;
        let userid = self.world.staff[si].userid.clone();
        for g in self.world.groups.iter_mut().filter(|g| g.owner == userid && !g.dismissed) {
            g.status = 1;
        }
        let xml = events::contact_xml(&self.cfg.corp_id, at, "delete_user", &userid, &[]);
        self.push_event(xml, at);
    }

    /// A group drawn by activity weight (dismissed groups are skipped).
    fn weighted_group(&mut self, d: &mut Driver) -> Option<usize> {
        if d.cumulative.len() != self.world.groups.len() {
            let mut acc = 0.0;
            d.cumulative = self
                .world
                .groups
                .iter()
                .map(|g| {
                    acc += g.activity.max(0.0);
                    acc
                })
                .collect();
        }
        let total = *d.cumulative.last()?;
        if total <= 0.0 {
            return None;
        }
        for _ in 0..8 {
            let x = d.rng.random_range(0.0..total);
            let gi = d.cumulative.partition_point(|&c| c <= x).min(d.cumulative.len() - 1);
            if !self.world.groups[gi].dismissed {
                return Some(gi);
            }
        }
        None
    }

    /// One member of a busy group says something.
    fn group_message(&mut self, d: &mut Driver, at_ms: i64) {
        let Some(gi) = self.weighted_group(d) else { return };
        let g = &self.world.groups[gi];
        let customers: Vec<&Member> = g.members.iter().filter(|m| m.kind == 2).collect();
        let from = if !customers.is_empty() && d.rng.random_bool(0.75) {
            pick(&mut d.rng, &customers).userid.clone()
        } else {
            pick(&mut d.rng, &g.members).userid.clone()
        };
        let content = (*pick(&mut d.rng, CHATTER)).to_string();
        self.archive_message(&mut d.rng, gi, &from, content, at_ms);
    }

    /// A customer posts the same advert 5–15 times, 1.5 s apart.
    fn spam_burst(&mut self, d: &mut Driver, at_ms: i64) {
        let Some(gi) = self.weighted_group(d) else { return };
        let customers: Vec<String> =
            self.world.groups[gi].members.iter().filter(|m| m.kind == 2).map(|m| m.userid.clone()).collect();
        if customers.is_empty() {
            return;
        }
        let from = pick(&mut d.rng, &customers).clone();
        let content = (*pick(&mut d.rng, SPAM)).to_string();
        for i in 0..d.rng.random_range(5..=15) {
            self.archive_message(&mut d.rng, gi, &from, content.clone(), at_ms + i * 1500);
        }
    }

    /// Records a text message in group `gi` into the chat archive and the group's statistics.
    fn archive_message(&mut self, rng: &mut ChaCha8Rng, gi: usize, from: &str, content: String, at_ms: i64) {
        let g = &self.world.groups[gi];
        let tolist = g.members.iter().filter(|m| m.userid != from).map(|m| m.userid.clone()).collect();
        let record = ChatRecord {
            seq: 0,
            msgid: format!("{}_{}", rng.random::<u64>(), at_ms.div_euclid(1000)),
            action: "send".into(),
            from: from.to_string(),
            tolist,
            roomid: g.chat_id.clone(),
            msgtime: at_ms,
            msgtype: "text".into(),
            text: Some(ChatText { content }),
        };
        self.feeds.record_message(record);
    }

    /// A customer buys in a store: the follow user's store when they work in one, else any store.
    fn place_order(&mut self, rng: &mut ChaCha8Rng, at_ms: i64) {
        let stores: Vec<u32> = self.world.departments.iter().filter(|d| d.store).map(|d| d.id).collect();
        if stores.is_empty() || self.world.customers.is_empty() {
            return;
        }
        let Some(ci) = (0..8)
            .map(|_| rng.random_range(0..self.world.customers.len()))
            .find(|&ci| !self.world.customers[ci].follow.is_empty())
        else {
            return;
        };
        let c = &self.world.customers[ci];
        let follow = pick(rng, &c.follow);
        let staff_dept = self.world.staff(&follow.userid).map(|s| s.department[0]);
        let store_id = staff_dept.filter(|d| stores.contains(d)).unwrap_or_else(|| *pick(rng, &stores));
        let store_name =
            self.world.departments.iter().find(|d| d.id == store_id).map(|d| d.name.clone()).unwrap_or_default();
        // Heavy-tailed basket from ¥39, in whole yuan, capped at ¥5,000.
        let amount_fen = ((pareto(rng, 39.0, 1.6).min(5_000.0)) as i64) * 100;
        let order = Order {
            seq: 0,
            order_id: format!("SO{}{:06}", at_ms.div_euclid(1000), rng.random_range(0..1_000_000u32)),
            external_userid: c.external_userid.clone(),
            unionid: c.unionid.clone(),
            phone: phone_of(&c.external_userid),
            amount_fen,
            store_id,
            store_name,
            userid: follow.userid.clone(),
            paid_at: at_ms.div_euclid(1000),
        };
        self.feeds.record_order(order);
    }
}

/// A new WeChat customer who added `userid` (through a way with `state`, possibly empty) at `at` (seconds).
pub(crate) fn fresh_customer(rng: &mut impl Rng, userid: &str, state: &str, at: i64) -> Customer {
    let external_userid = random_id(rng, "wm", 30);
    Customer {
        name: nickname(rng),
        kind: 1,
        gender: rng.random_range(0..=2),
        unionid: random_id(rng, "o", 27),
        corp_name: String::new(),
        follow: vec![Follow {
            userid: userid.to_string(),
            remark: String::new(),
            description: String::new(),
            createtime: at,
            add_way: 1,
            state: state.to_string(),
            oper_userid: external_userid.clone(),
            tags: Vec::new(),
        }],
        external_userid,
    }
}

/// The mobile number a customer gives at the till: a stable function of the customer (FNV-1a of the id).
pub(crate) fn phone_of(external_userid: &str) -> String {
    let h =
        external_userid.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    format!("1{}{:08}", 30 + h % 70, (h >> 8) % 100_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_are_stable_and_look_like_mobiles() {
        let p = phone_of("wmABC");
        assert_eq!(p, phone_of("wmABC"));
        assert_eq!(p.len(), 11);
        assert!(p.starts_with('1') && p.chars().all(|c| c.is_ascii_digit()));
        assert_ne!(p, phone_of("wmABD"));
    }

    #[test]
    fn zero_rate_never_arrives() {
        let d = Driver::new(ActivityConfig { rate: 0.0, ..ActivityConfig::default() }, 1_000);
        assert_eq!(d.next_at_ms, i64::MAX);
    }
}
