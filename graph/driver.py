"""The Neo4j driver of a process: where to connect (external server or the local one), how to
open the driver, how to wait until the graph answers, and a data wipe for tests.

Nothing here connects on import.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import neo4j
from neo4j import Driver, GraphDatabase
from neo4j.exceptions import (
    AuthError,
    DatabaseUnavailable,
    ServiceUnavailable,
    SessionExpired,
    TransientError,
)

from graph.server import LocalNeo4j, Neo4jEndpoint
from hub.contract.errors import ConfigurationError, GraphUnavailable
from hub.settings import Settings

USER_AGENT = "crosshub"
POOL_SIZE = 50
CONNECTION_TIMEOUT_S = 5.0
ACQUISITION_TIMEOUT_S = 30.0
MAX_TRANSACTION_RETRY_S = 15.0

_RETRYABLE = (ServiceUnavailable, SessionExpired, DatabaseUnavailable, TransientError)


def resolve_endpoint(settings: Settings) -> Neo4jEndpoint:
    """The external server when ``neo4j_uri`` is set, else the running local server."""
    if settings.neo4j_uri:
        if settings.neo4j_password is None:
            raise ConfigurationError(
                "NEO4J_URI est défini mais NEO4J_PASSWORD ne l'est pas : "
                "indiquez le mot de passe du serveur Neo4j."
            )
        return Neo4jEndpoint(
            uri=settings.neo4j_uri, user=settings.neo4j_user, password=settings.neo4j_password
        )
    endpoint = LocalNeo4j(settings).endpoint()
    if endpoint is None:
        raise ConfigurationError(
            f"Le serveur Neo4j local ({settings.neo4j_home}) n'est pas démarré : "
            "lancez `crosshub neo4j start`."
        )
    return endpoint


def open_driver(settings: Settings) -> Driver:
    """A new driver for ``settings``' endpoint; no I/O until the first query.

    The caller owns it and closes it: open one per process (the app's lifespan, one CLI command)
    and share it — it is thread-safe and pools its connections. Not cached here, so that closing
    one owner's driver (an app shutting down in a test) never closes another's.
    """
    endpoint = resolve_endpoint(settings)
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


class NotReady(GraphUnavailable):
    """``wait_ready`` gave up; ``reason`` says why in a few words (French)."""

    def __init__(self, reason: str, last_error: BaseException | None = None) -> None:
        detail = f" ({type(last_error).__name__} : {last_error})" if last_error else ""
        super().__init__(f"Neo4j ne répond pas : {reason}{detail}.")
        self.reason = reason
        self.last_error = last_error


def wait_ready(
    driver: Driver,
    database: str = "neo4j",
    timeout_s: float = 30.0,
    *,
    alive: Callable[[], bool] | None = None,
    auth_retries: int = 0,
) -> None:
    """Block until ``RETURN 1`` succeeds on ``database``.

    Bolt accepts connections before the DBMS is ready, so connection and transient errors are
    retried until ``timeout_s``. ``alive`` (when given) is checked between attempts: a dead server
    stops the wait at once. ``auth_retries`` tolerates that many authentication failures (a server
    still starting can refuse credentials it will accept a moment later); beyond, the credentials
    are wrong and ``ConfigurationError`` is raised. Raises ``NotReady`` on timeout or death.
    """
    deadline = time.monotonic() + timeout_s
    last: BaseException | None = None
    auth_failures = 0
    delay = 0.1
    while True:
        if alive is not None and not alive():
            raise NotReady("le processus s'est arrêté pendant le démarrage", last)
        try:
            # A plain auto-commit query: execute_query would retry internally for up to 30 s.
            with driver.session(database=database, default_access_mode=neo4j.WRITE_ACCESS) as s:
                s.run("RETURN 1").consume()
            return
        except AuthError as exc:
            auth_failures += 1
            if auth_failures > auth_retries:
                raise ConfigurationError(
                    f"Neo4j refuse les identifiants configurés : {exc.message or exc}"
                ) from exc
            last = exc
        except _RETRYABLE as exc:
            last = exc
        if time.monotonic() >= deadline:
            raise NotReady(f"toujours indisponible après {timeout_s:.0f} s", last)
        time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
        delay = min(delay * 1.5, 1.0)


def reset_database(driver: Driver, database: str = "neo4j", batch_size: int = 10_000) -> int:
    """Delete every node and relationship of ``database``, keeping constraints and indexes.
    For tests and demos. Returns the number of nodes deleted."""
    with driver.session(database=database) as session:
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
