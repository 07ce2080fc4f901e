"""Who may call the hub, stored in the graph: users (analysts, coordinators, connectors...), their
API tokens (only a SHA-256 of each token is kept: tokens carry 256 random bits, so a slow hash
adds nothing but latency on every request), connector signing keys, seen request nonces, and
connector run records.

These nodes are hub bookkeeping: analysis reads never traverse them.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import neo4j
from pydantic import BaseModel

from hub.contract.errors import Conflict, NotFound, ReplayDetected

TOKEN_PREFIX = "chx_"


class Principal(BaseModel):
    user_id: str
    name: str
    agency: str
    role: str
    contact: str | None = None
    password_hash: str | None = None
    disabled: bool = False
    # Grants active at the time of the request, read with the identity in one round trip
    # (None: not loaded — hub/access.py then reads them itself).
    active_grants: list[Any] | None = None


class IssuedToken(BaseModel):
    token: str  # shown once, never stored
    user_id: str
    expires_at: datetime | None


class ConnectorKey(BaseModel):
    key_id: str
    connector: str
    agency: str
    public_key_pem: str


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def user_id_for(agency: str, name: str) -> str:
    return f"{agency}:{name}"


def upsert_user(driver: neo4j.Driver, database: str, *, agency: str, role: str, name: str,
                contact: str | None = None, password_hash: str | None = None) -> Principal:
    uid = user_id_for(agency, name)
    records, _, _ = driver.execute_query(
        "MERGE (u:User {user_id: $uid}) "
        "ON CREATE SET u.created_at = datetime(), u.disabled = false "
        # A disabled account stays disabled: re-enabling is a deliberate act, not a side effect.
        "SET u.name = $name, u.agency = $agency, u.role = $role, "
        "    u.contact = coalesce($contact, u.contact), "
        "    u.password_hash = coalesce($password_hash, u.password_hash) "
        "RETURN u {.*} AS u",
        uid=uid, name=name, agency=agency, role=role, contact=contact, password_hash=password_hash,
        database_=database,
    )
    return _principal(records[0]["u"])


def get_user(driver: neo4j.Driver, database: str, user_id: str) -> Principal:
    records, _, _ = driver.execute_query(
        "MATCH (u:User {user_id: $uid}) RETURN u {.*} AS u", uid=user_id,
        database_=database, routing_=neo4j.RoutingControl.READ,
    )
    if not records:
        raise NotFound(f"utilisateur inconnu : {user_id}")
    return _principal(records[0]["u"])


def list_users(driver: neo4j.Driver, database: str) -> list[Principal]:
    records, _, _ = driver.execute_query(
        "MATCH (u:User) RETURN u {.*} AS u ORDER BY u.user_id",
        database_=database, routing_=neo4j.RoutingControl.READ,
    )
    return [_principal(r["u"]) for r in records]


def issue_token(driver: neo4j.Driver, database: str, user_id: str,
                ttl: timedelta | None = None, purpose: str = "api") -> IssuedToken:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires_at = datetime.now(UTC) + ttl if ttl else None
    records, _, _ = driver.execute_query(
        "MATCH (u:User {user_id: $uid}) "
        "CREATE (t:ApiToken {token_hash: $hash, user_id: $uid, created_at: datetime(), "
        "        expires_at: $expires_at, purpose: $purpose}) "
        "RETURN count(t) AS n",
        uid=user_id, hash=hash_token(token), expires_at=expires_at, purpose=purpose,
        database_=database,
    )
    if records[0]["n"] == 0:
        raise NotFound(f"utilisateur inconnu : {user_id}")
    return IssuedToken(token=token, user_id=user_id, expires_at=expires_at)


def principal_for_token(driver: neo4j.Driver, database: str, token: str) -> Principal | None:
    """The active user holding this token, with their active grants, or None (unknown,
    revoked, expired, disabled). The one graph round trip of a request's identity."""
    from graph.grants import grants_from, grants_projection

    records, _, _ = driver.execute_query(
        "MATCH (t:ApiToken {token_hash: $hash}) "
        "WHERE t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > $now) "
        "MATCH (u:User {user_id: t.user_id}) WHERE NOT coalesce(u.disabled, false) "
        # the hash never rides along with a request
        f"RETURN u {{.*, password_hash: null}} AS u, {grants_projection('u.user_id')}",
        hash=hash_token(token), now=datetime.now(UTC), database_=database,
        routing_=neo4j.RoutingControl.READ,
    )
    if not records:
        return None
    r = records[0]
    principal = _principal(r["u"])
    principal.active_grants = grants_from(r["guest_grants"], r["disclosure_grants"])
    return principal


def revoke_token(driver: neo4j.Driver, database: str, token: str) -> bool:
    records, _, _ = driver.execute_query(
        "MATCH (t:ApiToken {token_hash: $hash}) WHERE t.revoked_at IS NULL "
        "SET t.revoked_at = datetime() RETURN count(t) AS n",
        hash=hash_token(token), database_=database,
    )
    return records[0]["n"] > 0


