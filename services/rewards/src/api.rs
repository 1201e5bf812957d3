//! The tonic implementation of `scrm.rewards.v1.RewardsService`: definitions, grants, points and coupons
//! (PR13). RPCs not written here answer through [`crate::PLANNED`].

use std::time::{SystemTime, UNIX_EPOCH};

use prost::Message;
use scrm_kernel::paging::{BeforeId, page_size};
use scrm_kernel::{ApiError, Caller, ErrorCode};
use scrm_proto::rewards::v1::rewards_service_server::RewardsService;
use scrm_proto::rewards::v1::{
    AdjustPointsRequest, AdjustPointsResponse, ArchiveRewardDefinitionRequest, ArchiveRewardDefinitionResponse,
    CashGiven, CashReward, Coupon, CouponReward, CreateRewardDefinitionRequest, CreateRewardDefinitionResponse,
    GetCouponRequest, GetCouponResponse, GetGrantRequest, GetGrantResponse, GetPointsBalanceRequest,
    GetPointsBalanceResponse, GetRewardDefinitionRequest, GetRewardDefinitionResponse, IssueRewardRequest,
    IssueRewardResponse, ListCouponsRequest, ListCouponsResponse, ListGrantsRequest, ListGrantsResponse,
    ListPointsLedgerRequest, ListPointsLedgerResponse, ListRewardDefinitionsRequest, ListRewardDefinitionsResponse,
    PointsAccount, PointsGiven, PointsLedgerEntry, PointsReward, RedeemCouponRequest, RedeemCouponResponse,
    RewardDefinition, RewardDefinitionStatus, RewardGrant, RewardKind, RewardSource, UpdateRewardDefinitionRequest,
    UpdateRewardDefinitionResponse, get_coupon_request, issue_reward_request, list_grants_request,
    redeem_coupon_request, reward_definition, reward_grant,
};
use tonic::{Request, Response, Status};

use crate::domain::{self, MAX_ID_CHARS, MAX_KEY_CHARS, RedeemAsk, Redeemable, millis, timestamp};
use crate::error::RewardsError;
use crate::store::{
    AccountRow, AdjustOutcome, CashPlan, CouponPlan, CouponRow, DefinitionFields, DefinitionFilter, DefinitionRow,
    Give, GrantFilter, GrantRow, IssueOutcome, LedgerRow, NewGrant, Redemption, RewardsStore,
};

/// Longest free-text note or order number, in characters.
const MAX_NOTE_CHARS: usize = 1000;
/// Attempts at an unused coupon code per grant.
const CODE_ATTEMPTS: usize = 4;

/// The rewards service's gRPC handlers.
#[derive(Debug, Clone)]
pub struct RewardsApi {
    store: RewardsStore,
}

impl RewardsApi {
    /// Handlers over `store`.
    pub fn new(store: RewardsStore) -> Self {
        RewardsApi { store }
    }

    async fn definition_row(&self, id: i64) -> Result<DefinitionRow, Status> {
        if id <= 0 {
            return Err(ApiError::invalid("id", "id is required").into());
        }
        let row = self.store.definition(id).await.map_err(RewardsError::from)?;
        Ok(row.ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("no reward definition with id {id}")))?)
    }

    async fn grant_proto(&self, row: GrantRow) -> Result<RewardGrant, Status> {
        let coupon =
            if row.coupon_id > 0 { self.store.coupon(row.coupon_id).await.map_err(RewardsError::from)? } else { None };
        Ok(grant_proto(row, coupon, now_millis()))
    }
}

#[tonic::async_trait]
impl RewardsService for RewardsApi {
    async fn create_reward_definition(
        &self,
        request: Request<CreateRewardDefinitionRequest>,
    ) -> Result<Response<CreateRewardDefinitionResponse>, Status> {
        let caller = Caller::from_request(&request)?;
        let definition =
            request.into_inner().definition.ok_or_else(|| ApiError::invalid("definition", "definition is required"))?;
        domain::validate_definition("definition", &definition)?;
        let name = definition.name.trim();
        let fields = fields_of(&definition, name);
        let row =
            self.store.create_definition(&fields, &caller.staff_id, now_millis()).await.map_err(RewardsError::from)?;
        tracing::info!(definition = row.id, kind = row.kind, "reward definition created");
        Ok(Response::new(CreateRewardDefinitionResponse { definition: Some(definition_proto(&row)?) }))
    }

    async fn get_reward_definition(
        &self,
        request: Request<GetRewardDefinitionRequest>,
    ) -> Result<Response<GetRewardDefinitionResponse>, Status> {
        Caller::from_request(&request)?;
        let row = self.definition_row(request.into_inner().id).await?;
        Ok(Response::new(GetRewardDefinitionResponse { definition: Some(definition_proto(&row)?) }))
    }

    async fn list_reward_definitions(
        &self,
        request: Request<ListRewardDefinitionsRequest>,
    ) -> Result<Response<ListRewardDefinitionsResponse>, Status> {
        let caller = Caller::from_request(&request)?;
        let request = request.into_inner();
        let size = page_size(request.page_size)?;
        let before = BeforeId::parse(&request.page_token)?;
        if request.store_id < 0 {
            return Err(ApiError::invalid("store_id", "store_id must be >= 0").into());
        }
        let stores = if request.store_id > 0 {
            Some(vec![request.store_id])
        } else if caller.store_ids.is_empty() {
            None
        } else {
            Some(std::iter::once(0).chain(caller_stores(&caller)).collect())
        };
        let status = match request.status {
            0 => RewardDefinitionStatus::Active as i32,
            status => status,
        };
        let filter = DefinitionFilter { kind: request.kind, status, stores, query: request.query.trim().to_owned() };
        let rows = self
            .store
            .list_definitions(&filter, before.map(|before| before.0), size)
            .await
            .map_err(RewardsError::from)?;
        Ok(Response::new(ListRewardDefinitionsResponse {
            next_page_token: BeforeId::next_token(rows.last().map(|row| row.id), rows.len(), size),
            definitions: rows.iter().map(definition_proto).collect::<Result<_, _>>()?,
        }))
    }

