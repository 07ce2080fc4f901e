"""The DPD's weekly report, a job every hub schedules (hub/jobs/schedule.py, ``dpd_report_cron``)
and that runs once across hub processes (the run is claimed in the graph, hub/jobs/once.py):
the report of the last complete week is built from the trail, logged as handed to the auditors
(a disclosure by the hub, before the files are written), stored as HTML and PDF under
``<data_dir>/dpd/<week>/`` (0600) and announced to each active auditor by a notification.

A run taken over (its holder died) writes the same files again and logs them again: the trail
says so twice rather than never.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from pydantic import BaseModel

from graph import identity
from graph.dpd import notify_report_ready
from graph.handle import Graph
from hub.audit import AuditTrail
from hub.dpd import render
from hub.dpd.events import SYSTEM_ACTOR, weekly_report_event
from hub.dpd.weekly import build_weekly, file_stem
from hub.settings import Settings
from policies.permissions import Action, roles_that_may
from policies.rulebook import Rulebook

JOB_NAME = "dpd-weekly"
ORIGIN = "crosshub:controle-dpd-planifie"


class DpdReportFiles(BaseModel):
    week: str
    html: Path
    pdf: Path
    findings: int
    notified: int


def run_weekly_report(settings: Settings, graph: Graph, trail: AuditTrail, rulebook: Rulebook,
                      now: datetime, *, week: str | None = None) -> DpdReportFiles:
    report = build_weekly(settings.audit_dir, settings.audit_index, rulebook.dpd_watch, week=week,
                          base_url=settings.hub_public_url, now=now)
    roles = roles_that_may(rulebook.policy, Action.READ_AUDIT)
    auditors = [u for u in identity.list_users(graph) if u.role in roles and not u.disabled]
    html = render.render_weekly_html(report)
    pdf = render.render_pdf(html)
    trail.append(weekly_report_event(
        actor=SYSTEM_ACTOR, origin=ORIGIN, week=report.week, user_ids=report.user_ids(),
        findings=len(report.lines), document="html+pdf",
        justification=f"Contrôle hebdomadaire du journal d'audit par le DPD, semaine {report.week}",
        recipients=[a.user_id for a in auditors] or ["role:auditor"]))
    target = settings.data_dir / "dpd" / report.week
    target.mkdir(parents=True, exist_ok=True, mode=0o700)
    stem = file_stem(report)
    html_path, pdf_path = target / f"{stem}.html", target / f"{stem}.pdf"
    html_path.write_text(html, encoding="utf-8")
    pdf_path.write_bytes(pdf)
    for path in (html_path, pdf_path):
        path.chmod(0o600)  # it names officers and what they looked up
    alerts = sum(1 for ln in report.lines if ln.finding.severity == "alerte")
    notified = notify_report_ready(
        graph, auditors,
        f"Rapport de contrôle du DPD de la semaine {report.week} : {alerts} constat(s) à examiner.",
        {"week": report.week, "findings": str(len(report.lines))}, now)
    return DpdReportFiles(week=report.week, html=html_path, pdf=pdf_path, findings=len(report.lines),
                          notified=notified)
