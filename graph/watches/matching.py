"""Matching a batch of freshly written leads against the active watches, and writing what the
hub decided to tell.

The cost is bounded by the batch, not by the number of watches: the batch's leads give their
watch keys (``vehicle:AB-123-CD``, ``phone:+33…``, ``person:ps1:…``, ``location:addr:…``,
``commune:25056``, ``deal_point:25056:hall 3``) in one read, and each key is one seek in the
index on ``Watch.match_key`` (only active watches carry it). Saved searches no single key
stands for (``scan`` watches: approximate or partial plates and phones, place text, full text)
are read through the index on ``Watch.scan_active`` and tested in memory on the batch.

What each watcher is told is not decided here: the hub asks the access engine, watcher by
watcher, and hands back the notifications to write (``record_hits``) and the watches to end
(``end_watches``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

import neo4j

from graph.grants.active import grants_from, grants_projection
from graph.grants.models import NotificationKind
from graph.grants.notifications import notify_many
from graph.handle import Graph
from graph.labels import EntityKind, Label, Rel
from graph.records import plain, utc
from graph.watches.models import BatchLead, TouchedWatch, WatchHit, WatchOwner
from policies.watches import EndReason, ended_message_fr

_W = Label.WATCH.value

# The lead → entity links a watch key is read through, with the entity's kind (allow-list).
_LINKS: tuple[tuple[Rel, EntityKind], ...] = (
    (Rel.MENTIONS_VEHICLE, EntityKind.VEHICLE),
    (Rel.MENTIONS_PHONE, EntityKind.PHONE),
    (Rel.INVOLVES, EntityKind.PERSON),
    (Rel.AT, EntityKind.LOCATION),
    (Rel.CONCERNS, EntityKind.DEAL_POINT),
)


def _keys_expression() -> str:
    parts = [
        f"[(l)-[:{rel.value}]->(x:{kind.label.value}) | '{kind.value}:' + x.{kind.key_property}]"
        for rel, kind in _LINKS
    ]
    commune = EntityKind.COMMUNE
    parts.append(
        f"[(l)-[:{Rel.AT.value}]->(:{Label.LOCATION.value})-[:{Rel.IN_COMMUNE.value}]->"
        f"(c:{commune.label.value}) | '{commune.value}:' + c.{commune.key_property}]")
    return " + ".join(parts)


def batch_leads(graph: Graph, lead_ids: list[str], *, narratives: bool) -> list[BatchLead]:
    """The batch's live leads with their watch keys (and narratives when a text watch needs
    them: read for matching only)."""
    if not lead_ids:
        return []
    rows = graph.query(
        f"UNWIND $ids AS id MATCH (l:{Label.LEAD.value} {{lead_id: id}}) WHERE l.version > 0 "
        f"RETURN l.lead_id AS lead_id, l.version AS version, l.agency AS agency, "
        f"{_keys_expression()} AS keys, CASE WHEN $narr THEN l.narrative END AS narrative",
        ids=lead_ids, narr=narratives, read_=True)
    return [BatchLead(lead_id=r["lead_id"], version=int(r["version"] or 1), agency=r["agency"],
                      keys=sorted(set(r["keys"])), narrative=r["narrative"]) for r in rows]


def active_watch_kinds(graph: Graph) -> tuple[bool, bool, bool]:
    """(any key watch, any scan watch, any text watch) among the active ones, through the two
    indexes: with no active watch a batch costs matching nothing more."""
    rows = graph.query(
        f"RETURN EXISTS {{ MATCH (w:{_W}) WHERE w.match_key IS NOT NULL }} AS keys, "
        f"COLLECT {{ MATCH (w:{_W}) WHERE w.scan_active = true RETURN w.scan AS scan }} AS scans",
        read_=True)
    scans = rows[0]["scans"] if rows else []
    return (bool(rows and rows[0]["keys"]), bool(scans), "text" in scans)


def touched_watches(graph: Graph, leads: list[BatchLead], *, scans: bool) -> list[TouchedWatch]:
    """The active watches the batch touches, each with the leads that touch it."""
    by_key: dict[str, list[str]] = {}
    for lead in leads:
        for key in lead.keys:
            by_key.setdefault(key, []).append(lead.lead_id)
    touched: dict[str, TouchedWatch] = {}
    if by_key:
        rows = graph.query(
            f"UNWIND $keys AS k MATCH (w:{_W} {{match_key: k}}) "
            "RETURN w.watch_id AS id, w.user_id AS uid, w.label AS label, "
            "w.justification AS why, k AS key",
            keys=list(by_key), read_=True)
        for r in rows:
            t = touched.setdefault(r["id"], TouchedWatch(
                watch_id=r["id"], user_id=r["uid"], label=r["label"], justification=r["why"],
                lead_ids=[]))
            t.lead_ids = sorted(set(t.lead_ids) | set(by_key[r["key"]]))
    if scans:
        rows = graph.query(
            f"MATCH (w:{_W}) WHERE w.scan_active = true "
            "RETURN w.watch_id AS id, w.user_id AS uid, w.label AS label, w.justification AS why, "
            "w.scan AS scan, coalesce(w.terms, []) AS terms", read_=True)
        for r in rows:
            hits = [lead.lead_id for lead in leads if _scan_matches(r["scan"], r["terms"], lead)]
            if hits:
                touched[r["id"]] = TouchedWatch(
                    watch_id=r["id"], user_id=r["uid"], label=r["label"],
                    justification=r["why"], scan=r["scan"], lead_ids=hits)
    return sorted(touched.values(), key=lambda t: t.watch_id)


def fold(text: str) -> str:
    """Accent- and case-insensitive text, for the words of a full-text watch."""
    folded = unicodedata.normalize("NFKD", text)
    return "".join(c for c in folded if not unicodedata.combining(c)).lower()


def _scan_matches(scan: str, terms: list[str], lead: BatchLead) -> bool:
    if scan == "keys":  # any of these exact keys (approximate plates: the candidates)
        return not set(terms).isdisjoint(lead.keys)
    if scan == "fragment":  # "<kind>:<fragment>": a key of that kind containing the fragment
        for term in terms:
            kind, _, fragment = term.partition(":")
            if any(k.startswith(kind + ":") and fragment in k[len(kind) + 1:] for k in lead.keys):
                return True
        return False
    if scan == "text":  # every word, folded, in the narrative
        text = fold(lead.narrative or "")
        return bool(terms) and all(t in text for t in terms)
    return False


def watch_owners(graph: Graph, user_ids: Iterable[str]) -> dict[str, WatchOwner]:
    """The owners' accounts (absent: no such user any more)."""
    rows = graph.query(
        f"UNWIND $ids AS id MATCH (u:{Label.USER.value} {{user_id: id}}) "
        "RETURN u.user_id AS user_id, u.name AS name, u.agency AS agency, u.role AS role, "
        "coalesce(u.disabled, false) AS disabled", ids=sorted(set(user_ids)), read_=True)
    return {r["user_id"]: WatchOwner(**r.data()) for r in rows}


