"""The story assembled: the scripted cases of every place in a fixed order, then the background
stream, the version-2 updates, chronological order and source references — ``build_demo_world``
and ``generate_demo_leads``. Same seed, same leads: every draw comes from one random source, in
the order written here."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from connectors.demo.story.background import KIND_WEIGHTS, Background
from connectors.demo.story.builder import K, Builder
from connectors.demo.story.centre_ville import scenario as centre_ville
from connectors.demo.story.epinal import scenario as epinal
from connectors.demo.story.haut_doubs import scenario as haut_doubs
from connectors.demo.story.model import DEFAULT_START, PARIS, DemoWorld, demo_keyring
from connectors.demo.story.montbeliard import scenario as montbeliard
from connectors.demo.story.perseigne import scenario as perseigne
from connectors.demo.story.planoise import scenario as planoise
from connectors.demo.story.saint_ferjeux import scenario as saint_ferjeux
from connectors.demo.story.updates import lab_update, lift_restriction_update, reevaluate_update
from connectors.pseudonym import LinkageKeyring
from hub.contract.lead import Lead

# Real monthly volume of drug-related citizen reports (Doubs: 186 over Jan–Nov 2025 ≈ 16/month,
# seeds/001). Orne and Vosges are not published: scaled on population (≈280k and ≈360k vs ≈545k).
CITIZEN_REPORTS_PER_MONTH: dict[str, float] = {"25": 16.0, "61": 8.0, "88": 11.0}

# Scripted leads (all scenarios, version 1) and the fewest version-2 updates: the smallest ``n``.
SCRIPTED_LEADS = 63
SCRIPTED_UPDATES = 6
MIN_DEMO_LEADS = SCRIPTED_LEADS + SCRIPTED_UPDATES

# The places' scripted cases, in the order they draw from the random source.
SCENARIOS = (planoise, centre_ville, saint_ferjeux, perseigne, montbeliard, haut_doubs, epinal)


def _paris(start: datetime | None) -> datetime:
    if start is None:
        return DEFAULT_START
    if start.tzinfo is None:
        return start.replace(tzinfo=PARIS)
    return start.astimezone(PARIS)


def build_demo_world(seed: int = 2025, n: int = 600, start: datetime | None = None,
                     weeks: int = 12, keyring: LinkageKeyring | None = None) -> DemoWorld:
    """Generate the demo world: ``n`` Lead objects in all (version-2 updates included, each after
    its version 1), plus the ground truth. ``n`` must be at least :data:`MIN_DEMO_LEADS`."""
    if weeks < 1:
        raise ValueError("weeks doit être au moins 1")
    n_updates = max(SCRIPTED_UPDATES, round(n / 75))
    if n - n_updates < SCRIPTED_LEADS:
        raise ValueError(f"n doit être au moins {MIN_DEMO_LEADS} (scénarios scriptés et mises à jour)")
    start_p = _paris(start)
    b = Builder(seed, start_p, weeks, keyring or demo_keyring())
    for scenario in SCENARIOS:
        scenario(b)
    assert len(b.drafts) == SCRIPTED_LEADS, len(b.drafts)
    assert sum(1 for d in b.drafts if d.update) == SCRIPTED_UPDATES

    # Background: citizen reports at the real volume (scaled by n / 600), then other kinds.
    bg = Background(b)
    budget = n - n_updates - len(b.drafts)
    months = b.days / 30.44
    scripted_citizen = defaultdict(int)
    for d in b.drafts:
        if d.data["kind"] == K.CITIZEN_REPORT:
            scripted_citizen[d.dept] += 1
    citizen: dict[str, int] = {}
    for dept, rate in CITIZEN_REPORTS_PER_MONTH.items():
        citizen[dept] = max(0, round(rate * months * n / 600) - scripted_citizen[dept])
    total_c = sum(citizen.values())
    cap = int(budget * 0.35)
    if total_c > cap:
        citizen = {k: v * cap // total_c for k, v in citizen.items()}
    for dept in sorted(citizen):
        for _ in range(citizen[dept]):
            bg.citizen(dept, b.rng.randrange(b.days))
    kinds = list(KIND_WEIGHTS)
    weights = list(KIND_WEIGHTS.values())
    while len(b.drafts) < n - n_updates:
        kind = b.rng.choices(kinds, weights=weights)[0]
        bg.other(kind, bg.pick_dept(), b.rng.randrange(b.days))

    # Some background leads get a version 2 as well.
    scripted_updates = sum(1 for d in b.drafts if d.update)
    candidates = [d for d in b.drafts if not d.scripted and d.update is None
                  and d.data["kind"] in (K.CITIZEN_REPORT, K.SEIZURE, K.FIELD_INTELLIGENCE)]
    for d in b.rng.sample(candidates, min(len(candidates), n_updates - scripted_updates)):
        if d.data["kind"] == K.SEIZURE:
            d.update = lab_update("pesée définitive")
        elif d.data["kind"] == K.CITIZEN_REPORT:
            d.update = reevaluate_update("faits confirmés par une patrouille.")
        else:
            d.update = lift_restriction_update("restriction levée par le service émetteur.")

    # Chronological order, references, validation, then updates.
    order = sorted(range(len(b.drafts)), key=lambda i: (b.drafts[i].data["reported_at"], i))
    drafts = [b.drafts[i] for i in order]
    refs = b.assign_refs(drafts)
    leads: list[tuple[datetime, int, Lead]] = []
    updated: list[str] = []
    for i, (d, ref) in enumerate(zip(drafts, refs, strict=True)):
        v1 = Lead(source_ref=ref, version=1, **d.data)
        leads.append((v1.reported_at, 1, v1))
        if d.update:
            data2 = d.update(dict(d.data))
            data2["reported_at"] = b.later(d.data["reported_at"], 20, 24 * 9)
            v2 = Lead(source_ref=ref, version=2, **data2)
            leads.append((v2.reported_at, 2, v2))
            updated.append(v1.source_key)
    leads.sort(key=lambda x: (x[0], x[1]))
    out = [lead for _, _, lead in leads]
    assert len(out) == n, (len(out), n)
    return DemoWorld(seed=seed, start=start_p, end=b.end, keyring=b.keyring, leads=out,
                     networks=b.networks, identities=dict(b.identities), links=list(b.links),
                     updated_lead_ids=updated)


def generate_demo_leads(seed: int = 2025, n: int = 600, start: datetime | None = None,
                        weeks: int = 12, keyring: LinkageKeyring | None = None) -> list[Lead]:
    """``n`` demo leads (version-2 updates included), deterministic for a seed. See
    :func:`build_demo_world` for the ground truth."""
    return build_demo_world(seed=seed, n=n, start=start, weeks=weeks, keyring=keyring).leads
