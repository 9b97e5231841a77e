//! Chrome DevTools' `.heapsnapshot`: V8's heap snapshot JSON, written in one stream.
//!
//! The file is one JSON object: `snapshot` (the `meta` that names the fields and the
//! enumerations, node and edge counts), then the flat integer arrays `nodes` (seven
//! fields per node: type, name, id, self_size, edge_count, trace_node_id, detachedness)
//! and `edges` (three per edge: type, name_or_index, to_node — the target's offset in
//! `nodes`, its index times seven), V8's empty trace, sample and location arrays, and
//! `strings`, which the names index. Edges are listed by source in node order, as V8
//! does, which is the graph's CSR order.
//!
//! The mapping (docs/exports.md says it for users):
//! * node 0 is a synthetic root with a `property` edge to each root member, named by
//!   the root's name; if part of the heap is unreachable from the roots (a dump keeps
//!   `heapu()`'s part), the root also has an `internal` edge to a synthetic node
//!   `(unreachable from the roots)` whose `element` edges lead to its entries (see
//!   `reach.rs`), so every node of ours is in the file and reachable from node 0
//!   (DevTools warns about, and mishandles, nodes its root does not reach), while
//!   DevTools, which measures distances from the root's non-synthetic children, keeps
//!   them apart from what the roots hold;
//! * a str is a `string` named by its text (the recorded repr, outer quotes removed),
//!   int/float/bool/complex are `number`s named by their text, functions `closure`s
//!   named by their `__qualname__`, code objects `code`; everything else is an
//!   `object` named by Heapy's kind name (dicts by their owner: `dict of app.Item`,
//!   `dict (no owner)`), so DevTools' Summary groups the heap as heapscope's tables do;
//! * item labels `[i]` are `element` edges with the index; attributes are `property`
//!   edges named without the dot, dict values `property` edges named by the key's repr;
//!   references nothing named are `hidden` (numbered by their position); any other
//!   label is an `internal` edge named by its Heapy text (`->ob_type`, `.keys()[2]`);
//! * node ids are odd (`2 * index + 1`, as V8's heap objects), sizes are capped at
//!   2^32 - 1: DevTools keeps both in 32-bit arrays, and `to_node` offsets too, so a
//!   graph of more than 613 million nodes cannot be written.
//!
//! Strings are not deduplicated (the format allows repeats): the fixed names (types,
//! labels, roots) come first, then the per-node texts in node order, found by the same
//! naming pass that numbered them, so nothing per node is kept between the passes.

use std::borrow::Cow;

use heapscope_core::{Label, LabelOrder, LabelTable, NodeId, Relation, TypeId};

use super::json::JsonOut;
use super::names::{unquote, Builtin, InOrder, Naming};
use super::progress::Ticker;
use super::reach::unreached_entries;
use super::{ExportError, ExportSource};

/// Fields per node and V8's node field order.
const NODE_FIELDS: u64 = 7;
const META: &str = r#"{"node_fields":["type","name","id","self_size","edge_count","trace_node_id","detachedness"],"node_types":[["hidden","array","string","object","code","closure","regexp","number","native","synthetic","concatenated string","sliced string","symbol","bigint","object shape"],"string","number","number","number","number","number"],"edge_fields":["type","name_or_index","to_node"],"edge_types":[["context","element","property","internal","hidden","shortcut","weak"],"string_or_number","node"],"trace_function_info_fields":["function_id","name","script_name","script_id","line","column"],"trace_node_fields":["id","function_info_index","count","size","children"],"sample_fields":["timestamp_us","last_assigned_id"],"location_fields":["object_index","script_id","line","column"]}"#;

/// V8's node types (indices into `node_types[0]`).
mod node_type {
    pub const STRING: u8 = 2;
    pub const OBJECT: u8 = 3;
    pub const CODE: u8 = 4;
    pub const CLOSURE: u8 = 5;
    pub const NUMBER: u8 = 7;
    pub const SYNTHETIC: u8 = 9;
}

/// V8's edge types (indices into `edge_types[0]`).
mod edge_type {
    pub const ELEMENT: u8 = 1;
    pub const PROPERTY: u8 = 2;
    pub const INTERNAL: u8 = 3;
    pub const HIDDEN: u8 = 4;
}

/// How a label is written: its edge type and either a string index or a number.
#[derive(Clone, Copy)]
enum EdgeName {
    /// `element` with this index, or a string-named type with this string.
    Fixed(u8, u32),
    /// `hidden`, numbered by the edge's position among its node's edges.
    Position,
}

