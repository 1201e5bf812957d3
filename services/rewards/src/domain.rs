//! The rewards service's pure logic: definition validation and updates, coupon validity, status and
//! redemption checks, coupon codes and date filters. No I/O; every rule is unit-tested here.

use scrm_kernel::calendar::{day_string, days_from_civil};
use scrm_kernel::{ApiError, ErrorCode};
use scrm_proto::rewards::v1::{
    CouponReward, CouponStatus, KocEarningsKind, RewardDefinition, RewardKind, RewardSource, RewardSourceKind,
    coupon_reward, reward_definition,
};

/// Longest definition name, in characters.
const MAX_NAME_CHARS: usize = 100;
/// Longest description, usage note or free-text note, in characters.
const MAX_TEXT_CHARS: usize = 1000;
/// Longest URL, in characters.
const MAX_URL_CHARS: usize = 1000;
/// Most stores a coupon can be limited to.
const MAX_STORES: usize = 200;
/// Longest idempotency key, in characters.
pub const MAX_KEY_CHARS: usize = 200;
/// Longest WeCom id accepted, in characters.
pub const MAX_ID_CHARS: usize = 64;
/// China Standard Time, the corp's timezone, as an offset from UTC in milliseconds.
const CORP_UTC_OFFSET_MS: i64 = 8 * 3_600_000;
/// One day in milliseconds.
const DAY_MS: i64 = 86_400_000;
/// Letters of coupon codes: digits and capitals without the look-alikes 0/O and 1/I.
const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
/// Characters of a coupon code.
const CODE_LEN: usize = 12;

/// Checks a definition for create (or after an update), naming the field at fault under `at`.
pub fn validate_definition(at: &str, definition: &RewardDefinition) -> Result<(), ApiError> {
    let field = |name: &str| format!("{at}.{name}");
    let name = definition.name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(ApiError::invalid(field("name"), format!("name is required, at most {MAX_NAME_CHARS} characters")));
    }
    if definition.description.chars().count() > MAX_TEXT_CHARS {
        return Err(ApiError::invalid(
            field("description"),
            format!("description is at most {MAX_TEXT_CHARS} characters"),
        ));
    }
    optional_url(&field("image_url"), &definition.image_url)?;
    if definition.stock_total < 0 {
        return Err(ApiError::invalid(field("stock_total"), "stock_total must be >= 0 (0 means unlimited)"));
    }
    if definition.per_recipient_limit < 0 {
        return Err(ApiError::invalid(
            field("per_recipient_limit"),
            "per_recipient_limit must be >= 0 (0 means unlimited)",
        ));
    }
    if definition.store_id < 0 {
        return Err(ApiError::invalid(field("store_id"), "store_id must be >= 0 (0 means the whole corp)"));
    }
    let kind = RewardKind::try_from(definition.kind).unwrap_or(RewardKind::Unspecified);
    match (kind, definition.config.as_ref()) {
        (RewardKind::Unspecified, _) => Err(ApiError::invalid(field("kind"), "kind is required")),
        (RewardKind::BlindBox, _) => Err(ApiError::new(
            ErrorCode::FailedPrecondition,
            "盲盒奖励尚未开放：this release issues points, coupons and cash",
        )),
        (RewardKind::Cash, Some(reward_definition::Config::Cash(cash))) => {
            if cash.amount_fen <= 0 {
                return Err(ApiError::invalid(field("cash.amount_fen"), "amount_fen must be > 0"));
            }
            Ok(())
        }
        (RewardKind::Cash, _) => Err(ApiError::invalid(field("cash"), "a cash reward needs its cash content")),
        (RewardKind::Points, Some(reward_definition::Config::Points(points))) => {
            if points.points <= 0 {
                return Err(ApiError::invalid(field("points.points"), "points must be > 0"));
            }
            Ok(())
        }
        (RewardKind::Coupon, Some(reward_definition::Config::Coupon(coupon))) => {
            validate_coupon(&field("coupon"), coupon)
        }
        (RewardKind::Points, _) => Err(ApiError::invalid(field("points"), "a points reward needs its points content")),
        (RewardKind::Coupon, _) => Err(ApiError::invalid(field("coupon"), "a coupon reward needs its coupon content")),
    }
}

