//! Graph parts in and out of a [`HeapGraph`]: the one way a graph is written to a file
//! and the one way a graph is built from one.
//!
//! [`HeapGraph::to_parts`] lends the graph's large columns (addresses, types, sizes,
//! edges, edge labels) to the parts without copying them, so a dump's peak memory stays
//! close to the capture's own. [`HeapGraph::from_parts`] checks the parts, builds the
//! graph with its labels, and hands back what the graph itself does not keep
//! ([`GraphNotes`]: metadata, full type names, flags, dict owner nodes, texts, ...).

use std::borrow::Cow;

use crate::{
    CoreError, EdgeLabels, EdgeParts, GraphParts, HeapGraph, Label, NodeId, NodeParts, NodeTexts,
    RootPart, SitePart, ThreadPart, TypeId, TypePart, TypeRecord, NODE_UNREACHABLE,
};

/// What graph parts say besides the graph: supplied by the capture when dumping, given
/// back by [`HeapGraph::from_parts`] when loading.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GraphNotes {
    pub meta: Vec<(String, String)>,
    /// The graph's types in [`TypeId`] order, then the types only their MROs name.
    pub types: Vec<TypePart>,
    /// Per node ([`NODE_UNREACHABLE`], ...); empty means no flags.
    pub flags: Vec<u8>,
    /// `(dict node, owner node)`.
    pub dict_owners: Vec<(NodeId, NodeId)>,
    pub threads: Vec<ThreadPart>,
    /// Short value texts.
    pub texts: NodeTexts,
    pub sites: Vec<SitePart>,
    /// `(node, site)`, sorted by node.
    pub node_sites: Vec<(NodeId, u32)>,
}

impl GraphNotes {
    /// The short text stored for `n`, if any.
    pub fn text(&self, n: NodeId) -> Option<&str> {
        self.texts.get(n)
    }

    /// Whether `n` was alive but unreachable from the roots when captured.
    pub fn unreachable(&self, n: NodeId) -> bool {
        self.flags
            .get(n.index())
            .is_some_and(|f| f & NODE_UNREACHABLE != 0)
    }
}

