//! The `rewards_*` tables: definitions, grants, points accounts and ledgers, coupons. Every write that must
//! be exactly-once (a grant, a points adjustment, a redemption) claims its idempotency key in the same
//! transaction as its effects.

use scrm_storage::{Db, Dialect};
use sqlx::{Any, AnyConnection, Connection, Executor, FromRow, QueryBuilder, Transaction};

/// A stored reward definition; `config` is the encoded content (PointsReward or CouponReward).
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct DefinitionRow {
    /// Id.
    pub id: i64,
    /// Display name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Image URL.
    pub image_url: String,
    /// RewardKind code.
    pub kind: i32,
    /// Encoded content.
    pub config: Vec<u8>,
    /// RewardDefinitionStatus code.
    pub status: i32,
    /// Stock, 0 = unlimited.
    pub stock_total: i64,
    /// Grants made.
    pub issued_count: i64,
    /// Grants per recipient, 0 = unlimited.
    pub per_recipient_limit: i32,
    /// Store, 0 = whole corp.
    pub store_id: i64,
    /// Creator's staff id.
    pub created_by: String,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

const DEFINITION_COLUMNS: &str = "id, name, description, image_url, kind, config, status, stock_total, issued_count, \
     per_recipient_limit, store_id, created_by, created_at, updated_at";

/// A stored grant with what it gave.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct GrantRow {
    /// Id.
    pub id: i64,
    /// The idempotency key it was issued with.
    pub idempotency_key: String,
    /// Definition, 0 for ad-hoc.
    pub reward_definition_id: i64,
    /// Definition name at issue time.
    pub reward_name: String,
    /// RewardKind code.
    pub kind: i32,
    /// Customer recipient.
    pub external_userid: String,
    /// KOC recipient.
    pub koc_id: i64,
    /// Encoded RewardSource.
    pub source: Vec<u8>,
    /// RewardSourceKind code.
    pub source_kind: i32,
    /// Attributed KOC.
    pub attributed_koc_id: i64,
    /// GrantStatus code.
    pub status: i32,
    /// Store.
    pub store_id: i64,
    /// Staff who issued it.
    pub issued_by: String,
    /// Unix ms.
    pub issued_at: i64,
    /// Points credited.
    pub points: i64,
    /// Balance after the credit.
    pub balance_after: i64,
    /// Ledger entry of the credit.
    pub ledger_entry_id: i64,
    /// Coupon issued.
    pub coupon_id: i64,
    /// Cash credited to the KOC, fen.
    pub cash_fen: i64,
    /// KOC earnings entry of the cash.
    pub earnings_entry_id: i64,
}

const GRANT_COLUMNS: &str = "id, idempotency_key, reward_definition_id, reward_name, kind, external_userid, koc_id, \
     source, source_kind, attributed_koc_id, status, store_id, issued_by, issued_at, points, balance_after, \
     ledger_entry_id, coupon_id, cash_fen, earnings_entry_id";

/// A customer's points account.
#[derive(Debug, Clone, Default, PartialEq, Eq, FromRow)]
pub struct AccountRow {
    /// Customer.
    pub external_userid: String,
    /// Balance.
    pub balance: i64,
    /// Credited over its life.
    pub earned_total: i64,
    /// Debited over its life.
    pub spent_total: i64,
    /// Unix ms of the last change; 0 for a customer who never had points.
    pub updated_at: i64,
}

/// One points movement.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct LedgerRow {
    /// Id.
    pub id: i64,
    /// Customer.
    pub external_userid: String,
    /// Points moved.
    pub delta: i64,
    /// Balance after.
    pub balance_after: i64,
    /// PointsChangeReason code.
    pub reason: i32,
    /// Grant, for rewards.
    pub grant_id: i64,
    /// Note.
    pub note: String,
    /// Staff who adjusted.
    pub operator_userid: String,
    /// Unix ms.
    pub occurred_at: i64,
}

const LEDGER_COLUMNS: &str =
    "id, external_userid, delta, balance_after, reason, grant_id, note, operator_userid, occurred_at";

/// One issued coupon.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct CouponRow {
    /// Id.
    pub id: i64,
    /// Redemption code.
    pub code: String,
    /// Definition.
    pub reward_definition_id: i64,
    /// Grant.
    pub grant_id: i64,
    /// Holder.
    pub external_userid: String,
    /// Name at issue time.
    pub name: String,
    /// Face value, fen.
    pub face_value_fen: i64,
    /// Threshold, fen.
    pub threshold_fen: i64,
    /// Unix ms.
    pub valid_from: i64,
    /// Unix ms.
    pub valid_until: i64,
    /// Comma-separated stores.
    pub store_ids: String,
    /// Terms.
    pub usage_note: String,
    /// Stored CouponStatus code (AVAILABLE or REDEEMED).
    pub status: i32,
    /// Attributed KOC.
    pub attributed_koc_id: i64,
    /// Unix ms.
    pub issued_at: i64,
    /// Unix ms.
    pub redeemed_at: Option<i64>,
    /// Staff who redeemed it.
    pub redeemed_by: String,
    /// Store where redeemed.
    pub redeemed_store_id: i64,
    /// Order number.
    pub order_no: String,
    /// Order amount, fen.
    pub order_amount_fen: i64,
    /// Discount given, fen.
    pub discount_fen: i64,
}

impl CouponRow {
    /// The applicable stores.
    pub fn stores(&self) -> Vec<i64> {
        self.store_ids.split(',').filter_map(|store| store.parse().ok()).collect()
    }
}

const COUPON_COLUMNS: &str = "id, code, reward_definition_id, grant_id, external_userid, name, face_value_fen, \
     threshold_fen, valid_from, valid_until, store_ids, usage_note, status, attributed_koc_id, issued_at, \
     redeemed_at, redeemed_by, redeemed_store_id, order_no, order_amount_fen, discount_fen";

/// A definition to create or the new values of one.
#[derive(Debug, Clone)]
pub struct DefinitionFields<'a> {
    /// Display name.
    pub name: &'a str,
    /// Description.
    pub description: &'a str,
    /// Image URL.
    pub image_url: &'a str,
    /// RewardKind code.
    pub kind: i32,
    /// Encoded content.
    pub config: Vec<u8>,
    /// Stock, 0 = unlimited.
    pub stock_total: i64,
    /// Per-recipient limit.
    pub per_recipient_limit: i32,
    /// Store.
    pub store_id: i64,
}