fn validate_coupon(at: &str, coupon: &CouponReward) -> Result<(), ApiError> {
    let field = |name: &str| format!("{at}.{name}");
    if coupon.face_value_fen <= 0 {
        return Err(ApiError::invalid(field("face_value_fen"), "face_value_fen must be > 0"));
    }
    if coupon.threshold_fen < 0 {
        return Err(ApiError::invalid(field("threshold_fen"), "threshold_fen must be >= 0 (0 means no threshold)"));
    }
    match coupon.validity.as_ref() {
        None => return Err(ApiError::invalid(field("validity"), "give a fixed_window or valid_for")),
        Some(coupon_reward::Validity::FixedWindow(window)) => {
            let from = window.valid_from.as_ref().map(millis);
            let until = window.valid_until.as_ref().map(millis);
            match (from, until) {
                (None, _) => {
                    return Err(ApiError::invalid(field("fixed_window.valid_from"), "valid_from is required"));
                }
                (_, None) => {
                    return Err(ApiError::invalid(field("fixed_window.valid_until"), "valid_until is required"));
                }
                (Some(from), Some(until)) if until <= from => {
                    return Err(ApiError::invalid(
                        field("fixed_window.valid_until"),
                        "valid_until must be after valid_from",
                    ));
                }
                _ => {}
            }
        }
        Some(coupon_reward::Validity::ValidFor(duration)) => {
            if duration.seconds <= 0 || duration.nanos < 0 {
                return Err(ApiError::invalid(field("valid_for"), "valid_for must be a positive duration"));
            }
        }
    }
    if coupon.applicable_store_ids.len() > MAX_STORES {
        return Err(ApiError::invalid(field("applicable_store_ids"), format!("at most {MAX_STORES} stores")));
    }
    if let Some(index) = coupon.applicable_store_ids.iter().position(|store| *store <= 0) {
        return Err(ApiError::invalid(format!("{at}.applicable_store_ids[{index}]"), "store ids are > 0"));
    }
    if coupon.usage_note.chars().count() > MAX_TEXT_CHARS {
        return Err(ApiError::invalid(
            field("usage_note"),
            format!("usage_note is at most {MAX_TEXT_CHARS} characters"),
        ));
    }
    Ok(())
}

fn optional_url(field: &str, url: &str) -> Result<(), ApiError> {
    if url.is_empty() {
        return Ok(());
    }
    if url.chars().count() > MAX_URL_CHARS || !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(ApiError::invalid(field, format!("an http(s) URL of at most {MAX_URL_CHARS} characters")));
    }
    Ok(())
}

