//! Who may call each `CampaignService` method: operators run activities, campaigns and KOC profiles; KOCs
//! accept and complete their own tasks; reads are open to every signed-in role.

use scrm_kernel::Role;
use scrm_kernel::permissions::{Access, RpcAccess};

/// Operators, and administrators (scrm's own work acts as one).
const WRITERS: Access = Access::Roles(&[Role::Operator, Role::Admin]);
/// Writers and store managers, who hand tasks to their stores' KOCs.
const ASSIGNERS: Access = Access::Roles(&[Role::Operator, Role::Admin, Role::StoreManager]);
/// The KOC a task was given to.
const KOC: Access = Access::Roles(&[Role::Koc]);
const SIGNED_IN: Access = Access::SignedIn;

/// Who may call each `CampaignService` method.
pub const PERMISSIONS: &[RpcAccess] = &[
    ("CreateCheckInActivity", WRITERS),
    ("GetCheckInActivity", SIGNED_IN),
    ("ListCheckInActivities", SIGNED_IN),
    ("UpdateCheckInActivity", WRITERS),
    ("DeleteCheckInActivity", WRITERS),
    ("StartCheckInActivity", WRITERS),
    ("PauseCheckInActivity", WRITERS),
    ("EndCheckInActivity", WRITERS),
    ("CheckIn", WRITERS),
    ("ListCheckIns", SIGNED_IN),
    ("GetCheckInStats", SIGNED_IN),
    ("GetCheckInLeaderboard", SIGNED_IN),
    ("CreateCampaign", WRITERS),
    ("GetCampaign", SIGNED_IN),
    ("ListCampaigns", SIGNED_IN),
    ("UpdateCampaign", WRITERS),
    ("DeleteCampaign", WRITERS),
    ("StartCampaign", WRITERS),
    ("PauseCampaign", WRITERS),
    ("EndCampaign", WRITERS),
    ("GeneratePoster", SIGNED_IN),
    ("RecordInvitation", WRITERS),
    ("RevokeInvitation", WRITERS),
    ("RecordConversion", WRITERS),
    ("GetCampaignStats", SIGNED_IN),
    ("ListParticipants", SIGNED_IN),
    ("GetCustomerCampaigns", SIGNED_IN),
    ("GetInvitationTree", SIGNED_IN),
    ("CreateKocProfile", WRITERS),
    ("GetKocProfile", SIGNED_IN),
    ("ListKocProfiles", SIGNED_IN),
    ("UpdateKocProfile", WRITERS),
    ("DeleteKocProfile", WRITERS),
    ("AssignKocTask", ASSIGNERS),
    ("GetKocTask", SIGNED_IN),
    ("ListKocTasks", SIGNED_IN),
    ("UpdateKocTask", ASSIGNERS),
    ("AcceptKocTask", KOC),
    ("CompleteKocTask", KOC),
    ("VerifyKocTask", ASSIGNERS),
    ("CancelKocTask", ASSIGNERS),
];
