"""What a person may enter through the intake connector, one lead per row or form: the columns
(each with its French label and the header names it is recognised by), the mapping the service
proposes from a spreadsheet's headers, and the parsing of one row into a ``DraftLead`` with an
error per cell in French.

A row is text (``{field: cell text}``), whatever it came from (form, CSV, XLSX). Parsing never
stops at the first bad cell: every cell is checked, so the person fixes a row in one go.

Reporter identity is refused, not silently scrubbed: a free-text cell holding a phone, e-mail,
IBAN or IP address (the kernel's detector, ``hub.contract.identifiers``) is an error naming
what it holds; there is no column for who reported. Persons' names (``nom``, ``prénom``) go into
``RawPerson`` only, which the base pipeline turns into a keyed pseudonym and scrubs from the
text: a name never leaves the connector.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from connectors.models import DraftLead, RawPerson
from hub.contract.identifiers import find_identifiers
from hub.contract.lead import (
    LEAD_KIND_LABELS_FR,
    SUBSTANCE_LABELS_FR,
    Agency,
    DealPoint,
    HandlingCode,
    InformationCredibility,
    LeadKind,
    Location,
    PersonRole,
    SourceChannel,
    SourceReliability,
    Substance,
    Vehicle,
)
from hub.contract.normalize import normalize_phone

PARIS = ZoneInfo("Europe/Paris")
IGNORE = ""  # mapping target of a column that is not imported (never read, never sent)


@dataclass(frozen=True)
class Field:
    key: str
    label: str  # French, as the person reads it
    hint: str
    synonyms: tuple[str, ...] = ()
    required: bool = False
    multiline: bool = False


FIELDS: tuple[Field, ...] = (
    Field("nature", "nature", "signalement bailleur, renseignement de terrain, saisie…",
          ("type", "categorie", "nature de la piste"), required=True),
    Field("date_faits", "date des faits", "JJ/MM/AAAA ou JJ/MM/AAAA HH:MM", ("date", "date heure", "le")),
    Field("code_insee", "code INSEE", "5 caractères, p. ex. 25056", ("insee", "code commune")),
    Field("commune", "commune", "p. ex. Besançon", ("ville", "localite")),
    Field("adresse", "adresse", "numéro et voie", ("adresse des faits", "rue", "lieu des faits")),
    Field("lieu", "lieu-dit ou repère", "p. ex. hall 3", ("repere", "lieu dit", "precision lieu")),
    Field("point_deal", "point de deal", "nom usuel du point de deal", ("point de vente", "deal")),
    Field("immatriculation", "immatriculation", "AB-123-CD", ("plaque", "immat", "vehicule")),
    Field("marque", "marque du véhicule", "", ("marque", "marque vehicule")),
    Field("couleur", "couleur du véhicule", "", ("couleur",)),
    Field("telephone", "téléphone(s) des mis en cause", "séparés par une virgule",
          ("tel", "telephone", "portable", "numero")),
    Field("nom", "nom de la personne", "remplacé par un pseudonyme, jamais transmis",
          ("nom", "nom famille", "mis en cause", "locataire")),
    Field("prenom", "prénom de la personne", "remplacé par un pseudonyme, jamais transmis",
          ("prenom",)),
    Field("produits", "produits", "séparés par une virgule : cocaïne, résine de cannabis…",
          ("produit", "stupefiants", "substances")),
    Field("recit", "récit", "les faits observés, sans coordonnées personnelles",
          ("description", "faits", "observations", "commentaire", "resume"), multiline=True),
    Field("code_traitement", "code de traitement", "H0, H1, H2 ou H3",
          ("traitement", "handling", "code h"), required=True),
    Field("fiabilite_source", "fiabilité de la source", "A, B, C ou X",
          ("fiabilite", "cotation source"), required=True),
    Field("credibilite_information", "crédibilité de l'information", "1, 2, 3 ou 4",
          ("credibilite", "cotation information"), required=True),
)
BY_KEY = {f.key: f for f in FIELDS}
# Headers that name who reported: never proposed for import (the column is left out).
_REPORTER = re.compile(r"declarant|signalant|signale par|auteur du signalement|courriel|e ?mail"
                       r"|contact|redacteur|agent saisissant")


def fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def propose_mapping(headers: list[str]) -> list[str]:
    """A field key (or ``IGNORE``) per header, each field at most once: exact key or label
    first, then a synonym; a header naming the reporter is never mapped."""
    taken: set[str] = set()
    out: list[str] = []
    for header in headers:
        h = fold(header)
        choice = IGNORE
        if h and not _REPORTER.search(h):
            for f in FIELDS:
                names = {fold(f.key), fold(f.label)}
                if f.key not in taken and h in names:
                    choice = f.key
                    break
            else:
                for f in FIELDS:
                    if f.key not in taken and h in {fold(s) for s in f.synonyms}:
                        choice = f.key
                        break
        if choice:
            taken.add(choice)
        out.append(choice)
    return out


def check_mapping(mapping: list[str]) -> list[str]:
    """French problems of a mapping the person confirmed (empty when it can be applied)."""
    problems = []
    chosen = [m for m in mapping if m]
    for key in sorted({m for m in chosen if chosen.count(m) > 1}):
        problems.append(f"le champ « {BY_KEY[key].label} » est associé à plusieurs colonnes")
    for key in chosen:
        if key not in BY_KEY:
            problems.append(f"champ inconnu « {key} »")
    for f in FIELDS:
        if f.required and f.key not in chosen:
            problems.append(f"le champ obligatoire « {f.label} » n'est associé à aucune colonne")
    return problems


# --- one row ----------------------------------------------------------------------------------


class RowErrors(Exception):
    """Every bad cell of a row: ``{field key: French reason}``."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


