"""A program run in this process as ``python script.py`` or ``python -m module`` would
run it: ``sys.argv``, ``sys.path[0]``, a fresh ``__main__`` module, the exit status of
``sys.exit`` and of an uncaught exception (its traceback printed by ``sys.excepthook``).

Not :func:`runpy.run_path` / :func:`runpy.run_module`: those run the code in a module
they take out of ``sys.modules`` again when it ends, so a snapshot written at exit
would find the program's globals only through heapscope's own frames. Here the
program's ``__main__`` stays in ``sys.modules`` (as with ``python script.py``), for
``heapscope run --dump-on-exit``, and for the program's ``atexit`` functions.
"""

from __future__ import annotations

import importlib.util
import io
import os
import sys
import types
from dataclasses import dataclass, field
from importlib.machinery import ModuleSpec, SourceFileLoader

from .command_error import CommandError


@dataclass
class MainProgram:
    """What to run as ``__main__`` and with which ``sys.argv``; :meth:`execute` runs it."""

    argv: list[str]
    path0: str
    #: the script's file (``script``), or where the module's code comes from (``-m``)
    filename: str
    spec: ModuleSpec | None = None
    #: the code run, once :meth:`execute` compiled it (a traceback starts at its frame)
    code: types.CodeType | None = field(default=None, init=False)

    @classmethod
    def script(cls, path: str, args: list[str]) -> MainProgram:
        """``python path args...``: ``sys.path[0]`` is the script's directory."""
        if not os.path.exists(path):
            raise CommandError(f"{path}: no such file")
        if os.path.isdir(path):
            raise CommandError(f"{path}: is a directory: give the script (its __main__.py) or -m")
        filename = os.path.abspath(path)
        return cls([path, *args], os.path.dirname(os.path.realpath(path)), filename)

    @classmethod
    def module_named(cls, name: str, args: list[str]) -> MainProgram:
        """``python -m name args...``: ``sys.path[0]`` is the working directory; a package
        runs its ``__main__`` submodule."""
        path0 = os.getcwd()
        sys.path[0:1] = [path0]  # where python -m looks first, before looking
        spec = _find_spec(name)
        if spec.submodule_search_locations is not None:
            spec = _find_spec(f"{name}.__main__")
        if spec.loader is None or not hasattr(spec.loader, "get_code") or spec.origin is None:
            raise CommandError(f"{name}: cannot be run as a program (no code to load)")
        return cls([spec.origin, *args], path0, spec.origin, spec)

    def execute(self) -> None:
        """Compile and run the program as ``__main__``; what it raises propagates
        (``SystemExit`` included), as do syntax errors."""
        module = types.ModuleType("__main__")
        module.__file__ = self.filename
        if self.spec is not None:
            module.__spec__ = self.spec
            module.__loader__ = self.spec.loader
            module.__package__ = self.spec.parent
            module.__cached__ = self.spec.cached  # type: ignore[attr-defined]
            code = self.spec.loader.get_code(self.spec.name)  # type: ignore[union-attr]  # checked in module_named
        else:
            module.__loader__ = SourceFileLoader("__main__", self.filename)
            module.__cached__ = None  # type: ignore[attr-defined]
            with io.open_code(self.filename) as f:
                code = compile(f.read(), self.filename, "exec", dont_inherit=True)
        self.code = code
        sys.modules["__main__"] = module
        sys.argv = list(self.argv)
        sys.path[0:1] = [self.path0]
        exec(code, module.__dict__)

    def exit_status(self, error: BaseException) -> int:
        """The exit status for what :meth:`execute` raised, as python's: ``SystemExit``'s
        code (``None`` 0, a number, else printed and 1); an uncaught exception's traceback
        printed (without heapscope's frames) by ``sys.excepthook``, and 1 (130 for
        KeyboardInterrupt)."""
        if isinstance(error, SystemExit):
            if error.code is None:
                return 0
            if isinstance(error.code, int):
                return error.code
            print(error.code, file=sys.stderr)
            return 1
        tb = error.__traceback__
        while tb is not None and tb.tb_frame.f_code is not self.code:
            tb = tb.tb_next
        error.__traceback__ = tb  # the printed traceback starts at the program's frame
        try:
            sys.excepthook(type(error), error, tb)
        except Exception:
            import traceback

            print("Error in sys.excepthook:", file=sys.stderr)
            traceback.print_exception(type(error), error, tb)
        return 130 if isinstance(error, KeyboardInterrupt) else 1


def _find_spec(name: str) -> ModuleSpec:
    try:
        spec = importlib.util.find_spec(name)
    except Exception as e:  # a parent package that is missing or fails to import
        raise CommandError(f"cannot find module {name}: {type(e).__name__}: {e}") from None
    if spec is None:
        raise CommandError(f"no module named {name}")
    return spec