/// Applies `patch`'s fields named by `paths` (an update mask) to `current`, a definition `issued` grants were
/// made from; the result is validated.
pub fn apply_update(
    current: &RewardDefinition,
    patch: &RewardDefinition,
    paths: &[String],
    issued: i64,
) -> Result<RewardDefinition, ApiError> {
    if paths.is_empty() {
        return Err(ApiError::invalid("update_mask", "name the fields to change"));
    }
    let mut next = current.clone();
    let locked = |path: &str| {
        ApiError::new(
            ErrorCode::FailedPrecondition,
            format!("{path} cannot change once rewards were issued from the definition; create a new definition"),
        )
    };
    for path in paths {
        match path.as_str() {
            "name" => next.name = patch.name.trim().to_owned(),
            "description" => next.description = patch.description.clone(),
            "image_url" => next.image_url = patch.image_url.clone(),
            "stock_total" => next.stock_total = patch.stock_total,
            "per_recipient_limit" => next.per_recipient_limit = patch.per_recipient_limit,
            "store_id" => next.store_id = patch.store_id,
            "cash" | "cash.amount_fen" => match (&mut next.config, &patch.config) {
                (Some(reward_definition::Config::Cash(cash)), Some(reward_definition::Config::Cash(new_cash))) => {
                    cash.amount_fen = new_cash.amount_fen;
                }
                _ => return Err(kind_mismatch(path)),
            },
            "points" | "points.points" => match (&mut next.config, &patch.config) {
                (
                    Some(reward_definition::Config::Points(points)),
                    Some(reward_definition::Config::Points(new_points)),
                ) => points.points = new_points.points,
                _ => return Err(kind_mismatch(path)),
            },
            coupon_path if coupon_path == "coupon" || coupon_path.starts_with("coupon.") => {
                let (Some(reward_definition::Config::Coupon(coupon)), Some(reward_definition::Config::Coupon(new))) =
                    (&mut next.config, &patch.config)
                else {
                    return Err(kind_mismatch(path));
                };
                let money_changes = match coupon_path {
                    "coupon" => {
                        coupon.face_value_fen != new.face_value_fen || coupon.threshold_fen != new.threshold_fen
                    }
                    "coupon.face_value_fen" => coupon.face_value_fen != new.face_value_fen,
                    "coupon.threshold_fen" => coupon.threshold_fen != new.threshold_fen,
                    _ => false,
                };
                if money_changes && issued > 0 {
                    return Err(locked("the coupon's face value and threshold"));
                }
                match coupon_path {
                    "coupon" => *coupon = new.clone(),
                    "coupon.face_value_fen" => coupon.face_value_fen = new.face_value_fen,
                    "coupon.threshold_fen" => coupon.threshold_fen = new.threshold_fen,
                    "coupon.fixed_window" | "coupon.valid_for" | "coupon.validity" => {
                        coupon.validity = new.validity;
                    }
                    "coupon.applicable_store_ids" => coupon.applicable_store_ids = new.applicable_store_ids.clone(),
                    "coupon.usage_note" => coupon.usage_note = new.usage_note.clone(),
                    _ => return Err(unknown_path(path)),
                }
            }
            _ => return Err(unknown_path(path)),
        }
    }
    if next.stock_total > 0 && next.stock_total < issued {
        return Err(ApiError::invalid(
            "definition.stock_total",
            format!("stock_total cannot go below the {issued} rewards already issued"),
        ));
    }
    validate_definition("definition", &next)?;
    Ok(next)
}

fn kind_mismatch(path: &str) -> ApiError {
    ApiError::invalid(format!("definition.{path}"), "the field does not belong to the definition's kind")
}

fn unknown_path(path: &str) -> ApiError {
    ApiError::invalid("update_mask", format!("`{path}` cannot be changed"))
}

/// The redemption window `[valid_from, valid_until]` (Unix ms) of a coupon issued at `issued_at`.
pub fn coupon_window(coupon: &CouponReward, issued_at: i64) -> (i64, i64) {
    match coupon.validity.as_ref() {
        Some(coupon_reward::Validity::FixedWindow(window)) => {
            (window.valid_from.as_ref().map_or(issued_at, millis), window.valid_until.as_ref().map_or(i64::MAX, millis))
        }
        Some(coupon_reward::Validity::ValidFor(duration)) => {
            let length = duration.seconds.saturating_mul(1000) + i64::from(duration.nanos / 1_000_000);
            (issued_at, issued_at.saturating_add(length))
        }
        None => (issued_at, i64::MAX),
    }
}

/// The status a coupon shows at `now`: a stored AVAILABLE coupon past its window is EXPIRED.
pub fn coupon_status(stored: i32, valid_until: i64, now: i64) -> CouponStatus {
    match CouponStatus::try_from(stored).unwrap_or(CouponStatus::Unspecified) {
        CouponStatus::Available if now > valid_until => CouponStatus::Expired,
        status => status,
    }
}

/// A coupon as redemption sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redeemable<'a> {
    /// The stored status code.
    pub status: i32,
    /// Holder's `external_userid`.
    pub holder: &'a str,
    /// First instant it can be redeemed (Unix ms).
    pub valid_from: i64,
    /// Last instant it can be redeemed (Unix ms).
    pub valid_until: i64,
    /// Minimum order amount, fen.
    pub threshold_fen: i64,
    /// Face value, fen.
    pub face_value_fen: i64,
    /// Applicable stores; empty means every store.
    pub store_ids: &'a [i64],
}

