/* References that objects own but CPython's tp_traverse does not report.
 *
 * tp_traverse exists for the cycle collector: it only has to report references that can
 * take part in a cycle. A census must see every owned object, so these are visited here
 * (and named in hs_relate_hidden), version by version:
 *
 *   dict keys        dict_traverse skips the keys of str-keyed tables (3.10: every
 *                    table whose lookup is not the general `lookdict`; 3.11+: every
 *                    DICT_KEYS_UNICODE / split table). Named .keys()[i].
 *   heap types       type_traverse skips ht_name, ht_qualname, ht_slots, the
 *                    tp_subclasses registry (a dict of int keys -> weakrefs) and, on
 *                    3.11+, the keys of ht_cached_keys (the attribute names of
 *                    instances without a materialised __dict__).
 *   static types     never traversed at all (type_traverse aborts on them); their dict,
 *                    mro, bases (capture_shim.c) and their tp_subclasses registry (3.12+:
 *                    kept in the interpreter state for static builtin types).
 *   modules          module_traverse skips md_name (usually also __name__ in the dict).
 *   numpy ndarray    no tp_traverse: .base, the dtype (descr) and, for dtype=object
 *                    arrays that own their data, every element. numpy's array struct is
 *                    public ABI (ndarraytypes.h, PyArrayObject_fields, unchanged in its
 *                    first fields from numpy 1.x to 2.x); it is read without importing
 *                    numpy: the ndarray type is found in sys.modules['numpy'].__dict__
 *                    when a capture begins.
 *
 * Nothing here creates an object or runs Python code. Audited but NOT visited (see
 * docs/architecture.md, "What traversal hides"): tp_weaklist / weakref lists (borrowed
 * pointers), 3.10's ht_cached_keys (private struct; instances' split dicts reach the
 * same keys), the dtype's own fields, structured dtypes with object fields, and C-level
 * tables of extension modules (pandas' hash tables, lxml's documents).
 */
#define Py_BUILD_CORE 1
#include "capture_shim.h"
#include <stddef.h>
#include <string.h>
#include "internal/pycore_interp.h"
#include "internal/pycore_object.h"
#include "internal/pycore_moduleobject.h"
#if PY_VERSION_HEX >= 0x030B0000
#include "internal/pycore_dict.h"
#endif
#if PY_VERSION_HEX >= 0x030C0000
#include "internal/pycore_typeobject.h"
#endif

#define VISIT(o)                                          \
    do {                                                  \
        PyObject *_o = (PyObject *)(o);                   \
        if (_o != NULL) {                                 \
            int _r = visit(_o, arg);                      \
            if (_r) return _r;                            \
        }                                                 \
    } while (0)

#include "relate_report.h"

/* ---- liveness ------------------------------------------------------------------- */

int
hs_is_live(PyObject *obj)
{
    /* Some extension modules traverse their own free lists (3.12's _asyncio visits freed
     * future iterators): such objects have refcount 0. Referencing one and releasing it
     * frees it a second time (the free list becomes a cycle; the next allocation spins).
     * A live object also has a type whose own type is a metatype. */
    if (((uintptr_t)obj & (sizeof(void *) - 1)) != 0) return 0;
    if (Py_REFCNT(obj) <= 0) return 0;
    PyTypeObject *tp = Py_TYPE(obj);
    if (tp == NULL || ((uintptr_t)tp & (sizeof(void *) - 1)) != 0) return 0;
    PyTypeObject *meta = Py_TYPE(tp);
    if (meta == NULL || ((uintptr_t)meta & (sizeof(void *) - 1)) != 0) return 0;
    return (meta->tp_flags & Py_TPFLAGS_TYPE_SUBCLASS) != 0;
}

/* ---- numpy arrays ---------------------------------------------------------------- */

/* The leading fields of numpy's PyArrayObject_fields and PyArray_Descr (ndarraytypes.h):
 * the same in numpy 1.x and 2.x. */
typedef struct {
    PyObject_HEAD
    char *data;
    int nd;
    Py_ssize_t *dimensions;
    Py_ssize_t *strides;
    PyObject *base;
    PyObject *descr;
    int flags;
} hs_ndarray;

typedef struct {
    PyObject_HEAD
    PyTypeObject *typeobj;
    char kind;
    char type;
    char byteorder;
    char flags;
    int type_num;
} hs_descr;

#define HS_NPY_OBJECT 17
#define HS_NPY_ARRAY_OWNDATA 0x0004

static PyTypeObject *ndarray_type = NULL;

void
hs_capture_begin(void)
{
    ndarray_type = NULL;
    PyObject *modules = PyImport_GetModuleDict(); /* borrowed */
    if (modules == NULL || !PyDict_Check(modules)) return;
    PyObject *np = PyDict_GetItemString(modules, "numpy"); /* borrowed, no user code */
    if (np == NULL || !PyModule_Check(np)) { PyErr_Clear(); return; }
    PyObject *d = PyModule_GetDict(np);
    PyObject *t = d ? PyDict_GetItemString(d, "ndarray") : NULL;
    if (t == NULL) { PyErr_Clear(); return; }
    if (PyType_Check(t) && strcmp(((PyTypeObject *)t)->tp_name, "numpy.ndarray") == 0
        && ((PyTypeObject *)t)->tp_basicsize >= (Py_ssize_t)sizeof(hs_ndarray)) {
        ndarray_type = (PyTypeObject *)t;
    }
}

