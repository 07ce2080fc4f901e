"""The vocabulary of access policy: who asks (``Caller``), what is asked about (``LeadMarking``,
``Marking``), what may widen access (``GuestGrant``, ``DisclosureGrant``), the policy itself as
validated data (``Policy`` and the per-file models the loader fills) and what comes out
(``Decision``, ``ReadScope``).

This module owns shapes and their local consistency only; it decides nothing (``engine``) and
reads no file (``loader``). It knows nothing of HTTP or Neo4j: a ``ReadScope`` is plain data that
another room translates into query predicates.
"""

from __future__ import annotations

import string
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from hub.contract.lead import Agency, HandlingCode, Lead, LeadKind
from policies.permissions import Action

# --- Vocabulary -------------------------------------------------------------------------------


class Role(StrEnum):
    """What a user does in the CROSS. Closed in code because the hub's authentication maps
    accounts onto these names; what each role may see is data (``rules.yaml``)."""

    ANALYST = "analyst"
    COORDINATOR = "coordinator"  # chef de la CROSS
    CONNECTOR = "connector"  # a machine account pushing leads in
    AUDITOR = "auditor"  # reads the Art. 25 audit trail, not the leads
    ADMINISTRATOR = "administrator"  # runs the platform, not the investigations
    GUEST_REFERENT = "guest_referent"  # CROSS non permanente: scoped, time-boxed guest


class Outcome(StrEnum):
    """What a caller gets of one lead, from most to least."""

    FULL = "full"  # every property
    REDACTED = "redacted"  # the lead, minus ``Decision.hidden_properties``
    HIT = "hit"  # only "agency X holds something here, contact Y" (hit/no-hit)
    NONE = "none"  # not even the hit


# Outcomes are levels: allow rules raise the level, deny rules cap it.
OUTCOME_ORDER: dict[Outcome, int] = {
    Outcome.NONE: 0,
    Outcome.HIT: 1,
    Outcome.REDACTED: 2,
    Outcome.FULL: 3,
}


class Effect(StrEnum):
    ALLOW = "allow"
    DENY = "deny"


class Relation(StrEnum):
    """The caller's agency against the lead's originating agency."""

    OWN = "own"
    OTHER = "other"


class RestrictionState(StrEnum):
    """A lead's ``restricted_to`` seen from one caller's agency."""

    UNRESTRICTED = "unrestricted"  # restricted_to is empty
    INCLUDES_CALLER = "includes_caller"
    EXCLUDES_CALLER = "excludes_caller"


class EmbargoState(StrEnum):
    """``active`` iff ``embargo_until`` is set and strictly after the evaluation instant."""

    ACTIVE = "active"
    NONE = "none"  # no embargo, or already lifted


Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9\-]{0,63}$")]
TextFr = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
Identifier = Annotated[str, StringConstraints(min_length=1, max_length=200)]

# Placeholders a rule's ``reason_fr`` may use; the engine fills them from the lead.
REASON_PLACEHOLDERS: frozenset[str] = frozenset({"agence", "code", "nature", "contact", "embargo"})

# Lead properties a rule may hide: the contract's own field names, so a typo in
# ``properties.yaml`` cannot silently hide (or fail to hide) nothing.
LEAD_PROPERTIES: frozenset[str] = frozenset(Lead.model_fields)


class PolicyModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


# --- Inputs of a decision ---------------------------------------------------------------------


class Caller(PolicyModel):
    user_id: Identifier
    name: TextFr
    agency: Agency
    role: Role


class LeadMarking(PolicyModel):
    """What the engine needs of a lead: its origin and the originator's controls, never its
    content. ``restricted_to`` empty means "the CROSS's members, per policy" (as in ``Lead``).
    ``entity_keys`` are the keys of the entities the lead mentions, so a guest grant scoped to an
    entity covers the leads about it."""

    lead_id: Identifier
    originating_agency: Agency
    kind: LeadKind
    handling_code: HandlingCode
    restricted_to: list[Agency] = Field(default_factory=list, max_length=10)
    embargo_until: AwareDatetime | None = None
    entity_keys: list[Identifier] = Field(default_factory=list)

    @classmethod
    def from_lead(cls, lead: Lead, entity_keys: list[str] | None = None,
                  lead_id: str | None = None) -> LeadMarking:
        # ``lead_id``: the hub's public id (opaque, given at ingest); the source key otherwise.
        return cls(
            lead_id=lead_id or lead.source_key,
            originating_agency=lead.source_agency,
            kind=lead.kind,
            handling_code=lead.handling_code,
            restricted_to=list(lead.restricted_to),
            embargo_until=lead.embargo_until,
            entity_keys=entity_keys or [],
        )

    @property
    def marking(self) -> Marking:
        """The lead's controls as a ``Marking``: a restriction always admits the originator
        (it never loses sight of its own lead), which matters once restrictions intersect."""
        audience = (
            [a for a in Agency if a in self.restricted_to or a is self.originating_agency]
            if self.restricted_to else None
        )
        return Marking(
            handling_code=self.handling_code, restricted_to=audience, embargo_until=self.embargo_until
        )


