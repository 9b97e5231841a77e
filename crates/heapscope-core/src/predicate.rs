//! Kind predicates: which members of a set are in a kind, evaluated on the graph in one
//! pass over the set. Heapy's kinds and their `.alt(op)` comparisons:
//!
//! * types compare by subclassing over the MRO (`<`: strict subtype, `>=`: supertype),
//!   as Heapy does: no `__subclasscheck__` (ABC registrations) and no user code;
//! * Clodo's classes are types less dicts, which are classed by their owner's type;
//! * sizes compare as numbers;
//! * set-valued kinds (the labels of the references holding an object, the classes of
//!   its referrers) compare as sets (`<=`: a subset of the given ones).
//!
//! Types are matched by address: a graph's type table records each type's MRO, and the
//! type a kind names comes with its own MRO (it need not be a type of the graph).

use crate::classify::referrer_kinds_into;
use crate::{Classifier, HeapGraph, KindKey, LabelId, NodeSet, TypeId, TypeRecord};

/// A comparison of a kind's `.alt(op)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    /// The comparison written `op` (`==`, `!=`, `<`, `<=`, `>`, `>=`).
    pub fn from_op(op: &str) -> Option<Cmp> {
        Some(match op {
            "==" => Cmp::Eq,
            "!=" => Cmp::Ne,
            "<" => Cmp::Lt,
            "<=" => Cmp::Le,
            ">" => Cmp::Gt,
            ">=" => Cmp::Ge,
            _ => return None,
        })
    }

    /// `a <op> b` for numbers.
    pub fn numbers(self, a: u64, b: u64) -> bool {
        match self {
            Cmp::Eq => a == b,
            Cmp::Ne => a != b,
            Cmp::Lt => a < b,
            Cmp::Le => a <= b,
            Cmp::Gt => a > b,
            Cmp::Ge => a >= b,
        }
    }
}

/// The type a kind names: its address and its MRO's addresses (itself first).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypeArg {
    pub address: u64,
    pub mro: Vec<u64>,
}

impl TypeArg {
    /// `t <op> self` by subclassing: `<=` when self is in t's MRO, `>=` when t is in
    /// self's.
    pub fn compare(&self, t: &TypeRecord, cmp: Cmp) -> bool {
        let same = t.address == self.address;
        let sub = same || t.mro.contains(&self.address);
        let sup = same || self.mro.contains(&t.address);
        match cmp {
            Cmp::Eq => same,
            Cmp::Ne => !same,
            Cmp::Le => sub,
            Cmp::Lt => sub && !same,
            Cmp::Ge => sup,
            Cmp::Gt => sup && !same,
        }
    }

    /// Whether each type of `g`'s table compares `cmp` to this type.
    fn table(&self, g: &HeapGraph, cmp: Cmp) -> Vec<bool> {
        g.types().iter().map(|t| self.compare(t, cmp)).collect()
    }
}

/// A kind with an `.alt(op)` comparison, over one graph's nodes.
#[derive(Clone, Debug)]
pub enum KindPredicate {
    /// `type(o) <op> target` (Heapy's `Type(t).alt(op)`).
    Type { cmp: Cmp, target: TypeArg },
    /// Clodo's class: objects other than dicts whose type compares to `target`.
    Class { cmp: Cmp, target: TypeArg },
    /// Dicts by their owner's type (`None`: dicts no object owns). With `==`/`!=`, or
    /// when either side has no owner, owners compare by identity; otherwise by
    /// subclassing.
    DictOf { cmp: Cmp, owner: Option<TypeArg> },
    /// Individual size `<op> size`.
    Size { cmp: Cmp, size: u64 },
}

impl KindPredicate {
    /// The members of `set` in the kind.
    pub fn select(&self, g: &HeapGraph, set: &NodeSet) -> NodeSet {
        match self {
            KindPredicate::Type { cmp, target } => {
                let ok = target.table(g, *cmp);
                filter(set, |n| ok[g.type_of(n).index()])
            }
            KindPredicate::Class { cmp, target } => {
                let ok = target.table(g, *cmp);
                filter(set, |n| {
                    let t = g.type_of(n);
                    !g.type_record(t).is_dict && ok[t.index()]
                })
            }
            KindPredicate::DictOf { cmp, owner } => {
                let by_type = match owner {
                    Some(o) if !matches!(cmp, Cmp::Eq | Cmp::Ne) => Some(o.table(g, *cmp)),
                    _ => None,
                };
                let want = owner.as_ref().map(|o| o.address);
                let owner_matches = |t: Option<TypeId>| match (&by_type, t) {
                    (Some(ok), Some(t)) => ok[t.index()],
                    _ => {
                        let same = t.map(|t| g.type_record(t).address) == want;
                        same == (*cmp != Cmp::Ne)
                    }
                };
                filter(set, |n| {
                    g.type_record(g.type_of(n)).is_dict && owner_matches(g.dict_owner(n))
                })
            }
            KindPredicate::Size { cmp, size } => filter(set, |n| cmp.numbers(g.size_of(n), *size)),
        }
    }
}