    async fn update_reward_definition(
        &self,
        request: Request<UpdateRewardDefinitionRequest>,
    ) -> Result<Response<UpdateRewardDefinitionResponse>, Status> {
        Caller::from_request(&request)?;
        let request = request.into_inner();
        let patch = request.definition.ok_or_else(|| ApiError::invalid("definition", "definition is required"))?;
        if patch.id <= 0 {
            return Err(ApiError::invalid("definition.id", "definition.id is required").into());
        }
        let paths = request.update_mask.map(|mask| mask.paths).unwrap_or_default();
        let row = self.definition_row(patch.id).await?;
        if row.status != RewardDefinitionStatus::Active as i32 {
            return Err(ApiError::new(ErrorCode::FailedPrecondition, "奖励已归档，不能修改").into());
        }
        let current = definition_proto(&row)?;
        let next = domain::apply_update(&current, &patch, &paths, row.issued_count)?;
        let fields = fields_of(&next, &next.name);
        let row = self.store.update_definition(row.id, &fields, now_millis()).await.map_err(RewardsError::from)?;
        let row = row.ok_or_else(|| ApiError::new(ErrorCode::NotFound, "the reward definition vanished"))?;
        Ok(Response::new(UpdateRewardDefinitionResponse { definition: Some(definition_proto(&row)?) }))
    }

    async fn archive_reward_definition(
        &self,
        request: Request<ArchiveRewardDefinitionRequest>,
    ) -> Result<Response<ArchiveRewardDefinitionResponse>, Status> {
        Caller::from_request(&request)?;
        let row = self.definition_row(request.into_inner().id).await?;
        let row = self.store.archive_definition(row.id, now_millis()).await.map_err(RewardsError::from)?;
        let row = row.ok_or_else(|| ApiError::new(ErrorCode::NotFound, "the reward definition vanished"))?;
        Ok(Response::new(ArchiveRewardDefinitionResponse { definition: Some(definition_proto(&row)?) }))
    }

