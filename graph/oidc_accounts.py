"""Hub accounts of people who sign in through their agency's identity provider (OIDC): the link
between a hub ``(:User)`` and one (issuer, subject), stored on the user as ``oidc_link``
(``<issuer>#<sub>``, unique), ``oidc_issuer`` and ``oidc_subject``. The rules (which provider,
which role, when an account is created) are policies/auth/oidc.py; this module only stores.

A user is linked once, at their first OIDC sign-in, when the hub creates the account; an existing
account is never linked implicitly (docs/decisions/0021).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import neo4j

from graph.handle import Graph
from graph.identity import Principal
from graph.identity.lifecycle import MOVED, AccountChange, end_rights
from graph.labels import Label
from policies.auth.oidc import LinkedAccount

SCHEMA: list[str] = [
    f"CREATE CONSTRAINT user_oidc_link_unique IF NOT EXISTS FOR (n:{Label.USER.value}) "
    "REQUIRE n.oidc_link IS UNIQUE",
]


def _account(u: dict[str, Any] | None) -> LinkedAccount | None:
    if u is None:
        return None
    return LinkedAccount(user_id=u["user_id"], name=u.get("name") or u["user_id"],
                         agency=u.get("agency") or "", disabled=bool(u.get("disabled")),
                         oidc_link=u.get("oidc_link"))


def find_accounts(graph: Graph, link: str, user_id: str) -> tuple[LinkedAccount | None,
                                                                  LinkedAccount | None]:
    """(the account linked to ``link``, the account holding ``user_id``), each None if none."""

    def work(tx: neo4j.ManagedTransaction):
        row = tx.run(
            "OPTIONAL MATCH (l:User {oidc_link: $link}) "
            "OPTIONAL MATCH (u:User {user_id: $uid}) "
            "RETURN l {.*, password_hash: null} AS l, u {.*, password_hash: null} AS u",
            link=link, uid=user_id).single()
        return _account(row["l"]), _account(row["u"])

    return graph.read(work)


class AccountConflict(Exception):
    """The account to create exists already (a concurrent first sign-in, or an unlinked one)."""


def sign_in_account(graph: Graph, *, link: str, issuer: str, subject: str, user_id: str,
                    name: str, agency: str, role: str,
                    on_role_change: Callable[[AccountChange], None] | None = None) -> Principal:
    """The linked account, its role set to ``role`` (the agency's provider decides it at each
    sign-in); created and linked when none is linked yet. ``AccountConflict`` when the user id is
    taken by an account linked elsewhere or not at all.

    A role that changed is a mover's (graph/identity/lifecycle.py): every right held under the
    old role ends in the same transaction, and ``on_role_change`` (the audit append) runs before
    the commit."""

    def work(tx: neo4j.ManagedTransaction) -> Principal:
        before = tx.run("MATCH (u:User {oidc_link: $link}) "
                        "SET u.revision = coalesce(u.revision, 0) + 1 "
                        "RETURN u.user_id AS uid, u.name AS name, u.agency AS agency, "
                        "u.role AS role, coalesce(u.disabled, false) AS disabled",
                        link=link).single()
        change = None
        if before is not None and before["role"] != role and not before["disabled"]:
            now = datetime.now(UTC)
            ended = end_rights(tx, before["uid"], now=now, by=f"oidc:{issuer}", reason=MOVED)
            change = AccountChange(kind="moved", user_id=before["uid"], name=before["name"],
                                   old_agency=before["agency"], old_role=before["role"],
                                   new_user_id=before["uid"], new_agency=before["agency"],
                                   new_role=role, ended=ended, at=now)
        row = tx.run(
            "MATCH (u:User {oidc_link: $link}) SET u.role = $role, u.last_oidc_sign_in = datetime() "
            "RETURN u {.*, password_hash: null} AS u", link=link, role=role).single()
        if change is not None and on_role_change is not None:
            on_role_change(change)
        if row is None:
            if tx.run("MATCH (u:User {user_id: $uid}) RETURN count(u) AS n",
                      uid=user_id).single()["n"]:
                raise AccountConflict(user_id)
            row = tx.run(
                "CREATE (u:User {user_id: $uid, name: $name, agency: $agency, role: $role, "
                "  disabled: false, created_at: datetime(), oidc_link: $link, "
                "  oidc_issuer: $issuer, oidc_subject: $subject, last_oidc_sign_in: datetime()}) "
                "RETURN u {.*, password_hash: null} AS u",
                uid=user_id, name=name, agency=agency, role=role, link=link, issuer=issuer,
                subject=subject).single()
        u = row["u"]
        return Principal(**{k: v for k, v in u.items() if k in Principal.model_fields})

    try:
        return graph.write(work)
    except neo4j.exceptions.ConstraintError as exc:  # a concurrent first sign-in won
        raise AccountConflict(user_id) from exc
