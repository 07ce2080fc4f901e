"""Concurrent writers on overlapping entities (graph/leads.py): two threads call ``write_leads``
at the same moment with batches naming the same plates, phones, persons and places, each in the
other's reverse order — new entities, then the same ones again (their places now gaining the
point they lacked), then new ones with points. The rules: every lead lands exactly once with
every link it asserts, one node per entity key, and no transaction is rolled back and retried
for a deadlock (``transient_retries`` counts every retried chunk)."""

from __future__ import annotations

import threading
from collections import Counter

from graph.handle import Graph
from graph.leads import transient_retries, write_leads
from graph.setup import apply_schema
from hub.contract.lead import ItemOutcome, Lead
from tests.factories import BESANCON, lead, pseudonym

ENTITIES = 12  # shared per kind and round
LEADS = 24  # per writer and round, in chunks of CHUNK
CHUNK = 8
ROUNDS = [("r0", False), ("r0", True), ("r2", True)]  # (entity set, places carry a point)
WRITERS = ("police", "gendarmerie")


def _plate(entity_set: str, i: int) -> str:
    return f"{'BCDEFGH'[int(entity_set[1])]}{'BCDEFGHJKLMN'[i]}-{100 + i}-CD"


def _person(entity_set: str, i: int) -> str:
    return pseudonym("Essai", {"r0": "Alpha", "r2": "Gamma"}[entity_set] + "BCDEFGHJKLMN"[i].lower())


def _address(entity_set: str, i: int) -> str:
    return f"{i + 1} rue de l'Essai {entity_set}"


def _point(i: int) -> dict[str, float]:
    return {"lat": 47.20 + i * 0.002, "lon": 5.95 + i * 0.002}


def _payloads(writer: int, round_: int) -> list[dict]:
    entity_set, with_point = ROUNDS[round_]
    out = []
    for n in range(LEADS):
        # Writer 0 walks the entities upwards, writer 1 downwards: in row order, each batch
        # meets the other's entities in the reverse order.
        i = n % ENTITIES if writer == 0 else ENTITIES - 1 - n % ENTITIES
        j = (i + 1) % ENTITIES
        location = {**BESANCON, "address": _address(entity_set, i)}
        if with_point:
            location["point"] = _point(i)
        out.append(lead(
            source_agency=WRITERS[writer], source_ref=f"CC-{round_}-{writer}-{n}",
            location=location,
            vehicles=[{"plate": _plate(entity_set, i)}, {"plate": _plate(entity_set, j)}],
            phones=[f"+336123{int(entity_set[1])}{i:04d}"],
            persons=[{"pseudonym": _person(entity_set, i), "role": "seller"},
                     {"pseudonym": _person(entity_set, j), "role": "buyer"}],
        ))
    return out


def test_two_concurrent_writers_on_the_same_entities_lose_nothing_and_never_deadlock(clean: Graph):
    apply_schema(clean)  # as every hub does at start-up: the uniqueness constraints MERGE relies on
    before = Counter(transient_retries())
    outcomes: list[list] = [[], []]
    failures: list[BaseException] = []
    start = threading.Barrier(2)

    def writer(k: int) -> None:
        try:
            for round_ in range(len(ROUNDS)):
                leads = [Lead.model_validate(p) for p in _payloads(k, round_)]
                start.wait(timeout=60)  # both writers' rounds begin together
                outcomes[k] += write_leads(clean, leads, chunk_size=CHUNK)
        except BaseException as exc:  # noqa: BLE001 — re-raised in the test's thread
            failures.append(exc)
            start.abort()

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert not failures, failures

    # No chunk was retried: no deadlock, no other transient failure.
    assert Counter(transient_retries()) - before == Counter()
    total = len(WRITERS) * len(ROUNDS) * LEADS
    assert [w.outcome for ws in outcomes for w in ws] == [ItemOutcome.CREATED] * total

    # Every lead exactly once, each with the links it asserts: 2 vehicles, 1 phone, 2 persons,
    # 1 place.
    rows = clean.query(
        "MATCH (l:Lead) RETURN l.source_key AS key, "
        "COUNT { (l)-[:MENTIONS_VEHICLE]->(:Vehicle) } AS vehicles, "
        "COUNT { (l)-[:MENTIONS_PHONE]->(:Phone) } AS phones, "
        "COUNT { (l)-[:INVOLVES]->(:Person) } AS persons, "
        "COUNT { (l)-[:AT]->(:Location) } AS places")
    expected_keys = {f"{WRITERS[k]}|CC-{r}-{k}-{n}" for k in range(2) for r in range(len(ROUNDS))
                     for n in range(LEADS)}
    assert Counter(r["key"] for r in rows) == Counter(expected_keys)
    assert {(r["vehicles"], r["phones"], r["persons"], r["places"]) for r in rows} == {(2, 1, 2, 1)}

    # One node per entity key, linked from every lead naming it: each entity set is named by
    # both writers in the rounds that use it, each entity by LEADS / ENTITIES leads per writer
    # and round, vehicles and persons once as i and once as j.
    sets = Counter(entity_set for entity_set, _ in ROUNDS)
    per_round = 2 * LEADS // ENTITIES
    vehicles = {r["plate"]: r["n"] for r in clean.query(
        "MATCH (v:Vehicle) RETURN v.plate AS plate, COUNT { (v)<-[:MENTIONS_VEHICLE]-() } AS n")}
    assert vehicles == {_plate(s, i): 2 * per_round * rounds for s, rounds in sets.items()
                        for i in range(ENTITIES)}
    phones = clean.query("MATCH (p:Phone) RETURN count(p) AS n, "
                         "collect(DISTINCT COUNT { (p)<-[:MENTIONS_PHONE]-() }) AS links")
    assert phones[0]["n"] == ENTITIES * len(sets)
    persons = clean.query("MATCH (p:Person) RETURN count(p) AS n, "
                          "collect(DISTINCT COUNT { (p)<-[:INVOLVES]-() }) AS links")
    assert persons[0]["n"] == ENTITIES * len(sets)
    assert sorted(persons[0]["links"]) == sorted({2 * per_round * r for r in sets.values()})
    assert sorted(phones[0]["links"]) == sorted({per_round * r for r in sets.values()})

    # One Location per address, in its commune once, holding the point its leads gave it (the
    # first round's places had none; the second round's leads gave theirs).
    places = {r["address"]: r for r in clean.query(
        "MATCH (loc:Location) RETURN loc.address AS address, loc.point IS NOT NULL AS has_point, "
        "COUNT { (loc)-[:IN_COMMUNE]->(:Commune {insee_code: '25056'}) } AS communes, "
        "COUNT { (loc)<-[:AT]-() } AS leads")}
    assert set(places) == {_address(s, i) for s in sets for i in range(ENTITIES)}
    assert all(p["has_point"] and p["communes"] == 1 for p in places.values())
    assert {a: p["leads"] for a, p in places.items()} == {
        _address(s, i): per_round * rounds for s, rounds in sets.items() for i in range(ENTITIES)}
