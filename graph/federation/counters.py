"""Per-peer daily evaluation counters (the holder's quota, and its record of counts — never
values) and the querier round's cursors.

``take_quota`` is an atomic increment-and-check across hub processes: the counter node is
merged (uniqueness constraint), write-locked by a first ``SET``, and only then read, so two
concurrent takes see each other's committed count (a value read before the lock could be
stale; the concurrency test in tests/graph/test_federation.py holds it). A take that would pass the limit counts nothing (``refused`` is
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

    # The day's counter exists first, in its own transaction (concurrent creators meet on the
    # uniqueness constraint: one creates, the others find it); then each take locks it with a
    # plain write — never a lock upgraded from a MERGE's read, which deadlocks under load.
    graph.query(f"MERGE (q:{_Q} {{quota_key: $key}}) "
                f"ON CREATE SET q.peer = $peer, q.day = $day, q.used = 0, q.refused = 0, "
                f"  q.calls = 0",
                key=quota_key(peer, day), peer=peer, day=day.isoformat())

    def work(tx: neo4j.ManagedTransaction) -> QuotaTake:
        # The first SET takes the node's write lock; the count is read after it, in the same
        # statement, so it is the last committed one.
        record = tx.run(
            f"MATCH (q:{_Q} {{quota_key: $key}}) SET q.revision = coalesce(q.revision, 0) + 1 "
            f"WITH q, q.used + $n <= $limit AS allowed "
            f"SET q.used = CASE WHEN allowed THEN q.used + $n ELSE q.used END, "
            f"  q.calls = q.calls + CASE WHEN allowed THEN 1 ELSE 0 END, "
            f"  q.refused = q.refused + CASE WHEN allowed THEN 0 ELSE $n END "
            f"RETURN allowed, q.used AS used",
            key=quota_key(peer, day), n=n, limit=limit).single()
        return QuotaTake(allowed=record["allowed"], used=record["used"], limit=limit)

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
