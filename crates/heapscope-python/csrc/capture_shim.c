/* See capture_shim.h. Every use of a CPython internal is gated by version below and
 * covered by tests/test_capture_vs_independent.py and tests/test_sizes.py, which compare
 * our counts and sizes with gc.get_referents walks, sys.getsizeof and tracemalloc. */
#define Py_BUILD_CORE 1
#include "capture_shim.h"
#include <stddef.h>
#include "structmember.h"
#include <string.h>
#include "internal/pycore_interp.h"
#include "internal/pycore_object.h"
#include "internal/pycore_moduleobject.h"
#if PY_VERSION_HEX >= 0x030C0000
#include "internal/pycore_typeobject.h"
#include "internal/pycore_long.h"
#endif
#if PY_VERSION_HEX < 0x030B0000
#include "frameobject.h"
#endif
#if PY_VERSION_HEX >= 0x030B0000
#include "internal/pycore_frame.h"
#include "internal/pycore_dict.h"
#include "internal/pycore_code.h"
#endif

#if PY_VERSION_HEX < 0x030A0000 || PY_VERSION_HEX >= 0x030E0000
#error "heapscope's capture shim supports CPython 3.10 to 3.13"
#endif
#ifdef Py_GIL_DISABLED
#error "free-threaded builds need a stop-the-world capture; not supported yet"
#endif

#define VISIT(o)                                          \
    do {                                                  \
        PyObject *_o = (PyObject *)(o);                   \
        if (_o != NULL) {                                 \
            int _r = visit(_o, arg);                      \
            if (_r) return _r;                            \
        }                                                 \
    } while (0)

static int
visit_code(PyCodeObject *co, visitproc visit, void *arg)
{
    /* Code objects are not GC containers in 3.10-3.13 default builds, so nothing else
     * reports their members. Only stored fields are read: computed attributes such as
     * co_varnames (3.11+) or co_code (3.11+) would allocate. */
    VISIT(co->co_consts);
    VISIT(co->co_names);
    VISIT(co->co_filename);
    VISIT(co->co_name);
    VISIT(co->co_linetable);
#if PY_VERSION_HEX < 0x030B0000
    VISIT(co->co_code);
    VISIT(co->co_varnames);
    VISIT(co->co_freevars);
    VISIT(co->co_cellvars);
#else
    VISIT(co->co_exceptiontable);
    VISIT(co->co_localsplusnames);
    VISIT(co->co_localspluskinds);
    VISIT(co->co_qualname);
#endif
#if PY_VERSION_HEX >= 0x030B0000 && PY_VERSION_HEX < 0x030C0000
    VISIT(co->_co_code);
#elif PY_VERSION_HEX >= 0x030C0000
    if (co->_co_cached != NULL) {
        VISIT(co->_co_cached->_co_code);
        VISIT(co->_co_cached->_co_varnames);
        VISIT(co->_co_cached->_co_cellvars);
        VISIT(co->_co_cached->_co_freevars);
    }
#endif
    return 0;
}

static int
visit_static_type(PyTypeObject *tp, visitproc visit, void *arg)
{
    /* type_traverse aborts on static types: read their members directly. */
#if PY_VERSION_HEX >= 0x030C0000
    /* 3.12+: static builtin types keep tp_dict in the interpreter state;
     * _PyType_GetDict returns it borrowed (no refcount traffic during a walk). */
    VISIT(_PyType_GetDict(tp));
#else
    VISIT(tp->tp_dict);
#endif
    VISIT(tp->tp_mro);
    VISIT(tp->tp_bases);
    VISIT(tp->tp_base);
    return 0;
}

int
hs_traverse(PyObject *obj, visitproc visit, visitproc reach, void *arg)
{
    PyTypeObject *tp = Py_TYPE(obj);
    int is_gc = PyObject_IS_GC(obj);
    /* subtype_traverse visits the type of heap-type instances; other instances of heap
     * types hold their type too (a reference). A static type is not referenced by its
     * instances (neither CPython's traversal nor Heapy report it): it is only reached. */
    if (!(is_gc && (tp->tp_flags & Py_TPFLAGS_HEAPTYPE) && tp->tp_traverse != NULL)) {
        if (tp->tp_flags & Py_TPFLAGS_HEAPTYPE) {
            VISIT(tp);
        } else {
            int r = reach((PyObject *)tp, arg);
            if (r) return r;
        }
    }
    if (is_gc && tp->tp_traverse != NULL) {
        int r = tp->tp_traverse(obj, visit, arg);
        if (r) return r;
    }
#if PY_VERSION_HEX >= 0x030D0000
    /* 3.13: while an object's inline values are valid, subtype_traverse visits the values
     * but not a __dict__ materialised over them, which only the object keeps alive. */
    if ((tp->tp_flags & Py_TPFLAGS_INLINE_VALUES) && (tp->tp_flags & Py_TPFLAGS_MANAGED_DICT)
        && _PyObject_InlineValues(obj)->valid) {
        VISIT(_PyObject_ManagedDictPointer(obj)->dict);
    }
#endif
    /* What tp_traverse does not report (hidden_refs.c). */
    int r = hs_visit_hidden(obj, visit, arg);
    if (r) return r;
    if (PyType_Check(obj) && !(((PyTypeObject *)obj)->tp_flags & Py_TPFLAGS_HEAPTYPE)) {
        return visit_static_type((PyTypeObject *)obj, visit, arg);
    }
    if (PyCode_Check(obj)) {
        return visit_code((PyCodeObject *)obj, visit, arg);
    }
    return 0;
}

int
hs_type_may_own_dict(PyTypeObject *tp)
{
#if PY_VERSION_HEX >= 0x030B0000
    return tp->tp_dictoffset != 0 || (tp->tp_flags & Py_TPFLAGS_MANAGED_DICT);
#else
    return tp->tp_dictoffset != 0;
#endif
}

const char *
hs_ascii_chars(PyObject *obj, Py_ssize_t *len)
{
    if (!PyUnicode_CheckExact(obj)) return NULL;
#if PY_VERSION_HEX < 0x030C0000
    /* before 3.12 a str made by the legacy API may not be ready (no canonical data) */
    if (!PyUnicode_IS_READY(obj)) return NULL;
#endif
    if (!PyUnicode_IS_ASCII(obj)) return NULL;
    *len = PyUnicode_GET_LENGTH(obj);
    return (const char *)PyUnicode_DATA(obj);
}

