"""End to end, for each of the four connectors: sample source data (files dropped, a feed served,
a share, a platform export) → the connector's run → the REAL hub (uvicorn subprocess) → the REAL
Neo4j graph. The graph must hold exactly the expected leads, once each at their latest version,
with the expected links (plates, phones, pseudonymous persons, seizures with quantities in grams
or units, places), the quarantined records must show in the run record, the hub's
``GET /api/v1/connectors`` must show the run and its counts, and no raw identifier of the
samples may be anywhere in the graph."""

from __future__ import annotations

import os
import time
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path
from typing import Any

from connectors.base import Connector, RunRecord, RunStatus
from connectors.citizen.source import PRODUCTS as CITIZEN_PRODUCTS
from connectors.demo.gendarmerie_feed import RecordStore, StandIn, serve_in_thread
from connectors.demo.pipeline import DEMO_CONNECTORS, run_demo_connectors
from connectors.demo.sources.citizen import write_samples as write_citizen
from connectors.demo.sources.douanes import write_samples as write_douanes
from connectors.demo.sources.gendarmerie import write_samples as write_gendarmerie
from connectors.demo.sources.police import write_samples as write_police
from connectors.douanes.source import SUBSTANCE_CODES
from connectors.gendarmerie.source import PRODUCTS as GN_PRODUCTS
from connectors.state import StateStore
from tests.connectors.conftest import World

POLICE_KINDS = {"signalement": "field_intelligence", "surveillance": "surveillance",
                "controle": "stop_check", "interpellation": "arrest", "perquisition": "search",
                "saisie": "seizure"}
GRAMS = {"mg": Decimal("0.001"), "g": Decimal(1), "kg": Decimal(1000), "t": Decimal(1_000_000)}


def pseudonyms(connector: Connector[Any], identities: list[str]) -> set[str]:
    keyring = connector.keyring()
    return {keyring.pseudonymize(i)[0] for i in identities}


def quarantined_ids(connector: Connector[Any]) -> list[str]:
    with StateStore(connector.settings.state_dir, connector.name) as store:
        return [q.source_id for q in store.quarantine_list(1000)]


def assert_common(world: World, connector: Connector[Any], record: RunRecord, *, prefix: str,
                  expected: dict[str, dict[str, Any]], quarantined: int, pushed: int) -> dict[str, dict[str, Any]]:
    """Run ok, counts consistent, exactly the expected leads each once, each placed, the run
    shown by the hub. Returns the graph's view of the leads."""
    assert record.status == RunStatus.OK, record
    assert record.fault is None and record.outbox_pending == 0 and record.count_rejected == 0, record
    assert record.count_quarantined == quarantined, record
    assert record.count_pushed == record.count_out == pushed, record
    assert record.count_in == record.count_out + record.count_quarantined, record

    counts = world.lead_counts(prefix)
    assert sorted(counts) == sorted(expected), (
        f"missing {sorted(set(expected) - set(counts))}, unexpected {sorted(set(counts) - set(expected))}")
    assert set(counts.values()) == {1}
    graph = world.leads(prefix)
    for lead_id, lead in graph.items():
        assert lead["provided_by"] == [connector.settings.agency.value], lead_id
        assert lead["agency"] == connector.settings.agency.value
        assert len(lead["communes"]) == 1 and lead["communes"] == [lead["insee"]], lead_id
        for seizure in lead["seizures"]:
            assert all(q["unit"] in {"g", "unit"} for q in seizure["substances"] if q["quantity"]), seizure

    runs = world.connector_runs(connector.name)
    assert runs, f"the hub shows no run of {connector.name}"
    shown = runs[0]
    assert shown["run_id"] == record.run_id and shown["status"] == "ok"
    assert shown["agency"] == connector.settings.agency.value
    for field in ("count_in", "count_out", "count_quarantined", "count_pushed", "count_rejected",
                  "outbox_pending"):
        assert shown[field] == getattr(record, field), field
    return graph


