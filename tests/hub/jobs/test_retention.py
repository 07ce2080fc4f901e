"""Retention: the rules as data (loader, decision), the dry run listing exactly what is due, and
the purge erasing those leads, their seizures and the entities left orphaned — keeping every
entity another lead still mentions — logged as an erasure before it happens."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from typer import Typer
from typer.testing import CliRunner

from graph.handle import Graph
from graph.leads import write_leads
from hub.audit import AuditFilters, query
from hub.audit.layout import list_segments
from hub.contract.errors import ConfigurationError
from hub.contract.lead import Lead
from hub.jobs.retention import run_retention
from policies.retention import (
    RetentionFacts,
    add_months,
    decide,
    load_retention_policy,
)
from tests.factories import LeadIds, lead, pseudonym

NOW = datetime(2026, 6, 1, tzinfo=UTC)
P = pseudonym("Durand", "Lucas")
P_OLD = P.replace(":t1:", ":t0:")  # the same person under an earlier linkage key
Q = pseudonym("Petit", "Nora")
ADDR_C1 = {"insee_code": "25056", "commune": "Besançon", "address": "Rue du Purge"}
MARKET = {"insee_code": "25056", "commune": "Besançon", "address": "Place du Marché"}


# --- the rules -----------------------------------------------------------------------------------


def test_packaged_rules_decide_by_kind_and_outcome():
    policy = load_retention_policy()
    assert policy.min_months == 12 and policy.digest.startswith("sha256:")

    def facts(kind, status=None, outcome=None, resolved="2024-02-29T00:00:00+00:00"):
        return RetentionFacts(lead_id="x", agency="police", kind=kind, status=status, outcome=outcome,
                              reported_at="2024-01-31T00:00:00+00:00", resolved_at=resolved)

    d = decide(policy, facts("citizen_report", "dismissed"), now=NOW)
    assert (d.rule_id, d.months, d.outcome) == ("citizen-report-led-nowhere", 12, "dismissed")
    assert d.expires_at == datetime(2025, 2, 28, tzinfo=UTC) and d.expired
    assert decide(policy, facts("field_intelligence", "closed", "no_follow_up"), now=NOW).rule_id == "led-nowhere"
    kept = decide(policy, facts("citizen_report", "closed", "arrest"), now=NOW)
    assert kept.rule_id == "led-to-arrest-or-seizure" and not kept.expired
    assert decide(policy, facts("seizure", "assigned"), now=NOW).rule_id == "operational-results"
    # Unresolved: counted from the report, whatever a resolution date says.
    open_ = decide(policy, facts("citizen_report", "under_assessment"), now=NOW)
    assert open_.reference_at == datetime(2024, 1, 31, tzinfo=UTC) and open_.rule_id == "citizen-report-never-resolved"
    assert decide(policy, facts("surveillance"), now=NOW).rule_id == "default"
    assert decide(policy, facts("surveillance", "closed", None), now=NOW).outcome == "other"
    assert add_months(datetime(2024, 1, 31, tzinfo=UTC), 1) == datetime(2024, 2, 29, tzinfo=UTC)
    assert add_months(datetime(2024, 3, 15, tzinfo=UTC), -14) == datetime(2023, 1, 15, tzinfo=UTC)


def test_loader_refuses_shadowed_rules_and_unknown_outcomes_naming_the_line(tmp_path):
    shadowed = tmp_path / "retention.yaml"
    shadowed.write_text(
        "version: 1\n"
        "default: {months: 36, reason_fr: défaut}\n"
        "rules:\n"
        "  - id: nowhere\n"
        "    outcomes: [dismissed, no_follow_up]\n"
        "    months: 24\n"
        "    reason_fr: sans suite\n"
        "  - id: citizen-nowhere\n"
        "    kinds: [citizen_report]\n"
        "    outcomes: [dismissed]\n"
        "    months: 12\n"
        "    reason_fr: signalement sans suite\n", encoding="utf-8")
    with pytest.raises(ConfigurationError) as exc:
        load_retention_policy(shadowed)
    assert "ligne 8" in exc.value.message and "« nowhere »" in exc.value.message
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("version: 1\ndefault: {months: 36, reason_fr: d}\nrules:\n"
                       "  - {id: x, outcomes: [forgotten], months: 12, reason_fr: r}\n", encoding="utf-8")
    with pytest.raises(ConfigurationError) as exc:
        load_retention_policy(unknown)
    assert "ligne 4" in exc.value.message and "rules[0].outcomes[0]" in exc.value.message


# --- dry run and purge ---------------------------------------------------------------------------


def _lead(agency: str, ref: str, reported: str, **kw) -> Lead:
    return Lead(**lead(source_agency=agency, source_ref=ref, reported_at=reported, observed_at=None, **kw))


@pytest.fixture
def world(clean_graph, settings):
    db = settings.neo4j_database
    write_leads(Graph(clean_graph, db), [
        # Due: a citizen report dismissed in Feb 2024 (12 months).
        _lead("police", "C1", "2024-01-10T10:00:00+01:00", kind="citizen_report", channel="citizen_platform",
              location=ADDR_C1, vehicles=[{"plate": "GH-111-JK"}, {"plate": "KL-222-MN"}],
              persons=[{"pseudonym": P, "aliases": [P_OLD], "role": "seller"}]),
        # Kept: recent citizen report sharing plate KL-222-MN.
        _lead("police", "C2", "2026-03-01T10:00:00+01:00", kind="citizen_report", channel="citizen_platform",
              location=MARKET, vehicles=[{"plate": "KL-222-MN"}]),
        # Due: field intelligence closed without follow-up in Dec 2023 (24 months).
        _lead("gendarmerie", "F1", "2023-11-01T10:00:00+01:00",
              location={"insee_code": "25462", "commune": "Pontarlier", "address": "Rue des Oubliés"},
              phones=["06 99 88 77 66"], deal_point={"insee_code": "25462", "label": "Hall 7"}),
        # Kept: a seizure that led to an arrest (120 months), person Q, at the market.
        _lead("douanes", "S1", "2023-05-01T10:00:00+01:00", kind="seizure", channel="customs_control",
              location=MARKET, persons=[{"pseudonym": Q, "role": "courier"}],
              seizure={"substances": [{"substance": "cocaine", "quantity": "300", "unit": "g"}]}),
        # Due: a stop with a seizure, closed without follow-up in Jan 2023 — its seizure goes, Q stays.
        _lead("gendarmerie", "K1", "2022-12-20T10:00:00+01:00", kind="stop_check", location=MARKET,
              persons=[{"pseudonym": Q, "role": "driver"}],
              seizure={"substances": [{"substance": "cannabis_resin", "quantity": "20", "unit": "g"}]}),
        # Due: never resolved since 2021 (default, 36 months), commune only.
        _lead("police", "O1", "2021-01-05T10:00:00+01:00", location={"insee_code": "25388", "commune": "Montbéliard"}),
    ])
    ids = LeadIds(clean_graph, db)  # public ids are opaque (ADR 0007): named "agency:source_ref"
    clean_graph.execute_query(
        "UNWIND $rows AS row MATCH (l:Lead {lead_id: row.id}) "
        "SET l.status = row.status, l.outcome = row.outcome, "
        "    l.closed_at = CASE WHEN row.closed IS NULL THEN null ELSE datetime(row.closed) END, "
        "    l.dismissed_at = CASE WHEN row.dismissed IS NULL THEN null ELSE datetime(row.dismissed) END",
        rows=[
            {"id": ids["police:C1"], "status": "dismissed", "outcome": None, "closed": None, "dismissed": "2024-02-01T00:00:00Z"},
            {"id": ids["gendarmerie:F1"], "status": "closed", "outcome": "no_follow_up", "closed": "2023-12-01T00:00:00Z", "dismissed": None},
            {"id": ids["douanes:S1"], "status": "closed", "outcome": "arrest", "closed": "2023-06-01T00:00:00Z", "dismissed": None},
            {"id": ids["gendarmerie:K1"], "status": "closed", "outcome": "no_follow_up", "closed": "2023-01-01T00:00:00Z", "dismissed": None},
        ], database_=db)
    # graph/workflow/'s records of two leads: C1's go with it, C2's stay.
    clean_graph.execute_query(
        "UNWIND $ids AS id "
        "CREATE (:LeadStatus {lead_id: id, state: 'new'}) "
        "CREATE (:StatusChange {change_id: id + '#0', lead_id: id}) "
        "CREATE (:StatusChange {change_id: id + '#1', lead_id: id})",
        ids=[ids["police:C1"], ids["police:C2"]], database_=db)
    return clean_graph


DUE = {"police:C1", "gendarmerie:F1", "gendarmerie:K1", "police:O1"}
ORPHANS = {"vehicle:GH-111-JK", f"person:{P}", f"person:{P_OLD}", "location:addr:25056:rue du purge",
           "phone:+33699887766", "deal_point:25462:hall 7", "location:addr:25462:rue des oublies",
           "location:commune:25388"}


def _entities(driver, db) -> set[str]:
    rows = driver.execute_query(
        "MATCH (e) WHERE e:Vehicle OR e:Person OR e:Phone OR e:Location OR e:DealPoint "
        "RETURN labels(e)[0] AS label, coalesce(e.plate, e.pseudonym, e.number, e.key) AS key",
        database_=db).records
    kinds = {"Vehicle": "vehicle", "Person": "person", "Phone": "phone", "Location": "location", "DealPoint": "deal_point"}
    return {f"{kinds[r['label']]}:{r['key']}" for r in rows}


def test_dry_run_lists_what_is_due_and_erases_nothing(world, settings, tmp_path):
    db = settings.neo4j_database
    before = _entities(world, db)
    assert ORPHANS <= before, ORPHANS - before
    own = settings.model_copy(update={"data_dir": tmp_path})
    report = run_retention(own, dry_run=True, now=NOW, driver=world, policy=load_retention_policy())
    ids = LeadIds(world, db)
    assert set(ids.names(d.lead_id for d in report.due)) == DUE
    rules = {ids.name(d.lead_id): d.rule_id for d in report.due}
    assert rules == {"police:C1": "citizen-report-led-nowhere", "gendarmerie:F1": "led-nowhere",
                     "gendarmerie:K1": "led-nowhere", "police:O1": "default"}
    assert set(report.planned_entities) == ORPHANS
    assert _entities(world, db) == before
    assert not list_segments(tmp_path / "audit")  # a dry run writes nothing: not even a segment


def test_purge_erases_leads_seizures_and_orphans_keeps_shared_and_is_audited(world, settings, tmp_path):
    db = settings.neo4j_database
    before = _entities(world, db)
    ids = LeadIds(world, db).refresh()  # read before the purge erases the leads it names
    own = settings.model_copy(update={"data_dir": tmp_path})
    report = run_retention(own, now=NOW, driver=world, batch_size=2, policy=load_retention_policy())  # two batches
    assert report.leads_erased == 4 and report.seizures_erased == 1
    assert set(report.entities_erased) == ORPHANS
    left = {r["id"] for r in world.execute_query("MATCH (l:Lead) RETURN l.lead_id AS id", database_=db).records}
    assert set(ids.names(left)) == {"police:C2", "douanes:S1"}
    assert _entities(world, db) == before - ORPHANS
    assert {"vehicle:KL-222-MN", f"person:{Q}", "location:addr:25056:place du marche"} <= _entities(world, db)
    seizures = {r["id"] for r in world.execute_query("MATCH (s:Seizure) RETURN s.seizure_id AS id", database_=db).records}
    assert seizures == {f"{ids['douanes:S1']}:seizure"}
    workflow = world.execute_query("MATCH (w) WHERE w:LeadStatus OR w:StatusChange RETURN DISTINCT w.lead_id AS id",
                                   database_=db).records
    assert set(ids.names(r["id"] for r in workflow)) == {"police:C2"}
    reference = world.execute_query(
        "MATCH (c:Commune) WITH count(c) AS c MATCH (s:Substance) WITH c, count(s) AS s "
        "MATCH (a:Agency) RETURN c, s, count(a) AS a", database_=db).records[0]
    assert (reference["c"], reference["s"], reference["a"]) == (3, 2, 3)  # vocabulary never erased

    entries = query(own.audit_dir, AuditFilters(action="erasure"))
    assert len(entries) == 2
    assert set(ids.names(i for e in entries for i in e.lead_ids)) == DUE
    assert {k for e in entries for k in e.entity_keys} == ORPHANS
    assert all(e.actor.kind == "system" and e.details["operation"] == "retention_purge" for e in entries)

    again = run_retention(own, now=NOW, driver=world, policy=load_retention_policy())
    assert again.due == [] and again.leads_erased == 0
    assert len(query(own.audit_dir, AuditFilters(action="erasure"))) == 2


def test_cli_retention_dry_run(world, settings, tmp_path, monkeypatch):
    from rich.console import Console

    import hub.cli.meetings as meetings_cli
    from hub.cli.meetings import retention_app

    monkeypatch.setenv("CROSSHUB_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("NEO4J_URI", settings.neo4j_uri)
    monkeypatch.setenv("NEO4J_USER", settings.neo4j_user)
    monkeypatch.setenv("NEO4J_PASSWORD", settings.neo4j_password.get_secret_value())
    monkeypatch.setenv("COLUMNS", "200")
    # The shared console fixes its width at import when COLUMNS is set then (xdist workers:
    # 80), ignoring this COLUMNS after: a console of known width, so no id is shortened.
    monkeypatch.setattr(meetings_cli, "console", Console(width=200))
    app = Typer()
    app.add_typer(retention_app, name="retention")
    result = CliRunner().invoke(app, ["retention", "dry-run", "--as-of", "2026-06-01T00:00:00+00:00"])
    assert result.exit_code == 0, result.output
    ids = LeadIds(world, settings.neo4j_database)
    assert "Pistes à effacer : 4" in result.output and ids["police:C1"] in result.output
    assert "Entités qui ne seraient plus mentionnées par aucune piste : 8" in result.output
    bad = CliRunner().invoke(app, ["retention", "dry-run", "--as-of", "2026-06-01"])
    assert bad.exit_code != 0 and "fuseau" in bad.output
    assert world.execute_query("MATCH (l:Lead) RETURN count(l) AS n", database_=settings.neo4j_database).records[0]["n"] == 6
