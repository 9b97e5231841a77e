//! Heapy's Via classifier: each object is classed by the set of labels of the edges that
//! refer to it (`'.__dict__'`, `"['name']"`, `'[3]'`; root edges count as `.i0_modules`
//! and so on). Rows are named by the labels' reprs, sorted and joined by `, `.
//!
//! One pass over the forward edges collects `(target, label)` pairs for the targets in
//! the set; most objects have a single referrer, so single-label classes are counted in
//! an array by label and only the rest go through a map.

use std::sync::OnceLock;

use crate::classify::{Partition, PartitionRow, RowKey, RowMembers, NO_ROW};
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
    let mut out = String::with_capacity(s.len() + 2);
    py_str_repr_into(s, &mut out);
    out
}

/// Appends [`py_str_repr`] of `s` to `out`.
pub fn py_str_repr_into(s: &str, out: &mut String) {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
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
}

/// Heapy's row name for a set of labels.
pub fn via_row_name(g: &HeapGraph, labels: &[LabelId]) -> String {
    let mut out = String::new();
    write_row_name(g, labels, &mut String::new(), &mut out);
    out
}

/// Appends the row name of `labels` to `out` (`text` is scratch space): the labels'
/// reprs, sorted, joined by `, `.
fn write_row_name(g: &HeapGraph, labels: &[LabelId], text: &mut String, out: &mut String) {
    let table = &g.edge_labels().expect("edge labels were computed").table;
    if let [one] = labels {
        text.clear();
        table.get(*one).write_text(text);
        py_str_repr_into(text, out);
        return;
    }
    let mut names: Vec<String> = labels
        .iter()
        .map(|&l| py_str_repr(&table.get(l).text()))
        .collect();
    names.sort();
    for (i, name) in names.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(name);
    }
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
/// count, size and name (in the names' arena).
struct ViaClass {
    labels: (u32, u32),
    count: u64,
    size: u64,
    name: (u32, u32),
}

impl Partition {
    /// Partition by Via (labels must have been computed: see `HeapGraph::edge_labels`).
    /// Each member is classed once (single labels through one map, label sets through
    /// another) and filed under its row; row names are written into one string.
    pub fn by_via(g: &HeapGraph, set: &NodeSet) -> Partition {
        let mut single: FastMap<LabelId, u32> = FastMap::default();
        let mut multi: FastMap<Vec<LabelId>, u32> = FastMap::default();
        let mut classes: Vec<ViaClass> = Vec::new();
        let mut flat: Vec<LabelId> = Vec::new();
        let mut names = String::new();
        let mut text = String::new();
        let mut new_class = |labels: &[LabelId], classes: &mut Vec<ViaClass>| -> u32 {
            let start = flat.len() as u32;
            flat.extend_from_slice(labels);
            let name_start = names.len() as u32;
            write_row_name(g, labels, &mut text, &mut names);
            classes.push(ViaClass {
                labels: (start, labels.len() as u32),
                count: 0,
                size: 0,
                name: (name_start, names.len() as u32),
            });
            classes.len() as u32 - 1
        };
        let mut class_of_node = vec![NO_ROW; g.node_count()];
        ViaLabels::collect(g, set).for_each(|n, labels| {
            let c = match labels {
                [one] => match single.get(one) {
                    Some(&c) => c,
                    None => {
                        let c = new_class(labels, &mut classes);
                        single.insert(*one, c);
                        c
                    }
                },
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
        // Heapy's order: size descending, then name.
        let name = |c: &ViaClass| &names[c.name.0 as usize..c.name.1 as usize];
        let mut order: Vec<u32> = (0..classes.len() as u32).collect();
        order.sort_unstable_by(|&a, &b| {
            let (a, b) = (&classes[a as usize], &classes[b as usize]);
            b.size.cmp(&a.size).then_with(|| name(a).cmp(name(b)))
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
                name: name(class).to_string(),
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
}
