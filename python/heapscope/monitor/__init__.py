"""The remote monitor: an agent thread in a Python process that a ``heapscope`` console
in another process talks to over a Unix domain socket (docs/monitor.md).

In progress (issue 14).
"""
