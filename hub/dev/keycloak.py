"""A real OIDC provider for the tests and the demo: Keycloak, fetched from Maven Central, run on
loopback with realms generated for the occasion (one realm = one agency's issuer). Never used by a
deployed hub: agencies bring their own identity provider (docs/decisions/0021).

Owns, like graph/server.py does for Neo4j:

- the JDK: Keycloak 26 needs Java >= 21 (Debian 12's default is 17). ``find_jdk`` takes
  ``JAVA_HOME`` when it is recent enough, else the newest ``/usr/lib/jvm/*`` that is, else fails
  with a message in French and English;
- the distribution: ``org.keycloak:keycloak-quarkus-dist:<version>`` (zip) downloaded once into
  ``~/.cache/crosshub/`` (``CROSSHUB_CACHE_DIR``), checked against Maven Central's ``.sha1``
  before it is unpacked, ``.installed`` marking a complete copy, a lock keeping two processes from
  fetching it at once;
- an instance directory per running server: its own ``bin/`` and ``conf/`` (copies: ``kc.sh``
  takes its home from its own path) and ``data/import/`` (the realm files), the distribution's
  ``lib/``, ``themes/`` and ``providers/`` linked; an in-memory database (``dev-mem``), so nothing
  outlives the process; ``console.log``; ``server.json`` (pid, port).

The server is ``kc.sh start-dev --import-realm`` on ``127.0.0.1`` and a free port, in its own
process group (stopped with SIGTERM to the group, SIGKILL after a timeout).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import time
import zipfile
from pathlib import Path

import httpx
from pydantic import BaseModel, ConfigDict

from graph.host import free_port, locked, tail, write_atomic
from hub.contract.errors import ConfigurationError

VERSION = "26.5.6"
MIN_JAVA = 21
MAVEN_CENTRAL = "https://repo1.maven.org/maven2"
ARTIFACT = "org/keycloak/keycloak-quarkus-dist/{v}/keycloak-quarkus-dist-{v}.zip"
JVM_DIR = Path("/usr/lib/jvm")
CACHE_ENV = "CROSSHUB_CACHE_DIR"


def cache_root() -> Path:
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "crosshub").expanduser()


# --- the JDK -----------------------------------------------------------------------------------

def java_major(java: Path) -> int | None:
    """The major version of this ``java`` binary, None when it does not run."""
    try:
        out = subprocess.run([str(java), "-version"], capture_output=True, text=True, timeout=60,
                             check=False)
    except OSError:
        return None
    m = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if not m:
        return None
    major = int(m.group(1))
    return int(m.group(2)) if major == 1 and m.group(2) else major


def find_jdk(minimum: int = MIN_JAVA) -> Path:
    """A JDK home with Java >= ``minimum``: ``JAVA_HOME`` if recent enough, else the newest under
    /usr/lib/jvm. Raises ``ConfigurationError`` (French, then English) when there is none."""
    seen: list[str] = []
    candidates: list[Path] = []
    if os.environ.get("JAVA_HOME"):
        candidates.append(Path(os.environ["JAVA_HOME"]))
    if JVM_DIR.is_dir():
        candidates += sorted((p for p in JVM_DIR.iterdir() if p.is_dir() and not p.is_symlink()),
                             key=lambda p: p.name)
    best: tuple[int, Path] | None = None
    for home in candidates:
        java = home / "bin" / "java"
        if not java.is_file():
            continue
        major = java_major(java)
        seen.append(f"{home} ({major or '?'})")
        if major is not None and major >= minimum:
            if home == candidates[0] and os.environ.get("JAVA_HOME"):
                return home  # the operator's choice wins when it is recent enough
            if best is None or major > best[0]:
                best = (major, home)
    if best is None:
        raise ConfigurationError(
            f"Keycloak exige Java {minimum} ou plus : aucun JDK assez récent (JAVA_HOME, "
            f"{JVM_DIR}/*). Trouvés : {', '.join(seen) or 'aucun'}. Installez un JDK {minimum}+ "
            f"(p. ex. Temurin) ou définissez JAVA_HOME. / Keycloak needs Java {minimum}+: no "
            f"recent enough JDK found (JAVA_HOME, {JVM_DIR}/*); install one or set JAVA_HOME.")
    return best[1]


# --- the distribution --------------------------------------------------------------------------

def _sha1(path: Path) -> str:
    digest = hashlib.sha1()  # noqa: S324 - Maven Central publishes SHA-1 checksums
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def install(version: str = VERSION, cache: Path | None = None) -> Path:
    """The unpacked Keycloak ``version`` (its home), fetched and checked once."""
    root = (cache or cache_root()) / "keycloak"
    home = root / f"keycloak-{version}"
    marker = root / f".installed-{version}"
    if marker.is_file() and home.is_dir():
        return home
    root.mkdir(parents=True, exist_ok=True)
    with locked(root / f".install-{version}.lock"):
        if marker.is_file() and home.is_dir():
            return home
        url = f"{MAVEN_CENTRAL}/{ARTIFACT.format(v=version)}"
        archive = root / f"keycloak-quarkus-dist-{version}.zip.partial"
        try:
            with httpx.Client(timeout=httpx.Timeout(60.0), follow_redirects=True) as client:
                expected = client.get(url + ".sha1").raise_for_status().text.split()[0].strip()
                with client.stream("GET", url) as response, open(archive, "wb") as out:
                    response.raise_for_status()
                    for chunk in response.iter_bytes(1 << 20):
                        out.write(chunk)
        except (httpx.HTTPError, OSError, IndexError) as exc:
            archive.unlink(missing_ok=True)
            raise ConfigurationError(
                f"Téléchargement de Keycloak {version} impossible ({url}) : {exc} / "
                f"could not download Keycloak from Maven Central.") from exc
        if _sha1(archive) != expected.lower():
            archive.unlink(missing_ok=True)
            raise ConfigurationError(
                f"Keycloak {version} : la somme SHA-1 de l'archive ne correspond pas à celle de "
                f"Maven Central ({expected}) : archive refusée. / SHA-1 mismatch, archive refused.")
        shutil.rmtree(home, ignore_errors=True)
        with zipfile.ZipFile(archive) as zf:
            for name in zf.namelist():  # the archive's one top directory, nothing outside it
                if not name.startswith(f"keycloak-{version}/") or ".." in Path(name).parts:
                    raise ConfigurationError(f"Keycloak : chemin inattendu dans l'archive : {name}")
            zf.extractall(root)
        archive.unlink(missing_ok=True)
        (home / "bin" / "kc.sh").chmod(0o755)
        marker.write_text(version + "\n", encoding="utf-8")
    return home


# --- realms ------------------------------------------------------------------------------------

class RealmUser(BaseModel):
    model_config = ConfigDict(frozen=True)

    username: str
    password: str
    first_name: str
    last_name: str
    groups: tuple[str, ...] = ()
    enabled: bool = True


class RealmSpec(BaseModel):
    """One agency's identity provider: a realm with one OIDC client for the hub (authorization
    code, PKCE S256 required), a ``groups`` claim in the ID token, its groups and users."""

    model_config = ConfigDict(frozen=True)

    name: str
    client_id: str = "crosshub"
    client_secret: str | None = None  # None: a public client (PKCE only)
    redirect_uris: tuple[str, ...] = ("*",)
    groups: tuple[str, ...] = ()
    users: tuple[RealmUser, ...] = ()


def realm_representation(spec: RealmSpec) -> dict:
    client: dict = {
        "clientId": spec.client_id, "enabled": True, "protocol": "openid-connect",
        "publicClient": spec.client_secret is None, "standardFlowEnabled": True,
        "directAccessGrantsEnabled": False, "implicitFlowEnabled": False,
        "redirectUris": list(spec.redirect_uris), "webOrigins": [],
        "attributes": {"pkce.code.challenge.method": "S256", "post.logout.redirect.uris": "*"},
        "protocolMappers": [{
            "name": "groups", "protocol": "openid-connect",
            "protocolMapper": "oidc-group-membership-mapper",
            "config": {"claim.name": "groups", "full.path": "false", "id.token.claim": "true",
                       "access.token.claim": "true", "userinfo.token.claim": "true"}}],
    }
    if spec.client_secret is not None:
        client["secret"] = spec.client_secret
        client["clientAuthenticatorType"] = "client-secret"
    return {
        "realm": spec.name, "enabled": True, "sslRequired": "none",
        "groups": [{"name": g} for g in spec.groups],
        "clients": [client],
        "users": [{
            "username": u.username, "enabled": u.enabled, "firstName": u.first_name,
            "lastName": u.last_name, "email": f"{u.username}@{spec.name}.example",
            "emailVerified": True, "groups": [f"/{g}" for g in u.groups],
            "credentials": [{"type": "password", "value": u.password, "temporary": False}],
        } for u in spec.users],
    }


# --- the server --------------------------------------------------------------------------------

class RunningKeycloak(BaseModel):
    model_config = ConfigDict(frozen=True)

    pid: int
    port: int
    instance: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def issuer(self, realm: str) -> str:
        return f"{self.base_url}/realms/{realm}"


def _prepare_instance(home: Path, instance: Path, realms: list[RealmSpec]) -> None:
    instance.mkdir(parents=True, exist_ok=True)
    for name in ("bin", "conf"):
        shutil.rmtree(instance / name, ignore_errors=True)
        shutil.copytree(home / name, instance / name, symlinks=True)
    for name in ("lib", "themes", "providers"):
        link = instance / name
        if not link.is_symlink():
            link.symlink_to(home / name, target_is_directory=True)
    imports = instance / "data" / "import"
    shutil.rmtree(imports, ignore_errors=True)
    imports.mkdir(parents=True)
    for spec in realms:
        (imports / f"{spec.name}-realm.json").write_text(
            json.dumps(realm_representation(spec)), encoding="utf-8")


def start(instance: Path, realms: list[RealmSpec], *, version: str = VERSION,
          wait_s: float = 300) -> RunningKeycloak:
    """Fetch (once), then start Keycloak for ``realms`` and wait until every realm answers its
    discovery document. The caller stops it with ``stop``."""
    if not realms:
        raise ConfigurationError("Keycloak : au moins un royaume (realm) est attendu.")
    jdk = find_jdk()
    home = install(version)
    _prepare_instance(home, instance, realms)
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("KC_", "KEYCLOAK_", "CROSSHUB_", "NEO4J_", "JAVA_OPTS"))}
    env["JAVA_HOME"] = str(jdk)
    env["JAVA_OPTS_KC_HEAP"] = "-Xms64m -Xmx512m"
    # C1 only: a test server lives minutes, and starts far sooner on a busy 2-core machine.
    # java.lang opened: jboss-threads' thread-local reset needs it on Java 24+ (else its worker
    # threads die with IllegalAccessError).
    env["JAVA_OPTS_APPEND"] = "-XX:TieredStopAtLevel=1 --add-opens=java.base/java.lang=ALL-UNNAMED"
    cmd = ["bash", str(instance / "bin" / "kc.sh"), "start-dev", "--import-realm",
           "--http-host=127.0.0.1", f"--http-port={port}", "--db=dev-mem", "--cache=local",
           "--health-enabled=false", "--metrics-enabled=false"]
    console = instance / "console.log"
    # The first start "augments" the shared distribution (lib/quarkus): one at a time.
    with locked(home.parent / f".start-{version}.lock"), open(console, "ab") as log:
        proc = subprocess.Popen(cmd, cwd=instance, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True, close_fds=True)
        running = RunningKeycloak(pid=proc.pid, port=port, instance=instance)
        write_atomic(instance / "server.json", json.dumps({"pid": proc.pid, "port": port}) + "\n")
        try:
            _wait(running, proc, realms, wait_s)
        except BaseException:
            stop(running)
            raise
    return running


def _wait(running: RunningKeycloak, proc: subprocess.Popen, realms: list[RealmSpec],
          wait_s: float) -> None:
    deadline = time.monotonic() + wait_s
    pending = [spec.name for spec in realms]
    with httpx.Client(timeout=2.0) as client:
        while pending:
            if proc.poll() is not None:
                raise ConfigurationError(
                    f"Keycloak s'est arrêté au démarrage (code {proc.returncode}). Fin de "
                    f"{running.instance / 'console.log'} :\n{tail(running.instance / 'console.log')}")
            if time.monotonic() > deadline:
                raise ConfigurationError(
                    f"Keycloak n'a pas répondu en {wait_s:.0f} s. Fin de la console :\n"
                    f"{tail(running.instance / 'console.log')}")
            try:
                url = running.issuer(pending[0]) + "/.well-known/openid-configuration"
                if client.get(url).status_code == 200:
                    pending.pop(0)
                    continue
            except httpx.HTTPError:
                pass
            time.sleep(0.25)


def stop(running: RunningKeycloak, timeout_s: float = 20) -> None:
    """SIGTERM to the server's process group, SIGKILL after ``timeout_s``."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(running.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and _alive(running.pid):
        time.sleep(0.1)
    if _alive(running.pid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(running.pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(running.pid, os.WNOHANG)


def _alive(pid: int) -> bool:
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(ChildProcessError, OSError):
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    return True
