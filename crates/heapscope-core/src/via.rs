//! Heapy's Via classifier: each object is classed by the set of labels of the edges that
//! refer to it (`'.__dict__'`, `"['name']"`, `'[3]'`; root edges count as `.i0_modules`
//! and so on). Rows are named by the labels' reprs, sorted and joined by `, `.
//!
//! One pass over the forward edges collects `(target, label)` pairs for the targets in
//! the set; most objects have a single referrer, so single-label classes are counted in
//! an array by label and only the rest go through a map.

use std::sync::OnceLock;

use crate::classify::{Partition, PartitionRow, RowKey, RowMembers, NO_ROW};
use crate::{Classifier, FastMap, HeapGraph, LabelId, LabelTable, NodeId, NodeSet};

/// The in-edge labels of the members of `set` (labels must have been computed): most
/// objects have one referrer, so each member's first label is kept in an array and only
/// further, different labels go to a (small) list, sorted and deduplicated.
struct ViaLabels {
    first: Vec<u32>,
    extra: Vec<(NodeId, LabelId)>,
}

const NO_LABEL: u32 = u32::MAX;

impl ViaLabels {
    fn collect(g: &HeapGraph, set: &NodeSet) -> Self {
        let labels = g.edge_labels().expect("edge labels were computed");
        let set = &*set.dense();
        let mut via = ViaLabels {
            first: vec![NO_LABEL; g.node_count()],
            extra: Vec::new(),
        };
        for (k, (_, n)) in g.roots().iter().enumerate() {
            if set.contains(*n) {
                via.add(*n, labels.root(k));
            }
        }
        for src in 0..g.node_count() {
            let src = NodeId(src as u32);
            let range = g.edge_range(src);
            for (&t, e) in g.referents(src).iter().zip(range) {
                if set.contains(t) {
                    via.add(t, labels.edge(e));
                }
            }
        }
        via.extra.sort_unstable();
        via.extra.dedup();
        via
    }

    #[inline]
    fn add(&mut self, n: NodeId, l: LabelId) {
        let slot = &mut self.first[n.index()];
        if *slot == NO_LABEL {
            *slot = l.0;
        } else if *slot != l.0 {
            self.extra.push((n, l));
        }
    }

    /// Every labelled member with its sorted label set (in node order).
    fn for_each(&self, mut f: impl FnMut(NodeId, &[LabelId])) {
        let mut extra = self.extra.iter().peekable();
        let mut buf: Vec<LabelId> = Vec::new();
        for (i, &l) in self.first.iter().enumerate() {
            if l == NO_LABEL {
                continue;
            }
            let n = NodeId(i as u32);
            if extra.peek().is_some_and(|&&(m, _)| m == n) {
                buf.clear();
                buf.push(LabelId(l));
                while let Some(&&(m, x)) = extra.peek() {
                    if m != n {
                        break;
                    }
                    buf.push(x);
                    extra.next();
                }
                buf.sort_unstable();
                buf.dedup();
                f(n, &buf);
            } else {
                f(n, &[LabelId(l)]);
            }
        }
    }
}

/// Calls `f` with every member of `set` some edge refers to and its sorted label set,
/// in id order (labels must have been computed).
pub(crate) fn for_each_labelled(g: &HeapGraph, set: &NodeSet, f: impl FnMut(NodeId, &[LabelId])) {
    ViaLabels::collect(g, set).for_each(f);
}

/// Python's `repr` of a string (single quotes unless the text has one and no double).
pub fn py_str_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for ch in s.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// Heapy's row name for a set of labels: their reprs, sorted, joined by `, `.
pub fn via_row_name(g: &HeapGraph, labels: &[LabelId]) -> String {
    let table = &g.edge_labels().expect("edge labels were computed").table;
    let mut names: Vec<String> = labels
        .iter()
        .map(|&l| py_str_repr(&table.get(l).text()))
        .collect();
    names.sort();
    names.join(", ")
}

/// A `u32` per label: stored labels by id, item labels `[i]` by index, in an array
/// grown on need up to `dense` items (a list's indices), in a map beyond (an int dict
/// key can be any index).
struct LabelSlots {
    stored: Vec<u32>,
    items: Vec<u32>,
    dense: usize,
    far: FastMap<u32, u32>,
}

impl LabelSlots {
    fn new(stored: usize, dense: usize) -> Self {
        LabelSlots {
            stored: vec![NO_ROW; stored],
            items: Vec::new(),
            dense,
            far: FastMap::default(),
        }
    }

