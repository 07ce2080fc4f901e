"""Sealing the trail's old segments into archives, and deleting archives at the end of their
retention (ADR 0028): ``run_archiving``. What an archive is, and how it is checked: archives.py.

One run, under the archives' lock (one archiver per host; the hub's job also runs once across
processes, hub/jobs/once.py):

1. every **closed** segment (never the initial trail, never the writer's own) whose last entry is
   older than ``online_months`` is sealed: the archive is written to a temporary file (0600),
   fsynced, renamed into place, the directory fsynced; then read back from the disk and checked
   (signature, file digests, the segment's head) — only then is ``log_archived`` appended to the
   trail (fsynced by the trail before ``append`` returns), the segment's directory removed and the
   auditors' index told to forget it. A run interrupted between two steps is finished by the
   next one (an archive already written for a segment still present is checked and reused);
2. every archive whose segment's last entry is older than ``archive_months`` is deleted — the
   ``log_archive_deleted`` entry (archive, its digest, when its retention ended) is appended
   first, so no archive ever disappears unrecorded.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.audit.archives import (
    ARCHIVED,
    DELETED,
    HEAD_FILE,
    LOCK_FILE,
    MANIFEST,
    SEGMENT_FILES,
    SIGNATURE,
    archive_name,
    archives_root,
    file_digest,
    list_archives,
    read_archive,
    scan_records,
    signing_payload,
    tar_bytes,
)
from hub.audit.files import complete_size, last_line
from hub.audit.index import AuditIndex
from hub.audit.keys import key_id, load_or_create_signing_key
from hub.audit.layout import INITIAL_SEGMENT, Segment, list_segments
from hub.audit.records import GENESIS_HASH, b64, canonical_json, sha256_hex
from hub.audit.trail import AuditTrail
from hub.contract.errors import ConfigurationError
from hub.keyfiles import ensure_private_dir, fsync_dir, write_all
from policies.audit import SYSTEM_ACTOR, AuditAction, AuditEvent, Decision, DecisionOutcome
from policies.audit_retention import AuditRetention

RULE = "audit.retention"


@dataclass
class ArchivingReport:
    archived: list[str] = field(default_factory=list)  # archive file names made (or finished)
    deleted: list[str] = field(default_factory=list)  # archive file names deleted
    refused: list[str] = field(default_factory=list)  # French: what was left alone, and why


def run_archiving(audit_dir: Path, keys_dir: Path, trail: AuditTrail, rules: AuditRetention,
                  now: datetime, *, index_path: Path | None = None) -> ArchivingReport:
    audit_dir = Path(audit_dir)
    key = load_or_create_signing_key(Path(keys_dir))
    root = archives_root(audit_dir)
    ensure_private_dir(root)
    report = ArchivingReport()
    with _locked(root):
        live = list_segments(audit_dir)
        recorded, recorded_deleted = scan_records([s.entries for s in live])
        existing = {p.name[7:-4]: p for p in list_archives(audit_dir)}  # segment -> archive
        for seg in live:
            if seg.name == INITIAL_SEGMENT or not seg.closed or seg.name == getattr(trail, "segment", None):
                continue
            first, last = _edge(seg, first=True), _edge(seg, first=False)
            if first is None or last is None or not rules.archive_due(_at(last), now):
                continue
            path = existing.get(seg.name) or _seal(root, seg, key, first, last, now)
            opened = read_archive(path, key.public_key())
            m = opened.manifest or {}
            if opened.problems or (m.get("last_seq"), m.get("last_hash")) != (last["seq"], last["entry_hash"]):
                report.refused.append(f"segment {seg.name} : archive {path.name} non conforme, segment conservé "
                                      f"({'; '.join(opened.problems) or 'tête différente'})")
                continue
            if path.name not in recorded:
                trail.append(_event(AuditAction.LOG_ARCHIVED, {
                    "archive": path.name, "segment": seg.name, "digest": opened.digest, "n": m["n"],
                    "entries": m["entries"], "last_seq": m["last_seq"], "last_hash": m["last_hash"],
                    "last_recorded_at": m["last_recorded_at"]}))
            shutil.rmtree(seg.path)
            fsync_dir(seg.path.parent)
            AuditIndex(audit_dir, index_path).forget(seg.name)
            report.archived.append(path.name)
        for path in list_archives(audit_dir):
            opened = read_archive(path, key.public_key())
            last_at = (opened.manifest or {}).get("last_recorded_at")
            if not isinstance(last_at, str):
                report.refused.append(f"archive {path.name} illisible : conservée ({'; '.join(opened.problems)})")
                continue
            due = rules.delete_after(datetime.fromisoformat(last_at))
            if now < due:
                continue
            if path.name not in recorded_deleted:
                trail.append(_event(AuditAction.LOG_ARCHIVE_DELETED, {
                    "archive": path.name, "segment": opened.manifest["segment"], "digest": opened.digest,
                    "last_recorded_at": last_at, "due_at": due.isoformat(),
                    "archive_months": rules.archive_months}))
            path.unlink()
            fsync_dir(root)
            report.deleted.append(path.name)
    return report


def _event(action: AuditAction, details: dict[str, Any]) -> AuditEvent:
    return AuditEvent(action=action, actor=SYSTEM_ACTOR, personal_data=False, details=details,
                      decision=Decision(outcome=DecisionOutcome.NOT_APPLICABLE, rule_id=RULE))


@contextlib.contextmanager
def _locked(root: Path) -> Iterator[None]:
    fd = os.open(root / LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConfigurationError("archivage du journal d'audit déjà en cours (un autre processus)") from None
        yield
    finally:
        os.close(fd)


def _edge(seg: Segment, *, first: bool) -> dict[str, Any] | None:
    """The first or last complete entry of a segment, parsed (None if empty or unreadable)."""
    try:
        fd = os.open(seg.entries, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        if first:
            with os.fdopen(os.dup(fd), "rb") as f:
                line = f.readline()
            line = line if line.endswith(b"\n") else None
        else:
            line = last_line(fd, complete_size(fd, os.fstat(fd).st_size))
    finally:
        os.close(fd)
    try:
        body = json.loads(line) if line else None
    except ValueError:
        return None
    return body if isinstance(body, dict) and "seq" in body and "entry_hash" in body else None


def _at(entry: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(entry["recorded_at"])


def _head(root: Path) -> tuple[int, str | None, str]:
    """(n, name, file digest) of the last archive made: head.json, else the newest file."""
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        head = json.loads((root / HEAD_FILE).read_bytes())
        return int(head["n"]), str(head["name"]), str(head["digest"])
    newest = max(root.glob("*.tar"), default=None)
    if newest is None:
        return 0, None, GENESIS_HASH
    return int(newest.name[:6]), newest.name, file_digest(newest)


def _write_new(path: Path, data: bytes) -> None:
    """``data`` into ``path`` through a fsynced 0600 temporary file renamed into place."""
    tmp = path.with_name(f".tmp-{path.name}")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        write_all(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    fsync_dir(path.parent)


def _seal(root: Path, seg: Segment, key: Ed25519PrivateKey, first: dict[str, Any], last: dict[str, Any],
          now: datetime) -> Path:
    n, before, before_digest = _head(root)
    files = {name: (seg.path / name).read_bytes() for name in SEGMENT_FILES if (seg.path / name).exists()}
    size = complete_size_of(files.get(SEGMENT_FILES[0], b""))
    files[SEGMENT_FILES[0]] = files.get(SEGMENT_FILES[0], b"")[:size]  # never a torn tail
    manifest = {
        "v": 1, "n": n + 1, "segment": seg.name, "entries": last["seq"],
        "first_seq": first["seq"], "first_hash": first["entry_hash"],
        "last_seq": last["seq"], "last_hash": last["entry_hash"], "last_recorded_at": last["recorded_at"],
        "files": {name: sha256_hex(data) for name, data in files.items()},
        "previous_archive": before, "previous_digest": before_digest,
        "archived_at": now.isoformat(), "key_id": key_id(key.public_key()),
    }
    sig = b64(key.sign(signing_payload(manifest))).encode("ascii")
    path = root / archive_name(n + 1, seg.name)
    _write_new(path, tar_bytes({MANIFEST: canonical_json(manifest), SIGNATURE: sig, **files}))
    _write_new(root / HEAD_FILE, canonical_json({"n": n + 1, "name": path.name, "digest": file_digest(path)}))
    return path


def complete_size_of(data: bytes) -> int:
    return data.rfind(b"\n") + 1


__all__ = ["ARCHIVED", "ArchivingReport", "DELETED", "run_archiving"]
