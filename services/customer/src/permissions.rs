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