def revoke_user_tokens(driver: neo4j.Driver, database: str, user_id: str) -> int:
    records, _, _ = driver.execute_query(
        "MATCH (t:ApiToken {user_id: $uid}) WHERE t.revoked_at IS NULL "
        "SET t.revoked_at = datetime() RETURN count(t) AS n",
        uid=user_id, database_=database,
    )
    return records[0]["n"]


# --- connector keys and nonces ---------------------------------------------------------------------


def register_connector_key(driver: neo4j.Driver, database: str, key: ConnectorKey) -> ConnectorKey:
    records, _, _ = driver.execute_query(
        "MERGE (k:ConnectorKey {key_id: $key_id}) "
        "ON CREATE SET k.connector = $connector, k.agency = $agency, k.public_key_pem = $pem, "
        "              k.registered_at = datetime() "
        "RETURN k {.*} AS k",
        key_id=key.key_id, connector=key.connector, agency=key.agency, pem=key.public_key_pem,
        database_=database,
    )
    stored = records[0]["k"]
    if stored["connector"] != key.connector or stored["agency"] != key.agency:
        raise Conflict(f"clé {key.key_id} déjà enregistrée pour un autre connecteur")
    return ConnectorKey(key_id=stored["key_id"], connector=stored["connector"],
                        agency=stored["agency"], public_key_pem=stored["public_key_pem"])


def get_connector_key(driver: neo4j.Driver, database: str, key_id: str) -> ConnectorKey | None:
    records, _, _ = driver.execute_query(
        "MATCH (k:ConnectorKey {key_id: $key_id}) WHERE k.revoked_at IS NULL RETURN k {.*} AS k",
        key_id=key_id, database_=database, routing_=neo4j.RoutingControl.READ,
    )
    if not records:
        return None
    k = records[0]["k"]
    return ConnectorKey(key_id=k["key_id"], connector=k["connector"], agency=k["agency"],
                        public_key_pem=k["public_key_pem"])


def consume_nonce(driver: neo4j.Driver, database: str, nonce: str, key_id: str,
                  keep_for: timedelta) -> None:
    """Record a request nonce; raise ReplayDetected if it was seen. The uniqueness constraint on
    Nonce.value makes this atomic across hub processes. Nonces older than ``keep_for`` (beyond
    the accepted clock skew, so a replay would be refused as stale anyway) are purged."""
    try:
        driver.execute_query(
            "CREATE (:Nonce {value: $value, key_id: $key_id, seen_at: datetime()})",
            value=nonce, key_id=key_id, database_=database,
        )
    except neo4j.exceptions.ConstraintError as exc:
        raise ReplayDetected("requête rejouée : nonce déjà utilisé",
                             details=[{"field": "X-CrossHub-Nonce", "reason": "déjà utilisé"}]) from exc
    if secrets.randbelow(100) == 0:  # amortized purge
        driver.execute_query(
            "MATCH (n:Nonce) WHERE n.seen_at < $before WITH n LIMIT 10000 DELETE n",
            before=datetime.now(UTC) - keep_for, database_=database,
        )


# --- connector runs --------------------------------------------------------------------------------


def record_connector_run(driver: neo4j.Driver, database: str, connector: str, agency: str,
                         run: dict[str, Any]) -> None:
    # Keyed by connector and run id; the run's own fields are stored as they came (nulls are
    # not stored by Neo4j and come back as null through the record model).
    props = {k: v for k, v in run.items() if k not in {"run_id", "connector", "agency"}}
    driver.execute_query(
        "MERGE (r:ConnectorRun {run_id: $key}) "
        "SET r += $props, r.connector = $connector, r.agency = $agency, r.source_run_id = $run_id, "
        "    r.received_at = datetime()",
        key=f"{connector}:{run['run_id']}", run_id=run["run_id"], props=props,
        connector=connector, agency=agency, database_=database,
    )


def connector_runs(driver: neo4j.Driver, database: str, per_connector: int = 5) -> list[dict[str, Any]]:
    """Each connector's last runs, newest first, as ``RunRecord`` fields."""
    records, _, _ = driver.execute_query(
        "MATCH (r:ConnectorRun) WITH r ORDER BY r.received_at DESC "
        "WITH r.connector AS connector, collect(r {.*, run_id: r.source_run_id})[..$n] AS runs "
        "RETURN connector, runs ORDER BY connector",
        n=per_connector, database_=database, routing_=neo4j.RoutingControl.READ,
    )
    return [{"connector": r["connector"], "runs": [_plain(x) for x in r["runs"]]} for r in records]


def _plain(d: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.to_native() if hasattr(v, "to_native") else v) for k, v in d.items()}


def _principal(u: dict[str, Any]) -> Principal:
    return Principal(**{k: v for k, v in u.items() if k in Principal.model_fields})
