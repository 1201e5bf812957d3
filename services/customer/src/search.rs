//! Customer search: keeps the search index ([`scrm_search`]) in step with the customer tables, and answers
//! `SearchCustomers` and `ReindexCustomers`.
//!
//! Every writer of customer data calls [`CustomerSearch::index_customers`] after its transaction commits:
//! it reads the customers' current data back from the store and queues their documents, so the index never
//! needs to know which table changed.

use std::collections::BTreeSet;
use std::time::{Duration, Instant, SystemTime};

use scrm_kernel::paging::page_size;
use scrm_kernel::{ApiError, Caller, Role, StoreScope};
use scrm_proto::customer::v1::{
    CustomerSort, CustomerStatus, CustomerSummary, CustomerTag, ReindexCustomersResponse, SearchCustomersRequest,
    SearchCustomersResponse,
};
use scrm_search::{CustomerDoc, FollowDoc, SearchError, SearchIndex, SearchRequest, Sort, TagDoc, Visibility};

use crate::domain::levels::{Tier, level_for};
use crate::domain::{StoredCustomer, Tag, canonical_tags, customer_status};
use crate::error::CustomerError;
use crate::store::{CustomerStore, SearchExtras};

/// Customers read from the store per batch while rebuilding.
const REBUILD_BATCH: i64 = 500;
/// Longest free-text query.
const MAX_QUERY_CHARS: usize = 200;
/// Most tag filters in one search.
const MAX_TAG_FILTERS: usize = 20;
/// Roles that see every customer (within their stores, if they have any).
const SEE_ALL: &[Role] = &[Role::Operator, Role::Support, Role::Admin];

/// The customer service's side of the search index.
#[derive(Debug, Clone)]
pub struct CustomerSearch {
    index: SearchIndex,
    store: CustomerStore,
}

/// What a rebuild did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReindexSummary {
    /// Customers written to the new index.
    pub customers: u64,
    /// Order numbers indexed.
    pub orders: u64,
    /// Notes indexed.
    pub notes: u64,
    /// Wall time of the rebuild.
    pub duration: Duration,
}

impl CustomerSearch {
    /// Search over `index`, reading customers from `store`.
    pub fn new(index: SearchIndex, store: CustomerStore) -> Self {
        CustomerSearch { index, store }
    }

    /// Re-indexes the customers `ids` from their current data in the store (removing those that no longer
    /// exist). Call it after every committed change to customer data. A failure is logged, not returned: the
    /// data is safely stored and `ReindexCustomers` repairs the index.
    pub async fn index_customers(&self, ids: &[String]) {
        if let Err(error) = self.try_index_customers(ids).await {
            tracing::error!(%error, customers = ids.len(), "customers not re-indexed; ReindexCustomers repairs the index");
        }
    }

    async fn try_index_customers(&self, ids: &[String]) -> Result<(), CustomerError> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut customers = self.store.customers(ids).await?;
        let mut extras = self.store.search_extras(ids).await?;
        let (tiers, _) = self.store.level_tiers().await?;
        for id in ids {
            match customers.remove(id) {
                Some(customer) => self.index.upsert(document(&customer, extras.remove(id).unwrap_or_default(), &tiers)),
                None => self.index.delete(id),
            }
            .map_err(search_failed)?;
        }
        Ok(())
    }

    /// Rebuilds the whole index from the store. Searches answer from the old content until it completes.
    pub async fn reindex(&self) -> Result<ReindexSummary, CustomerError> {
        let started = Instant::now();
        let rebuild = self.index.rebuild().map_err(search_failed)?;
        let mut summary = ReindexSummary { customers: 0, orders: 0, notes: 0, duration: Duration::ZERO };
        let mut after = String::new();
        let tiers = match self.store.level_tiers().await {
            Ok((tiers, _)) => tiers,
            Err(error) => {
                rebuild.abandon(error.to_string()).await;
                return Err(error.into());
            }
        };
        loop {
            let ids = match self.store.customer_ids_after(&after, REBUILD_BATCH).await {
                Ok(ids) => ids,
                Err(error) => {
                    rebuild.abandon(error.to_string()).await;
                    return Err(error.into());
                }
            };
            let Some(last) = ids.last() else { break };
            after = last.clone();
            let loaded = match self.store.customers(&ids).await {
                Ok(customers) => self.store.search_extras(&ids).await.map(|extras| (customers, extras)),
                Err(error) => Err(error),
            };
            let (mut customers, mut extras) = match loaded {
                Ok(loaded) => loaded,
                Err(error) => {
                    rebuild.abandon(error.to_string()).await;
                    return Err(error.into());
                }
            };
            for id in &ids {
                let Some(customer) = customers.remove(id) else { continue };
                let document = document(&customer, extras.remove(id).unwrap_or_default(), &tiers);
                summary.orders += document.order_numbers.len() as u64;
                summary.notes += document.notes.len() as u64;
                rebuild.add(document).await.map_err(search_failed)?;
            }
        }
        summary.customers = rebuild.finish().await.map_err(search_failed)?;
        summary.duration = started.elapsed();
        tracing::info!(
            customers = summary.customers,
            elapsed_ms = summary.duration.as_millis() as u64,
            "search index rebuilt"
        );
        Ok(summary)
    }

    /// Answers `SearchCustomers` for `caller`.
    pub async fn search(
        &self,
        caller: &Caller,
        request: SearchCustomersRequest,
    ) -> Result<SearchCustomersResponse, CustomerError> {
        let search = search_request(caller, &request)?;
        let index = self.index.clone();
        let page = tokio::task::spawn_blocking(move || index.search(&search))
            .await
            .map_err(|error| CustomerError::Search(error.to_string()))?
            .map_err(|error| match error {
                SearchError::BadPageToken => CustomerError::Api(ApiError::invalid("page_token", error.to_string())),
                error => search_failed(error),
            })?;
        Ok(SearchCustomersResponse {
            customers: page.hits.into_iter().map(|hit| summary(caller, hit.customer)).collect(),
            next_page_token: page.next_page_token,
            total_estimate: page.total as i64,
        })
    }
}

