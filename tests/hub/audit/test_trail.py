"""The writer: models and Art. 25 rules, keys, durability paths, recovery, locking, query."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
import threading
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from pydantic import ValidationError

from hub.audit import (
    AuditFilters,
    AuditTrail,
    AuditUnavailable,
    canonical_json,
    query,
    verify,
)
from hub.audit.keys import PRIVATE_KEY_FILE, PUBLIC_KEY_FILE, load_or_create_signing_key
from hub.contract.errors import ConfigurationError, InvalidInput, MissingJustification
from hub.contract.lead import Agency
from hub.settings import Settings
from policies.audit import Actor, AuditAction, DecisionOutcome
from tests.hub.audit.logfiles import Dirs, entry, make_event, read_lines, write_lines

# --- the format ----------------------------------------------------------------------------------


def test_canonical_json() -> None:
    assert canonical_json({"b": [1, {"d": None, "c": True}], "a": "é"}) == (
        '{"a":"é","b":[1,{"c":true,"d":null}]}'.encode())
    with pytest.raises(ValueError):
        canonical_json({"x": float("nan")})


def test_stored_line_is_canonical_and_hash_covers_it(populated: Dirs) -> None:
    for line in read_lines(populated.entries):
        body = json.loads(line)
        assert line == canonical_json(body) + b"\n"


def test_times_are_utc_and_aware() -> None:
    paris = timezone(timedelta(hours=2))
    event = make_event(at=datetime(2025, 10, 1, 10, 0, tzinfo=paris))
    assert event.at == datetime(2025, 10, 1, 8, 0, tzinfo=UTC) and event.at.tzinfo is UTC
    with pytest.raises(ValidationError):
        make_event(at=datetime(2025, 10, 1, 10, 0))  # naive


def test_decision_outcomes_cover_the_policy_engine() -> None:
    from policies.models import Outcome

    assert {o.value for o in Outcome} <= {o.value for o in DecisionOutcome}


# --- Art. 25 content rules -----------------------------------------------------------------------


@pytest.mark.parametrize("action", [AuditAction.CONSULTATION, AuditAction.DISCLOSURE])
@pytest.mark.parametrize("justification", [None, "", "   \t"])
def test_justification_required(action: AuditAction, justification: str | None) -> None:
    with pytest.raises(MissingJustification) as err:
        make_event(action=action, justification=justification)
    assert err.value.details[0]["field"] == "justification"
    assert "justification obligatoire" in err.value.message
    assert err.value.code == "missing_justification"


def test_justification_not_required_without_personal_data_or_for_other_actions() -> None:
    make_event(action=AuditAction.CONSULTATION, justification=None, personal_data=False)
    for action in (AuditAction.COLLECTION, AuditAction.ALTERATION, AuditAction.COMBINATION,
                   AuditAction.ERASURE):
        make_event(action=action, justification=None)


def test_disclosure_names_its_recipients() -> None:
    with pytest.raises(InvalidInput) as err:
        make_event(action=AuditAction.DISCLOSURE, recipients=[])
    assert err.value.details[0]["field"] == "recipients"
    event = make_event(action=AuditAction.DISCLOSURE, recipients=["gendarmerie:SR-Besancon"])
    assert event.recipients == ["gendarmerie:SR-Besancon"]


def test_who_what_and_from_where_are_required() -> None:
    with pytest.raises(ValidationError):
        make_event(lead_ids=[], entity_keys=[])
    with pytest.raises(ValidationError):
        make_event(client_address=None, connector_id=None)
    make_event(client_address=None, connector_id="douanes-xml")
    with pytest.raises(ValidationError):
        Actor(user_id="u1", name="Agent", role="analyst")  # a person belongs to an agency
    with pytest.raises(ValidationError):
        make_event(unexpected="field")


# --- keys ----------------------------------------------------------------------------------------


def test_key_generated_with_mode_0600(dirs: Dirs) -> None:
    with AuditTrail.open(audit_dir=dirs.audit, keys_dir=dirs.keys):
        pass
    private = dirs.keys / PRIVATE_KEY_FILE
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert stat.S_IMODE(dirs.keys.stat().st_mode) & 0o077 == 0
    assert (dirs.keys / PUBLIC_KEY_FILE).read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")
    assert not list(dirs.keys.glob(".*tmp"))  # the temporary file is gone
    assert stat.S_IMODE(dirs.entries.stat().st_mode) == 0o600


def test_key_mode_0600_even_with_a_permissive_umask(dirs: Dirs) -> None:
    old = os.umask(0)
    try:
        load_or_create_signing_key(dirs.keys)
    finally:
        os.umask(old)
    assert stat.S_IMODE((dirs.keys / PRIVATE_KEY_FILE).stat().st_mode) == 0o600


def test_key_is_stable_and_too_open_a_key_is_refused(dirs: Dirs) -> None:
    first = load_or_create_signing_key(dirs.keys)
    again = load_or_create_signing_key(dirs.keys)
    assert first.private_bytes_raw() == again.private_bytes_raw()
    (dirs.keys / PRIVATE_KEY_FILE).chmod(0o644)
    with pytest.raises(ConfigurationError, match="attendu 0600"):
        load_or_create_signing_key(dirs.keys)


def test_open_from_settings(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "crosshub")
    with AuditTrail.open(settings) as trail:
        trail.append(make_event(1))
    assert (settings.audit_dir / "audit.jsonl").exists()
    assert verify(settings.audit_dir, settings.keys_dir).ok


# --- writing -------------------------------------------------------------------------------------


def test_append_returns_the_stored_entry(dirs: Dirs) -> None:
    with AuditTrail.open(audit_dir=dirs.audit, keys_dir=dirs.keys) as trail:
        first = trail.append(make_event(1))
        second = trail.append(make_event(2))
        assert (first.seq, second.seq) == (1, 2)
        assert first.prev_hash == "0" * 64 and second.prev_hash == first.entry_hash
        assert trail.head_seq == 2 and trail.head_hash == second.entry_hash
        assert entry(read_lines(dirs.entries)[1])["entry_hash"] == second.entry_hash
        assert second.recorded_at.tzinfo is UTC


def test_append_many_is_one_chained_batch(dirs: Dirs) -> None:
    with AuditTrail.open(audit_dir=dirs.audit, keys_dir=dirs.keys, checkpoint_every=40) as trail:
        trail.append(make_event(0))
        batch = trail.append_many([make_event(i) for i in range(1, 101)])
        assert [e.seq for e in batch] == list(range(2, 102))
        assert trail.append_many([]) == []
        assert trail.last_checkpoint is not None and trail.last_checkpoint.seq == 101
    assert verify(dirs.audit, dirs.keys).ok


def test_checkpoints_periodic_on_demand_and_at_close(dirs: Dirs) -> None:
    with AuditTrail.open(audit_dir=dirs.audit, keys_dir=dirs.keys, checkpoint_every=5) as trail:
        assert trail.checkpoint() is None  # empty log: nothing to sign
        for i in range(12):
            trail.append(make_event(i))
        assert trail.sealed_seq == 10
        cp = trail.checkpoint()
        assert cp is not None and (cp.n, cp.seq) == (3, 12)
        assert trail.checkpoint() == cp  # nothing new: no new checkpoint
        trail.append(make_event(12))
    assert [entry(line)["seq"] for line in read_lines(dirs.checkpoints)] == [5, 10, 12, 13]
    report = verify(dirs.audit, dirs.keys)
    assert report.ok and report.sealed_seq == 13


def test_concurrent_threads(dirs: Dirs) -> None:
    with AuditTrail.open(audit_dir=dirs.audit, keys_dir=dirs.keys, checkpoint_every=7) as trail:
        seqs: list[int] = []

        def work(t: int) -> None:
            for i in range(25):
                seqs.append(trail.append(make_event(t * 100 + i)).seq)

        threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
    assert sorted(seqs) == list(range(1, 201))
    assert verify(dirs.audit, dirs.keys).ok


def _slow_fsync(monkeypatch: pytest.MonkeyPatch, fail_on: int | None = None) -> dict[str, int]:
    """Make fsync take 2 ms (a slow disk), count calls, and fail call n° ``fail_on``."""
    real_fsync = os.fsync
    calls = {"n": 0}

    def fsync(fd: int) -> None:
        calls["n"] += 1
        if calls["n"] == fail_on:
            raise OSError(5, "Input/output error")
        time.sleep(0.002)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    return calls


def _hammer(trail: AuditTrail, threads: int, per_thread: int) -> tuple[list[int], list[Exception]]:
    acked: list[int] = []
    errors: list[Exception] = []

    def work(t: int) -> None:
        for i in range(per_thread):
            try:
                acked.append(trail.append(make_event(t * 1000 + i)).seq)
            except AuditUnavailable as exc:
                errors.append(exc)
                return

    pool = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for th in pool:
        th.start()
    for th in pool:
        th.join()
    return acked, errors


def test_concurrent_appends_share_fsyncs(dirs: Dirs, monkeypatch: pytest.MonkeyPatch) -> None:
    with AuditTrail.open(audit_dir=dirs.audit, keys_dir=dirs.keys, checkpoint_every=1000) as trail:
        calls = _slow_fsync(monkeypatch)
        acked, errors = _hammer(trail, threads=8, per_thread=25)
    assert not errors and sorted(acked) == list(range(1, 201))
    assert calls["n"] < 100  # 200 acknowledged appends; a lone writer would need 200 fsyncs
    assert verify(dirs.audit, dirs.keys).ok


def test_fsync_failure_under_concurrency(dirs: Dirs, monkeypatch: pytest.MonkeyPatch) -> None:
    trail = AuditTrail.open(audit_dir=dirs.audit, keys_dir=dirs.keys, checkpoint_every=1000)
    _slow_fsync(monkeypatch, fail_on=6)
    acked, errors = _hammer(trail, threads=8, per_thread=30)
    monkeypatch.undo()
    assert len(errors) == 8  # every thread was refused in the end
    trail.close()
    with AuditTrail.open(audit_dir=dirs.audit, keys_dir=dirs.keys) as trail:
        head = trail.head_seq
    on_disk = [entry(line)["seq"] for line in read_lines(dirs.entries)]
    assert on_disk == list(range(1, head + 1))
    assert set(acked) <= set(on_disk)
    assert verify(dirs.audit, dirs.keys).ok


def test_closed_trail_refuses(dirs: Dirs) -> None:
    trail = AuditTrail.open(audit_dir=dirs.audit, keys_dir=dirs.keys)
    trail.close()
    trail.close()  # idempotent
    with pytest.raises(AuditUnavailable):
        trail.append(make_event())


def test_fsync_failure_poisons_until_reopened(dirs: Dirs, monkeypatch: pytest.MonkeyPatch) -> None:
    trail = AuditTrail.open(audit_dir=dirs.audit, keys_dir=dirs.keys)
    trail.append(make_event(1))
    real_fsync = os.fsync
    calls = {"n": 0}

    def failing_fsync(fd: int) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise OSError(5, "Input/output error")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(AuditUnavailable, match="échec d'écriture"):
        trail.append(make_event(2))
    monkeypatch.setattr(os, "fsync", real_fsync)
    # Not acknowledged, and cut off; nothing more is acknowledged until reopened.
    assert len(read_lines(dirs.entries)) == 1
    with pytest.raises(AuditUnavailable, match="rouvrir"):
        trail.append(make_event(3))
    trail.close()
    with AuditTrail.open(audit_dir=dirs.audit, keys_dir=dirs.keys) as trail:
        assert trail.append(make_event(4)).seq == 2
    assert verify(dirs.audit, dirs.keys).ok


# --- single writer -------------------------------------------------------------------------------


def test_second_writer_in_the_same_process_is_refused(dirs: Dirs) -> None:
    with AuditTrail.open(audit_dir=dirs.audit, keys_dir=dirs.keys):
        with pytest.raises(AuditUnavailable, match=f"pid {os.getpid()}"):
            AuditTrail.open(audit_dir=dirs.audit, keys_dir=dirs.keys)
    with AuditTrail.open(audit_dir=dirs.audit, keys_dir=dirs.keys):  # released at close
        pass


def test_second_writer_process_is_refused(dirs: Dirs) -> None:
    code = textwrap.dedent(f"""
        from pathlib import Path
        from hub.audit import AuditTrail, AuditUnavailable
        try:
            AuditTrail.open(audit_dir=Path({str(dirs.audit)!r}), keys_dir=Path({str(dirs.keys)!r}))
        except AuditUnavailable as exc:
            print("REFUSED", exc.message)
    """)
    with AuditTrail.open(audit_dir=dirs.audit, keys_dir=dirs.keys):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("REFUSED journal d'audit déjà ouvert"), out.stderr


# --- recovery on open ----------------------------------------------------------------------------


def test_torn_last_line_is_truncated_and_the_recovery_logged(populated: Dirs) -> None:
    torn = b'{"action":"consultation","actor":{"agency":"police","kind":"user","name":"TORN'
    before = populated.entries.read_bytes()
    with populated.entries.open("ab") as f:
        f.write(torn)
    with AuditTrail.open(audit_dir=populated.audit, keys_dir=populated.keys) as trail:
        assert trail.head_seq == 21
        recovery = trail.query(AuditFilters(action=AuditAction.LOG_RECOVERY))
    assert len(recovery) == 1
    rec = recovery[0]
    assert rec.seq == 21 and rec.actor.kind == "system"
    assert rec.details["file"] == "audit.jsonl" and rec.details["truncated_bytes"] == len(torn)
    assert rec.decision.outcome is DecisionOutcome.NOT_APPLICABLE
    after = populated.entries.read_bytes()
    assert after.startswith(before) and b"TORN" not in after and len(read_lines(populated.entries)) == 21
    report = verify(populated.audit, populated.keys)
    assert report.ok and report.warnings == [] and report.sealed_seq == 21


def test_torn_checkpoint_line_is_truncated_and_logged(populated: Dirs) -> None:
    with populated.checkpoints.open("ab") as f:
        f.write(b'{"at":"2025-')
    with AuditTrail.open(audit_dir=populated.audit, keys_dir=populated.keys) as trail:
        rec = trail.query(AuditFilters(action=AuditAction.LOG_RECOVERY))
    assert [r.details["file"] for r in rec] == ["checkpoints.jsonl"]
    assert verify(populated.audit, populated.keys).ok


def test_open_refuses_a_log_shorter_than_its_checkpoint(populated: Dirs) -> None:
    write_lines(populated.entries, read_lines(populated.entries)[:15])
    with pytest.raises(ConfigurationError, match="tronqué ou réécrit"):
        AuditTrail.open(audit_dir=populated.audit, keys_dir=populated.keys)
    # ...and releases its lock when it refuses.
    write_lines(populated.checkpoints, read_lines(populated.checkpoints)[:1])
    with AuditTrail.open(audit_dir=populated.audit, keys_dir=populated.keys) as trail:
        assert trail.head_seq == 15


def test_open_refuses_an_altered_last_entry(populated: Dirs) -> None:
    lines = read_lines(populated.entries)
    lines[-1] = lines[-1].replace(b"Agent", b"Agnet")
    write_lines(populated.entries, lines)
    with pytest.raises(ConfigurationError, match="altérée"):
        AuditTrail.open(audit_dir=populated.audit, keys_dir=populated.keys)


def test_reopen_continues_the_chain(populated: Dirs) -> None:
    with AuditTrail.open(audit_dir=populated.audit, keys_dir=populated.keys) as trail:
        assert (trail.head_seq, trail.sealed_seq) == (20, 20)
        assert trail.append(make_event(20)).seq == 21
    assert verify(populated.audit, populated.keys).ok


# --- query ---------------------------------------------------------------------------------------


@pytest.fixture
def varied(dirs: Dirs) -> Dirs:
    base = datetime(2025, 10, 1, 8, 0, tzinfo=UTC)
    events = []
    for i in range(30):
        overrides = {"at": base + timedelta(hours=i)}
        if i % 5 == 0:
            overrides.update(action=AuditAction.COLLECTION, connector_id="police-lrp",
                             client_address=None, justification=None, recipients=[],
                             decision={"outcome": "allow", "rule_id": "ingest"})
        if i % 7 == 0:
            overrides["decision"] = {"outcome": "hit", "rule_id": "other-agency-h2"}
        events.append(make_event(i, **overrides))
    with AuditTrail.open(audit_dir=dirs.audit, keys_dir=dirs.keys) as trail:
        trail.append_many(events)
    return dirs


def seqs(dirs: Dirs, **filters: object) -> list[int]:
    return [e.seq for e in query(dirs.audit, AuditFilters(**filters))]


def test_query_newest_first_and_paginated(varied: Dirs) -> None:
    assert seqs(varied) == list(range(30, 0, -1))
    assert seqs(varied, limit=5) == [30, 29, 28, 27, 26]
    assert seqs(varied, limit=5, offset=5) == [25, 24, 23, 22, 21]
    assert seqs(varied, limit=5, offset=28) == [2, 1]
    assert seqs(varied, offset=30) == []


def test_query_filters(varied: Dirs) -> None:
    base = datetime(2025, 10, 1, 8, 0, tzinfo=UTC)
    assert seqs(varied, since=base + timedelta(hours=25)) == [30, 29, 28, 27, 26]
    assert seqs(varied, until=base + timedelta(hours=2)) == [2, 1]
    assert seqs(varied, since=base + timedelta(hours=3), until=base + timedelta(hours=5)) == [5, 4]
    assert seqs(varied, user_id="u1") == [30, 26, 22, 18, 14, 10, 6, 2]
    assert seqs(varied, agency=Agency.DOUANES) == [30, 27, 24, 21, 18, 15, 12, 9, 6, 3]
    assert seqs(varied, action=AuditAction.COLLECTION) == [26, 21, 16, 11, 6, 1]
    assert seqs(varied, lead_id="police:PV-2025-0007") == [8]
    assert seqs(varied, entity_key="vehicle:AB-112-CD") == [13]
    assert seqs(varied, outcome=DecisionOutcome.HIT) == [29, 22, 15, 8, 1]
    assert seqs(varied, action=AuditAction.CONSULTATION, user_id="u0", limit=2) == [29, 25]


def test_query_of_a_missing_log_is_empty(tmp_path: Path) -> None:
    assert query(tmp_path / "nowhere") == []


def test_query_skips_a_torn_tail_and_unreadable_lines(varied: Dirs) -> None:
    lines = read_lines(varied.entries)
    lines[28] = b"garbage\n"
    write_lines(varied.entries, lines + [b'{"seq":31'])
    assert seqs(varied, limit=3) == [30, 28, 27]