class Marking(PolicyModel):
    """The controls carried by anything derived from leads (a merged entity, an inferred link).

    ``restricted_to`` is ``None`` when nothing restricts the audience and a list of agencies
    otherwise — possibly *empty*, meaning no agency at all may see the derived item in full.
    Unlike ``Lead.restricted_to`` the empty list is not "open": the intersection of two disjoint
    restrictions must not turn into no restriction."""

    handling_code: HandlingCode
    restricted_to: list[Agency] | None = None
    embargo_until: AwareDatetime | None = None


class GuestGrant(PolicyModel):
    """A time-boxed grant to a guest referent (CROSS non permanente), scoped to named leads
    and/or entities. Valid on ``[valid_from, valid_until)``."""

    kind: Literal["guest"] = "guest"
    grant_id: Identifier
    grantee_user_id: Identifier
    lead_ids: list[Identifier] = Field(default_factory=list)
    entity_keys: list[Identifier] = Field(default_factory=list)
    valid_from: AwareDatetime
    valid_until: AwareDatetime
    granted_by: Identifier

    @model_validator(mode="after")
    def _bounded(self) -> GuestGrant:
        if self.valid_until <= self.valid_from:
            raise ValueError("fin de validité antérieure ou égale au début")
        if not (self.lead_ids or self.entity_keys):
            raise ValueError("une autorisation d'invité doit viser au moins une piste ou une entité")
        return self

    def active_at(self, now: datetime) -> bool:
        return self.valid_from <= now < self.valid_until


class DisclosureGrant(PolicyModel):
    """The originating agency approved one named lead for one named requester (the answer to a
    hit). Counts only if ``owner_agency`` is the lead's originating agency: no one discloses
    another agency's lead."""

    kind: Literal["disclosure"] = "disclosure"
    grant_id: Identifier
    lead_id: Identifier
    requester_user_id: Identifier
    owner_agency: Agency
    approved_by: Identifier
    approved_at: AwareDatetime
    valid_until: AwareDatetime | None = None
    released_groups: list[Slug] | None = None  # graded release (None: every group)

    @model_validator(mode="after")
    def _bounded(self) -> DisclosureGrant:
        if self.valid_until is not None and self.valid_until <= self.approved_at:
            raise ValueError("fin de validité antérieure ou égale à l'approbation")
        return self

    def active_at(self, now: datetime) -> bool:
        return self.approved_at <= now and (self.valid_until is None or now < self.valid_until)


Grant = Annotated[GuestGrant | DisclosureGrant, Field(discriminator="kind")]


# --- The policy as data -----------------------------------------------------------------------


class RoleInfo(PolicyModel):
    role: Role
    label_fr: TextFr
    description_fr: TextFr
    # The actions the role may call (policies/permissions.py); none is implied.
    may: list[Action] = Field(default_factory=list)

    @field_validator("may")
    @classmethod
    def _once(cls, v: list[Action]) -> list[Action]:
        twice = sorted({a.value for a in v if v.count(a) > 1})
        if twice:
            raise ValueError(f"action(s) listée(s) deux fois : {', '.join(twice)}")
        return v


class AgencyInfo(PolicyModel):
    agency: Agency
    # "de la Police nationale": the agency after "Piste", so reasons read as French.
    of_fr: TextFr
    # Whom a hit tells the caller to contact (a desk, never a person's name).
    contact_fr: TextFr


class PropertyGroup(PolicyModel):
    id: Slug
    label_fr: TextFr
    properties: list[str] = Field(min_length=1)

    @field_validator("properties")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        unknown = sorted(set(v) - LEAD_PROPERTIES)
        if unknown:
            raise ValueError(f"propriété(s) inconnue(s) du contrat de piste : {', '.join(unknown)}")
        return v


