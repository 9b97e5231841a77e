//! Equivalence relations (Heapy's classifiers) and the partitions they make.
//!
//! A classifier maps each node to a [`KindKey`]; a [`Partition`] of a set groups its nodes
//! by key and orders the rows as Heapy does: total size descending, then kind name.
//! Names come from the graph's type table; kinds whose names need the live object
//! (module names) are named by the caller through `name_of`.

use crate::{CoreError, FastMap, HeapGraph, NodeId, NodeSet, TypeId};

/// Heapy's equivalence relations that need no referrer graph.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Classifier {
    /// Class, with dicts classed by their owner (`dict of C`, `dict (no owner)`).
    Clodo,
    Type,
    /// Individual size.
    Size,
    /// Each object its own class.
    Id,
    /// Each module its own class; everything else one class (`~module`).
    Module,
    /// One class for everything.
    Unity,
}

/// The class of one node under a classifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KindKey {
    Type(TypeId),
    DictOf(TypeId),
    DictNoOwner,
    Size(u64),
    Id(NodeId),
    Module(NodeId),
    NotModule,
    Unity,
}

impl Classifier {
    /// Heapy's table header for the kind column.
    pub fn header(self) -> &'static str {
        match self {
            Classifier::Clodo => "Kind (class / dict of class)",
            Classifier::Type => "Type",
            Classifier::Size => "Individual Size",
            Classifier::Id => "Brief",
            Classifier::Module => "Module",
            Classifier::Unity => "<unclassified>",
        }
    }

    pub fn classify(self, g: &HeapGraph, n: NodeId) -> KindKey {
        match self {
            Classifier::Clodo => {
                let t = g.type_of(n);
                if g.type_record(t).is_dict {
                    match g.dict_owner(n) {
                        Some(owner) => KindKey::DictOf(owner),
                        None => KindKey::DictNoOwner,
                    }
                } else {
                    KindKey::Type(t)
                }
            }
            Classifier::Type => KindKey::Type(g.type_of(n)),
            Classifier::Size => KindKey::Size(g.size_of(n)),
            Classifier::Id => KindKey::Id(n),
            Classifier::Module => {
                if g.type_record(g.type_of(n)).is_module {
                    KindKey::Module(n)
                } else {
                    KindKey::NotModule
                }
            }
            Classifier::Unity => KindKey::Unity,
        }
    }

    /// The nodes of `set` whose class is `key`.
    pub fn select(self, g: &HeapGraph, set: &NodeSet, key: KindKey) -> NodeSet {
        let mut out = NodeSet::empty(set.universe());
        for n in set.iter() {
            if self.classify(g, n) == key {
                out.insert(n);
            }
        }
        out
    }
}

impl KindKey {
    /// The row name, for kinds the graph alone can name.
    pub fn graph_name(self, g: &HeapGraph) -> Option<String> {
        Some(match self {
            KindKey::Type(t) => g.type_record(t).name.clone(),
            KindKey::DictOf(t) => format!("dict of {}", g.type_record(t).name),
            KindKey::DictNoOwner => "dict (no owner)".to_string(),
            KindKey::Size(s) => format!("{s:>9}"),
            KindKey::NotModule => "~module".to_string(),
            KindKey::Unity => "<Anything>".to_string(),
            KindKey::Id(_) | KindKey::Module(_) => return None,
        })
    }
}

/// Most classifiers a product relation (`Type & Size & ...`) may combine.
pub const MAX_FACTORS: usize = 4;

/// The class of a node under one classifier or a product of several.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RowKey {
    len: u8,
    keys: [KindKey; MAX_FACTORS],
}

impl RowKey {
    pub fn keys(&self) -> &[KindKey] {
        &self.keys[..self.len as usize]
    }

    /// The key of rows classed by something else (referrer classes, labels).
    pub(crate) fn unused() -> Self {
        RowKey {
            len: 0,
            keys: [KindKey::Unity; MAX_FACTORS],
        }
    }
}

/// One row: a class with its count and total size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionRow {
    pub key: RowKey,
    pub name: String,
    pub count: u64,
    pub size: u64,
}

