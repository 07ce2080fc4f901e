"""The watch on the connectors, as a hub job: every ``connector_watch_cron`` (once across hub
processes, hub/jobs/once.py), read each connector's run records, let the policy say which are
silent or have a growing quarantine (policies/operations.py), open an alert for each new
finding — with one notification to every administrator, in the same write — and close those
whose condition ended (graph/operations.py). The weekly brief lists the week's alerts
(``brief_section``)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from fastapi import FastAPI

from graph import operations as graph_ops
from graph.handle import Graph
from policies.operations import OperationsRules, connector_alerts

log = logging.getLogger("crosshub.connector_watch")
JOB_NAME = "connector-watch"
PARIS = ZoneInfo("Europe/Paris")


def check_connectors(graph: Graph, rules: OperationsRules, now: datetime) -> graph_ops.AlertChanges:
    history = graph_ops.connector_run_history(graph, per_connector=max(20, rules.quarantine.window_runs))
    changes = graph_ops.reconcile_connector_alerts(graph, connector_alerts(history, now, rules), now)
    for alert in changes.opened:
        log.warning("alerte connecteur ouverte : %s %s", alert.connector, alert.kind,
                    extra={"connector": alert.connector, "outcome": alert.kind})
    for alert in changes.resolved:
        log.info("alerte connecteur close : %s %s", alert.connector, alert.kind,
                 extra={"connector": alert.connector, "outcome": alert.kind})
    return changes


def run_connector_watch(app: FastAPI, now: datetime) -> dict[str, int]:
    changes = check_connectors(app.state.graph, app.state.rulebook.operations, now)
    return {"opened": len(changes.opened), "resolved": len(changes.resolved),
            "open": changes.still_open + len(changes.opened)}


# --- the weekly brief's « État des sources » ---------------------------------------------------


@dataclass(frozen=True)
class AlertRow:
    connector: str
    agency: str
    kind: str  # French
    message: str
    opened: str
    resolved: str  # "" while open


@dataclass(frozen=True)
class SourcesSection:
    open: list[AlertRow]
    closed: list[AlertRow]


KIND_FR = {"silent": "silencieux", "quarantine_growing": "quarantaine en hausse"}


def _when(at: datetime | None) -> str:
    return at.astimezone(PARIS).strftime("%d/%m/%Y %H:%M") if at else ""


def brief_section(graph: Graph, meeting, participant, access, now: datetime) -> SourcesSection | None:
    """The connector alerts open at some point of the meeting's week — the sources whose data
    may be missing from this brief. Operational facts, no lead content: every participant gets
    them. None (no section) when every source delivered normally."""
    alerts = graph_ops.connector_alerts_between(graph, meeting.starts_at, min(meeting.ends_at, now))
    if not alerts:
        return None
    rows = [AlertRow(connector=a.connector, agency=a.agency, kind=KIND_FR.get(a.kind, a.kind),
                     message=a.message, opened=_when(a.opened_at), resolved=_when(a.resolved_at))
            for a in alerts]
    return SourcesSection(open=[r for r in rows if not r.resolved],
                          closed=[r for r in rows if r.resolved])
