//! Orders and members from the data platform: ImportOrders, ListOrders, UpsertMembers, GetMember.

use scrm_kernel::paging::page_size;
use scrm_kernel::{ApiError, Caller, ErrorCode, Role};
use scrm_proto::customer::v1::get_member_request::Lookup;
use scrm_proto::customer::v1::{
    GetMemberRequest, GetMemberResponse, ImportOrdersRequest, ImportOrdersResponse, ImportRowError, ListOrdersRequest,
    ListOrdersResponse, MemberError, MemberInput, MemberMatch, OrderRow, UpsertMembersRequest, UpsertMembersResponse,
};
use tonic::Streaming;

use super::profile::{check_external_userid, items_json, member_proto, order_proto};
use super::{CustomerApi, optional_millis, unix_millis};
use crate::domain::orders::{
    MAX_REPORTED_ERRORS, MAX_ROWS_PER_MESSAGE, OrderOutcome, RowError, normalize_phone, validate_row,
};
use crate::error::CustomerError;
use crate::store::{MemberKey, MemberRecord, OrderFilter, order_position};

/// Most members one UpsertMembers call may carry (the contract's limit).
const MAX_MEMBERS_PER_CALL: usize = 1_000;
/// Longest import source name.
const MAX_SOURCE_CHARS: usize = 255;

/// Running totals of an import.
#[derive(Default)]
struct Tally {
    response: ImportOrdersResponse,
}

impl Tally {
    fn reject(&mut self, row_number: i64, order_no: &str, error: RowError) {
        self.response.rejected += 1;
        if self.response.errors.len() < MAX_REPORTED_ERRORS {
            self.response.errors.push(ImportRowError {
                row_number,
                order_no: order_no.to_owned(),
                field: error.field,
                reason: error.reason,
            });
        } else {
            self.response.errors_truncated = true;
        }
    }
}

/// A row's times, checked: `paid_at`, `refunded_at`, `updated_at`.
fn row_times(row: &OrderRow) -> Result<[Option<i64>; 3], RowError> {
    let time = |field: &str, value: Option<&prost_types::Timestamp>| {
        optional_millis(field, value)
            .map_err(|_| RowError { field: field.to_owned(), reason: "时间格式不正确".into() })
    };
    Ok([
        time("paid_at", row.paid_at.as_ref())?,
        time("refunded_at", row.refunded_at.as_ref())?,
        time("updated_at", row.updated_at.as_ref())?,
    ])
}

impl CustomerApi {
    /// ImportOrders: reads the stream message by message, storing each message's good rows in one batch.
    pub(crate) async fn import_order_stream(
        &self,
        mut stream: Streaming<ImportOrdersRequest>,
    ) -> Result<ImportOrdersResponse, tonic::Status> {
        let mut tally = Tally::default();
        let mut first = true;
        let mut source = String::new();
        let mut dry_run = false;
        let mut position = 0_i64;
        while let Some(message) = stream.message().await? {
            if first {
                first = false;
                source = message.source.trim().to_owned();
                dry_run = message.dry_run;
                if source.chars().count() > MAX_SOURCE_CHARS {
                    return Err(ApiError::invalid("source", "source is longer than 255 characters").into());
                }
            }
            if message.rows.len() > MAX_ROWS_PER_MESSAGE {
                return Err(ApiError::invalid(
                    "rows",
                    format!("at most {MAX_ROWS_PER_MESSAGE} rows per message, got {}", message.rows.len()),
                )
                .into());
            }
            let mut good = Vec::new();
            let mut numbers = Vec::new();
            for row in message.rows {
                position += 1;
                tally.response.received += 1;
                let row_number = if row.row_number > 0 { row.row_number } else { position };
                let checked = row_times(&row).and_then(|[paid_at, refunded_at, updated_at]| {
                    validate_row(&row, items_json(&row.items), paid_at, refunded_at, updated_at)
                });
                match checked {
                    Ok(order) => {
                        numbers.push(row_number);
                        good.push(order);
                    }
                    Err(error) => tally.reject(row_number, &row.order_no, error),
                }
            }
            let now = unix_millis(std::time::SystemTime::now());
            let batch = self.store.import_orders(good, &source, now, dry_run).await.map_err(CustomerError::from)?;
            self.search.index_customers(&batch.customers).await;
            for imported in batch.results {
                tally.response.accepted += 1;
                match imported.outcome {
                    OrderOutcome::Created => tally.response.created += 1,
                    OrderOutcome::Updated => tally.response.updated += 1,
                    OrderOutcome::Unchanged => tally.response.unchanged += 1,
                }
                if !imported.matched {
                    tally.response.unmatched += 1;
                }
            }
        }
        tally.response.errors.sort_by_key(|error| error.row_number);
        tally.response.dry_run = dry_run;
        tracing::info!(
            %source,
            received = tally.response.received,
            created = tally.response.created,
            updated = tally.response.updated,
            rejected = tally.response.rejected,
            "imported orders"
        );
        Ok(tally.response)
    }

