"""Hit/no-hit disclosure, and what people are told: ``/api/v1/disclosure-requests`` — a caller
who got a hit asks the owning agency, which approves or declines (``policies.grants``: a role
holding ``disclosure.decide``, of the lead's own agency); ``/api/v1/notifications`` — what each
person was told of those steps and of guest grants, listed or live (``/notifications/stream``,
server-sent events, below).

Every step is audited (hub/audit/events.py) inside the graph write, before commit. The policy
engine decides what a requester may know of a lead: a request for a lead whose outcome is
``none`` gets the same 404 as a lead that does not exist.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Path, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.sse import EventSourceResponse, ServerSentEvent
from pydantic import (
    AwareDatetime,
    Field,
    StringConstraints,
    model_validator,
)

from graph import grants as graph_grants
from graph.grants import (
    DisclosureRequestRecord,
    Notification,
    RequestStatus,
)
from graph.grants.notifications import notification_cursor, notifications_after
from graph.handle import Graph
from graph.identity import Principal
from hub.access import caller_of
from hub.audit import events as auditing
from hub.contract.errors import Conflict, Forbidden, InvalidInput, NotFound
from hub.deps import (
    AccessDep,
    AuditDep,
    CallerDep,
    ClockDep,
    GraphDep,
    JustificationText,
    RulebookDep,
    SettingsDep,
    require_justification,
    requires,
)
from hub.handles import MAX_HANDLE_LENGTH, handles_for
from hub.routers.inputs import ShortText, StrictIn
from policies import disclosure as graded
from policies.engine import decide
from policies.grants import widens
from policies.models import (
    Caller,
    Decision,
    DisclosureGrant,
    GuestGrant,
    LeadMarking,
    Outcome,
    Policy,
)
from policies.permissions import Action, permission
from policies.rulebook import Rulebook

router = APIRouter(prefix="/api/v1", tags=["autorisations"])
log = logging.getLogger("crosshub.notifications")



class DisclosureRequestIn(StrictIn):
    lead_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=160)] | None = None
    hit: Annotated[str, StringConstraints(strip_whitespace=True, min_length=5,
                                          max_length=MAX_HANDLE_LENGTH)] | None = Field(
        default=None, description="Poignée du hit reçu (champ « handle » d'un hit), à la place de "
                                  "lead_id")
    # Required; absent or too short: 400 naming the field, as for every consultation.
    justification: JustificationText

    @model_validator(mode="after")
    def _one_subject(self) -> DisclosureRequestIn:
        if (self.lead_id is None) == (self.hit is None):
            raise ValueError("préciser soit lead_id, soit hit (la poignée d'un hit)")
        return self


class ApproveIn(StrictIn):
    valid_until: AwareDatetime | None = Field(
        default=None, description="Fin de la communication, au plus `max_release_days` jours "
                                  "(disclosure.yaml) après la décision ; défaut : ce maximum")
    reason: ShortText | None = None
    groups: list[Annotated[str, StringConstraints(min_length=1, max_length=64)]] | None = Field(
        default=None, max_length=64,
        description="Communication graduée : les groupes de propriétés communiqués (voir "
                    "`GET /api/v1/disclosure-groups`) ; les autres restent retenus. Défaut : tous.")


class DeclineIn(StrictIn):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=1000)]



# --- helpers ------------------------------------------------------------------------------------


def _agency_wide(rulebook: Rulebook, caller: Principal) -> bool:
    """Whether the caller reads the agency's notifications, not only their own (roles.yaml)."""
    return permission(rulebook.policy, caller.role, Action.READ_AGENCY_NOTIFICATIONS).allowed


def _now() -> datetime:
    return datetime.now(UTC)


def with_overdue(record: DisclosureRequestRecord, now: datetime) -> DisclosureRequestRecord:
    """The record as of ``now``: overdue (policies.disclosure) on every read, before the
    escalation job has run."""
    return record.model_copy(update={"overdue": graded.is_overdue(record.status.value,
                                                                   record.due_at, now)})


# --- disclosure requests ------------------------------------------------------------------------


