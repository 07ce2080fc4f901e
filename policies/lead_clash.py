"""Lead-vs-operation deconfliction (ADR 0017): when a new lead of another agency meets a declared
operation, which operation's owner is alerted, why, and what each party is told.

The rule, with ``policies/data/deconfliction.yaml`` (``DeconflictionRules``, its ``lead_clash``
section):

    clash = an operation of ANOTHER agency, in an active status (``active_statuses``)
            AND ( the lead touches one of its targets (same ``<kind>:<key>``) while the operation
                  exists: lead time in [declaration − target_lookback_h, end + margin]
                  OR the lead falls in its place — as ``clash`` places two operations, the lead
                  being a point of radius 0: within max(place_distance_m, radius_m), the same
                  location key, or the same commune when either gives no point — during its
                  window widened by the margin )

The lead's time is its ``observed_at``, else its ``reported_at``. Only the lead's time counts,
not the moment it reaches the hub: a stop reported after the operation ended, but made during
it, still tells the owner that another unit was on their ground. Only the owner is alerted; the
lead's author is told nothing unless the owner opted in (``tell_lead_author``, allowed per kind
and agency by the rules), and then only « contactez <bureau> » (``author_notice_fr``).

What the owner reads of the lead follows its access level at the moment of reading
(``reasons_fr``, ``owner_message_fr``): full — the lead, the distance and the time; redacted —
no time (a redaction profile may withhold it); hit — only which agency holds a lead that touches
the operation and whom to call, as hits are told elsewhere.

Pure: no clock, no I/O.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, Field

from hub.contract.errors import InvalidInput
from hub.contract.lead import AGENCY_LABELS_FR, Agency
from policies.deconfliction import (
    OPERATION_KIND_LABELS_FR,
    ClashReason,
    DeconflictionRules,
    OperationFacts,
    OperationKind,
    distance_m,
    paris,
    target_label_fr,
)
from policies.links import AGENCY_SUBJECTS_FR

PlaceMatch = Literal["point", "location", "commune"]
Level = Literal["full", "redacted", "hit"]


class LeadFacts(BaseModel):
    """What the test reads of a lead: its agency, time, place and the entity keys it names."""

    lead_id: str
    agency: str
    at: datetime
    insee_code: str | None = None
    location_key: str | None = None
    lat: float | None = None
    lon: float | None = None
    entity_keys: list[str] = Field(default_factory=list)

    @property
    def has_point(self) -> bool:
        return self.lat is not None and self.lon is not None


class LeadClash(BaseModel):
    operation_id: str
    lead_id: str
    owner_agency: str
    lead_agency: str
    reasons: list[ClashReason]
    shared_targets: list[str] = Field(default_factory=list)
    place: PlaceMatch | None = None
    distance_m: float | None = None
    lead_at: datetime


@dataclass(frozen=True, slots=True)
class _Prepared:
    """An operation's windows and reach, computed once per batch (not once per lead)."""

    op: OperationFacts
    targets: frozenset[str]
    target_from: datetime
    place_from: datetime
    until: datetime
    reach_m: float
    point: tuple[float, float] | None


def _prepare(op: OperationFacts, rules: DeconflictionRules) -> _Prepared | None:
    """None when the operation cannot clash at all (not in an active status)."""
    until = op.ends_at + rules.margin
    if op.status not in rules.active_statuses:
        return None
    declared = op.created_at or op.starts_at
    return _Prepared(op=op, targets=frozenset(op.targets),
                     target_from=declared - timedelta(hours=rules.lead_clash.target_lookback_h),
                     place_from=op.starts_at - rules.margin, until=until,
                     reach_m=max(rules.place_distance_m, op.radius_m),
                     point=(op.lat, op.lon) if op.has_point else None)  # type: ignore[arg-type]


