"""The DPD's watch in the auditors' journal page (ADR 0030): a finding's link opens exactly its
entries (``/journal?entrees=…``), and the weekly report downloads with the auditor's motif."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from policies.audit import Actor, AuditAction, AuditEvent, Decision, DecisionOutcome
from tests.factories import canary_tag, random_plate
from tests.web.conftest import axe_violations


def test_the_auditor_opens_a_findings_entries_and_downloads_the_weekly_report(open_page, make_web_user, live_hub):
    auditor = make_web_user("police", "auditor")
    user = f"veilleur{canary_tag(6).lower()}"
    night = datetime(2024, 3, 6, 2, 0, tzinfo=ZoneInfo("Europe/Paris"))  # 2024-W10, 02:00
    trail = live_hub.app.state.audit
    written = [trail.append(AuditEvent(
        at=night + timedelta(minutes=3 * i), action=AuditAction.CONSULTATION,
        actor=Actor(user_id=f"police:{user}", name=user, agency="police", role="analyst"),
        client_address="10.0.0.7", decision=Decision(outcome=DecisionOutcome.FULL, rule_id="r"),
        entity_keys=[f"vehicle:{random_plate()}"], justification="Vérification de routine secteur sud"))
        for i in range(6)]

    page, _ = open_page(auditor, motif=None)
    chosen = written[1:3]
    page.goto(f"{live_hub.url}/journal?entrees=" + quote(",".join(f"{trail.segment}:{e.seq}" for e in chosen)))
    rows = page.locator("#journal tbody tr")
    expect(rows).to_have_count(len(chosen))
    assert sorted(int(t.split(" · ")[0]) for t in rows.locator("td:first-child").all_inner_texts()) == [
        e.seq for e in chosen]
    assert axe_violations(page) == []

    page.fill("#semaine", "2024-W10")
    page.fill("#motif-dpd", "Contrôle DPD hebdomadaire")
    with page.expect_download() as download:
        page.get_by_role("button", name="Rapport (HTML)").click()
    report = Path(download.value.path()).read_text(encoding="utf-8")
    assert "semaine 2024-W10" in report and f"police:{user}" in report
    assert "consultations-hors-heures" in report and "motif-reutilise" in report
