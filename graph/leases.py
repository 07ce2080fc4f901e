"""Job leases and run records: how N hub processes sharing one graph run each job once.

Owns two bookkeeping labels (constraints and index in ``SCHEMA``), never linked from a lead:

- ``(:JobLease {job, holder, expires_at, acquired_at, released_at})`` — one per job name
  (``grant-expiry``, ``triage``, ``retention``…), held by one process at a time until
  ``expires_at``; its holder renews it while it works and releases it when done. Taken only if
  absent, released, expired or (``acquire``) already the caller's.
- ``(:JobRun {run_key, job, due, state, holder, created_at, started_at, finished_at, takeovers,
  taken_over_from, taken_over_at, progress, error})`` — one per (job, due time) of a scheduled
  job, ``run_key`` = ``<job>@<due, UTC ISO>`` (unique). ``state``: ``pending`` (due, the job's
  lease was busy), ``running`` (its holder holds the job's lease), ``done`` or ``failed``. A
  ``running`` run whose job lease is no longer live was left by a dead holder: the next claim
  takes it over (``takeovers`` + 1, ``taken_over_from``); ``progress`` lists the items a run
  has finished, so a taker skips them.

Every instant compared with ``expires_at`` is the graph server's clock (``datetime()`` in
Cypher, one clock for every hub), never the caller's: hubs on hosts whose clocks drift apart
still agree on when a lease ends (docs/decisions/0013). Each decision takes the nodes' write
locks before it reads them (``SET n._lock = true``, Neo4j's guard against lost updates under
read-committed isolation), so of two callers racing, the second reads what the first committed.
"""

from __future__ import annotations

import os
import secrets
import socket
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel

from graph.handle import Graph
from graph.labels import KEY_PROPERTY, Label
from graph.records import native, plain, utc

LEASE = Label.JOB_LEASE.value
RUN = Label.JOB_RUN.value

SCHEMA: list[str] = [
    *(
        f"CREATE CONSTRAINT {label.value.lower()}_{KEY_PROPERTY[label]}_unique IF NOT EXISTS "
        f"FOR (n:{label.value}) REQUIRE n.{KEY_PROPERTY[label]} IS UNIQUE"
        for label in (Label.JOB_LEASE, Label.JOB_RUN)
    ),
    f"CREATE INDEX jobrun_state IF NOT EXISTS FOR (n:{RUN}) ON (n.state)",
]

_holder: tuple[int, str] | None = None


def holder_id() -> str:
    """This process's name as a lease holder: ``<host>-<pid>-<random>``. Keyed by pid, so a
    worker forked after import gets its own; the random part keeps a restarted process that
    reuses a pid from inheriting its predecessor's leases."""
    global _holder
    pid = os.getpid()
    if _holder is None or _holder[0] != pid:
        _holder = (pid, f"{socket.gethostname()}-{pid}-{secrets.token_hex(4)}")
    return _holder[1]


def run_key(job: str, due: datetime) -> str:
    return f"{job}@{due.astimezone(UTC).isoformat()}"


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))


# --- leases -----------------------------------------------------------------------------------------

class LeaseState(BaseModel):
    job: str
    holder: str | None = None
    expires_at: datetime | None = None
    held: bool = False  # by the caller, after the call


_ACQUIRE = f"""
MERGE (l:{LEASE} {{job: $job}})
SET l._lock = true
WITH l, datetime() AS now
WITH l, now, l.holder AS prev,
     (l.holder IS NULL OR l.holder = $holder OR l.expires_at <= now) AS free
FOREACH (_ IN CASE WHEN free THEN [1] ELSE [] END |
  SET l.holder = $holder, l.expires_at = now + duration({{milliseconds: $ttl_ms}}),
      l.acquired_at = CASE WHEN prev = $holder THEN l.acquired_at ELSE now END)
REMOVE l._lock
RETURN free AS held, l.holder AS holder, l.expires_at AS expires_at
"""

# Extends only a lease the caller still holds (a lost lease stays lost: someone else may work).
_RENEW = f"""
MATCH (l:{LEASE} {{job: $job}})
SET l._lock = true
WITH l, datetime() AS now
WITH l, now, l.holder = $holder AS ours
FOREACH (_ IN CASE WHEN ours THEN [1] ELSE [] END |
  SET l.expires_at = now + duration({{milliseconds: $ttl_ms}}))
REMOVE l._lock
RETURN ours AS held, l.holder AS holder, l.expires_at AS expires_at
"""

