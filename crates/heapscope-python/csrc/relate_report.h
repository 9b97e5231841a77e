/* How the relate functions report one named reference: to an hs_relproc `proc` with its
 * `arg` (both in scope where these are used); a NULL target is skipped, a non-zero
 * return from `proc` stops the walk. Shared by capture_shim.c, hidden_refs.c and
 * relate_stdlib.c. */
#ifndef HEAPSCOPE_RELATE_REPORT_H
#define HEAPSCOPE_RELATE_REPORT_H

#define REL(rel, nm, key, idx, o)                                     \
    do {                                                              \
        PyObject *_o = (PyObject *)(o);                               \
        if (_o != NULL) {                                             \
            int _r = proc(rel, nm, key, idx, _o, arg);                \
            if (_r) return _r;                                        \
        }                                                             \
    } while (0)
#define ATTR(nm, o) REL(HS_REL_ATTRIBUTE, nm, NULL, 0, o)
#define INTERNAL(nm, o) REL(HS_REL_INTERNAL, nm, NULL, 0, o)
/* name is a template: "{}" stands for the key's repr (or the index if key is NULL) */
#define ATTR_T(tpl, key, idx, o) REL(HS_REL_ATTRIBUTE | HS_REL_TEMPLATE, tpl, key, idx, o)
#define INTERNAL_T(tpl, key, idx, o) REL(HS_REL_INTERNAL | HS_REL_TEMPLATE, tpl, key, idx, o)

#endif
