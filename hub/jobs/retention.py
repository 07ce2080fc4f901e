"""The retention purge, a job the hub runs daily (hub/jobs/schedule.py) or the CLI on demand
(``crosshub retention purge``): a plain function of the settings, so any scheduler can call it
(``hub.jobs.retention:run_retention``).

``run_retention``: decide (policies/retention.py) which leads are due, then, in bounded batches,
plan the erasure, log it (action ``erasure``, with lead ids and the entities that go with them)
*before* erasing, and erase (graph/retention.py).

It writes to the audit trail, which has a single writer per directory: inside the running hub,
pass its ``AuditTrail`` (``app.state.audit``); standalone, it opens it itself (standalone.py).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import neo4j
from pydantic import BaseModel, Field

from graph import retention as graph_retention
from graph.handle import Graph
from hub.audit import AuditTrail
from hub.audit.events import system_event
from hub.jobs.standalone import graph_for, trail_for
from hub.settings import Settings
from policies.audit import AuditAction
from policies.retention import (
    RetentionDecision,
    RetentionPolicy,
    add_months,
    decide,
)

log = logging.getLogger("crosshub.jobs")

PURGE_BATCH = 500


class RetentionReport(BaseModel):
    dry_run: bool
    as_of: datetime
    policy_digest: str
    due: list[RetentionDecision] = Field(default_factory=list)
    leads_erased: int = 0
    seizures_erased: int = 0
    workflow_records_erased: int = 0
    entities_erased: list[str] = Field(default_factory=list)
    planned_entities: list[str] = Field(default_factory=list)


def due_for_erasure(graph: Graph, *, now: datetime,
                    policy: RetentionPolicy) -> list[RetentionDecision]:
    """The leads whose retention period has run out at ``now``, oldest first."""
    cutoff = add_months(now, -policy.min_months)
    due = []
    for page in graph_retention.candidate_facts(graph, cutoff):
        due.extend(d for d in (decide(policy, f, now=now) for f in page) if d.expired)
    return due


def run_retention(settings: Settings, *, dry_run: bool = False, now: datetime | None = None,
                  driver: neo4j.Driver | None = None, audit: AuditTrail | None = None,
                  policy: RetentionPolicy, batch_size: int = PURGE_BATCH,
                  origin: str = "scheduler") -> RetentionReport:
    """Purge what the retention rules say is due (``dry_run``: only list it, with the entities
    that would go too)."""
    now = now or datetime.now(UTC)
    db = settings.neo4j_database
    with graph_for(settings, driver) as drv:
        graph = Graph(drv, db)
        due = due_for_erasure(graph, now=now, policy=policy)
        report = RetentionReport(dry_run=dry_run, as_of=now, policy_digest=policy.digest, due=due)
        if dry_run:
            for start in range(0, len(due), batch_size):
                plan = graph_retention.plan_purge(graph, [d.lead_id for d in due[start:start + batch_size]])
                report.planned_entities.extend(plan.orphan_entities)
            return report
        if not due:
            return report
        rules = {d.lead_id: d.rule_id for d in due}
        with trail_for(settings, audit) as trail:
            for start in range(0, len(due), batch_size):
                ids = [d.lead_id for d in due[start:start + batch_size]]
                plan = graph_retention.plan_purge(graph, ids)
                if not plan.lead_ids:
                    continue
                report.planned_entities.extend(plan.orphan_entities)
                # Logged before erasing (the trail's rule); a crash in between leaves a logged
                # erasure that the next run completes: purging is idempotent.
                trail.append(system_event(
                    AuditAction.ERASURE, origin=origin, rule_id=f"retention:{policy.digest[7:19]}",
                    lead_ids=plan.lead_ids, entity_keys=plan.orphan_entities,
                    details={"operation": "retention_purge", "seizures": len(plan.seizure_ids),
                             "rules": ",".join(sorted({rules[i] for i in plan.lead_ids})),
                             "as_of": now.isoformat()},
                ))
                result = graph_retention.purge(graph, plan.lead_ids)
                report.leads_erased += result.leads
                report.seizures_erased += result.seizures
                report.workflow_records_erased += result.workflow_records
                report.entities_erased.extend(result.entities)
        log.info("retention: %d leads, %d seizures, %d entities erased", report.leads_erased,
                 report.seizures_erased, len(report.entities_erased))
        return report
