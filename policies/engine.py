"""The decision engine: pure functions from (caller, lead marking, policy, grants, instant) to an
outcome and the rule that decided it.

It owns the combining semantics — allow rules raise a level, deny rules cap it, deny overrides
allow, no allow means ``none`` (least privilege) — and their compilation into a ``ReadScope`` a
query translator can turn into predicates. No clock is read (``now`` is an argument), no I/O is
done, nothing is mutated: the same inputs always give the same decision.

Public API: ``decide``, ``compile_scope``, ``scope_outcome``, ``derived_marking``.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import reduce
from zoneinfo import ZoneInfo

from hub.contract.lead import (
    HANDLING_ORDER,
    LEAD_KIND_LABELS_FR,
    Agency,
    HandlingCode,
    LeadKind,
)
from policies.disclosure import graded_view, lead_withheld
from policies.models import (
    OUTCOME_ORDER,
    Caller,
    Conditions,
    Decision,
    DisclosedLead,
    DisclosureGrant,
    Effect,
    EmbargoState,
    GuestGrant,
    LeadMarking,
    NO_DISCLOSURE,
    Marking,
    Outcome,
    Policy,
    ReadScope,
    Relation,
    RestrictionState,
    Role,
    Rule,
    ScopeEntry,
    ScopeVerdict,
    release_key,
)

DEFAULT_DENY = "default-deny"
_PARIS = ZoneInfo("Europe/Paris")


@dataclass(frozen=True, slots=True)
class _Facts:
    """Everything a rule may test, for one caller and one lead. Decisions depend on nothing
    else — which is what lets ``compile_scope`` enumerate them."""

    role: Role
    caller_agency: Agency
    originating_agency: Agency
    handling_code: HandlingCode
    kind: LeadKind
    restriction: RestrictionState
    embargo: EmbargoState
    guest_grant: bool
    disclosure_grant: bool
    disclosure_withheld: frozenset[str] = frozenset()  # by a graded release


@dataclass(frozen=True, slots=True)
class _Resolution:
    outcome: Outcome
    hidden: tuple[str, ...]
    rule: Rule | None  # None: default deny


# --- Shared predicates (the Cypher translation must reproduce exactly these) ------------------


def restriction_state(restricted_to: Sequence[Agency], caller_agency: Agency) -> RestrictionState:
    if not restricted_to:
        return RestrictionState.UNRESTRICTED
    if caller_agency in restricted_to:
        return RestrictionState.INCLUDES_CALLER
    return RestrictionState.EXCLUDES_CALLER


def embargo_state(embargo_until: datetime | None, now: datetime) -> EmbargoState:
    active = embargo_until is not None and embargo_until > now
    return EmbargoState.ACTIVE if active else EmbargoState.NONE


def _guest_covers(grant: GuestGrant, lead: LeadMarking) -> bool:
    return lead.lead_id in grant.lead_ids or not set(grant.entity_keys).isdisjoint(lead.entity_keys)


def _active_guest_grants(caller: Caller, grants: Iterable[object], now: datetime) -> list[GuestGrant]:
    return [
        g for g in grants
        if isinstance(g, GuestGrant) and g.grantee_user_id == caller.user_id and g.active_at(now)
    ]


def _active_disclosures(
    caller: Caller, grants: Iterable[object], now: datetime
) -> list[DisclosureGrant]:
    return [
        g for g in grants
        if isinstance(g, DisclosureGrant) and g.requester_user_id == caller.user_id and g.active_at(now)
    ]


# --- Rule matching and combining -------------------------------------------------------------


def _matches(when: Conditions, f: _Facts) -> bool:
    # Written out condition by condition rather than generically: this is the function a
    # reviewer must be able to check against the YAML keys at a glance.
    if when.roles is not None and f.role not in when.roles:
        return False
    if when.caller_agencies is not None and f.caller_agency not in when.caller_agencies:
        return False
    if when.originating_agencies is not None and f.originating_agency not in when.originating_agencies:
        return False
    if when.relation is not None:
        relation = Relation.OWN if f.caller_agency is f.originating_agency else Relation.OTHER
        if relation is not when.relation:
            return False
    if when.handling_codes is not None and f.handling_code not in when.handling_codes:
        return False
    if when.kinds is not None and f.kind not in when.kinds:
        return False
    if when.restriction is not None and f.restriction not in when.restriction:
        return False
    if when.embargo is not None and f.embargo is not when.embargo:
        return False
    if when.guest_grant is not None and f.guest_grant is not when.guest_grant:
        return False
    if when.disclosure_grant is not None and f.disclosure_grant is not when.disclosure_grant:
        return False
    return True


def _rules_for(policy: Policy, caller: Caller) -> list[Rule]:
    """The rules that can apply to this caller at all (role and caller agency are fixed for a
    whole scope): ``compile_scope`` evaluates thousands of feature points, so filter once."""
    return [
        r for r in policy.rules
        if (r.when.roles is None or caller.role in r.when.roles)
        and (r.when.caller_agencies is None or caller.agency in r.when.caller_agencies)
    ]


def _resolve(policy: Policy, f: _Facts, rules: Sequence[Rule] | None = None) -> _Resolution:
    res = _resolve_rules(policy, f, rules)
    if not (f.disclosure_grant and f.disclosure_withheld):
        return res
    # A graded release (policies.disclosure.graded_view): the more open of the view without
    # the disclosure and the disclosure's view narrowed to the released groups.
    without = _resolve_rules(policy, replace(f, disclosure_grant=False,
                                             disclosure_withheld=frozenset()), rules)
    outcome, hidden, disclosed = graded_view((without.outcome, without.hidden),
                                             (res.outcome, res.hidden), f.disclosure_withheld)
    return _Resolution(outcome, hidden, res.rule if disclosed else without.rule)


def _resolve_rules(policy: Policy, f: _Facts, rules: Sequence[Rule] | None = None) -> _Resolution:
    candidates = policy.rules if rules is None else rules
    allows = [r for r in candidates if r.effect is Effect.ALLOW and _matches(r.when, f)]
    denies = [r for r in candidates if r.effect is Effect.DENY and _matches(r.when, f)]

    granted = max((r.level for r in allows), default=0)
    cap = min((r.level for r in denies), default=OUTCOME_ORDER[Outcome.FULL])

    if granted == 0:
        # Nothing allows: least privilege. Cite a deny that forbids everything if there is one
        # (its reason says *why*), else the default.
        stop = next((r for r in denies if r.level == 0), None)
        return _Resolution(Outcome.NONE, (), stop)

    level = min(granted, cap)
    outcome = next(o for o, n in OUTCOME_ORDER.items() if n == level)
    binding = [r for r in denies if r.level == level] if cap <= granted else []
    top_allows = [r for r in allows if r.level == granted]

    hidden: set[str] = set()
    if outcome is Outcome.REDACTED:
        # Allows are generous among themselves (the most open matching allow wins, so hidden
        # sets intersect); a binding deny only ever adds to what is hidden.
        if granted == level:
            hidden = reduce(set.__and__, (policy.properties_of(r.hide) for r in top_allows))
        for r in binding:
            hidden |= policy.properties_of(r.hide)

    # Deny overrides allow: when a deny is what limits the outcome, it is the rule cited.
    rule = binding[0] if binding else top_allows[0]
    return _Resolution(outcome, tuple(sorted(hidden)), rule)


# --- decide -----------------------------------------------------------------------------------


def _facts(
    caller: Caller,
    lead: LeadMarking,
    guest: Sequence[GuestGrant],
    disclosures: Sequence[DisclosureGrant],
    now: datetime,
    policy: Policy,
) -> _Facts:
    withheld = lead_withheld(policy, lead.lead_id, lead.originating_agency, disclosures)
    return _Facts(
        role=caller.role,
        caller_agency=caller.agency,
        originating_agency=lead.originating_agency,
        handling_code=lead.handling_code,
        kind=lead.kind,
        restriction=restriction_state(lead.restricted_to, caller.agency),
        embargo=embargo_state(lead.embargo_until, now),
        guest_grant=any(_guest_covers(g, lead) for g in guest),
        disclosure_grant=withheld is not None,
        disclosure_withheld=withheld or frozenset(),
    )


def _reason(policy: Policy, lead: LeadMarking, res: _Resolution) -> str:
    info = policy.agency(lead.originating_agency)
    values = {
        "agence": info.of_fr,
        "code": lead.handling_code.value,
        "nature": LEAD_KIND_LABELS_FR[lead.kind].lower(),
        "contact": info.contact_fr,
        "embargo": (
            lead.embargo_until.astimezone(_PARIS).strftime("%d/%m/%Y à %H:%M")
            if lead.embargo_until else "—"
        ),
    }
    if res.rule is None:
        return (f"Piste {info.of_fr} : aucune règle ne vous y donne accès, "
                f"refus par défaut (règle {DEFAULT_DENY})")
    return f"{res.rule.reason_fr.format_map(values)} (règle {res.rule.id})"


def decide(
    caller: Caller,
    lead: LeadMarking,
    policy: Policy,
    grants: Iterable[GuestGrant | DisclosureGrant] = (),
    *,
    now: datetime,
) -> Decision:
    """What ``caller`` gets of ``lead`` at instant ``now``. ``grants`` may hold anyone's grants,
    active or not: only the caller's, active at ``now`` (and, for a disclosure, given by the
    lead's own agency for this very lead) count."""
    grants = list(grants)
    facts = _facts(
        caller, lead, _active_guest_grants(caller, grants, now),
        _active_disclosures(caller, grants, now), now, policy,
    )
    res = _resolve(policy, facts)
    return Decision(
        lead_id=lead.lead_id,
        outcome=res.outcome,
        rule_id=res.rule.id if res.rule else DEFAULT_DENY,
        reason_fr=_reason(policy, lead, res),
        hidden_properties=list(res.hidden),
        contact_fr=(
            policy.agency(lead.originating_agency).contact_fr if res.outcome is Outcome.HIT else None
        ),
        policy_digest=policy.digest,
    )


