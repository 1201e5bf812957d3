//! `GET /api/crm/customers?q=&tag=&store=&followUser=&level=&pageSize=&pageToken=`: the REST twin of
//! `CustomerService.SearchCustomers`. `tag` and `level` may repeat (or list values comma-separated); every
//! filter must match. Bad parameters answer 400 naming the parameter.

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Extension, Json, Router};
use scrm_kernel::{ApiError, Caller, Clients, ErrorCode};
use scrm_proto::customer::v1::{CustomerSummary, SearchCustomersRequest};
use serde::Serialize;

use crate::rest::RestError;

/// The customer search routes, relative to `/api`.
pub fn routes() -> Router<Clients> {
    Router::new().route("/crm/customers", get(search))
}

/// A page of customers.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct SearchBody {
    /// The customers of this page, best match first.
    customers: Vec<CustomerRow>,
    /// Token for the next page; empty on the last one.
    next_page_token: String,
    /// Matches over all pages.
    total: i64,
}

/// One customer in a result list.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct CustomerRow {
    /// WeCom `external_userid` (the PRD's wxId).
    external_userid: String,
    name: String,
    avatar: String,
    /// The caller's remark, else the first follow user's.
    remark: String,
    /// `active`, `churned` or `removed`.
    status: &'static str,
    follow_userids: Vec<String>,
    tags: Vec<TagBody>,
    level: i32,
    level_name: String,
    total_spend_fen: i64,
    order_count: i64,
    /// RFC 3339; absent when none.
    last_purchase_at: Option<String>,
    is_koc: bool,
    /// RFC 3339; absent when unknown.
    added_at: Option<String>,
}

/// A tag on a customer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct TagBody {
    tag_id: String,
    tag_name: String,
    group_name: String,
}

/// The query parameters, with the REST names and their gRPC field names.
const PARAMETERS: [(&str, &str); 7] = [
    ("q", "query"),
    ("tag", "tag_ids"),
    ("store", "store_id"),
    ("followUser", "userid"),
    ("level", "levels"),
    ("pageSize", "page_size"),
    ("pageToken", "page_token"),
];

fn invalid(parameter: &str, message: impl Into<String>) -> RestError {
    ApiError::invalid(parameter, message).into()
}

/// Reads the query string into a request; `pairs` keeps repeated parameters.
fn parse(pairs: Vec<(String, String)>) -> Result<SearchCustomersRequest, RestError> {
    let mut request = SearchCustomersRequest::default();
    let mut seen = Vec::new();
    for (name, value) in pairs {
        let repeatable = name == "tag" || name == "level";
        if !repeatable && seen.contains(&name) {
            return Err(invalid(&name, format!("{name} is given more than once")));
        }
        seen.push(name.clone());
        match name.as_str() {
            "q" => request.query = value,
            "tag" => request.tag_ids.extend(split(&value)),
            "store" => {
                request.store_id = value
                    .parse()
                    .ok()
                    .filter(|store: &i64| *store > 0)
                    .ok_or_else(|| invalid("store", "store must be a positive store id"))?;
            }
            "followUser" => request.userid = value,
            "level" => {
                for level in split(&value) {
                    let level = level.parse().ok().filter(|level: &i32| *level >= 0);
                    request.levels.push(level.ok_or_else(|| invalid("level", "level must be a rank, 0 or more"))?);
                }
            }
            "pageSize" => {
                request.page_size = value
                    .parse()
                    .map_err(|_| invalid("pageSize", "pageSize must be a whole number between 0 and 200"))?;
            }
            "pageToken" => request.page_token = value,
            other => {
                let known: Vec<&str> = PARAMETERS.iter().map(|(name, _)| *name).collect();
                return Err(invalid(other, format!("unknown parameter {other}; expected one of {}", known.join(", "))));
            }
        }
    }
    Ok(request)
}

fn split(value: &str) -> impl Iterator<Item = String> + '_ {
    value.split(',').map(str::trim).filter(|item| !item.is_empty()).map(str::to_owned)
}

