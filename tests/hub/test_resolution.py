"""Entity resolution through the real hub (``/api/v1/resolution/…``, ADR 0020).

Expected outcomes come from the rules' meaning and the policy text (tests/oracles.py: a
gendarmerie analyst reads police H1 leads redacted, knows police H2 leads as hits, H3 ones not at
all), never from the code's output:

- a gendarmerie analyst's "same" on a gendarmerie plate and a police plate waits for the
  police's countersignature (nothing merged meanwhile), the police is notified, a police
  analyst countersigns, the merge is made and the network read follows it; undo removes it;
  each step is in the audit trail;
- bad input is 422 naming the exact field; a forged pair handle answers like an unknown pair;
- the candidates' raw bytes hold nothing of a lead the caller may not read: no plate, id or
  narrative of the police H2 lead (a hit side: agency, count, handle), nothing of the H3 one.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from graph.analysis import plates
from graph.handle import Graph
from graph.identity.users import user_id_for
from graph.leads import write_leads
from hub.contract.lead import Lead
from tests.factories import canary_tag, lead, random_plate

J = "justification=PV%202026%2F300%20rapprochement"
WHY = "Même véhicule vu par les deux services, plaque mal relue"


def _variants(plate: str) -> list[str]:
    return sorted(plates.variants(plate, "confusable"))


@pytest.fixture
def world(driver, hub_settings, make_user):
    """A gendarmerie plate and three police variants of it (H1, H2, H3), reported now."""
    while len(variants := _variants(mine := random_plate())) < 3:
        pass
    h1, h2, h3 = variants[:3]
    now = datetime.now(UTC).isoformat()
    canary = canary_tag()
    payloads = [
        lead(source_agency="gendarmerie", source_ref=f"RS-{canary}-G", handling_code="H1",
             reported_at=now, observed_at=now, vehicles=[{"plate": mine}]),
        lead(source_agency="police", source_ref=f"RS-{canary}-1", handling_code="H1",
             reported_at=now, observed_at=now, vehicles=[{"plate": h1}]),
        lead(source_agency="police", source_ref=f"RS-{canary}-2", handling_code="H2",
             reported_at=now, observed_at=now, vehicles=[{"plate": h2}],
             narrative=f"Surveillance discrète {canary} au parking"),
        lead(source_agency="police", source_ref=f"RS-{canary}-3", handling_code="H3",
             reported_at=now, observed_at=now, vehicles=[{"plate": h3}]),
    ]
    graph = Graph(driver, hub_settings.neo4j_database)
    ids = [r.lead_id for r in write_leads(graph, [Lead.model_validate(p) for p in payloads])]
    names = {k: f"res-{k}-{canary.lower()}" for k in ("g", "p", "aud")}
    return {
        "graph": graph, "mine": mine, "h1": h1, "h2": h2, "h3": h3, "ids": ids, "canary": canary,
        "gendarme": make_user("gendarmerie", "analyst", names["g"]),
        "policier": make_user("police", "analyst", names["p"]),
        "auditor": make_user("police", "auditor", names["aud"]),
        "g_id": user_id_for("gendarmerie", names["g"]), "p_id": user_id_for("police", names["p"]),
    }


def _candidates(client, headers) -> tuple[bytes, list[dict]]:
    r = client.get(f"/api/v1/resolution/candidates?{J}", headers=headers)
    assert r.status_code == 200, r.text
    return r.content, r.json()["candidates"]


def _pair_of(candidates: list[dict], a: str, b: str) -> dict:
    wanted = {f"vehicle:{a}", f"vehicle:{b}"}
    [found] = [c for c in candidates if {c["a"]["entity"], c["b"]["entity"]} == wanted]
    return found


def _merged(graph: Graph, a: str, b: str) -> int:
    return graph.query("MATCH (:Vehicle {plate: $a})-[r:MERGED_INTO]-(:Vehicle {plate: $b}) "
                       "RETURN count(r) AS n", a=a, b=b)[0]["n"]


def _audit(client, auditor, entity_key: str) -> list[dict]:
    r = client.get("/api/v1/audit", params={"entity_key": entity_key, "limit": 50}, headers=auditor)
    assert r.status_code == 200, r.text
    return r.json()


def test_cross_agency_merge_waits_for_the_countersignature(client, world) -> None:
    w, g, p = world, world["gendarme"], world["policier"]
    _, found = _candidates(client, g)
    pair = _pair_of(found, w["mine"], w["h1"])
    assert {e["rule"] for e in pair["evidence"]} == {"plate_variant"}
    r = client.post("/api/v1/resolution/judgements", headers=g,
                    json={"pair": pair["pair"], "verdict": "same", "reason": WHY})
    assert r.status_code == 201, r.text
    merge = r.json()["merge"]
    assert (merge["state"], merge["awaiting"]) == ("pending", ["police"])
    assert _merged(w["graph"], w["mine"], w["h1"]) == 0  # nothing merged until countersigned
    # The police is told; the gendarmerie may not countersign for it.
    notes = client.get("/api/v1/notifications", headers=p).json()
    assert any(n["kind"] == "resolution_countersign" and n["payload"].get("merge_id") == merge["merge_id"]
               for n in notes), notes
    body = {"merge_id": merge["merge_id"], "decision": "accept", "reason": "Confirmé par la BR"}
    assert client.post("/api/v1/resolution/countersign", headers=g, json=body).status_code == 404
    listed = client.get(f"/api/v1/resolution/merges?{J}", headers=p).json()
    assert [m["awaiting_you"] for m in listed if m["merge_id"] == merge["merge_id"]] == [True]
    r = client.post("/api/v1/resolution/countersign", headers=p, json=body)
    assert r.status_code == 200 and r.json()["state"] == "merged", r.text
    assert _merged(w["graph"], w["mine"], w["h1"]) == 1
    net = client.get(f"/api/v1/entities/vehicle/{w['mine']}/network?depth=1&{J}", headers=g).json()
    assert f"vehicle:{w['h1']}" in {n["id"] for n in net["nodes"]}
    assert w["mine"] and any(n["kind"] == "resolution_decided" for n in
                             client.get("/api/v1/notifications", headers=g).json())
    r = client.post("/api/v1/resolution/undo", headers=g,
                    json={"merge_id": merge["merge_id"], "reason": "Plaques finalement distinctes"})
    assert r.status_code == 200 and r.json()["state"] == "undone", r.text
    assert _merged(w["graph"], w["mine"], w["h1"]) == 0
    # Audited: the judgement (combination, both entities), the countersignature, the undo.
    judged = _audit(client, w["auditor"], f"vehicle:{w['mine']}")
    assert [(e["action"], e["actor"]["user_id"], e["details"]["verdict"]) for e in judged
            if e["details"].get("step") == "resolution_judgement"] == [("combination", w["g_id"], "same")]
    steps = {(e["action"], e["actor"]["user_id"], e["details"]["step"])
             for e in _audit(client, w["auditor"], f"merge:{merge['merge_id']}")}
    assert steps == {("combination", w["p_id"], "resolution_countersign"),
                     ("alteration", w["g_id"], "resolution_undo")}


@pytest.mark.parametrize(("body", "field"), [
    ({"verdict": "same", "reason": WHY}, "pair"),
    ({"pair": "hit_x", "verdict": "peut-être", "reason": WHY}, "verdict"),
    ({"pair": "hit_x", "verdict": "same", "reason": " "}, "reason"),
    ({"pair": "hit_x", "verdict": "same", "reason": WHY, "score": 1}, "score"),
])
def test_bad_judgement_names_the_field(client, make_user, body, field) -> None:
    r = client.post("/api/v1/resolution/judgements", headers=make_user("gendarmerie", "analyst"),
                    json=body)
    assert r.status_code == 422, r.text
    assert [d["field"] for d in r.json()["details"]] == [f"body.{field}"]


def test_candidates_hold_nothing_of_unreadable_leads(client, world) -> None:
    w = world
    raw, found = _candidates(client, w["gendarme"])
    # The H2 plate is a hit side: police, one lead, a handle — its key, lead and text nowhere.
    [hit_side] = [side for c in found for side in (c["a"], c["b"])
                  if not side["readable"] and side["kind"] == "vehicle"
                  and {c["a"].get("entity"), c["b"].get("entity")} & {f"vehicle:{w['mine']}"}]
    assert [(h["agency"], h["lead_count"]) for h in hit_side["hits"]] == [("police", 1)]
    assert hit_side["hits"][0]["handle"].encode() in raw
    for secret in (w["h2"], w["ids"][2], w["canary"], w["h3"], w["ids"][3]):
        assert secret.encode() not in raw, secret
    # A forged handle answers as an unknown pair would.
    forged = client.post("/api/v1/resolution/judgements", headers=w["gendarme"],
                         json={"pair": hit_side["hits"][0]["handle"], "verdict": "same", "reason": WHY})
    unknown = client.post("/api/v1/resolution/judgements", headers=w["gendarme"],
                          json={"pair": "hit_AAAA", "verdict": "same", "reason": WHY})
    assert (forged.status_code, forged.json()) == (unknown.status_code, unknown.json()) == (
        404, unknown.json())
