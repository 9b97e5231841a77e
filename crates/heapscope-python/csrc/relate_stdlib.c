/* Edge labels for standard-library objects (see hs_relate_stdlib in capture_shim.h).
 *
 * Some of these types keep their references in structs private to their module
 * (_collectionsmodule.c, _asynciomodule.c, _functoolsmodule.c, descrobject.c). Those are
 * mirrored below per version, and an object is only read through a mirror when its type
 * is the C type itself (found by tp_name along tp_base, so subclasses are covered; a
 * static type, or a heap type made from a module's spec, never a class named like it)
 * and that type's tp_basicsize equals the mirror's size. Anything else is left unnamed
 * (`.??`). Only struct fields are read: no object is created and no Python code runs;
 * targets are compared by address by the caller. */
#define Py_BUILD_CORE 1
#include "capture_shim.h"
#include <stddef.h>
#include <string.h>
#if PY_VERSION_HEX >= 0x030B0000
#include "internal/pycore_frame.h"
#endif

#include "relate_report.h"

/* ---- mirrors of private structs ------------------------------------------------- */

/* collections.deque (Modules/_collectionsmodule.c): items in a doubly linked list of
 * blocks of 64 slots; the first item is leftblock->data[leftindex]. 3.11 added a
 * per-deque cache of free blocks before weakreflist. */
#define HS_DEQUE_BLOCKLEN 64
typedef struct hs_deque_block {
    struct hs_deque_block *leftlink;
    PyObject *data[HS_DEQUE_BLOCKLEN];
    struct hs_deque_block *rightlink;
} hs_deque_block;

typedef struct {
    PyObject_VAR_HEAD
    hs_deque_block *leftblock;
    hs_deque_block *rightblock;
    Py_ssize_t leftindex;
    Py_ssize_t rightindex;
    size_t state;
    Py_ssize_t maxlen;
#if PY_VERSION_HEX >= 0x030B0000
    Py_ssize_t numfreeblocks;
    hs_deque_block *freeblocks[16];
#endif
    PyObject *weakreflist;
} hs_deque;

/* _asyncio.Future and _asyncio.Task (Modules/_asynciomodule.c, FutureObj_HEAD). 3.10:
 * int flags, dict and weakref slots, then the cancelled exception as an exception
 * state triple; 3.11/3.12: one cancelled exception object last; 3.13: dict and weakrefs
 * managed, fut_cancelled_exc before the state, and the flags are bit fields (Task's own
 * bits share the Future's last word, hence `bits` covers both). */
#if PY_VERSION_HEX >= 0x030D0000
#define HS_FUTURE_HEAD                                                         \
    PyObject_HEAD                                                              \
    PyObject *loop, *callback0, *context0, *callbacks, *exception, *exception_tb; \
    PyObject *result, *source_tb, *cancel_msg, *cancelled_exc;                 \
    int state;                                                                 \
    unsigned bits;
#elif PY_VERSION_HEX >= 0x030B0000
#define HS_FUTURE_HEAD                                                         \
    PyObject_HEAD                                                              \
    PyObject *loop, *callback0, *context0, *callbacks, *exception, *exception_tb; \
    PyObject *result, *source_tb, *cancel_msg;                                 \
    int state, log_tb, blocking;                                               \
    PyObject *dict, *weakreflist;                                              \
    PyObject *cancelled_exc;
#else
#define HS_FUTURE_HEAD                                                         \
    PyObject_HEAD                                                              \
    PyObject *loop, *callback0, *context0, *callbacks, *exception, *exception_tb; \
    PyObject *result, *source_tb, *cancel_msg;                                 \
    int state, log_tb, blocking;                                               \
    PyObject *dict, *weakreflist;                                              \
    PyObject *cancelled_exc_type, *cancelled_exc_value, *cancelled_exc_tb;     \
    void *cancelled_exc_previous;
#endif

