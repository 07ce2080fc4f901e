"""An anonymous caller is refused (401) by every operation that requires a token (issue 10).

Every operation of the published OpenAPI schema (``app.openapi()``) that declares a bearer
requirement is called without any credential — neither an ``Authorization`` header nor a
session cookie — through the app's real wiring (the session app, lifespan on, on the session's
Neo4j), with a request built from that operation's own schema: every path parameter, every
required query parameter and header, and a JSON body holding every property of the body
schema (each from its type, enum, format, pattern, bounds), once with the required properties
only. Each answer must be, on its **raw bytes**, the one refusal the rule gives (hub/deps.py
``get_caller``: no credential → ``NotAuthenticated``, mapped once to 401 + ``WWW-Authenticate:
Bearer`` by hub/errors.py): the same status, headers and body for every operation and input, so
an anonymous caller learns nothing of a route's inputs, of what exists, or of what the route
would have done.

The values are printable text: a control character is refused before any authentication by the
request limits (hub/limits.py, the same 422 for every route and caller, tested there). The few
operations that take no token (health, sign-in, renewal, the OIDC provider list) are fuzzed
anonymously by tests/hub/test_schemathesis.py with every check; the authenticated caller's run
there covers every operation with every phase.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import Phase, find, settings
from hypothesis import strategies as st

from hub.contract.errors import ErrorResponse

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
# The rule's refusal (hub/deps.py get_caller, hub/contract/errors.py NotAuthenticated), written
# out here, not read from a first answer.
REFUSAL = {"code": "not_authenticated",
           "message": "authentification requise : en-tête Authorization: Bearer <jeton>"}
# The operations that take no token: anything else must refuse an anonymous caller. A new one
# joins this set deliberately (tests/hub/test_schemathesis.py then fuzzes it anonymously).
PUBLIC = {("/healthz", "get"), ("/api/v1/auth/login", "post"), ("/api/v1/auth/refresh", "post"),
          ("/api/v1/auth/oidc/providers", "get")}


def requires_token(spec: dict, op: dict) -> bool:
    security = op.get("security", spec.get("security"))
    return bool(security) and all(requirement for requirement in security)


class Instances:
    """A value for a JSON schema of the published contract: schema-valid for what the hub's
    schemas use (refs, anyOf/oneOf/allOf, const, enum, formats, patterns, bounds), printable."""

    def __init__(self, spec: dict) -> None:
        self.schemas = spec["components"]["schemas"]

    def resolve(self, node: dict) -> dict:
        while "$ref" in node:
            node = self.schemas[node["$ref"].rsplit("/", 1)[1]]
        return node

    def value(self, node: dict, *, every: bool) -> Any:
        node = self.resolve(node)
        for key in ("const", "default"):
            if key in node and node[key] is not None:
                return node[key]
        if node.get("examples"):
            return node["examples"][0]
        if "enum" in node:
            return node["enum"][0]
        for key in ("anyOf", "oneOf"):
            if key in node:
                branches = [self.resolve(b) for b in node[key]]
                chosen = next((b for b in branches if b.get("type") != "null"), branches[0])
                return self.value(chosen, every=every)
        if "allOf" in node:
            merged: dict = {}
            for part in node["allOf"]:
                part = self.resolve(part)
                merged = {**merged, **part,
                          "properties": {**merged.get("properties", {}), **part.get("properties", {})},
                          "required": [*merged.get("required", []), *part.get("required", [])]}
            return self.value(merged, every=every)
        kind = node.get("type", "object" if "properties" in node else "string")
        if isinstance(kind, list):
            kind = next(k for k in kind if k != "null")
        if kind == "object":
            props = node.get("properties", {})
            names = props if every else node.get("required", [])
            return {name: self.value(props[name], every=every) for name in names if name in props}
        if kind == "array":
            if "prefixItems" in node:
                return [self.value(item, every=every) for item in node["prefixItems"]]
            count = max(node.get("minItems", 0), 1 if every else 0)
            return [self.value(node.get("items", {}), every=every) for _ in range(count)]
        if kind == "boolean":
            return True
        if kind in ("integer", "number"):
            low = node.get("minimum", node.get("exclusiveMinimum", 0) + 1 if "exclusiveMinimum" in node else 1)
            return int(low) if kind == "integer" else float(low)
        return self.text(node)

    @staticmethod
    def text(node: dict) -> str:
        fmt = node.get("format")
        if fmt == "date-time":
            return "2026-03-14T09:30:00+01:00"
        if fmt == "date":
            return "2026-03-14"
        low, high = node.get("minLength", 0), node.get("maxLength", 10_000)
        if "pattern" in node:
            return matching(node["pattern"], low, high)
        word = "Enquete PV 2026-118 vol de fret"
        return (word * (low // len(word) + 1))[:max(low, min(high, len(word)))]


PRINTABLE = re.compile(r"[ -~À-ÿ]*")


@lru_cache
def matching(pattern: str, low: int, high: int) -> str:
    """A printable text the pattern matches in full (hypothesis tries the simplest first)."""
    return find(st.from_regex(pattern, fullmatch=True),
                lambda s: low <= len(s) <= high and PRINTABLE.fullmatch(s) is not None,
                settings=settings(database=None, phases=[Phase.generate], max_examples=200,
                                  derandomize=True))


def requests_for(spec: dict, path: str, method: str, op: dict) -> list[dict[str, Any]]:
    """The requests an anonymous caller sends to this operation (no credential in any)."""
    make = Instances(spec)
    base: dict[str, Any] = {"params": {}, "headers": {}}
    url = path
    for param in op.get("parameters", []):
        value = make.value(param.get("schema", {}), every=True)
        if param["in"] == "path":
            url = url.replace("{" + param["name"] + "}", str(value))
        elif param["in"] == "query" and param.get("required"):
            base["params"][param["name"]] = value
        elif param["in"] == "header" and param.get("required"):
            base["headers"][param["name"]] = str(value)
    body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    if body is None:
        return [{**base, "url": url}]
    return [{**base, "url": url, "json": make.value(body, every=every)} for every in (True, False)]


@pytest.fixture(scope="module")
def anonymous(client) -> TestClient:
    """A client of its own on the session app (its state: graph, rulebook): no cookie jar that
    another test's sign-in could have filled."""
    return TestClient(client.app, raise_server_exceptions=False)


