"""The published contract tells the truth (issue 10, item 9).

Walks ``app.openapi()`` and checks, operation by operation, what the hub really answers: every
error it can give documented with the one ``ErrorResponse`` shape (401 only where a token is
required), ``justification`` required wherever a consultation takes one, the ingest batch body
published from the contract's models; then, on the wire (raw bytes), that every error has the
``{code, message, details}`` shape — malformed JSON, unknown path, a method the path does not
have (405 with an ``Allow`` header listing exactly the methods it has), ``OPTIONS`` — and that
``/docs`` is served without a CDN.

Needs no graph: the app is built, never started (no lifespan); the requests below are all
answered before any dependency touches the driver.
"""

from __future__ import annotations

import json
from collections import defaultdict

import pytest
from fastapi.testclient import TestClient

from hub.app import create_app
from hub.contract.errors import CrossHubError, ErrorResponse, NotFound
from hub.settings import Settings

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
ERROR_REF = "#/components/schemas/ErrorResponse"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory):
    return create_app(Settings(data_dir=tmp_path_factory.mktemp("openapi-data"), neo4j_uri=None,
                               neo4j_password=None))


@pytest.fixture(scope="module")
def spec(app) -> dict:
    return app.openapi()


@pytest.fixture(scope="module")
def raw(app):
    # No `with`: the lifespan (graph, audit trail) is not needed for anything asked here.
    return TestClient(app, raise_server_exceptions=False)


def operations(spec: dict):
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method in HTTP_METHODS:
                yield path, method, op