_KINDS = {**{fold(label): kind for kind, label in LEAD_KIND_LABELS_FR.items()},
          **{fold(k.value): k for k in LeadKind}, "bailleur": LeadKind.LANDLORD_REPORT}
_SUBSTANCES = {**{fold(label): s for s, label in SUBSTANCE_LABELS_FR.items()},
               **{fold(s.value): s for s in Substance}, "resine": Substance.CANNABIS_RESIN,
               "herbe": Substance.CANNABIS_HERB, "cannabis": Substance.CANNABIS_HERB}
_DATE_FORMATS = ("%d/%m/%Y %H:%M", "%d/%m/%Y %Hh%M", "%d/%m/%Y", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S",
                 "%Y-%m-%d %H:%M", "%Y-%m-%d")
_OUTSIDE_LAW_ENFORCEMENT = {Agency.BAILLEUR_SOCIAL, Agency.PREFECTURE}


def _cell_text(value: str | None, label: str) -> str | None:
    """Free text of a cell, refused when it holds a raw identifier (phone, e-mail, IBAN, IP)."""
    value = (value or "").strip()
    if not value:
        return None
    kinds = sorted({f.label_fr for f in find_identifiers(value)})
    if kinds:
        raise ValueError(f"contient {', '.join(kinds)} : aucune coordonnée personnelle dans un "
                         f"texte libre (un téléphone de mis en cause va dans sa colonne)")
    return value


def _one_of(value: str, table: dict[str, Any], expected: str) -> Any:
    found = table.get(fold(value))
    if found is None:
        raise ValueError(f"« {value} » n'est pas une valeur admise ({expected})")
    return found


def _observed_at(value: str, now: datetime) -> datetime:
    for fmt in _DATE_FORMATS:
        try:
            when = datetime.strptime(value.strip(), fmt).replace(tzinfo=PARIS)
        except ValueError:
            continue
        if when > now:
            raise ValueError("date dans le futur")
        return when
    raise ValueError(f"« {value} » n'est pas une date (JJ/MM/AAAA ou JJ/MM/AAAA HH:MM)")


