"""Per-peer daily evaluation counters (the holder's quota, and its record of counts — never
values) and the querier round's cursors.

``take_quota`` is an atomic increment-and-check across hub processes: the counter node is
merged (uniqueness constraint), write-locked by a first ``SET``, and only then read, so two
concurrent takes see each other's committed count (Neo4j does not re-read a value it read
before taking the lock). A take that would pass the limit counts nothing (``refused`` is
incremented instead).
"""

from __future__ import annotations

from datetime import date, datetime

import neo4j

from graph.federation.models import QuotaTake
from graph.handle import Graph
from graph.labels import Label
from graph.records import native, utc

_Q = Label.FEDERATION_QUOTA.value
_C = Label.FEDERATION_CURSOR.value


def quota_key(peer: str, day: date) -> str:
    return f"{peer}|{day.isoformat()}"


def take_quota(graph: Graph, peer: str, day: date, n: int, limit: int) -> QuotaTake:
    """Spend ``n`` of ``peer``'s evaluations for ``day`` if the day's count stays within
    ``limit``; else count nothing and refuse."""

    def work(tx: neo4j.ManagedTransaction) -> QuotaTake:
        tx.run(f"MERGE (q:{_Q} {{quota_key: $key}}) "
               f"ON CREATE SET q.peer = $peer, q.day = $day, q.used = 0, q.refused = 0, "
               f"  q.calls = 0 "
               f"SET q.revision = coalesce(q.revision, 0) + 1",
               key=quota_key(peer, day), peer=peer, day=day.isoformat()).consume()
        used = tx.run(f"MATCH (q:{_Q} {{quota_key: $key}}) RETURN q.used AS used",
                      key=quota_key(peer, day)).single()["used"]
        allowed = used + n <= limit
        if allowed:
            used += n
            tx.run(f"MATCH (q:{_Q} {{quota_key: $key}}) SET q.used = $used, q.calls = q.calls + 1",
                   key=quota_key(peer, day), used=used).consume()
        else:
            tx.run(f"MATCH (q:{_Q} {{quota_key: $key}}) SET q.refused = q.refused + $n",
                   key=quota_key(peer, day), n=n).consume()
        return QuotaTake(allowed=allowed, used=used, limit=limit)

    return graph.write(work)


def quota_used(graph: Graph, peer: str, day: date) -> int:
    records = graph.query(f"MATCH (q:{_Q} {{quota_key: $key}}) RETURN q.used AS used",
                          key=quota_key(peer, day), read_=True)
    return int(records[0]["used"]) if records else 0


def get_cursor(graph: Graph, name: str) -> datetime | None:
    """When the round named ``name`` last completed (what it saw up to), or None: never."""
    records = graph.query(f"MATCH (c:{_C} {{name: $name}}) RETURN c.at AS at", name=name,
                          read_=True)
    return native(records[0]["at"]) if records else None


def set_cursor(graph: Graph, name: str, at: datetime) -> None:
    graph.query(f"MERGE (c:{_C} {{name: $name}}) SET c.at = $at", name=name, at=utc(at))
