"""Users and their API tokens: only a SHA-256 of each token is kept (tokens carry 256 random bits,
so a slow hash adds nothing but latency on every request). ``principal_for_token`` is the one
graph round trip of a request's identity: the user with their active grants.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from graph.handle import Graph
from graph.identity.models import IssuedToken, Principal
from graph.labels import Label
from graph.records import node_by_key
from hub.contract.errors import NotFound

TOKEN_PREFIX = "chx_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def user_id_for(agency: str, name: str) -> str:
    return f"{agency}:{name}"


def upsert_user(graph: Graph, *, agency: str, role: str, name: str,
                contact: str | None = None, password_hash: str | None = None) -> Principal:
    uid = user_id_for(agency, name)
    records = graph.query(
        "MERGE (u:User {user_id: $uid}) "
        "ON CREATE SET u.created_at = datetime(), u.disabled = false "
        # A disabled account stays disabled: re-enabling is a deliberate act, not a side effect.
        "SET u.name = $name, u.agency = $agency, u.role = $role, "
        "    u.contact = coalesce($contact, u.contact), "
        "    u.password_hash = coalesce($password_hash, u.password_hash) "
        "RETURN u {.*} AS u",
        uid=uid, name=name, agency=agency, role=role, contact=contact, password_hash=password_hash,
    )
    return _principal(records[0]["u"])


def get_user(graph: Graph, user_id: str) -> Principal:
    return _principal(node_by_key(graph, Label.USER, user_id, "utilisateur inconnu"))


def list_users(graph: Graph) -> list[Principal]:
    records = graph.query(
        "MATCH (u:User) RETURN u {.*} AS u ORDER BY u.user_id",
        read_=True,
    )
    return [_principal(r["u"]) for r in records]


def issue_token(graph: Graph, user_id: str,
                ttl: timedelta | None = None, purpose: str = "api") -> IssuedToken:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires_at = datetime.now(UTC) + ttl if ttl else None
    records = graph.query(
        "MATCH (u:User {user_id: $uid}) "
        "CREATE (t:ApiToken {token_hash: $hash, user_id: $uid, created_at: datetime(), "
        "        expires_at: $expires_at, purpose: $purpose}) "
        "RETURN count(t) AS n",
        uid=user_id, hash=hash_token(token), expires_at=expires_at, purpose=purpose,
    )
    if records[0]["n"] == 0:
        raise NotFound(f"utilisateur inconnu : {user_id}")
    return IssuedToken(token=token, user_id=user_id, expires_at=expires_at)


def principal_for_token(graph: Graph, token: str) -> Principal | None:
    """The active user holding this token, with their active grants, or None (unknown,
    revoked, expired, disabled). The one graph round trip of a request's identity."""
    from graph.grants import grants_from, grants_projection

    records = graph.query(
        "MATCH (t:ApiToken {token_hash: $hash}) "
        "WHERE t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > $now) "
        "MATCH (u:User {user_id: t.user_id}) WHERE NOT coalesce(u.disabled, false) "
        # the hash never rides along with a request
        f"RETURN u {{.*, password_hash: null}} AS u, {grants_projection('u.user_id')}",
        hash=hash_token(token), now=datetime.now(UTC), read_=True,
    )
    if not records:
        return None
    r = records[0]
    principal = _principal(r["u"])
    principal.active_grants = grants_from(r["guest_grants"], r["disclosure_grants"])
    return principal


def revoke_token(graph: Graph, token: str) -> bool:
    records = graph.query(
        "MATCH (t:ApiToken {token_hash: $hash}) WHERE t.revoked_at IS NULL "
        "SET t.revoked_at = datetime() RETURN count(t) AS n",
        hash=hash_token(token),
    )
    return records[0]["n"] > 0


def revoke_user_tokens(graph: Graph, user_id: str) -> int:
    records = graph.query(
        "MATCH (t:ApiToken {user_id: $uid}) WHERE t.revoked_at IS NULL "
        "SET t.revoked_at = datetime() RETURN count(t) AS n",
        uid=user_id,
    )
    return records[0]["n"]


def active_token_counts(graph: Graph) -> dict[str, int]:
    """user_id → number of API tokens neither revoked nor expired (users without any absent)."""
    records = graph.query(
        "MATCH (t:ApiToken) WHERE t.revoked_at IS NULL "
        "AND (t.expires_at IS NULL OR t.expires_at > $now) "
        "RETURN t.user_id AS uid, count(*) AS n",
        now=datetime.now(UTC), read_=True,
    )
    return {r["uid"]: r["n"] for r in records}


def _principal(u: dict[str, Any]) -> Principal:
    return Principal(**{k: v for k, v in u.items() if k in Principal.model_fields})
