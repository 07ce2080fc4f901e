"""A stand-in for the gendarmerie feed: the API that ``connectors/gendarmerie/source.py`` reads,
served over an in-memory record store, with fault injection, for tests, benchmarks and demos. Not
for production.

    python -m connectors.demo.gendarmerie_feed --port 8765 --seed 1 -n 200 [--fail-every 7]
        [--slow-s 3 --slow-every 5] [--token secret]

In-process (tests)::

    store = RecordStore(); write_samples(store, seed=1, n=50)   # connectors.demo.sources.gendarmerie
    stand_in = StandIn(store)
    with serve_in_thread(stand_in.app) as base_url: ...
    stand_in.faults.fail_requests = {3}        # the 3rd request answers 500

The server sorts by the store's own ``(updated_at, id)`` key, kept apart from the served JSON, so a
record can be served with a malformed ``updated_at`` and still sit at its place in the feed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from connectors.demo.sources.gendarmerie import write_samples
from connectors.gendarmerie.source import FEED_PATH

MAX_PAGE_SIZE = 1000


class RecordStore:
    """The records the gendarmerie system holds, thread-safe."""

    def __init__(self) -> None:
        self._rows: dict[str, tuple[datetime, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def put(self, record: dict[str, Any], *, key_time: datetime | None = None,
            record_id: str | None = None) -> None:
        """Insert or replace by ``id``. ``key_time`` and ``record_id`` place a record whose served
        ``updated_at`` or ``id`` is deliberately malformed or missing."""
        at = key_time or datetime.fromisoformat(record["updated_at"])
        with self._lock:
            self._rows[record_id or record["id"]] = (at.astimezone(UTC), copy.deepcopy(record))

    def update(self, record_id: str, *, at: datetime | None = None, **changes: Any) -> dict[str, Any]:
        """Re-publish a record: ``changes`` applied, version + 1, ``updated_at`` = ``at`` or now."""
        at = (at or datetime.now(UTC)).astimezone(UTC)
        with self._lock:
            _, record = self._rows[record_id]
            record = copy.deepcopy(record) | changes
            record["version"] = int(record.get("version", 1)) + 1
            record["updated_at"] = at.isoformat(timespec="microseconds")
            self._rows[record_id] = (at, record)
            return copy.deepcopy(record)

    def get(self, record_id: str) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._rows[record_id][1])

    def __len__(self) -> int:
        return len(self._rows)

    def ids(self) -> list[str]:
        """Record ids in feed order ``(updated_at, id)``."""
        with self._lock:
            return [rid for rid, _ in sorted(self._rows.items(), key=lambda kv: (kv[1][0], kv[0]))]

    def page(self, since: datetime | None, page: int, size: int) -> tuple[list[dict[str, Any]], int | None]:
        with self._lock:
            rows = sorted(((at, rid, rec) for rid, (at, rec) in self._rows.items()
                           if since is None or at >= since), key=lambda t: (t[0], t[1]))
            chunk = rows[(page - 1) * size: page * size]
            items = [copy.deepcopy(rec) for _, _, rec in chunk]
        return items, page + 1 if page * size < len(rows) else None


@dataclass
class Faults:
    """What to break, by 1-based request number (every request to the feed counts)."""

    fail_requests: set[int] = field(default_factory=set)  # answered ``fail_status``
    fail_every: int | None = None  # every n-th request fails
    fail_status: int = 500
    slow_requests: set[int] = field(default_factory=set)  # answered after ``slow_s``
    slow_every: int | None = None
    slow_s: float = 0.0
    garbage_requests: set[int] = field(default_factory=set)  # 200 with a body that is not JSON


class StandIn:
    """The app, its store and faults, and a log of the requests it served."""

    def __init__(self, store: RecordStore, faults: Faults | None = None, token: str | None = None) -> None:
        self.store = store
        self.faults = faults or Faults()
        self.token = token
        self.requests: list[dict[str, str]] = []  # query params of every feed request
        self._count_lock = threading.Lock()
        self.app = Starlette(routes=[Route(FEED_PATH, self._feed), Route("/health", self._health)])

    async def _health(self, request: Request) -> Response:
        return JSONResponse({"status": "ok", "records": len(self.store)})

    async def _feed(self, request: Request) -> Response:
        with self._count_lock:
            self.requests.append(dict(request.query_params))
            n = len(self.requests)
        f = self.faults
        if n in f.slow_requests or (f.slow_every and n % f.slow_every == 0):
            await asyncio.sleep(f.slow_s)
        if self.token and request.headers.get("authorization") != f"Bearer {self.token}":
            return JSONResponse({"detail": "jeton absent ou invalide"}, status_code=401)
        if n in f.fail_requests or (f.fail_every and n % f.fail_every == 0):
            return JSONResponse({"detail": "erreur interne simulée"}, status_code=f.fail_status)
        if n in f.garbage_requests:
            return Response('{"items": [{"id": "tronqu', media_type="application/json")
        q = request.query_params
        try:
            since = datetime.fromisoformat(q["updated_since"]) if "updated_since" in q else None
            if since is not None and since.tzinfo is None:
                raise ValueError("updated_since sans fuseau")
            page, size = int(q.get("page", "1")), int(q.get("page_size", "100"))
            if page < 1 or not 1 <= size <= MAX_PAGE_SIZE:
                raise ValueError("page ≥ 1, 1 ≤ page_size ≤ 1000")
        except ValueError as exc:
            return JSONResponse({"detail": f"paramètre invalide : {exc}"}, status_code=400)
        items, next_page = self.store.page(since, page, size)
        return JSONResponse({"items": items, "next_page": next_page})


@contextlib.contextmanager
def serve_in_thread(app: Any, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a daemon thread on ``host`` (a free port by default); yield
    its base URL and stop it on exit."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("le serveur de substitution gendarmerie n'a pas démarré")
        time.sleep(0.01)
    try:
        yield f"http://{host}:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Flux gendarmerie de substitution (tests, démos)")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("-n", type=int, default=200, help="nombre de renseignements générés")
    ap.add_argument("--token", default=None, help="jeton exigé (Authorization: Bearer)")
    ap.add_argument("--fail-every", type=int, default=None, help="une requête sur n répond 500")
    ap.add_argument("--slow-every", type=int, default=None, help="une requête sur n est lente")
    ap.add_argument("--slow-s", type=float, default=0.0, help="durée d'une requête lente (s)")
    args = ap.parse_args(argv)
    store = RecordStore()
    write_samples(store, seed=args.seed, n=args.n)
    faults = Faults(fail_every=args.fail_every, slow_every=args.slow_every, slow_s=args.slow_s)
    uvicorn.run(StandIn(store, faults, args.token).app, host=args.host, port=args.port)


if __name__ == "__main__":
    main()
