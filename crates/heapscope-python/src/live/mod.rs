//! The live interpreter side of the binding: everything that reads CPython's objects
//! and internals. `capture` walks the heap into a core graph, `relate` names the
//! references of live objects, `sizes` measures them, `text` reads str objects without
//! changing them, `value_text` renders values for snapshots, and `shim` declares the C shim (`csrc/`) that holds every
//! version-specific read. `object_at` is the one way from a node to its object.

pub mod capture;
pub mod relate;
pub mod shim;
pub mod sizes;
pub mod text;
pub mod value_text;

use pyo3::ffi;
use pyo3::prelude::*;

/// The object at a node's address, as a new reference.
pub fn object_at(py: Python<'_>, addr: u64) -> Py<PyAny> {
    // Safety: every node address of a LiveGraph holds a strong reference.
    unsafe { Bound::from_borrowed_ptr(py, addr as *mut ffi::PyObject) }.unbind()
}
