"""The hub's triage worker: scores freshly written leads, flags likely duplicates, opens
cross-agency link alerts and notifies the agencies concerned (hit-style: who holds how many,
never what).

Ingest only marks leads pending (in its own write transaction) and wakes this loop, so a
connector's acknowledgement never waits for triage, and a crash between the two loses nothing:
pending leads are picked up at the next start. ``after_ingest`` is idempotent, so a lead triaged
twice after a crash raises no second alert.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool

from graph import grants as graph_grants
from graph import workflow as graph_workflow
from graph.grants import NotificationKind
from hub.audit.events import triage_combination
from policies.audit import SYSTEM_ACTOR
from policies.links import notices_for

log = logging.getLogger("crosshub.triage")

BATCH = 2000


def triage_pending_once(app: FastAPI) -> int:
    """Triage one batch of pending leads; return how many were triaged."""
    graph, audit = app.state.graph, app.state.audit
    pending = graph_workflow.pending_triage(graph, BATCH)
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
        graph_workflow.triage_done(graph, lead_ids)
        done += len(lead_ids)
    return done


async def triage_loop(app: FastAPI, wakeup: asyncio.Event, stop: asyncio.Event,
                      idle_s: float = 30.0) -> None:
    """Drain pending leads whenever woken (or every ``idle_s``) until ``stop`` is set. Shutdown
    sets ``stop`` and ``wakeup`` and *awaits* this coroutine instead of cancelling it: a
    cancelled task would leave its worker thread using the driver while the lifespan closes it."""
    while not stop.is_set():
        try:
            while not stop.is_set() and await run_in_threadpool(triage_pending_once, app):
                pass  # drain the backlog batch by batch
        except Exception:  # noqa: BLE001 — the loop must outlive a bad batch; leads stay pending
            log.exception("triage failed; pending leads stay pending and are retried")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wakeup.wait(), timeout=idle_s)
        wakeup.clear()
