"""Watchlists over HTTP (« Veilles »): ``/api/v1/watches`` — a person follows an entity key or a
saved search, lists their watches with the latest hits they were told, ends one; and
``/api/v1/watch-delivery`` — where, besides the app, a "something new" signal goes (a webhook
on the hub's allow-list, an e-mail address; never any lead content).

A watch is private to its owner: every route reads and ends only the caller's own (another
person's watch id answers 404, like an unknown one). Following a key nobody holds answers
exactly as following a known one: nothing is looked up, no entity node is made (graph/watches/).
Watching and unwatching are consultations justified like the others, appended to the audit
trail inside the write, before commit. Who may watch: ``watches.follow`` (roles.yaml), and for
a guest referent only while a guest grant of theirs is live (policies/watches.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field, model_validator

from graph import grants as graph_grants
from graph import watches as graph_watches
from graph.analysis.models import FuzzyMode, SearchKind
from graph.handle import Graph
from graph.identity import Principal
from graph.watches import Delivery, WatchRecord
from hub.audit import events as auditing
from hub.contract.errors import Forbidden
from hub.deps import (
    AuditDep,
    GraphDep,
    JustificationDep,
    JustificationText,
    RulebookDep,
    SettingsDep,
    requires,
)
from hub.jobs.watch_delivery import as_delivery
from hub.routers.inputs import StrictIn
from policies.audit import AuditAction, AuditEvent, Decision, DecisionOutcome
from policies.models import GuestGrant
from policies.permissions import Action
from policies.rulebook import Rulebook
from policies.watches import END_REASONS_FR, WATCH_KINDS, standing

router = APIRouter(prefix="/api/v1", tags=["veilles"])
Watcher = Annotated[Principal, requires(Action.WATCH)]
RULE_WATCH = "watch-own"


class WatchIn(StrictIn):
    """An entity (``entity_kind`` + ``value``, typed in any spelling) or a saved search (``q`` +
    ``search_kind`` [+ ``fuzzy``], as ``GET /api/v1/search`` takes them)."""

    entity_kind: Annotated[str, Field(max_length=20)] | None = Field(
        default=None, description=f"Type d'entité : {', '.join(WATCH_KINDS)}")
    value: Annotated[str, Field(min_length=1, max_length=300)] | None = Field(
        default=None, description="Valeur suivie, p. ex. « ab 123 cd » ou « 06 12 34 56 78 »")
    q: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    search_kind: SearchKind | None = None
    fuzzy: FuzzyMode = FuzzyMode.OFF
    justification: JustificationText

    @model_validator(mode="after")
    def _one_subject(self) -> WatchIn:
        entity = self.entity_kind is not None or self.value is not None
        search = self.q is not None or self.search_kind is not None
        if entity == search:
            raise ValueError("préciser soit une entité (entity_kind et value), soit une recherche "
                             "(q et search_kind)")
        if entity and (self.entity_kind is None or self.value is None):
            raise ValueError("entity_kind et value vont ensemble")
        if search and (self.q is None or self.search_kind is None):
            raise ValueError("q et search_kind vont ensemble")
        return self


class WatchHitView(BaseModel):
    """What the owner was told, as they were told it (the notification)."""

    notification_id: str
    message: str
    created_at: datetime
    level: str | None = None
    lead_id: str | None = None
    agency: str | None = None
    contact: str | None = None
    handle: str | None = Field(default=None, description="Poignée du hit (demande de communication)")


class WatchView(WatchRecord):
    latest_hits: list[WatchHitView] = Field(default_factory=list)


class DeliveryIn(StrictIn):
    webhook_url: Annotated[str, Field(max_length=500)] | None = None
    email: Annotated[str, Field(max_length=320)] | None = None


def _now() -> datetime:
    return datetime.now(UTC)


def _consultation(request: Request, caller: Principal, *, subject: str, justification: str,
                  step: str) -> AuditEvent:
    return AuditEvent(
        action=AuditAction.CONSULTATION, actor=auditing.actor_of(caller),
        client_address=auditing.client_of(request),
        decision=Decision(outcome=DecisionOutcome.ALLOW, rule_id=RULE_WATCH),
        entity_keys=[subject[:300]], justification=justification, details={"step": step})


def _check_standing(graph: Graph, caller: Principal, rulebook: Rulebook) -> None:
    """A person may add a watch only while their watches would stand (policies/watches.py)."""
    grants = (caller.active_grants if caller.active_grants is not None
              else graph_grants.active_grants_for(graph, caller.user_id, _now()))
    live = any(isinstance(g, GuestGrant) and g.active_at(_now()) for g in grants)
    reason = standing(rulebook.policy, rulebook.watches, role=caller.role,
                      disabled=caller.disabled, live_grant=live)
    if reason is not None:
        raise Forbidden(f"veille impossible : {END_REASONS_FR[reason]}")


@router.post("/watches", response_model=WatchRecord, status_code=status.HTTP_201_CREATED,
             summary="Suivre une entité ou une recherche (veille)")
async def create_watch(request: Request, body: WatchIn, graph: GraphDep, audit: AuditDep,
                       caller: Watcher, rulebook: RulebookDep) -> WatchRecord:
    if body.entity_kind is not None:
        target = graph_watches.entity_target(body.entity_kind, body.value or "")
    else:
        target = graph_watches.search_target(body.q or "", body.search_kind, body.fuzzy)
    subject = (target.match_key if target.kind == "entity"
               else f"search:{target.search_kind}:{target.search_q}")

    def work() -> WatchRecord:
        _check_standing(graph, caller, rulebook)
        return graph_watches.create_watch(
            graph, user_id=caller.user_id, target=target, justification=body.justification,
            max_active=rulebook.watches.max_active_per_user, now=_now(),
            before_commit=lambda rec: audit.append(_consultation(
                request, caller, subject=subject, justification=body.justification,
                step=f"watch_created:{rec.watch_id}")))

    return await run_in_threadpool(work)


@router.get("/watches", response_model=list[WatchView], summary="Vos veilles",
            description="Vos veilles (actives d'abord) et les derniers signalements qu'elles vous "
                        "ont notifiés, tels qu'ils vous ont été notifiés.")
async def list_watches(request: Request, graph: GraphDep, audit: AuditDep, caller: Watcher,
                       rulebook: RulebookDep, justification: JustificationDep) -> list[WatchView]:
    def work() -> list[WatchView]:
        records = graph_watches.list_watches(graph, caller.user_id)
        hits = graph_watches.latest_hits(graph, caller.user_id, [w.watch_id for w in records],
                                         rulebook.watches.latest_hits_listed)
        return [WatchView(**w.model_dump(), latest_hits=[_hit_view(n) for n in
                                                         hits.get(w.watch_id, [])])
                for w in records]

    views = await run_in_threadpool(work)
    lead_ids = sorted({h.lead_id for v in views for h in v.latest_hits if h.lead_id})
    await auditing.log_consultation(
        request, audit, caller, outcome=DecisionOutcome.ALLOW, rule_id=RULE_WATCH,
        justification=justification, lead_ids=lead_ids,
        entity_keys=[f"watch:{v.watch_id}" for v in views], details={"step": "watches_listed"})
    return views


def _hit_view(n: dict[str, Any]) -> WatchHitView:
    return WatchHitView(notification_id=n["notification_id"], message=n["message"],
                        created_at=n["created_at"], level=n.get("payload_level"),
                        lead_id=n.get("payload_lead_id"), agency=n.get("payload_agency"),
                        contact=n.get("payload_contact"), handle=n.get("payload_handle"))


@router.delete("/watches/{watch_id}", response_model=WatchRecord, summary="Arrêter une veille")
async def end_watch(request: Request, watch_id: Annotated[str, Path(min_length=1, max_length=100)],
                    graph: GraphDep, audit: AuditDep, caller: Watcher,
                    justification: JustificationDep) -> WatchRecord:
    return await run_in_threadpool(lambda: graph_watches.end_watch(
        graph, watch_id, user_id=caller.user_id, now=_now(),
        before_commit=lambda rec: audit.append(_consultation(
            request, caller, subject=rec.target or f"watch:{rec.watch_id}",
            justification=justification, step=f"watch_ended:{rec.watch_id}"))))


@router.get("/watch-delivery", response_model=Delivery,
            summary="Où vous prévenir, en plus du hub (webhook, courriel)")
async def get_delivery(graph: GraphDep, caller: Watcher) -> Delivery:
    return await run_in_threadpool(graph_watches.get_delivery, graph, caller.user_id)


@router.put("/watch-delivery", response_model=Delivery,
            summary="Choisir où vous prévenir (webhook, courriel ; aucun contenu de piste)")
async def put_delivery(request: Request, body: DeliveryIn, graph: GraphDep, audit: AuditDep,
                       caller: Watcher, settings: SettingsDep) -> Delivery:
    delivery = as_delivery(caller.user_id, body.webhook_url, body.email, settings)
    await auditing.log_alteration(request, audit, caller, rule_id=RULE_WATCH, lead_ids=[],
                                  entity_keys=[f"user:{caller.user_id}"], personal_data=False,
                                  details={"step": "watch_delivery",
                                           "webhook": delivery.webhook_url is not None,
                                           "email": delivery.email is not None})
    return await run_in_threadpool(graph_watches.set_delivery, graph, delivery, _now())
