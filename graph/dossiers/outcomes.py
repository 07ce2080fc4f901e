"""What hit rates need of dossiers: the leads linked to a dossier closed with a hit outcome, with
their own resolution and those closures (policies.dossiers.apply_dossier_outcomes decides how
they count). Only leads the caller may at least know of, as graph.workflow.resolution_counts."""

from __future__ import annotations

from collections.abc import Iterable

import neo4j

from graph.access import NONE, AccessFilter
from graph.dossiers._common import DOSSIER
from graph.handle import Graph
from graph.records import native
from policies.dossiers import DossierClosure, DossierStatus, LinkedLeadFacts, Resolution
from policies.lifecycle import RESOLVED_STATES, CloseOutcome, LeadState


def linked_lead_facts(graph: Graph, access: AccessFilter,
                      hit_outcomes: Iterable[CloseOutcome]) -> list[LinkedLeadFacts]:
    def work(tx: neo4j.ManagedTransaction) -> list[LinkedLeadFacts]:
        rows = tx.run(
            f"MATCH (d:{DOSSIER}) WHERE d.status = $closed AND d.outcome IN $hit "
            "UNWIND d.lead_ids AS id MATCH (l:Lead {lead_id: id}) WHERE l.version > 0 "
            f"WITH d, l, {access.case_expression} AS access WHERE access <> '{NONE}' "
            "OPTIONAL MATCH (s:LeadStatus {lead_id: l.lead_id}) "
            "WITH l, s, collect({outcome: d.outcome, closed_at: d.closed_at}) AS closures "
            "RETURN l.lead_id AS lead_id, coalesce(l.channel, 'inconnu') AS channel, "
            "  coalesce(s.connector, 'agency:' + l.agency) AS connector, "
            "  CASE WHEN s.resolved_at IS NOT NULL AND s.state IN $resolved THEN s.state END AS state, "
            "  s.outcome AS outcome, s.resolved_at AS resolved_at, closures",
            closed=DossierStatus.CLOSED.value, hit=[o.value for o in hit_outcomes],
            resolved=[s.value for s in RESOLVED_STATES], **access.params).data()
        return [LinkedLeadFacts(
            lead_id=r["lead_id"], channel=r["channel"], connector=r["connector"],
            own=Resolution(LeadState(r["state"]), CloseOutcome(r["outcome"]) if r["outcome"] else None,
                           native(r["resolved_at"])) if r["state"] else None,
            closures=tuple(DossierClosure(CloseOutcome(c["outcome"]), native(c["closed_at"]))
                           for c in r["closures"])) for r in rows]

    return graph.read(work)
