//! Which staff members a listing shows: the filters of `StaffFilter`, the caller's store scope, the order by
//! name and the pages.

use std::collections::HashSet;

use scrm_kernel::ApiError;
use scrm_proto::identity::v1::{StaffFilter, StaffStatus};

use super::store::StaffRecord;
use super::tree::OrgTree;
use crate::domain::STAFF_STATUS_RESIGNED;

/// Longest `query` accepted, in characters.
const MAX_QUERY_CHARS: usize = 64;

/// A checked `StaffFilter` with the caller's visible departments.
#[derive(Debug, Clone, Default)]
pub struct StaffQuery {
    departments: Option<HashSet<i64>>,
    visible: Option<HashSet<i64>>,
    store_id: Option<i64>,
    statuses: Vec<i32>,
    external_contact_only: bool,
    text: String,
}

impl StaffQuery {
    /// Checks `filter` against `tree`; `visible` is the departments the caller may see (`None`: all).
    pub fn new(filter: StaffFilter, tree: &OrgTree, visible: Option<HashSet<i64>>) -> Result<Self, ApiError> {
        if filter.query.chars().count() > MAX_QUERY_CHARS {
            return Err(ApiError::invalid("filter.query", format!("query is at most {MAX_QUERY_CHARS} characters")));
        }
        if filter.department_id < 0 || filter.store_id < 0 {
            return Err(ApiError::invalid("filter.department_id", "department and store ids are positive"));
        }
        let mut statuses = Vec::new();
        for status in &filter.statuses {
            match StaffStatus::try_from(*status) {
                Ok(StaffStatus::Unspecified) | Err(_) => {
                    return Err(ApiError::invalid("filter.statuses", format!("{status} is not a staff status")));
                }
                Ok(_) => statuses.push(*status),
            }
        }
        Ok(StaffQuery {
            departments: (filter.department_id > 0).then(|| tree.subtree(filter.department_id)),
            visible,
            store_id: (filter.store_id > 0).then_some(filter.store_id),
            statuses,
            external_contact_only: filter.external_contact_enabled_only,
            text: filter.query.trim().to_lowercase(),
        })
    }

    /// Whether `record` (a member of `stores`) passes the filters and the caller's scope.
    pub fn matches(&self, record: &StaffRecord, departments: &[i64], stores: &[i64]) -> bool {
        let staff = &record.staff;
        let in_any = |set: &HashSet<i64>| departments.iter().any(|department| set.contains(department));
        let status_ok = if self.statuses.is_empty() {
            staff.status != STAFF_STATUS_RESIGNED
        } else {
            self.statuses.contains(&staff.status)
        };
        status_ok
            && self.visible.as_ref().is_none_or(in_any)
            && self.departments.as_ref().is_none_or(in_any)
            && self.store_id.is_none_or(|store| stores.contains(&store))
            && (!self.external_contact_only || staff.external_contact_enabled == 1)
            && (self.text.is_empty()
                || [&staff.name, &staff.alias, &staff.userid]
                    .iter()
                    .any(|field| field.to_lowercase().contains(&self.text)))
    }
}

/// The department ids of a stored member (`department_ids` is comma-separated).
pub fn department_ids(record: &StaffRecord) -> Vec<i64> {
    record.staff.department_ids.split(',').filter_map(|id| id.trim().parse().ok()).collect()
}

/// Orders members by name, then userid.
pub fn sort_by_name(records: &mut [StaffRecord]) {
    records.sort_by(|a, b| (&a.staff.name, &a.staff.userid).cmp(&(&b.staff.name, &b.staff.userid)));
}

/// An offset into an ordered listing, carried as `offset:<n>` in page tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Offset(pub usize);

impl Offset {
    /// Reads a page token; empty means the first page.
    pub fn parse(page_token: &str) -> Result<Offset, ApiError> {
        if page_token.is_empty() {
            return Ok(Offset(0));
        }
        page_token
            .strip_prefix("offset:")
            .and_then(|offset| offset.parse().ok())
            .map(Offset)
            .ok_or_else(|| ApiError::invalid("page_token", "page_token is not one this server issued"))
    }