    #[inline]
    fn slot(&mut self, l: LabelId) -> &mut u32 {
        match LabelTable::item_index(l) {
            Some(i) if (i as usize) < self.dense => {
                let i = i as usize;
                if i >= self.items.len() {
                    self.items.resize(i + 1, NO_ROW);
                }
                &mut self.items[i]
            }
            Some(i) => self.far.entry(i).or_insert(NO_ROW),
            None => &mut self.stored[l.index()],
        }
    }
}

/// The decimal digits of `i` (most significant first) in `buf`, as a slice of it.
fn decimal(mut i: u32, buf: &mut [u8; 10]) -> &[u8] {
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (i % 10) as u8;
        i /= 10;
        if i == 0 {
            return &buf[at..];
        }
    }
}

/// The order of the reprs of item labels (`'[12]'`): their digits compared as text, the
/// closing bracket after every digit. Ten base-11 places (a `u32` has ten digits).
fn item_repr_key(i: u32) -> u64 {
    let mut buf = [0u8; 10];
    let digits = decimal(i, &mut buf);
    (0..10).fold(0u64, |k, p| {
        k * 11 + digits.get(p).map_or(10, |&d| u64::from(d - b'0'))
    })
}

/// The repr of the item label `[i]` (`'[12]'`) in `out`.
fn item_repr(i: u32, out: &mut Vec<u8>) {
    let mut buf = [0u8; 10];
    out.clear();
    out.extend_from_slice(b"'[");
    out.extend_from_slice(decimal(i, &mut buf));
    out.extend_from_slice(b"]'");
}

/// The rank of each of `used` labels in the order of their reprs (Heapy's row names,
/// which sort by them). Item labels are ordered by [`item_repr_key`], the others by
/// their repr text, and the two lists merged.
fn label_ranks(table: &LabelTable, used: &[LabelId], dense: usize) -> LabelSlots {
    let mut stored: Vec<(String, LabelId)> = Vec::new();
    let mut items: Vec<(u64, u32)> = Vec::new();
    for &l in used {
        match LabelTable::item_index(l) {
            Some(i) => items.push((item_repr_key(i), i)),
            None => stored.push((py_str_repr(&table.get(l).text()), l)),
        }
    }
    stored.sort_unstable();
    items.sort_unstable();
    let mut ranks = LabelSlots::new(table.len(), dense);
    let (mut a, mut b) = (0, 0);
    let mut text: Vec<u8> = Vec::new();
    for rank in 0..(stored.len() + items.len()) as u32 {
        let item_first = a == stored.len()
            || b < items.len() && {
                item_repr(items[b].1, &mut text);
                text.as_slice() < stored[a].0.as_bytes()
            };
        if item_first {
            *ranks.slot(LabelTable::item_label(items[b].1)) = rank;
            b += 1;
        } else {
            *ranks.slot(stored[a].1) = rank;
            a += 1;
        }
    }
    ranks
}

/// The label set of each row of a partition by Via, flat (a heap can have hundreds of
/// thousands of rows, one per list index): row `r`'s labels are
/// `labels[starts[r]..starts[r + 1]]`.
#[derive(Clone, Debug, Default)]
pub struct ViaRows {
    starts: Vec<u32>,
    labels: Vec<LabelId>,
}

impl ViaRows {
    pub fn row(&self, r: usize) -> &[LabelId] {
        &self.labels[self.starts[r] as usize..self.starts[r + 1] as usize]
    }

