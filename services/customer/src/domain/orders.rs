//! Orders from the data platform: validating an imported row, deciding whether it changes the stored order,
//! and what an order adds to its buyer's spend.

use scrm_proto::customer::v1::{OrderRow, OrderStatus};

/// Most rows one `ImportOrders` message may carry (the contract's limit).
pub const MAX_ROWS_PER_MESSAGE: usize = 1_000;
/// Most rejected rows an import lists (the contract's limit).
pub const MAX_REPORTED_ERRORS: usize = 1_000;
/// Longest order number, member number or other id accepted.
const MAX_ID_CHARS: usize = 64;

/// An order as scrm stores it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderRecord {
    /// Order number, the idempotency key.
    pub order_no: String,
    /// The buyer's `external_userid`; `None` while the buyer matches no customer.
    pub external_userid: Option<String>,
    /// Buyer's member number; empty when unknown.
    pub member_no: String,
    /// Buyer's unionid as given; empty when unknown.
    pub buyer_unionid: String,
    /// Buyer's phone as given, digits only; empty when unknown.
    pub buyer_phone: String,
    /// Store id; 0 when unknown or online.
    pub store_id: i64,
    /// Store code as given.
    pub store_code: String,
    /// Sales channel as given.
    pub channel: String,
    /// OrderStatus code.
    pub status: i32,
    /// Amount paid in fen.
    pub amount_fen: i64,
    /// Discounts in fen.
    pub discount_fen: i64,
    /// Amount refunded in fen.
    pub refund_fen: i64,
    /// Payment time, Unix ms.
    pub paid_at: Option<i64>,
    /// Last refund time, Unix ms.
    pub refunded_at: Option<i64>,
    /// Order lines as a JSON array.
    pub items_json: String,
    /// Coupon codes redeemed.
    pub coupon_codes: Vec<String>,
    /// Import source name.
    pub source: String,
    /// When the data platform last changed it, Unix ms.
    pub updated_at: i64,
    /// When scrm first imported it, Unix ms.
    pub imported_at: i64,
}

impl OrderRecord {
    /// Whether the order counts as a purchase: paid, refunded ones included.
    pub fn is_purchase(&self) -> bool {
        is_purchase_status(self.status)
    }

    /// Whether `other` holds the same order data (import bookkeeping aside).
    pub fn same_data(&self, other: &OrderRecord) -> bool {
        let strip = |order: &OrderRecord| OrderRecord { source: String::new(), imported_at: 0, ..order.clone() };
        strip(self) == strip(other)
    }
}

/// Whether an OrderStatus code counts as a purchase.
pub fn is_purchase_status(status: i32) -> bool {
    [OrderStatus::Paid, OrderStatus::PartiallyRefunded, OrderStatus::Refunded]
        .iter()
        .any(|counted| *counted as i32 == status)
}

/// Why a row was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// Offending field; empty when not field-specific.
    pub field: String,
    /// Why, in plain Chinese.
    pub reason: String,
}

impl RowError {
    fn new(field: &str, reason: impl Into<String>) -> Self {
        RowError { field: field.to_owned(), reason: reason.into() }
    }
}

/// What importing one row did to the stored order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderOutcome {
    /// The order is new.
    Created,
    /// The order existed and this row changed it.
    Updated,
    /// Identical, or older than the stored order.
    Unchanged,
}

/// Decides what a valid incoming order does against the stored one.
pub fn plan_order(incoming: &OrderRecord, stored: Option<&OrderRecord>) -> OrderOutcome {
    match stored {
        None => OrderOutcome::Created,
        Some(stored) if incoming.updated_at < stored.updated_at || incoming.same_data(stored) => {
            OrderOutcome::Unchanged
        }
        Some(_) => OrderOutcome::Updated,
    }
}