PyObject *
hs_owned_dict(PyObject *obj)
{
    PyTypeObject *tp = Py_TYPE(obj);
    if (!hs_type_may_own_dict(tp)) return NULL;
    if (PyModule_Check(obj)) {
        return ((PyModuleObject *)obj)->md_dict;
    }
    if (PyType_Check(obj)) {
        PyTypeObject *t = (PyTypeObject *)obj;
#if PY_VERSION_HEX >= 0x030C0000
        if (!(t->tp_flags & Py_TPFLAGS_HEAPTYPE)) {
            return _PyType_GetDict(t);
        }
#endif
        return t->tp_dict;
    }
#if PY_VERSION_HEX >= 0x030D0000
    if (tp->tp_flags & Py_TPFLAGS_MANAGED_DICT) {
        return (PyObject *)_PyObject_ManagedDictPointer(obj)->dict;
    }
#elif PY_VERSION_HEX >= 0x030C0000
    if (tp->tp_flags & Py_TPFLAGS_MANAGED_DICT) {
        PyDictOrValues dorv = *_PyObject_DictOrValuesPointer(obj);
        if (_PyDictOrValues_IsValues(dorv)) return NULL;
        return _PyDictOrValues_GetDict(dorv);
    }
#elif PY_VERSION_HEX >= 0x030B0000
    if (tp->tp_flags & Py_TPFLAGS_MANAGED_DICT) {
        return *_PyObject_ManagedDictPointer(obj);
    }
#endif
    Py_ssize_t offset = tp->tp_dictoffset;
    if (offset == 0) return NULL;
    if (offset < 0) {
        /* Variable-size objects keep the dict at the end (only ever set for types whose
         * instances are PyVarObjects). */
        Py_ssize_t tsize = Py_SIZE(obj);
        if (tsize < 0) tsize = -tsize;
        size_t size = _PyObject_VAR_SIZE(tp, tsize);
        offset += (Py_ssize_t)size;
    }
    PyObject *d = *(PyObject **)((char *)obj + offset);
    return (d != NULL && PyDict_Check(d)) ? d : NULL;
}

Py_ssize_t
hs_presize(PyObject *obj)
{
#if PY_VERSION_HEX >= 0x030D0000
    /* Mirrors _PySys_GetSizeOf: 3.13 adds no pre-header for static type objects. */
    if (PyType_Check(obj) && Py_IS_TYPE(obj, &PyType_Type)
        && !(((PyTypeObject *)obj)->tp_flags & Py_TPFLAGS_HEAPTYPE)) {
        return 0;
    }
    return (Py_ssize_t)_PyType_PreHeaderSize(Py_TYPE(obj));
#elif PY_VERSION_HEX >= 0x030B0000
    /* 3.11/3.12 getsizeof adds the pre-header of the type, even for static types. */
    return (Py_ssize_t)_PyType_PreHeaderSize(Py_TYPE(obj));
#else
    return PyObject_IS_GC(obj) ? (Py_ssize_t)sizeof(PyGC_Head) : 0;
#endif
}

Py_ssize_t
hs_unreported_size(PyObject *obj)
{
    PyTypeObject *tp = Py_TYPE(obj);
#if PY_VERSION_HEX >= 0x030D0000
    /* 3.13: values live inline after the object; allocated whether or not a dict was
     * later materialised. Size from the values' own capacity byte. */
    if (tp->tp_flags & Py_TPFLAGS_INLINE_VALUES) {
        PyDictValues *values = _PyObject_InlineValues(obj);
        size_t cap = values->capacity;
        size_t prefix = _Py_SIZE_ROUND_UP(cap, sizeof(PyObject *));
        return (Py_ssize_t)(prefix + (cap + 1) * sizeof(PyObject *));
    }
#elif PY_VERSION_HEX >= 0x030B0000
    /* 3.11/3.12: values allocated apart while no dict exists; the allocation is
     * prefix (its size stored in the byte before the values) + one word per usable
     * slot of the type's shared keys. */
    if (tp->tp_flags & Py_TPFLAGS_MANAGED_DICT) {
        PyDictValues *values;
#if PY_VERSION_HEX >= 0x030C0000
        PyDictOrValues dorv = *_PyObject_DictOrValuesPointer(obj);
        if (!_PyDictOrValues_IsValues(dorv)) return 0;
        values = _PyDictOrValues_GetValues(dorv);
#else
        values = *_PyObject_ValuesPointer(obj);
#endif
        if (values == NULL) return 0;
        PyDictKeysObject *keys = ((PyHeapTypeObject *)tp)->ht_cached_keys;
        if (keys == NULL) return 0;
        size_t usable = (size_t)(keys->dk_nentries + keys->dk_usable);
        size_t prefix = ((uint8_t *)values)[-1];
        return (Py_ssize_t)(prefix + usable * sizeof(PyObject *));
    }
#endif
    (void)tp;
    return 0;
}

PyObject *
hs_lookup_sizeof(PyTypeObject *tp)
{
    static PyObject *name = NULL;
    if (name == NULL) {
        name = PyUnicode_InternFromString("__sizeof__");
        if (name == NULL) { PyErr_Clear(); return NULL; }
    }
    return _PyType_Lookup(tp, name);
}

#include "relate_report.h"

/* ---- roots ---------------------------------------------------------------------- */

#define ROOT(label, o)                                                   \
    do {                                                                 \
        PyObject *_o = (PyObject *)(o);                                  \
        if (_o != NULL) {                                                \
            snprintf(buf, sizeof buf, "%s%s", prefix, label);            \
            int _r = proc(buf, _o, arg);                                 \
            if (_r) return _r;                                           \
        }                                                                \
    } while (0)

/* Strings are read without PyUnicode_AsUTF8, which caches a UTF-8 copy inside every
 * non-ASCII str it is given: a local named `clé` would grow because we looked. */

