"""Federation, holder and querier, over the hub's own HTTP routes (hub/routers/federation.py).

One hub app, CROSS 25 (federation on, a development PKI), answers the peer-facing routes; its
calls are signed as the antenna would sign them (the antenna's key, ``X-Crosshub-Peer``) and
made through the app's own ASGI stack (``TestClient``). The querier side runs as CROSS 39 (or
21, 70) in this process on the same graph: a ``PeerTransport`` that calls CROSS 25's routes.
Both sides see the same leads (one Neo4j per worker), so the querier's round is scoped to the
leads written here by its cursor, and ticket lists are read per side.

Expected outcomes come from the rules (policies/data/federation.yaml): police H1 → region (every
CROSS of the antenne Est), H2 → neighbours (25's: 39, 70, 90 — not 21), H3 → never; the desk of
police at CROSS 25; follow-up 48 h, H2 72 h; quota per peer and day.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hub.federation.transport import FederationAuth
from graph import federation as graph_fed
from graph import identity
from graph.federation import TicketSide
from graph.handle import Graph
from graph.leads import write_leads
from hub.app import create_app
from hub.audit import AuditFilters, query
from hub.contract.errors import NotFound
from hub.contract.lead import Lead
from hub.contract.signing import load_private_key
from hub.federation import holder
from hub.federation.identifiers import federation_input
from hub.federation.oprf import HolderKey, blind, epoch_key, finalize, truncate
from hub.federation.pki import PartyFiles, make_dev_pki
from hub.federation.querier import cursor_name, run_round
from hub.federation.runtime import runtime_of
from hub.federation.service import FederationContext, PeerRefused
from hub.federation.wire import (
    Claim,
    ClaimsRequest,
    ClaimsResponse,
    EvaluateRequest,
    EvaluateResponse,
    SignedFilter,
    TicketStatusUpdate,
)
from policies.federation import epoch_of
from tests.factories import canary_tag, lead, random_plate
from tests.second_factor import stepped_up

HOLDER = "cross-25"
POLICE_DESK_25 = "DIPN 25, cellule renseignement — 03 81 00 25 01"  # federation.yaml
CROSS_DESK_25 = "Secrétariat CROSS 25 — 03 81 00 25 25"  # several agencies behind: the CROSS's


class Antenna:
    """Calls CROSS 25's peer routes as the antenna forwards them: its signature, the peer named."""

    def __init__(self, client: TestClient, pki: Path) -> None:
        self.client = client
        self.auth = FederationAuth(load_private_key(PartyFiles.of(pki, "antenna-est").signing_key),
                                   None, bind_peer=True)

    def call(self, peer: str, method: str, path: str, body: Any = None, auth: Any = None):
        content = body.model_dump_json().encode() if body is not None else None
        return self.client.request(method, path, content=content, auth=auth or self.auth,
                                   headers={"X-Crosshub-Peer": peer,
                                            "Content-Type": "application/json"})


class Through:
    """The querier's transport: CROSS ``peer`` asking CROSS 25 through the (test) antenna."""

    def __init__(self, antenna: Antenna, peer: str) -> None:
        self.antenna, self.peer = antenna, peer

    def _ok(self, response, model):
        if response.status_code >= 400:
            raise PeerRefused(response.status_code, response.json().get("message", ""))
        return model.model_validate_json(response.content)

    def get_filter(self, holder_id: str) -> SignedFilter:
        return self._ok(self.antenna.call(self.peer, "GET", "/federation/v1/filter"), SignedFilter)

    def evaluate(self, holder_id: str, request: EvaluateRequest) -> EvaluateResponse:
        return self._ok(self.antenna.call(self.peer, "POST", "/federation/v1/evaluate", request),
                        EvaluateResponse)

    def claims(self, holder_id: str, request: ClaimsRequest) -> ClaimsResponse:
        return self._ok(self.antenna.call(self.peer, "POST", "/federation/v1/claims", request),
                        ClaimsResponse)

    def ticket_status(self, ticket_id: str, update: TicketStatusUpdate) -> None:
        raise AssertionError("the querier reports no status")


