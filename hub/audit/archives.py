"""The trail's archives (ADR 0028): closed segments sealed into signed, chained archive files,
and how ``verify`` checks them.

Owns ``<audit_dir>/archives/``:

    <n:06d>-<segment>.tar    one archived segment: ``manifest.json``, ``manifest.sig`` and the
                             segment's own files (``audit.jsonl``, ``checkpoints.jsonl``, ``closed``)
    head.json                the last archive made (n, name, file digest): what the next one chains to
    .lock                    flock'ed by the one process archiving

The manifest says what the archive holds (segment, entries, first/last seq and hash, the last
entry's recorded time, SHA-256 of each file) and chains it to the archive made before it
(its name and the SHA-256 of its whole file); ``manifest.sig`` is the audit key's Ed25519
signature over it (domain-separated from checkpoints). The tar is deterministic (no times,
owners or modes of this host) so the same segment seals to the same bytes.

Every archive made is recorded in the trail (``log_archived``: archive, segment, file digest)
by the process that made it, before the segment's directory is removed; every archive deleted
at the end of its retention is recorded first (``log_archive_deleted``: archive, digest, when
its retention ended). ``open_archives`` gives ``verify`` the archived segments (extracted to a
temporary directory, checked there as live ones are) and the archive-level problems: a bad
signature, a file that no longer matches its manifest or its recorded digest, a broken chain,
an archive missing without a deletion recorded on time.

Writing (sealing, deleting, recording) is ``hub/audit/archiving.py``.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from hub.audit.keys import key_id
from hub.audit.layout import CLOSED_MARKER, Segment
from hub.audit.records import CHECKPOINTS_FILE, ENTRIES_FILE, GENESIS_HASH, canonical_json, unb64

ARCHIVES_DIR = "archives"
HEAD_FILE = "head.json"
LOCK_FILE = ".lock"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
SEGMENT_FILES = (ENTRIES_FILE, CHECKPOINTS_FILE, CLOSED_MARKER)
SIGNING_CONTEXT = b"crosshub-audit-archive-v1\n"
ARCHIVED, DELETED = "log_archived", "log_archive_deleted"
BAD, MISSING = "bad_archive", "archive_missing"  # verify's problem kinds


def archives_root(audit_dir: Path) -> Path:
    return Path(audit_dir) / ARCHIVES_DIR


def archive_name(n: int, segment: str) -> str:
    return f"{n:06d}-{segment}.tar"


def list_archives(audit_dir: Path) -> list[Path]:
    root = archives_root(audit_dir)
    return sorted(p for p in root.glob("*.tar") if p.is_file()) if root.is_dir() else []


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def signing_payload(manifest: dict[str, Any]) -> bytes:
    return SIGNING_CONTEXT + canonical_json(manifest)


@dataclass
class Opened:
    """One archive read back: its manifest (None if unreadable) and what is wrong with it."""

    path: Path
    digest: str
    manifest: dict[str, Any] | None = None
    problems: list[str] = field(default_factory=list)
    extracted: Path | None = None  # the segment's files, when the archive is sound enough to read


def read_archive(path: Path, pub: Ed25519PublicKey, into: Path | None = None) -> Opened:
    """Check one archive against the audit key; extract its segment's files under ``into``."""
    opened = Opened(path=path, digest=file_digest(path))
    members: dict[str, bytes] = {}
    try:
        with tarfile.open(path, "r:") as tar:
            for info in tar:
                if not info.isfile() or info.name in members or info.name not in (MANIFEST, SIGNATURE, *SEGMENT_FILES):
                    opened.problems.append(f"membre inattendu « {info.name} »")
                    continue
                f = tar.extractfile(info)
                members[info.name] = f.read() if f is not None else b""
    except (tarfile.TarError, OSError, EOFError) as exc:
        opened.problems.append(f"fichier d'archive illisible ({exc.__class__.__name__})")
        return opened
    try:
        manifest = json.loads(members[MANIFEST])
        sig = unb64(members[SIGNATURE].decode("ascii").strip())
    except (KeyError, ValueError, UnicodeDecodeError):
        opened.problems.append("manifeste ou signature absent ou illisible")
        return opened
    if not isinstance(manifest, dict):
        opened.problems.append("manifeste illisible")
        return opened
    if manifest.get("key_id") != key_id(pub):
        opened.problems.append(f"signé par une autre clé ({manifest.get('key_id')})")
    try:
        pub.verify(sig, signing_payload(manifest))
    except (InvalidSignature, ValueError):
        opened.problems.append("signature du manifeste invalide")
        return opened
    opened.manifest = manifest
    files = manifest.get("files") if isinstance(manifest.get("files"), dict) else {}
    for name in sorted(set(files) | (set(members) - {MANIFEST, SIGNATURE})):
        data = members.get(name)
        if data is None:
            opened.problems.append(f"fichier {name} absent de l'archive")
        elif hashlib.sha256(data).hexdigest() != files.get(name):
            opened.problems.append(f"fichier {name} altéré (empreinte différente du manifeste signé)")
    segment = manifest.get("segment")
    if into is not None and isinstance(segment, str) and "/" not in segment and segment not in ("", ".", ".."):
        target = into / segment
        target.mkdir(parents=True, exist_ok=True)
        for name in SEGMENT_FILES:
            if name in members:
                (target / name).write_bytes(members[name])
        opened.extracted = target
    return opened


def _bodies_with(lines: Iterable[bytes], needle: bytes) -> Iterator[dict[str, Any]]:
    """The JSON entries among ``lines`` that hold ``needle`` (a cheap byte test first)."""
    for raw in lines:
        if needle not in raw:
            continue
        try:
            body = json.loads(raw)
        except ValueError:
            continue
        if isinstance(body, dict):
            yield body