/* Decodes one UTF-8 sequence at *p (advancing it); 0xFFFD for malformed input. */
static Py_UCS4
utf8_next(const unsigned char **p)
{
    const unsigned char *s = *p;
    Py_UCS4 c = s[0];
    int extra = c < 0x80 ? 0 : c < 0xE0 ? 1 : c < 0xF0 ? 2 : 3;
    if (extra) c &= 0x3F >> extra;
    for (int k = 1; k <= extra; k++) {
        if ((s[k] & 0xC0) != 0x80) { *p = s + k; return 0xFFFD; }
        c = (c << 6) | (s[k] & 0x3F);
    }
    *p = s + 1 + extra;
    return c;
}

/* 1 if the str s starts with the UTF-8 text prefix. */
static int
str_startswith(PyObject *s, const char *prefix)
{
#if PY_VERSION_HEX < 0x030C0000
    if (!PyUnicode_IS_READY(s)) return 0;
#endif
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    int kind = PyUnicode_KIND(s);
    const void *data = PyUnicode_DATA(s);
    const unsigned char *p = (const unsigned char *)prefix;
    for (Py_ssize_t i = 0; *p; i++) {
        Py_UCS4 c = utf8_next(&p);
        if (i >= n || PyUnicode_READ(kind, data, i) != c) return 0;
    }
    return 1;
}

/* Writes the str s as UTF-8 into buf (NUL-terminated, truncated to fit); "?" if s is
 * not a str. */
static void
str_utf8(PyObject *s, char *buf, size_t cap)
{
    size_t o = 0;
    if (s == NULL || !PyUnicode_Check(s)
#if PY_VERSION_HEX < 0x030C0000
        || !PyUnicode_IS_READY(s)
#endif
    ) {
        snprintf(buf, cap, "?");
        return;
    }
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    int kind = PyUnicode_KIND(s);
    const void *data = PyUnicode_DATA(s);
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        unsigned char tmp[4];
        size_t len;
        if (c < 0x80) { tmp[0] = (unsigned char)c; len = 1; }
        else if (c < 0x800) { tmp[0] = 0xC0 | (c >> 6); tmp[1] = 0x80 | (c & 0x3F); len = 2; }
        else if (c < 0x10000) {
            tmp[0] = 0xE0 | (c >> 12); tmp[1] = 0x80 | ((c >> 6) & 0x3F);
            tmp[2] = 0x80 | (c & 0x3F); len = 3;
        } else {
            tmp[0] = 0xF0 | (c >> 18); tmp[1] = 0x80 | ((c >> 12) & 0x3F);
            tmp[2] = 0x80 | ((c >> 6) & 0x3F); tmp[3] = 0x80 | (c & 0x3F); len = 4;
        }
        if (o + len + 1 > cap) break;
        memcpy(buf + o, tmp, len);
        o += len;
    }
    buf[o] = '\0';
}

static int
code_is_ours(PyCodeObject *co, const char *skip_prefix)
{
    if (skip_prefix == NULL || skip_prefix[0] == '\0' || co == NULL) return 0;
    if (!PyUnicode_Check(co->co_filename)) return 0;
    return str_startswith(co->co_filename, skip_prefix);
}

/* The __dict__s of the modules in sys.modules, sorted: a frame's f_globals (and a module
 * frame's f_locals) that is one of them is reached through i0_modules, not as a root of
 * its own (one global variable would otherwise have a path per running frame). */
struct module_dicts {
    PyObject **items;
    Py_ssize_t n;
};

static int
cmp_ptr(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t) * (PyObject *const *)a, y = (uintptr_t) * (PyObject *const *)b;
    return x < y ? -1 : x > y;
}

static void
module_dicts_collect(PyObject *modules, struct module_dicts *md)
{
    md->items = NULL;
    md->n = 0;
    if (modules == NULL || !PyDict_Check(modules)) return;
    Py_ssize_t cap = PyDict_GET_SIZE(modules);
    if (cap == 0) return;
    md->items = (PyObject **)PyMem_RawMalloc(sizeof(PyObject *) * (size_t)cap);
    if (md->items == NULL) return;
    Py_ssize_t pos = 0;
    PyObject *key, *value;
    while (PyDict_Next(modules, &pos, &key, &value) && md->n < cap) {
        if (PyModule_Check(value) && ((PyModuleObject *)value)->md_dict != NULL) {
            md->items[md->n++] = ((PyModuleObject *)value)->md_dict;
        }
    }
    qsort(md->items, (size_t)md->n, sizeof(PyObject *), cmp_ptr);
}

static int
module_dicts_contains(const struct module_dicts *md, PyObject *d)
{
    return md->n > 0
           && bsearch(&d, md->items, (size_t)md->n, sizeof(PyObject *), cmp_ptr) != NULL;
}

static int
interp_roots(PyInterpreterState *interp, hs_rootproc proc, void *arg)
{
    char buf[64];
    const char *prefix = "i0_";
#if PY_VERSION_HEX >= 0x030C0000
    ROOT("modules", interp->imports.modules);
    ROOT("modules_by_index", interp->imports.modules_by_index);
    ROOT("importlib", interp->imports.importlib);
    ROOT("import_func", interp->imports.import_func);
#else
    ROOT("modules", interp->modules);
    ROOT("modules_by_index", interp->modules_by_index);
    ROOT("importlib", interp->importlib);
    ROOT("import_func", interp->import_func);
#endif
    ROOT("sysdict", interp->sysdict);
    ROOT("builtins", interp->builtins);
    ROOT("builtins_copy", interp->builtins_copy);
#if PY_VERSION_HEX >= 0x030D0000
    ROOT("codec_search_path", interp->codecs.search_path);
    ROOT("codec_search_cache", interp->codecs.search_cache);
    ROOT("codec_error_registry", interp->codecs.error_registry);
#else
    ROOT("codec_search_path", interp->codec_search_path);
    ROOT("codec_search_cache", interp->codec_search_cache);
    ROOT("codec_error_registry", interp->codec_error_registry);
#endif
    ROOT("dict", interp->dict);
    ROOT("before_forkers", interp->before_forkers);
    ROOT("after_forkers_parent", interp->after_forkers_parent);
    ROOT("after_forkers_child", interp->after_forkers_child);
    ROOT("audit_hooks", interp->audit_hooks);
    return 0;
}

