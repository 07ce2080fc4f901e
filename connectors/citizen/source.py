"""The citizens' platform source: the export of masecurite.interieur.gouv.fr-style reports and
chat transcripts, as JSON lines.

The platform appends each report, once closed, as one JSON object on one line to the day's file
``signalements-AAAA-MM-JJ.jsonl`` (UTF-8) in the export directory; a new file starts each day and
old files are never rewritten. The platform is run by both forces: each report carries the
``competence`` (``police`` in police zones, ``gendarmerie`` elsewhere) of the force it was routed
to. One object (``PlatformReport`` below)::

    {"id": "MSI-2025-0007312", "version": 1, "type": "signalement" | "tchat",
     "recu_le": "2025-07-28T19:52:10Z", "competence": "police", "categorie": "stupefiants",
     "declarant": {"nom", "prenom", "telephone", "email", "ip", "compte"},   any may be null
     "faits": {"date": "2025-07-28", "heure": "21:40", "code_insee", "commune", "adresse", "lieu",
               "lat", "lon"},                                                 all optional
     "description": "free text" (signalement),
     "messages": [{"auteur": "usager" | "agent", "horodatage": ISO, "texte": "..."}] (tchat),
     "elements": {"telephones_suspects": [...], "vehicules": [{"immatriculation", "marque",
                  "modele", "couleur", "type"}], "produits": ["cocaine", ...], "point_deal",
                  "personnes": [{"role", "sexe", "age_min", "age_max", "taille_cm", "corpulence",
                                 "tenue", "signes"}]}}

``faits`` date and time are what the citizen typed in the form: Europe/Paris wall-clock time.
"""

from __future__ import annotations

from dataclasses import dataclass
import datetime as dt
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from hub.contract.lead import PersonRole, Substance

FILE_PATTERN = "signalements-*.jsonl"
PARIS = ZoneInfo("Europe/Paris")

PRODUCTS: dict[str, Substance] = {
    "resine_cannabis": Substance.CANNABIS_RESIN, "herbe_cannabis": Substance.CANNABIS_HERB,
    "cocaine": Substance.COCAINE, "crack": Substance.CRACK, "heroine": Substance.HEROIN,
    "mdma_ecstasy": Substance.MDMA, "ketamine": Substance.KETAMINE,
    "autre_inconnu": Substance.OTHER,
}
ROLES: dict[str, PersonRole] = {
    "vendeur": PersonRole.SELLER, "guetteur": PersonRole.LOOKOUT, "livreur": PersonRole.COURIER,
    "acheteur": PersonRole.BUYER, "inconnu": PersonRole.UNKNOWN,
}
VEHICLE_TYPES: dict[str, str] = {
    "voiture": "car", "utilitaire": "van", "camion": "truck", "moto": "motorbike",
    "scooter": "scooter", "trottinette": "e_scooter", "velo": "bicycle", "autre": "other",
}
SEXES: dict[str, str] = {"homme": "male", "femme": "female", "inconnu": "unknown"}
BUILDS: dict[str, str] = {"mince": "slim", "moyenne": "medium", "forte": "heavy", "sportive": "athletic"}


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, str_strip_whitespace=True)


class Declarant(_Model):
    nom: str | None = None
    prenom: str | None = None
    telephone: str | None = None
    email: str | None = None
    ip: str | None = None
    compte: str | None = None


class Facts(_Model):
    date: dt.date | None = None
    heure: dt.time | None = None
    code_insee: str | None = None
    commune: str | None = None
    adresse: str | None = None
    lieu: str | None = None
    lat: float | None = None
    lon: float | None = None


class Message(_Model):
    auteur: Literal["usager", "agent"]
    horodatage: AwareDatetime
    texte: str


class DescribedPerson(_Model):
    role: str = "inconnu"
    sexe: str = "inconnu"
    age_min: int | None = None
    age_max: int | None = None
    taille_cm: int | None = None
    corpulence: str | None = None
    tenue: str | None = None
    signes: str | None = None


class ReportedVehicle(_Model):
    immatriculation: str | None = None
    marque: str | None = None
    modele: str | None = None
    couleur: str | None = None
    type: str = "voiture"


class Elements(_Model):
    telephones_suspects: list[str] = Field(default_factory=list)
    vehicules: list[ReportedVehicle] = Field(default_factory=list)
    produits: list[str] = Field(default_factory=list)
    point_deal: str | None = None
    personnes: list[DescribedPerson] = Field(default_factory=list)


class PlatformReport(_Model):
    id: str = Field(min_length=1)
    version: int = Field(default=1, ge=1)
    type: Literal["signalement", "tchat"]
    recu_le: AwareDatetime
    competence: Literal["police", "gendarmerie"]
    categorie: str = "stupefiants"
    declarant: Declarant | None = None
    faits: Facts = Field(default_factory=Facts)
    description: str = ""
    messages: list[Message] = Field(default_factory=list)
    elements: Elements = Field(default_factory=Elements)


# --- the log files ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    start: int  # byte offset of the line in its file
    end: int  # byte offset just after its newline (or after the bytes, for a cut-off last line)
    data: bytes
    complete: bool


def export_files(directory: Path) -> list[Path]:
    """The day files, oldest first (their names carry the date)."""
    return sorted((p for p in directory.glob(FILE_PATTERN) if p.is_file()), key=lambda p: p.name)


def read_lines(path: Path, offset: int) -> list[Line]:
    """The lines of ``path`` from byte ``offset``: every newline-terminated line, then the bytes
    after the last newline as one incomplete line (the platform may be writing it)."""
    with path.open("rb") as f:
        f.seek(offset)
        data = f.read()
    lines, pos = [], 0
    while pos < len(data):
        nl = data.find(b"\n", pos)
        complete = nl != -1
        end = nl + 1 if complete else len(data)
        lines.append(Line(offset + pos, offset + end, data[pos:end].rstrip(b"\r\n"), complete))
        pos = end
    return lines
