"""What the DPD's reports read of the audit trail, and how they point back into it.

``week_records`` reads one ISO week of consultations and disclosures through the auditors'
index (hub/audit/query.py: filtered by action and period, every entry re-hashed from its
segment) and hands them to the pure watch (policies/dpd_watch.py) as ``TrailRecord``;
``consultations_of`` reads who consulted some leads or entities (the index holds lead ids and
entity keys). ``entry_links`` turns a finding's entries into the auditors' links: the web
journal (``/journal?entrees=…``) and the API (``/api/v1/audit?entry=…``), each naming exactly
those entries by ``<segment>:<seq>`` (ADR 0030).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from urllib.parse import urlencode

from pydantic import BaseModel

from hub.audit import AuditFilters, TrailEntry, query
from policies.audit import AuditAction
from policies.dpd_watch import EntryRef, TrailRecord

PAGE = 10_000  # entries per index query (AuditFilters.limit's ceiling)
# Entries one link names: a URL stays short enough for every browser and proxy.
PER_LINK = 40
READ_ACTIONS = (AuditAction.CONSULTATION, AuditAction.DISCLOSURE)


class EntryLink(BaseModel):
    label: str
    web: str
    api: str


def record_of(e: TrailEntry) -> TrailRecord:
    return TrailRecord(segment=e.segment, seq=e.seq, entry_hash=e.entry_hash, at=e.at,
                       action=e.action, actor=e.actor, outcome=e.decision.outcome,
                       lead_ids=e.lead_ids, entity_keys=e.entity_keys,
                       justification=e.justification, recipients=e.recipients, details=e.details)


def _all(audit_dir: Path, index_path: Path | None, **filters: object) -> list[TrailEntry]:
    out: list[TrailEntry] = []
    while True:
        page = query(audit_dir, AuditFilters(limit=PAGE, offset=len(out), **filters),
                     index_path=index_path)
        out += page
        if len(page) < PAGE:
            return out


def week_records(audit_dir: Path, index_path: Path | None, since: datetime,
                 until: datetime) -> list[TrailRecord]:
    """Every consultation and disclosure whose event time is in [since, until), oldest first."""
    entries = [e for action in READ_ACTIONS
               for e in _all(audit_dir, index_path, since=since, until=until, action=action)]
    return sorted((record_of(e) for e in entries), key=lambda r: (r.at, r.segment, r.seq))


def consultations_of(audit_dir: Path, index_path: Path | None, *, lead_ids: Iterable[str],
                     entity_keys: Iterable[str]) -> list[TrailEntry]:
    """The consultations and disclosures naming any of ``lead_ids`` or ``entity_keys``, oldest
    first, each once."""
    found: dict[tuple[str, int], TrailEntry] = {}
    for action in READ_ACTIONS:
        for lead_id in dict.fromkeys(lead_ids):
            for e in _all(audit_dir, index_path, action=action, lead_id=lead_id):
                found[(e.segment, e.seq)] = e
        for key in dict.fromkeys(entity_keys):
            for e in _all(audit_dir, index_path, action=action, entity_key=key):
                found[(e.segment, e.seq)] = e
    return sorted(found.values(), key=lambda e: (e.at, e.segment, e.seq))


def entry_links(refs: list[EntryRef], base_url: str) -> list[EntryLink]:
    """Links naming exactly ``refs``, ``PER_LINK`` at a time."""
    base = base_url.rstrip("/")
    out = []
    for start in range(0, len(refs), PER_LINK):
        chunk = [r.ref for r in refs[start:start + PER_LINK]]
        label = (f"entrées {start + 1} à {start + len(chunk)}" if len(refs) > PER_LINK
                 else ("l'entrée" if len(chunk) == 1 else f"les {len(chunk)} entrées"))
        out.append(EntryLink(
            label=label,
            web=f"{base}/journal?{urlencode({'entrees': ','.join(chunk)})}",
            api=f"{base}/api/v1/audit?{urlencode([('entry', c) for c in chunk] + [('limit', len(chunk))])}"))
    return out
