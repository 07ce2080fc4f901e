"""Read your writes across hubs (issue 13, item 4): bookmarks chained within a process by the graph
handle, carried between processes by the ``X-CrossHub-Bookmarks`` header (hub/bookmarks.py).

"Another process" is a second, separate driver (its own pool and bookmark manager): what a second
hub has. On the test's single Neo4j server every read would see a committed write anyway, so the
tests also prove the bookmarks really reach the server: a bookmark the server does not know is
refused by it, which it could not be if it were not sent.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import neo4j
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from graph import identity
from graph.driver import open_driver
from graph.handle import Graph, causal_scope, current_scope
from hub.app import create_app
from hub.bookmarks import HEADER, MAX_HEADER_CHARS, codec_for, install_bookmarks
from hub.contract.signing import generate_keypair, key_id_of, load_private_key, load_public_key_pem, sign_request
from hub.settings import Settings
from tests.factories import lead

PROBE = "BookmarkProbe"


@pytest.fixture
def other_driver(settings: Settings) -> Iterator[neo4j.Driver]:
    drv = open_driver(settings.graph_config)
    try:
        yield drv
    finally:
        drv.close()


def test_a_write_in_one_driver_is_read_by_another_after_its_bookmarks(driver, other_driver, settings) -> None:
    db = settings.neo4j_database
    a, b = Graph(driver, db), Graph(other_driver, db)
    probe = uuid.uuid4().hex
    with causal_scope() as scope:
        a.query(f"CREATE (:{PROBE} {{id: $id}})", id=probe)
        a.query(f"MATCH (p:{PROBE} {{id: $id}}) SET p.seen = true", id=probe)  # chained after the first
    written = scope.bookmarks()
    assert scope.wrote
    # Two writes chained one after the other fold to the bookmark of the last.
    assert len(written) == 1
    assert current_scope() is None
    with causal_scope(after=written) as reader:
        rows = b.query(f"MATCH (p:{PROBE} {{id: $id}}) RETURN p.seen AS seen", id=probe, read_=True)
        via_read = b.read(lambda tx: tx.run(f"MATCH (p:{PROBE} {{id: $id}}) RETURN count(p) AS n",
                                             id=probe).single()["n"])
    assert [r["seen"] for r in rows] == [True]
    assert via_read == 1
    assert not reader.wrote and reader.bookmarks() == frozenset()  # reads hand on nothing
    a.query(f"MATCH (p:{PROBE} {{id: $id}}) DELETE p", id=probe)


def test_the_scope_bookmarks_reach_the_server(other_driver, settings) -> None:
    # A bookmark this server never issued: the server refuses the transaction, which proves the
    # scope's bookmarks are sent with every kind of transaction the handle runs.
    b = Graph(other_driver, settings.neo4j_database)
    with causal_scope(after={"FB:not-a-bookmark"}):
        for run in (lambda: b.query("RETURN 1", read_=True),
                    lambda: b.read(lambda tx: tx.run("RETURN 1").consume()),
                    lambda: b.write(lambda tx: tx.run("RETURN 1").consume())):
            with pytest.raises(neo4j.exceptions.ClientError) as refused:
                run()
            assert "Bookmark" in (refused.value.code or "")
    b.query("RETURN 1", read_=True)  # outside the scope, nothing extra is waited for


# --- over HTTP: two hubs, one graph ----------------------------------------------------------


def _hub_app(settings: Settings, data_dir: Path, shared_keys: Path) -> FastAPI:
    # Each hub its own data dir (audit trail), the keys directory shared between them, as the
    # README asks of several hosts (a symlink stands for the shared mount).
    data_dir.mkdir()
    (data_dir / "keys").symlink_to(shared_keys, target_is_directory=True)
    app = create_app(settings.model_copy(update={"data_dir": data_dir, "hub_jobs_enabled": False}))
    install_bookmarks(app)
    install_bookmarks(app)  # idempotent: create_app may call it too
    return app


@pytest.fixture
def two_hubs(settings: Settings, tmp_path: Path) -> Iterator[tuple[TestClient, TestClient, Settings]]:
    keys = tmp_path / "shared-keys"
    keys.mkdir(mode=0o700)
    with TestClient(_hub_app(settings, tmp_path / "hub-a", keys)) as a, \
            TestClient(_hub_app(settings, tmp_path / "hub-b", keys)) as b:
        yield a, b, settings.model_copy(update={"data_dir": tmp_path / "hub-a"})


def test_a_lead_acknowledged_by_hub_a_is_read_through_hub_b_with_the_header(two_hubs, driver, tmp_path) -> None:
    hub_a, hub_b, settings = two_hubs
    g = Graph(driver, settings.neo4j_database)
    name = f"police-{uuid.uuid4().hex[:6]}"
    user = identity.upsert_user(g, agency="police", role="connector", name=name)
    token = identity.issue_token(g, user.user_id).token
    pem = generate_keypair(tmp_path / "c.pem")
    identity.register_connector_key(g, identity.ConnectorKey(
        key_id=key_id_of(load_public_key_pem(pem)), connector=name, agency="police", public_key_pem=pem))
    analyst = identity.upsert_user(g, agency="police", role="analyst", name=f"a-{uuid.uuid4().hex[:6]}")
    reader = {"Authorization": f"Bearer {identity.issue_token(g, analyst.user_id).token}"}

    body = json.dumps({"leads": [lead()]}).encode()
    headers = sign_request(load_private_key(tmp_path / "c.pem"), "POST", "/api/v1/leads", body)
    acked = hub_a.post("/api/v1/leads", content=body, headers={
        **headers, "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    assert acked.status_code == 200, acked.text
    carried = acked.headers[HEADER]
    assert len(carried) <= MAX_HEADER_CHARS
    lead_id = acked.json()["results"][0]["lead_id"]

    seen = hub_b.get(f"/api/v1/leads/{lead_id}?justification=PV 2025/77",
                     headers={**reader, HEADER: carried})
    assert seen.status_code == 200, seen.text
    assert seen.json()["lead_id"] == lead_id
    # A read writes nothing to the graph: no bookmark to hand on.
    assert HEADER not in seen.headers
    # The header made by hub A opens at hub B (one shared keys directory): the same bookmarks.
    assert codec_for(settings.keys_dir).open(carried)


# Forged: well-formed base64url of random bytes (fixed, so every xdist worker collects the same).
_FORGED = base64.urlsafe_b64encode(bytes(range(7, 55))).rstrip(b"=").decode()


@pytest.mark.parametrize("value, status, reason", [
    ("pas du base64 !", 400, "base64url attendu"),
    (_FORGED, 400, "non émis par ce hub"),
    ("A" * (MAX_HEADER_CHARS + 1), 431, "trop long"),
], ids=["malformed", "forged", "oversized"])
def test_an_invalid_or_oversized_header_is_refused_naming_it(two_hubs, value, status, reason) -> None:
    hub_a, _, _ = two_hubs
    answer = hub_a.get("/api/v1/leads/L-00000000-0000-0000-0000-000000000000?justification=PV 1",
                       headers={HEADER: value})
    assert answer.status_code == status, answer.text
    data = answer.json()
    assert HEADER in data["message"] and reason in data["message"]
    assert data["details"] == [{"field": HEADER, "reason": data["details"][0]["reason"]}]
    assert reason in data["details"][0]["reason"]


def test_an_altered_header_is_refused(two_hubs, tmp_path) -> None:
    hub_a, _, settings = two_hubs
    good = codec_for(settings.keys_dir).seal({"FB:any"})
    raw = bytearray(base64.urlsafe_b64decode(good + "=" * (-len(good) % 4)))
    raw[-3] ^= 0x01  # one bit of the bookmark list
    altered = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    answer = hub_a.get("/api/v1/leads/L-00000000-0000-0000-0000-000000000000?justification=PV 1",
                       headers={HEADER: altered})
    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid_bookmarks"


def test_a_sealed_bookmark_the_graph_does_not_know_is_refused_naming_the_header(two_hubs, driver) -> None:
    # Made by the hub's key but unknown to this database (a graph restored from an older
    # backup): the server refuses it, and the caller reads why, not a 500.
    _, hub_b, settings = two_hubs
    g = Graph(driver, settings.neo4j_database)
    analyst = identity.upsert_user(g, agency="police", role="analyst", name=f"a-{uuid.uuid4().hex[:6]}")
    token = identity.issue_token(g, analyst.user_id).token
    stale = codec_for(settings.keys_dir).seal({"FB:not-a-bookmark"})
    answer = hub_b.get("/api/v1/leads/L-00000000-0000-0000-0000-000000000000?justification=PV 1",
                       headers={"Authorization": f"Bearer {token}", HEADER: stale})
    assert answer.status_code == 400, answer.text
    assert HEADER in answer.json()["message"]
    assert answer.json()["details"][0]["field"] == HEADER