# --- compile_scope / scope_outcome ------------------------------------------------------------

# Dimensions of a scope entry, in the order they are merged (kinds first: most rules ignore
# them, so they collapse first and the entries stay few).
_DIMS = (
    "kinds", "handling_codes", "restriction", "embargo", "guest_grant", "disclosure_grant",
    "originating_agencies",
)


def _domain_order(values: Iterable, domain: Sequence) -> list:
    present = set(values)
    return [v for v in domain if v in present]


def compile_scope(
    caller: Caller,
    policy: Policy,
    grants: Iterable[GuestGrant | DisclosureGrant] = (),
    *,
    now: datetime,
) -> ReadScope:
    """The caller's whole read scope at ``now``, as disjoint boxes over the finite features a
    decision depends on. Built by evaluating the very resolution ``decide`` uses on every
    combination of features (a few thousand), then merging boxes that differ in one feature
    only — so it agrees with ``decide`` by construction, which the tests check anyway."""
    grants = list(grants)
    guest = _active_guest_grants(caller, grants, now)
    disclosures = _active_disclosures(caller, grants, now)
    # The disclosure dimension's values: ``none`` and each disclosed lead's release_key.
    disclosed: dict[tuple[str, Agency], frozenset[str]] = {}
    for d in disclosures:
        withheld = lead_withheld(policy, d.lead_id, d.owner_agency, disclosures)
        assert withheld is not None
        disclosed[(d.lead_id, d.owner_agency)] = withheld
    releases = {release_key(w): w for w in disclosed.values()}

    # Feature values that cannot occur for this caller are left out: a caller with no grant
    # gets no entry conditioned on holding one.
    domains: dict[str, list] = {
        "originating_agencies": list(Agency),
        "handling_codes": list(HandlingCode),
        "kinds": list(LeadKind),
        "restriction": list(RestrictionState),
        "embargo": list(EmbargoState),
        "guest_grant": [False, True] if guest else [False],
        "disclosure_grant": [NO_DISCLOSURE, *sorted(releases)],
    }

    rules = _rules_for(policy, caller)
    cells: list[tuple[dict[str, frozenset], tuple[Outcome, tuple[str, ...], str]]] = []
    names = list(domains)
    for values in itertools.product(*(domains[n] for n in names)):
        point = dict(zip(names, values, strict=True))
        res = _resolve(policy, _Facts(
            role=caller.role,
            caller_agency=caller.agency,
            originating_agency=point["originating_agencies"],
            handling_code=point["handling_codes"],
            kind=point["kinds"],
            restriction=point["restriction"],
            embargo=point["embargo"],
            guest_grant=point["guest_grant"],
            disclosure_grant=point["disclosure_grant"] != NO_DISCLOSURE,
            disclosure_withheld=releases.get(point["disclosure_grant"], frozenset()),
        ), rules)
        if res.outcome is Outcome.NONE:
            continue  # absent from the scope = none
        result = (res.outcome, res.hidden, res.rule.id if res.rule else DEFAULT_DENY)
        cells.append(({n: frozenset([v]) for n, v in point.items()}, result))

    # Merge boxes that agree on every dimension but one (and on the result): the union of two
    # disjoint boxes with equal other sides is itself a box, so the partition stays a partition.
    changed = True
    while changed:
        changed = False
        for dim in _DIMS:
            groups: dict[tuple, set] = defaultdict(set)
            for box, result in cells:
                key = (tuple(box[n] for n in names if n != dim), result)
                groups[key] |= box[dim]
            if len(groups) < len(cells):
                changed = True
                others = [n for n in names if n != dim]
                cells = [
                    ({**dict(zip(others, key, strict=True)), dim: frozenset(vals)}, result)
                    for (key, result), vals in groups.items()
                ]

    entries = [
        ScopeEntry(
            **{n: _domain_order(box[n], domains[n]) for n in names if n != "disclosure_grant"},
            disclosure_grant=sorted({k != NO_DISCLOSURE for k in box["disclosure_grant"]}),
            disclosure_releases=_domain_order(box["disclosure_grant"], domains["disclosure_grant"]),
            outcome=result[0],
            hidden_properties=list(result[1]),
            rule_id=result[2],
        )
        for box, result in cells
    ]
    entries.sort(key=lambda e: (-OUTCOME_ORDER[e.outcome], e.rule_id, e.model_dump_json()))
    return ReadScope(
        caller_user_id=caller.user_id,
        caller_agency=caller.agency,
        caller_role=caller.role,
        as_of=now,
        entries=entries,
        guest_lead_ids=sorted({i for g in guest for i in g.lead_ids}),
        guest_entity_keys=sorted({k for g in guest for k in g.entity_keys}),
        disclosures=sorted(
            (DisclosedLead(lead_id=lead_id, owner_agency=owner, withheld=sorted(withheld))
             for (lead_id, owner), withheld in disclosed.items()),
            key=lambda d: (d.lead_id, d.owner_agency),
        ),
        policy_digest=policy.digest,
    )