class OtherKey(Through):
    """A holder that evaluates with a key other than the one its signed filter publishes."""

    def evaluate(self, holder_id: str, request: EvaluateRequest) -> EvaluateResponse:
        rogue = HolderKey.from_seed(secrets.token_bytes(32), HOLDER, request.epoch)
        return EvaluateResponse(epoch=request.epoch, evaluated=rogue.evaluate_batch(request.blinded))


class Recorder:
    def __init__(self) -> None:
        self.sent: list[tuple[str, TicketStatusUpdate]] = []

    def ticket_status(self, ticket_id: str, update: TicketStatusUpdate) -> None:
        self.sent.append((ticket_id, update))


@pytest.fixture(scope="module")
def hub(hub_settings, tmp_path_factory) -> Iterator[dict[str, Any]]:
    base = tmp_path_factory.mktemp("federation")
    pki = base / "pki"
    make_dev_pki(pki, members=("cross-25", "cross-39", "cross-21", "cross-70"))
    settings = hub_settings.model_copy(update={
        "data_dir": base / "hub25", "federation_enabled": True, "federation_pki_dir": pki,
        "cross_departement": "25", "hub_jobs_enabled": False})
    with TestClient(create_app(settings)) as client:
        runtime = runtime_of(client.app)
        runtime.transport = Recorder()  # type: ignore[assignment]
        graph: Graph = client.app.state.graph
        written_from = datetime.now(UTC) - timedelta(seconds=1)
        plates = {name: random_plate() for name in ("region", "never", "neighbours")}
        phone_digits = f"61{secrets.randbelow(10)}" + "".join(
            str(secrets.randbelow(10)) for _ in range(6))
        leads = [
            lead(source_agency="police", handling_code="H1",
                 vehicles=[{"plate": plates["region"]}], phones=["0" + phone_digits]),
            lead(source_agency="police", handling_code="H3", vehicles=[{"plate": plates["never"]}]),
            lead(source_agency="police", handling_code="H2",
                 vehicles=[{"plate": plates["neighbours"]}]),
            lead(source_agency="gendarmerie", source_ref=f"GN-{canary_tag(8)}", handling_code="H2",
                 vehicles=[{"plate": plates["neighbours"]}]),
        ]
        ids = [w.lead_id for w in write_leads(graph, [Lead.model_validate(x) for x in leads])]
        antenna = Antenna(client, pki)
        yield {"client": client, "settings": settings, "graph": graph, "runtime": runtime,
               "pki": pki, "antenna": antenna, "plates": plates, "phone": "+33" + phone_digits,
               "ids": ids, "since": written_from}


def querier(hub: dict[str, Any], cross_id: str) -> FederationContext:
    """CROSS ``cross_id`` in this process: its own keys and signing key, the same directory."""
    ctx = hub["runtime"].context
    files = PartyFiles.of(hub["pki"], cross_id)
    return FederationContext(graph=hub["graph"], rules=ctx.rules, cross_id=cross_id,
                             keys_dir=hub["settings"].data_dir / f"keys-{cross_id}",
                             audit=ctx.audit, signing_key=load_private_key(files.signing_key),
                             directory=ctx.directory)


def holder_token(hub: dict[str, Any], kind: str, key: str) -> bytes:
    rules = hub["runtime"].context.rules
    epoch = epoch_of(rules, datetime.now(UTC))
    own = epoch_key(hub["settings"].keys_dir, HOLDER, epoch)
    return truncate(own.token(federation_input(kind, key)), rules.token_bytes)


def _round(hub: dict[str, Any], peer: str, transport_cls=Through):
    graph_fed.set_cursor(hub["graph"], cursor_name(HOLDER), hub["since"])
    return run_round(querier(hub, peer), transport_cls(hub["antenna"], peer), [HOLDER])[0]


