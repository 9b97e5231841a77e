/* heapscope capture shim: the only code that reads CPython internals.
 *
 * Everything version-specific lives here, compiled against the target interpreter's own
 * headers (with Py_BUILD_CORE for the internal ones), and gated by PY_VERSION_HEX.
 * Supported: CPython 3.10, 3.11, 3.12, 3.13 (default, GIL builds).
 */
#ifndef HEAPSCOPE_CAPTURE_SHIM_H
#define HEAPSCOPE_CAPTURE_SHIM_H
#include <Python.h>

/* Called once per named root: name is NULL for "hide this object" (our own frames). */
typedef int (*hs_rootproc)(const char *name, PyObject *obj, void *arg);

/* Once, at module import (3.10 learns the general dict lookup function). */
int hs_init(void);

/* Before every capture: finds numpy's ndarray type if numpy is imported. */
void hs_capture_begin(void);

/* 1 if obj looks alive: refcount above 0 and a type whose type is a metatype. Extension
 * modules may traverse freed objects on their free lists; those must never be referenced. */
int hs_is_live(PyObject *obj);

/* Visit every referent of obj heapscope knows about: tp_traverse (only for GC objects,
 * never for static types), the object's heap type, static types' dict/mro/bases, code
 * object members and what traversal hides (hidden_refs.c). A static type of an instance
 * is passed to `reach` instead: it is found but is not a reference. Never creates
 * objects. */
int hs_traverse(PyObject *obj, visitproc visit, visitproc reach, void *arg);

/* The references tp_traverse does not report (hidden_refs.c): str dict keys, heap type
 * names/slots/cached keys, tp_subclasses registries, numpy arrays' base, dtype and
 * object elements. */
int hs_visit_hidden(PyObject *obj, visitproc visit, void *arg);

/* How a referrer holds a referent: Heapy's relation codes (they order paths). */
enum hs_relation {
    HS_REL_ATTRIBUTE = 1,  /* .name           (name, or key: a str) */
    HS_REL_INDEX = 2,      /* [i] or [key]    (index, or key) */
    HS_REL_KEYINDEX = 3,   /* .keys()[i]      (index) */
    HS_REL_INTERNAL = 4,   /* ->name          (name) */
    HS_REL_LOCAL = 6,      /* .f_locals['x']  (key: the name) */
    HS_REL_CELL = 7,       /* .f_locals ['x'] (key: the name) */
    HS_REL_STACK = 8,      /* ->f_valuestack[i] (index) */
    HS_REL_SETMEMBER = 9,  /* list(_)[i]      (index) */
    HS_REL_FLATINDEX = 10, /* .flat[i]        (index: numpy arrays of 2+ dimensions) */
    /* Or'ed into HS_REL_ATTRIBUTE or HS_REL_INTERNAL: name is a template whose "{}"
     * stands for the key's repr (or the index, when key is NULL), e.g.
     * (HS_REL_ATTRIBUTE | HS_REL_TEMPLATE, "gi_frame.f_locals[{}]", 'x') is rendered
     * .gi_frame.f_locals['x'] (a step through a part that is no object of its own). */
    HS_REL_TEMPLATE = 0x100,
};

/* Called once per named reference of an object: exactly one of name (a static or
 * type-owned C string), key (a borrowed str or dict key) or index describes it, except
 * with HS_REL_TEMPLATE (name and key or index). */
typedef int (*hs_relproc)(int relation, const char *name, PyObject *key, Py_ssize_t index,
                          PyObject *target, void *arg);

/* Name the references obj holds, by type, without creating any object or running Python
 * code: containers' items, dict keys and values, managed/inline instance values, members
 * and slots, and hand-made relations for functions, types, modules, frames, cells,
 * methods, code, tracebacks, exceptions and mappingproxies. Targets are only compared by
 * address by the caller (a stale frame slot may be reported; it is never dereferenced). */
int hs_relate(PyObject *obj, hs_relproc proc, void *arg);

/* Names what hs_visit_hidden visits (cached keys, static types' subclasses, arrays). */
int hs_relate_hidden(PyObject *obj, hs_relproc proc, void *arg);

/* Part of hs_relate (relate_stdlib.c): references of standard-library objects whose
 * structs are private or need walking, read only where the layout is verified:
 * collections.deque items, generator/coroutine/async generator frames and state,
 * asyncio Future/Task/FutureIter fields, functools.lru_cache wrappers, property names
 * and weakref proxies' callbacks. */
int hs_relate_stdlib(PyObject *obj, PyTypeObject *tp, hs_relproc proc, void *arg);

#if PY_VERSION_HEX >= 0x030B0000
/* An interpreter frame's members named like a frame object's (capture_shim.c's
 * iframe_members; stack_valid as described there). */
struct _PyInterpreterFrame;
#define hs_iframe_members iframe_members
int hs_iframe_members(struct _PyInterpreterFrame *f, int stack_valid, hs_relproc proc, void *arg);
#endif

/* The characters of an exact str whose characters are all ASCII (its data are then
 * its UTF-8; nothing is created or cached), and their number; NULL for any other. */
const char *hs_ascii_chars(PyObject *obj, Py_ssize_t *len);

/* The existing __dict__ of obj (borrowed), without materialising one; NULL if none. */
PyObject *hs_owned_dict(PyObject *obj);

/* 0 when no instance of tp can own a __dict__ (hs_owned_dict would return NULL). */
int hs_type_may_own_dict(PyTypeObject *tp);

/* Bytes sys.getsizeof adds to __sizeof__ (GC header, managed dict/weakref words). */
Py_ssize_t hs_presize(PyObject *obj);

/* Bytes the object owns that sys.getsizeof misses (3.11/3.12 managed-dict values
 * allocated apart, 3.13 inline values). */
Py_ssize_t hs_unreported_size(PyObject *obj);

/* __sizeof__ as found on the type (borrowed reference), or NULL. */
PyObject *hs_lookup_sizeof(PyTypeObject *tp);

/* Report every root: interpreter members (i0_modules, i0_sysdict, ...) and, for every
 * thread, its state members and frames. Frames of the calling thread whose code file
 * starts with skip_prefix (heapscope's own) are skipped and reported as hidden. */
int hs_roots(hs_rootproc proc, void *arg, const char *skip_prefix);

/* How to get an object's __sizeof__, decided once per type. */
enum hs_sizeof_kind {
    HS_SIZEOF_FORMULA = 0, /* object.__sizeof__: basicsize + itemsize * |ob_size| */
    HS_SIZEOF_CMETHOD = 1, /* a C METH_NOARGS method, called directly */
    HS_SIZEOF_CALL = 2,    /* anything else: bound and called (may run Python code) */
};
int hs_sizeof_kind(PyTypeObject *tp, PyCFunction *out_fn, PyObject **out_descr);

/* __sizeof__ of obj per the type's strategy; -1 (error cleared) when it fails or
 * returns something that is not a non-negative int. */
Py_ssize_t hs_call_sizeof(PyObject *obj, int kind, PyCFunction fn, PyObject *descr);

/* The individual size: __sizeof__ per strategy (formula on failure, *failed set) +
 * getsizeof's pre-header + unreported managed/inline values. */
Py_ssize_t hs_size(PyObject *obj, int kind, PyCFunction fn, PyObject *descr, int *failed);

/* 1 if every instance of tp (whose __sizeof__ is the object formula) has one size. */
int hs_size_is_constant(PyTypeObject *tp);

/* basicsize + itemsize * |ob_size|, what object.__sizeof__ returns. */
Py_ssize_t hs_formula_sizeof(PyObject *obj);
#endif
