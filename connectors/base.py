"""The connector base class: it owns the pipeline, the cursor state and failure isolation.

A concrete connector writes only two methods (OpenCTI connectors SDK style):

* ``collect(cursor)`` — the source's new records since ``cursor``, in order, as ``SourceRecord``
  (each carrying the cursor *just after it*); raise ``SourceError`` when the source fails;
* ``map(record)`` — one record to a ``DraftLead``; raise ``SourceRecordInvalid`` (or any
  ``ValueError``/``ValidationError``) for a bad record.

Everything else is fixed here, in ``run`` (not overridable)::

    drain leftovers → collect → map → sanitize → pseudonymize → validate as Lead
      → outbox + cursor in ONE SQLite transaction → on_committed → drain the outbox to the hub
      → run record (SQLite, then posted to the hub)

* A record that cannot be mapped, sanitized or validated goes to quarantine with its reason and
  source id; it never stops the run.
* The cursor only advances in the transaction that puts the record's lead in the outbox, so a
  crash at any point loses nothing; the hub's ingest is idempotent on
  ``(agency, source_ref, version)`` so re-sends after a crash are harmless.
* An outbox item leaves the outbox only once the hub acknowledged it (any outcome but a transient
  error); a per-item ``rejected`` goes to quarantine with the hub's reason.
* If the hub is down the run ends ``partial`` with the items still in the outbox, and the next run
  drains them first.
"""

from __future__ import annotations

import logging
import time
import traceback
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, ClassVar, Generic, TypeVar, final

from pydantic import ValidationError

from connectors.models import ConnectorSettings, DraftLead, SourceRecord
from connectors.pseudonym import LinkageKey, LinkageKeyring
from connectors.push import HubClient, HubRefused, HubUnavailable, PushPolicy
from connectors.sanitize import pseudonymize_persons, sanitize_draft
from connectors.state import OutboxItem, QuarantineEntry, RunInProgress, StateStore
from hub.contract.errors import (
    ConfigurationError,
    CrossHubError,
    SourceError,
    SourceRecordInvalid,
)
from hub.contract.lead import IngestResponse, ItemOutcome, Lead
from hub.contract.runs import Fault, RunRecord, RunStatus

log = logging.getLogger("crosshub.connectors")

S = TypeVar("S", bound=ConnectorSettings)

__all__ = ["Connector", "Fault", "RunInProgress", "RunRecord", "RunStatus"]

ProgressCallback = Callable[[int, "int | None"], None]


class _Stop(Exception):
    """Internal: stop collecting, with whose fault and why."""

    def __init__(self, fault: Fault, message: str) -> None:
        super().__init__(message)
        self.fault = fault
        self.message = message


# Errors that mean "this one record is bad": quarantine it, go on.
_RECORD_ERRORS: tuple[type[BaseException], ...] = (
    SourceRecordInvalid,
    ValueError,  # includes pydantic.ValidationError
    KeyError,
    IndexError,
    TypeError,
    AttributeError,
)


def _describe(exc: BaseException) -> tuple[str, list[dict[str, Any]]]:
    """A reason (French, for a person) and structured details, without the record's raw values."""
    if isinstance(exc, ValidationError):
        details = [
            {"field": ".".join(str(p) for p in e["loc"]) or "(lead)", "reason": e["msg"]}
            for e in exc.errors(include_url=False, include_input=False)
        ]
        return "piste invalide : " + "; ".join(f"{d['field']}: {d['reason']}" for d in details), details
    if isinstance(exc, CrossHubError):
        return exc.message, list(exc.details)
    if isinstance(exc, KeyError):
        return f"champ absent de l'enregistrement source : {exc}", []
    return f"{type(exc).__name__}: {exc}", []