#if PY_VERSION_HEX >= 0x030B0000
static PyCodeObject *
iframe_code(_PyInterpreterFrame *f)
{
#if PY_VERSION_HEX >= 0x030D0000
    PyObject *exec = f->f_executable;
    return (exec != NULL && PyCode_Check(exec)) ? (PyCodeObject *)exec : NULL;
#else
    return f->f_code;
#endif
}

/* The members of one interpreter frame, named like a frame object's: .f_code, .f_func,
 * .f_globals, .f_builtins, .f_locals, locals .f_locals['x'] (cells .f_locals ['x']) and
 * the value stack ->f_valuestack[i]. The locals are always valid (initialised to NULL).
 * The value stack is read only when stack_valid, below the frame's saved stacktop and
 * never past the code's stack size: 3.12+ mark an executing frame with stacktop -1;
 * 3.11 leaves it stale, so callers pass stack_valid = 0 unless the frame called its
 * callee directly (not through C: the callee is no entry frame). */
int
iframe_members(_PyInterpreterFrame *f, int stack_valid, hs_relproc proc, void *arg)
{
    PyCodeObject *co = iframe_code(f);
#if PY_VERSION_HEX >= 0x030D0000
    REL(HS_REL_ATTRIBUTE, "f_code", NULL, 0, f->f_executable);
    REL(HS_REL_ATTRIBUTE, "f_func", NULL, 0, f->f_funcobj);
#elif PY_VERSION_HEX >= 0x030C0000
    REL(HS_REL_ATTRIBUTE, "f_code", NULL, 0, co);
    REL(HS_REL_ATTRIBUTE, "f_func", NULL, 0, f->f_funcobj);
#else
    REL(HS_REL_ATTRIBUTE, "f_code", NULL, 0, co);
    REL(HS_REL_ATTRIBUTE, "f_func", NULL, 0, f->f_func);
#endif
    REL(HS_REL_ATTRIBUTE, "f_globals", NULL, 0, f->f_globals);
    REL(HS_REL_ATTRIBUTE, "f_builtins", NULL, 0, f->f_builtins);
    REL(HS_REL_ATTRIBUTE, "f_locals", NULL, 0, f->f_locals);
    if (co == NULL) return 0;
    int nlocalsplus = co->co_nlocalsplus;
    int top = stack_valid ? f->stacktop : -1;
    if (top < nlocalsplus || top > nlocalsplus + co->co_stacksize) top = nlocalsplus;
    for (int i = 0; i < top; i++) {
        PyObject *v = f->localsplus[i];
        if (v == NULL) continue;
        if (i < nlocalsplus) {
            PyObject *nm = PyTuple_GET_ITEM(co->co_localsplusnames, i);
            int kind = PyBytes_AS_STRING(co->co_localspluskinds)[i];
            REL((kind & (CO_FAST_CELL | CO_FAST_FREE)) ? HS_REL_CELL : HS_REL_LOCAL, NULL, nm,
                   0, v);
        } else {
            REL(HS_REL_STACK, NULL, NULL, i - nlocalsplus, v);
        }
    }
    return 0;
}

/* Renders frame members as root names: <frame>.f_code, <frame>.f_locals['x'], ... */
struct frame_root_arg {
    hs_rootproc proc;
    void *arg;
    const char *fname;
    const struct module_dicts *module_dicts;
};

static int
frame_root_member(int rel, const char *name, PyObject *key, Py_ssize_t index, PyObject *target,
                  void *varg)
{
    struct frame_root_arg *fa = (struct frame_root_arg *)varg;
    char buf[512];
    char s[256];
    if (rel == HS_REL_ATTRIBUTE && module_dicts_contains(fa->module_dicts, target)) {
        return 0; /* f_globals / f_builtins / f_locals of a module: see module_dicts */
    }
    str_utf8(key, s, sizeof s);
    switch (rel) {
    case HS_REL_ATTRIBUTE: snprintf(buf, sizeof buf, "%s.%s", fa->fname, name); break;
    case HS_REL_LOCAL: snprintf(buf, sizeof buf, "%s.f_locals['%s']", fa->fname, s); break;
    case HS_REL_CELL: snprintf(buf, sizeof buf, "%s.f_locals ['%s']", fa->fname, s); break;
    default: snprintf(buf, sizeof buf, "%s->f_valuestack[%zd]", fa->fname, index); break;
    }
    return fa->proc(buf, target, fa->arg);
}

/* One live interpreter frame (no frame object is created for it): its members become
 * roots named after the frame (see iframe_members). */
static int
iframe_roots(_PyInterpreterFrame *f, const char *fname, int stack_valid,
             const struct module_dicts *md, hs_rootproc proc, void *arg)
{
    if (f->frame_obj != NULL) {
        int r = proc(fname, (PyObject *)f->frame_obj, arg);
        if (r) return r;
    }
    struct frame_root_arg fa = {proc, arg, fname, md};
    return iframe_members(f, stack_valid, frame_root_member, &fa);
}
#endif

/* A frame's root name: i0_t<thread id>_f<n>:<function name>. */
static void
frame_name(char *out, size_t cap, const char *prefix, int n, PyCodeObject *co)
{
    char fn[128];
    str_utf8(co != NULL ? co->co_name : NULL, fn, sizeof fn);
    snprintf(out, cap, "%sf%d:%s", prefix, n, fn);
}