typedef struct {
    HS_FUTURE_HEAD
} hs_future;

typedef struct {
    HS_FUTURE_HEAD
#if PY_VERSION_HEX >= 0x030D0000
    int num_cancels_requested;
    PyObject *fut_waiter, *coro, *name, *context;
#else
    PyObject *fut_waiter, *coro, *name, *context;
    int must_cancel, log_destroy_pending;
#if PY_VERSION_HEX >= 0x030B0000
    int num_cancels_requested;
#endif
#endif
} hs_task;

/* _asyncio.FutureIter (what Future.__await__ returns): { PyObject_HEAD; future } in
 * every supported version. */
typedef struct {
    PyObject_HEAD
    PyObject *future;
} hs_future_iter;

/* functools._lru_cache_wrapper (Modules/_functoolsmodule.c, the same in 3.10-3.13): the
 * object starts with the root of a circular list of links (the root's PyObject_HEAD is
 * the wrapper's own); each link holds a cached call's key and result, and the cache
 * dict maps the key to the link. */
typedef struct hs_lru_link {
    PyObject_HEAD
    struct hs_lru_link *prev, *next;
    Py_hash_t hash;
    PyObject *key, *result;
} hs_lru_link;

typedef struct {
    hs_lru_link root;
    PyObject *(*wrapper)(void *, PyObject *, PyObject *);
    int typed;
    PyObject *cache;
    Py_ssize_t hits;
    PyObject *func;
    Py_ssize_t maxsize;
    Py_ssize_t misses;
    PyObject *kwd_mark;
    PyTypeObject *lru_list_elem_type;
    PyObject *cache_info_type;
    PyObject *dict;
    PyObject *weakreflist;
} hs_lru;

/* property (Objects/descrobject.c): fget/fset/fdel/__doc__ are members; prop_name (set
 * by __set_name__, 3.10+) is not. */
typedef struct {
    PyObject_HEAD
    PyObject *prop_get, *prop_set, *prop_del, *prop_doc, *prop_name;
    int getter_doc;
} hs_property;

/* ---- which private layout an object has ----------------------------------------- */

enum hs_private_kind { HS_NONE, HS_DEQUE, HS_FUTURE, HS_TASK, HS_FUTURE_ITER, HS_LRU };

/* The private layout of tp's instances, found on tp or its nearest base with one of the
 * C types' names; HS_NONE unless that type is the C type (static, or a heap type bound
 * to a module) and its size is the mirror's. */
static enum hs_private_kind
private_kind(PyTypeObject *tp)
{
    for (PyTypeObject *t = tp; t != NULL; t = t->tp_base) {
        const char *n = t->tp_name;
        enum hs_private_kind kind = HS_NONE;
        size_t size = 0;
        if (n == NULL) continue;
        if (n[0] == 'c' && strcmp(n, "collections.deque") == 0) {
            kind = HS_DEQUE;
            size = sizeof(hs_deque);
        } else if (n[0] == '_' && strncmp(n, "_asyncio.", 9) == 0) {
            if (strcmp(n + 9, "Task") == 0) {
                kind = HS_TASK;
                size = sizeof(hs_task);
            } else if (strcmp(n + 9, "Future") == 0) {
                kind = HS_FUTURE;
                size = sizeof(hs_future);
            } else if (strcmp(n + 9, "FutureIter") == 0) {
                kind = HS_FUTURE_ITER;
                size = sizeof(hs_future_iter);
            }
        } else if (n[0] == 'f' && strcmp(n, "functools._lru_cache_wrapper") == 0) {
            kind = HS_LRU;
            size = sizeof(hs_lru);
        }
        if (kind == HS_NONE) continue;
        if ((t->tp_flags & Py_TPFLAGS_HEAPTYPE) && ((PyHeapTypeObject *)t)->ht_module == NULL) {
            return HS_NONE; /* a class statement's type, named like the C type */
        }
        if (t->tp_basicsize != (Py_ssize_t)size || t->tp_itemsize != 0) return HS_NONE;
        return kind;
    }
    return HS_NONE;
}

