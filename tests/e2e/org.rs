//! The org after a sync from the WeCom simulator: departments as a tree, stores flagged on departments (with
//! the change in the audit log), staff listed, searched, paged and counted, store managers limited to their
//! stores' staff, and the corp settings shown without secrets.

use scrm_kernel::Role;
use scrm_proto::identity::v1::identity_service_client::IdentityServiceClient;
use scrm_proto::identity::v1::{
    BatchGetStaffRequest, CheckCorpConnectionRequest, CountStaffRequest, GetCorpSettingsRequest, GetStaffRequest,
    ListAuditLogRequest, ListDepartmentsRequest, ListStaffRequest, ListStoresRequest, SetDepartmentStoreRequest,
    StaffFilter,
};
use tonic::transport::Channel;

use crate::harness::with_token;
use crate::sync::{app_on, simulator, sync};

/// Every staff member ListStaff shows with `filter`, walking the pages.
async fn all_staff(identity: &mut IdentityServiceClient<Channel>, token: &str, filter: StaffFilter) -> Vec<String> {
    let mut userids = Vec::new();
    let mut page_token = String::new();
    loop {
        let request = ListStaffRequest { filter: Some(filter.clone()), page_size: 3, page_token };
        let page = identity.list_staff(with_token(request, token)).await.unwrap().into_inner();
        userids.extend(page.staff.into_iter().map(|staff| staff.userid));
        if page.next_page_token.is_empty() {
            return userids;
        }
        page_token = page.next_page_token;
    }
}

#[tokio::test]
async fn the_synced_org_is_listed_mapped_to_stores_and_scoped_for_store_managers() {
    let (sim, sim_url, expected) = simulator().await;
    let app = app_on(&sim_url).await;
    sync(app.channel().await).await;
    let mut identity = IdentityServiceClient::new(app.channel().await);
    let operator = app.token(Role::Operator, &[]).await;
    let (departments, store_id, in_store) = sim.with_world(|world| {
        let store = world.departments.iter().find(|department| department.store).expect("the demo corp has stores");
        let in_store: Vec<String> = world
            .staff
            .iter()
            .filter(|staff| staff.status != 5 && staff.department.contains(&store.id))
            .map(|staff| staff.userid.clone())
            .collect();
        (world.departments.len(), i64::from(store.id), in_store)
    });

    let listed = identity.list_departments(with_token(ListDepartmentsRequest::default(), &operator)).await.unwrap();
    let listed = listed.into_inner();
    assert_eq!(listed.departments.len(), departments);
    assert!(listed.departments.iter().all(|department| !department.path_names.is_empty()));

    let flag = SetDepartmentStoreRequest {
        department_id: store_id,
        is_store: true,
        store_code: "SH001".into(),
        address: "上海市徐汇区漕溪北路 1 号".into(),
    };
    let flagged = identity.set_department_store(with_token(flag, &operator)).await.unwrap().into_inner();
    assert!(flagged.department.unwrap().is_store);
    assert_eq!(flagged.store.unwrap().store_code, "SH001");
    let other = listed.departments.iter().find(|department| department.department_id != store_id).unwrap();
    let taken = SetDepartmentStoreRequest {
        department_id: other.department_id,
        is_store: true,
        store_code: "SH001".into(),
        address: String::new(),
    };
    let status = identity.set_department_store(with_token(taken, &operator)).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::AlreadyExists, "{status:?}");
    let stores = identity
        .list_stores(with_token(ListStoresRequest { query: "sh0".into(), ..Default::default() }, &operator))
        .await
        .unwrap()
        .into_inner()
        .stores;
    assert_eq!(stores.iter().map(|store| store.store_id).collect::<Vec<_>>(), [store_id]);
    assert_eq!(stores[0].staff_count, in_store.len() as i64);

    let everyone = all_staff(&mut identity, &operator, StaffFilter::default()).await;
    assert_eq!(everyone.len() as i64, expected.staff);
    let counted = identity.count_staff(with_token(CountStaffRequest { filter: None }, &operator)).await.unwrap();
    assert_eq!(counted.into_inner().total, expected.staff);
    let first = identity
        .get_staff(with_token(GetStaffRequest { userid: in_store[0].clone() }, &operator))
        .await
        .unwrap()
        .into_inner()
        .staff
        .unwrap();
    assert!(first.store_ids.contains(&store_id), "{first:?}");
    let search = StaffFilter { query: first.name.clone(), ..Default::default() };
    assert!(all_staff(&mut identity, &operator, search).await.contains(&first.userid));
    let unknown = identity.get_staff(with_token(GetStaffRequest { userid: "nobody".into() }, &operator)).await;
    assert_eq!(unknown.unwrap_err().code(), tonic::Code::NotFound);
    let batch = BatchGetStaffRequest { userids: vec![everyone[0].clone(), everyone[1].clone(), "nobody".into()] };
    assert_eq!(identity.batch_get_staff(with_token(batch, &operator)).await.unwrap().into_inner().staff.len(), 2);

    let manager = app.token(Role::StoreManager, &[store_id]).await;
    let mut theirs = all_staff(&mut identity, &manager, StaffFilter::default()).await;
    let mut wanted = in_store.clone();
    theirs.sort();
    wanted.sort();
    assert_eq!(theirs, wanted, "a store manager sees their store's staff only");
    let departments = identity.list_departments(with_token(ListDepartmentsRequest::default(), &manager)).await;
    assert!(
        departments
            .unwrap()
            .into_inner()
            .departments
            .iter()
            .all(|department| department.department_id == store_id || department.path_names.len() > 1)
    );
    let flag = SetDepartmentStoreRequest { department_id: store_id, ..Default::default() };
    let refused = identity.set_department_store(with_token(flag, &manager)).await.unwrap_err();
    assert_eq!(refused.code(), tonic::Code::PermissionDenied);

    let admin = app.token(Role::Admin, &[]).await;
    let audit = ListAuditLogRequest { action_prefix: "identity.store".into(), ..Default::default() };
    let entries = identity.list_audit_log(with_token(audit, &admin)).await.unwrap().into_inner().entries;
    assert_eq!(entries.len(), 1, "one change, one entry: {entries:?}");
    assert!(entries[0].summary.contains("SH001"), "{}", entries[0].summary);
}

#[tokio::test]
async fn corp_settings_show_the_binding_without_secrets_and_the_connection_check_reaches_wecom() {
    let (_sim, sim_url, _) = simulator().await;
    let app = app_on(&sim_url).await;
    let mut identity = IdentityServiceClient::new(app.channel().await);
    let admin = app.token(Role::Admin, &[]).await;
    let settings = identity.get_corp_settings(with_token(GetCorpSettingsRequest {}, &admin)).await.unwrap();
    let settings = settings.into_inner().settings.unwrap();
    assert_eq!(settings.corp_id, "wwsimcorp0000000001");
    assert!(settings.secret_set && settings.managed_by_config);
    assert!(!format!("{settings:?}").contains("sim-secret"), "the secret never leaves the service");
    let check = identity.check_corp_connection(with_token(CheckCorpConnectionRequest {}, &admin)).await.unwrap();
    let check = check.into_inner();
    assert!(check.ok, "{check:?}");

    let koc = app.token(Role::Koc, &[]).await;
    let refused = identity.get_corp_settings(with_token(GetCorpSettingsRequest {}, &koc)).await.unwrap_err();
    assert_eq!(refused.code(), tonic::Code::PermissionDenied);
}
