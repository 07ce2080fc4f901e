"""The intake connector end to end (ADR 0014): its French pages driven as a person would (sign in
through the real hub, upload, confirm the proposed mapping, confirm the write), the base pipeline
pushing to the REAL hub process on the session's REAL Neo4j, every byte the intake service sends
to the hub recorded, the graph read back.

Oracles: the bad cells are those the rows were built to break (a plate that is no French plate,
a handling code outside H0–H3); what others read of a bailleur's lead is the table below, taken
from the rules written for ADR 0014 in policies/data/rules.yaml; the refusal of a person without
``leads.submit`` is roles.yaml's (only analysts and the coordinator hold it) in the hub's words.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from openpyxl import Workbook
from pydantic import SecretStr
from fastapi.testclient import TestClient

from connectors.intake.connector import IntakeConnector, IntakeSettings
from connectors.intake.web import create_app
from graph import identity
from graph import sessions as graph_sessions
from graph.handle import Graph
from policies.auth import passwords
from tests.connectors.conftest import FAST_PUSH, World
from tests.factories import canary_tag

JUSTIFICATION = "PV 2026/INTAKE contrôle"
HEADERS = ["Nature", "Date des faits", "Code INSEE", "Commune", "Immatriculation", "Nom", "Prénom",
           "Récit", "Traitement", "Fiabilité", "Crédibilité", "Déclarant"]


class Recorder(httpx.HTTPTransport):
    """Every request the intake service sends to the hub, and the hub's raw answer."""

    def __init__(self) -> None:
        super().__init__()
        self.exchanges: list[tuple[httpx.Request, bytes, int, bytes]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        sent = b"".join([str(request.url).encode(), *(f"{k}: {v}".encode() for k, v in request.headers.items()),
                         request.read()])
        response = super().handle_request(request)
        body = response.read()
        self.exchanges.append((request, sent, response.status_code, body))
        return httpx.Response(response.status_code, headers=response.headers, content=body, request=request)

    def close(self) -> None:  # shared by every client the service opens: closed with the test
        pass

    def sent(self) -> bytes:
        return b"\n".join(s for _, s, _, _ in self.exchanges)


class Intake:
    """The intake service of one test, as a browser sees it."""

    def __init__(self, world: World) -> None:
        self.world = world
        creds = world.register("intake", "prefecture")  # the CROSS secretariat runs it
        settings = IntakeSettings(**world._common(creds))
        self.recorder = Recorder()
        self.app = create_app(settings, transport=self.recorder)
        IntakeConnector.push_policy = FAST_PUSH  # type: ignore[misc]  # retries real but short

    def person(self, agency: str, role: str = "analyst") -> tuple[str, str]:
        graph = Graph(self.world.driver, self.world.db)
        user = identity.upsert_user(graph, agency=agency, role=role, name=f"{role}-{uuid.uuid4().hex[:6]}",
                                    contact=f"Permanence {agency}")
        password = f"Mot-de-passe-{uuid.uuid4().hex}"
        graph_sessions.set_password_hash(graph, user.user_id, passwords.hash_password(password))
        return user.user_id, password

    def browser(self, user_id: str, password: str) -> TestClient:
        browser = TestClient(self.app, base_url="http://intake.test")
        page = browser.get("/connexion")
        resp = browser.post("/connexion", data={"csrf": _csrf(page.text), "identifiant": user_id,
                                                "mot_de_passe": password}, follow_redirects=False)
        assert resp.status_code == 303, resp.text
        cookie = resp.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
        return browser

    def import_file(self, browser: TestClient, name: str, data: bytes) -> httpx.Response:
        home = browser.get("/import")
        mapping = browser.post("/import", data={"csrf": _csrf(home.text)}, files={"fichier": (name, data)})
        assert mapping.status_code == 200, mapping.text
        # The person confirms the mapping the service proposed, unchanged.
        proposed = dict(re.findall(r'name="(colonne-\d+)">(?:(?!</select>).)*?<option value="([^"]*)" selected',
                                   mapping.text, re.S))
        action = re.search(r'action="(/import/[^"]+/correspondance)"', mapping.text)[1]
        return browser.post(action, data={"csrf": _csrf(mapping.text), **proposed})


def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html)[1]


