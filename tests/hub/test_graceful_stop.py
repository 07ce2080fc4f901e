"""Clean stop mid-batch (issue 13, item 5): a hub served by ``crosshub serve`` (its own process, as
in production), large signed ingest batches pushed concurrently, SIGTERM while they are being
written (small write chunks, so each batch spans many transactions).

The rule, per request: either it was answered 200 — then every lead of it is in the graph exactly
once — or it was refused / its connection closed — then none of its leads is. Never part of a
batch. A SIGTERM makes the hub finish what it accepted (uvicorn's graceful shutdown, with a
timeout far above a batch), so every batch sent before the signal is answered.

SIGKILL is the other case: nothing is finished, so the chunks already committed stay; the test
then shows how the connector's retry (its outbox sends the same batch again) makes it whole —
the write is idempotent on each lead's source key.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
from tests.connectors.conftest import free_port, hub_env, wait_healthy
from tests.factories import lead

ROOT = Path(__file__).resolve().parents[2]
BATCH = 1200        # leads per request
CHUNK = 50          # leads per write transaction: a batch is 24 transactions
BATCHES = 4         # concurrent requests in flight when the signal comes
GRACE_S = 300       # --graceful-timeout: far above what the batches need, even on a loaded CI


class ServedHub:
    """``crosshub serve --workers N`` in a subprocess, on the session's Neo4j."""

    def __init__(self, settings: Settings, data_dir: Path, workers: int = 1) -> None:
        self.settings, self.data_dir, self.workers = settings, data_dir, workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = data_dir / "hub.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def env(self) -> dict[str, str]:
        return hub_env(self.settings, self.data_dir, CROSSHUB_MAX_BATCH_SIZE=str(BATCH),
                       CROSSHUB_WRITE_CHUNK_SIZE=str(CHUNK), CROSSHUB_HUB_JOBS_ENABLED="false")

    def crosshub(self, *args: str) -> list[str]:
        return [sys.executable, "-c", "from hub.cli import app; app()", *args]

    def start(self, timeout_s: float = 180.0) -> ServedHub:
        env = self.env()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                self.crosshub("serve", "--workers", str(self.workers),
                              "--host", "127.0.0.1", "--port", str(self.port),
                              "--graceful-timeout", str(GRACE_S), "--log-level", "info",
                              "--no-access-log"),
                env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        if not wait_healthy(self.url, self.proc, timeout_s):
            self.kill()
            raise RuntimeError(f"the hub did not start:\n{self.log()[-4000:]}")
        return self

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, sig)

    def wait(self, timeout_s: float) -> int:
        assert self.proc is not None
        code = self.proc.wait(timeout_s)
        self.proc = None
        return code

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(30)
        self.proc = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@dataclass
class Connector:
    token: str
    key_path: Path

    def post(self, url: str, body: bytes) -> httpx.Response:
        headers = sign_request(load_private_key(self.key_path), "POST", "/api/v1/leads", body)
        return httpx.post(f"{url}/api/v1/leads", content=body, timeout=GRACE_S + 60, headers={
            **headers, "Authorization": f"Bearer {self.token}", "Content-Type": "application/json"})


@dataclass
class Outcome:
    refs: list[str]
    status: int | None = None            # None: no answer (refused, connection closed)
    error: str | None = None
    acked: dict[str, str] = field(default_factory=dict)  # source_ref -> lead_id


def make_batch(tag: str, n: int) -> list[dict[str, Any]]:
    # One address per lead: the batches do not all meet on one Location (the test is about
    # stopping, not about lock contention).
    return [lead(source_ref=f"STOP-{tag}-{i:05d}",
                 location={"insee_code": "25056", "commune": "Besançon",
                           "address": f"{i} rue de l'Essai {tag}"})
            for i in range(n)]


def push(connector: Connector, url: str, leads: list[dict[str, Any]], out: Outcome) -> None:
    body = json.dumps({"leads": leads}).encode()
    try:
        answer = connector.post(url, body)
    except httpx.HTTPError as exc:  # refused, reset, closed without an answer
        out.error = type(exc).__name__
        return
    out.status = answer.status_code
    if answer.status_code == 200:
        out.acked = {r["source_ref"]: r["lead_id"] for r in answer.json()["results"]}