    /// The page of `items` starting here, and the token of the next page (empty on the last).
    pub fn page<T>(self, items: Vec<T>, size: u32) -> (Vec<T>, String) {
        let total = items.len();
        let end = self.0.saturating_add(size as usize).min(total);
        let page: Vec<T> = items.into_iter().skip(self.0).take(size as usize).collect();
        let next = if end < total { format!("offset:{end}") } else { String::new() };
        (page, next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::org::tree::Node;
    use crate::store::StaffRow;

    fn record(userid: &str, name: &str, departments: &str, status: i32) -> StaffRecord {
        StaffRecord {
            staff: StaffRow {
                userid: userid.into(),
                name: name.into(),
                department_ids: departments.into(),
                main_department: 0,
                position: String::new(),
                mobile: String::new(),
                gender: 0,
                email: String::new(),
                avatar: String::new(),
                alias: String::new(),
                status,
                external_contact_enabled: i32::from(userid != "wangwu"),
                fingerprint: String::new(),
                resigned_at: None,
            },
            created_at: 0,
            updated_at: 0,
        }
    }

    fn tree() -> OrgTree {
        let node = |id, parent_id| Node { id, parent_id, order: 0, name: format!("d{id}") };
        OrgTree::new(vec![node(1, 0), node(2, 1), node(3, 2)], [2])
    }

    fn shown(query: &StaffQuery, records: &[StaffRecord]) -> Vec<String> {
        let tree = tree();
        records
            .iter()
            .filter(|record| {
                let departments = department_ids(record);
                query.matches(record, &departments, &tree.stores_of(&departments))
            })
            .map(|record| record.staff.userid.clone())
            .collect()
    }

    fn staff() -> Vec<StaffRecord> {
        vec![
            record("zhangsan", "张三", "3", 1),
            record("lisi", "李四", "1", 1),
            record("wangwu", "王五", "2,1", 1),
            record("zhaoliu", "赵六", "3", STAFF_STATUS_RESIGNED),
        ]
    }

    #[test]
    fn filters_combine_and_resigned_members_need_asking_for() {
        let query = |filter| StaffQuery::new(filter, &tree(), None).unwrap();
        assert_eq!(shown(&query(StaffFilter::default()), &staff()), ["zhangsan", "lisi", "wangwu"]);
        let in_store = StaffFilter { store_id: 2, ..Default::default() };
        assert_eq!(shown(&query(in_store), &staff()), ["zhangsan", "wangwu"]);
        let below = StaffFilter { department_id: 3, statuses: vec![STAFF_STATUS_RESIGNED], ..Default::default() };
        assert_eq!(shown(&query(below), &staff()), ["zhaoliu"]);
        let text = StaffFilter { query: "LISI".into(), ..Default::default() };
        assert_eq!(shown(&query(text), &staff()), ["lisi"]);
        let contact = StaffFilter { external_contact_enabled_only: true, ..Default::default() };
        assert_eq!(shown(&query(contact), &staff()), ["zhangsan", "lisi"]);
    }

    #[test]
    fn a_store_manager_sees_only_their_stores_staff() {
        let query = StaffQuery::new(StaffFilter::default(), &tree(), Some(tree().subtree(2))).unwrap();
        assert_eq!(shown(&query, &staff()), ["zhangsan", "wangwu"]);
    }

    #[test]
    fn bad_filters_name_their_field() {
        let bad = StaffFilter { statuses: vec![0], ..Default::default() };
        assert_eq!(StaffQuery::new(bad, &tree(), None).unwrap_err().field.as_deref(), Some("filter.statuses"));
        let long = StaffFilter { query: "长".repeat(65), ..Default::default() };
        assert_eq!(StaffQuery::new(long, &tree(), None).unwrap_err().field.as_deref(), Some("filter.query"));
    }

    #[test]
    fn pages_walk_the_listing() {
        let (page, next) = Offset(0).page(vec![1, 2, 3], 2);
        assert_eq!((page, next.as_str()), (vec![1, 2], "offset:2"));
        let (page, next) = Offset::parse(&next).unwrap().page(vec![1, 2, 3], 2);
        assert_eq!((page, next.as_str()), (vec![3], ""));
        assert!(Offset::parse("before:1").is_err());
    }
}