    async fn issue_reward(
        &self,
        request: Request<IssueRewardRequest>,
    ) -> Result<Response<IssueRewardResponse>, Status> {
        let caller = Caller::from_request(&request)?;
        let request = request.into_inner();
        let key = domain::required_text("idempotency_key", &request.idempotency_key, MAX_KEY_CHARS)?;
        let (external_userid, koc_id) = match request.recipient {
            Some(issue_reward_request::Recipient::ExternalUserid(id)) => {
                (domain::required_text("external_userid", &id, MAX_ID_CHARS)?, 0)
            }
            Some(issue_reward_request::Recipient::KocId(id)) if id > 0 => (String::new(), id),
            Some(issue_reward_request::Recipient::KocId(_)) => {
                return Err(ApiError::invalid("koc_id", "koc_id must be > 0").into());
            }
            None => return Err(ApiError::invalid("external_userid", "name the recipient").into()),
        };
        let cash_only = || {
            ApiError::new(
                ErrorCode::FailedPrecondition,
                "现金奖励只发给 KOC（koc_id），积分和优惠券只发给客户（external_userid）",
            )
        };
        let source = domain::validate_source(request.source.as_ref())?;
        if request.attributed_koc_id < 0 {
            return Err(ApiError::invalid("attributed_koc_id", "attributed_koc_id must be >= 0").into());
        }
        if request.store_id < 0 {
            return Err(ApiError::invalid("store_id", "store_id must be >= 0").into());
        }
        if let Some(first) = self.store.grant_by_key(&key).await.map_err(RewardsError::from)? {
            return Ok(Response::new(IssueRewardResponse {
                grant: Some(self.grant_proto(first).await?),
                duplicate: true,
            }));
        }
        let now = now_millis();
        let (definition, give, kind, name, limit, store_id) = if request.reward_definition_id == 0 {
            if request.cash_fen != 0 && request.points != 0 {
                return Err(ApiError::invalid("cash_fen", "give points or cash_fen, not both").into());
            }
            if request.cash_fen != 0 {
                if request.cash_fen < 0 {
                    return Err(ApiError::invalid("cash_fen", "cash_fen must be > 0").into());
                }
                if koc_id == 0 {
                    return Err(cash_only().into());
                }
                let give = Give::Cash(cash_plan(request.cash_fen, &source, now));
                (0, give, RewardKind::Cash, "现金".to_owned(), 0, request.store_id)
            } else {
                if request.points <= 0 {
                    return Err(ApiError::invalid("points", "give points > 0, or name a reward definition").into());
                }
                if koc_id > 0 {
                    return Err(cash_only().into());
                }
                let give = Give::Points { points: request.points, note: domain::source_summary(&source) };
                (0, give, RewardKind::Points, "积分".to_owned(), 0, request.store_id)
            }
        } else {
            if request.reward_definition_id < 0 {
                return Err(ApiError::invalid("reward_definition_id", "reward_definition_id must be >= 0").into());
            }
            if request.points != 0 {
                return Err(ApiError::invalid("points", "points must be 0 when a definition is named").into());
            }
            if request.cash_fen != 0 {
                return Err(ApiError::invalid("cash_fen", "cash_fen must be 0 when a definition is named").into());
            }
            let row = self.store.definition(request.reward_definition_id).await.map_err(RewardsError::from)?;
            let row = row.ok_or_else(|| {
                ApiError::new(
                    ErrorCode::NotFound,
                    format!("no reward definition with id {}", request.reward_definition_id),
                )
            })?;
            if row.status != RewardDefinitionStatus::Active as i32 {
                return Err(ApiError::new(ErrorCode::FailedPrecondition, "奖励已归档，不能再发放").into());
            }
            if row.store_id != 0 && !caller.can_see_store(&row.store_id.to_string()) {
                return Err(ApiError::new(
                    ErrorCode::PermissionDenied,
                    format!(
                        "reward definition {} belongs to store {}, outside the caller's stores",
                        row.id, row.store_id
                    ),
                )
                .into());
            }
            let config = definition_proto(&row)?.config;
            if matches!(config, Some(reward_definition::Config::Cash(_))) != (koc_id > 0) {
                return Err(cash_only().into());
            }
            let give = match config {
                Some(reward_definition::Config::Cash(cash)) => Give::Cash(cash_plan(cash.amount_fen, &source, now)),
                Some(reward_definition::Config::Points(points)) => {
                    Give::Points { points: points.points, note: domain::source_summary(&source) }
                }
                Some(reward_definition::Config::Coupon(coupon)) => {
                    let (valid_from, valid_until) = domain::coupon_window(&coupon, now);
                    if valid_until < now {
                        return Err(
                            ApiError::new(ErrorCode::FailedPrecondition, "优惠券有效期已结束，不能再发放").into()
                        );
                    }
                    Give::Coupon(CouponPlan {
                        name: row.name.clone(),
                        face_value_fen: coupon.face_value_fen,
                        threshold_fen: coupon.threshold_fen,
                        valid_from,
                        valid_until,
                        store_ids: coupon.applicable_store_ids,
                        usage_note: coupon.usage_note,
                    })
                }
                _ => return Err(ApiError::new(ErrorCode::FailedPrecondition, "盲盒奖励尚未开放").into()),
            };
            let kind = RewardKind::try_from(row.kind).unwrap_or(RewardKind::Unspecified);
            let store_id = if request.store_id > 0 { request.store_id } else { row.store_id };
            (row.id, give, kind, row.name, row.per_recipient_limit, store_id)
        };
        let grant = NewGrant {
            idempotency_key: key,
            reward_definition_id: definition,
            per_recipient_limit: limit,
            reward_name: name,
            kind: kind as i32,
            external_userid,
            koc_id,
            source: source.encode_to_vec(),
            source_kind: source.kind,
            campaign_id: source.campaign_id,
            check_in_activity_id: source.check_in_activity_id,
            attributed_koc_id: request.attributed_koc_id,
            store_id,
            issued_by: if caller.staff_id.starts_with("system:") { String::new() } else { caller.staff_id.clone() },
            issued_at: now,
            give,
            code_seeds: (0..CODE_ATTEMPTS).map(|_| uuid::Uuid::new_v4().as_u128()).collect(),
        };
        let (row, duplicate) = match self.store.issue(&grant).await.map_err(RewardsError::from)? {
            IssueOutcome::Issued(row) => {
                tracing::info!(grant = row.id, definition, kind = row.kind, "reward issued");
                (row, false)
            }
            IssueOutcome::Duplicate(row) => (row, true),
            IssueOutcome::Archived => {
                return Err(ApiError::new(ErrorCode::FailedPrecondition, "奖励已归档，不能再发放").into());
            }
            IssueOutcome::OutOfStock => {
                return Err(ApiError::new(ErrorCode::RateLimited, "奖励库存不足（out of stock）").into());
            }
            IssueOutcome::LimitReached => {
                return Err(ApiError::new(ErrorCode::FailedPrecondition, "该客户已达到此奖励的领取上限").into());
            }
        };
        Ok(Response::new(IssueRewardResponse { grant: Some(self.grant_proto(row).await?), duplicate }))
    }

