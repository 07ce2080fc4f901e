"""What the agenda's section providers and the action reads share: the read context of one
participant over one meeting's window (``AgendaContext``), the handling code of what is derived
from several leads (``strictest``), and the builders of lead references and entity labels.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import neo4j

from graph.access import NONE, AccessFilter
from graph.access import shown as public_level
from graph.identity import Principal
from graph.labels import KEY_PROPERTY, LABEL_KIND, EntityKind, Rel
from graph.meetings.models import HitCount, LeadRef, Meeting
from graph.records import native, utc
from hub.contract.lead import HandlingCode
from policies.engine import derived_marking
from policies.models import Marking

SECTION_LIMIT = 20  # items listed per section; counts always cover everything

# Entity links that make two leads "about the same thing". Commune-level locations are left out:
# every lead of a town shares them.
LINK_RELS = "|".join(r.value for r in (Rel.MENTIONS_VEHICLE, Rel.INVOLVES, Rel.MENTIONS_PHONE,
                                        Rel.CONCERNS, Rel.AT))
LINKED_ENTITY = "NOT (ent:Location AND ent.key STARTS WITH 'commune:')"
# The link chart joins leads through what identifies a network — vehicles, persons, phones,
# deal points — not through places, which a whole town's leads share (hotspots cover places).
CHART_RELS = "|".join(r.value for r in (Rel.MENTIONS_VEHICLE, Rel.INVOLVES, Rel.MENTIONS_PHONE, Rel.CONCERNS))
ENTITY_PROPS = "ent {.plate, .pseudonym, .number, .key, .address, .place_label, .commune, .label, .insee_code}"


def timestamp(value: Any) -> float:
    return native(value).timestamp() if value is not None else 0.0


def strictest(codes: list[str] | set[str]) -> HandlingCode:
    """The handling code of something derived from leads with these codes."""
    if not codes:
        return HandlingCode.H0
    return derived_marking([Marking(handling_code=HandlingCode(c)) for c in codes]).handling_code


@dataclass(frozen=True)
class AgendaContext:
    """One participant reading one meeting's window: the Cypher fragments and parameters every
    section starts from."""

    meeting: Meeting
    departement: str
    include_unlocated: bool
    window_start: datetime
    window_end: datetime
    participant: Principal
    access: AccessFilter
    now: datetime

    def params(self, **extra: Any) -> dict[str, Any]:
        return {"dept": self.departement, "own": self.include_unlocated,
                "ws": utc(self.window_start), "we": utc(self.window_end),
                **self.access.params, **extra}

    @property
    def dept_filter(self) -> str:
        return "(l.departement = $dept OR (l.departement IS NULL AND $own))"

    @property
    def new_expr(self) -> str:
        return ("((l.reported_at >= $ws AND l.reported_at < $we) OR "
                "(l.ingested_at >= $ws AND l.ingested_at < $we AND l.reported_at < $ws))")

    def window_leads(self) -> str:
        """Cypher binding ``l`` (new in the window, in the département) and ``access`` (never
        ``none``): the start of every window section."""
        return (
            "CALL () { "
            "  MATCH (l:Lead) WHERE l.reported_at >= $ws AND l.reported_at < $we RETURN l "
            "  UNION "
            "  MATCH (l:Lead) WHERE l.ingested_at >= $ws AND l.ingested_at < $we AND l.reported_at < $ws RETURN l "
            "} "
            f"WITH l WHERE l.version > 0 AND {self.dept_filter} "
            f"WITH l, {self.access.case_expression} AS access WHERE access <> '{NONE}' "
        )

    def hits(self, counts: dict[str, int]) -> list[HitCount]:
        return [HitCount(agency=a, lead_count=n, contact=self.access.contacts.get(a))
                for a, n in sorted(counts.items())]


def lead_ref(row: dict[str, Any], communes: dict[str, str] | None = None) -> LeadRef:
    insee = row.get("insee_code")
    return LeadRef(lead_id=row["lead_id"], agency=row["agency"], kind=row["kind"],
                   handling_code=row["handling_code"], reported_at=native(row.get("reported_at")),
                   insee_code=insee, commune=(communes or {}).get(insee) if insee else None,
                   access=public_level(row["access"]))


def commune_names(tx: neo4j.ManagedTransaction, codes: set[str]) -> dict[str, str]:
    if not codes:
        return {}
    return {r["code"]: r["name"] for r in tx.run(
        "MATCH (c:Commune) WHERE c.insee_code IN $codes RETURN c.insee_code AS code, c.name AS name",
        codes=sorted(codes))}


def entity_identity(labels: list[str], props: dict[str, Any]) -> tuple[str, str, str]:
    """(kind, key, display label) of an entity. Persons show a short handle of their
    pseudonym — never anything else, there is nothing else."""
    label = next((lb for lb in labels if lb in LABEL_KIND), labels[0] if labels else "?")
    kind = LABEL_KIND.get(label)
    key = str(props.get(KEY_PROPERTY[kind.label]) if kind else props.get("key"))
    if kind is EntityKind.PERSON:
        shown = f"Personne {key.rsplit(':', 1)[-1][:8]}"
    elif kind is EntityKind.VEHICLE:
        shown = f"Véhicule {key}"
    elif kind is EntityKind.PHONE:
        shown = f"Téléphone {key}"
    elif kind is EntityKind.DEAL_POINT:
        shown = f"Point de deal — {props.get('label') or key}"
    elif kind is EntityKind.LOCATION:
        place = props.get("address") or props.get("place_label") or key
        shown = f"Lieu — {place}" + (f" ({props['commune']})" if props.get("commune") else "")
    else:
        shown = key
    return (kind.value if kind else label.lower()), key, shown
