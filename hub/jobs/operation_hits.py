"""Lead-vs-operation deconfliction, wired into the triage worker (ADR 0017): after a batch of
fresh leads is triaged, ``raise_operation_hits`` opens an alert for every active operation of
another agency they meet, audits the combination before it commits, and notifies the owners
(and, only where an owner opted in, the lead's agency: « contactez … »). The rule is
``policies.lead_clash``'s; the facts and writes are graph/workflow/lead_clashes.py's.

Called once per batch from ``hub.jobs.triage.triage_pending_once``, before the batch is marked
done: a crash in between leaves the leads pending, and the retried batch raises nothing twice
(one alert per (operation, lead)).
"""

from __future__ import annotations

from datetime import datetime

from fastapi import FastAPI

from graph import workflow as graph_workflow
from graph.workflow import LeadClashRecord
from hub.audit.events import lead_clashes_found


def raise_operation_hits(app: FastAPI, lead_ids: list[str], now: datetime,
                         connector: str | None = None) -> int:
    """Raise the batch's lead-vs-operation alerts; returns how many were opened."""
    rulebook, audit = app.state.rulebook, app.state.audit

    def record(records: list[LeadClashRecord]) -> None:
        audit.append(lead_clashes_found(connector, records))

    return len(graph_workflow.raise_lead_clashes(
        app.state.graph, lead_ids, now, rules=rulebook.deconfliction, policy=rulebook.policy,
        before_commit=record))