class Conditions(PolicyModel):
    """When a rule applies. Every condition given must hold; an omitted one matches anything."""

    roles: list[Role] | None = None
    caller_agencies: list[Agency] | None = None
    originating_agencies: list[Agency] | None = None
    relation: Relation | None = None
    handling_codes: list[HandlingCode] | None = None
    kinds: list[LeadKind] | None = None
    restriction: list[RestrictionState] | None = None
    embargo: EmbargoState | None = None
    guest_grant: bool | None = None  # the caller holds an active guest grant covering the lead
    disclosure_grant: bool | None = None  # the owner disclosed this lead to this caller

    @field_validator(
        "roles", "caller_agencies", "originating_agencies", "handling_codes", "kinds", "restriction"
    )
    @classmethod
    def _nonempty(cls, v: list | None) -> list | None:
        # An empty list would read as "matches nothing", a silent trap: say "omit it" instead.
        if v is not None and not v:
            raise ValueError("liste vide : omettre la condition pour « toutes valeurs »")
        return v


class Rule(PolicyModel):
    """One rule. ``allow`` raises the caller to ``outcome``; ``deny`` caps the caller at
    ``outcome`` (``none`` by default), whatever any allow says. ``hide`` names property groups
    hidden when the rule's outcome is ``redacted``."""

    id: Slug
    effect: Effect
    outcome: Outcome | None = None
    hide: list[Slug] = Field(default_factory=list)
    reason_fr: TextFr
    when: Conditions = Field(default_factory=Conditions)

    @field_validator("reason_fr")
    @classmethod
    def _placeholders(cls, v: str) -> str:
        try:
            fields = [f for _, f, spec, conv in string.Formatter().parse(v) if f is not None]
        except ValueError as exc:
            raise ValueError(f"motif mal formé ({exc}) : doubler les accolades littérales") from exc
        unknown = sorted(set(fields) - REASON_PLACEHOLDERS)
        if unknown:
            raise ValueError(
                f"variable(s) inconnue(s) dans le motif : {', '.join(unknown)} "
                f"(admises : {', '.join(sorted(REASON_PLACEHOLDERS))})"
            )
        return v

    @field_validator("hide")
    @classmethod
    def _groups_known(cls, v: list[str], info: ValidationInfo) -> list[str]:
        # The loader passes the groups of properties.yaml, so an unknown group is reported at
        # this rule's line; ``Policy`` re-checks when built directly.
        groups = (info.context or {}).get("property_groups")
        if groups is not None:
            unknown = sorted(set(v) - set(groups))
            if unknown:
                raise ValueError(f"groupe(s) de propriétés inconnu(s) : {', '.join(unknown)}")
        return v

    @model_validator(mode="after")
    def _coherent(self) -> Rule:
        if self.effect is Effect.DENY and self.outcome is None:
            object.__setattr__(self, "outcome", Outcome.NONE)
        if self.effect is Effect.ALLOW:
            if self.outcome in (None, Outcome.NONE):
                raise ValueError("une règle allow doit accorder full, redacted ou hit")
            if self.when.roles is None:
                # Least privilege: an allow must say whom it serves, never "everyone".
                raise ValueError("une règle allow doit nommer ses rôles (when.roles)")
        if self.effect is Effect.DENY and self.outcome is Outcome.FULL:
            raise ValueError("une règle deny plafonnée à full ne restreint rien")
        if self.outcome is Outcome.REDACTED and not self.hide:
            raise ValueError("outcome redacted : préciser les groupes masqués (hide)")
        if self.outcome is not Outcome.REDACTED and self.hide:
            raise ValueError("hide n'a de sens qu'avec outcome redacted")
        return self

    @property
    def level(self) -> int:
        return OUTCOME_ORDER[self.outcome or Outcome.NONE]


class RolesFile(PolicyModel):
    roles: list[RoleInfo]

    @field_validator("roles")
    @classmethod
    def _every_role(cls, v: list[RoleInfo]) -> list[RoleInfo]:
        _exactly_once([r.role for r in v], list(Role), "rôle")
        return v


class AgenciesFile(PolicyModel):
    agencies: list[AgencyInfo]

    @field_validator("agencies")
    @classmethod
    def _every_agency(cls, v: list[AgencyInfo]) -> list[AgencyInfo]:
        _exactly_once([a.agency for a in v], list(Agency), "service")
        return v


class PropertiesFile(PolicyModel):
    property_groups: list[PropertyGroup] = Field(min_length=1)


class RulesFile(PolicyModel):
    rules: list[Rule]


def _exactly_once(seen: list, expected: list, what: str) -> None:
    dupes = sorted({str(x) for x in seen if seen.count(x) > 1})
    missing = [str(x) for x in expected if x not in seen]
    if dupes:
        raise ValueError(f"{what}(s) décrit(s) plusieurs fois : {', '.join(dupes)}")
    if missing:
        raise ValueError(f"{what}(s) non décrit(s) : {', '.join(missing)}")


