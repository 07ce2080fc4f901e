"""What the lead workflow reads and writes (graph/workflow/): triage views, status changes, the
triage queue, cross-agency link alerts, planned operations and their deconfliction alerts.

Answers that show a lead say how the caller sees it (``Shown``): the policy's redaction profiles
are one "redacted" to the outside.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from graph.access import shown as access_shown
from graph.models import Hit
from policies.deconfliction import OperationFacts, OperationKind, OperationStatus
from policies.lifecycle import LeadState
from policies.links import Holding, LinkedLead
from policies.triage import DuplicateMatch, PrecisionScore

# Duplicate candidates scored per lead, closest in time first: a hall with hundreds of reports a
# fortnight must not make one batch score tens of thousands of pairs.
MAX_CANDIDATES_PER_LEAD = 100
# Entities on which so many leads meet that a list of them is noise: an alert keeps this many.
MAX_LEADS_PER_LINK = 500
# Who a change is attributed to when no person made it (a lead's arrival, a status opened late).
SYSTEM_USER = ("crosshub", "CROSS Hub")

# How a caller sees a lead, as answers say it: the policy's redaction profiles (``redacted1``…)
# are one "redacted" to the outside, as in graph.read.LeadView.
Shown = Literal["full", "redacted"]


def shown(level: str) -> Shown:
    """The answer's name of a visible access level (``full`` or one of the redaction profiles)."""
    return access_shown(level)  # type: ignore[return-value]  # visible levels only here


class DuplicateView(BaseModel):
    """A likely duplicate as one caller may see it: a lead they may only know of (hit) shows its
    agency and whom to ask, not why it matched."""

    lead_id: str
    agency: str
    access: Literal["full", "redacted", "hit"]
    similarity: int
    reasons_fr: list[str] = Field(default_factory=list)
    contact: str | None = None


class TriageView(BaseModel):
    lead_id: str
    agency: str
    access: Shown
    state: LeadState
    score: int | None = None
    precision: PrecisionScore | None = None
    duplicates: list[DuplicateView] = Field(default_factory=list)
    scored_at: datetime | None = None
    computed_on_read: bool = Field(default=False, description="Score calculé à la lecture (piste antérieure au triage)")
    assignee_agency: str | None = None
    unit: str | None = None
    outcome: str | None = None
    reason: str | None = None
    seq: int = 0
    updated_at: datetime | None = None


class StatusChangeRecord(BaseModel):
    change_id: str
    lead_id: str
    seq: int
    from_state: LeadState | None = None
    to_state: LeadState
    at: datetime
    user_id: str
    user_name: str
    user_agency: str | None = None
    user_role: str | None = None
    by: str | None = None
    note: str = ""
    outcome: str | None = None
    reason: str | None = None
    assignee_agency: str | None = None
    unit: str | None = None


class StatusResult(BaseModel):
    lead_id: str
    state: LeadState
    seq: int
    assignee_agency: str | None = None
    unit: str | None = None
    outcome: str | None = None
    reason: str | None = None
    change: StatusChangeRecord


class QueueItem(BaseModel):
    lead_id: str
    agency: str
    kind: str
    access: Shown
    state: LeadState
    score: int | None = None
    duplicate_count: int = 0
    channel: str | None = None
    reported_at: datetime | None = None
    insee_code: str | None = None
    assignee_agency: str | None = None
    unit: str | None = None
    received_at: datetime | None = None
    updated_at: datetime | None = None


class LinkAlert(BaseModel):
    """A cross-agency link as stored: every lead on the entity, with its marking only."""

    alert_id: str
    entity_kind: str
    entity_key: str
    created_at: datetime
    agencies: list[str]
    new_lead_ids: list[str]
    leads: list[LinkedLead]


class LinkAlertView(BaseModel):
    """A link alert as one agency reads it: its own leads, and per other agency a count."""

    alert_id: str
    created_at: datetime
    entity_kind: str
    entity_key: str
    own_lead_ids: list[str]
    holdings: list[Holding]
    message_fr: str


class AfterIngestReport(BaseModel):
    scored: int = 0
    scores: dict[str, int] = Field(default_factory=dict)
    duplicates: dict[str, list[DuplicateMatch]] = Field(default_factory=dict)
    link_alerts: list[LinkAlert] = Field(default_factory=list)


class OperationPlace(BaseModel):
    insee_code: str
    commune: str | None = None
    location_key: str | None = None
    lat: float | None = None
    lon: float | None = None
    radius_m: float = 200.0


