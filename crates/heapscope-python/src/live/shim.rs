//! Declarations of the C capture shim (`csrc/capture_shim.h`).

use std::os::raw::{c_char, c_int, c_void};

use pyo3::ffi::{PyCFunction, PyObject, PyTypeObject, Py_ssize_t};

pub type VisitProc = unsafe extern "C" fn(*mut PyObject, *mut c_void) -> c_int;
/// `(relation, name, key, index, target, arg)`: see `hs_relproc` in capture_shim.h.
pub type RelProc = unsafe extern "C" fn(
    c_int,
    *const c_char,
    *mut PyObject,
    Py_ssize_t,
    *mut PyObject,
    *mut c_void,
) -> c_int;
pub type RootProc = unsafe extern "C" fn(*const c_char, *mut PyObject, *mut c_void) -> c_int;

unsafe extern "C" {
    pub fn hs_init() -> c_int;
    pub fn hs_capture_begin();
    pub fn hs_is_live(obj: *mut PyObject) -> c_int;
    pub fn hs_traverse(
        obj: *mut PyObject,
        visit: VisitProc,
        reach: VisitProc,
        arg: *mut c_void,
    ) -> c_int;
    pub fn hs_relate(obj: *mut PyObject, proc_: RelProc, arg: *mut c_void) -> c_int;
    pub fn hs_ascii_chars(obj: *mut PyObject, len: *mut Py_ssize_t) -> *const c_char;
    pub fn hs_owned_dict(obj: *mut PyObject) -> *mut PyObject;
    pub fn hs_type_may_own_dict(tp: *mut PyTypeObject) -> c_int;
    pub fn hs_roots(proc_: RootProc, arg: *mut c_void, skip_prefix: *const c_char) -> c_int;
    pub fn hs_sizeof_kind(
        tp: *mut PyTypeObject,
        out_fn: *mut Option<PyCFunction>,
        out_descr: *mut *mut PyObject,
    ) -> c_int;
    pub fn hs_size(
        obj: *mut PyObject,
        kind: c_int,
        func: Option<PyCFunction>,
        descr: *mut PyObject,
        failed: *mut c_int,
    ) -> Py_ssize_t;
    pub fn hs_size_is_constant(tp: *mut PyTypeObject) -> c_int;
}
