"""A dossier as stored and as a member reads it: create, list, read, members, close and reopen.

The ``Dossier`` node holds the marking the access engine decides on (``agency``: the lead
agency; ``handling_code``; ``kind``: policies.dossiers.MARKING_KIND), its members (``members``:
user ids, the membership predicate; ``members_json``: who, added when and by whom), the ids of
the leads and entities linked to it (``lead_ids``, ``entity_ids``: never returned as such) and
its status and outcome. Every change goes through ``_common.change`` (lock, find as the member may
know it, audit before commit).
"""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime
from typing import Any

import neo4j

from graph.access import NONE, AccessFilter
from graph.dossiers._common import DOSSIER, TASK, change, find, level_of, members_of, touch
from graph.dossiers.comments import comments_for
from graph.dossiers.links import entity_views, lead_views
from graph.dossiers.models import DossierChange, DossierSummary, DossierView, Member
from graph.dossiers.tasks import tasks_of
from graph.handle import Graph
from graph.identity import Principal
from graph.records import plain, utc
from graph.schema import unique_constraint
from graph.labels import Label
from hub.contract.errors import InvalidInput
from policies import dossiers as rules
from policies.engine import decide
from policies.lifecycle import CloseOutcome
from policies.models import Caller, Policy

SCHEMA: list[str] = [
    unique_constraint(Label.DOSSIER),
    unique_constraint(Label.DOSSIER_TASK),
    unique_constraint(Label.DOSSIER_COMMENT),
    # A dossier's tasks and comments, and the agenda's open dossiers.
    f"CREATE INDEX dossiertask_dossier IF NOT EXISTS FOR (n:{TASK}) ON (n.dossier_id)",
    f"CREATE INDEX dossiercomment_dossier IF NOT EXISTS FOR (n:{Label.DOSSIER_COMMENT.value}) ON (n.dossier_id)",
    f"CREATE INDEX dossier_status IF NOT EXISTS FOR (n:{DOSSIER}) ON (n.status)",
]


def _member(p: Principal, now: datetime, by: str) -> dict[str, Any]:
    return {"user_id": p.user_id, "name": p.name, "agency": p.agency, "role": p.role,
            "added_at": now.isoformat(), "added_by": by}


def create_dossier(graph: Graph, *, title: str, code: str, creator: Principal, now: datetime,
                   before_commit=None) -> str:
    """A new open dossier led by the creator's agency, the creator its first member."""
    dossier_id = f"D-{uuid.uuid4()}"

    def work(tx: neo4j.Transaction) -> str:
        tx.run(f"CREATE (d:{DOSSIER}) SET d = $props",
               props={"dossier_id": dossier_id, "title": title, "agency": creator.agency,
                      "handling_code": code, "kind": rules.MARKING_KIND.value,
                      "status": rules.DossierStatus.OPEN.value, "created_at": utc(now),
                      "updated_at": utc(now), "created_by": creator.user_id,
                      "members": [creator.user_id],
                      "members_json": json.dumps([_member(creator, now, creator.name)], ensure_ascii=False),
                      "lead_ids": [], "entity_ids": []}).consume()
        if before_commit:
            before_commit(DossierChange(dossier_id=dossier_id, step="dossier_created",
                                        details={"handling_code": code}))
        return dossier_id

    return graph.write_once(work)


def _summary(d: dict[str, Any], access: str, reader: AccessFilter, open_tasks: int = 0,
             overdue: int = 0) -> DossierSummary:
    if level_of(access) is rules.Visibility.HIT:
        return DossierSummary(dossier_id=d["dossier_id"], access="hit", agency=d["agency"],
                              contact=reader.contacts.get(d["agency"]))
    return DossierSummary(
        dossier_id=d["dossier_id"], access="read", agency=d["agency"], title=d["title"],
        handling_code=d["handling_code"], status=d["status"], outcome=d.get("outcome"),
        created_at=d["created_at"], member_count=len(d.get("members") or []),
        open_tasks=open_tasks, overdue_tasks=overdue)


def list_for(graph: Graph, user_id: str, access: AccessFilter, today: date) -> list[DossierSummary]:
    """The dossiers ``user_id`` is a member of, each at their level (read or hit; none: absent),
    most recently changed first."""
    rows = graph.read(lambda tx: tx.run(
        f"MATCH (l:{DOSSIER}) WHERE $uid IN l.members "
        f"WITH l, {access.case_expression} AS access WHERE access <> '{NONE}' "
        f"OPTIONAL MATCH (t:{TASK} {{dossier_id: l.dossier_id}}) WHERE NOT t.done "
        "WITH l, access, count(t) AS open, count(CASE WHEN t.due_date < $today THEN 1 END) AS overdue "
        "RETURN l {.*} AS d, access, open, overdue ORDER BY l.updated_at DESC LIMIT 500",
        uid=user_id, today=today, **access.params).data())
    return [_summary(plain(r["d"]), r["access"], access, r["open"], r["overdue"]) for r in rows]


