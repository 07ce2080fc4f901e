"""Limits before work (hub/limits.py): body size, JSON nesting and control characters are refused
before routing, authentication or any graph work, in the hub's error shape.

The first tests run the real app *without* its lifespan: there is no graph driver, so a request
that got past the limits to a route would fail with a 500; a 413/422 proves the refusal came
first. The middleware alone is then driven at the ASGI level (what it reads, what it hands on).
The last tests run against the real graph: a refused lead is written nowhere.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hub.app import create_app
from hub.limits import RequestLimits, json_depth_exceeds
from hub.settings import Settings
from tests.factories import lead

KIB = 1024
PEOPLE_LIMIT = 64 * KIB

TOO_LARGE_PEOPLE = (
    b'{"code":"payload_too_large","message":"requ\xc3\xaate trop volumineuse : au plus 65536 '
    b'octets pour ce point d\'acc\xc3\xa8s","details":[{"field":"(corps)","reason":"corps de '
    b'requ\xc3\xaate limit\xc3\xa9 \xc3\xa0 65536 octets"}]}'
)
TOO_DEEP = (
    b'{"code":"invalid_input","message":"corps JSON trop imbriqu\xc3\xa9","details":[{"field":'
    b'"(corps)","reason":"imbrication JSON trop profonde : au plus 32 niveaux de tableaux et '
    b'd\'objets"}]}'
)


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


@pytest.fixture(scope="module")
def bare(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    """The hub without its lifespan: no graph, no audit trail."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("limits"), max_body_bytes=256 * KIB)
    return TestClient(create_app(settings), raise_server_exceptions=False)


# --- body size ----------------------------------------------------------------------------------


def test_login_with_a_body_past_the_limit_is_413_before_anything(bare: TestClient) -> None:
    resp = bare.post("/api/v1/auth/login", content=b"x" * (PEOPLE_LIMIT + 1),
                     headers={"Content-Type": "application/json"})
    assert resp.status_code == 413
    assert resp.content == TOO_LARGE_PEOPLE
    assert resp.headers["content-type"] == "application/json"
    assert resp.headers["connection"] == "close"


def test_a_200_mib_login_is_refused_on_its_declared_length() -> None:
    """Content-Length alone decides: not one byte of the body is read."""
    reads = []

    async def receive():
        reads.append(1)
        return {"type": "http.request", "body": b"x" * KIB, "more_body": True}

    status, body, called = _drive(RequestLimits(_echo_app(), _settings()), receive, "/api/v1/auth/login",
                                  headers=[(b"content-length", str(200 * 1024 * KIB).encode())])
    assert status == 413 and body == TOO_LARGE_PEOPLE
    assert reads == [] and called == []


def test_chunked_body_without_length_is_counted_and_cut_at_the_limit(bare: TestClient) -> None:
    sent = []

    def chunks():
        for _ in range(1000):  # 4 MiB offered
            sent.append(1)
            yield b"y" * (4 * KIB)

    resp = bare.post("/api/v1/auth/login", content=chunks(),
                     headers={"Content-Type": "application/json"})
    assert resp.request.headers.get("content-length") is None
    assert resp.request.headers.get("transfer-encoding") == "chunked"
    assert resp.status_code == 413 and resp.content == TOO_LARGE_PEOPLE


def test_streamed_body_stops_being_read_at_the_limit() -> None:
    """At the ASGI level: a body without Content-Length is read only until it passes the limit,
    and the application behind never runs."""
    reads = []

    async def receive():
        reads.append(1)
        return {"type": "http.request", "body": b"z" * (16 * KIB), "more_body": True}  # endless

    status, body, called = _drive(RequestLimits(_echo_app(), _settings()), receive, "/api/v1/auth/login")
    assert status == 413 and body == TOO_LARGE_PEOPLE
    assert len(reads) == PEOPLE_LIMIT // (16 * KIB) + 1  # the chunk that crossed the limit, no more
    assert called == []


def test_limit_is_inclusive_and_the_body_reaches_the_app_unchanged() -> None:
    payload = b'{"a":"' + b"b" * (PEOPLE_LIMIT - 8) + b'"}'
    assert len(payload) == PEOPLE_LIMIT
    status, body, called = _drive_body(payload, "/api/v1/auth/login", chunk=1000)
    assert status == 200 and called == [payload]
    status, body, called = _drive_body(payload + b" ", "/api/v1/auth/login", chunk=1000)
    assert status == 413 and called == []


