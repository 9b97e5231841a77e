//! Reading the text of live `str` objects without changing them.
//!
//! `PyUnicode_AsUTF8` (behind PyO3's `to_str`, `to_string_lossy` and
//! `extract::<String>`) stores a UTF-8 copy inside every non-ASCII str it reads: an
//! attribute named `clé` would grow because heapscope looked at it. Text is read here
//! through `PyUnicode_AsUTF8String`, which encodes into a new, temporary bytes object.

use pyo3::ffi::{self, PyObject};
use pyo3::prelude::*;
use pyo3::types::PyString;

/// The text of a live str, without caching anything in it; `None` if `obj` is no str
/// or cannot be encoded (lone surrogates: their repr is used by callers).
pub fn str_text(obj: &Bound<'_, PyAny>) -> Option<String> {
    if obj.cast::<PyString>().is_err() {
        return None;
    }
    let ptr: *mut PyObject = obj.as_ptr();
    let bytes = unsafe { ffi::PyUnicode_AsUTF8String(ptr) };
    if bytes.is_null() {
        unsafe { ffi::PyErr_Clear() };
        return None;
    }
    let text = unsafe {
        let data = ffi::PyBytes_AsString(bytes) as *const u8;
        let len = ffi::PyBytes_Size(bytes) as usize;
        String::from_utf8_lossy(std::slice::from_raw_parts(data, len)).into_owned()
    };
    unsafe { ffi::Py_DECREF(bytes) };
    Some(text)
}

/// The `__name__` in the dict of the module at `addr` (a node of a live graph, so
/// alive): read without running Python code (no module subclass's properties).
pub fn module_name_at(py: Python<'_>, addr: u64) -> Option<String> {
    let name = unsafe { ffi::PyModule_GetNameObject(addr as *mut ffi::PyObject) };
    if name.is_null() {
        unsafe { ffi::PyErr_Clear() };
        return None;
    }
    let name = unsafe { Bound::from_owned_ptr(py, name) };
    str_text(&name)
}