static int
is_ndarray(PyTypeObject *tp)
{
    return ndarray_type != NULL && (tp == ndarray_type || PyType_IsSubtype(tp, ndarray_type));
}

/* 1 if the array's own elements are object pointers this array owns. */
static int
ndarray_owns_objects(hs_ndarray *a)
{
    hs_descr *d = (hs_descr *)a->descr;
    if (d == NULL || !hs_is_live((PyObject *)d) || d->type_num != HS_NPY_OBJECT) return 0;
    if (a->data == NULL || a->nd < 0 || a->nd > 64) return 0;
    return a->base == NULL || (a->flags & HS_NPY_ARRAY_OWNDATA);
}

typedef int (*element_proc)(PyObject *elem, Py_ssize_t flat, void *arg);

/* Calls fn for every non-NULL element in C order (flat index as numpy's .flat). */
static int
ndarray_elements(hs_ndarray *a, element_proc fn, void *arg)
{
    int nd = a->nd;
    Py_ssize_t total = 1;
    for (int k = 0; k < nd; k++) {
        if (a->dimensions[k] <= 0) return 0;
        total *= a->dimensions[k];
    }
    Py_ssize_t idx[64] = {0};
    char *p = a->data;
    for (Py_ssize_t flat = 0; flat < total; flat++) {
        PyObject *elem = *(PyObject **)p;
        if (elem != NULL) {
            int r = fn(elem, flat, arg);
            if (r) return r;
        }
        /* advance the multi-index (last axis fastest) */
        for (int k = nd - 1; k >= 0; k--) {
            if (++idx[k] < a->dimensions[k]) {
                p += a->strides[k];
                break;
            }
            p -= a->strides[k] * (a->dimensions[k] - 1);
            idx[k] = 0;
        }
    }
    return 0;
}

struct visit_args {
    visitproc visit;
    void *arg;
};

static int
visit_element(PyObject *elem, Py_ssize_t flat, void *varg)
{
    (void)flat;
    struct visit_args *va = (struct visit_args *)varg;
    return va->visit(elem, va->arg);
}

struct relate_args {
    hs_relproc proc;
    void *arg;
    int flat;
};

static int
relate_element(PyObject *elem, Py_ssize_t flat, void *varg)
{
    struct relate_args *ra = (struct relate_args *)varg;
    return ra->proc(ra->flat ? HS_REL_FLATINDEX : HS_REL_INDEX, NULL, NULL, flat, elem, ra->arg);
}

/* ---- types ----------------------------------------------------------------------- */

/* The tp_subclasses registry of a type: a dict {id: weakref}, or NULL. 3.12+ keep it for
 * static builtin types in the interpreter state, at the index stored in tp_subclasses
 * (plus one); the entry is used only when it names this type. */
static PyObject *
type_subclasses(PyTypeObject *t)
{
#if PY_VERSION_HEX >= 0x030C0000
    if (t->tp_flags & _Py_TPFLAGS_STATIC_BUILTIN) {
        size_t index = (size_t)t->tp_subclasses;
        if (index == 0) return NULL;
        index -= 1;
        PyInterpreterState *interp = PyInterpreterState_Get();
#if PY_VERSION_HEX >= 0x030D0000
        if (index < _Py_MAX_MANAGED_STATIC_BUILTIN_TYPES
            && interp->types.builtins.initialized[index].type == t) {
            return interp->types.builtins.initialized[index].tp_subclasses;
        }
        if (index < _Py_MAX_MANAGED_STATIC_EXT_TYPES
            && interp->types.for_extensions.initialized[index].type == t) {
            return interp->types.for_extensions.initialized[index].tp_subclasses;
        }
        return NULL;
#else
        if (index < _Py_MAX_STATIC_BUILTIN_TYPES && interp->types.builtins[index].type == t) {
            return interp->types.builtins[index].tp_subclasses;
        }
        return NULL;
#endif
    }
#endif
    PyObject *s = (PyObject *)t->tp_subclasses;
    return (s != NULL && PyDict_Check(s)) ? s : NULL;
}

#if PY_VERSION_HEX >= 0x030B0000
/* The attribute names shared by the instances of a heap type (3.11+). */
static PyDictKeysObject *
cached_keys(PyTypeObject *t)
{
    if (!(t->tp_flags & Py_TPFLAGS_HEAPTYPE)) return NULL;
    PyDictKeysObject *keys = ((PyHeapTypeObject *)t)->ht_cached_keys;
    if (keys == NULL || keys->dk_kind == DICT_KEYS_GENERAL) return NULL;
    return keys;
}
#endif

/* ---- dicts ----------------------------------------------------------------------- */

