"""Every federation call between processes — hub → antenna and antenna → hub — goes through the
clients made here, and every federation listener is configured here.

Owns:

* ``federation_client`` / ``federation_async_client`` — httpx clients with mutual TLS (the
  party's certificate, the federation CA as the only trust anchor), the party's Ed25519 request
  signature on every request (``connectors.signing.CrossHubAuth``, the connectors' own signer
  over hub/contract/signing.py: a fresh timestamp and nonce per attempt), bounded timeouts, and a
  few retries of a GET whose connection could not be made (never of anything else: a POST that
  may have reached the other side is the caller's to decide about);
* the **wire log** (``CROSSHUB_FEDERATION_WIRE_LOG=<file>`` or ``wire_log=``): one JSON line per
  request and per response — who, direction, method, URL, every header, the body in base64 — as
  they leave or reach the process, so a test can read every byte that crossed between processes;
* ``antenna_client`` — a hub's client to its antenna (URL from the directory unless given);
* ``verify_from_antenna`` — a hub's check of a peer-facing request: signed by the antenna's key
  of the directory, naming exactly one member in ``X-Crosshub-Peer`` (replay protection, the
  nonce remembered, is the hub's: ``graph.identity.consume_nonce``);
* ``uvicorn_mtls_options`` / ``uvicorn_mtls_argv`` / ``hub_listener_argv`` — a listener that
  requires a client certificate of the federation CA (the antenna's, and a hub's federation
  listener: a second uvicorn process of the same hub, on its own port).
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import ssl
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from collections.abc import Generator, Mapping
from dataclasses import dataclass

from connectors.signing import CrossHubAuth
from hub.contract.errors import ConfigurationError, NotAuthenticated
from hub.contract.signing import (
    DEFAULT_MAX_SKEW_S,
    load_private_key,
    sign_request,
    verify_request,
)
from hub.federation.directory import Directory, load_directory
from hub.federation.pki import PartyFiles

WIRE_LOG_ENV = "CROSSHUB_FEDERATION_WIRE_LOG"
PEER_HEADER = "X-Crosshub-Peer"  # the authenticated caller, set by the antenna only
# A hub waits longer for the antenna than the antenna waits for the target hub (30 s, its
# AntennaConfig.timeout_s): the antenna's « ne répond pas » arrives before the hub gives up.
DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=5.0)
GET_ATTEMPTS = 3
_RETRY_WAIT_S = (0.2, 0.5)


def client_ssl_context(files: PartyFiles) -> ssl.SSLContext:
    """Verify the other side against the federation CA only; present this party's certificate."""
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(files.ca))
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(str(files.cert), str(files.key))
    return ctx


def uvicorn_mtls_options(files: PartyFiles) -> dict[str, Any]:
    """Keyword arguments of ``uvicorn.run``/``uvicorn.Config``: TLS with this party's
    certificate, and a client certificate of the federation CA required (no certificate, or one
    of another CA: the handshake fails, the application never sees the request)."""
    return {"ssl_certfile": str(files.cert), "ssl_keyfile": str(files.key),
            "ssl_ca_certs": str(files.ca), "ssl_cert_reqs": int(ssl.CERT_REQUIRED)}


def uvicorn_mtls_argv(files: PartyFiles) -> list[str]:
    """The same, as ``uvicorn`` command-line options."""
    return ["--ssl-certfile", str(files.cert), "--ssl-keyfile", str(files.key),
            "--ssl-ca-certs", str(files.ca), "--ssl-cert-reqs", str(int(ssl.CERT_REQUIRED))]


def hub_listener_argv(pki_dir: str | Path, cross_id: str, port: int, host: str = "127.0.0.1",
                     app: str = "hub.asgi:create") -> list[str]:
    """The command of a hub's federation listener: the hub application (``app`` factory, its
    settings from the environment, as ``crosshub serve`` workers) on ``host:port`` over mutual
    TLS with the hub's certificate ``<pki_dir>/<cross_id>.pem`` — what the directory's URL of
    that member points at."""
    return [sys.executable, "-m", "uvicorn", "--factory", app, "--host", host, "--port",
            str(port), "--no-proxy-headers", "--no-server-header",
            *uvicorn_mtls_argv(PartyFiles.of(pki_dir, cross_id))]


@dataclass(frozen=True)
class AntennaCall:
    """A peer-facing request the antenna forwarded: on behalf of ``peer``."""

    peer: str
    key_id: str
    nonce: str
    timestamp: int


