"""A person's second factor (TOTP) and their sessions' step-ups — the graph side only: the rules
are policies/second_factor.py, the secret's encryption hub/auth/second_factor.py.

Owns ``(:SecondFactor {user_id, secret, enrolled_at, last_step, pending_secret,
pending_created_at, failures, window_started_at, locked_until, lockouts, last_failure_at,
version})`` — one per person: the active secret and a pending one (an enrolment begun, not yet
confirmed), both *encrypted* by the hub (this module never sees a secret in clear), the last time
step used (a code works once) and the wrong-code throttle record — and
``(:SecondFactorStepUp {session_id, user_id, verified_at})``: when a session last proved the
factor (the session itself is graph/sessions.py's, untouched here).

Every change goes through ``update``: one write transaction that write-locks the person's node,
hands the stored record to a pure ``decide`` and writes what it returns (and the session's
step-up), so concurrent codes are serialized: a code is never accepted twice, no failure is lost.
These nodes are hub bookkeeping: analysis reads never traverse them.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

import neo4j
from pydantic import BaseModel

from graph.handle import Graph
from graph.labels import KEY_PROPERTY, Label
from graph.records import native
from hub.contract.errors import NotFound

T = TypeVar("T")

SCHEMA: list[str] = [
    *(
        f"CREATE CONSTRAINT {label.value.lower()}_{KEY_PROPERTY[label]}_unique IF NOT EXISTS "
        f"FOR (n:{label.value}) REQUIRE n.{KEY_PROPERTY[label]} IS UNIQUE"
        for label in (Label.SECOND_FACTOR, Label.SECOND_FACTOR_STEP_UP)
    ),
    f"CREATE INDEX second_factor_step_up_user IF NOT EXISTS "
    f"FOR (n:{Label.SECOND_FACTOR_STEP_UP.value}) ON (n.user_id)",
    f"CREATE INDEX second_factor_step_up_verified IF NOT EXISTS "
    f"FOR (n:{Label.SECOND_FACTOR_STEP_UP.value}) ON (n.verified_at)",
]

# A step-up older than this holds nothing (every freshness in policy data is far shorter).
KEEP_STEP_UPS = timedelta(days=1)

FIELDS = ("secret", "enrolled_at", "last_step", "pending_secret", "pending_created_at",
          "failures", "window_started_at", "locked_until", "lockouts", "last_failure_at")


class SecondFactorRecord(BaseModel):
    """What is stored of one person's factor (secrets encrypted; absent record: all empty)."""

    user_id: str
    secret: str | None = None  # encrypted by the hub, base64
    enrolled_at: datetime | None = None
    last_step: int | None = None
    pending_secret: str | None = None
    pending_created_at: datetime | None = None
    failures: int = 0
    window_started_at: datetime | None = None
    locked_until: datetime | None = None
    lockouts: int = 0
    last_failure_at: datetime | None = None

    @property
    def enrolled(self) -> bool:
        return self.secret is not None and self.enrolled_at is not None


@dataclass
class Change(Generic[T]):
    """What ``decide`` hands back: properties to set (None removes one), the result for the
    caller, and the instant to stamp the session's step-up with (None: no step-up)."""

    result: T
    set: dict[str, Any] = field(default_factory=dict)
    step_up_at: datetime | None = None


def _record(user_id: str, props: dict[str, Any] | None) -> SecondFactorRecord:
    props = props or {}
    return SecondFactorRecord(user_id=user_id, **{k: native(props[k]) for k in FIELDS
                                                  if props.get(k) is not None})


