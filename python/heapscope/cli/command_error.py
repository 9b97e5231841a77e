"""The one error a command raises for bad usage or input: printed as one line, exit 2."""

from __future__ import annotations


class CommandError(Exception):
    """A usage or input error the command line reports in one line (exit code 2)."""

    exit_code = 2
