"""A policy change enters the audit trail with who deployed it (at hub start), and
``crosshub policy diff`` lists exactly who gains what before it is deployed (issue 17 item 3)."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from graph.handle import Graph
from hub.app import create_app
from hub.audit import AuditFilters, query
from hub.audit.layout import WriterKind
from hub.audit.writer import open_writer
from hub.cli.policy import app as policy_cli
from hub.policy_deployments import record_policy_files
from policies.diff import OTHER_KINDS, Level, diff_policies, file_digests
from policies.models import Outcome
from policies.permissions import Action
from policies.rulebook import load_rulebook

PACKAGED = Path(str(resources.files("policies") / "data"))
# The change: auditors may supervise connectors, and customs analysts read police H1 leads in
# full (a new allow rule) — where rules.yaml gave them a redacted view (analyst-other-redacted-
# h0-h1), except surveillance, capped at the hit whatever allows (surveillance-other-cap-hit).
NEW_RULE = """
  - id: test-customs-analyst-full-police-h1
    effect: allow
    outcome: full
    reason_fr: "Piste {agence} : accès complet des analystes des douanes"
    when:
      roles: [analyst]
      caller_agencies: [douanes]
      originating_agencies: [police]
      handling_codes: [H1]
"""


def _changed_copy(tmp_path: Path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(PACKAGED, target)
    roles = target / "roles.yaml"
    roles.write_text(roles.read_text(encoding="utf-8").replace(
        "    may: [audit.read]", "    may: [audit.read, connectors.manage]"), encoding="utf-8")
    rules = target / "rules.yaml"
    rules.write_text(rules.read_text(encoding="utf-8").rstrip("\n") + "\n" + NEW_RULE,
                     encoding="utf-8")
    return target


def _shorter_retention(directory: Path) -> None:
    """Leads that led nowhere kept 18 months instead of the packaged 24 (rule led-nowhere)."""
    path = directory / "retention.yaml"
    text = path.read_text(encoding="utf-8")
    old = "    months: 24\n    reason_fr: \"piste sans suite : deux ans après sa clôture\""
    assert text.count(old) == 1
    path.write_text(text.replace(old, old.replace("24", "18")), encoding="utf-8")


def test_policy_diff_lists_exactly_who_gains_what(tmp_path) -> None:
    new_dir = _changed_copy(tmp_path)
    _shorter_retention(new_dir)
    old_book, new_book = load_rulebook(PACKAGED), load_rulebook(new_dir)
    result = diff_policies(old_book.policy, new_book.policy, file_digests(PACKAGED),
                           file_digests(new_dir), old_book.retention, new_book.retention)
    assert [f.name for f in result.files] == ["retention.yaml", "roles.yaml", "rules.yaml"]
    assert [(r.rule_id, r.old_months, r.new_months) for r in result.retention] == [
        ("led-nowhere", 24, 18)]
    assert [(p.role, p.action, p.gained) for p in result.permissions] == [
        ("auditor", Action.MANAGE_CONNECTORS, True)]
    old_policy = load_rulebook(PACKAGED).policy
    redacted = Level(Outcome.REDACTED, tuple(sorted(old_policy.properties_of(["narrative",
                                                                              "evaluation"]))))
    assert [(a.caller_agency, a.role, a.handling_code, a.originating_agency, a.kind, a.old, a.new)
            for a in result.access] == [("douanes", "analyst", "H1", "police", OTHER_KINDS,
                                         redacted, Level(Outcome.FULL))]

    runner = CliRunner()
    changed = runner.invoke(policy_cli, ["diff", str(PACKAGED), str(new_dir)], env={"COLUMNS": "200"})
    assert changed.exit_code == 1, changed.output
    assert "connectors.manage" in changed.output and "+ accordée" in changed.output
    assert "complet" in changed.output and "élargi" in changed.output
    same = runner.invoke(policy_cli, ["diff", str(PACKAGED), str(PACKAGED)], env={"COLUMNS": "200"})
    assert same.exit_code == 0 and "Aucun droit ne change" in same.output


def test_a_policy_change_is_in_the_trail_with_who_deployed_it(hub_settings, settings, driver,
                                                              tmp_path) -> None:
    graph = Graph(driver, hub_settings.neo4j_database)
    baseline = hub_settings.model_copy(update={"data_dir": tmp_path / "baseline"})
    with open_writer(baseline, kind=WriterKind.CLI) as trail:  # the packaged files as deployed
        record_policy_files(graph, trail, baseline, deployed_by="test")

    new_dir = _changed_copy(tmp_path)
    own = hub_settings.model_copy(update={"data_dir": tmp_path / "hub", "rules_dir": new_dir,
                                          "deployed_by": "ops.durand"})
    with TestClient(create_app(own)):
        pass
    entries = query(own.audit_dir, AuditFilters(entity_key="policy:deployed"))
    assert len(entries) == 1
    entry = entries[0]
    assert entry.action.value == "configuration" and entry.actor.name == "ops.durand"
    assert entry.details["deployed_by"] == "ops.durand" and entry.details["files_changed"] == 2
    assert {k for k in entry.details if k.startswith("file:")} == {"file:roles.yaml",
                                                                   "file:rules.yaml"}
    digests, old = file_digests(new_dir), file_digests(PACKAGED)
    assert entry.details["file:rules.yaml"] == f"{old['rules.yaml'][:19]} -> {digests['rules.yaml'][:19]}"

    # The same files again (``crosshub policy deploy``) record nothing; a change nobody signed
    # says « inconnu », visibly.
    env = {"NEO4J_URI": settings.neo4j_uri, "NEO4J_USER": settings.neo4j_user,
           "NEO4J_PASSWORD": settings.neo4j_password.get_secret_value(),
           "CROSSHUB_DATA_DIR": str(tmp_path / "cli"), "COLUMNS": "200"}
    again = CliRunner().invoke(policy_cli, ["deploy", "--by", "ops.durand", "--directory",
                                            str(new_dir)], env=env)
    assert again.exit_code == 0 and "inchangée" in again.output, again.output
    unsigned = hub_settings.model_copy(update={"data_dir": tmp_path / "unsigned", "deployed_by": None})
    with open_writer(unsigned, kind=WriterKind.CLI) as trail:
        assert record_policy_files(graph, trail, unsigned) is not None  # back to the packaged
    back = query(unsigned.audit_dir, AuditFilters(entity_key="policy:deployed"))
    assert len(back) == 1 and back[0].details["deployed_by"] == "inconnu"
    assert back[0].actor.kind == "system"