class Policy(PolicyModel):
    """The whole access policy. Rules are evaluated as a set (order only breaks ties when
    choosing which rule to cite). ``digest`` identifies the policy files a decision came from,
    for the audit trail."""

    roles: list[RoleInfo]
    agencies: list[AgencyInfo]
    property_groups: list[PropertyGroup]
    rules: list[Rule]
    digest: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> Policy:
        RolesFile(roles=self.roles)
        AgenciesFile(agencies=self.agencies)
        groups = [g.id for g in self.property_groups]
        if len(set(groups)) != len(groups):
            raise ValueError("groupe de propriétés défini plusieurs fois")
        ids = [r.id for r in self.rules]
        if len(set(ids)) != len(ids):
            raise ValueError("identifiant de règle en double")
        for r in self.rules:
            unknown = set(r.hide) - set(groups)
            if unknown:
                raise ValueError(f"règle {r.id} : groupe(s) inconnu(s) {', '.join(sorted(unknown))}")
        return self

    def agency(self, agency: Agency) -> AgencyInfo:
        return next(a for a in self.agencies if a.agency is agency)

    def properties_of(self, group_ids: list[str]) -> set[str]:
        wanted = set(group_ids)
        return {p for g in self.property_groups if g.id in wanted for p in g.properties}


# --- Outputs ----------------------------------------------------------------------------------


class Decision(PolicyModel):
    """What one caller gets of one lead, and why. ``hidden_properties`` is filled only for
    ``redacted``; with ``hit`` or ``none`` no property is shown at all. ``contact_fr`` is filled
    only for ``hit``: whom to ask."""

    lead_id: str
    outcome: Outcome
    rule_id: str
    reason_fr: str
    hidden_properties: list[str] = Field(default_factory=list)
    contact_fr: str | None = None
    policy_digest: str = ""


class ScopeEntry(PolicyModel):
    """One box of the caller's read scope: a lead whose features are each in the listed values
    gets ``outcome``. Entries of one scope are pairwise disjoint."""

    originating_agencies: list[Agency]
    handling_codes: list[HandlingCode]
    kinds: list[LeadKind]
    restriction: list[RestrictionState]
    embargo: list[EmbargoState]
    guest_grant: list[bool]
    disclosure_grant: list[bool]
    outcome: Outcome
    hidden_properties: list[str] = Field(default_factory=list)
    rule_id: str
    disclosure_releases: list[str] = Field(default_factory=list)  # none | DisclosedLead.release_key


NO_DISCLOSURE, FULL_RELEASE = "none", "all"  # disclosure situations (ScopeEntry)


def release_key(withheld: frozenset[str] | set[str] | list[str] | None) -> str:
    """``all`` if nothing is withheld, else the withheld properties joined by ``+``."""
    return "+".join(sorted(withheld)) if withheld else FULL_RELEASE


class DisclosedLead(PolicyModel):
    lead_id: str
    owner_agency: Agency
    withheld: list[str] = Field(default_factory=list)  # by a graded release

    @property
    def release_key(self) -> str:
        return release_key(self.withheld)


class ReadScope(PolicyModel):
    """Everything one caller may read, as plain data for a query translator.

    Evaluating a lead (``engine.scope_outcome`` is the reference):

    - restriction: ``unrestricted`` if ``restricted_to`` is empty, ``includes_caller`` if it
      contains ``caller_agency``, else ``excludes_caller``;
    - embargo: ``active`` iff ``embargo_until`` is set and ``> as_of``;
    - guest_grant: the lead's id is in ``guest_lead_ids`` or one of its entity keys is in
      ``guest_entity_keys``;
    - disclosure_grant: ``(lead_id, originating agency)`` is in ``disclosures`` (and its
      ``release_key``, else ``none``, in ``disclosure_releases``);
    - the lead gets the outcome of the one entry all of whose lists contain its values;
      no entry means ``none`` (nothing, not even a hit).
    """

    caller_user_id: str
    caller_agency: Agency
    caller_role: Role
    as_of: AwareDatetime
    entries: list[ScopeEntry]
    guest_lead_ids: list[str] = Field(default_factory=list)
    guest_entity_keys: list[str] = Field(default_factory=list)
    disclosures: list[DisclosedLead] = Field(default_factory=list)
    policy_digest: str = ""


class ScopeVerdict(PolicyModel):
    """``scope_outcome``'s answer: a ``Decision`` without the prose (``rule_id`` is ``None``
    when no entry matched)."""

    outcome: Outcome
    hidden_properties: list[str] = Field(default_factory=list)
    rule_id: str | None = None
