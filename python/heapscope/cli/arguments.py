"""Argument types shared by the commands (argparse ``type=`` callables): a bad value is
a usage error with a message that says what was expected."""

from __future__ import annotations

import argparse
import re
import textwrap

_SIZE_UNITS = {"": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10, "m": 1 << 20, "mb": 1 << 20,
               "mib": 1 << 20, "g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30, "t": 1 << 40, "tb": 1 << 40,
               "tib": 1 << 40}


def positive_int(text: str) -> int:
    """An integer of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def share(text: str) -> float:
    """A fraction in (0, 1], or a percentage (``10%``)."""
    try:
        value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a fraction such as 0.1 or 10%, not {text!r}") from None
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"must be in (0, 1] (or 0-100%), not {text!r}")
    return value


def byte_size(text: str) -> int:
    """A size in bytes: ``1500000``, ``512M``, ``2GiB``, ``1.5G`` (powers of 1024)."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", text)
    unit = m.group(2).lower() if m else ""
    if m is None or unit not in _SIZE_UNITS:
        raise argparse.ArgumentTypeError(f"expected a size such as 500M or 2G, not {text!r}")
    value = int(float(m.group(1)) * _SIZE_UNITS[unit])
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be more than 0 bytes, not {text!r}")
    return value


def command(
    sub: argparse._SubParsersAction,  # type: ignore[type-arg]
    name: str,
    *,
    help: str,  # noqa: A002 -- argparse's own name for it
    description: str,
    examples: str,
) -> argparse.ArgumentParser:
    """A subcommand's parser: its line in ``heapscope --help``, its description and its
    examples (printed as written, after the options)."""
    return sub.add_parser(  # type: ignore[no-any-return]
        name,
        help=help,
        description=textwrap.fill(description, width=88),
        epilog=examples,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def snapshot_file(parser: argparse.ArgumentParser) -> None:
    """The FILE argument of the commands that read one snapshot."""
    parser.add_argument("file", metavar="FILE", help="a snapshot file (.hsnap)")