#if PY_VERSION_HEX < 0x030B0000
/* 3.10: dict_traverse reports keys only for tables whose lookup function is the general
 * `lookdict` (static in dictobject.c): learnt once from a dict with an int key. The keys
 * struct is private (Objects/dict-common.h); dk_lookup is its third field. */
typedef struct {
    Py_ssize_t dk_refcnt;
    Py_ssize_t dk_size;
    void *dk_lookup;
} hs_dictkeys310;

static void *general_lookup = NULL;

static void *
dict_lookup_fn(PyObject *d)
{
    return ((hs_dictkeys310 *)((PyDictObject *)d)->ma_keys)->dk_lookup;
}

int
hs_init(void)
{
    PyObject *d = PyDict_New();
    if (d == NULL) return -1;
    PyObject *one = PyLong_FromLong(1);
    if (one == NULL || PyDict_SetItem(d, one, Py_None) < 0) {
        Py_XDECREF(one);
        Py_DECREF(d);
        return -1;
    }
    general_lookup = dict_lookup_fn(d);
    Py_DECREF(one);
    Py_DECREF(d);
    return 0;
}

static int
dict_traverse_skips_keys(PyObject *d)
{
    return general_lookup != NULL && dict_lookup_fn(d) != general_lookup;
}
#else
int
hs_init(void)
{
    return 0;
}

static int
dict_traverse_skips_keys(PyObject *d)
{
    return DK_IS_UNICODE(((PyDictObject *)d)->ma_keys);
}
#endif

/* ---- entry points ----------------------------------------------------------------- */

int
hs_visit_hidden(PyObject *obj, visitproc visit, void *arg)
{
    PyTypeObject *tp = Py_TYPE(obj);
    if (PyDict_Check(obj)) {
        if (dict_traverse_skips_keys(obj)) {
            Py_ssize_t pos = 0;
            PyObject *key, *value;
            while (PyDict_Next(obj, &pos, &key, &value)) VISIT(key);
        }
        return 0;
    }
    if (PyType_Check(obj)) {
        PyTypeObject *t = (PyTypeObject *)obj;
        if (t->tp_flags & Py_TPFLAGS_HEAPTYPE) {
            PyHeapTypeObject *ht = (PyHeapTypeObject *)t;
            VISIT(ht->ht_name);
            VISIT(ht->ht_qualname);
            VISIT(ht->ht_slots);
#if PY_VERSION_HEX >= 0x030B0000
            PyDictKeysObject *keys = cached_keys(t);
            if (keys != NULL) {
                PyDictUnicodeEntry *entries = DK_UNICODE_ENTRIES(keys);
                for (Py_ssize_t i = 0; i < keys->dk_nentries; i++) VISIT(entries[i].me_key);
            }
#endif
        }
        VISIT(type_subclasses(t));
        return 0;
    }
    if (PyModule_Check(obj)) {
        /* module_traverse reports md_dict and the module state, not md_name */
        VISIT(((PyModuleObject *)obj)->md_name);
        return 0;
    }
    if (is_ndarray(tp)) {
        hs_ndarray *a = (hs_ndarray *)obj;
        VISIT(a->base);
        VISIT(a->descr);
        if (ndarray_owns_objects(a)) {
            struct visit_args va = {visit, arg};
            return ndarray_elements(a, visit_element, &va);
        }
    }
    return 0;
}

int
hs_relate_hidden(PyObject *obj, hs_relproc proc, void *arg)
{
    PyTypeObject *tp = Py_TYPE(obj);
    if (PyType_Check(obj)) {
        PyTypeObject *t = (PyTypeObject *)obj;
        /* ht_name/ht_qualname/ht_slots and tp_subclasses are named by relate_type. */
#if PY_VERSION_HEX >= 0x030B0000
        PyDictKeysObject *keys = cached_keys(t);
        if (keys != NULL) {
            PyDictUnicodeEntry *entries = DK_UNICODE_ENTRIES(keys);
            for (Py_ssize_t i = 0; i < keys->dk_nentries; i++) {
                REL(HS_REL_INTERNAL, "ht_cached_keys", NULL, 0, entries[i].me_key);
            }
        }
#endif
        if (!(t->tp_flags & Py_TPFLAGS_HEAPTYPE)) {
            REL(HS_REL_INTERNAL, "tp_subclasses", NULL, 0, type_subclasses(t));
        }
        return 0;
    }
    if (PyModule_Check(obj)) {
        REL(HS_REL_INTERNAL, "md_name", NULL, 0, ((PyModuleObject *)obj)->md_name);
        return 0;
    }
    if (is_ndarray(tp)) {
        hs_ndarray *a = (hs_ndarray *)obj;
        REL(HS_REL_ATTRIBUTE, "base", NULL, 0, a->base);
        REL(HS_REL_ATTRIBUTE, "dtype", NULL, 0, a->descr);
        if (ndarray_owns_objects(a)) {
            struct relate_args ra = {proc, arg, a->nd != 1};
            return ndarray_elements(a, relate_element, &ra);
        }
    }
    return 0;
}
