"""Reference patterns: ``x.rp`` (``x.get_rp(depth=, er=, imdom=, bf=, src=, stopkind=,
nocyc=)``), Heapy's spanning tree of referrer groups.

Row ``_`` is x itself. Its referrers (or immediate dominators with ``imdom=True``) are
partitioned by ``er`` (default Clodo) into rows ``a``, ``b``, ...; each row's referrers
into ``aa``, ``ab``, ... (runs of a letter are shortened: ``a3`` for ``aaa``; as in
Heapy, the 27th class and later are the characters after ``z``: ``{``, ``|``, ...), depth
first (``bf=True``: breadth first) down to ``depth``. A row is marked::

    [-]   expanded below
    [+]   not expanded: the depth limit
    [S]   not expanded: a stop kind (modules, types, their dicts, code, frames)
    [^ n] the same set as row n, not repeated
    [R]   nothing refers to it: it is held by the roots

``rp.a`` / ``rp[3]`` give a row's set; printing pages ten rows at a time (the last row
rather than a ``more`` line, as Heapy pages). Referrers come from a capture with edges
taken when the pattern is made (in Rust); rows are generated lazily. ``rp.reset()``
forgets the rows and takes a new capture, so the pattern shows the heap as it is then.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any, Iterator

from . import kind_names
from .hidden import hidden_type
from .identity_set import IdentitySet
from .kinds import UniSet
from .tables import Page, page_end

if TYPE_CHECKING:
    from .session import Session

#: Heapy's names of the relations in the pattern's label (``Reference Pattern by <...>``).
BYNAMES = {
    "Clodo": "[dict of] class",
    "Type": "type",
    "Size": "individual size",
    "Module": "module",
    "Unity": "unity",
    "Id": "identity",
}

LINE_LENGTH = 80
PAGE_ROWS = 10
DEFAULT_DEPTH = 7


def row_name(indices: list[int]) -> str:
    """``[]`` -> ``_``, ``[0, 0, 0, 1]`` -> ``a3b`` (runs longer than two are counted;
    class i is the character ``chr(ord('a') + i)``, past ``z`` too, as in Heapy)."""
    if not indices:
        return "_"
    letters = "".join(chr(ord("a") + i) for i in indices)
    out: list[str] = []
    i = 0
    while i < len(letters):
        j = i + 1
        while j < len(letters) and letters[j] == letters[i]:
            j += 1
        out.append(f"{letters[i]}{j - i}" if j - i > 2 else letters[i:j])
        i = j
    return "".join(out)


def parse_row_name(name: str) -> list[int] | None:
    """The indices of a row name (``a3b`` -> ``[0, 0, 0, 1]``), or None if not one."""
    if name == "_":
        return []
    out: list[int] = []
    i = 0
    while i < len(name):
        c = name[i]
        if c < "a":
            return None
        j = i + 1
        while j < len(name) and name[j].isdigit():
            j += 1
        n = int(name[i + 1 : j]) if j > i + 1 else 1
        out += [ord(c) - ord("a")] * n
        i = j
    return out


@hidden_type
class PatternRow:
    """One row: a set of objects of one kind, its place in the tree and its marker."""

    __slots__ = ("index", "indices", "set", "kindname", "parent", "depth", "seen", "is_root", "stopped", "children")

    def __init__(
        self, indices: list[int], objects: IdentitySet, kindname: str, parent: PatternRow | None
    ) -> None:
        self.index = 0
        self.indices = indices
        self.set = objects
        self.kindname = kindname
        self.parent = parent
        self.depth = 0 if parent is None else parent.depth + 1
        self.seen: PatternRow | None = None
        self.is_root = False
        self.stopped = False
        self.children: list[PatternRow] = []

    @property
    def name(self) -> str:
        return row_name(self.indices)

    def marker(self, maxdepth: int) -> str:
        if self.seen is not None:
            return f"[^ {self.seen.index}]"
        if self.is_root:
            return "[R]"
        if self.stopped:
            return "[S]"
        return "[-]" if self.depth < maxdepth else "[+]"

    def render(self, maxdepth: int) -> str:
        prestr = "%2d: %s " % (self.index, self.name)
        fillpat = " " * 100 if self.index & 1 else "-" * 100
        prefix = f"{prestr}{fillpat[len(prestr) : 9 + self.depth]} {self.marker(maxdepth)} "
        return prefix + summary(self.set, self.kindname, LINE_LENGTH - len(prefix))


def summary(objects: IdentitySet, kindname: str, max_length: int) -> str:
    """``count kind: member, member...`` cut to ``max_length`` (Heapy's refpat summary)."""
    head = f"{objects.count} {kindname}: "
    s = head + kind_names.join_within(_rendered_members(objects, kindname), max_length - len(head))
    if len(s) > max_length:
        s = s[: max_length - 3] + "..."
    return s


def _rendered_members(objects: IdentitySet, kindname: str) -> Iterator[str]:
    """Members as Heapy shows them in a pattern row: dicts of modules by module name."""
    if kindname == "dict of module":
        for module in objects.owners.nodes:
            yield kind_names.render(module)
        return
    for obj in objects.nodes:
        yield kind_names.render(obj)


@hidden_type
class ReferencePattern:
    """The reference pattern of a set (see the module doc)."""

    def __init__(
        self,
        session: Session,
        x: IdentitySet,
        depth: int | None = None,
        er: Any = None,
        imdom: bool = False,
        bf: bool = False,
        src: IdentitySet | None = None,
        stopkind: UniSet | None = None,
        nocyc: bool = False,
    ) -> None:
        self._session = session
        self.depth = DEFAULT_DEPTH if depth is None else depth
        self.er = er if er is not None else session.Clodo
        self.imdom = imdom
        self.bf = bf
        self.src = src
        self.stopkind = stopkind if stopkind is not None else default_stopkind(session)
        self.nocyc = nocyc
        self._target = x
        self._capture(fresh=False)
        self._forget()

    def _capture(self, fresh: bool) -> None:
        """Every row lives in one capture with edges: rows compare exactly ([^ n]) and
        the pattern stays consistent however late rows are generated. ``fresh``: a new
        capture even while the last heap()'s is shared (the heap has changed)."""
        session, src = self._session, self.src
        also = [src._nodes] if src is not None else []
        with session._edge_scope(session._capture_edges(self._target._nodes, *also) if fresh else None):
            nodes = session._in_edge_graph(self._target._nodes, *also)
        self._graph = nodes.graph
        self._x = IdentitySet(nodes, session)
        self._reach = self._graph.translate(src._nodes)[0].closure() if src is not None else None

    def reset(self) -> None:
        """Forget the rows generated so far and look at the heap again (Heapy's reset):
        the pattern is regenerated from a new capture, so referrers added or dropped since
        show, and paging starts over."""
        self._capture(fresh=True)
        self._forget()

    def _forget(self) -> None:
        self._rows: list[PatternRow] = []
        self._seen: dict[int, PatternRow] = {}
        self._gen = self._generate()
        self._done = False
        self._shown = 0

    # -- generation -------------------------------------------------------------------
    def _referrers(self, row: PatternRow) -> IdentitySet:
        nodes = row.set._nodes
        refs = nodes.imdom() if self.imdom else nodes.referrers()
        if self._reach is not None:
            refs = refs.intersection(self._reach)
        if self.nocyc:
            r: PatternRow | None = row
            while r is not None:
                refs = refs.difference(r.set._nodes)
                r = r.parent
        return IdentitySet(refs, self._session)

    def _make_children(self, row: PatternRow) -> list[PatternRow]:
        refs = self._referrers(row).by(self.er)
        out = []
        for i, part_row in enumerate(refs.rows):
            out.append(PatternRow(row.indices + [i], refs[i], part_row.name, row))
        return out

    def _visit(self, row: PatternRow) -> bool:
        """Settles a row's marker; true when it is to be expanded."""
        key = row.set._nodes.fingerprint()
        seen = self._seen.get(key)
        if seen is not None and seen.set == row.set:
            row.seen = seen
        else:
            self._seen[key] = row
        row.children = self._make_children(row) if row.seen is None else []
        row.is_root = row.seen is None and not row.children
        row.stopped = row.depth > 0 and row.seen is None and not row.is_root and row.set <= self.stopkind
        return row.seen is None and row.depth < self.depth and not row.stopped and bool(row.children)

    def _generate(self) -> Iterator[PatternRow]:
        top = PatternRow([], self._x, _kind_text(self._x), None)
        if self.bf:
            queue = deque([top])
            while queue:
                row = queue.popleft()
                expand = self._visit(row)
                yield row
                if expand:
                    queue.extend(row.children)
            return
        stack = [top]
        while stack:
            row = stack.pop()
            expand = self._visit(row)
            yield row
            if expand:
                stack.extend(reversed(row.children))

    def _row(self, index: int) -> PatternRow:
        while index >= len(self._rows) and not self._done:
            try:
                with self._session._edge_scope(self._graph):
                    row = next(self._gen)
            except StopIteration:
                self._done = True
                break
            row.index = len(self._rows)
            self._rows.append(row)
        if index < 0 or index >= len(self._rows):
            raise IndexError(f"reference pattern row {index} out of range")
        return self._rows[index]

    # -- access -------------------------------------------------------------------------
    def __getitem__(self, index: int) -> IdentitySet:
        if index < 0:
            self._row(1 << 62) if not self._done else None
            index += len(self._rows)
        return self._row(index).set

    def __len__(self) -> int:
        try:
            self._row(1 << 62)
        except IndexError:
            pass
        return len(self._rows)

    def __getattr__(self, name: str) -> IdentitySet:
        if name.startswith("__"):
            raise AttributeError(name)
        indices = parse_row_name(name)
        if indices is None:
            raise AttributeError(name)
        want = row_name(indices)
        i = 0
        while True:
            try:
                row = self._row(i)
            except IndexError:
                raise AttributeError(f"the reference pattern has no row named {name!r}") from None
            if row.name == want and row.indices == indices:
                return row.set
            i += 1

    def paths(self, name: str | int) -> Any:
        """The shortest paths from row ``name``'s objects to x (``rp.paths('ab')``)."""
        rowset = self[name] if isinstance(name, int) else getattr(self, name)
        return self._x.get_shpaths(src=rowset)

    # -- printing -----------------------------------------------------------------------
    def _label(self) -> str:
        names = [BYNAMES.get(f, f.lower()) for f in str(getattr(self.er, "name", "Clodo")).split("&")]
        byname = names[0] if len(names) == 1 else "<" + " & ".join(names) + ">"
        return f"Reference Pattern by <{byname}>."

    def _has_row(self, index: int) -> bool:
        try:
            self._row(index)
        except IndexError:
            return False
        return True

    def _end(self, start: int) -> int:
        """Where the page starting at row ``start`` ends (Heapy's paging)."""
        return page_end(start, PAGE_ROWS, self._has_row)

    def _page(self, start: int) -> str:
        stop = self._end(start)
        lines = []
        for i in range(start, stop):
            if not self._has_row(i):
                break
            with self._session._edge_scope(self._graph):
                lines.append(self._row(i).render(self.depth))
        if self._has_row(stop):
            left = f"{len(self._rows) - stop} more lines. " if self._done else ""
            lines.append(f"<{left}Type e.g. '_.more' for more.>")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self._label() + "\n" + self._page(0)

    __str__ = __repr__

    @property
    def more(self) -> Page:
        return Page(self._page, self._end(0), self._end)

    @property
    def all(self) -> str:
        rows = [self._row(i) for i in range(len(self))]
        with self._session._edge_scope(self._graph):
            return self._label() + "\n" + "\n".join(row.render(self.depth) for row in rows)


def _kind_text(x: IdentitySet) -> str:
    names = sorted(r.name for r in x.by("Clodo").rows)
    if not names:
        return "<Nothing>"
    return names[0] if len(names) == 1 else "(" + " | ".join(names) + ")"


def default_stopkind(session: Session) -> UniSet:
    """Heapy's stop kinds: modules, types, their dicts, code objects and frames."""
    import types

    t = session.Type
    return (
        t(types.ModuleType)
        | t(type).alt("<=")
        | session.Clodo(dictof=types.ModuleType)
        | session.Clodo(dictof=type).alt("<=")
        | t(types.CodeType)
        | t(types.FrameType)
    )
