"""Live notifications (issue 12, item 10): ``GET /api/v1/notifications/stream``, server-sent
events fed from the notifications stored in the graph, one cursor per subscriber.

Two hub processes share the session's Neo4j: the session app (``client``) makes the
notifications, a second hub served by uvicorn on loopback (its own data directory) streams
them — a notification made by one process reaches a subscriber of the other. Expected outcomes
come from what the stream means: what follows the cursor arrives, what precedes it does not;
the visibility is the list's (one's own, one's agency's for the roles holding
``notifications.agency``), so another agency never receives a byte of it (raw bytes); no
credentials, 401; an open stream does not hold the server's shutdown beyond its bound.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
import uvicorn

from hub.app import create_app
from hub.routers.disclosures import STREAM_MAX_SECONDS
from tests.factories import lead

EVENT_STREAM = {"Accept": "text/event-stream"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    """A hub served by uvicorn in a thread: its URL, and how to stop it."""

    def __init__(self, settings) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1",
                                                    port=self.port, log_level="warning",
                                                    lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, name="stream-hub", daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 90
        while not self.server.started:
            assert self.thread.is_alive() and time.monotonic() < deadline, "the hub did not start"
            time.sleep(0.05)

    def stop(self, timeout: float) -> float:
        """Ask the server to exit (as the web fixtures do); the seconds it took."""
        started = time.monotonic()
        self.server.should_exit = True
        self.thread.join(timeout)
        return time.monotonic() - started


@pytest.fixture(scope="module")
def other_hub(hub_settings, tmp_path_factory) -> Iterator[Served]:
    served = Served(hub_settings.model_copy(update={
        "data_dir": tmp_path_factory.mktemp("stream-hub"), "hub_jobs_enabled": False}))
    try:
        yield served
    finally:
        served.stop(STREAM_MAX_SECONDS + 10)


@dataclass
class Subscriber:
    """One open stream, read in a thread: the raw bytes as they came, and the parsed events."""

    url: str
    headers: dict[str, str]
    params: dict[str, str] = field(default_factory=dict)
    raw: bytearray = field(default_factory=bytearray)
    status: int | None = None
    done: threading.Event = field(default_factory=threading.Event)
    opened: threading.Event = field(default_factory=threading.Event)

    def start(self) -> Subscriber:
        threading.Thread(target=self._run, daemon=True).start()
        assert self.opened.wait(30), "the stream did not open"
        return self

    def _run(self) -> None:
        try:
            with httpx.stream("GET", f"{self.url}/api/v1/notifications/stream", params=self.params,
                              headers={**EVENT_STREAM, **self.headers}, timeout=60) as r:
                self.status = r.status_code
                for chunk in r.iter_raw():
                    self.raw.extend(chunk)
                    if b"\n\n" in self.raw:
                        self.opened.set()
        finally:
            self.opened.set()
            self.done.set()

    def events(self) -> list[dict[str, str]]:
        out = []
        for block in bytes(self.raw).decode().split("\n\n"):
            fields: dict[str, str] = {}
            for line in block.split("\n"):
                if line and not line.startswith(":"):
                    name, _, value = line.partition(": ")
                    fields[name] = value
            if fields:
                out.append(fields)
        return out

    def cursor(self) -> int:
        return int(self.events()[0]["id"])

    def notifications(self) -> list[dict]:
        return [json.loads(e["data"]) for e in self.events() if e.get("event") == "notification"]

    def wait_for(self, predicate, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while not predicate(self):
            assert time.monotonic() < deadline, bytes(self.raw).decode()
            assert not self.done.is_set(), f"stream ended early: {bytes(self.raw).decode()}"
            time.sleep(0.1)


@pytest.fixture
def police_h2_leads(make_connector) -> list[str]:
    """Two police H2 leads (a gendarmerie analyst knows of them as hits only)."""
    plate = f"ZZ-{uuid.uuid4().int % 1000:03d}-QQ"
    pushed = make_connector("police").push([
        lead(source_ref=f"PN-{uuid.uuid4().hex[:8]}", handling_code="H2", vehicles=[{"plate": plate}])
        for _ in range(2)])
    assert pushed.status_code == 200 and pushed.json()["rejected"] == 0, pushed.text
    return [r["lead_id"] for r in pushed.json()["results"]]


def _request(client, headers, lead_id: str) -> dict:
    made = client.post("/api/v1/disclosure-requests", headers=headers,
                       json={"lead_id": lead_id, "justification": f"PV 2026/{uuid.uuid4().hex[:6]}"})
    assert made.status_code == 201, made.text
    return made.json()


def test_what_follows_the_cursor_arrives_and_what_precedes_it_does_not(
        client, other_hub, make_user, police_h2_leads):
    requester = make_user("gendarmerie", "analyst")
    coordinator = make_user("police", "coordinator")
    first, second = police_h2_leads
    before = _request(client, requester, first)  # notified to the police before the stream opens

    stream = Subscriber(other_hub.url, coordinator, {"max_seconds": "20"}).start()
    assert stream.status == 200
    cursor = stream.cursor()
    after = _request(client, requester, second)  # made by the other process, after the cursor
    stream.wait_for(lambda s: any(n["payload"].get("request_id") == after["request_id"]
                                  for n in s.notifications()))
    arrived = next(n for n in stream.notifications()
                   if n["payload"].get("request_id") == after["request_id"])
    assert arrived["kind"] == "disclosure_requested" and arrived["agency"] == "police"
    assert arrived["payload"]["lead_id"] == second
    # Its event id is its cursor: past the one the stream started from.
    ids = [int(e["id"]) for e in stream.events() if e.get("event") == "notification"]
    assert ids and all(i > cursor for i in ids) and ids == sorted(ids)
    # What was made before the cursor never came.
    assert before["request_id"].encode() not in stream.raw

    # Resuming from a cursor taken before the first request delivers both, in order (as an
    # EventSource reconnecting with Last-Event-ID, and with ?since=).
    with httpx.Client(base_url=other_hub.url, headers=coordinator, timeout=30) as c:
        for how in ({"headers": {"Last-Event-ID": str(cursor - 1)}}, {"params": {"since": cursor - 1}}):
            r = c.get("/api/v1/notifications/stream", **how)
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
            assert r.content.index(before["request_id"].encode()) < r.content.index(
                after["request_id"].encode())


def test_another_agency_never_receives_it(client, other_hub, make_user, police_h2_leads):
    requester = make_user("gendarmerie", "analyst")
    police_analyst = make_user("police", "analyst")
    customs_analyst = make_user("douanes", "analyst")
    police_stream = Subscriber(other_hub.url, police_analyst, {"max_seconds": "20"}).start()
    customs_stream = Subscriber(other_hub.url, customs_analyst, {"max_seconds": "20"}).start()
    made = _request(client, requester, police_h2_leads[0])
    police_stream.wait_for(lambda s: made["request_id"].encode() in s.raw)
    # The customs analyst's stream stays open past the moment the police one had it.
    customs_stream.wait_for(lambda s: len(s.events()) >= 1)
    time.sleep(3)  # two polling rounds of the customs stream after the police one received it
    assert not customs_stream.done.is_set()
    raw = bytes(customs_stream.raw)
    for secret in (made["request_id"], police_h2_leads[0], made["justification"]):
        assert secret.encode() not in raw
    assert b"event: notification" not in raw


def test_the_requester_hears_of_the_decision(client, other_hub, make_user, police_h2_leads):
    requester = make_user("gendarmerie", "analyst")
    coordinator = make_user("police", "coordinator", second_factor=True)  # deciding needs it
    made = _request(client, requester, police_h2_leads[0])
    stream = Subscriber(other_hub.url, requester, {"max_seconds": "20"}).start()
    declined = client.post(f"/api/v1/disclosure-requests/{made['request_id']}/decline",
                           headers=coordinator, json={"reason": "procédure en cours"})
    assert declined.status_code == 200, declined.text
    stream.wait_for(lambda s: any(n["kind"] == "disclosure_declined" for n in s.notifications()))
    note = next(n for n in stream.notifications() if n["kind"] == "disclosure_declined")
    assert note["payload"]["request_id"] == made["request_id"] and "procédure en cours" in note["message"]
    # The agency-wide notice of the request went to the police, not to the requester.
    assert all(n["kind"] != "disclosure_requested" for n in stream.notifications())


def test_without_credentials_the_stream_is_refused(other_hub):
    r = httpx.get(f"{other_hub.url}/api/v1/notifications/stream", headers=EVENT_STREAM, timeout=10)
    assert r.status_code == 401
    assert r.json()["code"] == "not_authenticated"
    assert b"event:" not in r.content


def test_a_client_that_does_not_ask_for_a_stream_gets_what_is_pending_at_once(other_hub, make_user):
    user = make_user("police", "analyst")
    started = time.monotonic()
    r = httpx.get(f"{other_hub.url}/api/v1/notifications/stream", headers=user, timeout=30)
    assert r.status_code == 200
    assert time.monotonic() - started < 5  # not held open for max_seconds
    assert r.content.startswith(b"id: ") and b"retry: " in r.content


def test_an_open_stream_does_not_hold_the_server_shutdown(hub_settings, tmp_path_factory, make_user):
    served = Served(hub_settings.model_copy(update={
        "data_dir": tmp_path_factory.mktemp("stream-shutdown"), "hub_jobs_enabled": False}))
    stream = Subscriber(served.url, make_user("police", "coordinator")).start()  # default bound
    took = served.stop(STREAM_MAX_SECONDS + 10)
    assert not served.thread.is_alive(), "the server is still running"
    assert took <= STREAM_MAX_SECONDS + 5, took
    # The stream ended cleanly (the client reconnects, with its cursor, to whoever serves next).
    assert stream.done.wait(5) and stream.status == 200
