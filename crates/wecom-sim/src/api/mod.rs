//! The WeCom APIs: argument checks with WeCom's errcodes, and answers with WeCom's field names.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value, json};

use crate::groupmsg::{ChatType, GroupMsg, Recipient, Task};
use crate::sim::{Delivered, State, Way};
use crate::world::{Customer, Follow, GroupChat, Tag, TagGroup, random_id};

mod archive;
mod media;
mod stats;

/// A WeCom logical error (answered with HTTP 200 and this errcode).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("errcode {code}: {msg}")]
pub struct ApiError {
    /// `errcode`.
    pub code: i64,
    /// The start of `errmsg` (WeCom appends a hint and a link).
    pub msg: String,
}

impl ApiError {
    pub(crate) fn new(code: i64, msg: impl Into<String>) -> Self {
        ApiError { code, msg: msg.into() }
    }

    pub(crate) fn to_json(&self) -> Value {
        json!({
            "errcode": self.code,
            "errmsg": format!(
                "{}, hint: [sim], from ip: 127.0.0.1, more info at https://open.work.weixin.qq.com/devtool/query?e={}",
                self.msg, self.code
            ),
        })
    }
}

fn err(code: i64, msg: &str) -> ApiError {
    ApiError::new(code, msg)
}

fn invalid(what: &str) -> ApiError {
    ApiError::new(40058, format!("invalid parameter: {what}"))
}

type R = Result<Value, ApiError>;

/// One request's parameters.
pub(crate) struct Req<'a> {
    pub query: &'a HashMap<String, String>,
    pub body: &'a Value,
    /// The body as received (multipart uploads), with its content type.
    pub raw: &'a [u8],
    pub content_type: Option<&'a str>,
    pub now_ms: i64,
}

impl Req<'_> {
    fn now(&self) -> i64 {
        self.now_ms.div_euclid(1000)
    }

    fn q(&self, k: &str) -> Option<&str> {
        self.query.get(k).map(String::as_str)
    }

    fn field(&self, k: &str) -> Option<&Value> {
        self.body.get(k).filter(|v| !v.is_null())
    }

    fn s(&self, k: &str) -> Result<Option<&str>, ApiError> {
        match self.field(k) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(invalid(k)),
        }
    }

    fn i(&self, k: &str) -> Result<Option<i64>, ApiError> {
        match self.field(k) {
            None => Ok(None),
            Some(v) => v.as_i64().map(Some).ok_or_else(|| invalid(k)),
        }
    }

    fn b(&self, k: &str) -> Result<Option<bool>, ApiError> {
        match self.field(k) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(v) => v.as_i64().map(|n| Some(n != 0)).ok_or_else(|| invalid(k)),
        }
    }

    fn strs(&self, k: &str) -> Result<Vec<String>, ApiError> {
        strs_of(self.field(k), k)
    }

    fn limit(&self, default: i64, max: i64) -> Result<usize, ApiError> {
        match self.i("limit")? {
            None => Ok(default as usize),
            Some(n) if (1..=max).contains(&n) => Ok(n as usize),
            Some(_) => Err(invalid("limit")),
        }
    }

    fn cursor(&self) -> Result<u64, ApiError> {
        dec_cursor(self.s("cursor")?.unwrap_or(""))
    }
}

fn strs_of(v: Option<&Value>, k: &str) -> Result<Vec<String>, ApiError> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(a)) => a.iter().map(|x| x.as_str().map(str::to_string).ok_or_else(|| invalid(k))).collect(),
        Some(_) => Err(invalid(k)),
    }
}

const CURSOR_SALT: u64 = 0x9E37_79B9_7F4A_7C15;

fn enc_cursor(n: u64) -> String {
    format!("{:016x}", n ^ CURSOR_SALT)
}

fn dec_cursor(s: &str) -> Result<u64, ApiError> {
    if s.is_empty() {
        return Ok(0);
    }
    if s.len() != 16 {
        return Err(err(50100, "invalid cursor"));
    }
    u64::from_str_radix(s, 16).map(|v| v ^ CURSOR_SALT).map_err(|_| err(50100, "invalid cursor"))
}

fn pair(a: usize, b: usize) -> u64 {
    ((a as u64) << 32) | (b as u64 & 0xFFFF_FFFF)
}

fn unpair(n: u64) -> (usize, usize) {
    ((n >> 32) as usize, (n & 0xFFFF_FFFF) as usize)
}

const APIS: &[&str] = &[
    "gettoken",
    "department/simplelist",
    "user/list_id",
    "user/get",
    "externalcontact/list",
    "externalcontact/get",
    "externalcontact/batch/get_by_user",
    "externalcontact/get_follow_user_list",
    "externalcontact/get_corp_tag_list",
    "externalcontact/add_corp_tag",
    "externalcontact/edit_corp_tag",
    "externalcontact/del_corp_tag",
    "externalcontact/mark_tag",
    "externalcontact/groupchat/list",
    "externalcontact/groupchat/get",
    "externalcontact/groupchat/statistic",
    "externalcontact/groupchat/statistic_group_by_day",
    "externalcontact/groupchat/add_join_way",
    "externalcontact/groupchat/get_join_way",
    "externalcontact/groupchat/update_join_way",
    "externalcontact/groupchat/del_join_way",
    "externalcontact/add_contact_way",
    "externalcontact/get_contact_way",
    "externalcontact/add_msg_template",
    "externalcontact/get_groupmsg_list_v2",
    "externalcontact/get_groupmsg_task",
    "externalcontact/get_groupmsg_send_result",
    "externalcontact/remind_groupmsg_send",
    "externalcontact/cancel_groupmsg_send",
    "externalcontact/group_welcome_template/add",
    "externalcontact/group_welcome_template/edit",
    "externalcontact/group_welcome_template/get",
    "externalcontact/group_welcome_template/del",
    "externalcontact/send_welcome_msg",
    "message/send",
    "webhook/send",
    "get_jsapi_ticket",
    "ticket/get",
    "auth/getuserinfo",
    "user/getuserinfo",
    "media/upload",
    "media/uploadimg",
    "sim/finance/chatdata",
];

pub(crate) fn is_known(api: &str) -> bool {
    APIS.contains(&api)
}

