"""The hub's watch on its connectors, in the graph: the run history the watch reads
(``ConnectorRun`` nodes, written by ``graph.identity.record_connector_run``) and the alerts it
keeps open (``ConnectorAlert``: one per connector and kind while the condition lasts, told once
to the administrators, closed when the condition ends).

The decision — silent, quarantine growing — is ``policies.operations``; this module only reads
facts and records what was decided. An open alert carries ``open_key`` (connector|kind) under a
uniqueness constraint, so two watchers racing cannot open the same alert twice; closing removes
the key and the node stays as the episode's record (the weekly brief lists the week's episodes).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import neo4j
from pydantic import BaseModel

from graph.grants.models import NotificationKind
from graph.grants.notifications import Notice, notify_many
from graph.handle import Graph
from graph.identity.connectors import connector_runs
from graph.labels import Label
from graph.records import plain, utc
from policies.operations import ConnectorAlert, ConnectorRunFacts

_RUN = Label.CONNECTOR_RUN.value
_ALERT = Label.CONNECTOR_ALERT.value

SCHEMA: list[str] = [
    f"CREATE CONSTRAINT connector_alert_id IF NOT EXISTS FOR (a:{_ALERT}) REQUIRE a.alert_id IS UNIQUE",
    f"CREATE CONSTRAINT connector_alert_open IF NOT EXISTS FOR (a:{_ALERT}) REQUIRE a.open_key IS UNIQUE",
    f"CREATE INDEX connector_run_received IF NOT EXISTS FOR (r:{_RUN}) ON (r.connector, r.received_at)",
]


class ConnectorAlertRecord(BaseModel):
    alert_id: str
    connector: str
    agency: str
    kind: str
    rule_id: str
    message: str
    since: datetime
    opened_at: datetime
    resolved_at: datetime | None = None


@dataclass
class AlertChanges:
    opened: list[ConnectorAlertRecord] = field(default_factory=list)
    resolved: list[ConnectorAlertRecord] = field(default_factory=list)
    still_open: int = 0


def connector_run_history(graph: Graph, per_connector: int = 20) -> dict[str, list[ConnectorRunFacts]]:
    """Each connector's last runs the hub received, newest first (``connector_runs``: the
    administrators' list, read as the watch's facts)."""
    fields = set(ConnectorRunFacts.model_fields) - {"connector"}
    return {row["connector"]: [ConnectorRunFacts(connector=row["connector"], **{
        k: v for k, v in run.items() if k in fields and v is not None}) for run in row["runs"]]
        for row in connector_runs(graph, per_connector=per_connector)}


def _record(props: dict[str, Any]) -> ConnectorAlertRecord:
    return ConnectorAlertRecord.model_validate(plain(props))


def reconcile_connector_alerts(graph: Graph, alerts: list[ConnectorAlert], now: datetime, *,
                               notify_role: str = "administrator") -> AlertChanges:
    """Open what ``alerts`` names and is not open yet (with one notification per active
    ``notify_role`` account, in the same transaction), close the open ones it no longer names;
    one write transaction."""
    current = {f"{a.connector}|{a.kind.value}": a for a in alerts}
    # Parameters go to the driver in UTC (graph.records.utc): a zoneinfo zone (a meeting's Paris
    # bounds) is called by the driver with its own DateTime type, which the C zoneinfo does not
    # expect — a suite worker crashed on it (segmentation fault).
    now = utc(now)

    def work(tx: neo4j.ManagedTransaction) -> AlertChanges:
        changes = AlertChanges()
        open_rows = tx.run(f"MATCH (a:{_ALERT}) WHERE a.open_key IS NOT NULL "
                           "RETURN a.open_key AS key, a {.*} AS a").data()
        open_keys = {row["key"] for row in open_rows}
        ended = [row["key"] for row in open_rows if row["key"] not in current]
        if ended:
            rows = tx.run(f"UNWIND $keys AS k MATCH (a:{_ALERT} {{open_key: k}}) "
                          "SET a.resolved_at = $now REMOVE a.open_key RETURN a {.*} AS a",
                          keys=ended, now=now).data()
            changes.resolved = [_record(r["a"]) for r in rows]
        new = [{"key": key, "props": {
            "alert_id": f"ca-{uuid.uuid4().hex}", "connector": a.connector, "agency": a.agency,
            "kind": a.kind.value, "rule_id": a.rule_id, "message": a.message_fr,
            "since": utc(a.since), "opened_at": now}}
            for key, a in sorted(current.items()) if key not in open_keys]
        if new:
            rows = tx.run(f"UNWIND $rows AS row CREATE (a:{_ALERT}) SET a = row.props, "
                          "a.open_key = row.key RETURN a {.*} AS a", rows=new).data()
            changes.opened = [_record(r["a"]) for r in rows]
            admins = tx.run(f"MATCH (u:{Label.USER.value} {{role: $role}}) "
                            "WHERE NOT coalesce(u.disabled, false) "
                            "RETURN u.user_id AS uid, u.agency AS agency ORDER BY uid",
                            role=notify_role).data()
            notices: list[Notice] = [
                (admin["agency"], admin["uid"], NotificationKind.CONNECTOR_ALERT, alert.message,
                 {"alert_id": alert.alert_id, "connector": alert.connector, "kind": alert.kind})
                for alert in changes.opened for admin in admins]
            notify_many(tx, notices, now)  # the last write of the transaction (notifications.py)
        changes.still_open = len(open_keys) - len(ended)
        return changes

    return graph.write(work)


def connector_alerts_between(graph: Graph, start: datetime, end: datetime) -> list[ConnectorAlertRecord]:
    """Alerts open at some point in [start, end): still open, or opened before ``end`` and
    resolved after ``start``; oldest first."""
    rows = graph.query(
        f"MATCH (a:{_ALERT}) WHERE a.opened_at < $end "
        "AND (a.resolved_at IS NULL OR a.resolved_at >= $start) "
        "RETURN a {.*} AS a ORDER BY a.opened_at, a.connector",
        start=utc(start), end=utc(end), read_=True)
    return [_record(r["a"]) for r in rows]


def open_alert_counts(graph: Graph) -> dict[str, int]:
    """How many connector alerts are open, per kind."""
    rows = graph.query(f"MATCH (a:{_ALERT}) WHERE a.open_key IS NOT NULL "
                       "RETURN a.kind AS kind, count(*) AS n", read_=True)
    return {r["kind"]: r["n"] for r in rows}
