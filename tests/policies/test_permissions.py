"""Who may call what: ``may:`` per role in roles.yaml, decided by policies.permissions.

The expected table is written from what each role is for (roles.yaml's descriptions, the
README's API table): an auditor reads the trail and nothing else, an administrator runs the
platform without touching investigations, a connector only pushes, a guest referent attends and
analyses within its grant, analysts work leads and disclosures, the coordinator also runs the
meeting and the guests' grants; the members who work leads (analysts, the coordinator) may
also enter them through the intake connector, nobody else (ADR 0014)."""

from __future__ import annotations

import shutil
from collections import Counter
from importlib import resources
from pathlib import Path

import pytest

from hub.contract.errors import ConfigurationError
from policies import loader
from policies.loader import load_policy
from policies.permissions import Action, permission, roles_that_may
from policies.rulebook import load_rulebook

A = Action
EXPECTED: dict[str, set[Action]] = {
    "analyst": {A.RUN_ANALYSES, A.WORK_LEADS, A.REQUEST_DISCLOSURE, A.DECIDE_DISCLOSURE,
                A.READ_AGENCY_NOTIFICATIONS, A.ATTEND_MEETINGS, A.RECEIVE_BRIEF, A.SUBMIT_LEADS, A.WATCH},
    "coordinator": {A.RUN_ANALYSES, A.WORK_LEADS, A.REQUEST_DISCLOSURE, A.DECIDE_DISCLOSURE,
                    A.READ_AGENCY_NOTIFICATIONS, A.GRANT_GUESTS, A.LIST_GRANTS, A.EXPIRE_GRANTS,
                    A.ATTEND_MEETINGS, A.RUN_MEETINGS, A.RECEIVE_BRIEF, A.SUBMIT_LEADS, A.WATCH},
    # Watching: only within a live guest grant (policies/data/watches.yaml, tests/hub/test_watches.py).
    "guest_referent": {A.RUN_ANALYSES, A.LIST_GRANTS, A.ATTEND_MEETINGS, A.WATCH},
    "auditor": {A.READ_AUDIT},
    "administrator": {A.EXPIRE_GRANTS, A.MANAGE_CONNECTORS, A.REVOKE_SESSIONS},
    "connector": {A.PUSH_LEADS},
}
# Shared dossiers (ADR 0019): the members who work leads.
for _role in ("analyst", "coordinator"):
    EXPECTED[_role].add(A.WORK_DOSSIERS)
# Entity resolution (« Rapprochements »): the members who work leads judge pairs, and countersign
# merges that rest on their agency's leads.
for _role in ("analyst", "coordinator"):
    EXPECTED[_role] |= {A.RESOLVE_ENTITIES, A.COUNTERSIGN_MERGES}
# Accounts over time (issue 17): administrators move people and record leavers; the CROSS
# coordinator reviews who still has access (policies/data/accounts.yaml).
EXPECTED["administrator"].add(A.MANAGE_ACCOUNTS)
EXPECTED["coordinator"].add(A.REVIEW_ACCOUNTS)

# Exporting a network (its own action since the second factor, ADR on it): the roles that read
# networks; resetting someone's lost second factor: the administrator, who runs the accounts.
for _role in ("analyst", "coordinator", "guest_referent"):
    EXPECTED[_role].add(A.EXPORT_NETWORK)
EXPECTED["administrator"].add(A.RESET_SECOND_FACTOR)
# Running the federation round now (ADR 0024): the administrator, who runs the platform and its
# jobs; the round shows the caller counts, never a lead.
EXPECTED["administrator"].add(A.RUN_FEDERATION)


@pytest.mark.parametrize("role", sorted(EXPECTED))
@pytest.mark.parametrize("action", list(Action))
def test_each_role_may_exactly_what_it_is_for(role: str, action: Action) -> None:
    decision = permission(load_policy(), role, action)
    assert decision.allowed is (action in EXPECTED[role]), decision.reason_fr
    assert decision.rule.startswith(f"roles.yaml:{role}")


def test_no_investigation_action_for_auditors_administrators_or_connectors() -> None:
    """Least privilege, stated independently of the table: none of them touches leads' work."""
    policy = load_policy()
    for action in (A.WORK_LEADS, A.RUN_ANALYSES, A.REQUEST_DISCLOSURE, A.DECIDE_DISCLOSURE,
                   A.ATTEND_MEETINGS):
        assert set(roles_that_may(policy, action)).isdisjoint({"auditor", "administrator", "connector"})


def test_an_unknown_role_may_nothing() -> None:
    assert not permission(load_policy(), "stagiaire", A.READ_AUDIT).allowed


@pytest.fixture
def policy_dir(tmp_path: Path) -> Path:
    src = Path(str(resources.files("policies") / "data"))
    for entry in src.iterdir():
        if entry.suffix == ".yaml":
            shutil.copy(entry, tmp_path / entry.name)
    return tmp_path


def test_an_unknown_action_is_refused_with_file_and_line(policy_dir: Path) -> None:
    path = policy_dir / "roles.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("may: [audit.read]", "may: [audit.read, audit.erase]"), encoding="utf-8")
    line = text.splitlines().index("    may: [audit.read]") + 1
    with pytest.raises(ConfigurationError) as info:
        load_policy(policy_dir)
    assert f"roles.yaml, ligne {line}" in info.value.message
    assert "roles[3].may[1]" in info.value.message


def test_an_action_listed_twice_is_refused(policy_dir: Path) -> None:
    path = policy_dir / "roles.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("may: [audit.read]", "may: [audit.read, audit.read]"), encoding="utf-8")
    with pytest.raises(ConfigurationError, match="deux fois : audit.read"):
        load_policy(policy_dir)


def test_a_rulebook_reads_each_rules_file_exactly_once(policy_dir: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    reads: Counter[str] = Counter()
    real = loader.read_rules_text

    def counting(entry):  # noqa: ANN001, ANN202
        reads[Path(str(entry)).name] += 1
        return real(entry)

    monkeypatch.setattr(loader, "read_rules_text", counting)
    book = load_rulebook(policy_dir)
    # identity_providers.yaml is sign-in configuration, not a rule: the hub reads it apart
    # (hub.auth.oidc, once per app; an operator may point identity_providers_file elsewhere).
    from policies.auth.oidc import IDENTITY_PROVIDERS_FILE
    files = {p.name for p in policy_dir.iterdir() if p.suffix == ".yaml"} - {IDENTITY_PROVIDERS_FILE}
    assert reads == Counter({name: 1 for name in files})
    assert book.triage.digest and book.retention.digest and book.policy.digest
