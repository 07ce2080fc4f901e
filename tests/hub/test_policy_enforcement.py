"""Every role × every read endpoint × leads of each handling code and originating agency, with
the expected outcome written out; and proof that a withheld property never leaves the graph
(absent from the raw Bolt record, not just from the JSON)."""

from __future__ import annotations

import pytest

from graph import identity
from graph.driver import reset_database
from graph.handle import Graph
from graph.leads import write_leads
from hub.contract.lead import Lead
from tests.factories import lead

CALLER_AGENCY = "gendarmerie"  # every caller below belongs to the gendarmerie
CODES = ("H0", "H1", "H2", "H3")

# role -> originating agency ("own" = gendarmerie, "other" = police) -> outcome per H0..H3
EXPECTED: dict[str, dict[str, tuple[str, str, str, str]]] = {
    "analyst":        {"own": ("full", "full", "full", "full"),
                       "other": ("redacted", "redacted", "hit", "none")},
    "coordinator":    {"own": ("full", "full", "full", "full"),
                       "other": ("full", "full", "full", "hit")},
    "auditor":        {"own": ("none",) * 4, "other": ("none",) * 4},
    "administrator":  {"own": ("none",) * 4, "other": ("none",) * 4},
    "connector":      {"own": ("none",) * 4, "other": ("none",) * 4},
    "guest_referent": {"own": ("none",) * 4, "other": ("none",) * 4},
}
ORIGIN = {"own": "gendarmerie", "other": "police"}
JUSTIFY = "justification=PV-2025-0042"


def _plate(origin: str, code: str) -> str:
    return f"{'GN' if origin == 'own' else 'PN'}-10{code[1]}-AA"


@pytest.fixture(scope="module")
def world(driver, settings):
    db = settings.neo4j_database
    reset_database(Graph(driver, db))
    leads = []
    for origin, agency in ORIGIN.items():
        for code in CODES:
            leads.append(Lead.model_validate(lead(
                source_agency=agency, source_ref=f"POL-{code}", handling_code=code,
                narrative=f"Récit {agency} {code}", source_reliability="A",
                location={"insee_code": "25056", "commune": "Besançon",
                          "address": f"{10 * len(leads) + 1} rue du Tableau"},
                vehicles=[{"plate": _plate(origin, code)}])))
    # Lead ids are the graph's (opaque): taken from the write results, never built here.
    ids = {(origin, code): w.lead_id
           for (origin, code), w in zip(((o, c) for o in ORIGIN for c in CODES),
                                        write_leads(Graph(driver, db), leads), strict=True)}
    headers = {}
    for role in EXPECTED:
        user = identity.upsert_user(Graph(driver, db), agency=CALLER_AGENCY, role=role, name=f"table-{role}")
        headers[role] = {"Authorization": f"Bearer {identity.issue_token(Graph(driver, db), user.user_id).token}"}
    yield {"headers": headers, "ids": ids}
    reset_database(Graph(driver, db))


def _never_existing(value: str) -> str:
    """A key of the same shape and length as ``value`` that nothing carries (last digits
    shifted by 5)."""
    chars = list(value)
    for k in [k for k, c in enumerate(chars) if c.isdigit()][-4:]:
        chars[k] = str((int(chars[k]) + 5) % 10)
    return "".join(chars)


CASES = [(role, origin, i) for role in EXPECTED for origin in ORIGIN for i in range(4)]


