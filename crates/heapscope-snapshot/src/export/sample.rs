//! A small hand-built heap for the exports' tests: a module, its globals, a list of an
//! instance and a str, a function named through `.__qualname__`, texts that need
//! escaping, every kind of label, two roots, and an unreachable part (a holder nothing
//! refers to, and a cycle nothing holds).

use heapscope_core::{
    EdgeParts, GraphNotes, GraphParts, HeapGraph, Label, LabelId, LabelTable, NodeId, NodeParts,
    Relation, RootPart, TypeId, TypePart, NODE_UNREACHABLE,
};

/// The str text that needs every kind of escaping (a repr as a dump records it).
pub(crate) const NASTY: &str = "'q\"uo\\te \u{1} clé 雪'";

pub(crate) const TYPES: [(&str, &str, &str); 8] = [
    ("object", "builtins", "object"),
    ("dict", "builtins", "dict"),
    ("list", "builtins", "list"),
    ("str", "builtins", "str"),
    ("int", "builtins", "int"),
    ("function", "builtins", "function"),
    ("app.Item", "app", "Item"),
    ("module", "builtins", "module"),
];

/// `(source, target, label)`; labels: `Ok(i)` an item `[i]`, `Err((relation, text))`.
type EdgeSpec = (u32, u32, Result<u32, (Relation, &'static str)>);

pub(crate) const EDGES: [EdgeSpec; 14] = [
    (0, 1, Err((Relation::Attribute, "__dict__"))),
    (1, 2, Err((Relation::Index, "'items'"))),
    (1, 7, Err((Relation::Index, "'make_item'"))),
    (1, 6, Err((Relation::Index, "'answer'"))),
    (2, 3, Ok(0)),
    (2, 5, Ok(1)),
    (3, 4, Err((Relation::Attribute, "__dict__"))),
    (3, 6, Err((Relation::Unnamed, ""))),
    (4, 5, Err((Relation::Index, "'name'"))),
    (7, 8, Err((Relation::Attribute, "__qualname__"))),
    (7, 6, Err((Relation::Internal, "func_defaults"))),
    (9, 10, Err((Relation::Attribute, "peer"))),
    (10, 9, Ok(0)),
    (11, 12, Ok(0)),
];

/// Node types by id; nodes 11 -> 12 are a holder and what it holds (unreachable too).
pub(crate) const NODE_TYPES: [u32; 13] = [7, 1, 2, 6, 1, 3, 4, 5, 3, 6, 2, 2, 3];

pub(crate) fn address(n: u32) -> u64 {
    0x7f00_1000 + 0x40 * u64::from(n)
}

pub(crate) fn size(n: u32) -> u64 {
    100 + 8 * u64::from(n)
}

pub(crate) const ROOTS: [(&str, u32); 2] =
    [("i0_modules", 0), ("i0_t140_f0:main.f_locals['x']", 5)];

pub(crate) fn parts() -> GraphParts<'static> {
    let types = TYPES
        .iter()
        .enumerate()
        .map(|(i, &(name, module, qualname))| TypePart {
            address: 0x5500 + 0x40 * i as u64,
            name: name.into(),
            module: module.into(),
            qualname: qualname.into(),
            is_dict: name == "dict",
            is_module: name == "module",
            mro: if i == 0 { vec![] } else { vec![TypeId(0)] },
        })
        .collect();
    let mut edges = EDGES.to_vec();
    edges.sort_by_key(|e| e.0); // CSR order, a node's edges as listed
    let mut labels: Vec<Label> = Vec::new();
    let mut starts = vec![0u32];
    let (mut targets, mut ids) = (Vec::new(), Vec::new());
    for v in 0..NODE_TYPES.len() as u32 {
        for &(_, t, l) in edges.iter().filter(|e| e.0 == v) {
            targets.push(NodeId(t));
            ids.push(match l {
                Ok(i) => LabelTable::item_label(i),
                Err((relation, text)) => {
                    labels.push(Label::new(relation, text, 0));
                    LabelId(labels.len() as u32 - 1)
                }
            });
        }
        starts.push(targets.len() as u32);
    }
    let n = NODE_TYPES.len() as u32;
    GraphParts {
        meta: vec![("python_version".into(), "3.12.1".into())],
        types,
        nodes: NodeParts {
            addresses: (0..n).map(address).collect::<Vec<_>>().into(),
            types: NODE_TYPES.map(TypeId).to_vec().into(),
            sizes: (0..n).map(size).collect::<Vec<_>>().into(),
            flags: (0..n)
                .map(|i| if i >= 9 { NODE_UNREACHABLE } else { 0 })
                .collect(),
        },
        edges: Some(EdgeParts {
            starts: starts.into(),
            targets: targets.into(),
            labels: ids.into(),
        }),
        labels,
        dict_owners: vec![(NodeId(4), NodeId(3)), (NodeId(1), NodeId(0))],
        roots: ROOTS
            .iter()
            .map(|&(name, node)| RootPart {
                name: name.into(),
                node: NodeId(node),
            })
            .collect(),
        threads: vec![],
        texts: [
            (NodeId(0), "app"),
            (NodeId(2), "*2"),
            (NodeId(5), NASTY),
            (NodeId(6), "42"),
            (NodeId(8), "'make_item'"),
            (NodeId(12), "'held'"),
        ]
        .into_iter()
        .collect(),
        sites: vec![],
        node_sites: vec![],
    }
}

pub(crate) fn graph() -> (HeapGraph, GraphNotes) {
    HeapGraph::from_parts(parts()).unwrap()
}

/// A scratch directory of the test's own.
pub(crate) fn scratch(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("hs-export-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `g` exported as `format` into a new scratch directory: (the directory, the output).
pub(crate) fn exported(
    format: super::ExportFormat,
    name: &str,
    g: &HeapGraph,
    notes: &GraphNotes,
) -> (std::path::PathBuf, std::path::PathBuf) {
    let dir = scratch(name);
    let out = dir.join(format!("x.{}", format.name()));
    let source = super::ExportSource {
        graph: g,
        notes,
        dominators: None,
    };
    super::export(&source, format, &out, &mut |_, _| {
        std::ops::ControlFlow::Continue(())
    })
    .unwrap();
    (dir, out)
}
