//! Live capture: walk the interpreter from its roots and record a core graph.
//!
//! One traversal: objects are taken off a stack, each becomes the next node (its type,
//! its `__dict__` owner, a strong reference) and its referents are recorded as edges
//! while being marked seen in a paged bitmap. No Python code can run during the walk:
//! only C traversal functions are called, under the GIL. Hidden objects (the session's
//! own, our frames) are marked seen but never become nodes or get walked through.
//! After the walk the recorder resolves edges to node ids; type names and sizes come
//! last, because both may run user code (every node is strongly referenced by then).

use std::ffi::{CStr, CString};
use std::os::raw::{c_char, c_int, c_void};

use heapscope_core::{CoreError, HeapGraph, NodeId, TypeId, TypeTable, WalkRecorder};
use pyo3::exceptions::PyValueError;
use pyo3::ffi::{self, PyObject};
use pyo3::prelude::*;

use super::sizes::SizeCache;
use super::{object_at, shim};
use crate::errors::to_pyerr;
use crate::handles::{LiveGraph, NodeSetHandle};

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
    /// Record edges (needed for reachability; a census needs none).
    pub record_edges: bool,
    /// Objects that may own a `__dict__` among the nodes without being nodes themselves
    /// (captures without closure: a dict's owner does not depend on the set).
    pub owner_candidates: Vec<usize>,
}

/// A captured graph plus what the capture learnt along the way.
pub struct Captured {
    pub graph: HeapGraph,
    pub size_failures: u64,
    /// Addresses of hidden objects met during the walk.
    pub hidden: Vec<usize>,
    /// With edges recorded, node ids are the walk's order: nodes below this id are what
    /// the closure from the roots reached, the rest only the seeds (alive, unreachable
    /// from the roots). `None` without edges.
    pub roots_closure: Option<u32>,
}

struct Walk {
    rec: WalkRecorder,
    stack: Vec<usize>,
    hidden_found: Vec<usize>,
    /// Objects met through a traversal that are not alive (refcount 0: extension
    /// modules' free lists); never referenced, forgotten like hidden objects.
    dead: Vec<usize>,
    /// Static types first found as an instance's type (not a reference) in the closure
    /// from the roots (those a census counts).
    static_types: Vec<usize>,
    /// The seeds have been added: the closure from the roots is complete.
    seeded: bool,
    /// The `__dict__` of the object being traversed (0 if none), and whether its
    /// traversal reported it.
    own_dict: u64,
    own_dict_visited: bool,
    roots: Vec<(String, usize)>,
    /// Record edges only to objects already seen (no closure).
    closed: bool,
}

/// Visits a referent of the node being processed: records the edge, schedules new ones.
unsafe extern "C" fn visit_referent(obj: *mut PyObject, arg: *mut c_void) -> c_int {
    if !obj.is_null() {
        let walk = unsafe { &mut *(arg as *mut Walk) };
        let a = obj as u64;
        walk.own_dict_visited |= a == walk.own_dict;
        if walk.closed {
            walk.rec.edge_to_seen(a);
        } else if walk.rec.edge_to(a) {
            walk.schedule(a as usize);
        }
    }
    0
}

/// Reaches an instance's static type: walked, but no edge (instances do not reference
/// their static type, in CPython's traversal as in Heapy).
unsafe extern "C" fn reach_type(obj: *mut PyObject, arg: *mut c_void) -> c_int {
    if !obj.is_null() {
        let walk = unsafe { &mut *(arg as *mut Walk) };
        if !walk.closed && walk.rec.reach(obj as u64) {
            if !walk.seeded {
                walk.static_types.push(obj as usize);
            }
            walk.schedule(obj as usize);
        }
    }
    0
}

impl Walk {
    fn new(record_edges: bool, closed: bool) -> Self {
        Walk {
            rec: WalkRecorder::new(record_edges),
            stack: Vec::with_capacity(1 << 16),
            hidden_found: Vec::new(),
            dead: Vec::new(),
            static_types: Vec::new(),
            seeded: false,
            own_dict: 0,
            own_dict_visited: false,
            roots: Vec::new(),
            closed,
        }
    }