def _id(case):
    role, origin, i = case
    return f"{role}-{origin}-{CODES[i]}-{EXPECTED[role][origin][i]}"


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_get_lead(client, world, case):
    role, origin, i = case
    expected = EXPECTED[role][origin][i]
    lead_id = world["ids"][(origin, CODES[i])]
    headers = world["headers"][role]
    resp = client.get(f"/api/v1/leads/{lead_id}?{JUSTIFY}", headers=headers)
    if expected == "none":
        # Indistinguishable from a lead that does not exist.
        nope = _never_existing(lead_id)
        unknown = client.get(f"/api/v1/leads/{nope}?{JUSTIFY}", headers=headers)
        assert resp.status_code == unknown.status_code == 404
        assert resp.content == unknown.content.replace(nope.encode(), lead_id.encode())
        return
    assert resp.status_code == 200, resp.text
    body = resp.json()
    if expected == "hit":
        # Who holds it and whom to ask: nothing of what it says, not even its source reference.
        # A hit: who holds it, whom to ask, and the caller's opaque handle on it (ADR 0007).
        assert set(body) == {"entity", "agency", "lead_count", "contact", "handle"}, body
        assert (body["agency"], body["lead_count"]) == (ORIGIN[origin], 1) and body["contact"]
        assert "Récit" not in resp.text
        assert f"POL-{CODES[i]}" not in resp.text, "the hit names the lead's source reference"
    elif expected == "full":
        assert body["access"] == "full" and body["narrative"] == f"Récit {ORIGIN[origin]} {CODES[i]}"
        assert body["source_reliability"] == "A"
    else:
        assert body["access"] == "redacted"
        assert "narrative" in body["redacted"] and "source_reliability" in body["redacted"]
        assert body.get("narrative") is None and body.get("source_reliability") is None
        assert "Récit" not in resp.text
        assert body["vehicles"][0]["plate"] == _plate(origin, CODES[i])


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_network(client, world, case):
    role, origin, i = case
    expected = EXPECTED[role][origin][i]
    lead_id = world["ids"][(origin, CODES[i])]
    headers = world["headers"][role]
    plate = _plate(origin, CODES[i])  # mentioned by this lead only
    resp = client.get(f"/api/v1/entities/vehicle/{plate}/network?depth=2&{JUSTIFY}", headers=headers)
    if expected == "none":
        # The plate is known only through a lead the caller may not even know of: the answer is
        # exactly that of a plate nobody ever reported (no anchor node, no "200, empty").
        nope = f"ZZ-{900 + i}-ZZ"
        unknown = client.get(f"/api/v1/entities/vehicle/{nope}/network?depth=2&{JUSTIFY}",
                             headers=headers)
        assert resp.status_code == unknown.status_code, resp.text
        assert resp.content == unknown.content.replace(nope.encode(), plate.encode())
        assert "Récit" not in resp.text
        return
    assert resp.status_code == 200, resp.text
    net = resp.json()
    lead_nodes = [n for n in net["nodes"] if n["kind"] == "lead"]
    if expected == "hit":
        assert lead_nodes == []
        assert "Récit" not in resp.text
        hits = [h for h in net["hits"] if h["agency"] == ORIGIN[origin]]
        assert [h["lead_count"] for h in hits] == [1]
        # Nothing beyond the anchor is reachable through a lead the caller cannot read.
        assert [n["id"] for n in net["nodes"]] == [f"vehicle:{plate}"]
    else:
        assert [n["key"] for n in lead_nodes] == [lead_id]
        props = lead_nodes[0]["properties"]
        assert ("narrative" in props) is (expected == "full")
        assert props["access"] == expected


def test_hidden_property_is_absent_from_the_raw_bolt_record(client, world, monkeypatch):
    """Spy on the records as the driver hands them over: the redacted narrative is not a key of
    the lead map at all (never fetched), rather than a key set to null."""
    import graph.read as read

    raw: list[dict] = []
    original = read._read

    def spy(graph, work):
        def capture(tx):
            real_run = tx.run

            def run(query, *args, **kwargs):
                result = real_run(query, *args, **kwargs)
                records = list(result)
                raw.extend(dict(r) for r in records)

                class Replay:
                    def __iter__(self):
                        return iter(records)

                    def single(self):
                        return records[0] if records else None

                return Replay()

            tx.run = run
            return work(tx)

        return original(graph, capture)

    monkeypatch.setattr(read, "_read", spy)
    lead_id = world["ids"][("other", "H0")]
    analyst = world["headers"]["analyst"]
    resp = client.get(f"/api/v1/leads/{lead_id}?{JUSTIFY}", headers=analyst)
    assert resp.json()["access"] == "redacted"
    lead_maps = [r["lead"] for r in raw if r.get("lead")]
    assert lead_maps, raw
    for m in lead_maps:
        assert "narrative" not in m and "source_reliability" not in m
        assert m["lead_id"] == lead_id
    raw.clear()
    client.get(f"/api/v1/entities/vehicle/PN-100-AA/network?depth=1&{JUSTIFY}", headers=analyst)
    lead_maps = [r["lead"] for r in raw if r.get("lead")]
    assert lead_maps and all("narrative" not in m for m in lead_maps)
