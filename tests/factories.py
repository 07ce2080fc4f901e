"""Lead payloads for tests: a valid base lead, overridable field by field."""

from __future__ import annotations

import copy
import uuid
from typing import Any

from connectors.pseudonym import LinkageKey, normalize_identity
from pydantic import SecretStr

_KEY = LinkageKey(key_id="t1", secret=SecretStr("test-linkage-key"))


def pseudonym(last: str, first: str = "X") -> str:
    return _KEY.pseudonym(normalize_identity(last, first))


BESANCON = {"insee_code": "25056", "commune": "Besançon"}


def lead(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "source_agency": "police",
        "source_ref": f"PN-{uuid.uuid4().hex[:10]}",
        "version": 1,
        "kind": "field_intelligence",
        "channel": "patrol",
        "observed_at": "2025-07-28T21:40:00+02:00",
        "reported_at": "2025-07-29T08:00:00+02:00",
        "location": {**BESANCON, "address": "Place Cassin", "point": {"lat": 47.2205, "lon": 5.9710}},
        "narrative": "Va-et-vient devant le hall 3, guetteur à l'entrée.",
        "handling_code": "H1",
        "source_reliability": "B",
        "information_credibility": "2",
    }
    out = copy.deepcopy(base)
    out.update(overrides)
    return out
