"""Triage: how precise a lead is, which earlier leads it likely duplicates, and what each source
channel and connector's leads led to (hit rates).

Owns the rules as validated data (``TriageRules``, loaded from ``policies/data/triage.yaml`` by
``load_triage_rules``, errors naming file and line like the access policy's loader) and the pure
computations on facts another room gathers:

* ``precision_score(facts, rules)`` — 0 to 100 from the CROSS's own criteria (place, date and
  time, description, vehicle, plate, repeated pattern), each criterion with its points and the
  French reason shown to the analyst. The repeated-pattern counts come from the graph
  (``LeadFacts.same_place`` …): this module only reads numbers.
* ``score_duplicate`` / ``likely_duplicates`` — similarity of a lead with an earlier candidate
  (kind, place, shared plate/phone/person/deal point, time apart), with reasons; flagged from the
  rules' threshold.
* ``hit_rates(rows, rules)`` — per source channel and per connector: leads closed with a hit
  outcome (arrest, seizure) over leads resolved (closed or dismissed).

Pure: no clock, no I/O beyond reading the rules file.
"""

from __future__ import annotations

import string
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from hub.contract.lead import (
    LEAD_KIND_LABELS_FR,
    Agency,
    HandlingCode,
    Lead,
    LeadKind,
    SourceChannel,
)
from policies.lifecycle import CloseOutcome, LeadState, LifecycleRules
from policies.models import PolicyModel, TextFr

TRIAGE_FILE = "triage.yaml"

CHANNEL_LABELS_FR: dict[str, str] = {
    SourceChannel.CITIZEN_PLATFORM: "plateforme citoyenne",
    SourceChannel.PATROL: "patrouille",
    SourceChannel.INVESTIGATION: "enquête",
    SourceChannel.INFORMANT: "source humaine",
    SourceChannel.VIDEO: "vidéoprotection",
    SourceChannel.CUSTOMS_CONTROL: "contrôle douanier",
    SourceChannel.PARTNER: "partenaire (bailleur, transporteur…)",
}

CRITERION_LABELS_FR: dict[str, str] = {
    "place": "Lieu",
    "observed_at": "Date et heure",
    "description": "Description physique",
    "vehicle": "Véhicule",
    "plate": "Immatriculation",
    "pattern": "Schéma répété",
}


# --- rules (data) -------------------------------------------------------------------------------


class Level(PolicyModel):
    points: int = Field(ge=0, le=100)
    reason_fr: TextFr


class PlaceRule(PolicyModel):
    address: Level
    point: Level
    place_label: Level
    commune: Level
    missing_fr: TextFr

    @property
    def max_points(self) -> int:
        return max(self.address.points, self.point.points, self.place_label.points, self.commune.points)


class Criterion(PolicyModel):
    points: int = Field(ge=0, le=100)
    reason_fr: TextFr
    missing_fr: TextFr


class PatternTier(PolicyModel):
    min_count: int = Field(ge=2, le=1000)
    points: int = Field(ge=0, le=100)


class PatternRule(PolicyModel):
    window_days: int = Field(ge=1, le=365)
    tiers: list[PatternTier] = Field(min_length=1)
    reason_fr: TextFr
    missing_fr: TextFr
    exclude_other_agencies_handling: list[HandlingCode] = Field(default_factory=list)

    @field_validator("tiers")
    @classmethod
    def _ordered(cls, v: list[PatternTier]) -> list[PatternTier]:
        counts = [t.min_count for t in v]
        if counts != sorted(counts, reverse=True) or len(set(counts)) != len(counts):
            raise ValueError("paliers à donner par min_count strictement décroissant")
        if [t.points for t in v] != sorted((t.points for t in v), reverse=True):
            raise ValueError("un palier plus exigeant ne peut pas valoir moins de points")
        return v

    @field_validator("reason_fr")
    @classmethod
    def _placeholders(cls, v: str) -> str:
        fields = {f for _, f, _, _ in string.Formatter().parse(v) if f is not None}
        unknown = sorted(fields - {"count", "where", "days"})
        if unknown:
            raise ValueError(f"variable(s) inconnue(s) : {', '.join(unknown)} (admises : count, where, days)")
        return v

    @property
    def max_points(self) -> int:
        return self.tiers[0].points


