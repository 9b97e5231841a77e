//! Individual sizes: what `sys.getsizeof` reports (GC header and managed pre-header
//! included) plus memory it misses (3.11/3.12 managed-dict values, 3.13 inline values).
//!
//! The `__sizeof__` strategy is decided once per type and cached: the object.__sizeof__
//! formula (a constant when every instance has one size), a direct call of a C
//! no-argument method, or a bound call. A `__sizeof__` that raises or returns nonsense
//! falls back to the formula and is counted in `failures`, so one odd object never breaks
//! a census.
//!
//! Strategies that may run Python code (bound calls, and C methods of heap types, which
//! extensions may implement in any way) are "deferred": callers size those objects only
//! once every node holds a strong reference.

use std::os::raw::c_int;

use heapscope_core::FastMap;
use pyo3::ffi::{self, PyCFunction, PyObject};

use super::shim;

const FORMULA: c_int = 0;
const CMETHOD: c_int = 1;

#[derive(Clone, Copy)]
struct Strategy {
    kind: c_int,
    func: Option<PyCFunction>,
    descr: *mut PyObject,
    /// Size of every instance, once known (formula types of fixed size).
    constant: Option<u64>,
    constant_allowed: bool,
    /// Sizing may run Python code.
    runs_python: bool,
}

const SLOTS: usize = 256;

pub struct SizeCache {
    by_type: FastMap<usize, Strategy>,
    /// Direct-mapped cache in front of `by_type` (this runs once per object).
    recent: Box<[(usize, Option<Strategy>); SLOTS]>,
    pub failures: u64,
}

impl Default for SizeCache {
    fn default() -> Self {
        SizeCache {
            by_type: FastMap::default(),
            recent: Box::new([(0, None); SLOTS]),
            failures: 0,
        }
    }
}

impl SizeCache {
    #[inline]
    fn strategy(&mut self, tp: *mut ffi::PyTypeObject) -> Strategy {
        let slot = ((tp as usize) >> 4) % SLOTS;
        if let (key, Some(s)) = self.recent[slot] {
            if key == tp as usize {
                return s;
            }
        }
        let s = self.lookup(tp);
        self.recent[slot] = (tp as usize, Some(s));
        s
    }

    fn lookup(&mut self, tp: *mut ffi::PyTypeObject) -> Strategy {
        *self.by_type.entry(tp as usize).or_insert_with(|| {
            let mut func = None;
            let mut descr = std::ptr::null_mut();
            let kind = unsafe { shim::hs_sizeof_kind(tp, &mut func, &mut descr) };
            let heap_type = unsafe { (*tp).tp_flags } & ffi::Py_TPFLAGS_HEAPTYPE != 0;
            let constant_allowed = kind == FORMULA && unsafe { shim::hs_size_is_constant(tp) } != 0;
            let runs_python = !(kind == FORMULA || (kind == CMETHOD && !heap_type));
            Strategy {
                kind,
                func,
                descr,
                constant: None,
                constant_allowed,
                runs_python,
            }
        })
    }

    /// Size of `obj`, or `None` when sizing it may run Python code (see the module doc).
    ///
    /// # Safety
    /// `obj` must be a live object and the GIL must be held.
    #[inline]
    pub unsafe fn size_if_safe(&mut self, obj: *mut PyObject) -> Option<u64> {
        let tp = unsafe { ffi::Py_TYPE(obj) };
        let s = self.strategy(tp);
        if s.runs_python {
            return None;
        }
        Some(unsafe { self.measure(obj, tp, s) })
    }

    /// Size of `obj`; may run Python code.
    ///
    /// # Safety
    /// `obj` must be a live object the caller holds a strong reference to, with the GIL.
    pub unsafe fn size_of(&mut self, obj: *mut PyObject) -> u64 {
        let tp = unsafe { ffi::Py_TYPE(obj) };
        let s = self.strategy(tp);
        unsafe { self.measure(obj, tp, s) }
    }

    #[inline]
    unsafe fn measure(
        &mut self,
        obj: *mut PyObject,
        tp: *mut ffi::PyTypeObject,
        s: Strategy,
    ) -> u64 {
        if let Some(c) = s.constant {
            return c;
        }
        let mut failed: c_int = 0;
        let size =
            unsafe { shim::hs_size(obj, s.kind, s.func, s.descr, &mut failed) }.max(0) as u64;
        if failed != 0 {
            self.failures += 1;
        } else if s.constant_allowed {
            self.by_type.insert(
                tp as usize,
                Strategy {
                    constant: Some(size),
                    ..s
                },
            );
        }
        size
    }
}