def _rows(names: list[str], reporter: str) -> list[list[str]]:
    when = (datetime.now() - timedelta(days=2)).strftime("%d/%m/%Y %H:%M")
    last, first = names
    good = ["Renseignement de terrain", when, "25056", "Besançon", "GH-456-JK", last, first,
            f"{first} {last} livre le soir avec la voiture", "H1", "B", "2", reporter]
    bad_plate = [*good[:4], "ZZ-12", *good[5:]]
    bad_code = [*good[:8], "H7", *good[9:]]
    return [HEADERS, good, bad_plate, bad_code]


def _xlsx(rows: list[list[str]]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=";").writerows(rows)
    return "\ufeff".encode() + out.getvalue().encode("utf-8")  # UTF-8 with BOM, as Excel writes it


@pytest.fixture
def intake(world: World) -> Intake:
    return Intake(world)


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_one_good_row_and_two_bad_rows_write_one_lead_and_name_the_two_bad_cells(
        intake: Intake, world: World, fmt: str) -> None:
    names, reporter = [canary_tag(10).capitalize(), canary_tag(8).capitalize()], canary_tag(9).capitalize()
    rows = _rows(names, reporter)
    user_id, password = intake.person("police_judiciaire")
    browser = intake.browser(user_id, password)
    report = intake.import_file(browser, f"pistes.{fmt}", _xlsx(rows) if fmt == "xlsx" else _csv(rows))

    assert report.status_code == 422
    cells = re.findall(r"<li>(ligne \d+, colonne « [^»]+ ») : ([^<]+)</li>", report.text)
    assert [c for c, _ in cells] == ["ligne 3, colonne « Immatriculation »", "ligne 4, colonne « Traitement »"]
    assert all(len(reason.strip()) > 5 for _, reason in cells)
    assert "H0, H1, H2 ou H3" in cells[1][1]
    assert world.lead_counts("police_judiciaire:") == {}, "nothing is written before the person confirms"

    done = browser.post(re.search(r'action="(/import/[^"]+/verser)"', report.text)[1],
                        data={"csrf": _csrf(report.text)})
    assert done.status_code == 200 and "1 piste(s) versée(s)" in done.text, done.text
    leads = world.leads("police_judiciaire:")
    assert len(leads) == 1
    (lead,) = leads.values()
    assert lead["plates"] == ["GH-456-JK"] and len(lead["persons"]) == 1
    assert lead["persons"][0]["pseudonym"].startswith("ps1:")
    assert "[NOM]" in lead["narrative"]
    provenance = world.query("MATCH (l:Lead) RETURN l.entered_by AS who")
    assert provenance == [{"who": user_id}]
    # …and in the audit trail: the collection entry names the person who entered the lead.
    auditor = identity.upsert_user(Graph(world.driver, world.db), agency="police", role="auditor",
                                   name=f"auditeur-{uuid.uuid4().hex[:6]}")
    token = identity.issue_token(Graph(world.driver, world.db), auditor.user_id).token
    trail = httpx.get(f"{world.hub.url}/api/v1/audit", params={"action": "collection", "limit": 50},
                      headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert trail.status_code == 200, trail.text
    assert [e["details"].get("entered_by") for e in trail.json()
            if e.get("connector_id") == "intake"][:1] == [user_id], trail.text
    # The names typed in the row, and the reporter's name in a column not imported, never left
    # the intake service and are nowhere in the graph.
    sent = intake.recorder.sent().lower()
    for secret in [*names, reporter]:
        assert secret.lower().encode() not in sent
    world.assert_no_raw_identifier([*names, reporter])


# What others read of a bailleur_social lead, per handling code: rules.yaml's
# analyst-other-redacted-h0-h1 / analyst-other-hit-h2, coordinator-full-h0-h2, and for the
# bailleur's own staff outside-law-enforcement-analyst-no-read (none: answered as unknown, 404).
READS = """
reader                    H0        H2
police:analyst            redacted  hit
gendarmerie:coordinator   full      full
bailleur_social:analyst   none      none
"""


def _read(world: World, lead_id: str, agency: str, role: str) -> httpx.Response:
    graph = Graph(world.driver, world.db)
    user = identity.upsert_user(graph, agency=agency, role=role, name=f"lecteur-{uuid.uuid4().hex[:6]}")
    token = identity.issue_token(graph, user.user_id).token
    return httpx.get(f"{world.hub.url}/api/v1/leads/{lead_id}", params={"justification": JUSTIFICATION},
                     headers={"Authorization": f"Bearer {token}"}, timeout=10)


def _outcome(resp: httpx.Response) -> str:
    if resp.status_code == 404:
        return "none"
    body = resp.json()
    return "hit" if "handle" in body and "lead_count" in body else body["access"]


def test_a_bailleur_social_enters_leads_others_read_per_code_and_reads_nothing(
        intake: Intake, world: World) -> None:
    user_id, password = intake.person("bailleur_social")
    browser = intake.browser(user_id, password)
    refs = {}
    for code in ("H0", "H2"):
        form = browser.get("/")
        plate = "EF-%03d-GH" % (100 + len(refs))
        done = browser.post("/saisie", data={
            "csrf": _csrf(form.text), "nature": "Signalement bailleur", "code_insee": "61001",
            "commune": "Alençon", "adresse": "rue de Perseigne", "immatriculation": plate,
            "recit": "Allées et venues nocturnes dans le hall", "code_traitement": code,
            "fiabilite_source": "C", "credibilite_information": "3"})
        assert done.status_code == 200 and "1 piste(s) versée(s)" in done.text, done.text
        refs[code] = world.query("MATCH (l:Lead)-[:MENTIONS_VEHICLE]->(:Vehicle {plate: $p}) "
                                 "RETURN l.lead_id AS id, l.agency AS agency, l.entered_by AS who",
                                 p=plate)[0]
        assert refs[code]["agency"] == "bailleur_social" and refs[code]["who"] == user_id

    header, *lines = [ln.split() for ln in READS.strip().splitlines()]
    for reader, *expected in lines:
        agency, role = reader.split(":")
        for code, want in zip(header[1:], expected, strict=True):
            resp = _read(world, refs[code]["id"], agency, role)
            assert _outcome(resp) == want, (reader, code, resp.text)
            assert user_id.encode() not in resp.content, "who entered a lead is not shown to readers"


def test_a_person_without_leads_submit_is_refused_by_the_hub(intake: Intake, world: World) -> None:
    user_id, password = intake.person("police", "auditor")
    browser = intake.browser(user_id, password)  # the intake service forwards; the hub decides
    form = browser.get("/")
    done = browser.post("/saisie", data={
        "csrf": _csrf(form.text), "nature": "Renseignement de terrain", "immatriculation": "JK-789-LM",
        "code_traitement": "H0", "fiabilite_source": "B", "credibilite_information": "2"})
    assert done.status_code == 502
    pushes = [(status, body) for req, _, status, body in intake.recorder.exchanges
              if req.url.path == "/api/v1/leads"]
    assert pushes and pushes[-1][0] == 403
    raw = pushes[-1][1]
    assert b'"code":"forbidden"' in raw
    assert ("opération non autorisée : le rôle « auditor » ne peut pas saisir des pistes par le "
            "connecteur de saisie").encode() in raw
    assert world.query("MATCH (l:Lead) RETURN count(l) AS n") == [{"n": 0}]
    assert "ne peut pas saisir des pistes" in done.text