def archived_entries(path: Path, needle: bytes) -> Iterator[dict[str, Any]]:
    """The entries of one archive's segment that hold ``needle``, read through without checking
    the archive (``read_archive`` checks it): for a look-up such as ``crosshub trace``, which
    verifies what it finds by other means. Nothing from an unreadable archive."""
    try:
        with tarfile.open(path, "r:") as tar:
            member = tar.extractfile(ENTRIES_FILE)
            lines = member.read().splitlines() if member is not None else []
    except (tarfile.TarError, OSError, KeyError):
        return
    yield from _bodies_with(lines, needle)


def scan_records(paths: list[Path]) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """The ``log_archived`` and ``log_archive_deleted`` entries of the given entries files,
    by archive name (the last one wins): what the trail says was archived and deleted."""
    archived: dict[str, dict[str, Any]] = {}
    deleted: dict[str, dict[str, Any]] = {}
    needle = b'"log_archive'
    for path in paths:
        try:
            f = path.open("rb")
        except OSError:
            continue
        with f:
            for body in _bodies_with(f, needle):
                details = body.get("details")
                if not isinstance(details, dict) or not isinstance(details.get("archive"), str):
                    continue
                record = {**details, "recorded_at": body.get("recorded_at")}
                if body.get("action") == ARCHIVED:
                    archived[details["archive"]] = record
                elif body.get("action") == DELETED:
                    deleted[details["archive"]] = record
    return archived, deleted


@dataclass
class ArchiveSet:
    """What ``verify`` needs of the archives: the archived segments (extracted copies, alive as
    long as this object), the segments whose archive was deleted on time, and the problems."""

    segments: list[Segment] = field(default_factory=list)
    deleted_segments: set[str] = field(default_factory=set)
    # (verify's problem kind, archive file name, French reason)
    problems: list[tuple[str, str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    count: int = 0  # archive files found
    _tmp: tempfile.TemporaryDirectory | None = None


def open_archives(audit_dir: Path, pub: Ed25519PublicKey, live: list[Segment]) -> ArchiveSet:
    """Read and check every archive of ``audit_dir`` (see the module docstring)."""
    out = ArchiveSet()
    paths = list_archives(audit_dir)
    out.count = len(paths)
    opened: list[Opened] = []
    if paths:
        out._tmp = tempfile.TemporaryDirectory(prefix="crosshub-archives-")
        for path in paths:
            one = read_archive(path, pub, Path(out._tmp.name))
            opened.append(one)
            out.problems += [(BAD, path.name, reason) for reason in one.problems]
            if one.extracted is not None:  # its chain is checked too, to name an altered entry
                out.segments.append(Segment(one.extracted.name, one.extracted))
    archived, deleted = scan_records([s.entries for s in (*live, *out.segments)])
    live_names = {s.name for s in live}
    present = {o.path.name: o for o in opened}
    for name, one in present.items():
        record = archived.get(name)
        segment = (one.manifest or {}).get("segment")
        if record is None:
            if segment in live_names:  # sealed, not yet recorded: the next run records it
                out.warnings.append(f"archive {name} : pas encore enregistrée au journal (archivage interrompu)")
            else:
                out.problems.append((BAD, name, "aucune entrée du journal ne l'enregistre"))
        elif record.get("digest") != one.digest:
            out.problems.append((BAD, name, "altérée : son empreinte n'est plus celle enregistrée au journal"))
        if one.manifest is not None:
            _check_link(name, one.manifest, present, deleted, out)
    for name, record in archived.items():
        if name in present:
            continue
        gone = deleted.get(name)
        if gone is None or gone.get("digest") != record.get("digest"):
            out.problems.append((MISSING, name, "supprimée sans que sa suppression soit enregistrée"))
        elif not _on_time(gone):
            out.problems.append((MISSING, name, f"supprimée avant la fin de sa conservation ({gone.get('due_at')})"))
        elif isinstance(record.get("segment"), str):
            out.deleted_segments.add(record["segment"])
    return out


def _check_link(name: str, manifest: dict[str, Any], present: dict[str, Opened],
                deleted: dict[str, dict[str, Any]], out: ArchiveSet) -> None:
    """The chain: an archive names the one made before it and that file's digest."""
    before, digest = manifest.get("previous_archive"), manifest.get("previous_digest")
    if before is None:
        if digest != GENESIS_HASH:
            out.problems.append((BAD, name, "chaînage des archives rompu (pas de précédente, empreinte inattendue)"))
        return
    if before in present:
        if present[before].digest != digest:
            out.problems.append((BAD, before, f"altérée : l'archive suivante {name} en a enregistré une autre empreinte"))
        return
    gone = deleted.get(str(before))
    if gone is None or gone.get("digest") != digest:
        out.problems.append((MISSING, str(before), f"manquante — l'archive {name} la suit dans la chaîne"))


def _on_time(record: dict[str, Any]) -> bool:
    try:
        return datetime.fromisoformat(str(record["recorded_at"])) >= datetime.fromisoformat(str(record["due_at"]))
    except (KeyError, ValueError, TypeError):
        return False


def tar_bytes(files: dict[str, bytes]) -> bytes:
    """A deterministic tar of ``files`` (in the given order): no time, owner or host mode."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:", format=tarfile.PAX_FORMAT) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode, info.uid, info.gid = len(data), 0, 0o600, 0, 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


__all__ = ["ARCHIVED", "ArchiveSet", "DELETED", "archive_name", "archives_root", "file_digest",
           "list_archives", "open_archives", "read_archive", "scan_records", "signing_payload", "tar_bytes"]
