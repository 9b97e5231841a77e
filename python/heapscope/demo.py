"""``heapscope demo``: a small service with a leak, found with a reference point.

The example handles "requests"; each one builds a context object and, by mistake,
also appends it to a module-level audit log that is never trimmed. heapscope takes a
reference point after a warm-up request, runs more requests, and prints the census of
what survived: exactly the leaked contexts and what they hold.
"""

from __future__ import annotations

import time

from .session import hpy

AUDIT_LOG: list[RequestContext] = []  # the leak: grows by one context per request


class RequestContext:
    """Per-request state that should die with the request."""

    def __init__(self, request_id: int, path: str) -> None:
        self.request_id = request_id
        self.path = path
        self.headers = {"x-request-id": str(request_id), "accept": "application/json"}
        self.body = bytes(200)


def handle_request(request_id: int) -> int:
    ctx = RequestContext(request_id, f"/items/{request_id}")
    AUDIT_LOG.append(ctx)  # meant to log the id only
    return len(ctx.body)


def main(requests: int = 1000) -> int:
    h = hpy()
    handle_request(0)  # warm-up: imports, caches, the first list growth
    h.setref()
    started = time.perf_counter()
    for i in range(1, requests + 1):
        handle_request(i)
    survivors = h.heap()
    took = time.perf_counter() - started
    print(f"heapscope demo: handled {requests} requests, then took a census of what survived them.\n")
    print(survivors)
    print()
    top = survivors[0]
    print(f"Largest surviving kind, one row per object (first rows):\n{top.byid}\n")
    contexts = survivors.bytype
    print(
        f"{requests} requests left {survivors.count} objects ({survivors.size} bytes) alive: "
        f"about {survivors.count // requests} objects and {survivors.size // requests} bytes per request."
    )
    print(f"They are held by heapscope.demo.AUDIT_LOG ({len(AUDIT_LOG)} entries). [{took:.2f} s]")
    del contexts
    return 0