    async fn get_grant(&self, request: Request<GetGrantRequest>) -> Result<Response<GetGrantResponse>, Status> {
        Caller::from_request(&request)?;
        let id = request.into_inner().id;
        if id <= 0 {
            return Err(ApiError::invalid("id", "id is required").into());
        }
        let row = self.store.grant(id).await.map_err(RewardsError::from)?;
        let row = row.ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("no grant with id {id}")))?;
        Ok(Response::new(GetGrantResponse { grant: Some(self.grant_proto(row).await?) }))
    }

    async fn list_grants(&self, request: Request<ListGrantsRequest>) -> Result<Response<ListGrantsResponse>, Status> {
        Caller::from_request(&request)?;
        let request = request.into_inner();
        let size = page_size(request.page_size)?;
        let before = BeforeId::parse(&request.page_token)?;
        let mut filter = GrantFilter {
            reward_definition_id: request.reward_definition_id,
            kind: request.kind,
            source_kind: request.source_kind,
            campaign_id: request.campaign_id,
            check_in_activity_id: request.check_in_activity_id,
            status: request.status,
            issued_after: request.issued_after.as_ref().map(millis),
            issued_before: request.issued_before.as_ref().map(millis),
            ..GrantFilter::default()
        };
        match request.recipient {
            Some(list_grants_request::Recipient::ExternalUserid(id)) => {
                filter.external_userid = domain::required_text("external_userid", &id, MAX_ID_CHARS)?;
            }
            Some(list_grants_request::Recipient::KocId(id)) => filter.koc_id = id,
            None => {}
        }
        let rows =
            self.store.list_grants(&filter, before.map(|before| before.0), size).await.map_err(RewardsError::from)?;
        let next_page_token = BeforeId::next_token(rows.last().map(|row| row.id), rows.len(), size);
        let mut grants = Vec::with_capacity(rows.len());
        for row in rows {
            grants.push(self.grant_proto(row).await?);
        }
        Ok(Response::new(ListGrantsResponse { grants, next_page_token }))
    }

    async fn get_points_balance(
        &self,
        request: Request<GetPointsBalanceRequest>,
    ) -> Result<Response<GetPointsBalanceResponse>, Status> {
        Caller::from_request(&request)?;
        let id = domain::required_text("external_userid", &request.into_inner().external_userid, MAX_ID_CHARS)?;
        let account = self.store.account(&id).await.map_err(RewardsError::from)?;
        Ok(Response::new(GetPointsBalanceResponse { account: Some(account_proto(account)) }))
    }

    async fn list_points_ledger(
        &self,
        request: Request<ListPointsLedgerRequest>,
    ) -> Result<Response<ListPointsLedgerResponse>, Status> {
        Caller::from_request(&request)?;
        let request = request.into_inner();
        let id = domain::required_text("external_userid", &request.external_userid, MAX_ID_CHARS)?;
        let size = page_size(request.page_size)?;
        let before = BeforeId::parse(&request.page_token)?;
        let range = domain::day_range(&request.start_date, &request.end_date)?;
        let rows = self
            .store
            .ledger(&id, request.reason, range, before.map(|before| before.0), size)
            .await
            .map_err(RewardsError::from)?;
        Ok(Response::new(ListPointsLedgerResponse {
            next_page_token: BeforeId::next_token(rows.last().map(|row| row.id), rows.len(), size),
            entries: rows.into_iter().map(ledger_proto).collect(),
        }))
    }

    async fn adjust_points(
        &self,
        request: Request<AdjustPointsRequest>,
    ) -> Result<Response<AdjustPointsResponse>, Status> {
        let caller = Caller::from_request(&request)?;
        let request = request.into_inner();
        let id = domain::required_text("external_userid", &request.external_userid, MAX_ID_CHARS)?;
        if request.delta == 0 {
            return Err(ApiError::invalid("delta", "delta must not be 0").into());
        }
        let note = domain::required_text("note", &request.note, MAX_NOTE_CHARS)?;
        let key = domain::required_text("idempotency_key", &request.idempotency_key, MAX_KEY_CHARS)?;
        let outcome = self
            .store
            .adjust_points(&id, request.delta, &note, &caller.staff_id, &key, now_millis())
            .await
            .map_err(RewardsError::from)?;
        let (entry, account, duplicate) = match outcome {
            AdjustOutcome::Moved(entry, account) => (entry, account, false),
            AdjustOutcome::Duplicate(entry, account) => (entry, account, true),
            AdjustOutcome::Insufficient(balance) => {
                return Err(ApiError::new(
                    ErrorCode::FailedPrecondition,
                    format!("积分余额不足：当前余额 {balance}，不能扣减 {}", -request.delta),
                )
                .into());
            }
        };
        Ok(Response::new(AdjustPointsResponse {
            entry: Some(ledger_proto(entry)),
            account: Some(account_proto(account)),
            duplicate,
        }))
    }

    async fn list_coupons(
        &self,
        request: Request<ListCouponsRequest>,
    ) -> Result<Response<ListCouponsResponse>, Status> {
        Caller::from_request(&request)?;
        let request = request.into_inner();
        let id = domain::required_text("external_userid", &request.external_userid, MAX_ID_CHARS)?;
        let size = page_size(request.page_size)?;
        let before = BeforeId::parse(&request.page_token)?;
        let now = now_millis();
        let rows = self
            .store
            .list_coupons(&id, request.status, now, before.map(|before| before.0), size)
            .await
            .map_err(RewardsError::from)?;
        Ok(Response::new(ListCouponsResponse {
            next_page_token: BeforeId::next_token(rows.last().map(|row| row.id), rows.len(), size),
            coupons: rows.into_iter().map(|row| coupon_proto(row, now)).collect(),
        }))
    }

    async fn get_coupon(&self, request: Request<GetCouponRequest>) -> Result<Response<GetCouponResponse>, Status> {
        Caller::from_request(&request)?;
        let coupon = match request.into_inner().coupon {
            Some(get_coupon_request::Coupon::Id(id)) => self.coupon_by_id("id", id).await?,
            Some(get_coupon_request::Coupon::Code(code)) => self.coupon_by_code("code", &code).await?,
            None => return Err(ApiError::invalid("coupon", "give the coupon's id or code").into()),
        };
        Ok(Response::new(GetCouponResponse { coupon: Some(coupon_proto(coupon, now_millis())) }))
    }

    async fn redeem_coupon(
        &self,
        request: Request<RedeemCouponRequest>,
    ) -> Result<Response<RedeemCouponResponse>, Status> {
        let caller = Caller::from_request(&request)?;
        let request = request.into_inner();
        let key = domain::required_text("idempotency_key", &request.idempotency_key, MAX_KEY_CHARS)?;
        let order_no = domain::required_text("order_no", &request.order_no, MAX_ID_CHARS)?;
        if request.order_amount_fen < 0 {
            return Err(ApiError::invalid("order_amount_fen", "order_amount_fen must be >= 0").into());
        }
        if request.store_id < 0 {
            return Err(ApiError::invalid("store_id", "store_id must be >= 0").into());
        }
        if request.external_userid.chars().count() > MAX_ID_CHARS {
            return Err(ApiError::invalid("external_userid", "external_userid is too long").into());
        }
        let coupon = match request.coupon {
            Some(redeem_coupon_request::Coupon::CouponId(id)) => self.coupon_by_id("coupon_id", id).await?,
            Some(redeem_coupon_request::Coupon::Code(code)) => self.coupon_by_code("code", &code).await?,
            None => return Err(ApiError::invalid("coupon", "give the coupon's id or code").into()),
        };
        if let Some(first) = self.store.coupon_by_redeem_key(&key).await.map_err(RewardsError::from)? {
            return Ok(Response::new(redeemed(first, true)));
        }
        let store_id = match request.store_id {
            0 => match caller_stores(&caller).as_slice() {
                [only] => *only,
                _ => 0,
            },
            store => store,
        };
        let stores = coupon.stores();
        let now = now_millis();
        let discount = domain::check_redeem(
            &Redeemable {
                status: coupon.status,
                holder: &coupon.external_userid,
                valid_from: coupon.valid_from,
                valid_until: coupon.valid_until,
                threshold_fen: coupon.threshold_fen,
                face_value_fen: coupon.face_value_fen,
                store_ids: &stores,
            },
            &RedeemAsk {
                external_userid: request.external_userid.trim(),
                order_amount_fen: request.order_amount_fen,
                store_id,
                now,
            },
        )?;
        let redemption = Redemption {
            coupon_id: coupon.id,
            idempotency_key: &key,
            redeemed_by: &caller.staff_id,
            store_id,
            order_no: &order_no,
            order_amount_fen: request.order_amount_fen,
            discount_fen: discount,
            at: now,
        };
        if !self.store.redeem(&redemption).await.map_err(RewardsError::from)? {
            if let Some(first) = self.store.coupon_by_redeem_key(&key).await.map_err(RewardsError::from)? {
                return Ok(Response::new(redeemed(first, true)));
            }
            return Err(ApiError::new(ErrorCode::FailedPrecondition, "优惠券已核销").into());
        }
        tracing::info!(coupon = coupon.id, store_id, "coupon redeemed");
        let row = self.store.coupon(coupon.id).await.map_err(RewardsError::from)?.ok_or(sqlx::Error::RowNotFound);
        Ok(Response::new(redeemed(row.map_err(RewardsError::from)?, false)))
    }
}