def _tickets(hub, side: TicketSide, peer: str) -> dict[tuple[str, str], Any]:
    mine = {hub["plates"][k] for k in hub["plates"]} | {hub["phone"]}
    out = {}
    for agency in ("police", "gendarmerie"):
        for t in graph_fed.list_tickets(hub["graph"], agency):
            if t.side is side and t.peer == peer and t.entity_key in mine:
                out[t.kind, t.entity_key] = t
    return out


def test_a_round_gives_one_ticket_each_way_with_desk_code_and_deadline(hub):
    plates, phone = hub["plates"], hub["phone"]
    result = _round(hub, "cross-39")
    assert result.error is None
    held = _tickets(hub, TicketSide.HOLDER, "cross-39")
    claimed = _tickets(hub, TicketSide.CLAIMANT, HOLDER)
    expected = {("plate", plates["region"]), ("phone", phone), ("plate", plates["neighbours"])}
    assert set(held) == expected and set(claimed) == expected  # H3 plate: neither side
    region = held["plate", plates["region"]]
    assert region.desk == POLICE_DESK_25 and region.handling_code == "H1"
    assert region.due_at - region.created_at == timedelta(hours=48)
    neighbours = held["plate", plates["neighbours"]]
    # Police H2 and gendarmerie H2 behind it: H2's 72 h, two agencies so the CROSS's own desk.
    assert neighbours.handling_code == "H2" and neighbours.desk == CROSS_DESK_25
    assert neighbours.due_at - neighbours.created_at == timedelta(hours=72)
    assert sorted(neighbours.lead_ids) == sorted([hub["ids"][2], hub["ids"][3]])
    for key, ticket in held.items():  # the claimant keeps the holder's answer as given
        assert (claimed[key].ticket_id, claimed[key].desk, claimed[key].due_at) == (
            ticket.ticket_id, ticket.desk, ticket.due_at)
    # The agencies behind are told, in French, whom to call and by when — never the value.
    told = hub["graph"].query("MATCH (n:Notification) WHERE n.payload_ticket_id = $id "
                              "AND n.payload_side = 'claimant' RETURN n.message AS m, n.agency AS a",
                              id=region.ticket_id)
    assert [r["a"] for r in told] == ["police"]
    assert told[0]["m"].startswith("Plaque aussi détenue par le CROSS du Doubs — contactez "
                                   + POLICE_DESK_25)
    assert plates["region"] not in told[0]["m"]
    never = hub["graph"].query("MATCH (v:Vehicle {plate: $p}) RETURN v.fed_token AS t",
                               p=plates["never"])
    assert never[0]["t"] is None  # an H3 identifier carries no token at all
    # Asked again (cursor back): the same tickets, none new.
    again = _round(hub, "cross-39")
    assert again.new_tickets == 0
    assert sorted(again.tickets) == sorted(t.ticket_id for t in held.values())
    # The audit trail: the query sent, with counts by kind and the leads behind the claims —
    # never a value.
    entries = query(hub["settings"].audit_dir, AuditFilters(entity_key=f"federation:{HOLDER}"))
    sent = [e for e in entries if e.details.get("event") == "federation_query"]
    assert sent and sent[0].details["claimed_plate"] == 2 and sent[0].details["claimed_phone"] == 1
    assert set(sent[0].lead_ids) == {hub["ids"][0], hub["ids"][2], hub["ids"][3]}
    assert plates["region"] not in json.dumps([e.model_dump(mode="json") for e in entries])


