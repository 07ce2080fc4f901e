"""Entities carry the marking of the leads that assert them (ADR 0002, "Amendment: entity
marking"), read through the real compiled policy (policies/data/rules.yaml):

- an entity only leads the caller may not even know of assert is answered like a key nobody
  holds (the same ``NotFound``), by every read that starts from an entity;
- one only hit-level leads assert is a hit: its key and who holds it, no property, nothing
  read through it;
- a seizure is lead content, shown at the level of the lead that recorded it — as an anchor
  and when reached from another entity.

Every caller below is of the gendarmerie; the leads are police's (another agency), so the
expected level of each lead is the policy's for "other agency", written out in ``EXPECTED``
from rules.yaml, not from what the code returns."""

from __future__ import annotations

import pytest

from graph import analysis as an
from graph import read as graph_read
from graph.access import LEAD_MARKING, LEAD_PROPERTIES, AccessFilter
from graph.analysis.models import (
    CentralParams,
    PathParams,
    SearchParams,
    TimelineParams,
)
from graph.driver import reset_database
from graph.handle import Graph
from graph.identity import Principal
from graph.leads import write_leads
from graph.setup import apply_schema
from hub.access import access_filter_for
from hub.contract.errors import NotFound
from hub.contract.lead import Lead
from policies.loader import load_policy
from tests.factories import lead, pseudonym
from tests.oracles import GENDARMERIE_SEES_POLICE_LEAD, MARKINGS

DB = "neo4j"

# One police lead per marking, each with its own plate, place and seizure.
PLATE = {"H0": "PA-100-AA", "H1": "PA-101-AA", "H2": "PA-102-AA", "H3": "PA-103-AA", "EMB": "PA-104-AA"}
PHONE = {"H0": "+33610000000", "H1": "+33610000001", "H2": "+33610000002", "H3": "+33610000003",
         "EMB": "+33610000004"}
UNKNOWN_PLATE = "ZZ-998-ZZ"  # same length as every plate above; nobody holds it
UNKNOWN_PHONE = "+33619999999"
CASH = {"H0": "1000", "H1": "1001", "H2": "1002", "H3": "1003", "EMB": "1004"}

# Expected level of a police lead for each gendarmerie caller: the shared table of tests/oracles.py
# ("own" is a police analyst, called own_analyst here).
EXPECTED = {("own_analyst" if who == "own" else who): levels
            for who, levels in GENDARMERIE_SEES_POLICE_LEAD.items()}

# SAME_AS: H3 lead A1 cites NEWP with alias OLDP; H1 lead A2 cites OLDP. H1 lead B1 cites NEW2
# with alias OLD2; H3 lead B2 cites OLD2.
NEWP, OLDP = pseudonym("Nouveau", "Paul"), pseudonym("Ancien", "Paul")
NEW2, OLD2 = pseudonym("Nouveau", "Luc"), pseudonym("Ancien", "Luc")
SHARED_PLATE = "PA-200-AA"  # cited by the H1 and the H3 lead


def _payloads() -> list[dict]:
    out = []
    for i, (name, marking) in enumerate(MARKINGS.items()):
        out.append(lead(
            source_ref=f"MK-{name}", kind="seizure", channel="patrol", **marking,
            vehicles=[{"plate": PLATE[name]}] + ([{"plate": SHARED_PLATE}] if name in ("H1", "H3") else []),
            phones=[PHONE[name]],
            location={"insee_code": "25056", "commune": "Besançon", "address": f"{i + 1} rue Marquage"},
            seizure={"cash_eur": CASH[name], "weapons": [{"kind": "handgun", "count": 2}],
                     "substances": [{"substance": "ketamine" if name == "H3" else "cocaine",
                                     "quantity": "1", "unit": "kg"}]}))
    out += [
        lead(source_ref="A1", handling_code="H3", persons=[{"pseudonym": NEWP, "role": "seller",
                                                            "aliases": [OLDP]}]),
        lead(source_ref="A2", handling_code="H1", persons=[{"pseudonym": OLDP, "role": "seller"}]),
        lead(source_ref="B1", handling_code="H1", persons=[{"pseudonym": NEW2, "role": "seller",
                                                            "aliases": [OLD2]}]),
        lead(source_ref="B2", handling_code="H3", persons=[{"pseudonym": OLD2, "role": "seller"}]),
    ]
    return out