/* ---- relations ------------------------------------------------------------------- */

static int
relate_deque(PyObject *obj, hs_relproc proc, void *arg)
{
    hs_deque *d = (hs_deque *)obj;
    Py_ssize_t n = Py_SIZE(obj);
    Py_ssize_t slot = d->leftindex;
    hs_deque_block *b = d->leftblock;
    if (slot < 0 || slot >= HS_DEQUE_BLOCKLEN) return 0;
    for (Py_ssize_t i = 0; i < n && b != NULL; i++) {
        REL(HS_REL_INDEX, NULL, NULL, i, b->data[slot]);
        if (++slot == HS_DEQUE_BLOCKLEN) {
            b = b->rightlink;
            slot = 0;
        }
    }
    return 0;
}

static int
relate_future(PyObject *obj, hs_relproc proc, void *arg)
{
    /* FutureObj_traverse's order; names of the attributes that return the field itself,
     * ->C names for the rest (_callbacks builds a new list from the first three). */
    hs_future *f = (hs_future *)obj;
    ATTR("_loop", f->loop);
    INTERNAL("fut_callback0", f->callback0);
    INTERNAL("fut_context0", f->context0);
    INTERNAL("fut_callbacks", f->callbacks);
    ATTR("_result", f->result);
    ATTR("_exception", f->exception);
    INTERNAL("fut_exception_tb", f->exception_tb);
    ATTR("_source_traceback", f->source_tb);
    ATTR("_cancel_message", f->cancel_msg);
#if PY_VERSION_HEX >= 0x030B0000
    INTERNAL("fut_cancelled_exc", f->cancelled_exc);
#else
    INTERNAL("fut_cancelled_exc_state.exc_type", f->cancelled_exc_type);
    INTERNAL("fut_cancelled_exc_state.exc_value", f->cancelled_exc_value);
    INTERNAL("fut_cancelled_exc_state.exc_traceback", f->cancelled_exc_tb);
#endif
    return 0; /* the dict slot (3.10-3.12) is the instance __dict__: named by hs_relate */
}

static int
relate_task(PyObject *obj, hs_relproc proc, void *arg)
{
    /* TaskObj_traverse's order: the task's fields, then the future's. */
    hs_task *t = (hs_task *)obj;
    INTERNAL("task_context", t->context);
    ATTR("_coro", t->coro);
    INTERNAL("task_name", t->name); /* get_name() returns it (or a str made from it) */
    ATTR("_fut_waiter", t->fut_waiter);
    return relate_future(obj, proc, arg);
}

static int
relate_lru(PyObject *obj, hs_relproc proc, void *arg)
{
    /* lru_cache_tp_traverse's order: per link its key, result and type, then the
     * fields. Links are named by their key: ->cache[key].result. The walk is bounded by
     * the cache's size (every linked link is in the cache). */
    hs_lru *c = (hs_lru *)obj;
    Py_ssize_t budget = (c->cache != NULL && PyDict_Check(c->cache)) ? PyDict_GET_SIZE(c->cache) : 0;
    for (hs_lru_link *l = c->root.next; l != NULL && l != &c->root && budget > 0;
         l = l->next, budget--) {
        if (l->key == NULL) continue;
        INTERNAL_T("cache[{}].key", l->key, 0, l->key);
        INTERNAL_T("cache[{}].result", l->key, 0, l->result);
        INTERNAL_T("cache[{}]->ob_type", l->key, 0, Py_TYPE(l));
    }
    INTERNAL("cache", c->cache);
    ATTR("__wrapped__", c->func); /* update_wrapper also stores it in __dict__ */
    INTERNAL("kwd_mark", c->kwd_mark);
    INTERNAL("lru_list_elem_type", c->lru_list_elem_type);
    INTERNAL("cache_info_type", c->cache_info_type);
    return 0;
}