impl RewardsApi {
    async fn coupon_by_id(&self, field: &str, id: i64) -> Result<CouponRow, Status> {
        if id <= 0 {
            return Err(ApiError::invalid(field, format!("{field} is required")).into());
        }
        let row = self.store.coupon(id).await.map_err(RewardsError::from)?;
        Ok(row.ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("no coupon with id {id}")))?)
    }

    async fn coupon_by_code(&self, field: &str, code: &str) -> Result<CouponRow, Status> {
        let code = domain::normalise_code(code);
        if code.is_empty() || code.len() > MAX_ID_CHARS {
            return Err(ApiError::invalid(field, format!("{field} is required")).into());
        }
        let row = self.store.coupon_by_code(&code).await.map_err(RewardsError::from)?;
        Ok(row.ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("no coupon with code {code}")))?)
    }
}

/// What a cash grant of `amount_fen` for `source` credits to the KOC's earnings ledger at `now`.
fn cash_plan(amount_fen: i64, source: &RewardSource, now: i64) -> CashPlan {
    CashPlan {
        amount_fen,
        kind: domain::earnings_kind(source) as i32,
        campaign_id: source.campaign_id,
        koc_task_id: source.koc_task_id,
        order_no: source.order_no.clone(),
        day: domain::corp_day(now),
    }
}

fn redeemed(row: CouponRow, duplicate: bool) -> RedeemCouponResponse {
    RedeemCouponResponse {
        discount_fen: row.discount_fen,
        coupon: Some(coupon_proto(row, now_millis())),
        koc_earnings_entry_id: 0,
        duplicate,
    }
}

/// The stores of a store-scoped caller, as ids.
fn caller_stores(caller: &Caller) -> Vec<i64> {
    caller.store_ids.iter().filter_map(|store| store.parse().ok()).collect()
}

fn fields_of<'a>(definition: &'a RewardDefinition, name: &'a str) -> DefinitionFields<'a> {
    let config = match definition.config.as_ref() {
        Some(reward_definition::Config::Points(points)) => points.encode_to_vec(),
        Some(reward_definition::Config::Coupon(coupon)) => coupon.encode_to_vec(),
        Some(reward_definition::Config::Cash(cash)) => cash.encode_to_vec(),
        _ => Vec::new(),
    };
    DefinitionFields {
        name,
        description: &definition.description,
        image_url: &definition.image_url,
        kind: definition.kind,
        config,
        stock_total: definition.stock_total,
        per_recipient_limit: definition.per_recipient_limit,
        store_id: definition.store_id,
    }
}