class World:
    lead_ids: dict[str, str] = {}
    seizures: dict[str, str] = {}


@pytest.fixture(autouse=True)
def world(driver) -> type[World]:
    """Written once, rewritten if another module wiped the graph meanwhile. Lead ids come from
    the write results, seizure keys from the graph (both are the hub's to choose)."""
    found = driver.execute_query("MATCH (l:Lead) WHERE l.lead_id IN $ids RETURN count(l) AS n",
                                 ids=list(World.lead_ids.values()), database_=DB).records[0]["n"]
    if World.lead_ids and found == len(World.lead_ids) == len(_payloads()):
        total = driver.execute_query("MATCH (l:Lead) RETURN count(l) AS n", database_=DB).records[0]["n"]
        if total == found:
            return World
    graph = Graph(driver, DB)
    reset_database(graph)
    apply_schema(graph)
    payloads = _payloads()
    results = write_leads(graph, [Lead.model_validate(p) for p in payloads])
    assert {r.outcome.value for r in results} == {"created"}
    World.lead_ids = {p["source_ref"]: r.lead_id for p, r in zip(payloads, results, strict=True)}
    World.seizures = {}
    for name in MARKINGS:
        [rec] = driver.execute_query(
            "MATCH (:Lead {lead_id: $id})-[:RECORDED]->(s:Seizure) RETURN s.seizure_id AS key",
            id=World.lead_ids[f"MK-{name}"], database_=DB).records
        World.seizures[name] = rec["key"]
    return World


def _filter(driver, role: str, agency: str = "gendarmerie") -> AccessFilter:
    principal = Principal(user_id=f"{agency}:marking-{role}", name=f"marking-{role}", agency=agency,
                          role=role)
    return access_filter_for(Graph(driver, DB), principal, grants=[], policy=load_policy())


def caller(driver, who: str) -> AccessFilter:
    if who == "own_analyst":
        return _filter(driver, "analyst", "police")
    return _filter(driver, who)


def unknown_seizure_key(real: str) -> str:
    """A key of the same shape and length that no seizure has."""
    return real[::-1]


def _same_not_found(call_known, call_unknown, known_key: str, unknown_key: str) -> None:
    with pytest.raises(NotFound) as known:
        call_known()
    with pytest.raises(NotFound) as unknown:
        call_unknown()
    assert type(known.value) is type(unknown.value)
    assert known.value.message.replace(known_key, "KEY") == unknown.value.message.replace(unknown_key, "KEY")
    assert known.value.details == unknown.value.details


CASES = [(who, name) for who in EXPECTED for name in MARKINGS]


# --- seizures: lead content ------------------------------------------------------------------------


@pytest.mark.parametrize(("who", "name"), CASES, ids=[f"{w}-{n}-{EXPECTED[w][n]}" for w, n in CASES])
def test_a_seizure_anchor_shows_at_the_level_of_its_lead(driver, world, who, name):
    access = caller(driver, who)
    key = world.seizures[name]
    expected = EXPECTED[who][name]

    def net(k):
        return lambda: graph_read.network(Graph(driver, DB), graph_read.EntityKind.SEIZURE, k, 1, access)

    if expected == "none":
        fake = unknown_seizure_key(key)
        _same_not_found(net(key), net(fake), key, fake)
        return
    result = net(key)()
    anchor = result.nodes[0]
    assert result.anchor == anchor.id == f"seizure:{key}"
    if expected == "hit":
        # Its key and who holds it: no seizure content, nothing read through it.
        assert [n.id for n in result.nodes] == [anchor.id] and result.edges == []
        assert anchor.properties == {}
        assert [(h.entity, h.agency, h.lead_count) for h in result.hits] == [(anchor.id, "police", 1)]
        assert result.hits[0].contact
        assert CASH[name] not in result.model_dump_json()
        return
    assert anchor.properties["cash_eur"] == float(CASH[name])
    assert anchor.properties["weapon_count"] == 2 and "seized_at" in anchor.properties
    lead_nodes = [n for n in result.nodes if n.kind == "lead"]
    assert [n.key for n in lead_nodes] == [world.lead_ids[f"MK-{name}"]]
    assert ("narrative" in lead_nodes[0].properties) is (expected == "full")