static int
thread_roots(PyThreadState *ts, int is_current, const struct module_dicts *md,
             hs_rootproc proc, void *arg, const char *skip_prefix)
{
    char buf[96];
    char prefix[64];
    snprintf(prefix, sizeof prefix, "i0_t%lu_", (unsigned long)ts->thread_id);
    ROOT("c_profileobj", ts->c_profileobj);
    ROOT("c_traceobj", ts->c_traceobj);
#if PY_VERSION_HEX >= 0x030C0000
    ROOT("current_exception", ts->current_exception);
#else
    ROOT("curexc_type", ts->curexc_type);
    ROOT("curexc_value", ts->curexc_value);
    ROOT("curexc_traceback", ts->curexc_traceback);
#endif
    int depth = 0;
    for (_PyErr_StackItem *ei = ts->exc_info; ei != NULL; ei = ei->previous_item, depth++) {
        char lab[32];
#if PY_VERSION_HEX >= 0x030B0000
        snprintf(lab, sizeof lab, depth ? "exc_value_%d" : "exc_value", depth);
        ROOT(lab, ei->exc_value);
#else
        snprintf(lab, sizeof lab, depth ? "exc_type_%d" : "exc_type", depth);
        ROOT(lab, ei->exc_type);
        snprintf(lab, sizeof lab, depth ? "exc_value_%d" : "exc_value", depth);
        ROOT(lab, ei->exc_value);
        snprintf(lab, sizeof lab, depth ? "exc_traceback_%d" : "exc_traceback", depth);
        ROOT(lab, ei->exc_traceback);
#endif
    }
    ROOT("dict", ts->dict);
    ROOT("async_exc", ts->async_exc);
    ROOT("async_gen_firstiter", ts->async_gen_firstiter);
    ROOT("async_gen_finalizer", ts->async_gen_finalizer);
    ROOT("context", ts->context);
#if PY_VERSION_HEX >= 0x030D0000
    ROOT("delete_later", ts->delete_later);
#elif PY_VERSION_HEX >= 0x030C0000
    ROOT("delete_later", ts->trash.delete_later);
#endif

    /* Frames: the calling thread from the caller's frame down (heapscope's own frames
     * are skipped and reported as hidden), other threads from the top. */
#if PY_VERSION_HEX < 0x030B0000
    PyFrameObject *f = ts->frame;
    while (is_current && f != NULL && code_is_ours(f->f_code, skip_prefix)) {
        int r = proc(NULL, (PyObject *)f, arg);
        if (r) return r;
        f = f->f_back;
    }
    (void)md;
    if (f != NULL) {
        char fname[192];
        frame_name(fname, sizeof fname, prefix, 0, f->f_code);
        int r = proc(fname, (PyObject *)f, arg);
        if (r) return r;
    }
#else
#if PY_VERSION_HEX >= 0x030D0000
    _PyInterpreterFrame *f = ts->current_frame;
#else
    _PyInterpreterFrame *f = ts->cframe ? ts->cframe->current_frame : NULL;
#endif
    int n = 0;
    int skipping = is_current;
    _PyInterpreterFrame *callee = NULL;
    for (; f != NULL; callee = f, f = f->previous) {
#if PY_VERSION_HEX < 0x030C0000
        int stack_valid = callee != NULL && !callee->is_entry;
#else
        int stack_valid = 1; /* -1 while executing: see iframe_roots */
        (void)callee;
#endif
        if (_PyFrame_IsIncomplete(f)) continue;
#if PY_VERSION_HEX >= 0x030D0000
        PyCodeObject *co = PyCode_Check(f->f_executable) ? (PyCodeObject *)f->f_executable : NULL;
#else
        PyCodeObject *co = f->f_code;
#endif
        if (skipping && code_is_ours(co, skip_prefix)) {
            if (f->frame_obj != NULL) {
                int r = proc(NULL, (PyObject *)f->frame_obj, arg);
                if (r) return r;
            }
            continue;
        }
        skipping = 0;
        char fname[192];
        frame_name(fname, sizeof fname, prefix, n++, co);
        int r = iframe_roots(f, fname, stack_valid, md, proc, arg);
        if (r) return r;
    }
#endif
    return 0;
}

int
hs_roots(hs_rootproc proc, void *arg, const char *skip_prefix)
{
    PyThreadState *current = PyThreadState_Get();
    PyInterpreterState *interp = current->interp;
    int r = interp_roots(interp, proc, arg);
    if (r) return r;
    struct module_dicts md;
#if PY_VERSION_HEX >= 0x030C0000
    module_dicts_collect(interp->imports.modules, &md);
#else
    module_dicts_collect(interp->modules, &md);
#endif
    for (PyThreadState *ts = PyInterpreterState_ThreadHead(interp); ts != NULL;
         ts = PyThreadState_Next(ts)) {
        r = thread_roots(ts, ts == current, &md, proc, arg, skip_prefix);
        if (r) break;
    }
    PyMem_RawFree(md.items);
    return r;
}

/* ---- sizes ---------------------------------------------------------------------- */

Py_ssize_t
hs_formula_sizeof(PyObject *obj)
{
    PyTypeObject *tp = Py_TYPE(obj);
    Py_ssize_t res = tp->tp_basicsize;
    if (tp->tp_itemsize > 0) {
        Py_ssize_t n = Py_SIZE(obj);
        if (n < 0) n = -n;
        res += n * tp->tp_itemsize;
    }
    return res;
}

/* The dict of a type without materialising anything (3.12+ static builtin types keep it
 * in the interpreter state). */
static PyObject *
type_dict(PyTypeObject *t)
{
#if PY_VERSION_HEX >= 0x030C0000
    return (t->tp_flags & Py_TPFLAGS_HEAPTYPE) ? t->tp_dict : _PyType_GetDict(t);
#else
    return t->tp_dict;
#endif
}

/* The nearest __sizeof__ in the MRO that is implemented in C (borrowed), or NULL.
 * An override written in Python (pandas' DataFrame.__sizeof__) usually counts the
 * objects the instance refers to, which are nodes of their own: their memory would be
 * counted twice. An object's individual size is its own memory, which the C
 * implementation under the override reports. */
static PyObject *
c_level_sizeof(PyTypeObject *tp)
{
    static PyObject *name = NULL;
    if (name == NULL) {
        name = PyUnicode_InternFromString("__sizeof__");
        if (name == NULL) { PyErr_Clear(); return NULL; }
    }
    PyObject *mro = tp->tp_mro;
    if (mro == NULL || !PyTuple_Check(mro)) return NULL;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(mro); i++) {
        PyObject *t = PyTuple_GET_ITEM(mro, i);
        if (!PyType_Check(t)) continue;
        PyObject *d = type_dict((PyTypeObject *)t);
        if (d == NULL || !PyDict_Check(d)) continue;
        PyObject *descr = PyDict_GetItemWithError(d, name);
        if (descr == NULL) { PyErr_Clear(); continue; }
        if (Py_IS_TYPE(descr, &PyMethodDescr_Type)) return descr;
    }
    return NULL;
}

