"""The federation round, a scheduled job (hub/jobs/schedule.py, ``settings.federation_cron``,
only when ``federation_enabled``): each due time runs once across the hub's processes (the
graph's run lease, ADR 0013).

A round refreshes this hub's tokens for the current epoch (what peers will find in its filters),
then asks every other member about this hub's identifiers new since that peer's cursor
(hub/federation/querier.py). Peers fail on their own: a quota, a peer down or a proof that does
not verify is recorded for that peer (audit trail, the run's result) and retried next round.
Idempotent for a taker: cursors move only after a peer's round went through, and a repeated
claim answers the same ticket.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from graph.handle import Graph
from hub.federation import holder, querier
from hub.federation.runtime import FederationRuntime, build_runtime, runtime_of
from hub.jobs.standalone import graph_for, trail_for
from hub.settings import Settings

log = logging.getLogger("crosshub.federation")
JOB_NAME = "federation-round"


def run_federation_round(app: Any, due: datetime) -> dict[str, Any]:
    """One round as of ``due``; the run's result: counts per peer, and each peer's error."""
    return _round(runtime_of(app), due)


def run_round_standalone(settings: Settings, now: datetime | None = None,
                         peers: list[str] | None = None) -> dict[str, Any]:
    """The same round outside the hub (« crosshub federation round »): its own driver and audit
    segment, the rules of ``settings.rules_dir``; the watch hits of new tickets as in the hub."""
    from hub.jobs.federation_watches import after_tickets
    from policies.rulebook import load_rulebook

    if not settings.federation_enabled:
        raise RuntimeError("fédération non activée (CROSSHUB_FEDERATION_ENABLED=true)")
    rulebook = load_rulebook(settings.rules_dir)
    with graph_for(settings, None) as driver, trail_for(settings, None) as trail:
        graph = Graph(driver, settings.neo4j_database)
        runtime = build_runtime(settings, graph, trail, rulebook.federation)
        state = SimpleNamespace(graph=graph, rulebook=rulebook, audit=trail, settings=settings)
        runtime.context.on_new_tickets = lambda tickets, at: after_tickets(
            SimpleNamespace(state=state), tickets, at)
        try:
            return _round(runtime, now or datetime.now(UTC), peers)
        finally:
            close = getattr(runtime.transport, "close", None)
            if close is not None:
                close()


def _round(runtime: FederationRuntime, due: datetime,
           peers: list[str] | None = None) -> dict[str, Any]:
    refreshed = holder.refresh_tokens(runtime.context, due)
    if runtime.transport is None:
        log.warning("federation round skipped: no antenna URL (directory or settings)")
        return {"epoch": refreshed.epoch, "tokens_set": refreshed.set, "peers": {}}
    rounds = querier.run_round(runtime.context, runtime.transport, peers, now=due)
    for r in rounds:
        if r.error:
            log.warning("federation round with %s failed: %s", r.peer, r.error)
    return {"epoch": refreshed.epoch, "tokens_set": refreshed.set,
            "tokens_cleared": refreshed.cleared,
            "peers": {r.peer: {"evaluated": sum(r.evaluated.values()),
                               "claimed": sum(r.claimed.values()), "tickets": len(r.tickets),
                               "new_tickets": r.new_tickets, "refused": r.refused,
                               "error": r.error} for r in rounds}}
