"""Three CROSS hubs (Doubs 25, Jura 39, Haute-Saône 70), each with its own real Neo4j, its API
process and its mutual-TLS federation listener, and an OFAST antenna: real processes on loopback
(hub/dev/federation.py). Each hub runs its querier round as its own process.

The rules are the packaged ones with three changes, so each property has a case (ADR 0024):
Doubs and Haute-Saône are *not* neighbours (a neighbours-scoped lead of one never reaches the
other: the no-relay case), Haute-Saône may ask Jura at most ``QUOTA_70`` evaluations a day, and
H1 tickets fall due after a few seconds (the overdue case).

What each hub holds (the oracle of every assertion below):

=========  ====================================  ================================  ==============
name       Doubs 25                              Jura 39                           Haute-Saône 70
=========  ====================================  ================================  ==============
SHARED     police H2 (neighbours), ``ab 123 cd``  douanes H0 (national), dashed     —
PHONE      —                                     gendarmerie H0, ``06 …`` spelling police H0, E.164
SECRET     police H3 (never)                     —                                 police H0
NOBODY     prefecture H0 (agency not listed)     police H0                         —
RELAY      police H2 (neighbours: not 70)        douanes H0                        police H0
LATE       —                                     police H1 (region, due in secs)   police H0
=========  ====================================  ================================  ==============

Expected tickets, one each way per pair that may see each other: SHARED 25↔39; PHONE 39↔70;
RELAY 25↔39 and 39↔70 but never 25↔70; LATE 39↔70; SECRET and NOBODY none.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from graph.driver import open_driver
from graph.handle import Graph
from graph.leads import write_leads
from hub.contract.lead import Lead
from hub.dev.federation import DevFederation
from hub.federation import oprf
from hub.federation.identifiers import federation_input
from policies.loader import data_dir
from tests.conftest import runtime_dir
from tests.factories import lead, random_plate

QUOTA_70 = 60
LATE_DUE_S = 6


def _phone(seed: int) -> tuple[str, str]:
    """A valid French mobile (the 0610 range is allocated whole), E.164 and national spellings."""
    d = f"{seed % 1_000_000:06d}"
    return f"+33610{d}", f"06 10 {d[:2]} {d[2:4]} {d[4:]}"


def _rules(tmp: Path) -> Path:
    rules = tmp / "rules"
    shutil.copytree(data_dir(None), rules)
    path = rules / "federation.yaml"
    data = yaml.safe_load(path.read_text())
    data["crosses"]["cross-25"]["neighbours"] = ["cross-39", "cross-90"]
    data["crosses"]["cross-70"]["neighbours"] = ["cross-39", "cross-90", "cross-21"]
    data["crosses"]["cross-90"]["neighbours"] = ["cross-25", "cross-70"]
    data["quotas"] = {"cross-70": QUOTA_70}
    data["follow_up_hours_by_code"] = {"H1": LATE_DUE_S / 3600, "H2": 72}
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    return rules


class World:
    """The identifiers of the table above, drawn fresh (random plates, always-valid phones)."""

    def __init__(self) -> None:
        seed = int.from_bytes(os.urandom(4), "big")
        self.shared, self.secret, self.nobody, self.relay, self.late = (
            random_plate() for _ in range(5))
        self.phone_e164, self.phone_national = _phone(seed)

    def leads(self) -> dict[str, list[dict]]:
        def plate(p: str, spelled: str | None = None) -> list[dict]:
            return [{"plate": spelled or p}]

        compact = self.shared.replace("-", " ").lower()
        return {
            "cross-25": [
                lead(source_agency="police", handling_code="H2", vehicles=plate(self.shared, compact)),
                lead(source_agency="police", handling_code="H3", vehicles=plate(self.secret)),
                lead(source_agency="prefecture", handling_code="H0", vehicles=plate(self.nobody)),
                lead(source_agency="police", handling_code="H2", vehicles=plate(self.relay)),
            ],
            "cross-39": [
                lead(source_agency="douanes", handling_code="H0", vehicles=plate(self.shared)),
                lead(source_agency="gendarmerie", handling_code="H0", phones=[self.phone_national]),
                lead(source_agency="police", handling_code="H0", vehicles=plate(self.nobody)),
                lead(source_agency="douanes", handling_code="H0", vehicles=plate(self.relay)),
                lead(source_agency="police", handling_code="H1", vehicles=plate(self.late)),
            ],
            "cross-70": [
                lead(source_agency="police", handling_code="H0", phones=[self.phone_e164]),
                lead(source_agency="police", handling_code="H0", vehicles=plate(self.secret)),
                lead(source_agency="police", handling_code="H0", vehicles=plate(self.relay)),
                lead(source_agency="police", handling_code="H0", vehicles=plate(self.late)),
            ],
        }


@pytest.fixture(scope="module")
def federation(tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("federation")
    world = World()
    fed = DevFederation(base, runtime_dir=runtime_dir(), wire_log=base / "wire.jsonl",
                        rules_dir=_rules(base))
    with fed:
        for member, payloads in world.leads().items():
            settings = fed.hubs[member].settings
            driver = open_driver(settings.graph_config)
            try:
                write_leads(Graph(driver, settings.neo4j_database),
                            [Lead.model_validate(p) for p in payloads])
            finally:
                driver.close()
        # Every hub asks every peer its scope allows, run by its hub process...
        for member in fed.members:
            fed.run_round(member)
        # ... then once more, Jura as its own process (« crosshub federation round »): a second
        # round finds nothing new and repeats nothing.
        done = fed.run_round_process("cross-39")
        assert done.returncode == 0, done.stdout + done.stderr
        second = json.loads(done.stdout.strip().splitlines()[-1])
        assert all(r["new_tickets"] == 0 for r in second["peers"].values()), second
        yield fed, world


def tickets_in(fed: DevFederation, member: str) -> list:
    """Every ticket of a hub (both sides), read from its graph."""
    from graph.federation import tickets_since

    settings = fed.hubs[member].settings
    driver = open_driver(settings.graph_config)
    try:
        return tickets_since(Graph(driver, settings.neo4j_database), datetime(2000, 1, 1, tzinfo=UTC))
    finally:
        driver.close()


def lead_ids_of(fed: DevFederation, member: str) -> set[str]:
    settings = fed.hubs[member].settings
    driver = open_driver(settings.graph_config)
    try:
        with driver.session(database=settings.neo4j_database) as s:
            return {r["id"] for r in s.run("MATCH (l:Lead) RETURN l.lead_id AS id")}
    finally:
        driver.close()


def pairs(fed: DevFederation, key: str) -> set[tuple[str, str, str]]:
    """(hub, side, peer) of every ticket on identifier ``key`` (graph spelling), all hubs."""
    return {(m, t.side.value, t.peer) for m in fed.members for t in tickets_in(fed, m)
            if t.entity_key == key}


def both_ways(a: str, b: str) -> set[tuple[str, str, str]]:
    """One ticket each way: each hub asked the other (claimant) and answered it (holder)."""
    return {(a, "claimant", b), (a, "holder", b), (b, "claimant", a), (b, "holder", a)}


def test_each_identifier_gives_exactly_the_tickets_its_scopes_allow(federation):
    fed, w = federation
    assert pairs(fed, w.shared) == both_ways("cross-25", "cross-39")
    assert pairs(fed, w.phone_e164) == both_ways("cross-39", "cross-70")
    # RELAY: Doubs's lead is neighbours-scoped and Haute-Saône is not its neighbour here; Jura's
    # ticket with Doubs is never answered onwards to Haute-Saône.
    assert pairs(fed, w.relay) == both_ways("cross-25", "cross-39") | both_ways("cross-39", "cross-70")
    assert pairs(fed, w.late) == both_ways("cross-39", "cross-70")
    assert pairs(fed, w.secret) == set()  # H3 never federates
    assert pairs(fed, w.nobody) == set()  # the préfecture is not listed: never
    # Two rounds each: nothing more than one ticket per (hub, side, peer, identifier).
    for member in fed.members:
        keys = [(t.side, t.peer, t.kind, t.entity_key) for t in tickets_in(fed, member)]
        assert len(keys) == len(set(keys)), member


def test_a_ticket_says_whom_to_call_under_which_code_and_by_when(federation):
    fed, w = federation
    (at25,) = [t for t in tickets_in(fed, "cross-25")
               if t.entity_key == w.shared and t.side.value == "claimant"]
    # Jura holds it through customs, H0: its customs desk, 48 h.
    assert at25.peer == "cross-39" and at25.handling_code == "H0"
    assert at25.desk.startswith("Brigade de Morez")
    assert abs((at25.due_at - at25.created_at).total_seconds() - 48 * 3600) < 60
    (at39,) = [t for t in tickets_in(fed, "cross-39")
               if t.entity_key == w.shared and t.side.value == "claimant"]
    # Doubs holds it through police, H2: the DIPN's desk, 72 h (H2 in the rules).
    assert at39.peer == "cross-25" and at39.handling_code == "H2"
    assert at39.desk.startswith("DIPN 25")
    assert abs((at39.due_at - at39.created_at).total_seconds() - 72 * 3600) < 60
    # The holder's side names only its own leads; the claimant's side only the claimant's.
    own25, own39 = lead_ids_of(fed, "cross-25"), lead_ids_of(fed, "cross-39")
    for member, own in (("cross-25", own25), ("cross-39", own39)):
        for t in tickets_in(fed, member):
            assert set(t.lead_ids) <= own, (member, t.ticket_id)


# --- the wire -------------------------------------------------------------------------------------


def spellings(w: World) -> dict[str, list[str]]:
    """Every way an identifier of the table could be written, per identifier."""
    out: dict[str, list[str]] = {}
    for plate in (w.shared, w.secret, w.nobody, w.relay, w.late):
        compact = plate.replace("-", "")
        out[plate] = [plate, compact, plate.replace("-", " "), f"FR:{compact}", f"FR{compact}"]
        out[plate] += [s.lower() for s in out[plate]]
    national = w.phone_national.replace(" ", "")
    out[w.phone_e164] = [w.phone_e164, w.phone_e164[1:], national, w.phone_national,
                         w.phone_e164[3:], "+33 " + w.phone_e164[3:]]
    return out


def keyless_functions(text: str) -> set[bytes]:
    """What anyone could compute from an identifier without a holder's key: unkeyed hashes of
    every canonical or raw spelling, as raw bytes, their 8-byte truncations, hex and base64."""
    out: set[bytes] = set()
    for algo in ("md5", "sha1", "sha256", "sha512", "blake2b", "sha3_256"):
        digest = hashlib.new(algo, text.encode()).digest()
        for d in (digest, digest[:8]):
            out |= {d.hex().encode(), d.hex().upper().encode(),
                    base64.b64encode(d).rstrip(b"="), base64.urlsafe_b64encode(d).rstrip(b"=")}
    return out


def wire_entries(fed: DevFederation) -> list[dict]:
    return [json.loads(line) for line in fed.wire_log.read_text().splitlines() if line.strip()]


def test_nothing_identifying_crosses_the_wire(federation):
    fed, w = federation
    entries = wire_entries(fed)
    # Filters, evaluations, claims, from every hub and from the antenna, both directions.
    urls = " ".join(e["url"] for e in entries)
    for route in ("/filter", "/evaluate", "/claims"):
        assert f"/v1/hubs/cross-39{route}" in urls and f"/federation/v1{route}" in urls
    assert {e["party"] for e in entries} >= {"cross-25", "cross-39", "cross-70", "antenne-ofast-est"}
    raw = [base64.b64decode(e["body"]) + json.dumps(e["headers"]).encode() + e["url"].encode()
           for e in entries]
    for key, written in spellings(w).items():
        inputs = {federation_input("phone" if key.startswith("+") else "plate", key).decode()}
        forbidden = {s.encode() for s in written} | {i.encode() for i in inputs}
        for text in {*written, *inputs}:
            forbidden |= keyless_functions(text)
        for blob in raw:
            hits = [f for f in forbidden if f in blob or f.lower() in blob.lower()]
            assert not hits, (key, hits[:3])


def _epoch_keys(fed: DevFederation) -> dict[str, oprf.HolderKey]:
    from policies.federation import epoch_of, load_federation_rules

    rules = load_federation_rules(fed.rules_dir / "federation.yaml")
    epoch = epoch_of(rules, datetime.now(UTC))
    return {m: oprf.epoch_key(fed.hubs[m].settings.keys_dir, m, epoch) for m in fed.members}


def test_the_only_tokens_on_the_wire_are_the_holders_own(federation):
    """Every token in a filter or a claim is the receiving (for claims) or sending (for
    filters) holder's truncated OPRF output — never another hub's, never the identifier's."""
    fed, w = federation
    keys = _epoch_keys(fed)
    values = {federation_input("phone" if k.startswith("+") else "plate", k) for k in spellings(w)}
    token_of = {m: {key.token(v)[:8]: v for v in values} for m, key in keys.items()}
    claims_seen = 0
    for e in wire_entries(fed):
        if e["direction"] != "request" or not e["url"].endswith("/claims"):
            continue
        holder = e["url"].split("/v1/hubs/")[1].split("/")[0] if "/v1/hubs/" in e["url"] else None
        if holder is None:
            continue  # the antenna's forward of the same body, checked through the hub's request
        body = json.loads(base64.b64decode(e["body"]))
        for claim in body["claims"]:
            token = base64.urlsafe_b64decode(claim["token"] + "==")
            claims_seen += 1
            assert token in token_of[holder], "a claim carries something other than the holder's token"
            for other, tokens in token_of.items():
                if other != holder:
                    assert token not in tokens
    assert claims_seen >= 6  # SHARED, RELAY ×2 pairs, PHONE, LATE: each way