impl State {
    pub(crate) fn call(&mut self, api: &str, r: &Req) -> R {
        match api {
            "gettoken" => self.gettoken(r),
            "department/simplelist" => self.department_simplelist(r),
            "user/list_id" => self.user_list_id(r),
            "user/get" => self.user_get(r),
            "externalcontact/list" => self.ec_list(r),
            "externalcontact/get" => self.ec_get(r),
            "externalcontact/batch/get_by_user" => self.ec_batch(r),
            "externalcontact/get_follow_user_list" => self.follow_user_list(),
            "externalcontact/get_corp_tag_list" => self.tag_list(r),
            "externalcontact/add_corp_tag" => self.tag_add(r),
            "externalcontact/edit_corp_tag" => self.tag_edit(r),
            "externalcontact/del_corp_tag" => self.tag_del(r),
            "externalcontact/mark_tag" => self.mark_tag(r),
            "externalcontact/groupchat/list" => self.groupchat_list(r),
            "externalcontact/groupchat/get" => self.groupchat_get(r),
            "externalcontact/groupchat/statistic" => self.groupchat_statistic(r),
            "externalcontact/groupchat/statistic_group_by_day" => self.groupchat_statistic_by_day(r),
            "media/upload" => self.media_upload(r),
            "media/uploadimg" => self.media_uploadimg(r),
            "sim/finance/chatdata" => self.chatdata(r),
            "externalcontact/groupchat/add_join_way" => self.add_join_way(r),
            "externalcontact/groupchat/get_join_way" => self.get_way(r, true),
            "externalcontact/groupchat/update_join_way" => self.update_join_way(r),
            "externalcontact/groupchat/del_join_way" => self.del_join_way(r),
            "externalcontact/add_contact_way" => self.add_contact_way(r),
            "externalcontact/get_contact_way" => self.get_way(r, false),
            "externalcontact/add_msg_template" => self.add_msg_template(r),
            "externalcontact/get_groupmsg_list_v2" => self.groupmsg_list(r),
            "externalcontact/get_groupmsg_task" => self.groupmsg_task(r),
            "externalcontact/get_groupmsg_send_result" => self.groupmsg_result(r),
            "externalcontact/remind_groupmsg_send" => self.groupmsg_remind(r),
            "externalcontact/cancel_groupmsg_send" => self.groupmsg_cancel(r),
            "externalcontact/group_welcome_template/add" => self.welcome_tpl_add(r),
            "externalcontact/group_welcome_template/edit" => self.welcome_tpl_edit(r),
            "externalcontact/group_welcome_template/get" => self.welcome_tpl_get(r),
            "externalcontact/group_welcome_template/del" => self.welcome_tpl_del(r),
            "externalcontact/send_welcome_msg" => self.send_welcome_msg(r),
            "message/send" => self.message_send(r),
            "webhook/send" => self.webhook_send(r),
            "get_jsapi_ticket" => Ok(self.ticket(false, r.now_ms)),
            "ticket/get" => match r.q("type") {
                Some("agent_config") => Ok(self.ticket(true, r.now_ms)),
                _ => Err(invalid("type")),
            },
            "auth/getuserinfo" | "user/getuserinfo" => self.getuserinfo(r, api == "user/getuserinfo"),
            _ => Err(err(48002, "api forbidden")),
        }
    }

    fn gettoken(&mut self, r: &Req) -> R {
        let corpid = r.q("corpid").filter(|s| !s.is_empty()).ok_or_else(|| err(41002, "corpid missing"))?;
        let secret = r.q("corpsecret").filter(|s| !s.is_empty()).ok_or_else(|| err(41004, "corpsecret missing"))?;
        if corpid != self.cfg.corp_id {
            return Err(err(40013, "invalid corpid"));
        }
        if !self.cfg.corp_secrets.iter().any(|s| s == secret) {
            return Err(err(40001, "invalid credential"));
        }
        let (tok, expires_in) = self.issue_token(secret, r.now_ms);
        Ok(json!({ "access_token": tok, "expires_in": expires_in }))
    }

