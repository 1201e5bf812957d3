//! The order CSV of the data platform, read into ImportOrders rows: shared by the REST import
//! (`POST /api/crm/orders/import`) and `scrm import orders FILE`.
//!
//! The first line names the columns (any order; unknown names are refused). Required: `order_no`, `status`,
//! `amount`. Optional: `buyer_external_userid`, `buyer_unionid`, `member_no`, `buyer_phone`, `store_code`,
//! `channel`, `discount`, `refund`, `paid_at`, `refunded_at`, `updated_at`, `coupon_codes` (separated by `|`).
//! Amounts are in yuan with at most two decimals (`128.50`). Times are RFC 3339 (`2025-03-01T10:00:00+08:00`) or
//! `2025-03-01 10:00:00`, read as China time. Status is `paid`, `pending_payment`, `partially_refunded`,
//! `refunded`, `cancelled`, or 已支付, 待支付, 部分退款, 已退款, 已取消.

use prost_types::Timestamp;
use scrm_kernel::calendar::days_from_civil;
use scrm_proto::customer::v1::{ImportOrdersRequest, ImportOrdersResponse, ImportRowError, OrderRow, OrderStatus};

/// Every column the CSV may have.
pub const COLUMNS: [&str; 15] = [
    "order_no",
    "buyer_external_userid",
    "buyer_unionid",
    "member_no",
    "buyer_phone",
    "store_code",
    "channel",
    "status",
    "amount",
    "discount",
    "refund",
    "paid_at",
    "refunded_at",
    "updated_at",
    "coupon_codes",
];

/// Columns every file must have.
const REQUIRED: [&str; 3] = ["order_no", "status", "amount"];

/// A file that cannot be read at all (as opposed to a bad row).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct CsvFileError {
    /// What is wrong, in plain Chinese.
    pub message: String,
}

/// A file read row by row: good rows to import, and rows refused before import.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ParsedCsv {
    /// Rows that parsed, each with its `row_number`.
    pub rows: Vec<OrderRow>,
    /// Rows that did not, with their row number and reason.
    pub errors: Vec<ImportRowError>,
}

/// Reads a whole CSV text. Row numbers count data records from 1 (the header is not counted); blank lines
/// are skipped but counted.
pub fn parse(text: &str) -> Result<ParsedCsv, CsvFileError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut records = records(text)?.into_iter();
    let header = records.next().ok_or_else(|| CsvFileError { message: "文件为空，缺少表头".into() })?;
    let header: Vec<String> = header.iter().map(|name| name.trim().to_ascii_lowercase()).collect();
    for name in &header {
        if !COLUMNS.contains(&name.as_str()) {
            return Err(CsvFileError {
                message: format!("表头含未知列 `{name}`；可用列：{}", COLUMNS.join(", "))
            });
        }
    }
    for required in REQUIRED {
        if !header.iter().any(|name| name == required) {
            return Err(CsvFileError { message: format!("表头缺少必需列 `{required}`") });
        }
    }
    let mut parsed = ParsedCsv::default();
    for (index, record) in records.enumerate() {
        let row_number = index as i64 + 1;
        if record.iter().all(|field| field.trim().is_empty()) {
            continue;
        }
        let get = |column: &str| {
            header.iter().position(|name| name == column).and_then(|at| record.get(at)).map_or("", |v| v.trim())
        };
        let fail = |field: &str, reason: String| ImportRowError {
            row_number,
            order_no: get("order_no").to_owned(),
            field: field.to_owned(),
            reason,
        };
        if record.len() != header.len() {
            parsed.errors.push(fail("", format!("列数为 {}，与表头的 {} 列不符", record.len(), header.len())));
            continue;
        }
        match row(row_number, &get) {
            Ok(row) => parsed.rows.push(row),
            Err((field, reason)) => parsed.errors.push(fail(field, reason)),
        }
    }
    Ok(parsed)
}

/// Rows per ImportOrders message sent for a file.
pub const ROWS_PER_MESSAGE: usize = 500;

/// The ImportOrders messages carrying `rows`, [`ROWS_PER_MESSAGE`] each; every message names `source` and
/// `dry_run` (the server reads them from the first).
pub fn messages(rows: Vec<OrderRow>, source: &str, dry_run: bool) -> Vec<ImportOrdersRequest> {
    rows.chunks(ROWS_PER_MESSAGE)
        .map(|chunk| ImportOrdersRequest { rows: chunk.to_vec(), source: source.to_owned(), dry_run })
        .collect()
}