def test_the_antenna_keeps_statistics_only(federation):
    fed, w = federation
    db = fed.base_dir / "antenna" / "antenna-stats.sqlite3"
    assert db.stat().st_mode & 0o777 == 0o600
    keys = _epoch_keys(fed)
    values = {federation_input("phone" if k.startswith("+") else "plate", k) for k in spellings(w)}
    secrets_ = {s.encode() for ss in spellings(w).values() for s in ss}
    for key in keys.values():
        for v in values:
            t = key.token(v)[:8]
            secrets_ |= {t, t.hex().encode(), base64.urlsafe_b64encode(t).rstrip(b"="),
                         base64.b64encode(t).rstrip(b"=")}
    with sqlite3.connect(db) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        cells = [c for t in tables for row in conn.execute(f'SELECT * FROM "{t}"') for c in row]
    blob = b"\n".join(str(c).encode() for c in cells)
    assert not [s for s in secrets_ if s in blob]
    assert b"cross-25" in blob and b"cross-39" in blob  # the pairs are there


def test_a_peer_past_its_quota_gets_429(federation):
    from hub.federation.pki import PartyFiles
    from hub.federation.transport import federation_client

    fed, _ = federation
    query = oprf.blind([f"plate:FR:AA{100 + i}AA".encode() for i in range(QUOTA_70 + 1)])
    epoch = max(_epoch_keys(fed)["cross-39"].epoch, 0)
    body = json.dumps({"epoch": epoch, "blinded": [
        base64.urlsafe_b64encode(b).rstrip(b"=").decode() for b in query.blinded]}).encode()
    with federation_client(PartyFiles.of(fed.pki_dir, "cross-70"), party="cross-70",
                           base_url=fed.antenna_url, wire_log=None) as client:
        answer = client.post("/v1/hubs/cross-39/evaluate", content=body,
                             headers={"Content-Type": "application/json"})
    assert answer.status_code == 429, answer.text
    assert b"quota" in answer.content.lower()
    assert b'"evaluated"' not in answer.content


