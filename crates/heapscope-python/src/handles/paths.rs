//! Python handle over the core's [`ShortestPaths`]: counts as Python ints, paths by
//! index (rendered by the core), and the edges of each hop for `avoided`.

use std::sync::OnceLock;

use heapscope_core::{
    AllLabels, FastMap, LabelId, LabelOrder, NoPath, NodeSet, PathSource, ShortestPaths, ROOT_NODE,
};
use num_bigint::BigUint;
use pyo3::prelude::*;
use pyo3::pyclass::{PyTraverseError, PyVisit};

use super::proxy::node_object;
use super::{require_edges, LiveGraph, NodeSetHandle};
use crate::errors::to_pyerr;
use crate::live::relate;

#[pyclass(frozen, name = "ShortestPaths", module = "heapscope._native")]
pub struct ShortestPathsHandle {
    graph: Py<LiveGraph>,
    paths: ShortestPaths,
    /// How the caller writes each root edge the paths start with, set once per path set.
    root_texts: OnceLock<FastMap<LabelId, String>>,
}

/// Computes the shortest paths to `targets` from the roots (or `source`), avoiding
/// `avoid_nodes` and the `(from, to)` node pairs of `avoid_edges` (`from` =
/// `ROOT_NODE` for root edges).
pub fn shortest_paths(
    py: Python<'_>,
    targets: &NodeSetHandle,
    source: Option<&NodeSetHandle>,
    avoid_nodes: Option<&NodeSetHandle>,
    avoid_edges: Vec<(u32, u32)>,
) -> PyResult<ShortestPathsHandle> {
    let g = &targets.graph.get().graph;
    require_edges(g)?;
    for other in source.iter().chain(avoid_nodes.iter()) {
        targets.same_graph(other)?;
    }
    let from = match source {
        Some(s) => PathSource::Nodes(s.set.clone()),
        None => PathSource::Root,
    };
    let avoid = avoid_nodes.map_or_else(|| g.empty_set(), |a| a.set.clone());
    let edges: FastMap<(u32, u32), ()> = avoid_edges.into_iter().map(|e| (e, ())).collect();
    // the labels of every edge when a query made them (byvia), else only the paths'
    let paths = match g.edge_labels() {
        Some(all) => {
            ShortestPaths::compute(g, &mut AllLabels(all), &from, &targets.set, &avoid, &edges)
        }
        None => {
            let mut labels = relate::SearchLabels::new(py, g);
            ShortestPaths::compute(g, &mut labels, &from, &targets.set, &avoid, &edges)
        }
    }
    .map_err(to_pyerr)?;
    Ok(ShortestPathsHandle {
        graph: targets.graph.clone_ref(py),
        paths,
        root_texts: OnceLock::new(),
    })
}

impl ShortestPathsHandle {
    fn roots(&self) -> &FastMap<LabelId, String> {
        static NONE: OnceLock<FastMap<LabelId, String>> = OnceLock::new();
        self.root_texts
            .get()
            .unwrap_or_else(|| NONE.get_or_init(FastMap::default))
    }
}

#[pymethods]
impl ShortestPathsHandle {
    /// Reports the graph it holds to the cycle collector (see `LiveGraph.__traverse__`).
    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self.graph)
    }

    /// The exact number of shortest paths.
    #[getter]
    fn numpaths(&self) -> BigUint {
        self.paths.numpaths().clone()
    }

    /// Edges per path.
    #[getter]
    fn length(&self) -> usize {
        self.paths.length()
    }

    /// The targets the paths end at (the nearest members of the target set).
    fn reached(&self, py: Python<'_>) -> NodeSetHandle {
        NodeSetHandle {
            graph: self.graph.clone_ref(py),
            set: self.paths.reached().clone(),
        }
    }

    /// Path `index` rendered from `srcname` (`h.Root`, `Src`), or None past the end.
    fn text(&self, index: BigUint, srcname: &str) -> Option<String> {
        let path = self.paths.path(&index)?;
        Some(self.paths.render(&path, srcname, self.roots()))
    }

    /// Path `index` with the middle of a path longer than `3 * keep` steps left out
    /// (`... N more steps ...`), or None past the end.
    fn brief(&self, index: BigUint, srcname: &str, keep: usize) -> Option<String> {
        let path = self.paths.path(&index)?;
        Some(self.paths.render_brief(&path, srcname, self.roots(), keep))
    }

    /// The distinct root edges the paths start with: `(label id, root name)` in order.
    fn start_roots(&self) -> Vec<(u32, String)> {
        self.paths
            .start_labels()
            .into_iter()
            .filter_map(|l| match &self.paths.label(l).order {
                LabelOrder::Text(name) => Some((l.0, name.clone())),
                LabelOrder::Int(_) => None,
            })
            .collect()
    }

    /// How to write the root edges of `start_roots` (`(label id, text)`, the text
    /// following the source's name); the first call wins.
    fn set_root_texts(&self, texts: Vec<(u32, String)>) {
        let _ = self
            .root_texts
            .set(texts.into_iter().map(|(l, t)| (LabelId(l), t)).collect());
    }

    /// Why there is no path: "empty", "unreachable" or "avoided"; None when there are
    /// paths.
    fn no_path(&self) -> Option<&'static str> {
        self.paths.no_path().map(|r| match r {
            NoPath::EmptyTargets => "empty",
            NoPath::Unreachable => "unreachable",
            NoPath::Avoided => "avoided",
        })
    }

    /// The objects along path `index`, first (root target or source) to last.
    fn objects(&self, py: Python<'_>, index: BigUint) -> PyResult<Option<Vec<Py<PyAny>>>> {
        let Some(path) = self.paths.path(&index) else {
            return Ok(None);
        };
        path.iter()
            .map(|s| node_object(py, &self.graph, s.node))
            .collect::<PyResult<Vec<_>>>()
            .map(Some)
    }

    /// The singleton set of path `index`'s source object (paths from a source set).
    fn source(&self, py: Python<'_>, index: BigUint) -> Option<NodeSetHandle> {
        let g = &self.graph.get().graph;
        let first = *self.paths.path(&index)?.first()?;
        Some(NodeSetHandle {
            graph: self.graph.clone_ref(py),
            set: NodeSet::from_ids(g.node_count(), [first.node]),
        })
    }

    /// The objects at `level` of the paths (0: the source objects, none for the roots;
    /// `length`: the targets), or None past the last level or without paths.
    fn level_set(&self, py: Python<'_>, level: usize) -> Option<NodeSetHandle> {
        let g = &self.graph.get().graph;
        let set = self.paths.level_set(g.node_count(), level)?;
        Some(NodeSetHandle {
            graph: self.graph.clone_ref(py),
            set,
        })
    }

    /// The `(from, to)` node pairs of the paths' edges at these hops (0 leaves the source;
    /// `from` is `ROOT_NODE` for a root edge), for avoiding them in a new search.
    fn edges_at(&self, hops: Vec<usize>) -> Vec<(u32, u32)> {
        hops.into_iter()
            .flat_map(|h| self.paths.edges_at(h).iter().copied())
            .collect()
    }

    #[classattr]
    const ROOT_NODE: u32 = ROOT_NODE;
}