def verify_from_antenna(directory: Directory, headers: Mapping[str, str], method: str, path: str,
                        body: bytes, *, own_id: str | None = None,
                        max_skew_s: int = DEFAULT_MAX_SKEW_S) -> AntennaCall:
    """Admit a request on a hub's ``/federation/v1/…`` only if the antenna signed it and it names
    exactly one member of the directory (not this hub, ``own_id``) as the peer; else
    ``NotAuthenticated`` (French). Pass Starlette's ``request.headers`` itself (not a dict of
    it), so that a repeated peer header is seen and refused."""
    getlist = getattr(headers, "getlist", None)
    peers = list(getlist(PEER_HEADER)) if getlist else [
        v for k, v in headers.items() if k.lower() == PEER_HEADER.lower()]
    if len(peers) != 1 or peers[0] not in directory.members or peers[0] == own_id:
        raise NotAuthenticated(f"en-tête {PEER_HEADER} absent, multiple ou inconnu : "
                               "requête refusée", details=[{"field": PEER_HEADER,
                                                            "reason": "invalide"}])
    verified = verify_request(headers, method, signed_path(path, peers[0]), body,
                              directory.antenna_key, None, max_skew_s)
    return AntennaCall(peer=peers[0], key_id=verified.key_id, nonce=verified.nonce,
                       timestamp=verified.timestamp)


# --- the wire log --------------------------------------------------------------------------------


def wire_log_path(explicit: str | Path | None = None) -> Path | None:
    if explicit is not None:
        return Path(explicit)
    value = os.environ.get(WIRE_LOG_ENV, "").strip()
    return Path(value) if value else None


class WireLog:
    """Appends one JSON line per exchange; several processes may share the file (each line is
    written whole under an exclusive lock). The file is 0600: it holds bodies."""

    def __init__(self, path: Path, party: str) -> None:
        self.path = path
        self.party = party

    def write(self, entry: dict[str, Any]) -> None:
        line = json.dumps({"party": self.party, "pid": os.getpid(),
                           "at": datetime.now(UTC).isoformat(), **entry},
                          ensure_ascii=True).encode("ascii") + b"\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            view = memoryview(line)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)  # releases the lock

    @staticmethod
    def _headers(headers: httpx.Headers) -> list[list[str]]:
        return [[k, v] for k, v in headers.multi_items()]

    def request(self, request: httpx.Request) -> None:
        self.write({"direction": "request", "method": request.method, "url": str(request.url),
                    "headers": self._headers(request.headers),
                    "body": base64.b64encode(request.content).decode("ascii")})

    def response(self, response: httpx.Response) -> None:
        request = response.request
        self.write({"direction": "response", "method": request.method, "url": str(request.url),
                    "status": response.status_code, "headers": self._headers(response.headers),
                    "body": base64.b64encode(response.content).decode("ascii")})


def wire_log_hooks(log: WireLog | None) -> dict[str, list[Any]]:
    """``event_hooks`` of a synchronous httpx client that write ``log`` (none when None)."""
    if log is None:
        return {}

    def on_request(request: httpx.Request) -> None:
        request.read()
        log.request(request)

    def on_response(response: httpx.Response) -> None:
        response.read()
        log.response(response)

    return {"request": [on_request], "response": [on_response]}


def _async_hooks(log: WireLog | None) -> dict[str, list[Any]]:
    if log is None:
        return {}

    async def on_request(request: httpx.Request) -> None:
        await request.aread()
        log.request(request)

    async def on_response(response: httpx.Response) -> None:
        await response.aread()
        log.response(response)

    return {"request": [on_request], "response": [on_response]}


# --- retries of idempotent reads -----------------------------------------------------------------


class _RetryGet(httpx.BaseTransport):
    def __init__(self, inner: httpx.BaseTransport, attempts: int) -> None:
        self._inner, self._attempts = inner, attempts

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        for attempt in range(self._attempts):
            try:
                return self._inner.handle_request(request)
            except httpx.ConnectError:
                # Only a connection never made, only a GET: nothing reached the other side.
                if request.method != "GET" or attempt + 1 >= self._attempts:
                    raise
                time.sleep(_RETRY_WAIT_S[min(attempt, len(_RETRY_WAIT_S) - 1)])
        raise AssertionError("unreachable")

    def close(self) -> None:
        self._inner.close()


