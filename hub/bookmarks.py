"""Read your writes across hub processes: the ``X-CrossHub-Bookmarks`` header.

Within one process the graph handle already chains every transaction (graph/handle.py). Across
processes — hubs behind a load balancer, on a Neo4j cluster whose followers may lag — a client
that wrote through hub A and reads through hub B must carry the proof of its write:

- A request whose transactions committed a write is answered with ``X-CrossHub-Bookmarks``: the
  Neo4j bookmarks of those writes (folded: a chain of writes gives the last one), opaque.
- A request presenting that header runs every transaction after those bookmarks: on a cluster a
  follower waits until it has applied them; on one server the wait is free.

The value is ``base64url(mac ‖ json)``: the sorted bookmark strings as a JSON list, behind a
16-byte HMAC-SHA-256 under ``keys_dir/bookmarks.key`` (32 random bytes, 0600, created on first
use; shared by every hub that shares the keys directory). So only bookmarks a hub made reach the
driver: a forged one (which could make reads wait for a transaction that will never come, until
Neo4j's bookmark timeout) is refused before any graph work. Bounded: at most ``MAX_HEADER_CHARS``
characters and ``MAX_BOOKMARKS`` bookmarks; an oversized header is 431, a malformed, altered or
foreign one 400, both in French naming the header. A bookmark the graph itself refuses (a
database restored from an older backup) is 400 as well.

``install_bookmarks(app)`` adds the middleware (pure ASGI, so the request's context — and with it
the causal scope — follows the endpoint into the thread pool) and is idempotent.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import os
from collections.abc import Collection
from pathlib import Path

import neo4j
from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graph.handle import causal_scope
from hub.contract.errors import ConfigurationError
from hub.errors import HttpError, error_response
from hub.keyfiles import PerDirectory, load_or_create_private_file

log = logging.getLogger("crosshub")

HEADER = "X-CrossHub-Bookmarks"
_HEADER_KEY = HEADER.lower().encode("ascii")
KEY_FILE = "bookmarks.key"
_KEY_BYTES = 32
_MAC_BYTES = 16
_CONTEXT = b"crosshub-bookmarks-v1\x00"
# A Neo4j 5 bookmark is about 50–100 characters and a request's writes fold to one or a few:
# these bounds leave ample room and keep a hostile header from costing anything.
MAX_HEADER_CHARS = 4096
MAX_BOOKMARKS = 16
MAX_BOOKMARK_CHARS = 512


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _refused(reason: str, *, status: int = 400, code: str = "invalid_bookmarks") -> HttpError:
    error = HttpError(f"en-tête {HEADER} invalide : {reason}", status=status, code=code)
    error.details = [{"field": HEADER, "reason": reason}]
    return error


class BookmarkCodec:
    """Seal a request's bookmarks into the header's value, and open a presented value."""

    def __init__(self, key: bytes) -> None:
        if len(key) != _KEY_BYTES:
            raise ConfigurationError("clé des signets de cohérence : 32 octets attendus")
        self._key = key

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._key, _CONTEXT + payload, hashlib.sha256).digest()[:_MAC_BYTES]

    def seal(self, bookmarks: Collection[str]) -> str | None:
        """The header value for ``bookmarks``; None if they exceed what ``open`` accepts (never
        expected: the client then simply reads without the guarantee)."""
        values = sorted(bookmarks)
        payload = json.dumps(values, separators=(",", ":")).encode()
        value = _b64(self._mac(payload) + payload)
        if (not values or len(values) > MAX_BOOKMARKS or len(value) > MAX_HEADER_CHARS
                or any(len(v) > MAX_BOOKMARK_CHARS for v in values)):
            return None
        return value

    def open(self, value: str) -> frozenset[str]:
        """The bookmarks sealed in ``value``; ``HttpError`` (400, or 431 if too long) otherwise."""
        if len(value) > MAX_HEADER_CHARS:
            raise _refused(f"trop long ({len(value)} caractères, au plus {MAX_HEADER_CHARS})",
                           status=431, code="bookmarks_too_large")
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        except (binascii.Error, ValueError):
            raise _refused("base64url attendu") from None
        if _b64(raw) != value:
            raise _refused("base64url attendu")
        mac, payload = raw[:_MAC_BYTES], raw[_MAC_BYTES:]
        if len(mac) < _MAC_BYTES or not hmac.compare_digest(mac, self._mac(payload)):
            raise _refused("signets non émis par ce hub (altérés ou d'une autre installation)")
        values = json.loads(payload)  # the MAC holds: the hub wrote this JSON itself
        if (not isinstance(values, list) or not values or len(values) > MAX_BOOKMARKS
                or not all(isinstance(v, str) and 0 < len(v) <= MAX_BOOKMARK_CHARS for v in values)):
            raise _refused("liste de signets invalide")
        return frozenset(values)


def load_or_create(keys_dir: Path) -> BookmarkCodec:
    return BookmarkCodec(load_or_create_private_file(
        keys_dir, KEY_FILE, lambda: os.urandom(_KEY_BYTES), "clé des signets de cohérence"))


codec_for = PerDirectory(load_or_create)  # once per process and keys directory


def _is_bookmark_refusal(exc: neo4j.exceptions.Neo4jError) -> bool:
    return "Bookmark" in (exc.code or "") and isinstance(exc, neo4j.exceptions.ClientError)


class CausalBookmarks:
    """Pure ASGI middleware: the presented bookmarks become the request's causal scope; the
    bookmarks of its writes go back in the answer's header."""

    def __init__(self, app: ASGIApp, keys_dir: Path) -> None:
        self.app = app
        self._keys_dir = keys_dir

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        presented = [v for k, v in scope["headers"] if k == _HEADER_KEY]
        after: frozenset[str] = frozenset()
        if presented:
            try:
                if len(presented) > 1:
                    raise _refused("présent plusieurs fois")
                try:
                    text = presented[0].decode("ascii").strip()
                except UnicodeDecodeError:
                    raise _refused("base64url attendu") from None
                if not text:
                    raise _refused("vide")
                after = codec_for(self._keys_dir).open(text)
            except HttpError as exc:
                await error_response(exc)(scope, receive, send)
                return
        started = False
        with causal_scope(after) as causal:
            async def send_with_bookmarks(message: Message) -> None:
                nonlocal started
                if message["type"] == "http.response.start":
                    started = True
                    written = causal.bookmarks() if causal.wrote else frozenset()
                    value = codec_for(self._keys_dir).seal(written) if written else None
                    if value is not None:
                        MutableHeaders(scope=message).append(HEADER, value)
                await send(message)

            try:
                await self.app(scope, receive, send_with_bookmarks)
            except neo4j.exceptions.Neo4jError as exc:
                if started or not after or not _is_bookmark_refusal(exc):
                    raise
                log.warning("presented bookmarks refused by the graph: %s", exc.code)
                await error_response(_refused("signets inconnus du graphe (base restaurée ?)"))(
                    scope, receive, send)


def install_bookmarks(app: FastAPI) -> None:
    """Add the middleware to ``app`` (once). Call it in ``create_app`` before the request limits
    are added, so the limits and the security headers wrap it."""
    if getattr(app.state, "bookmarks_installed", False):
        return
    app.state.bookmarks_installed = True
    app.add_middleware(CausalBookmarks, keys_dir=app.state.settings.keys_dir)