def assert_links(connector: Connector[Any], graph: dict[str, dict[str, Any]], prefix: str,
                 expected: dict[str, dict[str, Any]]) -> None:
    for ref, exp in expected.items():
        lead = graph[prefix + ref]
        if "version" in exp:
            assert lead["version"] == exp["version"], ref
        assert sorted(lead["phones"]) == sorted(set(exp["phones"])), ref
        assert sorted(lead["plates"]) == sorted(set(exp["plates"])), ref
        held = {p["pseudonym"] for p in lead["persons"]}
        if "identities" in exp:
            assert pseudonyms(connector, exp["identities"]) <= held, ref
        if "persons" in exp:
            assert len(held) == exp["persons"], ref
        assert all(p.startswith("ps1:k1:") for p in held), ref
        if exp.get("cash_eur"):
            assert len(lead["seizures"]) == 1, ref
            assert Decimal(str(lead["seizures"][0]["cash_eur"])) == Decimal(exp["cash_eur"]), ref


# --- police: CSV exports dropped in an inbox ------------------------------------------------------


def test_police_exports_to_graph(world: World) -> None:
    creds = world.register("police", "police")
    connector = world.police(creds)
    truth = write_police(connector.settings.inbox_dir, seed=11, n=40)
    # One export stamped years ahead (a workstation with a wrong clock): read all the same.
    skewed = connector.settings.inbox_dir / truth["files"][1]
    ahead = time.time() + 5 * 365 * 86400
    os.utime(skewed, (ahead, ahead))

    record = connector.run()

    expected = truth["leads"]
    graph = assert_common(world, connector, record, prefix="police:", expected={f"police:{k}": v for k, v in expected.items()},
                          quarantined=len(truth["quarantined"]), pushed=len(expected) + 1)  # + the v2
    assert sorted(quarantined_ids(connector)) == sorted(truth["quarantined"])
    assert_links(connector, graph, "police:", expected)
    for ref, exp in expected.items():
        assert graph[f"police:{ref}"]["kind"] == POLICE_KINDS[exp["kind"]], ref
    assert [v["version"] for v in expected.values()].count(2) == 1
    # Every file read was moved out of the inbox.
    assert not list(connector.settings.inbox_dir.glob("*.csv"))

    # The seeds' cases, with quantities normalized to grams or units.
    perseigne = next(g for g in graph.values() if g["seizures"] and g["seizures"][0]["cash_eur"] == 8300)
    assert perseigne["kind"] == "seizure" and perseigne["insee"] == "61001"
    assert len(perseigne["persons"]) == 5 and perseigne["deal_points"]
    seized = {q["code"]: (q["quantity"], q["unit"]) for q in perseigne["seizures"][0]["substances"]}
    assert seized == {"cannabis_resin": (5400.0, "g"), "heroin": (720.0, "g"),
                      "cannabis_herb": (900.0, "g"), "crack": (150.0, "g")}
    assert perseigne["seizures"][0]["weapon_count"] == 2
    assert perseigne["seizures"][0]["at"], "the seizure is placed"
    search = next(g for g in graph.values() if g["kind"] == "search" and any(
        q["code"] == "cannabis_resin" and q["quantity"] == 960.0 for s in g["seizures"] for q in s["substances"]))
    assert search["insee"] == "25056"
    mdma = [q for g in graph.values() for s in g["seizures"] for q in s["substances"] if q["code"] == "mdma"]
    assert mdma and all(q["unit"] == "unit" for q in mdma)
    # The courier's order line links the citizen report, the arrest and... one Phone node.
    line = world.query("MATCH (p:Phone)<-[:MENTIONS_PHONE]-(l:Lead) WITH p, count(l) AS n "
                       "WHERE n >= 2 RETURN p.number AS number")
    assert line

    world.assert_no_raw_identifier(truth["raw_identifiers"])

    # A second run finds nothing new and sends nothing.
    again = connector.run()
    assert again.status == RunStatus.OK and again.count_in == 0 and again.count_pushed == 0
    assert world.lead_counts("police:") == {f"police:{k}": 1 for k in expected}


