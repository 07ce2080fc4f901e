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

from dataclasses import dataclass, field
from typing import Any

# Every lead property a read may return. `lead_id`, `agency`, `kind` and `handling_code` are the
# marking: visible at every access level that shows the lead at all.
LEAD_MARKING = ("lead_id", "agency", "kind", "handling_code")
LEAD_PROPERTIES = LEAD_MARKING + (
    "source_ref", "version", "channel", "observed_at", "reported_at", "ingested_at", "updated_at",
    "narrative", "source_reliability", "information_credibility", "restricted_to", "embargo_until",
    "substances", "insee_code", "unplated_vehicles",
)

FULL = "full"
HIT = "hit"
NONE = "none"


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

    @classmethod
    def unrestricted(cls) -> AccessFilter:
        """For the hub's own maintenance reads (never for a caller's read)."""
        return cls(case_expression=f"'{FULL}'", profiles={FULL: LEAD_PROPERTIES})

    def visible_levels(self) -> list[str]:
        return [level for level in self.profiles if level not in (HIT, NONE)]

    def projection(self, var: str = "l", access: str = "access") -> str:
        """A Cypher expression returning the map of properties the access level allows."""
        branches = []
        for level, props in self.profiles.items():
            allowed = [p for p in props if p in LEAD_PROPERTIES]  # allow-list, defence in depth
            inner = ", ".join(f".{p}" for p in allowed)
            branches.append(f"WHEN '{_safe(level)}' THEN {var} {{{inner}}}")
        marking = ", ".join(f".{p}" for p in LEAD_MARKING)
        return f"CASE {access} {' '.join(branches)} ELSE {var} {{{marking}}} END"

    def redacted_properties(self, level: str) -> list[str]:
        allowed = set(self.profiles.get(level, ()))
        return [p for p in LEAD_PROPERTIES if p not in allowed]


def _safe(level: str) -> str:
    # Access level names are produced by our compiler, never by input; still refuse anything
    # that could close the string literal.
    if not level.replace("_", "").replace(":", "").replace("-", "").isalnum():
        raise ValueError(f"invalid access level name {level!r}")
    return level