fn filter(set: &NodeSet, keep: impl Fn(crate::NodeId) -> bool) -> NodeSet {
    NodeSet::from_ids(set.universe(), set.iter().filter(|&n| keep(n)))
}

/// A set of keys a set-valued kind names, as the graph knows them: the keys found
/// (sorted, distinct) and how many named keys the graph has not got (a label no edge
/// has, a type no object has): no member's set can hold those.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetArg<K> {
    pub known: Vec<K>,
    pub unknown: usize,
}

impl<K: Ord + Copy> SetArg<K> {
    /// A set argument from keys (any order, repeats allowed) and a count of unknown ones.
    pub fn new(mut known: Vec<K>, unknown: usize) -> Self {
        known.sort_unstable();
        known.dedup();
        SetArg { known, unknown }
    }

    /// `have <op> self` as sets; `have` is sorted and distinct.
    pub fn compare(&self, have: &[K], cmp: Cmp) -> bool {
        let equal = self.unknown == 0 && have == self.known.as_slice();
        match cmp {
            Cmp::Eq => equal,
            Cmp::Ne => !equal,
            Cmp::Le => is_sorted_subset(have, &self.known),
            Cmp::Lt => !equal && is_sorted_subset(have, &self.known),
            Cmp::Ge => self.unknown == 0 && is_sorted_subset(&self.known, have),
            Cmp::Gt => !equal && self.unknown == 0 && is_sorted_subset(&self.known, have),
        }
    }
}

/// Whether every element of sorted `a` is in sorted `b`.
fn is_sorted_subset<K: Ord>(a: &[K], b: &[K]) -> bool {
    let mut rest = b;
    for x in a {
        match rest.binary_search(x) {
            Ok(i) => rest = &rest[i + 1..],
            Err(_) => return false,
        }
    }
    true
}

/// The members of `set` whose in-edge labels compare `cmp` to `want` (Heapy's
/// `Via(...).alt(op)`; members no edge refers to have no labels). Labels must have been
/// computed.
pub fn select_via_cmp(g: &HeapGraph, set: &NodeSet, want: &SetArg<LabelId>, cmp: Cmp) -> NodeSet {
    let mut keep: Vec<crate::NodeId> = Vec::new();
    let mut referred = NodeSet::empty(set.universe());
    crate::via::for_each_labelled(g, set, |n, labels| {
        referred.insert(n);
        if want.compare(labels, cmp) {
            keep.push(n);
        }
    });
    if want.compare(&[], cmp) {
        keep.extend(set.iter().filter(|&n| !referred.contains(n)));
    }
    NodeSet::from_ids(set.universe(), keep)
}