def grants_of(graph: Graph, user_ids: Iterable[str], now: datetime) -> dict[str, list]:
    """Each owner's grants active at ``now`` (graph/grants/active.py's projection), in one read
    for the whole batch rather than one per watcher."""
    rows = graph.query(f"UNWIND $uids AS uid RETURN uid, {grants_projection('uid')}",
                       uids=sorted(set(user_ids)), now=utc(now), read_=True)
    return {r["uid"]: grants_from(r["guest_grants"], r["disclosure_grants"]) for r in rows}


def record_hits(graph: Graph, hits: list[WatchHit], now: datetime,
                before_commit: Callable[[], None] | None = None) -> int:
    """Write the notifications (kind ``watch_hit``) and each watch's hit count, in one
    transaction; ``before_commit`` (the audit append) runs before it commits."""
    if not hits:
        return 0

    def work(tx: neo4j.Transaction) -> int:
        counts: dict[str, int] = {}
        for hit in hits:
            counts[hit.watch_id] = counts.get(hit.watch_id, 0) + 1
        tx.run(f"UNWIND $rows AS row MATCH (w:{_W} {{watch_id: row.id}}) "
               "SET w.hit_count = coalesce(w.hit_count, 0) + row.n, w.last_hit_at = $now",
               rows=[{"id": k, "n": v} for k, v in counts.items()], now=utc(now)).consume()
        if before_commit is not None:
            before_commit()
        # One query for every hit; the notification ledger is the last lock taken (notify's contract).
        notify_many(tx, [(hit.agency, hit.user_id, NotificationKind.WATCH_HIT, hit.message,
                          {"watch_id": hit.watch_id, **hit.payload}) for hit in hits], now)
        return len(hits)

    return graph.write_once(work)


def end_watches(graph: Graph, user_ids: dict[str, EndReason], now: datetime,
                agencies: dict[str, str],
                before_commit: Callable[[list[dict[str, Any]]], None] | None = None,
                ) -> list[dict[str, Any]]:
    """End every active watch of these users, each with its reason; tell each owner (their
    notifications stay theirs, should the account come back). Returns the ended watches."""
    if not user_ids:
        return []

    def work(tx: neo4j.Transaction) -> list[dict[str, Any]]:
        rows = tx.run(
            f"UNWIND $rows AS row MATCH (w:{_W}) WHERE w.user_id = row.uid AND w.ended_at IS NULL "
            "SET w.ended_at = $now, w.end_reason = row.reason "
            "REMOVE w.match_key, w.scan_active "
            "RETURN w.watch_id AS watch_id, w.user_id AS user_id, w.label AS label, "
            "w.end_reason AS reason",
            rows=[{"uid": u, "reason": r.value} for u, r in user_ids.items()], now=utc(now))
        ended = [plain(r.data()) for r in rows]
        if ended and before_commit is not None:
            before_commit(ended)
        notify_many(tx, [(agencies.get(w["user_id"], ""), w["user_id"], NotificationKind.WATCH_ENDED,
                          ended_message_fr(w["label"], EndReason(w["reason"])),
                          {"watch_id": w["watch_id"], "reason": w["reason"]}) for w in ended], now)
        return ended

    return graph.write_once(work)
