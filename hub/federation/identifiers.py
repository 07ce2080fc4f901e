"""What the federation tokenizes: a plate or a phone, in one canonical spelling, so that every
hub writing ``ab 123 cd``, ``AB-123-CD`` or ``AB123CD`` computes the same OPRF input — and so the
same token under a given holder's key.

* plates: ``plate:<country>:<compact>`` — ``plate:FR:AB123CD``, ``plate:FR:1234AB25`` (FNI),
  ``plate:CH:ZH12345``; the graph keeps French plates dashed (``AB-123-CD``) and foreign ones as
  ``CC:COMPACT`` (hub/contract/normalize.py), both folded here;
* phones: ``phone:+33612345678`` (E.164, the graph's own key).

Persons never federate (ADR 0024). The kind prefix keeps a plate and a phone that happened to
share characters apart.
"""

from __future__ import annotations

import re

from hub.contract.normalize import normalize_foreign_plate, normalize_phone, normalize_plate
from policies.federation import IdentifierKind

_FOREIGN = re.compile(r"^([A-Z]{2}):([A-Z0-9]{2,12})$")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def plate_input(graph_key: str) -> bytes:
    """The OPRF input of a plate as the graph stores it (``AB-123-CD`` or ``CH:ZH12345``)."""
    m = _FOREIGN.match(graph_key)
    if m:
        country, compact = m.groups()
    else:
        country, compact = "FR", normalize_plate(graph_key).replace("-", "")
    return f"plate:{country}:{compact}".encode()


def phone_input(graph_key: str) -> bytes:
    if not _E164.match(graph_key):
        graph_key = normalize_phone(graph_key)
    return f"phone:{graph_key}".encode()


def federation_input(kind: IdentifierKind | str, graph_key: str) -> bytes:
    kind = IdentifierKind(kind)
    if kind is IdentifierKind.PLATE:
        return plate_input(graph_key)
    return phone_input(graph_key)


def spelled_plate_input(raw: str, country: str = "FR") -> bytes:
    """The input of a plate however it was written (used by tests and the demo)."""
    if country == "FR":
        return plate_input(normalize_plate(raw))
    return plate_input(normalize_foreign_plate(raw, country))
