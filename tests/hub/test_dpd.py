"""The DPD's watch end to end (ADR 0030): a fabricated week written into a real audit trail with
fixed times, the weekly report built from it and rendered to PDF, its links followed back to the
trail; the data-subject access report on the session hub; who may call them.

Oracles: the rule ids and thresholds of dpd_watch.yaml (read with ``yaml.safe_load``), the
entries this test wrote itself, the leads it pushed itself."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pypdfium2
import yaml
from typer.testing import CliRunner

from hub.audit import AuditFilters, WriterKind, open_writer, query
from hub.cli import app as cli_app
from hub.jobs.dpd import run_weekly_report
from hub.dpd.weekly import build_weekly
from policies.audit import Actor, AuditAction, AuditEvent, Decision, DecisionOutcome
from policies.dpd_watch import load_dpd_watch_rules
from tests.factories import acked_ids, lead, random_plate

Y = yaml.safe_load((Path(str(resources.files("policies") / "data")) / "dpd_watch.yaml").read_text("utf-8"))
PARIS = ZoneInfo("Europe/Paris")
OFF, REUSE = Y["off_hours"]["rule_id"], Y["justification_reuse"]["rule_id"]
J = {"justification": "Contrôle DPD trimestriel n° 2026-4"}
NIGHT_MOTIF = "Vérification de routine secteur sud"


def _lookup(user: str, at: datetime, plate: str, motif: str) -> AuditEvent:
    return AuditEvent(at=at, action=AuditAction.CONSULTATION,
                      actor=Actor(user_id=f"police:{user}", name=user.capitalize(), agency="police", role="analyst"),
                      client_address="10.0.0.7", decision=Decision(outcome=DecisionOutcome.FULL, rule_id="r"),
                      entity_keys=[f"vehicle:{plate}"], justification=motif)


def _night_and_day(week_monday: date, user: str) -> tuple[list[AuditEvent], list[AuditEvent]]:
    """A burst of night look-ups of unrelated plates under one motif, by ``user``, and an
    ordinary day of three peers (in hours, each look-up its own plate and procedure)."""
    night = datetime(week_monday.year, week_monday.month, week_monday.day, tzinfo=PARIS) + timedelta(days=2, hours=2)
    n = max(Y["off_hours"]["min_entries"], Y["justification_reuse"]["min_unrelated"])
    burst = [_lookup(user, night + timedelta(minutes=3 * i), random_plate(), NIGHT_MOTIF) for i in range(n)]
    day = night + timedelta(hours=8)  # 10:00
    ordinary = [_lookup(peer, day + timedelta(minutes=11 * i), random_plate(), f"PV 2026/{i:04d} {peer} stups")
                for peer in ("alice", "bruno", "chloe") for i in range(6)]
    return burst, ordinary


def _refs_of_link(api_url: str) -> list[str]:
    return parse_qs(urlsplit(api_url).query)["entry"]


def test_night_burst_with_a_reused_motif_is_reported_with_links_to_exactly_its_entries(tmp_path: Path) -> None:
    # The layout of a hub whose data dir is tmp_path: the CLI below reads it from the settings.
    audit_dir, keys_dir = tmp_path / "audit", tmp_path / "keys"
    recorded = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
    burst, ordinary = _night_and_day(date(2026, 11, 30), "veilleur")
    with open_writer(audit_dir=audit_dir, keys_dir=keys_dir, kind=WriterKind.CLI, clock=lambda: recorded) as trail:
        written = [trail.append(e) for e in burst + ordinary]
    burst_refs = sorted(f"{trail.segment}:{e.seq}" for e in written[:len(burst)])

    report = build_weekly(audit_dir, None, load_dpd_watch_rules(), week="2026-W49",
                          base_url="https://hub.cross25.example", now=recorded)
    assert report.entries_read == len(burst) + len(ordinary)
    assert {(ln.finding.rule_id, ln.finding.user_id) for ln in report.lines} == {
        (OFF, "police:veilleur"), (REUSE, "police:veilleur")}
    for line in report.lines:
        refs = sorted(r for link in line.links for r in _refs_of_link(link.api))
        assert refs == burst_refs, line.finding.rule_id
        assert all(urlsplit(link.web).path == "/journal" and "entrees=" in link.web for link in line.links)
        # The link's query finds exactly those entries in the trail, hashes included.
        back = query(audit_dir, AuditFilters(entries=refs, limit=1000))
        assert sorted(f"{e.segment}:{e.seq}" for e in back) == burst_refs
        assert {e.entry_hash for e in back} == {r.entry_hash for r in line.finding.refs}

    # crosshub dpd report --week 2026-W49 --pdf …: the PDF holds every finding line, and the
    # reading is in the trail with its motif.
    out = tmp_path / "rapport.pdf"
    motif = "Contrôle DPD de la semaine 49"
    result = CliRunner().invoke(cli_app, ["dpd", "report", "--week", "2026-W49", "--pdf", str(out),
                                          "--justification", motif],
                                env={"CROSSHUB_DATA_DIR": str(tmp_path)})
    assert result.exit_code == 0, result.output
    pdf = pypdfium2.PdfDocument(out.read_bytes())
    text = "".join("".join(page.get_textpage().get_text_range().split()) for page in pdf)
    for line in report.lines:
        for needle in (line.finding.rule_id, line.finding.user_id, line.finding.summary_fr):
            assert "".join(needle.split()) in text, needle
    assert "".join("Contrôle du journal d'audit — semaine 2026-W49".split()) in text
    read = query(audit_dir, AuditFilters(entity_key="dpd-report:2026-W49"))
    assert [(e.action, e.justification) for e in read] == [(AuditAction.CONSULTATION, motif)]
    assert "user:police:veilleur" in read[0].entity_keys


def test_subject_access_lists_the_leads_of_a_plate_and_who_consulted_them(client, make_user, make_connector,
                                                                          settings, hub_settings) -> None:
    plate = random_plate()
    connector = make_connector("police")
    mentioning = [lead(vehicles=[{"plate": plate}]), lead(vehicles=[{"plate": plate, "make": "Renault"}])]
    other = lead(vehicles=[{"plate": random_plate()}])
    acked = connector.push([*mentioning, other])
    assert acked.status_code in (200, 201, 207), acked.text
    ids = acked_ids(acked)
    expected_leads = {ids[x["source_ref"]] for x in mentioning}

    analyst = make_user("police", "analyst", f"analyst-{uuid.uuid4().hex[:6]}")
    motif = f"PV 2026/{uuid.uuid4().hex[:6]} stupéfiants"
    seen = client.get(f"/api/v1/entities/vehicle/{plate}/network", headers=analyst,
                      params={"justification": motif})
    assert seen.status_code == 200, seen.text

    auditor = make_user("police", "auditor")
    typed = plate.lower().replace("-", " ")  # as the CNIL's letter spells it
    r = client.post("/api/v1/dpd/subject-access", headers=auditor,
                    json={"kind": "vehicle", "value": typed, **J})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["key"] == plate
    assert {x["lead_id"] for x in body["leads"]} == expected_leads
    by_analyst = [c for c in body["consultations"] if c["justification"] == motif]
    assert len(by_analyst) == 1 and set(by_analyst[0]["lead_ids"]) == expected_leads
    assert by_analyst[0]["entity_keys"] == [f"vehicle:{plate}"]

    html = client.post("/api/v1/dpd/subject-access", headers=auditor, params={"format": "html"},
                       json={"kind": "vehicle", "value": plate, **J})
    assert html.status_code == 200 and all(i.encode() in html.content for i in expected_leads)
    # The auditor's reading is itself in the trail, with its motif.
    logged = client.get("/api/v1/audit", headers=auditor, params={"entity_key": "dpd-subject-access",
                                                                  "lead_id": sorted(expected_leads)[0]})
    assert [e["justification"] for e in logged.json()] == [J["justification"]] * 2

    # crosshub dpd subject --plate …: the same answer at the console, on the hub's trail.
    env = {"NEO4J_URI": settings.neo4j_uri, "NEO4J_USER": settings.neo4j_user,
           "NEO4J_PASSWORD": settings.neo4j_password.get_secret_value(),
           "CROSSHUB_DATA_DIR": str(hub_settings.data_dir), "COLUMNS": "250"}
    result = CliRunner().invoke(cli_app, ["dpd", "subject", "--plate", typed, "--justification",
                                          "Saisine CNIL n° 2026-118"], env=env)
    assert result.exit_code == 0, result.output
    assert all(i in result.output for i in expected_leads) and motif in result.output


def test_weekly_report_on_the_hub_links_back_to_its_entries(client, make_user) -> None:
    # An old week of the session trail, written only by this test.
    user = f"veilleur{uuid.uuid4().hex[:6]}"
    burst, _ = _night_and_day(date(2024, 3, 4), user)  # 2024-W10
    trail = client.app.state.audit
    written = [trail.append(e) for e in burst]
    auditor_name = f"dpd-{uuid.uuid4().hex[:6]}"
    auditor = make_user("police", "auditor", auditor_name)
    r = client.get("/api/v1/dpd/weekly", headers=auditor, params={"week": "2024-W10", **J})
    assert r.status_code == 200, r.text
    mine = [ln for ln in r.json()["lines"] if ln["finding"]["user_id"] == f"police:{user}"]
    assert {ln["finding"]["rule_id"] for ln in mine} == {OFF, REUSE}
    api = urlsplit(mine[0]["links"][0]["api"])
    entries = client.get(api.path, params=parse_qs(api.query), headers=auditor)
    assert entries.status_code == 200
    assert sorted((e["segment"], e["seq"]) for e in entries.json()) == sorted(
        (trail.segment, e.seq) for e in written)
    pdf = client.get("/api/v1/dpd/weekly", headers=auditor, params={"week": "2024-W10", "format": "pdf", **J})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")

    # The weekly job: files stored privately, handed to the auditors (logged), each told.
    state = client.app.state
    files = run_weekly_report(state.settings, state.graph, trail, state.rulebook,
                              datetime(2024, 3, 11, 7, 0, tzinfo=UTC))
    assert files.week == "2024-W10" and files.pdf.read_bytes().startswith(b"%PDF")
    assert oct(files.pdf.stat().st_mode & 0o777) == "0o600"
    handed = client.get("/api/v1/audit", headers=auditor, params={"entity_key": "dpd-report:2024-W10",
                                                                  "action": "disclosure"}).json()
    assert handed and f"police:{auditor_name}" in handed[0]["recipients"]
    told = client.get("/api/v1/notifications", headers=auditor).json()
    assert any(n["kind"] == "dpd_report" and "2024-W10" in n["message"] for n in told)


def test_only_auditors_with_a_motif_read_the_dpd_reports(client, make_user) -> None:
    analyst, auditor = make_user("police", "analyst"), make_user("police", "auditor")
    body = {"kind": "vehicle", "value": "AB-123-CD", **J}
    for r in (client.get("/api/v1/dpd/weekly", headers=analyst, params={"week": "2024-W10", **J}),
              client.post("/api/v1/dpd/subject-access", headers=analyst, json=body)):
        assert r.status_code == 403
        assert b"audit" in r.content and b"veilleur" not in r.content and b"AB-123-CD" not in r.content
    no_motif = client.get("/api/v1/dpd/weekly", headers=auditor, params={"week": "2024-W10"})
    assert no_motif.status_code == 400 and b'"justification"' in no_motif.content
    no_motif = client.post("/api/v1/dpd/subject-access", headers=auditor,
                           json={"kind": "vehicle", "value": "AB-123-CD"})
    assert no_motif.status_code == 400 and b'"justification"' in no_motif.content
    bad = client.post("/api/v1/dpd/subject-access", headers=auditor,
                      json={"kind": "phone", "value": "pas un numéro", **J})
    assert bad.status_code == 422 and b'"value"' in bad.content