fn definition_proto(row: &DefinitionRow) -> Result<RewardDefinition, ApiError> {
    let unreadable = || ApiError::new(ErrorCode::Internal, "a stored reward definition cannot be read");
    let config = match RewardKind::try_from(row.kind).unwrap_or(RewardKind::Unspecified) {
        RewardKind::Points => Some(reward_definition::Config::Points(
            PointsReward::decode(row.config.as_slice()).map_err(|_| unreadable())?,
        )),
        RewardKind::Coupon => Some(reward_definition::Config::Coupon(
            CouponReward::decode(row.config.as_slice()).map_err(|_| unreadable())?,
        )),
        RewardKind::Cash => {
            Some(reward_definition::Config::Cash(CashReward::decode(row.config.as_slice()).map_err(|_| unreadable())?))
        }
        _ => None,
    };
    Ok(RewardDefinition {
        id: row.id,
        name: row.name.clone(),
        description: row.description.clone(),
        image_url: row.image_url.clone(),
        kind: row.kind,
        config,
        status: row.status,
        stock_total: row.stock_total,
        issued_count: row.issued_count,
        per_recipient_limit: row.per_recipient_limit,
        store_id: row.store_id,
        created_by_userid: row.created_by.clone(),
        created_at: Some(timestamp(row.created_at)),
        updated_at: Some(timestamp(row.updated_at)),
    })
}

fn grant_proto(row: GrantRow, coupon: Option<CouponRow>, now: i64) -> RewardGrant {
    let given = match RewardKind::try_from(row.kind).unwrap_or(RewardKind::Unspecified) {
        RewardKind::Points => Some(reward_grant::Given::Points(PointsGiven {
            points: row.points,
            balance_after: row.balance_after,
            ledger_entry_id: row.ledger_entry_id,
        })),
        RewardKind::Coupon => coupon.map(|coupon| reward_grant::Given::Coupon(coupon_proto(coupon, now))),
        RewardKind::Cash => Some(reward_grant::Given::Cash(CashGiven {
            amount_fen: row.cash_fen,
            earnings_entry_id: row.earnings_entry_id,
        })),
        _ => None,
    };
    let recipient = if row.koc_id > 0 {
        reward_grant::Recipient::KocId(row.koc_id)
    } else {
        reward_grant::Recipient::ExternalUserid(row.external_userid.clone())
    };
    RewardGrant {
        id: row.id,
        reward_definition_id: row.reward_definition_id,
        reward_name: row.reward_name,
        kind: row.kind,
        recipient: Some(recipient),
        source: RewardSource::decode(row.source.as_slice()).ok(),
        attributed_koc_id: row.attributed_koc_id,
        status: row.status,
        given,
        store_id: row.store_id,
        idempotency_key: row.idempotency_key,
        issued_by_userid: row.issued_by,
        issued_at: Some(timestamp(row.issued_at)),
        fulfilled_at: None,
        fulfillment_note: String::new(),
    }
}

fn coupon_proto(row: CouponRow, now: i64) -> Coupon {
    Coupon {
        id: row.id,
        applicable_store_ids: row.stores(),
        status: domain::coupon_status(row.status, row.valid_until, now) as i32,
        code: row.code,
        reward_definition_id: row.reward_definition_id,
        grant_id: row.grant_id,
        external_userid: row.external_userid,
        name: row.name,
        face_value_fen: row.face_value_fen,
        threshold_fen: row.threshold_fen,
        valid_from: Some(timestamp(row.valid_from)),
        valid_until: Some(timestamp(row.valid_until)),
        usage_note: row.usage_note,
        attributed_koc_id: row.attributed_koc_id,
        issued_at: Some(timestamp(row.issued_at)),
        redeemed_at: row.redeemed_at.map(timestamp),
        redeemed_by_userid: row.redeemed_by,
        redeemed_store_id: row.redeemed_store_id,
        order_no: row.order_no,
        order_amount_fen: row.order_amount_fen,
    }
}

fn account_proto(row: AccountRow) -> PointsAccount {
    PointsAccount {
        external_userid: row.external_userid,
        balance: row.balance,
        earned_total: row.earned_total,
        spent_total: row.spent_total,
        updated_at: (row.updated_at > 0).then(|| timestamp(row.updated_at)),
    }
}

fn ledger_proto(row: LedgerRow) -> PointsLedgerEntry {
    PointsLedgerEntry {
        id: row.id,
        external_userid: row.external_userid,
        delta: row.delta,
        balance_after: row.balance_after,
        reason: row.reason,
        grant_id: row.grant_id,
        note: row.note,
        operator_userid: row.operator_userid,
        occurred_at: Some(timestamp(row.occurred_at)),
    }
}

