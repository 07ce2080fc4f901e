"""The escalation of disclosure requests left unanswered past their deadline (Prüm II: 48 h by
default, ``policies/data/disclosure.yaml``), as a scheduled job that runs once across hub
processes (ADR 0013: ``hub/jobs/schedule.py`` registers it, ``ScheduledRuns`` claims each due
time in the graph).

Each run escalates, as of its due time, every request still awaiting its answer at or past its
deadline and not yet escalated: ``graph.grants.escalate_overdue`` marks it, notifies every CROSS
coordinator in the same transaction, and the callback appends one audit event per request before
the commit. A request is escalated once, whichever hub runs the sweep, and a run taken over by
another hub does the same work (it is idempotent). Reads never wait for it: a request shows
overdue from its deadline on (policies.disclosure.is_overdue).
"""

from __future__ import annotations

import logging
from datetime import datetime

from graph import grants as graph_grants
from graph.grants import DisclosureRequestRecord
from graph.handle import Graph
from hub.audit import AuditTrail
from hub.audit.events import SCHEDULER_ORIGIN, disclosures_escalated
from policies import disclosure as graded
from policies.disclosure import DisclosureRules

log = logging.getLogger("crosshub.disclosures")

JOB_NAME = "disclosure-escalation"
# Every 10 minutes: a request waits at most that long past its deadline for the coordinators'
# notification (the agenda and every read show it overdue at once).
ESCALATION_CRON = "*/10 * * * *"


def sweep(graph: Graph, audit: AuditTrail, rules: DisclosureRules, now: datetime, *,
          origin: str = SCHEDULER_ORIGIN) -> list[DisclosureRequestRecord]:
    """Escalate every request overdue at ``now``, in batches, each batch audited before it is
    committed; the requests escalated."""
    done: list[DisclosureRequestRecord] = []

    def message(r: DisclosureRequestRecord) -> str:
        assert r.due_at is not None
        return graded.escalated_fr(r.lead_id, r.owner_agency, r.requester_agency, r.due_at)

    while True:
        batch = graph_grants.escalate_overdue(
            graph, now, default_hours=rules.deadline_hours, recipient_role=graded.ESCALATION_ROLE,
            message=message,
            before_commit=lambda records: audit.append_many(disclosures_escalated(records, origin)))
        done.extend(batch)
        if len(batch) < graph_grants.ESCALATION_BATCH:  # a full batch may leave more behind
            if done:
                log.info("disclosure requests escalated: %s", ", ".join(r.request_id for r in done))
            return done
