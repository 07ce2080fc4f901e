"""The local Neo4j Community server this project provisions, starts and stops itself (no Docker).

Owns everything under ``config.home``:

- ``runtime-<version>/``: the runtime jars fetched from Maven Central (graph/runtime.py).
  The runtime can live elsewhere, shared between homes (CI, test sessions): set
  ``CROSSHUB_NEO4J_RUNTIME_DIR`` or pass ``runtime_dir=``. Default: ``neo4j_home`` itself.
- ``conf/neo4j.conf``: rewritten at every start (loopback only, HTTP off, auth on, small memory).
- ``data/``, ``logs/`` (Neo4j's own ``neo4j.log``/``debug.log``, and ``console.log`` for the JVM's
  stdout/stderr), ``plugins/``, ``run/``.
- ``password``: the generated password of user ``neo4j``, mode 0600, set (``neo4j-admin dbms
  set-initial-password``) before the very first start, so neo4j/neo4j is never accepted.
- ``server.json``: ``pid`` (null when stopped), ``port`` (kept so the URI is stable across
  restarts), ``version``.

The server runs as a detached ``java`` process (its own session), so it outlives the CLI that
started it. ``start`` is idempotent; ``stop`` sends SIGTERM, then SIGKILL after a timeout.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import signal
import subprocess
import time
from pathlib import Path

from pydantic import BaseModel, ConfigDict, SecretStr

from graph import host, runtime
from graph.config import GraphConfig
from hub.contract.errors import ConfigurationError

RUNTIME_DIR_ENV = "CROSSHUB_NEO4J_RUNTIME_DIR"
NEO4J_USER = "neo4j"
ENTRY_POINT = "org.neo4j.server.CommunityEntryPoint"
ADMIN_TOOL = "org.neo4j.cli.AdminTool"

_MEMORY_RE = re.compile(r"^[0-9]+[kmgKMG]?$")
_VERSION_RE = re.compile(r"^[0-9]+\.[0-9]+\.[0-9]+$")

# Popen handles of the servers this process started: lets us reap them (a dead child we never
# waited for stays a zombie and would still look alive to ``kill(pid, 0)``).
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


class Neo4jEndpoint(BaseModel):
    """Where and as whom to connect. The local server's URI is ``neo4j://`` (routing): a single
    Community server answers the routing procedure with itself, so the same scheme serves a
    cluster later."""

    model_config = ConfigDict(frozen=True)

    uri: str
    user: str
    password: SecretStr


class ServerStatus(BaseModel):
    model_config = ConfigDict(frozen=True)

    running: bool
    pid: int | None
    port: int | None
    uri: str | None
    version: str
    home: Path
    password_file: Path


class LocalNeo4j:
    """The Neo4j Community server under ``config.home``."""

    def __init__(self, config: GraphConfig, *, runtime_dir: Path | None = None) -> None:
        for name in ("heap", "pagecache"):
            if not _MEMORY_RE.match(getattr(config, name)):
                raise ConfigurationError(
                    f"Valeur mémoire invalide pour neo4j_{name} : {getattr(config, name)!r} "
                    "(attendu par exemple 512m ou 1g)."
                )
        if not _VERSION_RE.match(config.version):
            raise ConfigurationError(f"Version de Neo4j invalide : {config.version!r}.")
        self.config = config
        self.version = config.version
        self.home = config.home.expanduser().resolve()
        root = runtime_dir or (
            Path(os.environ[RUNTIME_DIR_ENV]) if os.environ.get(RUNTIME_DIR_ENV) else self.home
        )
        self.runtime_dir = root.expanduser().resolve() / f"runtime-{self.version}"

    # ---- paths -------------------------------------------------------------------------------

    @property
    def lib_dir(self) -> Path:
        return self.runtime_dir / "lib"

    @property
    def conf_dir(self) -> Path:
        return self.home / "conf"

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def logs_dir(self) -> Path:
        return self.home / "logs"

    @property
    def neo4j_log(self) -> Path:
        return self.logs_dir / "neo4j.log"

    @property
    def console_log(self) -> Path:
        return self.logs_dir / "console.log"

    @property
    def password_file(self) -> Path:
        return self.home / "password"

    @property
    def state_file(self) -> Path:
        return self.home / "server.json"

    @property
    def _marker(self) -> Path:
        return self.runtime_dir / ".installed"

    # ---- install -----------------------------------------------------------------------------

    def is_installed(self) -> bool:
        return runtime.is_installed(self.runtime_dir)

    def install(self) -> Path:
        """Fetch the runtime jars with Maven once (graph/runtime.py); returns ``lib/``."""
        return runtime.install(self.runtime_dir, self.version)

    # ---- state -------------------------------------------------------------------------------

    def _read_state(self) -> dict[str, object]:
        try:
            state = json.loads(self.state_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return state if isinstance(state, dict) else {}

    def _write_state(self, pid: int | None, port: int | None, version: str) -> None:
        host.write_atomic(
            self.state_file, json.dumps({"pid": pid, "port": port, "version": version}) + "\n"
        )

    def _is_our_server(self, pid: int) -> bool:
        """True when ``pid`` is alive and is the Neo4j of this home (not a recycled pid)."""
        child = _CHILDREN.get(pid)
        if child is not None:
            if child.poll() is not None:
                del _CHILDREN[pid]
                return False
            return True
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass  # alive, someone else's: the cmdline check below decides
        if host.is_zombie(pid):
            return False
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return not Path("/proc/self").exists()  # no procfs: trust the pid
        return ENTRY_POINT.encode() in cmdline and f"--home-dir={self.home}".encode() in cmdline

    def _running(self) -> tuple[int, int, str] | None:
        """(pid, port, version) of the running server, clearing a stale pid."""
        state = self._read_state()
        pid, port = state.get("pid"), state.get("port")
        version = str(state.get("version") or self.version)
        if not isinstance(pid, int) or not isinstance(port, int):
            return None
        if self._is_our_server(pid):
            return pid, port, version
        self._write_state(None, port, version)  # stale: the process is gone
        return None

    def _password(self) -> SecretStr | None:
        try:
            return SecretStr(self.password_file.read_text(encoding="utf-8").strip())
        except FileNotFoundError:
            return None

    def _lost_password(self) -> ConfigurationError:
        return ConfigurationError(
            f"Le fichier de mot de passe {self.password_file} a disparu : le serveur local "
            f"ne peut plus être utilisé. Supprimez {self.home} pour repartir de zéro."
        )

    def _endpoint(self, port: int) -> Neo4jEndpoint:
        password = self._password()
        if password is None:
            raise self._lost_password()
        return Neo4jEndpoint(uri=f"neo4j://127.0.0.1:{port}", user=NEO4J_USER, password=password)

    def endpoint(self) -> Neo4jEndpoint | None:
        """The endpoint of the running server, or None when it is not running. No network I/O."""
        running = self._running()
        return None if running is None else self._endpoint(running[1])

    def status(self) -> ServerStatus:
        running = self._running()
        state = self._read_state()
        port = running[1] if running else state.get("port")
        return ServerStatus(
            running=running is not None,
            pid=running[0] if running else None,
            port=port if isinstance(port, int) else None,
            uri=f"neo4j://127.0.0.1:{running[1]}" if running else None,
            version=running[2] if running else self.version,
            home=self.home,
            password_file=self.password_file,
        )

    # ---- start / stop ------------------------------------------------------------------------

    def _write_conf(self, port: int) -> None:
        h = self.home
        lines = [
            "# Generated by CROSS Hub (graph/server.py) at every start: edits are overwritten.",
            "server.default_listen_address=127.0.0.1",
            "server.default_advertised_address=127.0.0.1",
            f"server.bolt.listen_address=127.0.0.1:{port}",
            f"server.bolt.advertised_address=127.0.0.1:{port}",
            "server.http.enabled=false",
            "server.https.enabled=false",
            f"server.directories.data={h / 'data'}",
            f"server.directories.logs={h / 'logs'}",
            f"server.directories.plugins={h / 'plugins'}",
            f"server.directories.run={h / 'run'}",
            f"server.directories.import={h / 'import'}",
            f"server.memory.pagecache.size={self.config.pagecache}",
            "dbms.security.auth_enabled=true",
            "dbms.usage_report.enabled=false",
            "db.tx_log.rotation.retention_policy=1 files",
            "db.tx_log.preallocate=false",
            # Bolt waits twice 5 s of Netty "quiet period" on shutdown by default.
            "internal.dbms.bolt.netty_server_shutdown_quiet_period=0",
        ]
        host.write_atomic(self.conf_dir / "neo4j.conf", "\n".join(lines) + "\n")

    def _classpath(self) -> str:
        return f"{self.home / 'plugins'}/*:{self.conf_dir}:{self.lib_dir}/*"

    def _child_env(self) -> dict[str, str]:
        # No NEO4J_*/CROSSHUB_* variables in the JVM: some hold secrets of other servers, and
        # Neo4j's launchers read NEO4J_* as configuration.
        env = {k: v for k, v in os.environ.items() if not k.startswith(("NEO4J_", "CROSSHUB_"))}
        env["NEO4J_HOME"] = str(self.home)
        env["NEO4J_CONF"] = str(self.conf_dir)
        return env

    def _set_initial_password(self, java: str, password: SecretStr) -> None:
        """``neo4j-admin dbms set-initial-password`` before the first start: no window in which
        neo4j/neo4j is accepted. The password goes through a 0600 picocli @argfile, never argv."""
        argfile = self.home / ".set-initial-password.args"
        argfile.unlink(missing_ok=True)
        host.write_secret(
            argfile, f'dbms\nset-initial-password\n"{password.get_secret_value()}"\n'
        )
        try:
            done = subprocess.run(
                [java, "-Xmx128m", "-cp", self._classpath(), ADMIN_TOOL, f"@{argfile}"],
                cwd=self.home,
                env=self._child_env(),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
        finally:
            argfile.unlink(missing_ok=True)
        if done.returncode != 0:
            raise ConfigurationError(
                "Impossible de définir le mot de passe initial de Neo4j :\n"
                + "\n".join((done.stdout + done.stderr).splitlines()[-20:])
            )

    def _ensure_password(self, java: str) -> SecretStr:
        password = self._password()
        first_start = not (self.data_dir / "databases" / "system").exists()
        if not first_start:
            if password is None:
                raise self._lost_password()
            return password
        if password is None:
            # Hex: a password starting with '-' would be read as an option by neo4j-admin.
            host.write_secret(self.password_file, secrets.token_hex(24))
            password = self._password()
            assert password is not None
        self._set_initial_password(java, password)
        return password

    def _failure(self, what: str) -> ConfigurationError:
        parts = [f"Le serveur Neo4j local n'a pas démarré : {what}."]
        if tail := host.tail(self.neo4j_log, 30):
            parts.append(f"Fin de {self.neo4j_log} :\n{tail}")
        if tail := host.tail(self.console_log, 30):
            parts.append(f"Fin de {self.console_log} :\n{tail}")
        return ConfigurationError("\n".join(parts))

    def start(self, port: int | None = None, wait_s: float = 90) -> Neo4jEndpoint:
        """Start the server (installing the runtime first if needed) and wait until it answers
        ``RETURN 1``. When it already runs, return its endpoint."""
        for d in (self.home, self.conf_dir, self.data_dir, self.logs_dir, self.home / "plugins",
                  self.home / "run", self.home / "import"):  # fmt: skip
            d.mkdir(mode=0o700, parents=True, exist_ok=True)
        with host.locked(self.home / ".lock"):
            running = self._running()
            if running is not None:
                pid, running_port, _ = running
                if port is not None and port != running_port:
                    raise ConfigurationError(
                        f"Le serveur Neo4j local tourne déjà sur le port {running_port} "
                        f"(pid {pid}) : arrêtez-le avant de le démarrer sur le port {port}."
                    )
                endpoint = self._endpoint(running_port)
                self._wait(endpoint, pid, wait_s)
                return endpoint

            self.install()
            java = host.java()
            host.check_java(java)
            if port is None:
                remembered = self._read_state().get("port")
                if isinstance(remembered, int) and host.port_is_free(remembered):
                    port = remembered
                else:
                    port = host.free_port()
            elif not host.port_is_free(port):
                raise ConfigurationError(f"Le port {port} de 127.0.0.1 est déjà utilisé.")

            self._write_conf(port)
            password = self._ensure_password(java)
            heap = self.config.heap
            cmd = [
                java, f"-Xms{heap}", f"-Xmx{heap}",
                "-XX:+UseG1GC", "-XX:+ExitOnOutOfMemoryError", "-XX:-OmitStackTraceInFastThrow",
                "--add-opens=java.base/java.nio=ALL-UNNAMED",
                "--add-opens=java.base/java.io=ALL-UNNAMED",
                "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
                "-Dlog4j2.disable.jmx=true", "-Dfile.encoding=UTF-8",
                "-cp", self._classpath(), ENTRY_POINT,
                f"--home-dir={self.home}", f"--config-dir={self.conf_dir}",
            ]  # fmt: skip
            with open(self.console_log, "ab") as console:
                stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z")
                console.write(f"--- crosshub start {stamp} ---\n".encode())
                console.flush()
                proc = subprocess.Popen(
                    cmd,
                    cwd=self.home,
                    env=self._child_env(),
                    stdin=subprocess.DEVNULL,
                    stdout=console,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # outlives the CLI; no terminal signals
                    close_fds=True,
                )
            _CHILDREN[proc.pid] = proc
            self._write_state(proc.pid, port, self.version)
            endpoint = Neo4jEndpoint(
                uri=f"neo4j://127.0.0.1:{port}", user=NEO4J_USER, password=password
            )
            try:
                self._wait(endpoint, proc.pid, wait_s)
            except BaseException:
                self._kill(proc.pid, timeout_s=10)
                self._write_state(None, port, self.version)
                raise
            return endpoint

    def _wait(self, endpoint: Neo4jEndpoint, pid: int, wait_s: float) -> None:
        """Wait for ``RETURN 1``, first over ``bolt://`` (a routing driver logs an ERROR line for
        every refused attempt), then once over the endpoint's own ``neo4j://`` URI."""
        from neo4j import GraphDatabase

        from graph.handle import Graph
        from graph.health import (
            NotReady,
            wait_ready,
        )

        deadline = time.monotonic() + wait_s
        auth = (endpoint.user, endpoint.password.get_secret_value())
        bolt = endpoint.uri.replace("neo4j://", "bolt://", 1)
        for uri, retries in ((bolt, 2), (endpoint.uri, 0)):
            with GraphDatabase.driver(
                uri, auth=auth, user_agent="crosshub", connection_timeout=3.0
            ) as driver:
                try:
                    wait_ready(
                        Graph(driver, "neo4j"),
                        max(1.0, deadline - time.monotonic()),
                        alive=lambda: self._is_our_server(pid),
                        auth_retries=retries,  # below Neo4j's lock-out after 3 failed logins
                    )
                except NotReady as exc:
                    raise self._failure(exc.reason) from exc

    def _kill(self, pid: int, timeout_s: float) -> None:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and self._is_our_server(pid):
            time.sleep(0.1)
        if self._is_our_server(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            while self._is_our_server(pid):
                time.sleep(0.05)
        child = _CHILDREN.pop(pid, None)
        if child is not None:
            child.wait()

    def import_full(self, nodes: list[tuple[str, Path]], relationships: list[tuple[str, Path]], *,
                    database: str = "neo4j", heap: str = "2g", timeout_s: float = 7200,
                    log_path: Path | None = None) -> None:
        """``neo4j-admin database import full``: replace ``database`` by the graph in these CSV
        files (``(label or type, file)``, each file with its header line), the server stopped.
        Offline and batched, far faster than transactions for a graph of millions of nodes; the
        server must have started once (system database, password) and applies no schema: the
        caller starts it and applies the schema afterwards."""
        if not _MEMORY_RE.match(heap):
            raise ConfigurationError(f"Valeur mémoire invalide pour l'import : {heap!r}.")
        if self._running() is not None:
            raise ConfigurationError("Arrêtez le serveur Neo4j local avant un import hors ligne.")
        if not (self.data_dir / "databases" / "system").exists():
            raise ConfigurationError("Démarrez une première fois le serveur local avant un import.")
        java = host.java()
        # The database first: each --nodes/--relationships takes several files, and would
        # swallow a trailing positional.
        args = ["database", "import", "full", database, "--overwrite-destination=true",
                "--skip-duplicate-nodes=false", "--array-delimiter=;", "--multiline-fields=false"]
        args += [f"--nodes={label}={path}" for label, path in nodes]
        args += [f"--relationships={rel}={path}" for rel, path in relationships]
        with host.locked(self.home / ".lock"), open(log_path or os.devnull, "ab") as log:
            done = subprocess.run(
                [java, f"-Xms{heap}", f"-Xmx{heap}", "-cp", self._classpath(), ADMIN_TOOL, *args],
                cwd=self.home, env=self._child_env(), stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT, timeout=timeout_s, check=False,
            )
        if done.returncode != 0:
            where = f" (voir {log_path})" if log_path else ""
            raise ConfigurationError(f"L'import Neo4j a échoué (code {done.returncode}){where}.")

    def stop(self, timeout_s: float = 60) -> bool:
        """SIGTERM, then SIGKILL after ``timeout_s``. False when it was not running."""
        with host.locked(self.home / ".lock"):
            running = self._running()
            if running is None:
                return False
            pid, port, version = running
            self._kill(pid, timeout_s)
            self._write_state(None, port, version)
            return True
