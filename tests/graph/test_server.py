"""The local Neo4j server (graph.server) and the driver helpers (graph.driver), against real
servers: this module starts its own LocalNeo4j (it stops and restarts it), whatever NEO4J_URI
says; the driver tests use the session's graph."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from neo4j import Driver, GraphDatabase
from neo4j.exceptions import AuthError
from typer.testing import CliRunner

from graph import host
from graph.driver import NotReady, reset_database, resolve_endpoint, wait_ready
from graph.handle import Graph
from graph.server import LocalNeo4j, Neo4jEndpoint
from hub.cli.neo4j import app as neo4j_cli
from hub.contract.errors import ConfigurationError
from hub.settings import Settings
from tests.conftest import local_settings, runtime_dir


def _count(endpoint: Neo4jEndpoint, query: str) -> int:
    auth = (endpoint.user, endpoint.password.get_secret_value())
    with GraphDatabase.driver(endpoint.uri, auth=auth) as drv:
        records, _, _ = drv.execute_query(query, database_="neo4j")
    return int(records[0][0])


@pytest.fixture(scope="module")
def own_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNeo4j]:
    server = LocalNeo4j(
        local_settings(tmp_path_factory.mktemp("own-neo4j")).graph_config, runtime_dir=runtime_dir()
    )
    try:
        server.start()
        yield server
    finally:
        server.stop()


def test_start_is_idempotent_and_quick(own_server: LocalNeo4j) -> None:
    first = own_server.endpoint()
    started = time.monotonic()
    again = own_server.start()
    assert time.monotonic() - started < 3.0
    assert again == first
    assert again.uri.startswith("neo4j://127.0.0.1:")


def test_explicit_other_port_is_refused_while_running(own_server: LocalNeo4j) -> None:
    status = own_server.status()
    assert status.port is not None
    with pytest.raises(ConfigurationError, match="tourne déjà"):
        own_server.start(port=status.port + 1)


def test_password_file_is_private_and_never_in_argv_or_conf(own_server: LocalNeo4j) -> None:
    mode = stat.S_IMODE(own_server.password_file.stat().st_mode)
    assert mode == 0o600
    password = own_server.password_file.read_text().strip()
    assert len(password) >= 24
    status = own_server.status()
    assert status.pid is not None
    cmdline = Path(f"/proc/{status.pid}/cmdline").read_bytes().decode()
    assert password not in cmdline
    for path in (own_server.conf_dir / "neo4j.conf", own_server.state_file):
        assert password not in path.read_text()
    assert not list(own_server.home.glob("*.args"))  # the admin tool's argfile is gone


def test_auth_is_on(own_server: LocalNeo4j) -> None:
    endpoint = own_server.endpoint()
    assert endpoint is not None
    for password in ("wrong-password", "neo4j"):  # two failures: Neo4j locks out after three
        with GraphDatabase.driver(endpoint.uri, auth=("neo4j", password)) as drv:
            with pytest.raises(AuthError):
                drv.verify_connectivity()
    assert _count(endpoint, "RETURN 1") == 1  # the right password works (and resets the count)


def test_stop_then_start_keeps_data_and_port(own_server: LocalNeo4j) -> None:
    endpoint = own_server.endpoint()
    assert endpoint is not None
    _count(endpoint, "CREATE (p:Probe {id: 'persist'}) RETURN count(p)")
    running = own_server.status()
    assert running.running and running.pid is not None and running.uri == endpoint.uri

    assert own_server.stop() is True
    stopped = own_server.status()
    assert not stopped.running
    assert stopped.pid is None and stopped.uri is None
    assert stopped.port == running.port
    assert own_server.endpoint() is None
    assert own_server.stop() is False
    with pytest.raises(OSError):
        os.kill(running.pid, 0)

    again = own_server.start()
    assert again == endpoint  # same port, same password
    assert _count(again, "MATCH (p:Probe {id: 'persist'}) RETURN count(p)") == 1


def test_cli_status_shows_uri_and_password_file_not_password(
    own_server: LocalNeo4j, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NEO4J_URI", raising=False)
    monkeypatch.setenv("CROSSHUB_DATA_DIR", str(own_server.config.home.parent))
    result = CliRunner().invoke(neo4j_cli, ["status"], env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    endpoint = own_server.endpoint()
    assert endpoint is not None
    assert "running" in result.output
    assert endpoint.uri in result.output
    assert str(own_server.password_file) in result.output
    assert endpoint.password.get_secret_value() not in result.output


def test_stale_pid_is_not_running(tmp_path: Path) -> None:
    server = LocalNeo4j(local_settings(tmp_path).graph_config, runtime_dir=runtime_dir())
    server.home.mkdir(parents=True)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    server.state_file.write_text(f'{{"pid": {dead.pid}, "port": 7999, "version": "5.26.30"}}')
    status = server.status()
    assert not status.running and status.pid is None and status.port == 7999
    with pytest.raises(ConfigurationError, match="crosshub neo4j start"):
        resolve_endpoint(local_settings(tmp_path).graph_config)


def test_install_without_maven_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_which = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name: None if name == "mvn" else real_which(name))
    server = LocalNeo4j(local_settings(tmp_path / "data").graph_config, runtime_dir=tmp_path / "runtime")
    with pytest.raises(ConfigurationError, match="Maven"):
        server.install()


def test_failing_maven_shows_its_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "mvn"
    fake.write_text("#!/bin/sh\necho 'Could not resolve dependencies: no network'\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    server = LocalNeo4j(local_settings(tmp_path / "data").graph_config, runtime_dir=tmp_path / "runtime")
    with pytest.raises(ConfigurationError, match="no network"):
        server.install()
    assert not server.is_installed()


def test_resolve_endpoint_prefers_external_server(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path, neo4j_uri="neo4j://graph.example:7687", neo4j_password="s3cret-pw"
    )
    endpoint = resolve_endpoint(settings.graph_config)
    assert endpoint.uri == "neo4j://graph.example:7687"
    assert endpoint.password.get_secret_value() == "s3cret-pw"
    with pytest.raises(ConfigurationError, match="NEO4J_PASSWORD"):
        resolve_endpoint(settings.model_copy(update={"neo4j_password": None}).graph_config)


def test_wait_ready_gives_up_on_a_closed_port() -> None:
    port = host.free_port()
    with GraphDatabase.driver(f"bolt://127.0.0.1:{port}", auth=("neo4j", "x")) as drv:
        started = time.monotonic()
        with pytest.raises(NotReady):
            wait_ready(Graph(drv, "neo4j"), timeout_s=1.0)
        assert time.monotonic() - started < 5.0


def test_wait_ready_refuses_wrong_credentials(neo4j_endpoint: Neo4jEndpoint) -> None:
    with GraphDatabase.driver(neo4j_endpoint.uri, auth=("nobody", "wrong-password")) as drv:
        with pytest.raises(ConfigurationError, match="identifiants"):
            wait_ready(Graph(drv, "neo4j"), timeout_s=5.0)


def test_reset_database_wipes_data_keeps_schema(clean_graph: Driver) -> None:
    clean_graph.execute_query(
        "CREATE CONSTRAINT probe_id IF NOT EXISTS FOR (p:Probe) REQUIRE p.id IS UNIQUE",
        database_="neo4j",
    )
    try:
        clean_graph.execute_query(
            "UNWIND range(1, 2500) AS i CREATE (:Probe {id: i})-[:NEXT]->(:Other)",
            database_="neo4j",
        )
        assert reset_database(Graph(clean_graph, "neo4j"), batch_size=1000) == 5000
        records, _, _ = clean_graph.execute_query(
            "MATCH (n) RETURN count(n) AS n", database_="neo4j"
        )
        assert records[0]["n"] == 0
        records, _, _ = clean_graph.execute_query(
            "SHOW CONSTRAINTS YIELD name WHERE name = 'probe_id' RETURN count(*) AS n",
            database_="neo4j",
        )
        assert records[0]["n"] == 1
    finally:
        clean_graph.execute_query("DROP CONSTRAINT probe_id IF EXISTS", database_="neo4j")


def test_clean_graph_starts_empty(clean_graph: Driver) -> None:
    records, _, _ = clean_graph.execute_query("MATCH (n) RETURN count(n) AS n", database_="neo4j")
    assert records[0]["n"] == 0
