"""``heapscope demo``: a small service with a leak, found with a reference point.

The example handles "requests"; each one builds a context object and, by mistake,
also appends it to a module-level audit log that is never trimmed. heapscope takes a
reference point after a warm-up request, runs more requests, and prints the census of
what survived (exactly the leaked contexts and what they hold), which older object holds
them, the shortest reference path from the roots to that holder, and its retained size.
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
    for i in range(1, requests + 1):
        handle_request(i)
    started = time.perf_counter()
    survivors = h.heap()
    took = time.perf_counter() - started
    print(f"heapscope demo: handled {requests} requests, then took a census of what survived them.\n")
    print(survivors)
    print()
    in_step = [row for row in survivors.rows if row.count >= requests and row.count % requests == 0]
    print(f"Kinds that grew in step with the {requests} requests (the leak's signature):")
    for row in in_step:
        print(f"  {row.count // requests} x {row.name} per request ({row.size // row.count} bytes each)")
    # Why they survive: which objects from before the reference point hold them, how
    # those are reached from the roots, and what freeing them would give back.
    print("\nWhy they are alive (referrers that existed before the reference point):")
    explained: list[object] = []
    for i, row in enumerate(survivors.rows):
        if row.count < requests or row.count % requests:
            continue
        holders = survivors[i].referrers - survivors
        if not holders.count:
            continue
        print(f"  {row.name}: held by {holders.brief}")
        if any(holders == seen for seen in explained):
            continue
        explained.append(holders)
        paths = holders.sp
        if paths.numpaths:
            print(f"    kept alive by: {paths[0]}")
        print(f"    retained size: {holders.domisize} bytes in {holders.dominos.count} objects (freed with it)")
    print(
        f"\nIn all {survivors.count} objects ({survivors.size} bytes) survived: about "
        f"{survivors.size // requests} bytes per request. [census took {took:.2f} s]"
    )
    return 0