    /// A newly seen object: walked later if alive, else remembered as dead (its address
    /// is forgotten after the walk, which drops every edge to it).
    #[inline]
    fn schedule(&mut self, a: usize) {
        if unsafe { shim::hs_is_live(a as *mut PyObject) } != 0 {
            self.stack.push(a);
        } else {
            self.dead.push(a);
        }
    }
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
    let a = obj as usize;
    if name.is_null() {
        if walk.rec.reach(a as u64) {
            walk.hidden_found.push(a);
        }
        return 0;
    }
    let label = unsafe { CStr::from_ptr(name) }
        .to_string_lossy()
        .into_owned();
    if unsafe { shim::hs_is_live(obj) } == 0 {
        // a stale frame slot: not a root
        return 0;
    }
    walk.roots.push((label, a));
    if walk.rec.reach(a as u64) {
        walk.stack.push(a);
    }
    0
}

/// Addresses of the types of `tp`'s MRO, `tp` first (read from `tp_mro`: no Python
/// code runs, no `__subclasscheck__`).
///
/// # Safety
/// `tp` must be a live type object.
pub unsafe fn type_mro(tp: *mut ffi::PyTypeObject) -> Vec<u64> {
    let mro = unsafe { (*tp).tp_mro };
    if mro.is_null() || unsafe { ffi::PyTuple_Check(mro) } == 0 {
        return vec![tp as u64];
    }
    let n = unsafe { ffi::PyTuple_GET_SIZE(mro) };
    let mut out: Vec<u64> = (0..n)
        .map(|i| unsafe { ffi::PyTuple_GET_ITEM(mro, i) } as u64)
        .collect();
    if out.first() != Some(&(tp as u64)) {
        out.insert(0, tp as u64);
    }
    out
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
    let mut walk = Walk::new(false, true);
    unsafe {
        shim::hs_roots(
            visit_root,
            &mut walk as *mut Walk as *mut c_void,
            skip_prefix.as_ptr(),
        )
    };
    walk.roots
}

/// The benchmark floor: a bare closure from the roots through the same traversal, with
/// bitmap dedup and nothing else (no nodes, types, sizes or references). Returns the
/// number of objects reached.
fn bare_closure_count(skip_prefix: &CStr) -> usize {
    let mut walk = Walk::new(false, false);
    let warg = &mut walk as *mut Walk as *mut c_void;
    unsafe { shim::hs_capture_begin() };
    unsafe { shim::hs_roots(visit_root, warg, skip_prefix.as_ptr()) };
    let mut count = 0usize;
    while let Some(a) = walk.stack.pop() {
        count += 1;
        unsafe { shim::hs_traverse(a as *mut PyObject, visit_referent, reach_type, warg) };
    }
    count
}

/// Direct-mapped cache type address -> TypeId: walk order interleaves types, so a
/// one-entry cache misses on most nodes and a hash lookup per node shows in profiles.
struct TypeCache {
    slots: [(usize, TypeId); 256],
}

impl TypeCache {
    #[inline]
    fn type_id(&mut self, table: &mut TypeTable, obj: *mut PyObject) -> TypeId {
        let tp = unsafe { ffi::Py_TYPE(obj) } as usize;
        let slot = (tp >> 4) % self.slots.len();
        if self.slots[slot].0 == tp {
            return self.slots[slot].1;
        }
        let is_dict = tp == std::ptr::addr_of_mut!(ffi::PyDict_Type) as usize;
        let is_module = unsafe { ffi::PyModule_Check(obj) } != 0;
        let t = table.intern(tp as u64, is_dict, is_module);
        self.slots[slot] = (tp, t);
        t
    }
}

/// What the walk needs to know of each type, cached direct-mapped (once per object).
#[derive(Clone, Copy, Default)]
struct TypeVerdict {
    hidden: bool,
    may_own_dict: bool,
}

