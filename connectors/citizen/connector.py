"""Citizens' platform connector: anonymous reports and chat transcripts, JSON lines appended to day
files (format in ``source.py``).

Cursor: ``<file name>@<byte offset>`` just after a record's line. Day files are read oldest first
from the cursor's offset; only newline-terminated lines are taken from the newest file (the
platform may be writing its last line), while a cut-off last line of an older file will never be
completed and is quarantined. Nothing is moved or written in the export directory.

One deployment per force: ``agency`` (``police`` or ``gendarmerie``) is both the leads'
``source_agency`` and the filter on each report's ``competence`` — reports routed to the other
force are left to its own connector.

The reporter: their contact details go into ``DraftLead.reporter`` and nowhere else, so the
framework scrubs them from the text and drops them. Phones the citizen gave *about suspects*
(``elements.telephones_suspects``) are lead data and go into ``phones``.

The citizen's receipt (ADR 0015), when ``receipts_url`` is set: each report
durably committed gets a receipt code (``receipts.py``) handed back to the platform at once
(``platform.py``); and each run starts with the receipt exchange — ask the hub, signed, for the
published status of every report in the book, then hand the platform every status it does not
show yet. The exchange is best effort: a hub or platform failure is logged and retried at the next
run, never a failure of the run (the leads matter more than the receipts).
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import ClassVar, TypeVar

from pydantic import SecretStr, ValidationError, field_validator
from pydantic_settings import SettingsConfigDict

from connectors.base import Connector
from connectors.citizen.platform import PlatformDesk
from connectors.citizen.receipts import CitizenHubClient, ReceiptBook
from connectors.citizen.source import (
    BUILDS,
    PARIS,
    PRODUCTS,
    ROLES,
    SEXES,
    VEHICLE_TYPES,
    PlatformReport,
    export_files,
    read_lines,
)
from connectors.models import (
    ConnectorSettings,
    DraftLead,
    RawPerson,
    ReporterIdentity,
    SourceRecord,
    check_hub_url,
)
from hub.contract.errors import ConfigurationError, CrossHubError, SourceRecordInvalid
from hub.contract.lead import (
    Agency,
    DealPoint,
    GeoPoint,
    LeadKind,
    Location,
    PhysicalDescription,
    SourceChannel,
    Vehicle,
)

T = TypeVar("T")
log = logging.getLogger("crosshub.connectors.citizen")
FORCES = (Agency.POLICE, Agency.GENDARMERIE)


class CitizenSettings(ConnectorSettings):
    """``CROSSHUB_CITIZEN_*``: the platform's export directory and the force this deployment is."""

    model_config = SettingsConfigDict(env_prefix="CROSSHUB_CITIZEN_")

    export_dir: Path
    # The platform's receipt endpoint (platform.py); unset: no receipts at all.
    receipts_url: str | None = None
    receipts_token: SecretStr | None = None

    @field_validator("receipts_url")
    @classmethod
    def _receipts_url(cls, v: str | None) -> str | None:
        if v is None or not v.strip():
            return None
        return check_hub_url(v.strip(), setting="receipts_url")  # https, or http to loopback

    @field_validator("agency")
    @classmethod
    def _a_force(cls, v: Agency) -> Agency:
        if v not in FORCES:
            raise ValueError("la plateforme citoyenne est tenue par la police ou la gendarmerie")
        return v


def _parse_cursor(cursor: str | None) -> tuple[str, int] | None:
    if not cursor:
        return None
    name, sep, offset = cursor.rpartition("@")
    if not sep or not offset.isdigit():
        raise ConfigurationError(f"curseur plateforme citoyenne illisible « {cursor} »")
    return name, int(offset)


def _lookup(table: Mapping[str, T], code: str, where: str) -> T:
    if code not in table:
        raise ValueError(f"{where} : code inconnu « {code} »")
    return table[code]


