"""A bounded load test against the hub in a process of its own (uvicorn, loopback only).

For about 20 seconds, several clients at once push signed ingest batches, read leads, networks and
searches, and a hostile client sends oversized and deeply nested bodies to the unauthenticated
sign-in endpoint and to ingest. What must hold, whatever the machine's speed:

- no answer is a 5xx (a refused body is a 4xx in the error shape, before any work);
- the hub's resident memory stays within its idle baseline + 200 MB (bodies past the limit are
  never buffered whole);
- every accepted lead is in the graph afterwards.

Latencies (p50/p95 per operation) are printed, never asserted: speed targets live in ``bench/``.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from graph import identity
from graph.handle import Graph
from hub.contract.signing import (
    generate_keypair,
    key_id_of,
    load_private_key,
    load_public_key_pem,
    sign_request,
)
from hub.settings import Settings
from tests.conftest import REPORT
from tests.factories import lead

LOAD_SECONDS = 20.0
MEMORY_HEADROOM = 200 * 1024 * 1024
READERS = 3
PUSHERS = 2


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS for the hub process")


@dataclass
class LiveHub:
    url: str
    process: subprocess.Popen
    log: Path
    analyst: str
    connector_token: str
    connector_key: Path


@pytest.fixture
def live_hub(clean_graph, settings: Settings, tmp_path: Path) -> Iterator[LiveHub]:
    db = settings.neo4j_database
    analyst = identity.upsert_user(Graph(clean_graph, db), agency="gendarmerie", role="analyst", name="load-analyst")
    connector = identity.upsert_user(Graph(clean_graph, db), agency="police", role="connector", name="load-police")
    key_path = tmp_path / "load-police.pem"
    pem = generate_keypair(key_path)
    identity.register_connector_key(Graph(clean_graph, db), identity.ConnectorKey(
        key_id=key_id_of(load_public_key_pem(pem)), connector="load-police", agency="police",
        public_key_pem=pem))
    port = _free_port()
    env = {
        **os.environ,
        "CROSSHUB_DATA_DIR": str(tmp_path / "hub-data"),
        "NEO4J_URI": settings.neo4j_uri or "",
        "NEO4J_USER": settings.neo4j_user,
        "NEO4J_PASSWORD": settings.neo4j_password.get_secret_value() if settings.neo4j_password else "",
        "CROSSHUB_HUB_JOBS_ENABLED": "false",
    }
    log = tmp_path / "hub.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "hub.asgi:create", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning"],
        env=env, stdout=subprocess.DEVNULL, stderr=log.open("wb"),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, log.read_text(errors="replace")[-3000:]
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the hub did not start within 90 s"
            time.sleep(0.3)
        yield LiveHub(
            url=url, process=process, log=log,
            analyst=identity.issue_token(Graph(clean_graph, db), analyst.user_id).token,
            connector_token=identity.issue_token(Graph(clean_graph, db), connector.user_id).token,
            connector_key=key_path,
        )
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, dict[int, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    server_errors: list[str] = field(default_factory=list)
    accepted: set[str] = field(default_factory=set)

    def record(self, op: str, started: float, response: httpx.Response) -> None:
        with self.lock:
            self.latencies[op].append(time.perf_counter() - started)
            self.statuses[op][response.status_code] += 1
            if response.status_code >= 500:
                self.server_errors.append(f"{op}: {response.status_code} {response.text[:300]}")


@contextlib.contextmanager
def _hub_log_on_failure(hub: LiveHub) -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        raise AssertionError(f"{exc!r}; hub log:\n{hub.log.read_text(errors='replace')[-3000:]}") from exc


def _nested(depth: int) -> bytes:
    return b'{"leads": ' + b"[" * depth + b"]" * depth + b"}"


def test_hub_under_load_answers_without_5xx_and_bounded_memory(live_hub: LiveHub, driver, settings,
                                                               record_property) -> None:
    hub = live_hub
    reader_headers = {"Authorization": f"Bearer {hub.analyst}"}
    key = load_private_key(hub.connector_key)
    tally = Tally()
    stop = threading.Event()
    plates = [f"AB-{n:03d}-CD" for n in range(100, 140)]

    def push_batch(client: httpx.Client, size: int) -> None:
        leads = [lead(handling_code="H1",
                      vehicles=[{"plate": plates[(i * 7) % len(plates)], "make": "Peugeot"}])
                 for i in range(size)]
        body = json.dumps({"leads": leads}).encode()
        headers = {**sign_request(key, "POST", "/api/v1/leads", body),
                   "Authorization": f"Bearer {hub.connector_token}", "Content-Type": "application/json"}
        started = time.perf_counter()
        response = client.post("/api/v1/leads", content=body, headers=headers)
        tally.record("ingest", started, response)
        if response.status_code == 200:
            with tally.lock:
                tally.accepted.update(r["lead_id"] for r in response.json()["results"]
                                      if r["outcome"] == "created")

    def pusher() -> None:
        with httpx.Client(base_url=hub.url, timeout=60) as client:
            while not stop.is_set():
                push_batch(client, 25)

    def reader(n: int) -> None:
        with httpx.Client(base_url=hub.url, timeout=60, headers=reader_headers) as client:
            i = n
            while not stop.is_set():
                i += 1
                plate = plates[i % len(plates)]
                for op, path in (
                    ("network", f"/api/v1/entities/vehicle/{plate}/network?depth=2&justification=PV-2025-118"),
                    ("search", f"/api/v1/search?kind=plate&q={plate}&justification=PV-2025-118"),
                ):
                    started = time.perf_counter()
                    tally.record(op, started, client.get(path))
                if tally.accepted:
                    with tally.lock:
                        some = next(iter(tally.accepted))
                    started = time.perf_counter()
                    tally.record("lead", started,
                                 client.get(f"/api/v1/leads/{some}?justification=PV-2025-118"))

    def hostile() -> None:
        big = b'{"user_id": "' + b"x" * (20 * 1024 * 1024) + b'", "password": "y"}'
        with httpx.Client(base_url=hub.url, timeout=60) as client:
            while not stop.is_set():
                for op, path, body in (
                    ("oversized-login", "/api/v1/auth/login", big),
                    ("nested-login", "/api/v1/auth/login", _nested(1_000)),
                    ("nested-ingest", "/api/v1/leads", _nested(100_000)),
                ):
                    started = time.perf_counter()
                    try:
                        response = client.post(path, content=body,
                                               headers={"Content-Type": "application/json"})
                    except httpx.TransportError:
                        # The hub may close the connection once it has answered 413 to a body
                        # it will not read: that is a refusal, not a failure.
                        with tally.lock:
                            tally.statuses[op][0] += 1
                        continue
                    tally.record(op, started, response)
                    assert 400 <= response.status_code < 500, (op, response.status_code)
                stop.wait(0.1)  # hostile, not a flood: the hub's one worker serves the others too

    # Warm the hub up, then take its idle memory.
    with httpx.Client(base_url=hub.url, timeout=60) as client, _hub_log_on_failure(hub):
        push_batch(client, 25)
        client.get(f"/api/v1/entities/vehicle/{plates[0]}/network?justification=PV-2025-118",
                   headers=reader_headers)
    time.sleep(1.0)
    idle = _rss_bytes(hub.process.pid)
    peak = idle
    errors: list[BaseException] = []

    def guarded(target):
        def run(*args):
            try:
                target(*args)
            except BaseException as exc:  # noqa: BLE001 — reported below
                errors.append(exc)
                stop.set()
        return run

    threads = ([threading.Thread(target=guarded(pusher)) for _ in range(PUSHERS)]
               + [threading.Thread(target=guarded(reader), args=(n,)) for n in range(READERS)]
               + [threading.Thread(target=guarded(hostile))])
    for t in threads:
        t.start()
    deadline = time.monotonic() + LOAD_SECONDS
    while time.monotonic() < deadline and not stop.is_set():
        peak = max(peak, _rss_bytes(hub.process.pid))
        time.sleep(0.2)
    stop.set()
    for t in threads:
        t.join(60)
    peak = max(peak, _rss_bytes(hub.process.pid))

    lines = [f"load: {LOAD_SECONDS:.0f} s, {PUSHERS} pushers, {READERS} readers, 1 hostile client; "
             f"hub RSS idle {idle / 2**20:.0f} MiB, peak {peak / 2**20:.0f} MiB"]
    for op, values in sorted(tally.latencies.items()):
        ordered = sorted(values)
        p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
        lines.append(f"  {op:16s} n={len(values):5d}  p50={statistics.median(values) * 1000:7.1f} ms  "
                     f"p95={p95 * 1000:7.1f} ms  statuses={dict(tally.statuses[op])}")
    for line in lines:
        print(line)
        record_property(REPORT, line)

    assert not errors, (errors, hub.log.read_text(errors="replace")[-3000:])
    assert tally.server_errors == []
    assert peak <= idle + MEMORY_HEADROOM, f"hub memory {peak / 2**20:.0f} MiB > idle {idle / 2**20:.0f} + 200"
    # The load really happened: each kind of request was answered, and ingest accepted leads.
    for op in ("ingest", "network", "search", "lead", "oversized-login", "nested-ingest"):
        assert sum(tally.statuses[op].values()) > 0, f"no {op} request completed"
    assert tally.statuses["ingest"][200] > 0
    with driver.session(database=settings.neo4j_database) as session:
        stored = session.run("MATCH (l:Lead) WHERE l.lead_id IN $ids RETURN count(l) AS n",
                             ids=sorted(tally.accepted)).single()["n"]
    assert stored == len(tally.accepted)
