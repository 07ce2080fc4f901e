"""The canonical lead (schema 1.0): what every connector sends and the hub accepts.

Strict by design: unknown fields are refused (so a ``reporter_name`` smuggled in fails loudly),
times must carry a timezone, identifiers are normalized, persons are keyed pseudonyms with a role
and descriptors — never names — and the narrative must already be sanitized.

Vocabulary values are stable English codes (API names are English); what a person reads in the
French UI comes from the ``*_LABELS_FR`` maps.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from hub.contract.identifiers import (
    check_no_control_chars,
    check_no_identifiers,
    control_chars_in,
    control_reason,
)
from hub.contract.normalize import (
    INSEE_CODE,
    normalize_foreign_plate,
    normalize_phone,
    normalize_plate,
    normalize_quantity,
    territory_of,
)
from hub.contract.seized import (  # re-exported: the lead's vocabulary
    SUBSTANCE_LABELS_FR as SUBSTANCE_LABELS_FR,
)
from hub.contract.seized import Packaging, Substance, WeaponKind

SCHEMA_VERSION = "1.0"


class Agency(StrEnum):
    """Members a CROSS may include (Vosges protocol, domain.md)."""

    POLICE = "police"  # sécurité publique / DIPN
    GENDARMERIE = "gendarmerie"
    DOUANES = "douanes"
    POLICE_JUDICIAIRE = "police_judiciaire"
    PAF = "paf"  # police aux frontières
    GIR = "gir"  # groupe interministériel de recherches
    PREFECTURE = "prefecture"
    OFAST = "ofast"
    BAILLEUR_SOCIAL = "bailleur_social"  # social landlords: submit through the intake connector


AGENCY_LABELS_FR: dict[Agency, str] = {
    Agency.POLICE: "Police nationale",
    Agency.GENDARMERIE: "Gendarmerie nationale",
    Agency.DOUANES: "Douanes",
    Agency.POLICE_JUDICIAIRE: "Police judiciaire",
    Agency.PAF: "Police aux frontières",
    Agency.GIR: "GIR",
    Agency.PREFECTURE: "Préfecture",
    Agency.OFAST: "OFAST",
    Agency.BAILLEUR_SOCIAL: "Bailleur social",
}


class LeadKind(StrEnum):
    CITIZEN_REPORT = "citizen_report"
    FIELD_INTELLIGENCE = "field_intelligence"
    SURVEILLANCE = "surveillance"
    STOP_CHECK = "stop_check"
    VIDEO_PROTECTION = "video_protection"
    ARREST = "arrest"
    SEARCH = "search"
    SEIZURE = "seizure"
    LANDLORD_REPORT = "landlord_report"  # social landlords (domain.md, Alençon)


LEAD_KIND_LABELS_FR: dict[LeadKind, str] = {
    LeadKind.CITIZEN_REPORT: "Signalement citoyen",
    LeadKind.FIELD_INTELLIGENCE: "Renseignement de terrain",
    LeadKind.SURVEILLANCE: "Surveillance",
    LeadKind.STOP_CHECK: "Contrôle",
    LeadKind.VIDEO_PROTECTION: "Vidéoprotection",
    LeadKind.ARREST: "Interpellation",
    LeadKind.SEARCH: "Perquisition",
    LeadKind.SEIZURE: "Saisie",
    LeadKind.LANDLORD_REPORT: "Signalement bailleur",
}


class SourceChannel(StrEnum):
    """How the information reached the agency: used for hit rates per channel."""

    CITIZEN_PLATFORM = "citizen_platform"  # masecurite.interieur.gouv.fr / chat
    PATROL = "patrol"
    INVESTIGATION = "investigation"
    INFORMANT = "informant"
    VIDEO = "video"
    CUSTOMS_CONTROL = "customs_control"
    PARTNER = "partner"  # landlords, schools, transport operators


class HandlingCode(StrEnum):
    """SIENA handling codes (domain.md): how a lead may be used."""

    H0 = "H0"  # any law-enforcement purpose
    H1 = "H1"  # not as evidence in court without the provider's consent
    H2 = "H2"  # no action without the provider's consent
    H3 = "H3"  # other restrictions set by the provider


HANDLING_ORDER = {HandlingCode.H0: 0, HandlingCode.H1: 1, HandlingCode.H2: 2, HandlingCode.H3: 3}


class SourceReliability(StrEnum):
    A = "A"
    B = "B"
    C = "C"
    X = "X"


class InformationCredibility(StrEnum):
    CONFIRMED = "1"
    KNOWN_PERSONALLY = "2"
    NOT_KNOWN_PERSONALLY = "3"
    CANNOT_BE_JUDGED = "4"


class PersonRole(StrEnum):
    SELLER = "seller"
    BUYER = "buyer"
    COURIER = "courier"
    LOOKOUT = "lookout"  # guetteur
    SUPPLIER = "supplier"
    MANAGER = "manager"  # gérant de point de deal
    DRIVER = "driver"
    PRODUCER = "producer"  # crack-making site, cannabis grow
    UNKNOWN = "unknown"


# A keyed pseudonym: "ps1:<key id>:<64 hex of HMAC-SHA-256>". Never a name.
PSEUDONYM = re.compile(r"^ps1:[a-z0-9][a-z0-9_\-]{0,31}:[0-9a-f]{64}$")

SourceRef = Annotated[
    str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/\-]*$")
]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
                      AfterValidator(check_no_control_chars)]
PhoneE164 = Annotated[str, AfterValidator(normalize_phone)]


def _check_pseudonym(v: str) -> str:
    if not PSEUDONYM.match(v):
        raise ValueError(
            "pseudonyme attendu (ps1:<clé>:<64 hexadécimaux>) : aucun identifiant nominatif n'est admis"
        )
    return v


Pseudonym = Annotated[str, AfterValidator(_check_pseudonym)]


# Free text must already be sanitized: the shared detector (hub.contract.identifiers) refuses a
# phone, e-mail, IBAN or IP address in any writing; the connectors redact with the same one.
SanitizedText = Annotated[str, StringConstraints(max_length=10_000), AfterValidator(check_no_identifiers)]
SanitizedLabel = Annotated[ShortText, AfterValidator(check_no_identifiers)]


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_control_chars(cls, value: object) -> object:
        """No text of the contract carries a control character (NUL, C0 but tab and line
        breaks, DEL, C1, bidi overrides and isolates...): refused under the exact path."""
        if isinstance(value, str):
            return check_no_control_chars(value)
        if isinstance(value, list | tuple):
            for index, item in enumerate(value):
                found = control_chars_in(item) if isinstance(item, str) else None
                if found:
                    position, char = found[0]
                    raise ValidationError.from_exception_data(cls.__name__, [{
                        "type": "value_error", "loc": (index,), "input": item,
                        "ctx": {"error": control_reason(char, position)}}])
        return value


class GeoPoint(StrictModel):
    """WGS84 point; must lie in France (metropolitan, Corsica or overseas)."""

    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)

    @model_validator(mode="after")
    def _in_france(self) -> GeoPoint:
        if territory_of(self.lat, self.lon) is None:
            raise ValueError(f"point ({self.lat}, {self.lon}) hors du territoire français")
        return self


class Location(StrictModel):
    insee_code: str = Field(description="Code INSEE de la commune (5 caractères, 2A/2B en Corse)")
    commune: SanitizedLabel
    address: SanitizedLabel | None = None
    place_label: SanitizedLabel | None = Field(
        default=None, description="Lieu-dit ou repère (« hall 3, place Cassin »)"
    )
    point: GeoPoint | None = None

    @field_validator("insee_code")
    @classmethod
    def _insee(cls, v: str) -> str:
        v = v.upper()
        if not INSEE_CODE.match(v):
            raise ValueError("code INSEE invalide : 5 caractères (chiffres, ou 2A/2B pour la Corse)")
        return v

    @property
    def departement(self) -> str:
        return self.insee_code[:3] if self.insee_code.startswith("97") else self.insee_code[:2]


class Vehicle(StrictModel):
    """A vehicle; ``plate_country`` (ISO 3166 alpha-2) is FR unless customs or the PAF saw a
    foreign plate, which is kept as ``CC:COMPACT`` so it links across agencies too."""

    plate: str | None = None
    plate_country: str = Field(default="FR", pattern=r"^[A-Z]{2}$")
    make: SanitizedLabel | None = None
    model: SanitizedLabel | None = None
    colour: SanitizedLabel | None = None
    kind: Literal["car", "van", "truck", "motorbike", "scooter", "e_scooter", "bicycle", "other"] = "car"

    @model_validator(mode="after")
    def _something(self) -> Vehicle:
        if self.plate is not None:
            try:
                plate = (normalize_plate(self.plate) if self.plate_country == "FR"
                         else normalize_foreign_plate(self.plate, self.plate_country))
            except ValueError as exc:
                # Raised under the plate's own path so the error names the exact field.
                raise ValidationError.from_exception_data("Vehicle", [{
                    "type": "value_error", "loc": ("plate",), "input": self.plate,
                    "ctx": {"error": str(exc)}}]) from None
            object.__setattr__(self, "plate", plate)
        if not (self.plate or self.make or self.model):
            raise ValueError("un véhicule doit avoir au moins une immatriculation, une marque ou un modèle")
        return self


class PhysicalDescription(StrictModel):
    sex: Literal["male", "female", "unknown"] = "unknown"
    apparent_age_min: int | None = Field(default=None, ge=10, le=100)
    apparent_age_max: int | None = Field(default=None, ge=10, le=100)
    height_cm: int | None = Field(default=None, ge=100, le=230)
    build: Literal["slim", "medium", "heavy", "athletic"] | None = None
    clothing: SanitizedLabel | None = None
    distinctive_marks: SanitizedLabel | None = None

    @model_validator(mode="after")
    def _ages(self) -> PhysicalDescription:
        if (self.apparent_age_min and self.apparent_age_max
                and self.apparent_age_min > self.apparent_age_max):
            raise ValueError("âge apparent minimal supérieur au maximal")
        return self


class PersonRef(StrictModel):
    """A person as a keyed pseudonym. ``aliases`` carry the same identity under earlier linkage
    keys, so links made before a key rotation stay resolvable."""

    pseudonym: Pseudonym
    aliases: list[Pseudonym] = Field(default_factory=list, max_length=4)
    role: PersonRole = PersonRole.UNKNOWN
    description: PhysicalDescription | None = None


class SubstanceQuantity(StrictModel):
    substance: Substance
    quantity: Decimal | None = Field(default=None, description="Quantité dans l'unité donnée")
    unit: str = "g"

    @model_validator(mode="after")
    def _normalize(self) -> SubstanceQuantity:
        if self.quantity is None:
            return self
        value, unit = normalize_quantity(self.quantity, self.unit)
        object.__setattr__(self, "quantity", value)
        object.__setattr__(self, "unit", unit)
        return self


class Weapon(StrictModel):
    kind: WeaponKind
    count: int = Field(default=1, ge=1, le=10_000)


class Seizure(StrictModel):
    """What was seized during this lead's action (seizure, search, arrest)."""

    substances: list[SubstanceQuantity] = Field(default_factory=list, max_length=50)
    cash_eur: Decimal | None = Field(default=None, ge=0, max_digits=14, decimal_places=2)
    weapons: list[Weapon] = Field(default_factory=list, max_length=50)
    packaging_material: bool = False
    # Optional: what the product was packed in (« 12 pochons », « 3 pains »); implies
    # packaging_material. One line per kind and substance.
    packaging: list[Packaging] = Field(default_factory=list, max_length=20)

    @model_validator(mode="after")
    def _not_empty(self) -> Seizure:
        if not (self.substances or self.cash_eur or self.weapons or self.packaging_material or self.packaging):
            raise ValueError("une saisie doit comporter au moins un produit, du numéraire ou une arme")
        seen = set()
        for i, p in enumerate(self.packaging):
            if (p.kind, p.substance) in seen:
                raise ValidationError.from_exception_data("Seizure", [{
                    "type": "value_error", "loc": ("packaging", i), "input": p.model_dump(mode="json"),
                    "ctx": {"error": "conditionnement en double : additionner les quantités sur une seule ligne"}}])
            seen.add((p.kind, p.substance))
        if self.packaging:
            object.__setattr__(self, "packaging_material", True)
        return self


