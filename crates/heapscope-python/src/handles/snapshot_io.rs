//! Snapshot files from the binding's side: a live graph written with everything a file
//! needs (every edge labelled, full type records, value texts, dict owner nodes, the
//! unreachable part flagged, threads, allocation sites, metadata), and a file read back
//! as a graph without objects. The format itself is `heapscope-snapshot`'s.

use std::path::Path;
use std::sync::mpsc;

use heapscope_core::{
    GraphNotes, GraphParts, HeapGraph, NodeId, NodeTexts, SitePart, ThreadPart, TypeId, TypePart,
    NODE_UNREACHABLE,
};
use heapscope_snapshot::{read_snapshot as read_parts, write_snapshot_staged};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use super::{require_edges, LiveGraph, NodeSetHandle};
use crate::errors::{snapshot_err, to_pyerr, SnapshotError};
use crate::live::value_text::value_text;
use crate::live::{relate, shim};

/// A type as the Python layer describes it for a dump: `(address, Heapy name,
/// __module__, __qualname__, MRO after the type as indices into the same table)`.
pub type TypeRow = (u64, String, String, String, Vec<u32>);

/// What a dump writes besides the graph, as the Python layer gathers it.
pub struct DumpExtras {
    pub meta: Vec<(String, String)>,
    pub types: Vec<TypeRow>,
    pub threads: Vec<(u64, String)>,
    /// `(filename, lineno, addresses of the objects allocated there)`.
    pub sites: Vec<(String, u32, Vec<u64>)>,
    /// Value texts are cut to this many characters.
    pub text_cap: usize,
}

/// Writes the live graph `lg` to `path` (atomically), `unreachable` flagged.
pub fn write(
    py: Python<'_>,
    lg: &LiveGraph,
    path: &str,
    unreachable: &NodeSetHandle,
    extras: DumpExtras,
) -> PyResult<()> {
    if !lg.is_live() {
        return Err(SnapshotError::new_err(
            "a snapshot cannot be dumped again: copy its file instead",
        ));
    }
    let g = &lg.graph;
    require_edges(g)?;
    if !std::ptr::eq(&unreachable.graph.get().graph, g) {
        return Err(PyValueError::new_err(
            "the unreachable set belongs to another graph",
        ));
    }
    let types = type_parts(g, extras.types)?;
    let mut flags = vec![0u8; g.node_count()];
    for n in unreachable.set.iter() {
        flags[n.index()] |= NODE_UNREACHABLE;
    }
    // The file is written while its later parts are made: the node columns are encoded
    // and compressed (other threads, no Python) while this thread, holding the GIL,
    // names every edge and renders the values.
    let early = GraphParts {
        meta: extras.meta,
        types,
        nodes: g.node_parts(flags).map_err(to_pyerr)?,
        ..GraphParts::default()
    };
    let (send, later) = mpsc::channel::<GraphParts<'_>>();
    std::thread::scope(|scope| -> PyResult<()> {
        let early = &early;
        let writer = scope.spawn(move || write_snapshot_staged(Path::new(path), early, later));
        let made = (|| -> PyResult<()> {
            relate::edge_labels(py, g).map_err(to_pyerr)?;
            let (edges, labels) = g
                .edge_parts()
                .map_err(to_pyerr)?
                .expect("a dump's capture has edges");
            let _ = send.send(GraphParts {
                edges: Some(edges),
                labels,
                ..GraphParts::default()
            });
            let (sites, node_sites) = site_parts(g, extras.sites);
            let _ = send.send(GraphParts {
                dict_owners: owner_nodes(g),
                roots: g.root_parts(),
                threads: extras
                    .threads
                    .into_iter()
                    .map(|(id, name)| ThreadPart { id, name })
                    .collect(),
                texts: value_texts(py, g, extras.text_cap),
                sites,
                node_sites,
                ..GraphParts::default()
            });
            Ok(())
        })();
        drop(send); // a failure above ends the writer, which then removes its file
                    // wait without the GIL: other threads of the process run meanwhile
        let written = py.detach(|| writer.join());
        made?;
        written
            .unwrap_or_else(|_| {
                Err(heapscope_snapshot::SnapshotError::Io {
                    action: "cannot write",
                    path: path.into(),
                    source: std::io::Error::other("the snapshot writer panicked"),
                })
            })
            .map_err(snapshot_err)
    })
}