/// What a redemption asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedeemAsk<'a> {
    /// The customer presenting it; empty skips the holder check.
    pub external_userid: &'a str,
    /// Order amount before the coupon, fen.
    pub order_amount_fen: i64,
    /// The store redeeming (0 when unknown).
    pub store_id: i64,
    /// When (Unix ms).
    pub now: i64,
}

/// Checks a redemption and returns the discount (the face value, capped at the order amount).
pub fn check_redeem(coupon: &Redeemable<'_>, ask: &RedeemAsk<'_>) -> Result<i64, ApiError> {
    let refuse = |message: String| ApiError::new(ErrorCode::FailedPrecondition, message);
    match coupon_status(coupon.status, coupon.valid_until, ask.now) {
        CouponStatus::Redeemed => return Err(refuse("优惠券已核销".into())),
        CouponStatus::Expired => return Err(refuse("优惠券已过期".into())),
        _ => {}
    }
    if ask.now < coupon.valid_from {
        return Err(refuse("优惠券尚未生效".into()));
    }
    if !ask.external_userid.is_empty() && ask.external_userid != coupon.holder {
        return Err(refuse("优惠券不属于该客户".into()));
    }
    if !coupon.store_ids.is_empty() {
        if ask.store_id == 0 {
            return Err(ApiError::invalid("store_id", "the coupon is limited to some stores: name the store"));
        }
        if !coupon.store_ids.contains(&ask.store_id) {
            return Err(refuse(format!("优惠券不适用于门店 {}", ask.store_id)));
        }
    }
    if ask.order_amount_fen < coupon.threshold_fen {
        return Err(refuse(format!("订单金额未达到使用门槛（满 {} 元可用）", yuan(coupon.threshold_fen))));
    }
    Ok(coupon.face_value_fen.min(ask.order_amount_fen))
}

fn yuan(fen: i64) -> String {
    if fen % 100 == 0 { format!("{}", fen / 100) } else { format!("{}.{:02}", fen / 100, fen % 100) }
}

/// A coupon code from 128 random bits: 12 characters of an unambiguous alphabet (60 bits).
pub fn coupon_code(random: u128) -> String {
    (0..CODE_LEN).map(|index| char::from(CODE_ALPHABET[((random >> (index * 5)) & 31) as usize])).collect()
}

/// A coupon code as typed at the till, normalised: trimmed and upper-case.
pub fn normalise_code(code: &str) -> String {
    code.trim().to_ascii_uppercase()
}

/// Checks a required id or key: non-empty after trimming and at most `max` characters.
pub fn required_text(field: &str, value: &str, max: usize) -> Result<String, ApiError> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > max {
        return Err(ApiError::invalid(field, format!("{field} is required, at most {max} characters")));
    }
    Ok(value.to_owned())
}

/// Checks the source of an IssueReward: a kind, and the fields its kind requires.
pub fn validate_source(source: Option<&RewardSource>) -> Result<RewardSource, ApiError> {
    let source = source.ok_or_else(|| ApiError::invalid("source", "source is required"))?;
    let kind = RewardSourceKind::try_from(source.kind).unwrap_or(RewardSourceKind::Unspecified);
    let need = |ok: bool, field: &str| {
        if ok {
            Ok(())
        } else {
            Err(ApiError::invalid(format!("source.{field}"), format!("{field} is required for this source")))
        }
    };
    match kind {
        RewardSourceKind::Unspecified => return Err(ApiError::invalid("source.kind", "source.kind is required")),
        RewardSourceKind::CampaignStage | RewardSourceKind::CampaignCommission => {
            need(source.campaign_id > 0, "campaign_id")?;
        }
        RewardSourceKind::CheckIn | RewardSourceKind::CheckInStreak => {
            need(source.check_in_activity_id > 0, "check_in_activity_id")?;
        }
        RewardSourceKind::QuickReply => need(source.quick_reply_id > 0, "quick_reply_id")?,
        RewardSourceKind::KocTask => need(source.koc_task_id > 0, "koc_task_id")?,
        RewardSourceKind::Manual => need(!source.note.trim().is_empty(), "note")?,
        RewardSourceKind::BlindBoxPrize => need(source.parent_grant_id > 0, "parent_grant_id")?,
    }
    if source.note.chars().count() > MAX_TEXT_CHARS {
        return Err(ApiError::invalid("source.note", format!("note is at most {MAX_TEXT_CHARS} characters")));
    }
    Ok(source.clone())
}

