"""Entity resolution (« Rapprochements »): which rules propose that two entities are one, how a
pair is scored, how a pair is named, what a judgement may be, and who must countersign a merge —
decided here; found, stored and merged by graph/resolution/, wired by the hub.

Owns:

* the rules that propose a pair (``Rule``, French labels) and the kinds each applies to;
* the rules file ``resolution.yaml`` (``ResolutionRules``): weights, thresholds, radius, window,
  bounds — validated like every rules file (``load_rules_file``), loaded by the rulebook;
* the score of a pair from its evidence (``score``): each piece of evidence is an independent
  chance ``weight`` that the two are one, so ``1 − Π (1 − weight)``;
* the one canonical name of a pair (``pair_key``): two entity ids of one kind, in order;
* the verdicts an analyst records (``Verdict``) and what each does to the candidate list
  (``listed``);
* who must countersign a merge (``countersigners``) and whether a merge is complete
  (``merge_state``), who may countersign (``may_countersign``) and who may undo (``may_undo``).

Pure: no clock, no I/O beyond reading its rules file.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable
from enum import StrEnum
from pathlib import Path

from pydantic import Field, field_validator

from policies.models import PolicyModel, Role

RESOLUTION_FILE = "resolution.yaml"

# Entity kinds two of which may be judged one (the API's ``EntityKind`` values).
MERGEABLE_KINDS: dict[str, str] = {
    "vehicle": "véhicule",
    "person": "personne",
    "phone": "téléphone",
    "location": "lieu",
}


class Rule(StrEnum):
    """Why two entities may be one."""

    ALIAS = "alias"  # two pseudonyms joined by an alias a lead asserted (directly or via a shared one)
    PLATE_VARIANT = "plate_variant"  # two plates one misread apart (graph/analysis/plates.py)
    PHONES_TOGETHER = "phones_together"  # two numbers cited together on several leads
    NEARBY_PLACES = "nearby_places"  # two places closer than the radius
    COPRESENCE = "copresence"  # two actors seen at one place within the window, repeatedly


RULE_LABELS_FR: dict[Rule, str] = {
    Rule.ALIAS: "pseudonymes liés par un alias",
    Rule.PLATE_VARIANT: "immatriculations à une confusion de lecture près",
    Rule.PHONES_TOGETHER: "numéros cités ensemble",
    Rule.NEARBY_PLACES: "lieux voisins",
    Rule.COPRESENCE: "vus au même endroit au même moment",
}

# The kinds each rule compares (a rule never pairs two kinds).
RULE_KINDS: dict[Rule, frozenset[str]] = {
    Rule.ALIAS: frozenset({"person"}),
    Rule.PLATE_VARIANT: frozenset({"vehicle"}),
    Rule.PHONES_TOGETHER: frozenset({"phone"}),
    Rule.NEARBY_PLACES: frozenset({"location"}),
    Rule.COPRESENCE: frozenset({"person", "vehicle"}),
}

# Rules whose evidence is the content of leads (what a lead says about two entities): only
# leads the caller may *read* count. The others compare keys or places the caller may at least
# know of as a hit (a hit side is shown as a hit: agency, count, whom to call — never its key).
CONTENT_RULES = frozenset({Rule.ALIAS, Rule.PHONES_TOGETHER, Rule.COPRESENCE})


class Verdict(StrEnum):
    SAME = "same"
    NOT_SAME = "not_same"
    UNSURE = "unsure"


VERDICT_LABELS_FR: dict[Verdict, str] = {
    Verdict.SAME: "même entité",
    Verdict.NOT_SAME: "entités distinctes",
    Verdict.UNSURE: "incertain",
}


class MergeState(StrEnum):
    PENDING = "pending"  # waiting for other agencies' countersignatures: nothing merged yet
    MERGED = "merged"
    REFUSED = "refused"  # an agency refused: nothing merged
    UNDONE = "undone"  # split: the merge link is gone, the graph as before


MERGE_STATE_LABELS_FR: dict[MergeState, str] = {
    MergeState.PENDING: "en attente de contre-signature",
    MergeState.MERGED: "fusionnées",
    MergeState.REFUSED: "contre-signature refusée",
    MergeState.UNDONE: "fusion annulée (scission)",
}


class ResolutionRules(PolicyModel):
    version: int = 1
    # Chance that one piece of evidence of the rule means "one entity" (0 < w < 1).
    weights: dict[Rule, float] = Field(default_factory=lambda: {
        Rule.ALIAS: 0.8, Rule.PLATE_VARIANT: 0.5, Rule.PHONES_TOGETHER: 0.35,
        Rule.NEARBY_PLACES: 0.4, Rule.COPRESENCE: 0.3})
    min_score: float = Field(default=0.3, gt=0, le=1)
    phones_min_leads: int = Field(default=2, ge=1, le=100)
    nearby_radius_m: float = Field(default=150.0, gt=0, le=2000)
    copresence_window_min: int = Field(default=30, ge=1, le=1440)
    copresence_min_places: int = Field(default=2, ge=1, le=100)
    recent_days: int = Field(default=90, ge=1, le=3650)
    max_seed_entities: int = Field(default=1000, ge=1, le=100_000)
    max_candidates: int = Field(default=200, ge=1, le=10_000)
    max_evidence_leads: int = Field(default=10, ge=1, le=100)
    max_group_size: int = Field(default=16, ge=2, le=64)
    countersign_roles: list[Role] = Field(default_factory=lambda: [Role.ANALYST, Role.COORDINATOR])
    digest: str = ""

    @field_validator("weights")
    @classmethod
    def _weights(cls, weights: dict[Rule, float]) -> dict[Rule, float]:
        missing = [r.value for r in Rule if r not in weights]
        if missing:
            raise ValueError(f"poids manquant pour : {', '.join(missing)}")
        bad = [r.value for r, w in weights.items() if not 0 < w < 1]
        if bad:
            raise ValueError(f"poids hors de ]0, 1[ : {', '.join(bad)}")
        return weights


def load_resolution_rules(path: Path | str | None = None) -> ResolutionRules:
    from policies.loader import data_dir, load_rules_file

    entry = Path(path) if path is not None else data_dir() / RESOLUTION_FILE
    return load_rules_file(ResolutionRules, entry, "rapprochement")


# --- scoring and naming --------------------------------------------------------------------------


def score(evidence: Iterable[Rule], rules: ResolutionRules) -> float:
    """``1 − Π (1 − weight)`` over every piece of evidence (one per rule match: a shared lead, a
    place visited together, a misread): independent hints, each raising the chance; rounded to
    three places. No evidence scores 0."""
    miss = math.prod(1.0 - rules.weights[rule] for rule in evidence)
    return round(1.0 - miss, 3)


def pair_key(a: str, b: str) -> str:
    """The one name of the pair {``a``, ``b``} (entity ids ``<kind>:<key>``), whatever the order.
    Raises ValueError for one entity twice, two kinds, or a kind that cannot be merged."""
    kind_a, _, key_a = a.partition(":")
    kind_b, _, key_b = b.partition(":")
    if not key_a or not key_b:
        raise ValueError("entité mal formée : <type>:<clé> attendu")
    if kind_a != kind_b:
        raise ValueError("deux entités de types différents ne peuvent être la même")
    if kind_a not in MERGEABLE_KINDS:
        raise ValueError(f"type non rapprochable « {kind_a} » (admis : {', '.join(MERGEABLE_KINDS)})")
    if a == b:
        raise ValueError("une entité est déjà elle-même")
    first, second = sorted((a, b))
    return f"{first}|{second}"


def split_pair(key: str) -> tuple[str, str]:
    first, _, second = key.partition("|")
    return first, second


def listed(verdict: Verdict | None, state: MergeState | None) -> bool:
    """Whether a pair still comes back as a candidate: never once judged "not the same"; not
    while a merge of it is pending or done; "unsure", refused or undone pairs stay listed
    (annotated)."""
    if verdict is Verdict.NOT_SAME:
        return False
    return state not in (MergeState.PENDING, MergeState.MERGED)


# --- countersignature ----------------------------------------------------------------------------


def countersigners(judge_agency: str, agencies: Collection[str]) -> frozenset[str]:
    """The agencies that must countersign a "same" judgement: every agency whose leads the two
    entities rest on, but the judge's own. ``agencies`` are those the judge may at least know of
    (readable or hit): asking an agency the judge cannot know holds anything would tell them it
    does (ADR 0020). Empty: the merge is made at once."""
    return frozenset(agencies) - {judge_agency}


def merge_state(required: Collection[str], signed: Collection[str], refused: bool) -> MergeState:
    if refused:
        return MergeState.REFUSED
    return MergeState.MERGED if set(required) <= set(signed) else MergeState.PENDING


def may_countersign(rules: ResolutionRules, role: str, agency: str,
                    required: Collection[str], signed: Collection[str]) -> bool:
    """A countersigning role of an agency still awaited."""
    return role in {r.value for r in rules.countersign_roles} and agency in set(required) - set(signed)


def may_undo(agency: str, judge_agency: str, required: Collection[str]) -> bool:
    """The judge's agency or any agency that countersigned (or had to) may split a merge."""
    return agency == judge_agency or agency in set(required)
