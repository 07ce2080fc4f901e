"""Merges and splits: a "same" judgement joins two entities, reversibly, for everyone.

A merge never touches an entity or a lead: it is one ``MERGED_INTO`` relationship from the
pair's first entity to its second (the canonical one; reads treat a merged group without
direction, ``graph.read.merged_group``), carrying only ``merge_id``. Splitting deletes that one
relationship, so merge then split leaves the entity/lead graph exactly as it was. The
bookkeeping is an ``EntityMerge`` node per merge (state, who asked, who must countersign, who
did, who split) beside the ``ResolutionJudgement`` nodes (graph/resolution/judgements.py);
neither is linked to anything.

When the two entities rest on leads of agencies other than the judge's — those the judge may at
least know of (policies/resolution.py ``countersigners``) — the merge waits: each such agency is
notified and one of its countersigning roles accepts or refuses; the link is made only when every
awaited agency accepted. Every change is audited by the caller's ``before_commit`` inside the
write transaction, so nothing is changed that is not logged.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import neo4j

from graph.access import AccessFilter
from graph.grants._common import new_id
from graph.grants.models import NotificationKind
from graph.grants.notifications import notify_many
from graph.handle import Graph
from graph.labels import EntityKind, Label, Rel
from graph.records import plain
from graph.resolution.judgements import MERGE, record_judgement
from graph.resolution.models import JudgementRecord, MergeView, Side
from graph.resolution.sides import known_entities, pair_handle
from hub.contract.errors import Conflict, NotFound
from policies.resolution import (
    MERGE_STATE_LABELS_FR,
    VERDICT_LABELS_FR,
    MergeState,
    ResolutionRules,
    Verdict,
    countersigners,
    may_countersign,
    may_undo,
    merge_state,
    pair_key,
    split_pair,
)

MERGED_INTO = Rel.MERGED_INTO.value
UNKNOWN_PAIR = "paire inconnue"
UNKNOWN_MERGE = "fusion inconnue"
Hook = Callable[[Any], None]


def _eids(tx: neo4j.ManagedTransaction, key: str) -> tuple[str | None, str | None, str]:
    """Element ids of the pair's two entities (None where absent) and their kind."""
    a, b = split_pair(key)
    kind = EntityKind(a.partition(":")[0])
    label, prop = kind.label.value, kind.key_property
    record = tx.run(f"OPTIONAL MATCH (x:{label} {{{prop}: $a}}) OPTIONAL MATCH (y:{label} {{{prop}: $b}}) "
                    f"RETURN elementId(x) AS a, elementId(y) AS b",
                    a=a.partition(":")[2], b=b.partition(":")[2]).single()
    return record["a"], record["b"], kind.value


def _group_size(tx: neo4j.ManagedTransaction, eids: list[str], bound: int) -> tuple[int, bool]:
    """Entities the merged groups of ``eids`` would join, and whether they already are one."""
    record = tx.run(
        f"UNWIND $eids AS eid MATCH (x) WHERE elementId(x) = eid "
        f"MATCH (x)-[:{MERGED_INTO}*0..{bound}]-(m) "
        f"WITH eid, collect(DISTINCT elementId(m)) AS group "
        f"RETURN collect(group) AS groups", eids=eids).single()
    groups = [set(g) for g in record["groups"]]
    together = len(groups) == 2 and eids[1] in groups[0]
    return len(set().union(*groups)), together


def _link(tx: neo4j.ManagedTransaction, merge_id: str, a_eid: str, b_eid: str) -> None:
    tx.run(f"MATCH (a) WHERE elementId(a) = $a MATCH (b) WHERE elementId(b) = $b "
           f"CREATE (a)-[:{MERGED_INTO} {{merge_id: $id}}]->(b)",
           a=a_eid, b=b_eid, id=merge_id).consume()


