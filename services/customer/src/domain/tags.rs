//! The corp tag library (企业客户标签): what a change from WeCom or scrm does to the stored library.

use std::collections::{BTreeMap, BTreeSet};

/// Longest tag or group name WeCom accepts.
pub const MAX_TAG_NAME_CHARS: usize = 30;

/// A stored tag group with its tags.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredTagGroup {
    /// WeCom group id.
    pub group_id: String,
    /// Group name.
    pub group_name: String,
    /// WeCom sort value; larger first.
    pub order: i64,
    /// Creation time, Unix ms; 0 when unknown.
    pub created_at: i64,
    /// Deleted in WeCom.
    pub deleted: bool,
    /// The group's tags, by `order` (larger first).
    pub tags: Vec<StoredTag>,
}

/// A stored corp tag.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredTag {
    /// WeCom tag id.
    pub tag_id: String,
    /// Its group.
    pub group_id: String,
    /// Tag name.
    pub name: String,
    /// WeCom sort value; larger first.
    pub order: i64,
    /// Creation time, Unix ms; 0 when unknown.
    pub created_at: i64,
    /// Deleted in WeCom.
    pub deleted: bool,
}

/// A corp tag as customers carry it: id, name and group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TagOnCustomer {
    /// WeCom tag id.
    pub tag_id: String,
    /// Tag name.
    pub name: String,
    /// WeCom group id.
    pub group_id: String,
    /// Group name.
    pub group_name: String,
}

/// A change to the library: groups (with tags) as they are now, and what was deleted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LibraryChange {
    /// Groups with their tags as they are now; tags not listed are left as they are.
    pub groups: Vec<StoredTagGroup>,
    /// Groups deleted, with all their tags.
    pub deleted_group_ids: Vec<String>,
    /// Tags deleted; a group left without tags is deleted too, as WeCom does.
    pub deleted_tag_ids: Vec<String>,
    /// `groups` is the whole library: anything else is deleted.
    pub full_snapshot: bool,
}

/// What applying a change did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LibraryOutcome {
    /// Groups and tags new to scrm.
    pub created: i64,
    /// Groups and tags changed (deletions not included).
    pub updated: i64,
    /// Groups and tags given and identical.
    pub unchanged: i64,
    /// Groups and tags newly deleted.
    pub deleted: i64,
    /// Groups deleted because their last tag went.
    pub emptied_group_ids: Vec<String>,
    /// Customers that lost at least one tag.
    pub customers_affected: i64,
    /// Customers whose tags changed (lost, renamed or moved).
    pub customers: Vec<String>,
}

/// The writes a change needs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LibraryPlan {
    /// Groups to write (without their tags).
    pub groups: Vec<StoredTagGroup>,
    /// Tags to write.
    pub tags: Vec<StoredTag>,
    /// Current tags whose name or group changed: customers carrying them get the new names.
    pub renamed: Vec<TagOnCustomer>,
    /// Tags newly deleted: customers lose them.
    pub removed: Vec<String>,
    /// The counts (customers are filled in by the store).
    pub outcome: LibraryOutcome,
}

