"""Notifications: what a person is told — the owning agency of each new request, the requester
of each decision, the guest of each grant change, the agencies of a cross-agency link. French
text (graph/grants/wording.py, policies.links), flat properties (``payload_<key>``).

Agency-wide notifications (``user_id`` null) are read by the agency's roles that may answer
them (``rules.AGENCY_NOTIFICATION_ROLES``), and read once for the agency.

Each notification carries ``seq``, its number in commit order, the cursor of the live stream
(``GET /api/v1/notifications/stream``): ``notify`` takes the next number from one ledger node
and holds that node's write lock until its transaction ends, so numbers are handed out in the
order transactions commit and a reader who has seen ``seq`` = n has already seen every
committed notification numbered below n, whichever hub process wrote it. ``notify`` is the
last write of its transaction (the callers lock what they change first), so the ledger is
always the last lock taken and cannot close a deadlock circle.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import neo4j

from graph.grants._common import new_id
from graph.grants.models import Notification, NotificationKind
from graph.handle import Graph
from graph.labels import Label
from graph.records import plain, utc
from hub.contract.errors import NotFound

_PAYLOAD_PREFIX = "payload_"
# The ledger numbering notifications: a singleton bookkeeping node keyed by name, the kind the
# operation ledger is (graph/workflow/operations.py), with its own name.
_LEDGER_LABEL = Label.OPERATION_LEDGER.value
_LEDGER_NAME = "notifications"
_PAYLOAD_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


Notice = tuple[str, str | None, NotificationKind, str, dict[str, str | None]]
"""One notification to write: (agency, user_id or None for the whole agency, kind, French
message, payload)."""


def _props(agency: str, user_id: str | None, kind: NotificationKind, message: str,
           payload: dict[str, str | None], now: datetime) -> dict[str, Any]:
    props: dict[str, Any] = {
        "notification_id": new_id("nt"), "agency": agency, "user_id": user_id,
        "kind": kind.value, "message": message, "created_at": now,
    }
    for key, value in payload.items():
        # Keys are ours (never input), checked anyway: they become property names.
        if not _PAYLOAD_KEY.match(key):
            raise ValueError(f"invalid notification payload key {key!r}")
        props[_PAYLOAD_PREFIX + key] = value
    return props


def notify(tx: neo4j.Transaction, *, agency: str, user_id: str | None, kind: NotificationKind,
           message: str, payload: dict[str, str | None], now: datetime) -> None:
    """Address one notification, in the caller's transaction (it commits with the change it
    tells of)."""
    notify_many(tx, [(agency, user_id, kind, message, payload)], now)


def notify_many(tx: neo4j.Transaction, notices: list[Notice], now: datetime) -> None:
    """Address several notifications in one query of the caller's transaction: the ledger
    hands out their numbers as one consecutive run (the same lock and order as ``notify``)."""
    if not notices:
        return
    rows = [{"i": i, "props": _props(*notice, now)} for i, notice in enumerate(notices, start=1)]
    tx.run(f"MERGE (s:{_LEDGER_LABEL} {{name: $ledger}}) "
           f"SET s.seq = coalesce(s.seq, 0) + $n "
           f"WITH s.seq - $n AS base UNWIND $rows AS row "
           f"CREATE (n:{Label.NOTIFICATION.value}) SET n = row.props, n.seq = base + row.i",
           ledger=_LEDGER_NAME, n=len(rows), rows=rows).consume()



def notify_agencies(graph: Graph, notices: list[tuple[str, NotificationKind, str,
                    dict[str, str | None]]], now: datetime) -> int:
    """Address notifications to whole agencies — (agency, kind, French message, payload) — in
    one write. Used for cross-agency link alerts after an ingest."""
    if not notices:
        return 0

    def work(tx: neo4j.ManagedTransaction) -> None:
        notify_many(tx, [(agency, None, kind, message, payload)
                         for agency, kind, message, payload in notices], now)

    graph.write(work)
    return len(notices)


def _notification(props: dict[str, Any]) -> Notification:
    p = plain(props)
    payload = {k[len(_PAYLOAD_PREFIX):]: v for k, v in p.items() if k.startswith(_PAYLOAD_PREFIX)}
    return Notification(payload=payload, **{k: v for k, v in p.items()
                                            if k in Notification.model_fields and k != "payload"})


def _visible(var: str) -> str:
    return (f"({var}.user_id = $uid OR ($agency_wide AND {var}.user_id IS NULL "
            f"AND {var}.agency = $agency))")


def list_notifications(
    graph: Graph, *, user_id: str, agency: str, agency_wide: bool,
    unread_only: bool = False, limit: int = 200,
) -> list[Notification]:
    """A user's notifications, newest first: their own, plus (``agency_wide``: the caller is
    one of ``AGENCY_NOTIFICATION_ROLES``) those addressed to their whole agency. An agency
    notification is read once for the agency: whoever marks it read marks it for all."""
    records = graph.query(
        f"CALL () {{ "
        f"  MATCH (n:{Label.NOTIFICATION.value}) WHERE n.user_id = $uid RETURN n "
        f"  UNION "
        f"  MATCH (n:{Label.NOTIFICATION.value}) WHERE $agency_wide AND n.agency = $agency "
        f"    AND n.user_id IS NULL RETURN n "
        f"}} "
        f"WITH n WHERE NOT $unread OR n.read_at IS NULL "
        f"RETURN n {{.*}} AS n ORDER BY n.created_at DESC LIMIT $limit",
        uid=user_id, agency=agency, agency_wide=agency_wide, unread=unread_only, limit=limit,
        read_=True,
    )
    return [_notification(r["n"]) for r in records]


def mark_notification_read(
    graph: Graph, notification_id: str, *, user_id: str, agency: str,
    agency_wide: bool, now: datetime,
) -> Notification:
    """Mark read (idempotent: the first reading time stays). 404 when the notification does
    not exist or is not the caller's to see — the same answer, so ids reveal nothing."""
    records = graph.query(
        f"MATCH (n:{Label.NOTIFICATION.value} {{notification_id: $id}}) WHERE {_visible('n')} "
        f"SET n.read_at = coalesce(n.read_at, $now) RETURN n {{.*}} AS n",
        id=notification_id, uid=user_id, agency=agency, agency_wide=agency_wide, now=utc(now),
    )
    if not records:
        raise NotFound(f"notification inconnue : {notification_id}")
    return _notification(records[0]["n"])


