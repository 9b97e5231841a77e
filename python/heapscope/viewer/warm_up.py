"""Work done ahead of the first clicks: while the server answers requests, a thread
makes each snapshot's census members, dominator tree, leak suspects and largest rows'
summaries (:meth:`SnapshotView.warm_up_steps`), so that the first click on them answers
as fast as later ones. Requests never wait for the warm-up as a whole, only for the step
that makes what they need (they take the same locks).

The thread is stopped between steps and joined when the server closes, so no native
computation is left running while the interpreter shuts down.
"""

from __future__ import annotations

import sys
import threading
import traceback

from .loaded_files import LoadedFile
from .snapshot_view import SnapshotView


class WarmUp:
    """The warm-up thread over the snapshots among ``files`` (profiles need none)."""

    def __init__(self, files: list[LoadedFile]) -> None:
        self._views = [f.view for f in files if isinstance(f.view, SnapshotView)]
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.done: list[str] = []  # the steps made, in order (tests, benchmarks)
        self.finished = threading.Event()

    def start(self) -> None:
        if self._thread is None and self._views:
            self._thread = threading.Thread(target=self._run, name="heapscope-viewer-warm-up", daemon=True)
            self._thread.start()
        elif not self._views:
            self.finished.set()

    def stop(self) -> None:
        """Stops after the step under way (a native step is not interrupted) and waits."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        try:
            for view in self._views:
                for step in view.warm_up_steps():
                    self.done.append(step)
                    if self._stop.is_set():
                        return
        except Exception:  # noqa: BLE001 - a request that needs it will report the failure
            print("heapscope view: preparing ahead of requests failed (requests still work):", file=sys.stderr)
            traceback.print_exc(file=sys.stderr)
        finally:
            self.finished.set()
