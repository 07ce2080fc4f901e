"""The parameters and answers of the linked-lead analyses (graph/analysis/).

Parameters are pydantic models whose bounds are the documented limits of each analysis: a value
beyond them fails validation naming the field (the web edge answers 422). The bounds are module
constants so the API's query parameters state the same limits. Answers reuse the link-chart
models of ``graph.models`` (``NetworkNode``, ``NetworkEdge``, ``Hit``) so a path, a co-presence
pair or a central actor can be drawn on the same chart as a network, with the same node ids.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator

from graph.labels import EntityKind, Rel
from graph.models import Hit, NetworkEdge, NetworkNode, PointView

PARIS = ZoneInfo("Europe/Paris")

# --- bounds (documented in the API; beyond them → 422 naming the field) -------------------------

MAX_DEPTH = 3  # lead-hops of a neighbourhood (central actors), as for the network read
MAX_HOPS = 6  # leads along a path between two entities
MAX_PATHS = 10  # shortest paths returned at once
MAX_SEARCH_RESULTS = 100
MAX_SPAN_DAYS = 366  # any time range (co-presence, timeline, hotspot periods)
MAX_WINDOW_MIN = 24 * 60  # co-presence window
MAX_RADIUS_M = 2000.0  # co-presence disc
MAX_GAP_HOURS = 24 * MAX_SPAN_DAYS  # largest gap between two steps of a path
MAX_PAIRS = 500  # co-presence pairs returned
MAX_HOTSPOTS = 100  # places (and communes) returned
MAX_TIMELINE = 1000  # timeline entries returned
MAX_ACTORS = 100  # central actors returned
MAX_MAP_LEADS = 2000  # leads placed on one map answer

# Work bounds, not parameters: past them an analysis stops and says ``truncated``.
QUERY_TIMEOUT_S = 20.0  # per read transaction; beyond → 422 asking for a narrower request
MAX_PATH_STATES = 50_000  # states a time-ordered path search may hold
MAX_LEVEL_ROWS = 20_000  # (entity, lead) rows a path search reads per hop
MAX_COPRESENCE_LEADS = 5_000  # readable leads a co-presence scan considers


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _paris_if_naive(value: datetime | None) -> datetime | None:
    # An analyst typing "2025-08-10T21:00" means Paris time; stored times are UTC.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=PARIS)
    return value


# --- search --------------------------------------------------------------------------------------


class SearchKind(StrEnum):
    PLATE = "plate"
    PHONE = "phone"
    PLACE = "place"
    TEXT = "text"


class FuzzyMode(StrEnum):
    """How far a plate search reaches beyond the exact plate (graph/analysis/plates.py)."""

    OFF = "off"
    CONFUSABLE = "confusable"  # one substitution from the documented confusion set
    ANY = "any"  # one substitution by any character valid at that position


class SearchParams(_Params):
    q: str = Field(min_length=1, max_length=200, description="Texte recherché")
    kind: SearchKind
    fuzzy: FuzzyMode = FuzzyMode.OFF
    limit: int = Field(default=20, ge=1, le=MAX_SEARCH_RESULTS)


class EntityMatch(BaseModel):
    node: NetworkNode
    match: Literal["exact", "partial", "fuzzy"]
    reason: str | None = Field(default=None, description="Pourquoi une correspondance approchée")
    lead_count: int = Field(description="Pistes consultables qui citent l'entité")
    last_seen: datetime | None = None
    hits: list[Hit] = Field(default_factory=list)


class LeadMatch(BaseModel):
    lead: NetworkNode
    score: float


class SearchResult(BaseModel):
    q: str
    kind: SearchKind
    entities: list[EntityMatch] = Field(default_factory=list)
    leads: list[LeadMatch] = Field(default_factory=list)
    truncated: bool = False


# --- paths ---------------------------------------------------------------------------------------

# Entities a path may start, end or pass through, and the lead links it may follow. Agencies,
# substances and communes link almost everything (graph.read.NON_EXPANDING), seizures sit
# behind their lead: a path through them would say nothing.
PATH_KINDS = (EntityKind.VEHICLE, EntityKind.PERSON, EntityKind.PHONE, EntityKind.LOCATION,
              EntityKind.DEAL_POINT)
PATH_RELS = (Rel.MENTIONS_VEHICLE, Rel.INVOLVES, Rel.MENTIONS_PHONE, Rel.AT, Rel.CONCERNS)


class PathParams(_Params):
    from_kind: EntityKind
    from_key: str = Field(min_length=1, max_length=200)
    to_kind: EntityKind
    to_key: str = Field(min_length=1, max_length=200)
    max_hops: int = Field(default=4, ge=1, le=MAX_HOPS)
    time_ordered: bool = False
    max_gap_hours: float | None = Field(default=None, gt=0, le=MAX_GAP_HOURS)
    rel_types: tuple[Rel, ...] = PATH_RELS
    limit: int = Field(default=3, ge=1, le=MAX_PATHS)

    @field_validator("from_kind", "to_kind")
    @classmethod
    def _path_kind(cls, v: EntityKind) -> EntityKind:
        if v not in PATH_KINDS:
            raise ValueError("type d'entité non admis pour un chemin : "
                             + ", ".join(k.value for k in PATH_KINDS))
        return v

    @field_validator("rel_types")
    @classmethod
    def _path_rels(cls, v: tuple[Rel, ...]) -> tuple[Rel, ...]:
        if not v:
            raise ValueError("au moins un type de relation")
        bad = [r.value for r in v if r not in PATH_RELS]
        if bad:
            raise ValueError(f"relation non admise pour un chemin : {', '.join(bad)} (admises : "
                             + ", ".join(r.value for r in PATH_RELS) + ")")
        return tuple(dict.fromkeys(v))


class Path(BaseModel):
    """Entities and the leads joining them, alternating: entity, lead, entity, ... entity."""

    hops: int = Field(description="Nombre de pistes le long du chemin")
    nodes: list[NetworkNode]
    edges: list[NetworkEdge]
    lead_ids: list[str]
    first_at: datetime | None = None
    last_at: datetime | None = None
    largest_gap_hours: float | None = None


class PathsResult(BaseModel):
    source: str
    target: str
    max_hops: int
    time_ordered: bool
    max_gap_hours: float | None = None
    paths: list[Path] = Field(default_factory=list)
    hits: list[Hit] = Field(default_factory=list, description=(
        "Extrémités connues seulement par des pistes non consultables : service et contact"))
    truncated: bool = Field(default=False, description="Exploration arrêtée à sa borne de travail")


# --- co-presence ---------------------------------------------------------------------------------


class CopresenceParams(_Params):
    """Exactly one place: a commune (``insee``), a Location (``location_key``) or a disc
    (``lat``, ``lon``, ``radius_m``)."""

    insee: str | None = Field(default=None, pattern=r"^(?:\d{5}|2[AB]\d{3})$")
    location_key: str | None = Field(default=None, min_length=1, max_length=300)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    radius_m: float | None = Field(default=None, gt=0, le=MAX_RADIUS_M)
    since: datetime
    until: datetime
    window_min: int = Field(default=30, ge=1, le=MAX_WINDOW_MIN)
    fuzzy_plates: bool = True
    limit: int = Field(default=100, ge=1, le=MAX_PAIRS)

    @field_validator("since", "until")
    @classmethod
    def _tz(cls, v: datetime | None) -> datetime | None:
        return _paris_if_naive(v)


class CopresenceEvidence(BaseModel):
    lead_a: str
    lead_b: str
    at_a: datetime
    at_b: datetime
    gap_minutes: float
    location_a: str
    location_b: str
    point_a: PointView | None = Field(default=None, description="Coordonnées du lieu A, si connues")
    point_b: PointView | None = Field(default=None, description="Coordonnées du lieu B, si connues")


class PlacedLocation(BaseModel):
    key: str
    point: PointView
    lead_count: int = Field(description="Pistes consultables examinées en ce lieu")


class CopresencePair(BaseModel):
    a: NetworkNode
    b: NetworkNode
    relation: Literal["copresence", "plate_variant"] = Field(
        description="plate_variant : deux immatriculations à une confusion près, probablement "
                    "le même véhicule mal lu")
    reason: str | None = None
    occurrences: int = Field(description="Paires de pistes distinctes à moins de window_min")
    min_gap_minutes: float
    first_at: datetime
    last_at: datetime
    evidence: list[CopresenceEvidence] = Field(description="Au plus 10 paires de pistes")


class CopresenceResult(BaseModel):
    place: str
    since: datetime
    until: datetime
    window_min: int
    lead_count: int = Field(description="Pistes consultables examinées")
    pairs: list[CopresencePair] = Field(default_factory=list)
    hits: list[Hit] = Field(default_factory=list)
    truncated: bool = False
    center: PointView | None = Field(default=None, description=(
        "Centre du lieu : celui du cercle demandé, le point du lieu, ou pour une commune le "
        "centre des lieux examinés qui ont des coordonnées"))
    radius_m: float | None = Field(default=None, description="Rayon du cercle demandé (mètres)")
    locations: list[PlacedLocation] = Field(default_factory=list, description=(
        "Lieux examinés qui ont des coordonnées (pistes consultables seulement)"))


# --- hotspots ------------------------------------------------------------------------------------


class HotspotParams(_Params):
    departement: str | None = Field(default=None, pattern=r"^(?:\d{2}|2[AB]|97\d)$")
    days: int = Field(default=30, ge=1, le=MAX_SPAN_DAYS)
    compare_days: int | None = Field(default=None, ge=1, le=MAX_SPAN_DAYS)
    limit: int = Field(default=20, ge=1, le=MAX_HOTSPOTS)
    now: datetime | None = None

    @field_validator("now")
    @classmethod
    def _tz(cls, v: datetime | None) -> datetime | None:
        return _paris_if_naive(v)


class Trend(StrEnum):
    UP = "up"
    DOWN = "down"
    FLAT = "flat"
    NEW = "new"  # nothing in the previous period


class HotspotEntry(BaseModel):
    key: str = Field(description="Clé du lieu (Location) ou code INSEE (commune)")
    label: str
    insee_code: str | None = None
    recent: int
    previous: int
    recent_per_day: float
    previous_per_day: float
    change_pct: float | None = Field(default=None, description="Variation du rythme quotidien")
    trend: Trend
    point: PointView | None = Field(default=None, description=(
        "Lieu : ses coordonnées ; commune : centre de ses lieux classés (au moins deux pistes) "
        "qui ont des coordonnées"))
    recent_centroid: PointView | None = Field(default=None, description=(
        "Centre des pistes de la période récente (lieux classés pondérés par leurs pistes)"))
    previous_centroid: PointView | None = Field(default=None, description=(
        "Centre des pistes de la période précédente : avec recent_centroid, le déplacement"))


class HotspotsResult(BaseModel):
    departement: str | None
    recent_from: datetime
    recent_to: datetime
    previous_from: datetime
    min_place_leads: int
    places: list[HotspotEntry] = Field(default_factory=list)
    communes: list[HotspotEntry] = Field(default_factory=list)


# --- map ---------------------------------------------------------------------------------------


class MapParams(_Params):
    departement: str | None = Field(default=None, pattern=r"^(?:\d{2}|2[AB]|97\d)$")
    days: int | None = Field(default=None, ge=1, le=MAX_SPAN_DAYS)
    limit: int = Field(default=500, ge=1, le=MAX_MAP_LEADS)
    now: datetime | None = None
    operations_of: str | None = Field(default=None, description="Service dont on place les opérations")

    @field_validator("now")
    @classmethod
    def _tz(cls, v: datetime | None) -> datetime | None:
        return _paris_if_naive(v)


class GeoPoint(BaseModel):
    type: Literal["Point"] = "Point"
    coordinates: tuple[float, float] = Field(description="[longitude, latitude] (GeoJSON)")


MapKind = Literal["commune", "lead", "deal_point", "operation"]


class MapProperties(BaseModel):
    kind: MapKind
    key: str = Field(description="Identifiant : code INSEE, piste, clé du point de deal, opération")
    label: str
    insee_code: str | None = None
    commune: str | None = None
    agency: str | None = None
    agencies: list[str] = Field(default_factory=list)
    placement: Literal["point", "commune", "centroid"] | None = Field(default=None, description=(
        "point : coordonnées du lieu ; commune : centre de la commune faute de point ; "
        "centroid : centre des lieux connus"))
    lead_count: int | None = None
    handling_code: str | None = None
    nature: str | None = Field(default=None, description="Nature de la piste ou de l'opération")
    location_key: str | None = None
    at: datetime | None = Field(default=None, description="Heure de la piste, si la politique la montre")
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    radius_m: float | None = None
    status: str | None = None


class MapFeature(BaseModel):
    type: Literal["Feature"] = "Feature"
    id: str
    geometry: GeoPoint | None = Field(description="Nul : aucune coordonnée connue")
    properties: MapProperties


class MapResult(BaseModel):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    departement: str | None
    since: datetime | None = None
    features: list[MapFeature] = Field(default_factory=list)
    truncated: bool = Field(default=False, description="Pistes au-delà de limit non rendues")


# --- timeline ------------------------------------------------------------------------------------

TIMELINE_KINDS = (EntityKind.VEHICLE, EntityKind.PERSON, EntityKind.PHONE, EntityKind.LOCATION,
                  EntityKind.DEAL_POINT, EntityKind.COMMUNE)


class TimelineParams(_Params):
    kind: EntityKind
    key: str = Field(min_length=1, max_length=300)
    since: datetime | None = None
    until: datetime | None = None
    limit: int = Field(default=200, ge=1, le=MAX_TIMELINE)

    @field_validator("since", "until")
    @classmethod
    def _tz(cls, v: datetime | None) -> datetime | None:
        return _paris_if_naive(v)

    @field_validator("kind")
    @classmethod
    def _timeline_kind(cls, v: EntityKind) -> EntityKind:
        if v not in TIMELINE_KINDS:
            raise ValueError("chronologie non disponible pour ce type d'entité (trop général) : "
                             "admis " + ", ".join(k.value for k in TIMELINE_KINDS))
        return v


class TimelineEntry(BaseModel):
    at: datetime | None = Field(description="Heure de la piste (nulle si la politique la masque)")
    lead: NetworkNode
    relation: str = Field(description="Lien de la piste à l'entité (INVOLVES, AT...)")
    role: str | None = None
    place: str | None = None
    location_key: str | None = None


class Timeline(BaseModel):
    entity: NetworkNode
    entries: list[TimelineEntry] = Field(default_factory=list)
    hits: list[Hit] = Field(default_factory=list)
    truncated: bool = Field(default=False, description="Seules les plus récentes sont rendues")


# --- central actors ------------------------------------------------------------------------------


class CentralParams(_Params):
    kind: EntityKind
    key: str = Field(min_length=1, max_length=300)
    depth: int = Field(default=2, ge=1, le=MAX_DEPTH)
    limit: int = Field(default=10, ge=1, le=MAX_ACTORS)
    max_nodes: int = Field(default=500, ge=10, le=10_000)


class CentralActor(BaseModel):
    rank: int
    node: NetworkNode
    degree: int = Field(description="Nombre de voisins dans le voisinage")
    betweenness: float = Field(description="Intermédiarité normalisée (0 à 1)")
    betweenness_raw: float = Field(description="Nombre (pondéré) de plus courts chemins traversants")
    is_anchor: bool = False


class CentralityResult(BaseModel):
    anchor: str
    depth: int
    node_count: int
    edge_count: int
    actors: list[CentralActor] = Field(default_factory=list)
    hits: list[Hit] = Field(default_factory=list)
    truncated: bool = False
