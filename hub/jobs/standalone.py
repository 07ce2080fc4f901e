"""What a job opens for itself when it runs outside the hub (the CLI): a Neo4j driver, waited
for and with the schema applied, and a segment of the audit trail of its own (ADR 0012), so it
logs while hubs serve. Inside the hub the job is handed the hub's own (``app.state.driver``,
``app.state.audit``) and these yield them unchanged.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import neo4j

from graph.driver import open_driver, wait_ready
from graph.handle import Graph
from graph.setup import apply_schema
from hub.audit import AuditTrail, WriterKind, open_writer
from hub.settings import Settings


@contextlib.contextmanager
def graph_for(settings: Settings, driver: neo4j.Driver | None) -> Iterator[neo4j.Driver]:
    """``driver`` if given, else a driver of its own for the job's duration."""
    if driver is not None:
        yield driver
        return
    drv = open_driver(settings.graph_config)
    try:
        graph = Graph(drv, settings.neo4j_database)
        wait_ready(graph, 60)
        apply_schema(graph)
        yield drv
    finally:
        drv.close()


@contextlib.contextmanager
def trail_for(settings: Settings, audit: AuditTrail | None) -> Iterator[AuditTrail]:
    """``audit`` if given, else the trail opened (and closed) for the job's duration."""
    if audit is not None:
        yield audit
        return
    with open_writer(settings, kind=WriterKind.CLI) as trail:
        yield trail