impl LibraryChange {
    /// Plans this change over the `stored` library.
    pub fn plan(&self, stored: &[StoredTagGroup]) -> LibraryPlan {
        let old_groups: BTreeMap<&str, &StoredTagGroup> =
            stored.iter().map(|group| (group.group_id.as_str(), group)).collect();
        let old_tags: BTreeMap<&str, &StoredTag> =
            stored.iter().flat_map(|group| &group.tags).map(|tag| (tag.tag_id.as_str(), tag)).collect();
        let mut groups: BTreeMap<String, StoredTagGroup> = stored
            .iter()
            .map(|group| (group.group_id.clone(), StoredTagGroup { tags: Vec::new(), ..group.clone() }))
            .collect();
        let mut tags: BTreeMap<String, StoredTag> =
            old_tags.values().map(|tag| (tag.tag_id.clone(), (*tag).clone())).collect();
        let mut given_groups = BTreeSet::new();
        let mut given_tags = BTreeSet::new();
        for group in &self.groups {
            given_groups.insert(group.group_id.clone());
            let created_at =
                keep_known(group.created_at, old_groups.get(group.group_id.as_str()).map(|g| g.created_at));
            groups.insert(group.group_id.clone(), StoredTagGroup { tags: Vec::new(), created_at, ..group.clone() });
            for tag in &group.tags {
                given_tags.insert(tag.tag_id.clone());
                let created_at = keep_known(tag.created_at, old_tags.get(tag.tag_id.as_str()).map(|t| t.created_at));
                tags.insert(
                    tag.tag_id.clone(),
                    StoredTag {
                        group_id: group.group_id.clone(),
                        created_at,
                        deleted: tag.deleted || group.deleted,
                        ..tag.clone()
                    },
                );
            }
        }
        if self.full_snapshot {
            groups
                .values_mut()
                .filter(|group| !given_groups.contains(&group.group_id))
                .for_each(|group| group.deleted = true);
            tags.values_mut().filter(|tag| !given_tags.contains(&tag.tag_id)).for_each(|tag| tag.deleted = true);
        }
        let deleted_groups: BTreeSet<&String> = self.deleted_group_ids.iter().collect();
        for group in groups.values_mut().filter(|group| deleted_groups.contains(&group.group_id)) {
            group.deleted = true;
        }
        for tag in tags.values_mut() {
            if deleted_groups.contains(&tag.group_id) || self.deleted_tag_ids.contains(&tag.tag_id) {
                tag.deleted = true;
            }
        }
        let mut outcome = LibraryOutcome::default();
        let touched: BTreeSet<String> =
            self.deleted_tag_ids.iter().filter_map(|id| tags.get(id)).map(|tag| tag.group_id.clone()).collect();
        for group_id in touched {
            let empty = !tags.values().any(|tag| tag.group_id == group_id && !tag.deleted);
            if let Some(group) = groups.get_mut(&group_id).filter(|group| empty && !group.deleted) {
                group.deleted = true;
                outcome.emptied_group_ids.push(group_id);
            }
        }
        let mut plan = LibraryPlan::default();
        for (id, group) in &groups {
            match old_groups.get(id.as_str()) {
                None => outcome.created += 1,
                Some(old) if same_group(old, group) => {
                    outcome.unchanged += i64::from(given_groups.contains(id));
                    continue;
                }
                Some(old) if group.deleted && !old.deleted => outcome.deleted += 1,
                Some(_) => outcome.updated += 1,
            }
            plan.groups.push(group.clone());
        }
        for (id, tag) in &tags {
            let group_name = groups.get(&tag.group_id).map(|group| group.group_name.clone()).unwrap_or_default();
            let old = old_tags.get(id.as_str());
            let old_group_name =
                old.and_then(|old| old_groups.get(old.group_id.as_str())).map(|group| group.group_name.as_str());
            match old {
                Some(old) if tag.deleted && !old.deleted => plan.removed.push(id.clone()),
                Some(old)
                    if !tag.deleted
                        && (old.name != tag.name
                            || old.group_id != tag.group_id
                            || old_group_name != Some(group_name.as_str())) =>
                {
                    plan.renamed.push(TagOnCustomer {
                        tag_id: id.clone(),
                        name: tag.name.clone(),
                        group_id: tag.group_id.clone(),
                        group_name,
                    })
                }
                _ => {}
            }
            match old {
                None => outcome.created += 1,
                Some(old) if *old == tag => {
                    outcome.unchanged += i64::from(given_tags.contains(id));
                    continue;
                }
                Some(old) if tag.deleted && !old.deleted => outcome.deleted += 1,
                Some(_) => outcome.updated += 1,
            }
            plan.tags.push(tag.clone());
        }
        plan.outcome = outcome;
        plan
    }
}