_RELEASE = f"""
MATCH (l:{LEASE} {{job: $job}})
SET l._lock = true
WITH l, datetime() AS now
WITH l, now, l.holder = $holder AS ours
FOREACH (_ IN CASE WHEN ours THEN [1] ELSE [] END |
  SET l.holder = null, l.expires_at = now, l.released_at = now)
REMOVE l._lock
RETURN ours
"""


def _lease_state(job: str, record) -> LeaseState:
    if record is None:
        return LeaseState(job=job)
    return LeaseState(job=job, holder=record["holder"], expires_at=utc(native(record["expires_at"])),
                      held=bool(record["held"]))


def acquire(graph: Graph, job: str, holder: str, ttl_s: float) -> LeaseState:
    """Take the ``job`` lease for ``ttl_s`` seconds if it is absent, released, expired or
    already ``holder``'s (then it is extended); one write transaction."""
    return _lease_state(job, graph.write(lambda tx: tx.run(
        _ACQUIRE, job=job, holder=holder, ttl_ms=_ms(ttl_s)).single()))


def renew(graph: Graph, job: str, holder: str, ttl_s: float) -> bool:
    """Extend ``holder``'s lease by ``ttl_s`` from now; False if it is no longer theirs."""
    state = _lease_state(job, graph.write(lambda tx: tx.run(
        _RENEW, job=job, holder=holder, ttl_ms=_ms(ttl_s)).single()))
    return state.held


def release(graph: Graph, job: str, holder: str) -> bool:
    """Give the lease up now if ``holder`` still has it (whoever waits takes it at once)."""
    record = graph.write(lambda tx: tx.run(_RELEASE, job=job, holder=holder).single())
    return bool(record and record["ours"])


def lease(graph: Graph, job: str) -> LeaseState:
    """The lease as stored (``held``: it has a holder and has not expired, server clock)."""
    record = graph.query(
        f"MATCH (l:{LEASE} {{job: $job}}) "
        "RETURN l.holder AS holder, l.expires_at AS expires_at, "
        "       l.holder IS NOT NULL AND l.expires_at > datetime() AS held",
        job=job, read_=True)
    return _lease_state(job, record[0] if record else None)


# --- run records of scheduled jobs ------------------------------------------------------------------

ClaimOutcome = Literal["claimed", "taken_over", "busy", "done", "failed"]


class JobRun(BaseModel):
    job: str
    due: datetime
    state: str
    holder: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    takeovers: int = 0
    taken_over_from: str | None = None
    progress: list[str] = []
    error: str | None = None


class RunClaim(BaseModel):
    outcome: ClaimOutcome
    run: JobRun

    @property
    def mine(self) -> bool:
        """The caller now runs it (fresh, or taken over from a dead holder)."""
        return self.outcome in ("claimed", "taken_over")


# The run and its job's lease, locked in that order by every statement touching both (no
# deadlock between claims). A live lease (anyone's, the caller's included: one process runs
# one due time of a job at a time) means busy; else a pending run is claimed and a running one,
# whose holder's lease has lapsed, is taken over.
_CLAIM = f"""
MERGE (r:{RUN} {{run_key: $run_key}})
ON CREATE SET r.job = $job, r.due = $due, r.state = 'pending', r.created_at = datetime(),
              r.takeovers = 0, r.progress = []
MERGE (l:{LEASE} {{job: $job}})
SET r._lock = true, l._lock = true
WITH r, l, datetime() AS now
WITH r, l, now, r.holder AS prev,
     CASE
       WHEN r.state IN ['done', 'failed'] THEN r.state
       WHEN l.holder IS NOT NULL AND l.expires_at > now THEN 'busy'
       WHEN r.state = 'pending' THEN 'claimed'
       ELSE 'taken_over'
     END AS outcome
FOREACH (_ IN CASE WHEN outcome IN ['claimed', 'taken_over'] THEN [1] ELSE [] END |
  SET r.state = 'running', r.holder = $holder, r.started_at = now,
      l.holder = $holder, l.expires_at = now + duration({{milliseconds: $ttl_ms}}), l.acquired_at = now)
FOREACH (_ IN CASE WHEN outcome = 'taken_over' THEN [1] ELSE [] END |
  SET r.takeovers = r.takeovers + 1, r.taken_over_from = prev, r.taken_over_at = now)
REMOVE r._lock, l._lock
RETURN outcome, r {{.*}} AS r
"""