def test_every_protected_operation_refuses_an_anonymous_caller_uniformly(client, anonymous):
    spec = client.app.openapi()
    every = [(path, method, op) for path, item in spec["paths"].items()
             for method, op in item.items() if method in HTTP_METHODS]
    # The sweep is the schema: nothing is left out but the operations that take no token.
    assert {(p, m) for p, m, op in every if not requires_token(spec, op)} == PUBLIC
    protected = [(p, m, op) for p, m, op in every if requires_token(spec, op)]
    assert len(protected) >= 80

    refusal = json.dumps(REFUSAL, ensure_ascii=False, separators=(",", ":")).encode()
    ErrorResponse.model_validate_json(refusal)
    problems, first_headers, sent = [], None, 0
    for path, method, op in protected:
        label = f"{method.upper()} {path}"
        assert "401" in op["responses"], f"{label}: 401 undocumented"
        for request in requests_for(spec, path, method, op):
            answer = anonymous.request(method.upper(), request.pop("url"), **request)
            sent += 1
            if (answer.status_code, answer.content) != (401, refusal):
                problems.append(f"{label}: {answer.status_code} {answer.content[:300]!r}")
                continue
            # The same headers for every refusal (but the date), the scheme to use named.
            headers = {k: v for k, v in answer.headers.items() if k.lower() != "date"}
            first_headers = first_headers or headers
            if answer.headers.get("www-authenticate") != "Bearer" or headers != first_headers:
                problems.append(f"{label}: 401 with other headers: {headers}")
    assert not problems, "\n".join(problems)
    assert sent > len(protected), sent
