"""Connector run records: pushed by connectors, read by administrators."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from graph import identity
from hub.contract.errors import Forbidden
from hub.contract.runs import RunRecord
from hub.deps import (
    CallerDep,
    GraphDep,
    SettingsDep,
    read_body,
    requires,
    verified_connector,
)
from policies.permissions import Action

router = APIRouter(prefix="/api/v1/connectors", tags=["connecteurs"])


@router.post("/{name}/runs", status_code=204, summary="Déclarer une exécution de connecteur")
async def report_run(name: Annotated[str, Path(pattern=r"^[a-z0-9_\-]{1,40}$")], request: Request,
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
