"""Limits before work: a pure ASGI middleware that refuses what no endpoint should spend memory,
CPU or a graph round trip on, before routing, authentication or any parsing.

* **Body size**: ``Content-Length`` checked first, then the bytes actually received are counted
  (a chunked body has no length), and reading stops at the limit: 413. People's endpoints get a
  small limit (``max_people_body_bytes``, 64 KiB by default); ingest (``POST /api/v1/leads``) and
  connector run records (``POST /api/v1/connectors/{name}/runs``) get ``max_body_bytes``.
* **JSON nesting**: the depth of ``[``/``{`` outside strings is measured on the raw bytes (a
  string-aware scan at C speed, nothing parsed): past ``max_json_depth``, 422 on ``(corps)``. The
  decoders behind (``json``, pydantic) never see a body deep enough to exhaust the stack.
* **Control characters** (NUL, C0 but tab and line breaks, DEL, C1, bidi overrides and
  isolates...): refused, 422 naming the field, in the path, in every query parameter, and in
  every string (keys included) of a people's endpoint's JSON body. Ingest bodies are left to the
  lead contract, which rejects the offending lead alone under its exact path (the others go on).

Answers are the hub's error shape, ``{"code", "message", "details": [{"field", "reason"}]}``, in
French. The body, once read, is handed on unchanged to the application (signed requests are
verified over these exact bytes).
"""

from __future__ import annotations

import itertools
import json
import re
from typing import Any
from urllib.parse import parse_qsl

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.contract.errors import CrossHubError, InvalidInput, PayloadTooLarge
from hub.contract.identifiers import control_chars_in, control_reason
from hub.errors import error_response
from hub.settings import Settings

BODY = "(corps)"
_INGEST = re.compile(r"^/api/v1/leads/?$")
_CONNECTOR_RUNS = re.compile(r"^/api/v1/connectors/[^/]+/runs/?$")
# A peer's blinded batch (up to 4,096 elements) or claims, through the antenna (issue 16).
_FEDERATION_BULK = re.compile(r"^/federation/v1/(evaluate|claims)/?$")

_IN_THREAD_ABOVE = 1 << 20
_KEEP = b'[]{}"'
_DELETE = bytes(c for c in range(256) if c not in _KEEP)
_ONE_KIND = bytes.maketrans(b"{}", b"[]")
_SIGNS = bytes.maketrans(b"[]", b"\x01\xff")  # +1 / -1 as signed bytes
_STRING = re.compile(rb'"[^"]*"')


def _skeleton(body: bytes) -> bytes:
    """The brackets of ``body`` outside strings, all as ``[``/``]`` (depth ignores the kind).

    Escaped backslashes, then escaped quotes, are taken out (left to right, which is how JSON
    pairs them), then everything but brackets and quotes; two adjacent quotes then only ever
    close a string and open the next with no bracket in between (or are an empty string):
    removing them changes no depth. What stays between quotes is inside a string."""
    body = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    skeleton = body.translate(None, delete=_DELETE).replace(b'""', b"")
    if b'"' in skeleton:
        skeleton = _STRING.sub(b"", skeleton)
    return skeleton.translate(_ONE_KIND)


def _peak(skeleton: bytes) -> int:
    steps = memoryview(skeleton.translate(_SIGNS)).cast("b")
    return max(itertools.accumulate(steps, initial=0))