def _decide(lead: LeadFacts, p: _Prepared, rules: DeconflictionRules) -> LeadClash | None:
    op, at = p.op, lead.at
    if lead.agency == op.agency or not min(p.target_from, p.place_from) <= at <= p.until:
        return None
    shared = sorted(p.targets.intersection(lead.entity_keys)) if p.targets and p.target_from <= at else []
    place: PlaceMatch | None = None
    dist: float | None = None
    if p.place_from <= at:
        lead_point = (lead.lat, lead.lon) if lead.has_point else None
        if lead_point is not None and p.point is not None:
            d = distance_m(lead_point, p.point)  # type: ignore[arg-type]
            if d <= p.reach_m:
                place, dist = "point", d
        if place is None and op.location_key and op.location_key == lead.location_key:
            place = "location"
        if (place is None and rules.commune_fallback and (lead_point is None or p.point is None)
                and lead.insee_code is not None and lead.insee_code == op.insee_code):
            place = "commune"
    if not shared and place is None:
        return None
    reasons = ([ClashReason.TARGET] if shared else []) + ([ClashReason.PLACE, ClashReason.TIME] if place else [])
    return LeadClash(operation_id=op.operation_id, lead_id=lead.lead_id, owner_agency=op.agency,
                     lead_agency=lead.agency, reasons=reasons, shared_targets=shared, place=place,
                     distance_m=round(dist, 1) if dist is not None else None, lead_at=at)


def lead_clash(lead: LeadFacts, op: OperationFacts, rules: DeconflictionRules) -> LeadClash | None:
    """The clash of ``lead`` with ``op``, or None (see the module's rule)."""
    prepared = _prepare(op, rules)
    return _decide(lead, prepared, rules) if prepared is not None else None


def lead_clashes(leads: list[LeadFacts], ops: list[OperationFacts],
                 rules: DeconflictionRules) -> list[LeadClash]:
    """Every clash of ``leads`` with ``ops``. Candidates are narrowed through indexes (targets,
    location keys, communes, a grid of cells at least as wide as the farthest reach), so a batch
    of leads against hundreds of running operations tests a handful of pairs per lead; each pair
    is then ``lead_clash``'s to decide."""
    prepared = [p for o in ops if (p := _prepare(o, rules)) is not None]
    live = [p.op for p in prepared]
    if not live or not leads:
        return []
    by_target: dict[str, list[int]] = defaultdict(list)
    by_location: dict[str, list[int]] = defaultdict(list)
    by_commune: dict[str, list[int]] = defaultdict(list)
    unpointed_by_commune: dict[str, list[int]] = defaultdict(list)
    reach = {i: max(rules.place_distance_m, o.radius_m) for i, o in enumerate(live) if o.has_point}
    # Cell size in degrees: the farthest reach in latitude, and in longitude at the operation's
    # latitude (a degree of longitude shrinks towards the poles).
    cell_lat = max((r / 111_320 for r in reach.values()), default=1.0)
    cell_lon = max((r / (111_320 * max(math.cos(math.radians(live[i].lat or 0)), 0.01))
                    for i, r in reach.items()), default=1.0)
    grid: dict[tuple[int, int], list[int]] = defaultdict(list)
    for i, o in enumerate(live):
        for t in o.targets:
            by_target[t].append(i)
        if o.location_key:
            by_location[o.location_key].append(i)
        by_commune[o.insee_code].append(i)
        if i in reach:
            ci, cj = math.floor(o.lat / cell_lat), math.floor(o.lon / cell_lon)  # type: ignore[operator]
            for di in (-1, 0, 1):
                for dj in (-1, 0, 1):
                    grid[(ci + di, cj + dj)].append(i)
        else:
            unpointed_by_commune[o.insee_code].append(i)
    out: list[LeadClash] = []
    for lead in leads:
        candidates: set[int] = set()
        for key in lead.entity_keys:
            candidates.update(by_target.get(key, ()))
        if lead.location_key:
            candidates.update(by_location.get(lead.location_key, ()))
        if lead.has_point:
            cell = (math.floor(lead.lat / cell_lat), math.floor(lead.lon / cell_lon))  # type: ignore[operator]
            candidates.update(grid.get(cell, ()))
            if lead.insee_code:
                candidates.update(unpointed_by_commune.get(lead.insee_code, ()))
        elif lead.insee_code:
            candidates.update(by_commune.get(lead.insee_code, ()))
        for i in sorted(candidates):
            if (c := _decide(lead, prepared[i], rules)) is not None:
                out.append(c)
    return out


