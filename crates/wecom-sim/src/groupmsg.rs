//! Group-message tasks (企业群发): created by `add_msg_template`, confirmed by each sender, delivered under quotas.

use serde_json::Value;

use crate::clock::{cst_day, year_month};
use crate::sim::State;

/// What a group message is sent to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChatType {
    /// Customers (`single`).
    Single,
    /// Customer groups (`group`).
    Group,
}

/// One recipient of a task: a customer (`external_userid`) or a group (`chat_id`).
#[derive(Debug, Clone)]
pub(crate) struct Recipient {
    pub target: String,
    /// 0 not sent, 1 sent, 2 not a friend (or not in the group), 3 received its quota.
    pub status: u8,
    pub send_time: i64,
}

/// One sender's task.
#[derive(Debug, Clone)]
pub(crate) struct Task {
    pub userid: String,
    /// 0 not sent, 2 sent (as `get_groupmsg_task` reports it).
    pub status: u8,
    pub send_time: i64,
    /// When the sender confirms on their own (simulator ms); `None`: never.
    pub due_ms: Option<i64>,
    pub recipients: Vec<Recipient>,
}

/// A group message created through the API.
#[derive(Debug, Clone)]
pub(crate) struct GroupMsg {
    pub msgid: String,
    pub chat_type: ChatType,
    pub sender: Option<String>,
    pub text: Value,
    pub attachments: Value,
    pub create_time: i64,
    pub tasks: Vec<Task>,
    pub cancelled: bool,
    /// Simulator seconds of each `remind_groupmsg_send`.
    pub reminds: Vec<i64>,
}

impl State {
    /// Confirms every task whose sender's delay has passed, in order of confirmation time.
    pub(crate) fn run_due_tasks(&mut self, now_ms: i64) {
        let mut due: Vec<(i64, usize, usize)> = Vec::new();
        for (mi, m) in self.msgs.iter().enumerate() {
            if m.cancelled {
                continue;
            }
            for (ti, t) in m.tasks.iter().enumerate() {
                if let Some(d) = t.due_ms
                    && t.status == 0
                    && d <= now_ms
                {
                    due.push((d, mi, ti));
                }
            }
        }
        due.sort_unstable();
        for (d, mi, ti) in due {
            self.confirm_task(mi, ti, d.div_euclid(1000));
        }
    }

    /// The sender confirms the task: each recipient is sent, refused as not a friend, or refused by quota.
    pub(crate) fn confirm_task(&mut self, mi: usize, ti: usize, at_secs: i64) {
        let Some(msg) = self.msgs.get(mi) else { return };
        if msg.cancelled || msg.tasks.get(ti).is_none_or(|t| t.status != 0) {
            return;
        }
        let chat_type = msg.chat_type;
        let userid = msg.tasks[ti].userid.clone();
        let targets: Vec<String> = msg.tasks[ti].recipients.iter().map(|r| r.target.clone()).collect();
        let day = cst_day(at_secs);
        let month = year_month(day);
        let gm = self.cfg.group_msg.clone();
        let mut statuses = Vec::with_capacity(targets.len());
        for target in &targets {
            let status = match chat_type {
                ChatType::Single => {
                    if !self.world.is_friend(&userid, target) {
                        2
                    } else {
                        let d = self.receipts_day.get(&(target.clone(), day)).copied().unwrap_or(0);
                        let m = self.receipts_month.get(&(target.clone(), month)).copied().unwrap_or(0);
                        if gm.customer_daily_limit.is_some_and(|l| d >= l)
                            || gm.customer_monthly_limit.is_some_and(|l| m >= l)
                        {
                            3
                        } else {
                            *self.receipts_day.entry((target.clone(), day)).or_default() += 1;
                            *self.receipts_month.entry((target.clone(), month)).or_default() += 1;
                            1
                        }
                    }
                }
                ChatType::Group => match self.world.group(target) {
                    Some(g) if g.owner == userid => {
                        let d = self.receipts_day.get(&(target.clone(), day)).copied().unwrap_or(0);
                        if gm.group_daily_limit.is_some_and(|l| d >= l) {
                            3
                        } else {
                            *self.receipts_day.entry((target.clone(), day)).or_default() += 1;
                            1
                        }
                    }
                    _ => 2,
                },
            };
            statuses.push(status);
        }
        let task = &mut self.msgs[mi].tasks[ti];
        task.status = 2;
        task.send_time = at_secs;
        for (r, s) in task.recipients.iter_mut().zip(statuses) {
            r.status = s;
            if s == 1 {
                r.send_time = at_secs;
            }
        }
    }
}
