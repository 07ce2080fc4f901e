"""Entity keys as guest grants name them: ``<kind>:<key>`` (``vehicle:AB-123-CD``,
``deal_point:25056:hall-3``), as the network read names its nodes. ``entity_key_expression`` and
``lead_entity_keys_expression`` give the Cypher that derives them, so every reader (the compiled
access filter of graph/access.py included) computes them the same way. Imports nothing that
reads the graph: graph/access.py takes it without a circle.
"""

from __future__ import annotations

from graph.labels import EntityKind
from policies.grants import GUEST_ENTITY_KINDS as _GUEST_KIND_NAMES

# The kinds a guest grant may name (policies/grants.py), as the graph's entity kinds.
GUEST_ENTITY_KINDS: tuple[EntityKind, ...] = tuple(EntityKind(k) for k in _GUEST_KIND_NAMES)


def entity_key_expression(var: str = "x") -> str:
    """Cypher giving the ``<kind>:<key>`` of node ``var`` for the guest-grantable kinds, else
    null. Labels and key properties come from the allow-list."""
    branches = " ".join(
        f"WHEN {var}:{k.label.value} THEN '{k.value}:' + {var}.{k.key_property}"
        for k in GUEST_ENTITY_KINDS
    )
    return f"CASE {branches} ELSE null END"


def lead_entity_keys_expression(lead_var: str = "l") -> str:
    """Cypher giving the list of entity keys a lead mentions directly (its place, vehicles,
    persons, phones, deal point, seizure): what a guest grant on an entity is matched against
    (``LeadMarking.entity_keys``)."""
    key = entity_key_expression("x_")
    return f"[({lead_var})-->(x_) WHERE {key} IS NOT NULL | {key}]"


def parse_entity_key(raw: str) -> tuple[EntityKind, str]:
    """Split ``kind:key``; raises ValueError (French) when malformed or not grantable."""
    kind_text, sep, key = raw.partition(":")
    if not sep or not key:
        raise ValueError("format attendu « type:clé », p. ex. vehicle:AB-123-CD")
    try:
        kind = EntityKind(kind_text)
    except ValueError:
        raise ValueError(f"type d'entité inconnu : {kind_text}") from None
    if kind not in GUEST_ENTITY_KINDS:
        allowed = ", ".join(k.value for k in GUEST_ENTITY_KINDS)
        raise ValueError(f"type d'entité trop partagé pour une autorisation : {kind.value} "
                         f"(admis : {allowed})")
    return kind, key
