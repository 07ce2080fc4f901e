"""One segment per writer (ADR 0012): several processes log at once into one trail; verify checks
every segment and the links between them, naming the segment and the entry of any alteration;
a writer killed mid-write leaves a segment the next writer of its host adopts; the auditors'
query reads every segment, newest first, through an index it never trusts over the files.

Expected outcomes come from the rule of the ADR, not from the code's output: a consultation
logged by any writer is found by the auditors' filters exactly as a by-hand scan of the files
finds it; an edit anywhere is named where it is."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hub.audit import AuditFilters, WriterKind, open_writer, query, verify
from hub.audit.index import default_index_path
from hub.audit.layout import CLOSED_MARKER, list_segments
from hub.audit.records import canonical_json, entry_hash
from hub.contract.lead import Agency
from policies.audit import AuditAction
from tests.hub.audit.logfiles import Dirs, make_event

ROOT = Path(__file__).resolve().parents[3]


def _writers(dirs: Dirs, n: int):
    return [open_writer(audit_dir=dirs.audit, keys_dir=dirs.keys, kind=WriterKind.HUB,
                        checkpoint_every=7) for _ in range(n)]


def _all_lines(dirs: Dirs) -> list[tuple[str, dict]]:
    """Every entry of every segment, read by hand from the files (the oracle's own scan)."""
    out = []
    for seg in list_segments(dirs.audit):
        for raw in seg.entries.read_bytes().splitlines():
            out.append((seg.name, json.loads(raw)))
    return out


def test_two_writers_log_at_once_and_the_trail_verifies_with_both_segments(dirs: Dirs) -> None:
    a, b = _writers(dirs, 2)
    assert a.segment != b.segment

    def log(trail, base: int) -> None:
        for i in range(40):
            trail.append(make_event(base + i))

    threads = [threading.Thread(target=log, args=(t, k * 1000)) for k, t in enumerate((a, b))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    a.close()
    b.close()

    report = verify(dirs.audit, dirs.keys)
    assert report.ok, report.summary_fr()
    names = {s.name for s in report.segments}
    assert names == {a.segment, b.segment}
    # 40 consultations + the opening entry, in each segment; both closed (sealed and marked).
    assert all(s.entries == 41 and s.sealed_seq == 41 and s.closed for s in report.segments)
    assert report.entries == 82
    # The later segment (b, opened second) names the earlier one in its opening entry, and
    # names sort in the order they were opened.
    assert sorted(names) == [a.segment, b.segment]
    opening = json.loads((dirs.audit / "segments" / b.segment / "audit.jsonl").read_bytes().splitlines()[0])
    assert opening["action"] == "log_opened"
    assert opening["details"]["previous_segment"] == a.segment


@pytest.mark.parametrize("which", [0, 1])
def test_an_edited_entry_in_either_segment_fails_naming_that_segment_and_entry(dirs: Dirs, which: int) -> None:
    writers = _writers(dirs, 2)
    for k, trail in enumerate(writers):
        for i in range(10):
            trail.append(make_event(100 * k + i))
        trail.close()
    target = sorted(w.segment for w in writers)[which]
    path = dirs.audit / "segments" / target / "audit.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    body = json.loads(lines[4])  # entry n° 5 of that segment
    body["justification"] = "motif réécrit après coup"
    lines[4] = canonical_json(body) + b"\n"
    path.write_bytes(b"".join(lines))

    report = verify(dirs.audit, dirs.keys)
    assert not report.ok
    assert report.first_bad is not None and report.first_bad.segment == target
    assert report.first_bad.seq == 5 and report.first_bad.kind == "altered"
    message = report.summary_fr()
    assert f"segment {target}" in message and "entrée n° 5" in message
    other = next(s for s in report.segments if s.name != target)
    assert other.ok


def test_a_deleted_segment_is_named_by_the_segment_that_saw_it(dirs: Dirs) -> None:
    first = open_writer(audit_dir=dirs.audit, keys_dir=dirs.keys, kind=WriterKind.CLI)
    first.append(make_event(1))
    first.close()
    second = open_writer(audit_dir=dirs.audit, keys_dir=dirs.keys, kind=WriterKind.HUB)
    second.append(make_event(2))
    second.close()
    seg = dirs.audit / "segments" / first.segment
    for f in seg.iterdir():
        f.unlink()
    seg.rmdir()

    report = verify(dirs.audit, dirs.keys)
    assert not report.ok
    assert report.first_bad.kind == "segment_missing" and report.first_bad.segment == first.segment
    assert second.segment in report.first_bad.message


def test_a_segment_rewritten_below_what_a_later_writer_saw_is_caught(dirs: Dirs) -> None:
    """A consistent rewrite of a whole closed segment (every hash recomputed, checkpoints dropped,
    as someone without the key could) still disagrees with the head the next writer recorded."""
    first = open_writer(audit_dir=dirs.audit, keys_dir=dirs.keys)
    for i in range(3):
        first.append(make_event(i))
    first.close()
    second = open_writer(audit_dir=dirs.audit, keys_dir=dirs.keys)
    second.close()
    seg = dirs.audit / "segments" / first.segment
    bodies = [json.loads(raw) for raw in (seg / "audit.jsonl").read_bytes().splitlines()]
    prev = "0" * 64
    out = b""
    for body in bodies:
        body["justification"] = body.get("justification") and "autre motif"
        body["prev_hash"] = prev
        body["entry_hash"] = prev = entry_hash(body)
        out += canonical_json(body) + b"\n"
    (seg / "audit.jsonl").write_bytes(out)
    (seg / "checkpoints.jsonl").write_bytes(b"")

    report = verify(dirs.audit, dirs.keys)
    assert not report.ok
    assert {p.kind for p in report.problems} == {"witness_mismatch"}
    assert report.first_bad.segment == first.segment and report.first_bad.seq == 4


_KILLED_WRITER = textwrap.dedent("""
    import os, sys
    from pathlib import Path
    sys.path.insert(0, sys.argv[3])
    from hub.audit import open_writer
    from tests.hub.audit.logfiles import make_event
    trail = open_writer(audit_dir=Path(sys.argv[1]), keys_dir=Path(sys.argv[2]))
    for i in range(5):
        trail.append(make_event(i))
    print(trail.segment, flush=True)
    # Dies mid-write: half a line on disk, never acknowledged, no close().
    seg = Path(sys.argv[1]) / "segments" / trail.segment / "audit.jsonl"
    with open(seg, "ab") as f:
        f.write(b'{"action":"consultation","actor"')
    os._exit(9)
""")


def test_a_killed_writers_segment_is_adopted_by_the_next_writer_of_its_host(dirs: Dirs) -> None:
    done = subprocess.run([sys.executable, "-c", _KILLED_WRITER, str(dirs.audit), str(dirs.keys), str(ROOT)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 9, done.stderr
    dead = done.stdout.strip()
    seg = dirs.audit / "segments" / dead
    assert not (seg / CLOSED_MARKER).exists()
    before = verify(dirs.audit, dirs.keys)
    assert before.ok and any("incomplète" in w for w in before.warnings)

    with open_writer(audit_dir=dirs.audit, keys_dir=dirs.keys) as trail:
        opening = trail.query(AuditFilters(action=AuditAction.LOG_OPENED))[0]
        assert opening.details["adopted"] == dead
    assert (seg / CLOSED_MARKER).exists()
    lines = (seg / "audit.jsonl").read_bytes().splitlines()
    recovered = json.loads(lines[-1])
    assert recovered["action"] == "log_recovery" and recovered["seq"] == 7  # opening + 5 + this
    after = verify(dirs.audit, dirs.keys)
    assert after.ok and not after.warnings, after.summary_fr()
    assert next(s for s in after.segments if s.name == dead).sealed_seq == 7


def test_a_live_writers_segment_is_never_adopted(dirs: Dirs) -> None:
    live = open_writer(audit_dir=dirs.audit, keys_dir=dirs.keys)
    live.append(make_event(1))
    other = open_writer(audit_dir=dirs.audit, keys_dir=dirs.keys)
    other.close()
    assert not (dirs.audit / "segments" / live.segment / CLOSED_MARKER).exists()
    live.append(make_event(2))
    live.close()
    assert verify(dirs.audit, dirs.keys).ok


# --- the auditors' query --------------------------------------------------------------------------


def _expected(dirs: Dirs, keep) -> list[tuple[str, int]]:
    """(segment, seq) of the entries ``keep`` accepts, newest recorded first — from the files."""
    rows = [(name, body) for name, body in _all_lines(dirs) if keep(body)]
    rows.sort(key=lambda r: (datetime.fromisoformat(r[1]["recorded_at"]), r[0], r[1]["seq"]), reverse=True)
    return [(name, body["seq"]) for name, body in rows]


def test_the_query_reads_every_segment_with_its_filters_like_a_scan_of_the_files(dirs: Dirs) -> None:
    base = datetime(2025, 9, 1, tzinfo=UTC)
    writers = _writers(dirs, 3)
    for i in range(60):
        writers[i % 3].append(make_event(i, at=base + timedelta(hours=i)))
    for w in writers:
        w.close()
    index = dirs.audit.parent / "idx" / "audit.sqlite"

    cases = [
        (AuditFilters(limit=1000), lambda b: True),
        (AuditFilters(user_id="u1", limit=1000), lambda b: b["actor"]["user_id"] == "u1"),
        (AuditFilters(agency=Agency.DOUANES, limit=1000), lambda b: b["actor"].get("agency") == "douanes"),
        (AuditFilters(lead_id="police:PV-2025-0007", limit=1000), lambda b: "police:PV-2025-0007" in b["lead_ids"]),
        (AuditFilters(entity_key="vehicle:AB-105-CD", limit=1000), lambda b: "vehicle:AB-105-CD" in b["entity_keys"]),
        (AuditFilters(action=AuditAction.LOG_OPENED, limit=1000), lambda b: b["action"] == "log_opened"),
        (AuditFilters(since=base + timedelta(hours=10), until=base + timedelta(hours=20), limit=1000),
         lambda b: base + timedelta(hours=10) <= datetime.fromisoformat(b["at"]) < base + timedelta(hours=20)),
    ]
    for filters, keep in cases:
        got = [(e.segment, e.seq) for e in query(dirs.audit, filters, index_path=index)]
        assert got == _expected(dirs, keep), filters
    # Paging: offset/limit cut the same ordered list.
    page = [(e.segment, e.seq) for e in query(dirs.audit, AuditFilters(limit=7, offset=5), index_path=index)]
    assert page == _expected(dirs, lambda b: True)[5:12]
    assert stat.S_IMODE(os.stat(index).st_mode) == 0o600


def test_the_query_sees_a_live_writers_new_entries_and_survives_losing_its_index(dirs: Dirs) -> None:
    writer = open_writer(audit_dir=dirs.audit, keys_dir=dirs.keys)
    writer.append(make_event(1, justification="première consultation"))
    assert query(dirs.audit, AuditFilters(user_id="u1"))[0].justification == "première consultation"
    writer.append(make_event(5, justification="seconde consultation"))  # u1 again, after the refresh
    got = query(dirs.audit, AuditFilters(user_id="u1"))
    assert [e.justification for e in got] == ["seconde consultation", "première consultation"]
    writer.close()
    default_index_path(dirs.audit).unlink()
    assert [e.justification for e in query(dirs.audit, AuditFilters(user_id="u1"))] == \
        ["seconde consultation", "première consultation"]


def test_the_query_never_returns_what_the_file_no_longer_says(dirs: Dirs) -> None:
    """The index is a pointer, not a source: an entry edited in its file after it was indexed is
    not served from the index's memory of it."""
    with open_writer(audit_dir=dirs.audit, keys_dir=dirs.keys) as writer:
        for i in range(4):
            writer.append(make_event(i, justification=f"motif {i}"))
    assert len(query(dirs.audit, AuditFilters(action=AuditAction.CONSULTATION))) == 4
    path = dirs.audit / "segments" / writer.segment / "audit.jsonl"
    raw = path.read_bytes().replace("motif 2".encode(), "motif X".encode())
    path.write_bytes(raw)
    got = query(dirs.audit, AuditFilters(action=AuditAction.CONSULTATION))
    assert b"motif 2" not in b"".join(e.model_dump_json().encode() for e in got)
    # The altered line no longer hashes to itself: it is not served under its old hash either.
    assert "motif X" not in {e.justification for e in got}
    assert not verify(dirs.audit, dirs.keys).ok


def test_exported_checkpoints_per_segment_catch_a_cut_the_local_files_hide(dirs: Dirs, tmp_path: Path) -> None:
    """The auditors keep a copy of each segment's checkpoints; someone then cuts entries off a
    segment *and* its local checkpoints: the local files agree with each other, the copy does not."""
    import shutil

    with open_writer(audit_dir=dirs.audit, keys_dir=dirs.keys, checkpoint_every=5) as writer:
        for i in range(12):
            writer.append(make_event(i))
    exported = tmp_path / "exported"
    for seg in list_segments(dirs.audit):
        (exported / seg.name).mkdir(parents=True)
        shutil.copy(seg.checkpoints, exported / seg.name / "checkpoints.jsonl")
    seg = dirs.audit / "segments" / writer.segment
    entries = (seg / "audit.jsonl").read_bytes().splitlines(keepends=True)
    (seg / "audit.jsonl").write_bytes(b"".join(entries[:5]))  # entries 6..13 cut
    checkpoints = (seg / "checkpoints.jsonl").read_bytes().splitlines(keepends=True)
    (seg / "checkpoints.jsonl").write_bytes(checkpoints[0])  # the one covering entry 5 kept

    assert verify(dirs.audit, dirs.keys).ok  # the local files alone cannot tell
    report = verify(dirs.audit, dirs.keys, checkpoints_file=exported)
    assert not report.ok
    assert report.first_bad.segment == writer.segment and report.first_bad.kind == "truncated"
    assert report.first_bad.seq == 6