class PrecisionRules(PolicyModel):
    place: PlaceRule
    observed_at: Criterion
    description: Criterion
    vehicle: Criterion
    plate: Criterion
    pattern: PatternRule

    @model_validator(mode="after")
    def _hundred(self) -> PrecisionRules:
        total = (self.place.max_points + self.observed_at.points + self.description.points
                 + self.vehicle.points + self.plate.points + self.pattern.max_points)
        if total != 100:
            raise ValueError(f"les points maximaux des critères totalisent {total}, il faut 100")
        return self


class DuplicateWeights(PolicyModel):
    same_kind: int = Field(ge=0, le=100)
    same_location: int = Field(ge=0, le=100)
    near_location: int = Field(ge=0, le=100)
    plate: int = Field(ge=0, le=100)
    phone: int = Field(ge=0, le=100)
    person: int = Field(ge=0, le=100)
    deal_point: int = Field(ge=0, le=100)
    within_a_day: int = Field(ge=0, le=100)
    within_window: int = Field(ge=0, le=100)


class DuplicateRules(PolicyModel):
    window_days: int = Field(ge=1, le=365)
    radius_m: float = Field(gt=0, le=5000)
    threshold: int = Field(ge=1, le=100)
    keep: int = Field(default=5, ge=1, le=50)
    weights: DuplicateWeights


class HitRateRules(PolicyModel):
    hit_outcomes: list[CloseOutcome] = Field(min_length=1)


class TriageRules(PolicyModel):
    version: Literal[1]
    precision: PrecisionRules
    duplicates: DuplicateRules
    lifecycle: LifecycleRules
    hit_rates: HitRateRules
    digest: str = ""


def load_triage_rules(path: Path | str | None = None) -> TriageRules:
    """Load and validate the triage rules (default: the packaged ``policies/data/triage.yaml``).
    Raises ``ConfigurationError`` naming the file and line of the first problem."""
    from policies.loader import data_dir, load_rules_file

    entry = Path(path) if path is not None else data_dir() / TRIAGE_FILE
    return load_rules_file(TriageRules, entry, "triage")


# --- precision ----------------------------------------------------------------------------------


class PlacePrecision(StrEnum):
    ADDRESS = "address"
    POINT = "point"
    PLACE_LABEL = "place_label"
    COMMUNE = "commune"


class LeadFacts(BaseModel):
    """What precision scoring reads of one lead. Counts of the repeated pattern include the lead
    itself (0 when the lead has no such place, deal point or plate)."""

    lead_id: str
    agency: Agency
    kind: LeadKind
    place: PlacePrecision | None = None
    observed: bool = False
    described_persons: int = Field(default=0, ge=0)
    described_vehicles: int = Field(default=0, ge=0)
    plates: int = Field(default=0, ge=0)
    same_place: int = Field(default=0, ge=0)
    same_deal_point: int = Field(default=0, ge=0)
    same_plate: int = Field(default=0, ge=0)

    @classmethod
    def from_lead(cls, lead: Lead, *, same_place: int = 0, same_deal_point: int = 0,
                  same_plate: int = 0, lead_id: str | None = None) -> LeadFacts:
        loc = lead.location
        place = None
        if loc is not None:
            place = (PlacePrecision.ADDRESS if loc.address else PlacePrecision.POINT if loc.point
                     else PlacePrecision.PLACE_LABEL if loc.place_label else PlacePrecision.COMMUNE)
        return cls(
            lead_id=lead_id or lead.source_key, agency=lead.source_agency, kind=lead.kind, place=place,
            observed=lead.observed_at is not None,
            described_persons=sum(1 for p in lead.persons if person_described(p.description)),
            described_vehicles=sum(1 for v in lead.vehicles if v.make or v.model or v.colour),
            plates=sum(1 for v in lead.vehicles if v.plate),
            same_place=same_place, same_deal_point=same_deal_point, same_plate=same_plate,
        )


# What singles a person out; sex alone does not.
DESCRIPTOR_FIELDS = ("apparent_age_min", "apparent_age_max", "height_cm", "build", "clothing",
                     "distinctive_marks")


def person_described(description: object) -> bool:
    if description is None:
        return False
    get = description.get if isinstance(description, dict) else lambda k: getattr(description, k, None)
    return any(get(f) not in (None, "") for f in DESCRIPTOR_FIELDS)


class CriterionScore(BaseModel):
    criterion: str
    label_fr: str
    points: int
    max_points: int
    met: bool
    reason_fr: str


