"""``load_policy``: the packaged policy loads, and every broken file is refused with a
``ConfigurationError`` whose message names the file and the line to fix."""

from __future__ import annotations

import shutil
import textwrap
from importlib import resources
from pathlib import Path

import pytest

from hub.contract.errors import ConfigurationError
from policies.loader import FILES, load_policy
from policies.models import Effect, Outcome, Policy, Role


@pytest.fixture
def policy_dir(tmp_path: Path) -> Path:
    """A copy of the packaged policy, to break one file at a time."""
    src = Path(str(resources.files("policies") / "data"))
    for name in FILES:
        shutil.copy(src / name, tmp_path / name)
    return tmp_path


def _write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def _refused(directory: Path) -> ConfigurationError:
    with pytest.raises(ConfigurationError) as info:
        load_policy(directory)
    return info.value


# Four valid rules, then problems planted at known lines.
RULES_HEAD = """
rules:
  - id: r0
    effect: allow
    outcome: full
    reason_fr: "Piste {agence}"
    when:
      roles: [analyst]
      relation: own
  - id: r1
    effect: deny
    reason_fr: "Piste {agence} classée {code}"
    when:
      handling_codes: [H3]
      relation: other
  - id: r2
    effect: allow
    outcome: hit
    reason_fr: "contacter {contact}"
    when:
      roles: [coordinator]
"""


def test_packaged_policy_loads(policy: Policy) -> None:
    assert {r.role for r in policy.roles} == set(Role)
    assert policy.digest.startswith("sha256:")
    assert all(r.outcome is not None for r in policy.rules)
    assert any(r.effect is Effect.DENY and r.outcome is Outcome.NONE for r in policy.rules)


def test_copy_loads_from_a_str_path_with_the_same_digest(policy: Policy, policy_dir: Path) -> None:
    loaded = load_policy(str(policy_dir))
    assert loaded == policy


def test_bad_effect_is_reported_at_its_line(policy_dir: Path) -> None:
    path = _write(policy_dir, "rules.yaml", RULES_HEAD + """
  - id: r3
    effect: permit
    outcome: full
    reason_fr: "x"
    when:
      roles: [analyst]
""")
    err = _refused(policy_dir)
    assert str(path) in err.message
    expected = "ligne 23 : rules[3].effect : valeur non admise 'permit' : attendu 'allow' ou 'deny'"
    assert expected in err.message
    assert err.details[0] == {"file": str(path), "line": 23, "field": "rules[3].effect",
                              "reason": err.details[0]["reason"]}
    assert err.code == "configuration_error" and not err.retryable


def test_missing_field_points_at_the_rule(policy_dir: Path) -> None:
    _write(policy_dir, "rules.yaml", RULES_HEAD + """
  - id: r3
    effect: allow
    outcome: full
    when:
      roles: [analyst]
""")
    expected = "rules.yaml, ligne 22 : rules[3].reason_fr : champ obligatoire manquant"
    assert expected in _refused(policy_dir).message


def test_nested_condition_error_points_at_its_line(policy_dir: Path) -> None:
    _write(policy_dir, "rules.yaml", RULES_HEAD + """
  - id: r3
    effect: deny
    reason_fr: "x"
    when:
      relation: own
      handling_codes: [H0, H4]
""")
    expected = "ligne 27 : rules[3].when.handling_codes[1] : valeur non admise 'H4'"
    assert expected in _refused(policy_dir).message


