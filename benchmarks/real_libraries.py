#!/usr/bin/env python3
"""How much of a realistic heap does each tool see? numpy, pandas, SQLAlchemy and Flask.

Usage:
    python benchmarks/real_libraries.py [--reps N] [--tools heapscope,guppy3,independent] [--json]

Needs numpy, pandas, sqlalchemy and flask (plus heapscope and guppy3) in the running
environment; otherwise standard library only. Like run.py, every measurement runs in a
fresh child process (``real_libraries.py --child TOOL reallibs``, with PYTHONHASHSEED=0),
tools alternated within each repetition, medians reported.

Each child builds the same workload (module-level variables of the child):

* ``import numpy, pandas, sqlalchemy, flask``;
* ``DF``: a pandas DataFrame of 10,000 rows: int64 and float64 columns, an object column
  of small dicts (``{"sku": "sku-<i>", "qty": i % 5}``) and a ``string[python]`` column
  (``"name-<i>"``);
* ``PROBES``: a numpy object array of 10,000 ``ObjArrayProbe`` instances (one int
  attribute) held ONLY by that array;
* ``URL_CACHE``: a dict keyed by 100,000 distinct URL strings, values small ints;
* ``DB``: a SQLAlchemy declarative model, an in-memory sqlite engine and session, and
  the 1,000 rows loaded from it (a list of model instances);
* ``WEB``: a Flask app with three routes, its test client and the results of three
  test-client requests.

Then the child measures one tool:

* ``heapscope``: ``x = h.heap()`` (count, size, time of this first call), its ``bytype``
  rows for ``ObjArrayProbe`` and ``str``; then ``h.heapu()`` (a Stat: count, size,
  time, the same two rows);
* ``guppy3``: ``x = hpy().heap()`` (count, size, time), the same two ``bytype`` rows;
* ``independent``: no profiler session; three closures over ``gc.get_referents`` in
  pure Python (see benchmarks/README.md): the walk of
  tests/test_capture_vs_independent.py (seeded from ``gc.get_objects()``; on 3.11+ it
  adds code objects' local names rather than the name tuples, see ``closure``), the same
  closure seeded from heapscope's root members only, and that root closure also
  following what ``tp_traverse`` hides but Python can reach (str keys of dicts, heap
  types' ``__name__``/``__qualname__``, weakrefs of the subclass registries, numpy
  arrays' dtype, base and object elements).

The table goes to stdout (and benchmarks/results/real_libraries.txt); ``--json`` prints
the medians and every child's raw result as JSON instead.
"""

# No "from __future__ import annotations": SQLAlchemy reads the model's Mapped[...]
# annotations, which are then evaluated in _database()'s scope.
import argparse
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import types
import weakref

from run import fmt_time, run_child

TOOLS = ("heapscope", "guppy3", "independent")
WORKLOAD = "reallibs"
N_ROWS = 10_000  # DataFrame rows
N_PROBES = 10_000  # ObjArrayProbe instances, held only by the numpy object array
N_URLS = 100_000  # distinct str keys of URL_CACHE
N_DB_ROWS = 1_000  # SQLAlchemy rows loaded
PROBE_NAME = "__main__.ObjArrayProbe"  # the bytype row name (children run as __main__)
LIBS = ("numpy", "pandas", "sqlalchemy", "flask")
HEAPTYPE = 1 << 9  # Py_TPFLAGS_HEAPTYPE
TYPE_SUBCLASS = 1 << 31  # Py_TPFLAGS_TYPE_SUBCLASS: isinstance(o, type) without user code
DICT_SUBCLASS = 1 << 29  # Py_TPFLAGS_DICT_SUBCLASS

# The workload (module-level: kept alive for the whole child run).
DF = None
PROBES = None
URL_CACHE: dict = {}
DB: dict = {}
WEB: dict = {}


class ObjArrayProbe:
    """The small class whose instances only the numpy object array holds."""

    def __init__(self, i: int) -> None:
        self.i = i


# --------------------------------------------------------------------------
# child side: the workload
# --------------------------------------------------------------------------

def _probe_array(np):
    arr = np.empty(N_PROBES, dtype=object)
    for i in range(N_PROBES):
        arr[i] = ObjArrayProbe(i)  # no other reference survives this function
    return arr