class OperationRecord(BaseModel):
    operation_id: str
    agency: str
    kind: OperationKind
    title: str | None = None
    unit: str
    starts_at: datetime
    ends_at: datetime
    place: OperationPlace
    targets: list[str] = Field(default_factory=list)
    status: OperationStatus = OperationStatus.PLANNED
    created_at: datetime
    created_by: str
    created_by_name: str
    tell_lead_author: bool = Field(
        default=False, description="L'auteur d'une piste qui touche l'opération est invité à "
                                   "contacter votre service (rien d'autre) ; faux par défaut")

    def facts(self) -> OperationFacts:
        p = self.place
        return OperationFacts(
            operation_id=self.operation_id, agency=self.agency, kind=self.kind,
            starts_at=self.starts_at, ends_at=self.ends_at, insee_code=p.insee_code,
            commune=p.commune, location_key=p.location_key, lat=p.lat, lon=p.lon,
            radius_m=p.radius_m, targets=self.targets, status=self.status,
            created_at=self.created_at, title=self.title, tell_lead_author=self.tell_lead_author)


class Acknowledgement(BaseModel):
    agency: str
    user_id: str
    user_name: str
    at: datetime
    note: str = ""


class DeconflictionAlertRecord(BaseModel):
    alert_id: str
    operation_ids: list[str]
    agencies: list[str]
    reasons: list[str]
    reasons_fr: list[str]
    shared_targets: list[str] = Field(default_factory=list)
    distance_m: float | None = None
    overlap_start: datetime
    overlap_end: datetime
    opened_at: datetime
    status: str  # open | closed
    acknowledgements: list[Acknowledgement] = Field(default_factory=list)
    closed_at: datetime | None = None


class OtherOperation(BaseModel):
    """What an agency learns of the other agency's clashing operation: who, what kind, when,
    whom to call — not its title, unit, other targets or exact place."""

    agency: str
    agency_label_fr: str
    kind: OperationKind
    kind_label_fr: str
    starts_at: datetime
    ends_at: datetime
    contact: str | None = None


class AckView(BaseModel):
    agency: str
    at: datetime
    user_name: str | None = None  # only for the reader's own agency


class DeconflictionAlertView(BaseModel):
    alert_id: str
    status: str
    opened_at: datetime
    closed_at: datetime | None = None
    reasons: list[str]
    reasons_fr: list[str]
    shared_targets: list[str]
    distance_m: float | None = None
    overlap_start: datetime
    overlap_end: datetime
    own_operation: OperationRecord
    other_operation: OtherOperation
    acknowledged_by: list[AckView]
    awaiting: list[str] = Field(description="Services dont l'acquittement est attendu")
    message_fr: str


# --- lead-vs-operation deconfliction (graph/workflow/lead_clashes.py, ADR 0017) ------------------


class LeadClashRecord(BaseModel):
    """A lead of another agency that meets an operation, as stored (one per pair)."""

    alert_id: str
    operation_id: str
    lead_id: str
    owner_agency: str
    lead_agency: str
    reasons: list[str]
    shared_targets: list[str] = Field(default_factory=list)
    place: str | None = None  # point | location | commune
    distance_m: float | None = None
    lead_at: datetime
    opened_at: datetime
    status: str  # open | closed
    author_told: bool = False
    acknowledgements: list[Acknowledgement] = Field(default_factory=list)
    closed_at: datetime | None = None


class ClashingLead(BaseModel):
    """The clashing lead as the reader may know it at the moment of reading: full or redacted —
    its id and kind; hit — its agency, whom to call and the hit's handle."""

    access: Literal["full", "redacted", "hit"]
    agency: str
    agency_label_fr: str
    lead_id: str | None = None
    kind: str | None = None
    contact: str | None = None
    hit: Hit | None = None


class LeadClashAlertView(BaseModel):
    alert_id: str
    status: str
    opened_at: datetime
    closed_at: datetime | None = None
    operation: OperationRecord = Field(description="Votre opération")
    reasons: list[str] = Field(description="target (une de vos cibles), place et time (zone et créneau)")
    reasons_fr: list[str]
    shared_targets: list[str]
    distance_m: float | None = None
    lead: ClashingLead
    author_told: bool = Field(description="L'auteur de la piste a été invité à contacter votre service")
    acknowledged_by: list[AckView]
    message_fr: str