impl ReindexSummary {
    /// The `ReindexCustomers` answer, finished at `finished_at`.
    pub fn response(&self, finished_at: SystemTime) -> ReindexCustomersResponse {
        ReindexCustomersResponse {
            customers_indexed: self.customers as i64,
            orders_indexed: self.orders as i64,
            notes_indexed: self.notes as i64,
            duration: prost_types::Duration::try_from(self.duration).ok(),
            finished_at: Some(prost_types::Timestamp::from(finished_at)),
        }
    }
}

fn search_failed(error: SearchError) -> CustomerError {
    CustomerError::Search(error.to_string())
}

/// Who `caller` may see: operator, support and admin every customer of their stores (all when they have
/// none), a store manager the customers of their stores, anyone else the customers they follow.
fn visibility(caller: &Caller) -> Visibility {
    if SEE_ALL.contains(&caller.role) || caller.role == Role::StoreManager {
        match caller.store_scope() {
            StoreScope::All => Visibility::All,
            StoreScope::Only(stores) => Visibility::Stores(stores),
        }
    } else {
        Visibility::FollowedBy(caller.staff_id.clone())
    }
}

/// Checks a `SearchCustomers` request and turns it into the index's.
fn search_request(caller: &Caller, request: &SearchCustomersRequest) -> Result<SearchRequest, ApiError> {
    if request.query.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::invalid("query", format!("query is longer than {MAX_QUERY_CHARS} characters")));
    }
    if request.store_id < 0 {
        return Err(ApiError::invalid("store_id", "store_id must be a store id, or 0 for any store"));
    }
    if request.userid.chars().count() > 64 {
        return Err(ApiError::invalid("userid", "userid is longer than 64 characters"));
    }
    if request.levels.iter().any(|level| *level < 0) {
        return Err(ApiError::invalid("levels", "a level rank is 0 or more"));
    }
    if request.tag_ids.len() > MAX_TAG_FILTERS || request.tag_ids.iter().any(|tag| tag.is_empty() || tag.len() > 64) {
        return Err(ApiError::invalid(
            "tag_ids",
            format!("at most {MAX_TAG_FILTERS} tag ids, each 1 to 64 characters"),
        ));
    }
    let mut statuses = Vec::new();
    for status in &request.statuses {
        match CustomerStatus::try_from(*status) {
            Ok(CustomerStatus::Unspecified) | Err(_) => {
                return Err(ApiError::invalid("statuses", format!("{status} is not a customer status")));
            }
            Ok(status) => statuses.push(status as i32),
        }
    }
    if statuses.is_empty() {
        statuses.push(CustomerStatus::Active as i32);
    }
    let sort = match CustomerSort::try_from(request.sort) {
        Ok(CustomerSort::Unspecified | CustomerSort::Relevance) => Sort::Relevance,
        Ok(CustomerSort::AddedDesc) => Sort::AddedDesc,
        Ok(CustomerSort::SpendDesc) => Sort::SpendDesc,
        Ok(CustomerSort::LastPurchaseDesc) => Sort::LastPurchaseDesc,
        Err(_) => return Err(ApiError::invalid("sort", format!("{} is not a sort order", request.sort))),
    };
    Ok(SearchRequest {
        query: request.query.clone(),
        visibility: visibility(caller),
        store_id: (request.store_id != 0).then(|| request.store_id.to_string()),
        follow_userid: (!request.userid.is_empty()).then(|| request.userid.clone()),
        levels: request.levels.clone(),
        tag_ids: request.tag_ids.clone(),
        statuses,
        is_koc: request.is_koc,
        sort,
        page_size: page_size(request.page_size)? as usize,
        page_token: request.page_token.clone(),
    })
}