def _database() -> dict:
    from sqlalchemy import String, create_engine, select
    from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

    class Base(DeclarativeBase):
        pass

    class Item(Base):
        __tablename__ = "items"
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str] = mapped_column(String(64))
        category: Mapped[str] = mapped_column(String(16))
        price: Mapped[float]

    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    session = Session(engine)
    session.add_all(
        Item(id=i, name=f"item-{i}", category=f"cat-{i % 10}", price=i * 0.5) for i in range(N_DB_ROWS)
    )
    session.commit()
    rows = session.scalars(select(Item).order_by(Item.id)).all()
    assert len(rows) == N_DB_ROWS
    return {"model": Item, "engine": engine, "session": session, "rows": rows}


def _web() -> dict:
    from flask import Flask, jsonify, request

    app = Flask("reallibs_app")

    @app.get("/")
    def index():
        return "hello"

    @app.get("/items/<int:item_id>")
    def item(item_id: int):
        return jsonify(id=item_id, name=f"item-{item_id}")

    @app.post("/echo")
    def echo():
        return jsonify(request.get_json())

    client = app.test_client()
    results = []
    for method, url, body in (("get", "/", None), ("get", "/items/42", None), ("post", "/echo", {"a": 1})):
        resp = getattr(client, method)(url, json=body) if body else getattr(client, method)(url)
        assert resp.status_code == 200, (url, resp.status_code)
        results.append(resp.get_data(as_text=True))
        resp.close()
    return {"app": app, "client": client, "results": results}


def build_workload() -> dict:
    global DF, PROBES
    import flask
    import numpy as np
    import pandas as pd
    import sqlalchemy

    DF = pd.DataFrame({
        "id": np.arange(N_ROWS, dtype=np.int64),
        "price": np.arange(N_ROWS, dtype=np.float64) * 0.25,
        "payload": pd.Series([{"sku": f"sku-{i}", "qty": i % 5} for i in range(N_ROWS)], dtype=object),
        "name": pd.Series([f"name-{i}" for i in range(N_ROWS)], dtype=pd.StringDtype("python")),
    })
    assert DF.shape == (N_ROWS, 4) and DF["payload"].dtype == object
    PROBES = _probe_array(np)
    URL_CACHE.update(
        (f"https://example.com/api/v1/items/{i}?page={i % 100}&sort=price", i % 100) for i in range(N_URLS)
    )
    assert len(URL_CACHE) == N_URLS
    DB.update(_database())
    WEB.update(_web())
    return {"numpy": np.__version__, "pandas": pd.__version__, "sqlalchemy": sqlalchemy.__version__,
            "flask": _version("flask", flask)}


def _version(dist: str, mod: types.ModuleType) -> str:
    try:
        from importlib.metadata import version

        return version(dist)
    except Exception:
        return str(getattr(mod, "__version__", "?"))


# --------------------------------------------------------------------------
# child side: the measurements
# --------------------------------------------------------------------------

def _row(rows, name: str) -> tuple[int, int]:
    """(count, size) of the row called ``name`` in (name, count, size) rows; (0, 0) if none."""
    for n, count, size in rows:
        if n == name:
            return int(count), int(size)
    return 0, 0


def measure_heapscope() -> dict:
    import heapscope
    from heapscope import hpy

    h = hpy()
    gc.collect()
    t0 = time.perf_counter()
    x = h.heap()
    heap_first = time.perf_counter() - t0
    rows = x.bytype.stat.rows
    probes, str_row = _row(rows, PROBE_NAME), _row(rows, "str")
    del rows
    t0 = time.perf_counter()
    u = h.heapu()
    heapu_time = time.perf_counter() - t0
    return {
        "heap_count": x.count, "heap_size": x.size, "heap_first": heap_first,
        "heap_probes": probes[0], "heap_str_count": str_row[0], "heap_str_size": str_row[1],
        "heapu_count": u.count, "heapu_size": u.size, "heapu_time": heapu_time,
        "heapu_probes": _row(u.rows, PROBE_NAME)[0],
        "heapu_str_count": _row(u.rows, "str")[0], "heapu_str_size": _row(u.rows, "str")[1],
        "heapscope_dir": os.path.dirname(os.path.abspath(heapscope.__file__)),
    }


def measure_guppy3() -> dict:
    from guppy import hpy

    hp = hpy()
    gc.collect()
    t0 = time.perf_counter()
    x = hp.heap()
    heap_first = time.perf_counter() - t0
    rows = [(r.name, r.count, r.size) for r in x.bytype.stat.get_rows()]
    probes, str_row = _row(rows, PROBE_NAME), _row(rows, "str")
    return {
        "heap_count": x.count, "heap_size": x.size, "heap_first": heap_first,
        "heap_probes": probes[0], "heap_str_count": str_row[0], "heap_str_size": str_row[1],
    }


