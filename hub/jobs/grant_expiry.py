"""The automatic end of grants, as an audited event.

``active_grants_for`` already ignores a grant past its end, so access stops on time whatever
happens here; this sweep records the end (``expire_grants`` marks the grants expired and
notifies their holders, the callback appends one audit event each before the commit).

Two ways in: ``expiry_loop`` started from the app's lifespan, and ``POST /api/v1/grants/expire``
for an external scheduler. Every hub process runs the loop, but only the holder of the graph
lease ``grant-expiry`` sweeps (hub/jobs/once.py); the others idle and take over once it lapses.
Should two sweeps ever overlap (a stalled holder, the endpoint), ``expire_grants`` still ends
each grant in one of them only, so each expiry is audited once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import UTC, datetime

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool

from graph import grants as graph_grants
from graph.grants import ExpiredGrant
from graph.handle import Graph
from graph.leases import holder_id
from hub.audit import AuditTrail
from hub.audit.events import SCHEDULER_ORIGIN, grants_expired
from hub.jobs.once import LEASE_TTL_S, RENEW_S, LoopLease

log = logging.getLogger("crosshub.grants")

LEASE_JOB = "grant-expiry"


def sweep(graph: Graph, audit: AuditTrail, now: datetime | None = None, *,
          origin: str = SCHEDULER_ORIGIN,
          triggered_by: str | None = None) -> list[ExpiredGrant]:
    """Expire every grant ended at ``now`` (default: the current instant), in batches; each
    batch is audited before it is committed."""
    now = now or datetime.now(UTC)
    done: list[ExpiredGrant] = []

    def record(batch: list[ExpiredGrant]) -> None:
        audit.append_many(grants_expired(batch, origin, triggered_by))

    while True:
        batch = graph_grants.expire_grants(graph, now, before_commit=record)
        done.extend(batch)
        if len(batch) < graph_grants.EXPIRY_BATCH:  # a full batch may leave more behind
            return done


async def expiry_loop(app: FastAPI, stop: asyncio.Event, interval_s: float = 60.0, *,
                      holder: str | None = None, lease_ttl_s: float = LEASE_TTL_S,
                      renew_s: float = RENEW_S) -> None:
    """Sweep every ``interval_s`` seconds while this process holds the ``grant-expiry`` lease,
    until ``stop`` is set (renewing it every ``renew_s``; without it, try to take it as often).
    Start it in the lifespan once ``app.state.graph`` and ``app.state.audit`` are set; on
    shutdown set ``stop`` and await it (a sweep in progress finishes first: its thread must not
    outlive the driver), which releases the lease for another hub."""
    lease = LoopLease(app.state.graph, LEASE_JOB, holder or holder_id(), ttl_s=lease_ttl_s,
                      renew_s=renew_s)
    next_sweep = 0.0
    try:
        while not stop.is_set():
            try:
                if await run_in_threadpool(lease.hold) and time.monotonic() >= next_sweep:
                    next_sweep = time.monotonic() + interval_s  # a failed sweep waits its turn too
                    expired = await run_in_threadpool(lease.run, sweep, app.state.graph,
                                                      app.state.audit)
                    if expired:
                        log.info("grants expired: %s", ", ".join(g.grant_id for g in expired))
            except Exception:
                log.exception("échec du balayage des autorisations expirées ; nouvel essai plus tard")
            wait = renew_s if not lease.held else min(renew_s, max(0.0, next_sweep - time.monotonic()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=wait)
    finally:
        with contextlib.suppress(Exception):
            await run_in_threadpool(lease.release)
