"""Administration (issue 12, item 12) and the audit page, in real pages (Chromium) on a real hub.

Oracles, from what each rule means:
- a guest referent sees a lead only while a grant covers it (rules.yaml guest-grant-redacted:
  H0/H1 redacted, narrative withheld; nothing without a grant): the CROSS chief grants and then
  revokes from the administration page; with the grant the guest's lead sheet shows the lead's
  plate and never its narrative; once revoked, the sheet shows nothing of it — neither in the
  DOM nor in any byte the page received after the revocation;
- each role sees the sections its own API calls allow (roles.yaml): the chief, guest grants
  (grants.list) and no connectors or accounts; the administrator, connectors (connectors.manage)
  and accounts (sessions.revoke) and no guest grants — and revoking a user's accesses from the
  page ends that user's session;
- the auditor (audit.read) reads the trail, filtered, with its integrity check shown as intact.
"""

from __future__ import annotations

import json
import random
import uuid
from datetime import UTC, datetime, timedelta

from playwright.sync_api import expect

from graph import identity
from hub.contract.runs import RunRecord, RunStatus
from hub.contract.signing import generate_keypair, key_id_of, load_private_key, load_public_key_pem, sign_request
from hub.web.session import SESSION_COOKIE
from tests.factories import canary_tag, lead
from tests.web.conftest import axe_violations

_SIV = "ABCDEFGHJKLMNPRSTVWXYZ"  # letters a SIV plate uses (no I, O, U)


def _plate() -> str:
    pick = lambda: "".join(random.choices(_SIV, k=2))  # noqa: E731
    return f"{pick()}-{random.randint(100, 999)}-{pick()}"


def _received_since(watched, start: int) -> bytes:
    return b"\n".join(body for _, body in watched.bodies[start:])


def test_a_guest_whose_grant_was_revoked_sees_nothing_of_the_lead(
        open_page, make_web_user, make_pusher, live_hub):
    plate = _plate()
    narrative = f"Recit temoin CANARI{canary_tag()} cage d'escalier B"
    pushed = make_pusher("police").push([lead(handling_code="H1", vehicles=[{"plate": plate}],
                                              narrative=narrative)])
    lead_id = pushed["results"][0]["lead_id"]
    chief = make_web_user("police", "coordinator")
    guest = make_web_user("gendarmerie", "guest_referent")

    # The chief grants the guest this lead from the administration page.
    admin, _ = open_page(chief, motif=None)
    admin.goto(f"{live_hub.url}/administration")
    admin.locator("#form-autorisation").wait_for()
    # Only the sections the chief's API calls allow.
    assert admin.locator("#connecteurs").count() == 0
    assert admin.locator("#utilisateurs").count() == 0
    admin.fill("#invite-id", guest.user_id)
    admin.fill("#invite-pistes", lead_id)
    admin.fill("#invite-fin", (datetime.now(UTC).date() + timedelta(days=7)).isoformat())
    admin.fill("#invite-motif", "Appui du référent à la CROSS non permanente")
    with admin.expect_response(lambda r: r.url.endswith("/api/v1/guest-grants")
                               and r.request.method == "POST" and r.status == 201) as made:
        admin.click("#form-autorisation button[type=submit]")
    grant_id = made.value.json()["grant_id"]
    row = admin.locator("#autorisations tr", has_text=grant_id)
    row.wait_for()
    assert "En vigueur" in row.text_content() and f"piste {lead_id}" in row.text_content()
    assert axe_violations(admin) == []

    # With the grant: the guest reads the lead, redacted (plate yes, narrative no).
    sheet, watched = open_page(guest)
    sheet.goto(f"{live_hub.url}/pistes/{lead_id}")
    sheet.locator(".ch-marking").wait_for()
    assert plate in sheet.content()
    assert narrative not in sheet.content()

    # The chief revokes it from the page.
    row.get_by_role("button", name="Révoquer").click()
    admin.get_by_text(f"Autorisation {grant_id} révoquée").wait_for()
    assert "Révoquée" in admin.locator("#autorisations tr", has_text=grant_id).text_content()
    assert admin.locator("#autorisations tr", has_text=grant_id).get_by_role("button").count() == 0

    # Revoked: the same guest session opens the sheet again and gets nothing of the lead.
    start = len(watched.bodies)
    sheet.goto(f"{live_hub.url}/pistes/{lead_id}")
    sheet.locator("#app .fr-alert").wait_for()
    assert "Rien à afficher" in sheet.locator("#app").inner_text()
    received = _received_since(watched, start)
    for canary in (plate, narrative):
        assert canary not in sheet.content()
        assert canary.encode() not in received
        assert json.dumps(canary).encode() not in received
    assert axe_violations(sheet) == []


