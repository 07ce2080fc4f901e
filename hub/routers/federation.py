"""Federation between CROSS hubs over HTTP (issue 16, ADR 0024) — two faces:

* **peer-facing** ``/federation/v1/filter|evaluate|claims|tickets/{id}/status``: called only by
  the antenna on behalf of another CROSS. Each request must carry the *antenna's* Ed25519
  signature (hub/contract/signing.py, the antenna's key from the federation directory), fresh
  and never replayed (nonce kept in the graph like connectors'), and ``X-Crosshub-Peer`` naming
  the member the antenna authenticated. No session, no bearer token, no browser: these routes
  are outside the people's API and its schema (the wire is hub/federation/wire.py).
* **user-facing** ``GET /api/v1/federation/tickets`` (the caller's agency's tickets, both sides:
  peer CROSS, kind, desk, deadline, overdue, status, and only the local leads the caller may
  *read* — a lead the access engine shows them as a hit or not at all is not named) and
  ``POST /api/v1/federation/tickets/{id}/answer`` (a holder's ticket closed by a person who may
  decide disclosures; reported to the claimant through the antenna), and
  ``POST /api/v1/federation/round`` (an administrator runs the round now).

With ``federation_enabled`` off every route answers as an unknown path (404).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import AfterValidator, BaseModel, Field, ValidationError

from graph import federation as graph_fed
from graph import identity
from graph.federation import TicketRecord, TicketSide, TicketStatus
from graph.identity import Principal
from hub.audit import events as auditing
from hub.contract.errors import InvalidInput, NotAuthenticated, SourceError
from hub.contract.identifiers import check_no_identifiers
from hub.contract.signing import verify_request
from hub.contract.validation import field_path, french_reason
from hub.deps import AccessDep, AuditDep, ClockDep, GraphDep, SettingsDep, read_body, requires
from hub.federation import holder
from hub.federation.runtime import FederationRuntime, runtime_of
from hub.federation.service import PeerRefused
from hub.federation.transport import signed_path
from hub.federation.wire import ClaimsRequest, EvaluateRequest, TicketStatusUpdate
from hub.routers.inputs import StrictIn
from policies.permissions import Action

PEER_HEADER = "X-Crosshub-Peer"
_CROSS_ID = re.compile(r"^cross-(\d{2}|2A|2B|97[1-6])$")
RULE_TICKETS = "federation-tickets-own-agency"

peer_router = APIRouter(prefix="/federation/v1", include_in_schema=False)
router = APIRouter(prefix="/api/v1/federation", tags=["fédération"])


# --- peer-facing: the antenna's signed calls ------------------------------------------------------


async def _from_antenna(request: Request, settings: SettingsDep, graph: GraphDep
                        ) -> tuple[FederationRuntime, str, bytes]:
    runtime = runtime_of(request.app)
    directory = runtime.context.directory
    body = await read_body(request, settings.max_body_bytes)
    if directory is None:
        raise NotAuthenticated("annuaire de fédération absent : aucun appel de l'antenne admis")
    peers = request.headers.getlist(PEER_HEADER)
    peer = peers[0].strip() if len(peers) == 1 else ""
    if not _CROSS_ID.match(peer):
        raise NotAuthenticated(f"en-tête {PEER_HEADER} manquant, multiple ou invalide",
                               details=[{"field": PEER_HEADER, "reason": "identifiant de CROSS attendu"}])
    # The antenna's signature covers the peer it names (hub/federation/transport.signed_path).
    verified = await run_in_threadpool(
        verify_request, dict(request.headers), request.method,
        signed_path(request.url.path, peer), body, directory.antenna_key, None,
        settings.signature_max_skew_s)
    await run_in_threadpool(identity.consume_nonce, graph, verified.nonce, verified.key_id,
                            timedelta(seconds=2 * settings.signature_max_skew_s))
    runtime.context.member(peer)
    return runtime, peer, body


def _parse(model: type[BaseModel], body: bytes) -> BaseModel:
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        raise InvalidInput("requête de fédération invalide", details=[
            {"field": field_path(tuple(e["loc"])) or "(corps)", "reason": french_reason(e)}
            for e in exc.errors()]) from None


def _json(model: BaseModel) -> JSONResponse:
    return JSONResponse(model.model_dump(mode="json"), headers={"Cache-Control": "no-store"})


@peer_router.get("/filter")
async def peer_filter(request: Request, settings: SettingsDep, graph: GraphDep,
                      now: ClockDep) -> JSONResponse:
    runtime, peer, _ = await _from_antenna(request, settings, graph)
    return _json(await run_in_threadpool(holder.peer_filter, runtime.context, peer, now))


@peer_router.post("/evaluate")
async def peer_evaluate(request: Request, settings: SettingsDep, graph: GraphDep,
                        now: ClockDep) -> JSONResponse:
    runtime, peer, body = await _from_antenna(request, settings, graph)
    asked = _parse(EvaluateRequest, body)
    return _json(await run_in_threadpool(holder.evaluate, runtime.context, peer, asked, now))


@peer_router.post("/claims")
async def peer_claims(request: Request, settings: SettingsDep, graph: GraphDep,
                      now: ClockDep) -> JSONResponse:
    runtime, peer, body = await _from_antenna(request, settings, graph)
    claims = _parse(ClaimsRequest, body)
    return _json(await run_in_threadpool(holder.confirm_claims, runtime.context, peer, claims, now))


@peer_router.post("/tickets/{ticket_id}/status")
async def peer_ticket_status(request: Request, settings: SettingsDep, graph: GraphDep,
                             ticket_id: Annotated[str, Path(max_length=100)]) -> JSONResponse:
    runtime, peer, body = await _from_antenna(request, settings, graph)
    update = _parse(TicketStatusUpdate, body)
    if update.message:
        try:
            check_no_identifiers(update.message)
        except ValueError as exc:
            raise InvalidInput("message de réponse refusé", details=[
                {"field": "message", "reason": str(exc)}]) from None
    ticket = await run_in_threadpool(holder.receive_status, runtime.context, peer, ticket_id,
                                     update)
    return JSONResponse({"ticket_id": ticket.ticket_id, "status": ticket.status.value})


# --- user-facing ----------------------------------------------------------------------------------


class TicketOut(BaseModel):
    """A federation ticket as a person of an agency behind it reads it."""

    ticket_id: str
    side: Literal["holder", "claimant"] = Field(
        description="holder : notre CROSS détient, un pair a demandé ; claimant : un pair détient")
    peer: str = Field(description="Le CROSS pair (cross-39…)")
    peer_name: str
    kind: Literal["plate", "phone"]
    desk: str = Field(description="Le service à contacter chez le détenteur")
    handling_code: str
    due_at: datetime
    overdue: bool = Field(description="Ouvert et délai de réponse dépassé")
    status: Literal["open", "answered", "released", "declined"]
    answered_at: datetime | None = None
    message: str | None = None
    lead_ids: list[str] = Field(description="Les pistes locales derrière le ticket que vous "
                                            "pouvez lire (jamais celles que vous ne pouvez pas)")
    created_at: datetime


class TicketList(BaseModel):
    tickets: list[TicketOut]


def _out(runtime: FederationRuntime, t: TicketRecord, readable: set[str], now: datetime) -> TicketOut:
    return TicketOut(
        ticket_id=t.ticket_id, side=t.side.value, peer=t.peer,
        peer_name=runtime.context.name_of(t.peer), kind=t.kind, desk=t.desk,
        handling_code=t.handling_code, due_at=t.due_at,
        overdue=t.status is TicketStatus.OPEN and t.due_at < now, status=t.status.value,
        answered_at=t.answered_at, message=t.message,
        lead_ids=[i for i in t.lead_ids if i in readable], created_at=t.created_at)


Reader = Annotated[Principal, requires(Action.WORK_LEADS)]
Decider = Annotated[Principal, requires(Action.DECIDE_DISCLOSURE)]


# Every route answers 404 while federation is off on this hub (hub/federation/runtime.py).
OFF = {404: {"description": "Fédération non activée sur ce hub (`not_found`)"}}


@router.get("/tickets", response_model=TicketList, summary="Tickets de fédération du service",
            responses=OFF)
async def list_tickets(request: Request, caller: Reader, graph: GraphDep, access: AccessDep,
                       audit: AuditDep, now: ClockDep) -> TicketList:
    runtime = runtime_of(request.app)
    tickets = await run_in_threadpool(graph_fed.list_tickets, graph, caller.agency or "")
    readable = await run_in_threadpool(graph_fed.readable_lead_ids, graph,
                                       [i for t in tickets for i in t.lead_ids], access)
    out = [_out(runtime, t, readable, now) for t in tickets]
    await auditing.log_consultation(
        request, audit, caller, outcome="allow", rule_id=RULE_TICKETS, justification=None,
        lead_ids=sorted({i for t in out for i in t.lead_ids}),
        entity_keys=[f"federation-ticket:{t.ticket_id}" for t in out], personal_data=False,
        details={"event": "federation_tickets", "count": len(out)})
    return TicketList(tickets=out)


class AnswerIn(StrictIn):
    status: Literal["answered", "released", "declined"] = Field(
        description="answered : rappel fait ; released : communication accordée (par le circuit "
                    "de communication) ; declined : refus")
    message: Annotated[str, Field(max_length=2000), AfterValidator(check_no_identifiers)] = Field(
        default="", description="Message au CROSS demandeur, en français, sans identifiant brut")


@router.post("/tickets/{ticket_id}/answer", response_model=TicketOut,
             summary="Répondre à un ticket de fédération (CROSS détenteur)",
             responses={502: {"description": "L'antenne n'a pas transmis la réponse : "
                                              "réessayer (`source_error`)"}})
async def answer_ticket(request: Request, caller: Decider, graph: GraphDep, access: AccessDep,
                        now: ClockDep, body: AnswerIn,
                        ticket_id: Annotated[str, Path(max_length=100)]) -> TicketOut:
    runtime = runtime_of(request.app)
    try:
        ticket = await run_in_threadpool(
            lambda: holder.answer_ticket(
                runtime.context, runtime.transport, ticket_id, status=TicketStatus(body.status),
                message=body.message, agency=caller.agency or "",
                actor=auditing.actor_of(caller), client=auditing.client_of(request), now=now))
    except PeerRefused as exc:
        raise SourceError(f"l'antenne n'a pas transmis la réponse ({exc.status}) : {exc.reason}"
                          ) from None
    readable = await run_in_threadpool(graph_fed.readable_lead_ids, graph, ticket.lead_ids, access)
    return _out(runtime, ticket, readable, now.astimezone(UTC))


class RoundOut(BaseModel):
    epoch: int
    tokens_set: int
    tokens_cleared: int = 0
    # Per peer: evaluated, claimed, tickets, new_tickets, refused, error (counts, never values).
    peers: dict[str, dict[str, int | str | None]]


@router.post("/round", response_model=RoundOut, summary="Lancer un tour de fédération",
             responses=OFF,
             description="Rafraîchit les jetons de ce hub pour l'époque en cours puis interroge "
                         "chaque CROSS membre sur les identifiants nouveaux (ce que fait le tour "
                         "planifié). Pour un ordonnanceur externe ou l'exploitant.")
async def run_round(request: Request, now: ClockDep,
                    caller: Annotated[Principal, requires(Action.RUN_FEDERATION)]) -> RoundOut:
    from hub.jobs.federation import run_federation_round

    result = await run_in_threadpool(run_federation_round, request.app, now.astimezone(UTC))
    return RoundOut.model_validate(result)


__all__ = ["TicketSide", "peer_router", "router"]
