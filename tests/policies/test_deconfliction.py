"""Deconfliction, pure: which operations of two agencies clash, and why."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hub.contract.errors import ConfigurationError
from policies.deconfliction import (
    ClashReason,
    OperationFacts,
    clash,
    clashes,
    load_deconfliction_rules,
    normalize_target,
)
from tests.factories import pseudonym

RULES = load_deconfliction_rules()
T0 = datetime(2025, 8, 5, 18, 0, tzinfo=UTC)


def op(op_id: str, agency: str, *, start: timedelta = timedelta(0), hours: float = 3, **kw) -> OperationFacts:
    base = {"operation_id": op_id, "agency": agency, "kind": "surveillance", "starts_at": T0 + start,
                "ends_at": T0 + start + timedelta(hours=hours), "insee_code": "25056", "commune": "Besançon"}
    return OperationFacts(**{**base, **kw})


def test_clash_by_shared_target_across_communes():
    police = op("p", "police", targets=["vehicle:AB-123-CD", "phone:+33612345678"],
                insee_code="25056", lat=47.2205, lon=5.9710)
    douanes = op("d", "douanes", kind="controlled_delivery", start=timedelta(hours=2),
                 targets=["vehicle:AB-123-CD"], insee_code="25388", lat=47.51, lon=6.80)
    c = clash(police, douanes, RULES)
    assert c is not None
    assert c.reasons == [ClashReason.TIME, ClashReason.TARGET]
    assert c.shared_targets == ["vehicle:AB-123-CD"]
    assert "cible commune : véhicule AB-123-CD" in c.reasons_fr
    assert (c.overlap_start, c.overlap_end) == (T0 + timedelta(hours=2), T0 + timedelta(hours=3))
    assert c.reasons_fr[0] == "créneaux qui se chevauchent du 05/08/2025 22:00 au 05/08/2025 23:00"


def test_clash_by_place_and_time():
    police = op("p", "police", lat=47.2205, lon=5.9710, radius_m=100)
    gendarmerie = op("g", "gendarmerie", kind="arrest", start=timedelta(hours=1), lat=47.2215, lon=5.9712)
    c = clash(police, gendarmerie, RULES)
    assert c is not None and c.reasons == [ClashReason.TIME, ClashReason.PLACE]
    assert c.distance_m is not None and 100 < c.distance_m < 130
    assert c.reasons_fr[-1] == f"lieux à {round(c.distance_m)} m l'un de l'autre"


def test_no_clash_when_windows_do_not_meet_even_at_the_same_place():
    police = op("p", "police", targets=["vehicle:AB-123-CD"], lat=47.2205, lon=5.9710)
    later = op("g", "gendarmerie", start=timedelta(days=1), targets=["vehicle:AB-123-CD"],
               lat=47.2205, lon=5.9710)
    assert clash(police, later, RULES) is None


def test_margin_catches_back_to_back_operations():
    police = op("p", "police", hours=2, lat=47.2205, lon=5.9710)
    right_after = op("g", "gendarmerie", start=timedelta(hours=2, minutes=20), lat=47.2206, lon=5.9711)
    c = clash(police, right_after, RULES)
    assert c is not None and c.reasons_fr[0] == "créneaux à moins de 30 min l'un de l'autre (20 min d'écart)"
    far_after = op("g", "gendarmerie", start=timedelta(hours=3), lat=47.2206, lon=5.9711)
    assert clash(police, far_after, RULES) is None


def test_no_clash_when_far_apart_with_nothing_shared():
    police = op("p", "police", lat=47.2205, lon=5.9710)
    elsewhere = op("g", "gendarmerie", lat=47.2400, lon=6.0300)  # about 5 km
    assert clash(police, elsewhere, RULES) is None


def test_same_commune_counts_only_without_points():
    police = op("p", "police", lat=47.2205, lon=5.9710)
    vague = op("g", "gendarmerie")  # same commune, no point
    c = clash(police, vague, RULES)
    assert c is not None and c.reasons_fr[-1] == "même commune (Besançon), lieu précis non renseigné"
    other_commune = op("g", "gendarmerie", insee_code="25388", commune="Montbéliard")
    assert clash(police, other_commune, RULES) is None


def test_same_location_key_is_a_shared_place():
    a = op("p", "police", location_key="addr:25056:place cassin")
    b = op("g", "gendarmerie", insee_code="25388", location_key="addr:25056:place cassin")
    assert clash(a, b, RULES).reasons_fr[-1] == "même lieu"


def test_own_agency_and_finished_operations_never_clash():
    police = op("p", "police", targets=["vehicle:AB-123-CD"])
    assert clash(police, op("p2", "police", targets=["vehicle:AB-123-CD"]), RULES) is None
    done = op("g", "gendarmerie", targets=["vehicle:AB-123-CD"], status="cancelled")
    assert clash(police, done, RULES) is None
    assert [c.other_operation_id for c in clashes(police, [done, op("d", "douanes",
                                                                     targets=["vehicle:AB-123-CD"])], RULES)] == ["d"]


def test_targets_are_normalized_and_checked():
    assert normalize_target("vehicle:ab 123 cd") == "vehicle:AB-123-CD"
    assert normalize_target("vehicle:ch:vd 123456") == "vehicle:CH:VD123456"
    assert normalize_target("phone:06 12 34 56 78") == "phone:+33612345678"
    p = pseudonym("Leroy", "Yanis")
    assert normalize_target(f"person:{p}") == f"person:{p}"
    for bad in ("vehicle", "spaceship:X", "person:Jean Dupont", "vehicle:NOT-A-PLATE"):
        with pytest.raises(ValueError):
            normalize_target(bad)


def test_rules_loader_names_the_line(tmp_path: Path):
    path = tmp_path / "deconfliction.yaml"
    path.write_text("version: 1\ntime_margin_min: -5\nplace_distance_m: 500\nactive_statuses: [planned]\n")
    with pytest.raises(ConfigurationError) as err:
        load_deconfliction_rules(path)
    assert "ligne 2" in err.value.message and "time_margin_min" in err.value.message
