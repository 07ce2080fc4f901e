"""``crosshub connectors`` (hub/cli/connectors.py)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from connectors import registry
from connectors.base import Connector
from hub.cli.connectors import app
from hub.contract.signing import key_id_of, load_private_key, load_public_key_pem
from tests.connectors._harness import MemoryConnector, env, simple_records  # noqa: F401

runner = CliRunner()


def test_keygen_writes_a_private_key_0600_and_prints_the_public_key(tmp_path: Path) -> None:
    result = runner.invoke(app, ["keygen", "--name", "police", "--out", str(tmp_path / "keys")])
    assert result.exit_code == 0, result.output
    private = tmp_path / "keys" / "police.ed25519.pem"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "keys").stat().st_mode) == 0o700
    pem = result.stdout[result.stdout.index("-----BEGIN PUBLIC KEY-----"):]
    assert key_id_of(load_public_key_pem(pem)) == key_id_of(load_private_key(private).public_key())
    assert "PRIVATE" not in result.stdout
    again = runner.invoke(app, ["keygen", "--name", "police", "--out", str(tmp_path / "keys")])
    assert again.exit_code == 3 and "existe déjà" in again.output


@pytest.fixture
def registered(env, monkeypatch: pytest.MonkeyPatch):  # noqa: F811
    holder: dict[str, object] = {"settings": env.connector(simple_records(4)).settings}

    class FromEnv(MemoryConnector):
        @classmethod
        def from_env(cls) -> Connector:
            return cls(holder["settings"])

    monkeypatch.setattr(registry, "load_connectors", lambda: {"memory": FromEnv})
    monkeypatch.setenv("CROSSHUB_SCHEDULER_STATE_DIR", str(env.tmp / "sched"))
    holder["env"] = env
    return holder


def test_run_list_status(registered) -> None:
    hub_env = registered["env"]
    result = runner.invoke(app, ["run", "memory", "--now"])
    assert result.exit_code == 0, result.output
    assert "ok" in result.stdout and "4 envoyée(s)" in result.stdout
    assert len(hub_env.hub.created) == 4

    not_due = runner.invoke(app, ["run", "memory"])  # interval 300 s, last run ok just now
    assert not_due.exit_code == 0 and "non dû" in not_due.stdout

    listed = runner.invoke(app, ["list"], env={"COLUMNS": "250"})
    assert listed.exit_code == 0 and "memory" in listed.stdout and "ok" in listed.stdout
    status = runner.invoke(app, ["status"], env={"COLUMNS": "250"})
    assert status.exit_code == 0 and "memory" in status.stdout and "arrêté" in status.stdout


def test_run_exit_codes_say_whose_fault(registered) -> None:
    hub_env = registered["env"]
    hub_env.hub.status_override = 503
    partial = runner.invoke(app, ["run", "memory", "--now"])
    assert partial.exit_code == 1 and "partial" in partial.stdout
    assert "hub indisponible" in partial.output
    hub_env.hub.status_override = None
    # Not « ok » last time: due again without --now.
    assert runner.invoke(app, ["run", "memory"]).exit_code == 0
    unknown = runner.invoke(app, ["run", "nothing"])
    assert unknown.exit_code == 3 and "inconnu" in unknown.output


def test_quarantine_lists_reasons_not_content(registered) -> None:
    hub_env = registered["env"]
    registered["settings"] = hub_env.connector([{"id": "BAD-1", "bad": "invalid",
                                             "narrative": "secret 06 12 34 56 78"}]).settings
    runner.invoke(app, ["run", "memory", "--now"])
    result = runner.invoke(app, ["quarantine", "memory"], env={"COLUMNS": "250"})
    assert result.exit_code == 0 and "BAD-1" in result.stdout and "illisible" in result.stdout
    assert "06 12 34 56 78" not in result.stdout
