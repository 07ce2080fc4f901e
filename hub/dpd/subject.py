"""A data subject's access report (LED art. 14, through the CNIL's indirect access, art. 17): for
one pseudonym, plate or phone, which leads mention it (graph/subject_access.py) and who
consulted those leads or that entity, and when (the trail, through the auditors' index).

The value is normalized as ingest normalized it (``policies.watches.normalize_target``, over the
kernel's normalizers): « ab 123 cd » finds AB-123-CD, « 06 12 34 56 78 » finds +33612345678.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from graph.handle import Graph
from graph.subject_access import MentioningLead, SubjectKind, leads_mentioning
from hub.contract.errors import InvalidInput
from hub.dpd.trail import EntryLink, consultations_of, entry_links
from policies.dpd_watch import EntryRef
from policies.watches import normalize_target

KIND_FR: dict[str, str] = {"person": "personne (pseudonyme)", "vehicle": "véhicule (immatriculation)",
                           "phone": "téléphone"}
ACTION_FR = {"consultation": "Consultation", "disclosure": "Communication"}


class SubjectConsultation(BaseModel):
    at: datetime
    action: Literal["consultation", "disclosure"]
    user_id: str
    name: str
    agency: str | None
    role: str
    justification: str | None
    outcome: str
    # What the entry names of the subject: its leads and keys.
    lead_ids: list[str]
    entity_keys: list[str]
    recipients: list[str]
    entry: EntryRef
    link: EntryLink


class SubjectReport(BaseModel):
    kind: SubjectKind
    key: str
    keys: list[str]
    generated_at: datetime
    leads: list[MentioningLead]
    consultations: list[SubjectConsultation]
    links: list[EntryLink]  # every consultation listed, in the auditors' journal


def normalized_subject(kind: str, value: str) -> str:
    """The key ``value`` is stored under; InvalidInput naming ``value`` when it is none."""
    try:
        return normalize_target(kind, value).split(":", 1)[1]
    except ValueError as exc:
        raise InvalidInput(f"valeur invalide : {exc}",
                           details=[{"field": "value", "reason": str(exc)}]) from None


def build_subject(graph: Graph, audit_dir: Path, index_path: Path | None, kind: SubjectKind,
                  value: str, *, base_url: str, now: datetime | None = None) -> SubjectReport:
    key = normalized_subject(kind, value)
    found = leads_mentioning(graph, kind, key)
    leads = {lead.lead_id for lead in found.leads}
    keys = set(found.keys)
    entries = consultations_of(audit_dir, index_path, lead_ids=sorted(leads), entity_keys=sorted(keys))
    rows = []
    for e in entries:
        ref = EntryRef(segment=e.segment, seq=e.seq, entry_hash=e.entry_hash)
        rows.append(SubjectConsultation(
            at=e.at, action=e.action.value, user_id=e.actor.user_id, name=e.actor.name,
            agency=e.actor.agency.value if e.actor.agency else None, role=e.actor.role,
            justification=e.justification, outcome=e.decision.outcome.value,
            lead_ids=[i for i in e.lead_ids if i in leads], entity_keys=[k for k in e.entity_keys if k in keys],
            recipients=e.recipients, entry=ref, link=entry_links([ref], base_url)[0]))
    return SubjectReport(kind=kind, key=key, keys=found.keys, generated_at=now or datetime.now(UTC),
                         leads=found.leads, consultations=rows,
                         links=entry_links([r.entry for r in rows], base_url))