/// A node's name: a fixed string, or a text of its own (appended to `strings`).
enum Name<'a> {
    Fixed(u32),
    Text(&'a str),
}

/// The names a node can have that are known before writing: everything but the
/// per-node texts.
struct Names<'a> {
    strings: Vec<Cow<'a, str>>,
    /// By type id: Heapy's kind name; for dict types, also `... (no owner)`.
    type_name: Vec<u32>,
    no_owner: Vec<u32>,
    /// By owner type id: `dict of ...`, made on first use.
    dict_of: Vec<Option<u32>>,
    /// By stored label id.
    labels: Vec<EdgeName>,
    roots: Vec<u32>,
    unreachable: u32,
    unreachable_edge: u32,
}

impl<'a> Names<'a> {
    fn add(&mut self, s: impl Into<Cow<'a, str>>) -> u32 {
        self.strings.push(s.into());
        self.strings.len() as u32 - 1
    }
}

fn fixed_names<'a>(naming: &Naming<'a>) -> Names<'a> {
    let g = naming.g;
    let mut names = Names {
        strings: vec![Cow::Borrowed("")],
        type_name: Vec::new(),
        no_owner: Vec::new(),
        dict_of: vec![None; g.types().len()],
        labels: Vec::new(),
        roots: Vec::new(),
        unreachable: 0,
        unreachable_edge: 0,
    };
    for (t, record) in g.types().iter().enumerate() {
        let name = names.add(record.name.as_str());
        names.type_name.push(name);
        let no_owner = if record.is_dict {
            names.add(format!("{} (no owner)", record.name))
        } else {
            name
        };
        names.no_owner.push(no_owner);
        debug_assert_eq!(names.type_name.len(), t + 1);
    }
    for &(_, owner_type) in g.owned_dicts() {
        if names.dict_of[owner_type.index()].is_none() {
            let s = names.add(format!("dict of {}", naming.type_name(owner_type)));
            names.dict_of[owner_type.index()] = Some(s);
        }
    }
    if let Some(labels) = g.edge_labels() {
        for label in labels.table.labels() {
            let edge = edge_name(label, &mut names);
            names.labels.push(edge);
        }
    }
    for (name, _) in g.roots() {
        let s = names.add(name.as_str());
        names.roots.push(s);
    }
    names.unreachable = names.add("(unreachable from the roots)");
    names.unreachable_edge = names.add("unreachable");
    names
}

fn edge_name<'a>(label: &'a Label, names: &mut Names<'a>) -> EdgeName {
    use edge_type::*;
    match (label.relation, &label.order) {
        (Relation::Unnamed, _) => EdgeName::Position,
        (Relation::Index, LabelOrder::Int(i)) if u32::try_from(*i).is_ok() => {
            EdgeName::Fixed(ELEMENT, *i as u32)
        }
        (Relation::Attribute | Relation::Index, LabelOrder::Text(t)) => {
            EdgeName::Fixed(PROPERTY, names.add(t.as_str()))
        }
        _ => EdgeName::Fixed(INTERNAL, names.add(label.text())),
    }
}

/// Per-node naming, run identically by the node pass and the strings pass.
struct NodeNamer<'a, 'n, T: Iterator<Item = (NodeId, &'a str)>> {
    naming: &'n Naming<'a>,
    names: &'n Names<'a>,
    texts: InOrder<T>,
    owners: InOrder<std::vec::IntoIter<(NodeId, NodeId)>>,
}

impl<'a, T: Iterator<Item = (NodeId, &'a str)>> NodeNamer<'a, '_, T> {
    fn name(&mut self, n: NodeId, t: TypeId) -> (u8, Name<'a>) {
        let fixed = Name::Fixed(self.names.type_name[t.index()]);
        match self.naming.builtin(t) {
            Builtin::Str => (
                node_type::STRING,
                self.texts.at(n).map_or(fixed, |s| Name::Text(unquote(s))),
            ),
            Builtin::Number => (
                node_type::NUMBER,
                self.texts.at(n).map_or(fixed, Name::Text),
            ),
            Builtin::Function => (
                node_type::CLOSURE,
                self.naming.function_name(n).map_or(fixed, Name::Text),
            ),
            Builtin::Code => (node_type::CODE, fixed),
            Builtin::Other if self.naming.g.type_record(t).is_dict => {
                let owner = self.owners.at(n);
                let by_owner = owner.and_then(|o| {
                    let owner_type = self.naming.g.type_of(o);
                    self.names.dict_of[owner_type.index()]
                });
                (
                    node_type::OBJECT,
                    Name::Fixed(by_owner.unwrap_or(self.names.no_owner[t.index()])),
                )
            }
            Builtin::Other => (node_type::OBJECT, fixed),
        }
    }
}