int
hs_sizeof_kind(PyTypeObject *tp, PyCFunction *out_fn, PyObject **out_descr)
{
    PyObject *descr = hs_lookup_sizeof(tp);
    *out_fn = NULL;
    if (descr != NULL && PyFunction_Check(descr)) descr = c_level_sizeof(tp);
    *out_descr = descr;
    if (descr == NULL) return HS_SIZEOF_FORMULA;
    if (descr == hs_lookup_sizeof(&PyBaseObject_Type)) return HS_SIZEOF_FORMULA;
    if (Py_IS_TYPE(descr, &PyMethodDescr_Type)) {
        PyMethodDef *def = ((PyMethodDescrObject *)descr)->d_method;
        if ((def->ml_flags & (METH_VARARGS | METH_KEYWORDS | METH_O | METH_FASTCALL
                              | METH_CLASS | METH_STATIC | METH_METHOD)) == 0
            && (def->ml_flags & METH_NOARGS)) {
            *out_fn = def->ml_meth;
            return HS_SIZEOF_CMETHOD;
        }
    }
    return HS_SIZEOF_CALL;
}

/* __sizeof__ of the commonest exact builtin types without calling it (same formulas as
 * CPython's own, per version; tests compare every heap object with sys.getsizeof).
 * -1 when not handled here. */
static Py_ssize_t
fast_sizeof(PyObject *obj)
{
    PyTypeObject *tp = Py_TYPE(obj);
    if (tp == &PyLong_Type) {
#if PY_VERSION_HEX >= 0x030C0000
        Py_ssize_t n = _PyLong_DigitCount((PyLongObject *)obj);
        return (Py_ssize_t)offsetof(PyLongObject, long_value.ob_digit) + Py_MAX(n, 1) * (Py_ssize_t)sizeof(digit);
#elif PY_VERSION_HEX >= 0x030B0000
        Py_ssize_t n = Py_ABS(Py_SIZE(obj));
        return (Py_ssize_t)offsetof(PyLongObject, ob_digit) + Py_MAX(n, 1) * (Py_ssize_t)sizeof(digit);
#else
        Py_ssize_t n = Py_ABS(Py_SIZE(obj));
        return (Py_ssize_t)offsetof(PyLongObject, ob_digit) + n * (Py_ssize_t)sizeof(digit);
#endif
    }
    if (tp == &PyList_Type) {
        return tp->tp_basicsize + ((PyListObject *)obj)->allocated * (Py_ssize_t)sizeof(void *);
    }
    if (tp == &PyUnicode_Type && PyUnicode_IS_COMPACT_ASCII(obj)) {
        Py_ssize_t len = PyUnicode_GET_LENGTH(obj);
        Py_ssize_t size = (Py_ssize_t)sizeof(PyASCIIObject) + len + 1;
#if PY_VERSION_HEX < 0x030C0000
        /* a wchar_t copy made by the legacy PyUnicode_AsUnicode API */
        if (((PyASCIIObject *)obj)->wstr != NULL) size += (len + 1) * (Py_ssize_t)sizeof(wchar_t);
#endif
        return size;
    }
    return -1;
}

Py_ssize_t
hs_call_sizeof(PyObject *obj, int kind, PyCFunction fn, PyObject *descr)
{
    PyObject *res;
    if (kind == HS_SIZEOF_FORMULA) return hs_formula_sizeof(obj);
    Py_ssize_t fast = fast_sizeof(obj);
    if (fast >= 0) return fast;
    if (kind == HS_SIZEOF_CMETHOD) {
        res = fn(obj, NULL);
    } else {
        descrgetfunc get = Py_TYPE(descr)->tp_descr_get;
        PyObject *bound = get ? get(descr, obj, (PyObject *)Py_TYPE(obj)) : Py_NewRef(descr);
        if (bound == NULL) { PyErr_Clear(); return -1; }
        res = PyObject_CallNoArgs(bound);
        Py_DECREF(bound);
    }
    if (res == NULL) { PyErr_Clear(); return -1; }
    Py_ssize_t n = PyLong_Check(res) ? PyLong_AsSsize_t(res) : -1;
    Py_DECREF(res);
    if (n < 0) { PyErr_Clear(); return -1; }
    return n;
}

Py_ssize_t
hs_size(PyObject *obj, int kind, PyCFunction fn, PyObject *descr, int *failed)
{
    Py_ssize_t base = hs_call_sizeof(obj, kind, fn, descr);
    *failed = base < 0;
    if (base < 0) base = hs_formula_sizeof(obj);
    return base + hs_presize(obj) + hs_unreported_size(obj);
}

int
hs_size_is_constant(PyTypeObject *tp)
{
    /* Every instance has the same size: object.__sizeof__ formula without items, no
     * per-object managed/inline values, and not a type object (whose pre-header depends
     * on the object). */
    if (tp->tp_itemsize != 0) return 0;
    if (PyType_IsSubtype(tp, &PyType_Type)) return 0;
#if PY_VERSION_HEX >= 0x030D0000
    if (tp->tp_flags & (Py_TPFLAGS_MANAGED_DICT | Py_TPFLAGS_INLINE_VALUES)) return 0;
#elif PY_VERSION_HEX >= 0x030B0000
    if (tp->tp_flags & Py_TPFLAGS_MANAGED_DICT) return 0;
#endif
    return 1;
}

/* ---- relations (edge labels) ------------------------------------------------------ */


/* Object members (tp_members, which include __slots__) of every type in the MRO. */
static int
relate_members(PyObject *obj, PyTypeObject *tp, hs_relproc proc, void *arg)
{
    PyObject *mro = tp->tp_mro;
    Py_ssize_t n = (mro != NULL && PyTuple_Check(mro)) ? PyTuple_GET_SIZE(mro) : 0;
    for (Py_ssize_t k = 0; k < (n ? n : 1); k++) {
        PyTypeObject *t = n ? (PyTypeObject *)PyTuple_GET_ITEM(mro, k) : tp;
        if (!PyType_Check((PyObject *)t) || t->tp_members == NULL) continue;
        for (PyMemberDef *m = t->tp_members; m->name != NULL; m++) {
            if (m->type != T_OBJECT && m->type != T_OBJECT_EX) continue;
#ifdef Py_RELATIVE_OFFSET
            if (m->flags & Py_RELATIVE_OFFSET) continue;
#endif
            if (m->offset < (Py_ssize_t)sizeof(PyObject)
                || m->offset + (Py_ssize_t)sizeof(PyObject *) > t->tp_basicsize) {
                continue;
            }
            ATTR(m->name, *(PyObject **)((char *)obj + m->offset));
        }
    }
    return 0;
}

