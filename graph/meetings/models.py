"""What the weekly CROSS meeting reads and writes (graph/meetings/): the meeting, its actions (as
stored and as a participant sees them), and the agenda with each of its sections.

Every item derived from leads carries its handling code (the strictest of those leads'); leads a
participant may only know of appear as hit counts per agency (``HitCount``), never as leads.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from graph.dossiers.models import OverdueDossier
from graph.federation.reads import FederationWeek
from graph.models import NetworkEdge, NetworkNode
from hub.contract.lead import HandlingCode

ActionStatus = Literal["open", "done", "cancelled"]


class Meeting(BaseModel):
    meeting_id: str
    departement: str
    week: str
    starts_at: datetime
    ends_at: datetime
    created_at: datetime
    created_by: str | None = None
    status: str = "planned"


class ActionView(BaseModel):
    """An action as a participant sees it. When it is about a lead the participant may not
    read, its title and links are withheld (``withheld``): who leads, who is tasked, the
    deadline and the status stay visible, so the meeting can follow it up."""

    action_id: str
    meeting_id: str
    week: str | None = None
    title: str | None = None
    lead_agency: str
    tasked: str
    deadline: date
    status: ActionStatus
    done_at: datetime | None = None
    handling_code: HandlingCode
    lead_ids: list[str] = Field(default_factory=list)
    entity_ids: list[str] = Field(default_factory=list)
    created_at: datetime | None = None
    created_by: str | None = None
    overdue: bool = False
    withheld: bool = False


class NewAction(BaseModel):
    title: str
    lead_agency: str
    tasked: str
    deadline: date
    lead_ids: list[str] = Field(default_factory=list)
    entity_ids: list[str] = Field(default_factory=list)
    handling_code: HandlingCode | None = None


class LeadRef(BaseModel):
    lead_id: str
    agency: str
    kind: str
    handling_code: HandlingCode
    reported_at: datetime | None = None
    insee_code: str | None = None
    commune: str | None = None
    access: str = Field(description="niveau d'accès du participant : full ou redacted")


class HitCount(BaseModel):
    """Hit/no-hit: ``agency`` holds ``lead_count`` leads here that the participant may not read."""

    agency: str
    lead_count: int
    contact: str | None = None


class NewLeadsSummary(BaseModel):
    visible: int = 0
    by_agency: dict[str, int] = Field(default_factory=dict)
    by_kind: dict[str, int] = Field(default_factory=dict)
    by_commune: dict[str, int] = Field(default_factory=dict, description="insee → nombre")
    commune_names: dict[str, str] = Field(default_factory=dict)
    unlocated: int = 0
    hits: list[HitCount] = Field(default_factory=list)
    handling_code: HandlingCode = HandlingCode.H0


class CrossAgencyLink(BaseModel):
    entity_id: str
    kind: str
    label: str
    agencies: list[str]
    leads: list[LeadRef]
    visible_count: int
    hits: list[HitCount] = Field(default_factory=list)
    new_lead_count: int
    handling_code: HandlingCode
    link_alert_id: str | None = None


class PendingDisclosure(BaseModel):
    request_id: str
    lead_id: str
    owner_agency: str
    requester_user_id: str | None = None
    created_at: datetime | None = None
    lead_access: str
    handling_code: HandlingCode
    # Graded disclosure (graph/grants/escalation.py): the answer's deadline; ``overdue`` past it
    # at the agenda's instant, ``escalated`` once the job told the CROSS coordinators.
    due_at: datetime | None = None
    overdue: bool = False
    escalated: bool = False


class DeconflictionItem(BaseModel):
    alert_id: str
    opened_at: datetime | None = None
    agencies: list[str] = Field(default_factory=list)
    lead_ids: list[str] = Field(default_factory=list)
    handling_code: HandlingCode


class TriageBacklog(BaseModel):
    visible: int = 0
    leads: list[LeadRef] = Field(default_factory=list)
    hits: list[HitCount] = Field(default_factory=list)
    handling_code: HandlingCode = HandlingCode.H0


class HotspotMove(BaseModel):
    insee_code: str
    commune: str | None = None
    count: int
    baseline_mean: float
    direction: Literal["hausse", "baisse", "nouveau"]
    handling_code: HandlingCode


class TrendPoint(BaseModel):
    week: str
    visible: int
    hits: int


class SeizedQuantity(BaseModel):
    substance: str
    quantity: float
    unit: Literal["g", "unit"] = Field(description="g : grammes ; unit : nombre d'unités (comprimés…)")


class SeizedWeapon(BaseModel):
    kind: str
    count: int


class SeizedPackaging(BaseModel):
    kind: str
    count: int
    substance: str | None = None


class SeizureItem(BaseModel):
    """One seizure of the week, from a lead the participant reads (full or redacted): where
    and when only as far as that level may see (``seized_at`` needs the lead's times, the place
    its commune)."""

    lead_id: str
    agency: str
    kind: str
    handling_code: HandlingCode
    access: str = Field(description="niveau d'accès du participant : full ou redacted")
    seized_at: datetime | None = None
    insee_code: str | None = None
    commune: str | None = None
    place: str | None = None
    deal_point: str | None = None
    substances: list[SeizedQuantity] = Field(default_factory=list)
    unweighed: list[str] = Field(default_factory=list, description="produits saisis sans quantité précisée")
    cash_eur: float | None = None
    weapons: list[SeizedWeapon] = Field(default_factory=list)
    weapon_count: int = 0
    packaging: list[SeizedPackaging] = Field(default_factory=list)
    packaging_material: bool = False


class SeizureTotals(BaseModel):
    """The sums of one week over the seizures the participant reads. Leads they may only know
    of (hits) add nothing here, not even to ``seizures`` (ADR 0016)."""

    week: str
    seizures: int = 0
    cash_eur: float = 0.0
    weapons: int = 0
    quantities: list[SeizedQuantity] = Field(default_factory=list, description="par produit et unité")

    def quantity(self, substance: str, unit: str) -> float:
        return sum(q.quantity for q in self.quantities if q.substance == substance and q.unit == unit)


class SeizureDelta(BaseModel):
    """This week against the mean of the previous weeks, for one measure."""

    measure: Literal["seizures", "cash_eur", "weapons", "quantity"]
    substance: str | None = None
    unit: str | None = None
    current: float
    previous_mean: float
    delta: float
    ratio: float | None = Field(default=None, description="current / previous_mean, absent si la moyenne est nulle")


class SeizureWeek(BaseModel):
    items: list[SeizureItem] = Field(default_factory=list)
    listed_total: int = 0
    totals: SeizureTotals | None = None
    trend: list[SeizureTotals] = Field(default_factory=list, description="semaines précédentes puis celle-ci")
    deltas: list[SeizureDelta] = Field(default_factory=list)
    handling_code: HandlingCode = HandlingCode.H0


class MapPoint(BaseModel):
    """One thing placed on the week's map (WGS84). ``placement``: its own point, or the centre
    of the readable places of its commune."""

    kind: Literal["lead", "seizure", "deal_point", "hotspot", "commune"]
    lat: float
    lon: float
    label: str
    insee_code: str | None = None
    lead_id: str | None = None
    agency: str | None = None
    count: int = 1
    direction: str | None = None
    placement: Literal["point", "commune"] = "point"


class WeekMap(BaseModel):
    """The week's readable leads, deal points and hotspots, placed: the brief's map input."""

    points: list[MapPoint] = Field(default_factory=list)
    unplaced: int = Field(default=0, description="pistes consultables sans position connue")
    handling_code: HandlingCode = HandlingCode.H0


class WeekGraph(BaseModel):
    """The window's readable leads and the entities they mention: the link chart's input."""

    nodes: list[NetworkNode] = Field(default_factory=list)
    edges: list[NetworkEdge] = Field(default_factory=list)


class Agenda(BaseModel):
    meeting: Meeting
    participant_user_id: str
    participant_agency: str
    participant_role: str
    window_start: datetime
    window_end: datetime
    generated_at: datetime
    policy_id: str
    new_leads: NewLeadsSummary
    cross_agency_links: list[CrossAgencyLink]
    cross_agency_links_total: int
    pending_disclosures: list[PendingDisclosure]
    deconfliction_alerts: list[DeconflictionItem]
    triage: TriageBacklog
    hotspots: list[HotspotMove]
    actions_due: list[ActionView]
    actions_decided: list[ActionView]
    trend: list[TrendPoint]
    seizures: SeizureWeek = Field(default_factory=SeizureWeek)
    week_map: WeekMap = Field(default_factory=WeekMap)
    # Open dossiers with overdue tasks the participant is a member of and may read (ADR 0019).
    dossiers_overdue: list[OverdueDossier] = Field(default_factory=list)
    # « Partagé avec d'autres CROSS » (issue 16): the agency's federation tickets opened in the
    # window, and its overdue open ones (both sides) — a decision is due on them.
    federation: FederationWeek = Field(default_factory=FederationWeek)

    def lead_ids(self) -> list[str]:
        """Every lead the participant reads something of in this agenda (for the audit)."""
        ids: dict[str, None] = {}
        ids.update(dict.fromkeys(s.lead_id for s in self.seizures.items))
        ids.update(dict.fromkeys(p.lead_id for p in self.week_map.points if p.lead_id))
        for link in self.cross_agency_links:
            ids.update(dict.fromkeys(r.lead_id for r in link.leads))
        ids.update(dict.fromkeys(r.lead_id for r in self.triage.leads))
        for d in self.pending_disclosures:
            ids[d.lead_id] = None
        for a in (*self.actions_due, *self.actions_decided):
            ids.update(dict.fromkeys(a.lead_ids))
        return list(ids)

    def outcome(self) -> str:
        """The audit grade of this agenda: full, redacted (some lead read redacted), hit, none."""
        levels = {r.access for link in self.cross_agency_links for r in link.leads}
        levels |= {r.access for r in self.triage.leads}
        levels |= {s.access for s in self.seizures.items}
        if levels:
            return "full" if levels <= {"full"} else "redacted"
        if self.lead_ids():
            return "full"
        return "hit" if self.hit_count() or self.pending_disclosures else "none"

    def hit_count(self) -> int:
        return (sum(h.lead_count for h in self.new_leads.hits)
                + sum(h.lead_count for h in self.triage.hits))


class ActionRecord(BaseModel):
    """An action's own fields, as stored (no lead content): for authorization and audit."""

    action_id: str
    meeting_id: str
    lead_agency: str
    tasked: str
    deadline: date
    status: ActionStatus
    done_at: datetime | None = None
    handling_code: HandlingCode
    lead_ids: list[str] = Field(default_factory=list)