/// The KOC earnings kind of a cash grant from `source`: a task reward, a commission, or another reward.
pub fn earnings_kind(source: &RewardSource) -> KocEarningsKind {
    match RewardSourceKind::try_from(source.kind).unwrap_or(RewardSourceKind::Unspecified) {
        RewardSourceKind::KocTask => KocEarningsKind::TaskReward,
        RewardSourceKind::CampaignCommission => KocEarningsKind::Commission,
        _ => KocEarningsKind::OtherReward,
    }
}

/// The corp-timezone day (YYYY-MM-DD) of a Unix-ms instant.
pub fn corp_day(at: i64) -> String {
    day_string((at + CORP_UTC_OFFSET_MS).div_euclid(DAY_MS))
}

/// The ledger note of a points grant: a short Chinese summary of its source.
pub fn source_summary(source: &RewardSource) -> String {
    let kind = RewardSourceKind::try_from(source.kind).unwrap_or(RewardSourceKind::Unspecified);
    let summary = match kind {
        RewardSourceKind::CampaignStage => {
            format!("裂变活动 {} 阶段 {} 奖励", source.campaign_id, source.campaign_stage_level)
        }
        RewardSourceKind::CampaignCommission => format!("裂变活动 {} 分销佣金", source.campaign_id),
        RewardSourceKind::CheckIn => format!("打卡活动 {} 打卡奖励", source.check_in_activity_id),
        RewardSourceKind::CheckInStreak => format!("打卡活动 {} 连续打卡奖励", source.check_in_activity_id),
        RewardSourceKind::QuickReply => format!("快捷回复 {} 发放", source.quick_reply_id),
        RewardSourceKind::KocTask => format!("KOC 任务 {} 奖励", source.koc_task_id),
        RewardSourceKind::Manual => "手动发放".to_owned(),
        RewardSourceKind::BlindBoxPrize => format!("盲盒 {} 奖品", source.parent_grant_id),
        RewardSourceKind::Unspecified => String::new(),
    };
    match source.note.trim() {
        "" => summary,
        note => format!("{summary}：{note}"),
    }
}

/// Start (inclusive) of a corp-timezone day given as YYYY-MM-DD, in Unix ms; `None` when malformed.
pub fn day_start(text: &str) -> Option<i64> {
    let mut parts = text.split('-');
    let (year, month, day) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || year.len() != 4 || month.len() != 2 || day.len() != 2 {
        return None;
    }
    let (year, month, day): (i64, i64, i64) = (year.parse().ok()?, month.parse().ok()?, day.parse().ok()?);
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => return None,
    };
    if !(1..=days_in_month).contains(&day) {
        return None;
    }
    Some(days_from_civil(year, month, day) * DAY_MS - CORP_UTC_OFFSET_MS)
}

/// The `[from, until)` Unix-ms range of optional start and end days (end inclusive), naming the bad field.
pub fn day_range(start: &str, end: &str) -> Result<(Option<i64>, Option<i64>), ApiError> {
    let parse = |field: &str, text: &str| -> Result<Option<i64>, ApiError> {
        if text.is_empty() {
            return Ok(None);
        }
        day_start(text).map(Some).ok_or_else(|| ApiError::invalid(field, "a day as YYYY-MM-DD"))
    };
    let from = parse("start_date", start)?;
    let until = parse("end_date", end)?.map(|day| day + DAY_MS);
    if let (Some(from), Some(until)) = (from, until)
        && until <= from
    {
        return Err(ApiError::invalid("end_date", "end_date is before start_date"));
    }
    Ok((from, until))
}

/// Unix milliseconds of a protobuf timestamp.
pub fn millis(time: &prost_types::Timestamp) -> i64 {
    time.seconds.saturating_mul(1000) + i64::from(time.nanos / 1_000_000)
}