def get_dossier(graph: Graph, dossier_id: str, reader: Principal, access: AccessFilter,
                today: date) -> tuple[DossierView, list[str]]:
    """The dossier as ``reader`` may see it now: a hit (lead agency, whom to call), or the
    dossier with its members, tasks, comments at their markings, and linked leads and entities
    at the reader's levels. ``NotFound`` as an unknown id otherwise. Also the ids of the leads
    shown (full, redacted or hit), for the audit entry."""

    def work(tx: neo4j.ManagedTransaction) -> tuple[dict[str, Any], rules.Visibility, Any, Any, Any]:
        d, level = find(tx, dossier_id, reader.user_id, access)
        if level is not rules.Visibility.READ:
            return d, level, [], [], []
        return (d, level, tasks_of(tx, dossier_id, today), comments_for(tx, dossier_id, access),
                entity_views(tx, d.get("entity_ids") or [], access, dossier_id))

    d, level, tasks, comments, entities = graph.read(work)
    if level is not rules.Visibility.READ:
        return DossierView(**_summary(d, "hit", access).model_dump()), []
    open_tasks = [t for t in tasks if not t.done]
    outcome = d.get("outcome")
    leads, lead_ids = lead_views(graph, d.get("lead_ids") or [], access, dossier_id)
    return DossierView(
        **_summary(d, "full", access, len(open_tasks), sum(t.overdue for t in tasks)).model_dump(),
        outcome_label_fr=rules.outcome_label_fr(outcome) if outcome else None,
        closed_at=d.get("closed_at"), closing_note=d.get("closing_note"),
        may_manage=rules.may_manage(reader.role, reader.agency, d["agency"]),
        members=members_of(d), tasks=tasks, comments=comments, entities=entities,
        leads=leads), lead_ids


# --- members --------------------------------------------------------------------------------------


def level_for(policy: Policy, user: Principal, d: dict[str, Any], now: datetime) -> rules.Visibility:
    """What ``user`` would get of the dossier record now (the engine, on its marking)."""
    caller = Caller(user_id=user.user_id, name=user.name, agency=user.agency, role=user.role)
    marking = rules.dossier_marking(d["dossier_id"], d["agency"], d["handling_code"])
    return rules.visibility(decide(caller, marking, policy, now=now).outcome)


def eligible_members(graph: Graph, dossier_id: str, *, actor: Principal, access: AccessFilter,
                     users: list[Principal], policy: Policy, now: datetime) -> list[Principal]:
    """Whom a manager of the dossier may add: active analysts and chiefs, not yet members, whom
    the dossier's code lets read it."""
    d, _level = graph.read(lambda tx: find(tx, dossier_id, actor.user_id, access))
    rules.check_manage(actor.role, actor.agency, d["agency"])
    members = set(d.get("members") or [])
    return sorted((u for u in users if u.user_id not in members and not u.disabled
                   and rules.member_eligible(u.role)
                   and level_for(policy, u, d, now) is rules.Visibility.READ),
                  key=lambda u: (u.agency, u.name))


def _save_members(tx: neo4j.Transaction, dossier_id: str, members: list[Member], now: datetime) -> None:
    tx.run(f"MATCH (d:{DOSSIER} {{dossier_id: $id}}) SET d.members = $ids, d.members_json = $json, "
           "d.updated_at = $now", id=dossier_id, ids=[m.user_id for m in members],
           json=json.dumps([m.model_dump(mode="json") for m in members], ensure_ascii=False),
           now=utc(now)).consume()


def add_member(graph: Graph, dossier_id: str, *, actor: Principal, access: AccessFilter,
               user: Principal, policy: Policy, now: datetime, before_commit=None) -> list[Member]:
    def work(tx: neo4j.Transaction, d: dict[str, Any]) -> tuple[list[Member], DossierChange]:
        rules.check_manage(actor.role, actor.agency, d["agency"])
        members = members_of(d)
        if user.disabled:
            raise InvalidInput("compte désactivé", details=[{"field": "user_id", "reason": "compte désactivé"}])
        if all(m.user_id != user.user_id for m in members):
            rules.check_new_member(user.role, level_for(policy, user, d, now), len(members))
            members.append(Member(**_member(user, now, actor.name)))
            _save_members(tx, dossier_id, members, now)
        return members, DossierChange(dossier_id=dossier_id, step="member_added",
                                      entity_keys=[f"user:{user.user_id}"],
                                      details={"agency": user.agency})

    return change(graph, dossier_id, actor.user_id, access, work, before_commit=before_commit)


