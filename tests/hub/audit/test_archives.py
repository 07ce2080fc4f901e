"""The trail's retention (ADR 0028): closed segments whose last entry is older than the online
period are sealed into signed, chained archives; ``verify`` checks across them; an archive
altered or removed before its time is named; a deletion at the end of the archive retention
is recorded first, and verify then passes.

Expected outcomes come from the rule (policies/data/audit_retention.yaml's meaning, with the
durations of the test's own ``AuditRetention``): which segments are due is computed here from
their last entry's time, and archive digests are computed here from the files."""

from __future__ import annotations

import hashlib
import shutil
from datetime import UTC, datetime
from pathlib import Path

from hub.audit import AuditFilters, WriterKind, open_writer, query, verify
from hub.audit.archives import list_archives
from hub.audit.archiving import run_archiving
from hub.audit.layout import list_segments
from policies.audit import AuditAction
from policies.audit_retention import AuditRetention
from policies.retention import add_months
from tests.hub.audit.logfiles import Dirs, make_event

RULES = AuditRetention(online_months=12, archive_months=72)
T0 = datetime(2024, 1, 10, 9, 0, tzinfo=UTC)


def _segment(dirs: Dirs, at: datetime, n: int = 5) -> str:
    with open_writer(audit_dir=dirs.audit, keys_dir=dirs.keys, kind=WriterKind.CLI,
                     checkpoint_every=3, clock=lambda: at) as trail:
        for i in range(n):
            trail.append(make_event(i))
        return trail.segment


def _archive(dirs: Dirs, now: datetime):
    with open_writer(audit_dir=dirs.audit, keys_dir=dirs.keys, kind=WriterKind.JOB, clock=lambda: now) as trail:
        return run_archiving(dirs.audit, dirs.keys, trail, RULES, now, index_path=_index(dirs))


def _index(dirs: Dirs) -> Path:
    return dirs.audit.parent / "index.sqlite"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _entries(dirs: Dirs, action: AuditAction):
    return query(dirs.audit, AuditFilters(action=action), index_path=_index(dirs))


def _setup(dirs: Dirs) -> tuple[list[str], datetime]:
    """Segments A (T0), B (T0 + 1 month), C (T0 + 14 months); archived at T0 + 13 months + 1 day."""
    stamps = [T0, add_months(T0, 1), add_months(T0, 14)]
    names = [_segment(dirs, at) for at in stamps]
    query(dirs.audit, AuditFilters(), index_path=_index(dirs))  # the index knows every segment
    now = add_months(T0, 13).replace(day=11)
    report = _archive(dirs, now)
    due = [name for name, at in zip(names, stamps, strict=True) if add_months(at, RULES.online_months) <= now]
    assert due == names[:2]  # the rule, applied by hand
    assert [p.name[7:-4] for p in list_archives(dirs.audit)] == due
    assert [p[7:-4] for p in report.archived] == due
    return names, now


def test_old_segments_are_archived_and_verify_passes_across_archives(dirs: Dirs) -> None:
    names, _ = _setup(dirs)
    live = {s.name for s in list_segments(dirs.audit)}
    assert names[0] not in live and names[1] not in live and names[2] in live
    report = verify(dirs.audit, dirs.keys)
    assert report.ok, report.problems
    assert {names[0], names[1], names[2]} <= {s.name for s in report.segments}
    # Each archive is recorded in the trail with the digest of its file.
    recorded = {e.details["archive"]: e.details["digest"] for e in _entries(dirs, AuditAction.LOG_ARCHIVED)}
    assert recorded == {p.name: _digest(p) for p in list_archives(dirs.audit)}
    # The auditors' index forgot the archived segments.
    assert not {e.segment for e in query(dirs.audit, AuditFilters(limit=1000), index_path=_index(dirs))} & set(names[:2])
    # A second run finds nothing more to do.
    again = _archive(dirs, add_months(T0, 13).replace(day=12))
    assert again.archived == [] and again.deleted == []
    assert verify(dirs.audit, dirs.keys).ok


def test_an_altered_or_early_deleted_archive_is_named(dirs: Dirs, tmp_path: Path) -> None:
    _setup(dirs)
    first, second = list_archives(dirs.audit)

    altered = Dirs(audit=tmp_path / "altered" / "audit", keys=dirs.keys)
    shutil.copytree(dirs.audit, altered.audit)
    target = altered.audit / "archives" / first.name
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01  # one byte, one bit
    target.write_bytes(bytes(data))
    report = verify(altered.audit, altered.keys)
    assert not report.ok
    assert any(p.kind == "bad_archive" and first.name in p.message for p in report.problems), report.problems

    removed = Dirs(audit=tmp_path / "removed" / "audit", keys=dirs.keys)
    shutil.copytree(dirs.audit, removed.audit)
    (removed.audit / "archives" / second.name).unlink()
    report = verify(removed.audit, removed.keys)
    assert not report.ok
    assert any(p.kind == "archive_missing" and second.name in p.message for p in report.problems), report.problems


def test_a_due_deletion_is_recorded_and_verify_then_passes(dirs: Dirs) -> None:
    names, _ = _setup(dirs)
    first = list_archives(dirs.audit)[0]
    digest = _digest(first)
    now = add_months(T0, RULES.archive_months).replace(day=11)  # A's archive is due, B's is not
    report = _archive(dirs, now)
    assert report.deleted == [first.name]
    assert not first.exists()
    deletions = _entries(dirs, AuditAction.LOG_ARCHIVE_DELETED)
    assert [(e.details["archive"], e.details["digest"]) for e in deletions] == [(first.name, digest)]
    verdict = verify(dirs.audit, dirs.keys)
    assert verdict.ok, verdict.problems


def test_the_cli_applies_the_packaged_retention(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from hub.cli import app
    from hub.settings import Settings

    settings = Settings(data_dir=tmp_path)
    _segment(Dirs(audit=settings.audit_dir, keys=settings.keys_dir), datetime.now(UTC))
    result = CliRunner().invoke(app, ["audit", "archive"], env={"CROSSHUB_DATA_DIR": str(tmp_path)})
    assert result.exit_code == 0, result.output
    assert "12 mois en ligne" in result.output and "Rien à archiver" in result.output
    assert verify(settings.audit_dir, settings.keys_dir).ok
