//! Who may call each `RewardsService` method: operators define rewards and adjust points, staff who serve
//! customers issue and redeem them; reads are open to every signed-in role (KOCs see their own earnings,
//! scoped in the handlers).

use scrm_kernel::Role;
use scrm_kernel::permissions::{Access, RpcAccess};

/// Operators, and administrators (scrm's own work acts as one).
const WRITERS: Access = Access::Roles(&[Role::Operator, Role::Admin]);
/// Staff who hand rewards to customers (quick replies carrying a coupon, redemption in store).
const SERVERS: Access = Access::Roles(&[Role::Operator, Role::Admin, Role::Support, Role::StoreManager]);
const SIGNED_IN: Access = Access::SignedIn;

/// Who may call each `RewardsService` method.
pub const PERMISSIONS: &[RpcAccess] = &[
    ("CreateRewardDefinition", WRITERS),
    ("GetRewardDefinition", SIGNED_IN),
    ("ListRewardDefinitions", SIGNED_IN),
    ("UpdateRewardDefinition", WRITERS),
    ("ArchiveRewardDefinition", WRITERS),
    ("IssueReward", SERVERS),
    ("GetGrant", SIGNED_IN),
    ("ListGrants", SIGNED_IN),
    ("FulfillGrant", WRITERS),
    ("GetPointsBalance", SIGNED_IN),
    ("ListPointsLedger", SIGNED_IN),
    ("AdjustPoints", WRITERS),
    ("ListCoupons", SIGNED_IN),
    ("GetCoupon", SIGNED_IN),
    ("RedeemCoupon", SERVERS),
    ("ListKocEarnings", SIGNED_IN),
    ("GetKocEarningsSummary", SIGNED_IN),
    ("GetKocEarningsPolicy", SIGNED_IN),
    ("UpdateKocEarningsPolicy", WRITERS),
];
