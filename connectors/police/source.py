"""The police source: LRPPN-style CSV exports dropped in an inbox directory.

One file per export, named so that name order is production order (the export tool writes
``lrppn-<service>-AAAAMMJJ-HHMMSS.csv`` through a temporary name and renames it when complete).
The format is what a French office tool writes:

* ``;``-separated, UTF-8, possibly with a BOM; one header line with the column names below;
* dates ``JJ/MM/AAAA``, times ``HH:MM`` in Europe/Paris local time, decimals with a comma;
* multi-valued cells separated by ``|``: ``telephones`` (``06 12 34 56 78|07 ...``),
  ``mis_en_cause`` (``NOM Prénom;né le JJ/MM/AAAA;rôle|...``), ``produits``
  (``résine de cannabis:1,2 kg|cocaïne:35 g|MDMA:20 comprimés|matériel de conditionnement``),
  ``armes`` (``arme de poing:2|arme blanche``).

This module only reads files and parses cell values; ``connector.py`` turns a row into a lead.
A value that cannot be parsed raises ``ValueError`` with a French reason naming the column.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from zoneinfo import ZoneInfo

from hub.contract.lead import (
    SUBSTANCE_LABELS_FR,
    LeadKind,
    PersonRole,
    SourceChannel,
    Substance,
    WeaponKind,
)

PARIS = ZoneInfo("Europe/Paris")

COLUMNS: tuple[str, ...] = (
    "numero_procedure", "version", "service", "date_enregistrement", "date_faits", "heure_faits",
    "code_insee", "commune", "adresse", "lieu", "latitude", "longitude", "point_deal", "nature",
    "origine", "immatriculation", "marque", "modele", "couleur", "type_vehicule", "telephones",
    "mis_en_cause", "produits", "numeraire", "armes", "resume", "code_diffusion", "fiabilite",
    "credibilite",
)
REQUIRED_COLUMNS = frozenset({"numero_procedure", "date_faits", "code_insee", "commune", "nature"})
EXTRA = "__colonnes_en_trop__"


# ``nature`` → kind of lead; ``origine`` → channel (default by kind, else investigation).
NATURES: dict[str, LeadKind] = {
    "signalement": LeadKind.FIELD_INTELLIGENCE, "renseignement": LeadKind.FIELD_INTELLIGENCE,
    "surveillance": LeadKind.SURVEILLANCE, "controle": LeadKind.STOP_CHECK,
    "contrôle": LeadKind.STOP_CHECK, "interpellation": LeadKind.ARREST,
    "perquisition": LeadKind.SEARCH, "saisie": LeadKind.SEIZURE,
    "videoprotection": LeadKind.VIDEO_PROTECTION, "vidéoprotection": LeadKind.VIDEO_PROTECTION,
    "bailleur": LeadKind.LANDLORD_REPORT,
}
ORIGINS: dict[str, SourceChannel] = {
    "patrouille": SourceChannel.PATROL, "enquete": SourceChannel.INVESTIGATION,
    "enquête": SourceChannel.INVESTIGATION, "source": SourceChannel.INFORMANT,
    "informateur": SourceChannel.INFORMANT, "video": SourceChannel.VIDEO,
    "vidéo": SourceChannel.VIDEO, "partenaire": SourceChannel.PARTNER,
    "plateforme": SourceChannel.CITIZEN_PLATFORM,
}
DEFAULT_CHANNEL: dict[LeadKind, SourceChannel] = {
    LeadKind.STOP_CHECK: SourceChannel.PATROL, LeadKind.VIDEO_PROTECTION: SourceChannel.VIDEO,
    LeadKind.LANDLORD_REPORT: SourceChannel.PARTNER,
}
SEIZURE_KINDS = {LeadKind.SEIZURE, LeadKind.SEARCH, LeadKind.ARREST, LeadKind.STOP_CHECK}
VEHICLE_KINDS: dict[str, str] = {
    "vl": "car", "voiture": "car", "vu": "van", "utilitaire": "van", "pl": "truck",
    "camion": "truck", "moto": "motorbike", "scooter": "scooter", "trottinette": "e_scooter",
    "trottinette electrique": "e_scooter", "velo": "bicycle", "vélo": "bicycle",
}


class ExportUnreadable(Exception):
    """The whole file cannot be read as an export (encoding, header, size)."""


# --- files ----------------------------------------------------------------------------------------


def pending_exports(inbox: Path, *, settle_s: float, now: float) -> list[Path]:
    """The export files waiting in ``inbox``, in name order. Hidden files and files modified in the
    last ``settle_s`` seconds (possibly still being written) are left for a later pass.

    A file dated in the future by more than ``settle_s`` is clock skew between the exporting host
    (or the share) and this one, not a file being written: it is read now. Holding it until our
    clock catches up would hold it for as long as the skew (years, for a workstation whose date
    is wrong), and the cursor is by name, so reading it early skips nothing."""
    files = []
    for path in inbox.iterdir():
        if path.name.startswith(".") or path.suffix.lower() != ".csv" or not path.is_file():
            continue
        if abs(now - path.stat().st_mtime) < settle_s:
            continue
        files.append(path)
    return sorted(files, key=lambda p: p.name)


def read_export(path: Path, *, max_bytes: int) -> list[dict[str, str | None]]:
    """The data rows of one export, as ``column → cell`` (cells stripped; ``None`` for a missing
    cell, extra cells under ``EXTRA``). Raises ``ExportUnreadable`` for a file that is not an
    export at all."""
    size = path.stat().st_size
    if size > max_bytes:
        raise ExportUnreadable(f"fichier trop volumineux ({size} octets > {max_bytes})")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ExportUnreadable(f"encodage invalide (UTF-8 attendu) à l'octet {exc.start}") from None
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=";", restkey=EXTRA)
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = REQUIRED_COLUMNS - set(header)
    if missing:
        raise ExportUnreadable("en-tête invalide : colonnes absentes " + ", ".join(sorted(missing)))
    reader.fieldnames = header
    rows = []
    try:
        for row in reader:
            rows.append({k: (v.strip() if isinstance(v, str) else v) for k, v in row.items()})
    except csv.Error as exc:
        raise ExportUnreadable(f"CSV illisible ligne {reader.line_num} : {exc}") from None
    return rows


def check_row_shape(row: dict[str, str | None]) -> None:
    """A row with too many or too few cells is malformed (shifted columns would mislead)."""
    if row.get(EXTRA):
        raise ValueError(f"ligne mal formée : {len(row[EXTRA])} cellule(s) en trop")  # type: ignore[arg-type]
    short = [k for k, v in row.items() if v is None]
    if short:
        raise ValueError(f"ligne mal formée : cellules manquantes ({', '.join(short)})")


# --- cells ----------------------------------------------------------------------------------------


def _fold(text: str) -> str:
    s = unicodedata.normalize("NFKD", text)
    s = "".join(c for c in s if not unicodedata.combining(c)).lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", s).split())


def parse_decimal(raw: str, column: str) -> Decimal:
    """French decimal: ``1,2``, ``8 300,50`` (spaces or non-breaking spaces as thousands)."""
    compact = re.sub(r"[\s\u00a0\u202f€]", "", raw).replace(",", ".")
    try:
        value = Decimal(compact)
    except InvalidOperation:
        raise ValueError(f"{column} : nombre illisible « {raw} »") from None
    if not value.is_finite():
        raise ValueError(f"{column} : nombre illisible « {raw} »")
    return value


def parse_date(raw: str, column: str) -> date:
    try:
        return datetime.strptime(raw.strip(), "%d/%m/%Y").date()
    except ValueError:
        raise ValueError(f"{column} : date JJ/MM/AAAA attendue, lu « {raw} »") from None


def parse_time(raw: str, column: str) -> time:
    for fmt in ("%H:%M", "%H:%M:%S", "%Hh%M"):
        try:
            return datetime.strptime(raw.strip(), fmt).time()
        except ValueError:
            continue
    raise ValueError(f"{column} : heure HH:MM attendue, lu « {raw} »")


def local_datetime(d: date, t: time | None) -> datetime:
    """Europe/Paris wall-clock time → aware datetime (a date alone is taken at 00:00)."""
    return datetime.combine(d, t or time(0, 0), tzinfo=PARIS)


def parse_timestamp(raw: str, column: str) -> datetime:
    """``JJ/MM/AAAA HH:MM`` (or a date alone) in Europe/Paris."""
    day, _, clock = raw.strip().partition(" ")
    return local_datetime(parse_date(day, column), parse_time(clock, column) if clock.strip() else None)


def split_multi(raw: str | None, separators: str = "|") -> list[str]:
    if not raw:
        return []
    return [p.strip() for p in re.split(f"[{re.escape(separators)}]", raw) if p.strip()]


# Substances: the contract's own French labels, plus the spellings found in procedures.
_SUBSTANCES: dict[str, Substance] = {_fold(label): s for s, label in SUBSTANCE_LABELS_FR.items()}
_SUBSTANCES.update({
    _fold(k): v for k, v in {
        "résine": Substance.CANNABIS_RESIN, "cannabis résine": Substance.CANNABIS_RESIN,
        "haschich": Substance.CANNABIS_RESIN, "haschisch": Substance.CANNABIS_RESIN,
        "herbe": Substance.CANNABIS_HERB, "cannabis herbe": Substance.CANNABIS_HERB,
        "cannabis": Substance.CANNABIS_HERB, "cocaine": Substance.COCAINE,
        "chlorhydrate de cocaïne": Substance.COCAINE, "cocaïne base": Substance.CRACK,
        "héroine": Substance.HEROIN, "ecstasy": Substance.MDMA, "ecstasy mdma": Substance.MDMA,
        "amphétamines": Substance.AMPHETAMINE, "speed": Substance.AMPHETAMINE,
        "méthamphétamine cristal": Substance.METHAMPHETAMINE,
    }.items()
})
_PACKAGING = {"materiel de conditionnement", "conditionnement", "sachets de conditionnement",
              "materiel de pesee et de conditionnement"}


@dataclass(frozen=True)
class Product:
    substance: Substance
    quantity: Decimal | None
    unit: str


def parse_products(raw: str | None) -> tuple[list[Product], bool]:
    """``produits`` → the substances with their quantities, and whether packaging was found."""
    products: list[Product] = []
    packaging = False
    for item in split_multi(raw):
        label, _, qty = item.partition(":")
        key = _fold(label)
        if key in _PACKAGING:
            packaging = True
            continue
        substance = _SUBSTANCES.get(key)
        if substance is None:
            raise ValueError(f"produits : produit inconnu « {label.strip()} »")
        if not qty.strip():
            products.append(Product(substance, None, "g"))
            continue
        m = re.fullmatch(r"\s*([\d\s\u00a0\u202f]+(?:[,.]\d+)?)\s*([^\d\s].*)?", qty)
        if not m:
            raise ValueError(f"produits : quantité illisible « {qty.strip()} » pour {label.strip()}")
        products.append(Product(substance, parse_decimal(m.group(1), "produits"),
                                (m.group(2) or "g").strip()))
    return products, packaging


_WEAPONS: dict[str, WeaponKind] = {
    "arme de poing": WeaponKind.HANDGUN, "pistolet": WeaponKind.HANDGUN,
    "revolver": WeaponKind.HANDGUN, "pistolet automatique": WeaponKind.HANDGUN,
    "fusil": WeaponKind.LONG_GUN, "carabine": WeaponKind.LONG_GUN,
    "fusil de chasse": WeaponKind.LONG_GUN, "arme longue": WeaponKind.LONG_GUN,
    "arme automatique": WeaponKind.AUTOMATIC_WEAPON, "fusil d assaut": WeaponKind.AUTOMATIC_WEAPON,
    "kalachnikov": WeaponKind.AUTOMATIC_WEAPON, "pistolet mitrailleur": WeaponKind.AUTOMATIC_WEAPON,
    "arme blanche": WeaponKind.BLADE, "couteau": WeaponKind.BLADE, "machette": WeaponKind.BLADE,
}


def parse_weapons(raw: str | None) -> list[tuple[WeaponKind, int]]:
    """``armes`` (``arme de poing:2|couteau``) → (kind, count); unknown kinds are ``other``."""
    weapons = []
    for item in split_multi(raw):
        label, _, count = item.partition(":")
        n = count.strip()
        if n and not n.isdigit():
            raise ValueError(f"armes : nombre illisible « {n} » pour {label.strip()}")
        weapons.append((_WEAPONS.get(_fold(label), WeaponKind.OTHER), int(n) if n else 1))
    return weapons


_ROLES: dict[str, PersonRole] = {
    "vendeur": PersonRole.SELLER, "revendeur": PersonRole.SELLER, "dealer": PersonRole.SELLER,
    "acheteur": PersonRole.BUYER, "consommateur": PersonRole.BUYER, "client": PersonRole.BUYER,
    "livreur": PersonRole.COURIER, "convoyeur": PersonRole.COURIER, "mule": PersonRole.COURIER,
    "nourrice": PersonRole.COURIER, "guetteur": PersonRole.LOOKOUT, "chouf": PersonRole.LOOKOUT,
    "fournisseur": PersonRole.SUPPLIER, "grossiste": PersonRole.SUPPLIER,
    "gerant": PersonRole.MANAGER, "gerant du point de deal": PersonRole.MANAGER,
    "chauffeur": PersonRole.DRIVER, "conducteur": PersonRole.DRIVER,
    "producteur": PersonRole.PRODUCER, "cuisinier": PersonRole.PRODUCER,
    "cultivateur": PersonRole.PRODUCER,
}


@dataclass(frozen=True)
class Suspect:
    last_name: str
    first_name: str
    birth_date: date | None
    role: PersonRole


def parse_suspects(raw: str | None) -> list[Suspect]:
    """``mis_en_cause``: ``NOM Prénom;né le JJ/MM/AAAA;rôle`` entries separated by ``|``. The
    family name is the leading run of upper-case words (``DE LA FONTAINE Jean-Pierre``)."""
    suspects = []
    for entry in split_multi(raw):
        parts = [p.strip() for p in entry.split(";")]
        words = parts[0].split()
        cut = 0
        while cut < len(words) and words[cut] == words[cut].upper() and any(c.isalpha() for c in words[cut]):
            cut += 1
        if cut == 0 or cut == len(words):
            raise ValueError(f"mis_en_cause : « NOM Prénom » attendu, nom et prénom indiscernables "
                             f"dans l'entrée n° {len(suspects) + 1}")
        birth: date | None = None
        role = PersonRole.UNKNOWN
        for part in parts[1:]:
            m = re.fullmatch(r"n[ée]e? le\s+(.+)", part, flags=re.IGNORECASE)
            if m:
                birth = parse_date(m.group(1), "mis_en_cause")
            elif part:
                role = _ROLES.get(_fold(part), PersonRole.UNKNOWN)
        suspects.append(Suspect(" ".join(words[:cut]), " ".join(words[cut:]), birth, role))
    return suspects
