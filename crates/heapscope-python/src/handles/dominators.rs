//! The rows `LiveGraph`'s dominator-tree methods return (`immediate_dominator`,
//! `dominator_children`, `largest_retainers`, `largest_retained_in`, `root_children`), made from the whole-heap
//! `DominatorTree` the graph computes on first use. The methods themselves are in
//! `graph.rs`, in the class's one `#[pymethods]` block (the crate does not enable PyO3's
//! `multiple-pymethods`); here node ids become objects and kind names.

use heapscope_core::{Classifier, Dominator, DominatorTree, NodeId, NodeSet, Partition};
use pyo3::prelude::*;

use super::proxy::node_object;
use super::{module_name, LiveGraph};
use crate::errors::to_pyerr;

/// `(object, retained size, objects dominated, kind name)`: a largest-retainers row.
pub type RetainerRow = (Py<PyAny>, u64, u32, String);

/// `n`'s immediate dominator: `(kind, object)` with kind `"node"`, `"root"` (no single
/// object dominates it) or `"unreachable"`.
pub fn immediate_dominator(
    py: Python<'_>,
    graph: &Py<LiveGraph>,
    tree: &DominatorTree,
    n: NodeId,
) -> PyResult<(&'static str, Option<Py<PyAny>>)> {
    Ok(match tree.idom(n) {
        Some(Dominator::Node(d)) => ("node", Some(node_object(py, graph, d)?)),
        Some(Dominator::Root) => ("root", None),
        None => ("unreachable", None),
    })
}

/// The `k` objects `n` immediately dominates with the largest retained sizes:
/// `(object, retained size)`, largest first.
pub fn largest_children(
    py: Python<'_>,
    graph: &Py<LiveGraph>,
    tree: &DominatorTree,
    n: NodeId,
    k: usize,
) -> PyResult<Vec<(Py<PyAny>, u64)>> {
    let mut kids: Vec<NodeId> = tree.children(n).to_vec();
    kids.sort_unstable_by_key(|&c| (std::cmp::Reverse(tree.retained_size(c)), c));
    kids.truncate(k);
    kids.into_iter()
        .map(|c| Ok((node_object(py, graph, c)?, tree.retained_size(c))))
        .collect()
}

/// A page of `(object, retained size)` rows and the total they are a page of.
pub type RetainedPage = (Vec<(Py<PyAny>, u64)>, usize);

/// A page of `(node, retained size)` as `(object, retained size)` rows.
pub fn retained_rows(
    py: Python<'_>,
    graph: &Py<LiveGraph>,
    page: Vec<(NodeId, u64)>,
) -> PyResult<Vec<(Py<PyAny>, u64)>> {
    page.into_iter()
        .map(|(n, r)| Ok((node_object(py, graph, n)?, r)))
        .collect()
}

/// The `k` objects with the largest retained sizes: `(object, retained size, objects
/// dominated (itself included), kind name (Clodo))`.
pub fn largest_retainers(
    py: Python<'_>,
    graph: &Py<LiveGraph>,
    tree: &DominatorTree,
    k: usize,
) -> PyResult<Vec<RetainerRow>> {
    let lg = graph.get();
    let g = &lg.graph;
    tree.largest_retainers(k)
        .into_iter()
        .map(|n| {
            let one = NodeSet::from_ids(g.node_count(), [n]);
            let part = Partition::new(g, &one, &[Classifier::Clodo], |key| {
                module_name(py, lg, key)
            })
            .map_err(to_pyerr)?;
            let kind = part
                .rows
                .first()
                .map_or_else(String::new, |r| r.name.clone());
            Ok((
                node_object(py, graph, n)?,
                tree.retained_size(n),
                tree.dominated_count(n),
                kind,
            ))
        })
        .collect()
}