class PrecisionScore(BaseModel):
    score: int = Field(ge=0, le=100)
    criteria: list[CriterionScore]
    rules_digest: str = ""

    @property
    def reasons_fr(self) -> list[str]:
        return [c.reason_fr for c in self.criteria if c.met]


def _criterion(name: str, rule: Criterion, met: bool) -> CriterionScore:
    return CriterionScore(criterion=name, label_fr=CRITERION_LABELS_FR[name],
                          points=rule.points if met else 0, max_points=rule.points, met=met,
                          reason_fr=rule.reason_fr if met else rule.missing_fr)


def precision_score(facts: LeadFacts, rules: TriageRules) -> PrecisionScore:
    p = rules.precision
    criteria: list[CriterionScore] = []

    if facts.place is None:
        criteria.append(CriterionScore(criterion="place", label_fr=CRITERION_LABELS_FR["place"],
                                       points=0, max_points=p.place.max_points, met=False,
                                       reason_fr=p.place.missing_fr))
    else:
        level: Level = getattr(p.place, facts.place.value)
        criteria.append(CriterionScore(criterion="place", label_fr=CRITERION_LABELS_FR["place"],
                                       points=level.points, max_points=p.place.max_points,
                                       met=True, reason_fr=level.reason_fr))
    criteria.append(_criterion("observed_at", p.observed_at, facts.observed))
    criteria.append(_criterion("description", p.description, facts.described_persons > 0))
    criteria.append(_criterion("vehicle", p.vehicle, facts.described_vehicles > 0))
    criteria.append(_criterion("plate", p.plate, facts.plates > 0))

    # The strongest repetition wins; ties prefer the place (what the CROSS reads first).
    where, count = max(
        (("au même lieu", facts.same_place), ("sur le même point de deal", facts.same_deal_point),
         ("pour la même immatriculation", facts.same_plate)),
        key=lambda wc: wc[1],
    )
    tier = next((t for t in p.pattern.tiers if count >= t.min_count), None)
    criteria.append(CriterionScore(
        criterion="pattern", label_fr=CRITERION_LABELS_FR["pattern"],
        points=tier.points if tier else 0, max_points=p.pattern.max_points, met=tier is not None,
        reason_fr=(p.pattern.reason_fr.format(count=count, where=where, days=p.pattern.window_days)
                   if tier else p.pattern.missing_fr),
    ))
    return PrecisionScore(score=min(100, sum(c.points for c in criteria)), criteria=criteria,
                          rules_digest=rules.digest)


# --- duplicates ---------------------------------------------------------------------------------

SharedKind = Literal["plate", "phone", "person", "deal_point"]

SHARED_REASONS_FR: dict[str, str] = {
    "plate": "même immatriculation",
    "phone": "même numéro de téléphone",
    "person": "même personne (pseudonyme)",
    "deal_point": "même point de deal",
}


class DuplicateCandidate(BaseModel):
    """An earlier lead the graph found near ``lead_id``: what they share."""

    lead_id: str
    other_lead_id: str
    other_agency: str
    lead_kind: LeadKind
    other_kind: LeadKind
    same_location: bool = False
    near_location_m: float | None = None
    shared: list[SharedKind] = Field(default_factory=list)
    hours_apart: float = Field(ge=0)


class DuplicateMatch(BaseModel):
    lead_id: str = Field(description="La piste antérieure probablement identique")
    agency: str
    similarity: int = Field(ge=0, le=100)
    reasons_fr: list[str]


def _apart_fr(hours: float) -> str:
    if hours < 1:
        return "observées à moins d'une heure d'intervalle"
    if hours < 24:
        return f"observées à {round(hours)} h d'intervalle"
    days = round(hours / 24)
    return f"observées à {days} jour{'s' if days > 1 else ''} d'intervalle"


