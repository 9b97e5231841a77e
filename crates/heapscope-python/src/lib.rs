//! `heapscope._native`: the PyO3 binding of heapscope, the only crate that touches
//! `PyObject*`. It captures live heaps into `heapscope-core` graphs (through a small C
//! shim for version-specific CPython internals) and exposes sets and partitions of them.
//! `live` reads the interpreter (capture, reference names, sizes, text, the shim's
//! declarations); `handles` holds the Python classes over a captured graph; `errors`
//! is where Rust errors become Python exceptions.

mod errors;
mod handles;
mod live;
mod protocol;

use pyo3::prelude::*;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    errors::register(m)?;
    if unsafe { live::shim::hs_init() } != 0 {
        return Err(PyErr::fetch(m.py()));
    }
    m.add_class::<handles::LiveGraph>()?;
    m.add_class::<handles::NodeSetHandle>()?;
    m.add_class::<handles::PartitionHandle>()?;
    m.add_class::<handles::byid::IdRowsHandle>()?;
    m.add_class::<handles::paths::ShortestPathsHandle>()?;
    m.add_class::<handles::proxy::NodeProxy>()?;
    m.add_class::<handles::proxy::TypeRef>()?;
    m.add_function(wrap_pyfunction!(handles::snapshot_io::read_snapshot, m)?)?;
    m.add_function(wrap_pyfunction!(live::capture::capture_graph, m)?)?;
    m.add_function(wrap_pyfunction!(live::capture::root_members, m)?)?;
    m.add_function(wrap_pyfunction!(live::capture::bare_closure, m)?)?;
    m.add_function(wrap_pyfunction!(live::capture::owned_dict, m)?)?;
    Ok(())
}
