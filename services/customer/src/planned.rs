//! The RPCs of `scrm.customer.v1` whose bodies come with a later feature. Each answers
//! `UNIMPLEMENTED` with the feature's name until it lands; remove its line when it does.

use scrm_kernel::rpc::PlannedRpc;

/// Planned RPCs: method name and the feature that will build it.
pub const PLANNED: &[PlannedRpc] = &[
    ("ListCorpTags", "PR02 客户画像 — issue #4"),
    ("CreateCorpTagGroup", "PR02 客户画像 — issue #4"),
    ("UpdateCorpTagGroup", "PR02 客户画像 — issue #4"),
    ("DeleteCorpTagGroup", "PR02 客户画像 — issue #4"),
    ("CreateCorpTags", "PR02 客户画像 — issue #4"),
    ("UpdateCorpTag", "PR02 客户画像 — issue #4"),
    ("DeleteCorpTags", "PR02 客户画像 — issue #4"),
    ("UpsertCorpTagGroups", "PR01 企业微信同步 — issue #3"),
    ("MarkCustomerTags", "PR02 客户画像 — issue #4"),
];
