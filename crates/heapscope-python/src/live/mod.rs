//! The live interpreter side of the binding: everything that reads CPython's objects
//! and internals. `capture` walks the heap into a core graph, `relate` names the
//! references of live objects, `sizes` measures them, `text` reads str objects without
//! changing them, and `shim` declares the C shim (`csrc/`) that holds every
//! version-specific read.

pub mod capture;
pub mod relate;
pub mod shim;
pub mod sizes;
pub mod text;
