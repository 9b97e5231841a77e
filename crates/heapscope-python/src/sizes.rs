//! Individual sizes: what `sys.getsizeof` reports (GC header and managed pre-header
//! included) plus memory it misses (3.11/3.12 managed-dict values, 3.13 inline values).
//!
//! The `__sizeof__` strategy is decided once per type and cached: the object.__sizeof__
//! formula (a constant when every instance has one size), a direct call of a C
//! no-argument method, or a bound call (user code). A `__sizeof__` that raises or returns
//! nonsense falls back to the formula and is counted in `failures`, so one odd object
//! never breaks a census.

use std::os::raw::c_int;

use heapscope_core::FastMap;
use pyo3::ffi::{self, PyCFunction, PyObject};

use crate::shim;

const FORMULA: c_int = 0;

#[derive(Clone, Copy)]
struct Strategy {
    kind: c_int,
    func: Option<PyCFunction>,
    descr: *mut PyObject,
    /// Size of every instance, once known (formula types of fixed size).
    constant: Option<u64>,
    constant_allowed: bool,
}

#[derive(Default)]
pub struct SizeCache {
    by_type: FastMap<usize, Strategy>,
    last: Option<(usize, Strategy)>,
    pub failures: u64,
}

impl SizeCache {
    /// Size of `obj`. The caller holds a strong reference to it (user code may run).
    ///
    /// # Safety
    /// `obj` must be a live object and the GIL must be held.
    pub unsafe fn size_of(&mut self, obj: *mut PyObject) -> u64 {
        let tp = unsafe { ffi::Py_TYPE(obj) };
        let key = tp as usize;
        let strategy = match self.last {
            Some((k, s)) if k == key => s,
            _ => {
                let s = *self.by_type.entry(key).or_insert_with(|| {
                    let mut func = None;
                    let mut descr = std::ptr::null_mut();
                    let kind = unsafe { shim::hs_sizeof_kind(tp, &mut func, &mut descr) };
                    let constant_allowed =
                        kind == FORMULA && unsafe { shim::hs_size_is_constant(tp) } != 0;
                    Strategy {
                        kind,
                        func,
                        descr,
                        constant: None,
                        constant_allowed,
                    }
                });
                self.last = Some((key, s));
                s
            }
        };
        if let Some(c) = strategy.constant {
            return c;
        }
        let mut base =
            unsafe { shim::hs_call_sizeof(obj, strategy.kind, strategy.func, strategy.descr) };
        if base < 0 {
            self.failures += 1;
            base = unsafe { shim::hs_formula_sizeof(obj) };
        }
        let pre = unsafe { shim::hs_presize(obj) };
        let unreported = unsafe { shim::hs_unreported_size(obj) };
        let size = (base.max(0) + pre + unreported) as u64;
        if strategy.constant_allowed {
            let fixed = Strategy {
                constant: Some(size),
                ..strategy
            };
            self.by_type.insert(key, fixed);
            self.last = Some((key, fixed));
        }
        size
    }
}
