"""The DPD's watch, for auditors (``audit.read``): the weekly report of the trail and a data
subject's access report, as JSON, HTML or PDF — each read logged in the trail, justified,
before the answer (ADR 0030).

An auditor reads the trail, not leads: the subject report names the leads (id, agency, dates)
and who consulted them, never their content, so no access filter applies and no existence
oracle is at stake for this role; every other role gets 403 before anything is read.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from graph.identity import Principal
from hub.audit.events import actor_of, client_of
from hub.deps import (
    AuditDep,
    GraphDep,
    JustificationDep,
    JustificationText,
    RulebookDep,
    SettingsDep,
    requires,
)
from hub.dpd import render
from hub.dpd.events import subject_access_event, weekly_report_event
from hub.dpd.subject import SubjectReport, build_subject
from hub.dpd.weekly import WeeklyReport, build_weekly, file_stem
from policies.permissions import Action

router = APIRouter(prefix="/api/v1/dpd", tags=["dpd"])
Auditor = Annotated[Principal, requires(Action.READ_AUDIT)]


class ReportFormat(StrEnum):
    JSON = "json"
    HTML = "html"
    PDF = "pdf"


FormatQuery = Annotated[ReportFormat, Query(description="json, html ou pdf")]


def _document(fmt: ReportFormat, html: str, stem: str) -> Response:
    headers = {"Cache-Control": "no-store"}
    if fmt is ReportFormat.PDF:
        headers["Content-Disposition"] = f'attachment; filename="{stem}.pdf"'
        return Response(render.render_pdf(html), media_type="application/pdf", headers=headers)
    return Response(html, media_type="text/html; charset=utf-8", headers=headers)


@router.get("/weekly", response_model=WeeklyReport, summary="Rapport hebdomadaire du DPD",
            description="Constats de la semaine sur le journal d'audit (consultations au-dessus des "
                        "pairs, hors heures, motifs réutilisés ou vides de sens, rafales sur une "
                        "entité, communications et exports), chacun avec les liens vers ses entrées "
                        "exactes du journal. Seuils : policies/data/dpd_watch.yaml. Lecture "
                        "journalisée, motif obligatoire. Réservé aux auditeurs.")
async def weekly(request: Request, caller: Auditor, settings: SettingsDep, audit: AuditDep,
                 rulebook: RulebookDep, justification: JustificationDep,
                 week: Annotated[str | None, Query(
                     description="Semaine ISO AAAA-Www (défaut : la dernière semaine complète)",
                     examples=["2026-W49"])] = None,
                 format: FormatQuery = ReportFormat.JSON) -> WeeklyReport | Response:
    report = await run_in_threadpool(build_weekly, settings.audit_dir, settings.audit_index,
                                     rulebook.dpd_watch,
                                     week=week, base_url=settings.hub_public_url)
    await run_in_threadpool(audit.append, weekly_report_event(
        actor=actor_of(caller), origin=client_of(request), week=report.week,
        user_ids=report.user_ids(), findings=len(report.lines), justification=justification,
        document=format.value))
    if format is ReportFormat.JSON:
        return report
    html = render.render_weekly_html(report)
    return await run_in_threadpool(_document, format, html, file_stem(report))


class SubjectRequest(BaseModel):
    kind: Literal["person", "vehicle", "phone"]
    value: str
    justification: JustificationText


@router.post("/subject-access", response_model=SubjectReport,
             summary="Droit d'accès indirect d'une personne",
             description="Pour un pseudonyme, une immatriculation ou un numéro de téléphone (normalisés "
                         "comme à l'ingestion) : les pistes qui le mentionnent et qui les a consultées, "
                         "quand (art. 14 et 17 de la directive (UE) 2016/680, par la CNIL). La valeur "
                         "est dans le corps, jamais dans l'URL. Motif obligatoire, lecture "
                         "journalisée. Réservé aux auditeurs.")
async def subject_access(request: Request, caller: Auditor, body: SubjectRequest, graph: GraphDep,
                         settings: SettingsDep, audit: AuditDep,
                         format: FormatQuery = ReportFormat.JSON) -> SubjectReport | Response:
    report = await run_in_threadpool(build_subject, graph, settings.audit_dir, settings.audit_index,
                                     body.kind, body.value, base_url=settings.hub_public_url)
    await run_in_threadpool(audit.append, subject_access_event(
        actor=actor_of(caller), origin=client_of(request), keys=report.keys,
        lead_ids=[lead.lead_id for lead in report.leads], consultations=len(report.consultations),
        justification=body.justification.strip(), document=format.value))
    if format is ReportFormat.JSON:
        return report
    html = render.render_subject_html(report)
    return await run_in_threadpool(_document, format, html, f"droit-d-acces-{report.kind}")
