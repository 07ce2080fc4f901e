"""Exports of an entity's network (``/api/v1/entities/{kind}/{key}/export``) for the tools
analysts already use: CSV, GraphML, i2 ANX, FollowTheMoney.

The network is read through the caller's ``AccessFilter`` exactly as on screen
(``graph.read.network``), then serialized (hub/exports/): an export never holds more than the
caller may read. It is a disclosure — the data leave the hub in a file — so it needs a
justification and is audited as such, with the caller as recipient, before it is returned.
Exporting is an action of its own (``exports.network`` in roles.yaml) and, where
policies/data/second_factor.yaml says so, needs a fresh second factor (hub.deps.requires).
Each copy is watermarked for the caller (hub/watermark, ADR 0026): the mark is issued before
serializing, and its token is recorded in the disclosure's entry (entity key
``watermark:<short code>``) — the register ``crosshub trace`` reads.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from graph import read as graph_read
from graph.identity import Principal
from graph.labels import EntityKind
from hub.audit.events import log_disclosure
from hub.deps import (
    AccessDep,
    AuditDep,
    GraphDep,
    JustificationDep,
    SettingsDep,
    require_justification,
    requires,
)
from hub.exports import ExportFormat, export, handling_code
from hub.watermark import issue_for
from policies.permissions import Action

router = APIRouter(prefix="/api/v1/entities", tags=["entités"])


@router.get(
    "/{kind}/{key}/export",
    summary="Exporter le réseau d'une entité",
    description=(
        "Le réseau d'une entité (comme `/network`), dans un format d'outil d'analyse : `csv` (zip "
        "nodes.csv, edges.csv, hits.csv), `graphml` (Gephi, yEd), `anx` (i2 Analyst's Notebook), "
        "`ftm` (FollowTheMoney, JSON par ligne). Ne contient que ce que l'appelant peut consulter. "
        "Communication justifiée et journalisée (art. 25)."
    ),
    response_class=Response,
)
async def export_network(
    request: Request,
    kind: EntityKind,
    key: Annotated[str, Path(min_length=1, max_length=200)],
    caller: Annotated[Principal, requires(Action.EXPORT_NETWORK)],
    graph: GraphDep, settings: SettingsDep, access: AccessDep, audit: AuditDep,
    justification: JustificationDep,
    format: Annotated[ExportFormat, Query(description="csv, graphml, anx ou ftm")] = ExportFormat.CSV,
    depth: Annotated[int, Query(ge=1, le=3, description="Sauts de piste (1 à 3)")] = 1,
) -> Response:
    reason = require_justification(justification)
    normalized = graph_read.normalize_entity_key(kind, key)
    net = await run_in_threadpool(
        graph_read.network, graph, kind, normalized, depth, access,
        max_nodes=settings.max_network_nodes,
    )
    code = handling_code(net)
    mark = issue_for(settings.keys_dir, caller, document=f"export.{format.value}", justification=reason,
                     handling_code=code)
    file = await run_in_threadpool(export, net, format, mark)
    leads = [n for n in net.nodes if n.kind == "lead"]
    redacted = any(n.properties.get("access") != "full" for n in leads)
    await log_disclosure(
        request, audit, caller, justification=reason, rule_id=access.policy_id,
        outcome="redacted" if redacted else ("full" if leads else ("hit" if net.hits else "none")),
        lead_ids=[n.key for n in leads],
        entity_keys=[mark.entity_key] + [n.id for n in net.nodes if n.kind != "lead"],
        recipients=[caller.user_id],
        details={"format": format.value, "depth": depth, "hits": sum(h.lead_count for h in net.hits),
                 "truncated": net.truncated, "handling_code": code, **mark.audit_details()},
    )
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in normalized)[:60]
    return Response(content=file.content, media_type=file.media_type, headers={
        "Content-Disposition": f'attachment; filename="reseau-{kind.value}-{safe}.{file.extension}"',
        "Cache-Control": "no-store", "X-Handling-Code": code, "X-Watermark-Code": mark.code})
