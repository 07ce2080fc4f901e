"""Network reads around an entity (``/api/v1/entities/{kind}/{key}/network``), for link charts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.concurrency import run_in_threadpool

from graph import read as graph_read
from graph.labels import EntityKind
from graph.models import Network
from hub.deps import AccessDep, DriverDep, SettingsDep

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
    kind: EntityKind,
    key: Annotated[str, Path(min_length=1, max_length=200)],
    driver: DriverDep, settings: SettingsDep, access: AccessDep,
    depth: Annotated[int, Query(ge=1, le=3, description="Sauts de piste (1 à 3)")] = 1,
) -> Network:
    normalized = graph_read.normalize_entity_key(kind, key)
    return await run_in_threadpool(
        graph_read.network, driver, settings.neo4j_database, kind, normalized, depth, access,
        max_nodes=settings.max_network_nodes,
    )
