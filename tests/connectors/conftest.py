"""Fixtures for the connectors' end-to-end and fault tests: the REAL hub (``hub.asgi:create``
served by uvicorn in its own process, as in production, so a test can SIGKILL it) on the session's
REAL Neo4j, connector identities registered through ``graph.identity``, and the graph read back
with plain Cypher to check what the connectors produced.

The other tests of this package use the fake hub of ``_harness.py``; nothing here is autouse, so
they are untouched (and need no Neo4j).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from neo4j import Driver
from pydantic import SecretStr

from connectors.base import Connector
from connectors.citizen.connector import CitizenConnector, CitizenSettings
from connectors.douanes.connector import DouanesConnector, DouanesSettings
from connectors.gendarmerie.connector import GendarmerieConnector, GendarmerieSettings
from connectors.police.connector import PoliceConnector, PoliceSettings
from connectors.push import PushPolicy
from graph import identity
from graph.handle import Graph
from hub.contract.signing import generate_keypair, key_id_of, load_public_key_pem
from hub.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
LINKAGE_KEY = "e2e-shared-linkage-key-0123456789abcdef"
# Retries stay real but short: a test must not sit through production backoffs.
FAST_PUSH = PushPolicy(attempts=3, initial_wait_s=0.05, max_wait_s=0.2, max_retry_after_s=0.2,
                       timeout_s=20.0)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def hub_env(settings: Settings, data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a hub process on ``settings``' graph with its own ``data_dir``."""
    password = settings.neo4j_password.get_secret_value() if settings.neo4j_password else ""
    return {**os.environ, "PYTHONPATH": str(ROOT), "NEO4J_URI": settings.neo4j_uri or "",
            "NEO4J_USER": settings.neo4j_user, "NEO4J_PASSWORD": password,
            "CROSSHUB_DATA_DIR": str(data_dir), **extra}


def wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout_s: float) -> bool:
    """True once ``url/healthz`` answers 200; False if ``proc`` exits or ``timeout_s`` passes."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            return False
        time.sleep(0.1)


class HubProcess:
    """The hub in a uvicorn subprocess on a fixed loopback port, so it can be SIGKILLed and
    started again at the same address with the same data dir (audit trail) and graph."""

    def __init__(self, settings: Settings, data_dir: Path) -> None:
        self.settings = settings
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir / f"hub-{self.port}.log"
        self.starts = 0
        self.extra_env: dict[str, str] = {}  # e.g. jobs on, for the two-hub tests

    # Generous: a loaded CI machine can take over a minute to import and open the graph.
    def start(self, timeout_s: float = 180.0) -> HubProcess:
        assert self.proc is None, "already running"
        # No nightly retention purge in the middle of a test: the samples are old leads.
        env = hub_env(self.settings, self.data_dir, **{
            "CROSSHUB_MAX_BATCH_SIZE": "1000", "CROSSHUB_HUB_JOBS_ENABLED": "false", **self.extra_env})
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "--factory", "hub.asgi:create", "--host",
                 "127.0.0.1", "--port", str(self.port), "--log-level", "warning", "--no-access-log"],
                env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
            )
        finally:
            log.close()
        self.starts += 1
        if not wait_healthy(self.url, self.proc, timeout_s):
            self.stop()
            raise RuntimeError(f"the hub did not start:\n{self.log_tail()}")
        return self

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush — a power cut, as far as the hub is concerned."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)
        self.proc = None

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None

    def log_tail(self, n: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-n:] if self.log_path.exists() else ""


@dataclass
class Credentials:
    name: str
    agency: str
    token: str
    key_path: Path


class World:
    """One test's view of the system: the hub it talks to, connector identities, the graph."""

    def __init__(self, driver: Driver, settings: Settings, tmp: Path, hub: HubProcess) -> None:
        self.driver, self.settings, self.tmp, self.hub = driver, settings, tmp, hub
        self.db = settings.neo4j_database
        self._admin: dict[str, str] | None = None

    # --- identities ------------------------------------------------------------------------------

    def register(self, name: str, agency: str) -> Credentials:
        """What an administrator does at the hub: the connector's public key and its token."""
        key_path = self.tmp / "keys" / f"{name}-{agency}.ed25519.pem"
        key_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        pem = generate_keypair(key_path, overwrite=True)
        identity.register_connector_key(Graph(self.driver, self.db), identity.ConnectorKey(
            key_id=key_id_of(load_public_key_pem(pem)), connector=name, agency=agency,
            public_key_pem=pem))
        user = identity.upsert_user(Graph(self.driver, self.db), agency=agency, role="connector", name=name)
        token = identity.issue_token(Graph(self.driver, self.db), user.user_id, purpose="connector").token
        return Credentials(name, agency, token, key_path)

    def admin_headers(self) -> dict[str, str]:
        if self._admin is None:
            user = identity.upsert_user(Graph(self.driver, self.db), agency="police", role="administrator",
                                        name="e2e-admin")
            token = identity.issue_token(Graph(self.driver, self.db), user.user_id).token
            self._admin = {"Authorization": f"Bearer {token}"}
        return self._admin

    # --- connectors -----------------------------------------------------------------------------

    def _common(self, creds: Credentials, **extra: Any) -> dict[str, Any]:
        values: dict[str, Any] = {
            "hub_url": self.hub.url, "hub_token": SecretStr(creds.token), "agency": creds.agency,
            "state_dir": str(self.tmp / "state" / creds.name),
            "signing_key_path": str(creds.key_path), "linkage_key": SecretStr(LINKAGE_KEY),
            "batch_size": 25,
        }
        values.update(extra)
        return values

    @staticmethod
    def _fast(connector: Connector[Any]) -> Connector[Any]:
        connector.push_policy = FAST_PUSH  # type: ignore[misc]
        return connector

    def police(self, creds: Credentials, **extra: Any) -> PoliceConnector:
        extra.setdefault("inbox_dir", self.tmp / "police-inbox")
        extra.setdefault("settle_s", 0)
        return self._fast(PoliceConnector(PoliceSettings(**self._common(creds, **extra))))  # type: ignore[return-value]

    def gendarmerie(self, creds: Credentials, base_url: str, **extra: Any) -> GendarmerieConnector:
        extra.setdefault("page_size", 10)
        extra.setdefault("retries", 0)
        extra.setdefault("retry_backoff_s", 0.01)
        extra.setdefault("timeout_s", 5.0)
        return self._fast(GendarmerieConnector(GendarmerieSettings(
            **self._common(creds, base_url=base_url, **extra))))  # type: ignore[return-value]

    def douanes(self, creds: Credentials, **extra: Any) -> DouanesConnector:
        extra.setdefault("reports_dir", self.tmp / "douanes-share")
        extra.setdefault("settle_s", 0)
        return self._fast(DouanesConnector(DouanesSettings(**self._common(creds, **extra))))  # type: ignore[return-value]

    def citizen(self, creds: Credentials, **extra: Any) -> CitizenConnector:
        extra.setdefault("export_dir", self.tmp / "citizen-export")
        return self._fast(CitizenConnector(CitizenSettings(**self._common(creds, **extra))))  # type: ignore[return-value]

    # --- the hub's API ----------------------------------------------------------------------------

    def connector_runs(self, name: str) -> list[dict[str, Any]]:
        """``GET /api/v1/connectors`` as an administrator: the runs of ``name``, newest first."""
        resp = httpx.get(f"{self.hub.url}/api/v1/connectors", headers=self.admin_headers(), timeout=10)
        assert resp.status_code == 200, resp.text
        for entry in resp.json():
            if entry["connector"] == name:
                return entry["runs"]
        return []

    # --- the graph ------------------------------------------------------------------------------

    def query(self, cypher: str, **params: Any) -> list[dict[str, Any]]:
        return [r.data() for r in self.driver.execute_query(cypher, params, database_=self.db).records]

    def lead_counts(self, prefix: str) -> Counter[str]:
        """How many Lead nodes hold each lead named ``agency:source_ref`` starting with ``prefix``
        (public ids are opaque, ADR 0007: leads are named here by their source reference)."""
        rows = self.query("MATCH (l:Lead) WITH l, l.agency + ':' + l.source_ref AS name "
                          "WHERE name STARTS WITH $p RETURN name AS id, count(*) AS n", p=prefix)
        return Counter({r["id"]: r["n"] for r in rows})

    def leads(self, prefix: str) -> dict[str, dict[str, Any]]:
        """Every lead under ``prefix`` with its links, as the graph holds them."""
        rows = self.query(
            "MATCH (l:Lead) WITH l, l.agency + ':' + l.source_ref AS name WHERE name STARTS WITH $p "
            "RETURN name AS id, l.version AS version, l.kind AS kind, l.agency AS agency, "
            "  l.insee_code AS insee, l.narrative AS narrative, "
            "  [(l)-[:PROVIDED_BY]->(a:Agency) | a.code] AS provided_by, "
            "  [(l)-[:MENTIONS_VEHICLE]->(v:Vehicle) | v.plate] AS plates, "
            "  [(l)-[:MENTIONS_PHONE]->(ph:Phone) | ph.number] AS phones, "
            "  [(l)-[r:INVOLVES]->(p:Person) | {pseudonym: p.pseudonym, role: r.role}] AS persons, "
            "  [(l)-[:AT]->(loc:Location)-[:IN_COMMUNE]->(c:Commune) | c.insee_code] AS communes, "
            "  [(l)-[:REPORTS_SUBSTANCE]->(s:Substance) | s.code] AS mentioned, "
            "  [(l)-[:CONCERNS]->(d:DealPoint) | d.key] AS deal_points, "
            "  [(l)-[:RECORDED]->(z:Seizure) | z {.cash_eur, .weapon_count, .packaging_material, "
            "     substances: [(z)-[q:OF_SUBSTANCE]->(s2:Substance) | "
            "                  {code: s2.code, quantity: q.quantity, unit: q.unit}], "
            "     at: [(z)-[:AT]->(zl:Location) | zl.key]}] AS seizures",
            p=prefix)
        return {r["id"]: r for r in rows}

    def all_strings(self) -> list[str]:
        """Every string held anywhere in the graph: node and relationship properties, keys too."""
        out: list[str] = []

        def walk(value: Any) -> None:
            if isinstance(value, str):
                out.append(value)
            elif isinstance(value, (list, tuple)):
                for v in value:
                    walk(v)
            elif isinstance(value, dict):
                for k, v in value.items():
                    out.append(str(k))
                    walk(v)

        for row in self.query("MATCH (n) RETURN labels(n) AS l, properties(n) AS p"):
            walk(row["l"]), walk(row["p"])
        for row in self.query("MATCH ()-[r]->() RETURN type(r) AS t, properties(r) AS p"):
            walk(row["t"]), walk(row["p"])
        return out

    def assert_no_raw_identifier(self, raw_identifiers: list[str]) -> None:
        haystack = "\n".join(self.all_strings()).casefold()
        assert raw_identifiers, "the samples' ground truth lists no raw identifier"
        leaked = sorted({r for r in raw_identifiers if r.casefold() in haystack})
        assert not leaked, f"raw identifiers found in the graph: {leaked}"


# --- fixtures ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shared_hub(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    """One hub process for a test module (its own data dir: the audit trail is single-writer)."""
    hub = HubProcess(settings, tmp_path_factory.mktemp("e2e-hub"))
    hub.start()
    try:
        yield hub
    finally:
        hub.stop()


@pytest.fixture
def world(clean_graph: Driver, settings: Settings, tmp_path: Path, shared_hub: HubProcess) -> World:
    return World(clean_graph, settings, tmp_path, shared_hub)


@pytest.fixture
def private_hub(settings: Settings, tmp_path: Path) -> Iterator[HubProcess]:
    """A hub of the test's own, not started: for tests that kill and restart it."""
    hub = HubProcess(settings, tmp_path / "hub-data")
    try:
        yield hub
    finally:
        hub.stop()
