//! heapscope-core: the pure-Rust model of a Python heap.
//!
//! A captured heap is a [`HeapGraph`]: dense [`NodeId`]s (in walk order), each with an
//! address, a [`TypeId`], an individual size and the dict-ownership facts the Clodo
//! classifier needs, plus forward edges in CSR form. Object sets are [`NodeSet`] bitsets
//! over node ids, and classifiers ([`Classifier`]) partition a set into rows.
//!
//! Nothing here knows about `PyObject*`: the binding crate drives a [`WalkRecorder`] over a
//! live interpreter, and a snapshot reader can fill the same recorder from a file.

mod address_index;
mod byid;
mod class_groups;
mod classify;
mod domination;
mod dominators;
mod edge_labels;
mod error;
mod fast_hash;
mod graph;
mod graph_parts;
mod ids;
mod node_texts;
mod nodeset;
mod parts;
mod predicate;
mod shortest_paths;
mod via;

pub use address_index::{AddressCode, AddressIndex, RankCursor};
pub use byid::{ClusterOrder, IdCluster, IdRows};
pub use class_groups::{
    dict_owner_pairs, group_by_class_tuples, group_by_referrer_classes, group_dicts_by_owner_class,
    ClassMap,
};
pub use classify::{
    Classifier, KindKey, Partition, PartitionRow, RowKey, RowMembers, MAX_FACTORS, NO_ROW,
};
pub use dominators::{Dominator, DominatorTree};
pub use edge_labels::{
    match_names, root_label, EdgeLabeler, EdgeLabels, Label, LabelOrder, LabelTable, Relation,
};
pub use error::CoreError;
pub use fast_hash::{FastHasher, FastMap};
pub use graph::{Csr, GraphBuilder, HeapGraph, NodeRecord, TypeRecord, TypeTable, WalkRecorder};
pub use graph_parts::GraphNotes;
pub use ids::{LabelId, NodeId, TypeId};
pub use node_texts::NodeTexts;
pub use nodeset::NodeSet;
pub use parts::{
    EdgeParts, GraphParts, NodeParts, RootPart, SitePart, ThreadPart, TypePart, NODE_UNREACHABLE,
};
pub use predicate::{select_referred_by, select_via_cmp, Cmp, KindPredicate, SetArg, TypeArg};
pub use shortest_paths::{
    is_thread_root, AllLabels, EdgePair, NoPath, PathLabels, PathSource, PathStep, ShortestPaths,
    ROOT_NODE,
};
pub use via::{py_str_repr, via_row_name, ViaRows};