/// Filters of the definition list.
#[derive(Debug, Clone, Default)]
pub struct DefinitionFilter {
    /// RewardKind code, 0 = any.
    pub kind: i32,
    /// RewardDefinitionStatus code.
    pub status: i32,
    /// Only these stores (0 = corp-wide definitions); `None` = any store.
    pub stores: Option<Vec<i64>>,
    /// Name substring.
    pub query: String,
}

/// What a coupon grant issues.
#[derive(Debug, Clone)]
pub struct CouponPlan {
    /// Name at issue time.
    pub name: String,
    /// Face value, fen.
    pub face_value_fen: i64,
    /// Threshold, fen.
    pub threshold_fen: i64,
    /// Unix ms.
    pub valid_from: i64,
    /// Unix ms.
    pub valid_until: i64,
    /// Applicable stores.
    pub store_ids: Vec<i64>,
    /// Terms.
    pub usage_note: String,
}

/// What a grant gives.
#[derive(Debug, Clone)]
pub enum Give {
    /// Points credited to the customer.
    Points {
        /// How many.
        points: i64,
        /// The ledger note.
        note: String,
    },
    /// A coupon issued to the customer.
    Coupon(CouponPlan),
    /// Cash credited to the KOC's earnings ledger.
    Cash(CashPlan),
}

/// What a cash grant credits to the KOC's earnings ledger.
#[derive(Debug, Clone)]
pub struct CashPlan {
    /// Amount, fen.
    pub amount_fen: i64,
    /// KocEarningsKind code of the entry.
    pub kind: i32,
    /// The fission campaign involved, 0 for none.
    pub campaign_id: i64,
    /// The KOC task, 0 for none.
    pub koc_task_id: i64,
    /// Order number, for commissions.
    pub order_no: String,
    /// The corp-timezone day the entry counts for, YYYY-MM-DD.
    pub day: String,
}

/// A grant to make.
#[derive(Debug, Clone)]
pub struct NewGrant {
    /// Idempotency key.
    pub idempotency_key: String,
    /// Definition, 0 for ad-hoc.
    pub reward_definition_id: i64,
    /// Per-recipient limit of the definition, 0 = unlimited.
    pub per_recipient_limit: i32,
    /// Name at issue time.
    pub reward_name: String,
    /// RewardKind code.
    pub kind: i32,
    /// Customer recipient; empty for a KOC.
    pub external_userid: String,
    /// KOC recipient; 0 for a customer.
    pub koc_id: i64,
    /// Encoded RewardSource.
    pub source: Vec<u8>,
    /// RewardSourceKind code.
    pub source_kind: i32,
    /// Campaign, for filtering.
    pub campaign_id: i64,
    /// Check-in activity, for filtering.
    pub check_in_activity_id: i64,
    /// Attributed KOC.
    pub attributed_koc_id: i64,
    /// Store.
    pub store_id: i64,
    /// Staff who issued it.
    pub issued_by: String,
    /// Unix ms.
    pub issued_at: i64,
    /// What it gives.
    pub give: Give,
    /// 128 random bits per attempt at a unique coupon code.
    pub code_seeds: Vec<u128>,
}

/// How an issue ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssueOutcome {
    /// Given now.
    Issued(GrantRow),
    /// The key was used before: the first grant.
    Duplicate(GrantRow),
    /// The definition is archived (or gone).
    Archived,
    /// No stock left.
    OutOfStock,
    /// The recipient reached the per-recipient limit.
    LimitReached,
}

/// How a points adjustment ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdjustOutcome {
    /// Moved now: the entry and the account after it.
    Moved(LedgerRow, AccountRow),
    /// The key was used before: its entry and the current account.
    Duplicate(LedgerRow, AccountRow),
    /// A debit would leave a negative balance; the balance now.
    Insufficient(i64),
}

/// A redemption to record.
#[derive(Debug, Clone)]
pub struct Redemption<'a> {
    /// Coupon id.
    pub coupon_id: i64,
    /// Idempotency key.
    pub idempotency_key: &'a str,
    /// Staff.
    pub redeemed_by: &'a str,
    /// Store.
    pub store_id: i64,
    /// Order number.
    pub order_no: &'a str,
    /// Order amount, fen.
    pub order_amount_fen: i64,
    /// Discount, fen.
    pub discount_fen: i64,
    /// Unix ms.
    pub at: i64,
}

/// Filters of the grant list.
#[derive(Debug, Clone, Default)]
pub struct GrantFilter {
    /// Customer, empty = any.
    pub external_userid: String,
    /// KOC, 0 = any.
    pub koc_id: i64,
    /// Definition, 0 = any.
    pub reward_definition_id: i64,
    /// RewardKind code, 0 = any.
    pub kind: i32,
    /// RewardSourceKind code, 0 = any.
    pub source_kind: i32,
    /// Campaign, 0 = any.
    pub campaign_id: i64,
    /// Check-in activity, 0 = any.
    pub check_in_activity_id: i64,
    /// GrantStatus code, 0 = any.
    pub status: i32,
    /// Unix ms lower bound (inclusive).
    pub issued_after: Option<i64>,
    /// Unix ms upper bound (exclusive).
    pub issued_before: Option<i64>,
}

/// Reads and writes the rewards tables.
#[derive(Debug, Clone)]
pub struct RewardsStore {
    db: Db,
}

impl RewardsStore {
    /// A store over `db` (migrated with [`crate::MIGRATIONS`]).
    pub fn new(db: Db) -> Self {
        RewardsStore { db }
    }

    /// Creates an ACTIVE definition.
    pub async fn create_definition(
        &self,
        fields: &DefinitionFields<'_>,
        created_by: &str,
        now: i64,
    ) -> Result<DefinitionRow, sqlx::Error> {
        let mut connection = self.db.pool().acquire().await?;
        sqlx::query(
            "INSERT INTO rewards_definition (name, description, image_url, kind, config, status, stock_total, \
             issued_count, per_recipient_limit, store_id, created_by, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, 1, ?, 0, ?, ?, ?, ?, ?)",
        )
        .bind(fields.name)
        .bind(fields.description)
        .bind(fields.image_url)
        .bind(fields.kind)
        .bind(fields.config.clone())
        .bind(fields.stock_total)
        .bind(fields.per_recipient_limit)
        .bind(fields.store_id)
        .bind(created_by)
        .bind(now)
        .bind(now)
        .execute(&mut *connection)
        .await?;
        let id = last_insert_id(&mut connection, self.db.dialect()).await?;
        drop(connection);
        self.definition(id).await?.ok_or(sqlx::Error::RowNotFound)
    }

