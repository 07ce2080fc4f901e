"""The federation of one running hub: its ``FederationContext`` and its transport to the
antenna, built once per app from the settings (``runtime_of``) when ``federation_enabled``.

Files read (``settings.federation_pki``, « crosshub federation pki » makes them):
``cross-<dép>.sign.pem`` (this hub's Ed25519 federation key: signs its filters and, through the
transport, its requests), ``directory.json`` (peers' and the antenna's public keys, the antenna's
URL unless ``federation_antenna_url`` says otherwise), and the TLS files the transport uses.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from hub.contract.errors import ConfigurationError, NotFound
from hub.contract.signing import load_private_key
from hub.federation.directory import load_directory
from hub.federation.pki import PartyFiles
from hub.federation.service import FederationContext, PeerTransport
from hub.settings import Settings

_lock = threading.Lock()


@dataclass
class FederationRuntime:
    context: FederationContext
    transport: PeerTransport | None


def build_runtime(settings: Settings, graph: Any, audit: Any, rules: Any) -> FederationRuntime:
    files = PartyFiles.of(settings.federation_pki, settings.federation_cross_id)
    if not files.signing_key.is_file() or not files.directory.is_file():
        raise ConfigurationError(
            f"fédération activée sans ses fichiers : {files.signing_key} et {files.directory} "
            "attendus (« crosshub federation pki »)")
    directory = load_directory(files.directory)
    context = FederationContext(
        graph=graph, rules=rules, cross_id=settings.federation_cross_id,
        keys_dir=settings.keys_dir, audit=audit, signing_key=load_private_key(files.signing_key),
        directory=directory)
    url = settings.federation_antenna_url or directory.antenna_party.url
    transport: PeerTransport | None = None
    if url:
        from hub.federation.client import antenna_transport

        transport = antenna_transport(settings, url)
    return FederationRuntime(context=context, transport=transport)


def runtime_of(app: Any) -> FederationRuntime:
    """The app's federation runtime, built on first use; ``NotFound`` (as an unknown path) when
    federation is off, so a hub outside the federation shows no federation route at all."""
    settings: Settings = app.state.settings
    if not settings.federation_enabled:
        raise NotFound("ressource inconnue : fédération non activée sur ce hub")
    runtime = getattr(app.state, "federation", None)
    if runtime is None:
        with _lock:
            runtime = getattr(app.state, "federation", None)
            if runtime is None:
                runtime = build_runtime(settings, app.state.graph, app.state.audit,
                                        app.state.rulebook.federation)
                from hub.jobs.federation_watches import after_tickets

                runtime.context.on_new_tickets = lambda tickets, now: after_tickets(
                    app, tickets, now)
                app.state.federation = runtime
    return runtime
