"""One rulebook per app, and routes that take their permission from roles.yaml.

The expected permissions are read from the YAML with a plain ``yaml.safe_load`` — not through the
policy loader or the engine — so a route that kept a role list of its own, or an engine that
implied an action, would disagree with the file and fail here."""

from __future__ import annotations

import shutil
from collections import Counter
from importlib import resources
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from hub.app import create_app
from hub.openapi import iter_api_routes
from policies import loader
from policies.permissions import ACTION_LABELS_FR, Action

ROLES = ("analyst", "coordinator", "guest_referent", "auditor", "administrator", "connector")
J = "justification=PV%202025%2F118"


def _may_from_yaml(directory: Path | None = None) -> dict[str, set[str]]:
    path = (directory or Path(str(resources.files("policies") / "data"))) / "roles.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {entry["role"]: set(entry.get("may", [])) for entry in data["roles"]}


def _required_actions(app) -> list[tuple[str, str, Action]]:
    """(method, path, action) for every route guarded by ``requires``, found in its dependencies."""
    found = []
    for route in iter_api_routes(app):
        stack, actions = [route.dependant], set()
        while stack:
            dependant = stack.pop()
            action = getattr(dependant.call, "required_action", None)
            if action is not None:
                actions.add(action)
            stack.extend(dependant.dependencies)
        for action in actions:
            for method in sorted(route.methods - {"HEAD"}):
                found.append((method, route.path_format, action))
    return found


def _concrete(path: str) -> str:
    return path.replace("{", "").replace("}", "-inconnu-0000")  # any id: permission comes first


@pytest.fixture
def policy_copy(tmp_path: Path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(Path(str(resources.files("policies") / "data")), target)
    return target


def test_each_rules_file_is_read_once_per_create_app(hub_settings, tmp_path, make_user,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    reads: Counter[str] = Counter()
    real = loader.read_rules_text

    def counting(entry):  # noqa: ANN001, ANN202
        reads[Path(str(entry)).name] += 1
        return real(entry)

    monkeypatch.setattr(loader, "read_rules_text", counting)
    own = hub_settings.model_copy(update={"data_dir": tmp_path / "data"})
    app = create_app(own)
    with TestClient(app) as client:
        headers = make_user("police", "analyst")
        for _ in range(3):  # reads, analyses and workflow after start-up read no file again
            client.get(f"/api/v1/search?kind=plate&q=AB123CD&{J}", headers=headers)
            client.get(f"/api/v1/triage/queue?{J}", headers=headers)
            client.get("/api/v1/notifications", headers=headers)
    packaged = {p.name for p in Path(str(resources.files("policies") / "data")).glob("*.yaml")}
    assert reads == Counter({name: 1 for name in packaged})


def test_every_guarded_route_answers_as_roles_yaml_says(client, make_user) -> None:
    may = _may_from_yaml()
    guarded = _required_actions(client.app)
    # The routes of each action family are guarded (a route that dropped its guard vanishes here).
    assert {a for _, _, a in guarded} >= {Action.READ_AUDIT, Action.WORK_LEADS, Action.RUN_ANALYSES,
                                          Action.RUN_MEETINGS, Action.GRANT_GUESTS,
                                          Action.DECIDE_DISCLOSURE, Action.MANAGE_CONNECTORS}
    users = {role: make_user("police", role) for role in ROLES if role != "connector"}
    checked = 0
    for method, path, action in guarded:
        for role, headers in users.items():
            answer = client.request(method, f"{_concrete(path)}?{J}", headers=headers, json={})
            denied = answer.status_code == 403 and ACTION_LABELS_FR[action].encode() in answer.content
            assert denied is (action.value not in may[role]), (method, path, role, answer.content[:300])
            checked += 1
    assert checked >= 5 * 25


def test_moving_an_action_in_roles_yaml_moves_who_may_call_the_route(
        hub_settings, tmp_path, policy_copy, make_user) -> None:
    """The audit trail, given to analysts and taken from auditors in a copy of roles.yaml: the
    routes follow the file, not a list in code."""
    path = policy_copy / "roles.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace("    may: [audit.read]", "    may: []")
    text = text.replace("    may: [analysis.run, workflow.work,", "    may: [audit.read, analysis.run, workflow.work,", 1)
    path.write_text(text, encoding="utf-8")
    assert "audit.read" in _may_from_yaml(policy_copy)["analyst"]
    assert not _may_from_yaml(policy_copy)["auditor"]

    own = hub_settings.model_copy(update={"data_dir": tmp_path / "data", "rules_dir": policy_copy})
    with TestClient(create_app(own)) as client:
        analyst, auditor = make_user("police", "analyst"), make_user("police", "auditor")
        assert client.get("/api/v1/audit/integrity", headers=analyst).status_code == 200
        refused = client.get("/api/v1/audit/integrity", headers=auditor)
        assert refused.status_code == 403
        assert ACTION_LABELS_FR[Action.READ_AUDIT].encode() in refused.content
