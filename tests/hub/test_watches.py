"""Watchlists (issue 14, part 1) through the real hub: the session app (``client``) with its own
triage loop; leads pushed signed, as a connector does.

Expected outcomes come from the policy text (tests/oracles.py: what each gendarmerie role may
know of a police lead under each marking), never from the code's output: full or redacted → a
notification naming the lead; hit → a notification without the lead id, narrative or source
reference (raw bytes); none → nothing at all. Following a plate nobody holds answers like a
known one, byte for byte once ids and instants are set aside.
"""

from __future__ import annotations

import email
import email.policy
import json
import re
import secrets
import time
from datetime import UTC, datetime, timedelta

import pytest

from graph import grants as graph_grants
from graph import sessions as graph_sessions
from graph.grants import NewGuestGrant
from graph.handle import Graph
from graph.leads import TRIAGE_PENDING
from hub.jobs.triage import triage_pending_once
from tests.factories import acked_ids, canary_tag, lead
from tests.oracles import GENDARMERIE_SEES_POLICE_LEAD, MARKINGS

WHY = "PV 2026/201 — veille"
# "Within seconds": a second or two on an idle machine; bounded generously for a loaded CI
# runner (the whole triage of the batch runs inside this bound, not only the watch matching).
DEADLINE_S = 45.0

# Each test starts from an empty graph: poll_hits runs the hub's triage over *every* pending lead
# of the worker's graph, and leads other modules left untriaged (all on the factories' one place)
# made one batch cost minutes (CI: 226 s, then Neo4j's transaction memory pool ran out).
pytestmark = pytest.mark.usefixtures("clean_graph")


def random_plate() -> str:
    letters = "ABCDEFGHJKLMNPQRTVWXYZ"  # SIV letters, S left out (no SS block)
    pick = lambda n: "".join(secrets.choice(letters) for _ in range(n))  # noqa: E731
    return f"{pick(2)}-{secrets.randbelow(900) + 100}-{pick(2)}"


def other_spelling(plate: str) -> str:
    """``AB-123-CD`` as an officer might type it: ``ab 123cd``."""
    left, digits, right = plate.split("-")
    return f"{left.lower()} {digits}{right.lower()}"


@pytest.fixture
def graph(driver, hub_settings) -> Graph:
    return Graph(driver, hub_settings.neo4j_database)


def watch(client, headers, plate: str, why: str = WHY):
    return client.post("/api/v1/watches", headers=headers,
                       json={"entity_kind": "vehicle", "value": plate, "justification": why})


def wait_triaged(client, graph: Graph, lead_ids: list[str]) -> None:
    """Bounded wait until the hub's triage has run on these leads. The hub's own loop may not
    hold the triage lease yet (a previous session's holder lapses after its TTL), so the test
    also calls the loop's body, as tests/hub/test_lead_clashes.py does: claims make it safe."""
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        triage_pending_once(client.app)
        rows = graph.query(f"UNWIND $ids AS id MATCH (l:Lead {{lead_id: id}}) "
                           f"WHERE l:{TRIAGE_PENDING} RETURN count(l) AS n", ids=lead_ids)
        if rows[0]["n"] == 0:
            return
        time.sleep(0.1)
    pytest.fail("triage did not run within the deadline")


def watch_hits(client, headers, since: int = 0) -> tuple[bytes, list[dict]]:
    """The caller's watch notifications after ``since``, through the notification stream (a
    client that does not ask for an event stream gets what is pending, then the end)."""
    r = client.get("/api/v1/notifications/stream", headers=headers, params={"since": since})
    assert r.status_code == 200, r.text
    events = [json.loads(line[len("data: "):]) for line in r.text.splitlines()
              if line.startswith("data: ")]
    return r.content, [e for e in events if e["kind"] == "watch_hit"]


def poll_hits(client, headers, expected: int) -> tuple[bytes, list[dict]]:
    deadline = time.monotonic() + DEADLINE_S
    while True:
        triage_pending_once(client.app)
        raw, hits = watch_hits(client, headers)
        if len(hits) >= expected or time.monotonic() > deadline:
            return raw, hits
        time.sleep(0.2)


