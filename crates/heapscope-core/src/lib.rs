//! heapscope-core: the pure-Rust model of a Python heap.
//!
//! A captured heap is a [`HeapGraph`]: dense [`NodeId`]s in address order, each with an
//! address, a [`TypeId`], an individual size and the dict-ownership facts the Clodo
//! classifier needs, plus forward edges in CSR form. Object sets are [`NodeSet`] bitsets
//! over node ids, and classifiers ([`Classifier`]) partition a set into rows.
//!
//! Nothing here knows about `PyObject*`: the binding crate fills a [`GraphBuilder`] from a
//! live interpreter, and a snapshot reader can fill the same builder from a file.

mod address_index;
mod classify;
mod error;
mod fast_hash;
mod graph;
mod ids;
mod nodeset;

pub use address_index::{AddressIndex, RankCursor};
pub use classify::{Classifier, KindKey, Partition, PartitionRow};
pub use error::CoreError;
pub use fast_hash::{FastHasher, FastMap};
pub use graph::{GraphBuilder, HeapGraph, NodeRecord, TypeRecord};
pub use ids::{NodeId, TypeId};
pub use nodeset::NodeSet;