def json_depth_exceeds(body: bytes, limit: int) -> bool:
    """Whether the arrays and objects of ``body`` nest deeper than ``limit``, brackets inside
    strings ignored. Nothing is decoded, every step is a C-speed bytes operation: each pass
    takes out every innermost ``[]`` pair, so a balanced skeleton is empty after exactly as many
    passes as it is deep."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    skeleton = _skeleton(body)
    if _peak(skeleton[:4096]) > limit:  # the classic hostile body is refused at its first bytes
        return True
    passes = 0
    while skeleton and passes <= limit:
        shorter = skeleton.replace(b"[]", b"")
        if len(shorter) == len(skeleton):
            # No pair left: an unbalanced rest ("]]…[[…"), invalid JSON; its unclosed openers
            # still count, for a decoder would descend into them before failing.
            return passes + len(skeleton) - (skeleton.rfind(b"]") + 1) > limit
        skeleton, passes = shorter, passes + 1
    return bool(skeleton)


def control_char_in_json(value: Any, path: str = "") -> tuple[str, str] | None:
    """The first string (key or value) of a decoded JSON document holding a control character:
    (field path, French reason), or None."""
    stack: list[tuple[str, Any]] = [(path, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            found = control_chars_in(item)
            if found:
                return where or BODY, control_reason(found[0][1], found[0][0])
        elif isinstance(item, dict):
            children = []
            for key, child in item.items():
                found = control_chars_in(key)
                if found:
                    return where or BODY, "nom de champ : " + control_reason(found[0][1], found[0][0])
                children.append((f"{where}.{key}" if where else key, child))
            stack.extend(reversed(children))
        elif isinstance(item, list):
            stack.extend(reversed([(f"{where}[{i}]", child) for i, child in enumerate(item)]))
    return None


def _header(scope: Scope, name: bytes) -> list[bytes]:
    return [v for k, v in scope.get("headers", ()) if k.lower() == name]


class RequestLimits:
    """The middleware; ``app.add_middleware(RequestLimits, settings=settings)``."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.people_limit = settings.max_people_body_bytes
        self.bulk_limit = settings.max_body_bytes
        self.max_depth = settings.max_json_depth

    def _is_bulk(self, scope: Scope) -> bool:
        path = scope.get("path", "")
        return scope.get("method") == "POST" and bool(_INGEST.match(path) or _CONNECTOR_RUNS.match(path)
                                                      or _FEDERATION_BULK.match(path))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self._check_target(scope)
        if refusal is not None:
            await _answer(refusal, scope, receive, send)
            return
        bulk = self._is_bulk(scope)
        limit = self.bulk_limit if bulk else self.people_limit
        too_large = PayloadTooLarge(
            f"requête trop volumineuse : au plus {limit} octets pour ce point d'accès",
            details=[{"field": BODY, "reason": f"corps de requête limité à {limit} octets"}])
        declared = _header(scope, b"content-length")
        if declared:
            value = declared[0].strip()
            if not value.isdigit() or any(v.strip() != value for v in declared):
                await _answer(InvalidInput("en-tête Content-Length invalide", details=[
                    {"field": "(en-tête) Content-Length", "reason": "longueur du corps illisible"}]),
                    scope, receive, send)
                return
            if int(value) > limit:
                await _answer(too_large, scope, receive, send, close=True)
                return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client left: nothing to answer, nothing to do
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _answer(too_large, scope, receive, send, close=True)
                return
            if chunk:
                chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        refusal = await self._check_body(body, scope, bulk)
        if refusal is not None:
            await _answer(refusal, scope, receive, send)
            return

        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    def _check_target(self, scope: Scope) -> CrossHubError | None:
        found = control_chars_in(scope.get("path", ""))
        if found:
            return InvalidInput("chemin de requête invalide", details=[
                {"field": "(chemin)", "reason": control_reason(found[0][1], found[0][0])}])
        query = scope.get("query_string", b"")
        if not query:
            return None
        for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
            for text, where in ((name, "(paramètres)"), (value, name)):
                found = control_chars_in(text)
                if found:
                    field = where if not control_chars_in(where) else "(paramètres)"
                    return InvalidInput("paramètre de requête invalide", details=[
                        {"field": field, "reason": control_reason(found[0][1], found[0][0])}])
        return None

    async def _check_body(self, body: bytes, scope: Scope, bulk: bool) -> CrossHubError | None:
        if not body:
            return None
        if len(body) > _IN_THREAD_ABOVE:  # a big body is scanned off the event loop
            too_deep = await run_in_threadpool(json_depth_exceeds, body, self.max_depth)
        else:
            too_deep = json_depth_exceeds(body, self.max_depth)
        if too_deep:
            return InvalidInput("corps JSON trop imbriqué", details=[
                {"field": BODY, "reason": f"imbrication JSON trop profonde : au plus "
                                          f"{self.max_depth} niveaux de tableaux et d'objets"}])
        if bulk:
            return None  # the lead contract rejects control characters lead by lead
        content_type = b"".join(_header(scope, b"content-type")).lower()
        if content_type and b"json" not in content_type:
            return None
        try:
            document = json.loads(body)
        except (ValueError, RecursionError):
            return None  # not JSON: the endpoint says so in its own words
        found = control_char_in_json(document)
        if found is not None:
            return InvalidInput("texte invalide", details=[{"field": found[0], "reason": found[1]}])
        return None


async def _answer(error: CrossHubError, scope: Scope, receive: Receive, send: Send, *,
                  close: bool = False) -> None:
    headers = {"Connection": "close"} if close else None
    await error_response(error, headers)(scope, receive, send)
