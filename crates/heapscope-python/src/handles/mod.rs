//! The Python classes of `heapscope._native` over one captured graph, one file per
//! class: `LiveGraph` (`graph`, its dominator rows in `dominators`), `NodeSet`
//! (`nodeset`), `Partition` (`partition`), byid rows (`byid`) and shortest paths
//! (`paths`); `export` runs `LiveGraph.export`; `class_groups` holds the groupings of Heapy's derived relations that sets
//! delegate to. Helpers shared by several classes are here. All algebra runs in the
//! core crate; these types only convert between node ids and Python objects.

pub mod byid;
pub mod class_groups;
mod dominators;
mod export;
pub mod graph;
pub mod nodeset;
pub mod partition;
pub mod paths;
pub mod proxy;
pub mod snapshot_io;

use heapscope_core::{HeapGraph, KindKey, NodeId, NodeSet};
use pyo3::prelude::*;

pub use graph::LiveGraph;
pub use nodeset::NodeSetHandle;
pub use partition::PartitionHandle;

use crate::errors::CaptureError;
use crate::live::text::module_name_at;

/// The `__name__` of module node `n`: read from the live module, or the name a
/// snapshot recorded.
fn node_module_name(py: Python<'_>, lg: &LiveGraph, n: NodeId) -> Option<String> {
    match lg.notes() {
        None => module_name_at(py, lg.graph.address(n)),
        Some(notes) => notes.text(n).map(str::to_string),
    }
}

/// Names the kinds a graph cannot name itself (modules, by their `__name__`).
pub fn module_name(py: Python<'_>, lg: &LiveGraph, key: KindKey) -> String {
    match key {
        KindKey::Module(n) => node_module_name(py, lg, n).unwrap_or_else(|| "?".to_string()),
        _ => String::new(),
    }
}

/// The members of `set` that are modules named `name`.
pub fn modules_named(py: Python<'_>, lg: &LiveGraph, set: &NodeSet, name: &str) -> NodeSet {
    let g = &lg.graph;
    NodeSet::from_ids(
        set.universe(),
        set.iter().filter(|&n| {
            g.type_record(g.type_of(n)).is_module
                && node_module_name(py, lg, n).as_deref() == Some(name)
        }),
    )
}

/// An error unless `g` recorded edges (every query over references needs them).
pub fn require_edges(g: &HeapGraph) -> PyResult<()> {
    if g.has_edges() {
        Ok(())
    } else {
        Err(CaptureError::new_err(
            "this capture recorded no edges (capture_graph(edges=True) records them)",
        ))
    }
}