def _phones(value: str) -> list[str]:
    out = []
    for raw in re.split(r"[,;/]", value):
        raw = raw.strip()
        if not raw:
            continue
        if raw.isdigit() and len(raw) == 9:  # a spreadsheet dropped the leading zero
            raw = "0" + raw
        try:
            out.append(normalize_phone(raw))
        except ValueError:
            raise ValueError(f"« {raw} » n'est pas un numéro de téléphone") from None
    return out


def _pydantic_reason(exc: ValidationError) -> str:
    return "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors(include_url=False))


def parse_row(row: dict[str, str], *, agency: Agency, source_ref: str, now: datetime) -> DraftLead:
    """One row to a draft lead, or ``RowErrors`` naming every bad cell (by field key)."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}

    def cell(key: str, parse) -> Any:
        raw = (row.get(key) or "").strip()
        if not raw:
            if BY_KEY[key].required:
                errors[key] = "valeur obligatoire manquante"
            return None
        try:
            return parse(raw)
        except ValidationError as exc:
            errors[key] = _pydantic_reason(exc)
        except ValueError as exc:
            errors[key] = str(exc)
        return None

    kind = cell("nature", lambda v: _one_of(v, _KINDS, "une nature de piste, p. ex. « signalement bailleur »"))
    handling = cell("code_traitement", lambda v: _one_of(v, {c.value.casefold(): c for c in HandlingCode},
                                                          "H0, H1, H2 ou H3"))
    reliability = cell("fiabilite_source", lambda v: _one_of(v, {c.value.casefold(): c for c in SourceReliability},
                                                             "A, B, C ou X"))
    credibility = cell("credibilite_information",
                       lambda v: _one_of(v.removesuffix(".0"), {c.value: c for c in InformationCredibility},
                                         "1, 2, 3 ou 4"))
    observed = cell("date_faits", lambda v: _observed_at(v, now))
    for key in ("commune", "adresse", "lieu", "point_deal", "marque", "couleur", "recit"):
        values[key] = cell(key, lambda v, k=key: _cell_text(v, BY_KEY[k].label))
    insee = cell("code_insee", lambda v: v.removesuffix(".0").zfill(5) if v.removesuffix(".0").isdigit() else v)
    location = deal_point = None
    if insee:
        try:
            location = Location(insee_code=insee, commune=values["commune"] or "?",
                                address=values["adresse"], place_label=values["lieu"])
        except ValidationError as exc:
            errors["code_insee"] = _pydantic_reason(exc)
    elif values["adresse"] or values["lieu"] or values["point_deal"]:
        errors["code_insee"] = "obligatoire dès qu'une adresse, un lieu ou un point de deal est donné"
    if location is not None and values["point_deal"]:
        deal_point = DealPoint(insee_code=location.insee_code, label=values["point_deal"])
    vehicles = []
    plate = cell("immatriculation", lambda v: Vehicle(plate=v, make=values["marque"],
                                                      colour=values["couleur"]))
    if plate is not None:
        vehicles.append(plate)
    elif "immatriculation" not in errors and values["marque"]:
        vehicles.append(Vehicle(make=values["marque"], colour=values["couleur"]))
    phones = cell("telephone", _phones) or []
    products = cell("produits", lambda v: list(dict.fromkeys(
        _one_of(p.strip(), _SUBSTANCES, "un produit, p. ex. cocaïne") for p in re.split(r"[,;/]", v)
        if p.strip()))) or []
    last, first = (row.get("nom") or "").strip(), (row.get("prenom") or "").strip()
    persons = [RawPerson(last_name=last, first_name=first, role=PersonRole.UNKNOWN)] if last or first else []
    if errors:
        raise RowErrors(errors)
    channel = SourceChannel.PARTNER if agency in _OUTSIDE_LAW_ENFORCEMENT else SourceChannel.INVESTIGATION
    return DraftLead(
        source_ref=source_ref, kind=kind, channel=channel, observed_at=observed, reported_at=now,
        location=location, deal_point=deal_point, vehicles=vehicles, persons=persons, phones=phones,
        substances=products, narrative_raw=values["recit"] or "", handling_code=handling,
        source_reliability=reliability, information_credibility=credibility,
    )