/// Renames the gRPC field an error names to the REST parameter.
fn rest_error(status: tonic::Status) -> RestError {
    let mut error = ApiError::from_status(&status);
    if error.code == ErrorCode::InvalidArgument
        && let Some(field) = &error.field
        && let Some((parameter, _)) = PARAMETERS.iter().find(|(_, grpc)| grpc == field)
    {
        error.field = Some((*parameter).to_owned());
    }
    error.into()
}

async fn search(
    State(clients): State<Clients>,
    Extension(caller): Extension<Caller>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Json<SearchBody>, RestError> {
    let request = parse(pairs)?;
    let response =
        clients.customer.clone().search_customers(caller.outgoing(request)?).await.map_err(rest_error)?.into_inner();
    Ok(Json(SearchBody {
        customers: response.customers.into_iter().map(row).collect(),
        next_page_token: response.next_page_token,
        total: response.total_estimate,
    }))
}

fn row(customer: CustomerSummary) -> CustomerRow {
    let status = match customer.status() {
        scrm_proto::customer::v1::CustomerStatus::Churned => "churned",
        scrm_proto::customer::v1::CustomerStatus::Removed => "removed",
        _ => "active",
    };
    CustomerRow {
        external_userid: customer.external_userid,
        name: customer.name,
        avatar: customer.avatar,
        remark: customer.remark,
        status,
        follow_userids: customer.follow_userids,
        tags: customer
            .tags
            .into_iter()
            .map(|tag| TagBody { tag_id: tag.tag_id, tag_name: tag.tag_name, group_name: tag.group_name })
            .collect(),
        level: customer.level,
        level_name: customer.level_name,
        total_spend_fen: customer.total_spend_fen,
        order_count: customer.order_count,
        last_purchase_at: customer.last_purchase_at.map(|time| time.to_string()),
        is_koc: customer.is_koc,
        added_at: customer.added_at.map(|time| time.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(query: &[(&str, &str)]) -> Vec<(String, String)> {
        query.iter().map(|(name, value)| ((*name).to_owned(), (*value).to_owned())).collect()
    }

    fn field_of(query: &[(&str, &str)]) -> Option<String> {
        parse(pairs(query)).unwrap_err().0.field
    }

    #[test]
    fn parameters_map_to_the_request() {
        let request = parse(pairs(&[
            ("q", "王 红色"),
            ("tag", "t1,t2"),
            ("tag", "t3"),
            ("store", "101"),
            ("followUser", "zhangsan"),
            ("level", "1,2"),
            ("pageSize", "50"),
            ("pageToken", "c1.50"),
        ]))
        .unwrap();
        assert_eq!(request.query, "王 红色");
        assert_eq!(request.tag_ids, ["t1", "t2", "t3"]);
        assert_eq!((request.store_id, request.userid.as_str()), (101, "zhangsan"));
        assert_eq!(request.levels, [1, 2]);
        assert_eq!((request.page_size, request.page_token.as_str()), (50, "c1.50"));
    }

    #[test]
    fn bad_parameters_are_named() {
        assert_eq!(field_of(&[("store", "abc")]).as_deref(), Some("store"));
        assert_eq!(field_of(&[("store", "-1")]).as_deref(), Some("store"));
        assert_eq!(field_of(&[("pageSize", "ten")]).as_deref(), Some("pageSize"));
        assert_eq!(field_of(&[("level", "x")]).as_deref(), Some("level"));
        assert_eq!(field_of(&[("q", "a"), ("q", "b")]).as_deref(), Some("q"));
        assert_eq!(field_of(&[("sort", "name")]).as_deref(), Some("sort"));
    }

    #[test]
    fn service_fields_are_renamed_to_parameters() {
        let status = tonic::Status::from(ApiError::invalid("page_size", "too big"));
        assert_eq!(rest_error(status).0.field.as_deref(), Some("pageSize"));
    }
}
