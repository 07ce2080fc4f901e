"""Session fixtures shared by every test: one real Neo4j per test session (per xdist worker).

- ``NEO4J_URI``/``NEO4J_USER``/``NEO4J_PASSWORD`` set: tests use that server (its data is wiped
  by ``clean_graph``, so never point them at a graph you care about).
- Otherwise a ``LocalNeo4j`` is started under a session tmp dir and stopped at the end. Its
  Maven runtime is shared per machine: ``CROSSHUB_NEO4J_RUNTIME_DIR``, by default
  ``~/.cache/crosshub/neo4j-runtime``.

A server that cannot start fails the session loudly (the fixture raises).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from neo4j import Driver
from pydantic import SecretStr

from graph.driver import open_driver, reset_database
from graph.handle import Graph
from graph.server import RUNTIME_DIR_ENV, LocalNeo4j, Neo4jEndpoint
from hub.settings import Settings

DEFAULT_RUNTIME_DIR = Path.home() / ".cache" / "crosshub" / "neo4j-runtime"


def runtime_dir() -> Path:
    return Path(os.environ.get(RUNTIME_DIR_ENV) or DEFAULT_RUNTIME_DIR)


def local_settings(data_dir: Path) -> Settings:
    """Settings for a local test server under ``data_dir``, small memory, no external server."""
    return Settings(
        data_dir=data_dir,
        neo4j_uri=None,
        neo4j_password=None,
        neo4j_heap="512m",
        neo4j_pagecache="128m",
    )


@pytest.fixture(scope="session")
def local_neo4j(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNeo4j | None]:
    """The session's local server, or None when the tests run against ``NEO4J_URI``."""
    if os.environ.get("NEO4J_URI"):
        yield None
        return
    server = LocalNeo4j(
        local_settings(tmp_path_factory.mktemp("neo4j-session")).graph_config, runtime_dir=runtime_dir()
    )
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def neo4j_endpoint(local_neo4j: LocalNeo4j | None) -> Neo4jEndpoint:
    if local_neo4j is None:
        return Neo4jEndpoint(
            uri=os.environ["NEO4J_URI"],
            user=os.environ.get("NEO4J_USER", "neo4j"),
            password=SecretStr(os.environ.get("NEO4J_PASSWORD", "")),
        )
    endpoint = local_neo4j.endpoint()
    assert endpoint is not None, "the session's Neo4j stopped"
    return endpoint


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory, neo4j_endpoint: Neo4jEndpoint) -> Settings:
    """Hub settings pointing at the session's graph, with a fresh data_dir. Tests needing their
    own data_dir: ``settings.model_copy(update={"data_dir": tmp_path})``."""
    return Settings(
        data_dir=tmp_path_factory.mktemp("crosshub-data"),
        neo4j_uri=neo4j_endpoint.uri,
        neo4j_user=neo4j_endpoint.user,
        neo4j_password=neo4j_endpoint.password,
    )


@pytest.fixture(scope="session")
def driver(settings: Settings) -> Iterator[Driver]:
    """One driver for the session (``graph.driver.open_driver``), closed at its end."""
    drv = open_driver(settings.graph_config)
    try:
        yield drv
    finally:
        drv.close()


# A user property a test records (``record_property(REPORT, line)``) to have ``line`` printed in the
# run's summary even when the test passes and its output is captured (also under xdist).
REPORT = "report"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The identifier corpus's false positives and false negatives per side (connectors'
    sanitizer, hub's guard), from the outcomes its tests record (tests/corpus/identifiers.py);
    read from the reports, so it also works under xdist."""
    from collections import Counter

    from tests.corpus.identifiers import PROPERTY

    counts: Counter[tuple[str, str]] = Counter()
    for reports in terminalreporter.stats.values():
        for report in reports:
            if getattr(report, "when", None) != "call":
                continue
            for name, value in getattr(report, "user_properties", ()):
                if name == PROPERTY:
                    side, outcome = value.split("|")
                    counts[side, outcome] += 1
    lines = [value for reports in terminalreporter.stats.values() for report in reports
             if getattr(report, "when", None) == "call"
             for name, value in getattr(report, "user_properties", ()) if name == REPORT]
    if lines:  # totals that tests record for the reader (schemathesis, load, access matrix)
        terminalreporter.section("rapports des tests")
        for line in lines:
            terminalreporter.write_line(line)
    if not counts:
        return
    terminalreporter.section("corpus des identifiants (déclarant)")
    for side in sorted({side for side, _ in counts}):
        hostile = counts[side, "vrai positif"] + counts[side, "faux négatif"]
        legit = counts[side, "vrai négatif"] + counts[side, "faux positif"]
        terminalreporter.write_line(
            f"{side} : {counts[side, 'faux positif']} faux positif(s) sur {legit} textes "
            f"légitimes, {counts[side, 'faux négatif']} faux négatif(s) sur {hostile} textes "
            "hostiles")


@pytest.fixture
def clean_graph(driver: Driver, settings: Settings) -> Driver:
    """Wipe every node and relationship (constraints and indexes stay) before the test."""
    reset_database(Graph(driver, settings.neo4j_database))
    return driver


@pytest.fixture(scope="session")
def graph(driver: Driver, settings: Settings) -> Graph:
    """The session's ``Graph`` handle (the one driver + the database), as the hub hands it out."""
    return Graph(driver, settings.neo4j_database)


@pytest.fixture
def clean(graph: Graph) -> Graph:
    """``clean_graph`` for tests written against the handle: wiped, then handed out."""
    reset_database(graph)
    return graph


@pytest.fixture(autouse=True, scope="session")
def _wide_cli_consoles() -> None:
    """The CLI's module-level rich consoles fix their width at import when COLUMNS is set, and
    xdist workers start with COLUMNS=80: tables would then wrap or cut identifiers whatever width
    a test's runner asks for, depending on which worker imported the module first. Tests read CLI
    output at a fixed, wide width."""
    from hub.cli import common, connectors, neo4j

    for shared in (common.console, common.err_console, connectors.console,
                   connectors.err_console, neo4j._out, neo4j._err):
        shared.width = 220