def test_a_holder_answering_with_another_key_fails_the_proof(federation):
    from hub.federation.client import AntennaTransport
    from hub.federation.filters import verify_filter
    from hub.federation.pki import PartyFiles
    from hub.federation.transport import federation_client
    from hub.federation.wire import EvaluateRequest
    from hub.federation.directory import load_directory

    fed, w = federation
    files = PartyFiles.of(fed.pki_dir, "cross-39")
    transport = AntennaTransport(federation_client(files, party="cross-39", base_url=fed.antenna_url))
    try:
        # Doubs's signed filter, with Doubs's public key for the epoch...
        f = transport.get_filter("cross-25")
        verify_filter(f, load_directory(files.directory).members["cross-25"].key())
        query = oprf.blind([federation_input("plate", w.shared)])
        # ... and the evaluation done by another holder (Haute-Saône, its own key).
        answer = transport.evaluate("cross-70", EvaluateRequest(epoch=f.epoch, blinded=query.blinded))
    finally:
        transport.close()
    with pytest.raises(oprf.ProofFailed):
        oprf.finalize(query, answer.evaluated, f.public_key)


def test_an_unanswered_claim_past_its_deadline_is_overdue_at_the_antenna(federation):
    import httpx

    from hub.federation.pki import PartyFiles
    from hub.federation.transport import client_ssl_context

    fed, w = federation
    late = [t for t in tickets_in(fed, "cross-70") if t.entity_key == w.late and t.side.value == "claimant"]
    assert late and late[0].handling_code == "H1"
    wait = (late[0].due_at - datetime.now(UTC)).total_seconds()
    if wait > 0:
        time.sleep(wait + 0.5)
    ctx = client_ssl_context(PartyFiles.of(fed.pki_dir, "cross-25"))
    rollup = httpx.get(f"{fed.antenna_url}/v1/rollup", verify=ctx, timeout=10).json()
    overdue = {(r["claimant"], r["holder"], r["kind"]): r["overdue"] for r in rollup["rows"]}
    # LATE: Jura's police lead, H1 (due in seconds here), claimed by Haute-Saône, unanswered.
    assert overdue.get(("cross-70", "cross-39", "plate"), 0) >= 1
    # SHARED between Doubs and Jura is due in 48/72 h: not overdue.
    assert overdue.get(("cross-25", "cross-39", "plate"), 0) == 0
    # ... and on both hubs' briefs, in the copy of the police whose leads are behind it.
    from graph import meetings as gm
    from graph.access import AccessFilter
    from graph.identity import Principal
    from hub import brief as hub_brief

    now = datetime.now(UTC)
    expected = {"cross-70": "réponse de CROSS 39 attendue depuis le",
                "cross-39": "notre réponse à CROSS 70 est en retard"}
    for member, sentence in expected.items():
        settings = fed.hubs[member].settings
        driver = open_driver(settings.graph_config)
        try:
            graph = Graph(driver, settings.neo4j_database)
            meeting = gm.unsaved_meeting(fed.hubs[member].departement,
                                         f"{now.isocalendar().year}-W{now.isocalendar().week:02d}")
            police = Principal(user_id="police:e2e", name="analyste police", agency="police",
                               role="analyst")
            nothing = AccessFilter(case_expression="'none'", profiles={}, policy_id="e2e-none")
            html = hub_brief.render_html(hub_brief.build_brief(graph, meeting, police, nothing,
                                                               now=now))
        finally:
            driver.close()
        assert sentence in html, member
