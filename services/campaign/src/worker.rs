//! The campaign worker: ends ACTIVE and PAUSED campaigns whose ends_at has passed ("campaigns also end on their
//! own at ends_at").

use std::time::Duration;

use scrm_proto::campaign::v1::LifecycleState;

use crate::domain::{Transition, next_state};
use crate::store::CampaignStore;

/// How often the worker looks for campaigns past their end.
pub const END_CHECK_INTERVAL: Duration = Duration::from_secs(60);

/// Starts the worker on the runtime: every `interval`, [`end_due`] as of the wall clock.
pub fn spawn(store: CampaignStore, interval: Duration) {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            if let Err(error) = end_due(&store, crate::api::now_millis()).await {
                tracing::warn!(%error, "ending campaigns past their end failed; retrying on the next tick");
            }
        }
    });
}

/// Ends every ACTIVE or PAUSED campaign whose ends_at is at or before `now` (Unix ms); returns their ids.
pub async fn end_due(store: &CampaignStore, now: i64) -> Result<Vec<i64>, sqlx::Error> {
    let mut ended = Vec::new();
    for id in store.due_to_end(now).await? {
        let Some(mut campaign) = store.campaign(id).await? else { continue };
        let from = LifecycleState::try_from(campaign.state).unwrap_or(LifecycleState::Unspecified);
        let Ok(to) = next_state(from, Transition::End) else { continue };
        campaign.state = to as i32;
        if store.save_campaign(&campaign, from, now).await? {
            tracing::info!(campaign_id = id, "campaign ended at its ends_at");
            ended.push(id);
        }
    }
    Ok(ended)
}

#[cfg(test)]
mod tests {
    use scrm_storage::Db;

    use super::*;
    use crate::store::tests::draft;

    async fn campaigns_end_on_their_own(db: Db) {
        db.migrate(&crate::MIGRATIONS).await.unwrap();
        let store = CampaignStore::new(db);
        let mut running = store.insert_campaign(&draft("到期活动", 0), 1).await.unwrap();
        running.state = LifecycleState::Active as i32;
        assert!(store.save_campaign(&running, LifecycleState::Draft, 2).await.unwrap());
        let draft = store.insert_campaign(&draft("草稿", 0), 3).await.unwrap();
        let end = 1_900_000_000_000;
        assert_eq!(end_due(&store, end - 1).await.unwrap(), Vec::<i64>::new());
        assert_eq!(end_due(&store, end).await.unwrap(), [running.id]);
        assert_eq!(store.campaign(running.id).await.unwrap().unwrap().state, LifecycleState::Ended as i32);
        assert_eq!(store.campaign(draft.id).await.unwrap().unwrap().state, LifecycleState::Draft as i32);
        assert_eq!(end_due(&store, end + 1).await.unwrap(), Vec::<i64>::new());
    }

    scrm_storage::store_test_suite!(campaigns_end_on_their_own);
}