    /// One definition.
    pub async fn definition(&self, id: i64) -> Result<Option<DefinitionRow>, sqlx::Error> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {DEFINITION_COLUMNS} FROM rewards_definition WHERE id = ?")))
            .bind(id)
            .fetch_optional(self.db.pool())
            .await
    }

    /// Definitions, newest first, with ids below `before`.
    pub async fn list_definitions(
        &self,
        filter: &DefinitionFilter,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<DefinitionRow>, sqlx::Error> {
        let mut query =
            QueryBuilder::<Any>::new(format!("SELECT {DEFINITION_COLUMNS} FROM rewards_definition WHERE status = "));
        query.push_bind(filter.status);
        if filter.kind != 0 {
            query.push(" AND kind = ").push_bind(filter.kind);
        }
        if let Some(stores) = &filter.stores {
            query.push(" AND store_id IN (");
            let mut separated = query.separated(", ");
            for store in stores {
                separated.push_bind(*store);
            }
            query.push(")");
        }
        if !filter.query.is_empty() {
            query.push(" AND name LIKE ").push_bind(like_pattern(&filter.query)).push(" ESCAPE '!'");
        }
        if let Some(before) = before {
            query.push(" AND id < ").push_bind(before);
        }
        query.push(" ORDER BY id DESC LIMIT ").push_bind(i64::from(limit));
        query.build_query_as().fetch_all(self.db.pool()).await
    }

    /// Replaces a definition's editable fields; `None` when it does not exist.
    pub async fn update_definition(
        &self,
        id: i64,
        fields: &DefinitionFields<'_>,
        now: i64,
    ) -> Result<Option<DefinitionRow>, sqlx::Error> {
        sqlx::query(
            "UPDATE rewards_definition SET name = ?, description = ?, image_url = ?, config = ?, stock_total = ?, \
             per_recipient_limit = ?, store_id = ?, updated_at = ? WHERE id = ?",
        )
        .bind(fields.name)
        .bind(fields.description)
        .bind(fields.image_url)
        .bind(fields.config.clone())
        .bind(fields.stock_total)
        .bind(fields.per_recipient_limit)
        .bind(fields.store_id)
        .bind(now)
        .bind(id)
        .execute(self.db.pool())
        .await?;
        self.definition(id).await
    }

    /// Archives a definition (a no-op when archived already); `None` when it does not exist.
    pub async fn archive_definition(&self, id: i64, now: i64) -> Result<Option<DefinitionRow>, sqlx::Error> {
        sqlx::query("UPDATE rewards_definition SET status = 2, updated_at = ? WHERE id = ? AND status = 1")
            .bind(now)
            .bind(id)
            .execute(self.db.pool())
            .await?;
        self.definition(id).await
    }

    /// The grant issued with `idempotency_key`.
    pub async fn grant_by_key(&self, idempotency_key: &str) -> Result<Option<GrantRow>, sqlx::Error> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {GRANT_COLUMNS} FROM rewards_grant WHERE idempotency_key = ?"
        )))
        .bind(idempotency_key)
        .fetch_optional(self.db.pool())
        .await
    }

    /// One grant.
    pub async fn grant(&self, id: i64) -> Result<Option<GrantRow>, sqlx::Error> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {GRANT_COLUMNS} FROM rewards_grant WHERE id = ?")))
            .bind(id)
            .fetch_optional(self.db.pool())
            .await
    }

    /// Makes a grant exactly once per idempotency key: takes one unit of the definition's stock, claims the key,
    /// checks the per-recipient limit and gives the points or the coupon, all in one transaction. Taking the
    /// definition's row first serializes the grants of one definition; a transaction MySQL still picks as a
    /// deadlock victim is run again.
    pub async fn issue(&self, grant: &NewGrant) -> Result<IssueOutcome, sqlx::Error> {
        let mut attempts = 0;
        loop {
            match self.issue_once(grant).await {
                Err(error) if is_deadlock(&error) && attempts < MAX_DEADLOCK_RETRIES => attempts += 1,
                outcome => return outcome,
            }
        }
    }

    async fn issue_once(&self, grant: &NewGrant) -> Result<IssueOutcome, sqlx::Error> {
        if let Some(first) = self.grant_by_key(&grant.idempotency_key).await? {
            return Ok(IssueOutcome::Duplicate(first));
        }
        let dialect = self.db.dialect();
        let mut connection = self.db.pool().acquire().await?;
        let mut tx = begin_write(&mut connection, dialect).await?;
        if grant.reward_definition_id > 0 {
            let taken = sqlx::query(
                "UPDATE rewards_definition SET issued_count = issued_count + 1 WHERE id = ? AND status = 1 \
                 AND (stock_total = 0 OR issued_count < stock_total)",
            )
            .bind(grant.reward_definition_id)
            .execute(&mut *tx)
            .await?;
            if taken.rows_affected() == 0 {
                let status: Option<i32> = sqlx::query_scalar("SELECT status FROM rewards_definition WHERE id = ?")
                    .bind(grant.reward_definition_id)
                    .fetch_optional(&mut *tx)
                    .await?;
                tx.rollback().await?;
                drop(connection);
                if let Some(first) = self.grant_by_key(&grant.idempotency_key).await? {
                    return Ok(IssueOutcome::Duplicate(first));
                }
                return Ok(if status == Some(1) { IssueOutcome::OutOfStock } else { IssueOutcome::Archived });
            }
        }
        let claimed = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{} INTO rewards_grant (idempotency_key, reward_definition_id, reward_name, kind, external_userid, \
             koc_id, source, source_kind, campaign_id, check_in_activity_id, attributed_koc_id, status, store_id, \
             issued_by, issued_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?)",
            dialect.insert_ignore()
        )))
        .bind(&grant.idempotency_key)
        .bind(grant.reward_definition_id)
        .bind(&grant.reward_name)
        .bind(grant.kind)
        .bind(&grant.external_userid)
        .bind(grant.koc_id)
        .bind(grant.source.clone())
        .bind(grant.source_kind)
        .bind(grant.campaign_id)
        .bind(grant.check_in_activity_id)
        .bind(grant.attributed_koc_id)
        .bind(grant.store_id)
        .bind(&grant.issued_by)
        .bind(grant.issued_at)
        .execute(&mut *tx)
        .await?;
        if claimed.rows_affected() == 0 {
            tx.rollback().await?;
            drop(connection);
            let first = self.grant_by_key(&grant.idempotency_key).await?.ok_or(sqlx::Error::RowNotFound)?;
            return Ok(IssueOutcome::Duplicate(first));
        }
        let grant_id = last_insert_id(&mut tx, dialect).await?;
        if grant.reward_definition_id > 0 && grant.per_recipient_limit > 0 {
            let received: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM rewards_grant WHERE reward_definition_id = ? AND external_userid = ? \
                 AND koc_id = ?",
            )
            .bind(grant.reward_definition_id)
            .bind(&grant.external_userid)
            .bind(grant.koc_id)
            .fetch_one(&mut *tx)
            .await?;
            if received > i64::from(grant.per_recipient_limit) {
                tx.rollback().await?;
                return Ok(IssueOutcome::LimitReached);
            }
        }
        match &grant.give {
            Give::Points { points, note } => {
                let (entry, account) = move_points(
                    &mut tx,
                    dialect,
                    &PointsMove {
                        key: &format!("grant:{grant_id}"),
                        external_userid: &grant.external_userid,
                        delta: *points,
                        reason: 1,
                        grant_id,
                        note,
                        operator: "",
                        at: grant.issued_at,
                    },
                )
                .await?
                .ok_or(sqlx::Error::RowNotFound)?;
                sqlx::query("UPDATE rewards_grant SET points = ?, balance_after = ?, ledger_entry_id = ? WHERE id = ?")
                    .bind(*points)
                    .bind(account.balance)
                    .bind(entry)
                    .bind(grant_id)
                    .execute(&mut *tx)
                    .await?;
            }
            Give::Cash(plan) => {
                sqlx::query(
                    "INSERT INTO rewards_koc_earnings (koc_id, kind, amount_fen, campaign_id, grant_id, koc_task_id, \
                     order_no, day, occurred_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                )
                .bind(grant.koc_id)
                .bind(plan.kind)
                .bind(plan.amount_fen)
                .bind(plan.campaign_id)
                .bind(grant_id)
                .bind(plan.koc_task_id)
                .bind(&plan.order_no)
                .bind(&plan.day)
                .bind(grant.issued_at)
                .execute(&mut *tx)
                .await?;
                let entry = last_insert_id(&mut tx, dialect).await?;
                sqlx::query("UPDATE rewards_grant SET cash_fen = ?, earnings_entry_id = ? WHERE id = ?")
                    .bind(plan.amount_fen)
                    .bind(entry)
                    .bind(grant_id)
                    .execute(&mut *tx)
                    .await?;
            }
            Give::Coupon(plan) => {
                let coupon_id = insert_coupon(&mut tx, dialect, grant, grant_id, plan).await?;
                sqlx::query("UPDATE rewards_grant SET coupon_id = ? WHERE id = ?")
                    .bind(coupon_id)
                    .bind(grant_id)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        drop(connection);
        Ok(IssueOutcome::Issued(self.grant(grant_id).await?.ok_or(sqlx::Error::RowNotFound)?))
    }

    /// Grants, newest first, with ids below `before`.
    pub async fn list_grants(
        &self,
        filter: &GrantFilter,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<GrantRow>, sqlx::Error> {
        let mut query = QueryBuilder::<Any>::new(format!("SELECT {GRANT_COLUMNS} FROM rewards_grant WHERE 1 = 1"));
        if !filter.external_userid.is_empty() {
            query.push(" AND external_userid = ").push_bind(filter.external_userid.clone());
        }
        let equal = [
            (" AND koc_id = ", filter.koc_id),
            (" AND reward_definition_id = ", filter.reward_definition_id),
            (" AND kind = ", i64::from(filter.kind)),
            (" AND source_kind = ", i64::from(filter.source_kind)),
            (" AND campaign_id = ", filter.campaign_id),
            (" AND check_in_activity_id = ", filter.check_in_activity_id),
            (" AND status = ", i64::from(filter.status)),
        ];
        for (clause, value) in equal {
            if value != 0 {
                query.push(clause).push_bind(value);
            }
        }
        if let Some(after) = filter.issued_after {
            query.push(" AND issued_at >= ").push_bind(after);
        }
        if let Some(before) = filter.issued_before {
            query.push(" AND issued_at < ").push_bind(before);
        }
        if let Some(before) = before {
            query.push(" AND id < ").push_bind(before);
        }
        query.push(" ORDER BY id DESC LIMIT ").push_bind(i64::from(limit));
        query.build_query_as().fetch_all(self.db.pool()).await
    }

    /// A customer's points account (zero when they never had points).
    pub async fn account(&self, external_userid: &str) -> Result<AccountRow, sqlx::Error> {
        let row: Option<AccountRow> = sqlx::query_as(
            "SELECT external_userid, balance, earned_total, spent_total, updated_at FROM rewards_points_account \
             WHERE external_userid = ?",
        )
        .bind(external_userid)
        .fetch_optional(self.db.pool())
        .await?;
        Ok(row.unwrap_or_else(|| AccountRow { external_userid: external_userid.to_owned(), ..AccountRow::default() }))
    }

    /// One ledger entry.
    pub async fn ledger_entry(&self, id: i64) -> Result<Option<LedgerRow>, sqlx::Error> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {LEDGER_COLUMNS} FROM rewards_points_ledger WHERE id = ?")))
            .bind(id)
            .fetch_optional(self.db.pool())
            .await
    }

    /// A customer's points movements, newest first, with ids below `before`.
    pub async fn ledger(
        &self,
        external_userid: &str,
        reason: i32,
        range: (Option<i64>, Option<i64>),
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<LedgerRow>, sqlx::Error> {
        let mut query = QueryBuilder::<Any>::new(format!(
            "SELECT {LEDGER_COLUMNS} FROM rewards_points_ledger WHERE external_userid = "
        ));
        query.push_bind(external_userid.to_owned());
        if reason != 0 {
            query.push(" AND reason = ").push_bind(reason);
        }
        if let Some(from) = range.0 {
            query.push(" AND occurred_at >= ").push_bind(from);
        }
        if let Some(until) = range.1 {
            query.push(" AND occurred_at < ").push_bind(until);
        }
        if let Some(before) = before {
            query.push(" AND id < ").push_bind(before);
        }
        query.push(" ORDER BY id DESC LIMIT ").push_bind(i64::from(limit));
        query.build_query_as().fetch_all(self.db.pool()).await
    }

    /// Credits or debits points by hand, once per key; a debit never takes the balance below zero. A
    /// transaction MySQL picks as a deadlock victim is run again.
    pub async fn adjust_points(
        &self,
        external_userid: &str,
        delta: i64,
        note: &str,
        operator: &str,
        idempotency_key: &str,
        at: i64,
    ) -> Result<AdjustOutcome, sqlx::Error> {
        let mut attempts = 0;
        loop {
            match self.adjust_once(external_userid, delta, note, operator, idempotency_key, at).await {
                Err(error) if is_deadlock(&error) && attempts < MAX_DEADLOCK_RETRIES => attempts += 1,
                outcome => return outcome,
            }
        }
    }

    async fn adjust_once(
        &self,
        external_userid: &str,
        delta: i64,
        note: &str,
        operator: &str,
        idempotency_key: &str,
        at: i64,
    ) -> Result<AdjustOutcome, sqlx::Error> {
        let key = format!("adjust:{idempotency_key}");
        if let Some(outcome) = self.adjusted(&key).await? {
            return Ok(outcome);
        }
        let dialect = self.db.dialect();
        let mut connection = self.db.pool().acquire().await?;
        let mut tx = begin_write(&mut connection, dialect).await?;
        let movement = PointsMove { key: &key, external_userid, delta, reason: 2, grant_id: 0, note, operator, at };
        let moved = match move_points(&mut tx, dialect, &movement).await {
            Ok(moved) => moved,
            Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
                tx.rollback().await?;
                drop(connection);
                return self.adjusted(&key).await?.ok_or(sqlx::Error::RowNotFound);
            }
            Err(error) => return Err(error),
        };
        match moved {
            Some((entry, account)) => {
                tx.commit().await?;
                drop(connection);
                let entry = self.ledger_entry(entry).await?.ok_or(sqlx::Error::RowNotFound)?;
                Ok(AdjustOutcome::Moved(entry, account))
            }
            None => {
                tx.rollback().await?;
                drop(connection);
                Ok(AdjustOutcome::Insufficient(self.account(external_userid).await?.balance))
            }
        }
    }

    async fn adjusted(&self, key: &str) -> Result<Option<AdjustOutcome>, sqlx::Error> {
        let entry: Option<LedgerRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {LEDGER_COLUMNS} FROM rewards_points_ledger WHERE idempotency_key = ?"
        )))
        .bind(key)
        .fetch_optional(self.db.pool())
        .await?;
        match entry {
            Some(entry) => {
                let account = self.account(&entry.external_userid).await?;
                Ok(Some(AdjustOutcome::Duplicate(entry, account)))
            }
            None => Ok(None),
        }
    }

    /// One coupon by id.
    pub async fn coupon(&self, id: i64) -> Result<Option<CouponRow>, sqlx::Error> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {COUPON_COLUMNS} FROM rewards_coupon WHERE id = ?")))
            .bind(id)
            .fetch_optional(self.db.pool())
            .await
    }

    /// One coupon by code.
    pub async fn coupon_by_code(&self, code: &str) -> Result<Option<CouponRow>, sqlx::Error> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {COUPON_COLUMNS} FROM rewards_coupon WHERE code = ?")))
            .bind(code)
            .fetch_optional(self.db.pool())
            .await
    }

    /// The coupon redeemed with `idempotency_key`.
    pub async fn coupon_by_redeem_key(&self, idempotency_key: &str) -> Result<Option<CouponRow>, sqlx::Error> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {COUPON_COLUMNS} FROM rewards_coupon WHERE redeem_key = ?")))
            .bind(idempotency_key)
            .fetch_optional(self.db.pool())
            .await
    }

    /// A customer's coupons, newest first, with ids below `before`; `status` is the status shown at `now`
    /// (AVAILABLE and EXPIRED are told apart by `valid_until`), 0 for any.
    pub async fn list_coupons(
        &self,
        external_userid: &str,
        status: i32,
        now: i64,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<CouponRow>, sqlx::Error> {
        let mut query =
            QueryBuilder::<Any>::new(format!("SELECT {COUPON_COLUMNS} FROM rewards_coupon WHERE external_userid = "));
        query.push_bind(external_userid.to_owned());
        match status {
            1 => {
                query.push(" AND status = 1 AND valid_until >= ").push_bind(now);
            }
            2 => {
                query.push(" AND status = 2");
            }
            3 => {
                query.push(" AND status = 1 AND valid_until < ").push_bind(now);
            }
            _ => {}
        }
        if let Some(before) = before {
            query.push(" AND id < ").push_bind(before);
        }
        query.push(" ORDER BY id DESC LIMIT ").push_bind(i64::from(limit));
        query.build_query_as().fetch_all(self.db.pool()).await
    }

    /// Marks an AVAILABLE coupon redeemed under `idempotency_key`; false when it is no longer AVAILABLE (or
    /// the key was used for another redemption).
    pub async fn redeem(&self, redemption: &Redemption<'_>) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "UPDATE rewards_coupon SET status = 2, redeemed_at = ?, redeemed_by = ?, redeemed_store_id = ?, \
             order_no = ?, order_amount_fen = ?, discount_fen = ?, redeem_key = ? WHERE id = ? AND status = 1",
        )
        .bind(redemption.at)
        .bind(redemption.redeemed_by)
        .bind(redemption.store_id)
        .bind(redemption.order_no)
        .bind(redemption.order_amount_fen)
        .bind(redemption.discount_fen)
        .bind(redemption.idempotency_key)
        .bind(redemption.coupon_id)
        .execute(self.db.pool())
        .await;
        match done {
            Ok(done) => Ok(done.rows_affected() > 0),
            Err(sqlx::Error::Database(error)) if error.is_unique_violation() => Ok(false),
            Err(error) => Err(error),
        }
    }
}

