"""Entity reads through the API answer from the marking of the leads asserting the entity (ADR
0002, "Amendment: entity marking"), for every role:

- a seizure's content (cash, weapons, time, agency) only at the level of the lead that recorded
  it — network, export, central;
- an entity only leads the caller may not even know of assert is byte-for-byte the answer to a
  key nobody holds (same status, same headers but ``date``, same body once the key is
  substituted) — network, timeline, export (every format), paths, central, co-presence;
- an entity only hit-level leads assert is a hit: key, agency, count, contact, nothing more;
- an export's ``X-Handling-Code`` (and in-file marking) is the strictest of the leads it holds.

Every caller is of the gendarmerie and every lead is police's; the level of each lead for each
role is the policy's (policies/data/rules.yaml), written out in ``EXPECTED``."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
import zipfile
from urllib.parse import quote

import pytest

from graph import identity
from graph.driver import reset_database
from graph.handle import Graph
from graph.leads import write_leads
from graph.setup import apply_schema
from hub.contract.lead import Lead
from tests.factories import lead
from tests.oracles import GENDARMERIE_SEES_POLICE_LEAD, MARKINGS
from tests.second_factor import stepped_up

DB = "neo4j"
JUSTIFY = "justification=PV-2025-0042"

INDEX = {name: i for i, name in enumerate(MARKINGS)}
PLATE = {name: f"PB-10{i}-AA" for name, i in INDEX.items()}
PHONE = {name: f"+3361100000{i}" for name, i in INDEX.items()}
CASH = {name: f"7{i}31.5" for name, i in INDEX.items()}  # distinctive in any serialization
ADDRESS = {name: f"{i + 1} rue de l'Oracle" for name, i in INDEX.items()}
# A plate cited by three leads (no seizure): H1, H2 and H3 — for the export's marking.
MIX_PLATE = "PB-200-AA"
MIX_PHONE = "+33611000099"  # the H1 mix lead's phone: the readable other end of a path

EXPECTED = GENDARMERIE_SEES_POLICE_LEAD  # tests/oracles.py, written from rules.yaml
# Analyses are for reading roles only (hub/routers/analysis.py): others get 403 either way.
READERS = {"analyst", "coordinator", "guest_referent", "own"}


def _payloads() -> list[dict]:
    out = [lead(source_ref=f"OR-{name}", kind="seizure", **marking, narrative=f"Récit secret {name}",
                vehicles=[{"plate": PLATE[name]}], phones=[PHONE[name]],
                location={"insee_code": "25056", "commune": "Besançon", "address": ADDRESS[name]},
                seizure={"cash_eur": CASH[name], "weapons": [{"kind": "handgun", "count": 3}],
                         "substances": [{"substance": "heroin", "quantity": "2", "unit": "kg"}]})
           for name, marking in MARKINGS.items()]
    out += [lead(source_ref=f"OR-MIX-{code}", handling_code=code, vehicles=[{"plate": MIX_PLATE}],
                 phones=[MIX_PHONE] if code == "H1" else [],
                 location={"insee_code": "25056", "commune": "Besançon", "address": "Rue Mêlée"})
            for code in ("H1", "H2", "H3")]
    return out


class World:
    lead_ids: dict[str, str] = {}
    seizures: dict[str, str] = {}
    headers: dict[str, dict[str, str]] = {}


@pytest.fixture(autouse=True)
def world(client, driver, hub_settings):
    """Written once, rewritten (with its users) if another module wiped the graph. Lead ids come
    from the write results and seizure keys from the graph: both are the hub's to choose."""
    db = hub_settings.neo4j_database
    if World.lead_ids:
        n = driver.execute_query("MATCH (l:Lead) WHERE l.lead_id IN $ids RETURN count(l) AS n",
                                 ids=list(World.lead_ids.values()), database_=db).records[0]["n"]
        users = driver.execute_query("MATCH (u:User) WHERE u.user_id STARTS WITH 'gendarmerie:oracle-' "
                                     "RETURN count(u) AS n", database_=db).records[0]["n"]
        if n == len(World.lead_ids) and users == len(EXPECTED) - 1:
            return World
    reset_database(Graph(driver, db))
    apply_schema(Graph(driver, db))
    payloads = _payloads()
    results = write_leads(Graph(driver, db), [Lead.model_validate(p) for p in payloads])
    World.lead_ids = {p["source_ref"]: r.lead_id for p, r in zip(payloads, results, strict=True)}
    World.seizures = {
        name: driver.execute_query(
            "MATCH (:Lead {lead_id: $id})-[:RECORDED]->(s:Seizure) RETURN s.seizure_id AS key",
            id=World.lead_ids[f"OR-{name}"], database_=db).records[0]["key"]
        for name in MARKINGS}
    World.headers = {}
    for role in EXPECTED:
        agency, real_role = ("police", "analyst") if role == "own" else ("gendarmerie", role)
        user = identity.upsert_user(Graph(driver, db), agency=agency, role=real_role, name=f"oracle-{role}")
        # A person's session with a fresh second factor (exports need one): tests/second_factor.py.
        World.headers[role] = stepped_up(client, user.user_id)
    return World


