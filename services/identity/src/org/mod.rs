//! The org as the admin and other services read it: departments, stores and staff synced from WeCom, and
//! the store flag scrm keeps on departments (`SetDepartmentStore`). Store managers see their stores'
//! sub-trees only.

mod convert;
mod staff;
mod store;
mod tree;

use std::collections::{HashMap, HashSet};

use scrm_kernel::paging::page_size;
use scrm_kernel::{ApiError, Caller, ErrorCode};
use scrm_proto::identity::v1 as pb;
use scrm_storage::Db;

use crate::error::IdentityError;
use convert::OrgView;
use staff::{Offset, StaffQuery, department_ids, sort_by_name};
pub use store::OrgStore;
use store::{StaffRecord, StoreRow};
use tree::{Node, OrgTree};

/// Most userids one `BatchGetStaff` may ask for.
const MAX_BATCH_USERIDS: usize = 200;
/// Longest store code, in characters.
const MAX_STORE_CODE_CHARS: usize = 64;
/// Longest store address, in characters.
const MAX_ADDRESS_CHARS: usize = 200;
/// Longest userid WeCom issues.
const MAX_USERID_CHARS: usize = 64;

/// A change to the store flag, for the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreChange {
    /// The department changed.
    pub department_id: i64,
    /// Plain-Chinese summary of the change.
    pub summary: String,
    /// JSON of the store attributes before.
    pub before_json: String,
    /// JSON of the store attributes after.
    pub after_json: String,
}

/// The org handlers.
#[derive(Debug, Clone)]
pub struct Org {
    store: OrgStore,
}

/// Everything the org views are computed from, read at once.
struct Snapshot {
    tree: OrgTree,
    departments: HashMap<i64, i64>,
    stores: HashMap<i64, StoreRow>,
    staff: Vec<StaffRecord>,
    users: HashMap<String, i64>,
}

impl Org {
    /// The org over the identity tables in `db`.
    pub fn new(db: Db) -> Self {
        Org { store: OrgStore::new(db) }
    }

    /// Reads the org; the staff only when `with_staff` (head counts and staff listings need them).
    async fn snapshot(&self, with_staff: bool) -> Result<Snapshot, IdentityError> {
        let records = self.store.departments().await?;
        let stores: HashMap<i64, StoreRow> =
            self.store.stores().await?.into_iter().map(|row| (row.department_id, row)).collect();
        let flagged = stores.values().filter(|row| row.is_store == 1).map(|row| row.department_id);
        let departments = records.iter().map(|record| (record.id, record.updated_at)).collect();
        let nodes = records
            .into_iter()
            .map(|record| Node {
                id: record.id,
                parent_id: record.parent_id,
                order: record.sort_order,
                name: record.name,
            })
            .collect();
        let tree = OrgTree::new(nodes, flagged.collect::<Vec<_>>());
        let staff = if with_staff { self.store.all_staff().await? } else { Vec::new() };
        let users = self.store.linked_users().await?.into_iter().map(|user| (user.userid, user.id)).collect();
        Ok(Snapshot { tree, departments, stores, staff, users })
    }

    /// `ListDepartments`.
    pub async fn list_departments(
        &self,
        caller: &Caller,
        request: pb::ListDepartmentsRequest,
    ) -> Result<pb::ListDepartmentsResponse, IdentityError> {
        let size = page_size(request.page_size)?;
        let offset = Offset::parse(&request.page_token)?;
        if request.parentid < 0 {
            return Err(ApiError::invalid("parentid", "parentid is a department id, or 0 for all").into());
        }
        let snapshot = self.snapshot(true).await?;
        let view = snapshot.view();
        let visible = snapshot.tree.visible(&caller.store_scope());
        let ids: Vec<i64> = snapshot
            .tree
            .ordered()
            .into_iter()
            .filter(|node| request.parentid == 0 || node.parent_id == request.parentid)
            .filter(|node| !request.stores_only || snapshot.tree.is_store(node.id))
            .filter(|node| visible.as_ref().is_none_or(|visible| visible.contains(&node.id)))
            .map(|node| node.id)
            .collect();
        let (page, next_page_token) = offset.page(ids, size);
        Ok(pb::ListDepartmentsResponse {
            departments: page.into_iter().filter_map(|id| view.department(id)).collect(),
            next_page_token,
        })
    }

