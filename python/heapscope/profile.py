"""Memory profiles: a census appended to a file every N seconds.

Each sample is a Heapy Stat record (the partition of ``heap()`` by kind, no object
references), so a profile file is what Heapy's profile browser reads, and
``heapscope.load_all(path)`` gives the samples back::

    with heapscope.profile("run.hpy", interval=1.0) as prof:
        run_the_workload()
    print(prof.samples, "samples written")

Samples are taken from a background thread (heapscope's own frames and objects are
never part of them). A sample is taken at the start and one at the end, so even a short
block yields two.
"""

from __future__ import annotations

import os
import threading
from types import TracebackType

from .errors import HeapscopeError
from .hidden import hidden_type


@hidden_type
class profile:  # noqa: N801 - used as a function-like context manager
    """Append a census (``heap().stat``) to ``path`` every ``interval`` seconds."""

    def __init__(self, path: str | os.PathLike[str], interval: float = 1.0, *, er: str = "Clodo") -> None:
        if interval <= 0:
            raise ValueError("interval must be positive")
        self.path = os.fspath(path)
        self.interval = interval
        self.er = er
        self.samples = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def _sample(self) -> None:
        from .session import hpy

        x = hpy().heap()
        x.by(self.er).stat.dump(self.path)
        self.samples += 1

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                self._sample()
        except BaseException as e:  # reported on exit from the with block
            self._error = e

    def __enter__(self) -> profile:
        self._sample()
        self._thread = threading.Thread(target=self._run, name="heapscope-profile", daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self._error is not None:
            raise HeapscopeError(f"memory profile sampling failed: {self._error!r}") from self._error
        self._sample()
