"""Dossiers over HTTP (« Dossiers », ADR 0019): ``/api/v1/dossiers`` — shared multi-agency
investigations with members, linked leads and entities, tasks, comments, and a closing outcome.

Wiring only: the rules are policies/dossiers.py's, the reads and writes graph/dossiers/'s. Every
route needs ``dossiers.work`` (roles.yaml) and a motif; a dossier the caller is not a member of,
or may not even know of at its handling code, answers exactly as an unknown id (404). Each
change is appended to the audit trail inside its write, before commit (action ``alteration``,
with the motif); each read is a consultation appended before the answer.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Request, status
from fastapi.concurrency import run_in_threadpool
from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from graph import dossiers as graph_dossiers
from graph import identity
from graph.access import AccessFilter
from graph.dossiers import CommentView, DossierChange, DossierSummary, DossierView, Member, TaskView
from graph.handle import Graph
from graph.identity import Principal
from hub.audit import events as auditing
from hub.audit.trail import AuditTrail
from hub.contract.errors import Forbidden, InvalidInput, NotFound
from hub.contract.identifiers import check_no_identifiers
from hub.contract.lead import HandlingCode
from hub.deps import (
    AccessDep,
    AuditDep,
    GraphDep,
    JustificationDep,
    JustificationText,
    RulebookDep,
    requires,
)
from hub.routers.inputs import StrictIn
from policies.audit import AuditAction, AuditEvent, Decision, DecisionOutcome
from policies.lifecycle import CloseOutcome
from policies.permissions import Action

router = APIRouter(prefix="/api/v1", tags=["dossiers"])
Worker = Annotated[Principal, requires(Action.WORK_DOSSIERS)]
DossierId = Annotated[str, Path(min_length=3, max_length=80)]
RULE_DOSSIER = "dossier-member"
RULE_LINK_REFUSED = "dossier-link-needs-reading"
_PARIS = ZoneInfo("Europe/Paris")


def _guarded(max_length: int, min_length: int = 1):
    # Free text people type: the hub's identity guard, as for lead narratives (hub.contract).
    return Annotated[str, StringConstraints(strip_whitespace=True, min_length=min_length,
                                            max_length=max_length),
                     AfterValidator(check_no_identifiers)]


class DossierIn(StrictIn):
    title: _guarded(200, 3) = Field(description="Intitulé, sans identifiant brut")
    handling_code: HandlingCode = Field(description="Code de traitement du dossier (H0 à H3)")
    justification: JustificationText


class MemberIn(StrictIn):
    user_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    justification: JustificationText


class LeadLinkIn(StrictIn):
    lead_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    justification: JustificationText


class EntityLinkIn(StrictIn):
    entity_kind: str = Field(description="vehicle, phone, person, location, commune, deal_point")
    key: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
    justification: JustificationText


class TaskIn(StrictIn):
    title: _guarded(300)
    assignee_user_id: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    due_date: date
    justification: JustificationText


class TaskPatch(StrictIn):
    title: _guarded(300) | None = None
    assignee_user_id: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    due_date: date | None = None
    done: bool | None = None
    justification: JustificationText


class CommentIn(StrictIn):
    text: _guarded(4000) = Field(description="Commentaire, sans identifiant brut")
    handling_code: HandlingCode | None = Field(
        default=None, description="Code de traitement du commentaire ; par défaut celui du dossier")
    justification: JustificationText


class CloseIn(StrictIn):
    outcome: CloseOutcome
    note: _guarded(2000) | None = None
    justification: JustificationText


class MarkingIn(StrictIn):
    handling_code: HandlingCode
    justification: JustificationText


class ReopenIn(StrictIn):
    justification: JustificationText


class LinkOut(BaseModel):
    changed: bool = Field(description="Faux si rien ne changeait (déjà lié, ou pas lié)")


class EligibleMember(BaseModel):
    user_id: str
    name: str
    agency: str
    role: str


def _now() -> datetime:
    return datetime.now(UTC)


def _today() -> date:
    return datetime.now(_PARIS).date()


def _auditor(request: Request, audit: AuditTrail, caller: Principal, justification: str):
    client = auditing.client_of(request)

    def log(done: DossierChange) -> None:
        audit.append(AuditEvent(
            action=AuditAction.ALTERATION, actor=auditing.actor_of(caller), client_address=client,
            decision=Decision(outcome=DecisionOutcome.ALLOW, rule_id=RULE_DOSSIER),
            lead_ids=done.lead_ids[:500], entity_keys=[f"dossier:{done.dossier_id}", *done.entity_keys],
            justification=justification, details={"step": done.step, **done.details}))

    return log


async def _view(request: Request, graph: Graph, audit: AuditTrail, caller: Principal,
                access: AccessFilter, dossier_id: str, justification: str, step: str) -> DossierView:
    view, lead_ids = await run_in_threadpool(
        graph_dossiers.get_dossier, graph, dossier_id, caller, access, _today())
    levels = {x.access for x in view.leads}
    outcome = ("hit" if view.access == "hit" or levels == {"hit"} else
               "redacted" if "redacted" in levels else "full")
    await auditing.log_consultation(
        request, audit, caller, outcome=outcome, rule_id=access.policy_id, justification=justification,
        lead_ids=lead_ids, entity_keys=[f"dossier:{dossier_id}",
                                        *(e.node.id for e in view.entities if e.node is not None)],
        details={"step": step, "access": view.access, "comments": len(view.comments)})
    return view


@router.post("/dossiers", response_model=DossierView, status_code=status.HTTP_201_CREATED,
             summary="Ouvrir un dossier partagé",
             description="Votre service pilote le dossier ; vous en êtes le premier membre.")
async def create_dossier(request: Request, body: DossierIn, graph: GraphDep, audit: AuditDep,
                         access: AccessDep, caller: Worker) -> DossierView:
    dossier_id = await run_in_threadpool(lambda: graph_dossiers.create_dossier(
        graph, title=body.title, code=body.handling_code.value, creator=caller, now=_now(),
        before_commit=_auditor(request, audit, caller, body.justification)))
    view, _ = await run_in_threadpool(graph_dossiers.get_dossier, graph, dossier_id, caller, access, _today())
    return view


@router.get("/dossiers", response_model=list[DossierSummary], summary="Vos dossiers",
            description="Les dossiers dont vous êtes membre, chacun selon son code de traitement : "
                        "consultable, ou signalé seulement (service pilote et qui contacter).")
async def list_dossiers(request: Request, graph: GraphDep, audit: AuditDep, access: AccessDep,
                        caller: Worker, justification: JustificationDep) -> list[DossierSummary]:
    rows = await run_in_threadpool(graph_dossiers.list_for, graph, caller.user_id, access, _today())
    await auditing.log_consultation(
        request, audit, caller, outcome="allow", rule_id=RULE_DOSSIER, justification=justification,
        entity_keys=[f"dossier:{r.dossier_id}" for r in rows], personal_data=False,
        details={"step": "dossiers_listed", "count": len(rows)})
    return rows


@router.get("/dossiers/{dossier_id}", response_model=DossierView, summary="Un dossier",
            description="Membres, tâches, commentaires (chacun selon son marquage), pistes et entités "
                        "liées selon vos droits au moment de la lecture (complète, expurgée, ou "
                        "signalement « hit » sans l'identifiant de la piste). Inconnu, ou hors de "
                        "vos droits : 404.")
async def get_dossier(request: Request, dossier_id: DossierId, graph: GraphDep, audit: AuditDep,
                      access: AccessDep, caller: Worker, justification: JustificationDep) -> DossierView:
    return await _view(request, graph, audit, caller, access, dossier_id, justification, "dossier_read")


@router.get("/dossiers/{dossier_id}/eligible-members", response_model=list[EligibleMember],
            summary="Personnes qu'on peut ajouter au dossier",
            description="Analystes et chefs de la CROSS actifs que le code de traitement du dossier "
                        "laisse consulter ; pour qui peut gérer les membres.")
async def eligible_members(dossier_id: DossierId, graph: GraphDep, access: AccessDep, caller: Worker,
                           rulebook: RulebookDep) -> list[EligibleMember]:
    users = await run_in_threadpool(lambda: graph_dossiers.eligible_members(
        graph, dossier_id, actor=caller, access=access, users=identity.list_users(graph),
        policy=rulebook.policy, now=_now()))
    return [EligibleMember(user_id=u.user_id, name=u.name, agency=u.agency, role=u.role) for u in users]


@router.post("/dossiers/{dossier_id}/members", response_model=list[Member], summary="Ajouter un membre")
async def add_member(request: Request, dossier_id: DossierId, body: MemberIn, graph: GraphDep,
                     audit: AuditDep, access: AccessDep, caller: Worker, rulebook: RulebookDep) -> list[Member]:
    def work() -> list[Member]:
        try:
            user = identity.get_user(graph, body.user_id)
        except NotFound:
            raise InvalidInput("utilisateur inconnu", details=[
                {"field": "user_id", "reason": "aucun compte de ce nom"}]) from None
        return graph_dossiers.add_member(
            graph, dossier_id, actor=caller, access=access, user=user, policy=rulebook.policy,
            now=_now(), before_commit=_auditor(request, audit, caller, body.justification))

    return await run_in_threadpool(work)


@router.delete("/dossiers/{dossier_id}/members/{user_id}", response_model=list[Member],
               summary="Retirer un membre")
async def remove_member(request: Request, dossier_id: DossierId,
                        user_id: Annotated[str, Path(min_length=1, max_length=200)], graph: GraphDep,
                        audit: AuditDep, access: AccessDep, caller: Worker,
                        justification: JustificationDep) -> list[Member]:
    return await run_in_threadpool(lambda: graph_dossiers.remove_member(
        graph, dossier_id, actor=caller, access=access, user_id=user_id, now=_now(),
        before_commit=_auditor(request, audit, caller, justification)))


@router.post("/dossiers/{dossier_id}/leads", response_model=LinkOut, summary="Lier une piste",
             description="Seulement une piste que vous pouvez consulter ; une piste dont vous n'avez "
                         "que le signalement est refusée (403), une inconnue répond 404.")
async def link_lead(request: Request, dossier_id: DossierId, body: LeadLinkIn, graph: GraphDep,
                    audit: AuditDep, access: AccessDep, caller: Worker) -> LinkOut:
    try:
        return LinkOut(changed=await run_in_threadpool(lambda: graph_dossiers.set_lead_link(
            graph, dossier_id, body.lead_id, linked=True, actor=caller, access=access, now=_now(),
            before_commit=_auditor(request, audit, caller, body.justification))))
    except (NotFound, Forbidden):
        # Naming a lead one may not read (or that no one holds) may be probing: kept, refused.
        await run_in_threadpool(audit.append, AuditEvent(
            action=AuditAction.ALTERATION, actor=auditing.actor_of(caller),
            client_address=auditing.client_of(request),
            decision=Decision(outcome=DecisionOutcome.DENY, rule_id=RULE_LINK_REFUSED),
            lead_ids=[body.lead_id], entity_keys=[f"dossier:{dossier_id}"],
            justification=body.justification, details={"step": "lead_link_refused"}))
        raise


@router.delete("/dossiers/{dossier_id}/leads/{lead_id}", response_model=LinkOut, summary="Délier une piste")
async def unlink_lead(request: Request, dossier_id: DossierId,
                      lead_id: Annotated[str, Path(min_length=1, max_length=100)], graph: GraphDep,
                      audit: AuditDep, access: AccessDep, caller: Worker,
                      justification: JustificationDep) -> LinkOut:
    return LinkOut(changed=await run_in_threadpool(lambda: graph_dossiers.set_lead_link(
        graph, dossier_id, lead_id, linked=False, actor=caller, access=access, now=_now(),
        before_commit=_auditor(request, audit, caller, justification))))


@router.post("/dossiers/{dossier_id}/entities", response_model=LinkOut, summary="Lier une entité")
async def link_entity(request: Request, dossier_id: DossierId, body: EntityLinkIn, graph: GraphDep,
                      audit: AuditDep, access: AccessDep, caller: Worker) -> LinkOut:
    kind = graph_dossiers.entity_kind(body.entity_kind)
    return LinkOut(changed=await run_in_threadpool(lambda: graph_dossiers.set_entity_link(
        graph, dossier_id, kind, body.key, linked=True, actor=caller, access=access, now=_now(),
        before_commit=_auditor(request, audit, caller, body.justification))))


@router.delete("/dossiers/{dossier_id}/entities/{entity_kind}/{key}", response_model=LinkOut,
               summary="Délier une entité")
async def unlink_entity(request: Request, dossier_id: DossierId,
                        entity_kind: Annotated[str, Path(max_length=20)],
                        key: Annotated[str, Path(min_length=1, max_length=300)], graph: GraphDep,
                        audit: AuditDep, access: AccessDep, caller: Worker,
                        justification: JustificationDep) -> LinkOut:
    kind = graph_dossiers.entity_kind(entity_kind)
    return LinkOut(changed=await run_in_threadpool(lambda: graph_dossiers.set_entity_link(
        graph, dossier_id, kind, key, linked=False, actor=caller, access=access, now=_now(),
        before_commit=_auditor(request, audit, caller, justification))))


@router.post("/dossiers/{dossier_id}/tasks", response_model=TaskView, status_code=status.HTTP_201_CREATED,
             summary="Ajouter une tâche", description="Confiée à un membre du dossier, avec une échéance.")
async def add_task(request: Request, dossier_id: DossierId, body: TaskIn, graph: GraphDep,
                   audit: AuditDep, access: AccessDep, caller: Worker) -> TaskView:
    return await run_in_threadpool(lambda: graph_dossiers.add_task(
        graph, dossier_id, actor=caller, access=access, title=body.title,
        assignee_user_id=body.assignee_user_id, due_date=body.due_date, now=_now(), today=_today(),
        before_commit=_auditor(request, audit, caller, body.justification)))


@router.patch("/dossiers/{dossier_id}/tasks/{task_id}", response_model=TaskView,
              summary="Modifier, terminer ou rouvrir une tâche")
async def update_task(request: Request, dossier_id: DossierId,
                      task_id: Annotated[str, Path(min_length=3, max_length=80)], body: TaskPatch,
                      graph: GraphDep, audit: AuditDep, access: AccessDep, caller: Worker) -> TaskView:
    fields: dict[str, Any] = body.model_dump(exclude_unset=True, exclude={"justification"})
    nulls = [k for k, v in fields.items() if v is None]
    if nulls:
        raise InvalidInput("valeur nulle refusée", details=[{"field": k, "reason": "valeur attendue"} for k in nulls])
    return await run_in_threadpool(lambda: graph_dossiers.update_task(
        graph, dossier_id, task_id, actor=caller, access=access, fields=fields, now=_now(),
        today=_today(), before_commit=_auditor(request, audit, caller, body.justification)))


@router.post("/dossiers/{dossier_id}/comments", response_model=CommentView,
             status_code=status.HTTP_201_CREATED, summary="Commenter",
             description="Le commentaire est marqué comme une piste de votre service, au code choisi "
                         "(celui du dossier par défaut) : chaque membre le lit selon ce marquage.")
async def add_comment(request: Request, dossier_id: DossierId, body: CommentIn, graph: GraphDep,
                      audit: AuditDep, access: AccessDep, caller: Worker) -> CommentView:
    return await run_in_threadpool(lambda: graph_dossiers.add_comment(
        graph, dossier_id, actor=caller, access=access, text=body.text,
        handling_code=body.handling_code.value if body.handling_code else None, now=_now(),
        before_commit=_auditor(request, audit, caller, body.justification)))


@router.post("/dossiers/{dossier_id}/close", response_model=DossierView, summary="Clore le dossier",
             description="Avec son issue (mêmes issues qu'une piste) ; une issue comptée comme succès "
                         "compte pour les pistes liées dans les taux de réussite (ADR 0019).")
async def close_dossier(request: Request, dossier_id: DossierId, body: CloseIn, graph: GraphDep,
                        audit: AuditDep, access: AccessDep, caller: Worker) -> DossierView:
    await run_in_threadpool(lambda: graph_dossiers.close_dossier(
        graph, dossier_id, actor=caller, access=access, outcome=body.outcome, note=body.note or "",
        now=_now(), before_commit=_auditor(request, audit, caller, body.justification)))
    return await _view(request, graph, audit, caller, access, dossier_id, body.justification, "dossier_closed")


@router.post("/dossiers/{dossier_id}/reopen", response_model=DossierView, summary="Rouvrir le dossier")
async def reopen_dossier(request: Request, dossier_id: DossierId, body: ReopenIn, graph: GraphDep,
                         audit: AuditDep, access: AccessDep, caller: Worker) -> DossierView:
    await run_in_threadpool(lambda: graph_dossiers.reopen_dossier(
        graph, dossier_id, actor=caller, access=access, now=_now(),
        before_commit=_auditor(request, audit, caller, body.justification)))
    return await _view(request, graph, audit, caller, access, dossier_id, body.justification, "dossier_reopened")


@router.post("/dossiers/{dossier_id}/marking", response_model=DossierView,
             summary="Changer le code de traitement du dossier",
             description="Service pilote et chef de la CROSS : à la lecture suivante, chaque membre "
                         "obtient du dossier ce que le nouveau code lui permet (consultable, signalé, "
                         "rien).")
async def set_marking(request: Request, dossier_id: DossierId, body: MarkingIn, graph: GraphDep,
                      audit: AuditDep, access: AccessDep, caller: Worker) -> DossierView:
    await run_in_threadpool(lambda: graph_dossiers.set_handling_code(
        graph, dossier_id, actor=caller, access=access, code=body.handling_code.value, now=_now(),
        before_commit=_auditor(request, audit, caller, body.justification)))
    return await _view(request, graph, audit, caller, access, dossier_id, body.justification,
                       "marking_changed")
