//! GetCustomer: the profile, and who may see which customer.

use std::collections::BTreeSet;

use prost_types::Timestamp;
use scrm_kernel::{ApiError, Caller, ErrorCode, Role};
use scrm_proto::campaign::v1::GetCustomerCampaignsRequest;
use scrm_proto::customer::v1::JoinedCampaign;
use scrm_proto::customer::v1::{
    Customer, CustomerStatus, CustomerTag, FollowUser, GetCustomerRequest, GetCustomerResponse, JoinedGroup, Member,
    Note, Order, OrderItem,
};
use scrm_proto::group::v1::ListMemberGroupsRequest;

use super::CustomerApi;
use crate::domain::levels::level_for;
use crate::domain::orders::OrderRecord;
use crate::domain::{StoredCustomer, StoredFollow, canonical_tags, customer_status, is_external_userid};
use crate::error::CustomerError;
use crate::store::{MemberRecord, NoteRecord, ProfileSnapshot};

/// Orders shown on a profile.
const PROFILE_ORDERS: u32 = 10;
/// Notes shown on a profile.
const PROFILE_NOTES: u32 = 5;
/// Checks that `value` looks like a WeCom `external_userid`: 1–64 ASCII letters, digits, `_` or `-`.
pub(crate) fn check_external_userid(field: &str, value: &str) -> Result<(), ApiError> {
    if value.is_empty() {
        return Err(ApiError::invalid(field, format!("{field} is required")));
    }
    if !is_external_userid(value) {
        return Err(ApiError::invalid(field, format!("{field} is not a WeCom external_userid")));
    }
    Ok(())
}

/// Whether `caller` may see `customer`: operators, admins and support see everyone; a store manager sees
/// customers followed by staff of their stores; anyone sees the customers they follow themselves.
pub(crate) fn may_see(caller: &Caller, customer: &StoredCustomer) -> bool {
    let active = || customer.follows.iter().filter(|follow| follow.is_active());
    if active().any(|follow| follow.fields.userid == caller.staff_id) {
        return true;
    }
    match caller.role {
        Role::Operator | Role::Admin | Role::Support => true,
        Role::StoreManager => {
            customer.contact.store_id.as_deref().is_some_and(|store| caller.can_see_store(store))
                || active()
                    .flat_map(|follow| &follow.fields.store_ids)
                    .any(|store| caller.can_see_store(&store.to_string()))
        }
        Role::Koc => false,
    }
}

impl CustomerApi {
    /// Loads a customer the caller may see: INVALID_ARGUMENT for a malformed id, NOT_FOUND when unknown,
    /// PERMISSION_DENIED when not theirs to see.
    pub(crate) async fn visible_customer(
        &self,
        caller: &Caller,
        external_userid: &str,
    ) -> Result<StoredCustomer, CustomerError> {
        check_external_userid("external_userid", external_userid)?;
        let customer = self.store.customer(external_userid).await?.ok_or_else(|| unknown(external_userid))?;
        check_visible(caller, &customer)?;
        Ok(customer)
    }