/// The protobuf timestamp of Unix milliseconds.
pub fn timestamp(millis: i64) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds: millis.div_euclid(1000), nanos: (millis.rem_euclid(1000) * 1_000_000) as i32 }
}

#[cfg(test)]
mod tests {
    use scrm_proto::rewards::v1::{CashReward, CouponValidityWindow, PointsReward};

    use super::*;

    fn coupon_definition() -> RewardDefinition {
        RewardDefinition {
            name: "满100减20券".into(),
            kind: RewardKind::Coupon as i32,
            config: Some(reward_definition::Config::Coupon(CouponReward {
                face_value_fen: 2000,
                threshold_fen: 10_000,
                validity: Some(coupon_reward::Validity::ValidFor(prost_types::Duration {
                    seconds: 7 * 86_400,
                    nanos: 0,
                })),
                applicable_store_ids: vec![3],
                usage_note: "仅限到店使用".into(),
            })),
            ..Default::default()
        }
    }

    fn field(result: Result<(), ApiError>) -> Option<String> {
        result.unwrap_err().field
    }

    #[test]
    fn definitions_are_validated_field_by_field() {
        assert!(validate_definition("definition", &coupon_definition()).is_ok());
        let points = RewardDefinition {
            name: "10 积分".into(),
            kind: RewardKind::Points as i32,
            config: Some(reward_definition::Config::Points(PointsReward { points: 10 })),
            ..Default::default()
        };
        assert!(validate_definition("definition", &points).is_ok());

        let mut bad = coupon_definition();
        bad.name = "  ".into();
        assert_eq!(field(validate_definition("definition", &bad)).as_deref(), Some("definition.name"));
        let mut bad = coupon_definition();
        bad.kind = RewardKind::Points as i32;
        assert_eq!(field(validate_definition("definition", &bad)).as_deref(), Some("definition.points"));
        let mut bad = coupon_definition();
        bad.kind = 0;
        assert_eq!(field(validate_definition("definition", &bad)).as_deref(), Some("definition.kind"));
        let mut bad = coupon_definition();
        bad.stock_total = -1;
        assert_eq!(field(validate_definition("definition", &bad)).as_deref(), Some("definition.stock_total"));
        let mut bad = points.clone();
        bad.config = Some(reward_definition::Config::Points(PointsReward { points: 0 }));
        assert_eq!(field(validate_definition("definition", &bad)).as_deref(), Some("definition.points.points"));

        let with_coupon = |change: &dyn Fn(&mut CouponReward)| {
            let mut definition = coupon_definition();
            if let Some(reward_definition::Config::Coupon(coupon)) = definition.config.as_mut() {
                change(coupon);
            }
            field(validate_definition("definition", &definition))
        };
        assert_eq!(with_coupon(&|c| c.face_value_fen = 0).as_deref(), Some("definition.coupon.face_value_fen"));
        assert_eq!(with_coupon(&|c| c.threshold_fen = -5).as_deref(), Some("definition.coupon.threshold_fen"));
        assert_eq!(with_coupon(&|c| c.validity = None).as_deref(), Some("definition.coupon.validity"));
        assert_eq!(
            with_coupon(&|c| c.applicable_store_ids = vec![3, 0]).as_deref(),
            Some("definition.coupon.applicable_store_ids[1]")
        );
        assert_eq!(
            with_coupon(&|c| {
                c.validity = Some(coupon_reward::Validity::FixedWindow(CouponValidityWindow {
                    valid_from: Some(timestamp(2_000)),
                    valid_until: Some(timestamp(1_000)),
                }))
            })
            .as_deref(),
            Some("definition.coupon.fixed_window.valid_until")
        );

        let mut blind_box = coupon_definition();
        blind_box.kind = RewardKind::BlindBox as i32;
        let error = validate_definition("definition", &blind_box).unwrap_err();
        assert_eq!(error.code, ErrorCode::FailedPrecondition);
        let cash = RewardDefinition {
            name: "任务奖金".into(),
            kind: RewardKind::Cash as i32,
            config: Some(reward_definition::Config::Cash(CashReward { amount_fen: 500 })),
            ..Default::default()
        };
        assert!(validate_definition("definition", &cash).is_ok());
        let mut bad = cash;
        bad.config = Some(reward_definition::Config::Cash(CashReward { amount_fen: 0 }));
        assert_eq!(field(validate_definition("definition", &bad)).as_deref(), Some("definition.cash.amount_fen"));
    }

