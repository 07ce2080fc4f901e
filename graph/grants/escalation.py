"""Escalation of disclosure requests left unanswered past their deadline (Prüm II: a hit is
answered within 48 h; the deadline itself is policy, ``policies/disclosure.py``, stored on the
request as ``due_at`` when it is made).

``escalate_overdue`` is the sweep the hub's scheduled job runs once across hub processes
(hub/jobs/disclosure_escalation.py, ADR 0013): each request still ``requested`` at or after its
deadline and not yet escalated gets ``escalated_at``, and every active CROSS coordinator is
notified in the same transaction. The weekly meeting's agenda lists escalated and overdue
requests (graph/meetings/sections.py). Whether a request *is* overdue never waits for the
sweep: the hub computes it on every read from ``due_at`` and the clock.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import neo4j

from graph.grants.disclosures import request_record
from graph.grants.models import DisclosureRequestRecord, NotificationKind
from graph.grants.notifications import Notice, notify_many
from graph.handle import Graph
from graph.labels import Label
from graph.records import utc

# Requests escalated per call (one transaction); the job calls again while a batch is full.
ESCALATION_BATCH = 500


def _due(var: str) -> str:
    # Requests made before deadlines were stored fall due ``$default_hours`` after the request.
    return f"coalesce({var}.due_at, {var}.requested_at + duration({{hours: $default_hours}}))"


def escalate_overdue(
    graph: Graph, now: datetime, *, default_hours: int, recipient_role: str,
    message: Callable[[DisclosureRequestRecord], str], limit: int = ESCALATION_BATCH,
    before_commit: Callable[[list[DisclosureRequestRecord]], None] | None = None,
) -> list[DisclosureRequestRecord]:
    """Escalate the requests unanswered at ``now`` past their deadline (at most ``limit``),
    notify every active user of ``recipient_role`` (the CROSS coordinators, policy) of each
    (``message``: the French text, from policy) and
    return them. Of two sweeps racing, one escalates each request (locked and checked again)."""
    now = utc(now)

    def work(tx: neo4j.Transaction) -> list[DisclosureRequestRecord]:
        ids = [r["id"] for r in tx.run(
            f"MATCH (r:{Label.DISCLOSURE_REQUEST.value} {{status: 'requested'}}) "
            f"WHERE r.escalated_at IS NULL AND {_due('r')} <= $now "
            f"WITH r ORDER BY r.requested_at LIMIT $limit RETURN r.request_id AS id",
            now=now, limit=limit, default_hours=default_hours)]
        if not ids:
            return []
        rows = tx.run(
            f"UNWIND $ids AS id MATCH (r:{Label.DISCLOSURE_REQUEST.value} {{request_id: id}}) "
            f"SET r._lock = true "
            f"WITH r, r.status = 'requested' AND r.escalated_at IS NULL AS due "
            f"REMOVE r._lock "
            f"WITH r WHERE due "
            f"SET r.escalated_at = $now, r.due_at = {_due('r')} "
            f"RETURN r {{.*}} AS r ORDER BY r.requested_at",
            ids=sorted(ids), now=now, default_hours=default_hours).data()
        escalated = [request_record(row["r"]) for row in rows]
        coordinators = tx.run(
            f"MATCH (u:{Label.USER.value} {{role: $role}}) WHERE NOT coalesce(u.disabled, false) "
            f"RETURN u.user_id AS uid, u.agency AS agency ORDER BY uid",
            role=recipient_role).data()
        notices: list[Notice] = [
            (c["agency"], c["uid"], NotificationKind.DISCLOSURE_ESCALATED, message(r),
             {"request_id": r.request_id, "lead_id": r.lead_id})
            for r in escalated for c in coordinators]
        notify_many(tx, notices, now)  # the last write of the transaction (notifications.py)
        if escalated and before_commit:
            before_commit(escalated)
        return escalated

    return graph.write_once(work)


def list_escalated(graph: Graph, now: datetime, *, default_hours: int,
                   limit: int = 500) -> list[DisclosureRequestRecord]:
    """Requests still awaiting their answer that were escalated or are past their deadline at
    ``now`` (the job may not have run yet), oldest first: the coordinator's box."""
    records = graph.query(
        f"MATCH (r:{Label.DISCLOSURE_REQUEST.value} {{status: 'requested'}}) "
        f"WHERE r.escalated_at IS NOT NULL OR {_due('r')} <= $now "
        f"RETURN r {{.*}} AS r ORDER BY r.requested_at LIMIT $limit",
        now=utc(now), default_hours=default_hours, limit=limit, read_=True)
    return [request_record(r["r"]) for r in records]
