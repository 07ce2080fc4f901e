"""``crosshub policy check|explain`` and the auditors' audit API."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.cli import app
from tests.factories import lead

runner = CliRunner()


def _env(settings) -> dict[str, str]:
    return {"NEO4J_URI": settings.neo4j_uri, "NEO4J_USER": settings.neo4j_user,
            "NEO4J_PASSWORD": settings.neo4j_password.get_secret_value(),
            "CROSSHUB_DATA_DIR": str(settings.data_dir)}


def test_policy_check_passes_on_the_packaged_policy():
    result = runner.invoke(app, ["policy", "check"])
    assert result.exit_code == 0, result.output
    assert "Politique valide" in result.output


def test_policy_check_names_file_and_line_of_an_error(tmp_path: Path):
    import policies

    data = Path(policies.__file__).parent / "data"
    target = tmp_path / "policy"
    shutil.copytree(data, target)
    rules = target / "rules.yaml"
    text = rules.read_text()
    assert "effect: allow" in text
    rules.write_text(text.replace("effect: allow", "effect: permit", 1))
    line = next(i for i, l in enumerate(rules.read_text().splitlines(), 1) if "effect: permit" in l)
    result = runner.invoke(app, ["policy", "check", "--directory", str(target)])
    assert result.exit_code == 1
    assert "rules.yaml" in result.output and f"{line}" in result.output


def test_policy_check_also_checks_the_identity_providers_file(tmp_path: Path):
    import policies

    target = tmp_path / "policy"
    shutil.copytree(Path(policies.__file__).parent / "data", target)
    (target / "identity_providers.yaml").write_text(
        "version: 1\nproviders:\n  - id: police\n    agency: police\n    label_fr: Police\n"
        "    issuer: http://sso.example/realms/police\n    client_id: crosshub\n"
        "    roles: [{value: analystes, role: analyst}]\n", encoding="utf-8")
    result = runner.invoke(app, ["policy", "check", "--directory", str(target)])
    assert result.exit_code == 1
    assert "identity_providers.yaml" in result.output and "https obligatoire" in result.output


@pytest.mark.usefixtures("clean_graph")
def test_policy_explain_prints_decision_rule_and_reason(make_connector, make_user, hub_settings, driver):
    resp = make_connector("police").push([lead(source_ref="EXPL-1", handling_code="H2")])
    lead_id = resp.json()["results"][0]["lead_id"]
    make_user("gendarmerie", "analyst", name="explique")
    # By the public id, or by the source reference (resolved on the hub side).
    for named in (lead_id, "police:EXPL-1"):
        result = runner.invoke(app, ["policy", "explain", "--user", "gendarmerie:explique",
                                     "--lead", named], env=_env(hub_settings))
        assert result.exit_code == 0, result.output
        assert "hit" in result.output and "analyst-other-hit-h2" in result.output
        assert lead_id[:12] in result.output
    missing = runner.invoke(app, ["policy", "explain", "--user", "gendarmerie:explique",
                                  "--lead", "police:NOPE"], env=_env(hub_settings))
    assert missing.exit_code == 1 and "inconnue" in missing.output


@pytest.mark.usefixtures("clean_graph")
def test_audit_api_is_for_auditors_only_and_filters(client, make_connector, make_user):
    resp = make_connector("police").push([lead(source_ref="AUD-1")])
    lead_id = resp.json()["results"][0]["lead_id"]
    coordinator = make_user("police", "coordinator", name="chef-aud")
    client.get(f"/api/v1/leads/{lead_id}?justification=PV-2025-1", headers=coordinator)
    assert client.get("/api/v1/audit", headers=coordinator).status_code == 403
    auditor = make_user("police", "auditor")
    resp = client.get("/api/v1/audit?user_id=police:chef-aud&action=consultation", headers=auditor)
    assert resp.status_code == 200
    entries = resp.json()
    assert len(entries) == 1 and entries[0]["lead_ids"] == [lead_id]
    assert entries[0]["justification"] == "PV-2025-1"
    bad = client.get("/api/v1/audit?action=peek", headers=auditor)
    assert bad.status_code == 422 and bad.json()["details"][0]["field"] == "query.action"
    integrity = client.get("/api/v1/audit/integrity", headers=auditor).json()
    assert integrity["ok"] is True and integrity["head_seq"] >= 2
