"""The second factor through the API, on the real graph: an approval or an export without a fresh
step-up is refused and changes nothing; a code works once; wrong codes are throttled; the secret
is shown once, kept encrypted under a 0600 key, never in an answer, a log or the trail after.

What is expected comes from policies/data/second_factor.yaml's text (10 min for
``disclosure.decide`` and ``exports.network``; 5 wrong codes within 15 min lock for 5 min) and
RFC 6238 (30 s steps, ±1 step), not from the hub's answers.
"""

from __future__ import annotations

import logging
import stat
from datetime import UTC, datetime, timedelta

import pyotp
import pytest

from graph import identity
from graph.handle import Graph
from graph.leads import write_leads
from hub.audit import AuditFilters, query
from hub.contract.lead import Lead
from hub.deps import get_clock
from tests.factories import lead, random_plate
from tests.second_factor import enrol, session_headers

REFUSED_FR = "second facteur requis".encode()
J = "justification=PV%202026%2F118%20export"


@pytest.fixture
def graph_of(client):
    return client.app.state.graph


def _person(client, agency: str, role: str) -> tuple[str, dict[str, str]]:
    state = client.app.state
    user = identity.upsert_user(state.graph, agency=agency, role=role,
                                name=f"{role}-2fa-{random_plate()}")
    return user.user_id, session_headers(state.graph, state.settings.keys_dir, user.user_id)


@pytest.fixture
def pending_request(client, graph_of: Graph, make_user):
    """A police H2 lead a gendarmerie analyst sees as a hit, and their pending request."""
    plate = random_plate()
    [written] = write_leads(graph_of, [Lead.model_validate(lead(
        handling_code="H2", vehicles=[{"plate": plate}]))])
    requester = make_user("gendarmerie", "analyst")
    made = client.post("/api/v1/disclosure-requests", headers=requester, json={
        "lead_id": written.lead_id, "justification": "PV 2026/118 trafic"})
    assert made.status_code == 201, made.text
    return made.json()["request_id"], plate


def _status_of(graph: Graph, request_id: str) -> str:
    return graph.read(lambda tx: tx.run(
        "MATCH (r:DisclosureRequest {request_id: $id}) RETURN r.status AS s",
        id=request_id).single()["s"])


def _at(client, moment: datetime):
    client.app.dependency_overrides[get_clock] = lambda: moment


def test_approval_needs_a_fresh_second_factor(client, graph_of, pending_request, make_user):
    request_id, plate = pending_request
    url = f"/api/v1/disclosure-requests/{request_id}/approve"
    holder_id, holder = _person(client, "police", "coordinator")
    refusals = {}
    # A person's session not enrolled, and the same role's API token (no person's session).
    refusals["second_factor_not_enrolled"] = client.post(url, headers=holder)
    refusals["second_factor_session_required"] = client.post(
        url, headers=make_user("police", "coordinator"))
    totp = enrol(client, holder)  # this session is stepped up now
    try:  # ... and 11 minutes later, stale (the policy: 10)
        _at(client, datetime.now(UTC) + timedelta(minutes=11))
        refusals["second_factor_required"] = client.post(url, headers=holder)
        exported = client.get(f"/api/v1/entities/vehicle/{plate}/export?{J}", headers=holder)
    finally:
        client.app.dependency_overrides.pop(get_clock, None)
    for code, answer in refusals.items():
        assert answer.status_code == 403, answer.text
        assert answer.json()["code"] == code
        assert REFUSED_FR in answer.content
    assert b"/second-facteur" in refusals["second_factor_not_enrolled"].content
    assert exported.status_code == 403 and exported.json()["code"] == "second_factor_required"
    assert _status_of(graph_of, request_id) == "requested"  # nothing written

    approved = client.post(url, headers=holder)  # within 10 min of the enrolment's code
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    assert _status_of(graph_of, request_id) == "approved"
    assert client.get(f"/api/v1/entities/vehicle/{plate}/export?{J}",
                      headers=holder).status_code == 200
    assert totp.last_step is not None


