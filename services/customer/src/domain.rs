//! Pure rules of the customer service: how WeCom input is applied to what is stored.
//!
//! Applying is planned here, in memory, from the stored rows of the contacts in a batch, so that identical
//! input plans no write at all (no `updated_at` bump) and the store only writes what changed.

pub mod levels;
pub mod orders;
pub mod tags;

use std::collections::{BTreeSet, HashMap};

use scrm_proto::customer::v1::{CustomerStatus, FollowRemovalReason, FollowStatus};

/// Most contacts one `UpsertExternalContacts` call may carry (the contract's limit).
pub const MAX_CONTACTS_PER_UPSERT: usize = 200;

/// WeCom event times (`CreateTime`) have second precision: a removal told for second `s` may have happened up
/// to this long after `s`. A relation seen current later than that was re-added after the removal.
pub const EVENT_TIME_SLACK_MS: i64 = 999;

/// Longest WeCom `external_userid` accepted.
const MAX_EXTERNAL_USERID_CHARS: usize = 64;

/// Whether `value` looks like a WeCom `external_userid`: 1–64 ASCII letters, digits, `_` or `-`.
pub fn is_external_userid(value: &str) -> bool {
    (1..=MAX_EXTERNAL_USERID_CHARS).contains(&value.len())
        && value.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-')
}

/// A tag on a follow relation.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tag {
    /// TagType code.
    pub tag_type: i32,
    /// WeCom `tag_id`; empty for personal tags.
    pub tag_id: String,
    /// Tag name; may be empty when WeCom gave the id only.
    pub tag_name: String,
    /// WeCom tag group id.
    pub group_id: String,
    /// Tag group name.
    pub group_name: String,
}

/// An external contact's own WeCom fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactFields {
    /// WeCom `external_userid`.
    pub external_userid: String,
    /// Name.
    pub name: String,
    /// Avatar URL.
    pub avatar: String,
    /// ExternalContactType code.
    pub contact_type: i32,
    /// Gender code.
    pub gender: i32,
    /// WeChat `unionid`, empty when none.
    pub unionid: String,
    /// Job title.
    pub position: String,
    /// Company short name.
    pub corp_name: String,
    /// Company full name.
    pub corp_full_name: String,
}

/// A follow relation's WeCom fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FollowFields {
    /// The staff member's WeCom `userid`.
    pub userid: String,
    /// Remark name.
    pub remark: String,
    /// Description.
    pub description: String,
    /// WeCom `createtime`, Unix ms; 0 when unknown.
    pub added_at: i64,
    /// AddWay code (WeCom's number).
    pub add_way: i32,
    /// Channel parameter.
    pub state: String,
    /// Who made the add happen.
    pub oper_userid: String,
    /// Company name in the remark.
    pub remark_corp_name: String,
    /// Phone numbers in the remark, in WeCom's order.
    pub remark_mobiles: Vec<String>,
    /// Tags, canonical: sorted, each once (see [`canonical_tags`]).
    pub tags: Vec<Tag>,
    /// Stores of the staff member, sorted, each once.
    pub store_ids: Vec<i64>,
}

/// One contact of an upsert, with its follow relations.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactInput {
    /// The contact's fields.
    pub contact: ContactFields,
    /// Follow relations read with it.
    pub follow_users: Vec<FollowFields>,
    /// Whether `follow_users` is the complete current set; missing current relations then end as gone.
    pub follow_user_complete: bool,
}

/// A stored contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredContact {
    /// Its WeCom fields.
    pub fields: ContactFields,
    /// The store it counts under (from its current follow users' stores); `None` when none is known.
    pub store_id: Option<String>,
    /// Newest WeCom observation applied, Unix ms.
    pub observed_at: i64,
    /// When scrm first stored it, Unix ms.
    pub created_at: i64,
    /// When it or one of its relations last changed, Unix ms.
    pub updated_at: i64,
}

/// A stored follow relation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFollow {
    /// WeCom `external_userid` of the customer.
    pub external_userid: String,
    /// Its WeCom fields.
    pub fields: FollowFields,
    /// FollowStatus code.
    pub status: i32,
    /// When it ended, Unix ms; `None` while current.
    pub removed_at: Option<i64>,
    /// Newest WeCom observation applied, Unix ms.
    pub observed_at: i64,
    /// When scrm first stored it, Unix ms.
    pub created_at: i64,
    /// When it last changed, Unix ms.
    pub updated_at: i64,
}