def remove_member(graph: Graph, dossier_id: str, *, actor: Principal, access: AccessFilter,
                  user_id: str, now: datetime, before_commit=None) -> list[Member]:
    def work(tx: neo4j.Transaction, d: dict[str, Any]) -> tuple[list[Member], DossierChange]:
        rules.check_manage(actor.role, actor.agency, d["agency"])
        members = members_of(d)
        if all(m.user_id != user_id for m in members):
            raise InvalidInput("cette personne n'est pas membre du dossier",
                               details=[{"field": "user_id", "reason": "n'est pas membre du dossier"}])
        remaining = [m for m in members if m.user_id != user_id]
        rules.check_removal([m.agency for m in remaining], d["agency"])
        _save_members(tx, dossier_id, remaining, now)
        return remaining, DossierChange(dossier_id=dossier_id, step="member_removed",
                                        entity_keys=[f"user:{user_id}"])

    return change(graph, dossier_id, actor.user_id, access, work, before_commit=before_commit)


# --- close, reopen --------------------------------------------------------------------------------


def close_dossier(graph: Graph, dossier_id: str, *, actor: Principal, access: AccessFilter,
                  outcome: CloseOutcome, note: str, now: datetime, before_commit=None) -> None:
    def work(tx: neo4j.Transaction, d: dict[str, Any]) -> tuple[None, DossierChange]:
        rules.check_manage(actor.role, actor.agency, d["agency"])
        tx.run(f"MATCH (d:{DOSSIER} {{dossier_id: $id}}) SET d.status = $closed, d.outcome = $outcome, "
               "d.closing_note = $note, d.closed_at = $now, d.closed_by = $uid",
               id=dossier_id, closed=rules.DossierStatus.CLOSED.value, outcome=outcome.value,
               note=note, now=utc(now), uid=actor.user_id).consume()
        touch(tx, dossier_id, utc(now))
        return None, DossierChange(dossier_id=dossier_id, step="dossier_closed",
                                   lead_ids=list(d.get("lead_ids") or []),
                                   details={"outcome": outcome.value})

    change(graph, dossier_id, actor.user_id, access, work, before_commit=before_commit)


def reopen_dossier(graph: Graph, dossier_id: str, *, actor: Principal, access: AccessFilter,
                   now: datetime, before_commit=None) -> None:
    def work(tx: neo4j.Transaction, d: dict[str, Any]) -> tuple[None, DossierChange]:
        rules.check_manage(actor.role, actor.agency, d["agency"])
        rules.check_reopen(d["status"])
        tx.run(f"MATCH (d:{DOSSIER} {{dossier_id: $id}}) SET d.status = $open "
               "REMOVE d.outcome, d.closing_note, d.closed_at, d.closed_by",
               id=dossier_id, open=rules.DossierStatus.OPEN.value).consume()
        touch(tx, dossier_id, utc(now))
        return None, DossierChange(dossier_id=dossier_id, step="dossier_reopened",
                                   details={"previous_outcome": d.get("outcome")})

    change(graph, dossier_id, actor.user_id, access, work, before_commit=before_commit,
           must_be_open=False)


def set_handling_code(graph: Graph, dossier_id: str, *, actor: Principal, access: AccessFilter,
                      code: str, now: datetime, before_commit=None) -> None:
    """Change the dossier's own code: from the next read, each member gets of the record what the
    engine gives them at the new code (read, hit or nothing)."""

    def work(tx: neo4j.Transaction, d: dict[str, Any]) -> tuple[None, DossierChange]:
        rules.check_manage(actor.role, actor.agency, d["agency"])
        tx.run(f"MATCH (d:{DOSSIER} {{dossier_id: $id}}) SET d.handling_code = $code",
               id=dossier_id, code=code).consume()
        touch(tx, dossier_id, utc(now))
        return None, DossierChange(dossier_id=dossier_id, step="handling_code_changed",
                                   details={"from": d["handling_code"], "to": code})

    change(graph, dossier_id, actor.user_id, access, work, before_commit=before_commit)
