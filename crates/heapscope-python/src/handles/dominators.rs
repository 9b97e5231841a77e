//! The rows `LiveGraph`'s dominator-tree methods return (`immediate_dominator`,
//! `dominator_children`, `largest_retainers`), made from the whole-heap
//! `DominatorTree` the graph computes on first use. The methods themselves are in
//! `graph.rs`, in the class's one `#[pymethods]` block (the crate does not enable PyO3's
//! `multiple-pymethods`); here node ids become objects and kind names.

use heapscope_core::{Classifier, Dominator, DominatorTree, HeapGraph, NodeId, NodeSet, Partition};
use pyo3::prelude::*;

use super::module_name;
use crate::errors::to_pyerr;
use crate::live::object_at;

/// `(object, retained size, objects dominated, kind name)`: a largest-retainers row.
pub type RetainerRow = (Py<PyAny>, u64, u32, String);

/// `n`'s immediate dominator: `(kind, object)` with kind `"node"`, `"root"` (no single
/// object dominates it) or `"unreachable"`.
pub fn immediate_dominator(
    py: Python<'_>,
    g: &HeapGraph,
    tree: &DominatorTree,
    n: NodeId,
) -> (&'static str, Option<Py<PyAny>>) {
    match tree.idom(n) {
        Some(Dominator::Node(d)) => ("node", Some(object_at(py, g.address(d)))),
        Some(Dominator::Root) => ("root", None),
        None => ("unreachable", None),
    }
}

/// The `k` objects `n` immediately dominates with the largest retained sizes:
/// `(object, retained size)`, largest first.
pub fn largest_children(
    py: Python<'_>,
    g: &HeapGraph,
    tree: &DominatorTree,
    n: NodeId,
    k: usize,
) -> Vec<(Py<PyAny>, u64)> {
    let mut kids: Vec<NodeId> = tree.children(n).to_vec();
    kids.sort_unstable_by_key(|&c| (std::cmp::Reverse(tree.retained_size(c)), c));
    kids.truncate(k);
    kids.into_iter()
        .map(|c| (object_at(py, g.address(c)), tree.retained_size(c)))
        .collect()
}

/// The `k` objects with the largest retained sizes: `(object, retained size, objects
/// dominated (itself included), kind name (Clodo))`.
pub fn largest_retainers(
    py: Python<'_>,
    g: &HeapGraph,
    tree: &DominatorTree,
    k: usize,
) -> PyResult<Vec<RetainerRow>> {
    tree.largest_retainers(k)
        .into_iter()
        .map(|n| {
            let one = NodeSet::from_ids(g.node_count(), [n]);
            let part = Partition::new(g, &one, &[Classifier::Clodo], |key| module_name(py, g, key))
                .map_err(to_pyerr)?;
            let kind = part
                .rows
                .first()
                .map_or_else(String::new, |r| r.name.clone());
            Ok((
                object_at(py, g.address(n)),
                tree.retained_size(n),
                tree.dominated_count(n),
                kind,
            ))
        })
        .collect()
}