class Connector(ABC, Generic[S]):
    """Base of every connector. Subclasses set ``name`` and ``settings_model`` and implement
    ``collect`` and ``map``; they may implement ``on_committed``."""

    name: ClassVar[str]  # entry-point name, e.g. "police"
    settings_model: ClassVar[type[ConnectorSettings]]
    # How hard to push to the hub (tests shorten it).
    push_policy: ClassVar[PushPolicy] = PushPolicy()

    # The pipeline is the framework's: a connector cannot replace it.
    _FINAL: ClassVar[tuple[str, ...]] = (
        "run", "build_lead", "_pipeline", "_collect", "_drain", "_push", "_apply_response",
        "_post_runs",
    )

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        overridden = [m for m in Connector._FINAL if m in cls.__dict__]
        if overridden:
            raise TypeError(f"{cls.__name__} ne peut pas redéfinir {', '.join(overridden)} : "
                            "le pipeline appartient à la classe de base (écrire collect et map)")

    def __init__(self, settings: S) -> None:
        self.settings: S = settings

    @classmethod
    def from_env(cls) -> Connector[Any]:
        """Build the connector from its settings model (environment variables, .env)."""
        try:
            settings = cls.settings_model()  # type: ignore[call-arg]
        except ValidationError as exc:
            fields = ", ".join(".".join(str(p) for p in e["loc"]) for e in exc.errors())
            raise ConfigurationError(
                f"configuration du connecteur « {cls.name} » incomplète ou invalide : {fields}"
            ) from None
        return cls(settings)  # type: ignore[arg-type]

    # --- what a connector writes -------------------------------------------------------------

    @abstractmethod
    def collect(self, cursor: str | None) -> Iterator[SourceRecord]:
        """New records since ``cursor``, in order. Raise ``SourceError`` on source failure."""

    @abstractmethod
    def map(self, record: SourceRecord) -> DraftLead:
        """One source record to a draft lead. Raise ``SourceRecordInvalid`` for a bad record."""

    def on_committed(self, records: list[SourceRecord]) -> None:  # noqa: B027 - optional hook
        """Called once ``records`` are durably in the outbox and the cursor moved past them."""

    # --- the framework ------------------------------------------------------------------------

    def keyring(self) -> LinkageKeyring:
        s = self.settings
        previous = tuple(LinkageKey(kid, secret) for kid, secret in s.previous_linkage_keys.items())
        return LinkageKeyring(LinkageKey(s.linkage_key_id, s.linkage_key), previous)

    def state(self) -> StateStore:
        return StateStore(self.settings.state_dir, self.name)

    def hub_client(self) -> HubClient:
        return HubClient.from_settings(self.settings, policy=self.push_policy)

    @final
    def build_lead(self, record: SourceRecord) -> Lead:
        """map → sanitize → pseudonymize → validate, for one record (raises on a bad one; the
        exception carries the failing stage in ``crosshub_stage``)."""
        stage = "map"
        try:
            draft = self.map(record)
            if not isinstance(draft, DraftLead):
                raise TypeError(f"map() doit renvoyer un DraftLead, pas {type(draft).__name__}")
            stage = "sanitize"
            clean = sanitize_draft(draft)
            stage = "pseudonymize"
            persons = pseudonymize_persons(
                draft.persons, self.keyring(), clean.scrub,
                lead_scope=f"{self.settings.agency.value}:{draft.source_ref}",
            )
            stage = "validate"
            return Lead.model_validate(clean.lead_fields(agency=self.settings.agency, persons=persons))
        except Exception as exc:
            exc.crosshub_stage = stage  # type: ignore[attr-defined]
            raise

    @final
    def run(self, *, progress: ProgressCallback | None = None) -> RunRecord:
        """The fixed pipeline. Never raises for a source, hub or record failure: the outcome is
        in the returned ``RunRecord`` (also stored and posted to the hub). Raises
        ``RunInProgress`` if another run of this connector holds the state lock."""
        started = time.monotonic()
        rec = RunRecord(connector=self.name, agency=self.settings.agency, started_at=datetime.now(UTC))
        store = self.state()
        try:
            with store.run_lock():
                store.close_interrupted_runs()
                store.start_run(rec.run_id, rec.model_dump(mode="json"))
                client: HubClient | None = None
                try:
                    client = self.hub_client()
                    self._pipeline(store, client, rec, progress)
                except _Stop as stop:
                    rec.fault, rec.last_error = stop.fault, stop.message
                except ConfigurationError as exc:
                    rec.fault, rec.last_error = Fault.OURS, f"configuration : {exc.message}"
                except Exception as exc:  # a bug of ours: record it, never crash the scheduler
                    log.error("connector %s: unexpected error\n%s", self.name, traceback.format_exc())
                    rec.fault, rec.last_error = Fault.OURS, f"erreur interne : {type(exc).__name__}: {exc}"
                finally:
                    rec.outbox_pending = store.outbox_count()
                    rec.quarantine_size = store.quarantine_count()
                    rec.expected_every_s = self.settings.schedule_period_s()
                    rec.cursor = store.get_cursor()
                    rec.finished_at = datetime.now(UTC)
                    rec.duration_s = round(time.monotonic() - started, 3)
                    if rec.fault is None:
                        rec.status = RunStatus.PARTIAL if rec.outbox_pending else RunStatus.OK
                    elif rec.fault == Fault.HUB:
                        rec.status = RunStatus.PARTIAL
                    else:
                        rec.status = RunStatus.FAILED
                    store.finish_run(rec.run_id, rec.model_dump(mode="json"))
                    if client is not None:
                        if rec.fault != Fault.HUB:  # else they wait for the next run
                            self._post_runs(store, client)
                        client.close()
        finally:
            store.close()
        log.info(
            "connector %s: %s in=%d out=%d quarantined=%d pushed=%d pending=%d%s",
            self.name, rec.status.value, rec.count_in, rec.count_out, rec.count_quarantined,
            rec.count_pushed, rec.outbox_pending, f" error={rec.last_error}" if rec.last_error else "",
        )
        return rec

    def _pipeline(
        self, store: StateStore, client: HubClient, rec: RunRecord, progress: ProgressCallback | None
    ) -> None:
        hub_down: list[_Stop] = []

        def drain(report: bool) -> None:
            if hub_down:
                return  # the hub already failed this run: keep everything for the next one
            try:
                self._drain(store, client, rec, progress if report else None)
            except _Stop as stop:
                if stop.fault != Fault.HUB:
                    raise
                hub_down.append(stop)

        # 1. Leftovers of earlier runs first.
        if store.outbox_count():
            drain(report=False)
        # 2. Collect, in batches committed together with the cursor; push as the outbox fills.
        #    If the hub is down we still collect: the outbox is durable, the source moves on.
        source_fault: _Stop | None = None
        try:
            self._collect(store, rec, progress,
                          after_commit=lambda: drain(report=False)
                          if store.outbox_count() >= self.settings.batch_size else None)
        except _Stop as stop:
            if stop.fault != Fault.SOURCE:
                raise
            source_fault = stop  # still push what was committed before the source failed
        # 3. Push the rest.
        drain(report=True)
        if source_fault is not None:
            if hub_down:
                raise _Stop(Fault.SOURCE, f"{source_fault.message} ; de plus, {hub_down[0].message}")
            raise source_fault
        if hub_down:
            raise hub_down[0]

    def _collect(self, store: StateStore, rec: RunRecord, progress: ProgressCallback | None,
                 after_commit: Callable[[], None] | None = None) -> None:
        batch_size = max(1, self.settings.batch_size)
        records: list[SourceRecord] = []
        leads: list[OutboxItem] = []
        bad: list[QuarantineEntry] = []

        def commit() -> None:
            if not records:
                return
            store.commit_batch(leads, bad, cursor=records[-1].cursor)
            rec.count_out += len(leads)
            rec.count_quarantined += len(bad)
            done = list(records)
            records.clear(), leads.clear(), bad.clear()
            try:
                self.on_committed(done)
            except Exception as exc:  # the records are safe; the hook's failure is ours
                log.error("connector %s: on_committed failed\n%s", self.name, traceback.format_exc())
                raise _Stop(Fault.OURS, f"on_committed a échoué : {type(exc).__name__}: {exc}") from exc
            if after_commit is not None:
                after_commit()

        try:
            iterator = iter(self.collect(store.get_cursor()))
            while True:
                try:
                    record = next(iterator)
                except StopIteration:
                    break
                rec.count_in += 1
                try:
                    lead = self.build_lead(record)
                except (SourceError, ConfigurationError):
                    rec.count_in -= 1  # not past this record: it is collected again next run
                    raise
                except Exception as exc:  # this record only: quarantine it and go on
                    reason, details = _describe(exc)
                    if not isinstance(exc, _RECORD_ERRORS):
                        log.error("connector %s: record %s broke the mapping\n%s", self.name,
                                  record.source_id, traceback.format_exc())
                        reason = f"erreur interne du connecteur sur cet enregistrement : {reason}"
                    stage = getattr(exc, "crosshub_stage", "map")
                    bad.append(QuarantineEntry(source_id=record.source_id, stage=stage,
                                               reason=reason, details=details, payload=record.raw))
                else:
                    leads.append(OutboxItem.of(record.source_id, lead))
                records.append(record)
                if progress:
                    progress(rec.count_in, None)
                if len(records) >= batch_size:
                    commit()
        except SourceError as exc:
            commit()
            raise _Stop(Fault.SOURCE,
                        f"source en échec (réessai au prochain passage) : {exc.message}") from exc
        except ConfigurationError:
            commit()
            raise
        except _Stop:
            raise
        except Exception as exc:
            # collect() itself broke with something that is not a SourceError: treat network-ish
            # errors as the source's, anything else as a bug of the connector (ours).
            commit()
            if isinstance(exc, (OSError, TimeoutError)):
                raise _Stop(Fault.SOURCE, f"source en échec : {type(exc).__name__}: {exc}") from exc
            log.error("connector %s: collect failed\n%s", self.name, traceback.format_exc())
            raise _Stop(Fault.OURS, f"erreur interne du connecteur : {type(exc).__name__}: {exc}") from exc
        commit()

    def _drain(self, store: StateStore, client: HubClient, rec: RunRecord,
               progress: ProgressCallback | None) -> None:
        total = store.outbox_count()
        done = 0
        batch_size = max(1, self.settings.batch_size)
        while True:
            items = store.outbox_peek(batch_size)
            if not items:
                return
            try:
                response = self._push(client, items)
            except HubUnavailable as exc:
                store.outbox_note_failure([i.id for i in items], exc.message)
                raise _Stop(Fault.HUB, f"hub indisponible (faute du hub, éléments gardés dans la "
                                       f"file d'envoi, réessai au prochain passage) : {exc.message}") from exc
            except HubRefused as exc:
                store.outbox_note_failure([i.id for i in items], exc.message)
                raise _Stop(Fault.OURS, f"le hub refuse l'envoi (notre faute : {exc.code}) : "
                                        f"{exc.message}") from exc
            acked, rejected = self._apply_response(store, response)
            rec.count_pushed += acked
            rec.count_rejected += rejected
            rec.count_quarantined += rejected
            done += acked
            if progress:
                progress(done, max(total, done))
            if acked == 0:  # the hub answered but acknowledged nothing: don't spin
                raise _Stop(Fault.HUB, "réponse du hub sans accusé de réception pour le lot envoyé")

    def _push(self, client: HubClient,
              items: list[OutboxItem]) -> list[tuple[list[OutboxItem], IngestResponse]]:
        """Push a batch; on 413 split it in halves; a single item too large is rejected."""
        try:
            return [(items, client.push_leads([i.lead for i in items]))]
        except HubRefused as exc:
            if exc.http_status != 413:
                raise
            if len(items) == 1:
                return [(items, IngestResponse.model_validate({
                    "accepted": 0, "rejected": 1, "results": [{
                        "index": 0, "outcome": "rejected",
                        "errors": [{"field": "leads[0]",
                                    "reason": f"trop volumineux pour le hub : {exc.message}"}],
                    }],
                }))]
            half = len(items) // 2
            return self._push(client, items[:half]) + self._push(client, items[half:])

    def _apply_response(
        self, store: StateStore, pairs: list[tuple[list[OutboxItem], IngestResponse]]
    ) -> tuple[int, int]:
        """Remove acknowledged items (rejected ones to quarantine) in one transaction."""
        acked_ids: list[int] = []
        rejections: list[tuple[OutboxItem, QuarantineEntry]] = []
        for items, response in pairs:
            by_index = {r.index: r for r in response.results}
            for idx, item in enumerate(items):
                result = by_index.get(idx)
                if result is None:
                    continue  # not acknowledged: stays in the outbox
                if result.outcome == ItemOutcome.REJECTED:
                    reason = "rejeté par le hub : " + (
                        "; ".join(f"{e.field}: {e.reason}" for e in result.errors) or "sans motif"
                    )
                    rejections.append((item, QuarantineEntry(
                        source_id=item.source_id, stage="hub", reason=reason,
                        details=[e.model_dump() for e in result.errors], payload=item.lead,
                    )))
                else:
                    acked_ids.append(item.id)
        store.outbox_ack(acked_ids, rejections)
        return len(acked_ids) + len(rejections), len(rejections)

    def _post_runs(self, store: StateStore, client: HubClient) -> None:
        """Post the run records the hub has not got yet (best effort: they stay local)."""
        for run_id, payload in store.unposted_runs():
            try:
                client.post_run(self.name, payload)
            except (HubUnavailable, HubRefused) as exc:
                log.warning("connector %s: run record %s not posted: %s", self.name, run_id, exc.message)
                return
            except Exception as exc:  # never let reporting break the run
                log.warning("connector %s: run record %s not posted: %s", self.name, run_id, exc)
                return
            store.mark_run_posted(run_id)