def test_watcher_told_per_policy_of_a_plate_written_another_way(client, make_user,
                                                                make_connector, graph):
    police = make_connector("police")
    watchers = {role: make_user("gendarmerie", role) for role in ("analyst", "coordinator")}
    plates = {m: random_plate() for m in MARKINGS}
    for headers in watchers.values():
        for plate in plates.values():
            assert watch(client, headers, other_spelling(plate)).status_code == 201
    canaries = {m: canary_tag() for m in MARKINGS}
    leads = [lead(source_ref=f"PN-W-{canaries[m]}", vehicles=[{"plate": plates[m]}],
                  narrative=f"Véhicule aperçu, marque {canaries[m]}.", **marking)
             for m, marking in MARKINGS.items()]
    r = police.push(leads)
    assert r.status_code == 200 and r.json()["rejected"] == 0, r.text
    ids = acked_ids(r)
    lead_of = {m: ids[f"PN-W-{canaries[m]}"] for m in MARKINGS}

    for role, headers in watchers.items():
        expected = GENDARMERIE_SEES_POLICE_LEAD[role]
        told = sum(1 for m in MARKINGS if expected[m] != "none")
        raw, hits = poll_hits(client, headers, told)
        assert len(hits) >= told, (role, told, hits)  # within the deadline
        wait_triaged(client, graph, list(lead_of.values()))
        raw, hits = watch_hits(client, headers)  # everything the batch will ever tell them
        by_plate = {m: [h for h in hits if plates[m] in h["message"]] for m in MARKINGS}
        for m, outcome in expected.items():
            got = by_plate[m]
            if outcome == "none":
                assert got == [], (role, m)
                assert lead_of[m].encode() not in raw
                continue
            assert len(got) == 1, (role, m, got)
            payload = got[0]["payload"]
            if outcome == "hit":
                assert payload["level"] == "hit" and payload["handle"].startswith("hit_")
                assert "lead_id" not in payload
                for secret in (lead_of[m], canaries[m]):
                    assert secret.encode() not in raw, (role, m)
            else:
                assert payload["level"] == outcome and payload["lead_id"] == lead_of[m]
            assert canaries[m].encode() not in raw  # no narrative or source_ref, ever

    # A new version of a lead the coordinator reads in full tells them again.
    coordinator = watchers["coordinator"]
    before = len(watch_hits(client, coordinator)[1])
    r = police.push([{**leads[0], "version": 2, "narrative": "Mise à jour du signalement."}])
    assert r.json()["rejected"] == 0, r.text
    _, hits = poll_hits(client, coordinator, before + 1)
    assert [h["payload"]["version"] for h in hits if h["payload"].get("lead_id") == lead_of["H0"]] \
        == ["1", "2"]

    # The page's list shows each watch with what it told (the analyst: a hit on H2, no id).
    listing = client.get("/api/v1/watches", headers=watchers["analyst"],
                         params={"justification": WHY})
    assert listing.status_code == 200, listing.text
    assert lead_of["H2"].encode() not in listing.content
    assert canaries["H2"].encode() not in listing.content
    told_plates = {w["target"] for w in listing.json() if w["latest_hits"]}
    assert told_plates == {f"vehicle:{plates[m]}" for m in ("H0", "H1", "H2")}


_VOLATILE = re.compile(rb'"(watch_id|created_at)":"[^"]*"')


def test_following_an_unknown_plate_answers_like_a_known_one(client, make_user, make_connector):
    police = make_connector("police")
    known, unknown = random_plate(), random_plate()
    r = police.push([lead(vehicles=[{"plate": known}], handling_code="H0")])
    assert r.json()["rejected"] == 0
    headers = make_user("gendarmerie", "analyst")
    a, b = watch(client, headers, other_spelling(known)), watch(client, headers, other_spelling(unknown))
    assert a.status_code == b.status_code == 201
    # The date, and the causal-consistency token every write hands back (hub/bookmarks.py).
    same = lambda r: {k: v for k, v in r.headers.items()  # noqa: E731
                      if k not in ("date", "x-crosshub-bookmarks")}
    assert same(a) == same(b)
    assert _VOLATILE.sub(b"", a.content).replace(known.encode(), b"PLATE") == \
        _VOLATILE.sub(b"", b.content).replace(unknown.encode(), b"PLATE")


def test_bad_input_names_the_field(client, make_user):
    headers = make_user("gendarmerie", "analyst")
    r = watch(client, headers, "pas une plaque")
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "value", r.text
    r = client.post("/api/v1/watches", headers=headers,
                    json={"entity_kind": "vehicle", "value": random_plate()})
    assert r.status_code == 400 and "justification" in r.text
    assert client.get("/api/v1/watches", headers=headers).status_code == 400


