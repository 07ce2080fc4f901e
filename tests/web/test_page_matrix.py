"""The pages are held to the API's access matrix (issue 12): every page route of the app (the
list is derived from ``app.routes``, so a new page joins the sweep by itself) is opened as each
role, and the lead sheet, the entity sheet and the link chart are loaded in Chromium as each
gendarmerie role against police leads marked H1, H2 and H3 carrying canary values.

Oracles:
- which role opens which page: ``OPENS`` below, written from what each role is for (roles.yaml's
  descriptions: auditors read the trail and nothing else, administrators run the platform, guests
  work on what a grant opens to them, analysts and the chief work the leads);
- what each gendarmerie role may know of a police lead: ``tests.oracles`` (from rules.yaml), and
  what a redacted analyst view withholds (narrative and evaluation, rule
  analyst-other-redacted-h0-h1). A canary that may be read must appear (the sweep can see it); one
  that may not must be in no byte the page received, raw or JSON-escaped, nor in the DOM.
"""

from __future__ import annotations

import json
import re
import uuid

import pytest

from hub.openapi import iter_api_routes
from hub.web.session import MOTIF_COOKIE, SESSION_COOKIE
from tests.factories import canary_tag
from tests.oracles import GENDARMERIE_SEES_POLICE_LEAD
from tests.web.conftest import MOTIF

ROLES = ("analyst", "coordinator", "guest_referent", "auditor", "administrator")
ALL = frozenset(ROLES)
WORKERS = frozenset({"analyst", "coordinator"})
# Which role opens which page (200); every other role gets the French 403 page.
OPENS: dict[str, frozenset[str]] = {
    "/": ALL,  # the home page: search (its results are the API's, refused to who may not search)
    "/pistes/{lead_id}": ALL,  # the lead sheet shows what the API answers, nothing to some
    "/entites/{kind}/{key}": ALL,
    "/graphe": WORKERS | {"guest_referent"},  # analyses: analysts, the chief, granted guests
    "/chronologie": WORKERS | {"guest_referent"},
    "/carte": WORKERS | {"guest_referent"},
    "/tri": WORKERS,  # working the leads' lifecycle
    "/deconfliction": WORKERS,
    "/communications": WORKERS,  # asking and deciding disclosure
    "/veilles": WORKERS | {"guest_referent"},  # watches (a guest's: only within a live grant)
    "/dossiers": WORKERS,  # shared dossiers: the members who work leads (ADR 0019)
    "/rapprochements": WORKERS,  # entity resolution: the members who work leads judge pairs
    "/federation": WORKERS,  # tickets with other CROSS: the members who work leads (issue 16)
    "/reunions": WORKERS | {"guest_referent"},  # the weekly meeting and its participants
    "/administration": frozenset({"coordinator", "administrator", "guest_referent"}),
    "/journal": frozenset({"auditor"}),  # the Art. 25 trail: auditors only
    "/second-facteur": ALL,  # one's own second factor: every person may enrol theirs
}


def page_routes(app) -> list[str]:
    return sorted(r.path for r in iter_api_routes(app) if (r.name or "").startswith("page:"))


def test_every_page_route_has_an_expectation(live_hub):
    assert set(page_routes(live_hub.app)) == set(OPENS), "a new page needs its row in OPENS"


def _session(live_hub, user) -> dict[str, str]:
    with live_hub.client() as c:
        r = c.post("/api/v1/auth/login", json={"user_id": user.user_id, "password": user.password})
        assert r.status_code == 200, r.text
    return {SESSION_COOKIE: r.json()["access_token"], MOTIF_COOKIE: "PV%202026%2F118"}