class DealPoint(StrictModel):
    """A known point de deal, identified by commune and label."""

    insee_code: str
    label: SanitizedLabel

    _insee = field_validator("insee_code")(Location._insee.__func__)  # type: ignore[attr-defined]


class Lead(StrictModel):
    """One lead from one agency, at one version. Identity: (source_agency, source_ref)."""

    schema_version: Literal["1.0"] = SCHEMA_VERSION
    source_agency: Agency
    source_ref: SourceRef = Field(description="Référence du connecteur à la source")
    version: int = Field(default=1, ge=1, le=1_000_000)
    kind: LeadKind
    channel: SourceChannel
    observed_at: AwareDatetime | None = None
    reported_at: AwareDatetime
    location: Location | None = None
    deal_point: DealPoint | None = None
    vehicles: list[Vehicle] = Field(default_factory=list, max_length=50)
    persons: list[PersonRef] = Field(default_factory=list, max_length=100)
    phones: list[PhoneE164] = Field(default_factory=list, max_length=50)
    substances: list[Substance] = Field(
        default_factory=list, max_length=20, description="Produits mentionnés (hors saisie)"
    )
    seizure: Seizure | None = None
    narrative: SanitizedText = ""
    handling_code: HandlingCode = HandlingCode.H0
    source_reliability: SourceReliability = SourceReliability.X
    information_credibility: InformationCredibility = InformationCredibility.CANNOT_BE_JUDGED
    # Originator control: restrict to named agencies (empty = the CROSS's members per policy),
    # embargo until a date.
    restricted_to: list[Agency] = Field(default_factory=list, max_length=10)
    embargo_until: AwareDatetime | None = None

    @cached_property
    def source_key(self) -> str:
        """The hub's internal key of this lead, stable across versions (never shown to callers:
        it names the source reference). The public id is opaque (ADR 0007). Cached: ingest reads
        it a dozen times per lead; ``model_copy`` drops the cached value (see below)."""
        return source_key(self.source_agency, self.source_ref)

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Lead:
        # A copy with another agency or source reference must not keep the original's key: the
        # cached value lives in the instance's __dict__, which pydantic copies.
        copied = super().model_copy(update=update, deep=deep)
        copied.__dict__.pop("source_key", None)
        return copied

    @model_validator(mode="after")
    def _coherent(self) -> Lead:
        if self.observed_at and self.observed_at > self.reported_at:
            raise ValueError("observed_at postérieur à reported_at")
        if self.seizure and self.kind not in {
            LeadKind.SEIZURE, LeadKind.SEARCH, LeadKind.ARREST, LeadKind.STOP_CHECK
        }:
            raise ValueError(f"une saisie n'est admise que pour une interpellation, perquisition, "
                             f"saisie ou un contrôle, pas pour « {self.kind.value} »")
        if self.kind == LeadKind.SEIZURE and not self.seizure:
            raise ValueError("une piste de type saisie doit décrire la saisie (champ seizure)")
        if len(set(self.phones)) != len(self.phones):
            raise ValueError("numéro de téléphone en double dans phones")
        seen = set()
        for p in self.persons:
            if p.pseudonym in seen:
                raise ValueError("pseudonyme en double dans persons")
            seen.add(p.pseudonym)
        return self


