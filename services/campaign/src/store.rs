//! The campaign service's tables: `campaign_campaign`, `campaign_participant`, `campaign_invitation` and
//! `campaign_koc_profile`.

pub mod koc;
pub mod participation;

use prost::Message;
use prost_types::Timestamp;
use scrm_kernel::StoreScope;
use scrm_proto::campaign::v1::{Campaign, LifecycleState};
use scrm_storage::{Db, Dialect};
use sqlx::{AnyConnection, FromRow, QueryBuilder};

use crate::domain::state_prefix;

/// The campaign service's handle on its tables.
#[derive(Debug, Clone)]
pub struct CampaignStore {
    db: Db,
}

/// A campaign row.
#[derive(Debug, Clone, FromRow)]
struct CampaignRow {
    id: i64,
    state: i32,
    body: String,
    created_at: i64,
    updated_at: i64,
}

/// Filters of ListCampaigns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CampaignFilter {
    /// Only this state (0: any).
    pub state: i32,
    /// Only this kind (0: any).
    pub kind: i32,
    /// Only this store (0: every store in scope).
    pub store_id: i64,
    /// Substring of the name (empty: any).
    pub query: String,
}

impl CampaignStore {
    /// A store over `db`, whose campaign migrations have run.
    pub fn new(db: Db) -> Self {
        CampaignStore { db }
    }

    /// The id the last insert on `connection` minted (the Any driver does not report it on every backend).
    async fn last_insert_id(&self, connection: &mut AnyConnection) -> Result<i64, sqlx::Error> {
        let query = match self.db.dialect() {
            Dialect::Sqlite => "SELECT last_insert_rowid()",
            Dialect::MySql => "SELECT CAST(LAST_INSERT_ID() AS SIGNED)",
        };
        sqlx::query_scalar(query).fetch_one(connection).await
    }

