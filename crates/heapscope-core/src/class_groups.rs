//! Grouping by classes a caller computed: Heapy's derived relations over any relation.
//!
//! The native classifiers ([`crate::Classifier`]) know a fixed set of classes. Heapy also
//! derives relations from *any* relation R: `R.refdby` classes an object by the set of R
//! classes of its referrers, `R.dictof` classes a dict by the R class of its owner, and
//! `R1 & R2` classes by the pair of classes. Here the caller has already partitioned the
//! objects involved by R (into a [`ClassMap`]: node -> class index) and these functions do
//! the graph side in one pass each: group the members by the classes of their referrers,
//! pair dicts with their owners, group by tuples of classes.

use crate::{FastMap, HeapGraph, NodeId, NodeSet, Partition};

/// The class index of each node (classes given as disjoint sets), or none.
#[derive(Clone, Debug)]
pub struct ClassMap {
    class: Vec<u32>,
}

impl ClassMap {
    const NONE: u32 = u32::MAX;

    /// Class `i` is `classes[i]`; a node in several sets gets the last one.
    pub fn new(universe: usize, classes: &[NodeSet]) -> Self {
        let mut class = vec![Self::NONE; universe];
        for (i, set) in classes.iter().enumerate() {
            for n in set.iter() {
                class[n.index()] = i as u32;
            }
        }
        ClassMap { class }
    }

    /// The row of each member of `set` under `part`, a partition of `set`: read from
    /// the rows' members, which the partition files once (no set per row is made).
    pub fn from_partition(g: &HeapGraph, set: &NodeSet, part: &Partition) -> Self {
        let mut class = vec![Self::NONE; set.universe()];
        let members = part.members(g, set);
        for r in 0..part.rows.len() {
            for n in members.row(r) {
                class[n.index()] = r as u32;
            }
        }
        ClassMap { class }
    }

    /// The class of `n`, if it has one.
    #[inline]
    pub fn class_of(&self, n: NodeId) -> Option<u32> {
        match self.class.get(n.index()) {
            Some(&c) if c != Self::NONE => Some(c),
            _ => None,
        }
    }
}

