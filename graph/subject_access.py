"""A data subject's access request (LED art. 14, exercised through the CNIL, art. 17): which
leads mention one person (pseudonym), vehicle (plate) or phone — for the DPD's report
(hub/dpd/subject.py), never for an analyst.

``leads_mentioning`` follows the entity's merged group (an analyst's "same" judgement,
``MERGED_INTO``) and, for a person, the pseudonyms of the same person under an earlier linkage
key (``SAME_AS``), so a subject is found under every key the hub knows them by. It answers what
the DPD needs to route the request to each controller — the lead's id, agency, kind, dates and
handling code — and never the lead's content: the auditor does not read leads (roles.yaml).
No access filter: the caller is the auditor, whose role reads the trail, not leads; the hub
checks that role before calling (hub/routers/dpd.py).

An unknown key answers an empty list, like a key no lead mentions any more.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import neo4j
from pydantic import BaseModel

from graph.groups import MAX_MERGED_GROUP
from graph.handle import Graph
from graph.labels import EntityKind, Label, Rel
from graph.records import native

SubjectKind = Literal["person", "vehicle", "phone"]

# What links a lead to an entity of each kind, and what else names the same subject.
_MENTION: dict[str, Rel] = {"vehicle": Rel.MENTIONS_VEHICLE, "phone": Rel.MENTIONS_PHONE,
                            "person": Rel.INVOLVES}
_SAME: dict[str, str] = {"vehicle": Rel.MERGED_INTO.value, "phone": Rel.MERGED_INTO.value,
                         "person": f"{Rel.MERGED_INTO.value}|{Rel.SAME_AS.value}"}


class MentioningLead(BaseModel):
    lead_id: str
    agency: str
    kind: str | None = None
    handling_code: str | None = None
    observed_at: datetime | None = None
    reported_at: datetime | None = None
    # Which of the subject's keys this lead names (the typed one, or a merged/earlier one).
    via: list[str]


class SubjectLeads(BaseModel):
    kind: SubjectKind
    key: str
    # Every key of the subject found: the typed one and those merged with it (``kind:key``).
    keys: list[str]
    leads: list[MentioningLead]


def leads_mentioning(graph: Graph, kind: SubjectKind, key: str) -> SubjectLeads:
    """The leads (current versions) that mention ``key`` of ``kind``, already normalized
    (policies.watches.normalize_target), oldest observation first."""
    entity = EntityKind(kind)
    label, prop = entity.label.value, entity.key_property
    rel = _MENTION[kind].value

    def work(tx: neo4j.ManagedTransaction) -> list[dict[str, Any]]:
        rows = tx.run(
            f"MATCH (e:{label} {{{prop}: $key}}) "
            f"MATCH (e)-[:{_SAME[kind]}*0..{MAX_MERGED_GROUP}]-(m:{label}) "
            "WITH collect(DISTINCT m) AS group "
            "UNWIND group AS m "
            f"OPTIONAL MATCH (l:{Label.LEAD.value})-[:{rel}]->(m) WHERE l.version > 0 "
            f"RETURN m.{prop} AS key, l.lead_id AS lead_id, l.agency AS agency, l.kind AS kind, "
            "l.handling_code AS handling_code, l.observed_at AS observed_at, "
            "l.reported_at AS reported_at",
            key=key,
        )
        return [{k: native(v) for k, v in r.items()} for r in rows]

    rows = graph.read(work)
    keys = sorted({f"{kind}:{r['key']}" for r in rows})
    leads: dict[str, MentioningLead] = {}
    for r in rows:
        if r["lead_id"] is None:
            continue
        via = f"{kind}:{r['key']}"
        if r["lead_id"] in leads:
            if via not in leads[r["lead_id"]].via:
                leads[r["lead_id"]].via.append(via)
            continue
        leads[r["lead_id"]] = MentioningLead(
            lead_id=r["lead_id"], agency=r["agency"], kind=r["kind"], handling_code=r["handling_code"],
            observed_at=r["observed_at"], reported_at=r["reported_at"], via=[via])
    ordered = sorted(leads.values(), key=lambda x: (
        x.observed_at is None, x.observed_at.isoformat() if x.observed_at else "", x.lead_id))
    return SubjectLeads(kind=kind, key=key, keys=keys or [f"{kind}:{key}"], leads=ordered)
