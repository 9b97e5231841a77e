//! Edge labels: how a referrer holds each of its references (`.attr`, `[0]`, `['key']`,
//! `.keys()[3]`, `->ob_type`, `.f_locals['x']`, `list(_)[2]`, ...), in Heapy's notation.
//!
//! Labels are computed once per graph, on first need (Via, shortest paths), by whoever
//! can inspect the objects (the binding crate), and stored one [`LabelId`] per forward
//! edge plus one per root edge. Distinct labels are interned in a [`LabelTable`]: a heap
//! has millions of edges but few distinct labels (`[0]`, `.__dict__`, `->ob_type`).

use std::borrow::Cow;
use std::fmt::Write as _;
use std::ops::Range;

use crate::{CoreError, FastMap, HeapGraph, LabelId, NodeId};

/// Heapy's relation kinds, in the order paths are sorted by (its relation codes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Relation {
    /// A reference nothing could name (Heapy prints `.??`).
    Unnamed,
    /// `.name`: attributes, members, slots, hand-made relations.
    Attribute,
    /// `[i]` or `[key]`: sequence items and dict values.
    Index,
    /// `.keys()[i]`: dict keys.
    KeyIndex,
    /// `->name`: C fields with no Python attribute.
    Internal,
    /// `.f_locals['x']`: a frame's local variable.
    Local,
    /// `.f_locals ['x']`: a frame's cell or free variable.
    Cell,
    /// `->f_valuestack[i]`: a frame's value stack.
    Stack,
    /// `list(_)[i]`: a set member.
    SetMember,
    /// `.flat[i]`: an element of a numpy array of two or more dimensions.
    FlatIndex,
}

impl Relation {
    /// Heapy's code of the relation (the inverse of [`Relation::from_code`]; 0 for a
    /// reference nothing named).
    pub fn code(self) -> i32 {
        match self {
            Relation::Unnamed => 0,
            Relation::Attribute => 1,
            Relation::Index => 2,
            Relation::KeyIndex => 3,
            Relation::Internal => 4,
            Relation::Local => 6,
            Relation::Cell => 7,
            Relation::Stack => 8,
            Relation::SetMember => 9,
            Relation::FlatIndex => 10,
        }
    }

    /// The relation for one of the capture shim's codes (Heapy's numbering).
    pub fn from_code(code: i32) -> Option<Self> {
        Some(match code {
            1 => Relation::Attribute,
            2 => Relation::Index,
            3 => Relation::KeyIndex,
            4 => Relation::Internal,
            6 => Relation::Local,
            7 => Relation::Cell,
            8 => Relation::Stack,
            9 => Relation::SetMember,
            10 => Relation::FlatIndex,
            _ => return None,
        })
    }
}

/// The second sort key of a label (after its relation): indices numerically, names and
/// keys by their text.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LabelOrder {
    Int(i64),
    Text(String),
}

/// One distinct label: its relation and its name or index. The text is rendered on
/// demand, so a heap's many index labels (`[0]` .. `[299999]`) cost no strings.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Label {
    pub relation: Relation,
    pub order: LabelOrder,
}

impl Label {
    pub fn unnamed() -> Self {
        Label {
            relation: Relation::Unnamed,
            order: LabelOrder::Text(String::new()),
        }
    }

    /// A label of a relation with a name or an index; `rendered` is the key's repr for
    /// dict values and frame variables, the name for attributes (empty for indices).
    pub fn new(relation: Relation, rendered: &str, index: i64) -> Self {
        let order = match relation {
            Relation::Unnamed => return Label::unnamed(),
            Relation::Attribute | Relation::Internal | Relation::Local | Relation::Cell => {
                LabelOrder::Text(rendered.into())
            }
            Relation::Index if rendered.is_empty() => LabelOrder::Int(index),
            Relation::Index => rendered
                .parse::<i64>()
                .map_or_else(|_| LabelOrder::Text(rendered.into()), LabelOrder::Int),
            Relation::KeyIndex | Relation::Stack | Relation::SetMember | Relation::FlatIndex => {
                LabelOrder::Int(index)
            }
        };
        Label { relation, order }
    }

