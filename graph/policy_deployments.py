"""The policy files' digests last deployed, so that each deployment that changes one enters the
audit trail once (hub/policy_deployments.py compares at every hub start and on
``crosshub policy deploy``).

Owns one node, ``(:PolicyState {name: "deployed", combined, files, digests, deployed_at,
deployed_by})`` — ``files`` and ``digests`` are parallel lists (a file's relative name, its
``sha256:`` digest). Kept in the graph, not a file, because every hub process and the CLI share
the graph: one record for a CROSS, and a concurrent start of N hub processes records one change
(the node is write-locked, the comparison made under the lock).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import neo4j
from pydantic import BaseModel

from graph.handle import Graph
from graph.labels import KEY_PROPERTY, Label
from graph.records import plain, utc

_S = Label.POLICY_STATE.value
_NAME = "deployed"

SCHEMA: list[str] = [
    f"CREATE CONSTRAINT policystate_name_unique IF NOT EXISTS FOR (n:{_S}) "
    f"REQUIRE n.{KEY_PROPERTY[Label.POLICY_STATE]} IS UNIQUE",
]


class Deployment(BaseModel):
    """A change of the deployed policy files: what was there before (empty on a first record)."""

    combined: str
    old_combined: str | None = None
    files: dict[str, str]
    old_files: dict[str, str]
    deployed_by: str
    at: datetime


def deployed(graph: Graph) -> Deployment | None:
    """The digests last recorded, or None."""
    records = graph.query(f"MATCH (s:{_S} {{name: $name}}) RETURN s {{.*}} AS s", name=_NAME,
                          read_=True)
    if not records:
        return None
    s = plain(records[0]["s"])
    return Deployment(combined=s["combined"], files=dict(zip(s["files"], s["digests"], strict=True)),
                      old_files={}, deployed_by=s.get("deployed_by") or "", at=s["deployed_at"])


def record_deployment(graph: Graph, *, files: dict[str, str], combined: str, deployed_by: str,
                      now: datetime,
                      before_commit: Callable[[Deployment], None] | None = None) -> Deployment | None:
    """Store these digests if they differ from the recorded ones; the change (None: nothing
    changed). ``before_commit`` runs under the lock, before the commit (the audit append)."""
    now = utc(now)

    def work(tx: neo4j.Transaction) -> Deployment | None:
        row = tx.run(f"MERGE (s:{_S} {{name: $name}}) SET s.revision = coalesce(s.revision, 0) + 1 "
                     "RETURN s {.*} AS s", name=_NAME).single()
        s = plain(row["s"])
        if s.get("combined") == combined:
            return None
        old = dict(zip(s.get("files") or [], s.get("digests") or [], strict=True))
        names = sorted(files)
        tx.run(f"MATCH (s:{_S} {{name: $name}}) SET s.combined = $combined, s.files = $files, "
               "s.digests = $digests, s.deployed_at = $now, s.deployed_by = $by",
               name=_NAME, combined=combined, files=names, digests=[files[n] for n in names],
               now=now, by=deployed_by).consume()
        change = Deployment(combined=combined, old_combined=s.get("combined"), files=files,
                            old_files=old, deployed_by=deployed_by, at=now)
        if before_commit:
            before_commit(change)
        return change

    return graph.write_once(work)