@router.post(
    "/disclosure-requests", response_model=DisclosureRequestRecord,
    status_code=status.HTTP_201_CREATED,
    summary="Demander la communication d'une piste (suite à un hit)",
    description="Le service d'origine de la piste est notifié et l'accepte ou la refuse. Une "
                "piste inconnue, ou dont vous ne pouvez pas même connaître l'existence, donne la "
                "même réponse 404.",
)
async def create_disclosure_request(
    request: Request, body: DisclosureRequestIn, graph: GraphDep, settings: SettingsDep,
    audit: AuditDep, caller: Annotated[Principal, requires(Action.REQUEST_DISCLOSURE)],
    access: AccessDep, rulebook: RulebookDep, clock: ClockDep,
) -> DisclosureRequestRecord:
    justification = require_justification(body.justification)
    now = clock
    client = auditing.client_of(request)
    policy = rulebook.policy
    who = caller_of(caller)
    grants: list[GuestGrant | DisclosureGrant] = await run_in_threadpool(
        graph_grants.active_grants_for, graph, caller.user_id, now)
    named = body.lead_id if body.lead_id is not None else body.hit
    assert named is not None

    async def unknown(rule_id: str = auditing.RULE_UNKNOWN_LEAD) -> NotFound:
        # The trail keeps the attempt (a handle is named by its first characters only).
        await run_in_threadpool(audit.append, auditing.disclosure_request_refused(
            client, caller, named if body.lead_id is not None else named[:64], justification,
            Outcome.NONE.value, rule_id))
        # Word for word what a read of an unknown lead answers (graph.read.get_lead), whether
        # the lead does not exist, may not be known of, or the handle is forged, altered or
        # another agency's.
        return NotFound(f"piste inconnue : {named}")

    # The leads named: the one lead, or those a hit handle stands for (a hit on one lead, or
    # an agency's leads counted on an entity that the caller may know of only as hits).
    aggregated = False
    if body.lead_id is not None:
        candidates = [body.lead_id]
    else:
        subject = handles_for(settings.keys_dir).open(body.hit or "", caller.agency)
        if subject is None or subject[0] not in ("lead", "entity"):
            raise await unknown()
        if subject[0] == "lead" and len(subject) == 2:
            candidates = [subject[1]]
        elif subject[0] == "entity" and len(subject) == 3:
            aggregated = True
            # The leads the entity hit counted (graph.read.asserting_leads), those the caller
            # may know of only as hits through their compiled filter.
            candidates = await run_in_threadpool(
                graph_grants.leads_on_entity, graph, subject[1], subject[2], access)
        else:
            raise await unknown()
    markings = await run_in_threadpool(graph_grants.lead_markings, graph, candidates)
    decided = [(markings[c], decide(who, markings[c], policy, grants, now=now))
               for c in candidates if c in markings]
    known = [(m, d) for m, d in decided if d.outcome is not Outcome.NONE]
    if aggregated:
        # An agency's leads counted on an entity: those the caller was shown as hits only.
        known = [(m, d) for m, d in known if d.outcome is Outcome.HIT]
    if not known:
        raise await unknown(decided[0][1].rule_id if decided and not aggregated
                            else auditing.RULE_UNKNOWN_LEAD)
    records = [await _request_one(request, marking, current, who, grants, justification,
                                  graph, audit, caller, now, policy, single=len(known) == 1,
                                  due_at=graded.due_at(rulebook.disclosure, now,
                                                       marking.handling_code))
               for marking, current in known]
    created = [r for r in records if r is not None]
    if not created:  # several leads behind a hit, none a request could open further
        raise Conflict("une communication ne vous donnerait pas davantage sur ces pistes",
                       details=[{"field": "hit", "reason": "aucun accès supplémentaire possible par ce moyen"}])
    return created[0]


