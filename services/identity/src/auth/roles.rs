//! What each role may do: the identity service's per-RPC permission table and the permission names the
//! web admin uses to show its menu.

use scrm_kernel::Role;
use scrm_kernel::permissions::{Access, RpcAccess};
use scrm_proto::identity::v1::RoleInfo;

const ADMIN: Access = Access::Roles(&[Role::Admin]);
const ADMIN_OR_OPERATOR: Access = Access::Roles(&[Role::Admin, Role::Operator]);
/// Reads of the org and of one's own account and sessions (scoped in the handlers).
const SIGNED_IN: Access = Access::SignedIn;

/// Who may call each `IdentityService` method.
pub const PERMISSIONS: &[RpcAccess] = &[
    ("Login", Access::Public),
    ("GetWecomLoginUrl", Access::Public),
    ("Authenticate", Access::Public),
    ("GetCorpSettings", ADMIN_OR_OPERATOR),
    ("UpdateCorpSettings", ADMIN),
    ("RotateCallbackKeys", ADMIN),
    ("CheckCorpConnection", ADMIN),
    ("ListDepartments", SIGNED_IN),
    ("GetDepartment", SIGNED_IN),
    ("ListStores", SIGNED_IN),
    ("SetDepartmentStore", ADMIN_OR_OPERATOR),
    ("ListStaff", SIGNED_IN),
    ("GetStaff", SIGNED_IN),
    ("BatchGetStaff", SIGNED_IN),
    ("CountStaff", SIGNED_IN),
    ("StartSync", ADMIN_OR_OPERATOR),
    ("WatchSyncRun", SIGNED_IN),
    ("CancelSyncRun", ADMIN_OR_OPERATOR),
    ("GetSyncRun", SIGNED_IN),
    ("ListSyncRuns", SIGNED_IN),
    ("IngestCallbackEvent", ADMIN),
    ("ListCallbackEvents", ADMIN),
    ("ReprocessCallbackEvent", ADMIN),
    ("ListRoles", SIGNED_IN),
    ("ListUsers", ADMIN),
    ("GetUser", SIGNED_IN),
    ("CreateUser", ADMIN),
    ("UpdateUser", ADMIN),
    ("SetUserPassword", SIGNED_IN),
    ("Logout", SIGNED_IN),
    ("GetCurrentUser", SIGNED_IN),
    ("ListSessions", SIGNED_IN),
    ("RevokeSession", SIGNED_IN),
    ("CreateApiToken", ADMIN),
    ("ListApiTokens", ADMIN),
    ("RevokeApiToken", ADMIN),
    ("ListAuditLog", ADMIN),
    ("RecordAuditEntry", SIGNED_IN),
    ("GetJsSdkSignatures", SIGNED_IN),
];

/// The permission names a role holds; the web admin shows the pages they unlock.
pub fn permissions_of(role: Role) -> &'static [&'static str] {
    match role {
        Role::Operator => &[
            "overview.read",
            "org.read",
            "org.write",
            "sync.run",
            "settings.read",
            "customer.read",
            "customer.write",
            "group.read",
            "group.write",
            "broadcast.write",
            "campaign.write",
        ],
        Role::Support => &["customer.read", "customer.write", "sidebar.use", "quick_reply.write"],
        Role::StoreManager => &["overview.read", "customer.read", "group.read"],
        Role::Koc => &["group.read", "task.read", "earning.read"],
        Role::Admin => &[
            "overview.read",
            "org.read",
            "org.write",
            "sync.run",
            "settings.read",
            "settings.write",
            "user.write",
            "token.write",
            "audit.read",
        ],
    }
}

/// The role as the roles page shows it.
pub fn role_info(role: Role) -> RoleInfo {
    let description = match role {
        Role::Operator => "运营：可使用全部业务功能，包括同步、客户、社群和群发。",
        Role::Support => "客服：可查看和维护客户、使用侧边栏和快捷回复。",
        Role::StoreManager => "店长：只能查看自己门店的社群、客户和数据看板。",
        Role::Koc => "KOC：只能查看自己的社群、任务和收益。",
        Role::Admin => "管理员：管理用户、API 令牌、企业微信设置和审计日志。",
    };
    RoleInfo {
        role: role.to_proto() as i32,
        id: role.as_str().to_owned(),
        display_name: role.label().to_owned(),
        description: description.to_owned(),
        permissions: permissions_of(role).iter().map(|name| (*name).to_owned()).collect(),
        store_scoped: role == Role::StoreManager,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_has_permissions_and_only_store_managers_are_scoped() {
        for role in Role::ALL {
            let info = role_info(role);
            assert!(!info.permissions.is_empty());
            assert_eq!(info.store_scoped, role == Role::StoreManager);
            assert_eq!(Role::from_proto(info.role), Some(role));
        }
    }

    #[test]
    fn the_table_names_each_method_once() {
        let mut names: Vec<_> = PERMISSIONS.iter().map(|(name, _)| *name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), PERMISSIONS.len());
    }
}
