"""The « Rapprochements » page (issue 15, part B) in Chromium, on a real hub.

A gendarmerie analyst's plate has two police variants one misread away (graph/analysis/plates.py),
on a police H1 lead and a police H2 lead. From the policy text (tests/oracles.py): the analyst
reads the H1 lead redacted — the page shows that plate — and knows the H2 lead only as a hit —
the page names the service to call, and no byte the page received holds that plate, lead id or
narrative. The analyst records « Incertain » with a reason; the pair stays listed, annotated.
"""

from __future__ import annotations

from datetime import UTC, datetime

from graph.analysis import plates
from tests.factories import canary_tag, lead, random_plate
from tests.oracles import GENDARMERIE_SEES_POLICE_LEAD
from tests.web.conftest import axe_violations


def test_an_analyst_judges_a_pair_as_the_policy_allows(open_page, make_web_user, make_pusher,
                                                        live_hub):
    assert GENDARMERIE_SEES_POLICE_LEAD["analyst"]["H1"] == "redacted"
    assert GENDARMERIE_SEES_POLICE_LEAD["analyst"]["H2"] == "hit"
    while len(variants := sorted(plates.variants(mine := random_plate()))) < 2:
        pass
    readable, hidden = variants[:2]
    now, canary = datetime.now(UTC).isoformat(), canary_tag()
    make_pusher("gendarmerie").push([lead(source_agency="gendarmerie", source_ref=f"GN-R-{canary}",
                                          reported_at=now, observed_at=now,
                                          vehicles=[{"plate": mine}])])
    answer = make_pusher("police").push([
        lead(source_ref=f"PN-R1-{canary}", handling_code="H1", reported_at=now, observed_at=now,
             vehicles=[{"plate": readable}]),
        lead(source_ref=f"PN-R2-{canary}", handling_code="H2", reported_at=now, observed_at=now,
             vehicles=[{"plate": hidden}], narrative=f"Filature en cours, repère {canary}.")])
    hidden_lead = answer["results"][1]["lead_id"]

    page, watched = open_page(make_web_user("gendarmerie", "analyst"))
    page.goto(f"{live_hub.url}/rapprochements")
    # Candidates are computed at each listing (ADR 0020): bounded generously on a loaded runner.
    page.wait_for_selector("#app[data-state=ready]", timeout=90_000)
    pair = page.locator(f"article.ch-candidate:has-text('{mine}'):has-text('{readable}')")
    assert pair.count() == 1
    hit_pair = page.locator(f"article.ch-candidate:has-text('{mine}'):has([data-hit=true])")
    assert "Police nationale" in hit_pair.first.inner_text()
    assert axe_violations(page) == []

    pair.locator("label", has_text="Incertain").click()  # DSFR draws the radio in its label
    pair.get_by_label("Motif du jugement").fill("Même marque, couleur différente : à vérifier")
    pair.get_by_role("button", name="Enregistrer le jugement").click()
    page.wait_for_selector(f"article.ch-candidate:has-text('{readable}') .fr-badge:has-text('incertain')",
                           timeout=90_000)
    page.wait_for_selector("#app[data-state=ready]", timeout=90_000)

    dom = page.content()
    received = b"".join(body for _, body in watched.bodies)
    for secret in (hidden, hidden_lead, canary):
        assert secret not in dom and secret.encode() not in received, secret
