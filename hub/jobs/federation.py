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
from datetime import datetime
from typing import Any

from hub.federation import holder, querier
from hub.federation.runtime import runtime_of

log = logging.getLogger("crosshub.federation")
JOB_NAME = "federation-round"


def run_federation_round(app: Any, due: datetime) -> dict[str, Any]:
    """One round as of ``due``; the run's result: counts per peer, and each peer's error."""
    runtime = runtime_of(app)
    refreshed = holder.refresh_tokens(runtime.context, due)
    if runtime.transport is None:
        log.warning("federation round skipped: no antenna URL (directory or settings)")
        return {"epoch": refreshed.epoch, "tokens_set": refreshed.set, "peers": {}}
    rounds = querier.run_round(runtime.context, runtime.transport, now=due)
    for r in rounds:
        if r.error:
            log.warning("federation round with %s failed: %s", r.peer, r.error)
    return {"epoch": refreshed.epoch, "tokens_set": refreshed.set,
            "tokens_cleared": refreshed.cleared,
            "peers": {r.peer: {"evaluated": sum(r.evaluated.values()),
                               "claimed": sum(r.claimed.values()), "tickets": len(r.tickets),
                               "new_tickets": r.new_tickets, "refused": r.refused,
                               "error": r.error} for r in rounds}}