def score_duplicate(c: DuplicateCandidate, rules: TriageRules) -> DuplicateMatch:
    d = rules.duplicates
    w = d.weights
    score, reasons = 0, []
    if c.lead_kind is c.other_kind:
        score += w.same_kind
        reasons.append(f"même nature ({LEAD_KIND_LABELS_FR[c.lead_kind].lower()})")
    if c.same_location:
        score += w.same_location
        reasons.append("même lieu")
    elif c.near_location_m is not None and c.near_location_m <= d.radius_m:
        score += w.near_location
        reasons.append(f"lieux à {round(c.near_location_m)} m l'un de l'autre")
    for kind in ("plate", "phone", "person", "deal_point"):
        if kind in c.shared:
            score += getattr(w, kind)
            reasons.append(SHARED_REASONS_FR[kind])
    if c.hours_apart <= 24:
        score += w.within_a_day
        reasons.append(_apart_fr(c.hours_apart))
    elif c.hours_apart <= d.window_days * 24:
        score += w.within_window
        reasons.append(_apart_fr(c.hours_apart))
    return DuplicateMatch(lead_id=c.other_lead_id, agency=c.other_agency,
                          similarity=min(100, score), reasons_fr=reasons)


def likely_duplicates(candidates: Iterable[DuplicateCandidate],
                      rules: TriageRules) -> dict[str, list[DuplicateMatch]]:
    """Per lead, the earlier leads it likely duplicates: similarity at or above the threshold
    AND something concrete in common (a place or an entity — same kind and same day alone are
    not a subject), most similar first, at most ``keep``."""
    d = rules.duplicates
    out: dict[str, list[DuplicateMatch]] = defaultdict(list)
    for c in candidates:
        if c.hours_apart > d.window_days * 24:
            continue
        concrete = c.same_location or c.shared or (
            c.near_location_m is not None and c.near_location_m <= d.radius_m)
        if not concrete:
            continue
        match = score_duplicate(c, rules)
        if match.similarity >= d.threshold:
            out[c.lead_id].append(match)
    return {k: sorted(v, key=lambda m: (-m.similarity, m.lead_id))[: d.keep] for k, v in out.items()}


# --- hit rates ----------------------------------------------------------------------------------


class ResolutionCount(BaseModel):
    """How many resolved leads of one channel and connector ended in one state and outcome."""

    channel: str
    connector: str
    state: LeadState
    outcome: CloseOutcome | None = None
    count: int = Field(ge=0)


class HitRate(BaseModel):
    key: str
    label_fr: str
    resolved: int = Field(description="Pistes clôturées ou écartées sur la période")
    closed: int
    dismissed: int
    hits: int = Field(description="Clôturées avec une issue comptée comme succès")
    outcomes: dict[str, int] = Field(default_factory=dict)
    rate: float | None = Field(description="hits / resolved ; null sans piste résolue")


class HitRates(BaseModel):
    since: datetime | None
    until: datetime | None
    hit_outcomes: list[CloseOutcome]
    overall: HitRate
    by_channel: list[HitRate]
    by_connector: list[HitRate]


def _rate(key: str, label: str, rows: list[ResolutionCount], hit: set[CloseOutcome]) -> HitRate:
    closed = sum(r.count for r in rows if r.state is LeadState.CLOSED)
    dismissed = sum(r.count for r in rows if r.state is LeadState.DISMISSED)
    hits = sum(r.count for r in rows if r.state is LeadState.CLOSED and r.outcome in hit)
    outcomes: dict[str, int] = defaultdict(int)
    for r in rows:
        if r.state is LeadState.CLOSED and r.outcome is not None:
            outcomes[r.outcome.value] += r.count
    resolved = closed + dismissed
    return HitRate(key=key, label_fr=label, resolved=resolved, closed=closed, dismissed=dismissed,
                   hits=hits, outcomes=dict(sorted(outcomes.items())),
                   rate=round(hits / resolved, 4) if resolved else None)


def hit_rates(rows: Iterable[ResolutionCount], rules: TriageRules, *, since: datetime | None = None,
              until: datetime | None = None) -> HitRates:
    rows = [r for r in rows if r.state in (LeadState.CLOSED, LeadState.DISMISSED)]
    hit = set(rules.hit_rates.hit_outcomes)
    by_channel: dict[str, list[ResolutionCount]] = defaultdict(list)
    by_connector: dict[str, list[ResolutionCount]] = defaultdict(list)
    for r in rows:
        by_channel[r.channel].append(r)
        by_connector[r.connector].append(r)
    return HitRates(
        since=since, until=until, hit_outcomes=list(rules.hit_rates.hit_outcomes),
        overall=_rate("*", "toutes sources", rows, hit),
        by_channel=[_rate(k, CHANNEL_LABELS_FR.get(k, k), v, hit) for k, v in sorted(by_channel.items())],
        by_connector=[_rate(k, k, v, hit) for k, v in sorted(by_connector.items())],
    )