/// The sorted, deduplicated `base` classes of `n`'s referrers.
pub(crate) fn referrer_kinds(g: &HeapGraph, n: NodeId, base: Classifier) -> Vec<KindKey> {
    let mut kinds: Vec<KindKey> = g
        .referrers(n)
        .iter()
        .map(|&r| base.classify(g, r))
        .collect();
    kinds.sort_unstable();
    kinds.dedup();
    kinds
}

/// Count and size per class, for one classifier. Type and Clodo classes are dense in
/// the type table, so they are counted in arrays (a hash map per node showed in
/// profiles); the others go through a map.
fn group_single(g: &HeapGraph, set: &NodeSet, c: Classifier) -> Vec<(RowKey, (u64, u64))> {
    let wrap = |k: KindKey| RowKey {
        len: 1,
        keys: [k, KindKey::Unity, KindKey::Unity, KindKey::Unity],
    };
    let ntypes = g.types().len();
    let dense_slot = |k: KindKey| -> usize {
        match k {
            KindKey::Type(t) => t.index(),
            KindKey::DictOf(t) => ntypes + t.index(),
            _ => 2 * ntypes, // DictNoOwner, and Unity (the only key it has)
        }
    };
    match c {
        Classifier::Type | Classifier::Clodo | Classifier::Unity => {
            let mut acc = vec![(0u64, 0u64); 2 * ntypes + 1];
            let mut keys: Vec<Option<KindKey>> = vec![None; 2 * ntypes + 1];
            for n in set.iter() {
                let k = c.classify(g, n);
                let slot = dense_slot(k);
                acc[slot].0 += 1;
                acc[slot].1 += g.size_of(n);
                keys[slot] = Some(k);
            }
            keys.into_iter()
                .zip(acc)
                .filter_map(|(k, a)| k.map(|k| (wrap(k), a)))
                .collect()
        }
        Classifier::Size | Classifier::Module | Classifier::Id => {
            let mut groups = Grouper::default();
            for n in set.iter() {
                groups.add(c.classify(g, n), g.size_of(n));
            }
            groups
                .finish()
                .into_iter()
                .map(|(k, a)| (wrap(k), a))
                .collect()
        }
    }
}

fn group_product(
    g: &HeapGraph,
    set: &NodeSet,
    classifiers: &[Classifier],
) -> Vec<(RowKey, (u64, u64))> {
    let mut groups = Grouper::default();
    let mut key = RowKey {
        len: classifiers.len() as u8,
        keys: [KindKey::Unity; MAX_FACTORS],
    };
    for n in set.iter() {
        for (slot, c) in key.keys.iter_mut().zip(classifiers) {
            *slot = c.classify(g, n);
        }
        groups.add(key, g.size_of(n));
    }
    groups.finish()
}

/// Count and size per key, with a one-entry cache in front of the map: walking nodes in
/// address order meets runs of one size class (pymalloc pools) and one type.
struct Grouper<K> {
    index: FastMap<K, usize>,
    acc: Vec<(K, (u64, u64))>,
    last: Option<(K, usize)>,
}

impl<K> Default for Grouper<K> {
    fn default() -> Self {
        Grouper {
            index: FastMap::default(),
            acc: Vec::new(),
            last: None,
        }
    }
}

impl<K: Copy + Eq + std::hash::Hash> Grouper<K> {
    #[inline]
    fn add(&mut self, key: K, size: u64) {
        let slot = match self.last {
            Some((k, i)) if k == key => i,
            _ => {
                let next = self.acc.len();
                let i = *self.index.entry(key).or_insert(next);
                if i == next {
                    self.acc.push((key, (0, 0)));
                }
                self.last = Some((key, i));
                i
            }
        };
        let a = &mut self.acc[slot].1;
        a.0 += 1;
        a.1 += size;
    }

    fn finish(self) -> Vec<(K, (u64, u64))> {
        self.acc
    }
}

/// Rows of a set under a classifier (or a product of classifiers), in Heapy's order.
#[derive(Clone, Debug)]
pub struct Partition {
    pub classifiers: Vec<Classifier>,
    pub rows: Vec<PartitionRow>,
    pub count: u64,
    pub size: u64,
    /// For a partition by referrers (Rcs): each row's set of referrer classes, aligned
    /// with `rows` (their `key` is then unused).
    pub referrer_kinds: Option<Vec<Vec<KindKey>>>,
    /// For a partition by Via: each row's set of edge labels, aligned with `rows`.
    pub via_labels: Option<crate::via::ViaRows>,
}

