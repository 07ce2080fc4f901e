"""``crosshub users`` (hub/cli/users.py) against the session's real graph."""

from __future__ import annotations

import uuid

import pytest
from rich.console import Console
from typer.testing import CliRunner

from graph import identity
from graph import sessions as graph_sessions
from graph.handle import Graph
from hub.cli import users as users_cli
from hub.cli.users import app
from hub.settings import Settings
from policies.auth import passwords

runner = CliRunner()
PASSWORD = "cheval correct agrafe"


@pytest.fixture
def cli_env(settings: Settings, tmp_path) -> dict[str, str]:
    return {"NEO4J_URI": settings.neo4j_uri, "NEO4J_USER": settings.neo4j_user,
            "NEO4J_PASSWORD": settings.neo4j_password.get_secret_value(),
            "CROSSHUB_DATA_DIR": str(tmp_path), "COLUMNS": "250"}


@pytest.fixture(autouse=True)
def wide_console(monkeypatch) -> None:
    """The shared rich console fixes its width at import when COLUMNS is set then (xdist workers
    run with COLUMNS=80), and ignores the runner's COLUMNS after: a 250-column console here, so
    ``users list`` never wraps an id across lines."""
    monkeypatch.setattr(users_cli, "console", Console(width=250))


def invoke(args: list[str], env: dict[str, str], input: str | None = None):
    return runner.invoke(app, args, env=env, input=input)


def test_create_prompts_twice_hidden_and_stores_only_a_hash(cli_env, driver, settings) -> None:
    name = f"dupont-{uuid.uuid4().hex[:6]}"
    result = invoke(["create", "--agency", "police", "--role", "analyst", "--name", name,
                     "--contact", "Permanence CROSS"], cli_env, input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert f"police:{name}" in result.stdout and PASSWORD not in result.output
    stored = graph_sessions.get_credentials(Graph(driver, settings.neo4j_database), f"police:{name}")
    assert stored.principal.role == "analyst" and stored.principal.contact == "Permanence CROSS"
    assert stored.password_hash.startswith("$argon2id$")
    assert passwords.verify_password(stored.password_hash, PASSWORD)

    again = invoke(["create", "--agency", "police", "--role", "analyst", "--name", name],
                   cli_env, input=f"{PASSWORD}\n{PASSWORD}\n")
    assert again.exit_code == 3 and "existe déjà" in again.output


def test_create_refuses_a_weak_password_or_a_connector(cli_env, driver, settings) -> None:
    name = f"martin-{uuid.uuid4().hex[:6]}"
    weak = invoke(["create", "--agency", "police", "--role", "analyst", "--name", name,
                   "--password-stdin"], cli_env, input=f"{name}-2025!\n")
    assert weak.exit_code == 2
    assert "ne doit pas contenir votre nom" in weak.output
    short = invoke(["create", "--agency", "police", "--role", "analyst", "--name", name,
                    "--password-stdin"], cli_env, input="court\n")
    assert short.exit_code == 2 and "au moins 12 caractères" in short.output
    with pytest.raises(Exception, match="inconnu"):
        identity.get_user(Graph(driver, settings.neo4j_database), f"police:{name}")  # nothing half-written
    connector = invoke(["create", "--agency", "police", "--role", "connector", "--name", name,
                        "--password-stdin"], cli_env, input=f"{PASSWORD}\n")
    assert connector.exit_code == 2 and "crosshub token create" in connector.output


def test_set_password_disable_and_list(cli_env, driver, settings, tmp_path) -> None:
    db = settings.neo4j_database
    name = f"leroy-{uuid.uuid4().hex[:6]}"
    user_id = f"gendarmerie:{name}"
    assert invoke(["create", "--agency", "gendarmerie", "--role", "coordinator", "--name", name,
                   "--password-stdin"], cli_env, input=f"{PASSWORD}\n").exit_code == 0
    session = graph_sessions.create_session(Graph(driver, db), user_id=user_id, client="test",
                                            expires_at=_in(minutes=10))
    token = identity.issue_token(Graph(driver, db), user_id).token

    changed = invoke(["set-password", user_id, "--password-stdin"], cli_env,
                     input="un tout autre secret\n")
    assert changed.exit_code == 0, changed.output
    assert "1 session(s) fermée(s)" in changed.stdout
    stored = graph_sessions.get_credentials(Graph(driver, db), user_id)
    assert passwords.verify_password(stored.password_hash, "un tout autre secret")
    assert not graph_sessions.get_session(Graph(driver, db), session.session_id).active()

    listed = invoke(["list"], cli_env)
    assert listed.exit_code == 0, listed.output
    row = next((line for line in listed.stdout.splitlines() if user_id in line), None)
    assert row is not None, listed.stdout
    assert "coordinator" in row and "oui" in row

    disabled = invoke(["disable", user_id, "--by", "adm.martin"], cli_env)
    assert disabled.exit_code == 0, disabled.output
    assert "1 jeton(s) d'API" in disabled.stdout
    assert identity.principal_for_token(Graph(driver, db), token) is None
    # The administrator's decision is in the trail with what it ended, like a leaver's (ADR 0029).
    from hub.audit import AuditFilters, query

    entries = query(tmp_path / "audit", AuditFilters(entity_key=f"user:{user_id}"))
    [entry] = [e for e in entries if e.details.get("event") == "account_disabled"]
    assert entry.details["api_tokens_revoked"] == 1 and entry.actor.name == "adm.martin"
    assert identity.get_user(Graph(driver, db), user_id).disabled
    assert invoke(["disable", "police:personne"], cli_env).exit_code == 1


def _in(minutes: int):
    from datetime import UTC, datetime, timedelta

    return datetime.now(UTC) + timedelta(minutes=minutes)


def test_reset_second_factor_forgets_it_and_is_audited(cli_env, driver, settings, tmp_path) -> None:
    from datetime import UTC, datetime

    from graph.identity import second_factor
    from hub.audit import AuditFilters, query
    from hub.auth.second_factor import enrol_directly
    from policies.rulebook import load_rulebook

    graph = Graph(driver, settings.neo4j_database)
    user = identity.upsert_user(graph, agency="police", role="analyst",
                                name=f"perdu-{uuid.uuid4().hex[:6]}")
    enrol_directly(graph, tmp_path / "keys", user.user_id, load_rulebook().second_factor,
                   datetime.now(UTC))
    assert second_factor.get(graph, user.user_id).enrolled

    result = invoke(["reset-second-factor", user.user_id], cli_env)
    assert result.exit_code == 0, result.output
    assert "réinitialisé" in result.stdout
    assert not second_factor.get(graph, user.user_id).enrolled
    [entry] = query(tmp_path / "audit", AuditFilters(entity_key=f"user:{user.user_id}"))
    assert entry.details["event"] == "second_factor_reset" and entry.client_address == "cli"
    assert invoke(["reset-second-factor", "police:personne-inconnue"], cli_env).exit_code == 1
