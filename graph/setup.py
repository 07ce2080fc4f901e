"""Everything the graph needs before anyone reads or writes it: the numbered migrations
(graph/schema.py) and the constraints and indexes each graph module declares as its ``SCHEMA``,
registered here by name — one list a reader can see, no discovery by import path. A module that
owns nodes of its own adds its ``SCHEMA`` to ``MODULE_SCHEMAS``.
"""

from __future__ import annotations

from graph import analysis, grants, leases, meetings, oidc_accounts, sessions, watches, workflow
from graph import dossiers  # shared dossiers (ADR 0019)
from graph import resolution  # entity resolution, merges (« Rapprochements »)
from graph import federation  # federation between CROSS hubs (issue 16)
from graph import operations  # the watch on the connectors: its alerts (issue 17)
from graph import policy_deployments  # the policy files' digests last deployed (issue 17)
from graph.identity import reviews as access_reviews  # periodic access reviews (issue 17)
from graph import schema as migrations
from graph.identity import second_factor
from graph.handle import Graph

MODULE_SCHEMAS: dict[str, list[str]] = {
    "graph.sessions": sessions.SCHEMA,
    "graph.oidc_accounts": oidc_accounts.SCHEMA,
    "graph.grants": grants.SCHEMA,
    "graph.analysis": analysis.SCHEMA,
    "graph.workflow": workflow.SCHEMA,
    "graph.meetings": meetings.SCHEMA,
    "graph.leases": leases.SCHEMA,
    "graph.watches": watches.SCHEMA,
    "graph.identity.second_factor": second_factor.SCHEMA,
    "graph.dossiers": dossiers.SCHEMA,
    "graph.resolution": resolution.SCHEMA,
    "graph.federation": federation.SCHEMA,
    "graph.operations": operations.SCHEMA,
    "graph.policy_deployments": policy_deployments.SCHEMA,
    "graph.identity.reviews": access_reviews.SCHEMA,
}


def module_statements() -> list[str]:
    return [statement for statements in MODULE_SCHEMAS.values() for statement in statements]


def apply_schema(graph: Graph) -> int:
    """Migrate the graph to the current schema version and apply every module's constraints and
    indexes; idempotent (run at every start-up). Returns the version in force."""
    return migrations.apply_schema(graph, module_statements())
