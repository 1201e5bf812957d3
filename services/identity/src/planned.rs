//! The RPCs of `scrm.identity.v1` whose bodies come with a later feature. Each answers
//! `UNIMPLEMENTED` with the feature's name until it lands; remove its line when it does.

use scrm_kernel::rpc::PlannedRpc;

/// Planned RPCs: method name and the feature that will build it.
pub const PLANNED: &[PlannedRpc] = &[
    ("GetCorpSettings", "PR01 企业微信授权与同步 — issue #3"),
    ("UpdateCorpSettings", "PR01 企业微信授权与同步 — issue #3"),
    ("RotateCallbackKeys", "PR01 企业微信授权与同步 — issue #3"),
    ("CheckCorpConnection", "PR01 企业微信授权与同步 — issue #3"),
    ("ListDepartments", "PR01 企业微信授权与同步 — issue #3"),
    ("GetDepartment", "PR01 企业微信授权与同步 — issue #3"),
    ("ListStores", "PR01 企业微信授权与同步 — issue #3"),
    ("SetDepartmentStore", "PR01 企业微信授权与同步 — issue #3"),
    ("ListStaff", "PR01 企业微信授权与同步 — issue #3"),
    ("GetStaff", "PR01 企业微信授权与同步 — issue #3"),
    ("BatchGetStaff", "PR01 企业微信授权与同步 — issue #3"),
    ("CountStaff", "PR01 企业微信授权与同步 — issue #3"),
    ("ListRoles", "登录与角色 — issue #6"),
    ("ListUsers", "登录与角色 — issue #6"),
    ("GetUser", "登录与角色 — issue #6"),
    ("CreateUser", "登录与角色 — issue #6"),
    ("UpdateUser", "登录与角色 — issue #6"),
    ("SetUserPassword", "登录与角色 — issue #6"),
    ("GetWecomLoginUrl", "登录与角色 — issue #6"),
    ("Login", "登录与角色 — issue #6"),
    ("Logout", "登录与角色 — issue #6"),
    ("GetCurrentUser", "登录与角色 — issue #6"),
    ("Authenticate", "登录与角色 — issue #6"),
    ("ListSessions", "登录与角色 — issue #6"),
    ("RevokeSession", "登录与角色 — issue #6"),
    ("CreateApiToken", "登录与角色 — issue #6"),
    ("ListApiTokens", "登录与角色 — issue #6"),
    ("RevokeApiToken", "登录与角色 — issue #6"),
    ("ListAuditLog", "登录与角色 — issue #6"),
    ("RecordAuditEntry", "登录与角色 — issue #6"),
];