def resolve(spec: dict, node: dict) -> dict:
    while "$ref" in node:
        node = spec["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def requires_token(spec: dict, op: dict) -> bool:
    security = op.get("security", spec.get("security"))
    return bool(security) and all(requirement for requirement in security)


def test_error_response_schema_matches_to_dict(spec):
    schema = spec["components"]["schemas"]["ErrorResponse"]
    assert set(schema["required"]) == {"code", "message"}
    assert set(schema["properties"]) == {"code", "message", "details"}
    detail = resolve(spec, schema["properties"]["details"]["items"])
    assert set(detail["required"]) == {"field", "reason"}
    # What the hub sends validates against the model it publishes, with and without details.
    for exc in (NotFound("x"), CrossHubError("y", details=[{"field": "a.b", "reason": "z"}])):
        assert ErrorResponse.model_validate(exc.to_dict()).model_dump(exclude_defaults=True) == exc.to_dict()


def test_every_operation_documents_its_errors_with_the_error_shape(spec):
    problems = []
    for path, method, op in operations(spec):
        responses = op["responses"]
        errors = {code: r for code, r in responses.items() if code[0] in "45"}
        label = f"{method.upper()} {path}"
        for code, response in errors.items():
            schema = response.get("content", {}).get("application/json", {}).get("schema", {})
            if schema.get("$ref") != ERROR_REF:
                problems.append(f"{label}: {code} not documented with ErrorResponse")
        token = requires_token(spec, op)
        if token and not {"401", "403"} <= set(errors):
            problems.append(f"{label}: requires a token but does not document 401 and 403")
        # Sign-in and renewal take no access token but do refuse with 401.
        if not token and "401" in errors and path not in ("/api/v1/auth/login",
                                                          "/api/v1/auth/refresh"):
            problems.append(f"{label}: documents 401 without requiring a token")
        params = op.get("parameters", [])
        if (params or "requestBody" in op) and "422" not in errors:
            problems.append(f"{label}: takes input but does not document 422")
        if any(p["in"] == "path" for p in params) and "404" not in errors:
            problems.append(f"{label}: names a resource in its path but does not document 404")
        if method in ("post", "put", "patch", "delete") and "409" not in errors:
            problems.append(f"{label}: changes state but does not document 409")
        if "requestBody" in op and "413" not in errors:
            problems.append(f"{label}: takes a body but does not document 413")
        if token and "503" not in errors:
            problems.append(f"{label}: reads the graph but does not document 503")
        if "HTTPValidationError" in json.dumps(op):
            problems.append(f"{label}: still refers to FastAPI's HTTPValidationError")
    assert not problems, "\n".join(problems)
    assert spec["paths"]["/api/v1/auth/login"]["post"]["responses"].keys() >= {"401", "429"}


def test_justification_is_required_wherever_a_consultation_takes_one(spec):
    taking = []
    for path, method, op in operations(spec):
        for p in op.get("parameters", []):
            if p["name"] == "justification":
                taking.append(f"{method.upper()} {path}")
                assert p["in"] == "query"
                assert p["required"] is True, f"{method.upper()} {path}: justification optional"
                assert p["schema"]["minLength"] == 5 and p["schema"]["pattern"]
                assert "400" in op["responses"], f"{method.upper()} {path}: 400 undocumented"
    # Every consultation of personal data (README: leads, networks, analyses, triage, meetings…).
    for expected in ("GET /api/v1/leads/{lead_id}", "GET /api/v1/leads/{lead_id}/triage",
                     "GET /api/v1/leads/{lead_id}/history", "GET /api/v1/search",
                     "GET /api/v1/entities/{kind}/{key}/network",
                     "GET /api/v1/entities/{kind}/{key}/export",
                     "GET /api/v1/meetings/{meeting_id}/agenda", "GET /api/v1/link-alerts",
                     "GET /api/v1/operations", "GET /api/v1/deconfliction/alerts"):
        assert expected in taking, expected
    # In a body (a disclosure request) too.
    body = spec["paths"]["/api/v1/disclosure-requests"]["post"]["requestBody"]
    schema = resolve(spec, body["content"]["application/json"]["schema"])
    assert "justification" in schema["required"]


def test_ingest_publishes_the_lead_batch_from_the_contract(spec):
    op = spec["paths"]["/api/v1/leads"]["post"]
    body = op["requestBody"]
    assert body["required"] is True
    batch = resolve(spec, body["content"]["application/json"]["schema"])
    assert batch["required"] == ["leads"] and batch["additionalProperties"] is False
    leads = batch["properties"]["leads"]
    assert leads["type"] == "array" and leads["minItems"] == 1
    lead = resolve(spec, leads["items"])
    # The canonical Lead, schema 1.0, as hub/contract/lead.py declares it.
    from hub.contract.lead import Lead

    assert set(lead["properties"]) == set(Lead.model_fields)
    assert set(lead["required"]) == {n for n, f in Lead.model_fields.items() if f.is_required()}
    # Every reference in the whole document resolves.
    text = json.dumps(spec)
    for name in {part.split('"')[0] for part in text.split('"#/components/schemas/')[1:]}:
        assert name in spec["components"]["schemas"], name
    # The signature the hub verifies is documented too.
    headers = {p["name"] for p in op["parameters"] if p["in"] == "header" and p["required"]}
    assert headers == {"X-CrossHub-Key-Id", "X-CrossHub-Timestamp", "X-CrossHub-Nonce",
                       "X-CrossHub-Signature"}


# --- on the wire ----------------------------------------------------------------------------------


def assert_error_shape(resp, status: int, code: str) -> dict:
    assert resp.status_code == status, resp.content
    assert resp.headers["content-type"].startswith("application/json")
    body = json.loads(resp.content)
    assert set(body) <= {"code", "message", "details"} and body["code"] == code, body
    assert isinstance(body["message"], str) and body["message"]
    ErrorResponse.model_validate(body)
    for detail in body.get("details", []):
        assert set(detail) >= {"field", "reason"}
    return body


def test_malformed_json_body_gets_the_error_shape(raw):
    resp = raw.post("/api/v1/operations", content=b'{"kind": "arrest",',
                    headers={"Content-Type": "application/json"})
    body = assert_error_shape(resp, 422, "invalid_input")
    assert body["details"][0]["field"] == "(corps)"
    assert b'"detail"' not in resp.content


def test_unknown_path_is_404_with_the_error_shape(raw):
    resp = raw.get("/api/v1/no-such-thing")
    assert_error_shape(resp, 404, "not_found")


def allowed_by_spec(spec: dict) -> dict[str, set[str]]:
    allowed: dict[str, set[str]] = defaultdict(set)
    for path, method, _ in operations(spec):
        allowed[path].add(method.upper())
    return allowed


def test_405_lists_exactly_the_methods_of_the_path(raw, spec):
    allowed = allowed_by_spec(spec)
    assert allowed["/api/v1/operations"] == {"GET", "POST"}  # two routes, one path
    for path, concrete in (("/api/v1/operations", "/api/v1/operations"),
                           ("/healthz", "/healthz"),
                           ("/api/v1/leads/{lead_id}/status", "/api/v1/leads/L-1/status"),
                           ("/api/v1/leads", "/api/v1/leads")):
        for method in {"GET", "POST", "PUT", "PATCH", "DELETE"} - allowed[path]:
            resp = raw.request(method, concrete)
            assert_error_shape(resp, 405, "method_not_allowed")
            listed = {m.strip() for m in resp.headers["allow"].split(",")}
            assert listed == allowed[path], (method, path, resp.headers["allow"])


def test_options_is_405_with_allow(raw, spec):
    resp = raw.options("/api/v1/operations")
    assert_error_shape(resp, 405, "method_not_allowed")
    assert {m.strip() for m in resp.headers["allow"].split(",")} == {"GET", "POST"}


def test_starlette_http_exceptions_get_the_error_shape(app, raw):
    from starlette.exceptions import HTTPException

    @app.get("/__test_teapot", include_in_schema=False)
    async def teapot():
        raise HTTPException(status_code=418, detail="je suis une théière",
                            headers={"X-Test": "1"})

    resp = raw.get("/__test_teapot")
    body = assert_error_shape(resp, 418, "http_418")
    assert body["message"] == "je suis une théière" and resp.headers["x-test"] == "1"


def test_docs_are_served_without_a_cdn(raw):
    page = raw.get("/docs")
    assert page.status_code == 200
    assert "cdn." not in page.text  # fastapi-offline is locked: nothing may come from a CDN
    assets = [src.split('"')[0] for src in page.text.split('src="')[1:]]
    assets += [href.split('"')[0] for href in page.text.split('href="')[1:]]
    assert assets and all(a.startswith("/docs/assets/") for a in assets), assets
    for asset in assets:
        resp = raw.get(asset)
        assert resp.status_code == 200 and len(resp.content) > 100, asset
    assert raw.get("/openapi.json").json()["openapi"].startswith("3.1")