    /// GetCustomer. The customer's own data is one read, done concurrently with the group and campaign
    /// services' reads; their answers are dropped when the caller may not see the customer.
    pub(crate) async fn profile(
        &self,
        caller: &Caller,
        request: GetCustomerRequest,
    ) -> Result<GetCustomerResponse, CustomerError> {
        let id = request.external_userid.as_str();
        check_external_userid("external_userid", id)?;
        let (snapshot, groups, (is_koc, campaigns)) = tokio::join!(
            self.store.profile_snapshot(id, PROFILE_NOTES, PROFILE_ORDERS),
            self.joined_groups(caller, id),
            self.koc_and_campaigns(caller, id),
        );
        let snapshot = snapshot?.ok_or_else(|| unknown(id))?;
        check_visible(caller, &snapshot.customer)?;
        let ProfileSnapshot { customer: stored, spend, member, notes, note_count, orders, tiers } = snapshot;
        let level = level_for(&tiers, spend.total_spend_fen);
        let status = customer_status(&stored.follows);
        let active: Vec<&StoredFollow> = stored.follows.iter().filter(|follow| follow.is_active()).collect();
        let tags = canonical_tags(active.iter().flat_map(|follow| follow.fields.tags.iter().cloned()).collect());
        let store_ids: BTreeSet<i64> =
            active.iter().flat_map(|follow| follow.fields.store_ids.iter().copied()).collect();
        let mut follows: Vec<&StoredFollow> = stored.follows.iter().collect();
        follows.sort_by_key(|follow| (!follow.is_active(), std::cmp::Reverse(follow.fields.added_at)));
        let added_at = stored.follows.iter().map(|follow| follow.fields.added_at).filter(|at| *at > 0).min();
        let churned_at = (status == CustomerStatus::Churned)
            .then(|| stored.follows.iter().filter_map(|follow| follow.removed_at).max())
            .flatten();
        let contact = stored.contact.fields.clone();
        let customer = Customer {
            external_userid: contact.external_userid,
            name: contact.name,
            avatar: contact.avatar,
            r#type: contact.contact_type,
            gender: contact.gender,
            unionid: contact.unionid,
            position: contact.position,
            corp_name: contact.corp_name,
            corp_full_name: contact.corp_full_name,
            status: status as i32,
            follow_user: follows.into_iter().map(follow_proto).collect(),
            tags: tags.into_iter().map(tag_proto).collect(),
            store_ids: store_ids.into_iter().collect(),
            level: level.map_or(0, |tier| tier.level),
            level_name: level.map(|tier| tier.name.clone()).unwrap_or_default(),
            total_spend_fen: spend.total_spend_fen,
            order_count: spend.order_count,
            first_purchase_at: spend.first_purchase_at.map(timestamp),
            last_purchase_at: spend.last_purchase_at.map(timestamp),
            is_koc,
            member: member.map(|member| member_proto(member, caller)),
            notes: notes.into_iter().map(note_proto).collect(),
            note_count,
            groups,
            campaigns,
            latest_orders: orders.into_iter().map(order_proto).collect(),
            added_at: added_at.map(timestamp),
            churned_at: churned_at.map(timestamp),
            updated_at: Some(timestamp(stored.contact.updated_at)),
        };
        Ok(GetCustomerResponse { customer: Some(customer) })
    }
}

impl CustomerApi {
    /// The groups the customer is in, as far as the group service lets `caller` see them. The profile is still
    /// served, without groups, when the group service cannot answer (logged as a warning).
    async fn joined_groups(&self, caller: &Caller, external_userid: &str) -> Vec<JoinedGroup> {
        let request = ListMemberGroupsRequest { userid: external_userid.to_owned() };
        let response = match caller.outgoing(request) {
            Ok(request) => self.groups.clone().list_member_groups(request).await,
            Err(error) => Err(error.into()),
        };
        match response {
            Ok(response) => response
                .into_inner()
                .groups
                .into_iter()
                .map(|group| JoinedGroup { chat_id: group.chat_id, name: group.name, joined_at: group.joined_at })
                .collect(),
            Err(status) => {
                let error = ApiError::from_status(&status);
                tracing::warn!(%error, external_userid, "the customer's groups could not be read");
                Vec::new()
            }
        }
    }
}

/// NOT_FOUND for customer `external_userid`.
fn unknown(external_userid: &str) -> CustomerError {
    ApiError::new(ErrorCode::NotFound, format!("no customer {external_userid}")).into()
}

/// PERMISSION_DENIED unless `caller` may see `customer`.
fn check_visible(caller: &Caller, customer: &StoredCustomer) -> Result<(), CustomerError> {
    if may_see(caller, customer) {
        return Ok(());
    }
    let id = &customer.contact.fields.external_userid;
    Err(ApiError::new(ErrorCode::PermissionDenied, format!("{} may not see customer {id}", caller.staff_id)).into())
}