# --- the live stream's reads ---------------------------------------------------------------------


def notification_cursor(graph: Graph) -> int:
    """The number of the last notification committed (0: none yet): a stream that starts now
    starts after it."""
    records = graph.query(
        f"MATCH (s:{_LEDGER_LABEL} {{name: $ledger}}) RETURN s.seq AS seq",
        ledger=_LEDGER_NAME, read_=True)
    return int(records[0]["seq"] or 0) if records else 0


def notifications_after(
    graph: Graph, *, user_id: str, agency: str, agency_wide: bool, after: int, limit: int = 100,
) -> list[tuple[int, Notification]]:
    """The caller's notifications numbered after ``after`` — the same visibility as
    ``list_notifications`` (their own; their agency's too when ``agency_wide``) — oldest
    first, at most ``limit``, each with its number (the stream's cursor)."""
    records = graph.query(
        f"CALL () {{ "
        f"  MATCH (n:{Label.NOTIFICATION.value}) WHERE n.user_id = $uid AND n.seq > $after "
        f"  RETURN n "
        f"  UNION "
        f"  MATCH (n:{Label.NOTIFICATION.value}) WHERE $agency_wide AND n.agency = $agency "
        f"    AND n.user_id IS NULL AND n.seq > $after RETURN n "
        f"}} "
        f"RETURN n.seq AS seq, n {{.*}} AS n ORDER BY seq LIMIT $limit",
        uid=user_id, agency=agency, agency_wide=agency_wide, after=after, limit=limit,
        read_=True,
    )
    return [(int(r["seq"]), _notification(r["n"])) for r in records]