def _connector_with_a_quarantine(live_hub, tmp_path) -> str:
    """A police connector (its account and signing key) that reports a run with 3 records in
    quarantine, as a connector does: signed, over HTTP."""
    name = f"police-{uuid.uuid4().hex[:6]}"
    user = identity.upsert_user(live_hub.graph, agency="police", role="connector", name=name)
    token = identity.issue_token(live_hub.graph, user.user_id).token
    key_path = tmp_path / f"{name}.pem"
    pem = generate_keypair(key_path)
    identity.register_connector_key(live_hub.graph, identity.ConnectorKey(
        key_id=key_id_of(load_public_key_pem(pem)), connector=name, agency="police", public_key_pem=pem))
    now = datetime.now(UTC)
    run = RunRecord(connector=name, agency="police", started_at=now - timedelta(seconds=4), finished_at=now,
                    duration_s=4.0, count_in=12, count_out=9, count_quarantined=3, count_pushed=9,
                    status=RunStatus.OK)
    body = run.model_dump_json().encode()
    path = f"/api/v1/connectors/{name}/runs"
    with live_hub.client() as c:
        r = c.post(path, content=body, headers={
            **sign_request(load_private_key(key_path), "POST", path, body),
            "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        assert r.status_code == 204, r.text
    return name


def test_the_administrator_sees_connectors_and_accounts_and_revokes_a_users_accesses(
        open_page, make_web_user, live_hub, tmp_path):
    connector = _connector_with_a_quarantine(live_hub, tmp_path)
    analyst = make_web_user("gendarmerie", "analyst")
    with live_hub.client() as c:
        login = c.post("/api/v1/auth/login", json={"user_id": analyst.user_id, "password": analyst.password})
        assert login.status_code == 200, login.text
    analyst_session = {SESSION_COOKIE: login.json()["access_token"]}
    administrator = make_web_user("police", "administrator")

    page, _ = open_page(administrator, motif=None)
    page.goto(f"{live_hub.url}/administration")
    page.locator("#utilisateurs table").wait_for()
    page.locator("#connecteurs table").wait_for()
    # Administrators do not list guest grants (grants.list): no such section.
    assert page.locator("#autorisations").count() == 0
    runs = page.locator("#connecteurs tr", has_text=connector)
    assert runs.count() == 1
    cells = runs.first.locator("td").all_inner_texts()
    assert cells[0] == connector and cells[7] == "3"  # Quarantaine
    assert connector in page.locator("#connecteurs .fr-alert--warning").inner_text()

    account = page.locator("#utilisateurs tr", has_text=analyst.user_id)
    assert "Analyste" in account.inner_text()
    assert account.locator("td").nth(5).inner_text() == "1"  # one open session
    assert axe_violations(page) == []
    account.get_by_role("button", name="Tout révoquer").click()
    page.get_by_text(f"{analyst.user_id} : 1 session(s) et 0 jeton(s) d'API révoqué(s).").wait_for()
    assert page.locator("#utilisateurs tr", has_text=analyst.user_id).locator("td").nth(5).inner_text() == "0"
    with live_hub.client(cookies=analyst_session) as c:
        assert c.get("/api/v1/notifications").status_code == 401


def test_the_auditor_searches_the_trail_and_sees_its_integrity(open_page, make_web_user, live_hub):
    auditor = make_web_user("police", "auditor")
    other = make_web_user("douanes", "analyst")
    with live_hub.client() as c:  # someone else's sign-in, in the trail before the auditor's
        assert c.post("/api/v1/auth/login", json={"user_id": other.user_id,
                                                  "password": other.password}).status_code == 200
    page, _ = open_page(auditor, motif=None)
    page.goto(f"{live_hub.url}/journal")
    status = page.locator("#integrite .fr-alert")
    status.wait_for()
    assert "fr-alert--success" in status.get_attribute("class")
    assert status.inner_text().startswith("Journal intègre")
    page.locator("#journal table").wait_for()
    assert page.locator("#journal tbody tr", has_text=other.user_id).count() >= 1
    assert axe_violations(page) == []

    # Filtered: the auditor's own sign-in, and nothing of anyone else.
    page.fill("#utilisateur", auditor.user_id)
    page.select_option("#operation", "authentication")
    with page.expect_response(lambda r: "/api/v1/audit?" in r.url and "user_id=" in r.url) as answer:
        page.click("#filtres-journal button[type=submit]")
    assert answer.value.status == 200
    rows = page.locator("#journal tbody tr")
    expect(rows.filter(has_text=other.user_id)).to_have_count(0)
    assert rows.count() >= 1
    for text in rows.all_inner_texts():
        assert auditor.user_id in text and "Authentification" in text
    assert "utilisateur=" in page.url and "operation=authentication" in page.url