/// Writes the whole `.heapsnapshot` to `out`.
pub(super) fn write(
    source: &ExportSource<'_>,
    out: &mut JsonOut,
    ticker: &mut Ticker<'_>,
) -> Result<(), ExportError> {
    let g = source.graph;
    let n = g.node_count();
    let entries = unreached_entries(g);
    let extra = if entries.is_empty() { 1 } else { 2 };
    let nodes = (n + extra) as u64;
    if nodes * NODE_FIELDS > u64::from(u32::MAX) {
        return Err(ExportError::Unsupported {
            format: "heapsnapshot",
            why: format!(
                "{n} objects: DevTools addresses nodes with 32-bit offsets (at most {})",
                u64::from(u32::MAX) / NODE_FIELDS - extra as u64
            ),
        });
    }
    let naming = Naming::new(g, source.notes);
    let names = fixed_names(&naming);
    let edges = g.edge_count().unwrap_or(0) + g.roots().len() + entries.len() + extra - 1;
    let namer = || NodeNamer {
        naming: &naming,
        names: &names,
        texts: naming.texts(),
        owners: InOrder::new(naming.owners().into_iter()),
    };

    out.raw(b"{\"snapshot\":{\"meta\":");
    out.raw(META.as_bytes());
    out.raw(b",\"node_count\":");
    out.uint(nodes);
    out.raw(b",\"edge_count\":");
    out.uint(edges as u64);
    out.raw(b",\"trace_function_count\":0},\n\"nodes\":[");
    // the synthetic root and the unreachable part's node
    let root_edges = g.roots().len() + extra - 1;
    write_node(out, node_type::SYNTHETIC, 0, 0, 0, root_edges);
    if !entries.is_empty() {
        out.byte(b',');
        write_node(
            out,
            node_type::SYNTHETIC,
            u64::from(names.unreachable),
            1,
            0,
            entries.len(),
        );
    }
    let mut next_text = names.strings.len() as u64;
    let mut namer_1 = namer();
    for k in 0..n {
        let v = NodeId(k as u32);
        let t = g.type_of(v);
        let (kind, name) = namer_1.name(v, t);
        let name = match name {
            Name::Fixed(s) => u64::from(s),
            Name::Text(_) => {
                next_text += 1;
                next_text - 1
            }
        };
        let degree = if g.has_edges() {
            g.referents(v).len()
        } else {
            0
        };
        out.byte(b',');
        write_node(out, kind, name, (k + extra) as u64, g.size_of(v), degree);
        out.spill()?;
        ticker.tick()?;
    }
    drop(namer_1);

    out.raw(b"],\n\"edges\":[");
    let to_node = |v: NodeId| (v.index() + extra) as u64 * NODE_FIELDS;
    let mut first = true;
    let mut edge = |out: &mut JsonOut, kind: u8, name: u64, to: u64| {
        if !std::mem::take(&mut first) {
            out.byte(b',');
        }
        out.uint(u64::from(kind));
        out.byte(b',');
        out.uint(name);
        out.byte(b',');
        out.uint(to);
        out.byte(b'\n');
    };
    for (k, &(_, r)) in g.roots().iter().enumerate() {
        edge(
            out,
            edge_type::PROPERTY,
            u64::from(names.roots[k]),
            to_node(r),
        );
    }
    if !entries.is_empty() {
        edge(
            out,
            edge_type::INTERNAL,
            u64::from(names.unreachable_edge),
            NODE_FIELDS,
        );
        for (i, &e) in entries.iter().enumerate() {
            edge(out, edge_type::ELEMENT, i as u64, to_node(e));
        }
    }
    let labels = g.edge_labels();
    for k in 0..n {
        let v = NodeId(k as u32);
        if g.has_edges() {
            let range = g.edge_range(v);
            for (j, (&t, e)) in g.referents(v).iter().zip(range).enumerate() {
                let name = match labels.map(|l| l.edge(e)) {
                    Some(l) => match LabelTable::item_index(l) {
                        Some(i) => EdgeName::Fixed(edge_type::ELEMENT, i),
                        None => names.labels[l.index()],
                    },
                    None => EdgeName::Position,
                };
                let (kind, name) = match name {
                    EdgeName::Fixed(kind, s) => (kind, u64::from(s)),
                    EdgeName::Position => (edge_type::HIDDEN, j as u64),
                };
                edge(out, kind, name, to_node(t));
            }
        }
        out.spill()?;
        ticker.tick()?;
    }

    out.raw(b"],\n\"trace_function_infos\":[],\n\"trace_tree\":[],\n\"samples\":[],\n\"locations\":[],\n\"strings\":[");
    for (i, s) in names.strings.iter().enumerate() {
        if i > 0 {
            out.byte(b',');
        }
        out.string(s);
        out.byte(b'\n');
    }
    let mut namer_2 = namer();
    for k in 0..n {
        let v = NodeId(k as u32);
        if let (_, Name::Text(s)) = namer_2.name(v, g.type_of(v)) {
            out.byte(b',');
            out.string(s);
            out.byte(b'\n');
        }
        out.spill()?;
        ticker.tick()?;
    }
    out.raw(b"]}\n");
    Ok(())
}

