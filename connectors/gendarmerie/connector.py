"""Gendarmerie connector: a paginated JSON REST feed with an updated-since cursor (``source.py``).

Cursor: ``<updated_at, UTC ISO 8601>|<id>`` of the last record taken — records are ordered by
``(updated_at, id)``, so the id breaks ties between records updated in the same instant, and a
record re-published with a new version comes back with a newer ``updated_at``.

Walking the pages: the feed pages by number, and page numbers shift when a record of an earlier
page is updated while we walk (it moves to the end, everything after it moves up one place, and
plain ``next_page`` would skip one record). So after each page the walk starts again at page 1
from the last ``updated_at`` seen — keyset pagination over a page-numbered API — and only follows
``next_page`` while a whole page shares one ``updated_at`` (ties larger than a page). Records at
or before the cursor are dropped. Each page costs at most one record of overlap.

Failures: 5xx, 429, timeouts, connection errors, a page that is not JSON or not sorted →
``SourceError`` (retried ``retries`` times within the run, then left for the next run); 401/403
and other 4xx → ``ConfigurationError``. A malformed record → ``SourceRecordInvalid`` from ``map``;
a record without a usable ``(updated_at, id)`` keeps the previous cursor.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import ClassVar, TypeVar

from pydantic import SecretStr, ValidationError
from pydantic_settings import SettingsConfigDict

from connectors.base import Connector
from connectors.gendarmerie.source import (
    BUILDS,
    GENRES,
    ORIGINS,
    PRODUCTS,
    ROLES,
    TYPES,
    WEAPONS,
    FeedClient,
    FeedRecord,
    decode_cursor,
    encode_cursor,
    record_key,
    source_id_of,
)
from connectors.models import ConnectorSettings, DraftLead, RawPerson, SourceRecord
from hub.contract.errors import SourceError, SourceRecordInvalid
from hub.contract.lead import (
    Agency,
    DealPoint,
    GeoPoint,
    Location,
    PhysicalDescription,
    Seizure,
    SourceChannel,
    SubstanceQuantity,
    Vehicle,
    Weapon,
)

T = TypeVar("T")
_SEX = {"M": "male", "F": "female", "I": "unknown"}


class GendarmerieSettings(ConnectorSettings):
    """``CROSSHUB_GENDARMERIE_*``: where the feed is and how patiently to read it."""

    model_config = SettingsConfigDict(env_prefix="CROSSHUB_GENDARMERIE_")

    agency: Agency = Agency.GENDARMERIE
    base_url: str
    api_token: SecretStr | None = None
    page_size: int = 200
    timeout_s: float = 15.0  # per read: a slower page is a source failure
    connect_timeout_s: float = 5.0
    retries: int = 2  # transient failures retried within a run
    retry_backoff_s: float = 1.0
    verify_tls: bool | str = True  # or a CA bundle path


def _lookup(table: Mapping[str, T], code: str, where: str) -> T:
    if code not in table:
        raise ValueError(f"{where} : code inconnu « {code} »")
    return table[code]


class GendarmerieConnector(Connector[GendarmerieSettings]):
    name: ClassVar[str] = "gendarmerie"
    settings_model: ClassVar[type[ConnectorSettings]] = GendarmerieSettings

    def client(self) -> FeedClient:
        s = self.settings
        return FeedClient(
            s.base_url, token=s.api_token.get_secret_value() if s.api_token else None,
            page_size=s.page_size, timeout_s=s.timeout_s, connect_timeout_s=s.connect_timeout_s,
            retries=s.retries, backoff_s=s.retry_backoff_s, verify=s.verify_tls,
        )

    def collect(self, cursor: str | None) -> Iterator[SourceRecord]:
        after = decode_cursor(cursor)
        since: datetime | None = after[0] if after else None
        page = 1
        unkeyed: set[str] = set()  # items without a key, already yielded by this walk
        with self.client() as client:
            while True:
                body = client.fetch(since, page)
                page_last = None
                for item in body.items:
                    key = record_key(item)
                    if key is None:
                        sid = source_id_of(item)
                        if sid not in unkeyed:
                            unkeyed.add(sid)
                            yield SourceRecord(source_id=sid, raw=_as_dict(item),
                                               cursor=encode_cursor(after) if after else "")
                        continue
                    if (since is not None and key[0] < since) or (page_last is not None and key < page_last):
                        raise SourceError(f"flux gendarmerie : page {page} non triée par "
                                          f"(updated_at, id) ou antérieure à updated_since")
                    page_last = key
                    if after is not None and key <= after:
                        continue
                    after = key
                    yield SourceRecord(source_id=key[1], cursor=encode_cursor(key), raw=item)
                if body.next_page is None or not body.items:
                    return
                if page_last is not None and (since is None or page_last[0] > since):
                    since, page = page_last[0], 1  # keyset: start again from the last instant seen
                elif body.next_page > page:
                    page = body.next_page  # a whole page in one instant: page through the tie
                else:
                    raise SourceError(f"flux gendarmerie : next_page {body.next_page} après la page {page}")

    def map(self, record: SourceRecord) -> DraftLead:
        if record_key(record.raw) is None:
            raise SourceRecordInvalid("renseignement sans id ou sans updated_at exploitable (ISO 8601 "
                                      "avec fuseau)")
        try:
            return self._map(FeedRecord.model_validate(record.raw))
        except ValidationError:
            raise  # the framework reports each field's path
        except ValueError as exc:
            raise SourceRecordInvalid(f"renseignement {record.source_id} : {exc}") from None

    def _map(self, r: FeedRecord) -> DraftLead:
        kind = _lookup(TYPES, r.type, "type")
        location = None
        if r.lieu is not None:
            p = r.lieu
            point = GeoPoint(lat=p.lat, lon=p.lon) if p.lat is not None and p.lon is not None else None
            location = Location(insee_code=p.code_insee, commune=p.commune, address=p.adresse,
                                place_label=p.repere, point=point)
        deal_point = None
        if r.point_deal:
            if location is None:
                raise ValueError("point_deal sans lieu (code INSEE inconnu)")
            deal_point = DealPoint(insee_code=location.insee_code, label=r.point_deal)

        persons = []
        for i, p in enumerate(r.individus):
            if bool(p.nom) != bool(p.prenom):
                raise ValueError(f"individus[{i}] : nom et prénom vont ensemble")
            if not p.nom and p.signalement is None:
                raise ValueError(f"individus[{i}] : ni identité ni signalement")
            d = p.signalement
            description = None if d is None else PhysicalDescription(
                sex=_SEX[d.sexe], apparent_age_min=d.age_min, apparent_age_max=d.age_max,
                height_cm=d.taille_cm, clothing=d.tenue, distinctive_marks=d.signes,
                build=_lookup(BUILDS, d.corpulence, f"individus[{i}].corpulence") if d.corpulence else None,
            )
            persons.append(RawPerson(last_name=p.nom or "", first_name=p.prenom or "",
                                     birth_date=p.date_naissance, description=description,
                                     role=_lookup(ROLES, p.role, f"individus[{i}].role")))

        seizure = None
        if r.saisie is not None:
            s = r.saisie
            seizure = Seizure(
                substances=[SubstanceQuantity(substance=_lookup(PRODUCTS, x.code, f"saisie.produits[{j}]"),
                                              quantity=x.quantite, unit=x.unite)
                            for j, x in enumerate(s.produits)],
                cash_eur=s.numeraire_eur,
                weapons=[Weapon(kind=_lookup(WEAPONS, w.type, f"saisie.armes[{j}]"), count=w.nombre)
                         for j, w in enumerate(s.armes)],
                packaging_material=s.conditionnement,
            )
        unit = f"Unité : {r.unite}" if r.unite else ""
        return DraftLead(
            source_ref=r.id,
            version=r.version,
            kind=kind,
            channel=_lookup(ORIGINS, r.origine, "origine") if r.origine else SourceChannel.INVESTIGATION,
            observed_at=r.date_faits,
            reported_at=r.created_at or r.updated_at,
            location=location,
            deal_point=deal_point,
            vehicles=[Vehicle(plate=v.immatriculation, make=v.marque, model=v.modele, colour=v.couleur,
                              kind=_lookup(GENRES, v.genre, f"vehicules[{j}].genre"))  # type: ignore[arg-type]
                      for j, v in enumerate(r.vehicules)],
            persons=persons,
            phones=r.telephones,
            substances=[_lookup(PRODUCTS, c, f"produits_mentionnes[{j}]")
                        for j, c in enumerate(r.produits_mentionnes)],
            seizure=seizure,
            narrative_raw="\n".join(filter(None, [r.resume, unit])),
            handling_code=r.diffusion.code,
            source_reliability=r.evaluation.fiabilite,
            information_credibility=r.evaluation.credibilite,
            restricted_to=r.diffusion.restreint_a,
            embargo_until=r.diffusion.embargo_jusqu_au,
        )


def _as_dict(item: object) -> dict:
    return item if isinstance(item, dict) else {"valeur": item}