def test_ingest_and_run_records_have_the_bulk_limit(bare: TestClient) -> None:
    settings = _settings(max_body_bytes=256 * KIB)
    big = b'{"leads": [' + b" " * (200 * KIB) + b"]}"
    for path in ("/api/v1/leads", "/api/v1/connectors/police-main/runs"):
        status, _, called = _drive_body(big, path, settings=settings)
        assert status == 200 and called == [big], path  # past the people's limit, within bulk
    # Without a token: the size is refused before authentication would answer 401.
    resp = bare.post("/api/v1/leads", content=b" " * (256 * KIB + 1))
    assert resp.status_code == 413
    assert resp.json() == {"code": "payload_too_large",
                           "message": "requête trop volumineuse : au plus 262144 octets pour ce "
                                      "point d'accès",
                           "details": [{"field": "(corps)",
                                        "reason": "corps de requête limité à 262144 octets"}]}
    # A GET of a reading endpoint is a people's endpoint: the small limit.
    status, _, called = _drive_body(big, "/api/v1/leads", method="GET", settings=settings)
    assert status == 413 and called == []


def test_an_unreadable_content_length_is_refused(bare: TestClient) -> None:
    status, body, called = _drive(RequestLimits(_echo_app(), _settings()), _one(b"{}"),
                                  "/api/v1/auth/login", headers=[(b"content-length", b"-5")])
    assert status == 422 and called == []
    assert json.loads(body)["details"][0]["field"] == "(en-tête) Content-Length"


# --- JSON nesting -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/auth/login", "/api/v1/leads"])
def test_deep_nesting_is_422_before_parsing(bare: TestClient, path: str) -> None:
    resp = bare.post(path, content=nested(20_000), headers={"Content-Type": "application/json"})
    assert resp.status_code == 422
    assert resp.content == TOO_DEEP


def test_depth_32_passes_33_does_not() -> None:
    assert json_depth_exceeds(nested(32), 32) is False
    assert json_depth_exceeds(nested(33), 32) is True
    objects = b'{"a":' * 33 + b"1" + b"}" * 33
    assert json_depth_exceeds(objects, 32) is True
    assert json_depth_exceeds(objects.replace(b'{"a":', b"", 1)[:-1], 32) is False
    status, _, called = _drive_body(nested(32), "/api/v1/auth/login")
    assert status == 200 and called
    status, body, called = _drive_body(nested(33), "/api/v1/auth/login")
    assert status == 422 and body == TOO_DEEP and not called


def test_brackets_inside_strings_do_not_count() -> None:
    inside = json.dumps({"narrative": "[" * 500 + "{" * 500, "q": '\\"[[[[', "r": "\\"}).encode()
    assert json_depth_exceeds(inside, 32) is False
    # An escaped quote does not end the string; an escaped backslash before a quote does.
    assert json_depth_exceeds(b'["\\"' + b"[" * 40 + b'"]', 32) is False
    assert json_depth_exceeds(b'["\\\\"' + b"[" * 40 + b"]" * 40 + b"]", 32) is True


def test_unclosed_nesting_is_refused_too() -> None:
    assert json_depth_exceeds(b"[" * 100, 32) is True
    assert json_depth_exceeds(b'{"a":' * 100, 32) is True


def test_a_long_shallow_body_is_fine() -> None:
    batch = json.dumps({"leads": [lead() for _ in range(2000)]}).encode()
    assert json_depth_exceeds(batch, 32) is False


# --- control characters -------------------------------------------------------------------------


@pytest.mark.parametrize("char", ["\x00", "\x1b", "\x7f", "\x85", "\u202e", "\u2066", "\u200f"])
def test_control_characters_in_a_people_body_are_422_with_the_field(bare: TestClient,
                                                                    char: str) -> None:
    resp = bare.post("/api/v1/auth/login", json={"user_id": f"police:du{char}pont", "password": "x"})
    assert resp.status_code == 422
    body = resp.json()
    assert body["code"] == "invalid_input"
    assert body["details"][0]["field"] == "user_id"
    assert f"U+{ord(char):04X}" in body["details"][0]["reason"]
    assert "contrôle" in body["details"][0]["reason"]


def test_control_characters_are_located_in_nested_bodies() -> None:
    payload = json.dumps({"a": {"b": ["ok", "n\u202eon"]}}).encode()
    status, body, called = _drive_body(payload, "/api/v1/meetings")
    assert status == 422 and not called
    assert json.loads(body)["details"][0]["field"] == "a.b[1]"


def test_tab_and_line_breaks_are_text() -> None:
    payload = json.dumps({"reason": "ligne 1\nligne 2\r\n\tfin"}).encode()
    status, _, called = _drive_body(payload, "/api/v1/meetings")
    assert status == 200 and called == [payload]