/// Adds the rows refused while reading the file to the server's report of the rest: counts, and errors in row
/// order within the contract's limit of 1,000.
pub fn merge_report(
    mut response: ImportOrdersResponse,
    refused: Vec<ImportRowError>,
    dry_run: bool,
) -> ImportOrdersResponse {
    const MAX_ERRORS: usize = 1_000;
    response.received += refused.len() as i64;
    response.rejected += refused.len() as i64;
    response.errors.extend(refused);
    response.errors.sort_by_key(|error| error.row_number);
    if response.errors.len() > MAX_ERRORS {
        response.errors.truncate(MAX_ERRORS);
        response.errors_truncated = true;
    }
    response.dry_run = dry_run;
    response
}

fn row<'a>(row_number: i64, get: &impl Fn(&str) -> &'a str) -> Result<OrderRow, (&'static str, String)> {
    let amount = |field: &'static str| -> Result<i64, (&'static str, String)> {
        let value = get(field);
        if value.is_empty() {
            return Ok(0);
        }
        yuan_to_fen(value).ok_or((field, format!("金额 `{value}` 格式不正确（应为元，最多两位小数）")))
    };
    let time = |field: &'static str| -> Result<Option<Timestamp>, (&'static str, String)> {
        let value = get(field);
        if value.is_empty() {
            return Ok(None);
        }
        parse_time(value)
            .map(|seconds| Some(Timestamp { seconds, nanos: 0 }))
            .ok_or((field, format!("时间 `{value}` 格式不正确（如 2025-03-01 10:00:00）")))
    };
    let status_text = get("status");
    let status = parse_status(status_text).ok_or(("status", format!("无法识别的订单状态 `{status_text}`")))?;
    Ok(OrderRow {
        row_number,
        order_no: get("order_no").to_owned(),
        buyer_external_userid: get("buyer_external_userid").to_owned(),
        buyer_unionid: get("buyer_unionid").to_owned(),
        member_no: get("member_no").to_owned(),
        buyer_phone: get("buyer_phone").to_owned(),
        store_code: get("store_code").to_owned(),
        channel: get("channel").to_owned(),
        status: status as i32,
        amount_fen: amount("amount")?,
        discount_fen: amount("discount")?,
        refund_fen: amount("refund")?,
        paid_at: time("paid_at")?,
        refunded_at: time("refunded_at")?,
        items: Vec::new(),
        coupon_codes: get("coupon_codes")
            .split('|')
            .map(str::trim)
            .filter(|code| !code.is_empty())
            .map(str::to_owned)
            .collect(),
        updated_at: time("updated_at")?,
    })
}

/// Splits CSV text into records (RFC 4180: quoted fields may hold commas, quotes as `""`, and line breaks).
fn records(text: &str) -> Result<Vec<Vec<String>>, CsvFileError> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    let mut line = 1;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => {
                if c == '\n' {
                    line += 1;
                }
                field.push(c);
            }
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\r') if chars.peek() == Some(&'\n') => {}
            (false, '\n') => {
                line += 1;
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (false, c) => field.push(c),
        }
    }
    if quoted {
        return Err(CsvFileError { message: format!("第 {line} 行的引号未闭合") });
    }
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        records.push(record);
    }
    Ok(records)
}

/// `128.5` → 12850. At most two decimals; no sign.
fn yuan_to_fen(value: &str) -> Option<i64> {
    let (whole, fraction) = value.split_once('.').unwrap_or((value, ""));
    if whole.is_empty() || fraction.len() > 2 || !whole.chars().chain(fraction.chars()).all(|c| c.is_ascii_digit()) {
        return None;
    }
    let fraction = format!("{fraction:0<2}");
    whole.parse::<i64>().ok()?.checked_mul(100)?.checked_add(fraction.parse::<i64>().ok()?)
}

fn parse_status(value: &str) -> Option<OrderStatus> {
    Some(match value.to_ascii_lowercase().as_str() {
        "paid" | "已支付" | "已付款" => OrderStatus::Paid,
        "pending_payment" | "待支付" | "待付款" => OrderStatus::PendingPayment,
        "partially_refunded" | "部分退款" => OrderStatus::PartiallyRefunded,
        "refunded" | "已退款" => OrderStatus::Refunded,
        "cancelled" | "canceled" | "已取消" => OrderStatus::Cancelled,
        _ => return None,
    })
}

