"""What the hub's operations cost per request and per log line (issue 17, ADR 0031), each
beside a baseline measured in the same run:

1. A JSON log line through ``hub.ops.logs.JsonFormatter`` (identifiers masked) beside the same
   record through a plain ``json.dumps`` formatter, for three kinds of line: the access line
   every request writes, a line quoting a plate and phones, a line with an ISO instant and a
   lead id (digits enough for the identifier detector to run).
2. A request through the metrics middleware (``RequestMetrics``: counted, timed, access line
   formatted) beside the same request to the same bare ASGI app, in-process (no network).

    .venv/bin/python bench/ops.py [--lines 5000] [--requests 5000]

No target is asserted: the figures say what masking and counting add.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import logging
import time

from hub.ops.logs import ACCESS_LOGGER, JsonFormatter
from hub.ops.metrics import HubMetrics, RequestMetrics

LINES = {
    "access": ("%s %s %d %.1f ms", ("GET", "/api/v1/entities/{kind}/{key}/network", 200, 12.3)),
    "plate+phones": ("échec sur %s / %s / rappel %s", ("AB-123-CD", "+33612345678", "06 12 34 56 78")),
    "instant+lead": ("piste %s triée à %s", ("L-910912a6-d593-47aa-9997-4ad5167e061e",
                                             "2026-12-07T10:00:00+00:00")),
}


class PlainJson(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return json.dumps({"time": record.created, "level": record.levelname.lower(),
                           "logger": record.name, "message": record.getMessage()})


def per_line(formatter: logging.Formatter, msg: str, args: tuple, n: int) -> float:
    record = logging.LogRecord("crosshub", logging.INFO, __file__, 1, msg, args, None)
    start = time.perf_counter()
    for _ in range(n):
        formatter.format(record)
    return (time.perf_counter() - start) / n


async def bare(scope, receive, send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


def per_request(app, n: int) -> float:
    scope = {"type": "http", "method": "GET", "path": "/api/v1/search", "headers": []}

    async def receive():
        return {"type": "http.request", "body": b""}

    async def send(message):
        return None

    async def run() -> float:
        start = time.perf_counter()
        for _ in range(n):
            await app(dict(scope), receive, send)
        return (time.perf_counter() - start) / n

    return asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=5000)
    args = parser.parse_args()
    print("1. une ligne de journal JSON (masquage) / la même en json.dumps simple")
    for name, (msg, largs) in LINES.items():
        masked = per_line(JsonFormatter(), msg, largs, args.lines)
        plain = per_line(PlainJson(), msg, largs, args.lines)
        print(f"   {name:<13} {masked * 1e6:8.1f} µs  vs {plain * 1e6:6.1f} µs  ({masked / plain:5.1f}x)")
    # The access line goes to a real handler (a memory stream), as in production.
    handler = logging.StreamHandler(io.StringIO())
    handler.setFormatter(JsonFormatter())
    access = logging.getLogger(ACCESS_LOGGER)
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    access.propagate = False
    counted = per_request(RequestMetrics(bare, HubMetrics()), args.requests)
    alone = per_request(bare, args.requests)
    print("2. une requête à travers le middleware des métriques / l'application nue")
    print(f"   {counted * 1e6:8.1f} µs  vs {alone * 1e6:6.1f} µs  (+{(counted - alone) * 1e6:.1f} µs par requête)")


if __name__ == "__main__":
    main()