def update(graph: Graph, user_id: str, session_id: str | None,
           decide: Callable[[SecondFactorRecord], Change[T]],
           before_commit: Callable[[T], None] | None = None) -> T:
    """Read-modify-write of a person's factor, atomic across requests and hub processes.
    ``decide`` must be pure (the driver may run it again on a transient failure);
    ``before_commit`` (the audit) runs inside the transaction. NotFound for an unknown user."""

    def work(tx: neo4j.ManagedTransaction) -> T:
        rows = tx.run(
            "MATCH (u:User {user_id: $uid}) "
            "MERGE (f:SecondFactor {user_id: $uid}) "
            # Writing takes the node's exclusive lock until commit: the read is then stable.
            "SET f.version = coalesce(f.version, 0) + 1 "
            "RETURN f {.*} AS f",
            uid=user_id,
        ).data()
        if not rows:
            raise NotFound(f"utilisateur inconnu : {user_id}")
        change = decide(_record(user_id, rows[0]["f"]))
        unknown = set(change.set) - set(FIELDS)
        assert not unknown, unknown
        tx.run("MATCH (f:SecondFactor {user_id: $uid}) SET f += $props",
               uid=user_id, props=change.set).consume()
        if change.step_up_at is not None:
            assert session_id is not None, "a step-up belongs to a session"
            tx.run(
                "MERGE (s:SecondFactorStepUp {session_id: $sid}) "
                "SET s.user_id = $uid, s.verified_at = $at",
                sid=session_id, uid=user_id, at=change.step_up_at,
            ).consume()
        if before_commit is not None:
            before_commit(change.result)
        return change.result

    result = graph.write(work)
    if secrets.randbelow(100) == 0:  # amortized sweep, like sessions and nonces
        purge_step_ups(graph)
    return result


def get(graph: Graph, user_id: str) -> SecondFactorRecord:
    records = graph.read(lambda tx: list(tx.run(
        "MATCH (f:SecondFactor {user_id: $uid}) RETURN f {.*} AS f", uid=user_id)))
    return _record(user_id, records[0]["f"] if records else None)


def step_up_state(graph: Graph, user_id: str, session_id: str) -> tuple[bool, datetime | None]:
    """(enrolled, when this session last proved the factor — None if never, or before the
    factor now in force was enrolled). One read, made only for actions that need it."""
    records = graph.read(lambda tx: list(tx.run(
        "OPTIONAL MATCH (f:SecondFactor {user_id: $uid}) "
        "WHERE f.secret IS NOT NULL AND f.enrolled_at IS NOT NULL "
        "OPTIONAL MATCH (s:SecondFactorStepUp {session_id: $sid}) "
        "WHERE s.user_id = $uid AND f IS NOT NULL AND s.verified_at >= f.enrolled_at "
        "RETURN f IS NOT NULL AS enrolled, s.verified_at AS verified_at",
        uid=user_id, sid=session_id)))
    row = records[0]
    return bool(row["enrolled"]), native(row["verified_at"])


def session_verified_at(graph: Graph, user_id: str, session_id: str) -> datetime | None:
    return step_up_state(graph, user_id, session_id)[1]


def reset(graph: Graph, user_id: str) -> bool:
    """Forget a person's factor (secret, pending enrolment, throttle) and every step-up of their
    sessions; whether there was anything to forget. NotFound for an unknown user."""
    records = graph.write(lambda tx: list(tx.run(
        "MATCH (u:User {user_id: $uid}) "
        "OPTIONAL MATCH (f:SecondFactor {user_id: $uid}) "
        "WITH u, f, f IS NOT NULL AND f.secret IS NOT NULL AS had "
        "CALL (u) { MATCH (s:SecondFactorStepUp {user_id: u.user_id}) DELETE s } "
        "DELETE f RETURN had",
        uid=user_id)))
    if not records:
        raise NotFound(f"utilisateur inconnu : {user_id}")
    return bool(records[0]["had"])


def purge_step_ups(graph: Graph, keep: timedelta = KEEP_STEP_UPS) -> int:
    records = graph.write(lambda tx: list(tx.run(
        "MATCH (s:SecondFactorStepUp) WHERE s.verified_at < datetime() - $keep "
        "WITH s LIMIT 10000 DELETE s RETURN count(*) AS n", keep=keep)))
    return records[0]["n"]