impl HeapGraph {
    /// The graph as parts, its large columns borrowed. A graph with edges must have its
    /// edge labels computed. `notes.types` must start with the graph's own types, in
    /// order (their addresses are checked).
    pub fn to_parts(&self, notes: GraphNotes) -> Result<GraphParts<'_>, CoreError> {
        let invalid = |what: &str| CoreError::InvalidParts(what.to_string());
        let own = self.types();
        if notes.types.len() < own.len()
            || own
                .iter()
                .zip(&notes.types)
                .any(|(t, p)| t.address != p.address)
        {
            return Err(invalid(
                "the type table does not start with the graph's types",
            ));
        }
        let nodes = self.node_parts(notes.flags)?;
        let (edges, labels) = match self.edge_parts()? {
            Some((edges, labels)) => (Some(edges), labels),
            None => (None, Vec::new()),
        };
        let parts = GraphParts {
            meta: notes.meta,
            types: notes.types,
            nodes,
            edges,
            labels,
            dict_owners: notes.dict_owners,
            roots: self.root_parts(),
            threads: notes.threads,
            texts: notes.texts,
            sites: notes.sites,
            node_sites: notes.node_sites,
        };
        parts.validate()?;
        Ok(parts)
    }

    /// The node columns, borrowed, with `flags` (empty: none set).
    pub fn node_parts(&self, flags: Vec<u8>) -> Result<NodeParts<'_>, CoreError> {
        let n = self.node_count();
        if !flags.is_empty() && flags.len() != n {
            return Err(CoreError::InvalidParts(
                "node flags of another length than the nodes".to_string(),
            ));
        }
        let (addresses, types, sizes) = self.node_columns();
        Ok(NodeParts {
            addresses: Cow::Borrowed(addresses),
            types: Cow::Borrowed(types),
            sizes: Cow::Borrowed(sizes),
            flags: if flags.is_empty() { vec![0; n] } else { flags },
        })
    }

    /// The edges with their label ids, borrowed, and the label table they index; None
    /// for a graph captured without edges. The labels must have been computed.
    pub fn edge_parts(&self) -> Result<Option<(EdgeParts<'_>, Vec<Label>)>, CoreError> {
        if self.edge_count().is_none() {
            return Ok(None);
        }
        let labels = self.edge_labels().ok_or_else(|| {
            CoreError::InvalidParts("the edge labels were not computed".to_string())
        })?;
        let (starts, targets) = self.csr_parts();
        let edges = EdgeParts {
            starts: Cow::Borrowed(starts),
            targets: Cow::Borrowed(targets),
            labels: Cow::Borrowed(labels.per_edge()),
        };
        Ok(Some((edges, labels.table.labels().to_vec())))
    }

    /// The named roots.
    pub fn root_parts(&self) -> Vec<RootPart> {
        self.roots()
            .iter()
            .map(|(name, node)| RootPart {
                name: name.clone(),
                node: *node,
            })
            .collect()
    }

    /// Builds the graph the parts describe (with its edge labels) after checking them;
    /// node ids are positions in the parts' columns.
    pub fn from_parts(parts: GraphParts<'_>) -> Result<(HeapGraph, GraphNotes), CoreError> {
        parts.validate()?;
        let GraphParts {
            meta,
            types,
            nodes,
            edges,
            labels,
            dict_owners,
            roots,
            threads,
            texts,
            sites,
            mut node_sites,
        } = parts;
        let records: Vec<TypeRecord> = types
            .iter()
            .map(|t| TypeRecord {
                address: t.address,
                name: t.name.clone(),
                is_dict: t.is_dict,
                is_module: t.is_module,
                mro: std::iter::once(t.address)
                    .chain(t.mro.iter().map(|b| types[b.index()].address))
                    .collect(),
            })
            .collect();
        let node_types = nodes.types.into_owned();
        let mut owner_types: Vec<(NodeId, TypeId)> = dict_owners
            .iter()
            .map(|&(d, o)| (d, node_types[o.index()]))
            .collect();
        owner_types.sort_unstable_by_key(|&(d, _)| d);
        let root_pairs: Vec<(String, NodeId)> =
            roots.into_iter().map(|r| (r.name, r.node)).collect();
        let (csr, per_edge) = match edges {
            Some(e) => (
                Some((e.starts.into_owned(), e.targets.into_owned())),
                Some(e.labels),
            ),
            None => (None, None),
        };
        let graph = HeapGraph::from_columns(
            nodes.addresses.into_owned(),
            node_types,
            nodes.sizes.into_owned(),
            records,
            owner_types,
            csr,
            root_pairs,
        )?;
        if let Some(per_edge) = per_edge {
            let names = graph.roots().iter().map(|(name, _)| name.as_str());
            graph.set_edge_labels(EdgeLabels::from_parts(&labels, &per_edge, names))?;
        }
        node_sites.sort_unstable();
        node_sites.dedup_by_key(|(n, _)| *n);
        let notes = GraphNotes {
            meta,
            types,
            flags: nodes.flags,
            dict_owners,
            threads,
            texts,
            sites,
            node_sites,
        };
        Ok((graph, notes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parts::tests::sample_parts;
    use crate::{Classifier, Partition};

    #[test]
    fn parts_build_the_graph_they_describe_and_come_back_equal() {
        let parts = sample_parts();
        let (g, notes) = HeapGraph::from_parts(parts.clone()).unwrap();
        assert_eq!(g.node_count(), 4);
        assert_eq!(g.node_of(0x7f80), Some(NodeId(1)));
        assert_eq!(g.referents(NodeId(0)), &[NodeId(1)]);
        assert_eq!(g.referrers(NodeId(2)), &[NodeId(1)]);
        assert_eq!(g.size_of(NodeId(0)), 232);
        assert_eq!(g.type_record(g.type_of(NodeId(2))).name, "int");
        // MROs become addresses, the type itself first
        let address = |t: usize| g.types()[t].address;
        assert_eq!(g.type_record(TypeId(1)).mro, vec![address(1), address(3)]);
        let labels = g.edge_labels().unwrap();
        assert_eq!(labels.label(labels.edge(0)).text(), "['KEEP']");
        assert_eq!(labels.label(labels.edge(1)).text(), "[0]");
        assert_eq!(labels.label(labels.root(0)).text(), ".i0_modules");
        assert!(notes.unreachable(NodeId(3)) && !notes.unreachable(NodeId(2)));
        assert_eq!(notes.text(NodeId(2)), Some("7"));
        // a census by type counts every node (no rows for types no node has)
        let p = Partition::new(&g, &g.full_set(), &[Classifier::Type], |_| unreachable!()).unwrap();
        let rows: Vec<_> = p.rows.iter().map(|r| (r.name.as_str(), r.count)).collect();
        assert_eq!(rows, vec![("dict", 1), ("list", 1), ("int", 2)]);
        // and back: the same parts, the columns borrowed from the graph
        let again = g.to_parts(notes).unwrap();
        assert!(matches!(again.nodes.addresses, Cow::Borrowed(_)));
        assert_eq!(again.nodes, parts.nodes);
        assert_eq!(again.edges, parts.edges);
        assert_eq!(again.roots, parts.roots);
        assert_eq!(again.types, parts.types);
        assert_eq!(again.texts, parts.texts);
        // the label table gains the root's label; every edge's label text is the same
        let text_of = |p: &GraphParts<'_>, l: crate::LabelId| match crate::LabelTable::item_index(l)
        {
            Some(i) => format!("[{i}]"),
            None => p.labels[l.index()].text(),
        };
        let e = again.edges.as_ref().unwrap();
        let texts: Vec<String> = e.labels.iter().map(|&l| text_of(&again, l)).collect();
        assert_eq!(texts, vec!["['KEEP']", "[0]"]);
    }

    #[test]
    fn parts_that_cannot_be_a_graph_are_refused() {
        let mut dup = sample_parts();
        dup.nodes.addresses.to_mut()[1] = 0x7f00;
        let err = HeapGraph::from_parts(dup).err().unwrap().to_string();
        assert!(err.contains("two objects at address 0x7f00"), "{err}");
        let mut dup_type = sample_parts();
        dup_type.types[1].address = dup_type.types[0].address;
        let err = HeapGraph::from_parts(dup_type).err().unwrap().to_string();
        assert!(err.contains("two types"), "{err}");
        let (g, mut notes) = HeapGraph::from_parts(sample_parts()).unwrap();
        notes.types.swap(0, 1);
        assert!(g.to_parts(notes).is_err());
    }
}