    /// ListOrders.
    pub(crate) async fn orders(
        &self,
        caller: &Caller,
        request: ListOrdersRequest,
    ) -> Result<ListOrdersResponse, CustomerError> {
        let limit = page_size(request.page_size)?;
        let nonempty = |value: String| Some(value).filter(|value| !value.is_empty());
        let mut filter = OrderFilter {
            external_userid: nonempty(request.external_userid),
            member_no: nonempty(request.member_no),
            order_no: nonempty(request.order_no),
            store_id: Some(request.store_id).filter(|id| *id != 0),
            statuses: request.statuses,
            paid_since: optional_millis("paid_since", request.paid_since.as_ref())?,
            paid_until: optional_millis("paid_until", request.paid_until.as_ref())?,
            after: parse_order_token(&request.page_token)?,
        };
        match &filter.external_userid {
            Some(id) => {
                self.visible_customer(caller, id).await?;
            }
            None => match caller.role {
                Role::Operator | Role::Admin | Role::Support => {}
                Role::StoreManager => {
                    let Some(store_id) = filter.store_id.filter(|id| caller.can_see_store(&id.to_string())) else {
                        return Err(ApiError::invalid(
                            "store_id",
                            "a store manager lists orders of one of their stores",
                        )
                        .into());
                    };
                    filter.store_id = Some(store_id);
                }
                Role::Koc => {
                    return Err(
                        ApiError::new(ErrorCode::PermissionDenied, "list orders of one customer you follow").into()
                    );
                }
            },
        }
        let orders = self.store.list_orders(&filter, limit).await?;
        let next_page_token = match orders.last() {
            Some(last) if orders.len() == limit as usize => {
                let (paid, order_no) = order_position(last);
                format!("after:{paid}:{order_no}")
            }
            _ => String::new(),
        };
        Ok(ListOrdersResponse { orders: orders.into_iter().map(order_proto).collect(), next_page_token })
    }

    /// UpsertMembers: bad records are reported, good ones applied.
    pub(crate) async fn members(&self, request: UpsertMembersRequest) -> Result<UpsertMembersResponse, CustomerError> {
        if request.members.len() > MAX_MEMBERS_PER_CALL {
            return Err(ApiError::invalid("members", format!("at most {MAX_MEMBERS_PER_CALL} members per call")).into());
        }
        let now = unix_millis(std::time::SystemTime::now());
        let mut response = UpsertMembersResponse::default();
        let mut records = Vec::new();
        for (index, input) in request.members.into_iter().enumerate() {
            let member_no = input.member_no.clone();
            match member_record(input, now) {
                Ok(record) => records.push(record),
                Err((field, reason)) => response.errors.push(MemberError {
                    index: index as i32,
                    member_no,
                    field: field.to_owned(),
                    reason: reason.to_owned(),
                }),
            }
        }
        let batch = self.store.upsert_members(records, now).await?;
        self.search.index_customers(&batch.customers).await;
        for (outcome, linked) in batch.results {
            match outcome {
                OrderOutcome::Created => response.created += 1,
                OrderOutcome::Updated => response.updated += 1,
                OrderOutcome::Unchanged => response.unchanged += 1,
            }
            response.linked += i64::from(linked);
        }
        Ok(response)
    }

