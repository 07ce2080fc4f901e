"""Backup and restore (issue 17 item 1, ADR 0027): back up, write more, restore, then the graph
is the one captured at backup time, the trail verifies, names the restore and marks exactly the
entries written after the backup point; a tampered backup is refused with nothing changed.

The oracle for the graph is a canonical export taken by the test itself (every node's labels and
properties, every relationship, with each value's type and repr) at backup time; the oracle for
the marks is the seqs the test wrote, per segment.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import stat
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from typer.testing import CliRunner

from graph import leases
from graph.grants import create_guest_grant
from graph.grants.models import NewGuestGrant
from graph.handle import Graph
from graph.leads import write_leads
from hub.audit import WriterKind, open_writer, verify
from hub.audit.events import system_event
from hub.audit.archiving import run_archiving
from hub.audit.keys import load_or_create_signing_key, load_public_key
from hub.audit.layout import list_segments
from hub.backup.make import list_backups, make_backup
from hub.backup.manifest import NODES, Manifest, manifest_bytes, sha256_file, sign
from hub.backup.restore import restore_backup
from hub.cli import app
from hub.contract.errors import ConfigurationError, Conflict, InvalidInput
from hub.contract.lead import Lead
from hub.jobs.schedule import scheduled_runs
from hub.routers.audit import integrity
from policies.audit import AuditAction
from policies.audit_retention import AuditRetention
from policies.rulebook import load_rulebook
from tests.factories import canary_tag, lead

# Labels a backup never holds (graph/backup.py KEPT + CLEARED, ADR 0027: the processes' own
# bookkeeping, and sign-in sessions).
NOT_COPIED = {"JobLease", "JobRun", "Nonce", "LoginAttempts", "Session", "SecondFactorStepUp"}


def _value(v: Any) -> Any:
    if isinstance(v, list):
        return ("list", tuple(_value(x) for x in v))
    return (type(v).__name__, repr(v))


def _frozen(props: dict[str, Any]) -> tuple:
    return tuple(sorted((k, _value(v)) for k, v in props.items()))


def canonical(graph: Graph) -> tuple[Counter, Counter]:
    """Every copied node (labels, typed properties) and relationship (type, ends, properties)."""
    sig: dict[str, tuple] = {}
    nodes: Counter = Counter()
    for r in graph.query("MATCH (n) RETURN elementId(n) AS id, labels(n) AS labels, "
                         "properties(n) AS props", read_=True):
        if NOT_COPIED & set(r["labels"]):
            continue
        sig[r["id"]] = (tuple(sorted(r["labels"])), _frozen(r["props"]))
        nodes[sig[r["id"]]] += 1
    rels: Counter = Counter()
    for r in graph.query("MATCH (a)-[x]->(b) RETURN elementId(a) AS a, elementId(b) AS b, "
                         "type(x) AS t, properties(x) AS p", read_=True):
        if r["a"] in sig and r["b"] in sig:
            rels[(sig[r["a"]], r["t"], sig[r["b"]], _frozen(r["p"]))] += 1
    return nodes, rels


def _leads(graph: Graph, trail, n: int) -> list[int]:
    """``n`` leads written and their collection logged; the seqs of the entries."""
    written = write_leads(graph, [Lead.model_validate(lead(narrative=f"Guetteur {canary_tag()}"))
                                  for _ in range(n)])
    ids = [w.lead_id for w in written]
    return [trail.append(system_event(AuditAction.COLLECTION, origin="test", rule_id="ingest",
                                      lead_ids=ids, entity_keys=[])).seq]


def _grant(graph: Graph, trail, lead_ids: list[str]) -> int:
    now = datetime.now(UTC)
    seqs: list[int] = []
    create_guest_grant(graph, NewGuestGrant(
        grantee_user_id="douanes:invite", grantee_name="Invité", grantee_agency="douanes",
        lead_ids=lead_ids, entity_keys=[], valid_from=now, valid_until=now + timedelta(days=2),
        granted_by="police:chef", granted_by_name="Chef", reason="Enquête commune"),
        now, before_commit=lambda g: seqs.append(trail.append(system_event(
            AuditAction.DISCLOSURE, origin="test", rule_id="guest-grant", lead_ids=lead_ids,
            entity_keys=[], justification="Enquête commune", recipients=["douanes:invite"])).seq))
    return seqs[0]


# Every property type Neo4j stores, so the copy is shown to keep each value's type exactly.
_TYPED = """
MATCH (l:Lead) WITH l LIMIT 1
SET l.t_date = date('2024-02-29'), l.t_time = time('12:34:56.123456789+02:00'),
    l.t_local_time = localtime('23:59:59.000000001'),
    l.t_local_dt = localdatetime('2026-12-07T17:02:03.5'),
    l.t_zoned = datetime('2026-07-01T10:00:00.123456789[Europe/Paris]'),
    l.t_offset = datetime('2026-07-01T10:00:00-03:30'),
    l.t_duration = duration('P1Y2M3DT4H5M6.000000007S'),
    l.t_geo = point({latitude: 47.2380, longitude: 6.0243}),
    l.t_xyz = point({x: 1.5, y: -2.25, z: 3.0}),
    l.t_floats = [0.1, 1.0e-300, -0.0], l.t_big = 9007199254740993,
    l.t_bytes = $bytes, l.t_when = [datetime('2025-01-01T00:00:00Z')], l.t_empty = []
