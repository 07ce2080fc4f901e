"""The audit trail, for auditors only: ``GET /api/v1/audit`` with filters, and integrity check."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from graph.leads import lead_aliases
from hub.audit import AuditFilters, TrailEntry, query, verify
from hub.contract.errors import InvalidInput
from hub.contract.lead import Agency
from hub.deps import AuditDep, GraphDep, SettingsDep, requires
from policies.audit import AuditAction, DecisionOutcome
from policies.permissions import Action

router = APIRouter(prefix="/api/v1/audit", tags=["audit"], dependencies=[requires(Action.READ_AUDIT)])


@router.get("", response_model=list[TrailEntry], summary="Consulter le journal d'audit",
            description="Entrées du journal de tous les processus du hub (chacun écrit son "
                        "segment, `segment` ; `seq` numérote dans le segment), les plus récentes "
                        "d'abord, filtrables. Réservé aux auditeurs (art. 25 de la directive (UE) "
                        "2016/680).")
async def list_entries(
    settings: SettingsDep, graph: GraphDep,
    since: datetime | None = None,
    until: datetime | None = None,
    user_id: str | None = None,
    agency: Agency | None = None,
    action: AuditAction | None = None,
    lead_id: str | None = None,
    entity_key: str | None = None,
    outcome: DecisionOutcome | None = None,
    entry: Annotated[list[str] | None, Query(
        description="Entrées exactes, `<segment>:<seq>` (répétable) : les liens du "
                                    "rapport du DPD vers les entrées d'un constat")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[TrailEntry]:
    if entry and len(entry) > 500:
        raise InvalidInput("trop d'entrées demandées (500 au plus)",
                           details=[{"field": "entry", "reason": "500 entrées au plus par recherche"}])
    # A lead migrated to an opaque id (ADR 0007) is found under either id.
    aliases = await run_in_threadpool(lead_aliases, graph, lead_id) if lead_id else []
    filters = AuditFilters(since=since, until=until, user_id=user_id, agency=agency, action=action,
                           lead_id=lead_id, lead_aliases=aliases, entity_key=entity_key,
                           outcome=outcome, entries=entry or [], limit=limit, offset=offset)
    return await run_in_threadpool(
        lambda: query(settings.audit_dir, filters, index_path=settings.audit_index))


class SegmentIntegrity(BaseModel):
    name: str
    ok: bool
    entries: int
    sealed_seq: int
    closed: bool


class IntegrityReport(BaseModel):
    ok: bool
    head_seq: int  # entries checked good, all segments together
    sealed_seq: int  # entries covered by a signed checkpoint, all segments together
    summary: str
    problems: list[str]  # each names its segment and entry, in French
    segments: list[SegmentIntegrity]
    # Each restore recorded in the trail, in French, naming the entries after its backup point
    # that describe rolled-back data (ADR 0027).
    restores: list[str] = []


@router.get("/integrity", response_model=IntegrityReport, summary="Vérifier l'intégrité du journal",
            description="Vérifie chaque segment de chaque processus d'écriture (chaînage, "
                        "empreintes, points de contrôle signés) et les liens entre segments ; "
                        "nomme le segment et l'entrée de chaque anomalie.")
async def integrity(audit: AuditDep, settings: SettingsDep) -> IntegrityReport:
    report = await run_in_threadpool(verify, settings.audit_dir, audit.public_key)
    return IntegrityReport(
        ok=report.ok, head_seq=report.head_seq, sealed_seq=report.sealed_seq,
        summary=report.summary_fr(), problems=[p.message for p in report.problems],
        segments=[SegmentIntegrity(name=s.name, ok=s.ok, entries=s.entries, sealed_seq=s.sealed_seq,
                                   closed=s.closed) for s in report.segments],
        restores=[note.message for note in report.restores])
