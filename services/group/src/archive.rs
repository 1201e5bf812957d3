//! The chat-archive worker (会话存档, PR07): follows the archive feed by `seq` from the checkpoint kept in
//! `group_feed_cursor`, counts each page's group messages as IngestMessages would, then moves the checkpoint, so
//! a restart resumes where it stopped and a page read twice is not counted twice (msgid deduplication).

use std::sync::Arc;
use std::time::Duration;

use scrm_wecom::{CHATDATA_MAX_LIMIT, WeComClient, WeComError};

use crate::clock::Clock;
use crate::ingest::{event_of_record, message_input};
use crate::store::GroupStore;

/// The checkpoint's name in `group_feed_cursor`.
const FEED: &str = "chat_archive";
/// Most pages read in one poll, so that one poll ends even while the archive grows fast.
const MAX_PAGES_PER_POLL: usize = 100;

/// Why reading a WeCom feed (the chat archive, the daily statistics) stopped early.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    /// WeCom (or the archive bridge) failed.
    #[error("reading WeCom failed: {0}")]
    WeCom(#[from] WeComError),
    /// The database failed.
    #[error("storing what WeCom said failed: {0}")]
    Storage(#[from] sqlx::Error),
}

/// What one poll did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArchivePoll {
    /// Records read.
    pub read: usize,
    /// Messages counted.
    pub accepted: i64,
    /// Messages already counted.
    pub duplicates: i64,
    /// Records not counted: one-to-one chats, actions other than send, unknown groups, missing fields.
    pub skipped: i64,
    /// The checkpoint after the poll.
    pub seq: u64,
}

/// Reads the archive after the checkpoint until it is drained (or [`MAX_PAGES_PER_POLL`] pages), counting the
/// group messages as of `clock`'s now and saving the checkpoint after each page.
pub async fn poll(store: &GroupStore, clock: &dyn Clock, client: &WeComClient) -> Result<ArchivePoll, FeedError> {
    let mut outcome = ArchivePoll { seq: store.feed_cursor(FEED).await?, ..ArchivePoll::default() };
    for _ in 0..MAX_PAGES_PER_POLL {
        let page = client.chatdata(outcome.seq, CHATDATA_MAX_LIMIT).await?;
        if page.chatdata.is_empty() {
            break;
        }
        let next_seq = page.next_seq(outcome.seq);
        outcome.read += page.chatdata.len();
        let mut inputs = Vec::with_capacity(page.chatdata.len());
        for record in page.chatdata {
            match event_of_record(record).map(message_input) {
                Some(Ok(input)) => inputs.push(input),
                _ => outcome.skipped += 1,
            }
        }
        let counted = store.ingest_messages_now(&inputs, clock.now_millis()).await?;
        outcome.accepted += counted.accepted;
        outcome.duplicates += counted.duplicates;
        outcome.skipped += inputs.len() as i64 - counted.accepted - counted.duplicates;
        store.save_feed_cursor(FEED, next_seq, clock.now_millis()).await?;
        outcome.seq = next_seq;
    }
    Ok(outcome)
}

/// Runs [`poll`] every `interval` until the process ends.
pub fn spawn(store: GroupStore, clock: Arc<dyn Clock>, client: WeComClient, interval: Duration) {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(interval);
        loop {
            ticks.tick().await;
            match poll(&store, clock.as_ref(), &client).await {
                Ok(outcome) if outcome.read > 0 => tracing::debug!(?outcome, "chat archive polled"),
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "chat archive poll failed"),
            }
        }
    });
}