/// Campaigns shown on a profile.
const PROFILE_CAMPAIGNS: i32 = 20;

impl CustomerApi {
    /// Whether the customer has an active KOC profile, and the campaigns they take part in (newest first), as
    /// far as the campaign service lets `caller` see them; false and none when it cannot answer (logged as a
    /// warning).
    async fn koc_and_campaigns(&self, caller: &Caller, external_userid: &str) -> (bool, Vec<JoinedCampaign>) {
        let request =
            GetCustomerCampaignsRequest { external_userid: external_userid.to_owned(), page_size: PROFILE_CAMPAIGNS };
        let response = match caller.outgoing(request) {
            Ok(request) => self.campaigns.clone().get_customer_campaigns(request).await,
            Err(error) => Err(error.into()),
        };
        match response {
            Ok(response) => {
                let response = response.into_inner();
                let campaigns = response
                    .participations
                    .into_iter()
                    .map(|participant| JoinedCampaign {
                        campaign_id: participant.campaign_id,
                        name: participant.campaign_name,
                        joined_at: participant.joined_at,
                    })
                    .collect();
                (response.koc_profile.is_some(), campaigns)
            }
            Err(status) => {
                let error = ApiError::from_status(&status);
                tracing::warn!(%error, external_userid, "the customer's KOC flag and campaigns could not be read");
                (false, Vec::new())
            }
        }
    }
}

pub(crate) fn tag_proto(tag: crate::domain::Tag) -> CustomerTag {
    CustomerTag {
        tag_id: tag.tag_id,
        tag_name: tag.tag_name,
        group_id: tag.group_id,
        group_name: tag.group_name,
        r#type: tag.tag_type,
    }
}

pub(crate) fn follow_proto(follow: &StoredFollow) -> FollowUser {
    let fields = follow.fields.clone();
    FollowUser {
        userid: fields.userid,
        staff_name: String::new(),
        remark: fields.remark,
        description: fields.description,
        added_at: (fields.added_at > 0).then(|| timestamp(fields.added_at)),
        add_way: fields.add_way,
        state: fields.state,
        oper_userid: fields.oper_userid,
        remark_corp_name: fields.remark_corp_name,
        remark_mobiles: fields.remark_mobiles,
        tags: fields.tags.into_iter().map(tag_proto).collect(),
        store_ids: fields.store_ids,
        status: follow.status,
        removed_at: follow.removed_at.map(timestamp),
    }
}

/// A Unix-ms time as a protobuf timestamp.
pub(crate) fn timestamp(millis: i64) -> Timestamp {
    Timestamp { seconds: millis.div_euclid(1000), nanos: (millis.rem_euclid(1000) * 1_000_000) as i32 }
}

/// A stored order as the contract's Order.
pub(crate) fn order_proto(order: OrderRecord) -> Order {
    let items: Vec<serde_json::Value> = serde_json::from_str(&order.items_json).unwrap_or_default();
    let text = |item: &serde_json::Value, key: &str| item[key].as_str().unwrap_or_default().to_owned();
    let number = |item: &serde_json::Value, key: &str| item[key].as_i64().unwrap_or_default();
    Order {
        order_no: order.order_no,
        external_userid: order.external_userid.unwrap_or_default(),
        member_no: order.member_no,
        store_id: order.store_id,
        store_code: order.store_code,
        channel: order.channel,
        status: order.status,
        amount_fen: order.amount_fen,
        discount_fen: order.discount_fen,
        refund_fen: order.refund_fen,
        paid_at: order.paid_at.map(timestamp),
        refunded_at: order.refunded_at.map(timestamp),
        items: items
            .iter()
            .map(|item| OrderItem {
                sku: text(item, "sku"),
                name: text(item, "name"),
                quantity: number(item, "quantity"),
                unit_price_fen: number(item, "unit_price_fen"),
                amount_fen: number(item, "amount_fen"),
            })
            .collect(),
        coupon_codes: order.coupon_codes,
        source: order.source,
        updated_at: Some(timestamp(order.updated_at)),
        imported_at: Some(timestamp(order.imported_at)),
    }
}

