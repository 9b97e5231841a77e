//! Graph parts: the plain-data model of one captured heap, the single way into the core.
//!
//! The live capture fills it from a running interpreter; the snapshot reader fills it from
//! a file (and later a socket) the same way. Everything an analysis or a printed table
//! needs is data here — type names, dict owners, root names, edge labels, short value
//! texts — so nothing has to call back into live objects. Columns are stored per node
//! (struct of arrays) because that is how the graph uses them and how they compress.

use std::borrow::Cow;

use crate::{CoreError, Label, LabelId, LabelTable, NodeId, NodeTexts, TypeId};

/// Node flag: the object was alive but not reachable from the roots (`heapu()`).
pub const NODE_UNREACHABLE: u8 = 1;

/// One type of the heap, named so that kinds resolve without importing anything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TypePart {
    /// The type object's address in the captured process (identity within one process).
    pub address: u64,
    /// Heapy's kind name (`int`, `__main__.Leaky`, `types.CodeType`).
    pub name: String,
    /// `type.__module__` and `type.__qualname__` as captured.
    pub module: String,
    pub qualname: String,
    /// Instances are dicts (Clodo's `dict of ...`) / modules.
    pub is_dict: bool,
    pub is_module: bool,
    /// The MRO after the type itself, as ids into the same table (types of the MRO that
    /// no node has are in the table too).
    pub mro: Vec<TypeId>,
}

/// Per-node columns, indexed by [`NodeId`]. The large columns are borrowed when the
/// parts describe a graph already in memory (a dump writes them without a copy) and
/// owned when read from a file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeParts<'a> {
    pub addresses: Cow<'a, [u64]>,
    pub types: Cow<'a, [TypeId]>,
    pub sizes: Cow<'a, [u64]>,
    /// [`NODE_UNREACHABLE`] and future bits.
    pub flags: Vec<u8>,
}

impl NodeParts<'_> {
    pub fn len(&self) -> usize {
        self.addresses.len()
    }

    pub fn is_empty(&self) -> bool {
        self.addresses.is_empty()
    }
}

/// Forward edges in compressed sparse rows with one label per edge: node `n`'s
/// referents are `targets[starts[n]..starts[n + 1]]`. A label id is either an item
/// label `[i]` with `i` encoded in the id (see [`LabelTable::item_index`]) or an index
/// into [`GraphParts::labels`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EdgeParts<'a> {
    pub starts: Cow<'a, [u32]>,
    pub targets: Cow<'a, [NodeId]>,
    pub labels: Cow<'a, [LabelId]>,
}

/// A named root member (`i0_modules`, `i0_t<tid>_f0:handler.f_locals['x']`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RootPart {
    pub name: String,
    pub node: NodeId,
}

/// A thread that was running: its id and name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThreadPart {
    pub id: u64,
    pub name: String,
}

/// Where an object was allocated (tracemalloc's most recent frame).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SitePart {
    pub filename: String,
    pub lineno: u32,
}

/// Everything one captured heap is, as plain data.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GraphParts<'a> {
    /// Free-form metadata (`python_version`, `pid`, `argv`, `hostname`, `time`, ...).
    pub meta: Vec<(String, String)>,
    pub types: Vec<TypePart>,
    pub nodes: NodeParts<'a>,
    /// `None` for a census captured without references.
    pub edges: Option<EdgeParts<'a>>,
    /// The distinct edge labels [`EdgeParts::labels`] refer to (item labels `[i]` are
    /// encoded in the ids instead).
    pub labels: Vec<Label>,
    /// `(dict node, owner node)`: the object whose `__dict__` a dict is.
    pub dict_owners: Vec<(NodeId, NodeId)>,
    pub roots: Vec<RootPart>,
    pub threads: Vec<ThreadPart>,
    /// Short value texts (str, bytes, numbers; capped by the capture) of some nodes.
    pub texts: NodeTexts,
    /// Allocation sites and the nodes allocated there, when tracemalloc was tracing.
    pub sites: Vec<SitePart>,
    pub node_sites: Vec<(NodeId, u32)>,
}