def source_key(agency: Agency | str, source_ref: str) -> str:
    """The internal key of a lead, ``<agency>|<source_ref>`` (a source reference never holds
    ``|``): what ingest merges on. Never a public id: it names the source reference, which the
    policy may withhold. The public ``lead_id`` is opaque, assigned by the hub (ADR 0007)."""
    return f"{Agency(agency).value}|{source_ref}"


def legacy_lead_id(agency: Agency | str, source_ref: str) -> str:
    """The public id leads had before ADR 0007 (``<agency>:<source_ref>``): kept on migrated
    leads as ``legacy_lead_id`` so older audit entries stay joinable. Never a new id."""
    return f"{Agency(agency).value}:{source_ref}"


class LeadBatch(BaseModel):
    """The ingest request body. Items are validated one by one (see ``hub.routers.leads``), so
    this envelope takes them raw."""

    model_config = ConfigDict(extra="forbid")
    leads: list[dict] = Field(min_length=1)


class ItemOutcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"  # replay of the version already held
    STALE = "stale"  # older than the version held: ignored
    REJECTED = "rejected"


class ItemError(BaseModel):
    field: str = Field(description="Chemin exact du champ, p. ex. leads[3].vehicles[0].plate")
    reason: str


class ItemResult(BaseModel):
    index: int
    lead_id: str | None = Field(default=None, description="Identifiant public (opaque) de la piste")
    source_ref: str | None = Field(default=None, description="Référence source de l'élément versé")
    outcome: ItemOutcome
    version: int | None = None
    held_version: int | None = Field(default=None, description="Version déjà détenue (stale)")
    errors: list[ItemError] = Field(default_factory=list)


class IngestResponse(BaseModel):
    accepted: int
    rejected: int
    results: list[ItemResult]


def utc_now() -> datetime:
    from datetime import UTC

    return datetime.now(UTC)
