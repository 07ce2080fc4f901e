"""Linked-lead analysis over HTTP: search, shortest paths, co-presence, hotspots, an entity's
timeline, central actors (graph/analysis/).

Every endpoint but hotspots consults personal data (plates, phones, pseudonyms, places tied to
leads): it requires ``justification`` and is audited as a consultation naming what was looked
for and what came back, even when nothing did — learning that nothing is known is a consultation
too. Hotspots are not: they return counts per commune and per place, computed from the leads
the caller may read, with no lead, person, vehicle or phone; places with a single lead are left
out (graph/analysis/hotspots.py), so an address tied to one lead is only reachable through a
justified, audited read. They are meant for the weekly meeting's dashboard.

Answers that place things carry coordinates where the graph has a point: hotspots (each entry's
point and, for a commune, the centres of its recent and previous leads: the movement),
co-presence (the disc, the examined places), and the map (GeoJSON: communes, leads, deal points,
the caller's agency's active operations — a justified, audited consultation). ``map-config``
tells the map page its basemap (``CROSSHUB_MAP_STYLE_URL``), or that it has none.

Bounds are the constants of ``graph.analysis.models``: beyond them, 422 naming the field.
Connectors, auditors and administrators have no business reading leads: analysts, the CROSS
chief and guest referents only (what each sees is still the policy's call).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from graph import analysis
from graph.access import AccessFilter
from graph.analysis.models import (
    MAX_ACTORS,
    MAX_DEPTH,
    MAX_GAP_HOURS,
    MAX_HOPS,
    MAX_HOTSPOTS,
    MAX_MAP_LEADS,
    MAX_PAIRS,
    MAX_PATHS,
    MAX_RADIUS_M,
    MAX_SEARCH_RESULTS,
    MAX_SPAN_DAYS,
    MAX_TIMELINE,
    MAX_WINDOW_MIN,
    PATH_RELS,
    CentralityResult,
    CentralParams,
    CopresenceParams,
    CopresenceResult,
    FuzzyMode,
    HotspotParams,
    HotspotsResult,
    MapParams,
    MapResult,
    PathParams,
    PathsResult,
    SearchKind,
    SearchParams,
    SearchResult,
    Timeline,
    TimelineParams,
)
from graph.identity import Principal
from graph.labels import EntityKind, Rel
from graph.models import Hit, NetworkNode
from hub.audit import AuditTrail
from hub.audit.events import log_consultation
from hub.deps import (
    AccessDep,
    AuditDep,
    GraphDep,
    JustificationDep,
    RulebookDep,
    SettingsDep,
    require_justification,
    requires,
)
from policies.permissions import Action, permission

router = APIRouter(tags=["analyse"])

Reader = Annotated[Principal, requires(Action.RUN_ANALYSES)]


async def _audit(request: Request, audit: AuditTrail, caller: Principal, access: AccessFilter,
                 reason: str, *, subject: list[str], entities: list[str],
                 leads: list[NetworkNode] | None = None,
                 lead_ids: list[str] | None = None, hits: list[Hit],
                 details: dict[str, int | str]) -> None:
    """One consultation entry: what was looked for (``subject``, so an empty answer is logged
    too) and the leads and entities returned, graded like a read: redacted when a returned lead
    had properties withheld, full when anything was returned, else hit or none."""
    leads = leads or []
    ids = [n.key for n in leads] + (lead_ids or [])
    if any(n.properties.get("access") != "full" for n in leads):
        outcome = "redacted"
    elif ids or entities:
        outcome = "full"
    else:
        outcome = "hit" if hits else "none"
    await log_consultation(
        request, audit, caller, justification=reason, outcome=outcome, rule_id=access.policy_id,
        lead_ids=list(dict.fromkeys(ids)), entity_keys=list(dict.fromkeys(subject + entities)),
        details={**details, "hits": sum(h.lead_count for h in hits)},
    )


# --- search --------------------------------------------------------------------------------------


@router.get(
    "/api/v1/search", response_model=SearchResult, summary="Recherche",
    description=(
        "Recherche une immatriculation (`kind=plate` : exacte, partielle, ou approchée avec "
        "`fuzzy=confusable|any` — caractères confondus à la lecture ou à la dictée, voir "
        "`graph/analysis/plates.py`), un téléphone (`phone` : exact ou fragment), un lieu "
        "(`place` : commune, adresse, lieu-dit, point de deal, code INSEE) ou un texte dans les "
        "récits assainis (`text` : tous les mots, \"expression exacte\", préfixe*). Seules les "
        "pistes consultables comptent ; les autres n'apparaissent qu'en « hits » par service, "
        f"et jamais pour la recherche plein texte. Au plus {MAX_SEARCH_RESULTS} résultats."),
)
async def search(
    request: Request, graph: GraphDep, access: AccessDep,
    caller: Reader, audit: AuditDep,
    q: Annotated[str, Query(min_length=1, max_length=200, description="Texte recherché")],
    kind: Annotated[SearchKind, Query(description="plate, phone, place ou text")],
    justification: JustificationDep,
    fuzzy: Annotated[FuzzyMode, Query(description="Immatriculations approchées : off, confusable, any")] = FuzzyMode.OFF,
    limit: Annotated[int, Query(ge=1, le=MAX_SEARCH_RESULTS, description="Nombre de résultats")] = 20,
) -> SearchResult:
    reason = require_justification(justification)
    params = SearchParams(q=q, kind=kind, fuzzy=fuzzy, limit=limit)
    result = await run_in_threadpool(analysis.search, graph, access, params)
    await _audit(request, audit, caller, access, reason,
                 leads=[m.lead for m in result.leads],
                 subject=[f"search:{kind.value}:{q.strip()}"[:300]],
                 entities=[m.node.id for m in result.entities],
                 hits=[h for m in result.entities for h in m.hits],
                 details={"analysis": "search", "kind": kind.value, "fuzzy": fuzzy.value})
    return result


# --- paths ---------------------------------------------------------------------------------------


@router.get(
    "/api/v1/analysis/paths", response_model=PathsResult, summary="Plus courts chemins entre deux entités",
    description=(
        "Chemins les plus courts entre deux entités (véhicule, personne pseudonymisée, téléphone, "
        "lieu, point de deal), un saut étant une piste qui cite deux entités. Avec "
        "`time_ordered=true`, chaque piste est postérieure ou égale à la précédente ; avec "
        "`max_gap_hours`, deux pistes consécutives sont au plus à cet écart. `rel` restreint les "
        "liens suivis (répétable). Seules les pistes consultables sont traversées. Bornes : "
        f"`max_hops` ≤ {MAX_HOPS}, `limit` ≤ {MAX_PATHS}."),
)
async def paths(
    request: Request, graph: GraphDep, access: AccessDep,
    caller: Reader, audit: AuditDep,
    from_kind: Annotated[EntityKind, Query(description="Type de l'entité de départ")],
    from_key: Annotated[str, Query(min_length=1, max_length=200, description="Clé de départ")],
    to_kind: Annotated[EntityKind, Query(description="Type de l'entité d'arrivée")],
    to_key: Annotated[str, Query(min_length=1, max_length=200, description="Clé d'arrivée")],
    justification: JustificationDep,
    max_hops: Annotated[int, Query(ge=1, le=MAX_HOPS, description="Pistes au plus le long du chemin")] = 4,
    time_ordered: Annotated[bool, Query(description="Respecter l'ordre chronologique des pistes")] = False,
    max_gap_hours: Annotated[float | None, Query(
        gt=0, le=MAX_GAP_HOURS, description="Écart maximal entre deux pistes consécutives (heures)")] = None,
    rel: Annotated[list[Rel] | None, Query(
        description="Liens suivis : " + ", ".join(r.value for r in PATH_RELS))] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PATHS, description="Chemins rendus")] = 3,
) -> PathsResult:
    reason = require_justification(justification)
    params = PathParams(from_kind=from_kind, from_key=from_key, to_kind=to_kind, to_key=to_key,
                        max_hops=max_hops, time_ordered=time_ordered, max_gap_hours=max_gap_hours,
                        rel_types=tuple(rel) if rel else PATH_RELS, limit=limit)
    result = await run_in_threadpool(analysis.shortest_paths, graph, access, params)
    nodes = [n for p in result.paths for n in p.nodes]
    await _audit(request, audit, caller, access, reason,
                 leads=[n for n in nodes if n.kind == "lead"],
                 subject=[result.source, result.target],
                 entities=[n.id for n in nodes if n.kind != "lead"],
                 hits=result.hits, details={"analysis": "paths", "max_hops": max_hops,
                                   "time_ordered": str(time_ordered), "paths": len(result.paths)})
    return result


# --- co-presence ---------------------------------------------------------------------------------


@router.get(
    "/api/v1/analysis/copresence", response_model=CopresenceResult, summary="Co-présence en un lieu",
    description=(
        "Véhicules, téléphones et personnes pseudonymisées cités par des pistes distinctes au même "
        "lieu à moins de `window_min` minutes d'écart, entre `since` et `until` (heure de Paris si "
        "aucun fuseau n'est donné). Lieu : une commune (`insee`, paires par lieu précis), un lieu "
        "(`location_key`) ou un cercle (`lat`, `lon`, `radius_m`). Avec `fuzzy_plates`, deux "
        "immatriculations à une confusion près sont signalées comme un même véhicule probable. "
        f"Bornes : période ≤ {MAX_SPAN_DAYS} jours, fenêtre ≤ {MAX_WINDOW_MIN} min, rayon ≤ "
        f"{MAX_RADIUS_M:g} m, au plus {MAX_PAIRS} paires."),
)
async def copresence(
    request: Request, graph: GraphDep, access: AccessDep,
    caller: Reader, audit: AuditDep,
    since: Annotated[datetime, Query(description="Début de la période")],
    until: Annotated[datetime, Query(description="Fin de la période (exclue)")],
    justification: JustificationDep,
    insee: Annotated[str | None, Query(description="Code INSEE de la commune")] = None,
    location_key: Annotated[str | None, Query(max_length=300, description="Clé d'un lieu")] = None,
    lat: Annotated[float | None, Query(ge=-90, le=90, description="Latitude du centre")] = None,
    lon: Annotated[float | None, Query(ge=-180, le=180, description="Longitude du centre")] = None,
    radius_m: Annotated[float | None, Query(gt=0, le=MAX_RADIUS_M, description="Rayon (mètres)")] = None,
    window_min: Annotated[int, Query(ge=1, le=MAX_WINDOW_MIN, description="Fenêtre (minutes)")] = 30,
    fuzzy_plates: Annotated[bool, Query(description="Rapprocher les immatriculations mal lues")] = True,
    limit: Annotated[int, Query(ge=1, le=MAX_PAIRS, description="Paires rendues")] = 100,
) -> CopresenceResult:
    reason = require_justification(justification)
    params = CopresenceParams(insee=insee, location_key=location_key, lat=lat, lon=lon,
                              radius_m=radius_m, since=since, until=until, window_min=window_min,
                              fuzzy_plates=fuzzy_plates, limit=limit)
    result = await run_in_threadpool(analysis.copresence, graph, access, params)
    lead_ids = {lid for p in result.pairs for e in p.evidence for lid in (e.lead_a, e.lead_b)}
    await _audit(request, audit, caller, access, reason,
                 lead_ids=sorted(lead_ids),
                 subject=[f"place:{result.place}"[:300]],
                 entities=[n.id for p in result.pairs for n in (p.a, p.b)],
                 hits=result.hits, details={"analysis": "copresence", "window_min": window_min,
                                            "pairs": len(result.pairs)})
    return result


# --- hotspots ------------------------------------------------------------------------------------


@router.get(
    "/api/v1/analysis/hotspots", response_model=HotspotsResult, summary="Points chauds",
    description=(
        "Lieux et communes classés par nombre de pistes récentes (les `days` derniers jours), avec "
        "la tendance par rapport aux `compare_days` jours précédents (même durée par défaut), "
        "rythmes quotidiens comparés. Décomptes seuls, calculés sur les pistes consultables ; un "
        "lieu n'apparaît qu'à partir de deux pistes. Sans justification : aucune donnée "
        f"personnelle n'est rendue. Bornes : périodes ≤ {MAX_SPAN_DAYS} jours, au plus "
        f"{MAX_HOTSPOTS} lieux et communes."),
)
async def hotspots(
    graph: GraphDep, settings: SettingsDep, access: AccessDep, caller: Reader,
    departement: Annotated[str | None, Query(
        description="Département (par défaut celui de la CROSS ; « tous » pour la France entière)")] = None,
    days: Annotated[int, Query(ge=1, le=MAX_SPAN_DAYS, description="Période récente (jours)")] = 30,
    compare_days: Annotated[int | None, Query(
        ge=1, le=MAX_SPAN_DAYS, description="Période de comparaison (jours)")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_HOTSPOTS, description="Lieux et communes rendus")] = 20,
    as_of: Annotated[datetime | None, Query(
        description="Fin de la période récente (par défaut maintenant ; heure de Paris sans fuseau)")] = None,
) -> HotspotsResult:
    dep = None if departement == "tous" else (departement or settings.cross_departement)
    params = HotspotParams(departement=dep, days=days, compare_days=compare_days, limit=limit,
                           now=as_of)
    return await run_in_threadpool(analysis.hotspots, graph, access, params)


# --- map ----------------------------------------------------------------------------------------


class MapConfig(BaseModel):
    tiles_url: str | None = Field(description=(
        "Modèle d'URL de tuiles raster XYZ ({z}/{x}/{y}) du fond de carte ; nul : aucun fond, "
        "la carte ne fait aucune requête hors du hub"))
    attribution: str | None = Field(description="Mention exigée par le fournisseur des tuiles")


@router.get(
    "/api/v1/analysis/map-config", response_model=MapConfig, summary="Fond de carte",
    description="Le fond de carte configuré (`CROSSHUB_MAP_STYLE_URL`), ou aucun.")
async def map_config(settings: SettingsDep, caller: Reader) -> MapConfig:
    return MapConfig(tiles_url=settings.map_style_url, attribution=settings.map_attribution)


@router.get(
    "/api/v1/analysis/map", response_model=MapResult, summary="Carte du département",
    description=(
        "Collection GeoJSON (coordonnées [longitude, latitude]) : les communes où vous pouvez "
        "consulter une piste, placées au centre de leurs lieux connus ; les pistes consultables "
        "(au point de leur lieu, sinon au centre de la commune) ; les points de deal qu'elles "
        "citent ; les opérations actives de votre service si vous traitez des pistes. Un lieu, "
        "une commune ou un point de deal que seules des pistes non consultables citent n'y "
        "figure pas. Avec `days`, seules les pistes des `days` derniers jours dont l'heure vous "
        f"est consultable. Consultation justifiée et journalisée. Au plus {MAX_MAP_LEADS} pistes."),
)
async def map_view(
    request: Request, graph: GraphDep, settings: SettingsDep, access: AccessDep,
    caller: Reader, audit: AuditDep, rulebook: RulebookDep, justification: JustificationDep,
    departement: Annotated[str | None, Query(
        description="Département (par défaut celui de la CROSS ; « tous » pour la France entière)")] = None,
    days: Annotated[int | None, Query(ge=1, le=MAX_SPAN_DAYS, description="Période (jours)")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_MAP_LEADS, description="Pistes rendues")] = 500,
) -> MapResult:
    reason = require_justification(justification)
    dep = None if departement == "tous" else (departement or settings.cross_departement)
    works = permission(rulebook.policy, caller.role, Action.WORK_LEADS).allowed
    params = MapParams(departement=dep, days=days, limit=limit,
                       operations_of=caller.agency if works else None)
    result = await run_in_threadpool(analysis.map_layers, graph, access, params)
    kinds = [f.properties.kind for f in result.features]
    leads = [f.properties for f in result.features if f.properties.kind == "lead"]
    others = [f.id for f in result.features if f.properties.kind != "lead"]
    outcome = ("redacted" if any(p.status != "full" for p in leads)
               else "full" if leads or others else "none")
    await log_consultation(
        request, audit, caller, justification=reason, outcome=outcome, rule_id=access.policy_id,
        lead_ids=[p.key for p in leads], entity_keys=[f"map:{dep or 'tous'}", *others],
        details={"analysis": "map", **{k: kinds.count(k) for k in sorted(set(kinds))}})
    return result


# --- timeline ------------------------------------------------------------------------------------


@router.get(
    "/api/v1/entities/{kind}/{key}/timeline", response_model=Timeline, summary="Chronologie d'une entité",
    tags=["entités"],
    description=(
        "Les pistes consultables qui citent l'entité (véhicule, personne pseudonymisée, téléphone, "
        "lieu, point de deal, commune), dans l'ordre chronologique, avec son rôle et le lieu. Les "
        "autres pistes n'apparaissent qu'en « hits » par service. Au-delà de `limit` "
        f"(≤ {MAX_TIMELINE}), les plus récentes sont rendues."),
)
async def entity_timeline(
    request: Request, kind: EntityKind, key: Annotated[str, Path(min_length=1, max_length=300)],
    graph: GraphDep, access: AccessDep, caller: Reader, audit: AuditDep,
    justification: JustificationDep,
    since: Annotated[datetime | None, Query(description="Depuis (incluse)")] = None,
    until: Annotated[datetime | None, Query(description="Jusqu'à (exclue)")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_TIMELINE, description="Pistes rendues")] = 200,
) -> Timeline:
    reason = require_justification(justification)
    params = TimelineParams(kind=kind, key=key, since=since, until=until, limit=limit)
    result = await run_in_threadpool(analysis.timeline, graph, access, params)
    await _audit(request, audit, caller, access, reason, leads=[e.lead for e in result.entries],
                 subject=[result.entity.id], entities=[], hits=result.hits,
                 details={"analysis": "timeline", "entries": len(result.entries)})
    return result


# --- central actors ------------------------------------------------------------------------------


@router.get(
    "/api/v1/analysis/central", response_model=CentralityResult, summary="Acteurs centraux d'un voisinage",
    description=(
        "Classe les entités du voisinage d'une entité (`depth` sauts de piste, comme le réseau) "
        "par intermédiarité (part des plus courts chemins qui passent par elles) puis par degré : "
        "les acteurs qui relient le reste. Agences, produits et communes sont écartés du calcul. "
        f"Bornes : `depth` ≤ {MAX_DEPTH}, au plus {MAX_ACTORS} acteurs."),
)
async def central(
    request: Request, graph: GraphDep, settings: SettingsDep, access: AccessDep,
    caller: Reader, audit: AuditDep,
    kind: Annotated[EntityKind, Query(description="Type de l'entité centrale du voisinage")],
    key: Annotated[str, Query(min_length=1, max_length=300, description="Clé de l'entité")],
    justification: JustificationDep,
    depth: Annotated[int, Query(ge=1, le=MAX_DEPTH, description="Sauts de piste (1 à 3)")] = 2,
    limit: Annotated[int, Query(ge=1, le=MAX_ACTORS, description="Acteurs rendus")] = 10,
) -> CentralityResult:
    reason = require_justification(justification)
    params = CentralParams(kind=kind, key=key, depth=depth, limit=limit,
                           max_nodes=settings.max_network_nodes)
    result = await run_in_threadpool(analysis.central_actors, graph, access, params)
    # The whole neighbourhood was read to rank it: the consultation covers what was returned.
    await _audit(request, audit, caller, access, reason,
                 subject=[result.anchor], entities=[a.node.id for a in result.actors],
                 hits=result.hits,
                 details={"analysis": "central", "depth": depth, "nodes": result.node_count})
    return result
