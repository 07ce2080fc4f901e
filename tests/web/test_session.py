"""Signing in and out of the web application, the motif of consultation, anti-CSRF, expired
sessions and the security headers — in real pages (Chromium) and on the raw HTTP answers.

Expected outcomes come from what each rule means (issue 12, ADR 0004, ADR 0010): a wrong
password is refused in French and sets no session; a mutation without the session's anti-CSRF
token changes nothing; a consultation page without a motif asks for one first; an expired
session goes back to sign-in, then to where the user was."""

from __future__ import annotations

import re

from graph import sessions as graph_sessions
from hub.web.security import CSP
from hub.web.session import MOTIF_COOKIE, SESSION_COOKIE
from tests.web.conftest import MOTIF, axe_violations, set_motif, sign_in


def test_sign_in_motif_and_search_page_pass_axe_and_carry_the_csp(open_page, make_web_user, live_hub):
    user = make_web_user("gendarmerie", "analyst")
    page, _ = open_page()
    page.goto(f"{live_hub.url}/")
    assert page.url.startswith(f"{live_hub.url}/connexion")
    assert axe_violations(page) == []
    sign_in(page, live_hub, user)
    # No motif yet: a consultation page asks for it before anything else.
    page.wait_for_url(re.compile(r".*/motif\?suite=.*"))
    assert page.locator("h1").inner_text() == "Motif de consultation"
    assert axe_violations(page) == []
    page.fill("#motif", MOTIF)
    page.click("form[action='/motif'] button[type=submit]")
    page.wait_for_url(f"{live_hub.url}/")
    assert page.locator("#motif-courant").inner_text() == MOTIF
    page.wait_for_selector("#q")
    assert axe_violations(page) == []


def test_wrong_password_is_refused_in_french_and_sets_no_session(open_page, make_web_user, live_hub):
    user = make_web_user("police", "analyst")
    page, _ = open_page()
    page.goto(f"{live_hub.url}/connexion")
    page.fill("#user_id", user.user_id)
    page.fill("#password", "pas-le-bon-mot-de-passe")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.click("button[type=submit]")
    assert answer.value.status == 401
    assert page.locator("#erreur-connexion").inner_text().strip() == "Identifiant ou mot de passe incorrect."
    assert SESSION_COOKIE not in {c["name"] for c in page.context.cookies()}
    assert axe_violations(page) == []


def test_a_short_motif_is_refused_and_none_is_stored(open_page, make_web_user, live_hub):
    user = make_web_user("police", "analyst")
    page, _ = open_page(user, motif=None)
    page.goto(f"{live_hub.url}/motif?suite=/")
    page.fill("#motif", "PV")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.click("form[action='/motif'] button[type=submit]")
    assert answer.value.status == 422
    assert "au moins 5 caractères" in page.locator("#erreur-motif").inner_text()
    assert MOTIF_COOKIE not in {c["name"] for c in page.context.cookies()}


def test_a_mutation_without_the_csrf_token_changes_nothing(open_page, make_web_user, live_hub):
    user = make_web_user("gendarmerie", "analyst")
    page, _ = open_page(user)
    # The page's own fetch, minus the token: the API refuses it, in French, and nothing is made.
    status, body = page.evaluate("""async () => {
        const r = await fetch('/api/v1/operations', {method: 'POST', credentials: 'same-origin',
            headers: {'Content-Type': 'application/json'}, body: JSON.stringify({name: 'x'})});
        return [r.status, await r.text()];
    }""")
    assert status == 403
    assert '"code":"csrf_refused"' in body and "anti-CSRF" in body
    # Signing out through a form without the token: refused, the session still works.
    with live_hub.client(cookies={c["name"]: c["value"] for c in page.context.cookies()}) as c:
        refused = c.post("/deconnexion", data={"csrf_token": "faux"}, headers={"Origin": live_hub.url})
        assert refused.status_code == 403
        assert "anti-CSRF" in refused.text and "<html lang=\"fr\">" in refused.text
        still = c.get("/api/v1/notifications")
        assert still.status_code == 200, still.text


def test_an_expired_session_goes_to_sign_in_then_back(open_page, make_web_user, live_hub):
    user = make_web_user("gendarmerie", "analyst")
    page, _ = open_page(user)
    cookie = next(c for c in page.context.cookies() if c["name"] == SESSION_COOKIE)
    page.context.add_cookies([{**cookie, "value": cookie["value"][:-4] + "AAAA"}])  # no longer valid
    # The session itself is over (an access token alone would be renewed silently, ADR 0021).
    refresh = next(c for c in page.context.cookies() if c["name"] == "crosshub_refresh")
    graph_sessions.revoke_session(live_hub.graph, refresh["value"][4:].split(".", 1)[0])
    page.goto(f"{live_hub.url}/graphe")
    page.wait_for_url(re.compile(r".*/connexion\?suite=%2Fgraphe&raison=expiree"))
    assert "Votre session a expiré" in page.locator("main").inner_text()
    page.fill("#user_id", user.user_id)
    page.fill("#password", user.password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_hub.url}/graphe")


def test_every_answer_carries_the_security_headers(live_hub):
    with live_hub.client() as c:
        for path in ("/connexion", "/", "/api/v1/notifications", "/healthz", "/static/css/app.css",
                     "/nope"):
            r = c.get(path)
            assert r.headers["content-security-policy"] == CSP, path
            assert r.headers["x-content-type-options"] == "nosniff", path
            assert r.headers["x-frame-options"] == "DENY", path
        assert "default-src 'self'" in CSP and "'unsafe-inline'" not in CSP


def test_session_cookie_attributes(live_hub, make_web_user):
    user = make_web_user("police", "analyst")
    with live_hub.client() as c:
        form = c.get("/connexion")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
        r = c.post("/connexion", data={"user_id": user.user_id, "password": user.password,
                                       "csrf_token": token, "suite": "/"})
        assert r.status_code == 303 and r.headers["location"] == "/"
        cookie = next(v for k, v in r.headers.multi_items()
                      if k == "set-cookie" and v.startswith(SESSION_COOKIE))
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
        assert "Path=/" in cookie


def test_sign_in_refuses_an_offsite_return_address(live_hub, make_web_user):
    user = make_web_user("police", "analyst")
    with live_hub.client() as c:
        form = c.get("/connexion?suite=//evil.example/x")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
        r = c.post("/connexion", data={"user_id": user.user_id, "password": user.password,
                                       "csrf_token": token, "suite": "https://evil.example/"})
        assert r.status_code == 303 and r.headers["location"] == "/"


def test_sign_out_ends_the_session(open_page, make_web_user, live_hub):
    user = make_web_user("douanes", "analyst")
    page, _ = open_page(user)
    before = next(c for c in page.context.cookies() if c["name"] == SESSION_COOKIE)["value"]
    page.click("text=Se déconnecter")
    page.wait_for_url(re.compile(r".*/connexion\?raison=deconnecte"))
    assert "Vous êtes déconnecté" in page.locator("main").inner_text()
    with live_hub.client(cookies={SESSION_COOKIE: before}) as c:
        assert c.get("/api/v1/notifications").status_code == 401
