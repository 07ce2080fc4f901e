"""The hub's triage worker: scores freshly written leads, flags likely duplicates, opens
cross-agency link alerts and notifies the agencies concerned (hit-style: who holds how many,
never what).

Ingest only marks leads pending (in its own write transaction) and wakes this loop, so a
connector's acknowledgement never waits for triage, and a crash between the two loses nothing:
pending leads are picked up at the next start.

With N hub processes on one graph, the worker of the process holding the graph lease ``triage``
drains the queue (hub/jobs/once.py) — woken by its own ingest, and polling every ``POLL_S`` for
leads other hubs wrote; the others idle and take over once the lease lapses. Each batch is also
*claimed* in the graph (``claim_pending``), so should two workers ever overlap (a stalled
holder, a direct ``triage_pending_once``) a lead is triaged by one of them only: one link alert,
one notice. A worker dead mid-batch leaves claims that lapse (``CLAIM_TTL_S``), then are retaken.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from datetime import UTC, datetime

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool

from graph import grants as graph_grants
from graph import workflow as graph_workflow
from graph.grants import NotificationKind
from graph.leases import holder_id
from hub.audit.events import triage_combination
from hub.jobs import operation_hits, watch_hits
from hub.jobs.once import LEASE_TTL_S, RENEW_S, LoopLease
from policies.audit import SYSTEM_ACTOR
from policies.links import notices_for

log = logging.getLogger("crosshub.triage")

BATCH = 2000
LEASE_JOB = "triage"
POLL_S = 2.0  # the holder looks for leads ingested through other hubs (they wake only their own)


def triage_pending_once(app: FastAPI, holder: str | None = None) -> int:
    """Claim and triage one batch of pending leads; return how many were triaged."""
    graph, audit = app.state.graph, app.state.audit
    # A claimant per call: two workers of one process (one holder id) never share a claim.
    claimant = f"{holder or holder_id()}/{secrets.token_hex(4)}"
    pending = graph_workflow.claim_pending(graph, claimant, BATCH)
    done = 0
    for connector, lead_ids in pending.items():
        now = datetime.now(UTC)

        def record(report, connector=connector) -> None:
            # Logged before the triage commits: the combination happens only if logged.
            event = triage_combination(None, SYSTEM_ACTOR, connector or "hub", report)
            if event is not None:
                audit.append(event)

        report = graph_workflow.after_ingest(graph, lead_ids, now, rules=app.state.rulebook.triage,
                                             connector=connector, before_commit=record)
        notices = [
            (n.agency, NotificationKind.CROSS_AGENCY_LINK, n.message_fr,
             {"alert_id": n.alert_id, "entity_key": n.entity_key})
            for alert in report.link_alerts
            for n in notices_for(alert.alert_id, alert.entity_kind, alert.entity_key, alert.leads,
                                 now=now, policy=app.state.rulebook.policy)
        ]
        graph_grants.notify_agencies(graph, notices, now)
        operation_hits.raise_operation_hits(app, lead_ids, now, connector)  # ADR 0017
        watch_hits.after_triage(app, lead_ids, now)  # never raises (hub/jobs/watch_hits.py)
        graph_workflow.triage_done(graph, lead_ids)
        done += len(lead_ids)
    metrics = getattr(app.state, "metrics", None)  # a bare test app may have none
    if done and metrics is not None:
        metrics.triaged.inc(done)
    return done


async def triage_loop(app: FastAPI, wakeup: asyncio.Event, stop: asyncio.Event,
                      idle_s: float = 30.0, *, holder: str | None = None,
                      lease_ttl_s: float = LEASE_TTL_S, renew_s: float = RENEW_S) -> None:
    """While this process holds the ``triage`` lease, drain pending leads whenever woken (or
    every ``min(idle_s, POLL_S)``); without it, try to take it every ``renew_s`` or when woken;
    until ``stop`` is set. Shutdown sets ``stop`` and ``wakeup`` and *awaits* this coroutine
    instead of cancelling it: a cancelled task would leave its worker thread using the driver
    while the lifespan closes it. Stopping releases the lease for another hub."""
    who = holder or holder_id()
    lease = LoopLease(app.state.graph, LEASE_JOB, who, ttl_s=lease_ttl_s, renew_s=renew_s)
    try:
        while not stop.is_set():
            try:
                # Drain the backlog batch by batch, checking the lease between batches.
                while (not stop.is_set() and await run_in_threadpool(lease.hold)
                       and await run_in_threadpool(lease.run, triage_pending_once, app, who)):
                    pass
            except Exception:  # noqa: BLE001 — the loop must outlive a bad batch; leads stay pending
                log.exception("triage failed; pending leads stay pending and are retried")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wakeup.wait(),
                                       timeout=min(idle_s, POLL_S) if lease.held else renew_s)
            wakeup.clear()
    finally:
        with contextlib.suppress(Exception):
            await run_in_threadpool(lease.release)
