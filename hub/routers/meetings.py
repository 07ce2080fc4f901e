"""The weekly CROSS meeting (``/api/v1/meetings``): create a meeting, read its agenda, record
its decisions as actions, follow them up, and download one's own copy of the brief.

Every read goes through the caller's ``AccessFilter``: the agenda and the brief a participant
gets contain only what they may see — the week's seizures and map included (a seizure lead they
may only know of as a hit adds nothing to them, ADR 0016). Agenda reads are consultations (justified, audited); a
brief download is a disclosure to the caller (justified, audited with the caller as recipient);
meetings and actions are alterations.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from graph import meetings as graph_meetings
from graph.identity import Principal
from graph.meetings import ActionRecord, ActionView, Agenda, Meeting, NewAction
from hub import brief as hub_brief
from hub.audit.events import log_alteration, log_consultation, log_disclosure
from hub.contract.errors import Forbidden
from hub.contract.lead import Agency, HandlingCode, SanitizedLabel, ShortText
from hub.deps import (
    AccessDep,
    AuditDep,
    GraphDep,
    JustificationDep,
    SettingsDep,
    requires,
)
from hub.routers.inputs import StrictIn
from hub.watermark import IssuedMark, issue_for
from policies.permissions import Action

router = APIRouter(prefix="/api/v1/meetings", tags=["réunions"])

CoordinatorDep = Annotated[Principal, requires(Action.RUN_MEETINGS)]
ParticipantDep = Annotated[Principal, requires(Action.ATTEND_MEETINGS)]
MeetingId = Annotated[str, Path(min_length=6, max_length=32, pattern=r"^[0-9AB]{2,3}-\d{4}-W\d{2}$",
                                description="<département>-<semaine ISO>, p. ex. 25-2025-W47")]


class MeetingRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    departement: str = Field(description="Département de la CROSS (p. ex. 25)")
    week: str = Field(description="Semaine ISO, p. ex. 2025-W47")

    @field_validator("departement")
    @classmethod
    def _dept(cls, v: str) -> str:
        if not graph_meetings.DEPARTEMENT_RE.match(v.upper()):
            raise ValueError("code de département attendu (p. ex. 25, 2A, 974)")
        return v.upper()

    @field_validator("week")
    @classmethod
    def _week(cls, v: str) -> str:
        m = graph_meetings.WEEK_RE.match(v)
        if not m:
            raise ValueError("format attendu AAAA-Www, p. ex. 2025-W47")
        try:
            date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1)
        except ValueError:
            raise ValueError(f"l'année {m.group(1)} n'a pas de semaine {m.group(2)}") from None
        return v


class ActionRequest(StrictIn):
    """A decision of the meeting: who leads, who is tasked, by when, about what."""

    title: SanitizedLabel = Field(description="Intitulé de l'action (sans identifiant brut)")
    lead_agency: Agency = Field(description="Service pilote")
    tasked: ShortText = Field(description="Service ou unité chargé(e)")
    deadline: date = Field(description="Échéance (AAAA-MM-JJ)")
    lead_ids: list[str] = Field(default_factory=list, max_length=100)
    entity_ids: list[str] = Field(default_factory=list, max_length=100,
                                  description="Entités visées, <type>:<clé> (p. ex. vehicle:AB-123-CD)")
    handling_code: HandlingCode | None = Field(
        default=None, description="Au moins aussi strict que celui des pistes visées (sinon relevé)")


class ActionPatch(StrictIn):
    status: Literal["open", "done", "cancelled"] | None = None
    deadline: date | None = None
    tasked: ShortText | None = None

    @model_validator(mode="after")
    def _something(self) -> ActionPatch:
        if self.status is None and self.deadline is None and self.tasked is None:
            raise ValueError("rien à modifier : préciser status, deadline ou tasked")
        return self


def _own_cross(settings, meeting: Meeting) -> bool:
    return meeting.departement == settings.cross_departement


@router.post("", response_model=Meeting, status_code=201, summary="Créer la réunion d'une semaine",
             description="Crée (ou retrouve) la réunion de la CROSS d'un département pour une semaine "
                         "ISO. 201 si créée, 200 si elle existait déjà.")
async def create_meeting(request: Request, body: MeetingRequest, response: Response, caller: CoordinatorDep,
                         graph: GraphDep, audit: AuditDep) -> Meeting:
    meeting, created = await run_in_threadpool(
        graph_meetings.ensure_meeting, graph, body.departement, body.week, created_by=caller.user_id)
    if created:
        await log_alteration(request, audit, caller, rule_id="meeting-coordinator", lead_ids=[],
                             entity_keys=[f"meeting:{meeting.meeting_id}"], personal_data=False,
                             details={"operation": "create_meeting"})
    else:
        response.status_code = 200
    return meeting


@router.get("", response_model=list[Meeting], summary="Réunions d'un département")
async def meetings_of(caller: ParticipantDep, graph: GraphDep,
                      departement: Annotated[str, Query(min_length=2, max_length=3)]) -> list[Meeting]:
    return await run_in_threadpool(graph_meetings.list_meetings, graph, departement)


@router.get("/{meeting_id}/agenda", response_model=Agenda, summary="Ordre du jour",
            description="Ordre du jour construit à partir de ce qui est nouveau depuis la dernière "
                        "réunion, tel que l'appelant peut le voir : dont les saisies de la semaine "
                        "(quantités, totaux, tendance) et la carte de la semaine, sur les seules pistes "
                        "qu'il peut consulter. Consultation justifiée et journalisée.")
async def agenda(request: Request, meeting_id: MeetingId, caller: ParticipantDep, graph: GraphDep,
                 settings: SettingsDep, access: AccessDep, audit: AuditDep,
                 reason: JustificationDep) -> Agenda:
    meeting = await run_in_threadpool(graph_meetings.get_meeting, graph, meeting_id)
    result, _ = await run_in_threadpool(
        lambda: graph_meetings.build_agenda(graph, meeting, caller, access,
                                            include_unlocated=_own_cross(settings, meeting)))
    lead_ids = result.lead_ids()
    await log_consultation(
        request, audit, caller, justification=reason, rule_id=access.policy_id,
        outcome=result.outcome(),
        lead_ids=lead_ids, entity_keys=[f"meeting:{meeting_id}"],
        details={"section": "agenda", "hits": result.hit_count()},
    )
    return result


@router.post("/{meeting_id}/actions", response_model=ActionView, status_code=201,
             summary="Enregistrer une décision",
             description="Service pilote, service chargé, échéance ; éventuellement les pistes et "
                         "entités visées (que l'auteur doit pouvoir consulter).")
async def add_action(request: Request, meeting_id: MeetingId, body: ActionRequest, caller: CoordinatorDep,
                     graph: GraphDep, access: AccessDep, audit: AuditDep) -> ActionView:
    action = await run_in_threadpool(
        lambda: graph_meetings.create_action(
            graph, meeting_id,
            NewAction(**body.model_dump(exclude={"lead_agency"}), lead_agency=body.lead_agency.value),
            access, created_by=caller.user_id))
    await log_alteration(request, audit, caller, rule_id="meeting-coordinator", lead_ids=action.lead_ids,
                         entity_keys=[f"action:{action.action_id}", *action.entity_ids],
                         details={"operation": "create_action", "meeting_id": meeting_id})
    return action


@router.patch("/actions/{action_id}", response_model=ActionRecord, summary="Suivre une action",
              description="Statut (open, done, cancelled), échéance ou service chargé. Réservé au chef "
                          "de la CROSS et au service pilote.")
async def patch_action(request: Request, action_id: Annotated[str, Path(max_length=64)], body: ActionPatch,
                       caller: ParticipantDep, graph: GraphDep,
                       audit: AuditDep) -> ActionRecord:
    current = await run_in_threadpool(graph_meetings.get_action, graph, action_id)
    if caller.role != "coordinator" and caller.agency != current.lead_agency:
        raise Forbidden("seuls le chef de la CROSS et le service pilote peuvent modifier cette action")
    updated = await run_in_threadpool(
        lambda: graph_meetings.update_action(graph, action_id, status=body.status,
                                             deadline=body.deadline, tasked=body.tasked))
    await log_alteration(request, audit, caller, rule_id="meeting-action-follow-up",
                         lead_ids=updated.lead_ids, entity_keys=[f"action:{action_id}"],
                         details={"operation": "update_action", "status": updated.status})
    return updated


async def _brief(request: Request, meeting_id: str, graph, settings, access, audit, caller: Principal,
                 reason: str, fmt: str) -> Response:
    meeting = await run_in_threadpool(graph_meetings.get_meeting, graph, meeting_id)

    def render() -> tuple[hub_brief.Brief, bytes, IssuedMark]:
        brief = hub_brief.build_brief(graph, meeting, caller, access,
                                      include_unlocated=_own_cross(settings, meeting))
        # The caller's copy is watermarked (ADR 0026); its token is recorded with the disclosure.
        mark = issue_for(settings.keys_dir, caller, document=f"brief.{fmt}", justification=reason,
                         handling_code=brief.handling_code)
        html = hub_brief.render_html(brief, mark)
        return brief, (html.encode("utf-8") if fmt == "html" else hub_brief.render_pdf(html)), mark

    brief, content, mark = await run_in_threadpool(render)
    lead_ids = brief.agenda.lead_ids()
    # Logged before the document is handed over: nothing is disclosed unlogged.
    await log_disclosure(
        request, audit, caller, justification=reason, rule_id=access.policy_id,
        outcome=brief.agenda.outcome(),
        lead_ids=lead_ids, entity_keys=[f"meeting:{meeting_id}", mark.entity_key], recipients=[caller.user_id],
        details={"document": f"brief.{fmt}", "handling_code": brief.handling_code,
                 "hits": brief.agenda.hit_count(), **mark.audit_details()},
    )
    stem = hub_brief.file_stem(brief)
    media = "text/html; charset=utf-8" if fmt == "html" else "application/pdf"
    return Response(content=content, media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="{stem}.{fmt}"',
                             "Cache-Control": "no-store", "X-Handling-Code": brief.handling_code})


@router.get("/{meeting_id}/brief.html", summary="Note de séance (HTML, exemplaire de l'appelant)",
            response_class=Response)
async def brief_html(request: Request, meeting_id: MeetingId, caller: ParticipantDep, graph: GraphDep,
                     settings: SettingsDep, access: AccessDep, audit: AuditDep,
                     reason: JustificationDep) -> Response:
    return await _brief(request, meeting_id, graph, settings, access, audit, caller, reason, "html")


@router.get("/{meeting_id}/brief.pdf", summary="Note de séance (PDF, exemplaire de l'appelant)",
            response_class=Response)
async def brief_pdf(request: Request, meeting_id: MeetingId, caller: ParticipantDep, graph: GraphDep,
                    settings: SettingsDep, access: AccessDep, audit: AuditDep,
                    reason: JustificationDep) -> Response:
    return await _brief(request, meeting_id, graph, settings, access, audit, caller, reason, "pdf")