struct TypeVerdicts {
    slots: [(usize, TypeVerdict); 256],
}

impl TypeVerdicts {
    #[inline]
    fn of(&mut self, tp: usize, hidden_types: &[usize]) -> TypeVerdict {
        let slot = (tp >> 4) % self.slots.len();
        if self.slots[slot].0 == tp {
            return self.slots[slot].1;
        }
        let v = TypeVerdict {
            hidden: hidden_types.contains(&tp),
            may_own_dict: unsafe { shim::hs_type_may_own_dict(tp as *mut ffi::PyTypeObject) } != 0,
        };
        self.slots[slot] = (tp, v);
        v
    }
}

/// Runs a capture. The GIL is held throughout (`py`).
pub fn capture(
    py: Python<'_>,
    spec: &CaptureSpec,
    namer: Option<&Bound<'_, PyAny>>,
) -> Result<Captured, CoreError> {
    let mut timer = PhaseTimer::from_env();
    let mut walk = Walk::new(spec.record_edges, spec.no_closure);
    unsafe { shim::hs_capture_begin() };
    for &h in &spec.hidden_objects {
        if walk.rec.reach(h as u64) {
            walk.hidden_found.push(h);
        }
    }
    let warg = &mut walk as *mut Walk as *mut c_void;
    if spec.from_roots {
        unsafe { shim::hs_roots(visit_root, warg, spec.skip_prefix.as_ptr()) };
    }
    let mut verdicts = TypeVerdicts {
        slots: [(0, TypeVerdict::default()); 256],
    };
    let mut types = TypeCache {
        slots: [(0, TypeId(0)); 256],
    };
    let mut failed = None;
    let mut roots_closure = None;
    loop {
        let Some(a) = walk.stack.pop() else {
            if walk.seeded {
                break;
            }
            // The seeds only after the closure from the roots: what the roots reach
            // (static types met as an instance's type included) is known first.
            walk.seeded = true;
            roots_closure = Some(walk.rec.nodes_begun() as u32);
            for &s in &spec.seeds {
                if walk.rec.reach(s as u64) {
                    walk.stack.push(s);
                }
            }
            continue;
        };
        let obj = a as *mut PyObject;
        let tp = unsafe { ffi::Py_TYPE(obj) } as usize;
        let verdict = verdicts.of(tp, &spec.hidden_types);
        if verdict.hidden {
            walk.hidden_found.push(a);
            continue;
        }
        if spec.record_edges {
            let tid = types.type_id(&mut walk.rec.types, obj);
            if let Err(e) = walk.rec.begin_node(a as u64, tid) {
                failed = Some(e);
                break;
            }
            // The strong reference is taken before anything can run Python code.
            unsafe { ffi::Py_INCREF(obj) };
        } else if let Err(e) = walk.rec.begin_node(a as u64, TypeId(0)) {
            // a census takes its references and types in address order afterwards
            failed = Some(e);
            break;
        }
        let dict = if verdict.may_own_dict {
            unsafe { shim::hs_owned_dict(obj) }
        } else {
            std::ptr::null_mut()
        };
        walk.own_dict = dict as u64;
        walk.own_dict_visited = false;
        unsafe { shim::hs_traverse(obj, visit_referent, reach_type, warg) };
        if !dict.is_null() {
            // An extension type's traversal may leave out the __dict__ it owns (numpy's
            // _ArrayFunctionDispatcher): the object refers to it all the same.
            if !walk.own_dict_visited && !walk.closed && unsafe { shim::hs_is_live(dict) } != 0 {
                unsafe { visit_referent(dict, warg) };
            }
            let owner = types.type_id(&mut walk.rec.types, obj);
            walk.rec.set_dict_owner(dict as u64, owner);
        }
    }
    for &c in &spec.owner_candidates {
        let obj = c as *mut PyObject;
        let tp = unsafe { ffi::Py_TYPE(obj) } as usize;
        if verdicts.of(tp, &spec.hidden_types).may_own_dict {
            let dict = unsafe { shim::hs_owned_dict(obj) };
            if !dict.is_null() && walk.rec.seen(dict as u64) {
                let owner = types.type_id(&mut walk.rec.types, obj);
                walk.rec.set_dict_owner(dict as u64, owner);
            }
        }
    }
    timer.lap("walk");
    let Walk {
        mut rec,
        hidden_found,
        dead,
        static_types,
        roots,
        ..
    } = walk;
    if let Some(e) = failed {
        release(rec.node_addresses());
        return Err(e);
    }
    for &h in hidden_found.iter().chain(&dead) {
        rec.forget(h as u64);
    }
    if let Err(e) = rec.check() {
        release(rec.node_addresses());
        return Err(e);
    }
    let mut builder = rec.finish()?;
    timer.lap("freeze");
    let mut sizes = SizeCache::default();
    let mut deferred: Vec<NodeId> = Vec::new();
    let census = builder.needs_node_types();
    // Census ids are ranks (address order); graphs with edges are visited in id (walk)
    // order, which keeps the per-node arrays sequential (measured faster than going
    // through the address-order permutation).
    for k in 0..builder.addresses().len() {
        let n = NodeId(k as u32);
        let obj = builder.addresses()[n.index()] as *mut PyObject;
        if census {
            // A census takes its strong references and types here, in address order.
            unsafe { ffi::Py_INCREF(obj) };
            let t = types.type_id(builder.types_mut(), obj);
            builder.set_node_type(n, t);
        }
        // Sizes that cannot run Python code now; the others once all are referenced.
        match unsafe { sizes.size_if_safe(obj) } {
            Some(s) => builder.set_size(n, s),
            None => deferred.push(n),
        }
    }
    timer.lap("nodes");
    for (name, a) in roots {
        if let Some(n) = builder.node_of(a as u64) {
            builder.add_root(name, n);
        }
    }
    if spec.record_edges {
        // Static types live as long as the interpreter: one that no root reaches (found
        // only as an instance's type, or referenced only by its own descriptors) is a
        // root, `i0_types['name']`.
        let found: Vec<NodeId> = static_types
            .iter()
            .filter_map(|&a| builder.node_of(a as u64))
            .collect();
        for n in builder.unreached_from_roots(&found) {
            let tp = builder.addresses()[n.index()] as *mut ffi::PyTypeObject;
            let raw = unsafe { (*tp).tp_name };
            let name = if raw.is_null() {
                "?".to_string()
            } else {
                unsafe { CStr::from_ptr(raw) }
                    .to_string_lossy()
                    .into_owned()
            };
            builder.add_root(format!("i0_types['{name}']"), n);
        }
    }
    // Name the types now that every node is referenced (naming may run Python code).
    let names: Vec<String> = builder
        .type_addresses()
        .iter()
        .map(|&t| type_name(py, namer, t as *mut PyObject))
        .collect();
    builder.set_type_names(names);
    let mros: Vec<Vec<u64>> = builder
        .type_addresses()
        .iter()
        .map(|&t| unsafe { type_mro(t as *mut ffi::PyTypeObject) })
        .collect();
    builder.set_type_mros(mros);
    for n in deferred {
        let a = builder.addresses()[n.index()];
        let s = unsafe { sizes.size_of(a as *mut PyObject) };
        builder.set_size(n, s);
    }
    timer.lap("sizes");
    let graph = builder.build();
    Ok(Captured {
        graph,
        size_failures: sizes.failures,
        hidden: hidden_found,
        roots_closure: roots_closure.filter(|_| spec.record_edges),
    })
}