@pytest.mark.parametrize(("who", "name"), CASES, ids=[f"{w}-{n}-{EXPECTED[w][n]}" for w, n in CASES])
def test_a_seizure_reached_from_another_entity_shows_at_the_level_of_its_lead(driver, world, who, name):
    access = caller(driver, who)
    expected = EXPECTED[who][name]
    seizure_id = f"seizure:{world.seizures[name]}"
    if expected == "none":
        with pytest.raises(NotFound):
            graph_read.network(Graph(driver, DB), graph_read.EntityKind.VEHICLE, PLATE[name], 1, access)
        return
    result = graph_read.network(Graph(driver, DB), graph_read.EntityKind.VEHICLE, PLATE[name], 1, access)
    seizures = [n for n in result.nodes if n.kind == "seizure"]
    if expected == "hit":
        assert seizures == [] and CASH[name] not in result.model_dump_json()
        assert [n.id for n in result.nodes] == [f"vehicle:{PLATE[name]}"]
        return
    assert [n.id for n in seizures] == [seizure_id]
    assert seizures[0].properties["cash_eur"] == float(CASH[name])


def test_a_seizure_time_is_withheld_from_a_level_that_may_not_read_the_leads_times(driver, world):
    # A profile reading the marking only: the lead is readable, its times are not, so neither
    # is the seizure's (it is the lead's time).
    bare = AccessFilter(case_expression="'bare'", profiles={"bare": LEAD_MARKING})
    anchor = graph_read.network(Graph(driver, DB), graph_read.EntityKind.SEIZURE, world.seizures["H1"], 1, bare)
    assert anchor.nodes[0].properties["cash_eur"] == float(CASH["H1"])
    assert "seized_at" not in anchor.nodes[0].properties
    reached = graph_read.network(Graph(driver, DB), graph_read.EntityKind.VEHICLE, PLATE["H1"], 1, bare)
    [seizure] = [n for n in reached.nodes if n.kind == "seizure"]
    assert "seized_at" not in seizure.properties and seizure.properties["weapon_count"] == 2
    timed = AccessFilter(case_expression="'full'", profiles={"full": LEAD_PROPERTIES})
    [seizure] = [n for n in graph_read.network(Graph(driver, DB), graph_read.EntityKind.VEHICLE, PLATE["H1"], 1,
                                               timed).nodes if n.kind == "seizure"]
    assert "seized_at" in seizure.properties


# --- the anchor of every read ----------------------------------------------------------------------


def _reads(driver, access, kind, key, other_phone):
    """Every read that starts from an entity, as callables."""
    K = graph_read.EntityKind
    return {
        "network": lambda: graph_read.network(Graph(driver, DB), kind, key, 1, access),
        "timeline": lambda: an.timeline(Graph(driver, DB), access, TimelineParams(kind=kind, key=key)),
        "central": lambda: an.central_actors(Graph(driver, DB), access, CentralParams(kind=kind, key=key)),
        "paths_from": lambda: an.shortest_paths(Graph(driver, DB), access, PathParams(
            from_kind=kind, from_key=key, to_kind=K.PHONE, to_key=other_phone)),
        "paths_to": lambda: an.shortest_paths(Graph(driver, DB), access, PathParams(
            from_kind=K.PHONE, from_key=other_phone, to_kind=kind, to_key=key)),
    }


