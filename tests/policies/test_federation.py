"""The federation rules (policies/data/federation.yaml, ADR 0024), as a table of what they mean:
originator control per agency and handling code, H3 never, the reach of each scope over the
directory (Doubs's neighbours are Jura, Haute-Saône and Belfort; Côte-d'Or shares the antenna;
Rhône is another antenna), quotas, deadlines, and a rules file that names an unknown member."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hub.contract.errors import ConfigurationError
from policies.federation import (
    Scope,
    desk_of,
    epoch_of,
    follow_up_due,
    load_federation_rules,
    quota_per_day,
    reaches,
    scope_of,
    strictest_code,
    widest,
)

RULES = load_federation_rules()


@pytest.mark.parametrize(("agency", "code", "scope"), [
    ("police", "H0", Scope.NATIONAL), ("police", "H1", Scope.REGION),
    ("police", "H2", Scope.NEIGHBOURS), ("police", "H3", Scope.NEVER),
    ("douanes", "H0", Scope.NATIONAL), ("gendarmerie", "H3", Scope.NEVER),
    ("gir", "H1", Scope.NEIGHBOURS),
    # Not listed in the rules: never (least privilege).
    ("bailleur_social", "H0", Scope.NEVER), ("prefecture", "H0", Scope.NEVER),
])
def test_scope_per_agency_and_code(agency, code, scope):
    assert scope_of(RULES, agency, code) is scope


def test_h3_never_federates_even_if_the_data_say_otherwise():
    loose = RULES.model_copy(update={"scope": {"police": {"H3": Scope.NATIONAL}}})
    assert scope_of(loose, "police", "H3") is Scope.NEVER


#            peer:      39 (neighbour)  21 (same antenna)  69 (other antenna)  25 (itself)
REACH = {
    Scope.NEVER:      (False,          False,             False,              False),
    Scope.NEIGHBOURS: (True,           False,             False,              False),
    Scope.REGION:     (True,           True,              False,              False),
    Scope.NATIONAL:   (True,           True,              True,               False),
}


@pytest.mark.parametrize("scope", list(REACH))
def test_reach_of_each_scope_from_doubs(scope):
    peers = ("cross-39", "cross-21", "cross-69", "cross-25")
    assert tuple(reaches(RULES, "cross-25", p, scope) for p in peers) == REACH[scope]


def test_a_stranger_is_never_reached():
    assert not reaches(RULES, "cross-25", "cross-13", Scope.NATIONAL)
    assert not reaches(RULES, "cross-13", "cross-25", Scope.NATIONAL)


def test_widest_scope_and_strictest_code():
    assert widest([Scope.NEVER, Scope.REGION, Scope.NEIGHBOURS]) is Scope.REGION
    assert widest([]) is Scope.NEVER
    assert strictest_code(["H0", "H2", "H1"]).value == "H2"


def test_deadlines_quotas_desks_epochs():
    now = datetime(2026, 12, 7, 12, tzinfo=UTC)
    assert follow_up_due(RULES, "H0", now) == now + timedelta(hours=48)
    assert follow_up_due(RULES, "H2", now) == now + timedelta(hours=72)
    assert quota_per_day(RULES, "cross-39") == 50_000
    assert desk_of(RULES, "cross-39", "douanes").startswith("Brigade de Morez")
    assert desk_of(RULES, "cross-90", "douanes").startswith("Secrétariat CROSS 90")
    # 7-day epochs: a week later is the next epoch, the same day is the same one.
    assert epoch_of(RULES, now + timedelta(days=7)) == epoch_of(RULES, now) + 1
    assert epoch_of(RULES, now.replace(hour=23)) == epoch_of(RULES, now)


def test_a_neighbour_outside_the_federation_is_refused_with_its_line(tmp_path):
    from policies.loader import data_dir

    source = (data_dir() / "federation.yaml").read_text()
    bad = tmp_path / "federation.yaml"
    bad.write_text(source.replace("neighbours: [cross-25, cross-70]", "neighbours: [cross-25, cross-13]"))
    with pytest.raises(ConfigurationError) as exc:
        load_federation_rules(bad)
    assert "cross-13" in exc.value.message and "crosses.cross-90.neighbours[1]" in exc.value.message