/// Drops the strong references of a capture that failed half-way.
fn release(addresses: &[u64]) {
    for &a in addresses {
        unsafe { ffi::Py_DECREF(a as *mut PyObject) };
    }
}

/// Phase timings on stderr when `HEAPSCOPE_TIMINGS` is set (for profiling captures).
struct PhaseTimer {
    last: Option<std::time::Instant>,
}

impl PhaseTimer {
    fn from_env() -> Self {
        let on = std::env::var_os("HEAPSCOPE_TIMINGS").is_some();
        PhaseTimer {
            last: on.then(std::time::Instant::now),
        }
    }

    fn lap(&mut self, phase: &str) {
        if let Some(last) = self.last {
            let now = std::time::Instant::now();
            eprintln!(
                "heapscope capture: {phase:<7} {:8.1} ms",
                (now - last).as_secs_f64() * 1e3
            );
            self.last = Some(now);
        }
    }
}

// Python entry points: captures and the live reads that need no graph.

/// The interpreter's root members `(name, object)`, as `heap()` starts from them.
#[pyfunction]
pub fn root_members(py: Python<'_>, skip_prefix: &str) -> PyResult<Vec<(String, Py<PyAny>)>> {
    let prefix =
        CString::new(skip_prefix).map_err(|_| PyValueError::new_err("skip_prefix contains NUL"))?;
    Ok(roots(&prefix)
        .into_iter()
        .map(|(name, a)| (name, object_at(py, a as u64)))
        .collect())
}