@pytest.mark.parametrize(("who", "name"), CASES, ids=[f"{w}-{n}-{EXPECTED[w][n]}" for w, n in CASES])
def test_every_read_from_an_entity_follows_its_marking(driver, world, who, name):
    access = caller(driver, who)
    expected = EXPECTED[who][name]
    K = graph_read.EntityKind
    # The other end of a path: another lead's phone (H0's, or H1's for the H0 plate).
    other_name = "H1" if name == "H0" else "H0"
    known = _reads(driver, access, K.VEHICLE, PLATE[name], PHONE[other_name])
    unknown = _reads(driver, access, K.VEHICLE, UNKNOWN_PLATE, PHONE[other_name])
    for read in known:
        other_hidden = read.startswith("paths") and EXPECTED[who][other_name] == "none"
        if expected == "none" or other_hidden:
            # Unknown alike: the same error, naming the same end.
            _same_not_found(known[read], unknown[read], PLATE[name], UNKNOWN_PLATE)
            continue
        result = known[read]()
        dump = result.model_dump_json()
        if expected == "hit":
            hits = [(h.entity, h.agency, h.lead_count) for h in result.hits]
            assert (f"vehicle:{PLATE[name]}", "police", 1) in hits, read
            assert world.lead_ids[f"MK-{name}"] not in dump and CASH[name] not in dump, read
            if read == "network":
                assert [n.properties for n in result.nodes] == [{}] and result.edges == []
            elif read == "timeline":
                assert result.entries == [] and result.entity.properties == {}
            elif read == "central":
                assert result.actors == []
            else:
                assert result.paths == []
        elif read == "central":  # leads are not ranked: the plate's neighbourhood is
            assert f"location:addr:25056:{list(MARKINGS).index(name) + 1} rue marquage" in dump
        elif not read.startswith("paths"):  # no path joins two unrelated leads
            assert world.lead_ids[f"MK-{name}"] in dump, read
            assert f'"vehicle:{PLATE[name]}", "agency"' not in dump


def test_an_entity_asserted_by_an_open_and_a_hidden_lead_is_as_open_as_the_open_one(driver, world):
    analyst = caller(driver, "analyst")
    result = graph_read.network(Graph(driver, DB), graph_read.EntityKind.VEHICLE, SHARED_PLATE, 1, analyst)
    leads = {n.key for n in result.nodes if n.kind == "lead"}
    # H1 readable (redacted); H3 not even a hit.
    assert leads == {world.lead_ids["MK-H1"]} and result.hits == []


def test_leads_at_version_zero_do_not_count(driver, world):
    # A lead node mid-write (version 0) asserting a plate: nobody knows of it yet.
    driver.execute_query(
        "CREATE (l:Lead {lead_id: 'L-v0-marking', version: 0, agency: 'police', handling_code: 'H0', "
        "kind: 'field_intelligence'})-[:MENTIONS_VEHICLE {agency: 'police', lead_id: 'L-v0-marking'}]->"
        "(:Vehicle {plate: 'PA-900-AA'})", database_=DB)
    try:
        own = caller(driver, "own_analyst")
        _same_not_found(
            lambda: graph_read.network(Graph(driver, DB), graph_read.EntityKind.VEHICLE, "PA-900-AA", 1, own),
            lambda: graph_read.network(Graph(driver, DB), graph_read.EntityKind.VEHICLE, UNKNOWN_PLATE, 1, own),
            "PA-900-AA", UNKNOWN_PLATE)
    finally:
        driver.execute_query("MATCH (l:Lead {lead_id: 'L-v0-marking'})-->(v:Vehicle) DETACH DELETE l, v",
                             database_=DB)


# --- merged persons (SAME_AS) ----------------------------------------------------------------------


def test_an_alias_asserted_by_a_hidden_lead_merges_nothing(driver, world):
    K = graph_read.EntityKind
    analyst, chief = caller(driver, "analyst"), caller(driver, "coordinator")
    unknown = pseudonym("Personne", "Inconnue")
    # NEWP: only the H3 lead A1 asserts it (and its alias link to OLDP). OLDP is readable through
    # A2, but the link is A1's content: for an analyst NEWP is unknown, like a pseudonym nobody
    # holds; the coordinator, for whom A1 is a hit, gets a hit.
    _same_not_found(lambda: graph_read.network(Graph(driver, DB), K.PERSON, NEWP, 1, analyst),
                    lambda: graph_read.network(Graph(driver, DB), K.PERSON, unknown, 1, analyst), NEWP, unknown)
    hit = graph_read.network(Graph(driver, DB), K.PERSON, NEWP, 1, chief)
    assert [n.properties for n in hit.nodes] == [{}]
    assert [(h.agency, h.lead_count) for h in hit.hits] == [("police", 1)]
    # OLDP: readable through A2 for both.
    for access in (analyst, chief):
        net = graph_read.network(Graph(driver, DB), K.PERSON, OLDP, 1, access)
        assert world.lead_ids["A2"] in {n.key for n in net.nodes}
        assert world.lead_ids["A1"] not in net.model_dump_json()