class _AsyncRetryGet(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport, attempts: int) -> None:
        self._inner, self._attempts = inner, attempts

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        import anyio

        for attempt in range(self._attempts):
            try:
                return await self._inner.handle_async_request(request)
            except httpx.ConnectError:
                if request.method != "GET" or attempt + 1 >= self._attempts:
                    raise
                await anyio.sleep(_RETRY_WAIT_S[min(attempt, len(_RETRY_WAIT_S) - 1)])
        raise AssertionError("unreachable")

    async def aclose(self) -> None:
        await self._inner.aclose()


# --- the clients ---------------------------------------------------------------------------------


def signed_path(path: str, peer: str | None) -> str:
    """What a federation signature covers as its path: the URL path, and — on the antenna's
    forwards — the peer it names, so ``X-Crosshub-Peer`` cannot be changed on the way without
    breaking the signature (the header alone is not signed by the connectors' scheme)."""
    return f"{path}|peer={peer}" if peer else path


class FederationAuth(CrossHubAuth):
    """The connectors' request signature; on the antenna's forwards (``bind_peer``) with the
    peer header bound into it (``signed_path``). A hub's own requests never name a peer: the
    antenna drops any such header and says who called from the signature's key."""

    def __init__(self, private_key: Any, token: Any = None, *, bind_peer: bool = False) -> None:
        super().__init__(private_key, token)
        self.bind_peer = bind_peer

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        peer = request.headers.get(PEER_HEADER) if self.bind_peer else None
        request.headers.update(sign_request(
            self._key, request.method, signed_path(request.url.path, peer), request.content))
        yield request


def _common(files: PartyFiles, party: str, wire_log: str | Path | None, bind_peer: bool = False
            ) -> tuple[ssl.SSLContext, CrossHubAuth, WireLog | None]:
    files.check()
    path = wire_log_path(wire_log)
    return (client_ssl_context(files),
            FederationAuth(load_private_key(files.signing_key), None, bind_peer=bind_peer),
            WireLog(path, party) if path else None)


def federation_client(files: PartyFiles, *, party: str, base_url: str = "",
                      wire_log: str | Path | None = None,
                      timeout: httpx.Timeout = DEFAULT_TIMEOUT,
                      get_attempts: int = GET_ATTEMPTS) -> httpx.Client:
    """A client for ``party`` (``cross-25``, ``antenna-est``): mutual TLS, signed requests, wire
    log when set (``wire_log`` or the environment). Raises ``ConfigurationError`` (French) if a
    file is missing or a private key is readable by others."""
    ctx, auth, log = _common(files, party, wire_log)
    transport = _RetryGet(httpx.HTTPTransport(verify=ctx), get_attempts)
    return httpx.Client(base_url=base_url, transport=transport, auth=auth, timeout=timeout,
                        event_hooks=wire_log_hooks(log), follow_redirects=False, trust_env=False)


def antenna_client(pki_dir: str | Path, cross_id: str, *, antenna_url: str | None = None,
                   wire_log: str | Path | None = None,
                   timeout: httpx.Timeout = DEFAULT_TIMEOUT) -> httpx.Client:
    """Hub ``cross_id``'s client to its antenna: base URL ``antenna_url`` or the directory's."""
    files = PartyFiles.of(pki_dir, cross_id)
    url = antenna_url or load_directory(files.directory).antenna_party.url
    if not url:
        raise ConfigurationError(f"adresse de l'antenne inconnue : ni réglage ni URL dans "
                                 f"{files.directory}")
    return federation_client(files, party=cross_id, base_url=url, wire_log=wire_log,
                             timeout=timeout)


def federation_async_client(files: PartyFiles, *, party: str, base_url: str = "",
                            wire_log: str | Path | None = None,
                            timeout: httpx.Timeout = DEFAULT_TIMEOUT,
                            get_attempts: int = GET_ATTEMPTS,
                            bind_peer: bool = True) -> httpx.AsyncClient:
    """The same client, for asynchronous code: the antenna's, which forwards inside its event
    loop and binds the peer it names into its signature (``bind_peer``)."""
    ctx, auth, log = _common(files, party, wire_log, bind_peer)
    transport = _AsyncRetryGet(httpx.AsyncHTTPTransport(verify=ctx), get_attempts)
    return httpx.AsyncClient(base_url=base_url, transport=transport, auth=auth, timeout=timeout,
                             event_hooks=_async_hooks(log), follow_redirects=False,
                             trust_env=False)
