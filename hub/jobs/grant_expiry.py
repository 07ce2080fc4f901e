"""The automatic end of grants, as an audited event.

``active_grants_for`` already ignores a grant past its end, so access stops on time whatever
happens here; this sweep records the end (``expire_grants`` marks the grants expired and
notifies their holders, the callback appends one audit event each before the commit).

It must run inside the hub process: the audit trail has a single writer (the running hub holds
its lock), so a separate CLI could not log. Two ways in: ``expiry_loop`` started from the app's
lifespan, and ``POST /api/v1/grants/expire`` for an external scheduler.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool

from graph import grants as graph_grants
from graph.grants import ExpiredGrant
from graph.handle import Graph
from hub.audit import AuditTrail
from hub.audit.events import SCHEDULER_ORIGIN, grants_expired

log = logging.getLogger("crosshub.grants")


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


async def expiry_loop(app: FastAPI, stop: asyncio.Event, interval_s: float = 60.0) -> None:
    """Sweep every ``interval_s`` seconds until ``stop`` is set. Start it in the lifespan once
    ``app.state.driver`` and ``app.state.audit`` are set; on shutdown set ``stop`` and await it
    (a sweep in progress finishes first: its thread must not outlive the driver)."""
    while not stop.is_set():
        try:
            expired = await run_in_threadpool(
                sweep, app.state.graph, app.state.audit)
            if expired:
                log.info("grants expired: %s", ", ".join(g.grant_id for g in expired))
        except Exception:
            log.exception("échec du balayage des autorisations expirées ; nouvel essai plus tard")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval_s)
