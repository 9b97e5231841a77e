//! The binding side of Heapy's relations derived from any relation (`R.refdby`,
//! `R.dictof`, `R1 & R2`): Python partitions the objects involved by R and passes the
//! classes as sets; the grouping itself is `heapscope_core::class_groups`.

use heapscope_core::{
    dict_owner_pairs, group_by_class_tuples, group_by_referrer_classes, group_dicts_by_owner_class,
    ClassMap, NodeSet,
};
use pyo3::prelude::*;

use super::{require_edges, NodeSetHandle, PartitionHandle};
use crate::live::shim;

/// The classes as a node -> class map, and their number: the rows of a Partition of
/// `of`'s graph (no set per row is made), or a sequence of disjoint sets of that graph.
fn class_map(of: &NodeSetHandle, classes: &Bound<'_, PyAny>) -> PyResult<(ClassMap, usize)> {
    if let Ok(part) = classes.cast::<PartitionHandle>() {
        return part.get().class_map(of);
    }
    let sets: Vec<PyRef<'_, NodeSetHandle>> = classes.extract()?;
    let mut owned = Vec::with_capacity(sets.len());
    for c in &sets {
        of.same_graph(c)?;
        owned.push(c.set.clone());
    }
    Ok((ClassMap::new(of.set.universe(), &owned), owned.len()))
}

fn handle(py: Python<'_>, of: &NodeSetHandle, set: NodeSet) -> NodeSetHandle {
    NodeSetHandle {
        graph: of.graph.clone_ref(py),
        set,
    }
}

fn keyed(
    py: Python<'_>,
    of: &NodeSetHandle,
    groups: Vec<(Vec<u32>, NodeSet)>,
) -> Vec<(Vec<u32>, NodeSetHandle)> {
    groups
        .into_iter()
        .map(|(key, set)| (key, handle(py, of, set)))
        .collect()
}

/// Members grouped by the sorted class indices of their referrers.
pub fn by_referrer_classes(
    py: Python<'_>,
    of: &NodeSetHandle,
    classes: &Bound<'_, PyAny>,
) -> PyResult<Vec<(Vec<u32>, NodeSetHandle)>> {
    let g = &of.graph.get().graph;
    require_edges(g)?;
    let (map, _) = class_map(of, classes)?;
    Ok(keyed(py, of, group_by_referrer_classes(g, &of.set, &map)))
}

/// Members grouped by their tuple of class indices, one per factor.
pub fn by_class_tuples(
    py: Python<'_>,
    of: &NodeSetHandle,
    factors: &[Bound<'_, PyAny>],
) -> PyResult<Vec<(Vec<u32>, NodeSetHandle)>> {
    let maps = factors
        .iter()
        .map(|classes| class_map(of, classes).map(|(m, _)| m))
        .collect::<PyResult<Vec<_>>>()?;
    Ok(keyed(py, of, group_by_class_tuples(&of.set, &maps)))
}

/// `(dict, owner)` pairs of the member dicts that have an owner in the graph: the
/// referrer of the recorded owner type whose `__dict__` pointer is the dict (read by the
/// shim: nothing is materialised, no Python code runs).
fn owner_pairs(
    of: &NodeSetHandle,
) -> PyResult<Vec<(heapscope_core::NodeId, heapscope_core::NodeId)>> {
    let lg = of.graph.get();
    let g = &lg.graph;
    require_edges(g)?;
    if let Some(notes) = lg.notes() {
        // a snapshot recorded each owned dict's owner node
        return Ok(notes
            .dict_owners
            .iter()
            .filter(|&&(d, _)| of.set.contains(d))
            .copied()
            .collect());
    }
    Ok(dict_owner_pairs(g, &of.set, |owner, dict| {
        // Safety: every node of a LiveGraph holds a strong reference to its object.
        let d = unsafe { shim::hs_owned_dict(g.address(owner) as *mut pyo3::ffi::PyObject) };
        d as u64 == g.address(dict)
    }))
}

/// The owners of the member dicts.
pub fn dict_owners(py: Python<'_>, of: &NodeSetHandle) -> PyResult<NodeSetHandle> {
    let pairs = owner_pairs(of)?;
    let owners = NodeSet::from_ids(of.set.universe(), pairs.iter().map(|&(_, o)| o));
    Ok(handle(py, of, owners))
}

/// The member dicts grouped by the class of their owner (one set per class).
pub fn dicts_by_owner_class(
    py: Python<'_>,
    of: &NodeSetHandle,
    owner_classes: &Bound<'_, PyAny>,
) -> PyResult<Vec<NodeSetHandle>> {
    let pairs = owner_pairs(of)?;
    let (map, nclasses) = class_map(of, owner_classes)?;
    Ok(
        group_dicts_by_owner_class(of.set.universe(), &pairs, &map, nclasses)
            .into_iter()
            .map(|set| handle(py, of, set))
            .collect(),
    )
}