async def _request_one(request: Request, marking: LeadMarking, current: Decision, who: Caller,
                       grants: list[GuestGrant | DisclosureGrant], justification: str,
                       graph: Graph, audit: Any, caller: Principal,
                       now: datetime, policy: Policy, *, single: bool, due_at: datetime
                       ) -> DisclosureRequestRecord | None:
    """Request one lead the caller may know of. A single lead that no disclosure could open
    further, or already pending, is an error (409); among several behind one hit, it is skipped
    (None)."""
    client = auditing.client_of(request)
    # Would the owner's approval change anything? Asked of the engine with the very grant an
    # approval would create, so the answer follows the policy (H3, embargo, own lead...).
    hypothetical = DisclosureGrant(
        grant_id="hypothetical", lead_id=marking.lead_id, requester_user_id=caller.user_id,
        owner_agency=marking.originating_agency, approved_by="hypothetical", approved_at=now)
    opened = decide(who, marking, policy, [*grants, hypothetical], now=now)
    if not widens(current, opened):
        await run_in_threadpool(audit.append, auditing.disclosure_request_refused(
            client, caller, marking.lead_id, justification, current.outcome.value,
            current.rule_id))
        if not single:
            return None
        raise Conflict(
            f"une communication ne vous donnerait pas davantage sur cette piste : {current.reason_fr}",
            details=[{"field": "lead_id", "reason": "aucun accès supplémentaire possible par ce moyen"}])
    try:
        return await run_in_threadpool(lambda: graph_grants.create_disclosure_request(
            graph, lead_id=marking.lead_id, requester_user_id=caller.user_id,
            requester_name=caller.name, requester_agency=caller.agency, justification=justification,
            now=now, due_at=due_at, before_commit=lambda rec: audit.append(
                auditing.disclosure_requested(client, caller, rec, current)),
        ))
    except Conflict:
        if single:
            raise
        return None


@router.get(
    "/disclosure-requests", response_model=list[DisclosureRequestRecord],
    summary="Demandes de communication",
    description="`box=inbox` : les demandes adressées à votre service (par défaut celles en "
                "attente) ; `box=mine` : vos propres demandes ; `box=escalated` (coordinateur "
                "de la CROSS) : les demandes restées sans réponse au-delà du délai. `overdue` : "
                "sans réponse au-delà du délai à l'instant de la lecture.",
)
async def list_disclosure_requests(
    graph: GraphDep, caller: CallerDep, rulebook: RulebookDep, clock: ClockDep,
    box: Annotated[Literal["inbox", "mine", "escalated"],
                   Query(description="inbox | mine | escalated")] = "mine",
    status_: Annotated[RequestStatus | None, Query(alias="status")] = None,
) -> list[DisclosureRequestRecord]:
    if box == "inbox":
        decision = permission(rulebook.policy, caller.role, Action.DECIDE_DISCLOSURE)
        if not decision.allowed:
            raise Forbidden(decision.refusal_fr)
        records = await run_in_threadpool(lambda: graph_grants.list_disclosure_requests(
            graph, owner_agency=caller.agency, status=status_ or RequestStatus.REQUESTED))
    elif box == "escalated":
        if not graded.receives_escalations(caller.role):
            raise Forbidden("réservé au coordinateur de la CROSS")
        # Escalated by the job, or overdue already (the job may not have run yet).
        records = await run_in_threadpool(lambda: graph_grants.list_escalated(
            graph, clock, default_hours=rulebook.disclosure.deadline_hours))
    else:
        records = await run_in_threadpool(lambda: graph_grants.list_disclosure_requests(
            graph, requester_user_id=caller.user_id, status=status_))
    return [with_overdue(r, clock) for r in records]


RequestId = Annotated[str, Path(min_length=1, max_length=100)]