/* Generators, coroutines and async generators: names per kind. */
struct gen_names {
    const char *frame;      /* the frame object, if one was made (3.11+) */
    const char *code;       /* the code: the frame's on 3.12+ */
    const char *f_code;     /* 3.11: the frame's code (gi_code is a field too) */
    const char *f_func, *f_globals, *f_builtins, *f_locals;
    const char *local_tpl, *cell_tpl, *stack_tpl;
    const char *exc_type, *exc_value, *exc_tb;
};

#define GEN_NAMES(p)                                                               \
    {                                                                              \
        p "_frame", p "_code", p "_frame.f_code", p "_frame.f_func",               \
        p "_frame.f_globals", p "_frame.f_builtins", p "_frame.f_locals",          \
        p "_frame.f_locals[{}]", p "_frame.f_locals [{}]", p "_frame->f_valuestack[{}]", \
        p "_exc_state.exc_type", p "_exc_state.exc_value", p "_exc_state.exc_traceback" \
    }

static const struct gen_names gen_names = GEN_NAMES("gi");
static const struct gen_names coro_names = GEN_NAMES("cr");
static const struct gen_names agen_names = GEN_NAMES("ag");

#if PY_VERSION_HEX >= 0x030B0000
/* Renames hs_iframe_members' frame members as steps through the generator's frame
 * attribute: .f_locals['x'] becomes .gi_frame.f_locals['x'] (the same expression as on
 * 3.10, where the generator holds a frame object). */
struct gen_frame_arg {
    hs_relproc proc;
    void *arg;
    const struct gen_names *nm;
};

static int
gen_frame_member(int rel, const char *name, PyObject *key, Py_ssize_t index, PyObject *target,
                 void *varg)
{
    struct gen_frame_arg *ga = (struct gen_frame_arg *)varg;
    const struct gen_names *nm = ga->nm;
    const char *tpl = NULL;
    switch (rel) {
    case HS_REL_LOCAL: tpl = nm->local_tpl; break;
    case HS_REL_CELL: tpl = nm->cell_tpl; break;
    case HS_REL_STACK: tpl = nm->stack_tpl; key = NULL; break;
    case HS_REL_ATTRIBUTE:
        if (name == NULL) return 0;
#if PY_VERSION_HEX >= 0x030C0000
        if (strcmp(name, "f_code") == 0) name = nm->code; /* no other reference to it */
#else
        if (strcmp(name, "f_code") == 0) name = nm->f_code;
#endif
        else if (strcmp(name, "f_func") == 0) name = nm->f_func;
        else if (strcmp(name, "f_globals") == 0) name = nm->f_globals;
        else if (strcmp(name, "f_builtins") == 0) name = nm->f_builtins;
        else if (strcmp(name, "f_locals") == 0) name = nm->f_locals;
        else return 0;
        return ga->proc(HS_REL_ATTRIBUTE, name, NULL, 0, target, ga->arg);
    default: return 0;
    }
    return ga->proc(HS_REL_ATTRIBUTE | HS_REL_TEMPLATE, tpl, key, index, target, ga->arg);
}
#endif

