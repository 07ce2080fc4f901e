"""The customs source: XML seizure and control reports (*constatations*) on a read-only share.

The customs system writes one file per report batch (``*.xml``, written under a temporary name and
renamed when complete); a file holds one ``<constatation>`` as its root, or several under a
``<constatations>`` root. A namespace, if any, is ignored. Shape of one report (``?`` optional,
``*`` repeated)::

    <constatation numero="DR-BESANCON/2025/000421" version="1">
      <type>saisie|controle</type>
      <dateHeure>2025-10-27T22:40:00</dateHeure>        ISO 8601; no offset = Europe/Paris
      <dateRedaction>…</dateRedaction>?                 when written up (default: dateHeure)
      <service>BSI Pontarlier</service>?
      <lieu codeInsee="25462" commune="Pontarlier">
        <libelle>RN57, poste des Verrières</libelle>?  <adresse>…</adresse>?
        <point lat="46.90" lon="6.35"/>?
      </lieu>
      <itineraire>? <origine pays="ES">Barcelone</origine> <destination pays="FR">Besançon</destination>
      <moyenTransport type="VL|VU|PL|MOTO|SCOOTER|AUTOCAR|TRAIN|PIETON">?
        <immatriculation pays="FR|ES|CH|…">AB-123-CD</immatriculation>?   (ISO 3166 alpha-2) <marque/>? <modele/>? <couleur/>?
      <personnes>? <personne role="chauffeur|passager|convoyeur|destinataire|expediteur">*
        <nom/> <prenom/> <dateNaissance>1994-05-02</dateNaissance>? <nationalite/>?
      <marchandises>? <stupefiant code="RESINE_CANNABIS|HERBE_CANNABIS|COCAINE|…">*
        <quantite unite="mg|g|kg|t|unite">5.4</quantite>? <conditionnement>plaquettes</conditionnement>?
      <materielConditionnement/>?
      <numeraire devise="EUR">8300.00</numeraire>?
      <armes>? <arme type="ARME_POING|ARME_EPAULE|ARME_AUTOMATIQUE|ARME_BLANCHE|AUTRE" nombre="2"/>*
      <telephones>? <telephone>+33 6 12 34 56 78</telephone>*
      <observations>free text</observations>?
      <evaluation fiabilite="A|B|C|X" credibilite="1-4"/>?
      <diffusion code="H0-H3" restreintA="police gendarmerie"/>?
    </constatation>

Parsing goes through ``defusedxml`` with DTDs forbidden: no entity expansion, no external
entity, no billion laughs. Numbers and dates are XML-style (``5.4``, ISO 8601).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TypeVar
from xml.etree.ElementTree import Element
from zoneinfo import ZoneInfo

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from hub.contract.lead import PersonRole, Substance, WeaponKind

PARIS = ZoneInfo("Europe/Paris")
T = TypeVar("T")
REPORT = "constatation"
REPORTS = "constatations"

ALLOWED_CHILDREN = frozenset({
    "type", "dateHeure", "dateRedaction", "service", "lieu", "itineraire", "moyenTransport",
    "personnes", "marchandises", "materielConditionnement", "numeraire", "armes", "telephones",
    "observations", "evaluation", "diffusion",
})
REQUIRED_CHILDREN = ("type", "dateHeure", "lieu")

SUBSTANCE_CODES: dict[str, Substance] = {
    "RESINE_CANNABIS": Substance.CANNABIS_RESIN, "HERBE_CANNABIS": Substance.CANNABIS_HERB,
    "COCAINE": Substance.COCAINE, "CRACK": Substance.CRACK, "HEROINE": Substance.HEROIN,
    "KETAMINE": Substance.KETAMINE, "MDMA": Substance.MDMA, "AMPHETAMINE": Substance.AMPHETAMINE,
    "METHAMPHETAMINE": Substance.METHAMPHETAMINE,
    "CANNABINOIDE_SYNTHESE": Substance.SYNTHETIC_CANNABINOID, "LSD": Substance.LSD,
    "AUTRE": Substance.OTHER,
}
WEAPON_CODES: dict[str, WeaponKind] = {
    "ARME_POING": WeaponKind.HANDGUN, "ARME_EPAULE": WeaponKind.LONG_GUN,
    "ARME_AUTOMATIQUE": WeaponKind.AUTOMATIC_WEAPON, "ARME_BLANCHE": WeaponKind.BLADE,
    "AUTRE": WeaponKind.OTHER,
}
PERSON_ROLES: dict[str, PersonRole] = {
    "chauffeur": PersonRole.DRIVER, "conducteur": PersonRole.DRIVER,
    "passager": PersonRole.UNKNOWN, "convoyeur": PersonRole.COURIER, "passeur": PersonRole.COURIER,
    "destinataire": PersonRole.BUYER, "expediteur": PersonRole.SUPPLIER,
}
# ``quantite@unite`` codes → units the contract knows (masses become grams, counts units).
UNIT_CODES: dict[str, str] = {"mg": "mg", "g": "g", "kg": "kg", "t": "t", "unite": "unit"}
TRANSPORT_KINDS: dict[str, str] = {
    "VL": "car", "VU": "van", "PL": "truck", "MOTO": "motorbike", "SCOOTER": "scooter",
}


class ReportFileUnreadable(Exception):
    """The whole file is not a report file (not XML, DTD/entities, wrong root, too large)."""


def pending_reports(directory: Path, *, settle_s: float, now: float) -> list[tuple[int, Path]]:
    """``(mtime_ns, path)`` of the report files, oldest first (name breaks ties). Files modified in
    the last ``settle_s`` seconds may still be being written and wait for a later pass."""
    files = []
    for path in directory.iterdir():
        if path.name.startswith(".") or path.suffix.lower() != ".xml" or not path.is_file():
            continue
        st = path.stat()
        if now - st.st_mtime < settle_s:
            continue
        files.append((st.st_mtime_ns, path))
    return sorted(files, key=lambda t: (t[0], t[1].name))


def _strip_namespaces(root: Element) -> Element:
    for el in root.iter():
        if isinstance(el.tag, str) and "}" in el.tag:
            el.tag = el.tag.split("}", 1)[1]
    return root


def parse_xml(data: bytes | str) -> Element:
    """Parse untrusted XML: DTDs (hence entities) forbidden."""
    try:
        return _strip_namespaces(SafeET.fromstring(data, forbid_dtd=True))
    except DefusedXmlException as exc:
        raise ReportFileUnreadable(
            f"XML refusé : DTD ou entités interdites ({type(exc).__name__})") from None
    except ET.ParseError as exc:
        raise ReportFileUnreadable(f"XML mal formé : {exc}") from None


def split_reports(data: bytes) -> list[tuple[str | None, str]]:
    """The ``<constatation>`` elements of a file as ``(numero, serialized element)``: each travels
    as its record's raw payload, so a quarantined report shows exactly what the source sent."""
    root = parse_xml(data)
    if root.tag == REPORT:
        reports = [root]
    elif root.tag == REPORTS:
        reports = list(root)
        strays = sorted({el.tag for el in reports if el.tag != REPORT})
        if strays:
            raise ReportFileUnreadable(f"élément(s) inattendu(s) sous <{REPORTS}> : {', '.join(strays)}")
    else:
        raise ReportFileUnreadable(f"racine <{root.tag}> inattendue : <{REPORT}> ou <{REPORTS}> attendue")
    return [((r.get("numero") or "").strip() or None, ET.tostring(r, encoding="unicode"))
            for r in reports]