    /// `GetDepartment`.
    pub async fn get_department(
        &self,
        caller: &Caller,
        request: pb::GetDepartmentRequest,
    ) -> Result<pb::GetDepartmentResponse, IdentityError> {
        let snapshot = self.snapshot(true).await?;
        let id = snapshot.visible_department(caller, request.department_id)?;
        Ok(pb::GetDepartmentResponse { department: snapshot.view().department(id) })
    }

    /// `ListStores`.
    pub async fn list_stores(
        &self,
        caller: &Caller,
        request: pb::ListStoresRequest,
    ) -> Result<pb::ListStoresResponse, IdentityError> {
        let size = page_size(request.page_size)?;
        let offset = Offset::parse(&request.page_token)?;
        let snapshot = self.snapshot(true).await?;
        let view = snapshot.view();
        let query = request.query.trim().to_lowercase();
        let mut stores: Vec<pb::Store> = snapshot
            .tree
            .ordered()
            .into_iter()
            .filter(|node| snapshot.tree.is_store(node.id) && caller.can_see_store(&node.id.to_string()))
            .filter_map(|node| view.store(node.id))
            .filter(|store| {
                query.is_empty()
                    || store.name.to_lowercase().contains(&query)
                    || store.store_code.to_lowercase().contains(&query)
            })
            .collect();
        stores.sort_by(|a, b| (&a.name, a.store_id).cmp(&(&b.name, b.store_id)));
        let (stores, next_page_token) = offset.page(stores, size);
        Ok(pb::ListStoresResponse { stores, next_page_token })
    }

    /// `SetDepartmentStore`: the response, and the change for the audit log.
    pub async fn set_department_store(
        &self,
        caller: &Caller,
        request: pb::SetDepartmentStoreRequest,
        now: i64,
    ) -> Result<(pb::SetDepartmentStoreResponse, StoreChange), IdentityError> {
        let snapshot = self.snapshot(true).await?;
        let id = snapshot.visible_department(caller, request.department_id)?;
        let before = snapshot.stores.get(&id).cloned();
        let code = request.store_code.trim().to_owned();
        let address = request.address.trim().to_owned();
        if code.chars().count() > MAX_STORE_CODE_CHARS {
            return Err(ApiError::invalid("store_code", format!("门店编码最多 {MAX_STORE_CODE_CHARS} 个字符")).into());
        }
        if address.chars().count() > MAX_ADDRESS_CHARS {
            return Err(ApiError::invalid("address", format!("门店地址最多 {MAX_ADDRESS_CHARS} 个字符")).into());
        }
        let row = if request.is_store {
            if !code.is_empty()
                && let Some(owner) = self.store.store_code_owner(&code, id).await?
            {
                let message = format!("门店编码 {code} 已被部门 {owner} 使用");
                return Err(ApiError::new(ErrorCode::AlreadyExists, message).with_field("store_code").into());
            }
            StoreRow {
                department_id: id,
                is_store: 1,
                store_code: Some(code).filter(|code| !code.is_empty()),
                address,
                updated_at: now,
            }
        } else {
            let kept = before.clone().unwrap_or(StoreRow {
                department_id: id,
                is_store: 0,
                store_code: None,
                address: String::new(),
                updated_at: now,
            });
            StoreRow { is_store: 0, updated_at: now, ..kept }
        };
        self.store.set_store(&row).await?;
        let after = self.snapshot(true).await?;
        let view = after.view();
        let name = after.tree.node(id).map(|node| node.name.clone()).unwrap_or_default();
        let summary = if request.is_store {
            format!("将部门「{name}」设为门店（编码 {}）", row.store_code.as_deref().unwrap_or("无"))
        } else {
            format!("取消部门「{name}」的门店标记")
        };
        let change = StoreChange {
            department_id: id,
            summary,
            before_json: convert::store_json(before.as_ref()),
            after_json: convert::store_json(Some(&row)),
        };
        let response = pb::SetDepartmentStoreResponse { department: view.department(id), store: view.store(id) };
        Ok((response, change))
    }