@router.post(
    "/disclosure-requests/{request_id}/approve", response_model=DisclosureRequestRecord,
    summary="Accepter une demande de communication",
    description="Réservé aux analystes et coordinateurs du service d'origine de la piste. "
                "Journalisé comme communication au demandeur, qui est notifié.",
)
async def approve_disclosure_request(
    request: Request, request_id: RequestId, graph: GraphDep,
    audit: AuditDep, caller: Annotated[Principal, requires(Action.DECIDE_DISCLOSURE)],
    rulebook: RulebookDep, clock: ClockDep, body: ApproveIn | None = None,
) -> DisclosureRequestRecord:
    body = body or ApproveIn()
    client = auditing.client_of(request)
    policy = rulebook.policy
    try:  # the release: known groups; none given releases them all
        groups = (graded.check_release(policy, body.groups) if body.groups is not None
                  else None)
    except ValueError as exc:
        raise InvalidInput("groupes de propriétés invalides",
                           details=[{"field": "groups", "reason": str(exc)}]) from exc
    try:  # the period: always an end, bounded by policy
        until = graded.release_end(rulebook.disclosure, body.valid_until, clock)
    except ValueError as exc:
        raise InvalidInput("fin de communication invalide",
                           details=[{"field": "valid_until", "reason": str(exc)}]) from exc
    record = await run_in_threadpool(lambda: graph_grants.decide_disclosure_request(
        graph, request_id, approve=True, decided_by=caller.user_id,
        decided_by_name=caller.name, decider_agency=caller.agency, decider_role=caller.role,
        policy=policy, now=clock, valid_until=until, reason=body.reason,
        released_groups=groups,
        release_fr=graded.release_fr(policy, groups) if groups is not None else None,
        before_commit=lambda rec: audit.append(auditing.disclosure_approved(client, caller, rec)),
    ))
    return with_overdue(record, clock)


@router.post(
    "/disclosure-requests/{request_id}/decline", response_model=DisclosureRequestRecord,
    summary="Refuser une demande de communication",
    description="Réservé aux analystes et coordinateurs du service d'origine ; motif obligatoire, "
                "transmis au demandeur.",
)
async def decline_disclosure_request(
    request: Request, request_id: RequestId, body: DeclineIn, graph: GraphDep,
    audit: AuditDep,
    caller: Annotated[Principal, requires(Action.DECIDE_DISCLOSURE)], rulebook: RulebookDep,
    clock: ClockDep,
) -> DisclosureRequestRecord:
    client = auditing.client_of(request)
    return await run_in_threadpool(lambda: graph_grants.decide_disclosure_request(
        graph, request_id, approve=False, decided_by=caller.user_id,
        decided_by_name=caller.name, decider_agency=caller.agency, decider_role=caller.role,
        policy=rulebook.policy, now=clock, reason=body.reason,
        before_commit=lambda rec: audit.append(auditing.disclosure_declined(client, caller, rec)),
    ))


# --- notifications ------------------------------------------------------------------------------


@router.get(
    "/notifications", response_model=list[Notification],
    summary="Vos notifications",
    description="Les vôtres, et pour les analystes et coordinateurs celles adressées à leur "
                "service (nouvelles demandes de communication).",
)
async def list_notifications(
    graph: GraphDep, caller: CallerDep, rulebook: RulebookDep,
    unread: Annotated[bool, Query(description="Seulement les non lues")] = False,
) -> list[Notification]:
    return await run_in_threadpool(lambda: graph_grants.list_notifications(
        graph, user_id=caller.user_id, agency=caller.agency,
        agency_wide=_agency_wide(rulebook, caller), unread_only=unread))


@router.post(
    "/notifications/{notification_id}/read", response_model=Notification,
    summary="Marquer une notification comme lue",
)
async def mark_notification_read(
    notification_id: Annotated[str, Path(min_length=1, max_length=100)],
    graph: GraphDep, caller: CallerDep, rulebook: RulebookDep,
) -> Notification:
    return await run_in_threadpool(lambda: graph_grants.mark_notification_read(
        graph, notification_id, user_id=caller.user_id,
        agency=caller.agency, agency_wide=_agency_wide(rulebook, caller), now=_now()))


# --- live notifications (server-sent events) ------------------------------------------------------

