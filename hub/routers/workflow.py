"""The lead workflow API: triage (precision score, likely duplicates, queue), the lead
lifecycle (status changes and their history), hit rates per source channel and connector,
cross-agency link alerts, and deconfliction of planned operations.

Rules live in policies/ (``triage``, ``lifecycle``, ``deconfliction``, ``links``), Cypher in
graph/workflow/; this router wires them, checks roles and justifications, and audits
(hub/audit/events.py says which Art. 25 operation each step is).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from pydantic import (
    AwareDatetime,
    BaseModel,
    Field,
    StringConstraints,
    field_validator,
)

from graph import dossiers as graph_dossiers
from graph import workflow as graph_workflow
from graph.identity import Principal
from graph.workflow import (
    DeconflictionAlertView,
    LinkAlertView,
    OperationPlace,
    OperationRecord,
    QueueItem,
    StatusChangeRecord,
    StatusResult,
    TriageView,
)
from hub.audit import events as auditing
from hub.contract.errors import Forbidden, InvalidInput
from hub.contract.lead import Agency, GeoPoint, SanitizedLabel, ShortText
from hub.contract.normalize import INSEE_CODE
from hub.deps import (
    AccessDep,
    AuditDep,
    GraphDep,
    JustificationDep,
    RulebookDep,
    requires,
)
from hub.routers import lead_clashes
from hub.routers.inputs import StrictIn
from policies import lifecycle
from policies.dossiers import apply_dossier_outcomes
from policies.deconfliction import (
    OperationKind,
    check_window,
    normalize_targets,
)
from policies.lead_clash import check_tell_author
from policies.lifecycle import LeadState, StatusRequest
from policies.permissions import Action
from policies.triage import HitRates, hit_rates

router = APIRouter(prefix="/api/v1", tags=["triage et déconfliction"])
# Lead-vs-operation alerts (ADR 0017): their own module, the same prefix and tag.
router.include_router(lead_clashes.router)

# Who works leads and operations: the CROSS's analysts and coordinators (not guests, auditors,
# administrators or connectors).
Worker = Annotated[Principal, requires(Action.WORK_LEADS)]
LeadId = Annotated[str, Path(min_length=3, max_length=160, description="Identifiant de piste (service:référence)")]


def _now() -> datetime:
    return datetime.now(UTC)


# --- triage -------------------------------------------------------------------------------------


@router.get(
    "/leads/{lead_id}/triage", response_model=TriageView, summary="Triage d'une piste",
    description=(
        "Score de précision (0 à 100) selon les critères de la CROSS — lieu, date et heure, "
        "description, véhicule, immatriculation, schéma répété — avec les points et la raison de "
        "chaque critère ; doublons probables de pistes antérieures (une piste que vous ne "
        "connaissez que par un « hit » n'indique que son service et le contact) ; état du suivi. "
        "Consultation justifiée et journalisée."),
)
async def get_triage(request: Request, lead_id: LeadId, graph: GraphDep,
                     access: AccessDep, audit: AuditDep, caller: Worker, rulebook: RulebookDep,
                     reason: JustificationDep) -> TriageView:
    view = await run_in_threadpool(graph_workflow.triage, graph, lead_id, access, _now(),
                                   rules=rulebook.triage)
    await auditing.log_consultation(
        request, audit, caller, outcome=view.access, rule_id=access.policy_id, justification=reason,
        lead_ids=[lead_id, *(d.lead_id for d in view.duplicates)],
        details={"step": "triage", "score": view.score, "duplicates": len(view.duplicates)})
    return view


@router.get(
    "/triage/queue", response_model=list[QueueItem], summary="File de triage",
    description=(
        "Pistes dans un état donné (par défaut « new » : à trier) que vous pouvez consulter, "
        "triées par score de précision décroissant (`order=score`), par arrivée (`received`) ou "
        "par dernier changement (`updated`), éventuellement d'un seul service (`agency`). Ne montre "
        "ni récit ni entité : identifiants, nature, canal, commune, score."),
)
async def triage_queue(
    request: Request, graph: GraphDep, access: AccessDep, audit: AuditDep,
    caller: Worker,
    state: Annotated[LeadState, Query(description="État des pistes listées")] = LeadState.NEW,
    order: Annotated[Literal["score", "received", "updated"], Query(description="Ordre")] = "score",
    agency: Annotated[Agency | None, Query(description="Seulement les pistes de ce service")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> list[QueueItem]:
    items = await run_in_threadpool(graph_workflow.queue, graph, access,
                                    state=state, order=order, agency=agency.value if agency else None,
                                    limit=limit, offset=offset)
    await auditing.log_consultation(
        request, audit, caller, outcome="redacted" if any(i.access != "full" for i in items) else "full",
        rule_id=access.policy_id, justification=None, personal_data=False,
        lead_ids=[i.lead_id for i in items], details={"step": "triage_queue", "state": state.value})
    return items


# --- lifecycle ----------------------------------------------------------------------------------


class StatusIn(StatusRequest):
    """Corps de ``POST /leads/{id}/status``."""


@router.post(
    "/leads/{lead_id}/status", response_model=StatusResult, summary="Changer l'état d'une piste",
    description=(
        "Fait avancer la piste dans son cycle : new → under_assessment → assigned (service et "
        "unité) → acted_on → closed (issue : arrest, seizure, no_follow_up, transferred, other), "
        "ou dismissed (motif : imprecise, duplicate, out_of_scope, malicious, other). "
        "`expected_state` est l'état que vous avez vu : si la piste a changé entre-temps, la "
        "demande est refusée (409). Réservé aux analystes et coordinateurs du service d'origine ; "
        "le service attributaire peut passer la piste à « exploitée » puis « clôturée ». "
        "Chaque changement est attribué, historisé et journalisé comme modification."),
)
async def change_status(request: Request, lead_id: LeadId, body: StatusIn, graph: GraphDep,
                        access: AccessDep, audit: AuditDep,
                        caller: Worker, rulebook: RulebookDep) -> StatusResult:
    lifecycle.validate_request(body)
    actor = lifecycle.Actor(user_id=caller.user_id, agency=caller.agency, role=caller.role)
    client = auditing.client_of(request)

    def log(result: StatusResult) -> None:
        audit.append(auditing.status_changed(client, caller, result))

    try:
        return await run_in_threadpool(
            graph_workflow.change_status, graph, lead_id, body, actor,
            caller.name, access, _now(), rules=rulebook.triage, before_commit=log)
    except Forbidden as exc:
        await run_in_threadpool(audit.append, auditing.status_refused(
            client, caller, lead_id, body.state.value, exc.message))
        raise


@router.get(
    "/leads/{lead_id}/history", response_model=list[StatusChangeRecord],
    summary="Historique des états d'une piste",
    description="Chaque changement d'état, du plus ancien au plus récent : qui (nom, service, rôle), "
                "quand, pourquoi (commentaire, issue, motif, attributaire). Consultation justifiée.",
)
async def get_history(request: Request, lead_id: LeadId, graph: GraphDep,
                      access: AccessDep, audit: AuditDep, caller: Worker,
                      reason: JustificationDep) -> list[StatusChangeRecord]:
    level, changes = await run_in_threadpool(graph_workflow.history, graph, lead_id, access)
    await auditing.log_consultation(request, audit, caller, outcome=level, rule_id=access.policy_id,
                                    justification=reason, lead_ids=[lead_id],
                                    details={"step": "status_history", "changes": len(changes)})
    return changes


# --- hit rates ----------------------------------------------------------------------------------


@router.get(
    "/stats/hit-rates", response_model=HitRates, summary="Taux de réussite par canal et connecteur",
    description=(
        "Pour les pistes résolues sur la période (`since` inclus, `until` exclu, date de "
        "clôture ou de mise à l'écart) : pistes clôturées par une interpellation ou une saisie, "
        "rapportées aux pistes clôturées ou écartées, par canal d'origine et par connecteur. "
        "Une piste liée à un dossier clos par une interpellation ou une saisie compte comme "
        "telle, à la date de clôture du dossier (une seule fois). "
        "Seules comptent les pistes dont vous pouvez connaître l'existence."),
)
async def get_hit_rates(
    graph: GraphDep, access: AccessDep, caller: Worker, rulebook: RulebookDep,
    since: Annotated[AwareDatetime | None, Query(description="Début (ISO 8601 avec fuseau)")] = None,
    until: Annotated[AwareDatetime | None, Query(description="Fin exclue (ISO 8601 avec fuseau)")] = None,
) -> HitRates:
    if since and until and until <= since:
        raise InvalidInput("période vide", details=[{"field": "until", "reason": "doit être postérieure à since"}])
    rows = await run_in_threadpool(graph_workflow.resolution_counts, graph, access, since=since,
                                   until=until)
    # A lead linked to a dossier closed with a hit counts as that hit (ADR 0019).
    hit = rulebook.triage.hit_rates.hit_outcomes
    linked = await run_in_threadpool(graph_dossiers.linked_lead_facts, graph, access, hit)
    rows = apply_dossier_outcomes(rows, linked, hit, since=since, until=until)
    return hit_rates(rows, rulebook.triage, since=since, until=until)


# --- link alerts --------------------------------------------------------------------------------


@router.get(
    "/link-alerts", response_model=list[LinkAlertView], summary="Liens entre services",
    description=(
        "Entités (véhicule, téléphone, personne, adresse, point de deal) sur lesquelles une de vos "
        "pistes rejoint celles d'un autre service. Chaque alerte dit seulement quel service détient "
        "combien de pistes et qui contacter (« hit »), jamais leur contenu. Consultation justifiée."),
)
async def get_link_alerts(
    request: Request, graph: GraphDep, access: AccessDep, audit: AuditDep,
    caller: Worker, rulebook: RulebookDep, reason: JustificationDep,
    since: Annotated[AwareDatetime | None, Query(description="Alertes levées depuis")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[LinkAlertView]:
    views = await run_in_threadpool(graph_workflow.link_alerts_for, graph, caller.agency, access,
                                    policy=rulebook.policy, since=since, limit=limit)
    await auditing.log_consultation(
        request, audit, caller, outcome="hit" if views else "none", rule_id=access.policy_id,
        justification=reason, lead_ids=sorted({i for v in views for i in v.own_lead_ids}),
        entity_keys=sorted({f"{v.entity_kind}:{v.entity_key}" for v in views}),
        details={"step": "link_alerts", "alerts": len(views)})
    return views


# --- operations and deconfliction ---------------------------------------------------------------


class OperationPlaceIn(StrictIn):
    insee_code: str = Field(description="Code INSEE de la commune")
    commune: ShortText | None = None
    location_key: Annotated[str, StringConstraints(min_length=3, max_length=300)] | None = Field(
        default=None, description="Clé de lieu du graphe (addr:…, place:…), si connue")
    point: GeoPoint | None = None
    radius_m: float = Field(default=200, ge=10, le=5000, description="Rayon d'action (m)")

    @field_validator("insee_code")
    @classmethod
    def _insee(cls, v: str) -> str:
        v = v.upper()
        if not INSEE_CODE.match(v):
            raise ValueError("code INSEE invalide : 5 caractères (chiffres, ou 2A/2B pour la Corse)")
        return v


class OperationIn(StrictIn):
    kind: OperationKind = Field(description="surveillance, controlled_delivery, arrest ou search")
    title: SanitizedLabel | None = Field(default=None, description="Intitulé (jamais montré aux autres services)")
    unit: ShortText = Field(description="Unité qui conduit l'opération")
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    place: OperationPlaceIn
    targets: list[Annotated[str, StringConstraints(max_length=400)]] = Field(
        default_factory=list, max_length=50,
        description="Cibles « type:clé » : vehicle:AB-123-CD, phone:+336…, person:<pseudonyme>, "
                    "location:<clé>, deal_point:<clé>")
    tell_lead_author: bool = Field(
        default=False, description="Inviter l'auteur d'une piste qui touche l'opération à contacter "
                                   "votre service (rien d'autre ne lui est dit) ; seulement pour les "
                                   "natures et services que les règles de déconfliction admettent")


class OperationRegistered(BaseModel):
    operation: OperationRecord
    alerts: list[DeconflictionAlertView] = Field(description="Conflits ouverts par cette déclaration")


class AcknowledgeIn(StrictIn):
    note: Annotated[str, StringConstraints(max_length=2000)] = Field(
        default="", description="Ce qui a été convenu avec l'autre service")


class AcknowledgeOut(BaseModel):
    alert: DeconflictionAlertView
    changed: bool = Field(description="Faux si votre service avait déjà acquitté")


@router.post(
    "/operations", response_model=OperationRegistered, status_code=status.HTTP_201_CREATED,
    summary="Déclarer une opération",
    description=(
        "Déclare une opération prévue de votre service (surveillance, livraison surveillée, "
        "interpellation, perquisition) avec ses cibles, son lieu et son créneau. Toute opération "
        "active d'un autre service dont le créneau chevauche le vôtre et qui partage une cible ou "
        "un lieu ouvre une alerte de déconfliction pour les deux services, avant que quiconque "
        "n'agisse ; elle reste ouverte jusqu'à l'acquittement de chacun. Ensuite, toute nouvelle "
        "piste d'un autre service qui touche une cible, ou tombe dans le lieu pendant le créneau, "
        "alerte votre service seul (`GET /deconfliction/lead-alerts`) ; son auteur n'en sait rien, "
        "sauf `tell_lead_author` : il est alors seulement invité à contacter votre service."),
)
async def register_operation(request: Request, body: OperationIn, graph: GraphDep,
                             audit: AuditDep, access: AccessDep,
                             caller: Worker, rulebook: RulebookDep) -> OperationRegistered:
    rules = rulebook.deconfliction
    now = _now()
    check_window(body.starts_at, body.ends_at, now, rules)
    check_tell_author(body.kind, caller.agency, body.tell_lead_author, rules)
    targets = normalize_targets(body.targets)
    p = body.place
    op = OperationRecord(
        operation_id=graph_workflow.new_operation_id(), agency=caller.agency, kind=body.kind,
        title=body.title, unit=body.unit, starts_at=body.starts_at.astimezone(UTC),
        ends_at=body.ends_at.astimezone(UTC),
        place=OperationPlace(insee_code=p.insee_code, commune=p.commune, location_key=p.location_key,
                             lat=p.point.lat if p.point else None, lon=p.point.lon if p.point else None,
                             radius_m=p.radius_m),
        targets=targets, created_at=now, created_by=caller.user_id, created_by_name=caller.name,
        tell_lead_author=body.tell_lead_author)
    client = auditing.client_of(request)

    def log(operation: OperationRecord, alerts: list) -> None:
        events = [auditing.operation_registered(client, caller, operation)]
        if alerts:
            events.append(auditing.clashes_found(client, caller, operation, alerts))
        for event in events:
            audit.append(event)

    operation, alerts = await run_in_threadpool(
        graph_workflow.register_operation, graph, op, rules, before_commit=log)
    views = []
    if alerts:
        mine = await run_in_threadpool(graph_workflow.deconfliction_alerts_for, graph,
                                       caller.agency, policy=rulebook.policy, open_only=True,
                                       contacts=access.contacts)
        ids = {a.alert_id for a in alerts}
        views = [v for v in mine if v.alert_id in ids]
    return OperationRegistered(operation=operation, alerts=views)


@router.get(
    "/operations", response_model=list[OperationRecord], summary="Opérations de mon service",
    description="Les opérations déclarées par votre service (en cours ou à venir ; passées aussi "
                "avec `include_past=true`). Consultation justifiée (les cibles sont des données "
                "personnelles).",
)
async def list_operations(
    request: Request, graph: GraphDep, audit: AuditDep, caller: Worker,
    reason: JustificationDep,
    include_past: Annotated[bool, Query(description="Inclure les opérations terminées")] = False,
) -> list[OperationRecord]:
    ops = await run_in_threadpool(graph_workflow.list_operations, graph, caller.agency, now=_now(),
                                  include_past=include_past)
    await auditing.log_consultation(
        request, audit, caller, outcome="full", rule_id=auditing.RULE_OPERATION, justification=reason,
        entity_keys=sorted({f"operation:{o.operation_id}" for o in ops} | {t for o in ops for t in o.targets}),
        details={"step": "operations", "count": len(ops)})
    return ops


@router.get(
    "/deconfliction/alerts", response_model=list[DeconflictionAlertView],
    summary="Alertes de déconfliction de mon service",
    description=(
        "Conflits entre une opération de votre service et celle d'un autre : motifs (créneau, "
        "cible commune, lieu), créneau et nature de l'autre opération, service à contacter, "
        "acquittements. `open=true` (défaut) : seulement celles qui attendent encore un "
        "acquittement. Consultation justifiée."),
)
async def list_deconfliction_alerts(
    request: Request, graph: GraphDep, audit: AuditDep, access: AccessDep,
    caller: Worker, rulebook: RulebookDep, reason: JustificationDep,
    open: Annotated[bool, Query(description="Seulement les alertes ouvertes")] = True,
) -> list[DeconflictionAlertView]:
    views = await run_in_threadpool(graph_workflow.deconfliction_alerts_for, graph,
                                    caller.agency, policy=rulebook.policy, open_only=open,
                                    contacts=access.contacts)
    await auditing.log_consultation(
        request, audit, caller, outcome="full", rule_id=auditing.RULE_DECONFLICTION, justification=reason,
        entity_keys=sorted({f"deconfliction:{v.alert_id}" for v in views}
                           | {t for v in views for t in v.shared_targets}),
        details={"step": "deconfliction_alerts", "count": len(views)})
    return views


@router.post(
    "/deconfliction/alerts/{alert_id}/acknowledge", response_model=AcknowledgeOut,
    summary="Acquitter une alerte de déconfliction",
    description="Votre service a pris connaissance du conflit (et s'est coordonné avec l'autre). "
                "L'alerte se ferme quand chaque service l'a acquittée. Un second acquittement du "
                "même service ne change rien.",
)
async def acknowledge(request: Request, body: AcknowledgeIn, graph: GraphDep,
                      audit: AuditDep, access: AccessDep, caller: Worker, rulebook: RulebookDep,
                      alert_id: Annotated[str, Path(min_length=3, max_length=80)]) -> AcknowledgeOut:
    client = auditing.client_of(request)

    def log(alert, _changed: bool) -> None:
        audit.append(auditing.alert_acknowledged(client, caller, alert))

    view, changed = await run_in_threadpool(
        lambda: graph_workflow.acknowledge_alert(
            graph, alert_id, policy=rulebook.policy, agency=caller.agency, user_id=caller.user_id,
            user_name=caller.name, note=body.note, now=_now(), contacts=access.contacts,
            before_commit=log))
    return AcknowledgeOut(alert=view, changed=changed)