impl GraphParts<'_> {
    /// Checks that every id refers inside its table and that the columns agree, so a
    /// graph built from parts (a file's, say) never indexes out of range.
    pub fn validate(&self) -> Result<(), CoreError> {
        let bad = |what: &str| Err(CoreError::InvalidParts(what.to_string()));
        let n = self.nodes.len();
        if n > u32::MAX as usize {
            return Err(CoreError::TooManyNodes {
                max: u32::MAX as u64,
            });
        }
        let nodes = &self.nodes;
        if nodes.types.len() != n || nodes.sizes.len() != n || nodes.flags.len() != n {
            return bad("node columns of different lengths");
        }
        let node_ok = |id: NodeId| id.index() < n;
        let type_ok = |id: TypeId| id.index() < self.types.len();
        if !nodes.types.iter().all(|&t| type_ok(t)) {
            return bad("a node's type is not in the type table");
        }
        if !self.types.iter().all(|t| t.mro.iter().all(|&b| type_ok(b))) {
            return bad("a type's MRO names a type not in the table");
        }
        if let Some(e) = &self.edges {
            if e.starts.len() != n + 1 || e.starts.first() != Some(&0) {
                return bad("edge starts do not cover the nodes");
            }
            if e.starts.windows(2).any(|w| w[0] > w[1]) {
                return bad("edge starts decrease");
            }
            if e.starts[n] as usize != e.targets.len() || e.targets.len() != e.labels.len() {
                return bad("edge columns of different lengths");
            }
            if !e.targets.iter().all(|&t| node_ok(t)) {
                return bad("an edge points outside the nodes");
            }
            let label_ok =
                |&l: &LabelId| LabelTable::item_index(l).is_some() || l.index() < self.labels.len();
            if !e.labels.iter().all(label_ok) {
                return bad("an edge label is not in the label table");
            }
        }
        if !self
            .dict_owners
            .iter()
            .all(|&(d, o)| node_ok(d) && node_ok(o))
        {
            return bad("a dict owner names a node that does not exist");
        }
        if !self.roots.iter().all(|r| node_ok(r.node)) {
            return bad("a root names a node that does not exist");
        }
        if !self.texts.last_node().is_none_or(node_ok) {
            return bad("a text belongs to a node that does not exist");
        }
        let sites = self.sites.len();
        if !self
            .node_sites
            .iter()
            .all(|&(t, s)| node_ok(t) && (s as usize) < sites)
        {
            return bad("an allocation site entry is out of range");
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::{LabelOrder, Relation};

    /// Three nodes: a module dict holding a list holding an int; one unreachable text.
    pub(crate) fn sample_parts() -> GraphParts<'static> {
        let t = |name: &str, is_dict: bool| TypePart {
            address: 0x1000 + name.bytes().map(u64::from).sum::<u64>(),
            name: name.into(),
            module: "builtins".into(),
            qualname: name.into(),
            is_dict,
            is_module: false,
            mro: vec![TypeId(3)],
        };
        let mut object = t("object", false);
        object.mro.clear();
        GraphParts {
            meta: vec![("python_version".into(), "3.12.1".into())],
            types: vec![t("dict", true), t("list", false), t("int", false), object],
            nodes: NodeParts {
                addresses: vec![0x7f00, 0x7f80, 0x7fa0, 0x8000].into(),
                types: vec![TypeId(0), TypeId(1), TypeId(2), TypeId(2)].into(),
                sizes: vec![232, 64, 28, 28].into(),
                flags: vec![0, 0, 0, NODE_UNREACHABLE],
            },
            edges: Some(EdgeParts {
                starts: vec![0, 1, 2, 2, 2].into(),
                targets: vec![NodeId(1), NodeId(2)].into(),
                labels: vec![LabelId(0), LabelTable::item_label(0)].into(),
            }),
            labels: vec![Label {
                relation: Relation::Index,
                order: LabelOrder::Text("'KEEP'".into()),
            }],
            dict_owners: vec![],
            roots: vec![RootPart {
                name: "i0_modules".into(),
                node: NodeId(0),
            }],
            threads: vec![ThreadPart {
                id: 140_000,
                name: "MainThread".into(),
            }],
            texts: [(NodeId(2), "7"), (NodeId(3), "8")].into_iter().collect(),
            sites: vec![SitePart {
                filename: "app.py".into(),
                lineno: 12,
            }],
            node_sites: vec![(NodeId(1), 0)],
        }
    }

    #[test]
    fn valid_parts_pass_and_each_broken_reference_is_named() {
        let good = sample_parts();
        good.validate().unwrap();
        type Breakage = fn(&mut GraphParts);
        let cases: Vec<(Breakage, &str)> = vec![
            (|p| p.nodes.sizes.to_mut().truncate(3), "node columns"),
            (|p| p.nodes.types.to_mut()[0] = TypeId(9), "node's type"),
            (|p| p.types[0].mro.push(TypeId(9)), "MRO"),
            (
                |p| p.edges.as_mut().unwrap().targets.to_mut()[0] = NodeId(4),
                "outside",
            ),
            (
                |p| p.edges.as_mut().unwrap().starts.to_mut()[1] = 3,
                "decrease",
            ),
            (
                |p| p.edges.as_mut().unwrap().labels.to_mut()[1] = LabelId(2),
                "label",
            ),
            (|p| p.roots[0].node = NodeId(4), "root"),
            (|p| p.texts.push(NodeId(7), "").unwrap(), "text"),
            (|p| p.node_sites.push((NodeId(0), 1)), "site"),
            (|p| p.dict_owners.push((NodeId(0), NodeId(5))), "owner"),
        ];
        for (break_it, expected) in cases {
            let mut parts = good.clone();
            break_it(&mut parts);
            let err = parts.validate().unwrap_err().to_string();
            assert!(err.contains(expected), "{err:?} lacks {expected:?}");
        }
    }
}
