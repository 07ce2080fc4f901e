"""The citizen's receipt, end to end: the real citizen connector, the REAL hub (``create_app`` on
the session's real Neo4j, in process so its clock can be moved: ``app.dependency_overrides``
on ``hub.deps.get_clock``), the real workflow API, and the platform's receipt desk stand-in served
over HTTP.

Oracles come from the rules: a change is visible from ``changed_at + 72 h ± 48 h``
(policies/data/receipts.yaml), so « reçue » before ``changed_at + 24 h`` and the new status after
``changed_at + 120 h`` whatever the lead's jitter; a seizure reads « exploitée », a lead closed
without follow-up « close ». Leak checks assert on raw bytes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from neo4j import Driver
from pydantic import SecretStr

from connectors.citizen.connector import CitizenConnector, CitizenSettings
from connectors.citizen.receipts import CitizenHubClient, ReceiptBook, normalize_code
from connectors.demo.citizen_platform import ReceiptDesk
from connectors.demo.gendarmerie_feed import serve_in_thread
from connectors.push import HubRefused, PushPolicy
from connectors.signing import load_signer
from graph import identity
from graph.handle import Graph
from hub.app import create_app
from hub.contract.receipts import ReceiptStatus
from hub.contract.signing import generate_keypair, key_id_of, load_public_key_pem
from hub.deps import get_clock
from hub.settings import Settings
from tests.factories import canary_tag

FAST = PushPolicy(attempts=2, initial_wait_s=0.05, max_wait_s=0.1, max_retry_after_s=0.1, timeout_s=20)
H = timedelta(hours=1)
EARLIEST, LATEST = 24 * H, 120 * H  # delay ± jitter, receipts.yaml


class Recording(httpx.BaseTransport):
    """The hub's in-process transport, keeping every request and answer as raw bytes."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner, self.sent, self.got = inner, [], []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        head = "".join(f"{k}: {v}\n" for k, v in request.headers.items())
        self.sent.append(f"{request.method} {request.url}\n{head}".encode() + request.read())
        response = self.inner.handle_request(request)
        self.got.append(response.read())
        return response

    def raw(self) -> bytes:
        return b"\n".join(self.sent + self.got)


@pytest.fixture(scope="module")
def hub(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict]]:
    """The hub with a clock the test sets (``clock["now"]``; None: the real time)."""
    data_dir = tmp_path_factory.mktemp("receipts-hub")
    app = create_app(settings.model_copy(update={"data_dir": data_dir, "hub_jobs_enabled": False}))
    clock: dict[str, Any] = {"now": None, "data_dir": data_dir}
    app.dependency_overrides[get_clock] = lambda: clock["now"] or datetime.now(UTC)
    with TestClient(app) as client:
        yield client, clock


@pytest.fixture(scope="module")
def desk() -> Iterator[tuple[ReceiptDesk, str]]:
    stand_in = ReceiptDesk(token="jeton-guichet")
    with serve_in_thread(stand_in.app) as url:
        yield stand_in, url


@dataclass
class Setup:
    client: TestClient
    clock: dict[str, Any]
    graph: Graph
    tmp: Path
    tag: str

    def register(self, name: str, agency: str) -> tuple[str, Path]:
        key_path = self.tmp / f"{name}-{agency}.pem"
        pem = generate_keypair(key_path, overwrite=True)
        identity.register_connector_key(self.graph, identity.ConnectorKey(
            key_id=key_id_of(load_public_key_pem(pem)), connector=name, agency=agency, public_key_pem=pem))
        user = identity.upsert_user(self.graph, agency=agency, role="connector", name=name)
        return identity.issue_token(self.graph, user.user_id, purpose="connector").token, key_path

    def hub_client(self, token: str, key_path: Path, rec: Recording) -> CitizenHubClient:
        return CitizenHubClient("http://127.0.0.1", load_signer(key_path, SecretStr(token)), FAST,
                                transport=rec)

    def analyst(self) -> dict[str, str]:
        user = identity.upsert_user(self.graph, agency="police", role="analyst", name=f"analyste-{self.tag}")
        return {"Authorization": f"Bearer {identity.issue_token(self.graph, user.user_id).token}"}

    def lead_id(self, ref: str) -> str:
        rows = self.graph.query("MATCH (l:Lead {source_key: $k}) RETURN l.lead_id AS id", k=f"police|{ref}")
        return rows[0]["id"]

    def move(self, headers: dict[str, str], ref: str, *steps: dict[str, Any]) -> datetime:
        """Walk the lead through ``steps`` with the workflow API; the instant of the last change."""
        lead_id, at = self.lead_id(ref), None
        for step in steps:
            resp = self.client.post(f"/api/v1/leads/{lead_id}/status", json=step, headers=headers)
            assert resp.status_code == 200, resp.text
            at = datetime.fromisoformat(resp.json()["change"]["at"])
        assert at is not None
        return at