# --- reading one report (ValueError with a French reason on anything wrong) ------------------------


def check_structure(report: Element) -> None:
    unknown = sorted({c.tag for c in report} - ALLOWED_CHILDREN)
    if unknown:
        raise ValueError(f"élément(s) inconnu(s) dans <{REPORT}> : {', '.join(unknown)}")
    missing = [t for t in REQUIRED_CHILDREN if report.find(t) is None]
    if missing:
        raise ValueError(f"élément(s) obligatoire(s) absent(s) : {', '.join(missing)}")
    if not (report.get("numero") or "").strip():
        raise ValueError("attribut numero absent")


def text(el: Element | None, path: str | None = None) -> str:
    """Stripped text of ``el`` (or of its child at ``path``), ``""`` when absent."""
    if el is not None and path is not None:
        el = el.find(path)
    return (el.text or "").strip() if el is not None else ""


def parse_datetime(raw: str, where: str) -> datetime:
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise ValueError(f"{where} : date ISO 8601 attendue, lu « {raw} »") from None
    return value if value.tzinfo else value.replace(tzinfo=PARIS)


def parse_date(raw: str, where: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValueError(f"{where} : date AAAA-MM-JJ attendue, lu « {raw} »") from None


def parse_decimal(raw: str, where: str) -> Decimal:
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ValueError(f"{where} : nombre décimal attendu, lu « {raw} »") from None
    if not value.is_finite():
        raise ValueError(f"{where} : nombre décimal attendu, lu « {raw} »")
    return value


def lookup(table: Mapping[str, T], raw: str | None, where: str) -> T:
    key = (raw or "").strip()
    if key not in table:
        raise ValueError(f"{where} : code inconnu « {key} »")
    return table[key]
