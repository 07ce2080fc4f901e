"""How a caller's access policy becomes part of the Cypher that reads.

An ``AccessFilter`` is compiled from the policy engine's ``ReadScope`` (policies/) into one Cypher
``CASE`` expression that gives each lead an access level — ``full``, a redaction profile, ``hit``
or ``none`` — plus, per redaction profile, the exact list of lead properties the caller may
receive. Reads project only those properties, so a withheld property is never fetched from the
store, not fetched and then filtered in Python.

Property names come from ``LEAD_PROPERTIES`` (an allow-list); values from the policy travel as
query parameters.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from graph.models import Hit

# Every lead property a read may return. `lead_id`, `agency`, `kind` and `handling_code` are the
# marking: visible at every access level that shows the lead at all. `lead_id` is opaque (ADR
# 0007); the internal `source_key` and the migrated `legacy_lead_id` name the source reference
# and are deliberately absent: no projection can ever return them.
LEAD_MARKING = ("lead_id", "agency", "kind", "handling_code")
LEAD_PROPERTIES = LEAD_MARKING + (
    "source_ref", "version", "channel", "observed_at", "reported_at", "ingested_at", "updated_at",
    "narrative", "source_reliability", "information_credibility", "restricted_to", "embargo_until",
    "substances", "insee_code", "unplated_vehicles",
)

# Lead contract fields that are linked entities, not properties of the lead node: the
# relationships a read follows from a lead to show them. A graded release may withhold them
# (policies/disclosure.py); only the lead read (``detail_case_expression``) filters a lead's
# links per access level — every other read sees a lead whose profile withholds a linked
# entity as a hit (``compile_scope``), so no traversal can pass through a withheld link.
LINK_FIELDS: dict[str, tuple[str, ...]] = {
    "location": ("AT",),
    "deal_point": ("CONCERNS",),
    "vehicles": ("MENTIONS_VEHICLE",),
    "persons": ("INVOLVES",),
    "phones": ("MENTIONS_PHONE",),
    "seizure": ("RECORDED",),
    "substances": ("REPORTS_SUBSTANCE",),
}
# Lead node properties derived from a linked contract field at ingest, withheld with it.
DERIVED_PROPERTIES: dict[str, tuple[str, ...]] = {
    "location": ("insee_code",),
    "vehicles": ("unplated_vehicles",),
}

# Lead properties holding instants: a projection may send them as integer epoch microseconds,
# which the Python driver reads ~10x faster than a DateTime (see graph.read.network).
LEAD_TEMPORAL = ("observed_at", "reported_at", "ingested_at", "updated_at", "embargo_until")

FULL = "full"
HIT = "hit"
NONE = "none"


def shown(level: str) -> str:
    """The name an answer gives an access level: the policy's redaction profiles (``redacted1``,
    ``redacted2``…) are internal to a compiled filter and are one ``redacted`` to the outside;
    ``full``, ``hit`` and ``none`` keep their names."""
    return level if level in (FULL, HIT, NONE) else "redacted"


@dataclass(frozen=True)
class AccessFilter:
    """A compiled read policy. ``case_expression`` refers to the lead as ``l`` and to its params
    with the ``acc_`` prefix; ``profiles`` maps each visible access level to the properties it
    may read (``full`` reads them all)."""

    case_expression: str
    params: dict[str, Any] = field(default_factory=dict)
    profiles: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Who to contact about a hit, per agency ("Permanence CROSS police — ...").
    contacts: dict[str, str] = field(default_factory=dict)
    # Which policy (and version) produced this filter: recorded with every consultation.
    policy_id: str = "unrestricted"
    # Seals a hit's subject into the caller's opaque hit handle (hub.handles), bound to the
    # caller's agency by the hub; None (no handle) for maintenance reads.
    seal: Callable[[list[str]], str] | None = field(default=None, compare=False, repr=False)
    # The lead read's own level expression (None: ``case_expression``): it alone yields the
    # levels whose profile withholds linked entities (a graded release), which every other
    # read sees as a hit. ``hidden_links`` maps such a level to the withheld linked fields.
    detail_case: str | None = None
    hidden_links: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def detail_case_expression(self) -> str:
        return self.detail_case or self.case_expression

    def link_params(self) -> dict[str, Any]:
        """``acc_hidden_links``: level -> withheld linked fields, for the lead read's links."""
        return {"acc_hidden_links": {level: list(f) for level, f in self.hidden_links.items()}}

    @classmethod
    def unrestricted(cls) -> AccessFilter:
        """For the hub's own maintenance reads (never for a caller's read)."""
        return cls(case_expression=f"'{FULL}'", profiles={FULL: LEAD_PROPERTIES})

    def hit(self, entity: str, agency: str, lead_count: int, *, lead_id: str | None = None) -> Hit:
        """The one way reads build a ``Hit``: whom to contact, and the caller's handle on it —
        sealing the lead (``lead_id``, a hit on one lead) or else the entity and agency."""
        from graph.models import Hit

        subject = ["lead", lead_id] if lead_id is not None else ["entity", entity, agency]
        return Hit(entity=entity, agency=agency, lead_count=lead_count,
                   contact=self.contacts.get(agency),
                   handle=self.seal(subject) if self.seal is not None else None)

    def visible_levels(self) -> list[str]:
        return [level for level in self.profiles if level not in (HIT, NONE)]

    def projection(self, var: str = "l", access: str = "access", *, epoch_us: bool = False) -> str:
        """A Cypher expression returning the map of properties the access level allows; with
        ``epoch_us`` its instants (``LEAD_TEMPORAL``) as integer microseconds since the epoch."""

        def item(p: str) -> str:
            if epoch_us and p in LEAD_TEMPORAL:
                return f"{p}: {var}.{p}.epochMillis * 1000 + {var}.{p}.microsecond % 1000"
            return f".{p}"

        branches = []
        for level, props in self.profiles.items():
            allowed = [p for p in props if p in LEAD_PROPERTIES]  # allow-list, defence in depth
            inner = ", ".join(item(p) for p in allowed)
            branches.append(f"WHEN '{_safe(level)}' THEN {var} {{{inner}}}")
        marking = f"{var} {{{', '.join(f'.{p}' for p in LEAD_MARKING)}}}"
        if not branches:  # a caller who may read no lead content at all
            return marking
        return f"CASE {access} {' '.join(branches)} ELSE {marking} END"

    def redacted_properties(self, level: str) -> list[str]:
        allowed = set(self.profiles.get(level, ()))
        derived = {p for props in DERIVED_PROPERTIES.values() for p in props}
        shown_hidden = [p for p in LEAD_PROPERTIES if p not in allowed and p not in derived]
        return shown_hidden + [f for f in self.hidden_links.get(level, ()) if f not in shown_hidden]