def judge(graph: Graph, access: AccessFilter, *, key: str, verdict: Verdict, reason: str,
          user_id: str, agency: str, rules: ResolutionRules, now: datetime,
          notice: Callable[[str], str], before_commit: Hook) -> JudgementRecord:
    """Record a verdict on the pair ``key``; "same" opens a merge, made at once when no other
    agency must countersign. ``NotFound`` (as for a pair nobody made) when the caller may not
    know of a side or may read neither; ``Conflict`` when the pair is merged or awaiting."""
    pair_key(*split_pair(key))  # a well-formed pair of one mergeable kind, or ValueError

    def work(tx: neo4j.ManagedTransaction) -> JudgementRecord:
        a_eid, b_eid, kind = _eids(tx, key)
        known = known_entities(tx, access, [e for e in (a_eid, b_eid) if e], 1)
        a, b = known.get(a_eid or ""), known.get(b_eid or "")
        if a is None or b is None or not (a.readable or b.readable):
            raise NotFound(UNKNOWN_PAIR)
        merge = None
        merge_id = None
        if verdict is Verdict.SAME:
            busy = tx.run(f"MATCH (m:{MERGE} {{pair_key: $key}}) WHERE m.state IN $busy "
                          f"RETURN count(m) AS n", key=key,
                          busy=[MergeState.PENDING.value, MergeState.MERGED.value]).single()["n"]
            size, together = _group_size(tx, [a.eid, b.eid], rules.max_group_size)
            if busy or together:
                raise Conflict("ces deux entités sont déjà fusionnées ou en attente de contre-signature")
            if size > rules.max_group_size:
                raise Conflict(f"fusion refusée : une identité fusionnée réunit au plus "
                               f"{rules.max_group_size} entités")
            required = sorted(countersigners(agency, a.agencies | b.agencies))
            merge_id = new_id("mg")
            state = merge_state(required, [], False)
            tx.run(f"CREATE (:{MERGE} {{merge_id: $id, pair_key: $key, kind: $kind, a: $a, b: $b, "
                   f"state: $state, required: $required, signed: [], judge_agency: $agency, "
                   f"judge_user: $user, reason: $reason, created_at: $now, updated_at: $now}})",
                   id=merge_id, key=key, kind=kind, a=a.entity, b=b.entity, state=state.value,
                   required=required, agency=agency, user=user_id, reason=reason, now=now).consume()
            if state is MergeState.MERGED:
                _link(tx, merge_id, a.eid, b.eid)
            else:
                notify_many(tx, [(r, None, NotificationKind.RESOLUTION_COUNTERSIGN, notice(r),
                                  {"merge_id": merge_id}) for r in required], now)
            merge = _view(tx, access, _merge_props(tx, merge_id), agency)
        judgement_id = new_id("jg")
        record_judgement(tx, judgement_id=judgement_id, pair_key=key, kind=kind, verdict=verdict,
                         reason=reason, user_id=user_id, agency=agency, at=now, merge_id=merge_id)
        record = JudgementRecord(
            judgement_id=judgement_id, pair=pair_handle(access, key), kind=kind,
            verdict=verdict.value, verdict_label=VERDICT_LABELS_FR[verdict], reason=reason,
            agency=agency, user_id=user_id, at=now, merge=merge)
        before_commit(record)
        return record

    return graph.write(work)


def _merge_props(tx: neo4j.ManagedTransaction, merge_id: str, *, lock: bool = False,
                 now: datetime | None = None) -> dict[str, Any] | None:
    query = f"MATCH (m:{MERGE} {{merge_id: $id}}) "
    if lock:  # the write lock first: two countersignatures of one merge never interleave
        query += "SET m.locked_at = $now "
    record = tx.run(query + "RETURN properties(m) AS m", id=merge_id, now=now).single()
    return plain(record["m"]) if record else None


def _view(tx: neo4j.ManagedTransaction, access: AccessFilter, m: dict[str, Any],
          viewer_agency: str) -> MergeView:
    a_eid, b_eid, _ = _eids(tx, m["pair_key"])
    known = known_entities(tx, access, [e for e in (a_eid, b_eid) if e], 5)

    def side(eid: str | None) -> Side:
        found = known.get(eid or "")
        return found.side(access) if found else Side(kind=m["kind"], readable=False)

    state = MergeState(m["state"])
    required, signed = list(m.get("required") or []), list(m.get("signed") or [])
    judge = m["judge_agency"] == viewer_agency
    return MergeView(
        merge_id=m["merge_id"], pair=pair_handle(access, m["pair_key"]), kind=m["kind"],
        a=side(a_eid), b=side(b_eid), state=state.value, state_label=MERGE_STATE_LABELS_FR[state],
        requested_by_agency=m["judge_agency"], requested_at=m["created_at"],
        awaiting_you=state is MergeState.PENDING and viewer_agency in set(required) - set(signed),
        # The full list to the judge's agency only (computed from what it may know of).
        awaiting=sorted(set(required) - set(signed)) if judge else [],
        signed=signed if judge else [a for a in signed if a == viewer_agency],
        decided_at=m.get("decided_at"),
        undone_at=m.get("undone_at"))