/// A creation time from input, or the stored one when the input does not know it.
fn keep_known(given: i64, stored: Option<i64>) -> i64 {
    if given > 0 { given } else { stored.unwrap_or(0) }
}

fn same_group(old: &StoredTagGroup, new: &StoredTagGroup) -> bool {
    (&old.group_name, old.order, old.created_at, old.deleted)
        == (&new.group_name, new.order, new.created_at, new.deleted)
}

/// Checks a tag or group name: 1 to 30 characters after trimming. Returns the trimmed name.
pub fn check_tag_name(name: &str) -> Result<String, String> {
    let name = name.trim();
    let chars = name.chars().count();
    if chars == 0 || chars > MAX_TAG_NAME_CHARS {
        return Err(format!("a name has 1 to {MAX_TAG_NAME_CHARS} characters"));
    }
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(id: &str, group: &str, name: &str) -> StoredTag {
        StoredTag {
            tag_id: id.into(),
            group_id: group.into(),
            name: name.into(),
            created_at: 1,
            ..StoredTag::default()
        }
    }

    fn group(id: &str, name: &str, tags: Vec<StoredTag>) -> StoredTagGroup {
        StoredTagGroup {
            group_id: id.into(),
            group_name: name.into(),
            created_at: 1,
            tags,
            ..StoredTagGroup::default()
        }
    }

    fn stored() -> Vec<StoredTagGroup> {
        vec![group("g1", "意向", vec![tag("t1", "g1", "高"), tag("t2", "g1", "低")])]
    }

    #[test]
    fn the_same_snapshot_twice_changes_nothing() {
        let change = LibraryChange { groups: stored(), full_snapshot: true, ..LibraryChange::default() };
        let first = change.plan(&[]);
        assert_eq!((first.outcome.created, first.groups.len(), first.tags.len()), (3, 1, 2));
        let again = change.plan(&stored());
        assert_eq!((again.outcome.unchanged, again.groups.len(), again.tags.len()), (3, 0, 0));
        assert!(again.renamed.is_empty() && again.removed.is_empty());
    }

    #[test]
    fn a_snapshot_deletes_what_it_lacks_and_renames_reach_customers() {
        let change = LibraryChange {
            groups: vec![group("g1", "购买意向", vec![tag("t1", "g1", "很高")])],
            full_snapshot: true,
            ..LibraryChange::default()
        };
        let plan = change.plan(&stored());
        assert_eq!(plan.removed, ["t2"]);
        assert_eq!(plan.renamed.len(), 1);
        assert_eq!((plan.renamed[0].name.as_str(), plan.renamed[0].group_name.as_str()), ("很高", "购买意向"));
        assert_eq!((plan.outcome.updated, plan.outcome.deleted), (2, 1));
    }

    #[test]
    fn deleting_the_last_tags_deletes_the_group() {
        let change = LibraryChange { deleted_tag_ids: vec!["t1".into(), "t2".into()], ..LibraryChange::default() };
        let plan = change.plan(&stored());
        assert_eq!(plan.outcome.emptied_group_ids, ["g1"]);
        assert_eq!(plan.outcome.deleted, 3);
        let partial = LibraryChange { deleted_tag_ids: vec!["t1".into()], ..LibraryChange::default() }.plan(&stored());
        assert!(partial.outcome.emptied_group_ids.is_empty());
        assert_eq!(partial.removed, ["t1"]);
    }

    #[test]
    fn a_group_rename_renames_its_tags_on_customers() {
        let change = LibraryChange {
            groups: vec![StoredTagGroup { tags: Vec::new(), ..group("g1", "新名", Vec::new()) }],
            ..LibraryChange::default()
        };
        let plan = change.plan(&stored());
        let renamed: Vec<_> = plan.renamed.iter().map(|tag| (tag.tag_id.as_str(), tag.group_name.as_str())).collect();
        assert_eq!(renamed, [("t1", "新名"), ("t2", "新名")]);
        assert!(plan.tags.is_empty());
    }
}