fn now_millis() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| i64::try_from(elapsed.as_millis()).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use scrm_kernel::Role;
    use scrm_proto::rewards::v1::{CouponStatus, RewardSourceKind, coupon_reward};
    use scrm_storage::Dialect;
    use scrm_storage::testing::TestDb;

    use super::*;

    fn operator() -> Caller {
        Caller { staff_id: "op".into(), role: Role::Operator, store_ids: Vec::new() }
    }

    fn call<T>(message: T) -> Request<T> {
        operator().outgoing(message).unwrap()
    }

    async fn api() -> (RewardsApi, TestDb) {
        let test_db = TestDb::new(Dialect::Sqlite).await;
        test_db.db.migrate(&crate::MIGRATIONS).await.unwrap();
        (RewardsApi::new(RewardsStore::new(test_db.db.clone())), test_db)
    }

    fn coupon_definition() -> RewardDefinition {
        RewardDefinition {
            name: "满100减20券".into(),
            kind: RewardKind::Coupon as i32,
            config: Some(reward_definition::Config::Coupon(CouponReward {
                face_value_fen: 2000,
                threshold_fen: 10_000,
                validity: Some(coupon_reward::Validity::ValidFor(prost_types::Duration { seconds: 86_400, nanos: 0 })),
                applicable_store_ids: vec![3],
                usage_note: String::new(),
            })),
            ..Default::default()
        }
    }

    fn field(status: Status) -> (tonic::Code, String) {
        let field =
            status.metadata().get(scrm_kernel::error::ERROR_FIELD_KEY).map(|value| value.to_str().unwrap().to_owned());
        (status.code(), field.unwrap_or_default())
    }

    fn quick_reply_source() -> Option<RewardSource> {
        Some(RewardSource { kind: RewardSourceKind::QuickReply as i32, quick_reply_id: 4, ..Default::default() })
    }

    #[tokio::test]
    async fn bad_input_is_refused_naming_the_field() {
        let (api, test_db) = api().await;
        let create = |definition: Option<RewardDefinition>| call(CreateRewardDefinitionRequest { definition });
        let error = api.create_reward_definition(create(None)).await.unwrap_err();
        assert_eq!(field(error), (tonic::Code::InvalidArgument, "definition".into()));
        let nameless = RewardDefinition { name: String::new(), ..coupon_definition() };
        let error = api.create_reward_definition(create(Some(nameless))).await.unwrap_err();
        assert_eq!(field(error), (tonic::Code::InvalidArgument, "definition.name".into()));

        let issue = |request: IssueRewardRequest| call(request);
        let base = IssueRewardRequest {
            reward_definition_id: 0,
            recipient: Some(issue_reward_request::Recipient::ExternalUserid("wmA".into())),
            source: quick_reply_source(),
            idempotency_key: "k".into(),
            points: 5,
            ..Default::default()
        };
        let cases = [
            (IssueRewardRequest { idempotency_key: " ".into(), ..base.clone() }, "idempotency_key"),
            (IssueRewardRequest { recipient: None, ..base.clone() }, "external_userid"),
            (IssueRewardRequest { source: None, ..base.clone() }, "source"),
            (IssueRewardRequest { points: 0, ..base.clone() }, "points"),
            (IssueRewardRequest { reward_definition_id: 9, ..base.clone() }, "points"),
            (IssueRewardRequest { store_id: -1, ..base.clone() }, "store_id"),
        ];
        for (request, expected) in cases {
            let error = api.issue_reward(issue(request)).await.unwrap_err();
            assert_eq!(field(error), (tonic::Code::InvalidArgument, expected.into()));
        }
        let koc = IssueRewardRequest { recipient: Some(issue_reward_request::Recipient::KocId(3)), ..base.clone() };
        assert_eq!(api.issue_reward(issue(koc)).await.unwrap_err().code(), tonic::Code::FailedPrecondition);
        let unknown = IssueRewardRequest { reward_definition_id: 9, points: 0, ..base.clone() };
        assert_eq!(api.issue_reward(issue(unknown)).await.unwrap_err().code(), tonic::Code::NotFound);
        let store_coupon = RewardDefinition { store_id: 5, ..coupon_definition() };
        let store_coupon = api
            .create_reward_definition(call(CreateRewardDefinitionRequest { definition: Some(store_coupon) }))
            .await
            .unwrap()
            .into_inner()
            .definition
            .unwrap();
        let manager = Caller { staff_id: "dianzhang".into(), role: Role::StoreManager, store_ids: vec!["6".into()] };
        let elsewhere = IssueRewardRequest { reward_definition_id: store_coupon.id, points: 0, ..base };
        let refused = api.issue_reward(manager.outgoing(elsewhere).unwrap()).await.unwrap_err();
        assert_eq!(refused.code(), tonic::Code::PermissionDenied);
        let listed = api
            .list_reward_definitions(manager.outgoing(ListRewardDefinitionsRequest::default()).unwrap())
            .await
            .unwrap()
            .into_inner();
        assert!(listed.definitions.is_empty(), "a store manager sees corp-wide and their stores' definitions only");

        let adjust = AdjustPointsRequest {
            external_userid: "wmA".into(),
            delta: 0,
            note: "x".into(),
            idempotency_key: "a".into(),
        };
        let error = api.adjust_points(call(adjust.clone())).await.unwrap_err();
        assert_eq!(field(error), (tonic::Code::InvalidArgument, "delta".into()));
        let error =
            api.adjust_points(call(AdjustPointsRequest { delta: 1, note: String::new(), ..adjust })).await.unwrap_err();
        assert_eq!(field(error), (tonic::Code::InvalidArgument, "note".into()));
        let error = api.get_coupon(call(GetCouponRequest { coupon: None })).await.unwrap_err();
        assert_eq!(field(error), (tonic::Code::InvalidArgument, "coupon".into()));
        let error = api
            .list_points_ledger(call(ListPointsLedgerRequest {
                external_userid: "wmA".into(),
                start_date: "2026-13-01".into(),
                ..Default::default()
            }))
            .await
            .unwrap_err();
        assert_eq!(field(error), (tonic::Code::InvalidArgument, "start_date".into()));
        let error = api.list_coupons(call(ListCouponsRequest::default())).await.unwrap_err();
        assert_eq!(field(error), (tonic::Code::InvalidArgument, "external_userid".into()));
        test_db.cleanup().await;
    }

    #[tokio::test]
    async fn cash_goes_to_kocs_only_and_lands_in_their_earnings() {
        let (api, test_db) = api().await;
        let bounty = RewardDefinition {
            name: "任务奖金".into(),
            kind: RewardKind::Cash as i32,
            config: Some(reward_definition::Config::Cash(CashReward { amount_fen: 800 })),
            ..Default::default()
        };
        let bounty = api
            .create_reward_definition(call(CreateRewardDefinitionRequest { definition: Some(bounty) }))
            .await
            .unwrap()
            .into_inner()
            .definition
            .unwrap();
        let task = Some(RewardSource { kind: RewardSourceKind::KocTask as i32, koc_task_id: 3, ..Default::default() });
        let to_koc = IssueRewardRequest {
            reward_definition_id: bounty.id,
            recipient: Some(issue_reward_request::Recipient::KocId(12)),
            source: task.clone(),
            idempotency_key: "koc-task:3".into(),
            ..Default::default()
        };
        let grant = api.issue_reward(call(to_koc.clone())).await.unwrap().into_inner().grant.unwrap();
        let Some(reward_grant::Given::Cash(cash)) = grant.given else { panic!("cash, got {grant:?}") };
        assert_eq!(cash.amount_fen, 800);
        assert!(cash.earnings_entry_id > 0);
        assert_eq!(grant.recipient, Some(reward_grant::Recipient::KocId(12)));
        let to_customer = IssueRewardRequest {
            recipient: Some(issue_reward_request::Recipient::ExternalUserid("wmA".into())),
            idempotency_key: "koc-task:3:customer".into(),
            ..to_koc.clone()
        };
        assert_eq!(api.issue_reward(call(to_customer)).await.unwrap_err().code(), tonic::Code::FailedPrecondition);
        let commission = IssueRewardRequest {
            reward_definition_id: 0,
            cash_fen: 150,
            source: Some(RewardSource {
                kind: RewardSourceKind::CampaignCommission as i32,
                campaign_id: 4,
                order_no: "SO-9".into(),
                ..Default::default()
            }),
            idempotency_key: "commission:SO-9".into(),
            ..to_koc
        };
        let grant = api.issue_reward(call(commission)).await.unwrap().into_inner().grant.unwrap();
        assert_eq!((grant.kind, grant.reward_name.as_str()), (RewardKind::Cash as i32, "现金"));
        let listed = api
            .list_grants(call(ListGrantsRequest {
                recipient: Some(list_grants_request::Recipient::KocId(12)),
                ..Default::default()
            }))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(listed.grants.len(), 2);
        test_db.cleanup().await;
    }

    #[tokio::test]
    async fn a_coupon_is_issued_once_and_redeemed_at_the_till() {
        let (api, test_db) = api().await;
        let definition = api
            .create_reward_definition(call(CreateRewardDefinitionRequest { definition: Some(coupon_definition()) }))
            .await
            .unwrap()
            .into_inner()
            .definition
            .unwrap();
        let issue = IssueRewardRequest {
            reward_definition_id: definition.id,
            recipient: Some(issue_reward_request::Recipient::ExternalUserid("wmA".into())),
            source: quick_reply_source(),
            idempotency_key: "quick-reply:op:1".into(),
            ..Default::default()
        };
        let first = api.issue_reward(call(issue.clone())).await.unwrap().into_inner();
        let grant = first.grant.unwrap();
        let Some(reward_grant::Given::Coupon(coupon)) = grant.given.clone() else { panic!("a coupon") };
        assert_eq!((first.duplicate, coupon.status), (false, CouponStatus::Available as i32));
        assert_eq!((coupon.face_value_fen, coupon.applicable_store_ids.clone()), (2000, vec![3]));
        assert_eq!(grant.issued_by_userid, "op");
        let retry = api.issue_reward(call(issue)).await.unwrap().into_inner();
        assert_eq!((retry.duplicate, retry.grant.unwrap().id), (true, grant.id));

        let by_code = api
            .get_coupon(call(GetCouponRequest {
                coupon: Some(get_coupon_request::Coupon::Code(coupon.code.to_lowercase())),
            }))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(by_code.coupon.unwrap().id, coupon.id);

        let redeem = RedeemCouponRequest {
            coupon: Some(redeem_coupon_request::Coupon::Code(coupon.code.clone())),
            external_userid: "wmA".into(),
            order_no: "SO-1".into(),
            order_amount_fen: 9_000,
            store_id: 3,
            idempotency_key: "till-1".into(),
        };
        let below = api.redeem_coupon(call(redeem.clone())).await.unwrap_err();
        assert_eq!(below.code(), tonic::Code::FailedPrecondition);
        let elsewhere = RedeemCouponRequest { store_id: 8, order_amount_fen: 12_000, ..redeem.clone() };
        assert_eq!(api.redeem_coupon(call(elsewhere)).await.unwrap_err().code(), tonic::Code::FailedPrecondition);
        let good = RedeemCouponRequest { order_amount_fen: 12_000, ..redeem };
        let done = api.redeem_coupon(call(good.clone())).await.unwrap().into_inner();
        assert_eq!((done.discount_fen, done.duplicate), (2000, false));
        assert_eq!(done.coupon.unwrap().status, CouponStatus::Redeemed as i32);
        let again = api.redeem_coupon(call(good.clone())).await.unwrap().into_inner();
        assert_eq!((again.discount_fen, again.duplicate), (2000, true));
        let twice = RedeemCouponRequest { idempotency_key: "till-2".into(), ..good };
        assert_eq!(api.redeem_coupon(call(twice)).await.unwrap_err().code(), tonic::Code::FailedPrecondition);

        let listed = api
            .list_coupons(call(ListCouponsRequest { external_userid: "wmA".into(), ..Default::default() }))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(listed.coupons.len(), 1);
        let archived = api.archive_reward_definition(call(ArchiveRewardDefinitionRequest { id: definition.id })).await;
        assert_eq!(archived.unwrap().into_inner().definition.unwrap().status, RewardDefinitionStatus::Archived as i32);
        test_db.cleanup().await;
    }
}
