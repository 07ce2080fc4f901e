"""Where a person's watch signals go besides the app (a webhook URL, an e-mail address), and what
the daily digest counts: the watch hits each person was told in a window.

``WatchDelivery`` is bookkeeping keyed by ``user_id``; the hub checks the values (https or
loopback webhook on the allow-list, an e-mail address) before they are stored.
"""

from __future__ import annotations

from datetime import datetime

from graph.grants.models import NotificationKind
from graph.handle import Graph
from graph.labels import Label
from graph.records import plain, utc
from graph.watches.models import Delivery

_D = Label.WATCH_DELIVERY.value
_N = Label.NOTIFICATION.value


def get_delivery(graph: Graph, user_id: str) -> Delivery:
    rows = graph.query(f"MATCH (d:{_D} {{user_id: $uid}}) RETURN d {{.*}} AS d",
                       uid=user_id, read_=True)
    return Delivery(**plain(rows[0]["d"])) if rows else Delivery(user_id=user_id)


def set_delivery(graph: Graph, delivery: Delivery, now: datetime) -> Delivery:
    rows = graph.query(
        f"MERGE (d:{_D} {{user_id: $uid}}) SET d.webhook_url = $url, d.email = $email, "
        "d.updated_at = $now RETURN d {.*} AS d",
        uid=delivery.user_id, url=delivery.webhook_url, email=delivery.email, now=utc(now))
    return Delivery(**plain(rows[0]["d"]))


def deliveries_for(graph: Graph, user_ids: list[str]) -> list[Delivery]:
    """The outbound settings of these users that name somewhere to send (others absent)."""
    rows = graph.query(
        f"UNWIND $ids AS id MATCH (d:{_D} {{user_id: id}}) "
        "WHERE d.webhook_url IS NOT NULL OR d.email IS NOT NULL RETURN d {.*} AS d",
        ids=sorted(set(user_ids)), read_=True)
    return [Delivery(**plain(r["d"])) for r in rows]


def hits_in_window(graph: Graph, start: datetime, end: datetime) -> dict[str, tuple[str, int, int]]:
    """user_id → (agency, watch hits told in [start, end), distinct watches)."""
    rows = graph.query(
        f"MATCH (n:{_N}) WHERE n.kind = $kind AND n.created_at >= $start AND n.created_at < $end "
        "AND n.user_id IS NOT NULL "
        "RETURN n.user_id AS uid, head(collect(n.agency)) AS agency, count(n) AS hits, "
        "count(DISTINCT n.payload_watch_id) AS watches",
        kind=NotificationKind.WATCH_HIT.value, start=utc(start), end=utc(end), read_=True)
    return {r["uid"]: (r["agency"], int(r["hits"]), int(r["watches"])) for r in rows}


def hits_per_watch(graph: Graph, user_id: str, start: datetime,
                   end: datetime) -> dict[str, int]:
    """watch_id → watch hits told to ``user_id`` in [start, end) (the brief's section)."""
    rows = graph.query(
        f"MATCH (n:{_N}) WHERE n.user_id = $uid AND n.kind = $kind "
        "AND n.created_at >= $start AND n.created_at < $end "
        "RETURN n.payload_watch_id AS wid, count(n) AS hits",
        uid=user_id, kind=NotificationKind.WATCH_HIT.value, start=utc(start), end=utc(end),
        read_=True)
    return {r["wid"]: int(r["hits"]) for r in rows}