def test_scope_decides_per_peer_and_an_unknown_token_is_refused(hub):
    plates, antenna = hub["plates"], hub["antenna"]
    region = holder_token(hub, "plate", plates["region"])
    neighbours = holder_token(hub, "plate", plates["neighbours"])
    # CROSS 21 (same antenna, not 25's neighbour): its filter lacks the neighbours-scoped plate.
    f21 = SignedFilter.model_validate_json(antenna.call("cross-21", "GET", "/federation/v1/filter").content)
    f39 = SignedFilter.model_validate_json(antenna.call("cross-39", "GET", "/federation/v1/filter").content)
    assert region in f21.tokens and neighbours not in f21.tokens
    assert region in f39.tokens and neighbours in f39.tokens
    assert len(f21.tokens) == len(f39.tokens) >= 1024  # padded to the same power of two
    # Even holding the right token, 21 gets no hit for it; a token nobody holds gets none either.
    ids = [secrets.token_hex(16) for _ in range(3)]
    claims = ClaimsRequest(epoch=f21.epoch, claims=[
        Claim(claim_id=ids[0], kind="plate", token=neighbours),
        Claim(claim_id=ids[1], kind="plate", token=secrets.token_bytes(8)),
        Claim(claim_id=ids[2], kind="plate", token=region)])
    answer = ClaimsResponse.model_validate_json(
        antenna.call("cross-21", "POST", "/federation/v1/claims", claims).content)
    assert sorted(answer.refused) == sorted(ids[:2])
    assert [(t.claim_id, t.holder, t.claimant) for t in answer.tickets] == [(ids[2], HOLDER, "cross-21")]
    # A repeated claim returns the same ticket.
    again = ClaimsResponse.model_validate_json(antenna.call("cross-21", "POST", "/federation/v1/claims",
        ClaimsRequest(epoch=f21.epoch, claims=[Claim(claim_id=secrets.token_hex(16), kind="plate",
                                                     token=region)])).content)
    assert [t.ticket_id for t in again.tickets] == [answer.tickets[0].ticket_id]
    # Another epoch's claim never matches.
    stale = ClaimsRequest(epoch=f21.epoch - 1, claims=[Claim(claim_id=ids[2], kind="plate", token=region)])
    assert ClaimsResponse.model_validate_json(antenna.call(
        "cross-21", "POST", "/federation/v1/claims", stale).content).refused == [ids[2]]


def test_past_its_quota_a_peer_gets_429(hub):
    ctx = hub["runtime"].context
    ctx.rules = ctx.rules.model_copy(update={"quotas": {**ctx.rules.quotas, "cross-70": 3}})
    epoch = epoch_of(ctx.rules, datetime.now(UTC))
    asked = EvaluateRequest(epoch=epoch, blinded=blind([b"plate:FR:AB123CD", b"x"]).blinded)
    assert hub["antenna"].call("cross-70", "POST", "/federation/v1/evaluate", asked).status_code == 200
    refused = hub["antenna"].call("cross-70", "POST", "/federation/v1/evaluate", asked)
    assert refused.status_code == 429
    assert b'"code":"quota_exceeded"' in refused.content
    assert "quota d'évaluations du jour dépassé".encode() in refused.content
    assert int(refused.headers["Retry-After"]) > 0


def test_a_holder_using_another_key_fails_the_proof(hub):
    graph_fed.set_cursor(hub["graph"], cursor_name(HOLDER), hub["since"])
    before = _tickets(hub, TicketSide.CLAIMANT, HOLDER)
    result = _round(hub, "cross-39", OtherKey)
    assert result.error is not None and "preuve" in result.error
    assert result.tickets == [] and _tickets(hub, TicketSide.CLAIMANT, HOLDER) == before
    # The cursor did not move: the next round asks again.
    assert graph_fed.get_cursor(hub["graph"], cursor_name(HOLDER)) == hub["since"]


def test_peer_routes_take_only_the_antennas_signature(hub):
    client, pki = hub["client"], hub["pki"]
    unsigned = client.get("/federation/v1/filter", headers={"X-Crosshub-Peer": "cross-39"})
    assert unsigned.status_code == 401 and b"X-CrossHub-Key-Id" in unsigned.content
    member = FederationAuth(load_private_key(PartyFiles.of(pki, "cross-39").signing_key), None,
                            bind_peer=True)
    as_member = hub["antenna"].call("cross-39", "GET", "/federation/v1/filter", auth=member)
    assert as_member.status_code == 401 and "inconnue".encode() in as_member.content
    no_peer = client.get("/federation/v1/filter", auth=hub["antenna"].auth)
    assert no_peer.status_code == 401 and b"X-Crosshub-Peer" in no_peer.content