    fn department_simplelist(&mut self, r: &Req) -> R {
        let deps = &self.world.departments;
        let root = match r.q("id").filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => {
                let id: u32 = s.parse().map_err(|_| err(60123, "invalid party id"))?;
                if !deps.iter().any(|d| d.id == id) {
                    return Err(err(60123, "invalid party id"));
                }
                Some(id)
            }
        };
        let included: HashSet<u32> = match root {
            None => deps.iter().map(|d| d.id).collect(),
            Some(root) => {
                let mut set = HashSet::from([root]);
                loop {
                    let before = set.len();
                    for d in deps {
                        if set.contains(&d.parentid) {
                            set.insert(d.id);
                        }
                    }
                    if set.len() == before {
                        break set;
                    }
                }
            }
        };
        let list: Vec<Value> = deps
            .iter()
            .filter(|d| included.contains(&d.id))
            .map(|d| json!({ "id": d.id, "parentid": d.parentid, "order": d.order }))
            .collect();
        Ok(json!({ "department_id": list }))
    }

    fn user_list_id(&mut self, r: &Req) -> R {
        let limit = r.limit(10_000, 10_000)?;
        let (mut si, mut di) = unpair(r.cursor()?);
        let mut out = Vec::with_capacity(limit.min(1024));
        let staff = &self.world.staff;
        while si < staff.len() && out.len() < limit {
            let s = &staff[si];
            if s.status == 5 || di >= s.department.len() {
                si += 1;
                di = 0;
                continue;
            }
            out.push(json!({ "userid": s.userid, "department": s.department[di] }));
            di += 1;
        }
        // Skip to the next existing entry so that the last page has an empty cursor.
        while si < staff.len() && (staff[si].status == 5 || di >= staff[si].department.len()) {
            si += 1;
            di = 0;
        }
        let next = if si < staff.len() { enc_cursor(pair(si, di)) } else { String::new() };
        Ok(json!({ "next_cursor": next, "dept_user": out }))
    }

    fn user_get(&mut self, r: &Req) -> R {
        let userid = r.q("userid").filter(|s| !s.is_empty()).ok_or_else(|| err(41009, "missing userid"))?;
        let s = self.world.staff(userid).ok_or_else(|| err(60111, "userid not found"))?;
        Ok(json!({
            "userid": s.userid,
            "name": s.name,
            "department": s.department,
            "order": s.department.iter().map(|_| 0).collect::<Vec<_>>(),
            "position": s.position,
            "mobile": s.mobile,
            "gender": s.gender.to_string(),
            "email": "",
            "is_leader_in_dept": s.department.iter().map(|_| u8::from(s.position == "店长")).collect::<Vec<_>>(),
            "direct_leader": [],
            "avatar": format!("https://wework.qpic.cn/wwhead/sim_{}/0", s.userid),
            "thumb_avatar": format!("https://wework.qpic.cn/wwhead/sim_{}/100", s.userid),
            "telephone": "",
            "alias": "",
            "status": s.status,
            "main_department": s.department[0],
            "qr_code": format!("https://open.work.weixin.qq.com/wwopen/userQRCode?vcode=sim{}", s.userid),
            "external_position": s.position,
        }))
    }

    fn user_for_customer_api(&self, userid: &str) -> Result<(), ApiError> {
        match self.world.staff(userid) {
            None => Err(err(40003, "invalid userid")),
            Some(_) => Ok(()),
        }
    }

    fn ec_list(&mut self, r: &Req) -> R {
        let userid = r.q("userid").filter(|s| !s.is_empty()).ok_or_else(|| err(41009, "missing userid"))?;
        self.user_for_customer_api(userid)?;
        let ids: Vec<&str> = self
            .world
            .customers_of(userid)
            .map(|set| set.iter().map(|&i| self.world.customers[i as usize].external_userid.as_str()).collect())
            .unwrap_or_default();
        if ids.is_empty() {
            return Err(err(84061, "not external contact"));
        }
        Ok(json!({ "external_userid": ids }))
    }

    fn contact_json(&self, c: &Customer) -> Value {
        let mut m = Map::new();
        m.insert("external_userid".into(), json!(c.external_userid));
        m.insert("name".into(), json!(c.name));
        m.insert(
            "avatar".into(),
            json!(format!("http://wx.qlogo.cn/mmhead/sim{}/0", &c.external_userid[2..8.min(c.external_userid.len())])),
        );
        m.insert("type".into(), json!(c.kind));
        m.insert("gender".into(), json!(c.gender));
        if !c.unionid.is_empty() {
            m.insert("unionid".into(), json!(c.unionid));
        }
        if c.kind == 2 {
            m.insert("corp_name".into(), json!(c.corp_name));
            m.insert("corp_full_name".into(), json!(format!("{}有限公司", c.corp_name)));
            m.insert("position".into(), json!("经理"));
        }
        Value::Object(m)
    }

    fn tag_meta(&self) -> HashMap<&str, (&str, &str)> {
        let mut m = HashMap::new();
        for g in &self.world.tag_groups {
            for t in &g.tags {
                m.insert(t.id.as_str(), (g.group_name.as_str(), t.name.as_str()));
            }
        }
        m
    }

    fn follow_json(&self, f: &Follow, batch: bool, tags: &HashMap<&str, (&str, &str)>) -> Value {
        let mut m = Map::new();
        m.insert("userid".into(), json!(f.userid));
        m.insert("remark".into(), json!(f.remark));
        m.insert("description".into(), json!(f.description));
        m.insert("createtime".into(), json!(f.createtime));
        if batch {
            m.insert("tag_id".into(), json!(f.tags));
        } else {
            let t: Vec<Value> = f
                .tags
                .iter()
                .filter_map(|id| tags.get(id.as_str()).map(|(g, n)| (id, g, n)))
                .map(|(id, g, n)| json!({ "group_name": g, "tag_name": n, "tag_id": id, "type": 1 }))
                .collect();
            m.insert("tags".into(), json!(t));
        }
        m.insert("remark_mobiles".into(), json!([]));
        m.insert("oper_userid".into(), json!(f.oper_userid));
        m.insert("add_way".into(), json!(f.add_way));
        if !f.state.is_empty() {
            m.insert("state".into(), json!(f.state));
        }
        Value::Object(m)
    }

    fn ec_get(&mut self, r: &Req) -> R {
        let id =
            r.q("external_userid").filter(|s| !s.is_empty()).ok_or_else(|| err(41035, "missing external userid"))?;
        let c = self.world.customer(id).ok_or_else(|| err(40096, "invalid external userid"))?;
        if c.follow.is_empty() {
            return Err(err(84061, "not external contact"));
        }
        const PAGE: usize = 500;
        let start = dec_cursor(r.q("cursor").unwrap_or(""))? as usize;
        let tags = self.tag_meta();
        let follow: Vec<Value> =
            c.follow.iter().skip(start).take(PAGE).map(|f| self.follow_json(f, false, &tags)).collect();
        let mut out = json!({ "external_contact": self.contact_json(c), "follow_user": follow });
        if start + PAGE < c.follow.len() {
            out["next_cursor"] = json!(enc_cursor((start + PAGE) as u64));
        }
        Ok(out)
    }

    fn ec_batch(&mut self, r: &Req) -> R {
        let users = r.strs("userid_list")?;
        if users.is_empty() || users.len() > 100 {
            return Err(invalid("userid_list"));
        }
        for u in &users {
            self.user_for_customer_api(u)?;
        }
        let limit = r.limit(50, 100)?;
        let (mut ui, mut ci) = unpair(r.cursor()?);
        let tags = self.tag_meta();
        let mut out = Vec::with_capacity(limit);
        let mut next = String::new();
        'outer: while ui < users.len() {
            if let Some(set) = self.world.customers_of(&users[ui]) {
                for &idx in set.range(ci as u32..) {
                    if out.len() == limit {
                        next = enc_cursor(pair(ui, idx as usize));
                        break 'outer;
                    }
                    let c = &self.world.customers[idx as usize];
                    if let Some(f) = c.follow.iter().find(|f| f.userid == users[ui]) {
                        out.push(json!({ "external_contact": self.contact_json(c), "follow_info": self.follow_json(f, true, &tags) }));
                    }
                }
            }
            ui += 1;
            ci = 0;
        }
        Ok(json!({ "external_contact_list": out, "next_cursor": next }))
    }

    fn follow_user_list(&mut self) -> R {
        let list: Vec<&str> = self
            .world
            .staff
            .iter()
            .filter(|s| s.customer_contact && s.status == 1)
            .map(|s| s.userid.as_str())
            .collect();
        Ok(json!({ "follow_user": list }))
    }

    fn tag_group_json(g: &TagGroup, only: Option<&HashSet<String>>) -> Value {
        let tags: Vec<Value> = g
            .tags
            .iter()
            .filter(|t| only.is_none_or(|o| o.contains(&t.id)))
            .map(|t| json!({ "id": t.id, "name": t.name, "create_time": t.create_time, "order": t.order, "deleted": false }))
            .collect();
        json!({ "group_id": g.group_id, "group_name": g.group_name, "create_time": g.create_time, "order": g.order,
                "deleted": false, "tag": tags })
    }

    fn tag_list(&mut self, r: &Req) -> R {
        let tag_ids = r.strs("tag_id")?;
        let group_ids = r.strs("group_id")?;
        let groups: Vec<Value> = if !group_ids.is_empty() {
            self.world
                .tag_groups
                .iter()
                .filter(|g| group_ids.contains(&g.group_id))
                .map(|g| Self::tag_group_json(g, None))
                .collect()
        } else if !tag_ids.is_empty() {
            let only: HashSet<String> = tag_ids.into_iter().collect();
            self.world
                .tag_groups
                .iter()
                .filter(|g| g.tags.iter().any(|t| only.contains(&t.id)))
                .map(|g| Self::tag_group_json(g, Some(&only)))
                .collect()
        } else {
            self.world.tag_groups.iter().map(|g| Self::tag_group_json(g, None)).collect()
        };
        Ok(json!({ "tag_group": groups }))
    }

    fn tag_count(&self) -> usize {
        self.world.tag_groups.iter().map(|g| g.tags.len()).sum()
    }

    fn tag_add(&mut self, r: &Req) -> R {
        let now = r.now();
        let group_id = r.s("group_id")?.filter(|s| !s.is_empty()).map(str::to_string);
        let group_name = r.s("group_name")?.filter(|s| !s.is_empty()).map(str::to_string);
        let order = r.i("order")?.unwrap_or(0);
        let Some(Value::Array(tags)) = r.field("tag") else { return Err(invalid("tag")) };
        if tags.is_empty() {
            return Err(invalid("tag"));
        }
        let mut new = Vec::new();
        for t in tags {
            let name = t
                .get("name")
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty())
                .ok_or_else(|| err(40072, "invalid tag name length"))?;
            if name.chars().count() > 30 {
                return Err(err(40072, "invalid tag name length"));
            }
            let order = match t.get("order") {
                None | Some(Value::Null) => 0,
                Some(v) => v.as_i64().ok_or_else(|| invalid("tag.order"))?,
            };
            if new.iter().any(|(n, _): &(String, i64)| n == name) {
                return Err(err(40071, "tag name exists"));
            }
            new.push((name.to_string(), order));
        }
        if self.tag_count() + new.len() > 10_000 {
            return Err(err(40126, "corp tag count limit"));
        }
        let gi = if let Some(gid) = group_id {
            self.world.tag_groups.iter().position(|g| g.group_id == gid).ok_or_else(|| err(40068, "invalid tagid"))?
        } else if let Some(gname) = group_name {
            match self.world.tag_groups.iter().position(|g| g.group_name == gname) {
                Some(i) => i,
                None => {
                    let group_id = random_id(&mut self.rng, "et", 22);
                    self.world.tag_groups.push(TagGroup {
                        group_id,
                        group_name: gname,
                        create_time: now,
                        order,
                        tags: vec![],
                    });
                    self.world.tag_groups.len() - 1
                }
            }
        } else {
            return Err(invalid("group_id or group_name"));
        };
        if new.iter().any(|(n, _)| self.world.tag_groups[gi].tags.iter().any(|t| &t.name == n)) {
            return Err(err(40071, "tag name exists"));
        }
        let mut added = Vec::new();
        for (name, order) in new {
            let id = random_id(&mut self.rng, "et", 22);
            let t = Tag { id, name, create_time: now, order };
            added.push(t.id.clone());
            self.world.tag_groups[gi].tags.push(t);
        }
        let only: HashSet<String> = added.into_iter().collect();
        Ok(json!({ "tag_group": Self::tag_group_json(&self.world.tag_groups[gi], Some(&only)) }))
    }

    fn tag_edit(&mut self, r: &Req) -> R {
        let id = r.s("id")?.filter(|s| !s.is_empty()).ok_or_else(|| err(41017, "missing tagid"))?.to_string();
        let name = r.s("name")?.map(str::to_string);
        let order = r.i("order")?;
        if let Some(n) = &name
            && (n.is_empty() || n.chars().count() > 30)
        {
            return Err(err(40072, "invalid tag name length"));
        }
        if let Some(g) = self.world.tag_groups.iter_mut().find(|g| g.group_id == id) {
            if let Some(n) = name {
                g.group_name = n;
            }
            if let Some(o) = order {
                g.order = o;
            }
            return Ok(json!({}));
        }
        for g in &mut self.world.tag_groups {
            if let Some(ti) = g.tags.iter().position(|t| t.id == id) {
                if let Some(n) = &name
                    && g.tags.iter().any(|t| &t.name == n && t.id != id)
                {
                    return Err(err(40071, "tag name exists"));
                }
                let t = &mut g.tags[ti];
                if let Some(n) = name {
                    t.name = n;
                }
                if let Some(o) = order {
                    t.order = o;
                }
                return Ok(json!({}));
            }
        }
        Err(err(40068, "invalid tagid"))
    }

    fn tag_del(&mut self, r: &Req) -> R {
        let tag_ids = r.strs("tag_id")?;
        let group_ids = r.strs("group_id")?;
        if tag_ids.is_empty() && group_ids.is_empty() {
            return Err(err(41017, "missing tagid"));
        }
        let known_tags: HashSet<&str> =
            self.world.tag_groups.iter().flat_map(|g| g.tags.iter().map(|t| t.id.as_str())).collect();
        let known_groups: HashSet<&str> = self.world.tag_groups.iter().map(|g| g.group_id.as_str()).collect();
        if tag_ids.iter().any(|t| !known_tags.contains(t.as_str()))
            || group_ids.iter().any(|g| !known_groups.contains(g.as_str()))
        {
            return Err(err(40068, "invalid tagid"));
        }
        let mut removed: HashSet<String> = tag_ids.into_iter().collect();
        for g in &self.world.tag_groups {
            if group_ids.contains(&g.group_id) {
                removed.extend(g.tags.iter().map(|t| t.id.clone()));
            }
        }
        for g in &mut self.world.tag_groups {
            g.tags.retain(|t| !removed.contains(&t.id));
        }
        // A group whose tags are all deleted is deleted with them.
        self.world.tag_groups.retain(|g| !g.tags.is_empty() && !group_ids.contains(&g.group_id));
        for c in &mut self.world.customers {
            for f in &mut c.follow {
                if !f.tags.is_empty() {
                    f.tags.retain(|t| !removed.contains(t));
                }
            }
        }
        Ok(json!({}))
    }

    fn mark_tag(&mut self, r: &Req) -> R {
        let userid = r.s("userid")?.filter(|s| !s.is_empty()).ok_or_else(|| err(41009, "missing userid"))?;
        let ext =
            r.s("external_userid")?.filter(|s| !s.is_empty()).ok_or_else(|| err(41035, "missing external userid"))?;
        let add = r.strs("add_tag")?;
        let remove = r.strs("remove_tag")?;
        if add.is_empty() && remove.is_empty() {
            return Err(invalid("add_tag and remove_tag are both empty"));
        }
        self.user_for_customer_api(userid)?;
        let ci = self.world.customer_idx(ext).ok_or_else(|| err(40096, "invalid external userid"))?;
        let known: HashSet<&str> =
            self.world.tag_groups.iter().flat_map(|g| g.tags.iter().map(|t| t.id.as_str())).collect();
        if add.iter().chain(&remove).any(|t| !known.contains(t.as_str())) {
            return Err(err(40068, "invalid tagid"));
        }
        let f = self.world.customers[ci]
            .follow
            .iter_mut()
            .find(|f| f.userid == userid)
            .ok_or_else(|| err(84061, "not external contact"))?;
        f.tags.retain(|t| !remove.contains(t));
        for t in add {
            if !f.tags.contains(&t) {
                f.tags.push(t);
            }
        }
        Ok(json!({}))
    }

    fn owner_filter(&self, r: &Req) -> Result<Option<HashSet<String>>, ApiError> {
        match r.field("owner_filter") {
            None => Ok(None),
            Some(Value::Object(o)) => {
                let list = strs_of(o.get("userid_list"), "owner_filter.userid_list")?;
                if list.len() > 100 {
                    return Err(invalid("owner_filter.userid_list"));
                }
                Ok(if list.is_empty() { None } else { Some(list.into_iter().collect()) })
            }
            Some(_) => Err(invalid("owner_filter")),
        }
    }

    fn groupchat_list(&mut self, r: &Req) -> R {
        let limit = match r.i("limit")? {
            Some(n) if (1..=1000).contains(&n) => n as usize,
            _ => return Err(invalid("limit")),
        };
        // WeCom: 0 (the default) lists every group; 1–3 select one 离职继承 state.
        let status = r.i("status_filter")?.unwrap_or(0);
        if !(0..=3).contains(&status) {
            return Err(invalid("status_filter"));
        }
        let owners = self.owner_filter(r)?;
        let start = r.cursor()? as usize;
        let mut out = Vec::new();
        let mut next = String::new();
        for (i, g) in self.world.groups.iter().enumerate().skip(start) {
            if g.dismissed
                || (status != 0 && i64::from(g.status) != status)
                || owners.as_ref().is_some_and(|o| !o.contains(&g.owner))
            {
                continue;
            }
            if out.len() == limit {
                next = enc_cursor(i as u64);
                break;
            }
            out.push(json!({ "chat_id": g.chat_id, "status": g.status }));
        }
        Ok(json!({ "group_chat_list": out, "next_cursor": next }))
    }

    fn member_name(&self, userid: &str, kind: u8) -> String {
        if kind == 1 {
            self.world.staff_index.get(userid).map(|&i| self.world.staff[i].name.clone()).unwrap_or_default()
        } else {
            self.world.customer(userid).map(|c| c.name.clone()).unwrap_or_default()
        }
    }

    fn groupchat_get(&mut self, r: &Req) -> R {
        let chat_id = r.s("chat_id")?.filter(|s| !s.is_empty()).ok_or_else(|| invalid("chat_id"))?;
        let need_name = r.i("need_name")?.unwrap_or(0) == 1;
        let gi = self.world.group_index.get(chat_id).copied().ok_or_else(|| err(40050, "chatid not found"))?;
        let g: &GroupChat = &self.world.groups[gi];
        if g.dismissed {
            return Err(err(49008, "chat dismissed"));
        }
        let members: Vec<Value> = g
            .members
            .iter()
            .map(|m| {
                let mut o = Map::new();
                o.insert("userid".into(), json!(m.userid));
                o.insert("type".into(), json!(m.kind));
                if m.kind == 2
                    && let Some(c) = self.world.customer(&m.userid)
                    && !c.unionid.is_empty()
                {
                    o.insert("unionid".into(), json!(c.unionid));
                }
                o.insert("join_time".into(), json!(m.join_time));
                o.insert("join_scene".into(), json!(m.join_scene));
                if !m.invitor.is_empty() {
                    o.insert("invitor".into(), json!({ "userid": m.invitor }));
                }
                o.insert("group_nickname".into(), json!(m.group_nickname));
                if need_name {
                    o.insert("name".into(), json!(self.member_name(&m.userid, m.kind)));
                }
                if !m.state.is_empty() {
                    o.insert("state".into(), json!(m.state));
                }
                Value::Object(o)
            })
            .collect();
        let admins: Vec<Value> = g.admins.iter().map(|a| json!({ "userid": a })).collect();
        Ok(json!({ "group_chat": {
            "chat_id": g.chat_id, "name": g.name, "owner": g.owner, "create_time": g.create_time,
            "notice": g.notice, "member_list": members, "admin_list": admins,
            "member_version": format!("{:x}", g.members.len() as u64 * 7919 + g.create_time as u64),
        }}))
    }

    /// The groups and `state` of an `add_join_way` / `update_join_way` body, checked as WeCom does.
    fn checked_join_way(&self, r: &Req) -> Result<(Vec<String>, String), ApiError> {
        let scene = r.i("scene")?.ok_or_else(|| invalid("scene"))?;
        if scene != 1 && scene != 2 {
            return Err(invalid("scene"));
        }
        let chats = r.strs("chat_id_list")?;
        if chats.is_empty() || chats.len() > 5 {
            return Err(invalid("chat_id_list"));
        }
        if let Some(c) = chats.iter().find(|c| self.world.group(c).is_none()) {
            return Err(ApiError::new(40050, format!("chatid not found: {c}")));
        }
        let state = r.s("state")?.unwrap_or("").to_string();
        if state.chars().count() > 30 {
            return Err(invalid("state"));
        }
        r.s("remark")?;
        r.b("auto_create_room")?;
        Ok((chats, state))
    }

    fn add_join_way(&mut self, r: &Req) -> R {
        let (chats, state) = self.checked_join_way(r)?;
        let config_id = random_id(&mut self.rng, "", 32).to_lowercase();
        let qr_code = format!("https://wework.qpic.cn/wwpic/sim_join_{config_id}/0");
        self.join_ways.insert(config_id.clone(), Way { request: r.body.clone(), state, targets: chats, qr_code });
        Ok(json!({ "config_id": config_id }))
    }

    /// `update_join_way`: replaces the whole configuration (WeCom updates "by overwriting"; fields left out take
    /// their defaults), keeping the config_id and QR code. A missing (41043) or unknown (41044) config_id is
    /// refused with `get_join_way`'s errcodes (WeCom's docs do not list this API's own; the simulator guesses).
    fn update_join_way(&mut self, r: &Req) -> R {
        let id = r.s("config_id")?.filter(|s| !s.is_empty()).ok_or_else(|| err(41043, "missing config_id"))?;
        if !self.join_ways.contains_key(id) {
            return Err(err(41044, "invalid config_id"));
        }
        let (chats, state) = self.checked_join_way(r)?;
        let mut request = r.body.clone();
        if let Some(object) = request.as_object_mut() {
            object.remove("config_id");
        }
        if let Some(way) = self.join_ways.get_mut(id) {
            way.request = request;
            way.state = state;
            way.targets = chats;
        }
        Ok(json!({}))
    }

    /// `del_join_way`, with `get_join_way`'s errcodes for a missing (41043) or unknown (41044) config_id.
    fn del_join_way(&mut self, r: &Req) -> R {
        let id = r.s("config_id")?.filter(|s| !s.is_empty()).ok_or_else(|| err(41043, "missing config_id"))?;
        self.join_ways.remove(id).ok_or_else(|| err(41044, "invalid config_id"))?;
        Ok(json!({}))
    }

    fn add_contact_way(&mut self, r: &Req) -> R {
        let kind = r.i("type")?.ok_or_else(|| err(41037, "missing type"))?;
        if kind != 1 && kind != 2 {
            return Err(err(41039, "invalid type"));
        }
        let scene = r.i("scene")?.ok_or_else(|| err(41038, "missing scene"))?;
        if scene != 1 && scene != 2 {
            return Err(err(41040, "invalid scene"));
        }
        let users = r.strs("user")?;
        let party: Vec<i64> = match r.field("party") {
            None => vec![],
            Some(Value::Array(a)) => {
                a.iter().map(|v| v.as_i64().ok_or_else(|| invalid("party"))).collect::<Result<_, _>>()?
            }
            Some(_) => return Err(invalid("party")),
        };
        if users.is_empty() && party.is_empty() {
            return Err(invalid("user"));
        }
        if kind == 1 && (users.len() != 1 || !party.is_empty()) {
            return Err(invalid("user"));
        }
        if users.len() > 100 {
            return Err(err(41041, "too many users"));
        }
        for u in &users {
            match self.world.staff(u) {
                Some(s) if s.customer_contact => {}
                _ => return Err(err(40003, "invalid userid")),
            }
        }
        let mut targets = users;
        for p in party {
            if !self.world.departments.iter().any(|d| i64::from(d.id) == p) {
                return Err(err(60123, "invalid party id"));
            }
            for s in &self.world.staff {
                if s.customer_contact
                    && s.status == 1
                    && s.department.iter().any(|&d| i64::from(d) == p)
                    && !targets.contains(&s.userid)
                {
                    targets.push(s.userid.clone());
                }
            }
        }
        let state = r.s("state")?.unwrap_or("").to_string();
        if state.chars().count() > 30 {
            return Err(invalid("state"));
        }
        r.b("skip_verify")?;
        r.s("remark")?;
        let config_id = random_id(&mut self.rng, "", 32).to_lowercase();
        let qr_code = format!("https://wework.qpic.cn/wwpic/sim_contact_{config_id}/0");
        let mut out = json!({ "config_id": config_id });
        if scene == 2 {
            out["qr_code"] = json!(qr_code);
        }
        self.contact_ways.insert(config_id, Way { request: r.body.clone(), state, targets, qr_code });
        Ok(out)
    }

    fn get_way(&mut self, r: &Req, join: bool) -> R {
        let id = r.s("config_id")?.filter(|s| !s.is_empty()).ok_or_else(|| err(41043, "missing config_id"))?;
        let ways = if join { &self.join_ways } else { &self.contact_ways };
        let w = ways.get(id).ok_or_else(|| err(41044, "invalid config_id"))?;
        let mut obj = w.request.as_object().cloned().unwrap_or_default();
        obj.insert("config_id".into(), json!(id));
        obj.insert("state".into(), json!(w.state));
        let scene = obj.get("scene").and_then(Value::as_i64).unwrap_or(0);
        if scene == 2 {
            obj.insert("qr_code".into(), json!(w.qr_code));
        }
        Ok(if join { json!({ "join_way": obj }) } else { json!({ "contact_way": obj }) })
    }

    fn check_content(r: &Req, max_attachments: usize) -> Result<(Value, Value), ApiError> {
        let text = match r.field("text") {
            None => json!({}),
            Some(Value::Object(o)) => {
                match o.get("content") {
                    None | Some(Value::Null) => {}
                    Some(Value::String(s)) if s.len() <= 4000 => {}
                    Some(Value::String(_)) => return Err(err(45002, "content size out of limit")),
                    Some(_) => return Err(invalid("text.content")),
                }
                Value::Object(o.clone())
            }
            Some(_) => return Err(invalid("text")),
        };
        let attachments = match r.field("attachments") {
            None => json!([]),
            Some(Value::Array(a)) => {
                if a.len() > max_attachments {
                    return Err(invalid("attachments"));
                }
                for att in a {
                    let t = att
                        .get("msgtype")
                        .and_then(Value::as_str)
                        .ok_or_else(|| err(41065, "invalid attachment type"))?;
                    if !["image", "link", "miniprogram", "video", "file"].contains(&t)
                        || att.get(t).is_none_or(|v| !v.is_object())
                    {
                        return Err(err(41065, "invalid attachment type"));
                    }
                }
                Value::Array(a.clone())
            }
            Some(_) => return Err(invalid("attachments")),
        };
        let has_text = text.get("content").and_then(Value::as_str).is_some_and(|s| !s.is_empty());
        if !has_text && attachments.as_array().is_none_or(|a| a.is_empty()) {
            return Err(err(44004, "empty content"));
        }
        Ok((text, attachments))
    }

    /// `add_msg_template`'s media: an image names a `media_id` or a `pic_url`, a mini-program its cover's
    /// `pic_media_id`; a media id must come from `media/upload` and be under 3 days old (40007).
    fn check_media_ids(&self, attachments: &Value, now_ms: i64) -> Result<(), ApiError> {
        let valid = |id: &str| self.media.get(id).is_some_and(|m| m.expires_ms > now_ms);
        for att in attachments.as_array().into_iter().flatten() {
            let field = |kind: &str, name: &str| att.get(kind).and_then(|v| v.get(name)).and_then(Value::as_str);
            let media_id = match att.get("msgtype").and_then(Value::as_str) {
                Some("image") => match (field("image", "media_id"), field("image", "pic_url")) {
                    (Some(id), _) if !id.is_empty() => id,
                    (_, Some(url)) if !url.is_empty() => continue,
                    _ => return Err(invalid("image.media_id")),
                },
                Some("miniprogram") => field("miniprogram", "pic_media_id").unwrap_or_default(),
                _ => continue,
            };
            if !valid(media_id) {
                return Err(err(40007, "invalid media_id"));
            }
        }
        Ok(())
    }

    fn add_msg_template(&mut self, r: &Req) -> R {
        let chat_type = match r.s("chat_type")?.unwrap_or("single") {
            "single" => ChatType::Single,
            "group" => ChatType::Group,
            _ => return Err(invalid("chat_type")),
        };
        let sender = r.s("sender")?.filter(|s| !s.is_empty()).map(str::to_string);
        let (text, attachments) = Self::check_content(r, 9)?;
        self.check_media_ids(&attachments, r.now_ms)?;
        if let Some(s) = &sender {
            self.user_for_customer_api(s)?;
        }
        let mut per_user: Vec<(String, Vec<String>)> = Vec::new();
        let mut fail_list: Vec<String> = Vec::new();
        let push = |per_user: &mut Vec<(String, Vec<String>)>, u: &str, target: String| match per_user
            .iter_mut()
            .find(|(x, _)| x == u)
        {
            Some((_, v)) => v.push(target),
            None => per_user.push((u.to_string(), vec![target])),
        };
        match chat_type {
            ChatType::Single => {
                let ext = r.strs("external_userid")?;
                if ext.len() > 10_000 {
                    return Err(invalid("external_userid"));
                }
                match (&sender, ext.is_empty()) {
                    (None, true) => return Err(invalid("sender and external_userid are both empty")),
                    (Some(s), true) => {
                        let set = self.world.customers_of(s).cloned().unwrap_or_default();
                        for i in set {
                            push(&mut per_user, s, self.world.customers[i as usize].external_userid.clone());
                        }
                    }
                    (sender, false) => {
                        let mut seen = HashSet::new();
                        for e in ext {
                            if !seen.insert(e.clone()) {
                                continue;
                            }
                            let c = self.world.customer(&e);
                            let who = match (sender, c) {
                                (Some(s), Some(c)) => {
                                    c.follow.iter().find(|f| &f.userid == s).map(|f| f.userid.clone())
                                }
                                // Without a sender, the customer's earliest follow user sends it.
                                (None, Some(c)) => c.follow.first().map(|f| f.userid.clone()),
                                (_, None) => None,
                            };
                            match who {
                                Some(u) => push(&mut per_user, &u, e),
                                None => fail_list.push(e),
                            }
                        }
                    }
                }
            }
            ChatType::Group => {
                let Some(s) = &sender else { return Err(invalid("sender")) };
                let chats = r.strs("chat_id_list")?;
                if chats.len() > 2000 {
                    return Err(invalid("chat_id_list"));
                }
                if chats.is_empty() {
                    for g in self.world.groups.iter().filter(|g| !g.dismissed && &g.owner == s) {
                        push(&mut per_user, s, g.chat_id.clone());
                    }
                } else {
                    for c in chats {
                        match self.world.group(&c) {
                            Some(g) if &g.owner == s => push(&mut per_user, s, c),
                            _ => fail_list.push(c),
                        }
                    }
                }
            }
        }
        if per_user.is_empty() {
            return Err(err(41048, "no customer to send"));
        }
        let msgid = random_id(&mut self.rng, "msg", 28);
        let gm = &self.cfg.group_msg;
        let tasks = per_user
            .into_iter()
            .map(|(userid, targets)| Task {
                due_ms: if gm.never_confirm.contains(&userid) {
                    None
                } else {
                    gm.auto_confirm_after_secs.map(|d| r.now() * 1000 + d as i64 * 1000)
                },
                userid,
                status: 0,
                send_time: 0,
                recipients: targets.into_iter().map(|target| Recipient { target, status: 0, send_time: 0 }).collect(),
            })
            .collect();
        self.msg_index.insert(msgid.clone(), self.msgs.len());
        self.msgs.push(GroupMsg {
            msgid: msgid.clone(),
            chat_type,
            sender,
            text,
            attachments,
            create_time: r.now(),
            tasks,
            cancelled: false,
            reminds: Vec::new(),
        });
        // An auto-confirm delay of 0 confirms within the same instant.
        self.run_due_tasks(r.now_ms);
        Ok(json!({ "fail_list": fail_list, "msgid": msgid }))
    }

    fn groupmsg_list(&mut self, r: &Req) -> R {
        let chat_type = match r.s("chat_type")? {
            Some("single") => ChatType::Single,
            Some("group") => ChatType::Group,
            _ => return Err(invalid("chat_type")),
        };
        let start = r.i("start_time")?.ok_or_else(|| invalid("start_time"))?;
        let end = r.i("end_time")?.ok_or_else(|| invalid("end_time"))?;
        if end < start || end - start > 31 * 86_400 {
            return Err(invalid("end_time"));
        }
        let creator = r.s("creator")?.filter(|s| !s.is_empty());
        let filter_type = r.i("filter_type")?.unwrap_or(2);
        if !(0..=2).contains(&filter_type) {
            return Err(invalid("filter_type"));
        }
        let limit = r.limit(50, 100)?;
        let from = r.cursor()? as usize;
        let mut out = Vec::new();
        let mut next = String::new();
        for (i, m) in self.msgs.iter().enumerate().skip(from) {
            // Every message made through the API is a corp message (create_type 0).
            if m.chat_type != chat_type || m.create_time < start || m.create_time > end || filter_type == 1 {
                continue;
            }
            if let Some(c) = creator
                && m.sender.as_deref() != Some(c)
            {
                continue;
            }
            if out.len() == limit {
                next = enc_cursor(i as u64);
                break;
            }
            out.push(json!({ "msgid": m.msgid, "create_time": m.create_time.to_string(), "create_type": 0,
                             "text": m.text, "attachments": m.attachments }));
        }
        Ok(json!({ "group_msg_list": out, "next_cursor": next }))
    }

    fn msg_idx(&self, r: &Req) -> Result<usize, ApiError> {
        let id = r.s("msgid")?.filter(|s| !s.is_empty()).ok_or_else(|| err(41046, "missing msgid"))?;
        self.msg_index.get(id).copied().ok_or_else(|| err(41047, "invalid msgid"))
    }

    fn groupmsg_task(&mut self, r: &Req) -> R {
        let mi = self.msg_idx(r)?;
        let limit = r.limit(500, 1000)?;
        let from = r.cursor()? as usize;
        let tasks = &self.msgs[mi].tasks;
        let list: Vec<Value> = tasks
            .iter()
            .skip(from)
            .take(limit)
            .map(|t| {
                let mut o = json!({ "userid": t.userid, "status": t.status });
                if t.status == 2 {
                    o["send_time"] = json!(t.send_time);
                }
                o
            })
            .collect();
        let next = if from + limit < tasks.len() { enc_cursor((from + limit) as u64) } else { String::new() };
        Ok(json!({ "task_list": list, "next_cursor": next }))
    }

    fn groupmsg_result(&mut self, r: &Req) -> R {
        let mi = self.msg_idx(r)?;
        let userid = r.s("userid")?.filter(|s| !s.is_empty()).ok_or_else(|| err(41009, "missing userid"))?;
        let limit = r.limit(500, 1000)?;
        let from = r.cursor()? as usize;
        let m = &self.msgs[mi];
        let key = if m.chat_type == ChatType::Single { "external_userid" } else { "chat_id" };
        let recipients: &[Recipient] =
            m.tasks.iter().find(|t| t.userid == userid).map(|t| t.recipients.as_slice()).unwrap_or(&[]);
        let list: Vec<Value> = recipients
            .iter()
            .skip(from)
            .take(limit)
            .map(|rc| {
                let mut o = json!({ key: rc.target, "userid": userid, "status": rc.status });
                if rc.status == 1 {
                    o["send_time"] = json!(rc.send_time);
                }
                o
            })
            .collect();
        let next = if from + limit < recipients.len() { enc_cursor((from + limit) as u64) } else { String::new() };
        Ok(json!({ "send_list": list, "next_cursor": next }))
    }

    fn groupmsg_remind(&mut self, r: &Req) -> R {
        let mi = self.msg_idx(r)?;
        let now = r.now();
        let per_day = self.cfg.group_msg.reminds_per_day as usize;
        let m = &mut self.msgs[mi];
        if m.cancelled {
            return Err(err(41047, "invalid msgid"));
        }
        m.reminds.retain(|&t| t > now - 86_400);
        if m.reminds.len() >= per_day {
            return Err(err(45009, "api freq out of limit"));
        }
        m.reminds.push(now);
        Ok(json!({}))
    }

    fn groupmsg_cancel(&mut self, r: &Req) -> R {
        let mi = self.msg_idx(r)?;
        self.msgs[mi].cancelled = true;
        Ok(json!({}))
    }

    fn welcome_tpl_fields(r: &Req) -> Result<Map<String, Value>, ApiError> {
        let mut m = Map::new();
        for k in ["text", "image", "link", "miniprogram", "file", "video"] {
            match r.field(k) {
                None => {}
                Some(v @ Value::Object(_)) => {
                    m.insert(k.into(), v.clone());
                }
                Some(_) => return Err(invalid(k)),
            }
        }
        if let Some(c) = m.get("text").and_then(|t| t.get("content")).and_then(Value::as_str)
            && c.chars().count() > 4000
        {
            return Err(err(45002, "content size out of limit"));
        }
        Ok(m)
    }

    fn welcome_tpl_add(&mut self, r: &Req) -> R {
        let m = Self::welcome_tpl_fields(r)?;
        let has_text =
            m.get("text").and_then(|t| t.get("content")).and_then(Value::as_str).is_some_and(|s| !s.is_empty());
        if !has_text && m.keys().all(|k| k == "text") {
            return Err(err(44004, "empty content"));
        }
        if self.welcome_templates.len() >= 100 {
            return Err(err(41055, "welcome template count limit"));
        }
        let id = random_id(&mut self.rng, "msg", 22);
        self.welcome_templates.insert(id.clone(), Value::Object(m));
        Ok(json!({ "template_id": id }))
    }

    fn tpl_id(&self, r: &Req) -> Result<String, ApiError> {
        let id = r.s("template_id")?.filter(|s| !s.is_empty()).ok_or_else(|| invalid("template_id"))?;
        if !self.welcome_templates.contains_key(id) {
            return Err(err(40037, "invalid template_id"));
        }
        Ok(id.to_string())
    }

    fn welcome_tpl_edit(&mut self, r: &Req) -> R {
        let id = self.tpl_id(r)?;
        let m = Self::welcome_tpl_fields(r)?;
        if let Some(Value::Object(old)) = self.welcome_templates.get_mut(&id) {
            for (k, v) in m {
                old.insert(k, v);
            }
        }
        Ok(json!({}))
    }

    fn welcome_tpl_get(&mut self, r: &Req) -> R {
        let id = self.tpl_id(r)?;
        Ok(self.welcome_templates.get(&id).cloned().unwrap_or_else(|| json!({})))
    }

    fn welcome_tpl_del(&mut self, r: &Req) -> R {
        let id = self.tpl_id(r)?;
        self.welcome_templates.remove(&id);
        Ok(json!({}))
    }

    fn send_welcome_msg(&mut self, r: &Req) -> R {
        let code = r.s("welcome_code")?.filter(|s| !s.is_empty()).ok_or_else(|| err(41049, "missing welcome_code"))?;
        let (text, attachments) = Self::check_content(r, 9)?;
        let wc = self.welcome_codes.get_mut(code).ok_or_else(|| err(41050, "invalid welcome_code"))?;
        if wc.used || wc.expires_ms <= r.now_ms {
            return Err(err(41050, "invalid welcome_code"));
        }
        wc.used = true;
        let to = wc.external_userid.clone();
        let from = wc.userid.clone();
        self.delivered.push(Delivered {
            api: "send_welcome_msg".into(),
            to,
            body: json!({ "userid": from, "text": text, "attachments": attachments }),
            at: r.now(),
        });
        Ok(json!({}))
    }

    fn message_send(&mut self, r: &Req) -> R {
        let agentid = r.i("agentid")?.ok_or_else(|| err(41011, "missing agentid"))?;
        if agentid != self.cfg.agent_id {
            return Err(err(40056, "invalid agentid"));
        }
        let msgtype = r.s("msgtype")?.ok_or_else(|| err(40008, "invalid message type"))?;
        const TYPES: &[&str] = &[
            "text",
            "image",
            "voice",
            "video",
            "file",
            "textcard",
            "news",
            "mpnews",
            "markdown",
            "miniprogram_notice",
            "template_card",
        ];
        if !TYPES.contains(&msgtype) {
            return Err(err(40008, "invalid message type"));
        }
        let content = r.field(msgtype).ok_or_else(|| invalid(msgtype))?;
        if (msgtype == "text" || msgtype == "markdown")
            && content.get("content").and_then(Value::as_str).is_none_or(|s| s.is_empty())
        {
            return Err(err(44004, "empty content"));
        }
        let split = |k: &str| -> Result<Vec<String>, ApiError> {
            Ok(r.s(k)?.unwrap_or("").split('|').filter(|s| !s.is_empty()).map(str::to_string).collect())
        };
        let users = split("touser")?;
        let parties = split("toparty")?;
        let tags = split("totag")?;
        let all = users.iter().any(|u| u == "@all");
        let bad_users: Vec<&str> = if all {
            vec![]
        } else {
            users.iter().filter(|u| self.world.staff(u).is_none()).map(String::as_str).collect()
        };
        let bad_parties: Vec<&str> = parties
            .iter()
            .filter(|p| p.parse::<u32>().ok().is_none_or(|id| !self.world.departments.iter().any(|d| d.id == id)))
            .map(String::as_str)
            .collect();
        let valid = all || bad_users.len() < users.len() || bad_parties.len() < parties.len();
        if !valid {
            return Err(err(81013, "user & party & tag all invalid"));
        }
        let msgid = random_id(&mut self.rng, "", 40);
        self.delivered.push(Delivered {
            api: "message/send".into(),
            to: String::new(),
            body: r.body.clone(),
            at: r.now(),
        });
        let mut out = json!({ "msgid": msgid });
        if !bad_users.is_empty() {
            out["invaliduser"] = json!(bad_users.join("|"));
        }
        if !bad_parties.is_empty() {
            out["invalidparty"] = json!(bad_parties.join("|"));
        }
        if !tags.is_empty() {
            out["invalidtag"] = json!(tags.join("|"));
        }
        Ok(out)
    }

    fn webhook_send(&mut self, r: &Req) -> R {
        let key = r.q("key").filter(|k| !k.is_empty()).ok_or_else(|| err(93000, "invalid webhook url"))?;
        if !self.cfg.webhook_keys.iter().any(|k| k == key) {
            return Err(err(93000, "invalid webhook url"));
        }
        let msgtype = r.s("msgtype")?.ok_or_else(|| err(40008, "invalid message type"))?;
        if !["text", "markdown", "markdown_v2", "image", "news", "file", "voice", "template_card"].contains(&msgtype) {
            return Err(err(40008, "invalid message type"));
        }
        let content = r.field(msgtype).ok_or_else(|| invalid(msgtype))?;
        if matches!(msgtype, "text" | "markdown" | "markdown_v2")
            && content.get("content").and_then(Value::as_str).is_none_or(|s| s.is_empty())
        {
            return Err(err(44004, "empty content"));
        }
        let now = r.now_ms;
        let per_minute = self.cfg.webhook_per_minute as usize;
        let hits = self.webhook_hits.entry(key.to_string()).or_default();
        while hits.front().is_some_and(|&t| t <= now - 60_000) {
            hits.pop_front();
        }
        if hits.len() >= per_minute {
            return Err(err(45009, "api freq out of limit"));
        }
        hits.push_back(now);
        self.delivered.push(Delivered {
            api: "webhook/send".into(),
            to: key.to_string(),
            body: r.body.clone(),
            at: r.now(),
        });
        Ok(json!({}))
    }

    fn ticket(&mut self, agent: bool, now_ms: i64) -> Value {
        let t = if agent { &self.agent_ticket } else { &self.jsapi_ticket };
        let (ticket, expires) = if t.1 > now_ms {
            t.clone()
        } else {
            let fresh = (random_id(&mut self.rng, "sM4AOVdWfPE4DxkXGEs8V", 64), now_ms + 7_200_000);
            if agent {
                self.agent_ticket = fresh.clone();
            } else {
                self.jsapi_ticket = fresh.clone();
            }
            fresh
        };
        json!({ "ticket": ticket, "expires_in": (expires - now_ms).div_euclid(1000) })
    }

    fn getuserinfo(&mut self, r: &Req, legacy: bool) -> R {
        let code = r.q("code").filter(|s| !s.is_empty()).ok_or_else(|| err(41008, "missing code"))?;
        let (userid, expires) = self.oauth_codes.remove(code).ok_or_else(|| err(40029, "invalid code"))?;
        if expires <= r.now_ms {
            return Err(err(40029, "invalid code"));
        }
        let ticket = random_id(&mut self.rng, "", 64);
        Ok(if legacy {
            json!({ "UserId": userid, "DeviceId": "", "user_ticket": ticket, "expires_in": 1800 })
        } else {
            json!({ "userid": userid, "user_ticket": ticket, "expires_in": 1800 })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        for n in [0u64, 1, 499, pair(3, 17), u64::MAX] {
            assert_eq!(dec_cursor(&enc_cursor(n)).ok(), Some(n));
        }
        assert_eq!(dec_cursor("").ok(), Some(0));
        assert_eq!(dec_cursor("zz").map_err(|e| e.code), Err(50100));
        assert_eq!(dec_cursor("ééééééééé").map_err(|e| e.code), Err(50100));
        assert_eq!(unpair(pair(7, 9)), (7, 9));
    }
}
