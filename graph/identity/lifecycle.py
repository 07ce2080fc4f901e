"""Accounts over time, the graph side: a person moves (another role, or another agency), leaves,
or is disabled for inactivity or by an access review — and every right the account held ends in
the same transaction; and the account's last use, recorded cheaply.

The rights an account holds outside ``(:User)`` itself, all ended by ``end_rights``: its open
sessions (``revoked_reason`` says why: their access tokens and refresh tokens die with them —
hub/deps.py checks the session at every request), its API tokens, the guest grants made to it,
its disclosure requests still awaiting an answer (declined by the hub: the requester is no longer
the person who asked in that capacity) and its approved disclosures (expired now).

An agency change is not an edit: a user id names its agency (``<agency>:<name>``) and every
trail entry the person wrote under it stays theirs *as a member of that agency*. So a move to
another agency disables the old account (``moved_to``) and creates ``<new agency>:<name>``
(``moved_from``), with no password and no grant: the person starts in the new agency with what
its role gives. A role change keeps the account and its id.

Writes take a ``before_commit`` callback (the hub's audit append): an entry the trail could not
write rolls the change back.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import neo4j
from pydantic import BaseModel, Field

from graph.handle import Graph
from graph.identity.models import Principal
from graph.identity.users import user_id_for
from graph.labels import Label
from graph.records import plain, utc
from hub.contract.errors import Conflict, InvalidInput, NotFound
from policies.accounts import movable

# Why an account's rights ended (stored on its sessions and the account, named in the trail).
MOVED, LEFT, INACTIVE, REVIEW = "account_moved", "account_left", "account_inactive", "access_review"
DISABLED = "account_disabled"  # an administrator's decision (« crosshub users disable »)

_DECLINE_FR = {
    MOVED: "demande close : le demandeur a changé de service ou de rôle",
    LEFT: "demande close : le demandeur a quitté la CROSS",
    INACTIVE: "demande close : compte du demandeur désactivé pour inactivité",
    REVIEW: "demande close : compte du demandeur désactivé lors de la revue des accès",
    DISABLED: "demande close : compte du demandeur désactivé par un administrateur",
}


class EndedRights(BaseModel):
    """What ``end_rights`` ended for one account."""

    sessions: int = 0
    api_tokens: int = 0
    guest_grants: list[str] = Field(default_factory=list)
    requests_declined: list[str] = Field(default_factory=list)
    disclosures_ended: list[str] = Field(default_factory=list)
    lead_ids: list[str] = Field(default_factory=list)  # of the grants and requests ended
    entity_keys: list[str] = Field(default_factory=list)

    @property
    def grants_ended(self) -> bool:
        return bool(self.guest_grants or self.requests_declined or self.disclosures_ended)


class AccountChange(BaseModel):
    """One account change, as the trail records it: who the account was, who it is now."""

    kind: str  # "moved" | "left" | "inactive" | "review"
    user_id: str
    name: str
    old_agency: str
    old_role: str
    new_user_id: str | None = None  # the account now in use (None: none, the person left)
    new_agency: str | None = None
    new_role: str | None = None
    ended: EndedRights
    at: datetime


def touch_last_use(graph: Graph, user_id: str, now: datetime, resolution: timedelta) -> None:
    """Record the account's last use, unless one was recorded less than ``resolution`` ago (a
    conditional write, so concurrent requests of one account write once).

    Run outside the request's causal scope (graph/handle.py), in an empty context: it is
    bookkeeping no client reads back, so a read stays a read — it hands on no bookmark and makes
    no follower wait for it."""
    contextvars.Context().run(
        graph.query,
        "MATCH (u:User {user_id: $uid}) "
        "WHERE u.last_used_at IS NULL OR u.last_used_at <= $before "
        "SET u.last_used_at = $now",
        uid=user_id, now=utc(now), before=utc(now - resolution),
    )


def _lock_user(tx: neo4j.Transaction, user_id: str) -> dict[str, Any]:
    row = tx.run("MATCH (u:User {user_id: $uid}) SET u.revision = coalesce(u.revision, 0) + 1 "
                 "RETURN u {.*, password_hash: null} AS u", uid=user_id).single()
    if row is None:
        raise NotFound(f"utilisateur inconnu : {user_id}")
    return plain(row["u"])


def end_rights(tx: neo4j.Transaction, user_id: str, *, now: datetime, by: str,
                reason: str) -> EndedRights:
    sessions = tx.run(
        "MATCH (s:Session {user_id: $uid}) WHERE s.revoked_at IS NULL AND s.expires_at > $now "
        "SET s.revoked_at = $now, s.revoked_reason = $reason RETURN count(s) AS n",
        uid=user_id, now=now, reason=reason).single()["n"]
    tokens = tx.run(
        "MATCH (t:ApiToken {user_id: $uid}) WHERE t.revoked_at IS NULL "
        "SET t.revoked_at = $now, t.revoked_reason = $reason RETURN count(t) AS n",
        uid=user_id, now=now, reason=reason).single()["n"]
    guests = tx.run(
        f"MATCH (g:{Label.GUEST_GRANT.value} {{grantee_user_id: $uid}}) "
        "WHERE g.revoked_at IS NULL AND g.expired_at IS NULL AND g.valid_until > $now "
        "SET g.revoked_at = $now, g.revoked_by = $by, g.revoke_reason = $reason "
        "RETURN g.grant_id AS id, g.lead_ids AS leads, g.entity_keys AS keys",
        uid=user_id, now=now, by=by, reason=reason).data()
    declined = tx.run(
        f"MATCH (r:{Label.DISCLOSURE_REQUEST.value} {{requester_user_id: $uid, status: 'requested'}}) "
        "SET r.status = 'declined', r.decided_by = $by, r.decided_by_name = 'CROSS Hub', "
        "    r.decided_at = $now, r.decision_reason = $text "
        "RETURN r.request_id AS id, r.lead_id AS lead",
        uid=user_id, now=now, by=by, text=_DECLINE_FR[reason]).data()
    ended = tx.run(
        f"MATCH (r:{Label.DISCLOSURE_REQUEST.value} {{requester_user_id: $uid, status: 'approved'}}) "
        "WHERE r.valid_until IS NULL OR r.valid_until > $now "
        "SET r.status = 'expired', r.expired_at = $now, r.valid_until = $now, "
        "    r.ended_reason = $reason "
        "RETURN r.request_id AS id, r.lead_id AS lead",
        uid=user_id, now=now, reason=reason).data()
    leads = {lid for g in guests for lid in (g["leads"] or [])} | {r["lead"] for r in declined + ended}
    return EndedRights(
        sessions=sessions, api_tokens=tokens, guest_grants=[g["id"] for g in guests],
        requests_declined=[r["id"] for r in declined], disclosures_ended=[r["id"] for r in ended],
        lead_ids=sorted(leads),
        entity_keys=sorted({k for g in guests for k in (g["keys"] or [])}))


def move_account(graph: Graph, user_id: str, *, agency: str | None, role: str | None, by: str,
                 now: datetime,
                 before_commit: Callable[[AccountChange], None] | None = None) -> AccountChange:
    """Give the person another role and/or agency (None: unchanged), ending every right of the
    old ones at once (see the module's docstring for why an agency change is a new account)."""
    now = utc(now)

    def work(tx: neo4j.Transaction) -> AccountChange:
        old = _lock_user(tx, user_id)
        movable(old["role"], field="user_id")
        new_agency, new_role = agency or old["agency"], role or old["role"]
        movable(new_role)
        if old.get("disabled"):
            raise Conflict(f"compte désactivé : {user_id}",
                           details=[{"field": "user_id", "reason": "compte désactivé"}])
        if old["agency"] == new_agency and old["role"] == new_role:
            raise InvalidInput("rien à changer : même service et même rôle", details=[
                {"field": "role", "reason": "le compte a déjà ce service et ce rôle"}])
        ended = end_rights(tx, user_id, now=now, by=by, reason=MOVED)
        new_uid = user_id
        if new_agency != old["agency"]:
            new_uid = user_id_for(new_agency, old["name"])
            if tx.run("MATCH (u:User {user_id: $uid}) RETURN count(u) AS n",
                      uid=new_uid).single()["n"]:
                raise Conflict(f"le compte {new_uid} existe déjà", details=[
                    {"field": "agency", "reason": f"{new_uid} existe déjà dans ce service"}])
            tx.run("CREATE (n:User {user_id: $new, name: $name, agency: $agency, role: $role, "
                   "  contact: $contact, disabled: false, created_at: $now, moved_from: $old})",
                   new=new_uid, name=old["name"], agency=new_agency, role=new_role,
                   contact=old.get("contact"), now=now, old=user_id).consume()
            tx.run("MATCH (u:User {user_id: $old}) SET u.disabled = true, u.disabled_at = $now, "
                   "u.disabled_reason = $reason, u.moved_to = $new",
                   old=user_id, now=now, reason=MOVED, new=new_uid).consume()
        else:
            tx.run("MATCH (u:User {user_id: $uid}) SET u.role = $role, u.role_changed_at = $now",
                   uid=user_id, role=new_role, now=now).consume()
        change = AccountChange(kind="moved", user_id=user_id, name=old["name"],
                               old_agency=old["agency"], old_role=old["role"], new_user_id=new_uid,
                               new_agency=new_agency, new_role=new_role, ended=ended,
                               at=now)
        if before_commit:
            before_commit(change)
        return change

    return graph.write_once(work)


def disable_account(graph: Graph, user_id: str, *, reason: str, by: str, now: datetime,
                    before_commit: Callable[[AccountChange], None] | None = None,
                    tx: neo4j.Transaction | None = None) -> AccountChange:
    """Disable the account (a leaver, an inactive account, an access review's decision) and end
    every right it held. ``Conflict`` when it is disabled already. Inside ``tx`` when given (the
    review's decision and the account's end commit together)."""
    now = utc(now)
    kind = {LEFT: "left", INACTIVE: "inactive", REVIEW: "review", DISABLED: "disabled"}[reason]

    def work(tx: neo4j.Transaction) -> AccountChange:
        old = _lock_user(tx, user_id)
        if old.get("disabled"):
            raise Conflict(f"compte déjà désactivé : {user_id}",
                           details=[{"field": "user_id", "reason": "compte déjà désactivé"}])
        ended = end_rights(tx, user_id, now=now, by=by, reason=reason)
        tx.run("MATCH (u:User {user_id: $uid}) SET u.disabled = true, u.disabled_at = $now, "
               "u.disabled_reason = $reason", uid=user_id, now=now, reason=reason).consume()
        change = AccountChange(kind=kind, user_id=user_id, name=old["name"],
                               old_agency=old["agency"], old_role=old["role"], ended=ended, at=now)
        if before_commit:
            before_commit(change)
        return change

    return work(tx) if tx is not None else graph.write_once(work)


class AccountUse(BaseModel):
    """An account as a review or the inactivity sweep sees it."""

    user_id: str
    name: str
    agency: str
    role: str
    disabled: bool = False
    created_at: datetime | None = None
    last_used_at: datetime | None = None


def _use(u: dict[str, Any]) -> AccountUse:
    return AccountUse(**{k: v for k, v in plain(u).items() if k in AccountUse.model_fields})


def list_account_uses(graph: Graph, *, enabled_only: bool = True) -> list[AccountUse]:
    records = graph.query(
        "MATCH (u:User) WHERE NOT ($enabled AND coalesce(u.disabled, false)) "
        "RETURN u {.user_id, .name, .agency, .role, .disabled, .created_at, .last_used_at} AS u "
        "ORDER BY u.user_id", enabled=enabled_only, read_=True)
    return [_use(r["u"]) for r in records]


def inactive_accounts(graph: Graph, cutoffs: dict[str, datetime],
                      limit: int = 500) -> list[AccountUse]:
    """Enabled accounts of the roles in ``cutoffs`` whose last use (or creation) is at or before
    their role's cutoff; accounts without any date are left alone."""
    rows = [{"role": role, "cutoff": utc(cutoff)} for role, cutoff in cutoffs.items()]
    records = graph.query(
        "UNWIND $rows AS row MATCH (u:User {role: row.role}) "
        "WHERE NOT coalesce(u.disabled, false) "
        "  AND coalesce(u.last_used_at, u.created_at) <= row.cutoff "
        "RETURN u {.user_id, .name, .agency, .role, .disabled, .created_at, .last_used_at} AS u "
        "ORDER BY u.user_id LIMIT $limit", rows=rows, limit=limit, read_=True)
    return [_use(r["u"]) for r in records]


def principal_for(graph: Graph, user_id: str) -> Principal | None:
    records = graph.query("MATCH (u:User {user_id: $uid}) RETURN u {.*, password_hash: null} AS u",
                          uid=user_id, read_=True)
    if not records:
        return None
    u = records[0]["u"]
    return Principal(**{k: v for k, v in u.items() if k in Principal.model_fields})