# How often an open stream asks the graph for what is new (every hub process writes there).
STREAM_POLL_S = 1.5
# The longest a stream stays open. The browser's EventSource then reconnects by itself after
# STREAM_RETRY_MS, sending back the last id it received (Last-Event-ID), so nothing is lost;
# meanwhile the caller is authenticated again (a revoked session stops within this bound) and
# a server that stops waits at most this long for an open stream (uvicorn waits for open
# responses before the app's own shutdown: it cannot tell the stream it is leaving).
STREAM_MAX_SECONDS = 25
STREAM_RETRY_MS = 1500
# A comment line every ~15 s keeps proxies from closing a quiet stream: FastAPI's SSE
# responses insert it themselves (fastapi.routing._PING_INTERVAL).
MAX_CURSOR = 10**15
STREAM_BATCH = 100
EVENT_STREAM = "text/event-stream"


def _wants_stream(request: Request) -> bool:
    """A client that asks for an event stream (EventSource always sends this Accept) gets it
    live; any other gets what is pending after its cursor, then the end of the stream."""
    return any(part.split(";")[0].strip().lower() == EVENT_STREAM
               for part in request.headers.get("accept", "").split(","))


@router.get(
    "/notifications/stream", response_class=EventSourceResponse,
    responses={200: {"description": "Flux d'événements (`text/event-stream`) : le curseur "
                                    "d'abord, puis une notification par événement"}},
    summary="Vos notifications en direct (server-sent events)",
    description=(
        "Flux `text/event-stream` des notifications visibles par vous (les mêmes que "
        "`GET /api/v1/notifications`), dans l'ordre où elles ont été enregistrées par "
        "n'importe quel processus du hub. Chaque notification est un événement `notification` "
        "dont `data` est la notification en JSON et `id` son numéro : le curseur. Reprendre "
        "après un curseur : en-tête `Last-Event-ID` (ce que fait EventSource en se "
        "reconnectant) ou paramètre `since` ; sans curseur, le flux part de maintenant et son "
        "premier événement (sans données) porte le curseur courant. Un commentaire est envoyé "
        "toutes les 15 s environ. Le flux se ferme au plus tard après `max_seconds` secondes "
        f"({STREAM_MAX_SECONDS} au plus) et indique `retry` : EventSource se reconnecte seul. "
        "Un client qui n'annonce pas `Accept: text/event-stream` reçoit ce qui est en attente "
        "après son curseur, puis la fin du flux."),
)
async def stream_notifications(
    request: Request, graph: GraphDep, caller: CallerDep, rulebook: RulebookDep,
    since: Annotated[int | None, Query(
        ge=0, le=MAX_CURSOR, description="Curseur : livrer ce qui suit ce numéro")] = None,
    last_event_id: Annotated[str | None, Header(
        alias="Last-Event-ID", pattern=r"^[0-9]{1,15}$",
        description="Curseur renvoyé par EventSource à la reconnexion (prioritaire sur since)",
    )] = None,
    max_seconds: Annotated[int, Query(
        ge=1, le=STREAM_MAX_SECONDS, description="Durée de vie du flux, en secondes")
    ] = STREAM_MAX_SECONDS,
) -> AsyncIterator[Notification]:
    agency_wide = _agency_wide(rulebook, caller)
    cursor = int(last_event_id) if last_event_id is not None else since
    if cursor is None:
        cursor = await run_in_threadpool(notification_cursor, graph)
    # The first event carries no data: it tells the client its cursor and how soon to come back.
    yield ServerSentEvent(id=str(cursor), retry=STREAM_RETRY_MS)
    live = _wants_stream(request)
    deadline = time.monotonic() + max_seconds
    while True:
        try:
            batch = await run_in_threadpool(lambda after=cursor: notifications_after(
                graph, user_id=caller.user_id, agency=caller.agency, agency_wide=agency_wide,
                after=after, limit=STREAM_BATCH))
        except Exception:  # noqa: BLE001 - the graph went away: end; the client comes back
            log.warning("notification stream: graph read failed, stream closed", exc_info=True)
            return
        for seq, notification in batch:
            cursor = seq
            yield ServerSentEvent(event="notification", id=str(seq), data=notification)
        full = len(batch) >= STREAM_BATCH  # more are waiting: read again at once
        if time.monotonic() >= deadline or (not live and not full):
            return
        if not full:
            await asyncio.sleep(max(0.0, min(STREAM_POLL_S, deadline - time.monotonic())))
        if await request.is_disconnected():
            return