    /// Heapy's text with the referrer left out: `.x`, `['k']`, `list(_)[3]`.
    pub fn text(&self) -> String {
        let mut s = String::new();
        self.write_text(&mut s);
        s
    }

    /// Appends [`Label::text`] to `out`.
    pub fn write_text(&self, out: &mut String) {
        match (self.relation, &self.order) {
            (Relation::SetMember, LabelOrder::Int(i)) => {
                let _ = write!(out, "list(_)[{i}]");
            }
            _ => self.append_to(out),
        }
    }

    /// Whether the label wraps its referrer's expression (`list(expr)[3]`) rather than
    /// only appending to it: such labels need an opening `list(` in front of the path.
    pub fn wraps(&self) -> bool {
        matches!(
            (self.relation, &self.order),
            (Relation::SetMember, LabelOrder::Int(_))
        )
    }

    /// Appends the label's text after its referrer's expression: `.x`, `[0]`, and for a
    /// wrapping label only its closing part `)[3]` (the caller wrote the `list(`). A path
    /// is rendered with one growing string: linear in its length.
    pub fn append_to(&self, out: &mut String) {
        let _ = match (self.relation, &self.order) {
            (Relation::Unnamed, _) => write!(out, ".??"),
            (Relation::SetMember, LabelOrder::Int(i)) => write!(out, ")[{i}]"),
            (rel, order) => {
                let (pre, post) = match rel {
                    Relation::Unnamed => unreachable!(),
                    Relation::Attribute => (".", ""),
                    Relation::Internal => ("->", ""),
                    Relation::Index => ("[", "]"),
                    Relation::KeyIndex => (".keys()[", "]"),
                    Relation::Local => (".f_locals[", "]"),
                    Relation::Cell => (".f_locals [", "]"),
                    Relation::Stack => ("->f_valuestack[", "]"),
                    Relation::SetMember => ("list(_)[", "]"),
                    Relation::FlatIndex => (".flat[", "]"),
                };
                match order {
                    LabelOrder::Int(i) => write!(out, "{pre}{i}{post}"),
                    LabelOrder::Text(t) => write!(out, "{pre}{t}{post}"),
                }
            }
        };
    }

    /// The label applied to an expression for its referrer: `expr.x`, `expr[0]`,
    /// `list(expr)[3]`.
    pub fn apply(&self, expr: &str) -> String {
        let mut s = String::with_capacity(expr.len() + 16);
        if self.wraps() {
            s.push_str("list(");
        }
        s.push_str(expr);
        self.append_to(&mut s);
        s
    }

    /// Heapy's sort key for references out of one object.
    pub fn sort_key(&self) -> (Relation, &LabelOrder) {
        (self.relation, &self.order)
    }
}

/// Ids with this bit set are item labels `[i]` (i below 2**31), not stored in the table:
/// a heap's long lists would otherwise make one table entry per index.
const INDEX_BIT: u32 = 1 << 31;

/// Distinct labels, interned (item labels `[i]` are encoded in their id).
#[derive(Clone, Debug, Default)]
pub struct LabelTable {
    labels: Vec<Label>,
    ids: FastMap<Label, LabelId>,
}

impl LabelTable {
    pub fn intern(&mut self, label: Label) -> LabelId {
        if let (Relation::Index, LabelOrder::Int(i)) = (label.relation, &label.order) {
            if (0..i64::from(INDEX_BIT)).contains(i) {
                return LabelId(INDEX_BIT | *i as u32);
            }
        }
        if let Some(&id) = self.ids.get(&label) {
            return id;
        }
        let id = LabelId(self.labels.len() as u32);
        self.ids.insert(label.clone(), id);
        self.labels.push(label);
        id
    }