/// Digits of a mainland mobile number, accepting a leading `+86` or `86`; `None` when it is not one.
pub fn normalize_phone(phone: &str) -> Option<String> {
    let digits: String = phone.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    let digits = digits.strip_prefix("+86").or_else(|| digits.strip_prefix("0086")).unwrap_or(&digits);
    let digits = if digits.len() == 13 { digits.strip_prefix("86").unwrap_or(digits) } else { digits };
    (digits.len() == 11 && digits.starts_with('1') && digits.chars().all(|c| c.is_ascii_digit()))
        .then(|| digits.to_owned())
}

fn check_text(field: &str, value: &str, max: usize) -> Result<(), RowError> {
    if value.chars().count() > max {
        return Err(RowError::new(field, format!("{field} 超过 {max} 个字符")));
    }
    Ok(())
}

/// Checks one imported row and turns it into the order to store (without buyer mapping or import
/// bookkeeping). `items_json` is the row's lines already encoded.
pub fn validate_row(
    row: &OrderRow,
    items_json: String,
    paid_at: Option<i64>,
    refunded_at: Option<i64>,
    updated_at: Option<i64>,
) -> Result<OrderRecord, RowError> {
    if row.order_no.trim().is_empty() {
        return Err(RowError::new("order_no", "缺少订单号"));
    }
    check_text("order_no", &row.order_no, MAX_ID_CHARS)?;
    check_text("buyer_external_userid", &row.buyer_external_userid, MAX_ID_CHARS)?;
    check_text("buyer_unionid", &row.buyer_unionid, MAX_ID_CHARS)?;
    check_text("member_no", &row.member_no, MAX_ID_CHARS)?;
    check_text("store_code", &row.store_code, MAX_ID_CHARS)?;
    check_text("channel", &row.channel, MAX_ID_CHARS)?;
    let buyer_phone = if row.buyer_phone.is_empty() {
        String::new()
    } else {
        normalize_phone(&row.buyer_phone).ok_or_else(|| RowError::new("buyer_phone", "手机号格式不正确"))?
    };
    let status = OrderStatus::try_from(row.status).unwrap_or_default();
    if status == OrderStatus::Unspecified {
        return Err(RowError::new("status", "缺少订单状态或状态无法识别"));
    }
    if row.amount_fen < 0 {
        return Err(RowError::new("amount_fen", "实付金额不能为负数"));
    }
    if row.discount_fen < 0 {
        return Err(RowError::new("discount_fen", "优惠金额不能为负数"));
    }
    if row.refund_fen < 0 {
        return Err(RowError::new("refund_fen", "退款金额不能为负数"));
    }
    if row.refund_fen > row.amount_fen {
        return Err(RowError::new("refund_fen", "退款金额大于实付金额"));
    }
    match status {
        OrderStatus::PartiallyRefunded if row.refund_fen == 0 || row.refund_fen == row.amount_fen => {
            return Err(RowError::new("refund_fen", "部分退款的订单退款金额应大于 0 且小于实付金额"));
        }
        OrderStatus::Refunded if row.refund_fen != row.amount_fen => {
            return Err(RowError::new("refund_fen", "已退款的订单退款金额应等于实付金额"));
        }
        OrderStatus::Paid | OrderStatus::PendingPayment | OrderStatus::Cancelled if row.refund_fen != 0 => {
            return Err(RowError::new("refund_fen", "未退款的订单退款金额应为 0"));
        }
        _ => {}
    }
    if is_purchase_status(status as i32) && paid_at.is_none() {
        return Err(RowError::new("paid_at", "已支付的订单缺少支付时间"));
    }
    if row.coupon_codes.iter().any(|code| code.contains(',') || code.chars().count() > MAX_ID_CHARS) {
        return Err(RowError::new("coupon_codes", "券码不能含逗号且不超过 64 个字符"));
    }
    let updated_at = updated_at.or(paid_at).or(refunded_at).unwrap_or(0);
    Ok(OrderRecord {
        order_no: row.order_no.trim().to_owned(),
        external_userid: Some(row.buyer_external_userid.trim().to_owned()).filter(|id| !id.is_empty()),
        member_no: row.member_no.trim().to_owned(),
        buyer_unionid: row.buyer_unionid.trim().to_owned(),
        buyer_phone,
        store_id: 0,
        store_code: row.store_code.trim().to_owned(),
        channel: row.channel.trim().to_owned(),
        status: status as i32,
        amount_fen: row.amount_fen,
        discount_fen: row.discount_fen,
        refund_fen: row.refund_fen,
        paid_at,
        refunded_at,
        items_json,
        coupon_codes: row.coupon_codes.iter().filter(|code| !code.is_empty()).cloned().collect(),
        source: String::new(),
        updated_at,
        imported_at: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(status: OrderStatus, amount: i64, refund: i64) -> OrderRow {
        OrderRow {
            row_number: 1,
            order_no: "NO1".into(),
            buyer_external_userid: "wm1".into(),
            status: status as i32,
            amount_fen: amount,
            refund_fen: refund,
            ..OrderRow::default()
        }
    }

    fn valid(row: &OrderRow) -> Result<OrderRecord, RowError> {
        validate_row(row, "[]".into(), Some(1_000), None, None)
    }

    #[test]
    fn a_good_row_becomes_an_order_with_its_paid_time_as_version() {
        let order = valid(&row(OrderStatus::Paid, 12_800, 0)).unwrap();
        assert_eq!(order.external_userid.as_deref(), Some("wm1"));
        assert_eq!((order.updated_at, order.paid_at), (1_000, Some(1_000)));
        assert!(order.is_purchase());
    }

    #[test]
    fn bad_rows_name_their_field_and_reason() {
        let field = |row: OrderRow| valid(&row).unwrap_err().field;
        assert_eq!(field(OrderRow { order_no: " ".into(), ..row(OrderStatus::Paid, 1, 0) }), "order_no");
        assert_eq!(field(row(OrderStatus::Unspecified, 1, 0)), "status");
        assert_eq!(field(row(OrderStatus::Paid, -1, 0)), "amount_fen");
        assert_eq!(field(row(OrderStatus::PartiallyRefunded, 100, 200)), "refund_fen");
        assert_eq!(field(row(OrderStatus::Refunded, 100, 50)), "refund_fen");
        assert_eq!(field(row(OrderStatus::Paid, 100, 50)), "refund_fen");
        assert_eq!(field(OrderRow { buyer_phone: "12345".into(), ..row(OrderStatus::Paid, 1, 0) }), "buyer_phone");
        let unpaid = validate_row(&row(OrderStatus::Paid, 1, 0), "[]".into(), None, None, None).unwrap_err();
        assert_eq!((unpaid.field.as_str(), unpaid.reason.as_str()), ("paid_at", "已支付的订单缺少支付时间"));
        let too_much = valid(&row(OrderStatus::PartiallyRefunded, 100, 200)).unwrap_err();
        assert_eq!(too_much.reason, "退款金额大于实付金额");
    }

    #[test]
    fn phones_accept_the_country_code() {
        assert_eq!(normalize_phone("+86 138-0000-0001").as_deref(), Some("13800000001"));
        assert_eq!(normalize_phone("8613800000001").as_deref(), Some("13800000001"));
        assert_eq!(normalize_phone("23800000001"), None);
    }

    #[test]
    fn reimports_change_nothing_and_later_versions_update() {
        let stored =
            OrderRecord { source: "a".into(), imported_at: 5, ..valid(&row(OrderStatus::Paid, 100, 0)).unwrap() };
        let same = OrderRecord { source: "b".into(), ..stored.clone() };
        assert_eq!(plan_order(&same, Some(&stored)), OrderOutcome::Unchanged);
        let refund =
            OrderRecord { status: OrderStatus::Refunded as i32, refund_fen: 100, updated_at: 2_000, ..stored.clone() };
        assert_eq!(plan_order(&refund, Some(&stored)), OrderOutcome::Updated);
        let older = OrderRecord { amount_fen: 1, updated_at: 500, ..stored.clone() };
        assert_eq!(plan_order(&older, Some(&stored)), OrderOutcome::Unchanged);
        assert_eq!(plan_order(&stored, None), OrderOutcome::Created);
    }
}