/// The type table of a dump: the graph's own types first, in id order, then the types
/// only their MROs name.
fn type_parts(g: &HeapGraph, rows: Vec<TypeRow>) -> PyResult<Vec<TypePart>> {
    let own = g.types();
    let count = rows.len();
    rows.into_iter()
        .enumerate()
        .map(|(k, (address, name, module, qualname, mro))| {
            let record = own.get(k);
            if record.is_some_and(|r| r.address != address) || (record.is_none() && k < own.len()) {
                return Err(PyValueError::new_err(
                    "the type table does not list the graph's types in order",
                ));
            }
            if mro.iter().any(|&b| b as usize >= count) {
                return Err(PyValueError::new_err(
                    "a type's MRO names a type not in the table",
                ));
            }
            Ok(TypePart {
                address,
                name,
                module,
                qualname,
                is_dict: record.is_some_and(|r| r.is_dict),
                is_module: record.is_some_and(|r| r.is_module),
                mro: mro.into_iter().map(TypeId).collect(),
            })
        })
        .collect()
}

/// `(dict, owner)` for every owned dict: the node of the dict's recorded owner type
/// whose `__dict__` pointer is the dict (read by the shim: nothing is materialised, no
/// Python code runs; one pass over the nodes, no referrer index needed).
fn owner_nodes(g: &HeapGraph) -> Vec<(NodeId, NodeId)> {
    let mut owner_type = vec![false; g.types().len()];
    for &(_, t) in g.owned_dicts() {
        owner_type[t.index()] = true;
    }
    let mut pairs = Vec::with_capacity(g.owned_dicts().len());
    for k in 0..g.node_count() {
        let owner = NodeId(k as u32);
        let t = g.type_of(owner);
        if !owner_type[t.index()] {
            continue;
        }
        // Safety: every node of a live graph holds a strong reference to its object.
        let d = unsafe { shim::hs_owned_dict(g.address(owner) as *mut pyo3::ffi::PyObject) };
        if let Some(dict) = (!d.is_null()).then(|| g.node_of(d as u64)).flatten() {
            if g.dict_owner(dict) == Some(t) {
                pairs.push((dict, owner));
            }
        }
    }
    pairs.sort_unstable();
    pairs.dedup_by_key(|&mut (d, _)| d);
    pairs
}

/// The short texts of the nodes that have one.
fn value_texts(py: Python<'_>, g: &HeapGraph, cap: usize) -> NodeTexts {
    let mut texts = NodeTexts::default();
    let mut text = String::new();
    for k in 0..g.node_count() {
        let n = NodeId(k as u32);
        // Safety: every node of a live graph holds a strong reference to its object.
        let obj = g.address(n) as *mut pyo3::ffi::PyObject;
        if value_text(py, obj, cap, &mut text) {
            texts.push(n, &text).expect("nodes in increasing order");
        }
    }
    texts
}

fn site_parts(
    g: &HeapGraph,
    sites: Vec<(String, u32, Vec<u64>)>,
) -> (Vec<SitePart>, Vec<(NodeId, u32)>) {
    let mut parts = Vec::with_capacity(sites.len());
    let mut node_sites = Vec::new();
    for (k, (filename, lineno, addresses)) in sites.into_iter().enumerate() {
        parts.push(SitePart { filename, lineno });
        node_sites.extend(
            addresses
                .into_iter()
                .filter_map(|a| g.node_of(a))
                .map(|n| (n, k as u32)),
        );
    }
    node_sites.sort_unstable();
    (parts, node_sites)
}

/// Reads a snapshot file into a graph without objects.
#[pyfunction]
pub fn read_snapshot(py: Python<'_>, path: &str) -> PyResult<LiveGraph> {
    let (graph, notes) = py.detach(|| -> PyResult<(HeapGraph, GraphNotes)> {
        let parts = read_parts(Path::new(path)).map_err(snapshot_err)?;
        HeapGraph::from_parts(parts).map_err(to_pyerr)
    })?;
    Ok(LiveGraph::from_snapshot(graph, notes))
}
