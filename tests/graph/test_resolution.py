"""Entity resolution in the graph (graph/resolution/, ADR 0020), through the real compiled policy.

Expected outcomes come from the rules' meaning and the policy text (tests/oracles.py: a
gendarmerie analyst reads police H0/H1 leads redacted, knows H2 ones as hits, and H3 ones not at
all), never from the code's output:

- candidates are proposed only around what the caller may know: a plate only a police H3 lead
  holds is never paired for a gendarmerie analyst (no oracle), while a police analyst gets that
  same pair; a plate a police H2 lead holds is a hit side, without its key;
- "not the same" never comes back, for anyone;
- merge then undo leaves every node and relationship of the entity/lead graph, with every
  property, exactly as before (only the judgement/merge bookkeeping and notifications differ);
  while merged, the network read of one entity reaches the other's leads.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from graph import read as graph_read
from graph import resolution
from graph.access import AccessFilter
from graph.driver import reset_database
from graph.handle import Graph
from graph.identity import Principal
from graph.labels import EntityKind
from graph.leads import write_leads
from graph.setup import apply_schema
from hub.access import access_filter_for
from hub.contract.lead import Lead
from policies.loader import load_policy
from policies.resolution import Verdict, load_resolution_rules, pair_key
from tests.factories import lead

DB = "neo4j"
RULES = load_resolution_rules()
NOW = datetime.now(UTC)
RECENT = (NOW - timedelta(days=1)).isoformat()

# Confusable pairs of graph/analysis/plates.py: B/R (seen), X/Y (seen), X/K (seen).
MINE = "KB-417-TX"  # gendarmerie, H1
POLICE_H1 = "KR-417-TX"  # B ↔ R: readable (redacted) to a gendarmerie analyst
POLICE_H3 = "KB-417-TY"  # X ↔ Y: a gendarmerie analyst may not even know of it
POLICE_H2 = "KB-417-TK"  # X ↔ K: a hit for a gendarmerie analyst
MINE_TOO = "KP-417-TX"  # B ↔ P: gendarmerie too, on another lead (merged at once)
PHONES = ("+33611111111", "+33622222222")  # cited together by two gendarmerie leads
OTHER_PHONES = ("+33633333333", "+33644444444")  # idem, judged "not the same" below

# Bookkeeping a judgement writes beside the entity/lead graph (documented in ADR 0020).
BOOKKEEPING = ("ResolutionJudgement", "EntityMerge", "Notification", "OperationLedger")


def _lead(agency: str, ref: str, code: str, **fields) -> dict:
    return lead(source_agency=agency, source_ref=ref, handling_code=code, observed_at=RECENT,
                reported_at=RECENT, **fields)


def _payloads() -> list[dict]:
    return [
        _lead("gendarmerie", "RS-G1", "H1", vehicles=[{"plate": MINE}]),
        _lead("police", "RS-P1", "H1", vehicles=[{"plate": POLICE_H1}]),
        _lead("police", "RS-P3", "H3", vehicles=[{"plate": POLICE_H3}]),
        _lead("police", "RS-P2", "H2", vehicles=[{"plate": POLICE_H2}]),
        _lead("gendarmerie", "RS-G6", "H1", vehicles=[{"plate": MINE_TOO}]),
        _lead("gendarmerie", "RS-G2", "H1", phones=list(PHONES)),
        _lead("gendarmerie", "RS-G3", "H1", phones=list(PHONES)),
        _lead("gendarmerie", "RS-G4", "H1", phones=list(OTHER_PHONES)),
        _lead("gendarmerie", "RS-G5", "H1", phones=list(OTHER_PHONES)),
    ]


_WRITTEN: list[str] = []


@pytest.fixture
def world(driver) -> Graph:
    """Written once, rewritten when another module wiped or added to the graph meanwhile (tests of
    several modules share a worker's graph): the candidates below are those of these leads."""
    graph = Graph(driver, DB)
    found = graph.query("MATCH (l:Lead) RETURN count(l) AS n, "
                        "count(CASE WHEN l.lead_id IN $ids THEN 1 END) AS ours", ids=_WRITTEN)[0]
    if _WRITTEN and found["n"] == found["ours"] == len(_WRITTEN):
        return graph
    reset_database(graph)
    apply_schema(graph)
    results = write_leads(graph, [Lead.model_validate(p) for p in _payloads()])
    assert {r.outcome.value for r in results} == {"created"}
    _WRITTEN[:] = [r.lead_id for r in results]
    return graph


def _access(graph: Graph, agency: str, role: str = "analyst") -> AccessFilter:
    who = Principal(user_id=f"{agency}:res-{role}", name=f"res-{role}", agency=agency, role=role)
    return access_filter_for(graph, who, grants=[], policy=load_policy())


def _candidates(graph: Graph, access: AccessFilter, agency: str) -> resolution.CandidateList:
    def work(tx):
        seeds = resolution.seed_entities(tx, access, RULES, datetime.now(UTC))
        return resolution.find_candidates(tx, access, RULES, seeds, viewer_agency=agency)
    return graph.read(work)


def _pairs(result: resolution.CandidateList) -> set[str]:
    return {c.pair for c in result.candidates}


def _key(kind: str, a: str, b: str) -> str:
    return pair_key(f"{kind}:{a}", f"{kind}:{b}")


def test_candidates_only_around_what_the_caller_may_know(world: Graph) -> None:
    gendarme = _candidates(world, _access(world, "gendarmerie"), "gendarmerie")
    pairs = _pairs(gendarme)
    assert _key("vehicle", MINE, POLICE_H1) in pairs  # both readable
    assert _key("phone", *PHONES) in pairs and _key("phone", *OTHER_PHONES) in pairs
    assert _key("vehicle", MINE, POLICE_H3) not in pairs  # H3 of another agency: not even known
    assert not any(POLICE_H3 in c.model_dump_json(exclude={"pair"}) for c in gendarme.candidates)
    # The H2 plate is a hit side: agency and count, never its key.
    [hit_pair] = [c for c in gendarme.candidates
                  if c.kind == "vehicle" and not (c.a.readable and c.b.readable)]
    hidden = hit_pair.a if not hit_pair.a.readable else hit_pair.b
    assert hidden.entity is None and hidden.label is None
    assert [(h.agency, h.lead_count) for h in hidden.hits] == [("police", 1)]
    # (``pair`` is the bare key here, for the hub's maintenance reads: the hub seals it.)
    assert POLICE_H2 not in hit_pair.model_dump_json(exclude={"pair"})
    # The owner of the H3 lead sees that pair (its own lead; the gendarmerie H1 lead redacted).
    police = _pairs(_candidates(world, _access(world, "police"), "police"))
    assert _key("vehicle", MINE, POLICE_H3) in police


def _judge(graph: Graph, access: AccessFilter, key: str, verdict: Verdict, agency: str):
    return resolution.judge(graph, access, key=key, verdict=verdict, reason="même numéro, vu deux fois",
                            user_id=f"{agency}:res-analyst", agency=agency, rules=RULES,
                            now=datetime.now(UTC), notice=lambda a: "contre-signature demandée",
                            before_commit=lambda record: None)


def test_not_the_same_never_comes_back(world: Graph) -> None:
    key = _key("phone", *OTHER_PHONES)
    gendarmerie = _access(world, "gendarmerie")
    _judge(world, gendarmerie, key, Verdict.UNSURE, "gendarmerie")
    [listed] = [c for c in _candidates(world, gendarmerie, "gendarmerie").candidates if c.pair == key]
    assert listed.annotation is not None and listed.annotation.status == "unsure"
    _judge(world, gendarmerie, key, Verdict.NOT_SAME, "gendarmerie")
    # A later "unsure" or "same" does not bring it back either: "not the same" is for good.
    _judge(world, gendarmerie, key, Verdict.UNSURE, "gendarmerie")
    for agency in ("gendarmerie", "police"):
        assert key not in _pairs(_candidates(world, _access(world, agency), agency))


def _dump(graph: Graph) -> tuple[list, list]:
    """Every node and relationship, with labels/type and all properties, but the bookkeeping."""
    nodes = graph.query(
        "MATCH (n) WHERE none(lb IN labels(n) WHERE lb IN $skip) "
        "RETURN elementId(n) AS id, labels(n) AS labels, properties(n) AS props ORDER BY id",
        skip=list(BOOKKEEPING))
    rels = graph.query(
        "MATCH (a)-[r]->(b) WHERE none(lb IN labels(a) + labels(b) WHERE lb IN $skip) "
        "RETURN elementId(r) AS id, elementId(a) AS a, type(r) AS type, elementId(b) AS b, "
        "properties(r) AS props ORDER BY id", skip=list(BOOKKEEPING))
    return ([(r["id"], sorted(r["labels"]), r["props"]) for r in nodes],
            [(r["id"], r["a"], r["type"], r["b"], r["props"]) for r in rels])


def test_merge_then_undo_leaves_the_graph_exactly_as_it_was(world: Graph) -> None:
    gendarmerie = _access(world, "gendarmerie")
    key = _key("vehicle", MINE, MINE_TOO)
    assert key in _pairs(_candidates(world, gendarmerie, "gendarmerie"))
    # Two plates no lead cites together: the network of one does not reach the other.
    assert f"vehicle:{MINE_TOO}" not in {
        n.id for n in graph_read.network(world, EntityKind.VEHICLE, MINE, 1, gendarmerie).nodes}
    before = _dump(world)
    # One agency's leads only: no countersignature, merged at once.
    record = _judge(world, gendarmerie, key, Verdict.SAME, "gendarmerie")
    assert record.merge is not None and record.merge.state == "merged"
    merged = _dump(world)
    assert [r[2] for r in merged[1] if r not in before[1]] == ["MERGED_INTO"]
    assert merged[0] == before[0]  # no node made, none changed
    # Reads follow the merge: the network of one plate shows the other and its lead.
    net = graph_read.network(world, EntityKind.VEHICLE, MINE, 1, gendarmerie)
    assert f"vehicle:{MINE_TOO}" in {n.id for n in net.nodes}
    assert "RS-G6" in {n.properties.get("source_ref") for n in net.nodes if n.kind == "lead"}
    assert key not in _pairs(_candidates(world, gendarmerie, "gendarmerie"))
    resolution.undo(world, gendarmerie, merge_id=record.merge.merge_id, reason="erreur de saisie",
                    user_id="gendarmerie:res-analyst", agency="gendarmerie", now=datetime.now(UTC),
                    before_commit=lambda view: None)
    assert _dump(world) == before
