"""Fault tests against the REAL hub and graph: the hub SIGKILLed in the middle of a sync and
restarted, the connector's process SIGKILLed mid-run and restarted, the gendarmerie feed
answering 500s, too slowly, or garbage. Whatever happens, once the faults are gone the graph holds
exactly the expected leads: none lost, none twice, each at its latest version."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from neo4j import Driver

from connectors.base import Fault, RunRecord, RunStatus
from connectors.demo.gendarmerie_feed import RecordStore, StandIn, serve_in_thread
from connectors.demo.sources.gendarmerie import write_samples as write_gendarmerie
from connectors.demo.sources.police import write_samples as write_police
from connectors.state import StateStore
from hub.audit import verify
from hub.audit.layout import list_segments
from hub.settings import Settings
from tests.connectors.conftest import LINKAGE_KEY, ROOT, HubProcess, World

N_POLICE = 160  # rows: ~16 batches of 10, so a kill lands with most of the sync still to come
DRAIN_BATCH = 200  # the runs after the fault push in few requests: the test is about the outcome


def wait_for(condition: Callable[[], bool], what: str, timeout_s: float = 60.0,
             alive: Callable[[], bool] = lambda: True) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if not alive():
            pytest.fail(f"finished before {what}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.005)


def assert_exact(world: World, prefix: str, expected: dict[str, int]) -> None:
    """Exactly these lead ids, one node each, at these versions."""
    counts = world.lead_counts(prefix)
    missing, extra = sorted(set(expected) - set(counts)), sorted(set(counts) - set(expected))
    assert not missing and not extra, f"missing {missing}, unexpected {extra}"
    assert set(counts.values()) == {1}, "a lead is held twice"
    versions = {r["id"]: r["v"] for r in world.query(
        "MATCH (l:Lead) WITH l, l.agency + ':' + l.source_ref AS id WHERE id STARTS WITH $p "
        "RETURN id, l.version AS v", p=prefix)}
    assert versions == expected


def police_expected(truth: dict[str, Any]) -> dict[str, int]:
    return {f"police:{ref}": lead["version"] for ref, lead in truth["leads"].items()}


# --- the hub dies mid-sync --------------------------------------------------------------------------


def test_hub_killed_mid_sync_and_restarted(clean_graph: Driver, settings: Settings, tmp_path: Path,
                                           private_hub: HubProcess) -> None:
    world = World(clean_graph, settings, tmp_path, private_hub.start())
    creds = world.register("police", "police")
    connector = world.police(creds, batch_size=10)
    truth = write_police(connector.settings.inbox_dir, seed=21, n=N_POLICE)
    expected = police_expected(truth)

    runs: list[RunRecord] = []
    worker = threading.Thread(target=lambda: runs.append(connector.run()))
    worker.start()
    # Kill once the hub has durably taken a couple of batches.
    wait_for(lambda: len(world.lead_counts("police:")) >= 10, "the first batches",
             alive=worker.is_alive)
    private_hub.kill()
    at_kill = len(world.lead_counts("police:"))
    worker.join(120)
    assert not worker.is_alive()

    interrupted = runs[0]
    assert at_kill < len(expected), "the kill did not land mid-sync"
    assert interrupted.status == RunStatus.PARTIAL and interrupted.fault == Fault.HUB, interrupted
    assert "hub indisponible" in (interrupted.last_error or "")
    # The source was still read to the end: everything waits in the durable outbox.
    assert interrupted.count_in == interrupted.count_out + interrupted.count_quarantined
    assert interrupted.outbox_pending > 0
    assert interrupted.outbox_pending + interrupted.count_pushed == interrupted.count_out
    assert not list(connector.settings.inbox_dir.glob("*.csv"))
    assert len(world.lead_counts("police:")) < len(expected)

    private_hub.start()  # same port, same data dir (audit trail), same graph
    resumed = world.police(creds, batch_size=DRAIN_BATCH).run()
    assert resumed.status == RunStatus.OK and resumed.fault is None, resumed
    assert resumed.count_in == 0 and resumed.outbox_pending == 0
    assert resumed.count_pushed == interrupted.outbox_pending
    assert_exact(world, "police:", expected)

    # Both runs reached the hub once it was back: the partial one, then the one that drained.
    shown = {r["run_id"]: r for r in world.connector_runs("police")}
    assert shown[interrupted.run_id]["status"] == "partial"
    assert shown[interrupted.run_id]["fault"] == "hub"
    assert shown[resumed.run_id]["status"] == "ok"

    # The hub's audit trail survived the kill intact, and every lead held was logged as collected
    # before it was written (Art. 25).
    audit_dir = private_hub.data_dir / "audit"
    report = verify(audit_dir, private_hub.data_dir / "keys")
    assert report.ok, report.summary_fr()
    # Every writer's segment (ADR 0012): the killed hub's, adopted by the restarted one, and its own.
    collected = {lead_id for seg in list_segments(audit_dir)
                 for line in seg.entries.read_text().splitlines()
                 for entry in [json.loads(line)] if entry["action"] == "collection"
                 for lead_id in entry["lead_ids"]}
    # Collection entries name the internal source keys (agency|source_ref, ADR 0007).
    assert {name.replace(":", "|", 1) for name in expected} <= collected


# --- the connector dies mid-run -------------------------------------------------------------------


def test_connector_killed_mid_run_and_restarted(world: World) -> None:
    creds = world.register("police", "police")
    connector = world.police(creds, batch_size=10)
    truth = write_police(connector.settings.inbox_dir, seed=22, n=N_POLICE)
    expected = police_expected(truth)

    s = connector.settings
    env = dict(os.environ, PYTHONPATH=str(ROOT)) | {f"CROSSHUB_POLICE_{k}": str(v) for k, v in {
        "HUB_URL": s.hub_url, "HUB_TOKEN": creds.token, "STATE_DIR": s.state_dir,
        "SIGNING_KEY_PATH": s.signing_key_path, "LINKAGE_KEY": LINKAGE_KEY,
        "INBOX_DIR": s.inbox_dir, "SETTLE_S": 0, "BATCH_SIZE": s.batch_size}.items()}
    child = subprocess.Popen(
        [sys.executable, "-c", ("from connectors.police.connector import PoliceConnector; "
                                "PoliceConnector.from_env().run()")],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for(lambda: len(world.lead_counts("police:")) >= 20, "the first batches",
                 alive=lambda: child.poll() is None)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(10)
        assert child.stderr is not None
        child.stderr.close()
    assert child.returncode == -signal.SIGKILL
    assert len(world.lead_counts("police:")) < len(expected), "the kill did not land mid-run"

    restarted = world.police(creds, batch_size=DRAIN_BATCH).run()
    assert restarted.status == RunStatus.OK and restarted.outbox_pending == 0, restarted
    assert_exact(world, "police:", expected)
    with StateStore(s.state_dir, "police") as store:
        assert store.outbox_count() == 0
        assert sorted(q.source_id for q in store.quarantine_list(1000)) == sorted(truth["quarantined"])

    # The killed run is reported as interrupted (failed, ours), then the restart's own run.
    runs = world.connector_runs("police")
    assert [r["status"] for r in runs[:2]] == ["ok", "failed"], runs
    assert runs[0]["run_id"] == restarted.run_id
    assert "interrompu" in runs[1]["last_error"] and runs[1]["fault"] == "ours"


# --- the source fails ------------------------------------------------------------------------------


def test_gendarmerie_feed_errors_then_recovers(world: World) -> None:
    creds = world.register("gendarmerie", "gendarmerie")
    store = RecordStore()
    truth = write_gendarmerie(store, seed=23, n=60)
    expected = {f"gendarmerie:{ref}": lead["version"] for ref, lead in truth["leads"].items()}
    stand_in = StandIn(store)
    faults = stand_in.faults
    seen: list[RunRecord] = []

    def run(**extra: Any) -> RunRecord:
        record = world.gendarmerie(creds, base_url, page_size=5, **extra).run()
        seen.append(record)
        return record

    def next_request(k: int) -> int:
        return len(stand_in.requests) + k

    with serve_in_thread(stand_in.app) as base_url:
        # 1. HTTP 500 on the third page, no retry left: the run fails, the source's fault, but
        #    what was read before is safe at the hub.
        faults.fail_requests = {next_request(3)}
        first = run()
        assert first.status == RunStatus.FAILED and first.fault == Fault.SOURCE, first
        assert "HTTP 500" in (first.last_error or "")
        assert first.outbox_pending == 0 and first.count_pushed == first.count_out > 0
        got = world.lead_counts("gendarmerie:")
        assert 0 < len(got) < len(expected) and set(got.values()) == {1}
        # Meanwhile the gendarmerie re-publishes a record the hub already has.
        updated = next(iter(got)).split(":", 1)[1]
        store.update(updated, resume="Mise à jour : véhicule identifié.")
        expected[f"gendarmerie:{updated}"] += 1
        faults.fail_requests = set()

        # 2. A page slower than the connector's read timeout.
        faults.slow_requests, faults.slow_s = {next_request(2)}, 1.5
        second = run(timeout_s=0.4)
        assert second.status == RunStatus.FAILED and second.fault == Fault.SOURCE, second
        assert "délai dépassé" in (second.last_error or "")
        faults.slow_requests = set()

        # 3. A page that is not JSON.
        faults.garbage_requests = {next_request(2)}
        third = run()
        assert third.status == RunStatus.FAILED and third.fault == Fault.SOURCE, third
        assert "JSON invalide" in (third.last_error or "")
        faults.garbage_requests = set()
        assert len(world.lead_counts("gendarmerie:")) < len(expected)

        # 4. Every other request fails, but retries within the run absorb it.
        faults.fail_every = 2
        last = run(retries=2)
        faults.fail_every = None
    assert last.status == RunStatus.OK and last.fault is None, last
    assert_exact(world, "gendarmerie:", expected)

    # Over all the runs: every record taken once, the malformed ones quarantined once.
    assert sum(r.count_out for r in seen) == len(expected) + 1  # + the re-published version
    assert sum(r.count_quarantined for r in seen) == len(truth["quarantined"])
    with StateStore(world.tmp / "state" / "gendarmerie", "gendarmerie") as state:
        assert state.quarantine_count() == len(truth["quarantined"])
    shown = world.connector_runs("gendarmerie")
    assert [r["run_id"] for r in shown[:4]] == [r.run_id for r in reversed(seen)]
    assert [(r["status"], r.get("fault")) for r in shown[:4]] == [
        ("ok", None), ("failed", "source"), ("failed", "source"), ("failed", "source")]