def never_held(key: str) -> str:
    """A key of the same length and shape as ``key`` that no entity has."""
    if key.startswith("PB-"):
        return "ZZ-9" + key[4:6] + "-ZZ"
    if key.startswith("+33"):
        return key[:-4] + "9" * 4
    if key.startswith("addr:"):
        return key.replace("oracle", "orakle")
    return key[::-1]  # a seizure key


def _urls(kind: str, key: str) -> dict[str, str]:
    k = quote(key, safe="")
    return {
        "network": f"/api/v1/entities/{kind}/{k}/network?depth=1&{JUSTIFY}",
        "timeline": f"/api/v1/entities/{kind}/{k}/timeline?{JUSTIFY}",
        **{f"export-{fmt}": f"/api/v1/entities/{kind}/{k}/export?format={fmt}&{JUSTIFY}"
           for fmt in ("csv", "graphml", "anx", "ftm")},
        "central": f"/api/v1/analysis/central?kind={kind}&key={k}&depth=1&{JUSTIFY}",
        "paths-from": (f"/api/v1/analysis/paths?from_kind={kind}&from_key={k}&to_kind=phone"
                       f"&to_key={quote(MIX_PHONE)}&{JUSTIFY}"),
        "paths-to": (f"/api/v1/analysis/paths?from_kind=phone&from_key={quote(MIX_PHONE)}"
                     f"&to_kind={kind}&to_key={k}&{JUSTIFY}"),
    }


def assert_indistinguishable(client, headers, url_known: str, url_unknown: str, known: str,
                             unknown: str) -> None:
    """Same status, same headers but ``date``, same bytes once the key is substituted."""
    a, b = client.get(url_known, headers=headers), client.get(url_unknown, headers=headers)
    assert a.status_code == b.status_code, (url_known, a.status_code, b.status_code, a.text)
    assert a.status_code in (403, 404), (url_known, a.text)
    strip = lambda r: {k: v for k, v in r.headers.items() if k.lower() != "date"}  # noqa: E731
    assert strip(a) == strip(b), url_known
    for variant in (unknown, quote(unknown, safe="")):
        b_content = b.content.replace(variant.encode(), known.encode())
        if b_content == a.content:
            return
    assert a.content == b.content.replace(unknown.encode(), known.encode()), (a.content, b.content)


def _leaks(content: bytes, name: str, typed: str = "") -> list[str]:
    """What of the lead ``name`` (its content, its id, its place) shows in an answer, beyond the
    key the caller typed (a seizure key holds its lead's id)."""
    text = _unzipped(content).replace(typed.encode(), b"<typed>") if typed else _unzipped(content)
    needles = {"cash": CASH[name], "lead id": World.lead_ids[f"OR-{name}"],
               "narrative": f"Récit secret {name}", "place": f"{INDEX[name] + 1} rue de l",
               "seized_at": "seized_at", "weapon_count": "weapon_count"}
    if needles["lead id"] in typed:  # the label of a seizure names it, from the typed key
        del needles["lead id"]
    return [label for label, needle in needles.items() if needle.encode() in text]


def _unzipped(content: bytes) -> bytes:
    try:
        z = zipfile.ZipFile(io.BytesIO(content))
    except zipfile.BadZipFile:
        return content
    return b"".join(z.read(n) for n in z.namelist())


CASES = [(role, name) for role in EXPECTED for name in MARKINGS]
IDS = [f"{role}-{name}-{EXPECTED[role][name]}" for role, name in CASES]


# --- seizures --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "name"), CASES, ids=IDS)
def test_seizure_content_only_at_the_level_of_its_lead(client, world, role, name):
    headers, expected = world.headers[role], EXPECTED[role][name]
    key = world.seizures[name]
    known, unknown = _urls("seizure", key), _urls("seizure", never_held(key))
    for read in ("network", "export-csv", "export-graphml", "export-anx", "export-ftm", "central"):
        if read == "central" and role not in READERS:
            assert_indistinguishable(client, headers, known[read], unknown[read], key, never_held(key))
            continue
        if expected == "none":
            assert_indistinguishable(client, headers, known[read], unknown[read], key, never_held(key))
            continue
        resp = client.get(known[read], headers=headers)
        assert resp.status_code == 200, (read, resp.text)
        if expected == "hit":
            assert _leaks(resp.content, name, typed=key) == [], read
            if read == "network":
                body = resp.json()
                assert body["nodes"] == [{"id": f"seizure:{key}", "kind": "seizure", "key": key,
                                          "label": body["nodes"][0]["label"], "properties": {}}]
                assert body["edges"] == []
                assert [(h["entity"], h["agency"], h["lead_count"], bool(h["contact"]))
                        for h in body["hits"]] == [(f"seizure:{key}", "police", 1, True)]
            if read.startswith("export"):
                assert resp.headers["x-handling-code"] == "H0"  # it holds no lead
        else:
            if read == "export-anx":  # ANX carries no seizure attribute: the seizure item is there
                assert f'EntityId="seizure:{key}"'.encode() in resp.content
            elif read != "central":
                assert CASH[name].encode() in _unzipped(resp.content), read
            if read.startswith("export"):
                code = MARKINGS[name]["handling_code"]
                assert resp.headers["x-handling-code"] == code, read