/// Groups in a stable order (by key), each key with the set of its members.
fn grouped(universe: usize, groups: FastMap<Vec<u32>, Vec<NodeId>>) -> Vec<(Vec<u32>, NodeSet)> {
    let mut out: Vec<(Vec<u32>, NodeSet)> = groups
        .into_iter()
        .map(|(key, ids)| (key, NodeSet::from_ids(universe, ids)))
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Heapy's `R.refdby`: the members of `set` grouped by the sorted, distinct classes of
/// their referrers (referrers without a class are left out; no referrer: the empty key).
/// Needs a graph with edges.
pub fn group_by_referrer_classes(
    g: &HeapGraph,
    set: &NodeSet,
    classes: &ClassMap,
) -> Vec<(Vec<u32>, NodeSet)> {
    let mut groups: FastMap<Vec<u32>, Vec<NodeId>> = FastMap::default();
    let mut key = Vec::new();
    for n in set.iter() {
        key.clear();
        key.extend(g.referrers(n).iter().filter_map(|&r| classes.class_of(r)));
        key.sort_unstable();
        key.dedup();
        match groups.get_mut(&key) {
            Some(ids) => ids.push(n),
            None => {
                groups.insert(key.clone(), vec![n]);
            }
        }
    }
    grouped(set.universe(), groups)
}

/// A product of relations (`R1 & R2 & ...`): the members of `set` grouped by their tuple
/// of classes, one per factor (a member a factor leaves unclassed gets `u32::MAX` there).
pub fn group_by_class_tuples(set: &NodeSet, factors: &[ClassMap]) -> Vec<(Vec<u32>, NodeSet)> {
    let mut groups: FastMap<Vec<u32>, Vec<NodeId>> = FastMap::default();
    let mut key = Vec::with_capacity(factors.len());
    for n in set.iter() {
        key.clear();
        key.extend(
            factors
                .iter()
                .map(|f| f.class_of(n).unwrap_or(ClassMap::NONE)),
        );
        match groups.get_mut(&key) {
            Some(ids) => ids.push(n),
            None => {
                groups.insert(key.clone(), vec![n]);
            }
        }
    }
    grouped(set.universe(), groups)
}

/// The owned dicts of `set` paired with their owners: `(dict, owner)` for each member dict
/// whose owner type is known, the owner being the referrer of that type for which
/// `is_owner(owner, dict)` holds (the caller checks the object's dict pointer). Needs a
/// graph with edges.
pub fn dict_owner_pairs(
    g: &HeapGraph,
    set: &NodeSet,
    mut is_owner: impl FnMut(NodeId, NodeId) -> bool,
) -> Vec<(NodeId, NodeId)> {
    let mut out = Vec::new();
    for d in set.iter() {
        let Some(t) = g.dict_owner(d) else {
            continue;
        };
        if let Some(&owner) = g
            .referrers(d)
            .iter()
            .find(|&&r| g.type_of(r) == t && is_owner(r, d))
        {
            out.push((d, owner));
        }
    }
    out
}

/// Heapy's `R.dictof`: the dicts of `pairs` (from [`dict_owner_pairs`]) grouped by their
/// owner's class; dicts whose owner has no class are left out.
pub fn group_dicts_by_owner_class(
    universe: usize,
    pairs: &[(NodeId, NodeId)],
    owner_classes: &ClassMap,
    nclasses: usize,
) -> Vec<NodeSet> {
    let mut out = vec![NodeSet::empty(universe); nclasses];
    for &(dict, owner) in pairs {
        if let Some(c) = owner_classes.class_of(owner) {
            if let Some(set) = out.get_mut(c as usize) {
                set.insert(dict);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::tests::sample_graph;

    fn ids(set: &NodeSet) -> Vec<u32> {
        set.iter().map(|n| n.0).collect()
    }

    #[test]
    fn class_map_of_disjoint_sets() {
        let u = 4;
        let m = ClassMap::new(
            u,
            &[
                NodeSet::from_ids(u, [NodeId(0), NodeId(2)]),
                NodeSet::from_ids(u, [NodeId(1)]),
            ],
        );
        assert_eq!(m.class_of(NodeId(0)), Some(0));
        assert_eq!(m.class_of(NodeId(1)), Some(1));
        assert_eq!(m.class_of(NodeId(2)), Some(0));
        assert_eq!(m.class_of(NodeId(3)), None);
        assert_eq!(m.class_of(NodeId(9)), None);
    }

    #[test]
    fn class_map_of_a_partition_is_its_rows() {
        use crate::Classifier;
        let g = sample_graph();
        let set = g.full_set();
        for classifiers in [
            vec![Classifier::Clodo],
            vec![Classifier::Type, Classifier::Size],
            vec![Classifier::Id],
        ] {
            let p = Partition::new(&g, &set, &classifiers, |_| "m".into()).unwrap();
            let m = ClassMap::from_partition(&g, &set, &p);
            // each node's class is the row whose key is the node's own classes
            for n in set.iter() {
                let key: Vec<_> = classifiers.iter().map(|c| c.classify(&g, n)).collect();
                let r = m.class_of(n).expect("every member has a row") as usize;
                assert_eq!(p.rows[r].key.keys(), key.as_slice(), "{classifiers:?}");
            }
        }
        let rcs = Partition::by_referrers(&g, &set, Classifier::Clodo, |_| unreachable!());
        let m = ClassMap::from_partition(&g, &set, &rcs);
        let kinds = rcs.referrer_kinds.as_ref().unwrap();
        let mut mine = Vec::new();
        for n in set.iter() {
            crate::classify::referrer_kinds_into(&g, n, Classifier::Clodo, &mut mine);
            let r = m.class_of(n).expect("every member has a row") as usize;
            assert_eq!(kinds[r], mine);
        }
    }

    #[test]
    fn members_grouped_by_their_referrers_classes() {
        // sample: 0 (A) -> 1 (A's dict) -> 3; 2 (module) -> 3
        let g = sample_graph();
        let u = g.node_count();
        // classes: {0, 2} and {1}
        let classes = ClassMap::new(
            u,
            &[
                NodeSet::from_ids(u, [NodeId(0), NodeId(2)]),
                NodeSet::from_ids(u, [NodeId(1)]),
            ],
        );
        let groups = group_by_referrer_classes(&g, &g.full_set(), &classes);
        let got: Vec<(Vec<u32>, Vec<u32>)> =
            groups.iter().map(|(k, s)| (k.clone(), ids(s))).collect();
        assert_eq!(
            got,
            vec![
                (vec![], vec![0, 2]),  // no referrers
                (vec![0], vec![1]),    // held by A
                (vec![0, 1], vec![3]), // held by the module and the dict
            ]
        );
        // referrers outside every class do not count
        let only_dicts = ClassMap::new(u, &[NodeSet::from_ids(u, [NodeId(1)])]);
        let groups = group_by_referrer_classes(&g, &g.full_set(), &only_dicts);
        let got: Vec<(Vec<u32>, Vec<u32>)> =
            groups.iter().map(|(k, s)| (k.clone(), ids(s))).collect();
        assert_eq!(got, vec![(vec![], vec![0, 1, 2]), (vec![0], vec![3])]);
    }

    #[test]
    fn members_grouped_by_tuples_of_classes() {
        let g = sample_graph();
        let u = g.node_count();
        let a = ClassMap::new(
            u,
            &[
                NodeSet::from_ids(u, [NodeId(0), NodeId(1)]),
                NodeSet::from_ids(u, [NodeId(2), NodeId(3)]),
            ],
        );
        let b = ClassMap::new(u, &[NodeSet::from_ids(u, [NodeId(1), NodeId(3)])]);
        let groups = group_by_class_tuples(&g.full_set(), &[a, b]);
        let got: Vec<(Vec<u32>, Vec<u32>)> =
            groups.iter().map(|(k, s)| (k.clone(), ids(s))).collect();
        assert_eq!(
            got,
            vec![
                (vec![0, 0], vec![1]),
                (vec![0, u32::MAX], vec![0]),
                (vec![1, 0], vec![3]),
                (vec![1, u32::MAX], vec![2]),
            ]
        );
    }

    #[test]
    fn owned_dicts_found_through_referrers_of_the_owner_type() {
        let g = sample_graph();
        let u = g.node_count();
        let mut asked = Vec::new();
        let pairs = dict_owner_pairs(&g, &g.full_set(), |o, d| {
            asked.push((o.0, d.0));
            true
        });
        // node 1 is A's dict: only its referrer of type A (node 0) is asked; node 3 is a
        // dict nobody owns
        assert_eq!(asked, vec![(0, 1)]);
        assert_eq!(pairs, vec![(NodeId(1), NodeId(0))]);
        assert!(dict_owner_pairs(&g, &g.full_set(), |_, _| false).is_empty());

        let owners = ClassMap::new(
            u,
            &[
                NodeSet::from_ids(u, [NodeId(2)]),
                NodeSet::from_ids(u, [NodeId(0)]),
            ],
        );
        let by_class = group_dicts_by_owner_class(u, &pairs, &owners, 2);
        assert_eq!(
            by_class.iter().map(ids).collect::<Vec<_>>(),
            vec![vec![], vec![1]]
        );
        let none = ClassMap::new(u, &[]);
        assert!(group_dicts_by_owner_class(u, &pairs, &none, 0).is_empty());
    }
}
