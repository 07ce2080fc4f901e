"""The Neo4j driver of a process: where to connect (external server or the local one), how to
open the driver, how to wait until the graph answers, and a data wipe for tests.

Nothing here connects on import.
"""

from __future__ import annotations

from neo4j import Driver, GraphDatabase

from graph.config import GraphConfig
from graph.handle import Graph
from graph.health import NotReady, wait_ready
from graph.server import LocalNeo4j, Neo4jEndpoint
from hub.contract.errors import ConfigurationError

USER_AGENT = "crosshub"
POOL_SIZE = 50
CONNECTION_TIMEOUT_S = 5.0
ACQUISITION_TIMEOUT_S = 30.0
MAX_TRANSACTION_RETRY_S = 15.0


def resolve_endpoint(config: GraphConfig) -> Neo4jEndpoint:
    """The external server when ``config.uri`` is set, else the running local server."""
    if config.uri:
        if config.password is None:
            raise ConfigurationError(
                "NEO4J_URI est défini mais NEO4J_PASSWORD ne l'est pas : "
                "indiquez le mot de passe du serveur Neo4j."
            )
        return Neo4jEndpoint(
            uri=config.uri, user=config.user, password=config.password
        )
    endpoint = LocalNeo4j(config).endpoint()
    if endpoint is None:
        raise ConfigurationError(
            f"Le serveur Neo4j local ({config.home}) n'est pas démarré : "
            "lancez `crosshub neo4j start`."
        )
    return endpoint


def open_driver(config: GraphConfig) -> Driver:
    """A new driver for ``config``'s endpoint; no I/O until the first query.

    The caller owns it and closes it: open one per process (the app's lifespan, one CLI command)
    and share it — it is thread-safe and pools its connections. Not cached here, so that closing
    one owner's driver (an app shutting down in a test) never closes another's.
    """
    endpoint = resolve_endpoint(config)
    return GraphDatabase.driver(
        endpoint.uri,
        auth=(endpoint.user, endpoint.password.get_secret_value()),
        user_agent=USER_AGENT,
        max_connection_pool_size=POOL_SIZE,
        connection_timeout=CONNECTION_TIMEOUT_S,
        connection_acquisition_timeout=ACQUISITION_TIMEOUT_S,
        max_transaction_retry_time=MAX_TRANSACTION_RETRY_S,
        keep_alive=True,
        # Schema-less warnings ("property does not exist yet") on a young graph are noise in
        # the logs; real errors still raise.
        notifications_min_severity="OFF",
    )


def reset_database(graph: Graph, batch_size: int = 10_000) -> int:
    """Delete every node and relationship of the graph's database, keeping constraints and
    indexes. For tests and demos. Returns the number of nodes deleted."""
    with graph.session() as session:
        # CALL { } IN TRANSACTIONS needs an auto-commit transaction: session.run, not execute_*.
        summary = session.run(
            "MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF $batch ROWS",
            batch=batch_size,
        ).consume()
    return summary.counters.nodes_deleted


__all__ = [
    "NotReady",
    "open_driver",
    "reset_database",
    "resolve_endpoint",
    "wait_ready",
]