# --- gendarmerie: a paginated REST feed -----------------------------------------------------------


def test_gendarmerie_feed_to_graph(world: World) -> None:
    creds = world.register("gendarmerie", "gendarmerie")
    store = RecordStore()
    truth = write_gendarmerie(store, seed=12, n=60)
    stand_in = StandIn(store)
    with serve_in_thread(stand_in.app) as base_url:
        connector = world.gendarmerie(creds, base_url)
        record = connector.run()

    expected = truth["leads"]
    graph = assert_common(world, connector, record, prefix="gendarmerie:",
                          expected={f"gendarmerie:{k}": v for k, v in expected.items()},
                          quarantined=len(truth["quarantined"]), pushed=len(expected))
    held = quarantined_ids(connector)
    assert len(held) == len(truth["quarantined"])
    assert sorted(q for q in truth["quarantined"] if q) == sorted(q for q in held if not q.startswith("sans-id:"))
    assert_links(connector, graph, "gendarmerie:", expected)
    assert any(exp["version"] > 1 for exp in expected.values())
    for ref, exp in expected.items():
        assert graph[f"gendarmerie:{ref}"]["kind"] == exp["kind"], ref

    # Seized quantities, recomputed here from the feed's own records.
    seizures = 0
    for ref in expected:
        raw = store.get(ref)
        if not raw.get("saisie"):
            continue
        want = {}
        for p in raw["saisie"]["produits"]:
            q = Decimal(p["quantite"])
            want[GN_PRODUCTS[p["code"]].value] = (float(q), "unit") if p["unite"] == "u" else (
                float(q * GRAMS[p["unite"]]), "g")
        got = graph[f"gendarmerie:{ref}"]["seizures"]
        assert len(got) == 1, ref
        assert {q["code"]: (q["quantity"], q["unit"]) for q in got[0]["substances"]} == want, ref
        seizures += 1
    assert seizures >= 5

    world.assert_no_raw_identifier(truth["raw_identifiers"])


# --- customs: XML reports on a read-only share ----------------------------------------------------


def _douanes_quantities(share: Path) -> dict[str, dict[str, tuple[float, str]]]:
    """numero → substance → (quantity, unit), read here from the XML files with a plain parser."""
    units = {"unite": "unit"}
    out: dict[str, dict[str, tuple[float, str]]] = {}
    for path in share.glob("constatations-*.xml"):
        root = ET.fromstring(path.read_bytes())
        for el in root.iter():
            if el.tag.rsplit("}", 1)[-1] != "constatation":
                continue
            goods: dict[str, tuple[float, str]] = {}
            for st in el.iter():
                if st.tag.rsplit("}", 1)[-1] != "stupefiant" or st.get("code") not in SUBSTANCE_CODES:
                    continue
                qty = next(q for q in st if q.tag.rsplit("}", 1)[-1] == "quantite")
                unit = qty.get("unite", "g")
                value = Decimal(qty.text or "0")
                goods[SUBSTANCE_CODES[st.get("code")].value] = (
                    (float(value), "unit") if units.get(unit) == "unit" else (float(value * GRAMS[unit]), "g"))
            out[el.get("numero", "")] = goods
    return out


def test_douanes_reports_to_graph(world: World) -> None:
    creds = world.register("douanes", "douanes")
    connector = world.douanes(creds)
    share = connector.settings.reports_dir
    truth = write_douanes(share, seed=13, n=30)
    before = sorted((p.name, p.stat().st_mtime_ns) for p in share.iterdir())

    record = connector.run()

    expected = truth["leads"]
    graph = assert_common(world, connector, record, prefix="douanes:",
                          expected={f"douanes:{k}": v for k, v in expected.items()},
                          quarantined=len(truth["quarantined"]), pushed=len(expected))
    assert sorted(quarantined_ids(connector)) == sorted(truth["quarantined"])
    assert_links(connector, graph, "douanes:", expected)
    assert any(":" in plate for exp in expected.values() for plate in exp["plates"]), "a foreign plate"
    quantities = _douanes_quantities(share)
    for ref, exp in expected.items():
        lead = graph[f"douanes:{ref}"]
        assert lead["kind"] == exp["kind"], ref
        got = {q["code"]: (q["quantity"], q["unit"]) for s in lead["seizures"] for q in s["substances"]}
        assert got == quantities[ref], ref
        assert sorted(got) == sorted(SUBSTANCE_CODES[c].value for c in exp["substances"]), ref
    # The share is read-only for the connector: nothing moved, nothing touched.
    assert sorted((p.name, p.stat().st_mtime_ns) for p in share.iterdir()) == before

    world.assert_no_raw_identifier(truth["raw_identifiers"])


