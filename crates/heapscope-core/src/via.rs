//! Heapy's Via classifier: each object is classed by the set of labels of the edges that
//! refer to it (`'.__dict__'`, `"['name']"`, `'[3]'`; root edges count as `.i0_modules`
//! and so on). Rows are named by the labels' reprs, sorted and joined by `, `.
//!
//! One pass over the forward edges collects `(target, label)` pairs for the targets in
//! the set; most objects have a single referrer, so single-label classes are counted in
//! an array by label and only the rest go through a map.

use crate::classify::{Partition, PartitionRow, RowKey};
use crate::{Classifier, FastMap, HeapGraph, LabelId, NodeId, NodeSet};

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

/// Heapy's row name for a set of labels.
pub fn via_row_name(g: &HeapGraph, labels: &[LabelId]) -> String {
    let table = &g.edge_labels().expect("edge labels were computed").table;
    let mut names: Vec<String> = labels
        .iter()
        .map(|&l| py_str_repr(&table.get(l).text()))
        .collect();
    names.sort();
    names.join(", ")
}

/// The members of `set` whose label set is exactly `want` (sorted, deduplicated).
pub fn select_via(g: &HeapGraph, set: &NodeSet, want: &[LabelId]) -> NodeSet {
    let mut out = NodeSet::empty(set.universe());
    let mut referred = NodeSet::empty(set.universe());
    ViaLabels::collect(g, set).for_each(|n, labels| {
        referred.insert(n);
        if labels == want {
            out.insert(n);
        }
    });
    if want.is_empty() {
        return set.difference(&referred);
    }
    out
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

impl Partition {
    /// Partition by Via (labels must have been computed: see `HeapGraph::edge_labels`).
    pub fn by_via(g: &HeapGraph, set: &NodeSet) -> Partition {
        // Count and size per class: single labels and label sets in maps.
        let mut single: FastMap<LabelId, (u64, u64)> = FastMap::default();
        let mut multi: FastMap<Vec<LabelId>, (u64, u64)> = FastMap::default();
        let mut referred = NodeSet::empty(set.universe());
        ViaLabels::collect(g, set).for_each(|n, labels| {
            referred.insert(n);
            let size = g.size_of(n);
            let slot = match labels {
                [one] => single.entry(*one).or_insert((0, 0)),
                _ => multi.entry(labels.to_vec()).or_insert((0, 0)),
            };
            slot.0 += 1;
            slot.1 += size;
        });
        // Rows with their label sets as (start, len) into one flat list, sorted in place
        // (Heapy's order: size descending, then name), then split.
        let mut flat: Vec<LabelId> = Vec::new();
        let mut rows: Vec<(PartitionRow, u32, u32)> =
            Vec::with_capacity(single.len() + multi.len() + 1);
        let mut push = |labels: &[LabelId], count: u64, size: u64| {
            let start = flat.len() as u32;
            flat.extend_from_slice(labels);
            let row = PartitionRow {
                key: RowKey::unused(),
                name: via_row_name(g, labels),
                count,
                size,
            };
            rows.push((row, start, labels.len() as u32));
        };
        for (l, (count, size)) in single {
            push(&[l], count, size);
        }
        for (labels, (count, size)) in multi {
            push(&labels, count, size);
        }
        let unreferred = set.difference(&referred);
        if !unreferred.is_empty() {
            push(&[], unreferred.count(), g.total_size(&unreferred));
        }
        rows.sort_unstable_by(|(a, _, _), (b, _, _)| {
            b.size.cmp(&a.size).then_with(|| a.name.cmp(&b.name))
        });
        let mut sorted = ViaRows {
            starts: Vec::with_capacity(rows.len() + 1),
            labels: Vec::with_capacity(flat.len()),
        };
        for &(_, start, len) in &rows {
            sorted.starts.push(sorted.labels.len() as u32);
            sorted
                .labels
                .extend_from_slice(&flat[start as usize..(start + len) as usize]);
        }
        sorted.starts.push(sorted.labels.len() as u32);
        drop(flat);
        let rows: Vec<PartitionRow> = rows.into_iter().map(|(row, _, _)| row).collect();
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
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::tests::sample_graph;
    use crate::{EdgeLabeler, Label, Relation};

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
        let rows: Vec<_> = p.rows.iter().map(|r| (r.name.as_str(), r.count)).collect();
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
        let sel = select_via(&g, &g.full_set(), &[v]);
        assert_eq!(sel.iter().collect::<Vec<_>>(), vec![NodeId(3)]);
        let none = select_via(&g, &g.full_set(), &[]);
        assert_eq!(none.iter().collect::<Vec<_>>(), vec![NodeId(0)]);
    }
}
