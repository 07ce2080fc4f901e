"""The intake connector: leads a person enters by hand (form) or imports (spreadsheet), run
through the base pipeline (map → sanitize → pseudonymize → sign → outbox → push) with the
CROSS linkage key, on behalf of that person.

* ``validate(rows, person)`` checks every row with the very pipeline that will send it
  (``Connector.build_lead``) and answers, per row, the lead or the bad cells in French; nothing
  is written.
* ``submit(rows, person)`` runs the pipeline on good rows only: ``collect`` yields them,
  ``map`` parses them (``connectors.intake.fields``). Each push carries the person's hub session
  token in ``X-CrossHub-On-Behalf-Of``; the hub checks that person may enter leads of that
  service and records them as the lead's provenance (ADR 0014).
* Each person has an outbox of their own (``<state_dir>/submitters/<hash of the user id>``), so
  a lead left over after a hub outage is only ever re-sent under the person who entered it.
  When the hub refuses the person (403), what they entered goes to quarantine: never half-sent.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import httpx
from pydantic import SecretStr, ValidationError
from pydantic_settings import SettingsConfigDict

from connectors.base import Connector
from connectors.intake.fields import BY_KEY, RowErrors, parse_row
from connectors.models import ConnectorSettings, DraftLead, SourceRecord
from connectors.push import HubClient
from connectors.signing import load_signer
from connectors.state import QuarantineEntry, RunInProgress, StateStore
from hub.contract.errors import SourceRecordInvalid
from hub.contract.lead import Agency, Lead

ON_BEHALF_HEADER = "X-CrossHub-On-Behalf-Of"
# Contract errors that a row's cells did not already name, put on the column that holds them.
_CONTRACT_FIELD = {"kind": "nature", "seizure": "nature", "observed_at": "date_faits",
                   "reported_at": "date_faits", "vehicles": "immatriculation",
                   "phones": "telephone", "narrative": "recit", "location": "code_insee",
                   "deal_point": "point_deal", "persons": "nom", "substances": "produits"}


class IntakeSettings(ConnectorSettings):
    """``CROSSHUB_INTAKE_*``: the connector identity (its ``agency`` is the service that runs
    the intake service — the leads themselves carry the entering person's service), and its
    web face."""

    model_config = SettingsConfigDict(env_prefix="CROSSHUB_INTAKE_", frozen=True, extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8100
    # Signs the anti-CSRF tokens of the pages; random per process when not set (a restart then
    # only asks to reload the page).
    csrf_secret: SecretStr | None = None
    # Sets the Secure flag on the session cookie (behind https).
    secure_cookie: bool = False
    max_upload_bytes: int = 5 * 1024 * 1024


@dataclass(frozen=True)
class Person:
    """Who is entering leads: their hub session token and what it says of them (read by the
    intake service for display and the leads' service; the hub re-checks all of it)."""

    user_id: str
    agency: Agency
    role: str
    token: SecretStr


@dataclass
class RowCheck:
    line: int
    lead: Lead | None = None
    errors: dict[str, str] = field(default_factory=dict)  # field key → French reason


@dataclass
class Outcome:
    pushed: int = 0
    refused: list[str] = field(default_factory=list)  # French, one per refused lead or cause
    pending: int = 0  # kept in the person's outbox (hub unreachable): re-sent at their next entry


def new_ref() -> str:
    return f"saisie-{uuid.uuid4()}"


class _OnBehalfClient(HubClient):
    """Pushes carry the person's token; run records are the connector's own (its agency)."""

    own_agency: str = ""

    def post_run(self, name: str, run_record: dict[str, Any]) -> None:
        super().post_run(name, run_record | {"agency": self.own_agency})


class IntakeConnector(Connector[IntakeSettings]):
    name: ClassVar[str] = "intake"
    settings_model: ClassVar[type[ConnectorSettings]] = IntakeSettings

    def __init__(self, settings: IntakeSettings, *, person: Person | None = None,
                 rows: list[tuple[int, dict[str, str], str]] = (),  # type: ignore[assignment]
                 transport: httpx.BaseTransport | None = None) -> None:
        # The leads are the person's service's: the pipeline stamps ``settings.agency``.
        self.own_agency = settings.agency
        super().__init__(settings if person is None else settings.model_copy(update={"agency": person.agency}))
        self.person = person
        self.rows = list(rows)
        self.transport = transport  # tests capture every byte sent to the hub

    def collect(self, cursor: str | None) -> Iterator[SourceRecord]:
        for line, row, ref in self.rows:
            yield SourceRecord(source_id=ref, cursor=ref, raw={"line": line, "row": row})

    def map(self, record: SourceRecord) -> DraftLead:
        try:
            return parse_row(record.raw["row"], agency=self.settings.agency,
                             source_ref=record.source_id, now=datetime.now(UTC))
        except RowErrors as exc:
            raise SourceRecordInvalid(f"ligne {record.raw['line']} : {exc}", details=[
                {"field": k, "reason": v} for k, v in exc.errors.items()]) from None

    def state(self) -> StateStore:
        who = self.person.user_id if self.person else "-"
        digest = hashlib.sha256(who.encode()).hexdigest()[:24]
        return StateStore(Path(self.settings.state_dir) / "submitters" / digest, self.name)

    def hub_client(self) -> HubClient:
        s = self.settings
        client = _OnBehalfClient(s.hub_url, load_signer(s.signing_key_path, s.hub_token), self.push_policy,
                                 transport=self.transport, allow_insecure_http=s.allow_insecure_http)
        client.own_agency = self.own_agency.value
        if self.person is not None:
            client._http.headers[ON_BEHALF_HEADER] = self.person.token.get_secret_value()
        return client


def _row_errors(exc: BaseException) -> dict[str, str]:
    if isinstance(exc, SourceRecordInvalid):
        return {d["field"]: d["reason"] for d in exc.details} or {"nature": exc.message}
    if isinstance(exc, ValidationError):
        out: dict[str, str] = {}
        for e in exc.errors(include_url=False):
            key = _CONTRACT_FIELD.get(str(e["loc"][0]) if e["loc"] else "", "nature")
            out.setdefault(key, e["msg"].removeprefix("Value error, "))
        return out
    return {"nature": str(exc)}


def validate(settings: IntakeSettings, person: Person,
             rows: list[tuple[int, dict[str, str], str]]) -> list[RowCheck]:
    """Every row through map → sanitize → pseudonymize → validate, nothing written."""
    connector = IntakeConnector(settings, person=person)
    checks = []
    for line, row, ref in rows:
        try:
            lead = connector.build_lead(SourceRecord(source_id=ref, cursor=ref, raw={"line": line, "row": row}))
        except Exception as exc:  # noqa: BLE001 - each bad row is reported, none stops the others
            checks.append(RowCheck(line, errors=_row_errors(exc)))
        else:
            checks.append(RowCheck(line, lead=lead))
    return checks


def submit(settings: IntakeSettings, person: Person, rows: list[tuple[int, dict[str, str], str]],
           *, transport: httpx.BaseTransport | None = None) -> Outcome:
    """Run the pipeline on ``rows`` (already validated) for ``person``; what reached the hub."""
    connector = IntakeConnector(settings, person=person, rows=rows, transport=transport)
    try:
        record = connector.run()
    except RunInProgress:
        return Outcome(refused=["une saisie de votre part est déjà en cours d'envoi : patienter"])
    outcome = Outcome(pushed=record.count_pushed, pending=record.outbox_pending)
    store = connector.state()
    try:
        if record.count_rejected or record.count_quarantined:
            outcome.refused += [q.reason for q in store.quarantine_list(limit=record.count_quarantined or 1)]
        if record.last_error and "→ 403" in record.last_error:
            # The hub refuses this person: what they entered is not left to be re-sent.
            items = store.outbox_peek(10_000)
            store.outbox_ack([], [(i, QuarantineEntry(source_id=i.source_id, stage="hub",
                                                      reason=record.last_error, details=[], payload=i.lead))
                                  for i in items])
            outcome.pending = 0
            outcome.refused.append(record.last_error)
        elif record.last_error:
            outcome.refused.append(record.last_error)
    finally:
        store.close()
    return outcome


def label_of(key: str) -> str:
    return BY_KEY[key].label if key in BY_KEY else key