def counts(graph: Graph, refs: list[str]) -> dict[str, int]:
    """source_ref -> number of Lead nodes holding it (the oracle: 1 when written, else absent)."""
    rows = graph.query("UNWIND $keys AS key MATCH (l:Lead {source_key: key}) "
                       "RETURN l.source_ref AS ref, count(*) AS n",
                       keys=[f"police|{r}" for r in refs], read_=True)
    return {r["ref"]: r["n"] for r in rows}


@pytest.fixture
def hub(settings: Settings, tmp_path: Path) -> Iterator[ServedHub]:
    served = ServedHub(settings, tmp_path / "hub-data")
    try:
        yield served
    finally:
        served.kill()


@pytest.fixture
def connector(driver, settings: Settings, tmp_path: Path) -> Connector:
    g = Graph(driver, settings.neo4j_database)
    name = f"police-stop-{uuid.uuid4().hex[:6]}"
    user = identity.upsert_user(g, agency="police", role="connector", name=name)
    pem = generate_keypair(tmp_path / "connector.pem")
    identity.register_connector_key(g, identity.ConnectorKey(
        key_id=key_id_of(load_public_key_pem(pem)), connector=name, agency="police",
        public_key_pem=pem))
    return Connector(identity.issue_token(g, user.user_id).token, tmp_path / "connector.pem")