impl StoredFollow {
    /// Whether the relation is current.
    pub fn is_active(&self) -> bool {
        self.status == FollowStatus::Active as i32
    }
}

/// A stored contact with all its follow relations, ended ones included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCustomer {
    /// The contact.
    pub contact: StoredContact,
    /// Its follow relations.
    pub follows: Vec<StoredFollow>,
}

/// What applying one contact did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The contact is new to scrm.
    Created,
    /// The contact existed and changed (its fields or a relation).
    Updated,
    /// Nothing changed, or the input was older than what is stored.
    Unchanged,
}

/// The writes applying one contact needs; empty when nothing changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactPlan {
    /// What applying did.
    pub outcome: Outcome,
    /// The contact row to write, when it is new or changed.
    pub contact: Option<StoredContact>,
    /// Follow rows to write (new, changed, re-activated or ended).
    pub follows: Vec<StoredFollow>,
    /// Of `follows`, the userids whose tag set must be replaced by theirs.
    pub retag: Vec<String>,
    /// Relations that started (new, or current again after having ended).
    pub follows_added: i64,
    /// Relations ended because they were missing from a complete set.
    pub follows_removed: i64,
}

/// Merges inputs naming the same contact (WeCom's `batch/get_by_user` lists a contact once per staff member):
/// the last one's fields win, follow relations are united (the last read of a userid wins), and the set is
/// complete when any of them was. Order of first appearance is kept.
pub fn merge_duplicates(inputs: Vec<ContactInput>) -> Vec<ContactInput> {
    let mut merged: Vec<ContactInput> = Vec::with_capacity(inputs.len());
    let mut index: HashMap<String, usize> = HashMap::new();
    for mut input in inputs {
        dedup_follows(&mut input.follow_users);
        match index.get(&input.contact.external_userid) {
            None => {
                index.insert(input.contact.external_userid.clone(), merged.len());
                merged.push(input);
            }
            Some(&at) => {
                let target = &mut merged[at];
                target.contact = input.contact;
                target.follow_user_complete |= input.follow_user_complete;
                target.follow_users.extend(input.follow_users);
                dedup_follows(&mut target.follow_users);
            }
        }
    }
    merged
}

/// Keeps the last of each userid, in the order of their last appearance.
fn dedup_follows(follows: &mut Vec<FollowFields>) {
    let mut seen = BTreeSet::new();
    let mut kept: Vec<FollowFields> =
        follows.drain(..).rev().filter(|follow| seen.insert(follow.userid.clone())).collect();
    kept.reverse();
    *follows = kept;
}

/// Sorts tags and keeps each once: corp and rule-group tags by id, personal tags by name.
pub fn canonical_tags(mut tags: Vec<Tag>) -> Vec<Tag> {
    tags.sort();
    let mut seen = BTreeSet::new();
    tags.retain(|tag| {
        let key = if tag.tag_id.is_empty() {
            (tag.tag_type, false, tag.tag_name.clone())
        } else {
            (tag.tag_type, true, tag.tag_id.clone())
        };
        seen.insert(key)
    });
    tags
}

/// Fills the names of tags given by id only (WeCom's `batch/get_by_user`) from the stored tags with that id, so
/// that such input does not erase names learnt before.
fn fill_tag_names(tags: &[Tag], stored: &[Tag]) -> Vec<Tag> {
    let filled = tags
        .iter()
        .map(|tag| {
            let known = (tag.tag_name.is_empty() && !tag.tag_id.is_empty())
                .then(|| stored.iter().find(|known| known.tag_id == tag.tag_id && known.tag_type == tag.tag_type))
                .flatten();
            known.unwrap_or(tag).clone()
        })
        .collect();
    canonical_tags(filled)
}

/// The store a contact counts under: the smallest store of its current follow users, or `None`.
fn derived_store_id<'a>(follows: impl Iterator<Item = &'a StoredFollow>) -> Option<String> {
    follows
        .filter(|follow| follow.is_active())
        .flat_map(|follow| follow.fields.store_ids.iter())
        .min()
        .map(i64::to_string)
}

