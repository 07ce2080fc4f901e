"""Customs connector: XML *constatations* (seizures and controls) read from a read-only share
(format in ``source.py``).

Cursor: ``<mtime_ns>|<file name>|<n>`` after the n-th report of a file, ``…|*`` once the file is
finished. Files are read oldest first by modification time (name breaks ties), and only files
after the cursor's ``(mtime_ns, name)`` are read: nothing is moved or written on the share. A
file rewritten in place gets a newer mtime and is read again (its reports come back with their
``version``; the hub's ingest is idempotent). A file copied in with an *older* mtime preserved
(``cp -p``, ``rsync -t``) would be missed: the customs export writes fresh files.

A file that is not a report file (bad XML, a DTD or entities, wrong root, too large) becomes one
quarantined record; a malformed report is quarantined alone.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar
from xml.etree.ElementTree import Element

from pydantic import ValidationError
from pydantic_settings import SettingsConfigDict

from connectors.base import Connector
from connectors.douanes.source import (
    PERSON_ROLES,
    REPORT,
    SUBSTANCE_CODES,
    TRANSPORT_KINDS,
    UNIT_CODES,
    WEAPON_CODES,
    ReportFileUnreadable,
    check_structure,
    lookup,
    parse_date,
    parse_datetime,
    parse_decimal,
    parse_xml,
    pending_reports,
    split_reports,
    text,
)
from connectors.models import ConnectorSettings, DraftLead, RawPerson, SourceRecord
from hub.contract.errors import ConfigurationError, SourceRecordInvalid
from hub.contract.lead import (
    Agency,
    GeoPoint,
    HandlingCode,
    InformationCredibility,
    LeadKind,
    Location,
    Seizure,
    SourceChannel,
    SourceReliability,
    SubstanceQuantity,
    Vehicle,
    Weapon,
)

DONE = "*"
_KINDS = {"saisie": LeadKind.SEIZURE, "controle": LeadKind.STOP_CHECK, "contrôle": LeadKind.STOP_CHECK}


class DouanesSettings(ConnectorSettings):
    """``CROSSHUB_DOUANES_*``: the share the customs reports are written to."""

    model_config = SettingsConfigDict(env_prefix="CROSSHUB_DOUANES_")

    agency: Agency = Agency.DOUANES
    reports_dir: Path
    settle_s: float = 5.0  # a file modified more recently may still be being written
    max_file_bytes: int = 10 * 1024 * 1024


def _parse_cursor(cursor: str | None) -> tuple[tuple[int, str], int | None] | None:
    """``((mtime_ns, name), reports done)``; ``None`` done means the file is finished."""
    if not cursor:
        return None
    try:
        mtime, rest = cursor.split("|", 1)
        name, done = rest.rsplit("|", 1)
        return (int(mtime), name), None if done == DONE else int(done)
    except ValueError:
        raise ConfigurationError(f"curseur douanes illisible « {cursor} »") from None


class DouanesConnector(Connector[DouanesSettings]):
    name: ClassVar[str] = "douanes"
    settings_model: ClassVar[type[ConnectorSettings]] = DouanesSettings

    def collect(self, cursor: str | None) -> Iterator[SourceRecord]:
        s = self.settings
        position = _parse_cursor(cursor)
        for mtime_ns, path in pending_reports(s.reports_dir, settle_s=s.settle_s, now=time.time()):
            key = (mtime_ns, path.name)
            skip = 0
            if position is not None:
                if key < position[0]:
                    continue
                if key == position[0]:
                    if position[1] is None:
                        continue
                    skip = position[1]
            prefix = f"{mtime_ns}|{path.name}|"
            try:
                size = path.stat().st_size
                if size > s.max_file_bytes:
                    raise ReportFileUnreadable(f"fichier trop volumineux ({size} octets > {s.max_file_bytes})")
                reports = split_reports(path.read_bytes())
            except ReportFileUnreadable as exc:
                yield SourceRecord(source_id=path.name, cursor=prefix + DONE,
                                   raw={"file": path.name, "error": str(exc)})
                continue
            for n, (numero, xml) in enumerate(reports, start=1):
                if n <= skip:
                    continue
                yield SourceRecord(
                    source_id=numero or f"{path.name}#{n}",
                    cursor=prefix + (DONE if n == len(reports) else str(n)),
                    raw={"file": path.name, "index": n, "xml": xml},
                )

    def map(self, record: SourceRecord) -> DraftLead:
        raw = record.raw
        if "error" in raw:
            raise SourceRecordInvalid(f"fichier {raw['file']} refusé : {raw['error']}")
        try:
            return self._map_report(parse_xml(raw["xml"]))
        except ValidationError:
            raise  # the framework reports each field's path
        except (ValueError, ReportFileUnreadable) as exc:
            raise SourceRecordInvalid(
                f"constatation n° {raw['index']} de {raw['file']} : {exc}") from None

    def _map_report(self, r: Element) -> DraftLead:
        if r.tag != REPORT:
            raise ValueError(f"<{REPORT}> attendu, lu <{r.tag}>")
        check_structure(r)
        kind = lookup(_KINDS, text(r, "type").lower(), "type")
        observed = parse_datetime(text(r, "dateHeure"), "dateHeure")
        reported = (parse_datetime(text(r, "dateRedaction"), "dateRedaction")
                    if text(r, "dateRedaction") else observed)
        notes: list[str] = []

        lieu = r.find("lieu")
        assert lieu is not None  # check_structure
        pt = lieu.find("point")
        point = None
        if pt is not None:
            point = GeoPoint(lat=float(parse_decimal(pt.get("lat", ""), "lieu/point@lat")),
                             lon=float(parse_decimal(pt.get("lon", ""), "lieu/point@lon")))
        location = Location(insee_code=lieu.get("codeInsee", ""), commune=lieu.get("commune", ""),
                            address=text(lieu, "adresse") or None,
                            place_label=text(lieu, "libelle") or None, point=point)

        route = r.find("itineraire")
        if route is not None:
            legs = [f"{text(leg)} ({leg.get('pays')})" if leg.get("pays") else text(leg)
                    for leg in (route.find("origine"), route.find("destination")) if leg is not None]
            notes.append("Itinéraire déclaré : " + " → ".join(legs))

        vehicles = []
        transport = r.find("moyenTransport")
        if transport is not None:
            plate_el = transport.find("immatriculation")
            plate = text(plate_el) or None
            make, model = text(transport, "marque") or None, text(transport, "modele") or None
            if plate or make or model:
                vehicles.append(Vehicle(
                    plate=plate, make=make, model=model, colour=text(transport, "couleur") or None,
                    plate_country=(plate_el.get("pays") or "FR").upper() if plate_el is not None else "FR",
                    kind=TRANSPORT_KINDS.get(transport.get("type", "").upper(), "other"),  # type: ignore[arg-type]
                ))

        persons = []
        for i, p in enumerate(r.findall("personnes/personne"), start=1):
            last, first = text(p, "nom"), text(p, "prenom")
            if not last or not first:
                raise ValueError(f"personne n° {i} : nom et prénom obligatoires")
            born = text(p, "dateNaissance")
            persons.append(RawPerson(
                last_name=last, first_name=first,
                birth_date=parse_date(born, f"personne n° {i}/dateNaissance") if born else None,
                role=lookup(PERSON_ROLES, (p.get("role") or "").lower(), f"personne n° {i}@role"),
            ))

        substances = []
        for i, st in enumerate(r.findall("marchandises/stupefiant"), start=1):
            where = f"stupefiant n° {i}"
            substance = lookup(SUBSTANCE_CODES, st.get("code"), f"{where}@code")
            qty = st.find("quantite")
            substances.append(SubstanceQuantity(
                substance=substance,
                quantity=parse_decimal(text(qty), f"{where}/quantite") if text(qty) else None,
                unit=lookup(UNIT_CODES, qty.get("unite"), f"{where}/quantite@unite") if qty is not None else "g",
            ))

        cash = None
        cash_el = r.find("numeraire")
        if cash_el is not None:
            amount = parse_decimal(text(cash_el), "numeraire")
            currency = cash_el.get("devise", "EUR").upper()
            if currency == "EUR":
                cash = amount
            else:
                notes.append(f"Numéraire en devise : {amount} {currency}")

        weapons = []
        for i, w in enumerate(r.findall("armes/arme"), start=1):
            count = w.get("nombre", "1")
            if not count.isdigit():
                raise ValueError(f"arme n° {i}@nombre : entier attendu, lu « {count} »")
            weapons.append(Weapon(kind=lookup(WEAPON_CODES, w.get("type"), f"arme n° {i}@type"),
                                  count=int(count)))
        packaging = r.find("materielConditionnement") is not None

        seizure = None
        if substances or cash or weapons or packaging:
            seizure = Seizure(substances=substances, cash_eur=cash, weapons=weapons,
                              packaging_material=packaging)
        elif kind == LeadKind.SEIZURE:
            raise ValueError("type « saisie » sans marchandise, numéraire ni arme")

        evaluation = r.find("evaluation")
        diffusion = r.find("diffusion")
        restricted = (diffusion.get("restreintA", "") if diffusion is not None else "").split()
        narrative = "\n".join(filter(None, [text(r, "observations"), *notes]))
        return DraftLead(
            source_ref=r.get("numero", "").strip(),
            version=int(r.get("version", "1")),
            kind=kind,
            channel=SourceChannel.CUSTOMS_CONTROL,
            observed_at=observed,
            reported_at=reported,
            location=location,
            vehicles=vehicles,
            persons=persons,
            phones=[text(t) for t in r.findall("telephones/telephone") if text(t)],
            seizure=seizure,
            narrative_raw=narrative,
            handling_code=HandlingCode(diffusion.get("code", "H0") if diffusion is not None else "H0"),
            source_reliability=SourceReliability(
                evaluation.get("fiabilite", "X") if evaluation is not None else "X"),
            information_credibility=InformationCredibility(
                evaluation.get("credibilite", "4") if evaluation is not None else "4"),
            restricted_to=[Agency(a) for a in restricted],
        )

