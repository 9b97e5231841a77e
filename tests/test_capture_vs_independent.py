"""Counts checked against an independent pure-Python walk.

The independent walk seeds from ``gc.get_objects()`` and closes over
``gc.get_referents`` plus what heapscope documents it adds (an object's type, static
types' dict/mro/bases, code objects' stored fields) and what CPython's traversal hides,
reached through Python-level APIs that do not share heapscope's C reads: dict keys
(``dict_traverse`` skips str keys), heap types' ``__name__``/``__qualname__`` and the
weak references of the subclass registries, numpy arrays' ``base``, ``dtype`` and
object elements. heapscope's ``heap()`` plus its
unreachable part must then find the same objects. Every difference is explained here:

* missing from heapscope: only the session's own objects (hidden by design) and bound
  methods of them that heapscope's own (skipped) frames hold;
* extra in heapscope: the subclass registries themselves (dicts of ``{id: weakref}``) and
  their int keys, heap types' processed ``__slots__`` tuples (and on 3.10 the mangled
  names only they hold), code objects'
  ``co_localsplusnames`` tuple and
  ``co_localspluskinds`` bytes (3.11+), which Python does not expose as attributes, and
  the few objects the measurement itself made, a module's own name (``md_name``) when
  it is not its ``__name__``, and frame objects of executing frames
  (not GC-tracked while their frame runs; heapscope reaches them from the thread state).
"""

from __future__ import annotations

import ctypes
import gc
import sys
import types
import weakref
from array import array

from heapscope import _native, hpy
from heapscope.root import PACKAGE_DIR
from heapscope.session import hidden_types

HEAPTYPE = 1 << 9
# PyModuleObject (3.10-3.13): PyObject_HEAD, md_dict, md_def, md_state, md_weaklist,
# then md_name
MD_NAME_OFFSET = object.__basicsize__ + 4 * ctypes.sizeof(ctypes.c_void_p)

# State that only what CPython's traversal hides keeps alive: keys only a dict holds,
# a class name only its class holds, objects only a numpy array holds.
URL_CACHE = {"https://example.com/item/" + str(i) + "?q=" + "x" * (i % 7): i for i in range(2000)}
DYNAMIC_CLASS = type("Dyn" + "amic" + str(len(URL_CACHE)), (), {"__slots__": ("a" + "1", "b" + "2")})


class Registered:
    pass


class RegisteredChild(Registered):  # a weakref in Registered's subclass registry
    pass


try:
    import numpy

    OBJECT_ARRAY = numpy.array([Registered() for _ in range(50)] + [None], dtype=object)
except ImportError:  # pragma: no cover - numpy is installed by scripts/test
    numpy = None


def independent_walk() -> tuple[array, list]:
    gc.collect()
    seen: dict[int, object] = {}
    stack = list(gc.get_objects()) + [sys.modules, sys.__dict__]
    # never walk the walk itself (3.10 reaches it through this frame): its keys are ints
    # it creates
    seen[id(seen)] = seen
    seen[id(stack)] = stack
    if sys.version_info < (3, 11):
        # 3.10: executing frames are real objects but not in the GC list; add every
        # thread's stack (on 3.11+ this would create frame objects).
        stack += list(sys._current_frames().values())
    while stack:
        o = stack.pop()
        if id(o) in seen:
            continue
        seen[id(o)] = o
        stack.extend(gc.get_referents(o))
        stack.append(type(o))
        # (type(o) and the descriptors of `type` itself: no user code, hostile
        # metaclasses included)
        if issubclass(type(o), dict):
            stack.extend(dict.keys(o))
        if issubclass(type(o), type):
            stack.extend(weakref.getweakrefs(o))
            if type.__dict__["__flags__"].__get__(o) & HEAPTYPE:
                stack += [type.__dict__[a].__get__(o) for a in ("__name__", "__qualname__")]
        if numpy is not None and issubclass(type(o), numpy.ndarray):
            stack += [o.dtype] + ([o.base] if o.base is not None else [])
            if o.dtype == object and o.base is None:
                stack.extend(o.flat)
        if type(o) is types.CodeType:
            stack += [o.co_consts, o.co_names, o.co_filename, o.co_name, o.co_linetable]
            stack += [getattr(o, a) for a in ("co_qualname", "co_exceptiontable") if hasattr(o, a)]
            if sys.version_info >= (3, 12):
                # computed once, then cached on the code object (which heapscope visits)
                stack += [o.co_varnames, o.co_cellvars, o.co_freevars]
            elif sys.version_info >= (3, 11):
                stack += o.co_varnames + o.co_cellvars + o.co_freevars  # the strs, not the new tuples
            else:
                stack += [o.co_code, o.co_varnames, o.co_cellvars, o.co_freevars]
        if isinstance(o, type) and not (o.__flags__ & HEAPTYPE):
            stack += gc.get_referents(o.__dict__) + [o.__mro__, o.__bases__]
    del seen[id(seen)], seen[id(stack)]
    ids = array("Q", seen)
    objs = list(seen.values())
    seen.clear()
    return ids, objs