/// Plans applying `input`, observed at `observed_at`, over `stored` (the contact as stored, if known) at time `now`.
///
/// The contact's fields apply unless the input is older than the contact's stored observation; each relation
/// likewise against its own. Identical input plans no write.
pub fn plan_contact(input: &ContactInput, stored: Option<&StoredCustomer>, observed_at: i64, now: i64) -> ContactPlan {
    let by_userid: HashMap<&str, &StoredFollow> = stored
        .map(|customer| customer.follows.iter().map(|follow| (follow.fields.userid.as_str(), follow)).collect())
        .unwrap_or_default();
    let mut follows = Vec::new();
    let mut retag = Vec::new();
    let mut follows_added = 0;
    let mut follows_removed = 0;
    for fields in &input.follow_users {
        match by_userid.get(fields.userid.as_str()) {
            None => {
                follows_added += 1;
                if !fields.tags.is_empty() {
                    retag.push(fields.userid.clone());
                }
                follows.push(StoredFollow {
                    external_userid: input.contact.external_userid.clone(),
                    fields: fields.clone(),
                    status: FollowStatus::Active as i32,
                    removed_at: None,
                    observed_at,
                    created_at: now,
                    updated_at: now,
                });
            }
            Some(old) if observed_at < old.observed_at => {}
            Some(old) => {
                let fields = FollowFields { tags: fill_tag_names(&fields.tags, &old.fields.tags), ..fields.clone() };
                let reactivated = !old.is_active();
                if !reactivated && fields == old.fields {
                    continue;
                }
                if reactivated {
                    follows_added += 1;
                }
                if fields.tags != old.fields.tags {
                    retag.push(fields.userid.clone());
                }
                follows.push(StoredFollow {
                    fields,
                    status: FollowStatus::Active as i32,
                    removed_at: None,
                    observed_at: observed_at.max(old.observed_at),
                    updated_at: now,
                    ..(*old).clone()
                });
            }
        }
    }
    if input.follow_user_complete {
        let given: BTreeSet<&str> = input.follow_users.iter().map(|follow| follow.userid.as_str()).collect();
        for old in by_userid.values() {
            if old.is_active() && !given.contains(old.fields.userid.as_str()) && old.observed_at <= observed_at {
                follows_removed += 1;
                follows.push(StoredFollow {
                    status: FollowStatus::Gone as i32,
                    removed_at: Some(observed_at),
                    observed_at,
                    updated_at: now,
                    ..(*old).clone()
                });
            }
        }
        follows.sort_by(|a, b| a.fields.userid.cmp(&b.fields.userid));
    }

    // The contact's store follows its current relations after this plan.
    let written: HashMap<&str, &StoredFollow> =
        follows.iter().map(|follow| (follow.fields.userid.as_str(), follow)).collect();
    let after = by_userid
        .iter()
        .filter(|(userid, _)| !written.contains_key(*userid))
        .map(|(_, follow)| *follow)
        .chain(follows.iter());
    let store_id = derived_store_id(after);

    let Some(stored) = stored else {
        return ContactPlan {
            outcome: Outcome::Created,
            contact: Some(StoredContact {
                fields: input.contact.clone(),
                store_id,
                observed_at,
                created_at: now,
                updated_at: now,
            }),
            follows,
            retag,
            follows_added,
            follows_removed,
        };
    };
    let old = &stored.contact;
    let fresh = observed_at >= old.observed_at;
    let fields = if fresh { input.contact.clone() } else { old.fields.clone() };
    let store_id = store_id.or_else(|| old.store_id.clone());
    let changed = fields != old.fields || store_id != old.store_id || !follows.is_empty();
    if !changed {
        return ContactPlan {
            outcome: Outcome::Unchanged,
            contact: None,
            follows,
            retag,
            follows_added,
            follows_removed,
        };
    }
    ContactPlan {
        outcome: Outcome::Updated,
        contact: Some(StoredContact {
            fields,
            store_id,
            observed_at: observed_at.max(old.observed_at),
            created_at: old.created_at,
            updated_at: now,
        }),
        follows,
        retag,
        follows_added,
        follows_removed,
    }
}

/// The FollowStatus a removal reason ends a relation with.
pub fn removal_status(reason: FollowRemovalReason) -> FollowStatus {
    match reason {
        FollowRemovalReason::CustomerDeletedStaff => FollowStatus::CustomerDeletedStaff,
        FollowRemovalReason::StaffDeletedCustomer => FollowStatus::StaffDeletedCustomer,
        FollowRemovalReason::Transferred => FollowStatus::Transferred,
        FollowRemovalReason::Gone | FollowRemovalReason::Unspecified => FollowStatus::Gone,
    }
}

/// Whether a removal that happened at `occurred_at` is older than what `follow` shows, i.e. the relation was
/// seen current after it (re-added since).
pub fn removal_is_stale(follow: &StoredFollow, occurred_at: i64) -> bool {
    follow.observed_at > occurred_at.saturating_add(EVENT_TIME_SLACK_MS)
}

