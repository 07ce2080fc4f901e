"""Police connector: LRPPN-style CSV exports from an inbox directory (format in ``source.py``).

Cursor: ``<file name>#<n>`` after the n-th data row of a file, ``<file name>#end`` after its last
row. Files are read in name order; a run resumes inside the cursor's file and skips that file when
it is done. Once a batch is committed, ``on_committed`` moves every finished file to
``processed_dir``, so the inbox holds only files still to read. A crash between the commit and
the move leaves a finished file in the inbox: the cursor's own file is recognised and moved on the
next pass; an earlier one is read again and its leads re-sent, which the hub's idempotent ingest
absorbs (at least once, never lost — a name-order skip would silently drop a late file whose
name sorts before the cursor). Header-only files are moved aside as soon as they are seen.

A file that cannot be read at all (encoding, header, size) becomes one quarantined record; a
malformed row is quarantined alone and the rest of its file goes through.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

from pydantic import ValidationError
from pydantic_settings import SettingsConfigDict

from connectors.base import Connector
from connectors.models import ConnectorSettings, DraftLead, RawPerson, SourceRecord
from connectors.police.source import (
    DEFAULT_CHANNEL,
    NATURES,
    ORIGINS,
    SEIZURE_KINDS,
    VEHICLE_KINDS,
    ExportUnreadable,
    check_row_shape,
    local_datetime,
    parse_date,
    parse_decimal,
    parse_products,
    parse_suspects,
    parse_time,
    parse_timestamp,
    parse_weapons,
    pending_exports,
    read_export,
    split_multi,
)
from hub.contract.errors import ConfigurationError, SourceRecordInvalid
from hub.contract.lead import (
    Agency,
    DealPoint,
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

log = logging.getLogger("crosshub.connectors.police")

END = "end"


class PoliceSettings(ConnectorSettings):
    """``CROSSHUB_POLICE_*``: where the exports are dropped and where read ones go."""

    model_config = SettingsConfigDict(env_prefix="CROSSHUB_POLICE_")

    agency: Agency = Agency.POLICE
    inbox_dir: Path
    processed_dir: Path | None = None  # default: <inbox_dir>/processed
    settle_s: float = 5.0  # a file modified more recently may still be being written
    max_file_bytes: int = 20 * 1024 * 1024

    @property
    def processed_path(self) -> Path:
        return self.processed_dir or self.inbox_dir / "processed"


def _parse_cursor(cursor: str | None) -> tuple[str, int | None] | None:
    """``(file name, rows done)``; ``None`` rows means the file is finished."""
    if not cursor:
        return None
    name, sep, pos = cursor.rpartition("#")
    if not sep or not (pos == END or pos.isdigit()):
        raise ConfigurationError(f"curseur police illisible « {cursor} »")
    return name, None if pos == END else int(pos)


class PoliceConnector(Connector[PoliceSettings]):
    name: ClassVar[str] = "police"
    settings_model: ClassVar[type[ConnectorSettings]] = PoliceSettings

    def collect(self, cursor: str | None) -> Iterator[SourceRecord]:
        s = self.settings
        position = _parse_cursor(cursor)
        for path in pending_exports(s.inbox_dir, settle_s=s.settle_s, now=time.time()):
            skip = 0
            if position and position[0] == path.name:
                if position[1] is None:  # finished, but the move was lost (crash): do it now
                    self._move_aside(path)
                    continue
                skip = position[1]
            try:
                rows = read_export(path, max_bytes=s.max_file_bytes)
            except ExportUnreadable as exc:
                yield SourceRecord(source_id=path.name, cursor=f"{path.name}#{END}",
                                   raw={"file": path.name, "error": str(exc)})
                continue
            if not rows:
                log.info("police: export %s has no data row, moved aside", path.name)
                self._move_aside(path)
                continue
            for n, row in enumerate(rows, start=1):
                if n <= skip:
                    continue
                ref = row.get("numero_procedure") or f"{path.name}:{n}"
                yield SourceRecord(
                    source_id=ref,
                    cursor=f"{path.name}#{END if n == len(rows) else n}",
                    raw={"file": path.name, "row": n, "fields": row},
                )

    def on_committed(self, records: list[SourceRecord]) -> None:
        for record in records:
            position = _parse_cursor(record.cursor)
            if position and position[1] is None:
                path = self.settings.inbox_dir / position[0]
                if path.exists():
                    self._move_aside(path)

    def _move_aside(self, path: Path) -> None:
        target_dir = self.settings.processed_path
        target_dir.mkdir(parents=True, exist_ok=True)
        target = target_dir / path.name
        if target.exists():  # the same name was dropped again: keep both
            target = target_dir / f"{path.stem}.{time.strftime('%Y%m%d%H%M%S')}{path.suffix}"
        os.replace(path, target)

    def map(self, record: SourceRecord) -> DraftLead:
        raw = record.raw
        if "error" in raw:
            raise SourceRecordInvalid(f"export {raw['file']} illisible : {raw['error']}")
        try:
            return self._map_row(raw["fields"])
        except ValidationError:
            raise  # the framework reports each field's path
        except ValueError as exc:
            raise SourceRecordInvalid(f"ligne {raw['row']} de {raw['file']} : {exc}") from None

    def _map_row(self, f: dict[str, str | None]) -> DraftLead:
        check_row_shape(f)

        def cell(name: str) -> str:
            return f.get(name) or ""

        ref = cell("numero_procedure")
        if not ref:
            raise ValueError("numero_procedure vide")
        nature = cell("nature").lower()
        kind = NATURES.get(nature)
        if kind is None:
            raise ValueError(f"nature inconnue « {cell('nature')} »")
        channel = ORIGINS.get(cell("origine").lower()) or DEFAULT_CHANNEL.get(
            kind, SourceChannel.INVESTIGATION)

        observed = local_datetime(
            parse_date(cell("date_faits"), "date_faits"),
            parse_time(cell("heure_faits"), "heure_faits") if cell("heure_faits") else None,
        )
        reported = (parse_timestamp(cell("date_enregistrement"), "date_enregistrement")
                    if cell("date_enregistrement") else observed)

        point = None
        if cell("latitude") or cell("longitude"):
            point = GeoPoint(lat=float(parse_decimal(cell("latitude"), "latitude")),
                             lon=float(parse_decimal(cell("longitude"), "longitude")))
        location = Location(insee_code=cell("code_insee"), commune=cell("commune"),
                            address=cell("adresse") or None, place_label=cell("lieu") or None,
                            point=point)
        deal_point = (DealPoint(insee_code=location.insee_code, label=cell("point_deal"))
                      if cell("point_deal") else None)

        vehicles = []
        if cell("immatriculation") or cell("marque") or cell("modele"):
            vehicles.append(Vehicle(
                plate=cell("immatriculation") or None, make=cell("marque") or None,
                model=cell("modele") or None, colour=cell("couleur") or None,
                kind=VEHICLE_KINDS.get(cell("type_vehicule").lower(), "car" if cell("immatriculation") else "other"),
            ))

        suspects = parse_suspects(cell("mis_en_cause"))
        products, packaging = parse_products(cell("produits"))
        weapons = parse_weapons(cell("armes"))
        cash = parse_decimal(cell("numeraire"), "numeraire") if cell("numeraire") else None

        narrative = cell("resume")
        seizure = None
        mentioned = [p.substance for p in products]
        if kind in SEIZURE_KINDS:
            weighed = [p for p in products if p.quantity is not None]
            if weighed or cash or weapons or packaging:
                seizure = Seizure(
                    substances=[SubstanceQuantity(substance=p.substance, quantity=p.quantity,
                                                  unit=p.unit) for p in weighed],
                    cash_eur=cash, weapons=[Weapon(kind=k, count=n) for k, n in weapons],
                    packaging_material=packaging,
                )
            mentioned = [p.substance for p in products if p.quantity is None]
        elif weapons or cash:
            # Not a seizure: what was seen stays in the text rather than being lost.
            seen = [f"{n} × {k.value}" for k, n in weapons] + ([f"{cash} € en numéraire"] if cash else [])
            narrative = (narrative + "\n" if narrative else "") + "Observé : " + ", ".join(seen)
        if kind == LeadKind.SEIZURE and seizure is None:
            raise ValueError("nature « saisie » sans produit pesé, numéraire ni arme")

        return DraftLead(
            source_ref=ref,
            version=int(cell("version") or 1),
            kind=kind,
            channel=channel,
            observed_at=observed,
            reported_at=reported,
            location=location,
            deal_point=deal_point,
            vehicles=vehicles,
            persons=[RawPerson(last_name=s.last_name, first_name=s.first_name,
                               birth_date=s.birth_date, role=s.role) for s in suspects],
            phones=split_multi(cell("telephones"), "|,/"),  # normalized by the framework
            substances=list(dict.fromkeys(mentioned)),
            seizure=seizure,
            narrative_raw=narrative,
            handling_code=HandlingCode(cell("code_diffusion").upper() or "H0"),
            source_reliability=SourceReliability(cell("fiabilite").upper() or "X"),
            information_credibility=InformationCredibility(cell("credibilite") or "4"),
        )