def closure(seeds: list, hidden_refs: bool = False) -> dict:
    """Closure over ``gc.get_referents`` from ``seeds``, with the additions of
    tests/test_capture_vs_independent.py (an object's type; static types' dict, mro and
    bases; code objects' stored fields). With ``hidden_refs`` it also follows what
    ``tp_traverse`` does not report but Python can reach without creating the objects:
    the keys of every dict (str-keyed tables report values only), heap types'
    ``__name__`` and ``__qualname__`` (ht_name, ht_qualname), the weak references to
    every type (among them those of the subclass registries, ``tp_subclasses``), and
    numpy arrays' ``dtype``, ``base`` and (arrays owning their data) object elements.
    It cannot reach the registries themselves (dicts of ``{id: weakref}``) or
    ``ht_slots``."""
    t0 = time.perf_counter()
    np = sys.modules.get("numpy")
    ndarray = np.ndarray if np is not None else None
    dtype_of = ndarray.__dict__["dtype"].__get__ if ndarray is not None else None
    base_of = ndarray.__dict__["base"].__get__ if ndarray is not None else None
    name_of = type.__dict__["__name__"].__get__
    qualname_of = type.__dict__["__qualname__"].__get__
    seen: dict[int, object] = {}
    stack = list(seeds)
    while stack:
        o = stack.pop()
        if id(o) in seen:
            continue
        seen[id(o)] = o
        t = type(o)
        stack.extend(gc.get_referents(o))
        stack.append(t)
        if t is types.CodeType:
            stack += [o.co_consts, o.co_names, o.co_filename, o.co_name, o.co_linetable]
            stack += [getattr(o, a) for a in ("co_qualname", "co_exceptiontable") if hasattr(o, a)]
            if sys.version_info >= (3, 11):
                # The names, not the tuples: on 3.12+ reading co_varnames creates the tuple
                # and caches it on the code object, so the test's walk (which adds the
                # tuples) counts objects that the profiled processes do not have.
                stack += o.co_varnames + o.co_cellvars + o.co_freevars
            else:
                stack += [o.co_code, o.co_varnames, o.co_cellvars, o.co_freevars]
        flags = t.__flags__
        if flags & TYPE_SUBCLASS:
            if not (o.__flags__ & HEAPTYPE):
                stack += gc.get_referents(o.__dict__) + [o.__mro__, o.__bases__]
            elif hidden_refs:
                stack += [name_of(o, type), qualname_of(o, type)]
            if hidden_refs:
                # includes the weakref to o in its bases' subclass registries (tp_subclasses)
                stack.extend(weakref.getweakrefs(o))
        if hidden_refs:
            if flags & DICT_SUBCLASS:
                stack.extend(dict.keys(o))
            elif ndarray is not None and issubclass(t, ndarray):
                dt, base = dtype_of(o), base_of(o)
                stack.append(dt)
                if base is not None:
                    stack.append(base)
                elif dt.kind == "O":
                    stack.extend(ndarray.tolist(ndarray.reshape(o, -1)))
    walk_time = time.perf_counter() - t0
    objs = list(seen.values())
    seen.clear()
    size = str_count = str_size = probes = 0
    for o in objs:
        try:
            s = sys.getsizeof(o)
        except Exception:
            s = 0
        size += s
        if type(o) is str:
            str_count += 1
            str_size += s
        elif type(o) is ObjArrayProbe:
            probes += 1
    return {"count": len(objs), "size": size, "time": walk_time, "probes": probes,
            "str_count": str_count, "str_size": str_size}


WALKS = (
    ("gc", "gc seeds (test's walk)", "heapscope heap()+heapu()"),
    ("roots", "root seeds", "heapscope heap()"),
    ("roots_hidden", "root seeds + hidden refs", "heap() once hidden refs count"),
)


def measure_independent() -> dict:
    from heapscope import _native
    from heapscope.root import PACKAGE_DIR

    out = {}
    gc.collect()
    seeds = list(gc.get_objects()) + [sys.modules, sys.__dict__]
    out["gc"] = closure(seeds)
    del seeds
    for key, hidden in (("roots", False), ("roots_hidden", True)):
        gc.collect()
        roots = [o for _, o in _native.root_members(PACKAGE_DIR)]
        out[key] = closure(roots, hidden_refs=hidden)
        del roots
    return {f"{k}_{f}": v for k, r in out.items() for f, v in r.items()}


def child_main(tool: str) -> None:
    versions = build_workload()
    gc.collect()
    if tool == "heapscope":
        res = measure_heapscope()
    elif tool == "guppy3":
        res = measure_guppy3()
    elif tool == "independent":
        res = measure_independent()
    else:
        raise SystemExit(f"unknown tool {tool!r}")
    res.update(tool=tool, versions=versions, python=sys.version.split()[0])
    print(json.dumps(res))
    sys.stdout.flush()