def test_an_alias_asserted_by_a_readable_lead_makes_both_persons_known(driver, world):
    K = graph_read.EntityKind
    analyst = caller(driver, "analyst")
    # OLD2: cited only by the H3 lead B2, but the readable H1 lead B1 asserted NEW2 SAME_AS OLD2.
    net = graph_read.network(Graph(driver, DB), K.PERSON, OLD2, 1, analyst)
    assert net.nodes[0].id == f"person:{OLD2}" and net.nodes[0].properties == {"pseudonym": OLD2}
    assert world.lead_ids["B2"] not in net.model_dump_json() and net.hits == []
    assert graph_read.network(Graph(driver, DB), K.PERSON, NEW2, 1, analyst).nodes[0].properties


# --- reference vocabularies ------------------------------------------------------------------------


@pytest.mark.parametrize("who", list(EXPECTED))
def test_substances_are_reference_data_answered_alike_whether_mentioned_or_not(driver, world, who):
    K = graph_read.EntityKind
    access = caller(driver, who)
    # ketamine: only in the H3 lead's seizure; lsd: in no lead; both of the vocabulary.
    ketamine = graph_read.network(Graph(driver, DB), K.SUBSTANCE, "ketamine", 1, access)
    lsd = graph_read.network(Graph(driver, DB), K.SUBSTANCE, "lsd", 1, access)
    assert [n.id for n in lsd.nodes] == ["substance:lsd"] and lsd.hits == [] and lsd.edges == []
    level = EXPECTED[who]["H3"]
    if level == "none":
        assert ketamine.model_dump_json().replace("ketamine", "X") == lsd.model_dump_json().replace("lsd", "X")
    elif level == "hit":
        assert [n.id for n in ketamine.nodes] == ["substance:ketamine"]
        assert [(h.entity, h.agency, h.lead_count) for h in ketamine.hits] == [
            ("substance:ketamine", "police", 1)]
    else:
        assert world.lead_ids["MK-H3"] in {n.key for n in ketamine.nodes}
    with pytest.raises(NotFound):
        graph_read.network(Graph(driver, DB), K.SUBSTANCE, "unobtainium", 1, access)


# --- search ------------------------------------------------------------------------------------------


def test_search_gives_a_hit_only_entity_for_its_exact_key_and_without_properties(driver, world):
    analyst = caller(driver, "analyst")
    # PA-102-AA: only the H2 lead (a hit for an analyst).
    [exact] = an.search(Graph(driver, DB), analyst, SearchParams(q=PLATE["H2"], kind="plate")).entities
    assert exact.node.id == f"vehicle:{PLATE['H2']}" and exact.node.properties == {}
    assert exact.lead_count == 0 and [(h.agency, h.lead_count) for h in exact.hits] == [("police", 1)]
    # A partial search does not hand the full plate out; readable ones still come.
    partial = {m.node.key for m in an.search(Graph(driver, DB), analyst, SearchParams(q="PA-10", kind="plate")).entities}
    assert partial == {PLATE["H0"], PLATE["H1"]}


# --- the access expression's own variables -----------------------------------------------------------


def test_an_access_expression_looking_at_the_leads_entities_is_evaluated_per_lead(driver, world):
    # The shape of a guest grant on an entity, written with ``e``: a lead is readable when it
    # cites the granted phone. The reads must not bind ``e`` around it.
    granted = AccessFilter(
        case_expression="CASE WHEN EXISTS { MATCH (l)-->(e) WHERE e:Phone AND 'phone:' + e.number "
                        "IN $acc_guest } THEN 'full' ELSE 'none' END",
        params={"acc_guest": [f"phone:{PHONE['H3']}"]}, profiles={"full": LEAD_PROPERTIES})
    K = graph_read.EntityKind
    net = graph_read.network(Graph(driver, DB), K.SEIZURE, world.seizures["H3"], 1, granted)
    assert net.nodes[0].properties["cash_eur"] == float(CASH["H3"])
    with pytest.raises(NotFound):
        graph_read.network(Graph(driver, DB), K.SEIZURE, world.seizures["H2"], 1, granted)
