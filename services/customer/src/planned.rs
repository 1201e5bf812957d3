//! The RPCs of `scrm.customer.v1` whose bodies come with a later feature. Each answers
//! `UNIMPLEMENTED` with the feature's name until it lands; remove its line when it does.

use scrm_kernel::rpc::PlannedRpc;

/// Planned RPCs: method name and the feature that will build it.
pub const PLANNED: &[PlannedRpc] = &[
    ("GetCustomer", "PR02 客户画像 — issue #4"),
    ("ListCorpTags", "PR02 客户画像 — issue #4"),
    ("CreateCorpTagGroup", "PR02 客户画像 — issue #4"),
    ("UpdateCorpTagGroup", "PR02 客户画像 — issue #4"),
    ("DeleteCorpTagGroup", "PR02 客户画像 — issue #4"),
    ("CreateCorpTags", "PR02 客户画像 — issue #4"),
    ("UpdateCorpTag", "PR02 客户画像 — issue #4"),
    ("DeleteCorpTags", "PR02 客户画像 — issue #4"),
    ("UpsertCorpTagGroups", "PR01 企业微信同步 — issue #3"),
    ("MarkCustomerTags", "PR02 客户画像 — issue #4"),
    ("AddCustomerNote", "PR02 客户画像 — issue #4"),
    ("ListCustomerNotes", "PR02 客户画像 — issue #4"),
    ("DeleteCustomerNote", "PR02 客户画像 — issue #4"),
    ("UpsertMembers", "PR02 客户画像 — issue #4"),
    ("GetMember", "PR02 客户画像 — issue #4"),
    ("ImportOrders", "PR02 客户画像 — issue #4"),
    ("ListOrders", "PR02 客户画像 — issue #4"),
    ("GetLevelTiers", "PR02 客户画像 — issue #4"),
    ("UpdateLevelTiers", "PR02 客户画像 — issue #4"),
    ("ListQuickReplyFolders", "PR03 快捷回复库 — issue #4"),
    ("CreateQuickReplyFolder", "PR03 快捷回复库 — issue #4"),
    ("UpdateQuickReplyFolder", "PR03 快捷回复库 — issue #4"),
    ("DeleteQuickReplyFolder", "PR03 快捷回复库 — issue #4"),
    ("CreateQuickReply", "PR03 快捷回复库 — issue #4"),
    ("GetQuickReply", "PR03 快捷回复库 — issue #4"),
    ("UpdateQuickReply", "PR03 快捷回复库 — issue #4"),
    ("DeleteQuickReply", "PR03 快捷回复库 — issue #4"),
    ("ListQuickReplies", "PR03 快捷回复库 — issue #4"),
    ("SearchQuickReplies", "PR03 快捷回复库 — issue #4"),
    ("RenderQuickReply", "PR03 快捷回复库 — issue #4"),
    ("RecordQuickReplySent", "PR03 快捷回复库 — issue #4"),
];
