"""Connector run records: pushed by connectors, read by administrators. And the citizen receipt's
status: a citizen connector asks, signed, for the published coarse status of its own leads
(policies/receipts.py decides; the hub holds the jitter key, hub/receipts.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from graph import identity
from graph.workflow.receipts import receipt_facts
from hub.audit.events import log_consultation
from hub.contract.errors import Forbidden, InvalidInput
from hub.contract.receipts import (
    ReceiptStatus,
    ReceiptStatusAnswer,
    ReceiptStatusItem,
    ReceiptStatusRequest,
)
from hub.contract.runs import RunRecord
from hub.deps import (
    AuditDep,
    CallerDep,
    ClockDep,
    GraphDep,
    RulebookDep,
    SettingsDep,
    read_body,
    requires,
    verified_connector,
)
from hub.receipts import jitter_key_for
from policies import receipts as receipt_policy
from policies.permissions import Action

router = APIRouter(prefix="/api/v1/connectors", tags=["connecteurs"])

ConnectorName = Annotated[str, Path(pattern=r"^[a-z0-9_\-]{1,40}$")]
RULE_RECEIPTS = "receipt-own-citizen-leads"


@router.post("/{name}/runs", status_code=204, summary="Déclarer une exécution de connecteur")
async def report_run(name: ConnectorName, request: Request,
                     graph: GraphDep, settings: SettingsDep,
                     caller: CallerDep) -> None:
    body = await read_body(request, 1024 * 1024)
    connector = await verified_connector(request, body, caller, graph, settings)
    if connector.connector != name:
        raise Forbidden(f"la clé de signature appartient au connecteur « {connector.connector} »")
    report = RunRecord.model_validate_json(body)
    if report.connector != name or report.agency.value != connector.agency:
        raise Forbidden("le relevé d'exécution ne correspond pas au connecteur signataire")
    await run_in_threadpool(identity.record_connector_run, graph, name, connector.agency,
                            report.model_dump(mode="json"))


class ConnectorRuns(BaseModel):
    connector: str
    runs: list[RunRecord]


@router.get("", summary="Dernières exécutions des connecteurs", response_model=list[ConnectorRuns],
            dependencies=[requires(Action.MANAGE_CONNECTORS)])
async def list_runs(graph: GraphDep) -> list[ConnectorRuns]:
    rows = await run_in_threadpool(identity.connector_runs, graph)
    return [ConnectorRuns.model_validate(row) for row in rows]


@router.post(
    "/{name}/receipts", response_model=ReceiptStatusAnswer,
    summary="Statut publié des récépissés citoyens (connecteur)",
    description=(
        "Pour chaque référence source demandée, le statut que le récépissé du citoyen peut "
        "afficher : `recue`, `exploitee` ou `close` — jamais l'action ni une date. Un changement "
        "n'est publié qu'après un délai et une gigue fixés dans les règles (receipts.yaml), la "
        "gigue tirée par piste d'un hachage à clé que seul le hub détient. Signé comme les autres "
        "appels du connecteur ; seules les pistes de la plateforme citoyenne versées par ce "
        "connecteur, de son service, répondent : toute autre référence répond `null`, comme une "
        "référence inconnue."),
)
async def receipt_statuses(name: ConnectorName, request: Request, graph: GraphDep,
                           settings: SettingsDep, caller: CallerDep, audit: AuditDep,
                           rulebook: RulebookDep, now: ClockDep) -> ReceiptStatusAnswer:
    body = await read_body(request, settings.max_people_body_bytes)  # as hub/limits.py bounds it
    connector = await verified_connector(request, body, caller, graph, settings)
    if connector.connector != name:
        raise Forbidden(f"la clé de signature appartient au connecteur « {connector.connector} »")
    asked = ReceiptStatusRequest.model_validate_json(body)
    refs = list(dict.fromkeys(asked.source_refs))
    if len(refs) != len(asked.source_refs):
        raise InvalidInput("références en double", details=[
            {"field": "source_refs", "reason": "chaque référence une seule fois"}])
    facts = await run_in_threadpool(receipt_facts, graph, agency=connector.agency,
                                    connector=connector.connector, source_refs=refs)
    key = jitter_key_for(settings.keys_dir)

    def published(ref: str) -> ReceiptStatus | None:
        found = facts.get(ref)
        if found is None:  # not this connector's: answered like a reference that exists nowhere
            return None
        return receipt_policy.published_status(rulebook.receipts, found.history,
                                               key.draw(found.lead_id), now=now)

    statuses = [ReceiptStatusItem(source_ref=ref, status=published(ref)) for ref in refs]
    # Logged before answering, as a consultation of no personal data (a coarse status of the
    # connector's own leads); only the leads that answered are named.
    await log_consultation(request, audit, caller, outcome="redacted", rule_id=RULE_RECEIPTS,
                           justification=None, personal_data=False,
                           lead_ids=sorted(f.lead_id for f in facts.values()),
                           details={"connector": connector.connector, "asked": len(refs)})
    return ReceiptStatusAnswer(statuses=statuses)
