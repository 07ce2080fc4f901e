"""What every CLI command that touches the graph needs: the settings and a ready graph handle."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console

from graph.driver import open_driver, wait_ready
from graph.handle import Graph
from graph.setup import apply_schema
from hub.settings import Settings

console = Console()
err_console = Console(stderr=True)

# The demo's accounts: one per agency and role (``crosshub dev``, ``crosshub dev --federation``).
DEMO_AGENCIES = ("police", "gendarmerie", "douanes")
DEMO_ROLES = ("analyst", "coordinator", "guest_referent", "auditor", "administrator")


@contextmanager
def graph_session(settings: Settings | None = None) -> Iterator[tuple[Settings, Graph]]:
    settings = settings or Settings()
    driver = open_driver(settings.graph_config)
    try:
        graph = Graph(driver, settings.neo4j_database)
        wait_ready(graph, 60)
        apply_schema(graph)
        yield settings, graph
    finally:
        driver.close()