    /// The stored labels, by id (item labels are not among them).
    pub fn labels(&self) -> &[Label] {
        &self.labels
    }

    pub fn get(&self, id: LabelId) -> Cow<'_, Label> {
        if id.0 & INDEX_BIT != 0 {
            return Cow::Owned(Label {
                relation: Relation::Index,
                order: LabelOrder::Int(i64::from(id.0 & !INDEX_BIT)),
            });
        }
        Cow::Borrowed(&self.labels[id.index()])
    }

    /// The index of an item label `[i]` (such labels are encoded in their id).
    pub fn item_index(id: LabelId) -> Option<u32> {
        (id.0 & INDEX_BIT != 0).then_some(id.0 & !INDEX_BIT)
    }

    /// The id of the item label `[i]` (`i` below 2**31).
    pub fn item_label(i: u32) -> LabelId {
        debug_assert!(i < INDEX_BIT);
        LabelId(INDEX_BIT | i)
    }

    /// The label whose text is `text` (a scan: for user queries such as `h.Via('.x')`).
    pub fn id_of_text(&self, text: &str) -> Option<LabelId> {
        if let Some(i) = text
            .strip_prefix('[')
            .and_then(|t| t.strip_suffix(']'))
            .and_then(|t| t.parse::<u32>().ok())
        {
            if i < INDEX_BIT && text == format!("[{i}]") {
                return Some(LabelId(INDEX_BIT | i));
            }
        }
        self.labels
            .iter()
            .position(|l| l.text() == text)
            .map(|i| LabelId(i as u32))
    }

    /// Number of stored labels (item labels `[i]` are not stored).
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Approximate bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.labels.capacity() * std::mem::size_of::<Label>() * 2 + self.ids.capacity() * 8
    }
}

/// A label for every forward edge and root edge of one graph.
#[derive(Clone, Debug)]
pub struct EdgeLabels {
    pub table: LabelTable,
    per_edge: Vec<LabelId>,
    roots: Vec<LabelId>,
}

impl EdgeLabels {
    /// Labels read back from graph parts: `labels` is the parts' table, `per_edge` its
    /// ids (item labels encoded in them), and each root edge is labelled by its name.
    pub fn from_parts<'n>(
        labels: &[Label],
        per_edge: &[LabelId],
        root_names: impl IntoIterator<Item = &'n str>,
    ) -> EdgeLabels {
        let mut table = LabelTable::default();
        let ids: Vec<LabelId> = labels.iter().map(|l| table.intern(l.clone())).collect();
        let per_edge = per_edge
            .iter()
            .map(|&l| match LabelTable::item_index(l) {
                Some(_) => l,
                None => ids[l.index()],
            })
            .collect();
        let roots = root_names
            .into_iter()
            .map(|name| table.intern(root_label(name)))
            .collect();
        EdgeLabels {
            table,
            per_edge,
            roots,
        }
    }

    /// Every edge's label id, in edge order (item labels encoded in the id).
    pub fn per_edge(&self) -> &[LabelId] {
        &self.per_edge
    }

    pub fn edge(&self, edge: usize) -> LabelId {
        self.per_edge[edge]
    }

    pub fn root(&self, k: usize) -> LabelId {
        self.roots[k]
    }

    pub fn label(&self, id: LabelId) -> Cow<'_, Label> {
        self.table.get(id)
    }

    pub fn heap_bytes(&self) -> usize {
        self.per_edge.capacity() * 4 + self.roots.capacity() * 4 + self.table.heap_bytes()
    }
}

/// The label of the root edge named `name` (`.i0_modules`).
pub fn root_label(name: &str) -> Label {
    Label::new(Relation::Attribute, name, 0)
}