/// One node's seven fields (the id is `2 * index + 1`).
fn write_node(out: &mut JsonOut, kind: u8, name: u64, index: u64, size: u64, edges: usize) {
    out.uint(u64::from(kind));
    out.byte(b',');
    out.uint(name);
    out.byte(b',');
    out.uint(2 * index + 1);
    out.byte(b',');
    out.uint(size.min(u64::from(u32::MAX)));
    out.byte(b',');
    out.uint(edges as u64);
    out.raw(b",0,0\n");
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::super::{sample, ExportFormat};
    use super::*;

    /// The exported sample as a DevTools reader sees it: per node (type, name, id,
    /// size) and per edge (source index, type, name, target index).
    struct Read {
        nodes: Vec<(String, String, u64, u64)>,
        edges: Vec<(usize, String, String, usize)>,
        json: Value,
    }

    fn read(name: &str, g: &heapscope_core::HeapGraph, notes: &heapscope_core::GraphNotes) -> Read {
        let (dir, path) = sample::exported(ExportFormat::Heapsnapshot, name, g, notes);
        let json: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        std::fs::remove_dir_all(dir).unwrap();
        let meta = &json["snapshot"]["meta"];
        let node_types = meta["node_types"][0].as_array().unwrap();
        let edge_types = meta["edge_types"][0].as_array().unwrap();
        let strings = json["strings"].as_array().unwrap();
        let s = |i: &Value| {
            strings[i.as_u64().unwrap() as usize]
                .as_str()
                .unwrap()
                .to_string()
        };
        let raw_nodes = json["nodes"].as_array().unwrap();
        let raw_edges = json["edges"].as_array().unwrap();
        assert_eq!(raw_nodes.len() % 7, 0);
        assert_eq!(raw_edges.len() % 3, 0);
        let (mut nodes, mut edges) = (Vec::new(), Vec::new());
        let mut e = 0;
        for (i, f) in raw_nodes.chunks(7).enumerate() {
            let kind = node_types[f[0].as_u64().unwrap() as usize]
                .as_str()
                .unwrap();
            nodes.push((
                kind.to_string(),
                s(&f[1]),
                f[2].as_u64().unwrap(),
                f[3].as_u64().unwrap(),
            ));
            for _ in 0..f[4].as_u64().unwrap() {
                let ef = &raw_edges[3 * e..3 * e + 3];
                let etype = edge_types[ef[0].as_u64().unwrap() as usize]
                    .as_str()
                    .unwrap();
                let name = match etype {
                    "element" | "hidden" => ef[1].to_string(),
                    _ => s(&ef[1]),
                };
                let to = ef[2].as_u64().unwrap() as usize;
                assert_eq!(to % 7, 0);
                edges.push((i, etype.to_string(), name, to / 7));
                e += 1;
            }
        }
        assert_eq!(e * 3, raw_edges.len(), "every edge belongs to a node");
        assert_eq!(json["snapshot"]["node_count"], nodes.len());
        assert_eq!(json["snapshot"]["edge_count"], edges.len());
        Read { nodes, edges, json }
    }

    #[test]
    fn the_sample_heap_reads_back_as_devtools_sees_it() {
        let (g, notes) = sample::graph();
        let r = read("v8-sample", &g, &notes);
        let n = g.node_count();
        // the synthetic root, the unreachable part's node, then ours in order
        assert_eq!(r.nodes.len(), n + 2);
        assert_eq!(r.nodes[0].0, "synthetic");
        assert_eq!(
            r.nodes[1],
            (
                "synthetic".into(),
                "(unreachable from the roots)".into(),
                3,
                0
            )
        );
        let ours = &r.nodes[2..];
        let ids: Vec<u64> = r.nodes.iter().map(|n| n.2).collect();
        assert!(ids.iter().all(|id| id % 2 == 1));
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids unique: {ids:?}");
        for (k, node) in ours.iter().enumerate() {
            assert_eq!(node.3, sample::size(k as u32));
        }
        let kinds: Vec<(&str, &str)> = ours.iter().map(|n| (n.0.as_str(), n.1.as_str())).collect();
        assert_eq!(
            kinds,
            vec![
                ("object", "module"),
                ("object", "dict of module"),
                ("object", "list"),
                ("object", "app.Item"),
                ("object", "dict of app.Item"),
                ("string", &sample::NASTY[1..sample::NASTY.len() - 1]),
                ("number", "42"),
                ("closure", "make_item"),
                ("string", "make_item"),
                ("object", "app.Item"),
                ("object", "list"),
                ("object", "list"),
                ("string", "held"),
            ]
        );
        // the root's edges: named roots, then the unreachable part
        let from = |i: usize| -> Vec<(String, String, usize)> {
            r.edges
                .iter()
                .filter(|e| e.0 == i)
                .map(|e| (e.1.clone(), e.2.clone(), e.3))
                .collect()
        };
        let p = |t: &str, name: &str, to: usize| (t.to_string(), name.to_string(), to);
        assert_eq!(
            from(0),
            vec![
                p("property", "i0_modules", 2),
                p("property", "i0_t140_f0:main.f_locals['x']", 7),
                p("internal", "unreachable", 1),
            ]
        );
        // the holder nothing refers to first, then the cycle nothing holds
        assert_eq!(from(1), vec![p("element", "0", 13), p("element", "1", 11)]);
        assert_eq!(from(2), vec![p("property", "__dict__", 3)]);
        assert_eq!(
            from(3),
            vec![
                p("property", "'items'", 4),
                p("property", "'make_item'", 9),
                p("property", "'answer'", 8)
            ]
        );
        assert_eq!(from(4), vec![p("element", "0", 5), p("element", "1", 7)]);
        assert_eq!(
            from(5),
            vec![p("property", "__dict__", 6), p("hidden", "1", 8)]
        );
        assert_eq!(
            from(9),
            vec![
                p("property", "__qualname__", 10),
                p("internal", "->func_defaults", 8)
            ]
        );
        // a path from the root to the str the instance's dict holds
        let step = |at: usize, name: &str| {
            r.edges
                .iter()
                .find(|e| e.0 == at && e.2 == name)
                .map(|e| e.3)
                .unwrap()
        };
        let item = step(
            step(step(step(0, "i0_modules"), "__dict__"), "'items'"),
            "0",
        );
        assert_eq!(step(step(item, "__dict__"), "'name'"), 7);
        for key in ["trace_function_infos", "trace_tree", "samples", "locations"] {
            assert_eq!(r.json[key], Value::Array(vec![]), "{key}");
        }
    }

    #[test]
    fn a_heap_the_roots_reach_whole_has_no_unreachable_node() {
        let mut parts = sample::parts();
        parts.roots.push(heapscope_core::RootPart {
            name: "i0_extra".into(),
            node: NodeId(11),
        });
        parts.roots.push(heapscope_core::RootPart {
            name: "i0_cycle".into(),
            node: NodeId(10),
        });
        let (g, notes) = heapscope_core::HeapGraph::from_parts(parts).unwrap();
        let r = read("v8-whole", &g, &notes);
        assert_eq!(r.nodes.len(), g.node_count() + 1);
        assert!(r.nodes[1..].iter().all(|n| n.0 != "synthetic"));
        assert_eq!(r.edges.iter().filter(|e| e.0 == 0).count(), 4);
        // distances from the root (DevTools' BFS) reach every node
        let mut dist = vec![usize::MAX; r.nodes.len()];
        dist[0] = 0;
        let mut frontier = vec![0];
        while let Some(v) = frontier.pop() {
            for e in r.edges.iter().filter(|e| e.0 == v) {
                if dist[e.3] == usize::MAX {
                    dist[e.3] = dist[v] + 1;
                    frontier.insert(0, e.3);
                }
            }
        }
        assert!(dist.iter().all(|&d| d != usize::MAX), "{dist:?}");
    }
}