    pub fn len(&self) -> usize {
        self.starts.len().saturating_sub(1)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A class of a partition by Via while it is being made: its labels (in the flat list),
/// count and size.
struct ViaClass {
    labels: (u32, u32),
    count: u64,
    size: u64,
}

impl Partition {
    /// Partition by Via (labels must have been computed: see `HeapGraph::edge_labels`).
    /// Each member is classed once (single labels through arrays, label sets through a
    /// map) and filed under its row. Rows sort by size, then by name without making the
    /// names: a name is its labels' reprs in order, and no repr is a prefix of another,
    /// so names compare as the lists of their labels' ranks in repr order. Names are
    /// made when shown ([`Partition::row_name`]).
    pub fn by_via(g: &HeapGraph, set: &NodeSet) -> Partition {
        let table = &g.edge_labels().expect("edge labels were computed").table;
        let dense = g.node_count().max(1 << 10);
        let mut single = LabelSlots::new(table.len(), dense);
        let mut multi: FastMap<Vec<LabelId>, u32> = FastMap::default();
        let mut classes: Vec<ViaClass> = Vec::new();
        let mut flat: Vec<LabelId> = Vec::new();
        let mut new_class = |labels: &[LabelId], classes: &mut Vec<ViaClass>| -> u32 {
            let start = flat.len() as u32;
            flat.extend_from_slice(labels);
            classes.push(ViaClass {
                labels: (start, labels.len() as u32),
                count: 0,
                size: 0,
            });
            classes.len() as u32 - 1
        };
        let mut class_of_node = vec![NO_ROW; g.node_count()];
        ViaLabels::collect(g, set).for_each(|n, labels| {
            let c = match labels {
                [one] => {
                    let slot = single.slot(*one);
                    if *slot == NO_ROW {
                        *slot = new_class(labels, &mut classes);
                    }
                    *slot
                }
                _ => match multi.get(labels) {
                    Some(&c) => c,
                    None => {
                        let c = new_class(labels, &mut classes);
                        multi.insert(labels.to_vec(), c);
                        c
                    }
                },
            };
            class_of_node[n.index()] = c;
        });
        drop((single, multi));
        // Members no edge refers to: the class of no labels.
        let mut unreferred = NO_ROW;
        let mut class_of: Vec<u32> = Vec::with_capacity(set.count() as usize);
        for n in set.iter() {
            let mut c = class_of_node[n.index()];
            if c == NO_ROW {
                if unreferred == NO_ROW {
                    unreferred = new_class(&[], &mut classes);
                }
                c = unreferred;
            }
            let class = &mut classes[c as usize];
            class.count += 1;
            class.size += g.size_of(n);
            class_of.push(c);
        }
        drop(class_of_node);
        // Heapy's order: size descending, then name (the labels' ranks, ascending).
        let mut used = flat.clone();
        used.sort_unstable();
        used.dedup();
        let mut ranks = label_ranks(table, &used, dense);
        drop(used);
        let mut rank_flat: Vec<u32> = flat.iter().map(|&l| *ranks.slot(l)).collect();
        drop(ranks);
        for class in &classes {
            let (start, len) = class.labels;
            rank_flat[start as usize..(start + len) as usize].sort_unstable();
        }
        let ranks_of = |c: &ViaClass| {
            let (start, len) = c.labels;
            &rank_flat[start as usize..(start + len) as usize]
        };
        let mut order: Vec<u32> = (0..classes.len() as u32).collect();
        order.sort_unstable_by(|&a, &b| {
            let (a, b) = (&classes[a as usize], &classes[b as usize]);
            b.size
                .cmp(&a.size)
                .then_with(|| ranks_of(a).cmp(ranks_of(b)))
        });
        let mut row_of_class = vec![0u32; classes.len()];
        let mut sorted = ViaRows {
            starts: Vec::with_capacity(order.len() + 1),
            labels: Vec::with_capacity(flat.len()),
        };
        let mut rows: Vec<PartitionRow> = Vec::with_capacity(order.len());
        for (r, &c) in order.iter().enumerate() {
            row_of_class[c as usize] = r as u32;
            let class = &classes[c as usize];
            let (start, len) = class.labels;
            sorted.starts.push(sorted.labels.len() as u32);
            sorted
                .labels
                .extend_from_slice(&flat[start as usize..(start + len) as usize]);
            rows.push(PartitionRow {
                key: RowKey::unused(),
                name: String::new(), // made when shown: see `row_name`
                count: class.count,
                size: class.size,
            });
        }
        sorted.starts.push(sorted.labels.len() as u32);
        for c in &mut class_of {
            *c = row_of_class[*c as usize];
        }
        let members = RowMembers::from_assignment(rows.len(), set, &class_of);
        let (count, size) = rows
            .iter()
            .fold((0, 0), |(c, s), r| (c + r.count, s + r.size));
        Partition {
            classifiers: vec![Classifier::Unity],
            rows,
            count,
            size,
            referrer_kinds: None,
            via_labels: Some(sorted),
            members: OnceLock::from(members),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::tests::sample_graph;
    use crate::{select_via_cmp, Cmp, EdgeLabeler, Label, Relation, SetArg};

    #[test]
    fn reprs_like_python() {
        assert_eq!(py_str_repr(".x"), "'.x'");
        assert_eq!(py_str_repr("['k']"), "\"['k']\"");
        assert_eq!(py_str_repr("['a\"b']"), "'[\\'a\"b\\']'");
    }

    #[test]
    fn partition_by_via_labels() {
        let g = sample_graph(); // 0 -> 1, 1 -> 3, 2 -> 3; root .i0_modules -> 2
        let mut l = EdgeLabeler::new(&g).unwrap();
        let dict = l
            .table
            .intern(Label::new(Relation::Attribute, "__dict__", 0));
        let val = l.table.intern(Label::new(Relation::Index, "'v'", 0));
        l.label_node(NodeId(0), &[(0x200, dict)]);
        l.label_node(NodeId(1), &[(0x400, val)]);
        l.label_node(NodeId(2), &[(0x400, val)]);
        g.set_edge_labels(l.finish()).unwrap();
        let p = Partition::by_via(&g, &g.full_set());
        assert_eq!(p.header(), "Referred Via:");
        let rows: Vec<_> = (0..p.rows.len())
            .map(|r| (p.row_name(&g, r), p.rows[r].count))
            .collect();
        let rows: Vec<_> = rows.iter().map(|(n, c)| (n.as_str(), *c)).collect();
        assert_eq!(
            rows,
            vec![
                ("'.__dict__'", 1),
                ("'.i0_modules'", 1),
                ("\"['v']\"", 1),
                ("", 1),
            ]
        );
        let v = g.edge_labels().unwrap().table.id_of_text("['v']").unwrap();
        let all = g.full_set();
        let sel = |want: Vec<LabelId>, cmp| {
            let set = select_via_cmp(&g, &all, &SetArg::new(want, 0), cmp);
            set.iter().map(|n| n.0).collect::<Vec<_>>()
        };
        assert_eq!(sel(vec![v], Cmp::Eq), vec![3]);
        assert_eq!(sel(vec![], Cmp::Eq), vec![0]);
        assert_eq!(sel(vec![v], Cmp::Le), vec![0, 3]);
        assert_eq!(sel(vec![v, dict], Cmp::Lt), vec![0, 1, 3]);
        assert_eq!(sel(vec![], Cmp::Gt), vec![1, 2, 3]);
        // the rows' sets are the members filed under each row
        let rows: Vec<Vec<u32>> = (0..p.rows.len())
            .map(|r| p.row_set(&g, &all, r).iter().map(|n| n.0).collect())
            .collect();
        assert_eq!(rows, vec![vec![1], vec![2], vec![3], vec![0]]);
    }

    /// Rows of one size sort by name as Python sorts the names, without making them:
    /// item labels by their digits as text, mixed with other labels and label sets.
    #[test]
    fn ranks_order_labels_as_their_reprs() {
        let mut table = LabelTable::default();
        let mut used: Vec<LabelId> = [
            0u32,
            1,
            2,
            9,
            10,
            11,
            19,
            100,
            123,
            1000,
            99_999,
            4_000_000_000 & 0x7fff_ffff,
        ]
        .into_iter()
        .map(LabelTable::item_label)
        .collect();
        for (rel, text) in [
            (Relation::Attribute, "x"),
            (Relation::Attribute, "__dict__"),
            (Relation::Index, "'k'"),
            (Relation::Index, "\"it's\""),
            (Relation::Index, "'['"),
            (Relation::KeyIndex, ""),
            (Relation::Internal, "ob_type"),
            (Relation::Unnamed, ""),
        ] {
            used.push(table.intern(Label::new(rel, text, 7)));
        }
        let mut ranks = label_ranks(&table, &used, 50); // larger indices go through the map
        let mut by_rank = used.clone();
        by_rank.sort_by_key(|&l| *ranks.slot(l));
        let mut by_text = used.clone();
        by_text.sort_by_key(|&l| py_str_repr(&table.get(l).text()));
        assert_eq!(by_rank, by_text);
        // label sets: rank lists compare as the joined names do
        let sets: Vec<Vec<LabelId>> = vec![
            vec![used[1], used[4]],
            vec![used[1]],
            vec![used[12], used[13]],
            vec![used[2], used[3], used[14]],
            vec![],
        ];
        let name = |set: &[LabelId]| {
            let mut names: Vec<String> = set
                .iter()
                .map(|&l| py_str_repr(&table.get(l).text()))
                .collect();
            names.sort();
            names.join(", ")
        };
        let key = |set: &[LabelId], ranks: &mut LabelSlots| {
            let mut r: Vec<u32> = set.iter().map(|&l| *ranks.slot(l)).collect();
            r.sort_unstable();
            r
        };
        let mut by_key = sets.clone();
        by_key.sort_by_key(|s| key(s, &mut ranks));
        let mut by_name = sets.clone();
        by_name.sort_by_key(|s| name(s));
        assert_eq!(by_key, by_name);
    }
}
