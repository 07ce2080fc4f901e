"""``GET /metrics`` (hub/ops/metrics.py): the counters after real traffic through the session
hub, labelled by route template — never the path asked (it carries plates) — and who may scrape.

Expected values come from the traffic the test makes: counters are compared before and after,
since the session hub serves other modules too."""

from __future__ import annotations

import json
import random
import uuid

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from starlette.datastructures import Headers

from hub.ops.metrics import scrape_allowed
from tests.factories import lead

SEARCH = "/api/v1/search"
LEADS = "/api/v1/leads"
ENTITY_NETWORK = "/api/v1/entities/{kind}/{key}/network"
J = {"justification": "Contrôle de supervision PV 2026/77"}


def siv_plate() -> str:
    """A fresh SIV plate (letters without I, O, U), so no earlier test's counts mix in."""
    letters = "ABCDEFGHJKLMNPQRSTVWXYZ"
    rnd = random.Random(uuid.uuid4().int)
    pick = lambda n: "".join(rnd.choice(letters) for _ in range(n))  # noqa: E731
    return f"{pick(2)}-{rnd.randint(100, 999)}-{pick(2)}"


def loopback(client: TestClient) -> TestClient:
    """The session hub's app, seen from a loopback peer (its lifespan already runs)."""
    return TestClient(client.app, client=("127.0.0.1", 50123))


def sample(text: str, name: str, **labels: str) -> float:
    """One sample's value in the exposition text (0 when absent), read with the client's own
    parser (route templates hold braces)."""
    for family in text_string_to_metric_families(text):
        for found in family.samples:
            if found.name == name and found.labels == labels:
                return found.value
    return 0.0


def test_metrics_count_requests_by_route_template_and_ingest_by_outcome(client, make_user, make_connector):
    scraper = loopback(client)
    before = scraper.get("/metrics")
    assert before.status_code == 200 and before.headers["content-type"].startswith("text/plain")
    analyst = make_user("police", "analyst")
    plate = siv_plate()
    pusher = make_connector("police")
    pushed = pusher.push([lead(vehicles=[{"plate": plate}]), lead(), {"source_agency": "police"}])
    assert pushed.status_code == 200 and pushed.json()["rejected"] == 1
    for _ in range(3):
        assert client.get(SEARCH, params={"kind": "plate", "q": plate, **J}, headers=analyst).status_code == 200
    network = client.get(f"/api/v1/entities/vehicle/{plate}/network", params=J, headers=analyst)
    assert client.get(SEARCH, params={"kind": "plate", "q": plate}, headers=analyst).status_code == 400
    after = scraper.get("/metrics")
    text = after.text

    def delta(name: str, **labels: str) -> float:
        return sample(text, name, **labels) - sample(before.text, name, **labels)

    assert delta("crosshub_http_requests_total", method="GET", route=SEARCH, status="200") == 3
    assert delta("crosshub_http_requests_total", method="GET", route=SEARCH, status="400") == 1
    assert delta("crosshub_http_requests_total", method="POST", route=LEADS, status="200") == 1
    assert delta("crosshub_http_request_duration_seconds_count", method="GET", route=SEARCH) == 4
    assert delta("crosshub_ingest_leads_total", agency="police", outcome="created") == 2
    assert delta("crosshub_ingest_leads_total", agency="police", outcome="rejected") == 1
    assert delta("crosshub_ingest_batch_seconds_count", agency="police") == 1
    # The entity page counted under its template; the plate is nowhere in the exposition.
    assert delta("crosshub_http_requests_total", method="GET", route=ENTITY_NETWORK,
                 status=str(network.status_code)) == 1, [
        line for line in text.splitlines() if "entities" in line]
    raw = after.content
    for spelling in (plate, plate.replace("-", ""), plate.lower()):
        assert spelling.encode() not in raw


def test_connector_gauges_come_from_the_run_records(client, make_connector):
    pusher = make_connector("douanes")
    run = {"connector": pusher.name, "agency": "douanes", "started_at": "2026-12-07T08:00:00+00:00",
           "finished_at": "2026-12-07T08:00:05+00:00", "status": "ok", "quarantine_size": 7,
           "expected_every_s": 300}
    body = json.dumps(run).encode()
    path = f"/api/v1/connectors/{pusher.name}/runs"
    assert client.post(path, content=body, headers=pusher.signed_headers(body, path)).status_code == 204
    text = loopback(client).get("/metrics").text
    assert sample(text, "crosshub_connector_quarantine", connector=pusher.name, agency="douanes") == 7
    lag = sample(text, "crosshub_connector_lag_seconds", connector=pusher.name, agency="douanes")
    assert 0 <= lag < 120  # received moments ago, on the hub's clock


def test_a_scrape_from_elsewhere_needs_the_token(client):
    refused = client.get("/metrics")  # the test client's peer is not loopback
    assert refused.status_code == 401
    assert b"crosshub_" not in refused.content


@pytest.mark.parametrize(("peer", "headers", "token", "behind_proxy", "allowed"), [
    ("127.0.0.1", {}, None, False, True),
    ("::1", {}, None, False, True),
    ("10.0.0.8", {}, None, False, False),  # not loopback, no token configured
    ("127.0.0.1", {"x-forwarded-for": "203.0.113.9"}, None, False, False),  # through a proxy
    ("127.0.0.1", {}, None, True, False),  # the hub has trusted proxies: loopback means nothing
    ("10.0.0.8", {"authorization": "Bearer s3cret-scrape"}, "s3cret-scrape", True, True),
    ("127.0.0.1", {"authorization": "Bearer wrong"}, "s3cret-scrape", False, False),  # a token is set: it is required
    ("127.0.0.1", {}, "s3cret-scrape", False, False),
    ("10.0.0.8", {"authorization": "Basic s3cret-scrape"}, "s3cret-scrape", False, False),
])
def test_who_may_scrape(peer, headers, token, behind_proxy, allowed):
    assert scrape_allowed(peer, Headers(headers), token, behind_proxy=behind_proxy) is allowed
