"""``derived_marking``: what is derived from several leads carries the strictest of their
markings — highest handling code, intersection of audiences, latest embargo."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.contract.lead import HANDLING_ORDER, Agency, HandlingCode
from policies.engine import derived_marking
from policies.models import Marking
from tests.policies.builders import NOW, lead


def test_strictest_code_latest_embargo() -> None:
    m = derived_marking([
        lead("police", "H1", embargo_until=NOW + timedelta(days=1)),
        lead("douanes", "H2"),
        lead("gendarmerie", "H0", embargo_until=NOW + timedelta(days=5)),
    ])
    assert m == Marking(handling_code=HandlingCode.H2, restricted_to=None,
                        embargo_until=NOW + timedelta(days=5))


def test_restrictions_intersect_and_always_admit_their_originator() -> None:
    a = lead("police", restricted_to=[Agency.DOUANES, Agency.GIR])  # audience: police, douanes, gir
    b = lead("douanes", restricted_to=[Agency.POLICE])  # audience: douanes, police
    assert derived_marking([a, b]).restricted_to == [Agency.POLICE, Agency.DOUANES]


def test_an_open_source_does_not_widen_a_restricted_one() -> None:
    m = derived_marking([lead("police"), lead("douanes", restricted_to=[Agency.GIR])])
    assert m.restricted_to == [Agency.DOUANES, Agency.GIR]


def test_disjoint_restrictions_give_nobody_not_everybody() -> None:
    m = derived_marking([
        lead("police", restricted_to=[Agency.POLICE]),
        lead("douanes", restricted_to=[Agency.DOUANES]),
    ])
    assert m.restricted_to == []  # an empty audience, distinct from None (unrestricted)


def test_takes_markings_and_lead_markings_alike() -> None:
    derived = derived_marking([lead("police", "H1"), lead("gir", "H0")])
    assert derived_marking([derived, lead("paf", "H3")]).handling_code is HandlingCode.H3


def test_needs_at_least_one_source() -> None:
    with pytest.raises(ValueError, match="aucune marque"):
        derived_marking([])


markings = st.builds(
    Marking,
    handling_code=st.sampled_from(list(HandlingCode)),
    restricted_to=st.none() | st.lists(st.sampled_from(list(Agency)), unique=True).map(
        lambda xs: sorted(xs, key=list(Agency).index)
    ),
    embargo_until=st.none() | st.integers(-100, 100).map(lambda d: NOW + timedelta(days=d)),
)


@given(st.lists(markings, min_size=1, max_size=6))
def test_never_less_strict_than_any_source(ms: list[Marking]) -> None:
    d = derived_marking(ms)
    for m in ms:
        assert HANDLING_ORDER[d.handling_code] >= HANDLING_ORDER[m.handling_code]
        if m.restricted_to is not None:
            assert d.restricted_to is not None and set(d.restricted_to) <= set(m.restricted_to)
        if m.embargo_until is not None:
            assert d.embargo_until is not None and d.embargo_until >= m.embargo_until
    # ...and no stricter than needed: it is one of the codes / embargoes given.
    assert d.handling_code in {m.handling_code for m in ms}
    assert d.embargo_until in {m.embargo_until for m in ms}


@given(st.lists(markings, min_size=1, max_size=6), st.randoms(use_true_random=False))
def test_order_and_grouping_do_not_matter(ms: list[Marking], rnd) -> None:
    shuffled = list(ms)
    rnd.shuffle(shuffled)
    cut = rnd.randint(1, len(ms))
    grouped = [derived_marking(shuffled[:cut])] + shuffled[cut:]
    assert derived_marking(ms) == derived_marking(shuffled) == derived_marking(grouped)


@given(markings)
def test_one_source_is_its_own_marking(m: Marking) -> None:
    assert derived_marking([m]) == m