/// The existing `__dict__` of `obj` (never materialised), or None.
#[pyfunction]
pub fn owned_dict(py: Python<'_>, obj: &Bound<'_, PyAny>) -> Option<Py<PyAny>> {
    let d = unsafe { shim::hs_owned_dict(obj.as_ptr()) };
    (!d.is_null()).then(|| unsafe { Bound::from_borrowed_ptr(py, d) }.unbind())
}

/// Benchmark floor: objects reached by a bare closure from the roots (no graph).
#[pyfunction]
pub fn bare_closure(skip_prefix: &str) -> PyResult<usize> {
    let prefix =
        CString::new(skip_prefix).map_err(|_| PyValueError::new_err("skip_prefix contains NUL"))?;
    Ok(bare_closure_count(&prefix))
}

/// Captures a heap. See `heapscope/_native.pyi` for the meaning of each argument.
#[pyfunction]
#[pyo3(signature = (*, from_roots, seeds, hidden_types, hidden_objects, skip_prefix, namer=None, closure=true, edges=true, owner_candidates=Vec::new(), seed_sets=Vec::new()))]
#[allow(clippy::too_many_arguments)]
pub fn capture_graph(
    py: Python<'_>,
    from_roots: bool,
    seeds: Vec<Bound<'_, PyAny>>,
    hidden_types: Vec<Bound<'_, PyAny>>,
    hidden_objects: Vec<Bound<'_, PyAny>>,
    skip_prefix: &str,
    namer: Option<Bound<'_, PyAny>>,
    closure: bool,
    edges: bool,
    owner_candidates: Vec<Bound<'_, PyAny>>,
    seed_sets: Vec<PyRef<'_, NodeSetHandle>>,
) -> PyResult<LiveGraph> {
    // Members of other captures' sets seed the walk by address: they are alive (their
    // capture holds them) and no Python list of a whole heap's objects is needed.
    let mut seed_addresses: Vec<usize> = seeds.iter().map(|o| o.as_ptr() as usize).collect();
    for s in &seed_sets {
        let g = &s.graph.get().graph;
        seed_addresses.extend(s.set.iter().map(|n| g.address(n) as usize));
    }
    let spec = CaptureSpec {
        from_roots,
        seeds: seed_addresses,
        hidden_types: hidden_types.iter().map(|o| o.as_ptr() as usize).collect(),
        hidden_objects: hidden_objects.iter().map(|o| o.as_ptr() as usize).collect(),
        skip_prefix: CString::new(skip_prefix)
            .map_err(|_| PyValueError::new_err("skip_prefix contains NUL"))?,
        no_closure: !closure,
        record_edges: edges,
        owner_candidates: owner_candidates
            .iter()
            .map(|o| o.as_ptr() as usize)
            .collect(),
    };
    drop(seeds);
    let captured = capture(py, &spec, namer.as_ref()).map_err(to_pyerr)?;
    Ok(LiveGraph::from_capture(captured))
}