def _safe(level: str) -> str:
    # Access level names are produced by our compiler, never by input; still refuse anything
    # that could close the string literal.
    if not level.replace("_", "").replace(":", "").replace("-", "").isalnum():
        raise ValueError(f"invalid access level name {level!r}")
    return level


# --- compiling a policy scope -----------------------------------------------------------------------

def compile_scope(scope: Any, contacts: dict[str, str] | None = None) -> AccessFilter:
    """Translate a ``policies.models.ReadScope`` into an ``AccessFilter``.

    Each scope entry (a box over originating agency, handling code, kind, restriction state,
    embargo state, guest grant, disclosure grant) becomes one ``WHEN`` of a ``CASE`` over the
    lead ``l``; the entries are disjoint, so their order does not matter. Every value travels as
    a parameter. ``policies.engine.scope_outcome`` is the reference this must agree with (a test
    checks it against the real graph).
    """
    from graph.grants.keys import (
        entity_key_expression,  # "<kind>:<key>", as guest grants name them
    )
    from hub.contract.lead import Agency, HandlingCode, LeadKind
    from policies.models import (  # the scope's vocabulary
        EmbargoState,
        Outcome,
        RestrictionState,
    )

    params: dict[str, Any] = {
        "acc_agency": scope.caller_agency.value,
        "acc_as_of": scope.as_of,
        "acc_guest_leads": list(scope.guest_lead_ids),
        "acc_guest_entities": list(scope.guest_entity_keys),
        "acc_disclosed": [f"{d.lead_id}|{d.owner_agency.value}" for d in scope.disclosures],
    }
    # Each state of a dimension as a boolean over the lead, evaluated only for the states an
    # entry names (a nested CASE per entry was evaluated once per WHEN, for every lead row a
    # read touches). Null-safe as the states are defined: no ``restricted_to`` is unrestricted,
    # an embargo that does not compare is not active.
    restricted = "size(coalesce(l.restricted_to, [])) > 0"
    states = {
        "restriction": {
            RestrictionState.UNRESTRICTED: f"NOT {restricted}",
            RestrictionState.INCLUDES_CALLER: "$acc_agency IN coalesce(l.restricted_to, [])",
            RestrictionState.EXCLUDES_CALLER:
                f"({restricted} AND NOT $acc_agency IN l.restricted_to)",
        },
        "embargo": {
            EmbargoState.ACTIVE: "coalesce(l.embargo_until > $acc_as_of, false)",
            EmbargoState.NONE: "NOT coalesce(l.embargo_until > $acc_as_of, false)",
        },
    }
    # Guest and disclosure grants: a test only when the caller holds some; without any, "has a
    # grant" is false for every lead, and folded here rather than tested per lead.
    features = {
        "guest_grant": None if not (scope.guest_lead_ids or scope.guest_entity_keys) else (
            "(l.lead_id IN $acc_guest_leads"
            # Its own variable name: an `e` here would capture the caller query's `e`.
            + (f" OR EXISTS {{ MATCH (l)-->(acc_ent) WHERE {entity_key_expression('acc_ent')} "
               f"IN $acc_guest_entities }}"
               if scope.guest_entity_keys else "") + ")"),
        "disclosure_grant": None if not scope.disclosures else
            "(l.lead_id + '|' + l.agency IN $acc_disclosed)",
    }
    domains = {
        "originating_agencies": ("l.agency", len(Agency)),
        "handling_codes": ("l.handling_code", len(HandlingCode)),
        "kinds": ("l.kind", len(LeadKind)),
    }
    # Graded releases: one test per release situation (policies.models.release_key); a lead
    # is in at most one, since the scope names each disclosed lead once.
    releases = sorted({d.release_key for d in scope.disclosures})
    release_tests: dict[str, str] = {}
    for j, key in enumerate(releases):
        params[f"acc_release{j}"] = [f"{d.lead_id}|{d.owner_agency.value}"
                                     for d in scope.disclosures if d.release_key == key]
        release_tests[key] = f"(l.lead_id + '|' + l.agency IN $acc_release{j})"
    profiles: dict[str, tuple[str, ...]] = {}
    hidden_links: dict[str, tuple[str, ...]] = {}
    redaction_levels: dict[tuple[str, ...], str] = {}
    branches: list[str] = []
    detail_branches: list[str] = []
    for i, entry in enumerate(scope.entries):
        conditions: list[str] = []
        for dim, (expr, size) in domains.items():
            values = [v.value for v in getattr(entry, dim)]
            if len(values) < size:
                params[f"acc_e{i}_{dim}"] = values
                conditions.append(f"{expr} IN $acc_e{i}_{dim}")
        for dim, by_state in states.items():
            chosen = set(getattr(entry, dim))
            if not chosen:
                conditions.append("false")
            elif len(chosen) < len(by_state):
                tests = [test for state, test in by_state.items() if state in chosen]
                conditions.append(tests[0] if len(tests) == 1 else f"({' OR '.join(tests)})")
        never = False
        for dim, expr in features.items():
            values = set(getattr(entry, dim))
            if expr is None:  # no grant of this kind: the lead has none
                never = never or values == {True}
            elif values == {True}:
                conditions.append(expr)
            elif values == {False}:
                conditions.append(f"NOT {expr}")
        chosen_releases = set(entry.disclosure_releases)
        if scope.disclosures and chosen_releases and chosen_releases != {"none", *releases}:
            tests = [release_tests[k] for k in releases if k in chosen_releases]
            if "none" in chosen_releases:
                tests.append(f"NOT {features['disclosure_grant']}")
            conditions.append(f"({' OR '.join(tests)})" if tests else "false")
        if entry.outcome is Outcome.FULL:
            level = FULL
            profiles[FULL] = LEAD_PROPERTIES
        elif entry.outcome is Outcome.HIT:
            level = HIT
        else:  # redacted: one access level per distinct set of hidden properties
            hidden = tuple(sorted(entry.hidden_properties))
            level = redaction_levels.setdefault(hidden, f"redacted{len(redaction_levels) + 1}")
            withheld = set(hidden) | {d for f in hidden for d in DERIVED_PROPERTIES.get(f, ())}
            profiles[level] = tuple(p for p in LEAD_PROPERTIES if p not in withheld)
            links = tuple(f for f in LINK_FIELDS if f in hidden)
            if links:
                hidden_links[level] = links
        if never or "false" in conditions:
            continue  # no lead can be in this box: its branch is left out (its level kept)
        when = f"WHEN {' AND '.join(conditions) or 'true'}"
        detail_branches.append(f"{when} THEN '{level}'")
        # Every read but the lead read: a withheld linked entity makes the lead a hit there.
        branches.append(f"{when} THEN '{HIT if level in hidden_links else level}'")
    case = f"CASE {' '.join(branches)} ELSE '{NONE}' END" if branches else f"'{NONE}'"
    detail = (f"CASE {' '.join(detail_branches)} ELSE '{NONE}' END" if hidden_links else None)
    return AccessFilter(case_expression=case, params=params, profiles=profiles,
                        contacts=dict(contacts or {}), detail_case=detail,
                        hidden_links=hidden_links,
                        policy_id=f"policy:{scope.policy_digest.split(':')[-1][:12]}" if scope.policy_digest else "policy")
