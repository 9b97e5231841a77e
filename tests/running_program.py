"""A program run as a subprocess for the monitor's tests: its stdin to give it commands,
its stdout lines collected on a thread, its first line checked to start with ``ready``."""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path


class RunningProgram:
    """``python script`` with pipes; ``ready``: the words of its first line."""

    def __init__(self, python: str, script: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            [python, str(script), *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, env=env,
        )
        self.lines: list[str] = []
        self.ready = self.proc.stdout.readline().split()  # type: ignore[union-attr]
        if not self.ready or self.ready[0] != "ready":
            self.close()
            raise AssertionError(f"the program did not start: {self.ready}")
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:  # type: ignore[union-attr]
            self.lines.append(line.rstrip("\n"))

    @property
    def pid(self) -> int:
        return self.proc.pid

    def tell(self, command: str) -> None:
        self.proc.stdin.write(command + "\n")  # type: ignore[union-attr]
        self.proc.stdin.flush()  # type: ignore[union-attr]

    def answers(self, command: str, expected: str, timeout: float = 30) -> bool:
        """Tells ``command`` and waits for the line ``expected`` after it."""
        before = len(self.lines)
        self.tell(command)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if expected in self.lines[before:]:
                return True
            time.sleep(0.02)
        return False

    def finish(self, timeout: float = 60) -> int:
        """Tells it ``exit``; its exit status once its output is read."""
        self.tell("exit")
        code = self.proc.wait(timeout=timeout)
        self._reader.join(10)
        return code

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if hasattr(self, "_reader"):
            self._reader.join(10)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()