/* Instance attributes kept without a dict: 3.11/3.12 managed values, 3.13 inline values
 * (entry i of the type's shared keys names value i). */
static int
relate_managed_values(PyObject *obj, PyTypeObject *tp, hs_relproc proc, void *arg)
{
#if PY_VERSION_HEX >= 0x030B0000
    if (!(tp->tp_flags & Py_TPFLAGS_MANAGED_DICT) || !(tp->tp_flags & Py_TPFLAGS_HEAPTYPE)) return 0;
    PyDictKeysObject *keys = ((PyHeapTypeObject *)tp)->ht_cached_keys;
    if (keys == NULL || keys->dk_kind == DICT_KEYS_GENERAL) return 0;
    PyDictValues *values = NULL;
    Py_ssize_t n = keys->dk_nentries;
#if PY_VERSION_HEX >= 0x030D0000
    if (!(tp->tp_flags & Py_TPFLAGS_INLINE_VALUES)) return 0;
    values = _PyObject_InlineValues(obj);
    if (!values->valid) return 0;
    if (n > values->capacity) n = values->capacity;
#elif PY_VERSION_HEX >= 0x030C0000
    PyDictOrValues dorv = *_PyObject_DictOrValuesPointer(obj);
    if (!_PyDictOrValues_IsValues(dorv)) return 0;
    values = _PyDictOrValues_GetValues(dorv);
#else
    values = *_PyObject_ValuesPointer(obj);
#endif
    if (values == NULL) return 0;
    PyDictUnicodeEntry *entries = DK_UNICODE_ENTRIES(keys);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *name = entries[i].me_key;
        if (name != NULL) REL(HS_REL_ATTRIBUTE, NULL, name, 0, values->values[i]);
    }
#else
    (void)obj; (void)tp; (void)proc; (void)arg;
#endif
    return 0;
}

static int
relate_dict(PyObject *obj, hs_relproc proc, void *arg)
{
    Py_ssize_t pos = 0, i = 0;
    PyObject *key, *value;
    while (PyDict_Next(obj, &pos, &key, &value)) {
        REL(HS_REL_INDEX, NULL, key, 0, value);
        REL(HS_REL_KEYINDEX, NULL, NULL, i, key);
        i++;
    }
    return 0;
}

static int
relate_type(PyTypeObject *t, hs_relproc proc, void *arg)
{
#if PY_VERSION_HEX >= 0x030C0000
    ATTR("__dict__", (t->tp_flags & Py_TPFLAGS_HEAPTYPE) ? t->tp_dict : _PyType_GetDict(t));
#else
    ATTR("__dict__", t->tp_dict);
#endif
    ATTR("__bases__", t->tp_bases);
#if PY_VERSION_HEX >= 0x030C0000
    ATTR("__mro__", t->tp_mro); /* a getset from 3.12 (a member before: relate_members) */
#endif
    INTERNAL("tp_cache", t->tp_cache);
    if (t->tp_flags & Py_TPFLAGS_HEAPTYPE) {
        PyHeapTypeObject *ht = (PyHeapTypeObject *)t;
        ATTR("__name__", ht->ht_name);
        ATTR("__qualname__", ht->ht_qualname);
        ATTR("__slots__", ht->ht_slots);
        INTERNAL("ht_module", ht->ht_module);
        INTERNAL("tp_subclasses", (PyObject *)t->tp_subclasses); /* a dict of weakrefs */
        INTERNAL("tp_weaklist", t->tp_weaklist);
    }
    return 0;
}

static int
relate_function(PyFunctionObject *f, hs_relproc proc, void *arg)
{
    /* Getset-backed attributes; __globals__, __closure__, __doc__, __module__ and
     * __builtins__ are members and named by relate_members. */
    ATTR("__code__", f->func_code);
    ATTR("__defaults__", f->func_defaults);
    ATTR("__kwdefaults__", f->func_kwdefaults);
    ATTR("__annotations__", f->func_annotations);
    ATTR("__dict__", f->func_dict);
    ATTR("__name__", f->func_name);
    ATTR("__qualname__", f->func_qualname);
#if PY_VERSION_HEX >= 0x030C0000
    ATTR("__type_params__", f->func_typeparams);
#endif
    return 0;
}

static int
relate_code(PyCodeObject *co, hs_relproc proc, void *arg)
{
    /* co_consts, co_names, co_filename, co_name, ... are members; these are not. */
#if PY_VERSION_HEX >= 0x030B0000
    INTERNAL("co_localsplusnames", co->co_localsplusnames);
    INTERNAL("co_localspluskinds", co->co_localspluskinds);
#endif
#if PY_VERSION_HEX >= 0x030B0000 && PY_VERSION_HEX < 0x030C0000
    INTERNAL("_co_code", co->_co_code);
#elif PY_VERSION_HEX >= 0x030C0000
    if (co->_co_cached != NULL) {
        INTERNAL("_co_cached._co_code", co->_co_cached->_co_code);
        INTERNAL("_co_cached._co_varnames", co->_co_cached->_co_varnames);
        INTERNAL("_co_cached._co_cellvars", co->_co_cached->_co_cellvars);
        INTERNAL("_co_cached._co_freevars", co->_co_cached->_co_freevars);
    }
#else
    (void)co; (void)proc; (void)arg;
#endif
    return 0;
}