impl Partition {
    /// Groups `set` by `classifiers` (one, or a product of up to [`MAX_FACTORS`]).
    /// `name_of` names kinds the graph cannot name itself.
    pub fn new(
        g: &HeapGraph,
        set: &NodeSet,
        classifiers: &[Classifier],
        mut name_of: impl FnMut(KindKey) -> String,
    ) -> Result<Partition, CoreError> {
        if classifiers.is_empty() || classifiers.len() > MAX_FACTORS {
            return Err(CoreError::BadProduct {
                factors: classifiers.len(),
                max: MAX_FACTORS,
            });
        }
        let groups = if let [single] = classifiers {
            group_single(g, set, *single)
        } else {
            group_product(g, set, classifiers)
        };
        let (count, size) = groups
            .iter()
            .fold((0, 0), |(c, s), (_, (rc, rs))| (c + rc, s + rs));
        let product = classifiers.len() > 1;
        let mut rows: Vec<PartitionRow> = groups
            .into_iter()
            .map(|(key, (count, size))| {
                let names: Vec<String> = key
                    .keys()
                    .iter()
                    .map(|&k| match k {
                        // a product names sizes plainly ("list & 64"), a size table pads them
                        KindKey::Size(s) if product => s.to_string(),
                        _ => k.graph_name(g).unwrap_or_else(|| name_of(k)),
                    })
                    .collect();
                PartitionRow {
                    key,
                    name: names.join(" & "),
                    count,
                    size,
                }
            })
            .collect();
        rows.sort_by(|a, b| {
            b.size
                .cmp(&a.size)
                .then_with(|| a.name.cmp(&b.name))
                .then(a.key.cmp(&b.key))
        });
        Ok(Partition {
            classifiers: classifiers.to_vec(),
            rows,
            count,
            size,
            referrer_kinds: None,
            via_labels: None,
        })
    }

    /// Heapy's Rcs: each member is classed by the set of `base` classes of its referrers
    /// (rows named by those classes, sorted, joined by ", "; `<Nothing>` for none). Needs
    /// a graph with edges.
    pub fn by_referrers(
        g: &HeapGraph,
        set: &NodeSet,
        base: Classifier,
        mut name_of: impl FnMut(KindKey) -> String,
    ) -> Partition {
        let mut groups: FastMap<Vec<KindKey>, (u64, u64)> = FastMap::default();
        for n in set.iter() {
            let e = groups.entry(referrer_kinds(g, n, base)).or_insert((0, 0));
            e.0 += 1;
            e.1 += g.size_of(n);
        }
        let unused = RowKey::unused();
        let mut named: Vec<(Vec<KindKey>, PartitionRow)> = groups
            .into_iter()
            .map(|(kinds, (count, size))| {
                let mut names: Vec<String> = kinds
                    .iter()
                    .map(|&k| k.graph_name(g).unwrap_or_else(|| name_of(k)))
                    .collect();
                names.sort();
                let name = if names.is_empty() {
                    "<Nothing>".to_string()
                } else {
                    names.join(", ")
                };
                (
                    kinds,
                    PartitionRow {
                        key: unused,
                        name,
                        count,
                        size,
                    },
                )
            })
            .collect();
        named.sort_by(|(ka, a), (kb, b)| {
            b.size
                .cmp(&a.size)
                .then_with(|| a.name.cmp(&b.name))
                .then(ka.cmp(kb))
        });
        let (count, size) = named
            .iter()
            .fold((0, 0), |(c, s), (_, r)| (c + r.count, s + r.size));
        let (kinds, rows): (Vec<_>, Vec<_>) = named.into_iter().unzip();
        Partition {
            classifiers: vec![base],
            rows,
            count,
            size,
            referrer_kinds: Some(kinds),
            via_labels: None,
        }
    }

    fn row_index(&self, row: &PartitionRow) -> usize {
        self.rows
            .iter()
            .position(|r| std::ptr::eq(r, row))
            .expect("a row of this partition")
    }

