"""The ``heapscope`` command: run programs under heapscope, and answer from snapshot
files in a terminal or a script.

Shaped like ripgrep's and memray's: one subcommand per job, each in its own module that
registers its arguments (``register``) and does the work (``execute``). Exit codes: 0
done, 1 the command checked something and found problems (``suspects`` found suspects,
``diff`` found a leak signature), 2 a usage or input error, reported in one line on
stderr, never as a traceback. Long loads, dumps and exports draw progress on stderr,
only when it is a terminal. ``--json`` gives scripts the same answers as data.
"""

from .main import main, run

__all__ = ["main", "run"]
