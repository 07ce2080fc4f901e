"""What a change of the policy files would grant or withdraw, to whom — computed before it is
deployed (``crosshub policy diff``), and the digests that say which files a deployment changed
(the hub records them in the audit trail at each start: hub/policy_deployments.py).

Owns:

* ``file_digests`` / ``combined_digest`` — the SHA-256 of every file of a policy directory, and
  one digest over all of them (names included, so a renamed or removed file changes it);
* ``changed_files`` — files added, removed or changed between two sets of digests;
* ``permission_changes`` — per role, the actions (``may:``) gained or lost;
* ``retention_changes`` — the retention periods (default and per rule) that change;
* ``access_changes`` — per caller agency × role × handling code × originating agency (× lead
  kind, only where kinds make a difference), the read level before and after, each decided by
  the real engine (``policies.engine.decide``) over a table of representative leads: no
  restriction, no embargo, no grant. What a grant, a restriction or an embargo changes is the
  same rules evaluated on other facts; the table shows the rules' baseline, which is what a
  policy change moves.

Pure: decisions are the engine's; the only I/O is reading the policy directory's own files.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from hub.contract.lead import Agency, HandlingCode, LeadKind
from policies.engine import decide
from policies.models import Caller, LeadMarking, Outcome, Policy, Role
from policies.permissions import ACTION_LABELS_FR, Action
from policies.retention import RetentionPolicy

# A fixed instant: the representative leads carry no embargo, so nothing depends on it; fixed,
# so two runs of the diff on the same files print the same thing.
_AS_OF = datetime(2026, 1, 1, tzinfo=UTC)

# The row of the lead kinds no rule of either policy names (they are all decided alike).
OTHER_KINDS = "other"

OUTCOME_FR: dict[Outcome, str] = {
    Outcome.FULL: "complet",
    Outcome.REDACTED: "expurgé",
    Outcome.HIT: "signalement (hit)",
    Outcome.NONE: "aucun",
}


# --- digests ---------------------------------------------------------------------------------------


def file_digests(directory: Path) -> dict[str, str]:
    """``sha256:<hex>`` of every regular file under ``directory`` (recursively), by its path
    relative to it (``/`` separators), sorted; hidden files and caches left out."""
    out: dict[str, str] = {}
    for path in sorted(Path(directory).rglob("*")):
        rel = path.relative_to(directory)
        if not path.is_file() or any(p.startswith(".") or p == "__pycache__" for p in rel.parts):
            continue
        out[rel.as_posix()] = "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def combined_digest(digests: dict[str, str]) -> str:
    h = hashlib.sha256()
    for name in sorted(digests):
        h.update(name.encode() + b"\0" + digests[name].encode() + b"\0")
    return "sha256:" + h.hexdigest()


@dataclass(frozen=True, slots=True)
class FileChange:
    name: str
    old: str | None  # None: the file is new
    new: str | None  # None: the file was removed


def changed_files(old: dict[str, str], new: dict[str, str]) -> list[FileChange]:
    return [FileChange(name, old.get(name), new.get(name))
            for name in sorted(set(old) | set(new)) if old.get(name) != new.get(name)]


# --- permissions -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PermissionChange:
    role: str
    action: Action
    gained: bool  # False: lost

    @property
    def label_fr(self) -> str:
        return ACTION_LABELS_FR[self.action]


def permission_changes(old: Policy, new: Policy) -> list[PermissionChange]:
    """Per role (in the Role enum's order), the actions gained then lost, each in the enum's
    order."""
    def may(policy: Policy) -> dict[str, set[Action]]:
        return {info.role.value: set(info.may) for info in policy.roles}

    before, after = may(old), may(new)
    out: list[PermissionChange] = []
    for role in (r.value for r in Role):
        b, a = before.get(role, set()), after.get(role, set())
        out += [PermissionChange(role, act, True) for act in Action if act in a - b]
        out += [PermissionChange(role, act, False) for act in Action if act in b - a]
    return out


# --- access levels ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Level:
    outcome: Outcome
    hidden: tuple[str, ...] = ()

    @property
    def label_fr(self) -> str:
        text = OUTCOME_FR[self.outcome]
        return f"{text} (masqué : {', '.join(self.hidden)})" if self.hidden else text


@dataclass(frozen=True, slots=True)
class AccessChange:
    caller_agency: str
    role: str
    handling_code: str
    originating_agency: str
    kind: str | None  # None: every lead kind alike; OTHER_KINDS: every kind no rule names
    old: Level
    new: Level

    @property
    def widened(self) -> bool:
        """True when the new level shows more (a higher outcome, or fewer fields hidden)."""
        from policies.models import OUTCOME_ORDER

        if self.old.outcome != self.new.outcome:
            return OUTCOME_ORDER[self.new.outcome] > OUTCOME_ORDER[self.old.outcome]
        return len(self.new.hidden) < len(self.old.hidden)


def _kinds(*policies: Policy) -> list[LeadKind]:
    """The lead kinds worth telling apart: those some rule names, plus one no rule names (the
    representative of "any other kind")."""
    named = {k for p in policies for r in p.rules for k in (r.when.kinds or [])}
    others = [k for k in LeadKind if k not in named]
    return [k for k in LeadKind if k in named] + others[:1]


def _level(policy: Policy, caller: Caller, lead: LeadMarking) -> Level:
    d = decide(caller, lead, policy, (), now=_AS_OF)
    hidden = tuple(sorted(d.hidden_properties)) if d.outcome is Outcome.REDACTED else ()
    return Level(d.outcome, hidden)


def access_changes(old: Policy, new: Policy) -> list[AccessChange]:
    """Every (caller agency, role, handling code, originating agency) whose level on a
    representative lead differs between the two policies; one row per kind only where the
    kinds do not all change alike."""
    kinds = _kinds(old, new)
    named = {k for p in (old, new) for r in p.rules for k in (r.when.kinds or [])}
    out: list[AccessChange] = []
    for agency in Agency:
        for role in Role:
            caller = Caller(user_id=f"{agency.value}:revue", name="revue", agency=agency, role=role)
            for code in HandlingCode:
                for origin in Agency:
                    per_kind = []
                    for kind in kinds:
                        lead = LeadMarking(lead_id="L-representative", originating_agency=origin,
                                           kind=kind, handling_code=code)
                        per_kind.append((kind, _level(old, caller, lead), _level(new, caller, lead)))
                    changed = [(k, b, a) for k, b, a in per_kind if b != a]
                    if not changed:
                        continue
                    if len(changed) == len(per_kind) and len({(b, a) for _, b, a in changed}) == 1:
                        _, b, a = changed[0]
                        out.append(AccessChange(agency.value, role.value, code.value,
                                                origin.value, None, b, a))
                    else:
                        out += [AccessChange(agency.value, role.value, code.value, origin.value,
                                             k.value if k in named else OTHER_KINDS, b, a)
                                for k, b, a in changed]
    return out


# --- retention ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RetentionChange:
    rule_id: str  # "default": the period when no rule matches
    old_months: int | None  # None: a new rule
    new_months: int | None  # None: a rule removed


def retention_changes(old: RetentionPolicy, new: RetentionPolicy) -> list[RetentionChange]:
    """The retention periods that change: the default, then each rule by id (a rule whose
    conditions change but not its period is not listed — the files list shows it changed)."""
    def periods(p: RetentionPolicy) -> dict[str, int]:
        return {"default": p.default.months, **{r.id: r.months for r in p.rules}}

    before, after = periods(old), periods(new)
    return [RetentionChange(rid, before.get(rid), after.get(rid))
            for rid in [*before, *(r for r in after if r not in before)]
            if before.get(rid) != after.get(rid)]


@dataclass(frozen=True, slots=True)
class PolicyDiff:
    files: list[FileChange]
    permissions: list[PermissionChange]
    access: list[AccessChange]
    retention: list[RetentionChange] = field(default_factory=list)

    @property
    def rights_changed(self) -> bool:
        return bool(self.permissions or self.access)


def diff_policies(old: Policy, new: Policy, old_files: dict[str, str],
                  new_files: dict[str, str], old_retention: RetentionPolicy | None = None,
                  new_retention: RetentionPolicy | None = None) -> PolicyDiff:
    retention = (retention_changes(old_retention, new_retention)
                 if old_retention is not None and new_retention is not None else [])
    return PolicyDiff(changed_files(old_files, new_files), permission_changes(old, new),
                      access_changes(old, new), retention)