_FINISH = f"""
MATCH (r:{RUN} {{run_key: $run_key}})
OPTIONAL MATCH (l:{LEASE} {{job: r.job}})
SET r._lock = true, l._lock = true
WITH r, l, datetime() AS now
WITH r, l, now, r.holder = $holder AND r.state = 'running' AS ours
FOREACH (_ IN CASE WHEN ours THEN [1] ELSE [] END |
  SET r.state = $state, r.finished_at = now, r.error = $error)
FOREACH (_ IN CASE WHEN l.holder = $holder THEN [1] ELSE [] END |
  SET l.holder = null, l.expires_at = now, l.released_at = now)
REMOVE r._lock, l._lock
RETURN ours
"""

_PROGRESS = f"""
MATCH (r:{RUN} {{run_key: $run_key}})
SET r._lock = true
WITH r, r.holder = $holder AND r.state = 'running' AS ours
FOREACH (_ IN CASE WHEN ours THEN [1] ELSE [] END |
  SET r.progress = coalesce(r.progress, []) + $item)
REMOVE r._lock
RETURN ours
"""


def _run(record_props: dict) -> JobRun:
    props = plain(record_props)
    props.pop("run_key", None)
    props.pop("_lock", None)
    return JobRun(**{k: v for k, v in props.items() if k in JobRun.model_fields})


def claim_run(graph: Graph, job: str, due: datetime, holder: str, ttl_s: float) -> RunClaim:
    """Claim the run of ``job`` due at ``due`` for ``holder`` (one write transaction), taking
    the job's lease for ``ttl_s`` seconds with it. ``claimed``/``taken_over``: run it, renewing
    the lease, then ``finish_run``; ``busy``: another holder runs the job (the run stays pending
    and ``resumable_runs`` offers it once the lease is free); ``done``/``failed``: already run."""
    due = due.astimezone(UTC)
    record = graph.write(lambda tx: tx.run(
        _CLAIM, run_key=run_key(job, due), job=job, due=due, holder=holder,
        ttl_ms=_ms(ttl_s)).single())
    return RunClaim(outcome=record["outcome"], run=_run(record["r"]))


def finish_run(graph: Graph, job: str, due: datetime, holder: str, *, failed: bool = False,
               error: str | None = None) -> bool:
    """Mark the run done (or failed) and release the job's lease, if ``holder`` still runs it;
    False when it was taken over meanwhile (the taker finishes it)."""
    record = graph.write(lambda tx: tx.run(
        _FINISH, run_key=run_key(job, due), holder=holder, state="failed" if failed else "done",
        error=error).single())
    return bool(record and record["ours"])


def record_progress(graph: Graph, job: str, due: datetime, holder: str, item: str) -> bool:
    """Note that ``item`` of the run is finished (a taker skips it); False if no longer ours."""
    record = graph.write(lambda tx: tx.run(
        _PROGRESS, run_key=run_key(job, due), holder=holder, item=item).single())
    return bool(record and record["ours"])


def get_run(graph: Graph, job: str, due: datetime) -> JobRun | None:
    records = graph.query(f"MATCH (r:{RUN} {{run_key: $key}}) RETURN r {{.*}} AS r",
                          key=run_key(job, due), read_=True)
    return _run(records[0]["r"]) if records else None


def resumable_runs(graph: Graph, jobs: list[str]) -> list[tuple[str, datetime]]:
    """(job, due) of the runs of ``jobs`` not finished whose job lease is free: pending ones
    whose lease was busy when they fell due, and running ones whose holder died. Oldest first;
    ``claim_run`` decides, this only points at them."""
    records = graph.query(
        f"MATCH (r:{RUN}) WHERE r.state IN ['pending', 'running'] AND r.job IN $jobs "
        f"OPTIONAL MATCH (l:{LEASE} {{job: r.job}}) "
        "WITH r, l WHERE l IS NULL OR l.holder IS NULL OR l.expires_at <= datetime() "
        "RETURN r.job AS job, r.due AS due ORDER BY r.due",
        jobs=jobs, read_=True)
    return [(r["job"], native(r["due"]).astimezone(UTC)) for r in records]