static int
relate_gen(PyObject *obj, const struct gen_names *nm, hs_relproc proc, void *arg)
{
    /* Coroutines and async generators start with the generator's fields. */
    PyGenObject *gen = (PyGenObject *)obj;
#if PY_VERSION_HEX >= 0x030B0000
    /* gen_traverse's order (async_gen_traverse visits the finalizer first). */
    if (nm == &agen_names) INTERNAL("ag_finalizer", gen->gi_origin_or_finalizer);
#if PY_VERSION_HEX < 0x030C0000
    ATTR(nm->code, gen->gi_code); /* also a member */
#endif
    ATTR("__name__", gen->gi_name);
    ATTR("__qualname__", gen->gi_qualname);
    /* The frame lives inside the generator and is valid until cleared (gen_traverse's
     * test). Its stack is named up to the saved stacktop, as gen_traverse visits it: an
     * executing frame's may be stale, but targets are only compared by address and
     * hs_iframe_members bounds it by the code's stack size. */
    if (gen->gi_frame_state < FRAME_CLEARED) {
        _PyInterpreterFrame *f = (_PyInterpreterFrame *)gen->gi_iframe;
        ATTR(nm->frame, f->frame_obj);
        struct gen_frame_arg ga = {proc, arg, nm};
        int r = hs_iframe_members(f, 1, gen_frame_member, &ga);
        if (r) return r;
    }
    INTERNAL(nm->exc_value, gen->gi_exc_state.exc_value);
    if (nm == &coro_names) ATTR("cr_origin", gen->gi_origin_or_finalizer); /* not traversed */
#else
    /* 3.10: gi_frame (a frame object) and gi_code are members. */
    if (nm == &agen_names) INTERNAL("ag_finalizer", ((PyAsyncGenObject *)obj)->ag_finalizer);
    ATTR("__name__", gen->gi_name);
    ATTR("__qualname__", gen->gi_qualname);
    INTERNAL(nm->exc_type, gen->gi_exc_state.exc_type);
    INTERNAL(nm->exc_value, gen->gi_exc_state.exc_value);
    INTERNAL(nm->exc_tb, gen->gi_exc_state.exc_traceback);
    if (nm == &coro_names) ATTR("cr_origin", ((PyCoroObject *)obj)->cr_origin);
#endif
    return 0;
}

int
hs_relate_stdlib(PyObject *obj, PyTypeObject *tp, hs_relproc proc, void *arg)
{
    /* Cheap flag tests for the commonest containers, then public types (generators
     * cannot be subclassed), then the private layouts. */
    if (PyList_Check(obj) || PyTuple_Check(obj) || PyType_Check(obj)) return 0;
    if (PyDict_Check(obj)) {
        if (!PyODict_Check(obj)) return 0;
        /* odict_traverse visits every key from its own list, and dict_traverse again
         * those it visits (non-str keys): name the second reference like the first. */
        Py_ssize_t pos = 0, i = 0;
        PyObject *key, *value;
        while (PyDict_Next(obj, &pos, &key, &value)) {
            REL(HS_REL_KEYINDEX, NULL, NULL, i++, key);
        }
        return 0;
    }
    if (tp == &PyGen_Type) return relate_gen(obj, &gen_names, proc, arg);
    if (tp == &PyCoro_Type) return relate_gen(obj, &coro_names, proc, arg);
    if (tp == &PyAsyncGen_Type) return relate_gen(obj, &agen_names, proc, arg);
    if (PyWeakref_CheckProxy(obj)) {
        /* proxies have no __callback__ attribute (they forward attribute access) */
        INTERNAL("wr_callback", ((PyWeakReference *)obj)->wr_callback);
        return 0;
    }
    if (PyObject_TypeCheck(obj, &PyProperty_Type)) {
        if (PyProperty_Type.tp_basicsize != (Py_ssize_t)sizeof(hs_property)) return 0;
#if PY_VERSION_HEX >= 0x030D0000
        ATTR("__name__", ((hs_property *)obj)->prop_name); /* a getset from 3.13 */
#else
        INTERNAL("prop_name", ((hs_property *)obj)->prop_name);
#endif
        return 0;
    }
    switch (private_kind(tp)) {
    case HS_DEQUE: return relate_deque(obj, proc, arg);
    case HS_FUTURE: return relate_future(obj, proc, arg);
    case HS_TASK: return relate_task(obj, proc, arg);
    case HS_FUTURE_ITER:
        INTERNAL("future", ((hs_future_iter *)obj)->future);
        return 0;
    case HS_LRU: return relate_lru(obj, proc, arg);
    default: return 0;
    }
}
