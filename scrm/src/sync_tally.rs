//! What a full WeCom sync must leave in the database: row counts expected from a simulated corp, and the same
//! counts taken from a database, so that the sync bench and the crash tests check a sync the same way.

use std::collections::HashSet;

use scrm_storage::Db;
use scrm_wecom_sim::{Customer, World};

/// Row counts of the synced entities.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tally {
    /// Departments.
    pub departments: i64,
    /// Staff members not deleted (status 5).
    pub staff: i64,
    /// Customers followed by at least one staff member with the customer-contact permission.
    pub customers: i64,
    /// Active follow relations.
    pub follow_users: i64,
    /// Groups not dismissed.
    pub groups: i64,
    /// Current members of those groups.
    pub members: i64,
}

impl Tally {
    /// The counts a complete sync of `world` produces.
    pub fn expected(world: &World) -> Tally {
        let follow_users: HashSet<&str> = world
            .staff
            .iter()
            .filter(|staff| staff.customer_contact && staff.status == 1)
            .map(|staff| staff.userid.as_str())
            .collect();
        let followed = |customer: &Customer| {
            customer.follow.iter().filter(|follow| follow_users.contains(follow.userid.as_str())).count() as i64
        };
        let groups = world.groups.iter().filter(|group| !group.dismissed);
        Tally {
            departments: world.departments.len() as i64,
            staff: world.staff.iter().filter(|staff| staff.status != 5).count() as i64,
            customers: world.customers.iter().filter(|customer| followed(customer) > 0).count() as i64,
            follow_users: world.customers.iter().map(followed).sum(),
            groups: groups.clone().count() as i64,
            members: groups.map(|group| group.members.len() as i64).sum(),
        }
    }

    /// The counts `db` holds.
    pub async fn stored(db: &Db) -> Result<Tally, sqlx::Error> {
        let count = async |sql: &'static str| -> Result<i64, sqlx::Error> {
            sqlx::query_scalar(sql).fetch_one(db.pool()).await
        };
        Ok(Tally {
            departments: count("SELECT COUNT(*) FROM identity_department").await?,
            staff: count("SELECT COUNT(*) FROM identity_staff WHERE status <> 5").await?,
            customers: count("SELECT COUNT(*) FROM customer_contact").await?,
            follow_users: count("SELECT COUNT(*) FROM customer_follow_user WHERE status = 1").await?,
            groups: count("SELECT COUNT(*) FROM group_chat WHERE dismissed_at IS NULL").await?,
            members: count("SELECT COUNT(*) FROM group_member WHERE left_at IS NULL").await?,
        })
    }
}
