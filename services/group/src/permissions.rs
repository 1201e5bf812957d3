//! Who may call each `GroupService` method. Reads are open to every signed-in role and scoped in the
//! handlers (KOCs see the groups they own, store managers their stores' groups).

use scrm_kernel::Role;
use scrm_kernel::permissions::{Access, RpcAccess};

/// Operators, and administrators (scrm's own sync and callback work acts as one).
const WRITERS: Access = Access::Roles(&[Role::Operator, Role::Admin]);
/// Writers and store managers, who tag their stores' groups.
const TAGGERS: Access = Access::Roles(&[Role::Operator, Role::Admin, Role::StoreManager]);
const SIGNED_IN: Access = Access::SignedIn;

/// Who may call each `GroupService` method.
pub const PERMISSIONS: &[RpcAccess] = &[
    ("CountGroups", SIGNED_IN),
    ("ListGroups", SIGNED_IN),
    ("GetGroup", SIGNED_IN),
    ("ListMemberGroups", SIGNED_IN),
    ("UpsertGroupChats", WRITERS),
    ("UpsertGroupMembers", WRITERS),
    ("MarkGroupChatsDismissed", WRITERS),
    ("CreateGroupTag", TAGGERS),
    ("ListGroupTags", SIGNED_IN),
    ("UpdateGroupTag", TAGGERS),
    ("DeleteGroupTag", TAGGERS),
    ("TagGroups", TAGGERS),
    ("CreateJoinWay", WRITERS),
    ("GetJoinWay", SIGNED_IN),
    ("ListJoinWays", SIGNED_IN),
    ("UpdateJoinWay", WRITERS),
    ("DeleteJoinWay", WRITERS),
    ("CreateWelcomeRule", WRITERS),
    ("GetWelcomeRule", SIGNED_IN),
    ("ListWelcomeRules", SIGNED_IN),
    ("UpdateWelcomeRule", WRITERS),
    ("DeleteWelcomeRule", WRITERS),
    ("GetWelcomeCoverage", SIGNED_IN),
    ("RecordWelcomeTemplateApplied", WRITERS),
    ("SendContactWelcome", WRITERS),
    ("GetWelcomeSettings", SIGNED_IN),
    ("UpdateWelcomeSettings", WRITERS),
    ("IngestMessages", WRITERS),
    ("GetGroupActivity", SIGNED_IN),
    ("ListGroupActivityTotals", SIGNED_IN),
    ("ListAlertRules", SIGNED_IN),
    ("UpdateAlertRule", WRITERS),
    ("ListAlerts", SIGNED_IN),
    ("GetAlert", SIGNED_IN),
    ("AcknowledgeAlert", SIGNED_IN),
];

#[cfg(test)]
mod tests {
    use scrm_kernel::ServiceKind;
    use scrm_kernel::permissions::Permissions;

    use super::*;

    fn admitted(method: &str, role: Role) -> bool {
        let permissions = Permissions::new(ServiceKind::Group.grpc_name(), PERMISSIONS);
        permissions.access_of(&format!("/{}/{method}", ServiceKind::Group.grpc_name())).admits(role)
    }

    #[test]
    fn only_operators_and_admins_write_wecom_data_and_store_managers_also_tag() {
        for role in Role::ALL {
            let writer = matches!(role, Role::Operator | Role::Admin);
            for method in ["UpsertGroupChats", "UpsertGroupMembers", "MarkGroupChatsDismissed", "IngestMessages"] {
                assert_eq!(admitted(method, role), writer, "{method} by {role}");
            }
            assert_eq!(admitted("CreateGroupTag", role), writer || role == Role::StoreManager, "tags by {role}");
            assert!(admitted("ListGroups", role), "every role lists the groups it may see");
        }
    }
}
