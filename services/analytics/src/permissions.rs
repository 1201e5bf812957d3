//! Who may call each `AnalyticsService` method: the dashboards are for operators, store managers (their
//! stores, scoped in the handlers) and administrators; KOCs also see the KOC board.

use scrm_kernel::Role;
use scrm_kernel::permissions::{Access, RpcAccess};

/// The roles holding `overview.read`.
const DASHBOARD: Access = Access::Roles(&[Role::Operator, Role::StoreManager, Role::Admin]);

/// Who may call each `AnalyticsService` method.
pub const PERMISSIONS: &[RpcAccess] = &[
    ("GetOverview", DASHBOARD),
    ("GetDashboard", DASHBOARD),
    ("GetLifecycleFunnel", DASHBOARD),
    ("GetKocBoard", Access::Roles(&[Role::Operator, Role::StoreManager, Role::Admin, Role::Koc])),
    ("GetGroupActivityRanking", DASHBOARD),
];