/// The overall state of a customer from their relations: active when one is current; otherwise churned when
/// the last one to end ended by the customer deleting the staff member, else removed. Unspecified without any.
pub fn customer_status(follows: &[StoredFollow]) -> CustomerStatus {
    if follows.is_empty() {
        return CustomerStatus::Unspecified;
    }
    if follows.iter().any(StoredFollow::is_active) {
        return CustomerStatus::Active;
    }
    let last = follows.iter().max_by_key(|follow| (follow.removed_at.unwrap_or(0), follow.updated_at));
    match last {
        Some(follow) if follow.status == FollowStatus::CustomerDeletedStaff as i32 => CustomerStatus::Churned,
        _ => CustomerStatus::Removed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(tag_type: i32, id: &str, name: &str) -> Tag {
        Tag { tag_type, tag_id: id.into(), tag_name: name.into(), group_id: String::new(), group_name: String::new() }
    }

    fn follow(userid: &str, remark: &str) -> FollowFields {
        FollowFields {
            userid: userid.into(),
            remark: remark.into(),
            added_at: 1_000,
            add_way: 1,
            store_ids: vec![7],
            ..FollowFields::default()
        }
    }

    fn input(follows: Vec<FollowFields>, complete: bool) -> ContactInput {
        ContactInput {
            contact: ContactFields { external_userid: "wm1".into(), name: "张三".into(), ..ContactFields::default() },
            follow_users: follows,
            follow_user_complete: complete,
        }
    }

    /// The stored state after applying `plan` to `stored`.
    fn apply(stored: Option<StoredCustomer>, plan: &ContactPlan) -> StoredCustomer {
        let mut customer = stored.unwrap_or_else(|| StoredCustomer {
            contact: plan.contact.clone().expect("a new contact is written"),
            follows: Vec::new(),
        });
        if let Some(contact) = &plan.contact {
            customer.contact = contact.clone();
        }
        for follow in &plan.follows {
            customer.follows.retain(|old| old.fields.userid != follow.fields.userid);
            customer.follows.push(follow.clone());
        }
        customer
    }

    #[test]
    fn duplicate_contacts_in_a_batch_are_merged() {
        let mut second = input(vec![follow("u2", ""), follow("u1", "new")], false);
        second.contact.name = "李四".into();
        let merged = merge_duplicates(vec![input(vec![follow("u1", "old")], true), second]);
        assert_eq!(merged.len(), 1);
        assert_eq!(merged[0].contact.name, "李四");
        assert!(merged[0].follow_user_complete);
        let follows: Vec<_> = merged[0].follow_users.iter().map(|f| (f.userid.as_str(), f.remark.as_str())).collect();
        assert_eq!(follows, [("u2", ""), ("u1", "new")]);
    }

    #[test]
    fn tags_are_sorted_and_kept_once() {
        let tags = canonical_tags(vec![tag(1, "t2", "b"), tag(2, "", "自定义"), tag(1, "t1", "a"), tag(1, "t2", "b2")]);
        assert_eq!(tags, vec![tag(1, "t1", "a"), tag(1, "t2", "b"), tag(2, "", "自定义")]);
    }

    #[test]
    fn the_same_input_twice_plans_nothing_the_second_time() {
        let input = input(vec![follow("u1", "老客户"), follow("u2", "")], true);
        let first = plan_contact(&input, None, 100, 100);
        assert_eq!((first.outcome, first.follows_added, first.retag.len()), (Outcome::Created, 2, 0));
        assert_eq!(first.contact.as_ref().unwrap().store_id.as_deref(), Some("7"));
        let stored = apply(None, &first);
        let second = plan_contact(&input, Some(&stored), 200, 200);
        assert_eq!(second.outcome, Outcome::Unchanged);
        assert!(second.contact.is_none() && second.follows.is_empty());
    }

    #[test]
    fn a_changed_remark_updates_that_relation_only() {
        let stored =
            apply(None, &plan_contact(&input(vec![follow("u1", "a"), follow("u2", "")], false), None, 100, 100));
        let plan = plan_contact(&input(vec![follow("u1", "b")], false), Some(&stored), 200, 300);
        assert_eq!(plan.outcome, Outcome::Updated);
        assert_eq!(plan.follows.len(), 1);
        assert_eq!((plan.follows[0].fields.remark.as_str(), plan.follows[0].updated_at), ("b", 300));
        assert_eq!(plan.follows[0].created_at, 100);
        assert!(plan.retag.is_empty());
        assert_eq!(plan.contact.unwrap().updated_at, 300);
    }

    #[test]
    fn older_input_is_ignored() {
        let stored = apply(None, &plan_contact(&input(vec![follow("u1", "a")], false), None, 500, 500));
        let mut older = input(vec![follow("u1", "stale")], true);
        older.contact.name = "旧名".into();
        let plan = plan_contact(&older, Some(&stored), 400, 600);
        assert_eq!(plan.outcome, Outcome::Unchanged);
        assert!(plan.follows.is_empty());
    }

    #[test]
    fn a_complete_set_ends_missing_relations_as_gone() {
        let stored = apply(None, &plan_contact(&input(vec![follow("u1", ""), follow("u2", "")], true), None, 100, 100));
        let plan = plan_contact(&input(vec![follow("u2", "")], true), Some(&stored), 200, 200);
        assert_eq!((plan.outcome, plan.follows_removed, plan.follows_added), (Outcome::Updated, 1, 0));
        assert_eq!(plan.follows[0].status, FollowStatus::Gone as i32);
        assert_eq!(plan.follows[0].removed_at, Some(200));
        // A partial set leaves the others alone.
        let partial = plan_contact(&input(vec![follow("u2", "")], false), Some(&stored), 200, 200);
        assert_eq!(partial.outcome, Outcome::Unchanged);
    }

    #[test]
    fn an_ended_relation_seen_again_starts_again() {
        let mut stored = apply(None, &plan_contact(&input(vec![follow("u1", "")], false), None, 100, 100));
        stored.follows[0].status = FollowStatus::CustomerDeletedStaff as i32;
        stored.follows[0].removed_at = Some(150);
        stored.follows[0].observed_at = 150 + EVENT_TIME_SLACK_MS;
        assert_eq!(customer_status(&stored.follows), CustomerStatus::Churned);
        // Read before the removal: ignored.
        let stale = plan_contact(&input(vec![follow("u1", "")], false), Some(&stored), 1_000, 1_000);
        assert_eq!(stale.outcome, Outcome::Unchanged);
        let plan = plan_contact(&input(vec![follow("u1", "")], false), Some(&stored), 5_000, 5_000);
        assert_eq!((plan.outcome, plan.follows_added), (Outcome::Updated, 1));
        assert_eq!((plan.follows[0].status, plan.follows[0].removed_at), (FollowStatus::Active as i32, None));
    }

    #[test]
    fn tags_given_by_id_keep_their_known_names() {
        let mut named = follow("u1", "");
        named.tags = vec![tag(1, "t1", "高意向")];
        let stored = apply(None, &plan_contact(&input(vec![named], false), None, 100, 100));
        let mut by_id = follow("u1", "");
        by_id.tags = vec![tag(1, "t1", "")];
        assert_eq!(plan_contact(&input(vec![by_id], false), Some(&stored), 200, 200).outcome, Outcome::Unchanged);
        let mut other = follow("u1", "");
        other.tags = vec![tag(1, "t2", "")];
        let plan = plan_contact(&input(vec![other], false), Some(&stored), 200, 200);
        assert_eq!(plan.retag, vec!["u1".to_owned()]);
    }

    #[test]
    fn stale_removals_are_recognised_with_second_slack() {
        let stored = apply(None, &plan_contact(&input(vec![follow("u1", "")], false), None, 10_500, 10_500));
        assert!(!removal_is_stale(&stored.follows[0], 10_000));
        assert!(removal_is_stale(&stored.follows[0], 9_000));
    }

    #[test]
    fn customer_status_follows_the_last_relation_to_end() {
        let stored = apply(None, &plan_contact(&input(vec![follow("u1", ""), follow("u2", "")], false), None, 1, 1));
        assert_eq!(customer_status(&stored.follows), CustomerStatus::Active);
        let mut follows = stored.follows;
        follows[0].status = FollowStatus::CustomerDeletedStaff as i32;
        follows[0].removed_at = Some(10);
        follows[1].status = FollowStatus::StaffDeletedCustomer as i32;
        follows[1].removed_at = Some(20);
        assert_eq!(customer_status(&follows), CustomerStatus::Removed);
        follows[0].removed_at = Some(30);
        assert_eq!(customer_status(&follows), CustomerStatus::Churned);
        assert_eq!(customer_status(&[]), CustomerStatus::Unspecified);
    }
}