    /// Stores a new campaign (as [`crate::domain::new_campaign`] made it); returns it with its id and times.
    pub async fn insert_campaign(&self, campaign: &Campaign, now: i64) -> Result<Campaign, sqlx::Error> {
        let mut connection = self.db.pool().acquire().await?;
        sqlx::query(
            "INSERT INTO campaign_campaign (name, kind, state, store_id, ends_at, body, created_by, created_at, \
             updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&campaign.name)
        .bind(campaign.kind)
        .bind(campaign.state)
        .bind(campaign.store_id)
        .bind(ends_at_ms(campaign))
        .bind(encode(campaign))
        .bind(&campaign.created_by_userid)
        .bind(now)
        .bind(now)
        .execute(&mut *connection)
        .await?;
        let id = self.last_insert_id(&mut connection).await?;
        Ok(decode(CampaignRow { id, state: campaign.state, body: encode(campaign), created_at: now, updated_at: now }))
    }

    /// Campaign `id`; `None` when unknown.
    pub async fn campaign(&self, id: i64) -> Result<Option<Campaign>, sqlx::Error> {
        let row: Option<CampaignRow> =
            sqlx::query_as("SELECT id, state, body, created_at, updated_at FROM campaign_campaign WHERE id = ?")
                .bind(id)
                .fetch_optional(self.db.pool())
                .await?;
        Ok(row.map(decode))
    }

    /// Up to `limit` campaigns matching `filter` within `scope` (campaigns of no store are everyone's), with ids
    /// below `before`, newest first.
    pub async fn list_campaigns(
        &self,
        filter: &CampaignFilter,
        scope: &StoreScope,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<Campaign>, sqlx::Error> {
        let mut query =
            QueryBuilder::new("SELECT id, state, body, created_at, updated_at FROM campaign_campaign WHERE 1 = 1");
        if let Some(before) = before {
            query.push(" AND id < ").push_bind(before);
        }
        if filter.state != 0 {
            query.push(" AND state = ").push_bind(filter.state);
        }
        if filter.kind != 0 {
            query.push(" AND kind = ").push_bind(filter.kind);
        }
        if filter.store_id != 0 {
            query.push(" AND store_id = ").push_bind(filter.store_id);
        }
        push_scope(&mut query, "store_id", scope);
        if !filter.query.is_empty() {
            query.push(" AND name LIKE ").push_bind(format!("%{}%", escape_like(&filter.query)));
            query.push(LIKE_ESCAPE);
        }
        query.push(" ORDER BY id DESC LIMIT ").push_bind(i64::from(limit));
        let rows: Vec<CampaignRow> = query.build_query_as().fetch_all(self.db.pool()).await?;
        Ok(rows.into_iter().map(decode).collect())
    }

    /// Writes `campaign` over the stored one if it is still in state `expected` (a lost race with another
    /// lifecycle change writes nothing); returns whether it was written.
    pub async fn save_campaign(
        &self,
        campaign: &Campaign,
        expected: LifecycleState,
        now: i64,
    ) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "UPDATE campaign_campaign SET name = ?, kind = ?, state = ?, store_id = ?, ends_at = ?, body = ?, \
             updated_at = ? WHERE id = ? AND state = ?",
        )
        .bind(&campaign.name)
        .bind(campaign.kind)
        .bind(campaign.state)
        .bind(campaign.store_id)
        .bind(ends_at_ms(campaign))
        .bind(encode(campaign))
        .bind(now)
        .bind(campaign.id)
        .bind(expected as i32)
        .execute(self.db.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Deletes campaign `id` if it is a DRAFT; returns whether it was deleted.
    pub async fn delete_draft(&self, id: i64) -> Result<bool, sqlx::Error> {
        let done = sqlx::query("DELETE FROM campaign_campaign WHERE id = ? AND state = ?")
            .bind(id)
            .bind(LifecycleState::Draft as i32)
            .execute(self.db.pool())
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Ids of the ACTIVE or PAUSED campaigns whose ends_at is at or before `now`.
    pub async fn due_to_end(&self, now: i64) -> Result<Vec<i64>, sqlx::Error> {
        sqlx::query_scalar("SELECT id FROM campaign_campaign WHERE state IN (?, ?) AND ends_at <= ? ORDER BY id")
            .bind(LifecycleState::Active as i32)
            .bind(LifecycleState::Paused as i32)
            .bind(now)
            .fetch_all(self.db.pool())
            .await
    }

    /// How many participants of campaign `id` reached each stage level or above, by level.
    pub async fn stage_reach(&self, id: i64) -> Result<Vec<(i32, i64)>, sqlx::Error> {
        sqlx::query_as(
            "SELECT reached_stage_level, COUNT(*) FROM campaign_participant WHERE campaign_id = ? \
             AND reached_stage_level > 0 GROUP BY reached_stage_level",
        )
        .bind(id)
        .fetch_all(self.db.pool())
        .await
    }
}

/// Restricts `column` (a store id) to `scope`; rows of store 0 (the whole corp) are everyone's.
pub(crate) fn push_scope(query: &mut QueryBuilder<sqlx::Any>, column: &str, scope: &StoreScope) {
    if let StoreScope::Only(stores) = scope {
        query.push(format!(" AND ({column} = 0 OR {column} IN ("));
        let mut list = query.separated(", ");
        for store in stores {
            list.push_bind(store.parse::<i64>().unwrap_or(-1));
        }
        query.push("))");
    }
}

/// `text` with LIKE's wildcards escaped by `!` (portable: MySQL reads `\` in literals as an escape itself);
/// use with [`LIKE_ESCAPE`].
pub(crate) fn escape_like(text: &str) -> String {
    text.replace('!', "!!").replace('%', "!%").replace('_', "!_")
}

/// The ESCAPE clause matching [`escape_like`].
pub(crate) const LIKE_ESCAPE: &str = " ESCAPE '!'";

fn ends_at_ms(campaign: &Campaign) -> i64 {
    campaign.ends_at.as_ref().map_or(0, |at| at.seconds.saturating_mul(1000))
}

/// The stored body: the campaign without id, state and timestamps, hex-written.
fn encode(campaign: &Campaign) -> String {
    let mut body = campaign.clone();
    body.id = 0;
    body.state = 0;
    body.created_at = None;
    body.updated_at = None;
    body.landing_url = String::new();
    body.encode_to_vec().iter().map(|byte| format!("{byte:02x}")).collect()
}

fn decode(row: CampaignRow) -> Campaign {
    let bytes: Vec<u8> = (0..row.body.len())
        .step_by(2)
        .filter_map(|at| row.body.get(at..at + 2).and_then(|pair| u8::from_str_radix(pair, 16).ok()))
        .collect();
    let mut campaign = Campaign::decode(bytes.as_slice()).unwrap_or_else(|error| {
        tracing::error!(%error, id = row.id, "a stored campaign does not decode");
        Campaign::default()
    });
    campaign.id = row.id;
    campaign.state = row.state;
    campaign.created_at = Some(timestamp(row.created_at));
    campaign.updated_at = Some(timestamp(row.updated_at));
    if let Some(channel) = &mut campaign.entry_channel {
        channel.state_prefix = state_prefix(row.id);
    }
    campaign
}

/// A Unix-ms time as a protobuf timestamp.
pub fn timestamp(millis: i64) -> Timestamp {
    Timestamp { seconds: millis.div_euclid(1000), nanos: (millis.rem_euclid(1000) * 1_000_000) as i32 }
}

#[cfg(test)]
pub(crate) mod tests {
    use scrm_proto::campaign::v1::{CampaignKind, CampaignStage, EntryChannel, EntryChannelKind};

    use super::*;
    use crate::domain::new_campaign;

    /// A draft 邀请有礼 campaign of `store_id` with stages at 1 and 3 valid invitations.
    pub(crate) fn draft(name: &str, store_id: i64) -> Campaign {
        let stage = |threshold| CampaignStage { threshold, reward_definition_id: 5, ..CampaignStage::default() };
        new_campaign(
            Campaign {
                name: name.into(),
                kind: CampaignKind::InviteReward as i32,
                starts_at: Some(Timestamp { seconds: 1_800_000_000, nanos: 0 }),
                ends_at: Some(Timestamp { seconds: 1_900_000_000, nanos: 0 }),
                entry_channel: Some(EntryChannel {
                    kind: EntryChannelKind::ContactWay as i32,
                    userids: vec!["zhangsan".into()],
                    ..EntryChannel::default()
                }),
                stages: vec![stage(1), stage(3)],
                store_id,
                ..Campaign::default()
            },
            "yunying",
        )
    }

    async fn campaigns_round_trip_list_and_move_through_their_lifecycle(db: Db) {
        db.migrate(&crate::MIGRATIONS).await.unwrap();
        let store = CampaignStore::new(db);
        let first = store.insert_campaign(&draft("邀请好友得盲盒", 0), 10).await.unwrap();
        let second = store.insert_campaign(&draft("门店拉新 100%", 7), 11).await.unwrap();
        let read = store.campaign(first.id).await.unwrap().unwrap();
        assert_eq!(read, first);
        assert_eq!(read.entry_channel.as_ref().unwrap().state_prefix, format!("f{}-", first.id));
        assert_eq!(read.stages[1].level, 2);
        assert_eq!(store.campaign(first.id + 100).await.unwrap(), None);

        let all = store.list_campaigns(&CampaignFilter::default(), &StoreScope::All, None, 20).await.unwrap();
        assert_eq!(all.iter().map(|campaign| campaign.id).collect::<Vec<_>>(), [second.id, first.id]);
        let page = store.list_campaigns(&CampaignFilter::default(), &StoreScope::All, Some(second.id), 20).await;
        assert_eq!(page.unwrap().len(), 1);
        let other_store = StoreScope::Only(vec!["8".into()]);
        let seen = store.list_campaigns(&CampaignFilter::default(), &other_store, None, 20).await.unwrap();
        assert_eq!(seen.iter().map(|campaign| campaign.id).collect::<Vec<_>>(), [first.id], "corp-wide only");
        let percent = CampaignFilter { query: "100%".into(), ..CampaignFilter::default() };
        let found = store.list_campaigns(&percent, &StoreScope::All, None, 20).await.unwrap();
        assert_eq!(found.iter().map(|campaign| campaign.id).collect::<Vec<_>>(), [second.id]);

        let mut active = read.clone();
        active.state = LifecycleState::Active as i32;
        assert!(store.save_campaign(&active, LifecycleState::Draft, 20).await.unwrap());
        assert!(!store.save_campaign(&active, LifecycleState::Draft, 21).await.unwrap(), "the race is lost");
        let active_filter = CampaignFilter { state: LifecycleState::Active as i32, ..CampaignFilter::default() };
        let listed = store.list_campaigns(&active_filter, &StoreScope::All, None, 20).await.unwrap();
        assert_eq!(listed[0].updated_at, Some(timestamp(20)));
        assert!(!store.delete_draft(first.id).await.unwrap(), "a started campaign is kept");
        assert!(store.delete_draft(second.id).await.unwrap());
        assert_eq!(store.due_to_end(1_899_999_999_000).await.unwrap(), Vec::<i64>::new());
        assert_eq!(store.due_to_end(1_900_000_000_000).await.unwrap(), [first.id]);
    }

    scrm_storage::store_test_suite!(campaigns_round_trip_list_and_move_through_their_lifecycle);
}
