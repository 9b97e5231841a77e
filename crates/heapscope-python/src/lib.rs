//! `heapscope._native`: the PyO3 binding of heapscope, the only crate that touches
//! `PyObject*`. It captures live heaps into `heapscope-core` graphs (through a small C
//! shim for version-specific CPython internals) and exposes sets and partitions of them.

mod errors;
mod handles;
mod live;
mod live_graph;

use pyo3::prelude::*;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    errors::register(m)?;
    if unsafe { live::shim::hs_init() } != 0 {
        return Err(PyErr::fetch(m.py()));
    }
    m.add_class::<live_graph::LiveGraph>()?;
    m.add_class::<live_graph::NodeSetHandle>()?;
    m.add_class::<live_graph::PartitionHandle>()?;
    m.add_class::<handles::byid::IdRowsHandle>()?;
    m.add_class::<handles::paths::ShortestPathsHandle>()?;
    m.add_function(wrap_pyfunction!(live_graph::capture_graph, m)?)?;
    m.add_function(wrap_pyfunction!(live_graph::root_members, m)?)?;
    m.add_function(wrap_pyfunction!(live_graph::bare_closure, m)?)?;
    m.add_function(wrap_pyfunction!(live_graph::owned_dict, m)?)?;
    Ok(())
}
