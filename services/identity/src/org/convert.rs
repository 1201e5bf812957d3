//! The org rows as protobuf messages.

use std::collections::HashMap;
use std::time::{Duration, UNIX_EPOCH};

use scrm_proto::identity::v1 as pb;

use super::store::{StaffRecord, StoreRow};
use super::tree::OrgTree;
use crate::domain::STAFF_STATUS_RESIGNED;

/// Builds org messages from one read of the org tables.
pub struct OrgView<'a> {
    tree: &'a OrgTree,
    synced_at: &'a HashMap<i64, i64>,
    stores: &'a HashMap<i64, StoreRow>,
    users: &'a HashMap<String, i64>,
    direct_staff: HashMap<i64, i64>,
}

impl<'a> OrgView<'a> {
    /// A view over the tree, when each department was synced, the store attributes, the staff (for the
    /// head counts) and the scrm users linked to members.
    pub fn new(
        tree: &'a OrgTree,
        synced_at: &'a HashMap<i64, i64>,
        stores: &'a HashMap<i64, StoreRow>,
        staff: &'a [StaffRecord],
        users: &'a HashMap<String, i64>,
    ) -> Self {
        let mut direct_staff = HashMap::new();
        for record in staff.iter().filter(|record| record.staff.status != STAFF_STATUS_RESIGNED) {
            for department in super::staff::department_ids(record) {
                *direct_staff.entry(department).or_insert(0) += 1;
            }
        }
        OrgView { tree, synced_at, stores, users, direct_staff }
    }

    /// Department `id`; `None` when unknown.
    pub fn department(&self, id: i64) -> Option<pb::Department> {
        let node = self.tree.node(id)?;
        Some(pb::Department {
            department_id: node.id,
            name: node.name.clone(),
            parentid: node.parent_id,
            order: node.order,
            is_store: self.tree.is_store(id),
            staff_count: self.direct_staff.get(&id).copied().unwrap_or(0),
            path_names: self.tree.path_names(id),
            synced_at: self.synced_at.get(&id).map(|millis| timestamp(*millis)),
            ..Default::default()
        })
    }

    /// Store `id`; `None` unless department `id` is flagged as a store.
    pub fn store(&self, id: i64) -> Option<pb::Store> {
        let node = self.tree.node(id).filter(|_| self.tree.is_store(id))?;
        let row = self.stores.get(&id)?;
        let staff_count =
            self.tree.subtree(id).iter().map(|department| self.direct_staff.get(department).unwrap_or(&0)).sum();
        Some(pb::Store {
            store_id: id,
            name: node.name.clone(),
            store_code: row.store_code.clone().unwrap_or_default(),
            address: row.address.clone(),
            manager_userids: Vec::new(),
            staff_count,
            path_names: self.tree.path_names(id),
            updated_at: Some(timestamp(row.updated_at)),
        })
    }

    /// A staff member.
    pub fn staff(&self, record: &StaffRecord) -> pb::Staff {
        let staff = &record.staff;
        let department = super::staff::department_ids(record);
        pb::Staff {
            userid: staff.userid.clone(),
            name: staff.name.clone(),
            alias: staff.alias.clone(),
            position: staff.position.clone(),
            mobile: staff.mobile.clone(),
            email: staff.email.clone(),
            avatar: staff.avatar.clone(),
            gender: pb::Gender::try_from(staff.gender).unwrap_or_default() as i32,
            store_ids: self.tree.stores_of(&department),
            department,
            main_department: staff.main_department,
            status: pb::StaffStatus::try_from(staff.status).unwrap_or_default() as i32,
            external_contact_enabled: staff.external_contact_enabled == 1,
            resigned_at: staff.resigned_at.map(timestamp),
            scrm_user_id: self.users.get(&staff.userid).copied().unwrap_or(0),
            created_at: Some(timestamp(record.created_at)),
            synced_at: Some(timestamp(record.updated_at)),
            ..Default::default()
        }
    }
}

/// The store attributes as the audit log keeps them.
pub fn store_json(row: Option<&StoreRow>) -> String {
    let value = row.map_or(serde_json::Value::Null, |row| {
        serde_json::json!({
            "is_store": row.is_store == 1,
            "store_code": row.store_code,
            "address": row.address,
        })
    });
    value.to_string()
}

fn timestamp(millis: i64) -> prost_types::Timestamp {
    prost_types::Timestamp::from(UNIX_EPOCH + Duration::from_millis(millis.max(0) as u64))
}
