//! Customer-group statistics: `groupchat/statistic` (by owner) and `statistic_group_by_day`.
//!
//! Groups and members come from the current state (dismissed groups and people who left are not in the
//! history); message counts come from the activity driver's chat archive, per group and China-time day.

use std::collections::{HashMap, HashSet};

use serde_json::{Value, json};

use super::{ApiError, R, Req, err, invalid};
use crate::clock::cst_day;
use crate::sim::State;
use crate::world::GroupChat;

const DAY: i64 = 86_400;

/// The eight numbers WeCom reports, in its order.
#[derive(Debug, Default, Clone, Copy)]
struct StatData {
    new_chat_cnt: i64,
    chat_total: i64,
    chat_has_msg: i64,
    new_member_cnt: i64,
    member_total: i64,
    member_has_msg: i64,
    msg_total: i64,
}

impl StatData {
    fn add(&mut self, o: StatData) {
        self.new_chat_cnt += o.new_chat_cnt;
        self.chat_total += o.chat_total;
        self.chat_has_msg += o.chat_has_msg;
        self.new_member_cnt += o.new_member_cnt;
        self.member_total += o.member_total;
        self.member_has_msg += o.member_has_msg;
        self.msg_total += o.msg_total;
    }

    /// The sort key of `groupchat/statistic`'s `order_by` (1 new groups, 2 groups, 3 new members, 4 members).
    fn key(&self, order_by: i64) -> i64 {
        match order_by {
            1 => self.new_chat_cnt,
            2 => self.chat_total,
            3 => self.new_member_cnt,
            _ => self.member_total,
        }
    }

    fn to_json(self) -> Value {
        json!({
            "new_chat_cnt": self.new_chat_cnt, "chat_total": self.chat_total, "chat_has_msg": self.chat_has_msg,
            "new_member_cnt": self.new_member_cnt, "member_total": self.member_total,
            "member_has_msg": self.member_has_msg, "msg_total": self.msg_total, "migrate_trainee_chat_cnt": 0,
        })
    }
}

impl State {
    /// Day range of a statistics request: `[begin, end]` day starts, at most 30 days apart.
    fn stat_days(r: &Req) -> Result<(i64, i64), ApiError> {
        let begin = r.i("day_begin_time")?.ok_or_else(|| invalid("day_begin_time"))?;
        let end = r.i("day_end_time")?.unwrap_or(begin);
        if end < begin || end - begin > 30 * DAY {
            return Err(invalid("day_end_time"));
        }
        Ok((begin, end))
    }

    /// Live groups of the owners asked for; 81017 when there are more than 1000 owners and no filter.
    fn stat_groups(&self, r: &Req) -> Result<Vec<&GroupChat>, ApiError> {
        let owners = self.owner_filter(r)?;
        let groups: Vec<&GroupChat> = self
            .world
            .groups
            .iter()
            .filter(|g| !g.dismissed && owners.as_ref().is_none_or(|o| o.contains(&g.owner)))
            .collect();
        if owners.is_none() && groups.iter().map(|g| g.owner.as_str()).collect::<HashSet<_>>().len() > 1000 {
            return Err(err(81017, "too many owners, use owner_filter"));
        }
        Ok(groups)
    }

    /// One group's numbers for the seconds `[from, to)` (messages by the China-time days they cover).
    fn group_stat(&self, g: &GroupChat, from: i64, to: i64) -> StatData {
        let mut d = StatData::default();
        if g.create_time >= to {
            return d;
        }
        d.chat_total = 1;
        d.new_chat_cnt = i64::from(g.create_time >= from);
        for m in g.members.iter().filter(|m| m.join_time < to) {
            d.member_total += 1;
            d.new_member_cnt += i64::from(m.join_time >= from);
        }
        let days = (g.chat_id.clone(), cst_day(from))..=(g.chat_id.clone(), cst_day(to - 1));
        let mut senders = HashSet::new();
        for (_, day) in self.feeds.day_stats.range(days) {
            d.msg_total += day.msgs as i64;
            senders.extend(day.senders.iter().map(String::as_str));
        }
        d.chat_has_msg = i64::from(d.msg_total > 0);
        d.member_has_msg = senders.len() as i64;
        d
    }

    pub(super) fn groupchat_statistic(&mut self, r: &Req) -> R {
        let (begin, end) = Self::stat_days(r)?;
        let order_by = r.i("order_by")?.unwrap_or(1);
        if !(1..=4).contains(&order_by) {
            return Err(invalid("order_by"));
        }
        let asc = r.i("order_asc")?.unwrap_or(0) == 1;
        let offset = r.i("offset")?.unwrap_or(0).max(0) as usize;
        let limit = r.limit(500, 1000)?;
        let mut per: HashMap<&str, StatData> = HashMap::new();
        for g in self.stat_groups(r)? {
            let s = self.group_stat(g, begin, end + DAY);
            if s.chat_total > 0 {
                per.entry(g.owner.as_str()).or_default().add(s);
            }
        }
        let mut rows: Vec<(&str, StatData)> = per.into_iter().collect();
        rows.sort_by(|a, b| {
            let o = a.1.key(order_by).cmp(&b.1.key(order_by));
            (if asc { o } else { o.reverse() }).then(a.0.cmp(b.0))
        });
        let total = rows.len();
        let items: Vec<Value> = rows
            .iter()
            .skip(offset)
            .take(limit)
            .map(|(owner, d)| json!({ "owner": owner, "data": d.to_json() }))
            .collect();
        Ok(json!({ "total": total, "next_offset": (offset + items.len()).min(total), "items": items }))
    }

    pub(super) fn groupchat_statistic_by_day(&mut self, r: &Req) -> R {
        let (begin, end) = Self::stat_days(r)?;
        let groups = self.stat_groups(r)?;
        let items: Vec<Value> = (0..=(end - begin) / DAY)
            .map(|k| {
                let day = begin + k * DAY;
                let mut total = StatData::default();
                for g in &groups {
                    total.add(self.group_stat(g, day, day + DAY));
                }
                json!({ "stat_time": day, "data": total.to_json() })
            })
            .collect();
        Ok(json!({ "items": items }))
    }
}
