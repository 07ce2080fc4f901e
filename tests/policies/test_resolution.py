"""Entity resolution rules (policies/resolution.py, resolution.yaml), as tables written from what
the rules mean (ADR 0020), not from the code's output."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.contract.errors import ConfigurationError
from policies.resolution import (
    MergeState,
    Rule,
    Verdict,
    countersigners,
    listed,
    load_resolution_rules,
    may_countersign,
    may_undo,
    merge_state,
    pair_key,
    score,
)

RULES = load_resolution_rules()
R = Rule


def test_packaged_weights_are_the_documented_ones() -> None:
    # resolution.yaml's comments: an alias is the source itself saying so, the strongest hint.
    assert RULES.weights == {R.ALIAS: 0.8, R.PLATE_VARIANT: 0.5, R.PHONES_TOGETHER: 0.35,
                             R.NEARBY_PLACES: 0.4, R.COPRESENCE: 0.3}
    assert RULES.min_score == 0.3


# Each piece of evidence is an independent chance w that the two are one: 1 − Π(1 − w).
@pytest.mark.parametrize(("evidence", "expected"), [
    ([], 0.0),
    ([R.ALIAS], 0.8),
    ([R.PLATE_VARIANT], 0.5),
    ([R.COPRESENCE], 0.3),  # one place: exactly the listing threshold
    ([R.COPRESENCE, R.COPRESENCE], 0.51),  # 1 − 0.7 × 0.7
    ([R.PLATE_VARIANT, R.NEARBY_PLACES], 0.7),  # 1 − 0.5 × 0.6
    ([R.ALIAS, R.ALIAS], 0.96),  # 1 − 0.2 × 0.2
])
def test_score(evidence: list[Rule], expected: float) -> None:
    assert score(evidence, RULES) == pytest.approx(expected, abs=0.0005)


def test_a_pair_has_one_name_whatever_the_order() -> None:
    a, b = "vehicle:AB-123-CD", "vehicle:AR-123-CD"
    assert pair_key(a, b) == pair_key(b, a) == f"{a}|{b}"


@pytest.mark.parametrize(("a", "b"), [
    ("vehicle:AB-123-CD", "phone:+33612345678"),  # two kinds are never one entity
    ("vehicle:AB-123-CD", "vehicle:AB-123-CD"),  # an entity is already itself
    ("commune:25056", "commune:25057"),  # communes are reference places, not merged
    ("vehicle:", "vehicle:AB-123-CD"),
])
def test_what_cannot_be_a_pair(a: str, b: str) -> None:
    with pytest.raises(ValueError):
        pair_key(a, b)


# Listed again? "not the same" is for good; a pending or done merge keeps the pair out; unsure,
# refused and split pairs come back (annotated).
@pytest.mark.parametrize(("verdict", "state", "expected"), [
    (None, None, True),
    (Verdict.UNSURE, None, True),
    (Verdict.NOT_SAME, None, False),
    (Verdict.SAME, MergeState.PENDING, False),
    (Verdict.SAME, MergeState.MERGED, False),
    (Verdict.SAME, MergeState.REFUSED, True),
    (Verdict.SAME, MergeState.UNDONE, True),
])
def test_listed(verdict, state, expected: bool) -> None:
    assert listed(verdict, state) is expected


# Who countersigns: every agency the pair rests on (as far as the judge may know) but the judge's.
@pytest.mark.parametrize(("judge", "agencies", "expected"), [
    ("gendarmerie", {"gendarmerie"}, set()),
    ("gendarmerie", {"gendarmerie", "police"}, {"police"}),
    ("gendarmerie", {"police", "douanes"}, {"police", "douanes"}),
    ("police", set(), set()),
])
def test_countersigners(judge: str, agencies: set[str], expected: set[str]) -> None:
    assert countersigners(judge, agencies) == expected


@pytest.mark.parametrize(("required", "signed", "refused", "expected"), [
    ([], [], False, MergeState.MERGED),
    (["police"], [], False, MergeState.PENDING),
    (["police", "douanes"], ["police"], False, MergeState.PENDING),
    (["police", "douanes"], ["douanes", "police"], False, MergeState.MERGED),
    (["police"], [], True, MergeState.REFUSED),
])
def test_merge_state(required, signed, refused, expected) -> None:
    assert merge_state(required, signed, refused) is expected


@pytest.mark.parametrize(("role", "agency", "expected"), [
    ("analyst", "police", True),
    ("coordinator", "police", True),
    ("analyst", "gendarmerie", False),  # not awaited
    ("analyst", "douanes", False),  # already signed
    ("auditor", "police", False),  # not a countersigning role
    ("guest_referent", "police", False),
])
def test_may_countersign(role: str, agency: str, expected: bool) -> None:
    assert may_countersign(RULES, role, agency, ["police", "douanes"], ["douanes"]) is expected


@pytest.mark.parametrize(("agency", "expected"), [
    ("gendarmerie", True), ("police", True), ("douanes", False)])
def test_who_may_split(agency: str, expected: bool) -> None:
    assert may_undo(agency, "gendarmerie", ["police"]) is expected


@pytest.mark.parametrize(("text", "field"), [
    ("weights: {alias: 0.8}\n", "weights"),  # every rule needs its weight
    ("weights: {alias: 1.0, plate_variant: 0.5, phones_together: 0.3, nearby_places: 0.4, "
     "copresence: 0.3}\n", "weights"),  # a certainty is not a hint
    ("nearby_radius_m: 0\n", "nearby_radius_m"),
    ("countersign_roles: [robot]\n", "countersign_roles"),
])
def test_bad_rules_are_refused_with_the_field(tmp_path: Path, text: str, field: str) -> None:
    path = tmp_path / "resolution.yaml"
    path.write_text("version: 1\n" + text, encoding="utf-8")
    with pytest.raises(ConfigurationError) as err:
        load_resolution_rules(path)
    assert field in err.value.message and "resolution.yaml" in err.value.message