def test_heap_plus_unreachable_equals_independent_walk():
    h = hpy()
    # Only the addresses are kept while heapscope measures: a list of the objects would
    # keep reachable (through this frame, or as a seed of the unreachable part) exactly
    # what heapscope might miss. The objects are looked up by a second walk afterwards
    # (the state is the same: only the measurement's own objects were added).
    ids = independent_walk()[0]
    heap = h.heap()
    unreachable = h._unreachable()
    objs = independent_walk()[1]
    ours = set(heap._nodes.addresses()) | set(unreachable.addresses())
    theirs = set(ids)
    by_id = {id(o): o for o in objs}

    missing = theirs - ours
    hidden = tuple(hidden_types())
    def session_owned(o: object) -> bool:
        # hidden instances, and bound methods of them (held by heapscope's own frames)
        if isinstance(o, weakref.ref) and isinstance(o(), hidden):
            return True  # the session's weak reference to its census
        return isinstance(o, hidden) or isinstance(getattr(o, "__self__", None), hidden)

    # the first walk's own transient objects (3.10: its frame, from sys._current_frames)
    # are gone by the second walk
    gone = [i for i in missing if i not in by_id]
    assert len(gone) <= 5, len(gone)
    def measurement_frame(o: object) -> bool:  # 3.10: the walk's own frame (address reused)
        return type(o) is types.FrameType and o.f_code is independent_walk.__code__

    unexplained_missing = [
        by_id[i] for i in missing if i in by_id and not session_owned(by_id[i]) and not measurement_frame(by_id[i])
    ]
    assert unexplained_missing == [], [
        (type(o).__name__, repr(o)[:80])
        for o in unexplained_missing[:20]
    ]
    assert any(isinstance(by_id.get(i), hidden) for i in missing)  # the session itself

    extra_objs = {id(o): o for o in heap.nodes}
    extra_objs.update({id(o): o for o in unreachable.objects()})
    extra = [extra_objs[i] for i in ours - theirs]
    codes = [o for o in extra_objs.values() if type(o) is types.CodeType]
    name_sets = {frozenset(c.co_varnames + c.co_cellvars + c.co_freevars) for c in codes}
    by_first_name: dict[str, list[frozenset]] = {}
    for ns in name_sets:
        for name in ns:
            by_first_name.setdefault(name, []).append(ns)

    def localsplusnames(t: tuple) -> bool:
        # 3.12+ adds inlined comprehensions' hidden locals, so a superset of the names
        if not t or not all(type(s) is str for s in t):
            return False
        st = frozenset(t)
        return st in name_sets or any(ns <= st for ns in by_first_name.get(t[0], ()))

    localsplus_lengths = {len(set(c.co_varnames + c.co_cellvars + c.co_freevars)) for c in codes}
    made_by_measurement = {id(ids), id(objs), id(by_id), id(theirs)}
    # Interpreter/thread-state members that no GC object holds (e.g. an empty, untracked
    # thread-state dict) are found from the roots only ...
    roots = [o for _, o in _native.root_members(PACKAGE_DIR)]
    root_objects = {id(o) for o in roots}
    # ... and what they hold directly (e.g. threading.local dummies in an untracked
    # thread-state dict on 3.10)
    for o in roots:
        if not gc.is_tracked(o):
            root_objects.update(id(r) for r in gc.get_referents(o))
            if isinstance(o, dict):  # and their str keys ('thread.local.0x...')
                root_objects.update(id(k) for k in dict.keys(o))
    # Explanations computed after both measurements (they may create objects):
    # 3.11 caches co_code on the code object (heapscope visits the cache);
    cached_code = {id(c.co_code) for c in codes} if sys.version_info[:2] == (3, 11) else set()
    # 3.11+ executing frames are not objects: their locals are found from the thread
    # states only (materialising the frames now to look is fine: it is after the walk).
    frame_locals: set[int] = set()
    if sys.version_info >= (3, 11):
        for top in sys._current_frames().values():
            f = top
            while f is not None:
                for v in f.f_locals.values():
                    frame_locals.add(id(v))
                    frame_locals.update(id(r) for r in gc.get_referents(v))
                f = f.f_back
    # 3.13: a __dict__ materialised over still-valid inline values is not reported by its
    # owner's tp_traverse; heapscope visits it through the managed-dict pointer.
    inline_dicts: set[int] = set()
    if sys.version_info >= (3, 13):
        for o in gc.get_objects():
            d = _native.owned_dict(o)
            if d is not None and not isinstance(o, type) and not isinstance(o, types.ModuleType):
                inline_dicts.add(id(d))
                inline_dicts.update(id(r) for r in gc.get_referents(d))
    # the subclass registries ({id(subclass): weakref}) and their keys, and heap types'
    # processed __slots__ (mangled, sorted copies), which Python does not expose
    heap_types = [o for o in extra_objs.values() if isinstance(o, type)]
    type_ids = {id(t) for t in heap_types} | {id(o) for o in objs if isinstance(o, type)}
    def processed_slots(t: type) -> frozenset:
        # type_new keeps __slots__ without __dict__/__weakref__, names mangled, sorted
        declared = t.__dict__["__slots__"]
        names = [declared] if isinstance(declared, str) else list(declared)
        private = "_" + t.__name__.lstrip("_")
        return frozenset(
            private + n if n.startswith("__") and not n.endswith("__") else n
            for n in names
            if n not in ("__dict__", "__weakref__")
        )

    slot_sets = {processed_slots(t) for t in heap_types if "__slots__" in t.__dict__}

    # the names in those processed tuples: on 3.10 mangled (or copied) names are new strs
    # that only the tuple holds (the type's dict keys are interned separately)
    slot_names = {id(n) for o in extra if type(o) is tuple and frozenset(o) in slot_sets for n in o}

    def registry_part(o: object) -> bool:
        if id(o) in slot_names:
            return True
        if type(o) is int:
            return o in type_ids
        if type(o) is dict:
            return bool(o) and all(type(k) is int and type(v) is weakref.ref for k, v in o.items())
        return type(o) is tuple and frozenset(o) in slot_sets

    # a module's own name (md_name, which heapscope visits), read here with ctypes: no
    # Python API returns it, and it is not always the dict's __name__ (an extension's
    # submodule: 'internal' for 'hypothesis._native.internal')
    module_names = set()
    for m in [o for o in extra_objs.values() if isinstance(o, types.ModuleType)]:
        try:
            module_names.add(id(ctypes.py_object.from_address(id(m) + MD_NAME_OFFSET).value))
        except ValueError:  # md_name is NULL
            pass

    unexplained_extra = []
    for o in extra:
        if id(o) in module_names:
            continue
        if registry_part(o):
            continue
        if id(o) in inline_dicts:
            continue
        if id(o) in cached_code or id(o) in frame_locals:
            continue
        if id(o) in made_by_measurement or session_owned(o) or id(o) in root_objects:
            continue
        if type(o) is types.FrameType and not gc.is_tracked(o):
            continue  # frame object of an executing frame: untracked, found from the thread state
        if sys.version_info >= (3, 11):
            if type(o) is tuple and localsplusnames(o):
                continue  # co_localsplusnames
            if type(o) is bytes and len(o) in localsplus_lengths:
                continue  # co_localspluskinds
        unexplained_extra.append(o)
    assert unexplained_extra == [], [(type(o).__name__, repr(o)[:80]) for o in unexplained_extra[:20]]
    assert len(ours) > 10_000