    #[test]
    fn updates_follow_the_mask_and_lock_money_once_issued() {
        let current = coupon_definition();
        let mut patch = coupon_definition();
        patch.name = "新名字".into();
        patch.stock_total = 50;
        if let Some(reward_definition::Config::Coupon(coupon)) = patch.config.as_mut() {
            coupon.face_value_fen = 3000;
        }
        let updated = apply_update(&current, &patch, &["name".into(), "stock_total".into()], 10).unwrap();
        assert_eq!((updated.name.as_str(), updated.stock_total), ("新名字", 50));
        let Some(reward_definition::Config::Coupon(coupon)) = updated.config else { panic!("a coupon") };
        assert_eq!(coupon.face_value_fen, 2000);

        let locked = apply_update(&current, &patch, &["coupon.face_value_fen".into()], 1).unwrap_err();
        assert_eq!(locked.code, ErrorCode::FailedPrecondition);
        let changed = apply_update(&current, &patch, &["coupon.face_value_fen".into()], 0).unwrap();
        let Some(reward_definition::Config::Coupon(coupon)) = changed.config else { panic!("a coupon") };
        assert_eq!(coupon.face_value_fen, 3000);

        let below = apply_update(&current, &patch, &["stock_total".into()], 60).unwrap_err();
        assert_eq!(below.field.as_deref(), Some("definition.stock_total"));
        assert_eq!(apply_update(&current, &patch, &[], 0).unwrap_err().field.as_deref(), Some("update_mask"));
        assert_eq!(
            apply_update(&current, &patch, &["kind".into()], 0).unwrap_err().field.as_deref(),
            Some("update_mask")
        );
        assert_eq!(
            apply_update(&current, &patch, &["points.points".into()], 0).unwrap_err().field.as_deref(),
            Some("definition.points.points")
        );
    }

    #[test]
    fn coupon_windows_and_expiry() {
        let Some(reward_definition::Config::Coupon(relative)) = coupon_definition().config else { panic!() };
        assert_eq!(coupon_window(&relative, 1_000), (1_000, 1_000 + 7 * DAY_MS));
        let fixed = CouponReward {
            validity: Some(coupon_reward::Validity::FixedWindow(CouponValidityWindow {
                valid_from: Some(timestamp(5_000)),
                valid_until: Some(timestamp(9_000)),
            })),
            ..relative
        };
        assert_eq!(coupon_window(&fixed, 1_000), (5_000, 9_000));
        let available = CouponStatus::Available as i32;
        assert_eq!(coupon_status(available, 9_000, 9_000), CouponStatus::Available);
        assert_eq!(coupon_status(available, 9_000, 9_001), CouponStatus::Expired);
        assert_eq!(coupon_status(CouponStatus::Redeemed as i32, 9_000, 9_001), CouponStatus::Redeemed);
    }

