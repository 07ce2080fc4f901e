"""The linked-lead analyses (graph/analysis/) on the hand-built graph of
tests/graph/analysis_graph.py, whose docstring spells out every cluster: the expected answers are
written here, node by node."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from graph import analysis as an
from graph.access import LEAD_MARKING, LEAD_PROPERTIES, AccessFilter
from graph.analysis import plates
from graph.analysis._common import run_read
from graph.analysis.models import (
    CentralParams,
    CopresenceParams,
    HotspotParams,
    PathParams,
    SearchParams,
    TimelineParams,
)
from graph.handle import Graph
from graph.labels import EntityKind as K
from graph.labels import Rel
from hub.contract.errors import InvalidInput, NotFound
from hub.contract.normalize import normalize_plate
from tests.graph.analysis_graph import (
    CASSIN_KEY,
    CP1,
    CP2,
    CP3,
    CV1,
    CV3,
    CV4,
    CW,
    CY,
    DB,
    K0,
    KP,
    OPEN,
    P1,
    P2,
    P3,
    POLICE_ONLY,
    RESTRICTED,
    V1,
    V2,
    V3,
    V4,
    V9,
    X,
    Y,
    Z,
    Ids,
    at,
    ensure_graph,
)

# Public lead ids are opaque (ADR 0007): the expectations name leads "agency:source_ref" and
# ``I`` maps each name to the id the graph gave it (``N(name)`` is its network node id).
I = Ids()


def N(name: str) -> str:
    return I.node(name)


@pytest.fixture(autouse=True)
def graph(driver):
    global I
    I = ensure_graph(driver)
    return Graph(driver, DB)


def ids(path) -> list[str]:
    return [n.id for n in path.nodes]


# --- paths ---------------------------------------------------------------------------------------


def _paths(graph, access=OPEN, **kw):
    base = {"from_kind": K.VEHICLE, "from_key": V1, "to_kind": K.PHONE, "to_key": P3}
    return an.shortest_paths(graph, access, PathParams(**{**base, **kw}))


def test_shortest_path_is_the_exact_node_sequence(graph):
    result = _paths(graph)
    assert result.source == f"vehicle:{V1}" and result.target == f"phone:{P3}"
    assert [ids(p) for p in result.paths] == [
        [f"vehicle:{V1}", N("police:L1"), f"person:{X}", N("police:L2"), f"phone:{P3}"]]
    path = result.paths[0]
    assert path.hops == 2 and I.names(path.lead_ids) == ["police:L1", "police:L2"]
    assert [(e.source, e.target, e.type) for e in path.edges] == [
        (N("police:L1"), f"vehicle:{V1}", "MENTIONS_VEHICLE"),
        (N("police:L1"), f"person:{X}", "INVOLVES"),
        (N("police:L2"), f"person:{X}", "INVOLVES"),
        (N("police:L2"), f"phone:{P3}", "MENTIONS_PHONE")]
    assert path.edges[1].properties == {"role": "driver"}
    # Untimed, the path goes back in time: 1 July then 1 June, a 720 h gap.
    assert path.first_at == at("2025-06-01T10:00") and path.largest_gap_hours == 720.0


def test_time_ordered_path_takes_the_longer_route(graph):
    result = _paths(graph, time_ordered=True)
    assert [ids(p) for p in result.paths] == [[
        f"vehicle:{V1}", N("police:L1"), f"person:{X}", N("douanes:L6"), f"vehicle:{V4}",
        N("gendarmerie:L7"), f"phone:{P3}"]]
    assert result.paths[0].largest_gap_hours == 19 * 24  # L1 (1 July) → L6 (20 July)


def test_max_gap_excludes_the_long_step(graph):
    expected = [f"vehicle:{V1}", N("police:L1"), f"person:{X}", N("gendarmerie:L3"),
                f"phone:{P1}", N("douanes:L4"), f"person:{Y}", N("police:L5"), f"phone:{P3}"]
    result = _paths(graph, time_ordered=True, max_gap_hours=48)
    assert [ids(p) for p in result.paths] == [expected]
    assert result.paths[0].largest_gap_hours == 24.0
    # A gap bound alone (no time order) also refuses L2 (a month before L1) and L6.
    assert [ids(p) for p in _paths(graph, max_gap_hours=48).paths] == [expected]
    # The only route within 48 h steps needs 4 hops.
    assert _paths(graph, time_ordered=True, max_gap_hours=48, max_hops=3).paths == []


def test_paths_never_pass_through_a_hidden_lead(graph):
    def route(access, **kw):
        return [ids(p) for p in _paths(graph, access, from_key=V2, to_key=P2, **kw).paths]

    assert route(OPEN) == [[f"vehicle:{V2}", N("douanes:H1"), f"phone:{P2}"]]
    around = [[f"vehicle:{V2}", N("police:L8"), f"person:{Z}", N("police:L9"), f"phone:{P2}"]]
    assert route(RESTRICTED) == around and route(POLICE_ONLY) == around
    assert route(RESTRICTED, time_ordered=True) == around
    # Time-ordered V1 → P3 needs L6 (customs) or L4 (customs): none without them.
    assert _paths(graph, RESTRICTED, time_ordered=True).paths == []


def test_a_path_through_a_summary_lead_shows_only_its_summary(graph):
    result = an.shortest_paths(graph, RESTRICTED, PathParams(
        from_kind=K.PERSON, from_key=X, to_kind=K.PHONE, to_key=P1))
    [path] = result.paths
    lead = path.nodes[1]
    assert lead.id == N("gendarmerie:L3") and lead.properties["access"] == "redacted"
    assert "narrative" not in lead.properties and "source_ref" not in lead.properties


def test_relationship_types_restrict_the_links_followed(graph):
    via_place = [f"vehicle:{CV1}", N("police:C1"), f"location:{CASSIN_KEY}", N("police:C3"),
                 f"person:{CY}"]
    result = an.shortest_paths(graph, RESTRICTED, PathParams(
        from_kind=K.VEHICLE, from_key=CV1, to_kind=K.PERSON, to_key=CY))
    assert [ids(p) for p in result.paths] == [via_place]
    without_places = an.shortest_paths(graph, RESTRICTED, PathParams(
        from_kind=K.VEHICLE, from_key=CV1, to_kind=K.PERSON, to_key=CY,
        rel_types=(Rel.MENTIONS_VEHICLE, Rel.INVOLVES, Rel.MENTIONS_PHONE)))
    assert without_places.paths == []


def test_path_bounds_and_errors(graph):
    with pytest.raises(ValidationError) as exc:
        PathParams(from_kind=K.VEHICLE, from_key=V1, to_kind=K.PHONE, to_key=P3, max_hops=7)
    assert exc.value.errors()[0]["loc"] == ("max_hops",)
    with pytest.raises(ValidationError) as exc:
        PathParams(from_kind=K.AGENCY, from_key="police", to_kind=K.PHONE, to_key=P3)
    assert exc.value.errors()[0]["loc"] == ("from_kind",)
    with pytest.raises(ValidationError) as exc:
        PathParams(from_kind=K.VEHICLE, from_key=V1, to_kind=K.PHONE, to_key=P3,
                   rel_types=(Rel.PROVIDED_BY,))
    assert exc.value.errors()[0]["loc"] == ("rel_types",)
    with pytest.raises(InvalidInput) as bad:
        _paths(graph, to_kind=K.VEHICLE, to_key="ab 123 cd")
    assert bad.value.details[0]["field"] == "to_key"
    with pytest.raises(InvalidInput) as bad:
        _paths(graph, from_key="NOT-A-PLATE")
    assert bad.value.details[0]["field"] == "from_key"
    with pytest.raises(NotFound):
        _paths(graph, from_key="ZZ-998-ZZ")


# --- co-presence ---------------------------------------------------------------------------------

AUG10 = {"since": at("2025-08-10T00:00"), "until": at("2025-08-11T00:00")}


def _pairs(result) -> set[tuple[str, str, str]]:
    return {(p.a.id, p.b.id, p.relation) for p in result.pairs}


def _pair(a: str, b: str, relation: str = "copresence") -> tuple[str, str, str]:
    first, second = sorted((a, b))
    return first, second, relation


READABLE_AT_CASSIN = {
    _pair(f"vehicle:{CV1}", f"vehicle:{CV3}", "plate_variant"),  # 21:00 / 21:20, 3 ↔ 8
    _pair(f"vehicle:{CV1}", f"phone:{CP1}"),
    _pair(f"vehicle:{CV3}", f"person:{CY}"),  # 21:20 / 21:40
    _pair(f"phone:{CP1}", f"person:{CY}"),
}


def test_copresence_at_a_place_with_a_fuzzy_plate_pair(graph):
    result = an.copresence(graph, RESTRICTED, CopresenceParams(location_key=CASSIN_KEY, **AUG10))
    assert _pairs(result) == READABLE_AT_CASSIN
    assert result.pairs[0].relation == "plate_variant"
    assert result.pairs[0].reason == "3 ↔ 8 (caractère 3)"
    assert result.pairs[0].evidence[0].gap_minutes == 20.0
    assert result.lead_count == 4  # C1, C2, C3, C4: CH is hidden
    # The hidden customs lead CH: only a hit on the place, never a pair.
    assert [(h.entity, h.agency, h.lead_count) for h in result.hits] == [
        (f"location:{CASSIN_KEY}", "douanes", 1)]
    everything = {n for p in result.pairs for n in (p.a.id, p.b.id)}
    assert f"person:{CW}" not in everything and f"phone:{CP3}" not in everything


def test_copresence_with_every_lead_readable(graph):
    result = an.copresence(graph, OPEN, CopresenceParams(location_key=CASSIN_KEY, **AUG10))
    hidden = {_pair(f"person:{CW}", f"vehicle:{CV1}"), _pair(f"phone:{CP3}", f"vehicle:{CV1}"),
              _pair(f"person:{CW}", f"vehicle:{CV3}"), _pair(f"person:{CW}", f"phone:{CP1}"),
              _pair(f"phone:{CP3}", f"vehicle:{CV3}"), _pair(f"phone:{CP3}", f"phone:{CP1}")}
    assert _pairs(result) == READABLE_AT_CASSIN | hidden and result.hits == []
    plain = an.copresence(graph, OPEN, CopresenceParams(location_key=CASSIN_KEY,
                                                             fuzzy_plates=False, **AUG10))
    assert _pair(f"vehicle:{CV1}", f"vehicle:{CV3}") in _pairs(plain)
    narrow = an.copresence(graph, OPEN, CopresenceParams(location_key=CASSIN_KEY,
                                                              window_min=10, **AUG10))
    assert _pairs(narrow) == {_pair(f"person:{CW}", f"vehicle:{CV1}"),
                              _pair(f"phone:{CP3}", f"vehicle:{CV1}")}  # 5 min apart only


def test_copresence_in_a_commune_pairs_per_location_and_a_disc_is_one_place(graph):
    commune = an.copresence(graph, RESTRICTED, CopresenceParams(insee="25056", **AUG10))
    # C5 (Rue de Dole, 21:10) is 10 min from C1 but elsewhere; C6 (a point 100 m away) too.
    assert _pairs(commune) == READABLE_AT_CASSIN
    assert f"phone:{CP2}" not in {n for p in commune.pairs for n in (p.a.id, p.b.id)}
    disc = an.copresence(graph, RESTRICTED, CopresenceParams(
        lat=47.2205, lon=5.9710, radius_m=300, **AUG10))
    assert _pairs(disc) == READABLE_AT_CASSIN | {
        _pair(f"vehicle:{CV4}", f"vehicle:{CV1}"), _pair(f"vehicle:{CV4}", f"vehicle:{CV3}"),
        _pair(f"vehicle:{CV4}", f"phone:{CP1}"), _pair(f"vehicle:{CV4}", f"person:{CY}")}


def test_copresence_bounds(graph):
    with pytest.raises(InvalidInput) as bad:
        an.copresence(graph, OPEN, CopresenceParams(
            location_key=CASSIN_KEY, since=at("2025-01-01T00:00"), until=at("2026-01-03T00:00")))
    assert bad.value.details == [{"field": "until", "reason": "au plus 366 jours après since"}]
    with pytest.raises(InvalidInput) as bad:
        an.copresence(graph, OPEN, CopresenceParams(location_key=CASSIN_KEY, insee="25056",
                                                         **AUG10))
    assert {d["field"] for d in bad.value.details} == {"insee", "location_key"}
    with pytest.raises(InvalidInput) as bad:
        an.copresence(graph, OPEN, CopresenceParams(lat=47.2, lon=5.9, **AUG10))
    assert bad.value.details[0]["field"] == "radius_m"
    with pytest.raises(InvalidInput) as bad:
        an.copresence(graph, OPEN, CopresenceParams(
            location_key=CASSIN_KEY, since=AUG10["until"], until=AUG10["since"]))
    assert bad.value.details[0]["field"] == "since"
    with pytest.raises(ValidationError) as exc:
        CopresenceParams(location_key=CASSIN_KEY, window_min=24 * 60 + 1, **AUG10)
    assert exc.value.errors()[0]["loc"] == ("window_min",)


# --- hotspots ------------------------------------------------------------------------------------

NOW = at("2025-08-31T00:00")


def _rows(entries):
    return [(e.key, e.recent, e.previous, e.trend.value) for e in entries]


def test_hotspots_rank_places_and_communes_with_their_trend(graph):
    result = an.hotspots(graph, OPEN, HotspotParams(departement="25", now=NOW))
    # Rue de Dole and the point near Place Cassin hold a single lead each: not listed.
    assert _rows(result.places) == [(CASSIN_KEY, 5, 1, "up"),
                                    ("place:25056:saint ferjeux", 2, 3, "down")]
    assert result.places[0].change_pct == 400.0 and result.places[1].change_pct == -33.3
    assert result.places[0].label == "Place Cassin — Besançon"
    assert _rows(result.communes) == [("25056", 9, 4, "up"), ("25388", 1, 0, "new")]
    everywhere = an.hotspots(graph, OPEN, HotspotParams(now=NOW))
    # Ties on recent leads: the larger rise first, then by name (Alençon before Montbéliard).
    assert _rows(everywhere.communes) == [("25056", 9, 4, "up"), ("61001", 1, 0, "new"),
                                          ("25388", 1, 0, "new"), ("88160", 0, 5, "down")]


def test_hotspots_count_only_readable_leads(graph):
    result = an.hotspots(graph, RESTRICTED, HotspotParams(departement="25", now=NOW))
    assert _rows(result.places)[0] == (CASSIN_KEY, 4, 1, "up")  # CH (customs) is hidden
    # A shorter comparison period is compared per day: 2 in 30 days vs 3 in 10 days.
    shorter = an.hotspots(graph, OPEN, HotspotParams(departement="25", now=NOW, compare_days=10))
    ferjeux = next(e for e in shorter.places if e.key == "place:25056:saint ferjeux")
    assert (ferjeux.recent, ferjeux.previous) == (2, 0)  # F1–F3 fall before 22 July
    with pytest.raises(ValidationError) as exc:
        HotspotParams(days=367)
    assert exc.value.errors()[0]["loc"] == ("days",)
    with pytest.raises(ValidationError) as exc:
        HotspotParams(departement="Doubs")
    assert exc.value.errors()[0]["loc"] == ("departement",)


# --- timeline ------------------------------------------------------------------------------------


def test_timeline_of_a_person_in_time_order(graph):
    result = an.timeline(graph, OPEN, TimelineParams(kind=K.PERSON, key=X))
    assert result.entity.id == f"person:{X}"
    assert [(I.name(e.lead.key), e.role) for e in result.entries] == [
        ("police:L2", "seller"), ("police:L1", "driver"), ("gendarmerie:L3", "seller"),
        ("douanes:L6", "courier")]
    assert [e.at for e in result.entries] == [at("2025-06-01T10:00"), at("2025-07-01T10:00"),
                                              at("2025-07-02T10:00"), at("2025-07-20T10:00")]
    assert result.entries[0].place == "Rue P2 — Épinal"
    assert result.entries[0].relation == "INVOLVES" and not result.truncated
    latest = an.timeline(graph, OPEN, TimelineParams(kind=K.PERSON, key=X, limit=2))
    assert [I.name(e.lead.key) for e in latest.entries] == ["gendarmerie:L3", "douanes:L6"]
    assert latest.truncated
    july = an.timeline(graph, OPEN, TimelineParams(
        kind=K.PERSON, key=X, since=at("2025-07-01T12:00"), until=at("2025-07-31T00:00")))
    assert [I.name(e.lead.key) for e in july.entries] == ["gendarmerie:L3", "douanes:L6"]


def test_timeline_hides_what_the_policy_hides(graph):
    result = an.timeline(graph, RESTRICTED, TimelineParams(kind=K.PERSON, key=X))
    assert [I.name(e.lead.key) for e in result.entries] == ["police:L2", "police:L1", "gendarmerie:L3"]
    assert [(h.agency, h.lead_count, h.contact) for h in result.hits] == [
        ("douanes", 1, "Permanence CROSS — douanes")]
    # A level that may read the lead but not its times: listed last, without a time.
    bare = AccessFilter(
        case_expression="CASE l.agency WHEN 'police' THEN 'full' WHEN 'gendarmerie' THEN 'bare' "
                        "ELSE 'none' END",
        profiles={"full": LEAD_PROPERTIES, "bare": LEAD_MARKING})
    untimed = an.timeline(graph, bare, TimelineParams(kind=K.PERSON, key=X))
    assert [(I.name(e.lead.key), e.at is None) for e in untimed.entries] == [
        ("police:L2", False), ("police:L1", False), ("gendarmerie:L3", True)]
    assert untimed.hits == []
    with pytest.raises(ValidationError) as exc:
        TimelineParams(kind=K.AGENCY, key="police")
    assert exc.value.errors()[0]["loc"] == ("kind",)


# --- central actors ------------------------------------------------------------------------------


def test_central_actor_of_a_neighbourhood(graph):
    result = an.central_actors(graph, OPEN, CentralParams(kind=K.PHONE, key="06 22 00 00 01"))
    # K0 and leads K1–K4 each with a phone: a tree of 9 nodes centred on K0. Removing K0 leaves
    # four pairs (lead, phone): 28 - 4 = 24 pairs of nodes have their only path through K0.
    assert result.node_count == 9 and result.edge_count == 8
    top = result.actors[0]
    assert top.node.id == f"person:{K0}" and top.rank == 1 and top.degree == 4
    assert top.betweenness_raw == 24.0 and top.betweenness == round(24 * 2 / (8 * 7), 6)
    assert {(a.node.id, a.degree, a.betweenness, a.is_anchor) for a in result.actors[1:]} == {
        (f"phone:{p}", 1, 0.0, p == KP[0]) for p in KP}
    with pytest.raises(ValidationError) as exc:
        CentralParams(kind=K.PHONE, key=KP[0], depth=4)
    assert exc.value.errors()[0]["loc"] == ("depth",)


def test_brandes_on_small_graphs():
    path = {"a": {"b"}, "b": {"a", "c"}, "c": {"b", "d"}, "d": {"c"}}
    assert an.betweenness(path) == {"a": 0.0, "b": 2.0, "c": 2.0, "d": 0.0}
    # A square: two shortest paths between opposite corners, each corner carries half of one.
    square = {"a": {"b", "d"}, "b": {"a", "c"}, "c": {"b", "d"}, "d": {"a", "c"}}
    assert an.betweenness(square) == dict.fromkeys("abcd", 0.5)


# --- search --------------------------------------------------------------------------------------


def _search(graph, q, kind, access=RESTRICTED, **kw):
    return an.search(graph, access, SearchParams(q=q, kind=kind, **kw))


def _found(result):
    return [(m.node.id, m.match, m.lead_count) for m in result.entities]


def test_plate_search_exact_partial_and_fuzzy(graph):
    exact = _search(graph, "ab 123 cd", "plate")
    assert _found(exact) == [(f"vehicle:{V1}", "exact", 1)]
    assert exact.entities[0].last_seen == at("2025-07-01T10:00")
    fuzzy = _search(graph, "AB-123-CD", "plate", fuzzy="confusable")
    assert _found(fuzzy) == [(f"vehicle:{V1}", "exact", 1), (f"vehicle:{V3}", "fuzzy", 1)]
    assert fuzzy.entities[1].reason == "1 ↔ 7 (caractère 3)"
    # A witness's impossible « I » in the digit block is repaired before looking for variants.
    misread = _search(graph, "AB-I23-CD", "plate", fuzzy="confusable")
    assert _found(misread) == [(f"vehicle:{V1}", "fuzzy", 1), (f"vehicle:{V3}", "fuzzy", 1)]
    assert misread.entities[0].reason == "I impossible ici, corrigé en 1 (caractère 3)"
    assert _found(_search(graph, "23cd", "plate")) == [
        (f"vehicle:{V3}", "partial", 1), (f"vehicle:{V1}", "partial", 1)]  # V3 seen last


def test_entity_search_reports_hidden_leads_as_hits_only(graph):
    [only_hidden] = _search(graph, V9, "plate").entities
    assert (only_hidden.lead_count, only_hidden.last_seen) == (0, None)
    assert [(h.agency, h.lead_count) for h in only_hidden.hits] == [("douanes", 1)]
    # When the policy may not even reveal them, the entity is not found at all.
    assert _search(graph, V9, "plate", POLICE_ONLY).entities == []
    [v2] = _search(graph, V2, "plate", POLICE_ONLY).entities
    assert (v2.lead_count, v2.hits) == (1, [])
    [phone] = _search(graph, "0612", "phone").entities
    assert (phone.node.id, phone.match, phone.lead_count) == (f"phone:{P1}", "partial", 1)
    # L3 (gendarmerie, summary) is readable; L4 (customs) only a hit.
    assert phone.last_seen == at("2025-07-02T10:00") and phone.hits[0].agency == "douanes"


def test_place_search(graph):
    assert _found(_search(graph, "cassin", "place", OPEN)) == [
        (f"location:{CASSIN_KEY}", "partial", 6)]
    assert _found(_search(graph, "besancon", "place", RESTRICTED)) == [("commune:25056", "partial", 12)]
    assert _found(_search(graph, "25056", "place", RESTRICTED)) == [("commune:25056", "exact", 12)]
    assert _found(_search(graph, "Saint Ferjeux", "place", OPEN)) == [
        ("location:place:25056:saint ferjeux", "partial", 5)]


def test_full_text_matches_only_narratives_the_caller_may_read(graph):
    def leads(q, access):
        return [I.name(m.lead.key) for m in _search(graph, q, "text", access).leads]

    assert leads("tramway", OPEN) == ["douanes:H1"]
    assert leads("tramway", RESTRICTED) == []  # hidden lead
    assert leads("trottinettes", OPEN) == ["gendarmerie:C2"]  # french stemming
    assert leads("trottinettes", RESTRICTED) == []  # readable, but not its narrative
    assert sorted(leads("hall", OPEN)) == ["douanes:CH", "gendarmerie:C2", "police:C1"]
    assert leads("hall", RESTRICTED) == ["police:C1"]
    assert leads("entree", RESTRICTED) == ["police:C1"]  # accents folded
    assert leads('"moteur tournant"', RESTRICTED) == ["police:C1"]
    assert leads('"tournant moteur"', RESTRICTED) == []
    assert leads("hall) OR (* tramway:x", OPEN) == []  # Lucene syntax is escaped, not run
    [match] = _search(graph, "hall", "text", RESTRICTED).leads
    assert match.lead.properties["narrative"].startswith("Véhicule stationné")


def test_search_bounds(graph):
    with pytest.raises(InvalidInput) as bad:
        _search(graph, "ab", "plate")
    assert bad.value.details[0]["field"] == "q"
    with pytest.raises(InvalidInput) as bad:
        _search(graph, "+-*", "text")
    assert bad.value.details[0]["field"] == "q"
    with pytest.raises(ValidationError) as exc:
        SearchParams(q="x", kind="plate", limit=101)
    assert exc.value.errors()[0]["loc"] == ("limit",)


# --- fuzzy plates, time bound --------------------------------------------------------------------


def test_confusion_set_is_symmetric_and_every_variant_is_a_valid_plate():
    for table in (plates.LETTER_CONFUSIONS, plates.DIGIT_CONFUSIONS):
        assert all(a in table[b] for a, others in table.items() for b in others)
    assert not set("IOU") & set(plates.LETTER_CONFUSIONS)
    assert len(plates.variants("AB-123-CD", "any")) == 4 * 22 + 3 * 9
    for plate in plates.variants("AB-123-CD", "any"):
        assert normalize_plate(plate) == plate
    # SS and 000 are never issued: those substitutions are dropped.
    assert "SS-100-BC" not in plates.variants("SA-100-BC", "any")
    assert "SA-000-BC" not in plates.variants("SA-100-BC", "any")
    assert plates.confusion("AB-123-CD", "AB-723-CD") == "1 ↔ 7 (caractère 3)"
    assert plates.confusion("AB-123-CD", "AB-323-CD") is None  # 1/3: not a confusion
    assert plates.repairs("A8-I23-CD") == {"AB-123-CD": "8 impossible ici, corrigé en B "
                                           "(caractère 2), I impossible ici, corrigé en 1 (caractère 3)"}
    # FNI: number and letters vary, never the département.
    assert all(v.endswith("-25") for v in plates.variants("1234-AB-25", "any"))


def test_a_read_past_its_time_bound_is_a_422_naming_the_field(graph):
    def slow(tx):
        return tx.run("UNWIND range(1, 100000000) AS i WITH i WHERE i = -1 RETURN count(i) AS n").single()

    with pytest.raises(InvalidInput) as bad:
        run_read(graph, slow, field="max_hops", timeout_s=0.5)
    assert bad.value.details[0]["field"] == "max_hops"


def test_an_access_expression_looking_at_the_leads_entities_is_evaluated_per_lead(graph):
    # The shape of a guest grant on an entity (graph/access.py): a lead is readable when it
    # cites the granted phone — whatever variables the analysis binds around the expression.
    granted = AccessFilter(
        case_expression="CASE WHEN l.agency = 'police' OR EXISTS { MATCH (l)-->(e) WHERE "
                        "e:Phone AND 'phone:' + e.number IN $acc_guest } THEN 'full' ELSE 'hit' END",
        params={"acc_guest": [f"phone:{P2}"]}, profiles={"full": LEAD_PROPERTIES})
    [v9] = _search(graph, V9, "plate", granted).entities  # H1 cites V9 and the granted P2
    assert (v9.lead_count, v9.hits) == (1, [])
    assert [ids(p) for p in _paths(graph, granted, from_key=V2, to_key=P2).paths] == [
        [f"vehicle:{V2}", N("douanes:H1"), f"phone:{P2}"]]
    timed = _paths(graph, granted, from_key=V2, to_key=P2, max_gap_hours=1000)
    assert [ids(p) for p in timed.paths] == [[f"vehicle:{V2}", N("douanes:H1"), f"phone:{P2}"]]
    assert [I.name(e.lead.key) for e in an.timeline(graph, granted, TimelineParams(
        kind=K.VEHICLE, key=V9)).entries] == ["douanes:H1"]
