"""Shared by the benchmarks: a Neo4j to measure against (``NEO4J_URI`` or a local server started
for the run), a hub served by a real uvicorn process, and a signed connector identity."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from graph import identity
from graph.driver import open_driver, reset_database, wait_ready
from graph.handle import Graph
from graph.server import LocalNeo4j
from graph.setup import apply_schema
from hub.contract.signing import generate_keypair, key_id_of, load_public_key_pem
from hub.settings import Settings


@contextmanager
def bench_settings() -> Iterator[Settings]:
    """Settings on the benchmark's graph: ``NEO4J_URI`` when set, else a local server in a
    temporary data dir (its Maven runtime is the machine's shared cache)."""
    with tempfile.TemporaryDirectory(prefix="crosshub-bench-") as tmp:
        if os.environ.get("NEO4J_URI"):
            yield Settings(data_dir=Path(tmp))
            return
        local = Settings(data_dir=Path(tmp), neo4j_uri=None, neo4j_heap="1g", neo4j_pagecache="512m")
        server = LocalNeo4j(local.graph_config)
        endpoint = server.start()
        try:
            yield local.model_copy(update={"neo4j_uri": endpoint.uri, "neo4j_user": endpoint.user,
                                           "neo4j_password": endpoint.password})
        finally:
            server.stop()


def prepared_driver(settings: Settings, wipe: bool = True):
    driver = open_driver(settings.graph_config)
    graph = Graph(driver, settings.neo4j_database)
    wait_ready(graph, 60)
    apply_schema(graph)
    if wipe:
        reset_database(graph)
    return driver


def register_connector(driver, settings: Settings, agency: str, name: str, key_dir: Path) -> tuple[str, Path]:
    graph = Graph(driver, settings.neo4j_database)
    user = identity.upsert_user(graph, agency=agency, role="connector", name=name)
    token = identity.issue_token(graph, user.user_id).token
    key_path = key_dir / f"{name}.pem"
    pem = generate_keypair(key_path, overwrite=True)
    identity.register_connector_key(graph, identity.ConnectorKey(
        key_id=key_id_of(load_public_key_pem(pem)), connector=name, agency=agency, public_key_pem=pem))
    return token, key_path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def served_hub(settings: Settings, log_path: Path | None = None, **overrides: str) -> Iterator[str]:
    """Run the hub in a uvicorn subprocess (its own interpreter, as in production); its stderr
    goes to ``log_path`` when given (a benchmark counts what the hub logged)."""
    port = _free_port()
    env = {**os.environ, "NEO4J_URI": settings.neo4j_uri or "", "NEO4J_USER": settings.neo4j_user,
           "NEO4J_PASSWORD": settings.neo4j_password.get_secret_value() if settings.neo4j_password else "",
           "CROSSHUB_DATA_DIR": str(settings.data_dir), **overrides}
    log = open(log_path, "wb") if log_path else None  # noqa: SIM115 — closed when the hub stops
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "hub.asgi:create", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning", "--no-access-log"],
        env=env, stderr=log,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the hub did not start")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(60)  # a triage batch in progress finishes first
        if log:
            log.close()
