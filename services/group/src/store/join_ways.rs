//! Join ways (群活码) created through scrm (`group_join_way`).

use sqlx::{FromRow, QueryBuilder};

use super::GroupStore;

/// A join way as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, FromRow)]
pub struct JoinWayRow {
    /// scrm id.
    pub id: i64,
    /// WeCom config_id.
    pub config_id: String,
    /// WeCom scene.
    pub scene: i32,
    /// WeCom remark.
    pub remark: String,
    /// 1 when auto_create_room.
    pub auto_create_room: i32,
    /// WeCom room_base_name.
    pub room_base_name: String,
    /// WeCom room_base_id.
    pub room_base_id: i32,
    /// chat_id_list, comma-joined.
    pub chat_ids: String,
    /// WeCom state.
    pub state: String,
    /// 1 when mark_source.
    pub mark_source: i32,
    /// WeCom qr_code.
    pub qr_code: String,
    /// Campaign id; 0 when none.
    pub campaign_id: i64,
    /// Members who joined carrying the state.
    pub joined_count: i64,
    /// Creation time (Unix ms).
    pub created_at: i64,
    /// Last change (Unix ms).
    pub updated_at: i64,
}

/// Filters of a join-way listing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JoinWayFilter {
    /// Only this state.
    pub state: String,
    /// Only ways leading to this group.
    pub chat_id: String,
    /// Only this campaign.
    pub campaign_id: i64,
}

/// A unique text key of join ways.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinWayKey {
    /// WeCom's config_id.
    ConfigId,
    /// The creating request's idempotency key.
    IdempotencyKey,
    /// WeCom's state.
    State,
}

const SELECT: &str = "SELECT w.id, w.config_id, w.scene, w.remark, w.auto_create_room, w.room_base_name, \
     w.room_base_id, w.chat_ids, w.state, w.mark_source, w.qr_code, w.campaign_id, \
     (SELECT COUNT(*) FROM group_member m WHERE m.state = w.state) AS joined_count, w.created_at, w.updated_at \
     FROM group_join_way w";

impl GroupStore {
    /// Stores a way WeCom accepted.
    pub async fn insert_join_way(
        &self,
        way: &JoinWayRow,
        idempotency_key: Option<&str>,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO group_join_way (config_id, scene, remark, auto_create_room, room_base_name, room_base_id, \
             chat_ids, state, mark_source, qr_code, campaign_id, idempotency_key, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&way.config_id)
        .bind(way.scene)
        .bind(&way.remark)
        .bind(way.auto_create_room)
        .bind(&way.room_base_name)
        .bind(way.room_base_id)
        .bind(&way.chat_ids)
        .bind(&way.state)
        .bind(way.mark_source)
        .bind(&way.qr_code)
        .bind(way.campaign_id)
        .bind(idempotency_key)
        .bind(now)
        .bind(now)
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    /// Stores the configuration of way `way.id` after WeCom accepted it (config_id and QR code stay).
    pub async fn update_join_way(&self, way: &JoinWayRow, now: i64) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE group_join_way SET scene = ?, remark = ?, auto_create_room = ?, room_base_name = ?, \
             room_base_id = ?, chat_ids = ?, state = ?, mark_source = ?, campaign_id = ?, updated_at = ? WHERE id = ?",
        )
        .bind(way.scene)
        .bind(&way.remark)
        .bind(way.auto_create_room)
        .bind(&way.room_base_name)
        .bind(way.room_base_id)
        .bind(&way.chat_ids)
        .bind(&way.state)
        .bind(way.mark_source)
        .bind(way.campaign_id)
        .bind(now)
        .bind(way.id)
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    /// The way with scrm id `id`.
    pub async fn join_way(&self, id: i64) -> Result<Option<JoinWayRow>, sqlx::Error> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} WHERE w.id = ?")))
            .bind(id)
            .fetch_optional(self.db.pool())
            .await
    }

    /// The way whose `column` (config_id, idempotency_key or state) is `value`.
    pub async fn join_way_by(&self, column: JoinWayKey, value: &str) -> Result<Option<JoinWayRow>, sqlx::Error> {
        let column = match column {
            JoinWayKey::ConfigId => "config_id",
            JoinWayKey::IdempotencyKey => "idempotency_key",
            JoinWayKey::State => "state",
        };
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} WHERE w.{column} = ?")))
            .bind(value)
            .fetch_optional(self.db.pool())
            .await
    }

    /// Up to `limit` ways matching `filter` with ids below `before`, newest first.
    pub async fn list_join_ways(
        &self,
        filter: &JoinWayFilter,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<JoinWayRow>, sqlx::Error> {
        let mut query = QueryBuilder::new(format!("{SELECT} WHERE 1 = 1"));
        if let Some(before) = before {
            query.push(" AND w.id < ").push_bind(before);
        }
        if !filter.state.is_empty() {
            query.push(" AND w.state = ").push_bind(filter.state.clone());
        }
        if filter.campaign_id != 0 {
            query.push(" AND w.campaign_id = ").push_bind(filter.campaign_id);
        }
        if !filter.chat_id.is_empty() {
            let padded = match self.db.dialect() {
                scrm_storage::Dialect::Sqlite => "(',' || w.chat_ids || ',')",
                scrm_storage::Dialect::MySql => "CONCAT(',', w.chat_ids, ',')",
            };
            query.push(format!(" AND {padded} LIKE ")).push_bind(format!("%,{},%", filter.chat_id));
        }
        query.push(" ORDER BY w.id DESC LIMIT ").push_bind(i64::from(limit));
        query.build_query_as().fetch_all(self.db.pool()).await
    }

    /// Deletes way `id`.
    pub async fn delete_join_way(&self, id: i64) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM group_join_way WHERE id = ?").bind(id).execute(self.db.pool()).await?;
        Ok(())
    }
}
