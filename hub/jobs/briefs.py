"""The weekly meeting briefs, a job the hub runs on the meeting's eve (hub/jobs/schedule.py) or
the CLI on demand (``crosshub brief``): a plain function of the settings, so any
scheduler can call it (``hub.jobs.briefs:generate_weekly_briefs``).

``generate_weekly_briefs``: for the week's meeting of the CROSS (created if absent), one copy per
participant, each built with that participant's own access filter, written as HTML and PDF and
logged as a disclosure to that participant — before the file is written.

It writes to the audit trail, which has a single writer per directory: inside the running hub,
pass its ``AuditTrail`` (``app.state.audit``); standalone, it opens it itself (standalone.py).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import UTC, datetime
from pathlib import Path

import neo4j
from pydantic import BaseModel

from graph import identity
from graph import meetings as graph_meetings
from graph.access import AccessFilter
from graph.handle import Graph
from graph.identity import Principal
from hub import brief as hub_brief
from hub.audit import AuditTrail
from hub.audit.events import system_event
from hub.jobs.standalone import graph_for, trail_for
from hub.watermark import issue_for
from hub.settings import Settings
from policies.audit import AuditAction, DecisionOutcome
from policies.models import Policy
from policies.permissions import Action, roles_that_may
from policies.rulebook import Rulebook


class BriefFiles(BaseModel):
    user_id: str
    html: Path
    pdf: Path
    handling_code: str
    lead_count: int


AccessFor = Callable[[Graph, Principal], AccessFilter]


def _policy_access_for(policy: Policy) -> AccessFor:
    from hub.access import access_filter_for

    def access_for(graph: Graph, principal: Principal) -> AccessFilter:
        return access_filter_for(graph, principal, policy=policy)

    return access_for


def participants(graph: Graph, policy: Policy) -> list[Principal]:
    """Who gets a copy: the active accounts whose role may receive the brief (roles.yaml)."""
    roles = roles_that_may(policy, Action.RECEIVE_BRIEF)
    return [u for u in identity.list_users(graph)
            if u.role in roles and not u.disabled]


def write_brief(settings: Settings, graph: Graph, trail: AuditTrail, meeting: graph_meetings.Meeting,
                participant: Principal, access: AccessFilter, out_dir: Path, *,
                justification: str, origin: str, now: datetime | None = None) -> BriefFiles:
    """Build one participant's copy with their filter, log its disclosure to them, write it."""
    brief = hub_brief.build_brief(graph, meeting, participant, access,
                                  include_unlocated=meeting.departement == settings.cross_departement,
                                  now=now)
    # One mark for the copy's HTML and PDF (ADR 0026), recorded with its disclosure.
    mark = issue_for(settings.keys_dir, participant, document="brief", justification=justification,
                     handling_code=brief.handling_code)
    html = hub_brief.render_html(brief, mark)
    pdf = hub_brief.render_pdf(html)
    lead_ids = brief.agenda.lead_ids()
    trail.append(system_event(
        AuditAction.DISCLOSURE, origin=origin, rule_id=access.policy_id, lead_ids=lead_ids,
        entity_keys=[f"meeting:{meeting.meeting_id}", mark.entity_key], justification=justification,
        recipients=[participant.user_id], outcome=DecisionOutcome(brief.agenda.outcome()),
        details={"document": "brief", "handling_code": brief.handling_code,
                 "hits": brief.agenda.hit_count(), **mark.audit_details()},
    ))
    out_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    stem = hub_brief.file_stem(brief)
    html_path, pdf_path = out_dir / f"{stem}.html", out_dir / f"{stem}.pdf"
    html_path.write_text(html, encoding="utf-8")
    pdf_path.write_bytes(pdf)
    for path in (html_path, pdf_path):
        path.chmod(0o600)  # a participant's copy is theirs alone
    return BriefFiles(user_id=participant.user_id, html=html_path, pdf=pdf_path,
                      handling_code=brief.handling_code, lead_count=len(lead_ids))


def generate_weekly_briefs(settings: Settings, *, week: str | None = None, departement: str | None = None,
                           out_dir: Path | None = None, user_ids: list[str] | None = None,
                           rulebook: Rulebook,
                           driver: neo4j.Driver | None = None, audit: AuditTrail | None = None,
                           access_for: AccessFor | None = None, now: datetime | None = None,
                           origin: str = "scheduler", skip_user_ids: Collection[str] = (),
                           on_written: Callable[[BriefFiles], None] | None = None) -> list[BriefFiles]:
    """One brief per participant for the CROSS's meeting of ``week`` (default: the ISO week of
    ``now``, Europe/Paris — schedule it on the meeting's eve). Files go to
    ``out_dir`` (default ``<data_dir>/briefs/<meeting_id>/``). ``skip_user_ids``: participants
    whose copy is already written (a run taken over, hub/jobs/once.py); ``on_written`` is told of
    each copy once logged and written."""
    now = now or datetime.now(UTC)
    week = week or graph_meetings.iso_week_of(now)
    departement = departement or settings.cross_departement
    access_for = access_for or _policy_access_for(rulebook.policy)
    db = settings.neo4j_database
    with graph_for(settings, driver) as drv:
        graph = Graph(drv, db)
        meeting, _ = graph_meetings.ensure_meeting(graph, departement, week, created_by="crosshub", now=now)
        people = ([identity.get_user(graph, uid) for uid in user_ids] if user_ids
                  else participants(graph, rulebook.policy))
        target = out_dir or settings.data_dir / "briefs" / meeting.meeting_id
        justification = f"Comité hebdomadaire de la CROSS {departement}, semaine {week} : note de séance"
        files = []
        with trail_for(settings, audit) as trail:
            for person in people:
                if person.user_id in skip_user_ids:
                    continue
                written = write_brief(settings, graph, trail, meeting, person, access_for(graph, person),
                                      target, justification=justification, origin=origin, now=now)
                files.append(written)
                if on_written:
                    on_written(written)
        return files