@pytest.mark.parametrize(
    ("rule", "line", "reason"),
    [
        pytest.param("""
  - id: r3
    effect: allow
    outcome: full
    reason_fr: "x"
""", 22, "doit nommer ses rôles", id="allow-without-roles"),
        pytest.param("""
  - id: r3
    effect: allow
    outcome: redacted
    reason_fr: "x"
    when: {roles: [analyst]}
""", 22, "préciser les groupes masqués", id="redacted-without-hide"),
        pytest.param("""
  - id: r3
    effect: allow
    outcome: redacted
    hide: [narrative, secrets]
    reason_fr: "x"
    when: {roles: [analyst]}
""", 25, "groupe(s) de propriétés inconnu(s) : secrets", id="unknown-hide-group"),
        pytest.param("""
  - id: r3
    effect: deny
    reason_fr: "Piste {agence} du {service}"
""", 24, "variable(s) inconnue(s) dans le motif : service", id="unknown-placeholder"),
        pytest.param("""
  - id: r3
    effect: deny
    reason_fr: "x"
    when:
      kinds: []
""", 26, "liste vide", id="empty-condition"),
        pytest.param("""
  - id: r3
    effect: deny
    reason_fr: "x"
    when:
      rôles: [analyst]
""", 26, "champ inconnu", id="unknown-condition"),
        pytest.param("""
  - id: r1
    effect: deny
    reason_fr: "x"
""", 22, "règle « r1 » en double", id="duplicate-rule-id"),
        pytest.param("""
  - id: r3
    effect: deny
    effect: allow
    reason_fr: "x"
""", 24, "clé « effect » en double", id="duplicate-key"),
        pytest.param("""
  - id: r3
    effect: deny
    reason_fr: "x
""", 25, "commencé ligne 24", id="yaml-syntax"),
    ],
)
def test_rule_errors_name_file_and_line(policy_dir: Path, rule: str, line: int, reason: str) -> None:
    path = _write(policy_dir, "rules.yaml", RULES_HEAD + rule)
    err = _refused(policy_dir)
    assert f"{path}, ligne {line} :" in err.message, err.message
    assert reason in err.message


def test_every_error_is_in_the_details(policy_dir: Path) -> None:
    _write(policy_dir, "rules.yaml", RULES_HEAD + """
  - id: r3
    effect: permit
    reason_fr: "x"
  - id: R4
    effect: deny
    reason_fr: "x"
""")
    err = _refused(policy_dir)
    assert [(d["line"], d["field"]) for d in err.details] == [(23, "rules[3].effect"), (25, "rules[4].id")]
    assert "(et 1 autre(s) erreur(s))" in err.message


def test_unknown_property_in_a_group(policy_dir: Path) -> None:
    path = _write(policy_dir, "properties.yaml", """
property_groups:
  - id: narrative
    label_fr: Récit
    properties: [narrative, reporter_name]
""")
    err = _refused(policy_dir)
    assert f"{path}, ligne 4 : property_groups[0].properties" in err.message
    assert "reporter_name" in err.message


def test_every_role_must_be_described(policy_dir: Path) -> None:
    text = (policy_dir / "roles.yaml").read_text(encoding="utf-8")
    cut = text.index("  - role: auditor")
    end = text.index("  - role: administrator")
    path = _write(policy_dir, "roles.yaml", text[:cut] + text[end:])
    err = _refused(policy_dir)
    line = text.splitlines().index("roles:") + 1  # the error points at the list's key
    assert f"{path}, ligne {line} : roles : " in err.message
    assert "rôle(s) non décrit(s) : auditor" in err.message


def test_missing_file(policy_dir: Path) -> None:
    (policy_dir / "agencies.yaml").unlink()
    err = _refused(policy_dir)
    assert "agencies.yaml, ligne 1" in err.message and "manquant" in err.message


def test_root_must_be_a_mapping(policy_dir: Path) -> None:
    path = _write(policy_dir, "roles.yaml", "- analyst\n- auditor\n")
    assert f"{path}, ligne 1 : (racine) : une table YAML est attendue" in _refused(policy_dir).message


def test_yaml_tags_are_not_executed(policy_dir: Path) -> None:
    _write(policy_dir, "rules.yaml", 'rules: !!python/object/apply:os.system ["true"]\n')
    assert "syntaxe YAML" in _refused(policy_dir).message


def test_a_mapping_used_as_a_key_is_refused(policy_dir: Path) -> None:
    path = _write(policy_dir, "rules.yaml", "rules:\n  - ? {a: 1}\n    : x\n")
    err = _refused(policy_dir)
    assert f"{path}, ligne 2 :" in err.message and "clé non admise" in err.message