def scope_outcome(scope: ReadScope, lead: LeadMarking) -> ScopeVerdict:
    """Evaluate a compiled scope against one lead: the reference the Cypher translation of
    ``ReadScope`` must agree with. Uses only the scope's plain data."""
    restriction = restriction_state(lead.restricted_to, scope.caller_agency)
    embargo = embargo_state(lead.embargo_until, scope.as_of)
    guest = lead.lead_id in scope.guest_lead_ids or not set(scope.guest_entity_keys).isdisjoint(
        lead.entity_keys
    )
    release = next((d.release_key for d in scope.disclosures
                    if d.lead_id == lead.lead_id and d.owner_agency is lead.originating_agency),
                   NO_DISCLOSURE)
    disclosed = release != NO_DISCLOSURE
    for e in scope.entries:
        if (
            lead.originating_agency in e.originating_agencies
            and lead.handling_code in e.handling_codes
            and lead.kind in e.kinds
            and restriction in e.restriction
            and embargo in e.embargo
            and guest in e.guest_grant
            and disclosed in e.disclosure_grant
            and (release in e.disclosure_releases if e.disclosure_releases else True)
        ):
            return ScopeVerdict(
                outcome=e.outcome, hidden_properties=e.hidden_properties, rule_id=e.rule_id
            )
    return ScopeVerdict(outcome=Outcome.NONE)


# --- derived_marking --------------------------------------------------------------------------


def _in_enum_order(agencies: set[Agency]) -> list[Agency]:
    return [a for a in Agency if a in agencies]


def derived_marking(markings: Iterable[Marking | LeadMarking]) -> Marking:
    """The marking of something derived from several leads (a merged entity, an inferred link):
    the strictest handling code, the intersection of the audiences, the latest embargo. What is
    derived never travels further than the most restricted of its sources.

    Raises ``ValueError`` on no input: a derived item always has sources, so an empty call is
    a programming error, not a policy question."""
    ms = [m.marking if isinstance(m, LeadMarking) else m for m in markings]
    if not ms:
        raise ValueError("derived_marking : aucune marque source")
    code = max((m.handling_code for m in ms), key=HANDLING_ORDER.__getitem__)
    audiences = [set(m.restricted_to) for m in ms if m.restricted_to is not None]
    audience = _in_enum_order(set.intersection(*audiences)) if audiences else None
    embargoes = [m.embargo_until for m in ms if m.embargo_until is not None]
    return Marking(
        handling_code=code, restricted_to=audience, embargo_until=max(embargoes, default=None)
    )
