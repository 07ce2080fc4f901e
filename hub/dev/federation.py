"""A development federation on one machine: N CROSS hubs — each with its own local Neo4j, its API
process and its mutual-TLS federation listener — and one OFAST antenna, all real processes on
loopback. Used by ``crosshub dev --federation N``, the end-to-end federation tests and
bench/federation.py.

Layout under ``base_dir``: ``pki/`` (the dev PKI: CA, certificates, signing keys,
``directory.json``; dev only — in production each party holds only its own keys), ``antenna/``
(its statistics), and one directory per member (``cross-25/``...) holding that hub's data dir
and Neo4j store. Each hub is two processes of the same application (``hub.asgi:create``), as
``crosshub serve`` runs workers: the API on plain loopback HTTP and the federation listener on
HTTPS requiring a client certificate of the federation CA (only the antenna connects there).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from graph import host
from graph.server import LocalNeo4j
from hub.contract.errors import ConfigurationError
from hub.federation.pki import PartyFiles, make_dev_pki
from hub.federation.transport import client_ssl_context, uvicorn_mtls_argv
from hub.settings import Settings

MEMBERS = ("cross-25", "cross-39", "cross-70")  # Doubs, Jura, Haute-Saône
ANTENNA = "antenne-ofast-est"


@dataclass
class FederatedHub:
    """One member: its settings (as its processes read them from the environment), URLs and
    processes."""

    cross_id: str
    settings: Settings
    api_url: str
    peer_url: str
    env: dict[str, str]
    neo4j: LocalNeo4j | None = None
    # An administrator's API token on this hub (``federation.run``): rounds on demand.
    admin_token: str = ""
    processes: list[subprocess.Popen] = field(default_factory=list)

    @property
    def departement(self) -> str:
        return self.cross_id.removeprefix("cross-")


def _python() -> str:
    return sys.executable


def _crosshub() -> list[str]:
    """The ``crosshub`` command of this interpreter's environment."""
    return [sys.executable, "-c", "from hub.cli import app; app()"]


