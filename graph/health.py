"""Whether the graph answers: right now (``ping``, a real query, never just an open socket) or
within a deadline (``wait_ready``, for a server that is starting)."""

from __future__ import annotations

import time
from collections.abc import Callable

import neo4j
from neo4j.exceptions import (
    AuthError,
    DatabaseUnavailable,
    ServiceUnavailable,
    SessionExpired,
    TransientError,
)

from graph.handle import Graph
from hub.contract.errors import ConfigurationError, GraphUnavailable

_RETRYABLE = (ServiceUnavailable, SessionExpired, DatabaseUnavailable, TransientError)


def ping(graph: Graph) -> bool:
    try:
        graph.read(lambda tx: tx.run("RETURN 1").consume())
    except (neo4j.exceptions.Neo4jError, neo4j.exceptions.DriverError, OSError):
        return False
    return True


class NotReady(GraphUnavailable):
    """``wait_ready`` gave up; ``reason`` says why in a few words (French)."""

    def __init__(self, reason: str, last_error: BaseException | None = None) -> None:
        detail = f" ({type(last_error).__name__} : {last_error})" if last_error else ""
        super().__init__(f"Neo4j ne répond pas : {reason}{detail}.")
        self.reason = reason
        self.last_error = last_error


def wait_ready(
    graph: Graph,
    timeout_s: float = 30.0,
    *,
    alive: Callable[[], bool] | None = None,
    auth_retries: int = 0,
) -> None:
    """Block until ``RETURN 1`` succeeds on the graph's database.

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
            with graph.session() as s:
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
