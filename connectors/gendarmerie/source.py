"""The gendarmerie source: a paginated JSON REST feed of *renseignements*.

``GET {base_url}/api/renseignements?updated_since=<ISO 8601>&page=<n>&page_size=<k>`` answers
``{"items": [...], "next_page": n | null}``, items sorted by ``(updated_at, id)`` with
``updated_at >= updated_since``. A record (``FeedRecord`` below) is re-published with a higher
``version`` and a fresh ``updated_at`` whenever it changes.

This module holds the HTTP client (``FeedClient``: every failure of the source becomes a
``SourceError``, a refusal of our credentials a ``ConfigurationError``), the cursor encoding and
the record schema. ``connector.py`` walks the pages and maps records.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Literal

import httpx
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from hub.contract.errors import ConfigurationError, SourceError
from hub.contract.lead import (
    Agency,
    HandlingCode,
    InformationCredibility,
    LeadKind,
    PersonRole,
    SourceChannel,
    SourceReliability,
    Substance,
    WeaponKind,
)

FEED_PATH = "/api/renseignements"

# --- the record schema --------------------------------------------------------------------------

TYPES: dict[str, LeadKind] = {
    "renseignement": LeadKind.FIELD_INTELLIGENCE, "surveillance": LeadKind.SURVEILLANCE,
    "controle_flux": LeadKind.STOP_CHECK, "controle": LeadKind.STOP_CHECK,
    "interpellation": LeadKind.ARREST, "perquisition": LeadKind.SEARCH, "saisie": LeadKind.SEIZURE,
    "videoprotection": LeadKind.VIDEO_PROTECTION, "bailleur": LeadKind.LANDLORD_REPORT,
}
ORIGINS: dict[str, SourceChannel] = {
    "patrouille": SourceChannel.PATROL, "enquete": SourceChannel.INVESTIGATION,
    "source_humaine": SourceChannel.INFORMANT, "videoprotection": SourceChannel.VIDEO,
    "partenaire": SourceChannel.PARTNER, "plateforme": SourceChannel.CITIZEN_PLATFORM,
}
PRODUCTS: dict[str, Substance] = {
    "resine": Substance.CANNABIS_RESIN, "herbe": Substance.CANNABIS_HERB,
    "cocaine": Substance.COCAINE, "crack": Substance.CRACK, "heroine": Substance.HEROIN,
    "ketamine": Substance.KETAMINE, "mdma": Substance.MDMA, "amphetamine": Substance.AMPHETAMINE,
    "methamphetamine": Substance.METHAMPHETAMINE, "cannabinoide_synthese": Substance.SYNTHETIC_CANNABINOID,
    "lsd": Substance.LSD, "autre": Substance.OTHER,
}
WEAPONS: dict[str, WeaponKind] = {
    "poing": WeaponKind.HANDGUN, "epaule": WeaponKind.LONG_GUN,
    "automatique": WeaponKind.AUTOMATIC_WEAPON, "blanche": WeaponKind.BLADE, "autre": WeaponKind.OTHER,
}
ROLES: dict[str, PersonRole] = {
    "vendeur": PersonRole.SELLER, "acheteur": PersonRole.BUYER, "livreur": PersonRole.COURIER,
    "guetteur": PersonRole.LOOKOUT, "fournisseur": PersonRole.SUPPLIER, "gerant": PersonRole.MANAGER,
    "chauffeur": PersonRole.DRIVER, "producteur": PersonRole.PRODUCER, "inconnu": PersonRole.UNKNOWN,
}
GENRES: dict[str, str] = {
    "VP": "car", "VU": "van", "PL": "truck", "MOTO": "motorbike", "SCOOTER": "scooter",
    "TROTTINETTE": "e_scooter", "VELO": "bicycle", "AUTRE": "other",
}
BUILDS: dict[str, str] = {"mince": "slim", "moyenne": "medium", "forte": "heavy", "athletique": "athletic"}



class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, str_strip_whitespace=True)


class FeedPlace(_Model):
    code_insee: str
    commune: str
    adresse: str | None = None
    repere: str | None = None
    lat: float | None = None
    lon: float | None = None


class FeedVehicle(_Model):
    immatriculation: str | None = None
    marque: str | None = None
    modele: str | None = None
    couleur: str | None = None
    genre: str = "AUTRE"


class FeedDescription(_Model):
    sexe: Literal["M", "F", "I"] = "I"
    age_min: int | None = None
    age_max: int | None = None
    taille_cm: int | None = None
    corpulence: str | None = None
    tenue: str | None = None
    signes: str | None = None


class FeedPerson(_Model):
    """Identified (nom and prénom) or described only (``signalement``)."""

    nom: str | None = None
    prenom: str | None = None
    date_naissance: date | None = None
    role: str = "inconnu"
    signalement: FeedDescription | None = None


class FeedProduct(_Model):
    code: str
    quantite: Decimal | None = None
    unite: Literal["mg", "g", "kg", "t", "u"] = "g"  # u: units (pills, doses)


class FeedWeapon(_Model):
    type: str
    nombre: int = Field(default=1, ge=1)


class FeedSeizure(_Model):
    produits: list[FeedProduct] = Field(default_factory=list)
    numeraire_eur: Decimal | None = None
    armes: list[FeedWeapon] = Field(default_factory=list)
    conditionnement: bool = False


class FeedEvaluation(_Model):
    fiabilite: SourceReliability = SourceReliability.X
    credibilite: InformationCredibility = InformationCredibility.CANNOT_BE_JUDGED


class FeedDiffusion(_Model):
    code: HandlingCode = HandlingCode.H0
    restreint_a: list[Agency] = Field(default_factory=list)
    embargo_jusqu_au: AwareDatetime | None = None


class FeedRecord(_Model):
    id: str
    version: int = Field(ge=1)
    updated_at: AwareDatetime
    created_at: AwareDatetime | None = None
    type: str
    origine: str | None = None
    unite: str | None = None
    date_faits: AwareDatetime | None = None
    lieu: FeedPlace | None = None
    point_deal: str | None = None
    vehicules: list[FeedVehicle] = Field(default_factory=list)
    individus: list[FeedPerson] = Field(default_factory=list)
    telephones: list[str] = Field(default_factory=list)
    produits_mentionnes: list[str] = Field(default_factory=list)
    saisie: FeedSeizure | None = None
    resume: str = ""
    evaluation: FeedEvaluation = Field(default_factory=FeedEvaluation)
    diffusion: FeedDiffusion = Field(default_factory=FeedDiffusion)


# --- cursor -------------------------------------------------------------------------------------

Key = tuple[datetime, str]


def record_key(item: Any) -> Key | None:
    """``(updated_at, id)`` of a raw item, or ``None`` when it has no usable key."""
    if not isinstance(item, dict):
        return None
    rid, updated = item.get("id"), item.get("updated_at")
    if not isinstance(rid, str) or not rid or not isinstance(updated, str):
        return None
    try:
        ts = datetime.fromisoformat(updated)
    except ValueError:
        return None
    if ts.tzinfo is None:
        return None
    return ts.astimezone(UTC), rid


def encode_cursor(key: Key) -> str:
    return f"{key[0].astimezone(UTC).isoformat(timespec='microseconds')}|{key[1]}"


def decode_cursor(cursor: str | None) -> Key | None:
    if not cursor:
        return None
    ts, sep, rid = cursor.partition("|")
    try:
        if not sep:
            raise ValueError
        return datetime.fromisoformat(ts).astimezone(UTC), rid
    except ValueError:
        raise ConfigurationError(f"curseur gendarmerie illisible « {cursor} »") from None


def source_id_of(item: Any) -> str:
    """The item's id, or a stable stand-in for an item without one (quarantine needs one)."""
    if isinstance(item, dict) and isinstance(item.get("id"), str) and item["id"]:
        return item["id"]
    raw = json.dumps(item, sort_keys=True, ensure_ascii=False, default=str)
    return "sans-id:" + hashlib.sha256(raw.encode()).hexdigest()[:16]