# --------------------------------------------------------------------------
# parent side
# --------------------------------------------------------------------------

def values(results: list[dict], key: str) -> list:
    return [r[key] for r in results if "error" not in r and r.get(key) is not None]


def median(results: list[dict], key: str):
    v = values(results, key)
    return statistics.median(v) if v else None


def fmt_num(results: list[dict], key: str, kind: str = "int") -> str:
    """Median, with the range over the repetitions when they differ."""
    v = values(results, key)
    if not v:
        return "-"
    if kind == "time":
        return fmt_time(statistics.median(v))
    m = statistics.median(v)
    s = f"{int(round(m)):,}"
    if kind != "median" and min(v) != max(v):
        s += f" ({int(min(v)):,}..{int(max(v)):,})"
    return s


def fmt_diff(a, b) -> str:
    return "-" if a is None or b is None else f"{int(round(a - b)):+,}"


def heapscope_commit(res: dict) -> str:
    dirs = values(res.get("heapscope", []), "heapscope_dir")
    if not dirs:
        return "?"
    try:
        # the last commit that changed heapscope itself (the Python package or the crates)
        p = subprocess.run(["git", "-C", dirs[0], "log", "-1", "--format=%h %s", "--", "../../crates", ".."],
                           capture_output=True, text=True, timeout=30)
        dirty = subprocess.run(["git", "-C", dirs[0], "status", "--porcelain", "--", "../../crates", ".."],
                               capture_output=True, text=True, timeout=30)
        desc = p.stdout.strip()[:90] if p.returncode == 0 else "?"
        return desc + (" (+ uncommitted changes)" if dirty.stdout.strip() else "")
    except Exception:
        return "?"


def build_table(res: dict, tools: list[str], reps: int, elapsed: float) -> str:
    hs, gp, ind = res.get("heapscope", []), res.get("guppy3", []), res.get("independent", [])
    first_ok = next((r for t in tools for r in res[t] if "error" not in r), {})
    vers = first_ok.get("versions", {})
    out = [
        "How much of a real-library heap each tool sees (numpy, pandas, SQLAlchemy, Flask)",
        f"Python:   {sys.version.split()[0]} ({platform.python_implementation()}) {sys.executable}",
        f"Machine:  {platform.platform()} / {platform.machine()} / nproc={os.cpu_count()}",
        "Libraries: " + ", ".join(f"{k} {v}" for k, v in vers.items()),
        f"heapscope (last commit to python/, crates/): {heapscope_commit(res) if 'heapscope' in tools else '-'}",
        f"Repetitions: {reps} (fresh child process per tool per repetition, tools alternated, "
        "PYTHONHASHSEED=0; medians, with (min..max) where repetitions differ)",
        f"Workload: DataFrame {N_ROWS:,} rows (int, float, object=dicts, string[python]); numpy object "
        f"array of {N_PROBES:,} ObjArrayProbe held only by it; dict of {N_URLS:,} URL str keys; "
        f"SQLAlchemy sqlite session with {N_DB_ROWS:,} rows loaded; Flask app + 3 test-client requests",
        f"Wall time of whole run: {elapsed:.1f} s",
        "",
    ]
    hdr = f"{'measure':<34} {'heapscope':>34} {'guppy3':>34}"
    out += [hdr, "-" * len(hdr)]
    rows = (
        ("heap() objects", "heap_count", "int"),
        ("heap() size (bytes)", "heap_size", "int"),
        ("heap() time (first call)", "heap_first", "time"),
        (f"heap() ObjArrayProbe (of {N_PROBES:,})", "heap_probes", "int"),
        ("heap() str objects", "heap_str_count", "int"),
        ("heap() str size (bytes)", "heap_str_size", "int"),
        ("heapu() objects", "heapu_count", "int"),
        ("heapu() size (bytes)", "heapu_size", "int"),
        ("heapu() time", "heapu_time", "time"),
        (f"heapu() ObjArrayProbe (of {N_PROBES:,})", "heapu_probes", "int"),
        ("heapu() str objects", "heapu_str_count", "int"),
        ("heapu() str size (bytes)", "heapu_str_size", "int"),
    )
    for label, key, kind in rows:
        a = fmt_num(hs, key, kind) if "heapscope" in tools else "-"
        b = fmt_num(gp, key, kind) if "guppy3" in tools and not key.startswith("heapu") else "-"
        out.append(f"{label:<34} {a:>34} {b:>34}")
    hs_both = None
    if "heapscope" in tools:
        both = [r["heap_count"] + r["heapu_count"] for r in hs if "error" not in r]
        hs_both = statistics.median(both) if both else None
        out.append(f"{'heap()+heapu() objects':<34} {fmt_num([{'v': v} for v in both], 'v'):>34} {'-':>34}")
    out.append("")

    if "independent" in tools:
        out.append("Independent closures over gc.get_referents (no profiler session; size = sum of "
                   "sys.getsizeof, without heapscope's managed-dict additions; sizes: medians):")
        hdr = (f"{'walk':<26} {'objects':>11} {'size (bytes)':>13} {'ObjArrayProbe':>13} {'str objs':>9} "
               f"{'str bytes':>11} {'time':>9}  {'compare with':<30} {'heapscope minus walk':>20}")
        out += [hdr, "-" * len(hdr)]
        compare = {"gc": hs_both, "roots": median(hs, "heap_count"), "roots_hidden": median(hs, "heap_count")}
        for key, label, against in WALKS:
            out.append(
                f"{label:<26} {fmt_num(ind, key + '_count'):>11} {fmt_num(ind, key + '_size', 'median'):>13} "
                f"{fmt_num(ind, key + '_probes'):>13} {fmt_num(ind, key + '_str_count'):>9} "
                f"{fmt_num(ind, key + '_str_size', 'median'):>11} {fmt_num(ind, key + '_time', 'time'):>9}  "
                f"{against:<30} {fmt_diff(compare[key], median(ind, key + '_count')):>20}"
            )
        out.append("")
        out.append("gc seeds: tests/test_capture_vs_independent.py's walk, seeded from gc.get_objects() + "
                   "sys.modules + sys.__dict__ (reachable and unreachable);")
        out.append("          on 3.11+ it adds code objects' local names, not the co_varnames/cellvars/freevars "
                   "tuples (3.12 creates those when read).")
        out.append("root seeds: the same closure seeded from heapscope's root members only "
                   "(_native.root_members).")
        out.append("+ hidden refs: also dict keys, heap types' __name__/__qualname__, weakrefs to types "
                   "(subclass registries), numpy arrays' dtype, base, object elements.")
        out.append("Python cannot reach, so no walk counts: code objects' co_localsplusnames tuples and "
                   "co_localspluskinds bytes (3.11+),")
        out.append("          the subclass registries (dicts {id: weakref}) and their int keys, heap types' "
                   "ht_slots tuples.")

    errors = [f"  [{t} rep {i + 1}] {r['error']}" for t in tools for i, r in enumerate(res[t]) if "error" in r]
    if errors:
        out += ["", "ERRORS:"] + errors
    return "\n".join(out) + "\n"


