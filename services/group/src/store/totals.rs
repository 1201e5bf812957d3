//! Each group's activity totals over a range of days (ListGroupActivityTotals), for the groups a list filter
//! matches.

use std::collections::{HashMap, HashSet};

use scrm_storage::Dialect;
use sqlx::QueryBuilder;

use super::GroupStore;
use super::list::push_filter;
use crate::activity::start_of_day;
use crate::listing::{GroupFilter, store_number};

/// Days before the end of a range in which a member must have spoken not to be a lurker, the last day included.
const LURKER_WINDOW_DAYS: i64 = 30;

/// One group's totals over a range of days.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActivityTotals {
    /// WeCom chat_id.
    pub chat_id: String,
    /// Group name.
    pub name: String,
    /// Owner's userid.
    pub owner: String,
    /// Store; 0 when none.
    pub store_id: i64,
    /// Members at the end of the range.
    pub member_count: i64,
    /// Messages in the range.
    pub messages: i64,
    /// Distinct speakers in the range.
    pub speakers: i64,
    /// Joins in the range.
    pub joins: i64,
    /// Leaves in the range.
    pub leaves: i64,
    /// Members at the end of the range silent in the [`LURKER_WINDOW_DAYS`] up to it.
    pub lurkers: i64,
}

impl GroupStore {
    /// The totals from `first_day` to `last_day` of every group `filter` matches, by chat_id.
    pub async fn activity_totals(
        &self,
        filter: &GroupFilter,
        first_day: i64,
        last_day: i64,
    ) -> Result<Vec<ActivityTotals>, sqlx::Error> {
        let joined = |select: &str| {
            let mut query = QueryBuilder::new(select);
            query.push(" JOIN group_chat c ON c.chat_id = x.chat_id WHERE 1 = 1");
            push_filter(&mut query, filter);
            query
        };
        let mut groups =
            QueryBuilder::new("SELECT c.chat_id, c.name, c.owner_userid, c.store_id FROM group_chat c WHERE 1 = 1");
        push_filter(&mut groups, filter);
        groups.push(" ORDER BY c.chat_id");
        let rows: Vec<(String, String, String, Option<String>)> =
            groups.build_query_as().fetch_all(self.db.pool()).await?;
        let mut totals: Vec<ActivityTotals> = rows
            .into_iter()
            .map(|(chat_id, name, owner, store_id)| ActivityTotals {
                store_id: store_number(store_id.as_deref()),
                chat_id,
                name,
                owner,
                ..ActivityTotals::default()
            })
            .collect();
        let index: HashMap<String, usize> =
            totals.iter().enumerate().map(|(at, group)| (group.chat_id.clone(), at)).collect();

        let sum = match self.db.dialect() {
            Dialect::Sqlite => "SUM(x.messages)",
            Dialect::MySql => "CAST(SUM(x.messages) AS SIGNED)",
        };
        let mut messages = joined(&format!("SELECT x.chat_id, {sum} FROM group_activity_day x"));
        messages.push(" AND x.day >= ").push_bind(first_day).push(" AND x.day <= ").push_bind(last_day);
        messages.push(" GROUP BY x.chat_id");
        for (chat_id, count) in messages.build_query_as::<(String, i64)>().fetch_all(self.db.pool()).await? {
            if let Some(&at) = index.get(&chat_id) {
                totals[at].messages = count;
            }
        }

        let lurker_start = last_day - (LURKER_WINDOW_DAYS - 1);
        let mut speakers = joined("SELECT x.chat_id, x.userid, MAX(x.day) FROM group_speaker_day x");
        speakers.push(" AND x.day >= ").push_bind(first_day.min(lurker_start));
        speakers.push(" AND x.day <= ").push_bind(last_day).push(" GROUP BY x.chat_id, x.userid");
        let mut recent: HashSet<(String, String)> = HashSet::new();
        for (chat_id, userid, last_spoke) in
            speakers.build_query_as::<(String, String, i64)>().fetch_all(self.db.pool()).await?
        {
            if let (Some(&at), true) = (index.get(&chat_id), last_spoke >= first_day) {
                totals[at].speakers += 1;
            }
            if last_spoke >= lurker_start {
                recent.insert((chat_id, userid));
            }
        }

        let (range_start, range_end) = (start_of_day(first_day), start_of_day(last_day + 1));
        let mut members = joined("SELECT x.chat_id, x.userid, x.joined_at, x.left_at FROM group_member x");
        members.push(" AND (x.left_at IS NULL OR x.left_at >= ").push_bind(range_start).push(")");
        for (chat_id, userid, joined_at, left_at) in
            members.build_query_as::<(String, String, i64, Option<i64>)>().fetch_all(self.db.pool()).await?
        {
            let Some(&at) = index.get(&chat_id) else { continue };
            let group = &mut totals[at];
            group.joins += i64::from((range_start..range_end).contains(&joined_at));
            group.leaves += i64::from(left_at.is_some_and(|left_at| (range_start..range_end).contains(&left_at)));
            if joined_at < range_end && left_at.is_none_or(|left_at| left_at >= range_end) {
                group.member_count += 1;
                group.lurkers += i64::from(!recent.contains(&(chat_id, userid)));
            }
        }
        Ok(totals)
    }
}