@pytest.mark.parametrize("role", ["auditor", "administrator", "connector"])
def test_roles_without_the_right_may_not_watch(client, make_user, role):
    assert watch(client, make_user("gendarmerie", role), random_plate()).status_code == 403


def test_a_watch_ends_with_its_owners_rights(client, make_user, make_connector, graph):
    police = make_connector("police")
    plate = random_plate()
    tag = canary_tag(8).lower()
    analyst = make_user("gendarmerie", "analyst", name=f"analyste-{tag}")
    guest = make_user("gendarmerie", "guest_referent", name=f"invite-{tag}")
    analyst_id, guest_id = f"gendarmerie:analyste-{tag}", f"gendarmerie:invite-{tag}"
    assert watch(client, guest, plate).status_code == 403  # no live grant: no watch
    now = datetime.now(UTC)
    grant = graph_grants.create_guest_grant(graph, NewGuestGrant(
        grantee_user_id=guest_id, grantee_name="invité", grantee_agency="gendarmerie",
        lead_ids=[], entity_keys=[f"vehicle:{plate}"], valid_from=now - timedelta(minutes=1),
        valid_until=now + timedelta(days=1), granted_by="test", granted_by_name="test",
        reason="réunion de la CROSS"), now)
    r = watch(client, guest, plate)
    assert r.status_code == 201, r.text
    r = watch(client, analyst, plate)
    assert r.status_code == 201, r.text
    # The guest's grant ends (revoked by the chief); the analyst's account is disabled.
    graph_grants.revoke_guest_grant(graph, grant.grant_id, revoked_by="test",
                                    revoked_by_name="test", reason="fin de mission",
                                    now=datetime.now(UTC))
    graph_sessions.set_user_disabled(graph, analyst_id, True)
    r = police.push([lead(vehicles=[{"plate": plate}], handling_code="H0")])
    wait_triaged(client, graph, list(acked_ids(r).values()))
    rows = graph.query("MATCH (w:Watch) WHERE w.user_id IN $ids "
                       "RETURN w.user_id AS uid, w.ended_at IS NOT NULL AS ended, "
                       "w.end_reason AS reason, w.match_key AS key", ids=[guest_id, analyst_id])
    assert {r["uid"]: (r["ended"], r["reason"], r["key"]) for r in rows} == {
        guest_id: (True, "grant_ended", None), analyst_id: (True, "account_disabled", None)}
    hits = graph.query("MATCH (n:Notification {kind: 'watch_hit'}) WHERE n.user_id IN $ids "
                       "RETURN count(n) AS n", ids=[guest_id, analyst_id])
    assert hits[0]["n"] == 0


# --- outbound delivery and the digest ------------------------------------------------------------