class CitizenConnector(Connector[CitizenSettings]):
    name: ClassVar[str] = "citizen"
    settings_model: ClassVar[type[ConnectorSettings]] = CitizenSettings

    # --- the receipts -----------------------------------------------------------------------

    def hub_client(self) -> CitizenHubClient:
        return CitizenHubClient.from_settings(self.settings, policy=self.push_policy)

    def receipt_book(self) -> ReceiptBook:
        return ReceiptBook(self.settings.state_dir, self.name)

    def platform_desk(self) -> PlatformDesk:
        assert self.settings.receipts_url is not None
        return PlatformDesk(self.settings.receipts_url, self.settings.receipts_token)

    def on_committed(self, records: list[SourceRecord]) -> None:
        """A code for each report now safe in the outbox (or quarantine: the force received it
        all the same), handed to the platform at once."""
        if self.settings.receipts_url is None:
            return
        ids = [r.raw["report"]["id"] for r in records
               if isinstance(r.raw.get("report"), dict) and isinstance(r.raw["report"].get("id"), str)
               and r.raw["report"]["id"]]
        with self.receipt_book() as book:
            book.issue(ids)
            self._deliver(book)

    def exchange_receipts(self) -> None:
        """Ask the hub for the published status of every receipt, then deliver what changed.
        Best effort: failures are logged, the next run tries again."""
        if self.settings.receipts_url is None:
            return
        with self.receipt_book() as book:
            try:
                with self.hub_client() as hub:
                    # Two tries, not the push's long backoff: the reports wait behind this.
                    hub.policy = replace(hub.policy, attempts=min(hub.policy.attempts, 2))
                    for page in book.report_ids():
                        known = hub.receipt_statuses(self.name, page)
                        book.set_statuses({rid: s for rid, s in known.items() if s is not None})
            except CrossHubError as exc:
                log.warning("connector %s: receipt statuses not refreshed: %s", self.name, exc.message)
            self._deliver(book)

    def _deliver(self, book: ReceiptBook) -> None:
        try:
            with self.platform_desk() as desk:
                while batch := book.undelivered():
                    desk.deliver(batch)
                    book.mark_delivered(batch)
        except CrossHubError as exc:
            log.warning("connector %s: receipts not delivered to the platform: %s", self.name, exc.message)

    # --- the reports ------------------------------------------------------------------------

    def collect(self, cursor: str | None) -> Iterator[SourceRecord]:
        # The connector's one scheduled entry point of its own: the receipt exchange rides on it.
        self.exchange_receipts()
        position = _parse_cursor(cursor)
        files = export_files(self.settings.export_dir)
        other_forces = {a.value for a in FORCES} - {self.settings.agency.value}
        for path in files:
            if position and path.name < position[0]:
                continue
            offset = position[1] if position and path.name == position[0] else 0
            for line in read_lines(path, offset):
                if not line.complete and path == files[-1]:
                    break  # being written: next pass
                where = {"file": path.name, "offset": line.start}
                sid = f"{path.name}@{line.start}"
                cur = f"{path.name}@{line.end}"
                if not line.complete:
                    yield SourceRecord(source_id=sid, cursor=cur,
                                       raw=where | {"error": "ligne tronquée (fichier clos)"})
                    continue
                if not line.data.strip():
                    continue
                try:
                    obj = json.loads(line.data.decode("utf-8"))
                    if not isinstance(obj, dict):
                        raise ValueError("objet JSON attendu")
                except ValueError as exc:  # includes UnicodeDecodeError and JSONDecodeError
                    yield SourceRecord(source_id=sid, cursor=cur,
                                       raw=where | {"error": f"JSON illisible : {exc}"})
                    continue
                if obj.get("competence") in other_forces:
                    continue  # left to the other force's connector
                rid = obj.get("id")
                yield SourceRecord(source_id=rid if isinstance(rid, str) and rid else sid,
                                   cursor=cur, raw=where | {"report": obj})

    def map(self, record: SourceRecord) -> DraftLead:
        raw = record.raw
        if "error" in raw:
            raise SourceRecordInvalid(f"{raw['file']}, octet {raw['offset']} : {raw['error']}")
        try:
            return self._map(PlatformReport.model_validate(raw["report"]))
        except ValidationError:
            raise  # the framework reports each field's path
        except ValueError as exc:
            raise SourceRecordInvalid(f"signalement {record.source_id} : {exc}") from None

    def _map(self, r: PlatformReport) -> DraftLead:
        f, el = r.faits, r.elements
        notes: list[str] = []
        observed = None
        if f.date is not None:
            observed = datetime.combine(f.date, f.heure or datetime.min.time(), tzinfo=PARIS)
            if observed > r.recu_le:
                notes.append(f"Date des faits déclarée postérieure à la réception : {observed:%d/%m/%Y %H:%M}")
                observed = None
        location = None
        if f.code_insee:
            point = GeoPoint(lat=f.lat, lon=f.lon) if f.lat is not None and f.lon is not None else None
            location = Location(insee_code=f.code_insee, commune=f.commune or "?",
                                address=f.adresse, place_label=f.lieu, point=point)
        deal_point = None
        if el.point_deal and location is not None:
            deal_point = DealPoint(insee_code=location.insee_code, label=el.point_deal)

        persons = [
            RawPerson(last_name="", first_name="", role=_lookup(ROLES, p.role, f"personnes[{i}].role"),
                      description=PhysicalDescription(
                          sex=_lookup(SEXES, p.sexe, f"personnes[{i}].sexe"),  # type: ignore[arg-type]
                          apparent_age_min=p.age_min, apparent_age_max=p.age_max,
                          height_cm=p.taille_cm, clothing=p.tenue, distinctive_marks=p.signes,
                          build=_lookup(BUILDS, p.corpulence, f"personnes[{i}].corpulence")  # type: ignore[arg-type]
                          if p.corpulence else None))
            for i, p in enumerate(el.personnes)
        ]
        vehicles = []
        for j, v in enumerate(el.vehicules):
            kind = _lookup(VEHICLE_TYPES, v.type, f"vehicules[{j}].type")
            if v.immatriculation or v.marque or v.modele:
                vehicles.append(Vehicle(plate=v.immatriculation, make=v.marque, model=v.modele,
                                        colour=v.couleur, kind=kind))  # type: ignore[arg-type]
            else:  # nothing to identify it by: keep what was seen in the text
                notes.append(f"Véhicule signalé : {v.type}" + (f", {v.couleur}" if v.couleur else ""))
        d = r.declarant
        reporter = None if d is None else ReporterIdentity(
            name=" ".join(filter(None, [d.prenom, d.nom])) or None, phone=d.telephone,
            email=d.email, ip_address=d.ip, account_id=d.compte,
        )
        if r.type == "tchat":
            text = "\n".join(f"[{m.horodatage.astimezone(PARIS):%H:%M}] "
                             f"{'Usager' if m.auteur == 'usager' else 'Agent'} : {m.texte}"
                             for m in r.messages)
        else:
            text = r.description
        return DraftLead(
            source_ref=r.id,
            version=r.version,
            kind=LeadKind.CITIZEN_REPORT,
            channel=SourceChannel.CITIZEN_PLATFORM,
            observed_at=observed,
            reported_at=r.recu_le,
            location=location,
            deal_point=deal_point,
            vehicles=vehicles,
            persons=persons,
            phones=el.telephones_suspects,
            substances=[_lookup(PRODUCTS, c, f"produits[{j}]") for j, c in enumerate(el.produits)],
            narrative_raw="\n".join(filter(None, [text, *notes])),
            reporter=reporter,
        )