/// One movement of points inside a transaction.
struct PointsMove<'a> {
    key: &'a str,
    external_userid: &'a str,
    delta: i64,
    reason: i32,
    grant_id: i64,
    note: &'a str,
    operator: &'a str,
    at: i64,
}

/// Moves points and writes the ledger entry; `None` (nothing moved) when a debit would go below zero.
///
/// A credit is one upsert and a debit one conditional update, so each takes the account row's exclusive lock at
/// once (an insert-if-missing followed by an update would share-lock it first and could deadlock on MySQL).
async fn move_points(
    tx: &mut AnyConnection,
    dialect: Dialect,
    movement: &PointsMove<'_>,
) -> Result<Option<(i64, AccountRow)>, sqlx::Error> {
    let moved = if movement.delta > 0 {
        let add = match dialect {
            Dialect::Sqlite => {
                "ON CONFLICT (external_userid) DO UPDATE SET balance = balance + excluded.balance, \
                 earned_total = earned_total + excluded.earned_total, updated_at = excluded.updated_at"
            }
            Dialect::MySql => {
                "ON DUPLICATE KEY UPDATE balance = balance + VALUES(balance), \
                 earned_total = earned_total + VALUES(earned_total), updated_at = VALUES(updated_at)"
            }
        };
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO rewards_points_account (external_userid, balance, earned_total, spent_total, updated_at) \
             VALUES (?, ?, ?, 0, ?) {add}"
        )))
        .bind(movement.external_userid)
        .bind(movement.delta)
        .bind(movement.delta)
        .bind(movement.at)
        .execute(&mut *tx)
        .await?
    } else {
        sqlx::query(
            "UPDATE rewards_points_account SET balance = balance + ?, spent_total = spent_total + ?, \
             updated_at = ? WHERE external_userid = ? AND balance + ? >= 0",
        )
        .bind(movement.delta)
        .bind(-movement.delta)
        .bind(movement.at)
        .bind(movement.external_userid)
        .bind(movement.delta)
        .execute(&mut *tx)
        .await?
    };
    if moved.rows_affected() == 0 {
        return Ok(None);
    }
    let account: AccountRow = sqlx::query_as(
        "SELECT external_userid, balance, earned_total, spent_total, updated_at FROM rewards_points_account \
         WHERE external_userid = ?",
    )
    .bind(movement.external_userid)
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO rewards_points_ledger (idempotency_key, external_userid, delta, balance_after, reason, \
         grant_id, note, operator_userid, occurred_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(movement.key)
    .bind(movement.external_userid)
    .bind(movement.delta)
    .bind(account.balance)
    .bind(movement.reason)
    .bind(movement.grant_id)
    .bind(movement.note)
    .bind(movement.operator)
    .bind(movement.at)
    .execute(&mut *tx)
    .await?;
    let entry = last_insert_id(&mut *tx, dialect).await?;
    Ok(Some((entry, account)))
}

