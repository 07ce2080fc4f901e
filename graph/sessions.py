"""Login sessions, failed-login counters and password hashes — the graph side of people's
authentication (the rules are in policies/auth/; this module only stores).

Owns: ``(:Session {session_id, user_id, created_at, expires_at, revoked_at, client, provider,
refresh_hash, refresh_used, refreshed_at, refreshes, revoked_reason})`` — ``expires_at`` is the
session's absolute end (its access tokens are shorter and renewed by refresh tokens, of which only
the SHA-256 of the current one and of the ones already used are kept: ``rotate_refresh``),
``(:LoginAttempts {throttle_key, failures, window_started_at, locked_until, lockouts,
last_failure_at, accounts, expires_at})`` — failed-login records named by a keyed hash
(policies/auth/throttle.py: one per claimed account, per (account, client) and per client, whether
the account exists or not, so throttling reveals nothing; never the id or address in clear), each
deleted once past ``expires_at`` (``purge_login_attempts``) — and the ``password_hash`` property of
``(:User)`` (graph/identity/ owns the rest of the user).

These nodes are hub bookkeeping: analysis reads never traverse them.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import neo4j
from pydantic import BaseModel

from graph.handle import Graph
from graph.identity import Principal
from graph.labels import KEY_PROPERTY, Label
from graph.records import native
from hub.contract.errors import NotFound

T = TypeVar("T")

# Same names as graph/schema.py's migration 1 gives uniqueness constraints, so a graph created
# after these labels existed and one upgraded from before converge on one constraint each.
SCHEMA: list[str] = [
    *(
        f"CREATE CONSTRAINT {label.value.lower()}_{KEY_PROPERTY[label]}_unique IF NOT EXISTS "
        f"FOR (n:{label.value}) REQUIRE n.{KEY_PROPERTY[label]} IS UNIQUE"
        for label in (Label.SESSION, Label.LOGIN_ATTEMPTS)
    ),
    f"CREATE INDEX session_user IF NOT EXISTS FOR (n:{Label.SESSION.value}) ON (n.user_id)",
    f"CREATE INDEX session_expires_at IF NOT EXISTS FOR (n:{Label.SESSION.value}) ON (n.expires_at)",
    f"CREATE INDEX login_attempts_last_failure IF NOT EXISTS "
    f"FOR (n:{Label.LOGIN_ATTEMPTS.value}) ON (n.last_failure_at)",
    f"CREATE INDEX login_attempts_expires_at IF NOT EXISTS "
    f"FOR (n:{Label.LOGIN_ATTEMPTS.value}) ON (n.expires_at)",
]

# Expired sessions are kept this long (for an operator's look), then purged; failed-login records
# go as soon as they pass their own ``expires_at``.
KEEP_EXPIRED = timedelta(days=7)


class SessionRecord(BaseModel):
    session_id: str
    user_id: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None
    client: str | None = None
    provider: str = "password"
    refreshed_at: datetime | None = None
    refreshes: int = 0
    revoked_reason: str | None = None

    def active(self, now: datetime | None = None) -> bool:
        return self.revoked_at is None and self.expires_at > (now or datetime.now(UTC))


class LoginAttempts(BaseModel):
    """One stored failed-login record (empty when none is stored), named by its keyed hash."""

    throttle_key: str
    failures: int = 0
    window_started_at: datetime | None = None
    locked_until: datetime | None = None
    lockouts: int = 0
    last_failure_at: datetime | None = None
    accounts: list[str] = []  # a client record's accounts (keyed hashes) failed in the window
    account: str | None = None  # an (account, client) record's account key, for an admin reset
    expires_at: datetime | None = None

    @property
    def empty(self) -> bool:
        return self.last_failure_at is None and self.locked_until is None


class StoredCredentials(BaseModel):
    principal: Principal
    password_hash: str | None


_ATTEMPT_FIELDS = ("failures", "window_started_at", "locked_until", "lockouts", "last_failure_at",
                   "accounts", "account", "expires_at")


def _read(graph: Graph, query: str, **params: Any) -> list[neo4j.Record]:
    """One query in a read transaction (retried; a cluster routes it to a secondary), its
    records read in full."""
    return graph.read(lambda tx: list(tx.run(query, params)))


def _write(graph: Graph, query: str, **params: Any) -> list[neo4j.Record]:
    """One query in a write transaction (retried on transient errors), its records read in
    full."""
    return graph.write(lambda tx: list(tx.run(query, params)))


def _session(props: dict[str, Any]) -> SessionRecord:
    return SessionRecord(**{k: native(v) for k, v in props.items() if k in SessionRecord.model_fields})


def _attempts(key: str, props: dict[str, Any] | None) -> LoginAttempts:
    props = props or {}
    return LoginAttempts(throttle_key=key, **{k: native(props[k]) for k in _ATTEMPT_FIELDS
                                              if props.get(k) is not None})


# --- sessions --------------------------------------------------------------------------------------


def new_session_id() -> str:
    return secrets.token_urlsafe(18)


def create_session(graph: Graph, *, user_id: str, expires_at: datetime,
                   client: str | None, provider: str = "password",
                   session_id: str | None = None,
                   refresh_hash: str | None = None) -> SessionRecord:
    """Open a session for an existing user (NotFound otherwise); ``refresh_hash`` is the SHA-256
    of its first refresh token (none: the session cannot be refreshed)."""
    records = _write(
        graph,
        "MATCH (u:User {user_id: $uid}) "
        "CREATE (s:Session {session_id: $sid, user_id: $uid, created_at: datetime(), "
        "        expires_at: $expires_at, client: $client, provider: $provider, "
        "        refresh_hash: $refresh_hash, refresh_used: [], refreshes: 0}) "
        "RETURN s {.*, refresh_hash: null, refresh_used: null} AS s",
        uid=user_id, sid=session_id or new_session_id(), expires_at=expires_at, client=client,
        provider=provider, refresh_hash=refresh_hash,
    )
    if not records:
        raise NotFound(f"utilisateur inconnu : {user_id}")
    if secrets.randbelow(100) == 0:  # amortized purge, like nonces
        purge_stale(graph)
    return _session(records[0]["s"])


def get_session(graph: Graph, session_id: str) -> SessionRecord | None:
    records = _read(
        graph,
        "MATCH (s:Session {session_id: $sid}) RETURN s {.*, refresh_hash: null} AS s",
        sid=session_id,
    )
    return _session(records[0]["s"]) if records else None


def principal_for_session(graph: Graph, session_id: str,
                          user_id: str) -> Principal | None:
    """The active user of an open session, or None (unknown, revoked or expired session, session
    of someone else, disabled user). The one graph round trip of a request bearing an access
    token; the password hash is left out of the returned principal."""
    from graph.grants import grants_from, grants_projection

    records = _read(
        graph,
        "MATCH (s:Session {session_id: $sid}) "
        "WHERE s.user_id = $uid AND s.revoked_at IS NULL AND s.expires_at > $now "
        "MATCH (u:User {user_id: s.user_id}) WHERE NOT coalesce(u.disabled, false) "
        f"RETURN u {{.*, password_hash: null}} AS u, {grants_projection('u.user_id')}",
        sid=session_id, uid=user_id, now=datetime.now(UTC),
    )
    if not records:
        return None
    r = records[0]
    u = r["u"]
    principal = Principal(**{k: v for k, v in u.items() if k in Principal.model_fields})
    principal.active_grants = grants_from(r["guest_grants"], r["disclosure_grants"])
    return principal


def revoke_session(graph: Graph, session_id: str) -> SessionRecord | None:
    """Revoke a session (idempotent: an already revoked one keeps its first ``revoked_at``)."""
    records = _write(
        graph,
        "MATCH (s:Session {session_id: $sid}) "
        "SET s.revoked_at = coalesce(s.revoked_at, datetime()) "
        "RETURN s {.*, refresh_hash: null} AS s",
        sid=session_id,
    )
    return _session(records[0]["s"]) if records else None


def revoke_user_sessions(graph: Graph, user_id: str) -> int:
    """Revoke every open session of a user; the number revoked."""
    records = _write(
        graph,
        "MATCH (s:Session {user_id: $uid}) WHERE s.revoked_at IS NULL AND s.expires_at > datetime() "
        "SET s.revoked_at = datetime() RETURN count(s) AS n",
        uid=user_id,
    )
    return records[0]["n"]


class RefreshOutcome(BaseModel):
    """What presenting a refresh token did: ``rotated`` (``principal`` and ``session`` set),
    ``reused`` (an already used token: the session is now revoked), ``raced`` (an already used
    token within the grace period: refused, nothing revoked), ``inactive`` (session revoked,
    expired or its user disabled) or ``unknown``."""

    kind: str
    session: SessionRecord | None = None
    principal: Principal | None = None


# Hashes of used refresh tokens kept per session (reuse of an older one is merely "unknown").
KEEP_USED_REFRESH = 64


def rotate_refresh(graph: Graph, session_id: str, presented_hash: str, new_hash: str, *,
                   now: datetime, grace: timedelta) -> RefreshOutcome:
    """Single use of a refresh token, atomic across hub processes: the session node is
    write-locked, the presented hash compared with the current one (rotate to ``new_hash``) and
    with the used ones (reuse: revoke the whole session — the token was stolen, or the thief's
    copy was used first)."""

    def work(tx: neo4j.ManagedTransaction) -> RefreshOutcome:
        row = tx.run(
            "MATCH (s:Session {session_id: $sid}) SET s.lock_version = coalesce(s.lock_version, 0) + 1 "
            "WITH s OPTIONAL MATCH (u:User {user_id: s.user_id}) "
            "RETURN s {.*} AS s, u {.*, password_hash: null} AS u",
            sid=session_id).single()
        if row is None:
            return RefreshOutcome(kind="unknown")
        props, user = row["s"], row["u"]
        session = _session(props)
        used = list(props.get("refresh_used") or [])
        if presented_hash in used:
            refreshed = native(props.get("refreshed_at"))
            if refreshed is not None and now - refreshed <= grace:
                return RefreshOutcome(kind="raced", session=session)
            tx.run("MATCH (s:Session {session_id: $sid}) "
                   "SET s.revoked_at = coalesce(s.revoked_at, $now), "
                   "    s.revoked_reason = coalesce(s.revoked_reason, 'refresh_reuse')",
                   sid=session_id, now=now).consume()
            return RefreshOutcome(kind="reused", session=session)
        if not props.get("refresh_hash") or presented_hash != props["refresh_hash"]:
            return RefreshOutcome(kind="unknown")
        if not session.active(now) or user is None or user.get("disabled"):
            return RefreshOutcome(kind="inactive", session=session)
        updated = tx.run(
            "MATCH (s:Session {session_id: $sid}) "
            "SET s.refresh_used = (coalesce(s.refresh_used, []) + [s.refresh_hash])[-$keep..], "
            "    s.refresh_hash = $new, s.refreshed_at = $now, "
            "    s.refreshes = coalesce(s.refreshes, 0) + 1 "
            "RETURN s {.*} AS s", sid=session_id, new=new_hash, now=now, keep=KEEP_USED_REFRESH,
        ).single()
        principal = Principal(**{k: v for k, v in user.items() if k in Principal.model_fields})
        return RefreshOutcome(kind="rotated", session=_session(updated["s"]), principal=principal)

    return graph.write(work)


def active_session_counts(graph: Graph) -> dict[str, int]:
    records = _read(
        graph,
        "MATCH (s:Session) WHERE s.revoked_at IS NULL AND s.expires_at > datetime() "
        "RETURN s.user_id AS uid, count(*) AS n",
    )
    return {r["uid"]: r["n"] for r in records}


def purge_stale(graph: Graph, keep: timedelta = KEEP_EXPIRED) -> int:
    """Delete sessions expired for longer than ``keep``, and failed-login records past their
    expiry."""
    before = datetime.now(UTC) - keep
    records = _write(
        graph,
        "CALL { MATCH (s:Session) WHERE s.expires_at < $before "
        "       WITH s LIMIT 10000 DETACH DELETE s RETURN count(*) AS sessions } "
        "RETURN sessions AS n",
        before=before,
    )
    return records[0]["n"] + purge_login_attempts(graph)


# --- failed-login counters -------------------------------------------------------------------------


def get_login_attempts(graph: Graph, throttle_key: str) -> LoginAttempts:
    records = _read(
        graph,
        "MATCH (a:LoginAttempts {throttle_key: $key}) RETURN a {.*} AS a",
        key=throttle_key,
    )
    return _attempts(throttle_key, records[0]["a"] if records else None)


def update_login_attempts(graph: Graph, throttle_keys: list[str],
                          decide: Callable[[dict[str, LoginAttempts]],
                                           tuple[dict[str, LoginAttempts], T]]) -> T:
    """Read-modify-write of several records at once, atomic across requests and hub processes.

    ``decide`` gets the current records by key and returns (records to store, result to hand
    back); a returned record that is ``empty`` is deleted rather than stored, a key it leaves out
    is left as it was. It runs inside the write transaction after every node is write-locked
    (MERGE on the unique key, then a write to ``version``; keys locked in sorted order, so two
    attempts never wait on each other crosswise), so concurrent attempts are serialized and none
    is lost. It must be pure: the driver may run it again when it retries a transient failure.
    """
    keys = sorted(set(throttle_keys))

    def work(tx: neo4j.ManagedTransaction) -> T:
        rows = tx.run(
            "UNWIND $keys AS key "
            "MERGE (a:LoginAttempts {throttle_key: key}) "
            # Writing takes the node's exclusive lock until commit: the read below is then stable.
            "SET a.version = coalesce(a.version, 0) + 1 "
            "RETURN key, a {.*} AS a",
            keys=keys,
        ).data()
        current = {r["key"]: _attempts(r["key"], r["a"]) for r in rows}
        new, result = decide(current)
        after = {**current, **new}
        kept = [{"key": k, "props": {f: getattr(v, f) for f in _ATTEMPT_FIELDS}}
                for k, v in after.items() if not v.empty]
        # A record left empty, or one MERGE created only to lock and nothing filled, is not kept.
        gone = [k for k, v in after.items() if v.empty]
        tx.run(
            "UNWIND $kept AS row MATCH (a:LoginAttempts {throttle_key: row.key}) "
            "SET a += row.props",
            kept=kept,
        ).consume()
        tx.run(
            "UNWIND $gone AS key MATCH (a:LoginAttempts {throttle_key: key}) DELETE a",
            gone=gone,
        ).consume()
        return result

    return graph.write(work)


def clear_login_attempts(graph: Graph, account_key: str) -> int:
    """Forgive one account: its own record and every (account, client) record of it (an
    administrator's reset after a password change). ``account_key`` is the account's keyed hash
    (``ThrottleKeyring.account``). The number of records deleted."""
    records = _write(
        graph,
        "MATCH (a:LoginAttempts) WHERE a.throttle_key = $key OR a.account = $key "
        "DELETE a RETURN count(*) AS n",
        key=account_key,
    )
    return records[0]["n"]


def purge_login_attempts(graph: Graph, now: datetime | None = None,
                         limit: int = 10_000) -> int:
    """The TTL sweep: delete failed-login records past ``expires_at`` (and records of the
    pre-keyed-hash format, which carry no expiry), at most ``limit`` per call."""
    records = _write(
        graph,
        "CALL { MATCH (a:LoginAttempts) WHERE a.expires_at < $now "
        "       WITH a LIMIT $limit DELETE a RETURN count(*) AS expired } "
        "CALL { MATCH (a:LoginAttempts) WHERE a.throttle_key IS NULL "
        "       WITH a LIMIT $limit DELETE a RETURN count(*) AS legacy } "
        "RETURN expired + legacy AS n",
        now=now or datetime.now(UTC), limit=limit,
    )
    return records[0]["n"]


# --- passwords and account state -------------------------------------------------------------------


def get_credentials(graph: Graph, user_id: str) -> StoredCredentials | None:
    """The user and their password hash (None if no password is set); None if unknown."""
    records = _read(
        graph,
        "MATCH (u:User {user_id: $uid}) RETURN u {.*} AS u",
        uid=user_id,
    )
    if not records:
        return None
    u = records[0]["u"]
    principal = Principal(**{k: v for k, v in u.items()
                             if k in Principal.model_fields and k != "password_hash"})
    return StoredCredentials(principal=principal, password_hash=u.get("password_hash"))


def set_password_hash(graph: Graph, user_id: str, password_hash: str) -> None:
    """Store a new password hash (NotFound if the user is unknown)."""
    records = _write(
        graph,
        "MATCH (u:User {user_id: $uid}) "
        "SET u.password_hash = $hash, u.password_changed_at = datetime() RETURN count(u) AS n",
        uid=user_id, hash=password_hash,
    )
    if records[0]["n"] == 0:
        raise NotFound(f"utilisateur inconnu : {user_id}")


def set_user_disabled(graph: Graph, user_id: str, disabled: bool) -> Principal:
    records = _write(
        graph,
        "MATCH (u:User {user_id: $uid}) SET u.disabled = $disabled "
        "RETURN u {.*, password_hash: null} AS u",
        uid=user_id, disabled=disabled,
    )
    if not records:
        raise NotFound(f"utilisateur inconnu : {user_id}")
    u = records[0]["u"]
    return Principal(**{k: v for k, v in u.items() if k in Principal.model_fields})
