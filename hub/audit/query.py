"""Reading the audit trail back, newest first.

``query(audit_dir, filters)`` answers across every writer's segment (ADR 0012) through the
SQLite index (index.py): refreshed from the segments first, so what any hub — on any host writing
to the shared directory — acknowledged is found; filtered by B-tree indexes (a filtered query over
10⁶ entries answers in milliseconds, ``bench/audit.py``); and every entry returned is read back
from its segment and re-hashed, never taken from the index alone. Entries come back as
``TrailEntry``: the stored entry plus the segment it was read from.

``read_entries`` is the scan of one chain's file from its end (a writer reading its own segment:
``AuditTrail.query``), kept for a lone chain and for tests.

Readers take no lock on the segments: they read complete lines only (files.py), so they are safe
beside running writers, or on a copy.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from hub.audit.files import complete_size, iter_lines_reverse
from hub.audit.index import AuditIndex, read_indexed
from hub.audit.layout import Segment, list_segments
from hub.audit.records import ENTRIES_FILE, AuditEntry, AuditFilters, TrailEntry
from hub.contract.errors import CrossHubError

log = logging.getLogger(__name__)


def query(audit_dir: Path, filters: AuditFilters | None = None, *,
          index_path: Path | None = None) -> list[TrailEntry]:
    """Entries of the trail in ``audit_dir`` matching ``filters``, newest (last recorded) first,
    ``filters.offset`` matches skipped, at most ``filters.limit`` returned.

    Does not verify the chains (``verify`` does), but never returns an entry whose line no
    longer hashes to what the index recorded: its segment is re-indexed from the file and the
    query asked again."""
    f = filters or AuditFilters()
    index = AuditIndex(Path(audit_dir), index_path)
    out: list[TrailEntry] = []
    for _ in range(2):
        index.refresh()
        segments = {seg.name: seg for seg in list_segments(Path(audit_dir))}
        stale: set[str] = set()
        out = []
        files: dict[str, int | None] = {}
        try:
            for name, _seq, offset, length, digest in index.locate(f, f.limit, f.offset):
                if name not in files:
                    files[name] = _open(segments.get(name))
                fd = files[name]
                body = read_indexed(fd, offset, length, digest) if fd is not None else None
                if body is None or not _matches(body, f):
                    stale.add(name)
                    continue
                try:
                    out.append(TrailEntry.model_validate({**body, "segment": name}))
                except (ValidationError, CrossHubError):
                    log.warning("journal d'audit : entrée illisible ignorée par la recherche (segment %s)", name)
        finally:
            for fd in files.values():
                if fd is not None:
                    os.close(fd)
        if not stale:
            return out
        log.warning("index d'audit périmé pour %s : relu depuis les segments", ", ".join(sorted(stale)))
        for name in stale:
            index.forget(name)
    return out


def _open(seg: Segment | None) -> int | None:
    if seg is None:
        return None
    try:
        return os.open(seg.entries, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None


def read_entries(audit_dir: Path, f: AuditFilters, end: int | None) -> list[AuditEntry]:
    """``query``, reading only up to offset ``end`` when given (the writer's acknowledged size:
    ``AuditTrail.query``)."""
    try:
        fd = os.open(audit_dir / ENTRIES_FILE, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return []
    out: list[AuditEntry] = []
    try:
        if end is None:
            end = complete_size(fd, os.fstat(fd).st_size)
        skipped = 0
        for line in iter_lines_reverse(fd, end):
            try:
                body = json.loads(line)
                if not _matches(body, f):
                    continue
                entry = AuditEntry.model_validate(body)
            except (ValueError, KeyError, TypeError, AttributeError, ValidationError, CrossHubError):
                log.warning("journal d'audit : ligne illisible ignorée par la recherche")
                continue
            if skipped < f.offset:
                skipped += 1
                continue
            out.append(entry)
            if len(out) >= f.limit:
                break
    finally:
        os.close(fd)
    return out


def _matches(body: dict[str, Any], f: AuditFilters) -> bool:
    # Cheap tests on the raw dict first: only matches pay for pydantic validation.
    if f.action is not None and body["action"] != f.action.value:
        return False
    if f.outcome is not None and body["decision"]["outcome"] != f.outcome.value:
        return False
    if f.user_id is not None and body["actor"]["user_id"] != f.user_id:
        return False
    if f.agency is not None and body["actor"]["agency"] != f.agency.value:
        return False
    if f.lead_id is not None and (f.lead_id not in body["lead_ids"]
                                  and not set(f.lead_aliases) & set(body["lead_ids"])):
        return False
    if f.entity_key is not None and f.entity_key not in body["entity_keys"]:
        return False
    if f.entries and body.get("seq") not in {seq for _, seq in f.entry_refs()}:
        return False  # the segment is the file's, checked by the index (read_entries: one chain)
    if f.since is not None or f.until is not None:
        at = datetime.fromisoformat(body["at"])
        if f.since is not None and at < f.since:
            return False
        if f.until is not None and at >= f.until:
            return False
    return True