def wait_until_written(graph: Graph, refs: list[str], timeout_s: float = 240.0) -> int:
    """Block until some (not all) of ``refs`` are in the graph: the hub is mid-write."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        n = sum(counts(graph, refs).values())
        if 0 < n < len(refs):
            return n
        if n == len(refs):
            pytest.fail("the batches were all written before the signal: make them larger",
                        pytrace=False)
        time.sleep(0.02)
    pytest.fail("nothing was written in time", pytrace=False)


def wait_until_not_listening(port: int, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except OSError:
            return
        time.sleep(0.05)
    pytest.fail("the hub still listens after SIGTERM", pytrace=False)


def test_sigterm_mid_batch_answers_every_accepted_request_and_never_half_writes(
        hub: ServedHub, connector: Connector, driver, settings: Settings) -> None:
    graph = Graph(driver, settings.neo4j_database)
    hub.start()
    run = uuid.uuid4().hex[:6]
    batches = [make_batch(f"{run}-{b}", BATCH) for b in range(BATCHES)]
    outcomes = [Outcome([x["source_ref"] for x in batch]) for batch in batches]
    threads = [threading.Thread(target=push, args=(connector, hub.url, batch, out))
               for batch, out in zip(batches, outcomes, strict=True)]
    for t in threads:
        t.start()
    wait_until_written(graph, [r for o in outcomes for r in o.refs])
    hub.signal(signal.SIGTERM)
    # Once the hub has stopped listening (it has, while it still finishes the batches), a
    # batch sent is refused, and nothing of it is written.
    wait_until_not_listening(hub.port)
    late_batch = make_batch(f"{run}-late", 50)
    late = Outcome([x["source_ref"] for x in late_batch])
    push(connector, hub.url, late_batch, late)
    for t in threads:
        t.join(GRACE_S + 120)
    # A clean stop: uvicorn re-raises the signal it handled once everything is closed, so the
    # process ends "by SIGTERM" — after "Application shutdown complete".
    assert hub.wait(GRACE_S + 60) in (0, -signal.SIGTERM), hub.log()[-4000:]
    assert "Application shutdown complete" in hub.log()

    for out in outcomes:
        # Accepted before the signal: each one answered, none cut.
        assert out.status == 200, (out.status, out.error, hub.log()[-3000:])
    for out in [*outcomes, late]:
        found = counts(graph, out.refs)
        if out.status == 200:
            assert sorted(out.acked) == sorted(out.refs)
            assert found == dict.fromkeys(out.refs, 1), "an acknowledged lead missing or doubled"
        else:
            assert out.error is not None or out.status is not None
            assert found == {}, f"a refused batch left {len(found)} of its {len(out.refs)} leads"
    assert late.status is None, "a request sent after SIGTERM was accepted"
    assert "timeout graceful shutdown exceeded" not in hub.log()


def test_sigkill_mid_batch_may_leave_part_of_a_batch_which_the_connector_retry_makes_whole(
        hub: ServedHub, connector: Connector, driver, settings: Settings) -> None:
    graph = Graph(driver, settings.neo4j_database)
    hub.start()
    batch = make_batch(f"{uuid.uuid4().hex[:6]}-kill", BATCH)
    first = Outcome([x["source_ref"] for x in batch])
    thread = threading.Thread(target=push, args=(connector, hub.url, batch, first))
    thread.start()
    wait_until_written(graph, first.refs)
    hub.signal(signal.SIGKILL)  # a power cut: no graceful anything
    thread.join(120)
    hub.wait(30)
    assert first.status is None and first.error is not None  # never acknowledged
    left = counts(graph, first.refs)
    # Whole chunks only (each is one transaction), and fewer than the batch: the part SIGKILL
    # can leave, which is why the connector keeps the batch in its outbox until acknowledged.
    assert all(n == 1 for n in left.values())
    assert 0 < len(left) < len(first.refs)
    assert len(left) % CHUNK == 0

    hub.start()  # same data dir, as after a restart; the outbox sends the same batch again
    retry = Outcome(first.refs)
    push(connector, hub.url, batch, retry)
    assert retry.status == 200, retry.error
    assert counts(graph, first.refs) == dict.fromkeys(first.refs, 1)
    kept = {r["source_ref"]: r["lead_id"] for r in graph.query(
        "UNWIND $keys AS key MATCH (l:Lead {source_key: key}) RETURN l.source_ref AS source_ref, "
        "l.lead_id AS lead_id", keys=[f"police|{r}" for r in left], read_=True)}
    # The leads the killed request had written keep their public ids: the retry merged them.
    assert {r: retry.acked[r] for r in left} == kept


def test_serve_runs_n_workers_one_audit_segment_each_and_stops_cleanly(
        settings: Settings, tmp_path: Path, connector: Connector, driver) -> None:
    from hub.audit.layout import WriterKind, list_segments

    hub = ServedHub(settings, tmp_path / "hub-data", workers=2)
    try:
        hub.start()
        audit_dir = hub.data_dir / "audit"
        deadline = time.monotonic() + 120
        while len(hubs := [x for x in list_segments(audit_dir) if f"-{WriterKind.HUB.value}-" in x.name]) < 2:
            assert time.monotonic() < deadline, f"one worker only: {hubs}\n{hub.log()[-3000:]}"
            time.sleep(0.2)
        # Two live processes behind one port, each with its own segment (its pid in the name).
        assert len({x.name.split("-")[-2] for x in hubs}) == 2
        batches = [make_batch(f"{uuid.uuid4().hex[:6]}-w{i}", 100) for i in range(4)]
        outs = [Outcome([x["source_ref"] for x in batch]) for batch in batches]
        threads = [threading.Thread(target=push, args=(connector, hub.url, b, o))
                   for b, o in zip(batches, outs, strict=True)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(300)
        graph = Graph(driver, settings.neo4j_database)
        for out in outs:
            assert out.status == 200, out.error
            assert counts(graph, out.refs) == dict.fromkeys(out.refs, 1)
        hub.signal(signal.SIGTERM)
        assert hub.wait(GRACE_S + 60) in (0, -signal.SIGTERM), hub.log()[-4000:]
        assert hub.log().count("Application shutdown complete") == 2  # each worker closed
        # Every segment sealed and the whole trail verifies (the ingests were logged in both).
        verified = subprocess.run(hub.crosshub("audit", "verify"), env=hub.env(), cwd=ROOT,
                                  capture_output=True, text=True, timeout=120)
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert all((segment.path / "closed").exists() for segment in hubs)
    finally:
        hub.kill()