    /// GetMember.
    pub(crate) async fn member(
        &self,
        caller: &Caller,
        request: GetMemberRequest,
    ) -> Result<GetMemberResponse, CustomerError> {
        let (key, value) = match request.lookup {
            Some(Lookup::MemberNo(value)) => (MemberKey::MemberNo, value),
            Some(Lookup::ExternalUserid(value)) => {
                check_external_userid("external_userid", &value)?;
                (MemberKey::ExternalUserid, value)
            }
            Some(Lookup::Phone(value)) => (
                MemberKey::Phone,
                normalize_phone(&value).ok_or_else(|| ApiError::invalid("phone", "phone is not a mobile number"))?,
            ),
            Some(Lookup::Unionid(value)) => (MemberKey::Unionid, value),
            None => {
                return Err(ApiError::invalid("lookup", "give a member_no, external_userid, phone or unionid").into());
            }
        };
        if value.is_empty() {
            return Err(ApiError::invalid("lookup", "the lookup value is empty").into());
        }
        let member = self
            .store
            .member_by(key, &value)
            .await?
            .ok_or_else(|| ApiError::new(ErrorCode::NotFound, "no such member"))?;
        if let Some(id) = &member.external_userid {
            self.visible_customer(caller, id).await?;
        } else if !matches!(caller.role, Role::Operator | Role::Admin | Role::Support) {
            return Err(ApiError::new(ErrorCode::PermissionDenied, "only operators see unlinked members").into());
        }
        Ok(GetMemberResponse { member: Some(member_proto(member, caller)) })
    }
}

/// Checks one member record; the error names the field and says why in Chinese.
fn member_record(input: MemberInput, now: i64) -> Result<MemberRecord, (&'static str, &'static str)> {
    if input.member_no.trim().is_empty() || input.member_no.chars().count() > 64 {
        return Err(("member_no", "会员号为空或超过 64 个字符"));
    }
    let phone = if input.phone.is_empty() {
        String::new()
    } else {
        normalize_phone(&input.phone).ok_or(("phone", "手机号格式不正确"))?
    };
    if !input.external_userid.is_empty() && check_external_userid("external_userid", &input.external_userid).is_err() {
        return Err(("external_userid", "external_userid 格式不正确"));
    }
    let time = |value: Option<&prost_types::Timestamp>| optional_millis("", value).map_err(|_| "时间格式不正确");
    let registered_at = time(input.registered_at.as_ref()).map_err(|reason| ("registered_at", reason))?;
    let updated_at = time(input.updated_at.as_ref()).map_err(|reason| ("updated_at", reason))?.unwrap_or(now);
    let external_userid = Some(input.external_userid).filter(|id| !id.is_empty());
    let matched_by = if external_userid.is_some() { MemberMatch::ExternalUserid } else { MemberMatch::Unspecified };
    Ok(MemberRecord {
        member_no: input.member_no.trim().to_owned(),
        name: input.name.chars().take(255).collect(),
        phone,
        unionid: input.unionid.trim().chars().take(64).collect(),
        external_userid,
        matched_by: matched_by as i32,
        store_code: input.store_code.chars().take(64).collect(),
        member_tier: input.member_tier.chars().take(255).collect(),
        registered_at,
        updated_at,
    })
}

/// Reads a ListOrders page token `after:<paid>:<order_no>`.
fn parse_order_token(token: &str) -> Result<Option<(i64, String)>, ApiError> {
    if token.is_empty() {
        return Ok(None);
    }
    let invalid = || ApiError::invalid("page_token", "page_token is not one this server issued");
    let rest = token.strip_prefix("after:").ok_or_else(invalid)?;
    let (paid, order_no) = rest.split_once(':').ok_or_else(invalid)?;
    Ok(Some((paid.parse().map_err(|_| invalid())?, order_no.to_owned())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_tokens_round_trip() {
        assert_eq!(parse_order_token("after:12:NO:1").unwrap(), Some((12, "NO:1".to_owned())));
        assert_eq!(parse_order_token("").unwrap(), None);
        assert!(parse_order_token("before:1").is_err());
    }

    #[test]
    fn member_records_are_checked() {
        let input = |phone: &str| MemberInput { member_no: "M1".into(), phone: phone.into(), ..MemberInput::default() };
        assert_eq!(member_record(input("123"), 1).unwrap_err().0, "phone");
        assert_eq!(member_record(input("+8613800000001"), 1).unwrap().phone, "13800000001");
        assert_eq!(member_record(MemberInput::default(), 1).unwrap_err().0, "member_no");
    }
}
