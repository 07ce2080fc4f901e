"""Lead payloads for tests: a valid base lead, overridable field by field."""

from __future__ import annotations

import copy
import secrets
import uuid
from typing import Any

from connectors.pseudonym import LinkageKey, normalize_identity
from pydantic import SecretStr

_KEY = LinkageKey(key_id="t1", secret=SecretStr("test-linkage-key"))


def canary_tag(length: int = 12) -> str:
    """A random upper-case tag made of letters only, to mark a test value.

    Random hex is not safe inside a narrative: a run such as ``0633505103`` is a French mobile
    number, which the hub's reporter-identity guard rightly rejects (CI, stop 20)."""
    return "".join(secrets.choice("ABCDEFGHJKLMNPQRSTVWXYZ") for _ in range(length))


def plate_blocks() -> tuple[str, str, str]:
    """A random valid SIV plate as its three blocks: no I, O or U, no SS block, no 000
    (hub/contract/normalize.py) — a random « SS » made CI reject a test's plate twice."""
    def letters() -> str:
        while (block := "".join(secrets.choice("ABCDEFGHJKLMNPQRSTVWXYZ") for _ in range(2))) == "SS":
            pass
        return block
    return letters(), str(100 + secrets.randbelow(900)), letters()


def random_plate() -> str:
    """A random valid SIV plate, ``AB-123-CD``."""
    return "-".join(plate_blocks())


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


# --- lead ids ------------------------------------------------------------------------------------
# Public lead ids are opaque (``L-…``, ADR 0007): tests name leads by "agency:source_ref" and turn
# them into public ids through the graph (or read them from the ingest acknowledgement).


def public_id(driver: Any, agency: str, source_ref: str, database: str = "neo4j") -> str:
    """The public id of the lead (agency, source_ref); KeyError when no such lead."""
    from graph.handle import Graph
    from graph.leads import public_lead_ids
    from hub.contract.lead import source_key

    key = source_key(agency, source_ref)
    return public_lead_ids(Graph(driver, database), [key])[key]


def acked_ids(response: Any) -> dict[str, str]:
    """source_ref → public lead id, from an ingest response (httpx response or its JSON)."""
    body = response.json() if hasattr(response, "json") else response
    return {r["source_ref"]: r["lead_id"] for r in body["results"] if r.get("lead_id")}


class LeadIds:
    """Public ids by ``"agency:source_ref"`` — ``ids["police:P1"]`` — read from the graph on a
    miss; ``ids.name(public_id)`` answers the other way ("police:P1"), ``ids.names(...)`` for
    many, and ``ids.sub(text)`` replaces each "lead:<public id>"/public id in ``text`` by
    its name (for assertions on rendered output)."""

    def __init__(self, driver: Any, database: str = "neo4j") -> None:
        self._driver, self._db = driver, database
        self._by_name: dict[str, str] = {}
        self._by_id: dict[str, str] = {}

    def refresh(self) -> LeadIds:
        records, _, _ = self._driver.execute_query(
            "MATCH (l:Lead) WHERE l.source_key IS NOT NULL "
            "RETURN l.agency AS agency, l.source_ref AS ref, l.source_key AS key, l.lead_id AS id",
            database_=self._db)
        for r in records:
            agency, _, ref = r["key"].partition("|")
            name = f"{agency}:{ref}"
            self._by_name[name], self._by_id[r["id"]] = r["id"], name
        return self

    def __getitem__(self, name: str) -> str:
        if name not in self._by_name:
            self.refresh()
        return self._by_name[name]

    def get(self, name: str, default: str | None = None) -> str | None:
        try:
            return self[name]
        except KeyError:
            return default

    def name(self, lead_id: str) -> str:
        if lead_id not in self._by_id:
            self.refresh()
        return self._by_id.get(lead_id, lead_id)

    def names(self, lead_ids: Any) -> list[str]:
        return [self.name(i) for i in lead_ids]

    def sub(self, text: str) -> str:
        self.refresh()
        for lead_id, name in self._by_id.items():
            text = text.replace(lead_id, name)
        return text