/// Order lines as the JSON stored with an order.
pub(crate) fn items_json(items: &[OrderItem]) -> String {
    let items: Vec<serde_json::Value> = items
        .iter()
        .map(|item| {
            serde_json::json!({
                "sku": item.sku,
                "name": item.name,
                "quantity": item.quantity,
                "unit_price_fen": item.unit_price_fen,
                "amount_fen": item.amount_fen,
            })
        })
        .collect();
    serde_json::Value::Array(items).to_string()
}

/// A stored note as the contract's Note.
pub(crate) fn note_proto(note: NoteRecord) -> Note {
    Note {
        id: note.id,
        external_userid: note.external_userid,
        content: note.content,
        author_scrm_user_id: 0,
        author_userid: note.author_id,
        author_name: note.author_name,
        created_at: Some(timestamp(note.created_at)),
    }
}

/// A stored member as the contract's Member; the phone is masked for callers other than operators and admins.
pub(crate) fn member_proto(member: MemberRecord, caller: &Caller) -> Member {
    let phone =
        if matches!(caller.role, Role::Operator | Role::Admin) { member.phone } else { mask_phone(&member.phone) };
    Member {
        member_no: member.member_no,
        name: member.name,
        phone,
        unionid: member.unionid,
        external_userid: member.external_userid.unwrap_or_default(),
        matched_by: member.matched_by,
        store_id: 0,
        member_tier: member.member_tier,
        registered_at: member.registered_at.map(timestamp),
        updated_at: Some(timestamp(member.updated_at)),
    }
}

