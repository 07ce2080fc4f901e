"""Making a backup: ``make_backup(settings, graph, trail)`` (``crosshub backup``, the scheduled
``backup`` job).

Order, and why:

1. a private temporary directory ``.partial-<id>`` in ``backup_dir``: nothing that looks like a
   backup exists until step 5;
2. the graph, through ``graph.backup.export_graph``: once its fence is up (every copied node's
   write lock held), the head of every segment of the audit trail is read — the *backup
   point*: the entries up to those heads are the ones whose writes the copy holds;
3. the keys and the audit trail, copied after the cut (a segment's copy holds at least its
   head at the point);
4. the manifest (every file's SHA-256, the point), signed with the audit key;
5. fsync, then the temporary directory renamed to ``<id>``: a backup is complete or absent;
6. the backup logged in the trail (``backup``), then the oldest beyond ``backup_keep`` removed.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import secrets
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel

from graph import backup as graph_backup
from graph.handle import Graph
from hub.audit.keys import key_id, load_or_create_signing_key
from hub.audit.layout import list_segments
from hub.audit.restores import BackupPoint, SegmentHead, backup_event
from hub.audit.trail import AuditTrail
from hub.audit.writer import segment_head
from hub.backup import files
from hub.backup.manifest import (
    AUDIT,
    KEYS,
    MANIFEST,
    NODES,
    RELATIONSHIPS,
    SIGNATURE,
    Manifest,
    backup_files,
    manifest_bytes,
    sha256_file,
    sign,
)
from hub.contract.errors import InvalidInput
from hub.keyfiles import fsync_dir
from hub.settings import Settings

log = logging.getLogger("crosshub.backup")

BACKUP_ID = re.compile(r"^crosshub-backup-[0-9]{8}T[0-9]{12}Z-[0-9a-f]{4}$")
PARTIAL_PREFIX = ".partial-"
STALE_PARTIAL_S = 24 * 3600
EXPORT_ATTEMPTS = 5


class BackupResult(BaseModel):
    backup_id: str
    path: Path
    point: BackupPoint
    nodes: int
    relationships: int
    keys: int
    segments: int
    manifest_sha256: str
    removed: list[str] = []


def new_backup_id(now: datetime) -> str:
    return f"crosshub-backup-{now.astimezone(UTC):%Y%m%dT%H%M%S%fZ}-{secrets.token_hex(2)}"


def list_backups(backup_dir: Path) -> list[Path]:
    """The complete backups in ``backup_dir``, oldest first (partial ones are never listed)."""
    if not backup_dir.is_dir():
        return []
    return sorted(p for p in backup_dir.iterdir() if p.is_dir() and BACKUP_ID.match(p.name))


def _point(audit_dir: Path) -> BackupPoint:
    heads = []
    for seg in list_segments(audit_dir):
        seq, digest = segment_head(seg)
        heads.append(SegmentHead(segment=seg.name, seq=seq, hash=digest))
    return BackupPoint(at=datetime.now(UTC), heads=heads)


def _private_text(path: Path):
    """A text file for writing, 0600 from its creation."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    return os.fdopen(fd, "w", encoding="utf-8")


def _export(graph: Graph, work: Path, audit_dir: Path) -> tuple[graph_backup.ExportCounts, BackupPoint]:
    """The graph's copy and the point, retried when a writer deadlocks with the fence."""
    for attempt in range(1, EXPORT_ATTEMPTS + 1):
        files.private_dir((work / NODES).parent)
        points: list[BackupPoint] = []
        try:
            with _private_text(work / NODES) as nodes, _private_text(work / RELATIONSHIPS) as rels:
                counts = graph_backup.export_graph(
                    graph,
                    lambda row: nodes.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n"),
                    lambda row: rels.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n"),
                    lambda: points.append(_point(audit_dir)))
                for f in (nodes, rels):
                    f.flush()
                    os.fsync(f.fileno())
            return counts, points[0]
        except Exception as exc:
            if not graph_backup.transient(exc) or attempt == EXPORT_ATTEMPTS:
                raise
            log.warning("sauvegarde : lecture du graphe interrompue (%s), nouvel essai", exc)
            time.sleep(0.2 * attempt)
    raise AssertionError("unreachable")


def make_backup(settings: Settings, graph: Graph, trail: AuditTrail, *,
                origin: str = "cli") -> BackupResult:
    """A complete, signed backup in ``settings.backup_dir``, logged in ``trail``."""
    backup_dir = files.private_dir(settings.backup_dir)
    key = load_or_create_signing_key(settings.keys_dir)
    backup_id = new_backup_id(datetime.now(UTC))
    work = files.private_dir(backup_dir / f"{PARTIAL_PREFIX}{backup_id}")
    try:
        try:
            counts, point = _export(graph, work, settings.audit_dir)
        except graph_backup.BackupRefused as exc:  # a label or type outside the allow-list
            message = f"sauvegarde impossible, le graphe contient des noms hors liste : {exc}"
            raise InvalidInput(message, details=[{"field": "graphe", "reason": message}]) from None
        n_keys = files.copy_keys(settings.keys_dir, work / KEYS)
        segments = files.copy_trail(settings.audit_dir, files.private_dir(work / AUDIT))
        manifest = Manifest(
            backup_id=backup_id, created_at=datetime.now(UTC).isoformat(), point=point,
            nodes=counts.nodes, relationships=counts.relationships, labels=counts.labels,
            files={rel: sha256_file(work / rel) for rel in backup_files(work)},
            key_id=key_id(key.public_key()))
        data = manifest_bytes(manifest)
        files.write_private(work / MANIFEST, data)
        files.write_private(work / SIGNATURE, sign(data, key).encode("ascii") + b"\n")
        for dirpath, _, _ in os.walk(work):
            fsync_dir(Path(dirpath))
        final = backup_dir / backup_id
        os.rename(work, final)
        fsync_dir(backup_dir)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    digest = sha256_file(final / MANIFEST).sha256
    trail.append(backup_event(origin, backup_id, point, digest, counts.nodes, counts.relationships))
    removed = prune(backup_dir, settings.backup_keep)
    log.info("sauvegarde %s : %d nœud(s), %d relation(s), %d segment(s) d'audit", backup_id,
             counts.nodes, counts.relationships, len(segments))
    return BackupResult(backup_id=backup_id, path=final, point=point, nodes=counts.nodes,
                        relationships=counts.relationships, keys=n_keys, segments=len(segments),
                        manifest_sha256=digest, removed=removed)


def prune(backup_dir: Path, keep: int) -> list[str]:
    """Remove the complete backups beyond the newest ``keep``, and partial ones a day old (a
    backup interrupted by a crash); the names removed."""
    removed = []
    for path in list_backups(backup_dir)[:-keep]:
        shutil.rmtree(path)
        removed.append(path.name)
    for path in backup_dir.glob(f"{PARTIAL_PREFIX}*"):
        with contextlib.suppress(OSError):
            if time.time() - path.stat().st_mtime > STALE_PARTIAL_S:
                shutil.rmtree(path)
                removed.append(path.name)
    return removed