static int
relate_frame(PyFrameObject *fo, hs_relproc proc, void *arg)
{
    ATTR("f_back", fo->f_back);
    ATTR("f_trace", fo->f_trace);
#if PY_VERSION_HEX >= 0x030B0000
#if PY_VERSION_HEX >= 0x030D0000
    INTERNAL("f_extra_locals", fo->f_extra_locals);
    INTERNAL("f_locals_cache", fo->f_locals_cache);
#endif
    /* Addresses only are compared, so a stale stack slot of an executing frame does no
     * harm; iframe_members bounds the stack by the code's stack size. */
    return iframe_members(fo->f_frame, 1, proc, arg);
#else
    PyCodeObject *co = fo->f_code;
    ATTR("f_code", co);
    ATTR("f_builtins", fo->f_builtins);
    ATTR("f_globals", fo->f_globals);
    ATTR("f_locals", fo->f_locals);
    if (co == NULL) return 0;
    /* 3.10: locals, then cells, then free variables, then the value stack. */
    Py_ssize_t nlocals = co->co_nlocals;
    Py_ssize_t ncells = PyTuple_GET_SIZE(co->co_cellvars);
    Py_ssize_t nfree = PyTuple_GET_SIZE(co->co_freevars);
    PyObject **fast = fo->f_localsplus;
    for (Py_ssize_t i = 0; i < nlocals + ncells + nfree; i++) {
        PyObject *nm;
        int rel = HS_REL_LOCAL;
        if (i < nlocals) {
            nm = PyTuple_GET_ITEM(co->co_varnames, i);
        } else if (i < nlocals + ncells) {
            nm = PyTuple_GET_ITEM(co->co_cellvars, i - nlocals);
            rel = HS_REL_CELL;
        } else {
            nm = PyTuple_GET_ITEM(co->co_freevars, i - nlocals - ncells);
            rel = HS_REL_CELL;
        }
        REL(rel, NULL, nm, 0, fast[i]);
    }
    int depth = fo->f_stackdepth;
    if (depth < 0 || depth > co->co_stacksize) depth = 0;
    for (int i = 0; i < depth; i++) {
        REL(HS_REL_STACK, NULL, NULL, i, fo->f_valuestack[i]);
    }
    return 0;
#endif
}

/* mappingproxy's only field (the struct is private to descrobject.c; its layout has been
 * { PyObject_HEAD; PyObject *mapping; } in every supported version). */
typedef struct {
    PyObject_HEAD
    PyObject *mapping;
} hs_mappingproxy;

int
hs_relate(PyObject *obj, hs_relproc proc, void *arg)
{
    PyTypeObject *tp = Py_TYPE(obj);
    /* Name references in the order the traversal met them where cheap (the caller then
     * matches them in one pass): hs_traverse visits the type first, except for
     * instances of heap types, whose subtype_traverse visits it after their slots and
     * attributes (see the end of this function). */
    int type_last = PyObject_IS_GC(obj) && (tp->tp_flags & Py_TPFLAGS_HEAPTYPE) && tp->tp_traverse != NULL;
    /* Only heap types are referenced by their instances (see hs_traverse). */
    int type_ref = (tp->tp_flags & Py_TPFLAGS_HEAPTYPE) != 0;
    if (type_ref && !type_last) INTERNAL("ob_type", tp);
    if (PyTuple_Check(obj)) {
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(obj); i++) {
            REL(HS_REL_INDEX, NULL, NULL, i, PyTuple_GET_ITEM(obj, i));
        }
    } else if (PyList_Check(obj)) {
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(obj); i++) {
            REL(HS_REL_INDEX, NULL, NULL, i, PyList_GET_ITEM(obj, i));
        }
    } else if (PyDict_Check(obj)) {
        int r = relate_dict(obj, proc, arg);
        if (r) return r;
    } else if (PyAnySet_Check(obj)) {
        Py_ssize_t pos = 0, i = 0;
        PyObject *key;
        Py_hash_t hash;
        while (_PySet_NextEntry(obj, &pos, &key, &hash)) {
            REL(HS_REL_SETMEMBER, NULL, NULL, i++, key);
        }
    }
    int r = 0;
    if (PyType_Check(obj)) {
        r = relate_type((PyTypeObject *)obj, proc, arg);
    } else if (PyModule_Check(obj)) {
        ATTR("__dict__", ((PyModuleObject *)obj)->md_dict);
    } else if (PyFunction_Check(obj)) {
        r = relate_function((PyFunctionObject *)obj, proc, arg);
    } else if (PyMethod_Check(obj)) {
        ATTR("__func__", PyMethod_GET_FUNCTION(obj));
        ATTR("__self__", PyMethod_GET_SELF(obj));
    } else if (PyCFunction_Check(obj)) {
        ATTR("__self__", ((PyCFunctionObject *)obj)->m_self);
    } else if (PyCell_Check(obj)) {
        ATTR("cell_contents", PyCell_GET(obj));
    } else if (PyCode_Check(obj)) {
        r = relate_code((PyCodeObject *)obj, proc, arg);
    } else if (PyFrame_Check(obj)) {
        r = relate_frame((PyFrameObject *)obj, proc, arg);
    } else if (PyTraceBack_Check(obj)) {
        ATTR("tb_next", (PyObject *)((PyTracebackObject *)obj)->tb_next);
        ATTR("tb_frame", (PyObject *)((PyTracebackObject *)obj)->tb_frame);
    } else if (PyExceptionInstance_Check(obj)) {
        PyBaseExceptionObject *e = (PyBaseExceptionObject *)obj;
        ATTR("args", e->args);
        ATTR("__traceback__", e->traceback);
        ATTR("__context__", e->context);
        ATTR("__cause__", e->cause);
#if PY_VERSION_HEX >= 0x030B0000
        ATTR("__notes__", e->notes);
#endif
    } else if (tp == &PyDictProxy_Type) {
        INTERNAL("mapping", ((hs_mappingproxy *)obj)->mapping);
    }
    if (r) return r;
    r = hs_relate_hidden(obj, proc, arg);
    if (r) return r;
    r = hs_relate_stdlib(obj, tp, proc, arg); if (r) return r;
    r = relate_members(obj, tp, proc, arg);
    if (r) return r;
    if (hs_type_may_own_dict(tp) && !PyType_Check(obj) && !PyModule_Check(obj)) {
        r = relate_managed_values(obj, tp, proc, arg);
        if (r) return r;
        ATTR("__dict__", hs_owned_dict(obj));
    }
    if (type_last) INTERNAL("ob_type", tp);
    return r;
}
