//! The CRM REST endpoints: a customer's profile (`GET /api/crm/customers/{wxId}`, the PRD's endpoint) and
//! the order CSV import (`POST /api/crm/orders/import`). Both call the customer service as the caller.

use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use bytes::Bytes;
use prost_types::Timestamp;
use scrm_customer::order_csv;
use scrm_kernel::{ApiError, Caller, Clients};
use scrm_proto::customer::v1::{
    AddWay, CustomerStatus, CustomerTag, ExternalContactType, FollowStatus, FollowUser, Gender, GetCustomerRequest,
    ImportOrdersResponse, MemberMatch, Order, OrderStatus, TagType,
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::RestError;

/// The `/api/crm` routes.
pub fn router() -> Router<Clients> {
    Router::new().route("/crm/customers/{wx_id}", get(customer)).route("/crm/orders/import", post(import_orders))
}

fn time(timestamp: Option<Timestamp>) -> Value {
    timestamp.map_or(Value::Null, |timestamp| Value::String(timestamp.to_string()))
}

pub(super) fn tag_json(tag: &CustomerTag) -> Value {
    json!({
        "tagId": tag.tag_id,
        "tagName": tag.tag_name,
        "groupId": tag.group_id,
        "groupName": tag.group_name,
        "type": TagType::try_from(tag.r#type).unwrap_or_default().as_str_name(),
    })
}

pub(super) fn follow_json(follow: &FollowUser) -> Value {
    json!({
        "userid": follow.userid,
        "staffName": follow.staff_name,
        "remark": follow.remark,
        "description": follow.description,
        "addedAt": time(follow.added_at),
        "addWay": AddWay::try_from(follow.add_way).map_or_else(|_| follow.add_way.to_string(), |way| way.as_str_name().to_owned()),
        "state": follow.state,
        "remarkMobiles": follow.remark_mobiles,
        "tags": follow.tags.iter().map(tag_json).collect::<Vec<_>>(),
        "storeIds": follow.store_ids,
        "status": FollowStatus::try_from(follow.status).unwrap_or_default().as_str_name(),
        "removedAt": time(follow.removed_at),
    })
}

fn order_json(order: &Order) -> Value {
    json!({
        "orderNo": order.order_no,
        "externalUserid": order.external_userid,
        "memberNo": order.member_no,
        "storeId": order.store_id,
        "storeCode": order.store_code,
        "channel": order.channel,
        "status": OrderStatus::try_from(order.status).unwrap_or_default().as_str_name(),
        "amountFen": order.amount_fen,
        "discountFen": order.discount_fen,
        "refundFen": order.refund_fen,
        "paidAt": time(order.paid_at),
        "refundedAt": time(order.refunded_at),
        "couponCodes": order.coupon_codes,
        "source": order.source,
    })
}

/// `GET /api/crm/customers/{wxId}`: the profile as camelCase JSON (enums by their contract names, times in
/// RFC 3339). 400 for a malformed id, 403 when the caller may not see the customer, 404 when unknown.
async fn customer(
    State(clients): State<Clients>,
    Extension(caller): Extension<Caller>,
    Path(wx_id): Path<String>,
) -> Result<Json<Value>, RestError> {
    let request = caller.outgoing(GetCustomerRequest { external_userid: wx_id })?;
    let response = clients.customer.clone().get_customer(request).await?.into_inner();
    let customer = response.customer.unwrap_or_default();
    let member = customer.member.as_ref().map(|member| {
        json!({
            "memberNo": member.member_no,
            "name": member.name,
            "phone": member.phone,
            "matchedBy": MemberMatch::try_from(member.matched_by).unwrap_or_default().as_str_name(),
            "memberTier": member.member_tier,
            "registeredAt": time(member.registered_at),
        })
    });
    Ok(Json(json!({
        "externalUserid": customer.external_userid,
        "name": customer.name,
        "avatar": customer.avatar,
        "type": ExternalContactType::try_from(customer.r#type).unwrap_or_default().as_str_name(),
        "gender": Gender::try_from(customer.gender).unwrap_or_default().as_str_name(),
        "unionid": customer.unionid,
        "corpName": customer.corp_name,
        "status": CustomerStatus::try_from(customer.status).unwrap_or_default().as_str_name(),
        "followUsers": customer.follow_user.iter().map(follow_json).collect::<Vec<_>>(),
        "tags": customer.tags.iter().map(tag_json).collect::<Vec<_>>(),
        "storeIds": customer.store_ids,
        "level": customer.level,
        "levelName": customer.level_name,
        "totalSpendFen": customer.total_spend_fen,
        "orderCount": customer.order_count,
        "firstPurchaseAt": time(customer.first_purchase_at),
        "lastPurchaseAt": time(customer.last_purchase_at),
        "isKoc": customer.is_koc,
        "member": member,
        "notes": customer.notes.iter().map(|note| json!({
            "id": note.id,
            "content": note.content,
            "authorUserid": note.author_userid,
            "authorName": note.author_name,
            "createdAt": time(note.created_at),
        })).collect::<Vec<_>>(),
        "noteCount": customer.note_count,
        "groups": customer.groups.iter().map(|group| json!({
            "chatId": group.chat_id,
            "name": group.name,
            "joinedAt": time(group.joined_at),
        })).collect::<Vec<_>>(),
        "campaigns": customer.campaigns.iter().map(|campaign| json!({
            "campaignId": campaign.campaign_id,
            "name": campaign.name,
            "joinedAt": time(campaign.joined_at),
        })).collect::<Vec<_>>(),
        "latestOrders": customer.latest_orders.iter().map(order_json).collect::<Vec<_>>(),
        "addedAt": time(customer.added_at),
        "churnedAt": time(customer.churned_at),
        "updatedAt": time(customer.updated_at),
    })))
}

/// Query of the CSV import.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ImportQuery {
    /// Name of the import source; default `csv:rest`.
    source: Option<String>,
    /// Validate and report without storing.
    #[serde(default)]
    dry_run: bool,
}

/// The import report as camelCase JSON.
pub fn report_json(report: &ImportOrdersResponse) -> Value {
    json!({
        "received": report.received,
        "accepted": report.accepted,
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "rejected": report.rejected,
        "unmatched": report.unmatched,
        "errors": report.errors.iter().map(|error| json!({
            "rowNumber": error.row_number,
            "orderNo": error.order_no,
            "field": error.field,
            "reason": error.reason,
        })).collect::<Vec<_>>(),
        "errorsTruncated": report.errors_truncated,
        "dryRun": report.dry_run,
    })
}

/// `POST /api/crm/orders/import`: a CSV body (see `scrm_customer::order_csv` for its columns) imported
/// through ImportOrders. Idempotent by order number. Good rows are imported; the report lists each bad row
/// with its row number and reason. A file that cannot be read at all (no header, unknown column) is a 400.
async fn import_orders(
    State(clients): State<Clients>,
    Extension(caller): Extension<Caller>,
    Query(query): Query<ImportQuery>,
    body: Bytes,
) -> Result<Json<Value>, RestError> {
    let text = std::str::from_utf8(&body).map_err(|_| ApiError::invalid("body", "the CSV must be UTF-8 text"))?;
    let parsed = order_csv::parse(text).map_err(|error| ApiError::invalid("body", error.message))?;
    let source = query.source.unwrap_or_else(|| "csv:rest".to_owned());
    let messages = order_csv::messages(parsed.rows, &source, query.dry_run);
    let request = caller.outgoing(futures::stream::iter(messages))?;
    let response = clients.customer.clone().import_orders(request).await?.into_inner();
    Ok(Json(report_json(&order_csv::merge_report(response, parsed.errors, query.dry_run))))
}
