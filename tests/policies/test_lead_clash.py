"""The pure lead-vs-operation rule (policies/lead_clash.py), against the rule as written in its
docstring and deconfliction.yaml (margin 30 min, place distance 500 m, commune fallback, target
lookback 72 h; only the lead's time counts, not when it arrives; tell_lead_author for arrests and searches only)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from hub.contract.errors import InvalidInput
from policies.deconfliction import OperationFacts, OperationKind, OperationStatus, load_deconfliction_rules
from policies.lead_clash import (
    LeadFacts,
    author_notice_fr,
    check_tell_author,
    lead_clash,
    lead_clashes,
)

RULES = load_deconfliction_rules()
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
H = timedelta(hours=1)
M = timedelta(minutes=1)
POINT = (47.2205, 5.9710)
NORTH_M = 1 / 111_320  # one metre north, in degrees


def _op(**over) -> OperationFacts:
    base = dict(operation_id="op-1", agency="police", kind=OperationKind.SURVEILLANCE,
                starts_at=NOW - H, ends_at=NOW + 3 * H, created_at=NOW - 2 * H, insee_code="25056",
                lat=POINT[0], lon=POINT[1], radius_m=100, targets=["vehicle:AB-123-CD"],
                status=OperationStatus.ACTIVE)
    return OperationFacts(**{**base, **over})


def _lead(metres_north: float | None = 2000, at=NOW, **over) -> LeadFacts:
    base = dict(lead_id="L-1", agency="gendarmerie", at=at, insee_code="25056")
    if metres_north is not None:
        base.update(lat=POINT[0] + metres_north * NORTH_M, lon=POINT[1])
    return LeadFacts(**{**base, **over})


# (case, lead, operation, expected reasons or None)
TABLE = [
    ("target, during the window", _lead(entity_keys=["vehicle:AB-123-CD"]), _op(), ["target"]),
    ("target, after the declaration, before the start", _lead(at=NOW - 90 * M, entity_keys=["vehicle:AB-123-CD"]),
     _op(), ["target"]),
    ("target, 71 h before the declaration", _lead(at=NOW - 73 * H, entity_keys=["vehicle:AB-123-CD"]),
     _op(), ["target"]),
    ("target, 73 h before the declaration", _lead(at=NOW - 75 * H, entity_keys=["vehicle:AB-123-CD"]),
     _op(), None),
    ("target, 29 min after the end", _lead(at=NOW + 3 * H + 29 * M, entity_keys=["vehicle:AB-123-CD"]),
     _op(), ["target"]),
    ("target, 31 min after the end", _lead(at=NOW + 3 * H + 31 * M, entity_keys=["vehicle:AB-123-CD"]),
     _op(), None),
    ("another plate", _lead(entity_keys=["vehicle:ZZ-999-ZZ"]), _op(), None),
    ("490 m away, during the window", _lead(490), _op(), ["place", "time"]),
    ("510 m away (radius 100 m)", _lead(510), _op(), None),
    ("900 m away, radius 1 km", _lead(900), _op(radius_m=1000), ["place", "time"]),
    ("0 m, 29 min before the start", _lead(0, at=NOW - H - 29 * M), _op(), ["place", "time"]),
    ("0 m, 31 min before the start", _lead(0, at=NOW - H - 31 * M), _op(), None),
    ("same location key, no points", _lead(None, location_key="addr:25056:place cassin"),
     _op(lat=None, lon=None, location_key="addr:25056:place cassin"), ["place", "time"]),
    ("no point, same commune", _lead(None), _op(), ["place", "time"]),
    ("no point, another commune", _lead(None, insee_code="25388"), _op(), None),
    ("both points 2 km apart, same commune: no fallback", _lead(2000), _op(), None),
    ("target and place", _lead(0, entity_keys=["vehicle:AB-123-CD"]), _op(), ["target", "place", "time"]),
    ("the owner's own lead", _lead(0, agency="police"), _op(), None),
    ("declared after its start: in the area 5 days ago, during the window", _lead(0, at=NOW - 120 * H),
     _op(starts_at=NOW - 240 * H, created_at=NOW), ["place", "time"]),
    ("declared after its start: its target 5 days ago, before the lookback", _lead(
        2000, at=NOW - 120 * H, entity_keys=["vehicle:AB-123-CD"]), _op(starts_at=NOW - 240 * H, created_at=NOW), None),
    ("an operation done", _lead(0), _op(status=OperationStatus.DONE), None),
    ("an operation over by now, the lead during its window", _lead(0, at=NOW - 3 * H),
     _op(starts_at=NOW - 4 * H, ends_at=NOW - 31 * M, created_at=NOW - 5 * H), ["place", "time"]),
    ("0 m, 31 min after the end", _lead(0, at=NOW + 3 * H + 31 * M), _op(), None),
]


@pytest.mark.parametrize(("lead", "op", "expected"), [c[1:] for c in TABLE], ids=[c[0] for c in TABLE])
def test_the_rule(lead, op, expected):
    got = lead_clash(lead, op, RULES)
    assert (got.reasons if got else None) == expected


def test_the_indexed_batch_finds_exactly_the_pairs_the_rule_finds():
    rng = random.Random(14)
    plates = [f"vehicle:AA-{n:03d}-AA" for n in range(40)]
    ops = [_op(operation_id=f"op-{i}", agency=rng.choice(["police", "douanes"]),
               lat=POINT[0] + rng.uniform(-0.05, 0.05) if i % 7 else None,
               lon=POINT[1] + rng.uniform(-0.05, 0.05) if i % 7 else None,
               insee_code=rng.choice(["25056", "25388"]), radius_m=rng.choice([50, 300, 2000]),
               location_key=rng.choice([None, "addr:25056:x", "addr:25056:y"]),
               targets=rng.sample(plates, 2), starts_at=NOW - rng.randint(0, 5) * H,
               ends_at=NOW + rng.randint(1, 5) * H) for i in range(200)]
    leads = [_lead(rng.uniform(-6000, 6000) if i % 5 else None, lead_id=f"L-{i}",
                   agency=rng.choice(["police", "gendarmerie"]), at=NOW + rng.randint(-300, 300) * M,
                   insee_code=rng.choice(["25056", "25388"]),
                   location_key=rng.choice([None, "addr:25056:x"]), entity_keys=rng.sample(plates, 1))
             for i in range(300)]
    brute = {(c.lead_id, c.operation_id) for lead in leads for op in ops
             if (c := lead_clash(lead, op, RULES)) is not None}
    assert brute, "the sample must hold clashes"
    assert {(c.lead_id, c.operation_id) for c in lead_clashes(leads, ops, RULES)} == brute


def test_who_may_tell_the_author_and_what_they_are_told():
    check_tell_author(OperationKind.ARREST, "police", True, RULES)
    check_tell_author(OperationKind.SURVEILLANCE, "police", False, RULES)
    with pytest.raises(InvalidInput) as refused:
        check_tell_author(OperationKind.SURVEILLANCE, "police", True, RULES)
    assert refused.value.details[0]["field"] == "tell_lead_author"
    assert author_notice_fr("L-1", "police", "permanence X") == (
        "Piste L-1 : contactez permanence X (Police nationale) avant d'y donner suite.")