class _Mailbox:
    """aiosmtpd handler: keeps every message the relay receives."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 — aiosmtpd's name
        self.messages.append(envelope.original_content or envelope.content)
        return "250 OK"


@pytest.fixture
def relays():
    """A real SMTP server (aiosmtpd) and a real HTTP webhook receiver, both on loopback."""
    import socket
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from aiosmtpd.controller import Controller

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        smtp_port = s.getsockname()[1]
    mailbox = _Mailbox()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    posted: list[bytes] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 — http.server's name
            posted.append(self.rfile.read(int(self.headers.get("content-length", 0))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    web = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=web.serve_forever, daemon=True).start()
    try:
        yield smtp_port, mailbox.messages, f"http://127.0.0.1:{web.server_port}/hook", posted
    finally:
        smtp.stop()
        web.shutdown()


def test_outbound_signal_and_digest_carry_no_lead_content(client, make_user, make_connector,
                                                          graph, relays):
    smtp_port, mails, hook_url, posted = relays
    hub_url = "https://hub.cross-25.test"
    # The session app with a relay, an allow-list and its public address, for this test only
    # (pytest's monkeypatch cannot restore an attribute of Starlette's State).
    kept = client.app.state.settings
    client.app.state.settings = kept.model_copy(update={
        "smtp_host": "127.0.0.1", "smtp_port": smtp_port, "hub_public_url": hub_url,
        "watch_webhook_hosts": ["127.0.0.1"]})
    try:
        _outbound_and_digest(client, make_user, make_connector, graph, mails, hook_url, posted,
                             hub_url)
    finally:
        client.app.state.settings = kept


def _outbound_and_digest(client, make_user, make_connector, graph, mails, hook_url, posted,
                         hub_url):
    from hub.jobs.watch_delivery import run_digest
    from policies.watches import OUTBOUND_TEXT

    tag = canary_tag(8).lower()
    headers = make_user("gendarmerie", "coordinator", name=f"chef-{tag}")
    plate = random_plate()
    assert watch(client, headers, plate).status_code == 201
    # Where a webhook may point: on the allow-list only, https unless on loopback.
    for bad in ("https://hooks.ailleurs.test/x", "http://10.1.2.3/x"):
        r = client.put("/api/v1/watch-delivery", headers=headers, json={"webhook_url": bad})
        assert r.status_code == 422 and r.json()["details"][0]["field"] == "webhook_url", r.text
    r = client.put("/api/v1/watch-delivery", headers=headers,
                   json={"webhook_url": hook_url, "email": f"veille-{tag}@example.fr"})
    assert r.status_code == 200, r.text

    canary = canary_tag()
    r = make_connector("police").push([lead(source_ref=f"PN-O-{canary}", handling_code="H0",
                                            vehicles=[{"plate": plate}],
                                            narrative=f"Livraison observée, code {canary}.")])
    lead_id = acked_ids(r)[f"PN-O-{canary}"]
    deadline = time.monotonic() + DEADLINE_S
    while not (mails and posted) and time.monotonic() < deadline:
        triage_pending_once(client.app)
        time.sleep(0.2)
    assert mails and posted, (mails, posted)
    mail = email.message_from_bytes(mails[0], policy=email.policy.default)
    body = mail.get_body().get_content()  # decoded: a base64 part could hide a canary
    for text in (body, str(mail["Subject"]), posted[0].decode("utf-8")):
        for secret in (canary, lead_id, plate, "PN-O-"):
            assert secret not in text
    assert body.replace("\r\n", "\n") == f"{OUTBOUND_TEXT}\n\n{hub_url}\n"
    assert json.loads(posted[0]) == {"message": OUTBOUND_TEXT, "url": hub_url}

    # The daily digest sums up the day's hits for the watcher (run as the scheduler would).
    rulebook = client.app.state.rulebook
    run_digest(graph, rulebook.policy, rulebook.watches, datetime.now(UTC) + timedelta(seconds=1))
    notes = client.get("/api/v1/notifications", headers=headers).json()
    digest = [n for n in notes if n["kind"] == "watch_digest"]
    assert len(digest) == 1 and digest[0]["payload"] == {"hits": "1", "watches": "1"}, digest

    # The watcher's copy of this week's brief has « Vos veilles »: the watch and its one signal.
    year, week, _ = datetime.now(UTC).isocalendar()
    meeting = client.post("/api/v1/meetings", headers=headers,
                          json={"departement": "25", "week": f"{year}-W{week:02d}"}).json()
    brief = client.get(f"/api/v1/meetings/{meeting['meeting_id']}/brief.html", headers=headers,
                       params={"justification": WHY})
    assert brief.status_code == 200, brief.text
    assert re.search(rf"Vos veilles.*<td>immatriculation {plate}</td><td>[^<]+</td><td>1</td>",
                     brief.text, re.S), brief.text[-3000:]


def test_a_saved_text_search_tells_only_of_narratives_the_watcher_may_read(
        client, make_user, make_connector):
    """rules.yaml (analyst-other-redacted-h0-h1): a gendarmerie analyst reads a police H0 lead
    redacted, without its narrative; their own agency's leads in full. A full-text watch on a
    word must not fire on text it may not read — it would tell that the hidden narrative holds
    the word."""
    word = canary_tag().lower()
    headers = make_user("gendarmerie", "analyst")
    r = client.post("/api/v1/watches", headers=headers, json={
        "q": f"livraison {word}", "search_kind": "text", "justification": WHY})
    assert r.status_code == 201 and r.json()["label"] == f"recherche « livraison {word} »", r.text
    police = acked_ids(make_connector("police").push([lead(
        handling_code="H0", narrative=f"Livraison observée, mot {word.upper()}.")]))
    own = acked_ids(make_connector("gendarmerie").push([lead(
        source_agency="gendarmerie", handling_code="H0",
        narrative=f"Livraison signalée près du stade, mot {word}.")]))
    _, hits = poll_hits(client, headers, 1)
    wait_triaged(client, client.app.state.graph, [*police.values(), *own.values()])
    raw, hits = watch_hits(client, headers)
    assert [h["payload"].get("lead_id") for h in hits] == list(own.values())
    assert next(iter(police.values())).encode() not in raw
