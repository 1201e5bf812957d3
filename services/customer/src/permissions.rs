//! Who may call each `CustomerService` method. Reads are open to every signed-in role and scoped in the
//! handlers (store managers see their stores' customers, other staff the customers they follow).

use scrm_kernel::Role;
use scrm_kernel::permissions::{Access, RpcAccess};

/// Operators, and administrators (scrm's own sync and callback work acts as one).
const WRITERS: Access = Access::Roles(&[Role::Operator, Role::Admin]);
/// The staff who chat with customers in the sidebar.
const SIDEBAR: Access = Access::Roles(&[Role::Operator, Role::Support, Role::StoreManager]);
const SIGNED_IN: Access = Access::SignedIn;

/// Who may call each `CustomerService` method.
pub const PERMISSIONS: &[RpcAccess] = &[
    ("GetCustomer", SIGNED_IN),
    ("SearchCustomers", SIGNED_IN),
    ("CountCustomers", SIGNED_IN),
    ("UpsertExternalContacts", WRITERS),
    ("RemoveFollowUser", WRITERS),
    ("ReindexCustomers", WRITERS),
    ("ListCorpTags", SIGNED_IN),
    ("CreateCorpTagGroup", WRITERS),
    ("UpdateCorpTagGroup", WRITERS),
    ("DeleteCorpTagGroup", WRITERS),
    ("CreateCorpTags", WRITERS),
    ("UpdateCorpTag", WRITERS),
    ("DeleteCorpTags", WRITERS),
    ("UpsertCorpTagGroups", WRITERS),
    ("MarkCustomerTags", SIGNED_IN),
    ("AddCustomerNote", SIGNED_IN),
    ("ListCustomerNotes", SIGNED_IN),
    ("DeleteCustomerNote", SIGNED_IN),
    ("UpsertMembers", WRITERS),
    ("GetMember", SIGNED_IN),
    ("ImportOrders", WRITERS),
    ("ListOrders", SIGNED_IN),
    ("GetLevelTiers", SIGNED_IN),
    ("UpdateLevelTiers", WRITERS),
    ("ListQuickReplyFolders", SIGNED_IN),
    ("CreateQuickReplyFolder", SIGNED_IN),
    ("UpdateQuickReplyFolder", SIGNED_IN),
    ("DeleteQuickReplyFolder", SIGNED_IN),
    ("CreateQuickReply", SIGNED_IN),
    ("GetQuickReply", SIGNED_IN),
    ("UpdateQuickReply", SIGNED_IN),
    ("DeleteQuickReply", SIGNED_IN),
    ("ListQuickReplies", SIGNED_IN),
    ("SearchQuickReplies", SIGNED_IN),
    ("RenderQuickReply", SIGNED_IN),
    ("RecordQuickReplySent", SIDEBAR),
];

#[cfg(test)]
mod tests {
    use scrm_kernel::ServiceKind;
    use scrm_kernel::permissions::Permissions;

    use super::*;

    #[test]
    fn only_operators_and_admins_write_wecom_and_platform_data() {
        let permissions = Permissions::new(ServiceKind::Customer.grpc_name(), PERMISSIONS);
        for method in
            ["UpsertExternalContacts", "RemoveFollowUser", "UpsertMembers", "ImportOrders", "ReindexCustomers"]
        {
            let access = permissions.access_of(&format!("/{}/{method}", ServiceKind::Customer.grpc_name()));
            for role in Role::ALL {
                assert_eq!(access.admits(role), matches!(role, Role::Operator | Role::Admin), "{method} by {role}");
            }
        }
    }
}