"""


@pytest.fixture
def hub(clean: Graph, settings, tmp_path):
    s = settings.model_copy(update={"data_dir": tmp_path / "data", "backup_keep": 2})
    trail = open_writer(s, kind=WriterKind.HUB)
    yield s, trail
    trail.close()


def test_backup_more_writes_restore_then_graph_equals_backup_and_trail_marks_what_was_rolled_back(
        clean: Graph, hub) -> None:
    s, trail = hub
    seqs_before = _leads(clean, trail, 3)
    first = clean.query("MATCH (l:Lead) RETURN l.lead_id AS id", read_=True)[0]["id"]
    seqs_before.append(_grant(clean, trail, [first]))
    clean.query(_TYPED, bytes=bytes(range(256)))
    with open_writer(s, kind=WriterKind.CLI) as old:  # a closed segment, sealed into an archive
        old.append(system_event(AuditAction.ALTERATION, origin="test", rule_id="t",
                                lead_ids=[first], entity_keys=[]))
    sealed = run_archiving(s.audit_dir, s.keys_dir, trail, AuditRetention(),
                           datetime.now(UTC) + timedelta(days=400)).archived
    assert len(sealed) == 1
    with open_writer(s, kind=WriterKind.CLI) as earlier:  # a closed segment, later lost
        earlier.append(system_event(AuditAction.ALTERATION, origin="test", rule_id="t",
                                    lead_ids=[first], entity_keys=[]))
        lost = earlier.segment
    (s.keys_dir / "oidc").mkdir(mode=0o700)
    for name, data in (("oidc/police.secret", b"secret-a"), ("extra.key", b"key-b")):
        (s.keys_dir / name).write_bytes(data)
        os.chmod(s.keys_dir / name, 0o600)

    captured = canonical(clean)
    head = trail.head_seq  # the last entry written before the backup (the archive's record)
    assert head > max(seqs_before)
    result = make_backup(s, clean, trail, origin="test")
    assert {h.segment: h.seq for h in result.point.heads}[trail.segment] == head

    # Files: the backup and every file in it private, keys included.
    assert stat.S_IMODE(result.path.stat().st_mode) == 0o700
    modes = {p.relative_to(result.path).as_posix(): stat.S_IMODE(p.stat().st_mode)
             for p in result.path.rglob("*")}
    assert modes["keys/oidc/police.secret"] == 0o600 and modes["keys/audit_ed25519.pem"] == 0o600
    assert {m for m in modes.values()} <= {0o600, 0o700}, modes

    # More writes after the backup point: leads, a grant, a segment of its own.
    after = _leads(clean, trail, 2)
    after.append(_grant(clean, trail, [first]))
    with open_writer(s, kind=WriterKind.CLI) as later:
        later.append(system_event(AuditAction.ALTERATION, origin="test", rule_id="t",
                                  lead_ids=[first], entity_keys=[]))
        later_name = later.segment
    assert canonical(clean) != captured
    shutil.rmtree(list_segments(s.audit_dir)[[g.name for g in list_segments(s.audit_dir)].index(lost)].path)
    shutil.rmtree(s.audit_dir / "archives")  # the archives lost too
    (s.keys_dir / "oidc/police.secret").unlink()
    (s.keys_dir / "extra.key").write_bytes(b"key-b-rotated")

    done = restore_backup(s, clean, result.path, by="Jeanne Martin",
                          reason="Disque du serveur remplacé", force=True)
    last_before_restore = after[-1]
    after_restore = trail.append(system_event(AuditAction.ALTERATION, origin="test", rule_id="t",
                                              lead_ids=[first], entity_keys=[])).seq

    assert canonical(clean) == captured
    assert done.segments_put_back == [lost, *(f"archives/{n}" for n in sorted(
        p.name for p in (result.path / "audit" / "archives").iterdir()))]
    assert f"archives/{sealed[0]}" in done.segments_put_back
    assert done.keys.restored == ["oidc/police.secret"] and done.keys.differing == ["extra.key"]
    assert (s.keys_dir / "oidc/police.secret").read_bytes() == b"secret-a"
    assert stat.S_IMODE((s.keys_dir / "oidc/police.secret").stat().st_mode) == 0o600
    assert (s.keys_dir / "extra.key").read_bytes() == b"key-b-rotated"  # never overwritten

    report = verify(s.audit_dir, s.keys_dir)
    assert report.ok, report.problems
    [note] = report.restores
    assert (note.by, note.reason, note.backup_id) == ("Jeanne Martin", "Disque du serveur remplacé",
                                                      result.backup_id)
    marked = {(r.segment, seq) for r in note.rolled_back for seq in range(r.first_seq, r.last_seq + 1)}
    # Hub segment: everything past the head the backup saw (the backup's own entry and the
    # later writes), none after the restore; the later segment: all of it (opening + entry).
    expected = {(trail.segment, seq) for seq in range(head + 1, last_before_restore + 1)}
    expected |= {(later_name, 1), (later_name, 2)}
    assert marked == expected
    assert (trail.segment, after_restore) not in marked
    summary = report.summary_fr()
    assert "par Jeanne Martin" in summary and "décrivent des données annulées" in summary
    # The auditors' command says it too, and still passes.
    out = CliRunner().invoke(app, ["audit", "verify", "--audit-dir", str(s.audit_dir),
                                   "--public-key", str(s.keys_dir / "audit_ed25519.pub.pem")])
    assert out.exit_code == 0, out.output
    assert out.output.startswith("OK") and f"sauvegarde {result.backup_id}" in out.output
    assert f"segment {later_name} : n° 1 à 2" in out.output
    api = asyncio.run(integrity(SimpleNamespace(public_key=load_public_key(s.keys_dir)), s))
    assert api.ok and api.restores == [note.message]


def test_a_tampered_backup_is_refused_and_nothing_changes(clean: Graph, hub) -> None:
    s, trail = hub
    _leads(clean, trail, 1)
    env = {"CROSSHUB_DATA_DIR": str(s.data_dir), "CROSSHUB_BACKUP_KEEP": "2",
           "NEO4J_URI": s.neo4j_uri, "NEO4J_USER": s.neo4j_user,
           "NEO4J_PASSWORD": s.neo4j_password.get_secret_value() if s.neo4j_password else ""}
    made = CliRunner().invoke(app, ["backup"], env=env)
    assert made.exit_code == 0, made.output
    [path] = list_backups(s.backup_dir)
    assert made.output.startswith(f"Sauvegarde {path.name} écrite dans")
    result = SimpleNamespace(path=path)
    at_backup = canonical(clean)
    sound = shutil.copytree(path, s.data_dir / "copie-hors-site" / path.name)
    clean.query("CREATE (:Substance {code: $code})", code=canary_tag())  # written after it
    state, segments = canonical(clean), [g.name for g in list_segments(s.audit_dir)]

    # A sound backup is refused while a hub holds a job lease on the graph.
    assert leases.acquire(clean, "backup-test-loop", "hub-vivant", 30).held
    with pytest.raises(Conflict) as busy:
        restore_backup(s, clean, result.path, by="Jeanne Martin", reason="essai")
    assert "hub-vivant" in busy.value.message
    assert leases.release(clean, "backup-test-loop", "hub-vivant")

    data = bytearray((result.path / NODES).read_bytes())
    data[len(data) // 2] ^= 0x01
    (result.path / NODES).write_bytes(bytes(data))
    refused = CliRunner().invoke(app, ["restore", str(path), "--by", "Jeanne Martin", "--motif",
                                       "essai", "--force"], env=env)
    assert refused.exit_code == 1
    assert (f"sauvegarde {path.name} refusée : fichier graph/nodes.jsonl altéré (empreinte SHA-256 "
            "différente du manifeste) — rien n'a été modifié") in refused.output
    (result.path / "manifest.json").write_bytes((result.path / "manifest.json").read_bytes() + b" ")
    with pytest.raises(InvalidInput, match="signature du manifeste invalide"):
        restore_backup(s, clean, result.path, by="Jeanne Martin", reason="essai", force=True)
    assert canonical(clean) == state
    assert [g.name for g in list_segments(s.audit_dir)] == segments  # not even a segment opened

    # The whole data directory lost (keys, trail): the copy is checked with the auditors' public
    # key, and brings back the graph, the keys and the trail, which verifies.
    bare = s.model_copy(update={"data_dir": s.data_dir / "nouveau-serveur"})
    with pytest.raises(ConfigurationError, match="--public-key"):
        restore_backup(bare, clean, sound, by="Jeanne Martin", reason="serveur perdu", force=True)
    restore_backup(bare, clean, sound, by="Jeanne Martin", reason="serveur perdu", force=True,
                   public_key=s.keys_dir / "audit_ed25519.pub.pem")
    assert canonical(clean) == at_backup
    assert stat.S_IMODE((bare.keys_dir / "audit_ed25519.pem").stat().st_mode) == 0o600
    report = verify(bare.audit_dir, s.keys_dir / "audit_ed25519.pub.pem")
    assert report.ok and [n.by for n in report.restores] == ["Jeanne Martin"], report.problems


def test_labels_outside_the_allow_list_are_refused_both_ways(clean: Graph, hub) -> None:
    s, trail = hub
    clean.query("CREATE (:Substance {code: 'cannabis'})-[:AT]->(:Location {key: 'commune:25056'})")
    sound = make_backup(s, clean, trail, origin="test")
    clean.query("CREATE (:Intrus {x: 1})")
    with pytest.raises(InvalidInput, match="hors liste : étiquette\\(s\\) inconnue\\(s\\) : Intrus"):
        make_backup(s, clean, trail, origin="test")
    assert [p.name for p in s.backup_dir.iterdir()] == [sound.path.name]  # nothing half-made left
    clean.query("MATCH (n:Intrus) DELETE n")

    # A backup signed by the right key (a newer hub's, say) naming an unknown label or type.
    rows = [json.loads(line) for line in (sound.path / NODES).read_text().splitlines()]
    rows[0]["labels"] = sorted([*rows[0]["labels"], "Intrus"])
    (sound.path / NODES).write_text("".join(json.dumps(r) + "\n" for r in rows))
    manifest = Manifest.model_validate_json((sound.path / "manifest.json").read_bytes())
    manifest.files["graph/nodes.jsonl"] = sha256_file(sound.path / NODES)
    data = manifest_bytes(manifest)
    (sound.path / "manifest.json").write_bytes(data)
    (sound.path / "manifest.sig").write_text(sign(data, load_or_create_signing_key(s.keys_dir)))
    state = canonical(clean)
    with pytest.raises(InvalidInput) as refused:
        restore_backup(s, clean, sound.path, by="Jeanne Martin", reason="essai", force=True)
    assert refused.value.message == (f"sauvegarde {sound.path.name} refusée : étiquette(s) "
                                     "inconnue(s) : Intrus — rien n'a été modifié")
    assert canonical(clean) == state


def test_the_cut_holds_while_writes_race_the_backup(clean: Graph, hub) -> None:
    """Grants (which create only new nodes: the fence does not hold them) and leads are written
    while the backup runs: every write whose entry is at or below the point is in the copy, and
    a grant is copied with its notification or not at all."""
    s, trail = hub
    first = _leads(clean, trail, 1) and clean.query("MATCH (l:Lead) RETURN l.lead_id AS id")[0]["id"]
    stop, grants = threading.Event(), []

    def write() -> None:
        while not stop.is_set():
            now = datetime.now(UTC)
            seq: list[int] = []
            record = create_guest_grant(clean, NewGuestGrant(
                grantee_user_id="douanes:invite", grantee_name="Invité", grantee_agency="douanes",
                lead_ids=[first], entity_keys=[], valid_from=now,
                valid_until=now + timedelta(days=1), granted_by="police:chef",
                granted_by_name="Chef", reason="Enquête commune"), now,
                before_commit=lambda g: seq.append(trail.append(system_event(
                    AuditAction.DISCLOSURE, origin="test", rule_id="guest-grant", lead_ids=[first],
                    entity_keys=[], justification="Enquête commune",
                    recipients=["douanes:invite"])).seq))
            grants.append((record.grant_id, seq[0]))

    writer = threading.Thread(target=write)
    writer.start()

    def wait_for(condition) -> None:  # bounded: a writer that died fails the test, never hangs it
        deadline = time.monotonic() + 60
        while not condition():
            assert writer.is_alive() and time.monotonic() < deadline, "the writer stopped"
            time.sleep(0.01)

    try:
        wait_for(lambda: len(grants) >= 3)
        result = make_backup(s, clean, trail, origin="test")
        head_seen = {h.segment: h.seq for h in result.point.heads}[trail.segment]
        wait_for(lambda: grants[-1][1] > head_seen)  # until a grant lands past the point
    finally:
        stop.set()
        writer.join()
    head = {h.segment: h.seq for h in result.point.heads}[trail.segment]
    rows = [json.loads(line) for line in (result.path / NODES).read_text().splitlines()]
    copied = {r["props"]["grant_id"] for r in rows if r["labels"] == ["GuestGrant"]}
    notified = {r["props"]["payload_grant_id"] for r in rows
                if r["labels"] == ["Notification"] and "payload_grant_id" in r["props"]}
    assert copied == notified
    before = {g for g, seq in grants if seq <= head}
    assert before and before <= copied
    assert any(seq > head for _, seq in grants)


def test_the_scheduled_backup_runs_once_across_two_hubs(clean: Graph, hub, driver) -> None:
    s, trail = hub
    s = s.model_copy(update={"backup_cron": "15 2 * * *"})
    app = SimpleNamespace(state=SimpleNamespace(graph=clean, driver=driver, audit=trail,
                                                rulebook=load_rulebook(),
                                                metrics=SimpleNamespace(job_run=lambda *a, **k: None)))
    due = datetime(2026, 12, 7, 1, 15, tzinfo=UTC)
    results = [scheduled_runs(app, s, holder=h).run("backup", due) for h in ("hub-a", "hub-b")]
    assert results[1] is None and results[0] is not None
    assert [p.name for p in list_backups(s.backup_dir)] == [results[0].backup_id]