class DevFederation:
    """Start with ``start()`` (or as a context manager), stop with ``stop()``."""

    def __init__(self, base_dir: Path, members: tuple[str, ...] = MEMBERS, *,
                 runtime_dir: Path | None = None, wire_log: Path | None = None,
                 heap: str = "256m", pagecache: str = "64m", log_level: str = "warning",
                 rules_dir: Path | None = None) -> None:
        if len(members) < 2:
            raise ConfigurationError("une fédération compte au moins deux CROSS")
        self.base_dir = Path(base_dir)
        self.members = members
        self.runtime_dir = runtime_dir
        self.wire_log = wire_log
        self.heap, self.pagecache = heap, pagecache
        self.log_level = log_level
        self.rules_dir = rules_dir  # the rules every member runs on (default: the packaged ones)
        self.hubs: dict[str, FederatedHub] = {}
        self._peer_argv: dict[str, list[str]] = {}  # started once the API processes are up
        self.antenna_url = ""
        self.antenna_process: subprocess.Popen | None = None
        self.pki_dir = self.base_dir / "pki"

    # --- start ---------------------------------------------------------------------------------

    def __enter__(self) -> DevFederation:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self, wait_s: float = 180) -> DevFederation:
        ports = {m: (host.free_port(), host.free_port()) for m in self.members}
        antenna_port = host.free_port()
        self.antenna_url = f"https://127.0.0.1:{antenna_port}"
        urls = {m: f"https://127.0.0.1:{peer}" for m, (_, peer) in ports.items()}
        urls[ANTENNA] = self.antenna_url
        make_dev_pki(self.pki_dir, self.members, ANTENNA, urls=urls)
        try:
            self._start_graphs()
            self._start_antenna(antenna_port)
            for member, (api, peer) in ports.items():
                self._start_hub(self.hubs[member], api, peer)
            self._wait_ready(wait_s)
        except BaseException:
            self.stop()
            raise
        return self

    def _member_settings(self, member: str) -> Settings:
        data_dir = self.base_dir / member
        return Settings(data_dir=data_dir, neo4j_uri=None, neo4j_password=None,
                        neo4j_heap=self.heap, neo4j_pagecache=self.pagecache,
                        cross_departement=member.removeprefix("cross-"),
                        federation_enabled=True, federation_pki_dir=self.pki_dir,
                        federation_antenna_url=self.antenna_url, hub_jobs_enabled=False,
                        federation_wire_log=self.wire_log, rules_dir=self.rules_dir)

    def _start_graphs(self) -> None:
        """The members' Neo4j servers, started in parallel (each takes ~10-20 s alone)."""
        errors: list[BaseException] = []

        def start(member: str) -> None:
            try:
                settings = self._member_settings(member)
                server = LocalNeo4j(settings.graph_config, runtime_dir=self.runtime_dir)
                # Three JVMs starting at once on a small machine: a generous bound.
                endpoint = server.start(wait_s=300)
                self.hubs[member].neo4j = server
                self.hubs[member].settings = settings.model_copy(update={
                    "neo4j_uri": endpoint.uri, "neo4j_user": endpoint.user,
                    "neo4j_password": endpoint.password})
            except BaseException as exc:  # re-raised below, in the caller's thread
                errors.append(exc)

        for member in self.members:
            self.hubs[member] = FederatedHub(member, self._member_settings(member), "", "", {})
        threads = [threading.Thread(target=start, args=(m,), name=f"neo4j-{m}") for m in self.members]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]
        from graph.driver import open_driver, wait_ready
        from graph.handle import Graph
        from graph.setup import apply_schema

        from graph import identity

        for fed_hub in self.hubs.values():
            driver = open_driver(fed_hub.settings.graph_config)
            try:
                graph = Graph(driver, fed_hub.settings.neo4j_database)
                wait_ready(graph, 60)
                apply_schema(graph)
                ops = identity.upsert_user(graph, agency="police", role="administrator",
                                           name="federation-ops",
                                           contact=f"Exploitation {fed_hub.cross_id}")
                fed_hub.admin_token = identity.issue_token(graph, ops.user_id).token
            finally:
                driver.close()

    def _spawn(self, argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "ab") as out:
            return subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT,
                                    start_new_session=True)

    def _start_antenna(self, port: int) -> None:
        env = dict(os.environ)
        if self.wire_log:
            env["CROSSHUB_FEDERATION_WIRE_LOG"] = str(self.wire_log)
        self.antenna_process = self._spawn(
            [*_crosshub(), "federation", "antenna", "--port", str(port),
             "--pki-dir", str(self.pki_dir), "--data-dir", str(self.base_dir / "antenna"),
             "--log-level", self.log_level],
            env, self.base_dir / "logs" / "antenna.log")

    def _start_hub(self, fed_hub: FederatedHub, api_port: int, peer_port: int) -> None:
        s = fed_hub.settings
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("CROSSHUB_", "NEO4J_"))}
        env.update({
            "CROSSHUB_DATA_DIR": str(s.data_dir),
            "NEO4J_URI": s.neo4j_uri or "", "NEO4J_USER": s.neo4j_user,
            "NEO4J_PASSWORD": s.neo4j_password.get_secret_value() if s.neo4j_password else "",
            "CROSSHUB_CROSS_DEPARTEMENT": fed_hub.departement,
            "CROSSHUB_FEDERATION_ENABLED": "true",
            "CROSSHUB_FEDERATION_PKI_DIR": str(self.pki_dir),
            "CROSSHUB_FEDERATION_ANTENNA_URL": self.antenna_url,
            "CROSSHUB_HUB_JOBS_ENABLED": "false",
        })
        if self.rules_dir:
            env["CROSSHUB_RULES_DIR"] = str(self.rules_dir)
        if self.wire_log:
            env["CROSSHUB_FEDERATION_WIRE_LOG"] = str(self.wire_log)
        fed_hub.env = env
        fed_hub.api_url = f"http://127.0.0.1:{api_port}"
        fed_hub.peer_url = f"https://127.0.0.1:{peer_port}"
        uvicorn = [_python(), "-m", "uvicorn", "hub.asgi:create", "--factory", "--host",
                   "127.0.0.1", "--log-level", self.log_level, "--no-server-header"]
        logs = self.base_dir / "logs"
        fed_hub.processes.append(self._spawn([*uvicorn, "--port", str(api_port)], env,
                                             logs / f"{fed_hub.cross_id}-api.log"))
        self._peer_argv[fed_hub.cross_id] = [
            *uvicorn, "--port", str(peer_port),
            *uvicorn_mtls_argv(PartyFiles.of(self.pki_dir, fed_hub.cross_id))]

    def _wait_ready(self, wait_s: float) -> None:
        """The API processes first, then each hub's federation listener: two processes of one
        hub starting together write their start-up bookkeeping to the same graph at the same
        moment, and one of them may lose (as ``crosshub serve`` prepares the graph once)."""
        deadline = time.monotonic() + wait_s
        self._wait_for({f"{m}-api": h.api_url for m, h in self.hubs.items()}, deadline)
        for member, argv in self._peer_argv.items():
            self.hubs[member].processes.append(self._spawn(
                argv, self.hubs[member].env, self.base_dir / "logs" / f"{member}-peer.log"))
        self._wait_for({f"{m}-peer": h.peer_url for m, h in self.hubs.items()}, deadline)

    def _wait_for(self, pending: dict[str, str], deadline: float) -> None:
        antenna_files = PartyFiles.of(self.pki_dir, ANTENNA)
        while pending:
            for name, url in list(pending.items()):
                verify = client_ssl_context(antenna_files) if url.startswith("https") else True
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"{url}/healthz", verify=verify, timeout=2).status_code == 200:
                        del pending[name]
            self._check_alive()
            if pending and time.monotonic() > deadline:
                raise ConfigurationError(
                    f"fédération de démonstration : {', '.join(pending)} n'a pas démarré "
                    f"(journaux : {self.base_dir / 'logs'})")
            if pending:
                time.sleep(0.3)

    def _check_alive(self) -> None:
        procs = [("antenne", self.antenna_process)] + [
            (h.cross_id, p) for h in self.hubs.values() for p in h.processes]
        for name, proc in procs:
            if proc is not None and proc.poll() is not None:
                raise ConfigurationError(
                    f"fédération de démonstration : le processus {name} s'est arrêté "
                    f"(code {proc.returncode} ; journaux : {self.base_dir / 'logs'})")

    # --- use -----------------------------------------------------------------------------------

    def run_round(self, member: str, timeout_s: float = 600, *, check: bool = True) -> dict:
        """One querier round of ``member``, run by its hub process
        (``POST /api/v1/federation/round``); the round's counts per peer. Raises
        ``ConfigurationError`` when the hub refuses or (``check``) a peer's round failed."""
        fed_hub = self.hubs[member]
        answer = httpx.post(f"{fed_hub.api_url}/api/v1/federation/round",
                            headers={"Authorization": f"Bearer {fed_hub.admin_token}"},
                            timeout=timeout_s)
        result = answer.json() if answer.headers.get("content-type", "").startswith(
            "application/json") else {}
        failed = {p: r.get("error") for p, r in result.get("peers", {}).items() if r.get("error")}
        if answer.status_code != 200 or (failed and check):
            raise ConfigurationError(f"tour de fédération de {member} : {answer.status_code} "
                                     f"{failed or answer.text[:300]}")
        return result

    def run_round_process(self, member: str, timeout_s: float = 600
                          ) -> subprocess.CompletedProcess:
        """The same round as its own process (``crosshub federation round``, the member's
        environment): what an external scheduler without an API token runs."""
        return subprocess.run([*_crosshub(), "federation", "round"],
                              env=self.hubs[member].env, capture_output=True, text=True,
                              timeout=timeout_s, check=False)

    # --- stop ----------------------------------------------------------------------------------

    def stop(self) -> None:
        procs = [p for h in self.hubs.values() for p in h.processes]
        if self.antenna_process is not None:
            procs.append(self.antenna_process)
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
        for fed_hub in self.hubs.values():
            if fed_hub.neo4j is not None:
                with contextlib.suppress(Exception):
                    fed_hub.neo4j.stop()