/// Inserts the coupon of a grant under the first of its code seeds that gives an unused code.
async fn insert_coupon(
    tx: &mut AnyConnection,
    dialect: Dialect,
    grant: &NewGrant,
    grant_id: i64,
    plan: &CouponPlan,
) -> Result<i64, sqlx::Error> {
    let stores: Vec<String> = plan.store_ids.iter().map(i64::to_string).collect();
    for seed in &grant.code_seeds {
        let inserted = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{} INTO rewards_coupon (code, reward_definition_id, grant_id, external_userid, name, face_value_fen, \
             threshold_fen, valid_from, valid_until, store_ids, usage_note, status, attributed_koc_id, issued_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
            dialect.insert_ignore()
        )))
        .bind(crate::domain::coupon_code(*seed))
        .bind(grant.reward_definition_id)
        .bind(grant_id)
        .bind(&grant.external_userid)
        .bind(&plan.name)
        .bind(plan.face_value_fen)
        .bind(plan.threshold_fen)
        .bind(plan.valid_from)
        .bind(plan.valid_until)
        .bind(stores.join(","))
        .bind(&plan.usage_note)
        .bind(grant.attributed_koc_id)
        .bind(grant.issued_at)
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 1 {
            return last_insert_id(&mut *tx, dialect).await;
        }
    }
    Err(sqlx::Error::Protocol("no unused coupon code among the seeds".into()))
}

