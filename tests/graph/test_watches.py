"""Watch matching in the graph (graph/watches/): a batch of fresh leads finds the active watches
on its keys through the index on ``Watch.match_key`` — a seek per key, whatever the number of
watches (the plan is checked, never a time) — and an ended watch is no longer found.
No graph wipe: the keys are random, so the test shares the session's graph with the others."""

from __future__ import annotations

from datetime import UTC, datetime

from graph import watches as graph_watches
from graph.leads import write_leads
from graph.setup import apply_schema
from hub.contract.lead import Lead
from tests.factories import canary_tag, lead
from tests.hub.test_watches import other_spelling, random_plate


def test_a_batch_finds_its_watches_through_the_key_index(graph):
    apply_schema(graph)
    now = datetime.now(UTC)
    plate, phone_typed = random_plate(), "06 " + " ".join(f"{n:02d}" for n in (12, 34, 56, 78))
    owner = f"gendarmerie:veilleur-{canary_tag(6).lower()}"
    by_plate = graph_watches.create_watch(
        graph, user_id=owner, target=graph_watches.entity_target("vehicle", other_spelling(plate)),
        justification="PV test", max_active=10, now=now)
    ended = graph_watches.create_watch(
        graph, user_id=owner, target=graph_watches.entity_target("vehicle", plate),
        justification="PV test", max_active=10, now=now)
    graph_watches.end_watch(graph, ended.watch_id, user_id=owner, now=now)
    unrelated = graph_watches.create_watch(
        graph, user_id=owner, target=graph_watches.entity_target("vehicle", random_plate()),
        justification="PV test", max_active=10, now=now)
    written = write_leads(graph, [Lead.model_validate(lead(vehicles=[{"plate": plate}],
                                                           phones=[phone_typed]))])
    ids = [w.lead_id for w in written]

    leads = graph_watches.batch_leads(graph, ids, narratives=False)
    assert f"vehicle:{plate}" in leads[0].keys and "phone:+33612345678" in leads[0].keys
    touched = graph_watches.touched_watches(graph, leads, scans=False)
    found = {t.watch_id for t in touched}
    assert by_plate.watch_id in found
    assert ended.watch_id not in found and unrelated.watch_id not in found
    assert [t.lead_ids for t in touched if t.watch_id == by_plate.watch_id] == [ids]

    # The seek matching makes (graph/watches/matching.py), as the planner plans it.
    with graph.session() as session:
        summary = session.run("EXPLAIN UNWIND $keys AS k MATCH (w:Watch {match_key: k}) "
                              "RETURN w", keys=["x"]).consume()
    operators = _operators(summary.plan)
    assert any(op.startswith("NodeIndexSeek") for op in operators), operators
    assert not any(op.startswith(("NodeByLabelScan", "AllNodesScan")) for op in operators)


def _operators(plan) -> list[str]:
    out = [plan["operatorType"] if isinstance(plan, dict) else plan.operator_type]
    children = plan.get("children", []) if isinstance(plan, dict) else plan.children
    for child in children:
        out += _operators(child)
    return out