/// Matches the names a caller gives for `src`'s references (`(target address, label)`,
/// in any order) to its recorded edges by target, in order for multi-edges: `out[j]` is
/// the label of `src`'s `j`-th edge (`unnamed` when nobody named it). `scratch` serves
/// large nodes.
pub fn match_names(
    g: &HeapGraph,
    src: NodeId,
    named: &[(u64, LabelId)],
    unnamed: LabelId,
    out: &mut [LabelId],
    scratch: &mut FastMap<u64, Vec<usize>>,
) {
    let targets = g.referents(src);
    // Fast path: the naming follows the traversal order (lists, tuples, dicts).
    let mut k = 0;
    while k < targets.len() && k < named.len() && named[k].0 == g.address(targets[k]) {
        out[k] = named[k].1;
        k += 1;
    }
    if k == targets.len() {
        return;
    }
    // A list: CPython's list_traverse visits the items last first.
    if k == 0
        && named.len() == targets.len()
        && named
            .iter()
            .zip(targets.iter().rev())
            .all(|(&(addr, _), &t)| addr == g.address(t))
    {
        for (slot, &(_, label)) in out.iter_mut().zip(named.iter().rev()) {
            *slot = label;
        }
        return;
    }
    // A small node (an instance: its type, then its attributes in another order):
    // match each edge to the first unused name of its target by scanning.
    if named.len() - k <= 64 {
        let mut used = 0u64;
        for (j, &t) in targets.iter().enumerate().skip(k) {
            let addr = g.address(t);
            let found =
                (k..named.len()).find(|&i| used & (1 << (i - k)) == 0 && named[i].0 == addr);
            out[j] = match found {
                Some(i) => {
                    used |= 1 << (i - k);
                    named[i].1
                }
                None => unnamed,
            };
        }
        return;
    }
    scratch.clear();
    for (i, &(addr, _)) in named.iter().enumerate().skip(k) {
        scratch.entry(addr).or_default().push(i);
    }
    for v in scratch.values_mut() {
        v.reverse();
    }
    for (j, &t) in targets.iter().enumerate().skip(k) {
        let addr = g.address(t);
        out[j] = scratch
            .get_mut(&addr)
            .and_then(|v| v.pop())
            .map_or(unnamed, |i| named[i].1);
    }
    // `clear` costs the map's capacity: after a huge node (sys.modules' dict, a long
    // list) keep it from making every later node pay for it.
    if scratch.capacity() > 1024 {
        *scratch = FastMap::default();
    }
}

/// Fills [`EdgeLabels`] node by node: the caller names each node's references (target
/// address and label, in any order); they are matched to the node's recorded edges by
/// target, in order for multi-edges. Edges nobody named get the unnamed label.
pub struct EdgeLabeler<'g> {
    graph: &'g HeapGraph,
    pub table: LabelTable,
    per_edge: Vec<LabelId>,
    unnamed: LabelId,
    scratch: FastMap<u64, Vec<usize>>,
}

impl<'g> EdgeLabeler<'g> {
    pub fn new(graph: &'g HeapGraph) -> Result<Self, CoreError> {
        let edges = graph.edge_count().ok_or(CoreError::NoEdges)?;
        let mut table = LabelTable::default();
        let unnamed = table.intern(Label::unnamed());
        Ok(EdgeLabeler {
            graph,
            table,
            per_edge: vec![unnamed; edges],
            unnamed,
            scratch: FastMap::default(),
        })
    }

    /// Labels `src`'s edges from `named`: `(target address, label)` pairs.
    pub fn label_node(&mut self, src: NodeId, named: &[(u64, LabelId)]) {
        let range = self.graph.edge_range(src);
        match_names(
            self.graph,
            src,
            named,
            self.unnamed,
            &mut self.per_edge[range],
            &mut self.scratch,
        );
    }

    /// Finishes with the root edges labelled `.name`.
    pub fn finish(mut self) -> EdgeLabels {
        let roots = self
            .graph
            .roots()
            .iter()
            .map(|(name, _)| self.table.intern(root_label(name)))
            .collect();
        EdgeLabels {
            table: self.table,
            per_edge: self.per_edge,
            roots,
        }
    }
}