/// Times a transaction chosen as a deadlock victim is run again.
const MAX_DEADLOCK_RETRIES: u32 = 5;

/// Whether `error` is MySQL's deadlock (SQLSTATE 40001): the transaction was rolled back and may run again.
fn is_deadlock(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(database) if database.code().as_deref() == Some("40001"))
}

/// Begins a transaction whose reads are followed by writes: on SQLite it takes the write lock at once
/// (`BEGIN IMMEDIATE`); on MySQL it reads committed data.
async fn begin_write(connection: &mut AnyConnection, dialect: Dialect) -> Result<Transaction<'_, Any>, sqlx::Error> {
    match dialect {
        Dialect::Sqlite => connection.begin_with("BEGIN IMMEDIATE").await,
        Dialect::MySql => {
            connection.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED").await?;
            connection.begin().await
        }
    }
}

/// The id the last insert on `connection` minted (the Any driver does not report it on every backend).
async fn last_insert_id(connection: &mut AnyConnection, dialect: Dialect) -> Result<i64, sqlx::Error> {
    let query = match dialect {
        Dialect::Sqlite => "SELECT last_insert_rowid()",
        Dialect::MySql => "SELECT CAST(LAST_INSERT_ID() AS SIGNED)",
    };
    sqlx::query_scalar(query).fetch_one(connection).await
}