    /// `ListStaff`.
    pub async fn list_staff(
        &self,
        caller: &Caller,
        request: pb::ListStaffRequest,
    ) -> Result<pb::ListStaffResponse, IdentityError> {
        let size = page_size(request.page_size)?;
        let offset = Offset::parse(&request.page_token)?;
        let snapshot = self.snapshot(true).await?;
        let matching = snapshot.matching_staff(caller, request.filter.unwrap_or_default())?;
        let (page, next_page_token) = offset.page(matching, size);
        let view = snapshot.view();
        Ok(pb::ListStaffResponse { staff: page.iter().map(|record| view.staff(record)).collect(), next_page_token })
    }

    /// `CountStaff`.
    pub async fn count_staff(
        &self,
        caller: &Caller,
        request: pb::CountStaffRequest,
    ) -> Result<pb::CountStaffResponse, IdentityError> {
        let snapshot = self.snapshot(true).await?;
        let total = snapshot.matching_staff(caller, request.filter.unwrap_or_default())?.len();
        Ok(pb::CountStaffResponse { total: total as i64 })
    }

    /// `GetStaff`.
    pub async fn get_staff(&self, request: pb::GetStaffRequest) -> Result<pb::GetStaffResponse, IdentityError> {
        check_userid("userid", &request.userid)?;
        let staff = self.batch(vec![request.userid.clone()]).await?.pop().ok_or_else(|| {
            ApiError::new(ErrorCode::NotFound, format!("no staff member with userid {}", request.userid))
        })?;
        Ok(pb::GetStaffResponse { staff: Some(staff) })
    }

    /// `BatchGetStaff`.
    pub async fn batch_get_staff(
        &self,
        request: pb::BatchGetStaffRequest,
    ) -> Result<pb::BatchGetStaffResponse, IdentityError> {
        let userids: HashSet<String> = request.userids.into_iter().collect();
        if userids.len() > MAX_BATCH_USERIDS {
            let message = format!("at most {MAX_BATCH_USERIDS} userids per call, got {}", userids.len());
            return Err(ApiError::invalid("userids", message).into());
        }
        for userid in &userids {
            check_userid("userids", userid)?;
        }
        Ok(pb::BatchGetStaffResponse { staff: self.batch(userids.into_iter().collect()).await? })
    }

    async fn batch(&self, userids: Vec<String>) -> Result<Vec<pb::Staff>, IdentityError> {
        let records = self.store.staff_by_userids(&userids).await?;
        if records.is_empty() {
            return Ok(Vec::new());
        }
        let snapshot = self.snapshot(false).await?;
        let view = snapshot.view();
        Ok(records.iter().map(|record| view.staff(record)).collect())
    }
}

impl Snapshot {
    fn view(&self) -> OrgView<'_> {
        OrgView::new(&self.tree, &self.departments, &self.stores, &self.staff, &self.users)
    }

    /// Department `id` when it exists and the caller may see it.
    fn visible_department(&self, caller: &Caller, id: i64) -> Result<i64, ApiError> {
        if id <= 0 {
            return Err(ApiError::invalid("department_id", "department_id is a WeCom department id"));
        }
        if self.tree.node(id).is_none() {
            return Err(ApiError::new(ErrorCode::NotFound, format!("no department with id {id}")));
        }
        if self.tree.visible(&caller.store_scope()).is_some_and(|visible| !visible.contains(&id)) {
            return Err(ApiError::new(ErrorCode::PermissionDenied, format!("department {id} is outside your stores")));
        }
        Ok(id)
    }

    /// The staff matching `filter` that the caller may see, ordered by name.
    fn matching_staff(&self, caller: &Caller, filter: pb::StaffFilter) -> Result<Vec<StaffRecord>, ApiError> {
        let query = StaffQuery::new(filter, &self.tree, self.tree.visible(&caller.store_scope()))?;
        let mut matching: Vec<StaffRecord> = self
            .staff
            .iter()
            .filter(|record| {
                let departments = department_ids(record);
                query.matches(record, &departments, &self.tree.stores_of(&departments))
            })
            .cloned()
            .collect();
        sort_by_name(&mut matching);
        Ok(matching)
    }
}

fn check_userid(field: &str, userid: &str) -> Result<(), ApiError> {
    if userid.is_empty() || userid.chars().count() > MAX_USERID_CHARS {
        return Err(ApiError::invalid(field, format!("a userid has 1 to {MAX_USERID_CHARS} characters")));
    }
    Ok(())
}
