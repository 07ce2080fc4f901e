"""A person's watches as stored: create, list (with the latest hits told), end.

A ``Watch`` node is bookkeeping keyed by ``watch_id``, owned by one user (``user_id``) and
linked to nothing: no entity node is ever created or even looked up for a watch, so following
a key nobody holds writes and answers exactly like following a known one. While a watch is
active it carries its ``match_key`` (mode key) or ``scan_active`` (mode scan), the two
properties matching seeks through an index; ending a watch removes them, so ended watches cost
matching nothing.

Audited writes take a ``before_commit`` callback, run inside the transaction before commit.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import neo4j

from graph.grants._common import new_id
from graph.grants.models import NotificationKind
from graph.handle import Graph
from graph.labels import Label
from graph.records import plain, utc
from graph.watches.models import WatchMode, WatchRecord, WatchTarget
from hub.contract.errors import Conflict, NotFound
from policies.watches import END_REASONS_FR, EndReason

_W = Label.WATCH.value
_N = Label.NOTIFICATION.value
# Stored properties a WatchRecord shows (the justification and the matching terms stay inside).
_SHOWN = ("watch_id", "kind", "label", "target", "search_q", "search_kind", "fuzzy", "created_at",
          "ended_at", "end_reason", "hit_count", "last_hit_at")


def _record(props: dict[str, Any]) -> WatchRecord:
    p = plain(props)
    reason = p.get("end_reason")
    return WatchRecord(
        **{k: p.get(k) for k in _SHOWN if k != "hit_count"}, hit_count=int(p.get("hit_count") or 0),
        status="ended" if p.get("ended_at") else "active",
        end_reason_fr=END_REASONS_FR.get(EndReason(reason)) if reason else None,
    )


def create_watch(graph: Graph, *, user_id: str, target: WatchTarget, justification: str,
                 max_active: int, now: datetime,
                 before_commit: Callable[[WatchRecord], None] | None = None) -> WatchRecord:
    """Store a watch for ``user_id``. Refused (Conflict) past ``max_active`` active watches; the
    owner's lock (their User node) serializes two creations of theirs."""

    def work(tx: neo4j.Transaction) -> WatchRecord:
        tx.run(f"MATCH (u:{Label.USER.value} {{user_id: $uid}}) SET u._watch_lock = true "
               "REMOVE u._watch_lock", uid=user_id).consume()
        active = tx.run(f"MATCH (w:{_W}) WHERE w.user_id = $uid AND w.ended_at IS NULL "
                        "RETURN count(w) AS n", uid=user_id).single()["n"]
        if active >= max_active:
            raise Conflict(f"trop de veilles actives ({active}) : arrêter une veille avant d'en "
                           f"ajouter (au plus {max_active})")
        props = {
            "watch_id": new_id("w"), "user_id": user_id, "kind": target.kind,
            "label": target.label, "mode": target.mode.value,
            "target": target.match_key if target.kind == "entity" else None,
            "match_key": target.match_key if target.mode is WatchMode.KEY else None,
            "scan_active": True if target.mode is WatchMode.SCAN else None,
            "scan": target.scan, "terms": target.terms, "search_q": target.search_q,
            "search_kind": target.search_kind, "fuzzy": target.fuzzy,
            "justification": justification, "created_at": utc(now), "hit_count": 0,
        }
        row = tx.run(f"CREATE (w:{_W}) SET w = $props RETURN w {{.*}} AS w",
                     props={k: v for k, v in props.items() if v is not None}).single()
        record = _record(row["w"])
        if before_commit is not None:
            before_commit(record)
        return record

    return graph.write_once(work)


def list_watches(graph: Graph, user_id: str, *, include_ended: bool = True,
                 limit: int = 500) -> list[WatchRecord]:
    """The owner's watches, active first, newest first."""
    rows = graph.query(
        f"MATCH (w:{_W}) WHERE w.user_id = $uid AND ($ended OR w.ended_at IS NULL) "
        "RETURN w {.*} AS w ORDER BY w.ended_at IS NULL DESC, w.created_at DESC LIMIT $limit",
        uid=user_id, ended=include_ended, limit=limit, read_=True)
    return [_record(r["w"]) for r in rows]


def latest_hits(graph: Graph, user_id: str, watch_ids: list[str],
                per_watch: int) -> dict[str, list[dict[str, Any]]]:
    """The last ``per_watch`` watch-hit notifications the owner was told, per watch: exactly
    what they were told then (message and payload), nothing read again from the leads."""
    if not watch_ids or per_watch <= 0:
        return {}
    rows = graph.query(
        f"MATCH (n:{_N}) WHERE n.user_id = $uid AND n.kind = $kind "
        "AND n.payload_watch_id IN $ids "
        "WITH n ORDER BY n.seq DESC "
        "WITH n.payload_watch_id AS wid, collect(n {.*})[..$k] AS ns RETURN wid, ns",
        uid=user_id, kind=NotificationKind.WATCH_HIT.value, ids=watch_ids, k=per_watch, read_=True)
    return {r["wid"]: [plain(n) for n in r["ns"]] for r in rows}


def end_watch(graph: Graph, watch_id: str, *, user_id: str, now: datetime,
              before_commit: Callable[[WatchRecord], None] | None = None) -> WatchRecord:
    """End one of the owner's watches (idempotent: an ended watch stays as it ended). Another
    person's watch, or an unknown id: the same 404."""

    def work(tx: neo4j.Transaction) -> WatchRecord:
        row = tx.run(
            f"MATCH (w:{_W} {{watch_id: $id}}) WHERE w.user_id = $uid "
            "SET w.end_reason = coalesce(w.end_reason, $reason), "
            "    w.ended_at = coalesce(w.ended_at, $now) "
            "REMOVE w.match_key, w.scan_active RETURN w {.*} AS w",
            id=watch_id, uid=user_id, reason=EndReason.BY_USER.value, now=utc(now)).single()
        if row is None:
            raise NotFound(f"veille inconnue : {watch_id}")
        record = _record(row["w"])
        if before_commit is not None:
            before_commit(record)
        return record

    return graph.write_once(work)


def active_watch_owners(graph: Graph) -> list[str]:
    """Every user holding at least one active watch (the daily sweep checks their standing)."""
    rows = graph.query(
        f"MATCH (w:{_W}) WHERE w.match_key IS NOT NULL OR w.scan_active = true "
        "RETURN DISTINCT w.user_id AS uid", read_=True)
    return [r["uid"] for r in rows]
