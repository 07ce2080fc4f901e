"""Two hub processes on one graph and one data directory (issue 13): identical, stateless, and
what one does the other knows.

Two real uvicorn processes (separate ports), the session's Neo4j, one ``CROSSHUB_DATA_DIR`` (keys
and audit trail shared, as on one host; several hosts share them the same way, README). The rules
tested, each from the issue's text:

- concurrent ingest through both: every acknowledged lead is in the graph exactly once, and a
  reader on the *other* hub sees it right after (its bookmarks carried by the client);
- a connector's signed request replayed on the other hub is refused (one nonce store);
- a session closed on one hub is refused on the other at once (sessions live in the graph);
- a notification made through A reaches a subscriber reading through B;
- leads pushed through both and linking two agencies are triaged once: one link alert;
- a scheduled job due once runs once: the retention purge due at the minute, with jobs on in
  both, erases the due lead once and logs the erasure once;
- SIGKILL one hub mid-batch: the other keeps serving, no acknowledged lead is lost; restarted,
  the killed hub's segment is adopted (torn tail recovered) and ``crosshub audit verify``
  passes over every segment; an entry altered in either hub's segment makes it fail, naming it;
- ``crosshub brief`` and ``crosshub audit verify`` succeed while both hubs serve.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from graph import identity
from graph import sessions as graph_sessions
from graph.handle import Graph
from graph.leads import write_leads
from hub.audit import AuditFilters, query, verify
from hub.audit.layout import list_segments
from policies.auth import passwords
from hub.contract.lead import Lead
from hub.contract.signing import generate_keypair, key_id_of, load_private_key, load_public_key_pem, sign_request
from tests.connectors.conftest import HubProcess, hub_env
from tests.factories import lead

ROOT = Path(__file__).resolve().parents[2]
JUSTIFICATION = "PV 2025/4412 — vérification croisée"
BOOKMARKS = "X-CrossHub-Bookmarks"


@dataclass
class Pusher:
    name: str
    token: str
    key_path: Path

    def request(self, body: bytes) -> dict[str, str]:
        return {**sign_request(load_private_key(self.key_path), "POST", "/api/v1/leads", body),
                "Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}

    def push(self, hub: HubProcess, leads: list[dict[str, Any]], timeout: float = 120) -> httpx.Response:
        body = json.dumps({"leads": leads}, default=str).encode()
        return httpx.post(f"{hub.url}/api/v1/leads", content=body, headers=self.request(body), timeout=timeout)


@pytest.fixture(scope="module")
def hubs(settings, driver, tmp_path_factory):
    """Hubs A and B: same graph, same data dir, jobs on in both (retention due every minute;
    briefs never, their own test covers them)."""
    data_dir = tmp_path_factory.mktemp("two-hubs")
    pair = [HubProcess(settings, data_dir), HubProcess(settings, data_dir)]
    for hub in pair:
        hub.extra_env = {"CROSSHUB_HUB_JOBS_ENABLED": "true", "CROSSHUB_RETENTION_CRON": "* * * * *",
                         "CROSSHUB_BRIEF_CRON": "0 6 1 1 *"}
    try:
        for hub in pair:
            hub.start()
        yield pair
    finally:
        for hub in pair:
            hub.stop()


def _pusher(graph: Graph, tmp: Path, agency: str) -> Pusher:
    name = f"{agency}-{uuid.uuid4().hex[:6]}"
    user = identity.upsert_user(graph, agency=agency, role="connector", name=name)
    key_path = tmp / f"{name}.pem"
    pem = generate_keypair(key_path)
    identity.register_connector_key(graph, identity.ConnectorKey(
        key_id=key_id_of(load_public_key_pem(pem)), connector=name, agency=agency, public_key_pem=pem))
    return Pusher(name, identity.issue_token(graph, user.user_id).token, key_path)


def _reader(graph: Graph, agency: str, role: str = "analyst") -> str:
    user = identity.upsert_user(graph, agency=agency, role=role, name=f"{role}-{uuid.uuid4().hex[:6]}")
    return identity.issue_token(graph, user.user_id).token


def _count(graph: Graph, lead_id: str) -> int:
    return graph.query("MATCH (l:Lead {lead_id: $id}) RETURN count(l) AS n", id=lead_id, read_=True)[0]["n"]


def test_concurrent_ingest_through_both_hubs_lands_once_and_reads_through_the_other(hubs, graph, tmp_path):
    a, b = hubs
    pushers = {hub.port: _pusher(graph, tmp_path, "police") for hub in hubs}
    plates = [f"TW-{n:03d}-AA" for n in range(1, 9)]  # shared by both streams: the same vehicles
    acknowledged: dict[str, tuple[HubProcess, str | None]] = {}
    errors: list[str] = []

    def stream(hub: HubProcess, tag: str) -> None:
        for batch in range(4):
            leads = [lead(source_agency="police", source_ref=f"2H-{tag}-{batch}-{i}",
                          vehicles=[{"plate": plates[(i + batch) % len(plates)]}]) for i in range(25)]
            response = pushers[hub.port].push(hub, leads)
            if response.status_code != 200:
                errors.append(f"{hub.port}: {response.status_code} {response.text[:300]}")
                continue
            for result in response.json()["results"]:
                if result["lead_id"] is None:
                    errors.append(f"{hub.port}: {result}")
                    continue
                acknowledged[result["lead_id"]] = (hub, response.headers.get(BOOKMARKS))

    threads = [threading.Thread(target=stream, args=(hub, tag)) for hub, tag in ((a, "A"), (b, "B"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(acknowledged) == 2 * 4 * 25
    assert all(_count(graph, lead_id) == 1 for lead_id in acknowledged)

    # Read your writes: each lead read through the hub that did NOT take it, with its bookmarks.
    token = _reader(graph, "police")
    for lead_id, (via, bookmarks) in list(acknowledged.items())[::20]:
        other = b if via is a else a
        headers = {"Authorization": f"Bearer {token}", **({BOOKMARKS: bookmarks} if bookmarks else {})}
        r = httpx.get(f"{other.url}/api/v1/leads/{lead_id}", params={"justification": JUSTIFICATION},
                      headers=headers, timeout=30)
        assert r.status_code == 200, r.text
        assert r.json()["lead_id"] == lead_id


def test_a_request_replayed_on_the_other_hub_is_refused(hubs, graph, tmp_path):
    a, b = hubs
    pusher = _pusher(graph, tmp_path, "gendarmerie")
    body = json.dumps({"leads": [lead(source_agency="gendarmerie", source_ref=f"2H-replay-{uuid.uuid4().hex[:6]}")]}).encode()
    headers = pusher.request(body)
    first = httpx.post(f"{a.url}/api/v1/leads", content=body, headers=headers, timeout=60)
    assert first.status_code == 200, first.text
    replay = httpx.post(f"{b.url}/api/v1/leads", content=body, headers=headers, timeout=60)
    assert replay.status_code == 409, replay.text
    assert b"nonce" in replay.content and "rejou".encode() in replay.content


def test_a_session_closed_on_one_hub_is_refused_on_the_other(hubs, graph):
    a, b = hubs
    user = identity.upsert_user(graph, agency="douanes", role="analyst", name=f"analyst-{uuid.uuid4().hex[:6]}")
    password = f"Mot-de-passe-{uuid.uuid4().hex}"
    graph_sessions.set_password_hash(graph, user.user_id, passwords.hash_password(password))
    login = httpx.post(f"{a.url}/api/v1/auth/login", json={"user_id": user.user_id, "password": password}, timeout=30)
    assert login.status_code == 200, login.text
    auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
    assert httpx.get(f"{b.url}/api/v1/notifications", headers=auth, timeout=30).status_code == 200
    assert httpx.post(f"{a.url}/api/v1/auth/logout", headers=auth, timeout=30).status_code == 204
    refused = httpx.get(f"{b.url}/api/v1/notifications", headers=auth, timeout=30)
    assert refused.status_code == 401, refused.text


def _link_alerts(graph: Graph, entity_key: str) -> int:
    return graph.query("MATCH (a:LinkAlert {entity_key: $k}) RETURN count(a) AS n", k=entity_key, read_=True)[0]["n"]


def test_leads_linking_two_agencies_through_both_hubs_are_triaged_once_and_notified_on_the_other(
        hubs, graph, tmp_path):
    a, b = hubs
    plate = f"LK-{1 + uuid.uuid4().int % 999:03d}-ZZ"
    gendarmes = _reader(graph, "gendarmerie")
    # The gendarmerie's cursor before anything happens, read through B.
    start = httpx.get(f"{b.url}/api/v1/notifications/stream", headers={"Authorization": f"Bearer {gendarmes}"},
                      params={"max_seconds": 1}, timeout=30)
    assert start.status_code == 200
    cursor = int(next(line for line in start.text.splitlines() if line.startswith("id:")).split(":", 1)[1])

    police = _pusher(graph, tmp_path, "police")
    gendarmerie = _pusher(graph, tmp_path, "gendarmerie")
    results: list[httpx.Response] = []
    threads = [
        threading.Thread(target=lambda: results.append(police.push(a, [lead(
            source_agency="police", source_ref=f"2H-link-P-{plate}", vehicles=[{"plate": plate}])]))),
        threading.Thread(target=lambda: results.append(gendarmerie.push(b, [lead(
            source_agency="gendarmerie", source_ref=f"2H-link-G-{plate}", vehicles=[{"plate": plate}])]))),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.status_code for r in results] == [200, 200], [r.text for r in results]
    key = f"vehicle:{plate}"
    deadline = time.monotonic() + 120
    while _link_alerts(graph, key) == 0:
        assert time.monotonic() < deadline, "no hub triaged the two leads"
        time.sleep(0.5)
    time.sleep(3)  # had both hubs triaged, the second alert would be there by now
    assert _link_alerts(graph, key) == 1

    # The link notification (made by whichever hub triaged) is delivered through B, after the cursor.
    deadline = time.monotonic() + 30
    while True:
        r = httpx.get(f"{b.url}/api/v1/notifications/stream", params={"since": cursor, "max_seconds": 1},
                      headers={"Authorization": f"Bearer {gendarmes}"}, timeout=30)
        assert r.status_code == 200
        events = [json.loads(line[5:]) for line in r.text.splitlines() if line.startswith("data:")]
        if any(e.get("kind") == "cross_agency_link" and plate in json.dumps(e) for e in events):
            break
        assert time.monotonic() < deadline, r.text
        time.sleep(1)


def test_the_retention_purge_due_once_runs_once_across_both_hubs(hubs, graph, settings):
    a, _ = hubs
    [old] = write_leads(graph, [Lead.model_validate(lead(
        kind="surveillance", source_ref=f"2H-old-{uuid.uuid4().hex[:6]}",
        observed_at="2015-03-01T10:00:00+01:00", reported_at="2015-03-02T10:00:00+01:00"))])
    deadline = time.monotonic() + 150  # the cron fires at the next minute, in both hubs
    while _count(graph, old.lead_id):
        assert time.monotonic() < deadline, "the retention job never ran"
        time.sleep(1)
    time.sleep(5)  # a second run of the same due time would log its own erasure by now
    audit_dir = a.data_dir / "audit"
    erasures = query(audit_dir, AuditFilters(action="erasure", lead_id=old.lead_id, limit=100))
    assert len(erasures) == 1, [(e.segment, e.seq) for e in erasures]


def _crosshub(hub: HubProcess, *args: str) -> subprocess.CompletedProcess[str]:
    env = hub_env(hub.settings, hub.data_dir, COLUMNS="200")
    return subprocess.run([str(Path(sys.executable).parent / "crosshub"), *args], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=300, check=False)


def test_the_cli_logs_and_verifies_while_both_hubs_serve(hubs, graph):
    a, b = hubs
    chief = identity.upsert_user(graph, agency="police", role="coordinator", name=f"chef-{uuid.uuid4().hex[:6]}")
    brief = _crosshub(a, "brief", "--cross", "25", "--week", "2025-W31", "--as", chief.user_id)
    assert brief.returncode == 0, brief.stdout + brief.stderr
    assert "déjà ouvert en écriture" not in brief.stdout + brief.stderr
    checked = _crosshub(a, "audit", "verify")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.startswith("OK")
    kinds = {seg.name.split("-")[1] for seg in list_segments(a.data_dir / "audit")}
    assert {"hub", "cli"} <= kinds  # the hubs' segments and the brief command's own
    assert httpx.get(f"{b.url}/healthz", timeout=10).status_code == 200


def test_a_hub_killed_mid_batch_loses_no_acknowledged_lead_and_its_segment_verifies(hubs, graph, tmp_path):
    """Runs last: it kills and restarts hub A, then alters the trail."""
    a, b = hubs
    pusher = _pusher(graph, tmp_path, "douanes")
    acknowledged: list[str] = []
    stop = threading.Event()

    def keep_pushing(hub: HubProcess, tag: str) -> None:
        n = 0
        while not stop.is_set():
            leads = [lead(source_agency="douanes", source_ref=f"2H-kill-{tag}-{n}-{i}") for i in range(100)]
            n += 1
            try:
                r = pusher.push(hub, leads, timeout=60)
            except httpx.HTTPError:
                continue  # the killed hub: no answer, nothing acknowledged
            if r.status_code == 200:
                acknowledged.extend(res["lead_id"] for res in r.json()["results"])

    threads = [threading.Thread(target=keep_pushing, args=(hub, tag)) for hub, tag in ((a, "A"), (b, "B"))]
    for t in threads:
        t.start()
    time.sleep(6)
    a_segments = {seg.name for seg in list_segments(a.data_dir / "audit") if f"-{a.proc.pid}-" in seg.name}
    assert len(a_segments) == 1
    a.kill()  # SIGKILL, mid-batch
    before = len(acknowledged)
    time.sleep(4)
    stop.set()
    for t in threads:
        t.join()
    assert len(acknowledged) > before, "hub B stopped serving when A was killed"
    assert all(_count(graph, lead_id) == 1 for lead_id in acknowledged)

    a.start()
    [killed] = a_segments
    audit_dir = a.data_dir / "audit"
    assert (audit_dir / "segments" / killed / "closed").exists(), "the restarted hub did not adopt its segment"
    report = verify(audit_dir, a.data_dir / "keys")
    assert report.ok, report.summary_fr()
    checked = _crosshub(a, "audit", "verify")
    assert checked.returncode == 0, checked.stdout + checked.stderr

    # Alter one entry of the killed hub's segment, then of B's (in place: B still appends to its
    # own): each time verify names that segment and entry.
    b_segment = next(seg.name for seg in list_segments(audit_dir) if f"-{b.proc.pid}-" in seg.name)
    for name in (killed, b_segment):
        path = audit_dir / "segments" / name / "audit.jsonl"
        raw = path.read_bytes()
        second = raw.index(b"\n") + 1  # entry n° 2 starts here
        at = raw.index(b'"entry_hash":"', second) + len(b'"entry_hash":"')
        original = raw[at:at + 1]
        fd = os.open(path, os.O_WRONLY)
        try:
            os.pwrite(fd, b"0" if original != b"0" else b"1", at)
            failed = _crosshub(a, "audit", "verify")
        finally:
            os.pwrite(fd, original, at)
            os.close(fd)
        assert failed.returncode == 1, failed.stdout
        assert f"segment {name}" in failed.stdout and "entrée n° 2" in failed.stdout, failed.stdout
    assert verify(audit_dir, a.data_dir / "keys").ok