def main() -> None:
    if len(sys.argv) >= 2 and sys.argv[1] == "--child":
        child_main(sys.argv[2])
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--tools", default=",".join(TOOLS))
    ap.add_argument("--json", action="store_true", help="print JSON (medians and raw results) instead of the table")
    args = ap.parse_args()
    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    for t in tools:
        if t not in TOOLS:
            ap.error(f"unknown tool {t!r}; choose from {', '.join(TOOLS)}")

    os.environ["PYTHONHASHSEED"] = "0"  # inherited by the children: same dict/set layouts each run
    res: dict[str, list[dict]] = {t: [] for t in tools}
    start = time.perf_counter()
    for rep in range(args.reps):
        for t in tools:  # alternate A B C A B C ...
            t0 = time.perf_counter()
            r = run_child(t, WORKLOAD, __file__)
            res[t].append(r)
            print(f"[rep {rep + 1}/{args.reps}] {t:<12} {time.perf_counter() - t0:6.1f}s  "
                  f"{r.get('error', 'ok')[:300]}", file=sys.stderr, flush=True)
    elapsed = time.perf_counter() - start

    table = build_table(res, tools, args.reps, elapsed)
    outdir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, "real_libraries.txt"), "w") as fh:
        fh.write(table)
    if args.json:
        keys = sorted({k for rs in res.values() for r in rs for k, v in r.items()
                       if isinstance(v, (int, float)) and not isinstance(v, bool)})
        medians = {t: {k: median(res[t], k) for k in keys if values(res[t], k)} for t in tools}
        print(json.dumps({"python": sys.version.split()[0], "reps": args.reps, "elapsed_s": elapsed,
                          "heapscope_commit": heapscope_commit(res) if "heapscope" in tools else None,
                          "medians": medians, "results": res}, indent=1))
    else:
        print(table, end="")


if __name__ == "__main__":
    main()