def countersign(graph: Graph, access: AccessFilter, *, merge_id: str, accept: bool, reason: str,
                user_id: str, agency: str, role: str, rules: ResolutionRules, now: datetime,
                notice: Callable[[bool], str], before_commit: Hook) -> MergeView:
    """An awaited agency accepts (the link is made once every awaited agency has) or refuses
    (nothing is merged). ``NotFound`` for a merge the caller's agency is not awaited on."""

    def work(tx: neo4j.ManagedTransaction) -> MergeView:
        m = _merge_props(tx, merge_id, lock=True, now=now)
        if m is None or m["state"] != MergeState.PENDING.value or not may_countersign(
                rules, role, agency, m["required"], m["signed"]):
            raise NotFound(UNKNOWN_MERGE)
        signed = sorted({*m["signed"], agency}) if accept else list(m["signed"])
        state = merge_state(m["required"], signed, not accept)
        if state is MergeState.MERGED:
            a_eid, b_eid, _ = _eids(tx, m["pair_key"])
            size, together = _group_size(tx, [a_eid, b_eid], rules.max_group_size)
            if together or size > rules.max_group_size:
                raise Conflict("fusion impossible : les deux entités sont déjà réunies ou le "
                               "groupe dépasserait la taille permise")
            _link(tx, merge_id, a_eid, b_eid)
        tx.run(f"MATCH (m:{MERGE} {{merge_id: $id}}) SET m.signed = $signed, m.state = $state, "
               f"m.updated_at = $now, m.decided_at = CASE WHEN $state = $pending THEN null ELSE $now END, "
               f"m.refused_by = CASE WHEN $refused THEN $agency ELSE m.refused_by END, "
               f"m.countersign_reasons = coalesce(m.countersign_reasons, []) + [$agency + ': ' + $reason]",
               id=merge_id, signed=signed, state=state.value, now=now, agency=agency,
               pending=MergeState.PENDING.value, refused=not accept, reason=reason).consume()
        if state is not MergeState.PENDING:
            notify_many(tx, [(m["judge_agency"], None, NotificationKind.RESOLUTION_DECIDED,
                              notice(state is MergeState.MERGED), {"merge_id": merge_id})], now)
        view = _view(tx, access, _merge_props(tx, merge_id), agency)
        before_commit(view)
        return view

    return graph.write(work)


def undo(graph: Graph, access: AccessFilter, *, merge_id: str, reason: str, user_id: str,
         agency: str, now: datetime, before_commit: Hook) -> MergeView:
    """Split: delete the merge's one link (or withdraw a pending merge). Only the judge's agency
    or an awaited one may; ``NotFound`` for anyone else, as for an unknown merge."""

    def work(tx: neo4j.ManagedTransaction) -> MergeView:
        m = _merge_props(tx, merge_id, lock=True, now=now)
        if m is None or not may_undo(agency, m["judge_agency"], m["required"]):
            raise NotFound(UNKNOWN_MERGE)
        if m["state"] not in (MergeState.MERGED.value, MergeState.PENDING.value):
            raise Conflict("cette fusion n'est plus en vigueur : rien à annuler")
        tx.run(f"MATCH ()-[r:{MERGED_INTO} {{merge_id: $id}}]->() DELETE r", id=merge_id).consume()
        tx.run(f"MATCH (m:{MERGE} {{merge_id: $id}}) SET m.state = $state, m.updated_at = $now, "
               f"m.undone_at = $now, m.undone_by = $user, m.undone_agency = $agency, "
               f"m.undo_reason = $reason",
               id=merge_id, state=MergeState.UNDONE.value, now=now, user=user_id, agency=agency,
               reason=reason).consume()
        view = _view(tx, access, _merge_props(tx, merge_id), agency)
        before_commit(view)
        return view

    return graph.write(work)


def list_merges(graph: Graph, access: AccessFilter, agency: str, limit: int = 200) -> list[MergeView]:
    """Merges the caller's agency asked for or is awaited on, newest first."""

    def work(tx: neo4j.ManagedTransaction) -> list[MergeView]:
        rows = tx.run(f"MATCH (m:{MERGE}) WHERE m.judge_agency = $agency OR $agency IN m.required "
                      f"RETURN properties(m) AS m ORDER BY m.updated_at DESC LIMIT $limit",
                      agency=agency, limit=limit)
        return [_view(tx, access, plain(r["m"]), agency) for r in list(rows)]

    return graph.read(work)


SCHEMA_LABELS = (Label.ENTITY_MERGE, Label.RESOLUTION_JUDGEMENT)