/// The search document of a customer, from everything the store knows about them: WeCom data, and scrm's
/// own `extras` (orders, notes, member phones, spend) with the level the spend reaches in `tiers`.
pub fn document(customer: &StoredCustomer, extras: SearchExtras, tiers: &[Tier]) -> CustomerDoc {
    let contact = &customer.contact;
    let current: Vec<_> = customer.follows.iter().filter(|follow| follow.is_active()).collect();
    let mut stores: BTreeSet<String> =
        current.iter().flat_map(|follow| follow.fields.store_ids.iter().map(i64::to_string)).collect();
    stores.extend(contact.store_id.clone());
    let tags: Vec<Tag> = current.iter().flat_map(|follow| follow.fields.tags.iter().cloned()).collect();
    let added_at = customer
        .follows
        .iter()
        .map(|follow| follow.fields.added_at)
        .filter(|added_at| *added_at > 0)
        .min()
        .unwrap_or(contact.created_at);
    let level = level_for(tiers, extras.spend.total_spend_fen);
    CustomerDoc {
        external_userid: contact.fields.external_userid.clone(),
        name: contact.fields.name.clone(),
        avatar: contact.fields.avatar.clone(),
        contact_type: contact.fields.contact_type,
        status: customer_status(&customer.follows) as i32,
        follows: current
            .iter()
            .map(|follow| FollowDoc {
                userid: follow.fields.userid.clone(),
                remark: follow.fields.remark.clone(),
                description: follow.fields.description.clone(),
                remark_corp_name: follow.fields.remark_corp_name.clone(),
                remark_mobiles: follow.fields.remark_mobiles.clone(),
            })
            .collect(),
        tags: canonical_tags(tags)
            .into_iter()
            .map(|tag| TagDoc {
                tag_id: tag.tag_id,
                tag_name: tag.tag_name,
                group_id: tag.group_id,
                group_name: tag.group_name,
                tag_type: tag.tag_type,
            })
            .collect(),
        store_ids: stores.into_iter().collect(),
        phones: extras.phones,
        order_numbers: extras.order_numbers,
        notes: extras.notes,
        level: level.map_or(0, |tier| tier.level),
        level_name: level.map(|tier| tier.name.clone()).unwrap_or_default(),
        total_spend_fen: extras.spend.total_spend_fen,
        order_count: extras.spend.order_count,
        last_purchase_at: extras.spend.last_purchase_at,
        is_koc: false,
        added_at,
    }
}

/// A search result row for `caller`: the remark is the caller's own when they follow the customer.
fn summary(caller: &Caller, customer: CustomerDoc) -> CustomerSummary {
    let remark = customer
        .follows
        .iter()
        .find(|follow| follow.userid == caller.staff_id)
        .or(customer.follows.first())
        .map(|follow| follow.remark.clone())
        .unwrap_or_default();
    CustomerSummary {
        external_userid: customer.external_userid,
        name: customer.name,
        avatar: customer.avatar,
        r#type: customer.contact_type,
        status: customer.status,
        remark,
        follow_userids: customer.follows.into_iter().map(|follow| follow.userid).collect(),
        tags: customer
            .tags
            .into_iter()
            .map(|tag| CustomerTag {
                tag_id: tag.tag_id,
                tag_name: tag.tag_name,
                group_id: tag.group_id,
                group_name: tag.group_name,
                r#type: tag.tag_type,
            })
            .collect(),
        level: customer.level,
        level_name: customer.level_name,
        total_spend_fen: customer.total_spend_fen,
        order_count: customer.order_count,
        last_purchase_at: customer.last_purchase_at.map(timestamp),
        is_koc: customer.is_koc,
        added_at: (customer.added_at > 0).then(|| timestamp(customer.added_at)),
        highlights: Vec::new(),
    }
}

fn timestamp(millis: i64) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds: millis.div_euclid(1000), nanos: (millis.rem_euclid(1000) * 1_000_000) as i32 }
}