def test_a_code_works_once_and_wrong_codes_are_throttled(client, hub_settings):
    user_id, headers = _person(client, "police", "analyst")
    auth = enrol(client, headers)
    used = auth.totp.at(auth.last_step * 30)
    verify = "/api/v1/second-factor/verify"
    # The enrolment's own code, and a code of the step before (already behind the last used).
    for code in (used, auth.totp.at((auth.last_step - 1) * 30)):
        replay = client.post(verify, headers=headers, json={"code": code})
        assert replay.status_code == 422 and replay.json()["details"][0]["field"] == "code"
    for _ in range(3):  # 2 replays + 3 wrong = 5 failures within 15 min: locked 5 min
        wrong = f"{(int(auth.totp.now()) + 1) % 1_000_000:06d}"
        assert client.post(verify, headers=headers, json={"code": wrong}).status_code == 422
    locked = client.post(verify, headers=headers, json={"code": auth.next_code()})
    assert locked.status_code == 429, locked.text
    assert 1 <= int(locked.headers["Retry-After"]) <= 300
    later = datetime.now(UTC) + timedelta(minutes=6)
    try:  # the lock is over: the code of that moment is accepted
        _at(client, later)
        code = pyotp.TOTP(auth.secret).at(later)
        ok = client.post(verify, headers=headers, json={"code": code})
    finally:
        client.app.dependency_overrides.pop(get_clock, None)
    assert ok.status_code == 200, ok.text
    events = [e.details["event"] for e in query(hub_settings.audit_dir, AuditFilters(
        entity_key=f"user:{user_id}", limit=100))]
    assert {"second_factor_enrolment_started", "second_factor_enrolled",
            "second_factor_failure", "second_factor_throttled",
            "second_factor_verified"} <= set(events), events
    assert events.count("second_factor_failure") == 5


def test_the_secret_is_shown_once_and_kept_encrypted(client, hub_settings, caplog):
    caplog.set_level(logging.DEBUG)
    user_id, headers = _person(client, "police", "analyst")
    begun = client.post("/api/v1/second-factor/enrolment", headers=headers)
    assert begun.status_code == 201 and begun.headers["Cache-Control"] == "no-store"
    secret = begun.json()["secret"]
    assert begun.json()["otpauth_uri"].startswith("otpauth://totp/")
    assert f"secret={secret}" in begun.json()["otpauth_uri"]
    assert begun.json()["qr_svg"].startswith("<svg")
    auth_code = pyotp.TOTP(secret).now()
    answers = [client.post("/api/v1/second-factor/enrolment/confirm", headers=headers,
                           json={"code": auth_code}),
               client.get("/api/v1/second-factor", headers=headers)]
    assert answers[0].status_code == 200 and answers[0].json()["enrolled"] is True
    # Replacing it needs the current factor's code.
    again = client.post("/api/v1/second-factor/enrolment", headers=headers)
    assert again.status_code == 422 and again.json()["details"][0]["field"] == "code"
    answers.append(again)
    for answer in answers:
        assert secret.encode() not in answer.content
    key = hub_settings.keys_dir / "second_factor.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    stored = client.app.state.graph.read(lambda tx: tx.run(
        "MATCH (f:SecondFactor {user_id: $u}) RETURN f {.*} AS f", u=user_id).single()["f"])
    assert stored["secret"] and secret not in str(stored)
    assert all(secret not in r.getMessage() for r in caplog.records)
    for segment in hub_settings.audit_dir.rglob("*"):
        if segment.is_file():
            assert secret.encode() not in segment.read_bytes()


def test_an_administrator_resets_a_lost_factor(client, make_user, hub_settings):
    user_id, headers = _person(client, "police", "analyst")
    enrol(client, headers)
    url = f"/api/v1/second-factor/users/{user_id}/reset"
    assert client.post(url, headers=make_user("police", "analyst")).status_code == 403
    done = client.post(url, headers=make_user("police", "administrator"))
    assert done.status_code == 200 and done.json() == {"user_id": user_id,
                                                       "had_second_factor": True}
    status = client.get("/api/v1/second-factor", headers=headers).json()
    assert status["enrolled"] is False and status["session_verified_at"] is None
    events = [e.details["event"] for e in query(hub_settings.audit_dir, AuditFilters(
        entity_key=f"user:{user_id}", limit=100))]
    assert "second_factor_reset" in events
    assert enrol(client, headers).secret  # enrols again, without the old code