# --- HTTP ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    items: list[Any]
    next_page: int | None


class FeedClient:
    """One HTTP client for one collect. Transient failures are retried ``retries`` times with
    exponential backoff, then raised as ``SourceError``."""

    def __init__(self, base_url: str, *, token: str | None, page_size: int, timeout_s: float,
                 connect_timeout_s: float, retries: int, backoff_s: float,
                 verify: bool | str = True, transport: httpx.BaseTransport | None = None) -> None:
        headers = {"Accept": "application/json", "User-Agent": "crosshub-connector-gendarmerie"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"), headers=headers, verify=verify, transport=transport,
            timeout=httpx.Timeout(timeout_s, connect=connect_timeout_s),
        )
        self._page_size, self._retries, self._backoff_s = page_size, retries, backoff_s

    def __enter__(self) -> FeedClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.close()

    def fetch(self, since: datetime | None, page: int) -> Page:
        attempt = 0
        while True:
            try:
                return self._fetch_once(since, page)
            except SourceError:
                if attempt >= self._retries:
                    raise
                time.sleep(self._backoff_s * 2**attempt)
                attempt += 1

    def _fetch_once(self, since: datetime | None, page: int) -> Page:
        params: dict[str, Any] = {"page": page, "page_size": self._page_size}
        if since is not None:
            params["updated_since"] = since.astimezone(UTC).isoformat(timespec="microseconds")
        where = f"page {page}"
        try:
            resp = self._http.get(FEED_PATH, params=params)
        except httpx.TimeoutException as exc:
            raise SourceError(f"flux gendarmerie : délai dépassé ({where}, {type(exc).__name__})") from None
        except httpx.HTTPError as exc:
            raise SourceError(f"flux gendarmerie injoignable ({where}) : {type(exc).__name__}: {exc}") from None
        if resp.status_code >= 500 or resp.status_code == 429:
            raise SourceError(f"flux gendarmerie : HTTP {resp.status_code} ({where})")
        if resp.status_code in (401, 403):
            raise ConfigurationError(f"flux gendarmerie : accès refusé (HTTP {resp.status_code}), "
                                     f"vérifier le jeton du connecteur")
        if resp.status_code != 200:
            raise ConfigurationError(f"flux gendarmerie : HTTP {resp.status_code} ({where}), "
                                     f"vérifier l'adresse du flux")
        try:
            body = resp.json()
        except ValueError:
            raise SourceError(f"flux gendarmerie : réponse JSON invalide ({where})") from None
        if (not isinstance(body, dict) or not isinstance(body.get("items"), list)
                or not (body.get("next_page") is None or isinstance(body.get("next_page"), int))):
            raise SourceError(f"flux gendarmerie : enveloppe inattendue ({where}) : "
                              f"{{\"items\": [...], \"next_page\": n|null}} attendu")
        return Page(items=body["items"], next_page=body.get("next_page"))
