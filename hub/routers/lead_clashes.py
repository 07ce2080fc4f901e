"""Lead-vs-operation deconfliction API (ADR 0017): the alerts a new lead of another agency
opened on the caller's agency's operations, and their acknowledgement by the owner.

Included in the workflow router (hub/routers/workflow.py, same prefix and tag), beside the
operation-vs-operation alerts. The rule is ``policies.lead_clash``'s; the reads (each lead shown
through the caller's access filter at the moment of reading) are graph/workflow/lead_clashes.py's.
Only the owner agency has these alerts: the lead's author reads nothing here, and an alert whose
lead the caller may not even know of answers as an unknown one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field, StringConstraints

from graph import workflow as graph_workflow
from graph.identity import Principal
from graph.workflow import LeadClashAlertView
from hub.audit import events as auditing
from hub.deps import AccessDep, AuditDep, GraphDep, JustificationDep, RulebookDep, requires
from hub.routers.inputs import StrictIn
from policies.permissions import Action

router = APIRouter()

Worker = Annotated[Principal, requires(Action.WORK_LEADS)]


class LeadClashAckIn(StrictIn):
    note: Annotated[str, StringConstraints(max_length=2000)] = Field(
        default="", description="Ce qui a été fait (appel au service de la piste, opération adaptée…)")


class LeadClashAckOut(BaseModel):
    alert: LeadClashAlertView
    changed: bool = Field(description="Faux si votre service avait déjà acquitté")


@router.get(
    "/deconfliction/lead-alerts", response_model=list[LeadClashAlertView],
    summary="Pistes d'autres services qui touchent mes opérations",
    description=(
        "Une nouvelle piste d'un autre service qui touche une cible d'une opération en cours ou à "
        "venir de votre service, ou tombe dans sa zone pendant son créneau (marge comprise), "
        "ouvre une alerte pour votre service seul, jusqu'à son acquittement. La piste est montrée "
        "selon vos droits au moment de la lecture : identifiant et nature si vous pouvez la "
        "consulter, sinon seulement le service qui la détient et qui contacter (« hit »). "
        "L'auteur de la piste n'en sait rien, sauf si l'opération l'a prévu : il est alors "
        "seulement invité à contacter votre service. Consultation justifiée."),
)
async def list_lead_clash_alerts(
    request: Request, graph: GraphDep, audit: AuditDep, access: AccessDep,
    caller: Worker, rulebook: RulebookDep, reason: JustificationDep,
    open: Annotated[bool, Query(description="Seulement les alertes ouvertes")] = True,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> list[LeadClashAlertView]:
    views = await run_in_threadpool(graph_workflow.lead_clash_alerts_for, graph, caller.agency, access,
                                    policy=rulebook.policy, open_only=open, limit=limit)
    levels = {v.lead.access for v in views}
    await auditing.log_consultation(
        request, audit, caller, outcome="full" if levels <= {"full"} else ("redacted" if "redacted" in levels else "hit"),
        rule_id=auditing.RULE_LEAD_CLASH, justification=reason,
        lead_ids=sorted({v.lead.lead_id for v in views if v.lead.lead_id}),
        entity_keys=sorted({f"deconfliction:{v.alert_id}" for v in views}
                           | {t for v in views for t in v.shared_targets}),
        details={"step": "lead_clash_alerts", "count": len(views)})
    return views


@router.post(
    "/deconfliction/lead-alerts/{alert_id}/acknowledge", response_model=LeadClashAckOut,
    summary="Acquitter une alerte piste contre opération",
    description="Votre service a pris connaissance de la piste qui touche son opération ; l'alerte "
                "se ferme. Un second acquittement ne change rien. Une alerte d'un autre service, ou "
                "dont vous ne pouvez pas connaître la piste, répond comme une alerte inconnue (404).",
)
async def acknowledge_lead_clash(
    request: Request, body: LeadClashAckIn, graph: GraphDep, audit: AuditDep, access: AccessDep,
    caller: Worker, rulebook: RulebookDep,
    alert_id: Annotated[str, Path(min_length=3, max_length=80)],
) -> LeadClashAckOut:
    client = auditing.client_of(request)

    def log(alert) -> None:
        audit.append(auditing.lead_clash_acknowledged(client, caller, alert))

    view, changed = await run_in_threadpool(
        lambda: graph_workflow.acknowledge_lead_clash(
            graph, alert_id, access=access, policy=rulebook.policy, agency=caller.agency,
            user_id=caller.user_id, user_name=caller.name, note=body.note, now=datetime.now(UTC),
            before_commit=log))
    return LeadClashAckOut(alert=view, changed=changed)