@pytest.fixture
def setup(hub, clean_graph: Driver, settings: Settings, tmp_path: Path) -> Iterator[Setup]:
    client, clock = hub
    clock["now"] = None
    yield Setup(client, clock, Graph(clean_graph, settings.neo4j_database), tmp_path, canary_tag(8))
    clock["now"] = None


ASSESS = {"expected_state": "new", "state": "under_assessment"}
ASSIGN = {"expected_state": "under_assessment", "state": "assigned", "assignee_agency": "police",
          "unit": "BSU Besançon"}
ACT = {"expected_state": "assigned", "state": "acted_on"}
SEIZED = {"expected_state": "acted_on", "state": "closed", "outcome": "seizure"}
NO_FOLLOW_UP = {"expected_state": "assigned", "state": "closed", "outcome": "no_follow_up"}


def reporter(tag: str, n: int) -> dict[str, str]:
    digits = "".join(str((ord(c) * (n + 3)) % 10) for c in tag[:8])
    return {"nom": f"Canari{tag}{n}".title(), "prenom": f"Odile{tag}".title(), "telephone": f"06{digits}",
            "email": f"temoin.{tag.lower()}{n}@orange.fr", "ip": "90.12.34.56", "compte": f"usager-{tag}{n}"}


def write_reports(export: Path, tag: str, n: int) -> tuple[list[str], list[dict[str, str]]]:
    export.mkdir(parents=True, exist_ok=True)
    refs, people, lines = [], [], []
    for i in range(n):
        who = reporter(tag, i)
        ref = f"MSI-{tag}-{i}"
        refs.append(ref)
        people.append(who)
        lines.append(json.dumps({
            "id": ref, "version": 1, "type": "signalement", "recu_le": "2026-03-02T19:52:10Z",
            "competence": "police", "declarant": who,
            "faits": {"date": "2026-03-02", "code_insee": "25056", "commune": "Besançon", "lieu": "Planoise"},
            "description": (f"Vente de cocaïne au pied de l'immeuble. Je suis {who['prenom']} {who['nom']}, "
                            f"joignable au {who['telephone']} ou {who['email']}."),
            "elements": {"produits": ["cocaine"]},
        }, ensure_ascii=False))
    (export / "signalements-2026-03-02.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return refs, people


def citizen(s: Setup, token: str, key_path: Path, desk_url: str, rec: Recording) -> CitizenConnector:
    class Recorded(CitizenConnector):
        def hub_client(self) -> CitizenHubClient:
            return s.hub_client(token, key_path, rec)

    c = Recorded(CitizenSettings(
        agency="police", export_dir=s.tmp / "export", state_dir=str(s.tmp / "state"),
        signing_key_path=str(key_path), hub_url="http://127.0.0.1", hub_token=SecretStr(token),
        linkage_key=SecretStr("receipts-linkage-key-0123456789abcdef"),
        receipts_url=desk_url, receipts_token=SecretStr("jeton-guichet")))
    c.push_policy = FAST  # type: ignore[misc]
    return c


def identity_marks(people: list[dict[str, str]]) -> list[str]:
    marks = []
    for who in people:
        phone = who["telephone"]
        marks += [who["nom"], who["prenom"], who["email"], who["compte"], phone, "+33" + phone[1:],
                  " ".join(re.findall("..", phone))]
    return marks


def graph_strings(graph: Graph) -> str:
    rows = graph.query("MATCH (n) RETURN properties(n) AS p "
                       "UNION ALL MATCH ()-[r]->() RETURN properties(r) AS p")
    return json.dumps([r["p"] for r in rows], default=str, ensure_ascii=False)


def test_a_seizure_reads_exploitee_only_after_the_delay_and_nothing_links_code_and_reporter(
        setup: Setup, desk: tuple[ReceiptDesk, str]) -> None:
    s, (platform, desk_url) = setup, desk
    token, key_path = s.register("citizen", "police")
    rec = Recording(s.client._transport)
    refs, people = write_reports(s.tmp / "export", s.tag, 3)
    seized, closed, waiting = refs
    c = citizen(s, token, key_path, desk_url, rec)

    run = c.run()
    assert (run.status.value, run.count_pushed) == ("ok", 3), run.last_error
    with ReceiptBook(s.tmp / "state", "citizen") as book:
        codes = {ref: book.get(ref).code for ref in refs}  # type: ignore[union-attr]
    assert all(normalize_code(code) == code for code in codes.values()) and len(set(codes.values())) == 3
    assert (s.tmp / "state" / "citizen-receipts.sqlite3").stat().st_mode & 0o777 == 0o600
    assert {ref: platform.status_label(codes[ref]) for ref in refs} == dict.fromkeys(refs, "reçue")

    headers = s.analyst()
    acted = s.move(headers, seized, ASSESS, ASSIGN, ACT)
    s.move(headers, seized, SEIZED)
    shut = s.move(headers, closed, ASSESS, ASSIGN, NO_FOLLOW_UP)

    def citizen_reads(at: datetime) -> dict[str, str | None]:
        s.clock["now"] = at
        c.run()
        reads = {}
        for ref in refs:
            resp = httpx.get(f"{desk_url}/api/recepisses/{codes[ref].lower()}", timeout=5)
            assert resp.status_code == 200 and set(resp.json()) == {"code", "statut"}  # no date
            reads[ref] = resp.json()["statut"]
        return reads

    assert citizen_reads(min(acted, shut) + EARLIEST - timedelta(seconds=1)) == dict.fromkeys(refs, "reçue")
    assert citizen_reads(max(acted, shut) + LATEST + timedelta(seconds=1)) == {
        seized: "exploitée", closed: "close", waiting: "reçue"}

    # The jitter: the instant each lead's change shows, found to the second by bisection through
    # the hub's answer, is stable however often it is asked, and differs from lead to lead.
    own = s.hub_client(token, key_path, rec)

    def status(ref: str, at: datetime) -> str | None:
        s.clock["now"] = at
        value = own.receipt_statuses("citizen", [ref])[ref]
        return None if value is None else value.value

    offsets = {}
    for ref, changed, final in ((seized, acted, "exploitee"), (closed, shut, "close")):
        lo, hi = changed + EARLIEST - timedelta(seconds=1), changed + LATEST + timedelta(seconds=1)
        while hi - lo > timedelta(seconds=1):
            mid = lo + (hi - lo) / 2
            lo, hi = (lo, mid) if status(ref, mid) == final else (mid, hi)
        assert [status(ref, lo) for _ in range(3)] == ["recue"] * 3
        assert [status(ref, hi) for _ in range(3)] == [final] * 3
        offsets[ref] = hi - changed
    assert all(EARLIEST <= o <= LATEST + timedelta(seconds=1) for o in offsets.values())
    assert offsets[seized] != offsets[closed]  # one draw per lead (equal: 1 chance in ~345,600)

    # Another agency's citizen connector, or another connector of the same agency, asking about
    # these leads gets exactly what an unknown reference gets.
    s.clock["now"] = max(acted, shut) + LATEST + H
    for name, agency in (("citizen", "gendarmerie"), ("police", "police")):
        other_rec = Recording(s.client._transport)
        other = s.hub_client(*s.register(name, agency), other_rec)
        unknown = f"MSI-{s.tag}-INCONNU"
        assert other.receipt_statuses(name, [seized]) == {seized: None}
        assert other.receipt_statuses(name, [unknown]) == {unknown: None}
        theirs, nothing = other_rec.got
        assert theirs.replace(seized.encode(), b"REF") == nothing.replace(unknown.encode(), b"REF")
    assert own.receipt_statuses("citizen", [seized, "MSI-AUTRE"]) == {seized: ReceiptStatus.USED,
                                                                      "MSI-AUTRE": None}
    with pytest.raises(HubRefused) as refused:  # bad input: the field, in French
        own._post("/api/v1/connectors/citizen/receipts", {"source_refs": []})
    assert refused.value.http_status == 422 and refused.value.details[0]["field"] == "source_refs"
    with pytest.raises(HubRefused) as refused:  # its key, another connector's name
        own.receipt_statuses("police", [seized])
    assert refused.value.http_status == 403

    # Nothing links the code to the reporter: the hub never got a code, the platform and the hub
    # never got the reporter from the connector.
    hub_bytes, platform_bytes = rec.raw(), platform.raw_bytes()
    assert b"/receipts" in hub_bytes and b"exploitee" in hub_bytes and platform_bytes
    data_dir_bytes = b"".join(p.read_bytes() for p in Path(s.clock["data_dir"]).rglob("*") if p.is_file())
    in_graph = graph_strings(s.graph)
    for code in codes.values():
        for variant in (code, code.replace("-", "")):
            assert variant.encode() not in hub_bytes and variant not in in_graph
            assert variant.encode() not in data_dir_bytes  # the hub's audit trail and keys
    seen = (hub_bytes.decode("utf-8", "replace") + platform_bytes.decode("utf-8", "replace")
            + in_graph).casefold()
    assert [m for m in identity_marks(people) if m.casefold() in seen] == []
