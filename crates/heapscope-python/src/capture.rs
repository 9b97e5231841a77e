//! Live capture: walk the interpreter from its roots and fill a core graph.
//!
//! Pass 1 closes over referents from the roots (and optionally extra seeds such as the
//! GC list), deduplicating by address in a paged bitmap. No Python code can run during
//! it: only C traversal functions are called, under the GIL. Hidden objects (the
//! session's own, our frames) are marked seen but neither kept nor traversed.
//! Then every kept object gets a strong reference, and pass 2 visits the kept objects
//! in address order to record types, dict owners and edges as node ids. Sizes come last,
//! because `__sizeof__` may run user code.

use std::ffi::{CStr, CString};
use std::os::raw::{c_char, c_int, c_void};

use heapscope_core::{AddressIndex, CoreError, GraphBuilder, HeapGraph, NodeId, TypeId};
use pyo3::ffi::{self, PyObject};
use pyo3::prelude::*;

use crate::shim;
use crate::sizes::SizeCache;

/// What to walk from and what to leave out.
pub struct CaptureSpec {
    /// Walk from the interpreter's roots.
    pub from_roots: bool,
    /// Further objects to start from (e.g. every GC-tracked object).
    pub seeds: Vec<usize>,
    /// Instances of these types are hidden (session objects).
    pub hidden_types: Vec<usize>,
    /// These objects are hidden.
    pub hidden_objects: Vec<usize>,
    /// Frames whose code file starts with this are ours and skipped.
    pub skip_prefix: CString,
    /// Only these objects, no closure (for `iso`).
    pub no_closure: bool,
}

/// A captured graph plus what the capture learnt along the way.
pub struct Captured {
    pub graph: HeapGraph,
    pub size_failures: u64,
    /// Addresses of hidden objects met during the walk.
    pub hidden: Vec<usize>,
}

struct Walk {
    seen: AddressIndex,
    stack: Vec<usize>,
    hidden_types: Vec<usize>,
    hidden_found: Vec<usize>,
    roots: Vec<(String, usize)>,
}

impl Walk {
    #[inline]
    fn reach(&mut self, obj: *mut PyObject) {
        let a = obj as usize;
        if self.seen.insert(a as u64) {
            let tp = unsafe { ffi::Py_TYPE(obj) } as usize;
            if self.hidden_types.contains(&tp) {
                self.hidden_found.push(a);
            } else {
                self.stack.push(a);
            }
        }
    }
}

unsafe extern "C" fn visit_reach(obj: *mut PyObject, arg: *mut c_void) -> c_int {
    if !obj.is_null() {
        let walk = unsafe { &mut *(arg as *mut Walk) };
        walk.reach(obj);
    }
    0
}

unsafe extern "C" fn visit_root(
    name: *const c_char,
    obj: *mut PyObject,
    arg: *mut c_void,
) -> c_int {
    if obj.is_null() {
        return 0;
    }
    let walk = unsafe { &mut *(arg as *mut Walk) };
    if name.is_null() {
        let a = obj as usize;
        if walk.seen.insert(a as u64) {
            walk.hidden_found.push(a);
        }
        return 0;
    }
    let label = unsafe { CStr::from_ptr(name) }
        .to_string_lossy()
        .into_owned();
    walk.roots.push((label, obj as usize));
    walk.reach(obj);
    0
}

struct EdgePass<'a> {
    builder: &'a mut GraphBuilder,
}