    #[test]
    fn redemption_checks_status_window_holder_store_and_threshold() {
        let stores = [3, 4];
        let coupon = Redeemable {
            status: CouponStatus::Available as i32,
            holder: "wmA",
            valid_from: 1_000,
            valid_until: 9_000,
            threshold_fen: 10_000,
            face_value_fen: 2_000,
            store_ids: &stores,
        };
        let ask = RedeemAsk { external_userid: "wmA", order_amount_fen: 12_000, store_id: 3, now: 5_000 };
        assert_eq!(check_redeem(&coupon, &ask).unwrap(), 2_000);
        let code = |coupon: &Redeemable<'_>, ask: &RedeemAsk<'_>| check_redeem(coupon, ask).unwrap_err().code;
        assert_eq!(code(&coupon, &RedeemAsk { now: 500, ..ask.clone() }), ErrorCode::FailedPrecondition);
        assert_eq!(code(&coupon, &RedeemAsk { now: 9_001, ..ask.clone() }), ErrorCode::FailedPrecondition);
        assert_eq!(code(&coupon, &RedeemAsk { external_userid: "wmB", ..ask.clone() }), ErrorCode::FailedPrecondition);
        assert_eq!(code(&coupon, &RedeemAsk { store_id: 5, ..ask.clone() }), ErrorCode::FailedPrecondition);
        assert_eq!(code(&coupon, &RedeemAsk { store_id: 0, ..ask.clone() }), ErrorCode::InvalidArgument);
        let below = check_redeem(&coupon, &RedeemAsk { order_amount_fen: 9_999, ..ask.clone() }).unwrap_err();
        assert!(below.message.contains("满 100 元"), "{}", below.message);
        let redeemed = Redeemable { status: CouponStatus::Redeemed as i32, ..coupon.clone() };
        assert_eq!(code(&redeemed, &ask), ErrorCode::FailedPrecondition);
        let no_threshold = Redeemable { threshold_fen: 0, store_ids: &[], ..coupon };
        let small = RedeemAsk { order_amount_fen: 1_500, store_id: 0, external_userid: "", ..ask };
        assert_eq!(check_redeem(&no_threshold, &small).unwrap(), 1_500);
    }

    #[test]
    fn coupon_codes_are_twelve_unambiguous_characters() {
        let code = coupon_code(0x1234_5678_9abc_def0_1122_3344_5566_7788);
        assert_eq!(code.len(), 12);
        assert!(code.bytes().all(|byte| CODE_ALPHABET.contains(&byte)));
        assert_ne!(code, coupon_code(0x1234_5678_9abc_def0_1122_3344_5566_7789));
        assert_eq!(normalise_code(&format!(" {} ", code.to_lowercase())), code);
    }

    #[test]
    fn sources_need_their_fields() {
        assert_eq!(validate_source(None).unwrap_err().field.as_deref(), Some("source"));
        let quick = RewardSource { kind: RewardSourceKind::QuickReply as i32, ..Default::default() };
        assert_eq!(validate_source(Some(&quick)).unwrap_err().field.as_deref(), Some("source.quick_reply_id"));
        let quick = RewardSource { quick_reply_id: 9, ..quick };
        assert!(validate_source(Some(&quick)).is_ok());
        assert_eq!(source_summary(&quick), "快捷回复 9 发放");
        let manual = RewardSource { kind: RewardSourceKind::Manual as i32, ..Default::default() };
        assert_eq!(validate_source(Some(&manual)).unwrap_err().field.as_deref(), Some("source.note"));
    }

    #[test]
    fn cash_earnings_follow_the_source_and_the_corp_day() {
        let source = |kind: RewardSourceKind| RewardSource { kind: kind as i32, ..Default::default() };
        assert_eq!(earnings_kind(&source(RewardSourceKind::KocTask)), KocEarningsKind::TaskReward);
        assert_eq!(earnings_kind(&source(RewardSourceKind::CampaignCommission)), KocEarningsKind::Commission);
        assert_eq!(earnings_kind(&source(RewardSourceKind::Manual)), KocEarningsKind::OtherReward);
        assert_eq!(corp_day(DAY_MS - CORP_UTC_OFFSET_MS - 1), "1970-01-01");
        assert_eq!(corp_day(DAY_MS - CORP_UTC_OFFSET_MS), "1970-01-02");
    }

    #[test]
    fn days_are_corp_days() {
        assert_eq!(day_start("1970-01-02"), Some(DAY_MS - CORP_UTC_OFFSET_MS));
        assert_eq!(day_start("2026-02-30"), None);
        assert_eq!(day_start("2026-1-01"), None);
        let (from, until) = day_range("2026-11-01", "2026-11-01").unwrap();
        assert_eq!(until.unwrap() - from.unwrap(), DAY_MS);
        assert_eq!(day_range("2026-11-02", "2026-11-01").unwrap_err().field.as_deref(), Some("end_date"));
        assert_eq!(day_range("x", "").unwrap_err().field.as_deref(), Some("start_date"));
    }
}
