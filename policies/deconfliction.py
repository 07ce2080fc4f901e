"""Deconfliction (RISSafe model, domain.md): when two agencies' planned operations collide.

Owns the vocabulary of operations (kinds, statuses, targets as ``<kind>:<key>`` entity keys),
the rules as data (``policies/data/deconfliction.yaml``: time margin, place distance, commune
fallback) and the pure clash test ``clash(new, other, rules)``:

    clash = another agency's active operation
            AND overlapping time windows (widened by the margin)
            AND (a shared target OR a shared place)

A shared place is: both points within ``place_distance_m`` (or the sum of the two radii when
larger), or the same location key, or — when either gives no point — the same commune. Each
clash carries its reasons (``time``, ``target``, ``place``) with French wording for both
agencies; the wording names only what both operations share, nothing else of the other's.

The same file holds the rules of lead-vs-operation deconfliction (``lead_clash``: the target
lookback, and which operations may let a lead's author be told whom to call), applied by
``policies.lead_clash`` (ADR 0017).

Pure: no clock, no I/O beyond reading the rules file.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field

from hub.contract.errors import InvalidInput
from hub.contract.lead import PSEUDONYM, Agency
from hub.contract.normalize import (
    normalize_foreign_plate,
    normalize_phone,
    normalize_plate,
)
from policies.models import PolicyModel

DECONFLICTION_FILE = "deconfliction.yaml"
_PARIS = ZoneInfo("Europe/Paris")


class OperationKind(StrEnum):
    SURVEILLANCE = "surveillance"
    CONTROLLED_DELIVERY = "controlled_delivery"
    ARREST = "arrest"
    SEARCH = "search"


OPERATION_KIND_LABELS_FR: dict[OperationKind, str] = {
    OperationKind.SURVEILLANCE: "surveillance",
    OperationKind.CONTROLLED_DELIVERY: "livraison surveillée",
    OperationKind.ARREST: "interpellation",
    OperationKind.SEARCH: "perquisition",
}


class OperationStatus(StrEnum):
    PLANNED = "planned"
    ACTIVE = "active"
    DONE = "done"
    CANCELLED = "cancelled"


class ClashReason(StrEnum):
    TIME = "time"
    TARGET = "target"
    PLACE = "place"


# Entity kinds an operation may target, and how each reads in French.
TARGET_KINDS: dict[str, str] = {
    "vehicle": "véhicule",
    "phone": "téléphone",
    "person": "personne",
    "location": "lieu",
    "deal_point": "point de deal",
}


def normalize_target(raw: str) -> str:
    """``<kind>:<key>`` with the key normalized as ingest normalizes it (plates, phones), so an
    operation on ``vehicle:ab 123 cd`` meets one on ``vehicle:AB-123-CD``. Raises ValueError
    (French) when malformed."""
    kind, sep, key = raw.strip().partition(":")
    key = key.strip()
    if not sep or not key:
        raise ValueError("format attendu « type:clé », p. ex. vehicle:AB-123-CD")
    if kind not in TARGET_KINDS:
        raise ValueError(f"type de cible inconnu « {kind} » (admis : {', '.join(TARGET_KINDS)})")
    if kind == "vehicle":
        foreign = re.match(r"^([A-Z]{2}):(.+)$", key.upper())
        key = normalize_foreign_plate(foreign.group(2), foreign.group(1)) if foreign else normalize_plate(key)
    elif kind == "phone":
        key = normalize_phone(key)
    elif kind == "person" and not PSEUDONYM.match(key):
        raise ValueError("pseudonyme attendu (ps1:<clé>:<64 hexadécimaux>) : jamais un nom")
    elif len(key) > 300:
        raise ValueError("clé trop longue (300 caractères au plus)")
    return f"{kind}:{key}"


def target_label_fr(target: str) -> str:
    kind, _, key = target.partition(":")
    if kind == "person":
        return f"personne {key.rsplit(':', 1)[-1][:8]}"  # a pseudonym is unreadable: short handle
    return f"{TARGET_KINDS.get(kind, kind)} {key}"


# --- rules (data) -------------------------------------------------------------------------------


class TellLeadAuthor(PolicyModel):
    """Which operations may let the author of a clashing lead be told « contactez <bureau> »
    (``policies.lead_clash``): the owner opts in per operation, within these kinds and agencies.
    Empty: no operation may."""

    kinds: list[OperationKind] = Field(default_factory=list)
    agencies: list[Agency] = Field(default_factory=list)


class LeadClashRules(PolicyModel):
    """Lead-vs-operation deconfliction (``policies.lead_clash``, ADR 0017)."""

    # A lead touches a target from the operation's declaration, less this lookback (a stop
    # observed just before the declaration and reported after it still matters), to its end.
    target_lookback_h: int = Field(default=72, ge=0, le=24 * 31)
    tell_lead_author: TellLeadAuthor = Field(default_factory=TellLeadAuthor)


class DeconflictionRules(PolicyModel):
    version: Literal[1]
    time_margin_min: int = Field(ge=0, le=24 * 60)
    place_distance_m: float = Field(gt=0, le=50_000)
    commune_fallback: bool = True
    max_duration_days: int = Field(default=31, ge=1, le=366)
    active_statuses: list[OperationStatus] = Field(min_length=1)
    lead_clash: LeadClashRules = Field(default_factory=LeadClashRules)
    digest: str = ""

    @property
    def margin(self) -> timedelta:
        return timedelta(minutes=self.time_margin_min)


def load_deconfliction_rules(path: Path | str | None = None) -> DeconflictionRules:
    from policies.loader import data_dir, load_rules_file

    entry = Path(path) if path is not None else data_dir() / DECONFLICTION_FILE
    return load_rules_file(DeconflictionRules, entry, "déconfliction")


# --- the clash test -----------------------------------------------------------------------------


class OperationFacts(BaseModel):
    """What the clash test reads of an operation."""

    operation_id: str
    agency: str
    kind: OperationKind
    starts_at: datetime
    ends_at: datetime
    insee_code: str
    commune: str | None = None
    location_key: str | None = None
    lat: float | None = None
    lon: float | None = None
    radius_m: float = 200.0
    targets: list[str] = Field(default_factory=list)
    status: OperationStatus = OperationStatus.PLANNED
    # Read by the lead-vs-operation test only (policies.lead_clash).
    created_at: datetime | None = None
    title: str | None = None
    tell_lead_author: bool = False

    @property
    def has_point(self) -> bool:
        return self.lat is not None and self.lon is not None


class Clash(BaseModel):
    operation_id: str
    other_operation_id: str
    reasons: list[ClashReason]
    reasons_fr: list[str]
    shared_targets: list[str] = Field(default_factory=list)
    distance_m: float | None = None
    overlap_start: datetime
    overlap_end: datetime


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    # Equirectangular approximation (as graph/leads.py): well under 1 % off at a few kilometres.
    lat = math.radians((a[0] + b[0]) / 2)
    dx = math.radians(b[1] - a[1]) * math.cos(lat)
    dy = math.radians(b[0] - a[0])
    return 6_371_000 * math.hypot(dx, dy)


def paris(value: datetime) -> str:
    return value.astimezone(_PARIS).strftime("%d/%m/%Y %H:%M")


def clash(new: OperationFacts, other: OperationFacts, rules: DeconflictionRules) -> Clash | None:
    """The clash between ``new`` and ``other``, or None. Same-agency operations never clash
    here (a service deconflicts its own), nor a finished or cancelled one."""
    if new.agency == other.agency or other.status not in rules.active_statuses:
        return None
    margin = rules.margin
    if not (new.starts_at - margin < other.ends_at and other.starts_at < new.ends_at + margin):
        return None
    overlap_start, overlap_end = max(new.starts_at, other.starts_at), min(new.ends_at, other.ends_at)

    shared = sorted(set(new.targets) & set(other.targets))
    place_fr: str | None = None
    dist: float | None = None
    if new.has_point and other.has_point:
        dist = distance_m((new.lat, new.lon), (other.lat, other.lon))  # type: ignore[arg-type]
        if dist <= max(rules.place_distance_m, new.radius_m + other.radius_m):
            place_fr = f"lieux à {round(dist)} m l'un de l'autre"
    if place_fr is None and new.location_key and new.location_key == other.location_key:
        place_fr = "même lieu"
    if (place_fr is None and rules.commune_fallback and not (new.has_point and other.has_point)
            and new.insee_code == other.insee_code):
        place_fr = f"même commune ({other.commune or new.commune or new.insee_code}), lieu précis non renseigné"
    if not shared and place_fr is None:
        return None

    reasons, reasons_fr = [ClashReason.TIME], []
    if overlap_start < overlap_end:
        reasons_fr.append(f"créneaux qui se chevauchent du {paris(overlap_start)} au {paris(overlap_end)}")
    else:
        gap = abs(overlap_start - overlap_end)
        reasons_fr.append(f"créneaux à moins de {rules.time_margin_min} min l'un de l'autre "
                          f"({round(gap.total_seconds() / 60)} min d'écart)")
    if shared:
        reasons.append(ClashReason.TARGET)
        reasons_fr.append("cible commune : " + ", ".join(target_label_fr(t) for t in shared))
    if place_fr is not None:
        reasons.append(ClashReason.PLACE)
        reasons_fr.append(place_fr)
    return Clash(operation_id=new.operation_id, other_operation_id=other.operation_id,
                 reasons=reasons, reasons_fr=reasons_fr, shared_targets=shared,
                 distance_m=round(dist, 1) if dist is not None else None,
                 overlap_start=min(overlap_start, overlap_end), overlap_end=max(overlap_start, overlap_end))


def check_window(starts_at: datetime, ends_at: datetime, now: datetime, rules: DeconflictionRules) -> None:
    """An operation's window must be ordered, bounded and not over; raises ``InvalidInput``
    naming ``ends_at``."""
    reason = None
    if ends_at <= starts_at:
        reason = "doit être postérieure au début (starts_at)"
    elif ends_at - starts_at > timedelta(days=rules.max_duration_days):
        reason = f"une opération dure au plus {rules.max_duration_days} jours : la découper en phases"
    elif ends_at <= now:
        reason = "déjà passée : une opération se déclare avant d'agir"
    if reason:
        raise InvalidInput(f"ends_at : {reason}", details=[{"field": "ends_at", "reason": reason}])


def normalize_targets(raw: list[str], field: str = "targets") -> list[str]:
    """Normalized, de-duplicated targets; raises ``InvalidInput`` naming ``targets[i]``."""
    out: list[str] = []
    for i, item in enumerate(raw):
        try:
            target = normalize_target(item)
        except ValueError as exc:
            raise InvalidInput(f"{field}[{i}] : {exc}",
                               details=[{"field": f"{field}[{i}]", "reason": str(exc)}]) from None
        if target not in out:
            out.append(target)
    return out


def clashes(new: OperationFacts, others: list[OperationFacts], rules: DeconflictionRules) -> list[Clash]:
    return [c for o in others if (c := clash(new, o, rules)) is not None]
