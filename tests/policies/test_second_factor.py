"""The second factor's rules, as tables written from policies/data/second_factor.yaml's text and
RFC 6238 (30 s steps, codes of the step before and after accepted, a step used once)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyotp
import pytest

from hub.contract.errors import ConfigurationError
from policies.permissions import Action
from policies.second_factor import (
    StepUp,
    SecondFactorRules,
    load_second_factor_rules,
    matching_step,
    step_up_decision,
    time_step,
)

RULES = load_second_factor_rules()
NOW = datetime(2026, 12, 7, 10, 0, 0, tzinfo=UTC)
SECRET = pyotp.random_base32()


def test_the_packaged_file_says_which_actions_and_how_fresh():
    assert {r.action: r.fresh_minutes for r in RULES.step_up} == {
        Action.DECIDE_DISCLOSURE: 10, Action.EXPORT_NETWORK: 10}
    assert RULES.freshness(Action.REQUEST_DISCLOSURE) is None
    # Rules built in code fail closed: the same actions need it.
    assert SecondFactorRules().freshness(Action.DECIDE_DISCLOSURE) == timedelta(minutes=10)


M = timedelta(minutes=1)
# (action, person_session, enrolled, verified `ago` (None: never), expected)
DECISIONS = [
    (Action.RUN_ANALYSES, False, False, None, StepUp.NOT_NEEDED),
    (Action.DECIDE_DISCLOSURE, False, True, 0 * M, StepUp.NO_SESSION),  # an API token
    (Action.DECIDE_DISCLOSURE, True, False, None, StepUp.NOT_ENROLLED),
    (Action.DECIDE_DISCLOSURE, True, True, None, StepUp.STALE),
    (Action.DECIDE_DISCLOSURE, True, True, 0 * M, StepUp.FRESH),
    (Action.DECIDE_DISCLOSURE, True, True, 10 * M, StepUp.FRESH),  # 10 min: still fresh
    (Action.DECIDE_DISCLOSURE, True, True, 10 * M + timedelta(seconds=1), StepUp.STALE),
    (Action.EXPORT_NETWORK, True, True, 11 * M, StepUp.STALE),
    (Action.EXPORT_NETWORK, True, True, -5 * M, StepUp.STALE),  # stamped in the future
]


@pytest.mark.parametrize(("action", "session", "enrolled", "ago", "expected"), DECISIONS)
def test_step_up_decision(action, session, enrolled, ago, expected):
    verified = None if ago is None else NOW - ago
    assert step_up_decision(RULES, action, person_session=session, enrolled=enrolled,
                            verified_at=verified, now=NOW) is expected


def _code(offset_steps: int) -> str:
    return pyotp.TOTP(SECRET).at(NOW + timedelta(seconds=30 * offset_steps))


# (code's step relative to now, last step used relative to now (None: none), accepted)
CODES = [
    (0, None, True), (-1, None, True), (1, None, True),  # ±1 step of drift
    (-2, None, False), (2, None, False),  # beyond the drift
    (0, 0, False),  # the same step again: replay
    (0, -1, True), (1, 0, True),  # a later step than the last used
    (-1, 0, False),  # an earlier step than the last used
]


@pytest.mark.parametrize(("offset", "last", "accepted"), CODES)
def test_a_code_belongs_to_one_step_and_works_once(offset, last, accepted):
    now_step = time_step(NOW, RULES.totp)
    last_step = None if last is None else now_step + last
    step = matching_step(SECRET, _code(offset), NOW, RULES.totp, last_step)
    assert step == (now_step + offset if accepted else None)


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "12 456"])
def test_malformed_codes_match_nothing(code):
    assert matching_step(SECRET, code, NOW, RULES.totp, None) is None


def test_one_rule_per_action(tmp_path: Path):
    path = tmp_path / "second_factor.yaml"
    path.write_text("version: 1\nstep_up:\n  - action: disclosure.decide\n    fresh_minutes: 10\n"
                    "  - action: disclosure.decide\n    fresh_minutes: 5\n", encoding="utf-8")
    with pytest.raises(ConfigurationError) as refused:
        load_second_factor_rules(path)
    assert "ligne 5" in refused.value.message and "déjà citée" in refused.value.message
    path.write_text("version: 1\nstep_up:\n  - action: nope.nope\n    fresh_minutes: 10\n",
                    encoding="utf-8")
    with pytest.raises(ConfigurationError):
        load_second_factor_rules(path)