    /// Heapy's table header: the factors' headers joined by ` & `.
    pub fn header(&self) -> String {
        if self.via_labels.is_some() {
            return "Referred Via:".to_string();
        }
        if self.referrer_kinds.is_some() {
            return format!("Referrers by {}", self.classifiers[0].header());
        }
        self.classifiers
            .iter()
            .map(|c| c.header())
            .collect::<Vec<_>>()
            .join(" & ")
    }

    /// The members of `set` in row `row`.
    pub fn row_set(&self, g: &HeapGraph, set: &NodeSet, row: &PartitionRow) -> NodeSet {
        if let Some(all) = &self.via_labels {
            let index = self.row_index(row);
            return crate::via::select_via(g, set, all.row(index));
        }
        if let Some(all) = &self.referrer_kinds {
            let index = self.row_index(row);
            let want = &all[index];
            return NodeSet::from_ids(
                set.universe(),
                set.iter()
                    .filter(|&n| &referrer_kinds(g, n, self.classifiers[0]) == want),
            );
        }
        let mut out = set.clone();
        for (c, &k) in self.classifiers.iter().zip(row.key.keys()) {
            out = match k {
                KindKey::Id(n) => NodeSet::from_ids(set.universe(), [n]).intersection(&out),
                _ => c.select(g, &out, k),
            };
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::tests::sample_graph;

    #[test]
    fn clodo_names_owned_dicts() {
        let g = sample_graph();
        let p =
            Partition::new(&g, &g.full_set(), &[Classifier::Clodo], |_| unreachable!()).unwrap();
        let names: Vec<_> = p
            .rows
            .iter()
            .map(|r| (r.name.as_str(), r.count, r.size))
            .collect();
        assert_eq!(
            names,
            vec![
                ("dict of __main__.A", 1, 104),
                ("module", 1, 72),
                ("dict (no owner)", 1, 64),
                ("__main__.A", 1, 48)
            ]
        );
        assert_eq!(p.count, 4);
        assert_eq!(p.size, 288);
    }

    #[test]
    fn type_partition_merges_dicts_and_ties_sort_by_name() {
        let g = sample_graph();
        let p = Partition::new(&g, &g.full_set(), &[Classifier::Type], |_| unreachable!()).unwrap();
        assert_eq!(p.rows[0].name, "dict");
        assert_eq!(p.rows[0].count, 2);
        let sel = p.row_set(&g, &g.full_set(), &p.rows[0]);
        assert_eq!(sel.count(), 2);
        let m = Partition::new(&g, &g.full_set(), &[Classifier::Module], |_| "sys".into()).unwrap();
        assert_eq!(
            m.rows.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
            vec!["~module", "sys"]
        );
    }

    #[test]
    fn product_partition() {
        let g = sample_graph();
        let p = Partition::new(
            &g,
            &g.full_set(),
            &[Classifier::Type, Classifier::Size],
            |_| unreachable!(),
        )
        .unwrap();
        assert_eq!(p.header(), "Type & Individual Size");
        let names: Vec<_> = p.rows.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(
            names,
            vec!["dict & 104", "module & 72", "dict & 64", "__main__.A & 48"]
        );
        assert_eq!(
            p.row_set(&g, &g.full_set(), &p.rows[2])
                .iter()
                .collect::<Vec<_>>(),
            vec![NodeId(3)]
        );
        assert!(Partition::new(&g, &g.full_set(), &[], |_| unreachable!()).is_err());
    }

    #[test]
    fn partition_by_referrer_classes() {
        let g = sample_graph();
        let p = Partition::by_referrers(&g, &g.full_set(), Classifier::Clodo, |_| unreachable!());
        assert_eq!(p.header(), "Referrers by Kind (class / dict of class)");
        let rows: Vec<_> = p.rows.iter().map(|r| (r.name.as_str(), r.count)).collect();
        // node 3 is referred to by A's dict and by the module; node 1 by A; 0 and 2 by none
        assert_eq!(
            rows,
            vec![
                ("<Nothing>", 2),
                ("__main__.A", 1),
                ("dict of __main__.A, module", 1)
            ]
        );
        let last = &p.rows[2];
        assert_eq!(
            p.row_set(&g, &g.full_set(), last)
                .iter()
                .collect::<Vec<_>>(),
            vec![NodeId(3)]
        );
    }
}