def test_the_agency_lists_its_tickets_naming_only_leads_it_may_read(hub, make_user):
    client, plates = hub["client"], hub["plates"]
    if not _tickets(hub, TicketSide.HOLDER, "cross-39"):
        _round(hub, "cross-39")
    police_h2, gendarmerie_h2 = hub["ids"][2], hub["ids"][3]
    gendarmerie = _user(hub, "gendarmerie", "analyst")  # police H2: a hit for them
    listed = client.get("/api/v1/federation/tickets", headers=gendarmerie)
    assert listed.status_code == 200
    mine = [t for t in listed.json()["tickets"] if t["side"] == "holder" and t["peer"] == "cross-39"
            and gendarmerie_h2 in t["lead_ids"]]
    assert len(mine) == 1 and mine[0]["handling_code"] == "H2" and mine[0]["overdue"] is False
    # The police H2 lead behind the same ticket is a hit for a gendarmerie analyst: never named.
    assert police_h2.encode() not in listed.content
    assert plates["neighbours"].encode() not in listed.content
    # The police answers its ticket; the answer goes to the antenna, then is recorded.
    ticket_id = mine[0]["ticket_id"]
    police = stepped_up(client, _user_id(hub, "police", "coordinator"))
    refused = client.post(f"/api/v1/federation/tickets/{ticket_id}/answer", headers=police,
                          json={"status": "answered", "message": "Rappeler le 06 12 34 56 78"})
    assert refused.status_code == 422  # no identifier in a message that leaves the hub
    answered = client.post(f"/api/v1/federation/tickets/{ticket_id}/answer", headers=police,
                           json={"status": "answered", "message": "Contact pris avec la DIPN 39"})
    assert answered.status_code == 200 and answered.json()["status"] == "answered"
    assert hub["runtime"].transport.sent[-1][0] == ticket_id
    # Another agency's person cannot answer it: as unknown.
    other = stepped_up(client, _user_id(hub, "douanes", "coordinator"))
    assert client.post(f"/api/v1/federation/tickets/{ticket_id}/answer", headers=other,
                       json={"status": "declined"}).status_code == 404


def _user_id(hub, agency: str, role: str) -> str:
    return identity.upsert_user(hub["graph"], agency=agency, role=role,
                                name=f"{role}-{canary_tag(6).lower()}",
                                contact=f"Permanence CROSS — {agency}").user_id


def _user(hub, agency: str, role: str) -> dict[str, str]:
    token = identity.issue_token(hub["graph"], _user_id(hub, agency, role)).token
    return {"Authorization": f"Bearer {token}"}


def test_the_claimant_records_the_holders_answer_from_that_holder_only(hub):
    if not _tickets(hub, TicketSide.CLAIMANT, HOLDER):
        _round(hub, "cross-39")
    ticket = next(iter(_tickets(hub, TicketSide.CLAIMANT, HOLDER).values()))
    as_39 = querier(hub, "cross-39")
    update = TicketStatusUpdate(status="released", at=datetime.now(UTC),
                                message="Communication accordée par la DIPN 25")
    with pytest.raises(NotFound):  # another member cannot answer CROSS 25's ticket
        holder.receive_status(as_39, "cross-70", ticket.ticket_id, update)
    done = holder.receive_status(as_39, HOLDER, ticket.ticket_id, update)
    assert done.status.value == "released" and done.message == update.message
    told = hub["graph"].query("MATCH (n:Notification) WHERE n.payload_ticket_id = $id "
                              "AND n.payload_status = 'released' RETURN n.message AS m",
                              id=ticket.ticket_id)
    assert told and "a communiqué l'information" in told[0]["m"]