/// A LIKE pattern matching `text` anywhere, with `!` escaping the wildcards.
fn like_pattern(text: &str) -> String {
    let escaped = text.replace('!', "!!").replace('%', "!%").replace('_', "!_");
    format!("%{escaped}%")
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn store(db: Db) -> RewardsStore {
        db.migrate(&crate::MIGRATIONS).await.expect("the rewards tables migrate");
        RewardsStore::new(db)
    }

    fn coupon_fields(stock_total: i64, per_recipient_limit: i32) -> DefinitionFields<'static> {
        DefinitionFields {
            name: "满100减20券",
            description: "",
            image_url: "",
            kind: 2,
            config: vec![8, 1],
            stock_total,
            per_recipient_limit,
            store_id: 0,
        }
    }

    fn grant(key: &str, definition: &DefinitionRow, customer: &str, give: Give) -> NewGrant {
        NewGrant {
            idempotency_key: key.into(),
            reward_definition_id: definition.id,
            per_recipient_limit: definition.per_recipient_limit,
            reward_name: definition.name.clone(),
            kind: definition.kind,
            external_userid: customer.into(),
            koc_id: 0,
            source: Vec::new(),
            source_kind: 5,
            campaign_id: 0,
            check_in_activity_id: 0,
            attributed_koc_id: 0,
            store_id: 0,
            issued_by: "zhangsan".into(),
            issued_at: 1_000,
            give,
            code_seeds: vec![1, 2, 3],
        }
    }

    fn coupon_plan() -> Give {
        Give::Coupon(CouponPlan {
            name: "满100减20券".into(),
            face_value_fen: 2000,
            threshold_fen: 10_000,
            valid_from: 1_000,
            valid_until: 9_000,
            store_ids: vec![3, 4],
            usage_note: String::new(),
        })
    }

    fn issued(outcome: IssueOutcome) -> GrantRow {
        match outcome {
            IssueOutcome::Issued(row) => row,
            other => panic!("expected an issued grant, got {other:?}"),
        }
    }

    async fn definitions_are_created_listed_updated_and_archived(db: Db) {
        let store = store(db).await;
        let first = store.create_definition(&coupon_fields(0, 0), "op", 10).await.unwrap();
        let mut points = coupon_fields(0, 0);
        points.name = "签到积分 100%_";
        points.kind = 1;
        let second = store.create_definition(&points, "op", 11).await.unwrap();
        assert_eq!((first.status, first.issued_count, first.created_by.as_str()), (1, 0, "op"));
        let active = DefinitionFilter { status: 1, ..DefinitionFilter::default() };
        let listed = store.list_definitions(&active, None, 10).await.unwrap();
        assert_eq!(listed.iter().map(|row| row.id).collect::<Vec<_>>(), vec![second.id, first.id]);
        let page = store.list_definitions(&active, Some(second.id), 10).await.unwrap();
        assert_eq!(page.iter().map(|row| row.id).collect::<Vec<_>>(), vec![first.id]);
        let search = DefinitionFilter { query: "100%_".into(), ..active.clone() };
        assert_eq!(store.list_definitions(&search, None, 10).await.unwrap().len(), 1);
        let coupons = DefinitionFilter { kind: 2, ..active.clone() };
        assert_eq!(store.list_definitions(&coupons, None, 10).await.unwrap()[0].id, first.id);
        let other_store = DefinitionFilter { stores: Some(vec![7]), ..active.clone() };
        assert!(store.list_definitions(&other_store, None, 10).await.unwrap().is_empty());

        let mut renamed = coupon_fields(5, 1);
        renamed.name = "新券";
        let updated = store.update_definition(first.id, &renamed, 20).await.unwrap().unwrap();
        assert_eq!((updated.name.as_str(), updated.stock_total, updated.updated_at), ("新券", 5, 20));
        let archived = store.archive_definition(first.id, 30).await.unwrap().unwrap();
        assert_eq!(archived.status, 2);
        assert_eq!(store.list_definitions(&active, None, 10).await.unwrap().len(), 1);
        assert!(store.archive_definition(999, 30).await.unwrap().is_none());
    }

    async fn coupon_grants_are_exactly_once_within_stock_and_limit(db: Db) {
        let store = store(db).await;
        let definition = store.create_definition(&coupon_fields(2, 1), "op", 10).await.unwrap();
        let first = issued(store.issue(&grant("k1", &definition, "wmA", coupon_plan())).await.unwrap());
        let coupon = store.coupon(first.coupon_id).await.unwrap().unwrap();
        assert_eq!((coupon.grant_id, coupon.external_userid.as_str(), coupon.status), (first.id, "wmA", 1));
        assert_eq!(coupon.stores(), vec![3, 4]);
        assert_eq!(coupon.code, crate::domain::coupon_code(1));
        assert_eq!(store.coupon_by_code(&coupon.code).await.unwrap().unwrap().id, coupon.id);

        let again = store.issue(&grant("k1", &definition, "wmA", coupon_plan())).await.unwrap();
        assert_eq!(again, IssueOutcome::Duplicate(first.clone()));
        let limited = store.issue(&grant("k2", &definition, "wmA", coupon_plan())).await.unwrap();
        assert_eq!(limited, IssueOutcome::LimitReached);
        let second = issued(store.issue(&grant("k3", &definition, "wmB", coupon_plan())).await.unwrap());
        let second_coupon = store.coupon(second.coupon_id).await.unwrap().unwrap();
        assert_ne!(second_coupon.code, coupon.code, "a used code is skipped");
        assert_eq!(
            store.issue(&grant("k4", &definition, "wmC", coupon_plan())).await.unwrap(),
            IssueOutcome::OutOfStock
        );
        assert_eq!(store.definition(definition.id).await.unwrap().unwrap().issued_count, 2);
        store.archive_definition(definition.id, 20).await.unwrap();
        assert_eq!(store.issue(&grant("k5", &definition, "wmC", coupon_plan())).await.unwrap(), IssueOutcome::Archived);

        let mine = store.list_coupons("wmA", 0, 5_000, None, 10).await.unwrap();
        assert_eq!(mine.len(), 1);
        assert_eq!(store.list_coupons("wmA", 1, 5_000, None, 10).await.unwrap().len(), 1);
        assert_eq!(store.list_coupons("wmA", 3, 5_000, None, 10).await.unwrap().len(), 0);
        assert_eq!(store.list_coupons("wmA", 3, 9_001, None, 10).await.unwrap().len(), 1);
        let by_customer = GrantFilter { external_userid: "wmB".into(), ..GrantFilter::default() };
        assert_eq!(store.list_grants(&by_customer, None, 10).await.unwrap(), vec![second.clone()]);
        let by_definition = GrantFilter { reward_definition_id: definition.id, ..GrantFilter::default() };
        let all = store.list_grants(&by_definition, None, 10).await.unwrap();
        assert_eq!(all.iter().map(|row| row.id).collect::<Vec<_>>(), vec![second.id, first.id]);
        let later = GrantFilter { issued_after: Some(2_000), ..GrantFilter::default() };
        assert!(store.list_grants(&later, None, 10).await.unwrap().is_empty());

        let redemption = Redemption {
            coupon_id: coupon.id,
            idempotency_key: "r1",
            redeemed_by: "clerk",
            store_id: 3,
            order_no: "SO1",
            order_amount_fen: 12_000,
            discount_fen: 2_000,
            at: 5_000,
        };
        assert!(store.redeem(&redemption).await.unwrap());
        assert!(!store.redeem(&redemption).await.unwrap(), "a redeemed coupon is not redeemed twice");
        let other = Redemption { coupon_id: second_coupon.id, ..redemption.clone() };
        assert!(!store.redeem(&other).await.unwrap(), "a key redeems one coupon");
        let redeemed = store.coupon_by_redeem_key("r1").await.unwrap().unwrap();
        assert_eq!((redeemed.id, redeemed.status, redeemed.redeemed_at), (coupon.id, 2, Some(5_000)));
        assert_eq!((redeemed.order_no.as_str(), redeemed.discount_fen, redeemed.redeemed_store_id), ("SO1", 2_000, 3));
        assert_eq!(store.list_coupons("wmA", 2, 5_000, None, 10).await.unwrap().len(), 1);
    }

    async fn points_move_through_the_ledger_and_never_below_zero(db: Db) {
        let store = store(db).await;
        let mut fields = coupon_fields(0, 0);
        fields.kind = 1;
        let definition = store.create_definition(&fields, "op", 10).await.unwrap();
        let give = || Give::Points { points: 30, note: "打卡奖励".into() };
        let first = issued(store.issue(&grant("p1", &definition, "wmA", give())).await.unwrap());
        assert_eq!((first.points, first.balance_after), (30, 30));
        let second = issued(store.issue(&grant("p2", &definition, "wmA", give())).await.unwrap());
        assert_eq!(second.balance_after, 60);
        assert!(matches!(
            store.issue(&grant("p2", &definition, "wmA", give())).await.unwrap(),
            IssueOutcome::Duplicate(_)
        ));

        let spent = store.adjust_points("wmA", -50, "门店兑换", "clerk", "a1", 2_000).await.unwrap();
        let AdjustOutcome::Moved(entry, account) = spent else { panic!("moved, got {spent:?}") };
        assert_eq!(
            (entry.delta, entry.balance_after, entry.reason, entry.operator_userid.as_str()),
            (-50, 10, 2, "clerk")
        );
        assert_eq!((account.balance, account.earned_total, account.spent_total), (10, 60, 50));
        let retry = store.adjust_points("wmA", -50, "门店兑换", "clerk", "a1", 2_001).await.unwrap();
        assert_eq!(retry, AdjustOutcome::Duplicate(entry.clone(), account.clone()));
        let refused = store.adjust_points("wmA", -11, "超额", "clerk", "a2", 2_002).await.unwrap();
        assert_eq!(refused, AdjustOutcome::Insufficient(10));
        assert_eq!(store.account("wmA").await.unwrap().balance, 10);
        let never = store.adjust_points("wmZ", -1, "无积分", "clerk", "a3", 2_003).await.unwrap();
        assert_eq!(never, AdjustOutcome::Insufficient(0));
        assert_eq!(
            store.account("wmZ").await.unwrap(),
            AccountRow { external_userid: "wmZ".into(), ..AccountRow::default() }
        );

        let ledger = store.ledger("wmA", 0, (None, None), None, 10).await.unwrap();
        assert_eq!(ledger.iter().map(|row| row.delta).collect::<Vec<_>>(), vec![-50, 30, 30]);
        assert_eq!(ledger[2].grant_id, first.id);
        assert_eq!(ledger[2].note, "打卡奖励");
        let rewards = store.ledger("wmA", 1, (None, None), None, 10).await.unwrap();
        assert_eq!(rewards.len(), 2);
        let early = store.ledger("wmA", 0, (None, Some(1_500)), None, 10).await.unwrap();
        assert_eq!(early.len(), 2);
        let page = store.ledger("wmA", 0, (None, None), Some(ledger[0].id), 1).await.unwrap();
        assert_eq!(page, vec![ledger[1].clone()]);
    }

    async fn concurrent_issues_keep_stock_keys_and_balances_exact(db: Db) {
        let store = store(db).await;
        let definition = store.create_definition(&coupon_fields(5, 0), "op", 10).await.unwrap();
        let mut tasks = Vec::new();
        for index in 0..16 {
            let (store, definition) = (store.clone(), definition.clone());
            // Keys repeat in pairs: 8 distinct grants asked for, against a stock of 5.
            let key = format!("c{}", index / 2);
            tasks.push(tokio::spawn(async move {
                let mut new = grant(&key, &definition, &format!("wm{index}"), coupon_plan());
                new.code_seeds = vec![1_000 + index as u128];
                store.issue(&new).await.unwrap()
            }));
        }
        let mut outcomes = Vec::new();
        for task in tasks {
            outcomes.push(task.await.unwrap());
        }
        let issued: std::collections::BTreeSet<i64> = outcomes
            .iter()
            .filter_map(|outcome| match outcome {
                IssueOutcome::Issued(row) | IssueOutcome::Duplicate(row) => Some(row.id),
                _ => None,
            })
            .collect();
        assert_eq!(issued.len(), 5, "exactly the stock is issued: {outcomes:?}");
        assert_eq!(store.definition(definition.id).await.unwrap().unwrap().issued_count, 5);
        assert!(outcomes.contains(&IssueOutcome::OutOfStock));

        let mut fields = coupon_fields(0, 0);
        fields.kind = 1;
        let points = store.create_definition(&fields, "op", 10).await.unwrap();
        let mut tasks = Vec::new();
        for index in 0..12 {
            let (store, points) = (store.clone(), points.clone());
            tasks.push(tokio::spawn(async move {
                if index % 3 == 0 {
                    let key = format!("spend{index}");
                    store.adjust_points("wmP", -5, "兑换", "clerk", &key, 2_000).await.unwrap();
                } else {
                    let give = Give::Points { points: 10, note: String::new() };
                    store.issue(&grant(&format!("p{index}"), &points, "wmP", give)).await.unwrap();
                }
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        let account = store.account("wmP").await.unwrap();
        let ledger = store.ledger("wmP", 0, (None, None), None, 100).await.unwrap();
        assert_eq!(account.balance, ledger.iter().map(|entry| entry.delta).sum::<i64>());
        assert_eq!(account.earned_total, 80);
        assert_eq!(account.balance, 80 - account.spent_total);
        assert!(ledger.iter().all(|entry| entry.balance_after >= 0));
    }

    async fn cash_grants_credit_the_koc_earnings_ledger(db: Db) {
        let store = store(db.clone()).await;
        let mut fields = coupon_fields(0, 1);
        fields.kind = 4;
        let bounty = store.create_definition(&fields, "op", 10).await.unwrap();
        let plan = || {
            Give::Cash(CashPlan {
                amount_fen: 800,
                kind: 3,
                campaign_id: 0,
                koc_task_id: 3,
                order_no: String::new(),
                day: "2026-11-26".into(),
            })
        };
        let mut first = grant("t1", &bounty, "", plan());
        first.koc_id = 12;
        let issued = issued(store.issue(&first).await.unwrap());
        assert_eq!((issued.koc_id, issued.cash_fen), (12, 800));
        let entry: (i64, i32, i64, i64, String) =
            sqlx::query_as("SELECT koc_id, kind, amount_fen, grant_id, day FROM rewards_koc_earnings WHERE id = ?")
                .bind(issued.earnings_entry_id)
                .fetch_one(db.pool())
                .await
                .unwrap();
        assert_eq!(entry, (12, 3, 800, issued.id, "2026-11-26".to_owned()));
        let mut again = grant("t2", &bounty, "", plan());
        again.koc_id = 12;
        assert_eq!(store.issue(&again).await.unwrap(), IssueOutcome::LimitReached, "one per KOC");
        let mut other = grant("t3", &bounty, "", plan());
        other.koc_id = 13;
        assert!(matches!(store.issue(&other).await.unwrap(), IssueOutcome::Issued(_)));
    }

    scrm_storage::store_test_suite!(
        cash_grants_credit_the_koc_earnings_ledger,
        concurrent_issues_keep_stock_keys_and_balances_exact,
        definitions_are_created_listed_updated_and_archived,
        coupon_grants_are_exactly_once_within_stock_and_limit,
        points_move_through_the_ledger_and_never_below_zero,
    );
}
