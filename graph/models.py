"""What graph/ hands out: pydantic models built from driver records, so records never leave
this package. Field names follow the canonical lead (hub.contract.lead)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from hub.contract.lead import ItemOutcome


class WriteResult(BaseModel):
    lead_id: str
    outcome: ItemOutcome
    version: int
    held_version: int | None = None
    reason: str | None = None


class PointView(BaseModel):
    lat: float
    lon: float


class LocationView(BaseModel):
    key: str
    insee_code: str | None = None
    commune: str | None = None
    address: str | None = None
    place_label: str | None = None
    point: PointView | None = None


class VehicleView(BaseModel):
    plate: str | None = None
    make: str | None = None
    model: str | None = None
    colour: str | None = None
    kind: str | None = None


class PersonView(BaseModel):
    pseudonym: str
    role: str | None = None
    description: dict[str, Any] = Field(default_factory=dict)


class SeizedSubstanceView(BaseModel):
    substance: str
    quantity: float | None = None
    unit: str | None = None


class SeizureView(BaseModel):
    seizure_id: str
    substances: list[SeizedSubstanceView] = Field(default_factory=list)
    cash_eur: float | None = None
    weapons: list[dict[str, Any]] = Field(default_factory=list)
    packaging_material: bool = False


class FederationNote(BaseModel):
    """A federation ticket (issue 16) as a lead or entity sheet shows it: another CROSS holds the
    same identifier. Never the identifier itself (the sheet already shows what it may)."""

    ticket_id: str
    side: Literal["claimant", "holder"] = Field(
        description="claimant : nous avons demandé, le CROSS pair détient ; holder : le CROSS "
                    "pair a demandé, nous détenons")
    peer: str = Field(description="Identifiant du CROSS pair (cross-39)")
    peer_name: str = Field(description="Nom du CROSS pair (CROSS du Jura)")
    kind: Literal["plate", "phone"]
    desk: str = Field(description="Le guichet à contacter (côté demandeur : celui du détenteur)")
    due_at: datetime
    status: Literal["open", "answered", "released", "declined"]
    overdue: bool = Field(description="Ouvert et échéance dépassée")
    created_at: datetime
    text: str = Field(description="La phrase affichée, en français")
    status_fr: str = Field(description="Le statut en français (« en retard » : ouvert et "
                                       "échéance dépassée)")


class LeadView(BaseModel):
    """A lead as a caller may see it. ``redacted`` lists the properties the policy withheld:
    they were not fetched from the graph, not merely blanked."""

    lead_id: str
    source_agency: str
    source_ref: str | None = None
    version: int
    kind: str
    channel: str | None = None
    observed_at: datetime | None = None
    reported_at: datetime | None = None
    ingested_at: datetime | None = None
    updated_at: datetime | None = None
    handling_code: str
    restricted_to: list[str] = Field(default_factory=list)
    embargo_until: datetime | None = None
    narrative: str | None = None
    source_reliability: str | None = None
    information_credibility: str | None = None
    location: LocationView | None = None
    deal_point: dict[str, Any] | None = None
    vehicles: list[VehicleView] = Field(default_factory=list)
    persons: list[PersonView] = Field(default_factory=list)
    phones: list[str] = Field(default_factory=list)
    substances: list[str] = Field(default_factory=list)
    seizure: SeizureView | None = None
    access: Literal["full", "redacted"] = "full"
    redacted: list[str] = Field(default_factory=list)
    # Other CROSS holding an identifier of this lead (issue 16): full or redacted readers only.
    federation: list[FederationNote] = Field(default_factory=list)


class NetworkNode(BaseModel):
    id: str = Field(description="kind:key, stable across calls")
    kind: str
    key: str
    label: str = Field(description="Libellé affichable")
    properties: dict[str, Any] = Field(default_factory=dict)


class NetworkEdge(BaseModel):
    source: str
    target: str
    type: str
    agency: str | None = None
    lead_id: str | None = None
    properties: dict[str, Any] = Field(default_factory=dict)


class Hit(BaseModel):
    """Hit/no-hit: an agency holds leads on an entity that the caller may not read."""

    entity: str
    agency: str
    lead_count: int
    contact: str | None = None
    handle: str | None = Field(
        default=None, description="Poignée opaque du hit, à citer dans une demande de communication "
                                  "(champ « hit ») : elle ne révèle pas l'identifiant de la piste")


class Network(BaseModel):
    anchor: str
    depth: int
    nodes: list[NetworkNode]
    edges: list[NetworkEdge]
    hits: list[Hit] = Field(default_factory=list)
    truncated: bool = False
    # Other CROSS holding this plate or phone (issue 16), behind leads the caller reads.
    federation: list[FederationNote] = Field(default_factory=list)
