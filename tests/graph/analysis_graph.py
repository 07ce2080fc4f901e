"""The hand-built graph the analysis tests read (tests/graph/test_analysis.py and
tests/hub/test_analysis_api.py), with the restricted access filters the policy tests use.

Clusters, each with its own entities so no analysis finds a shortcut through another:

- paths (Épinal, one address per lead, June–July 2025): vehicle V1, person X, phones P1 and P3,
  person Y, vehicle V4. Untimed, V1→P3 is V1–L1–X–L2–P3, but L2 (1 June) is before L1 (1 July);
  time-ordered it is V1–L1–X–L6–V4–L7–P3 (3 hops, a 19-day gap L1→L6); with at most 48 h
  between steps it is V1–L1–X–L3–P1–L4–Y–L5–P3 (4 hops, 24 h steps).
- policy (no place, May 2025): V2–H1–P2 through a customs lead H1 that the restricted filter
  hides, or V2–L8–Z–L9–P2 through police leads. H1 also cites plate V9 (only there) and is the
  only narrative with « tramway ».
- co-presence (Besançon, 10 August 2025, UTC): Place Cassin C1 21:00 (BC-345-DE), CH 21:05
  (hidden customs lead: person CW, phone CP3), C2 21:20 (gendarmerie: BC-845-DE — 3↔8 of
  C1's plate — and phone CP1), C3 21:40 (person CY), C4 23:30 (phone CP2); Rue de Dole C5 21:10
  (phone CP2); a point ~100 m north of Place Cassin C6 21:15 (vehicle HJ-222-KL).
- hotspots (now = 31 August 2025, 30 days against the 30 before): Place Cassin 5 recent
  (4 readable when CH is hidden) vs 1 (J1, 15 July); Saint-Ferjeux 2 (F4, F5) vs 3 (F1–F3);
  Montbéliard 1 new (S1, which also carries AB-723-CD, 1↔7 of V1's plate); Alençon (Orne) 1.
- central (no place, May 2025): person K0 in leads K1–K4, each with its own phone KP1–KP4.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from neo4j import Driver

from graph.access import LEAD_MARKING, LEAD_PROPERTIES, AccessFilter
from graph.driver import reset_database
from graph.handle import Graph
from graph.leads import write_leads
from graph.setup import apply_schema
from hub.contract.lead import Lead
from tests.factories import pseudonym

DB = "neo4j"

X, Y, Z = pseudonym("Leroy", "Yanis"), pseudonym("Martin", "Kevin"), pseudonym("Roux", "Zoe")
CW, CY, K0 = pseudonym("Blanc", "Walid"), pseudonym("Petit", "Yvan"), pseudonym("Garnier", "Karim")
V1, V3, V4, V2, V9 = "AB-123-CD", "AB-723-CD", "KL-789-MN", "EF-456-GH", "XY-999-ZA"
CV1, CV3, CV4 = "BC-345-DE", "BC-845-DE", "HJ-222-KL"
P1, P2, P3 = "+33612345678", "+33698765432", "+33611223344"
CP1, CP2, CP3 = "+33655443322", "+33677889900", "+33644556677"
KP = ["+33622000001", "+33622000002", "+33622000003", "+33622000004"]

BESANCON = {"insee_code": "25056", "commune": "Besançon"}
CASSIN = {**BESANCON, "address": "Place Cassin", "point": {"lat": 47.2205, "lon": 5.9710}}
CASSIN_KEY = "addr:25056:place cassin"
NEAR = {**BESANCON, "point": {"lat": 47.2214, "lon": 5.9710}}  # ~100 m north: its own Location
DOLE = {**BESANCON, "address": "Rue de Dole"}
FERJEUX = {**BESANCON, "place_label": "Saint-Ferjeux"}
MONTBELIARD = {"insee_code": "25388", "commune": "Montbéliard", "place_label": "Gare"}
ALENCON = {"insee_code": "61001", "commune": "Alençon", "place_label": "Perseigne"}


def epinal(n: int) -> dict[str, Any]:
    return {"insee_code": "88160", "commune": "Épinal", "address": f"Rue P{n}"}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _lead(ref: str, agency: str, when: str, location: dict | None, **extra: Any) -> dict[str, Any]:
    t = at(when)
    return {
        "source_agency": agency, "source_ref": ref, "kind": "field_intelligence",
        "channel": "patrol", "observed_at": t.isoformat(),
        "reported_at": (t + timedelta(hours=1)).isoformat(), "location": location,
        "narrative": extra.pop("narrative", ""), "handling_code": "H1", **extra,
    }


def _persons(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"pseudonym": p, "role": role} for p, role in pairs]


def payloads() -> list[dict[str, Any]]:
    v = lambda plate: {"plate": plate}
    return [
        # paths
        _lead("L1", "police", "2025-07-01T10:00", epinal(1), vehicles=[v(V1)],
              persons=_persons((X, "driver"))),
        _lead("L2", "police", "2025-06-01T10:00", epinal(2), persons=_persons((X, "seller")),
              phones=[P3]),
        _lead("L3", "gendarmerie", "2025-07-02T10:00", epinal(3), persons=_persons((X, "seller")),
              phones=[P1]),
        _lead("L4", "douanes", "2025-07-03T10:00", epinal(4), phones=[P1],
              persons=_persons((Y, "buyer"))),
        _lead("L5", "police", "2025-07-04T10:00", epinal(5), persons=_persons((Y, "buyer")),
              phones=[P3]),
        _lead("L6", "douanes", "2025-07-20T10:00", epinal(6), persons=_persons((X, "courier")),
              vehicles=[v(V4)]),
        _lead("L7", "gendarmerie", "2025-07-21T10:00", epinal(7), vehicles=[v(V4)], phones=[P3]),
        # policy
        _lead("H1", "douanes", "2025-05-10T10:00", None, vehicles=[v(V2), v(V9)], phones=[P2],
              narrative="Livraison près du tramway, sacs isothermes dans le coffre."),
        _lead("L8", "police", "2025-05-11T10:00", None, vehicles=[v(V2)],
              persons=_persons((Z, "driver"))),
        _lead("L9", "police", "2025-05-12T10:00", None, persons=_persons((Z, "seller")),
              phones=[P2]),
        # co-presence
        _lead("C1", "police", "2025-08-10T21:00", CASSIN, vehicles=[v(CV1)],
              narrative="Véhicule stationné moteur tournant devant l'entrée du hall 3."),
        _lead("CH", "douanes", "2025-08-10T21:05", CASSIN, persons=_persons((CW, "lookout")),
              phones=[CP3], narrative="Guetteur au hall 3, sifflements à l'arrivée des patrouilles."),
        _lead("C2", "gendarmerie", "2025-08-10T21:20", CASSIN, vehicles=[v(CV3)], phones=[CP1],
              narrative="Trottinette électrique stationnée devant le hall, deux individus."),
        _lead("C3", "police", "2025-08-10T21:40", CASSIN, persons=_persons((CY, "seller"))),
        _lead("C4", "police", "2025-08-10T23:30", CASSIN, phones=[CP2]),
        _lead("C5", "police", "2025-08-10T21:10", DOLE, phones=[CP2]),
        _lead("C6", "police", "2025-08-10T21:15", NEAR, vehicles=[v(CV4)]),
        # hotspots
        _lead("J1", "police", "2025-07-15T12:00", CASSIN),
        *[_lead(f"F{i}", "police", when, FERJEUX) for i, when in enumerate(
            ["2025-07-10T12:00", "2025-07-12T12:00", "2025-07-14T12:00",
             "2025-08-05T12:00", "2025-08-07T12:00"], start=1)],
        _lead("S1", "police", "2025-08-20T12:00", MONTBELIARD, vehicles=[v(V3)]),
        _lead("A1", "police", "2025-08-15T12:00", ALENCON),
        # central
        *[_lead(f"K{i + 1}", "police", f"2025-05-0{i + 1}T10:00", None,
                persons=_persons((K0, "manager")), phones=[KP[i]]) for i in range(4)],
    ]


# Leads by name ("police:L1"): the source keys the graph merges on. Their public ids are opaque
# (ADR 0007), given by the graph when it writes them: ``ensure_graph`` answers name → public id.
LEAD_NAMES = sorted(f"{p['source_agency']}:{p['source_ref']}" for p in payloads())
SOURCE_KEYS = sorted(name.replace(":", "|", 1) for name in LEAD_NAMES)


class Ids(dict):
    """Public lead ids by name — ``ids["police:L1"]`` — and ``ids.name(public_id)`` back."""

    def name(self, lead_id: str) -> str:
        return {v: k for k, v in self.items()}.get(lead_id, lead_id)  # unknown: as it came

    def names(self, lead_ids: Any) -> list[str]:
        return [self.name(i) for i in lead_ids]

    def node(self, name: str) -> str:
        """The network node id of a lead: ``lead:<public id>``."""
        return f"lead:{self[name]}"


def ensure_graph(driver: Driver) -> Ids:
    """Write the graph unless it is already there, alone: other test modules wipe the graph
    before each of their tests, so a module-scoped write could be gone (or polluted) by the
    time a test of ours runs under xdist. Answers each lead's public id by name: from the write
    results when it writes, from the graph when the graph is already there (written earlier)."""
    found = {r["key"]: r["id"] for r in driver.execute_query(
        "MATCH (l:Lead) RETURN l.source_key AS key, l.lead_id AS id", database_=DB).records}
    if sorted(found) == SOURCE_KEYS:
        return Ids({key.replace("|", ":", 1): lead_id for key, lead_id in found.items()})
    graph = Graph(driver, DB)
    reset_database(graph)
    apply_schema(graph)
    written = payloads()
    results = write_leads(graph, [Lead.model_validate(p) for p in written])
    assert {r.outcome.value for r in results} == {"created"}, results
    return Ids({f"{p['source_agency']}:{p['source_ref']}": r.lead_id
                for p, r in zip(written, results, strict=True)})


# police reads everything, the gendarmerie a summary without narrative, the rest only as hits.
SUMMARY = LEAD_MARKING + ("observed_at", "reported_at", "channel")
RESTRICTED = AccessFilter(
    case_expression="CASE WHEN l.agency = $acc_agency THEN 'full' "
                    "WHEN l.agency = $acc_summary THEN 'summary' ELSE 'hit' END",
    params={"acc_agency": "police", "acc_summary": "gendarmerie"},
    profiles={"full": LEAD_PROPERTIES, "summary": SUMMARY},
    contacts={"douanes": "Permanence CROSS — douanes"},
    policy_id="test-restricted",
)
# police only; everyone else's leads may not even be known of.
POLICE_ONLY = AccessFilter(
    case_expression="CASE WHEN l.agency = $acc_agency THEN 'full' ELSE 'none' END",
    params={"acc_agency": "police"}, profiles={"full": LEAD_PROPERTIES}, policy_id="test-police",
)
OPEN = AccessFilter.unrestricted()