/// Unix seconds of `YYYY-MM-DD[ T]HH:MM[:SS]` with an optional `Z` or `±HH:MM` offset; China time without.
fn parse_time(value: &str) -> Option<i64> {
    let (date, rest) = value.split_at_checked(10)?;
    let rest = rest.strip_prefix([' ', 'T'])?;
    let (clock, offset_seconds) = if let Some(clock) = rest.strip_suffix('Z') {
        (clock, 0)
    } else if let Some(at) = rest.rfind(['+', '-']).filter(|at| *at >= 5) {
        let (clock, offset) = rest.split_at(at);
        let sign = if offset.starts_with('-') { -1 } else { 1 };
        let (hours, minutes) = offset[1..].split_once(':')?;
        (clock, sign * (hours.parse::<i64>().ok()? * 3600 + minutes.parse::<i64>().ok()? * 60))
    } else {
        (rest, 8 * 3600)
    };
    let mut date_parts = date.split('-');
    let year: i64 = date_parts.next()?.parse().ok()?;
    let month: i64 = date_parts.next()?.parse().ok()?;
    let day: i64 = date_parts.next()?.parse().ok()?;
    let mut clock_parts = clock.split(':');
    let hour: i64 = clock_parts.next()?.parse().ok()?;
    let minute: i64 = clock_parts.next()?.parse().ok()?;
    let second: i64 = clock_parts.next().map_or(Some(0), |s| s.parse().ok())?;
    if clock_parts.next().is_some()
        || !(1..=12).contains(&month)
        || !(1..=days_in_month(year, month)).contains(&day)
        || hour > 23
        || minute > 59
        || second > 59
        || year < 1970
    {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset_seconds)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_with_good_and_bad_rows() {
        let text = "\u{feff}order_no,buyer_external_userid,status,amount,refund,paid_at,coupon_codes\r\n\
            NO1,wmA,paid,128.50,,2025-03-01 10:00:00,C1|C2\r\n\
            NO2,wmA,已退款,10,10,2025-03-02T10:00:00Z,\r\n\
            NO3,wmA,unknown,10,,2025-03-02 10:00:00,\r\n\
            \r\n\
            NO4,wmA,paid,abc,,2025-03-02 10:00:00,\r\n\
            \"NO5,x\",wmA,paid,1,,2025-02-30 10:00:00,\r\n\
            NO6,wmA,paid,1\n";
        let parsed = parse(text).unwrap();
        assert_eq!(parsed.rows.len(), 2);
        let first = &parsed.rows[0];
        assert_eq!((first.row_number, first.amount_fen, first.status), (1, 12_850, OrderStatus::Paid as i32));
        assert_eq!(first.paid_at.unwrap().seconds, 1_740_794_400, "China time");
        assert_eq!(first.coupon_codes, ["C1", "C2"]);
        assert_eq!(parsed.rows[1].paid_at.unwrap().seconds, 1_740_909_600);
        let errors: Vec<_> =
            parsed.errors.iter().map(|e| (e.row_number, e.order_no.as_str(), e.field.as_str())).collect();
        assert_eq!(errors, [(3, "NO3", "status"), (5, "NO4", "amount"), (6, "NO5,x", "paid_at"), (7, "NO6", "")]);
        assert!(parsed.errors[0].reason.contains("unknown"));
    }

    #[test]
    fn files_that_cannot_be_read() {
        assert!(parse("").unwrap_err().message.contains("表头"));
        assert!(parse("order_no,status\nNO1,paid\n").unwrap_err().message.contains("amount"));
        assert!(parse("order_no,status,amount,colour\n").unwrap_err().message.contains("colour"));
        assert!(parse("order_no,status,amount\n\"NO1,paid,1\n").unwrap_err().message.contains("引号"));
    }

    #[test]
    fn amounts_and_times() {
        assert_eq!(yuan_to_fen("0.5"), Some(50));
        assert_eq!(yuan_to_fen("12"), Some(1_200));
        assert_eq!(yuan_to_fen("1.234"), None);
        assert_eq!(yuan_to_fen("-1"), None);
        assert_eq!(parse_time("1970-01-01 08:00:00"), Some(0));
        assert_eq!(parse_time("2024-02-29T00:00:00+00:00"), Some(1_709_164_800));
        assert_eq!(parse_time("2024-02-29 00:00"), Some(1_709_164_800 - 8 * 3600));
        assert_eq!(parse_time("2023-02-29 00:00:00"), None);
        assert_eq!(parse_time("2024-13-01 00:00:00"), None);
    }
}