/// `13800000001` → `138****0001`; other lengths keep only their last 4 digits.
fn mask_phone(phone: &str) -> String {
    if phone.len() == 11 {
        format!("{}****{}", &phone[..3], &phone[7..])
    } else if phone.len() > 4 {
        format!("****{}", &phone[phone.len() - 4..])
    } else {
        phone.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use scrm_proto::customer::v1::customer_service_server::CustomerService;
    use scrm_proto::customer::v1::{
        ExternalContactInput, FollowUserInput, LevelTier, OrderStatus, UpdateLevelTiersRequest,
        UpsertExternalContactsRequest,
    };
    use scrm_storage::Dialect;
    use scrm_storage::testing::TestDb;

    use super::*;

    fn caller(staff_id: &str, role: Role, stores: &[&str]) -> Caller {
        Caller { staff_id: staff_id.into(), role, store_ids: stores.iter().map(|store| store.to_string()).collect() }
    }

    async fn api_with_customer() -> (CustomerApi, TestDb) {
        let test_db = TestDb::new(Dialect::Sqlite).await;
        test_db.db.migrate(&crate::MIGRATIONS).await.unwrap();
        let api = CustomerApi::for_tests(&test_db.db);
        let contact = ExternalContactInput {
            external_userid: "wmA".into(),
            name: "王小美".into(),
            r#type: 1,
            follow_user: vec![FollowUserInput {
                userid: "zhangsan".into(),
                remark: "王姐".into(),
                added_at: Some(timestamp(1_700_000_000_000)),
                store_ids: vec![7],
                ..Default::default()
            }],
            ..Default::default()
        };
        let admin = caller("system:sync", Role::Admin, &[]);
        let upsert = UpsertExternalContactsRequest { contacts: vec![contact], ..Default::default() };
        api.upsert_external_contacts(admin.outgoing(upsert).unwrap()).await.unwrap();
        let tiers = UpdateLevelTiersRequest {
            tiers: vec![
                LevelTier { level: 1, name: "银卡".into(), min_spend_fen: 10_000 },
                LevelTier { level: 2, name: "金卡".into(), min_spend_fen: 50_000 },
            ],
        };
        api.update_tiers(tiers).await.unwrap();
        (api, test_db)
    }

    fn code(result: Result<GetCustomerResponse, CustomerError>) -> tonic::Code {
        tonic::Status::from(result.unwrap_err()).code()
    }

    #[tokio::test]
    async fn who_sees_a_profile() {
        let (api, test_db) = api_with_customer().await;
        let get = |id: &str| GetCustomerRequest { external_userid: id.into() };
        for allowed in [
            caller("zhangsan", Role::Koc, &[]),
            caller("op", Role::Operator, &[]),
            caller("kefu", Role::Support, &[]),
            caller("admin", Role::Admin, &[]),
            caller("dianzhang", Role::StoreManager, &["7"]),
        ] {
            let profile = api.profile(&allowed, get("wmA")).await.unwrap().customer.unwrap();
            assert_eq!(profile.name, "王小美", "{allowed:?}");
        }
        assert_eq!(code(api.profile(&caller("lisi", Role::Koc, &[]), get("wmA")).await), tonic::Code::PermissionDenied);
        let other_store = caller("dianzhang", Role::StoreManager, &["8"]);
        assert_eq!(code(api.profile(&other_store, get("wmA")).await), tonic::Code::PermissionDenied);
        let operator = caller("op", Role::Operator, &[]);
        assert_eq!(code(api.profile(&operator, get("wmZ")).await), tonic::Code::NotFound);
        assert_eq!(code(api.profile(&operator, get("wm A")).await), tonic::Code::InvalidArgument);
        assert_eq!(code(api.profile(&operator, get("")).await), tonic::Code::InvalidArgument);
        test_db.cleanup().await;
    }

    #[tokio::test]
    async fn the_profile_joins_orders_spend_level_and_notes() {
        let (api, test_db) = api_with_customer().await;
        let operator = caller("op", Role::Operator, &[]);
        let orders: Vec<OrderRecord> = (1..=12)
            .map(|index| OrderRecord {
                order_no: format!("NO{index:02}"),
                external_userid: Some("wmA".into()),
                status: OrderStatus::Paid as i32,
                amount_fen: 5_000,
                paid_at: Some(1_700_000_000_000 + index * 1_000),
                items_json: "[]".into(),
                ..OrderRecord::default()
            })
            .collect();
        let imported = api.store.import_orders(orders, "test", 1, false).await.unwrap().results;
        assert_eq!(imported.len(), 12);
        api.add_note(
            &operator,
            scrm_proto::customer::v1::AddCustomerNoteRequest {
                external_userid: "wmA".into(),
                content: "喜欢盲盒".into(),
            },
        )
        .await
        .unwrap();
        let profile = api.profile(&operator, GetCustomerRequest { external_userid: "wmA".into() }).await.unwrap();
        let profile = profile.customer.unwrap();
        assert_eq!((profile.total_spend_fen, profile.order_count), (60_000, 12));
        assert_eq!((profile.level, profile.level_name.as_str()), (2, "金卡"));
        assert_eq!(profile.latest_orders.len(), 10);
        assert_eq!(profile.latest_orders[0].order_no, "NO12");
        assert_eq!(profile.latest_orders[9].order_no, "NO03");
        assert_eq!((profile.note_count, profile.notes[0].content.as_str()), (1, "喜欢盲盒"));
        assert_eq!(profile.follow_user[0].remark, "王姐");
        assert_eq!(profile.store_ids, [7]);
        test_db.cleanup().await;
    }

    #[test]
    fn ids_and_phones() {
        assert!(check_external_userid("id", "wmAbC_12-x").is_ok());
        assert_eq!(check_external_userid("id", "").unwrap_err().field.as_deref(), Some("id"));
        assert!(check_external_userid("id", "wm 1").is_err());
        assert!(check_external_userid("id", "客户").is_err());
        assert!(check_external_userid("id", &"a".repeat(65)).is_err());
        assert_eq!(mask_phone("13800000001"), "138****0001");
        assert_eq!(timestamp(1_500), Timestamp { seconds: 1, nanos: 500_000_000 });
    }
}
