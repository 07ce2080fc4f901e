"""``crosshub serve``: the hub in production, N worker processes on one host.

Each worker is a whole, identical hub (``hub.asgi:create``: settings from the environment, its own
Neo4j driver, its own audit segment); uvicorn's supervisor shares the listening socket between
them, restarts a worker that dies or hangs, and restarts them one by one on ``SIGHUP`` (a new
release without downtime). State lives in the graph and the audit chains, so two workers — or two
hosts behind a reverse proxy (README, "Several hub processes, several hosts") — serve the same
hub. Before the workers start, the graph is awaited and its schema migrated once, here.

Stopping (``SIGTERM`` or Ctrl-C): every worker stops accepting, finishes the requests it has
accepted — an ingest batch it is writing is written whole and acknowledged — then closes its
background work, driver and audit segment. Only a request still running after
``--graceful-timeout`` seconds is cut (its connection closed without an answer: the connector's
outbox sends the batch again, and the write is idempotent). Give the service manager a stop
timeout longer than that (systemd ``TimeoutStopSec``).
"""

from __future__ import annotations

from typing import Annotated

import typer

from hub.cli.common import err_console

APP = "hub.asgi:create"  # the factory each worker calls (settings from its environment)
DEFAULT_GRACEFUL_TIMEOUT_S = 120.0  # far above a full ingest batch (5,000 leads: a few seconds)


def serve(
    host: Annotated[str, typer.Option(help="Adresse d'écoute (0.0.0.0 : toutes les interfaces)")]
        = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port HTTP")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Nombre de processus du hub")] = 2,
    graceful_timeout: Annotated[float, typer.Option(
        min=1.0, help="Secondes laissées aux requêtes en cours à l'arrêt (SIGTERM) avant de les "
                      "couper")] = DEFAULT_GRACEFUL_TIMEOUT_S,
    log_level: Annotated[str, typer.Option(help="Niveau de journalisation d'uvicorn")] = "info",
    access_log: Annotated[bool, typer.Option(help="Journal des accès HTTP")] = True,
) -> None:
    """Serve the hub: N worker processes on one host, graceful stop on SIGTERM."""
    from hub.contract.errors import ConfigurationError, GraphUnavailable
    from hub.settings import Settings

    # Checked once here, so a wrong setting is one clear message, not N worker tracebacks.
    try:
        settings = Settings()
        _prepare_graph(settings)
    except (ConfigurationError, GraphUnavailable) as exc:
        err_console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(2) from None
    except ValueError as exc:  # pydantic's ValidationError: a CROSSHUB_* variable is wrong
        err_console.print(f"[red]Configuration invalide : {exc}[/red]")
        raise typer.Exit(2) from None
    run_workers(host=host, port=port, workers=workers, graceful_timeout=graceful_timeout,
                log_level=log_level, access_log=access_log, log_format=settings.log_format)


def _prepare_graph(settings) -> None:
    """Wait for the graph and bring its schema up to date once, before the workers start: N
    workers starting together would otherwise each run the same migration at the same moment,
    and concurrent schema changes deadlock in Neo4j (a worker failing its start-up stops them
    all). Each worker's own ``apply_schema`` then finds nothing to migrate."""
    from graph.driver import open_driver, wait_ready
    from graph.handle import Graph
    from graph.setup import apply_schema

    driver = open_driver(settings.graph_config)
    try:
        graph = Graph(driver, settings.neo4j_database)
        wait_ready(graph, 60)
        apply_schema(graph)
    finally:
        driver.close()


def run_workers(*, host: str, port: int, workers: int,
                graceful_timeout: float = DEFAULT_GRACEFUL_TIMEOUT_S, log_level: str = "info",
                access_log: bool = True, log_format: str = "json") -> None:
    """Run ``workers`` hub processes on ``host:port`` until SIGTERM/SIGINT (main thread only).
    Every process logs through hub/ops/logs.py (JSON lines, identifiers masked); the access log
    is the hub's own, by route template (uvicorn's prints the path asked, plates included)."""
    import uvicorn

    from hub.ops.logs import ACCESS_LOGGER, logging_config

    log_config = logging_config(log_format, log_level)
    if not access_log:
        log_config["loggers"][ACCESS_LOGGER] = {"handlers": [], "propagate": False, "level": "CRITICAL"}

    uvicorn.run(
        APP, factory=True, host=host, port=port, workers=workers,
        timeout_graceful_shutdown=graceful_timeout, log_level=log_level, access_log=False,
        log_config=log_config,
        # The client's address is the hub's to decide (CROSSHUB_TRUSTED_PROXIES, hub/routers/
        # auth.py), from the real peer: uvicorn must not rewrite it from X-Forwarded-For.
        proxy_headers=False, server_header=False,
    )
