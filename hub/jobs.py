"""Jobs the hub runs on a schedule (or the CLI on demand): the retention purge and the weekly
briefs. Plain functions of the settings, so any scheduler can call them
(``connectors/scheduler.py``'s APScheduler: reference them as ``hub.jobs:run_retention`` and
``hub.jobs:generate_weekly_briefs``).

Both write to the audit trail. The trail has a single writer per directory: inside the running
hub, pass its ``AuditTrail`` (``app.state.audit``); standalone, they open it themselves (and
fail with ``AuditUnavailable`` while a hub holds it — nothing is then erased or written).

- ``run_retention``: decide (policies/retention.py) which leads are due, then, in bounded
  batches, plan the erasure, log it (action ``erasure``, with lead ids and the entities that go
  with them) *before* erasing, and erase (graph/retention.py).
- ``generate_weekly_briefs``: for the week's meeting of the CROSS (created if absent), one copy
  per participant, each built with that participant's own access filter, written as HTML and PDF
  and logged as a disclosure to that participant.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import neo4j
from pydantic import BaseModel, Field

from graph import identity
from graph import meetings as graph_meetings
from graph import retention as graph_retention
from graph.access import AccessFilter
from graph.driver import open_driver, wait_ready
from graph.handle import Graph
from graph.identity import Principal
from graph.schema import apply_schema
from hub import brief as hub_brief
from hub.disclosures import system_event
from hub.settings import Settings
from policies.audit import AuditTrail
from policies.audit.models import AuditAction, DecisionOutcome
from policies.retention import (
    RetentionDecision,
    RetentionPolicy,
    add_months,
    decide,
    default_retention_policy,
)

log = logging.getLogger("crosshub.jobs")

PARTICIPANT_ROLES = ("analyst", "coordinator")
PURGE_BATCH = 500


@contextlib.contextmanager
def _graph(settings: Settings, driver: neo4j.Driver | None) -> Iterator[neo4j.Driver]:
    if driver is not None:
        yield driver
        return
    drv = open_driver(settings)
    try:
        graph = Graph(drv, settings.neo4j_database)
        wait_ready(graph, 60)
        apply_schema(graph)
        yield drv
    finally:
        drv.close()


@contextlib.contextmanager
def _trail(settings: Settings, audit: AuditTrail | None) -> Iterator[AuditTrail]:
    if audit is not None:
        yield audit
        return
    with AuditTrail.open(settings, lock_timeout_s=10.0) as trail:
        yield trail


# --- retention -----------------------------------------------------------------------------------


class RetentionReport(BaseModel):
    dry_run: bool
    as_of: datetime
    policy_digest: str
    due: list[RetentionDecision] = Field(default_factory=list)
    leads_erased: int = 0
    seizures_erased: int = 0
    workflow_records_erased: int = 0
    entities_erased: list[str] = Field(default_factory=list)
    planned_entities: list[str] = Field(default_factory=list)


def due_for_erasure(graph: Graph, *, now: datetime,
                    policy: RetentionPolicy | None = None) -> list[RetentionDecision]:
    """The leads whose retention period has run out at ``now``, oldest first."""
    policy = policy or default_retention_policy()
    cutoff = add_months(now, -policy.min_months)
    due = []
    for page in graph_retention.candidate_facts(graph, cutoff):
        due.extend(d for d in (decide(policy, f, now=now) for f in page) if d.expired)
    return due


def run_retention(settings: Settings, *, dry_run: bool = False, now: datetime | None = None,
                  driver: neo4j.Driver | None = None, audit: AuditTrail | None = None,
                  policy: RetentionPolicy | None = None, batch_size: int = PURGE_BATCH,
                  origin: str = "scheduler") -> RetentionReport:
    """Purge what the retention rules say is due (``dry_run``: only list it, with the entities
    that would go too)."""
    now = now or datetime.now(UTC)
    policy = policy or default_retention_policy()
    db = settings.neo4j_database
    with _graph(settings, driver) as drv:
        graph = Graph(drv, db)
        due = due_for_erasure(graph, now=now, policy=policy)
        report = RetentionReport(dry_run=dry_run, as_of=now, policy_digest=policy.digest, due=due)
        if dry_run:
            for start in range(0, len(due), batch_size):
                plan = graph_retention.plan_purge(graph, [d.lead_id for d in due[start:start + batch_size]])
                report.planned_entities.extend(plan.orphan_entities)
            return report
        if not due:
            return report
        rules = {d.lead_id: d.rule_id for d in due}
        with _trail(settings, audit) as trail:
            for start in range(0, len(due), batch_size):
                ids = [d.lead_id for d in due[start:start + batch_size]]
                plan = graph_retention.plan_purge(graph, ids)
                if not plan.lead_ids:
                    continue
                report.planned_entities.extend(plan.orphan_entities)
                # Logged before erasing (the trail's rule); a crash in between leaves a logged
                # erasure that the next run completes: purging is idempotent.
                trail.append(system_event(
                    AuditAction.ERASURE, origin=origin, rule_id=f"retention:{policy.digest[7:19]}",
                    lead_ids=plan.lead_ids, entity_keys=plan.orphan_entities,
                    details={"operation": "retention_purge", "seizures": len(plan.seizure_ids),
                             "rules": ",".join(sorted({rules[i] for i in plan.lead_ids})),
                             "as_of": now.isoformat()},
                ))
                result = graph_retention.purge(graph, plan.lead_ids)
                report.leads_erased += result.leads
                report.seizures_erased += result.seizures
                report.workflow_records_erased += result.workflow_records
                report.entities_erased.extend(result.entities)
        log.info("retention: %d leads, %d seizures, %d entities erased", report.leads_erased,
                 report.seizures_erased, len(report.entities_erased))
        return report


# --- briefs --------------------------------------------------------------------------------------


class BriefFiles(BaseModel):
    user_id: str
    html: Path
    pdf: Path
    handling_code: str
    lead_count: int


AccessFor = Callable[[neo4j.Driver, str, Principal], AccessFilter]


def _policy_access_for(driver: neo4j.Driver, database: str, principal: Principal) -> AccessFilter:
    from hub.access import access_filter_for

    return access_filter_for(driver, database, principal)


def participants(driver: neo4j.Driver, database: str) -> list[Principal]:
    """Who gets a copy: active analysts and coordinators."""
    return [u for u in identity.list_users(driver, database)
            if u.role in PARTICIPANT_ROLES and not u.disabled]


def write_brief(settings: Settings, driver: neo4j.Driver, trail: AuditTrail, meeting: graph_meetings.Meeting,
                participant: Principal, access: AccessFilter, out_dir: Path, *,
                justification: str, origin: str, now: datetime | None = None) -> BriefFiles:
    """Build one participant's copy with their filter, log its disclosure to them, write it."""
    brief = hub_brief.build_brief(driver, settings.neo4j_database, meeting, participant, access,
                                  include_unlocated=meeting.departement == settings.cross_departement,
                                  now=now)
    html = hub_brief.render_html(brief)
    pdf = hub_brief.render_pdf(html)
    lead_ids = brief.agenda.lead_ids()
    trail.append(system_event(
        AuditAction.DISCLOSURE, origin=origin, rule_id=access.policy_id, lead_ids=lead_ids,
        entity_keys=[f"meeting:{meeting.meeting_id}"], justification=justification,
        recipients=[participant.user_id], outcome=DecisionOutcome(brief.agenda.outcome()),
        details={"document": "brief", "handling_code": brief.handling_code,
                 "hits": brief.agenda.hit_count()},
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
                           driver: neo4j.Driver | None = None, audit: AuditTrail | None = None,
                           access_for: AccessFor | None = None, now: datetime | None = None,
                           origin: str = "scheduler") -> list[BriefFiles]:
    """One brief per participant for the CROSS's meeting of ``week`` (default: the current ISO
    week, Europe/Paris — schedule it on the meeting's eve). Files go to
    ``out_dir`` (default ``<data_dir>/briefs/<meeting_id>/``)."""
    now = now or datetime.now(UTC)
    week = week or graph_meetings.iso_week_of(now)
    departement = departement or settings.cross_departement
    access_for = access_for or _policy_access_for
    db = settings.neo4j_database
    with _graph(settings, driver) as drv:
        meeting, _ = graph_meetings.ensure_meeting(drv, db, departement, week, created_by="crosshub", now=now)
        people = ([identity.get_user(drv, db, uid) for uid in user_ids] if user_ids
                  else participants(drv, db))
        target = out_dir or settings.data_dir / "briefs" / meeting.meeting_id
        justification = f"Comité hebdomadaire de la CROSS {departement}, semaine {week} : note de séance"
        files = []
        with _trail(settings, audit) as trail:
            for person in people:
                files.append(write_brief(settings, drv, trail, meeting, person, access_for(drv, db, person),
                                         target, justification=justification, origin=origin, now=now))
        return files