impl HeapGraph {
    /// Positions of `n`'s edges in the forward edge list (for per-edge data).
    pub fn edge_range(&self, n: NodeId) -> Range<usize> {
        let (starts, _) = self.csr_parts();
        starts[n.index()] as usize..starts[n.index() + 1] as usize
    }

    /// The labels, if computed.
    pub fn edge_labels(&self) -> Option<&EdgeLabels> {
        self.labels_cell().get()
    }

    /// Stores the labels (the first stored wins; they describe the same graph).
    pub fn set_edge_labels(&self, labels: EdgeLabels) -> Result<(), CoreError> {
        if labels.per_edge.len() != self.edge_count().unwrap_or(0)
            || labels.roots.len() != self.roots().len()
        {
            return Err(CoreError::LabelMismatch);
        }
        let _ = self.labels_cell().set(labels);
        Ok(())
    }

    /// `n`'s referents with their labels (labels must have been set).
    pub fn labelled_referents(&self, n: NodeId) -> impl Iterator<Item = (NodeId, LabelId)> + '_ {
        let labels = self.edge_labels().expect("edge labels were computed");
        let range = self.edge_range(n);
        self.referents(n)
            .iter()
            .zip(range)
            .map(move |(&t, e)| (t, labels.edge(e)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::tests::sample_graph;

    #[test]
    fn texts_and_application() {
        let attr = Label::new(Relation::Attribute, "x", 0);
        assert_eq!(attr.text(), ".x");
        assert_eq!(attr.apply("h.Root"), "h.Root.x");
        let key = Label::new(Relation::Index, "'cache'", 0);
        assert_eq!(key.apply("d"), "d['cache']");
        assert_eq!(Label::new(Relation::Index, "", 3).text(), "[3]");
        assert_eq!(Label::new(Relation::KeyIndex, "", 2).text(), ".keys()[2]");
        assert_eq!(
            Label::new(Relation::Internal, "ob_type", 0).text(),
            "->ob_type"
        );
        assert_eq!(
            Label::new(Relation::Cell, "'x'", 0).text(),
            ".f_locals ['x']"
        );
        assert_eq!(
            Label::new(Relation::Local, "'x'", 0).text(),
            ".f_locals['x']"
        );
        assert_eq!(
            Label::new(Relation::Stack, "", 1).text(),
            "->f_valuestack[1]"
        );
        let member = Label::new(Relation::SetMember, "", 4);
        assert_eq!(member.text(), "list(_)[4]");
        assert_eq!(member.apply("s.x"), "list(s.x)[4]");
        // attributes sort before items, indices numerically
        assert!(attr.sort_key() < key.sort_key());
        assert!(
            Label::new(Relation::Index, "", 2).sort_key()
                < Label::new(Relation::Index, "", 10).sort_key()
        );
    }

    #[test]
    fn item_labels_are_encoded_not_stored() {
        let mut t = LabelTable::default();
        let five = t.intern(Label::new(Relation::Index, "", 5));
        assert_eq!(t.len(), 0);
        assert_eq!(
            t.intern(Label::new(Relation::Index, "5", 0)),
            five,
            "dict key 5"
        );
        assert_eq!(t.get(five).text(), "[5]");
        assert_eq!(t.id_of_text("[5]"), Some(five));
        assert_eq!(t.id_of_text("[05]"), None);
        let key = t.intern(Label::new(Relation::Index, "'k'", 0));
        assert_eq!(t.len(), 1);
        assert_eq!(t.id_of_text("['k']"), Some(key));
        let negative = t.intern(Label::new(Relation::Index, "-1", 0));
        assert_eq!(t.get(negative).text(), "[-1]");
        assert_eq!(t.len(), 2);
    }

    /// A list's edges come last item first (list_traverse); its names first item first.
    #[test]
    fn reversed_names_match() {
        let mut w = crate::WalkRecorder::new(true);
        let t = w.types.intern(0x9000, false, false);
        w.reach(0x100);
        w.begin_node(0x100, t).unwrap();
        for a in [0x400, 0x300, 0x200] {
            w.edge_to(a);
        }
        for a in [0x200, 0x300, 0x400] {
            w.begin_node(a, t).unwrap();
        }
        let g = w.finish().unwrap().build();
        let mut table = LabelTable::default();
        let unnamed = table.intern(Label::unnamed());
        let [a, b, c] = [0, 1, 2].map(|i| table.intern(Label::new(Relation::Index, "", i)));
        let mut out = vec![unnamed; 3];
        let named = [(0x200, a), (0x300, b), (0x400, c)];
        match_names(
            &g,
            NodeId(0),
            &named,
            unnamed,
            &mut out,
            &mut FastMap::default(),
        );
        assert_eq!(out, vec![c, b, a]);
    }

    /// Multi-edges take their names in order, on small nodes (scanned) and large ones
    /// (through a map) alike.
    #[test]
    fn multi_edges_take_names_in_order() {
        for extra in [0usize, 100] {
            let mut w = crate::WalkRecorder::new(true);
            let t = w.types.intern(0x9000, false, false);
            w.reach(0x100);
            w.begin_node(0x100, t).unwrap();
            // edges: A, B, A, then `extra` edges to C
            for a in [0x200, 0x300, 0x200]
                .into_iter()
                .chain(std::iter::repeat_n(0x400, extra))
            {
                w.edge_to(a);
            }
            w.reach(0x400);
            for a in [0x200, 0x300, 0x400] {
                w.begin_node(a, t).unwrap();
            }
            let g = w.finish().unwrap().build();
            let mut l = EdgeLabeler::new(&g).unwrap();
            let [x, y, z, c] =
                ["x", "y", "z", "c"].map(|n| l.table.intern(Label::new(Relation::Attribute, n, 0)));
            let mut named = vec![(0x400, c); extra];
            named.extend([(0x300, x), (0x200, y), (0x200, z)]);
            l.label_node(NodeId(0), &named);
            g.set_edge_labels(l.finish()).unwrap();
            let got: Vec<LabelId> = g
                .labelled_referents(NodeId(0))
                .map(|(_, l)| l)
                .take(3)
                .collect();
            assert_eq!(got, vec![y, x, z], "extra = {extra}");
            assert!(g.labelled_referents(NodeId(0)).skip(3).all(|(_, l)| l == c));
        }
    }

    #[test]
    fn labels_match_edges_by_target_in_any_order() {
        let g = sample_graph(); // edges: 0 -> 1, 1 -> 3, 2 -> 3
        let mut l = EdgeLabeler::new(&g).unwrap();
        let dict = l
            .table
            .intern(Label::new(Relation::Attribute, "__dict__", 0));
        let val = l.table.intern(Label::new(Relation::Index, "'v'", 0));
        let bogus = l.table.intern(Label::new(Relation::Attribute, "gone", 0));
        l.label_node(NodeId(0), &[(0xdead, bogus), (0x200, dict)]);
        l.label_node(NodeId(1), &[(0x400, val)]);
        let labels = l.finish();
        g.set_edge_labels(labels).unwrap();
        let out: Vec<_> = g.labelled_referents(NodeId(0)).collect();
        assert_eq!(out, vec![(NodeId(1), dict)]);
        assert_eq!(
            g.labelled_referents(NodeId(1)).next(),
            Some((NodeId(3), val))
        );
        let (_, unnamed) = g.labelled_referents(NodeId(2)).next().unwrap();
        let labels = g.edge_labels().unwrap();
        assert_eq!(labels.label(unnamed).text(), ".??");
        assert_eq!(labels.label(labels.root(0)).text(), ".i0_modules");
    }
}
