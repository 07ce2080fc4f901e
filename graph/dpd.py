"""Telling the auditors that the DPD's weekly report is ready (hub/jobs/dpd.py): one notification
per auditor, written in one transaction (graph/grants/notifications.py numbers them)."""

from __future__ import annotations

from datetime import datetime

import neo4j

from graph.grants.models import NotificationKind
from graph.grants.notifications import notify_many
from graph.handle import Graph
from graph.identity import Principal


def notify_report_ready(graph: Graph, auditors: list[Principal], message: str,
                        payload: dict[str, str | None], now: datetime) -> int:
    """One ``dpd_report`` notification to each of ``auditors``; how many were written."""
    notices = [(a.agency, a.user_id, NotificationKind.DPD_REPORT, message, payload)
               for a in auditors if a.agency]
    if notices:
        def work(tx: neo4j.ManagedTransaction) -> None:
            notify_many(tx, notices, now)

        graph.write(work)
    return len(notices)
