"""Reading the audit trail back: ``query(audit_dir, filters)`` — entries newest first.

Query scans the entries file backwards and stops when the page is full, so recent pages are
cheap; a filter that matches little reads the whole file (about 70 000 lines/s on the
development machine: 10⁶ lines ≈ 15 s). Fine for one CROSS's consultation volume; an index
(SQLite beside the log, rebuilt from it, never trusted over it) is future work.

Readers take no lock: they read complete lines only (files.py), so they are safe beside the
running writer, or on a copy.
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
from hub.audit.records import ENTRIES_FILE, AuditEntry, AuditFilters
from hub.contract.errors import CrossHubError

log = logging.getLogger(__name__)


def query(audit_dir: Path, filters: AuditFilters | None = None) -> list[AuditEntry]:
    """Entries of the log in ``audit_dir`` matching ``filters``, newest (highest seq) first,
    ``filters.offset`` matches skipped, at most ``filters.limit`` returned.

    A linear scan from the end of the file (see the module docstring for its cost). Does not
    verify the chain (``verify`` does): an unreadable line is skipped with a warning. Takes no
    lock: a line being appended is not read until complete.
    """
    return read_entries(Path(audit_dir), filters or AuditFilters(), None)


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
    if f.since is not None or f.until is not None:
        at = datetime.fromisoformat(body["at"])
        if f.since is not None and at < f.since:
            return False
        if f.until is not None and at >= f.until:
            return False
    return True
