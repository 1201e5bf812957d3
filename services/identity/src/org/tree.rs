//! The org as a tree: departments under their parents, the departments flagged as stores, and what follows
//! from them (path names, sub-trees, a member's stores, what a store manager may see).

use std::collections::{BTreeSet, HashMap, HashSet};

use scrm_kernel::StoreScope;

/// One department of the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// WeCom department id.
    pub id: i64,
    /// WeCom `parentid`; 0 for the root.
    pub parent_id: i64,
    /// WeCom `order` among siblings; larger comes first.
    pub order: i64,
    /// Department name.
    pub name: String,
}

/// The departments and the stores among them.
#[derive(Debug, Clone, Default)]
pub struct OrgTree {
    nodes: HashMap<i64, Node>,
    children: HashMap<i64, Vec<i64>>,
    stores: HashSet<i64>,
}

impl OrgTree {
    /// The tree of `nodes`, with the departments `stores` flagged as stores.
    pub fn new(nodes: Vec<Node>, stores: impl IntoIterator<Item = i64>) -> Self {
        let mut children: HashMap<i64, Vec<i64>> = HashMap::new();
        for node in &nodes {
            children.entry(node.parent_id).or_default().push(node.id);
        }
        let nodes: HashMap<i64, Node> = nodes.into_iter().map(|node| (node.id, node)).collect();
        let stores = stores.into_iter().filter(|id| nodes.contains_key(id)).collect();
        OrgTree { nodes, children, stores }
    }

    /// Department `id`, when known.
    pub fn node(&self, id: i64) -> Option<&Node> {
        self.nodes.get(&id)
    }

    /// Whether department `id` is flagged as a store.
    pub fn is_store(&self, id: i64) -> bool {
        self.stores.contains(&id)
    }

    /// The departments from the root down to `id` (included); empty when `id` is unknown. A cycle in
    /// WeCom's data ends the walk instead of looping.
    pub fn path(&self, id: i64) -> Vec<i64> {
        let mut path = Vec::new();
        let mut seen = HashSet::new();
        let mut current = id;
        while let Some(node) = self.nodes.get(&current) {
            if !seen.insert(current) {
                break;
            }
            path.push(current);
            current = node.parent_id;
        }
        path.reverse();
        path
    }

    /// Names from the root down to `id`.
    pub fn path_names(&self, id: i64) -> Vec<String> {
        self.path(id).into_iter().filter_map(|id| self.nodes.get(&id)).map(|node| node.name.clone()).collect()
    }

    /// `id` and every department below it.
    pub fn subtree(&self, id: i64) -> HashSet<i64> {
        let mut found = HashSet::new();
        let mut pending = vec![id];
        while let Some(current) = pending.pop() {
            if self.nodes.contains_key(&current) && found.insert(current) {
                pending.extend(self.children.get(&current).into_iter().flatten().copied());
            }
        }
        found
    }

    /// The stores a member of `departments` belongs to: stores among those departments and their ancestors.
    pub fn stores_of(&self, departments: &[i64]) -> Vec<i64> {
        let stores: BTreeSet<i64> = departments
            .iter()
            .flat_map(|department| self.path(*department))
            .filter(|department| self.is_store(*department))
            .collect();
        stores.into_iter().collect()
    }

    /// The departments a caller with `scope` may see: `None` for all, else the sub-trees of their stores.
    pub fn visible(&self, scope: &StoreScope) -> Option<HashSet<i64>> {
        match scope {
            StoreScope::All => None,
            StoreScope::Only(stores) => Some(
                stores.iter().filter_map(|store| store.parse().ok()).flat_map(|store| self.subtree(store)).collect(),
            ),
        }
    }

    /// Every department, ordered by parent, then WeCom's `order` (larger first), then id.
    pub fn ordered(&self) -> Vec<&Node> {
        let mut nodes: Vec<&Node> = self.nodes.values().collect();
        nodes.sort_by_key(|node| (node.parent_id, std::cmp::Reverse(node.order), node.id));
        nodes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: i64, parent_id: i64, name: &str) -> Node {
        Node { id, parent_id, order: 100 - id, name: name.into() }
    }

    /// 总部(1) → 华东区(2) → 徐汇店(3, store), 静安店(4, store); 总部 → 华南区(5).
    fn tree() -> OrgTree {
        let nodes = vec![
            node(1, 0, "总部"),
            node(2, 1, "华东区"),
            node(3, 2, "徐汇店"),
            node(4, 2, "静安店"),
            node(5, 1, "华南区"),
        ];
        OrgTree::new(nodes, [3, 4, 99])
    }

    #[test]
    fn paths_run_from_the_root() {
        assert_eq!(tree().path_names(3), ["总部", "华东区", "徐汇店"]);
        assert!(tree().path(42).is_empty());
    }

    #[test]
    fn a_cycle_ends_the_walk() {
        let tree = OrgTree::new(vec![node(1, 2, "a"), node(2, 1, "b")], []);
        assert_eq!(tree.path(1), [2, 1]);
    }

    #[test]
    fn members_belong_to_the_stores_above_their_departments() {
        assert_eq!(tree().stores_of(&[3, 5]), [3]);
        assert_eq!(tree().stores_of(&[2]), Vec::<i64>::new());
        assert!(!tree().is_store(99), "a store flag on an unknown department is ignored");
    }

    #[test]
    fn store_managers_see_their_stores_subtrees() {
        let tree = tree();
        assert_eq!(tree.visible(&StoreScope::All), None);
        let visible = tree.visible(&StoreScope::Only(vec!["4".into(), "x".into()])).unwrap();
        assert_eq!(visible, HashSet::from([4]));
        assert_eq!(tree.subtree(2), HashSet::from([2, 3, 4]));
    }

    #[test]
    fn siblings_are_ordered_by_wecom_order() {
        let ids: Vec<i64> = tree().ordered().iter().map(|node| node.id).collect();
        assert_eq!(ids, [1, 2, 5, 3, 4]);
    }
}
