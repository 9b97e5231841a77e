//! The Python classes of `heapscope._native` over one captured graph, one file per
//! class: byid rows (`byid`), shortest paths (`paths`), and the groupings of Heapy's
//! derived relations that sets delegate to (`class_groups`).

pub mod byid;
pub mod class_groups;
pub mod paths;
