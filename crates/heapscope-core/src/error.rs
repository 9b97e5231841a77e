//! Errors of the core crate; the binding crate maps them to `heapscope.HeapscopeError`
//! subclasses in one place.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum CoreError {
    #[error("the heap has more than {max} objects, which heapscope cannot index")]
    TooManyNodes { max: u64 },
    #[error("internal: {seen} objects were seen but only {nodes} became nodes")]
    UnprocessedNodes { seen: u64, nodes: u64 },
    #[error("index {index} out of range for a partition of {rows} rows")]
    RowOutOfRange { index: usize, rows: usize },
    #[error("a product relation takes 1 to {max} classifiers, not {factors}")]
    BadProduct { factors: usize, max: usize },
    #[error("the two sets belong to different heap graphs")]
    DifferentGraphs,
    #[error("this graph was captured without edges")]
    NoEdges,
    #[error("internal: edge labels do not match the graph's edges")]
    LabelMismatch,
    #[error("the set is empty")]
    EmptySet,
    #[error("the set has {count} objects, not exactly one")]
    NotOne { count: u64 },
    #[error("internal: a byid cluster was given an order that is not a permutation of its address order")]
    BadOrder,
    #[error("inconsistent heap graph data: {0}")]
    InvalidParts(String),
}
