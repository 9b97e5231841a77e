//! Heapy's Via classifier: each object is classed by the set of labels of the edges that
//! refer to it (`'.__dict__'`, `"['name']"`, `'[3]'`; root edges count as `.i0_modules`
//! and so on). Rows are named by the labels' reprs, sorted and joined by `, `.
//!
//! One pass over the forward edges collects `(target, label)` pairs for the targets in
//! the set; most objects have a single referrer, so single-label classes are counted in
//! an array by label and only the rest go through a map.

use crate::classify::{Partition, PartitionRow, RowKey};
use crate::{Classifier, FastMap, HeapGraph, LabelId, NodeId, NodeSet};

/// Each member of `set` with its sorted, deduplicated in-edge labels (labels must have
/// been computed). Members nothing refers to are absent.
fn via_pairs(g: &HeapGraph, set: &NodeSet) -> Vec<(NodeId, LabelId)> {
    let labels = g.edge_labels().expect("edge labels were computed");
    let mut pairs: Vec<(NodeId, LabelId)> = Vec::new();
    for (k, (_, n)) in g.roots().iter().enumerate() {
        if set.contains(*n) {
            pairs.push((*n, labels.root(k)));
        }
    }
    for src in 0..g.node_count() {
        let src = NodeId(src as u32);
        for (t, l) in g.labelled_referents(src) {
            if set.contains(t) {
                pairs.push((t, l));
            }
        }
    }
    pairs.sort_unstable();
    pairs.dedup();
    pairs
}

/// Groups `pairs` (sorted by node) into runs: `(node, labels)`.
fn runs(pairs: &[(NodeId, LabelId)]) -> impl Iterator<Item = (NodeId, Vec<LabelId>)> + '_ {
    pairs
        .chunk_by(|a, b| a.0 == b.0)
        .map(|run| (run[0].0, run.iter().map(|&(_, l)| l).collect()))
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
        .map(|&l| py_str_repr(&table.get(l).text))
        .collect();
    names.sort();
    names.join(", ")
}

/// The members of `set` whose label set is exactly `want` (sorted, deduplicated).
pub fn select_via(g: &HeapGraph, set: &NodeSet, want: &[LabelId]) -> NodeSet {
    let mut out = NodeSet::empty(set.universe());
    let pairs = via_pairs(g, set);
    let mut referred = NodeSet::empty(set.universe());
    for (n, labels) in runs(&pairs) {
        referred.insert(n);
        if labels == want {
            out.insert(n);
        }
    }
    if want.is_empty() {
        return set.difference(&referred);
    }
    out
}

impl Partition {
    /// Partition by Via (labels must have been computed: see `HeapGraph::edge_labels`).
    pub fn by_via(g: &HeapGraph, set: &NodeSet) -> Partition {
        let pairs = via_pairs(g, set);
        let nlabels = g.edge_labels().map_or(0, |l| l.table.len());
        let mut single: Vec<(u64, u64)> = vec![(0, 0); nlabels];
        let mut multi: FastMap<Vec<LabelId>, (u64, u64)> = FastMap::default();
        let mut referred = NodeSet::empty(set.universe());
        for run in pairs.chunk_by(|a, b| a.0 == b.0) {
            let n = run[0].0;
            referred.insert(n);
            let size = g.size_of(n);
            let slot = if run.len() == 1 {
                &mut single[run[0].1.index()]
            } else {
                multi
                    .entry(run.iter().map(|&(_, l)| l).collect())
                    .or_insert((0, 0))
            };
            slot.0 += 1;
            slot.1 += size;
        }
        let mut classes: Vec<(Vec<LabelId>, (u64, u64))> = single
            .into_iter()
            .enumerate()
            .filter(|(_, (c, _))| *c > 0)
            .map(|(l, cs)| (vec![LabelId(l as u32)], cs))
            .chain(multi)
            .collect();
        let unreferred = set.difference(&referred);
        if !unreferred.is_empty() {
            classes.push((Vec::new(), (unreferred.count(), g.total_size(&unreferred))));
        }
        let unused = RowKey::unused();
        let mut named: Vec<(Vec<LabelId>, PartitionRow)> = classes
            .into_iter()
            .map(|(labels, (count, size))| {
                let name = via_row_name(g, &labels);
                (
                    labels,
                    PartitionRow {
                        key: unused,
                        name,
                        count,
                        size,
                    },
                )
            })
            .collect();
        named.sort_by(|(_, a), (_, b)| b.size.cmp(&a.size).then_with(|| a.name.cmp(&b.name)));
        let (count, size) = named
            .iter()
            .fold((0, 0), |(c, s), (_, r)| (c + r.count, s + r.size));
        let (labels, rows): (Vec<_>, Vec<_>) = named.into_iter().unzip();
        Partition {
            classifiers: vec![Classifier::Unity],
            rows,
            count,
            size,
            referrer_kinds: None,
            via_labels: Some(labels),
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
