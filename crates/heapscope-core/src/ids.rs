//! Newtype ids: a node is one object of a captured heap, a type is one entry of the
//! graph's type table. Both are dense `u32`s so per-node tables stay compact.

/// Index of an object in a [`crate::HeapGraph`] (ids follow address order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(pub u32);

/// Index into a [`crate::HeapGraph`]'s type table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TypeId(pub u32);

/// Index into a graph's [`crate::LabelTable`] of distinct edge labels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LabelId(pub u32);

impl LabelId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl NodeId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl TypeId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}