unsafe extern "C" fn visit_edge(obj: *mut PyObject, arg: *mut c_void) -> c_int {
    if !obj.is_null() {
        let pass = unsafe { &mut *(arg as *mut EdgePass<'_>) };
        if let Some(n) = pass.builder.node_of(obj as u64) {
            pass.builder.add_edge(n);
        }
    }
    0
}

/// Names a type for the kind tables; `namer` is the Python layer's renderer.
fn type_name(py: Python<'_>, namer: Option<&Bound<'_, PyAny>>, tp: *mut PyObject) -> String {
    if let Some(namer) = namer {
        let t = unsafe { Bound::from_borrowed_ptr(py, tp) };
        if let Ok(s) = namer.call1((t,)).and_then(|r| r.extract::<String>()) {
            return s;
        }
    }
    let raw = unsafe { (*(tp as *mut ffi::PyTypeObject)).tp_name };
    if raw.is_null() {
        "<unnamed type>".to_string()
    } else {
        unsafe { CStr::from_ptr(raw) }
            .to_string_lossy()
            .into_owned()
    }
}

/// The root members only, `(name, address)`; the caller turns them into references
/// at once (no Python code runs in between).
pub fn roots(skip_prefix: &CStr) -> Vec<(String, usize)> {
    let mut walk = Walk {
        seen: AddressIndex::new(),
        stack: Vec::new(),
        hidden_types: Vec::new(),
        hidden_found: Vec::new(),
        roots: Vec::new(),
    };
    unsafe {
        shim::hs_roots(
            visit_root,
            &mut walk as *mut Walk as *mut c_void,
            skip_prefix.as_ptr(),
        )
    };
    walk.roots
}

/// Runs a capture. The GIL is held throughout (`py`).
pub fn capture(
    py: Python<'_>,
    spec: &CaptureSpec,
    namer: Option<&Bound<'_, PyAny>>,
) -> Result<Captured, CoreError> {
    let mut walk = Walk {
        seen: AddressIndex::new(),
        stack: Vec::with_capacity(1 << 16),
        hidden_types: spec.hidden_types.clone(),
        hidden_found: Vec::new(),
        roots: Vec::new(),
    };
    for &h in &spec.hidden_objects {
        if walk.seen.insert(h as u64) {
            walk.hidden_found.push(h);
        }
    }
    let warg = &mut walk as *mut Walk as *mut c_void;
    if spec.from_roots {
        unsafe { shim::hs_roots(visit_root, warg, spec.skip_prefix.as_ptr()) };
    }
    for &s in &spec.seeds {
        unsafe { visit_reach(s as *mut PyObject, warg) };
    }
    if spec.no_closure {
        walk.stack.clear();
    }
    while let Some(a) = walk.stack.pop() {
        unsafe { shim::hs_traverse(a as *mut PyObject, visit_reach, warg) };
    }
    for &h in &walk.hidden_found {
        walk.seen.remove(h as u64);
    }
    let Walk {
        mut seen,
        hidden_found,
        roots,
        ..
    } = walk;
    let addrs = seen.freeze();
    let mut builder = GraphBuilder::new(seen, addrs)?;
    // Strong references before anything can run Python code.
    for &a in builder.addresses() {
        unsafe { ffi::Py_INCREF(a as *mut PyObject) };
    }
    build_nodes(py, &mut builder, namer);
    for (name, a) in roots {
        if let Some(n) = builder.node_of(a as u64) {
            builder.add_root(name, n);
        }
    }
    let mut sizes = SizeCache::default();
    let count = builder.addresses().len();
    for i in 0..count {
        let a = builder.addresses()[i];
        let s = unsafe { sizes.size_of(a as *mut PyObject) };
        builder.set_size(NodeId(i as u32), s);
    }
    Ok(Captured {
        graph: builder.build(),
        size_failures: sizes.failures,
        hidden: hidden_found,
    })
}

fn build_nodes(py: Python<'_>, builder: &mut GraphBuilder, namer: Option<&Bound<'_, PyAny>>) {
    let count = builder.addresses().len();
    let mut last_type: (usize, TypeId) = (0, TypeId(u32::MAX));
    for i in 0..count {
        let obj = builder.addresses()[i] as *mut PyObject;
        let tp = unsafe { ffi::Py_TYPE(obj) } as usize;
        let tid = if tp == last_type.0 {
            last_type.1
        } else {
            let is_dict = tp == std::ptr::addr_of_mut!(ffi::PyDict_Type) as usize;
            let is_module = unsafe { ffi::PyModule_Check(obj) } != 0;
            let t = builder.intern_type(tp as u64, is_dict, is_module);
            last_type = (tp, t);
            t
        };
        builder
            .begin_node(tid)
            .expect("node count checked at GraphBuilder::new");
        let mut pass = EdgePass { builder };
        unsafe {
            shim::hs_traverse(
                obj,
                visit_edge,
                &mut pass as *mut EdgePass<'_> as *mut c_void,
            )
        };
        let dict = unsafe { shim::hs_owned_dict(obj) };
        if !dict.is_null() {
            if let Some(d) = builder.node_of(dict as u64) {
                builder.set_dict_owner(d, tid);
            }
        }
    }
    // Name the types now that no traversal is under way (naming may run Python code).
    let type_addrs: Vec<u64> = builder.type_addresses();
    let names: Vec<String> = type_addrs
        .iter()
        .map(|&t| type_name(py, namer, t as *mut PyObject))
        .collect();
    builder.set_type_names(names);
}