# --- the anchor of every entity read -----------------------------------------------------------------


@pytest.mark.parametrize(("role", "name"), CASES, ids=IDS)
def test_anchor_of_every_entity_read_follows_its_marking(client, world, role, name):
    headers, expected = world.headers[role], EXPECTED[role][name]
    plate = PLATE[name]
    known, unknown = _urls("vehicle", plate), _urls("vehicle", never_held(plate))
    # The other end of a path (the H1 mix lead's phone): unknown to guests, auditors, admins.
    other_end_hidden = role in ("guest_referent", "auditor", "administrator")
    for read, url in known.items():
        analysis = read in ("timeline", "central") or read.startswith("paths")
        if expected == "none" or (analysis and role not in READERS) or (
                read.startswith("paths") and other_end_hidden):
            assert_indistinguishable(client, headers, url, unknown[read], plate, never_held(plate))
            continue
        resp = client.get(url, headers=headers)
        assert resp.status_code == 200, (read, resp.text)
        if expected == "hit":
            assert _leaks(resp.content, name) == [], read
            if not read.startswith("export"):
                body = resp.json()
                hits = [(h["entity"], h["agency"], h["lead_count"]) for h in body["hits"]]
                assert (f"vehicle:{plate}", "police", 1) in hits, read
                if read == "timeline":
                    assert body["entries"] == [] and body["entity"]["properties"] == {}
                if read == "central":
                    assert body["actors"] == []
                if read.startswith("paths"):
                    assert body["paths"] == []
        elif read in ("network", "timeline") or read.startswith("export"):
            assert world.lead_ids[f"OR-{name}"].encode() in _unzipped(resp.content), read


def test_copresence_at_a_place_only_hidden_leads_know_is_the_answer_to_an_unknown_place(client, world):
    # 4 rue de l'Oracle: only the H3 lead is there.
    place = "addr:25056:4 rue de l oracle"
    window = "since=2025-07-28T00:00&until=2025-07-30T00:00"
    for role in ("analyst", "guest_referent"):
        headers = world.headers[role]
        a = client.get(f"/api/v1/analysis/copresence?location_key={quote(place)}&{window}&{JUSTIFY}",
                       headers=headers)
        other = never_held(place)
        b = client.get(f"/api/v1/analysis/copresence?location_key={quote(other)}&{window}&{JUSTIFY}",
                       headers=headers)
        assert a.status_code == b.status_code == 200, a.text
        assert a.content == b.content.replace(other.encode(), place.encode())
    # The coordinator, for whom it is a hit, learns that much.
    chief = client.get(f"/api/v1/analysis/copresence?location_key={quote(place)}&{window}&{JUSTIFY}",
                       headers=world.headers["coordinator"]).json()
    assert [(h["agency"], h["lead_count"]) for h in chief["hits"]] == [("police", 1)]


# --- an export's marking ----------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "code"), [("analyst", "H1"), ("coordinator", "H2"), ("own", "H3")])
def test_an_export_is_marked_with_the_strictest_lead_it_holds(client, world, role, code):
    """The mix plate: H1, H2 and H3 leads. An analyst holds H1 (H2 a hit, H3 nothing); the chief
    H1 and H2 (H3 a hit); the police's own analyst all three. Hits are not held."""
    headers = world.headers[role]
    base = f"/api/v1/entities/vehicle/{MIX_PLATE}/export?{JUSTIFY}&format="
    csv = client.get(base + "csv", headers=headers)
    assert csv.status_code == 200, csv.text
    assert csv.headers["x-handling-code"] == code
    readme = zipfile.ZipFile(io.BytesIO(csv.content)).read("LISEZMOI.txt").decode()
    assert f"Code de traitement (le plus strict des pistes) : {code}" in readme
    graphml = client.get(base + "graphml", headers=headers)
    assert graphml.headers["x-handling-code"] == code
    ns = "{http://graphml.graphdrawing.org/xmlns}"
    root = ET.fromstring(graphml.content)
    key_id = next(k.get("id") for k in root.iter(f"{ns}key")
                  if k.get("for") == "graph" and k.get("attr.name") == "handling_code")
    assert [d.text for d in root.find(f"{ns}graph").findall(f"{ns}data") if d.get("key") == key_id] == [code]
    anx = client.get(base + "anx", headers=headers)
    assert anx.headers["x-handling-code"] == code
    assert [p.get("Value") for p in ET.fromstring(anx.content).iter("CustomProperty")
            if p.get("Name") == "Code de traitement"] == [code]
    assert client.get(base + "ftm", headers=headers).headers["x-handling-code"] == code