def test_control_characters_in_query_parameters_are_422_with_the_parameter(bare: TestClient) -> None:
    resp = bare.get("/api/v1/search?kind=plate&q=AB%00123&justification=PV%202025")
    assert resp.status_code == 422
    assert resp.json()["details"][0]["field"] == "q"
    resp = bare.get("/api/v1/leads/x?justification=PV%E2%80%AE2025")
    assert resp.status_code == 422
    assert resp.json()["details"][0]["field"] == "justification"


def test_ingest_bodies_are_left_to_the_lead_contract() -> None:
    """The contract rejects the offending lead alone, with its exact path (tests below)."""
    payload = json.dumps({"leads": [lead(narrative="a\x00b")]}).encode()
    status, _, called = _drive_body(payload, "/api/v1/leads")
    assert status == 200 and called == [payload]


# --- against the real graph: refused means written nowhere --------------------------------------


def _lead_count(driver) -> int:
    return driver.execute_query("MATCH (l:Lead) RETURN count(l) AS n").records[0]["n"]


@pytest.mark.usefixtures("clean_graph")
def test_nul_and_bidi_in_leads_are_rejected_with_their_path_and_not_written(make_connector,
                                                                            driver) -> None:
    police = make_connector("police")
    items = [
        lead(narrative="Va-et-vient devant le hall\x00 3."),
        lead(location={"insee_code": "25056", "commune": "Besan\u202eçon"}),
        lead(vehicles=[{"plate": "AB-123-CD", "colour": "gris\u2066"}]),
        lead(phones=["0612345678", "07\x0081234567"]),
        lead(narrative="Écrire à jean.dupont [at] gmail [dot] com."),
        lead(vehicles=[{"plate": "AB-123-CD", "make": "Renault 06/12/34/56/78"}]),
    ]
    resp = police.push(items)
    assert resp.status_code == 200
    results = resp.json()["results"]
    assert [r["outcome"] for r in results] == ["rejected"] * 6
    fields = [[e["field"] for e in r["errors"]] for r in results]
    assert fields == [["leads[0].narrative"], ["leads[1].location.commune"],
                      ["leads[2].vehicles[0].colour"], ["leads[3].phones[1]"],
                      ["leads[4].narrative"], ["leads[5].vehicles[0].make"]]
    assert "U+0000" in results[0]["errors"][0]["reason"]
    assert "U+202E" in results[1]["errors"][0]["reason"]
    assert "e-mail" in results[4]["errors"][0]["reason"]
    assert "téléphone" in results[5]["errors"][0]["reason"]
    assert _lead_count(driver) == 0


@pytest.mark.usefixtures("clean_graph")
def test_deeply_nested_ingest_and_login_are_422_and_write_nothing(make_connector, client,
                                                                  driver) -> None:
    police = make_connector("police")
    body = b'{"leads": ' + nested(10_000) + b"}"
    resp = police.post_raw(body)
    assert resp.status_code == 422 and resp.content == TOO_DEEP
    resp = client.post("/api/v1/auth/login", content=nested(10_000),
                       headers={"Content-Type": "application/json"})
    assert resp.status_code == 422 and resp.content == TOO_DEEP
    assert _lead_count(driver) == 0


# --- helpers ------------------------------------------------------------------------------------


def _settings(**kw) -> Settings:
    return Settings(data_dir=Path("/nonexistent-crosshub-limits"), **kw)


def _echo_app():
    called: list[bytes] = []

    async def app(scope, receive, send):
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        called.append(b"".join(chunks))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    app.called = called  # type: ignore[attr-defined]
    return app


def _one(body: bytes):
    async def receive():
        return {"type": "http.request", "body": body, "more_body": False}
    return receive


def _drive(middleware: RequestLimits, receive, path: str, *, method: str = "POST",
           headers: list[tuple[bytes, bytes]] | None = None):
    sent: list[dict] = []

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": method, "path": path, "query_string": b"",
             "headers": headers or [], "http_version": "1.1", "scheme": "http",
             "server": ("test", 80), "client": ("test", 1), "root_path": ""}
    asyncio.run(middleware(scope, receive, send))
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, body, middleware.app.called  # type: ignore[attr-defined]


def _drive_body(payload: bytes, path: str, *, chunk: int | None = None, method: str = "POST",
                settings: Settings | None = None):
    """Send ``payload`` without Content-Length, in chunks of ``chunk`` bytes."""
    size = chunk or max(1, len(payload))
    parts = [payload[i:i + size] for i in range(0, len(payload), size)] or [b""]
    queue = list(parts)

    async def receive():
        part = queue.pop(0)
        return {"type": "http.request", "body": part, "more_body": bool(queue)}

    return _drive(RequestLimits(_echo_app(), settings or _settings()), receive, path,
                  method=method, headers=[(b"content-type", b"application/json")])
