"""Network reads around an entity (``/api/v1/entities/{kind}/{key}/network``), for link charts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool

from graph import read as graph_read
from graph.federation import reads as fed_reads
from graph.labels import EntityKind, Rel
from graph.models import Network
from hub.audit.events import log_consultation
from hub.federation import notes as fed_notes
from hub.deps import (
    AccessDep,
    AuditDep,
    CallerDep,
    GraphDep,
    JustificationDep,
    RulebookDep,
    SettingsDep,
    require_justification,
)

router = APIRouter(prefix="/api/v1/entities", tags=["entités"])


@router.get(
    "/{kind}/{key}/network",
    response_model=Network,
    summary="Réseau d'une entité",
    description=(
        "Pistes et entités liées à une entité (véhicule, personne pseudonymisée, téléphone, lieu, "
        "point de deal...), jusqu'à `depth` sauts de piste, sous forme de nœuds et d'arêtes prêts "
        "à dessiner. Les pistes non consultables apparaissent en « hits » par service."
    ),
)
async def entity_network(
    request: Request,
    kind: EntityKind,
    key: Annotated[str, Path(min_length=1, max_length=200)],
    graph: GraphDep, settings: SettingsDep, access: AccessDep, caller: CallerDep, audit: AuditDep,
    justification: JustificationDep, rulebook: RulebookDep,
    depth: Annotated[int, Query(ge=1, le=3, description="Sauts de piste (1 à 3)")] = 1,
    rel: Annotated[list[Rel] | None, Query(
        description="Types de liens suivis et montrés (répétable), p. ex. rel=INVOLVES&rel=MENTIONS_PHONE ; "
                    "tous par défaut")] = None,
) -> Network:
    reason = require_justification(justification)
    normalized = graph_read.normalize_entity_key(kind, key)
    net = await run_in_threadpool(
        graph_read.network, graph, kind, normalized, depth, access,
        max_nodes=settings.max_network_nodes, rel_types=rel,
    )
    if kind.value in fed_reads.ENTITY_KIND:  # plates and phones federate (issue 16)
        tickets = await run_in_threadpool(fed_reads.entity_tickets, graph,
                                          fed_reads.ENTITY_KIND[kind.value], normalized, access)
        net.federation = fed_notes.entity_notes(tickets, rulebook.federation, datetime.now(UTC))
    leads = [n for n in net.nodes if n.kind == "lead"]
    redacted = any(n.properties.get("access") != "full" for n in leads)
    await log_consultation(
        request, audit, caller, justification=reason, rule_id=access.policy_id,
        outcome="redacted" if redacted else ("full" if leads else ("hit" if net.hits else "none")),
        lead_ids=[n.key for n in leads], entity_keys=[n.id for n in net.nodes if n.kind != "lead"]
        + [f"federation-ticket:{n.ticket_id}" for n in net.federation],
        details={"depth": depth, "hits": sum(h.lead_count for h in net.hits)},
    )
    return net
