"""What the grant workflow's writers share: fresh node ids, and the lock-then-read that makes a
check-then-set safe."""

from __future__ import annotations

import uuid
from typing import Any

import neo4j

from graph.labels import KEY_PROPERTY, Label


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex}"


def lock(tx: neo4j.Transaction, label: Label, key: str) -> dict[str, Any] | None:
    """Take the node's write lock, then read it. Reading after the lock is what makes a
    check-then-set safe: a concurrent decision waits here and then sees the first one's
    committed state (Neo4j does not re-evaluate a WHERE read before the lock)."""
    prop = KEY_PROPERTY[label]
    locked = tx.run(
        f"MATCH (n:{label.value} {{{prop}: $key}}) "
        f"SET n.revision = coalesce(n.revision, 0) + 1 RETURN count(n) AS n",
        key=key,
    ).single()["n"]
    if not locked:
        return None
    return tx.run(f"MATCH (n:{label.value} {{{prop}: $key}}) RETURN n {{.*}} AS n", key=key).single()["n"]