# --- citizens' platform: JSON lines, police deployment --------------------------------------------


def test_citizen_platform_to_graph(world: World) -> None:
    creds = world.register("citizen", "police")
    connector = world.citizen(creds)
    truth = write_citizen(connector.settings.export_dir, seed=14, n=40)

    record = connector.run()

    expected = truth["leads"]["police"]
    graph = assert_common(world, connector, record, prefix="police:MSI-",
                          expected={f"police:{k}": v for k, v in expected.items()},
                          quarantined=len(truth["quarantined"]["police"]), pushed=len(expected))
    assert sorted(quarantined_ids(connector)) == sorted(truth["quarantined"]["police"])
    assert_links(connector, graph, "police:", expected)
    for ref, exp in expected.items():
        lead = graph[f"police:{ref}"]
        assert lead["kind"] == "citizen_report"
        assert sorted(lead["mentioned"]) == sorted({CITIZEN_PRODUCTS[c].value for c in exp["substances"]}), ref
    # Reports routed to the gendarmerie are left to its own deployment; the line still being
    # written is not read yet.
    assert not world.lead_counts("gendarmerie:")
    assert truth["pending"] and f"police:{truth['pending']}" not in graph
    # The reporters: never in the graph, not even their IP address or platform account.
    world.assert_no_raw_identifier(truth["raw_identifiers"])
    assert truth["reporters"]


# --- the demo, loaded through the four connectors -------------------------------------------------


def test_demo_pipeline_runs_all_four_connectors(world: World) -> None:
    credentials = {}
    for name, agency in DEMO_CONNECTORS.items():
        creds = world.register(name, agency)
        credentials[name] = (creds.token, creds.key_path)
    seen: list[str] = []
    sizes = {"police": 15, "gendarmerie": 15, "douanes": 10, "citizen": 15}

    records = run_demo_connectors(world.hub.url, credentials, world.tmp / "demo", seed=3, sizes=sizes,
                                  on_run=lambda name, _: seen.append(name))

    assert seen == list(DEMO_CONNECTORS) and sorted(records) == sorted(DEMO_CONNECTORS)
    for name, record in records.items():
        assert record.status == RunStatus.OK and record.count_pushed > 0, (name, record)
        assert record.count_quarantined > 0, name  # each sample set carries malformed records
        assert world.connector_runs(name)[0]["run_id"] == record.run_id
    held = {r["agency"]: r["n"] for r in world.query(
        "MATCH (l:Lead) RETURN l.agency AS agency, count(l) AS n")}
    assert set(held) == {"police", "gendarmerie", "douanes"}
    citizen = len(world.lead_counts("police:MSI-"))
    assert citizen > 0 and held["police"] > citizen
    # Persons under the public demo key, like the generated demo leads.
    keys = {r["k"] for r in world.query("MATCH (p:Person) RETURN DISTINCT split(p.pseudonym, ':')[1] AS k")}
    assert keys == {"demo1"}

    # Loading again sends everything again, and the hub holds nothing twice.
    before = world.lead_counts("")
    again = run_demo_connectors(world.hub.url, credentials, world.tmp / "demo", seed=3, sizes=sizes)
    for name, record in again.items():
        assert record.status == RunStatus.OK and record.count_pushed == records[name].count_pushed, name
    assert world.lead_counts("") == before and set(before.values()) == {1}