@pytest.fixture
def police_leads(make_pusher):
    """Police leads H1, H2, H3 on one plate (also in a gendarmerie lead, so gendarmerie
    roles have an entity to start from), each with canaries in its narrative and source ref."""
    plate = f"CN-{uuid.uuid4().int % 900 + 100}-XZ"
    canaries, ids = {}, {}
    police = make_pusher("police")
    for code in ("H1", "H2", "H3"):
        tag = canary_tag()
        canaries[code] = {"narrative": f"Recit temoin CANARI{tag} hall 3",
                          "source_ref": f"PN-CANARI{tag}"}
        from tests.factories import lead
        answer = police.push([lead(handling_code=code, vehicles=[{"plate": plate}],
                                   narrative=canaries[code]["narrative"],
                                   source_ref=canaries[code]["source_ref"])])
        ids[code] = answer["results"][0]["lead_id"]
    from tests.factories import lead
    make_pusher("gendarmerie").push([lead(source_agency="gendarmerie", handling_code="H1",
                                          source_ref=f"GN-{uuid.uuid4().hex[:8]}",
                                          vehicles=[{"plate": plate}])])
    return plate, ids, canaries


def _concrete(path: str, plate: str, lead_id: str) -> str:
    return (path.replace("{lead_id}", lead_id).replace("{kind}", "vehicle")
            .replace("{key}", plate.replace("-", "")))


@pytest.mark.parametrize("role", ROLES)
def test_pages_open_by_role_and_hold_no_lead_data(live_hub, make_web_user, police_leads, role):
    plate, ids, canaries = police_leads
    user = make_web_user("gendarmerie", role)
    with live_hub.client(cookies=_session(live_hub, user)) as c:
        for path in page_routes(live_hub.app):
            r = c.get(_concrete(path, plate, ids["H2"]))
            expected = 200 if role in OPENS[path] else 403
            assert r.status_code == expected, (role, path, r.status_code)
            assert r.headers["content-type"].startswith("text/html")
            body = r.content
            # A page is a shell: no lead content, whatever the role and the lead.
            for values in canaries.values():
                for value in values.values():
                    assert value.encode() not in body, (role, path, value)
            if expected == 403:
                assert "Accès refusé".encode() in body


def _received(watched) -> bytes:
    return b"\n".join(body for _, body in watched.bodies)


def _visible(outcome: str) -> set[str]:
    """Which canaries of a lead a reader with ``outcome`` may see."""
    return {"full": {"narrative", "source_ref"},
            "redacted": {"source_ref"},  # analyst-other-redacted-h0-h1 hides narrative, evaluation
            "hit": set(), "none": set()}[outcome]


@pytest.mark.parametrize("role", ROLES)
def test_lead_entity_and_chart_pages_show_what_the_policy_allows(open_page, make_web_user,
                                                                 police_leads, live_hub, role):
    plate, ids, canaries = police_leads
    page, watched = open_page(make_web_user("gendarmerie", role))
    expected = GENDARMERIE_SEES_POLICE_LEAD[role]
    for code, lead_id in ids.items():
        page.goto(f"{live_hub.url}/pistes/{lead_id}")
        if "Accès refusé" not in page.content():
            page.wait_for_selector("#app[data-state=ready]")
        dom = page.content()
        shown = _visible(expected[code])
        for name, value in canaries[code].items():
            if name in shown:
                assert value in dom, (role, code, name, "should be shown")
            else:
                assert value not in dom, (role, code, name, "leaked into the page")
    for path in (f"/entites/vehicle/{plate.replace('-', '')}", f"/graphe?depart=vehicle:{plate.replace('-', '')}"):
        page.goto(f"{live_hub.url}{path}")
        if "Accès refusé" not in page.content():
            page.wait_for_selector("#app .ch-loading", state="detached")
        dom = page.content()
        for code in ids:
            if expected[code] in ("hit", "none"):
                for value in canaries[code].values():
                    assert value not in dom, (role, path, code, "leaked into the page")
    # Whatever the page asked for, no answer it received held what the role may not read.
    received = _received(watched)
    for code in ids:
        hidden = {"narrative", "source_ref"} - _visible(expected[code])
        for name in hidden:
            value = canaries[code][name]
            for form in {value, json.dumps(value)[1:-1], re.escape(value)}:
                assert form.encode() not in received, (role, code, name)