# --- who may be told, and what ------------------------------------------------------------------


def may_tell_author(kind: OperationKind, agency: str, rules: DeconflictionRules) -> bool:
    allowed = rules.lead_clash.tell_lead_author
    return kind in allowed.kinds and agency in {a.value for a in allowed.agencies}


def check_tell_author(kind: OperationKind, agency: str, wanted: bool, rules: DeconflictionRules) -> None:
    """Refuse (``InvalidInput`` naming ``tell_lead_author``) an opt-in the rules do not allow."""
    if wanted and not may_tell_author(kind, agency, rules):
        kinds = ", ".join(OPERATION_KIND_LABELS_FR[k] for k in rules.lead_clash.tell_lead_author.kinds)
        reason = ("non autorisé pour cette opération par les règles de déconfliction"
                  + (f" (seulement : {kinds})" if kinds else "")
                  + " : l'auteur d'une piste n'est alors jamais prévenu")
        raise InvalidInput(f"tell_lead_author : {reason}",
                           details=[{"field": "tell_lead_author", "reason": reason}])


def agency_label_fr(agency: str) -> str:
    try:
        return AGENCY_LABELS_FR[Agency(agency)]
    except ValueError:
        return agency


def reasons_fr(reasons: list[str], shared_targets: list[str], place: str | None,
               distance: float | None, lead_at: datetime | None, level: Level) -> list[str]:
    """Why the lead clashes, as far as the reader may know the lead (see the module)."""
    out = []
    if ClashReason.TARGET in reasons and shared_targets:
        out.append("cible de votre opération : " + ", ".join(target_label_fr(t) for t in shared_targets))
    if place:
        if level == "hit":
            out.append("dans la zone de votre opération, pendant son créneau")
        else:
            where = {"point": f"à {round(distance or 0)} m du lieu de votre opération",
                     "location": "au lieu même de votre opération",
                     "commune": "dans la commune de votre opération (lieu précis non renseigné)"}[place]
            when = f", le {paris(lead_at)}" if level == "full" and lead_at else ", pendant son créneau"
            out.append(where + when)
    return out


def owner_message_fr(*, kind: OperationKind, title: str | None, lead_agency: str, level: Level,
                     lead_id: str | None, reasons: list[str], contact: str | None, open_: bool) -> str:
    """What the owner agency reads: their operation (their own), why, and the lead as far as
    ``level`` lets them know it."""
    op = f"votre opération de {OPERATION_KIND_LABELS_FR[kind]}" + (f" « {title} »" if title else "")
    who = agency_label_fr(lead_agency)
    if level == "hit":
        subject, plural = AGENCY_SUBJECTS_FR.get(Agency(lead_agency), (who, False))
        text = f"{subject[0].upper()}{subject[1:]} {'détiennent' if plural else 'détient'} une piste qui touche {op}"
    else:
        text = f"La piste {lead_id} ({who}) touche {op}"
    text = ("" if open_ else "[close] ") + text + (" : " + " ; ".join(reasons) if reasons else "") + "."
    if contact:
        text += f" Contact : {contact}."
    return text


def owner_batch_message_fr(*, kind: OperationKind, title: str | None, count: int,
                           lead_agencies: list[str]) -> str:
    """The owner's one notice for several leads on one operation in one batch: how many, of which
    agencies — hit-style, the list says the rest."""
    op = f"votre opération de {OPERATION_KIND_LABELS_FR[kind]}" + (f" « {title} »" if title else "")
    who = ", ".join(agency_label_fr(a) for a in dict.fromkeys(lead_agencies))
    return (f"{count} pistes d'autres services ({who}) touchent {op} : voir les alertes de "
            "déconfliction pour qui contacter.")


def author_notice_fr(lead_id: str, owner_agency: str, owner_contact: str) -> str:
    """All the author of the lead is ever told, when the owner opted in: whom to call. Never the
    operation, its kind, targets, place or time."""
    return (f"Piste {lead_id} : contactez {owner_contact} ({agency_label_fr(owner_agency)}) "
            "avant d'y donner suite.")