/// The members of `set` whose referrers' classes under `base` compare `cmp` to `want`
/// (Heapy's `Rcs(...).alt(op)`). Needs edges.
pub fn select_referred_by(
    g: &HeapGraph,
    set: &NodeSet,
    base: Classifier,
    want: &SetArg<KindKey>,
    cmp: Cmp,
) -> NodeSet {
    let mut buf: Vec<KindKey> = Vec::new();
    let mut keep: Vec<crate::NodeId> = Vec::new();
    for n in set.iter() {
        referrer_kinds_into(g, n, base, &mut buf);
        if want.compare(&buf, cmp) {
            keep.push(n);
        }
    }
    NodeSet::from_ids(set.universe(), keep)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::tests::sample_graph;

    fn ids(s: &NodeSet) -> Vec<u32> {
        s.iter().map(|n| n.0).collect()
    }

    #[test]
    fn set_comparisons() {
        let want = SetArg::new(vec![3, 1], 0);
        assert!(want.compare(&[1, 3], Cmp::Eq));
        assert!(want.compare(&[1], Cmp::Lt) && want.compare(&[1], Cmp::Le));
        assert!(!want.compare(&[1, 3], Cmp::Lt) && want.compare(&[1, 3], Cmp::Le));
        assert!(want.compare(&[1, 2, 3], Cmp::Gt) && !want.compare(&[1, 2], Cmp::Ge));
        assert!(want.compare(&[], Cmp::Lt) && want.compare(&[2], Cmp::Ne));
        // a named key the graph lacks: never equal, never a subset of a member's set
        let lacking = SetArg::new(vec![1], 1);
        assert!(!lacking.compare(&[1], Cmp::Eq) && lacking.compare(&[1], Cmp::Ne));
        assert!(lacking.compare(&[1], Cmp::Lt) && lacking.compare(&[1], Cmp::Le));
        assert!(!lacking.compare(&[1, 2], Cmp::Ge) && !lacking.compare(&[1, 2], Cmp::Gt));
    }

    #[test]
    fn types_compare_over_the_mro() {
        // sample_graph's types: A (0x9000), dict (0x9100), module (0x9200), each with
        // the MRO (T, object at 0x1)
        let g = sample_graph();
        let object = TypeArg {
            address: 0x1,
            mro: vec![0x1],
        };
        let a = TypeArg {
            address: 0x9000,
            mro: vec![0x9000, 0x1],
        };
        let all = g.full_set();
        let sel = |p: KindPredicate| ids(&p.select(&g, &all));
        let ty = |cmp, target: &TypeArg| KindPredicate::Type {
            cmp,
            target: target.clone(),
        };
        assert_eq!(sel(ty(Cmp::Lt, &object)), vec![0, 1, 2, 3]);
        assert_eq!(sel(ty(Cmp::Eq, &object)), Vec::<u32>::new());
        assert_eq!(sel(ty(Cmp::Le, &a)), vec![0]);
        assert_eq!(sel(ty(Cmp::Lt, &a)), Vec::<u32>::new());
        assert_eq!(sel(ty(Cmp::Ge, &a)), vec![0]);
        assert_eq!(sel(ty(Cmp::Ne, &a)), vec![1, 2, 3]);
        // Clodo's classes leave dicts out; dicts go by owner
        let class = KindPredicate::Class {
            cmp: Cmp::Lt,
            target: object.clone(),
        };
        assert_eq!(sel(class), vec![0, 2]);
        let of = |cmp, owner: Option<&TypeArg>| KindPredicate::DictOf {
            cmp,
            owner: owner.cloned(),
        };
        assert_eq!(sel(of(Cmp::Eq, Some(&a))), vec![1]);
        assert_eq!(sel(of(Cmp::Eq, None)), vec![3]);
        assert_eq!(sel(of(Cmp::Ne, Some(&a))), vec![3]);
        assert_eq!(sel(of(Cmp::Lt, Some(&object))), vec![1]);
        assert_eq!(sel(of(Cmp::Lt, None)), vec![3]); // identity when no owner is named
        let size = |cmp, size| KindPredicate::Size { cmp, size };
        assert_eq!(sel(size(Cmp::Lt, 72)), vec![0, 3]);
        assert_eq!(sel(size(Cmp::Ge, 72)), vec![1, 2]);
        assert_eq!(sel(size(Cmp::Eq, 64)), vec![3]);
    }

    #[test]
    fn referrer_classes_compare_as_sets() {
        // node 3 is referred to by A's dict (DictOf(A)) and the module; node 1 by A
        let g = sample_graph();
        let all = g.full_set();
        let (a, dict_of_a, module) = (
            KindKey::Type(TypeId(0)),
            KindKey::DictOf(TypeId(0)),
            KindKey::Type(TypeId(2)),
        );
        let sel = |want: SetArg<KindKey>, cmp| {
            ids(&select_referred_by(&g, &all, Classifier::Clodo, &want, cmp))
        };
        assert_eq!(
            sel(SetArg::new(vec![module, dict_of_a], 0), Cmp::Eq),
            vec![3]
        );
        assert_eq!(sel(SetArg::new(vec![module], 0), Cmp::Ge), vec![3]);
        assert_eq!(sel(SetArg::new(vec![a], 0), Cmp::Le), vec![0, 1, 2]);
        assert_eq!(sel(SetArg::new(vec![a], 0), Cmp::Lt), vec![0, 2]);
        assert_eq!(sel(SetArg::new(vec![], 0), Cmp::Eq), vec![0, 2]);
        assert_eq!(sel(SetArg::new(vec![a], 1), Cmp::Ne), vec![0, 1, 2, 3]);
    }
}
