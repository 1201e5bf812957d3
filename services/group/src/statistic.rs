//! WeCom's daily group statistics (`groupchat/statistic`, PR07): once a day is over in the corp's timezone, each
//! group owner's figures for it are fetched and kept beside scrm's own counters (GetGroupActivity shows them).
//! The last day fetched is checkpointed in `group_feed_cursor`, so a restart neither refetches nor skips a day.

use std::sync::Arc;
use std::time::Duration;

use scrm_wecom::{GroupChatStatisticRequest, OwnerFilter, WeComClient};

use crate::activity::{day_of, start_of_day};
use crate::archive::FeedError;
use crate::clock::Clock;
use crate::store::GroupStore;

/// The checkpoint's name in `group_feed_cursor`: the last day (days since 1970-01-01) fetched.
const FEED: &str = "groupchat_statistic";
/// Owners per call (WeCom's `owner_filter.userid_list` limit).
const OWNERS_PER_CALL: usize = 100;
/// Rows per page (WeCom's `limit` maximum).
const PAGE_LIMIT: i64 = 1000;
/// The oldest day fetched after a long stop, counted back from yesterday (WeCom keeps a limited history).
const MAX_CATCH_UP_DAYS: i64 = 30;
/// How often the worker checks whether a day is due.
pub const STATISTIC_INTERVAL: Duration = Duration::from_secs(3600);

/// Fetches the figures of every finished day not fetched yet (yesterday, after a normal day), for every owner of
/// a live group; returns the owner-days stored.
pub async fn fetch(store: &GroupStore, clock: &dyn Clock, client: &WeComClient) -> Result<usize, FeedError> {
    let yesterday = day_of(clock.now_millis()) - 1;
    let done = i64::try_from(store.feed_cursor(FEED).await?).unwrap_or(0);
    let first = if done == 0 { yesterday } else { done + 1 }.max(yesterday - (MAX_CATCH_UP_DAYS - 1));
    let owners = store.group_owners().await?;
    let mut stored = 0;
    for day in first..=yesterday {
        let day_begin_time = start_of_day(day) / 1000;
        for chunk in owners.chunks(OWNERS_PER_CALL) {
            let mut offset = 0;
            loop {
                let request = GroupChatStatisticRequest {
                    day_begin_time,
                    day_end_time: Some(day_begin_time),
                    owner_filter: OwnerFilter { userid_list: chunk.to_vec() },
                    offset: Some(offset),
                    limit: Some(PAGE_LIMIT),
                    ..GroupChatStatisticRequest::default()
                };
                let page = client.groupchat_statistic(&request).await?;
                for item in &page.items {
                    store.save_wecom_statistic(&item.owner, day, &item.data, clock.now_millis()).await?;
                    stored += 1;
                }
                if page.items.is_empty() || page.next_offset <= offset || page.next_offset >= page.total {
                    break;
                }
                offset = page.next_offset;
            }
        }
        store.save_feed_cursor(FEED, u64::try_from(day).unwrap_or(0), clock.now_millis()).await?;
    }
    Ok(stored)
}

/// Runs [`fetch`] every `interval` until the process ends.
pub fn spawn(store: GroupStore, clock: Arc<dyn Clock>, client: WeComClient, interval: Duration) {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(interval);
        loop {
            ticks.tick().await;
            match fetch(&store, clock.as_ref(), &client).await {
                Ok(0) => {}
                Ok(stored) => tracing::info!(stored, "WeCom group statistics fetched"),
                Err(error) => tracing::warn!(%error, "WeCom group statistics fetch failed"),
            }
        }
    });
}
