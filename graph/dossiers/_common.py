"""What the dossier modules share: labels, the one lookup that finds a dossier *as a member may
know it* (membership and the access engine's level on the dossier record, in one query whose
empty answer covers an unknown id, a non-member and a member the dossier's code hides it from),
and the audited write around every change.

A ``Dossier``, its ``DossierTask`` and ``DossierComment`` nodes are bookkeeping linked to nothing
(tasks and comments name their ``dossier_id``; linked leads and entities are lists of ids on the
dossier): no analysis read ever traverses them, and a dossier or comment node, which carries the
marking a lead would (``agency``, ``handling_code``, ``kind``), is decided on by the caller's
compiled ``AccessFilter`` exactly as a lead of that marking (the filter's guest-entity test looks
for outgoing relationships: these nodes have none).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import neo4j

from graph.access import HIT, NONE, AccessFilter
from graph.dossiers.models import DossierChange, Member
from graph.handle import Graph
from graph.labels import Label
from graph.records import plain
from hub.contract.errors import Forbidden, NotFound
from policies.dossiers import Visibility, check_open

DOSSIER = Label.DOSSIER.value
TASK = Label.DOSSIER_TASK.value
COMMENT = Label.DOSSIER_COMMENT.value

T = TypeVar("T")


def unknown(dossier_id: str) -> NotFound:
    return NotFound(f"dossier inconnu : {dossier_id}")


def level_of(access: str) -> Visibility:
    if access == NONE:
        return Visibility.NONE
    return Visibility.HIT if access == HIT else Visibility.READ


def find(tx: Any, dossier_id: str, user_id: str, access: AccessFilter) -> tuple[dict[str, Any], Visibility]:
    """The dossier ``dossier_id`` as member ``user_id`` may know it, or ``NotFound`` (the same
    for an unknown id, a non-member, and a member the dossier's code hides it from)."""
    record = tx.run(
        f"MATCH (l:{DOSSIER} {{dossier_id: $id}}) WHERE $uid IN l.members "
        f"WITH l, {access.case_expression} AS access WHERE access <> '{NONE}' "
        "RETURN l {.*} AS d, access",
        id=dossier_id, uid=user_id, **access.params).single()
    if record is None:
        raise unknown(dossier_id)
    return plain(record["d"]), level_of(record["access"])


def members_of(d: dict[str, Any]) -> list[Member]:
    return [Member(**m) for m in json.loads(d.get("members_json") or "[]")]


def change(
    graph: Graph, dossier_id: str, user_id: str, access: AccessFilter,
    work: Callable[[neo4j.Transaction, dict[str, Any]], tuple[T, DossierChange]],
    *, before_commit: Callable[[DossierChange], None] | None, must_be_open: bool = True,
) -> T:
    """Run one change of a dossier in a write transaction: lock the dossier (two changes of one
    dossier serialize), find it as the member may know it, require that they may read it (a
    member who knows it only as a hit changes nothing) and, unless reopening, that it is open;
    then ``work``, then the audit entry (``before_commit``), then commit."""

    def tx_work(tx: neo4j.Transaction) -> T:
        tx.run(f"MATCH (l:{DOSSIER} {{dossier_id: $id}}) WHERE $uid IN l.members "
               "SET l.revision = coalesce(l.revision, 0) + 1", id=dossier_id, uid=user_id).consume()
        d, level = find(tx, dossier_id, user_id, access)
        if level is not Visibility.READ:
            raise Forbidden("dossier connu en signalement seul : son code de traitement ne vous "
                            "permet pas d'y travailler")
        if must_be_open:
            check_open(d["status"])
        result, done = work(tx, d)
        if before_commit:
            before_commit(done)
        return result

    return graph.write_once(tx_work)


def touch(tx: neo4j.Transaction, dossier_id: str, now: datetime) -> None:
    tx.run(f"MATCH (d:{DOSSIER} {{dossier_id: $id}}) SET d.updated_at = $now",
           id=dossier_id, now=now).consume()
