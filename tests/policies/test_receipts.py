"""The citizen receipt's policy: what each lifecycle step reads, and from when (a pure function of
the rules, the history, the lead's jitter draw and ``now``)."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path

import pytest

from hub.contract.errors import ConfigurationError
from hub.contract.receipts import ReceiptStatus
from policies.lifecycle import CloseOutcome, LeadState
from policies.receipts import (
    StatusFact,
    coarse_status,
    jitter,
    load_receipt_rules,
    published_status,
)

RULES = load_receipt_rules()
R, U, C = ReceiptStatus.RECEIVED, ReceiptStatus.USED, ReceiptStatus.CLOSED
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
H = timedelta(hours=1)

# The rule, as receipts.yaml states it: a report is « exploitée » once acted on or closed by an
# arrest, a seizure or a transfer; « close » when closed otherwise or dismissed; else « reçue ».
EXPECTED = [
    (LeadState.NEW, None, R), (LeadState.UNDER_ASSESSMENT, None, R), (LeadState.ASSIGNED, None, R),
    (LeadState.ACTED_ON, None, U), (LeadState.DISMISSED, None, C),
    (LeadState.CLOSED, CloseOutcome.ARREST, U), (LeadState.CLOSED, CloseOutcome.SEIZURE, U),
    (LeadState.CLOSED, CloseOutcome.TRANSFERRED, U), (LeadState.CLOSED, CloseOutcome.NO_FOLLOW_UP, C),
    (LeadState.CLOSED, CloseOutcome.OTHER, C), (LeadState.CLOSED, None, C),
]


@pytest.mark.parametrize("state,outcome,expected", EXPECTED)
def test_each_state_and_outcome_reads_one_coarse_status(state, outcome, expected) -> None:
    assert coarse_status(RULES, state, outcome) is expected


def test_packaged_publication_is_72_hours_plus_or_minus_48() -> None:
    assert (RULES.publication.delay_hours, RULES.publication.jitter_hours) == (72, 48)
    assert jitter(RULES, 0.0) == -48 * H and jitter(RULES, 0.5) == timedelta(0)
    assert -48 * H <= jitter(RULES, 0.999999999) <= 48 * H
    with pytest.raises(ValueError):
        jitter(RULES, 1.0)


@pytest.mark.parametrize("draw", [0.0, 0.25, 0.5, 0.9])
def test_a_seizure_reads_exploitee_only_after_delay_plus_jitter(draw: float) -> None:
    offset = 72 * H + (2 * draw - 1) * 48 * H  # the rule: changed_at + delay + jitter
    history = [StatusFact(state=LeadState.NEW, at=T0),
               StatusFact(state=LeadState.ACTED_ON, at=T0 + H),
               StatusFact(state=LeadState.CLOSED, outcome=CloseOutcome.SEIZURE, at=T0 + 2 * H)]
    visible = T0 + H + offset
    assert published_status(RULES, history, draw, now=T0 + 2 * H) is R
    assert published_status(RULES, history, draw, now=visible - timedelta(seconds=1)) is R
    assert published_status(RULES, history, draw, now=visible) is U
    assert published_status(RULES, history, draw, now=visible + 30 * 24 * H) is U


def test_the_latest_visible_change_decides_and_nothing_is_visible_at_once() -> None:
    history = [StatusFact(state=LeadState.ACTED_ON, at=T0),
               StatusFact(state=LeadState.CLOSED, outcome=CloseOutcome.NO_FOLLOW_UP, at=T0 + 10 * H)]
    # The earliest any change may show is delay - jitter = 24 h after it, whatever the draw.
    for draw in (0.0, 0.3, 0.999):
        assert published_status(RULES, history, draw, now=T0 + 24 * H - timedelta(seconds=1)) is R
        assert published_status(RULES, history, draw, now=T0 + 10 * H + 120 * H) is C
    assert published_status(RULES, [], 0.5, now=T0) is R


def _copy(tmp_path: Path, text: str) -> Path:
    target = tmp_path / "receipts.yaml"
    shutil.copy(Path(str(resources.files("policies") / "data" / "receipts.yaml")), target)
    target.write_text(text, encoding="utf-8")
    return target


BASE = """version: 1
states: {new: recue, under_assessment: recue, assigned: recue, acted_on: exploitee, dismissed: close}
closed_outcomes: {arrest: exploitee, seizure: exploitee, transferred: exploitee,
                  no_follow_up: close, other: close}
publication: {delay_hours: 72, jitter_hours: 48}
"""


@pytest.mark.parametrize("change,field", [
    (("delay_hours: 72", "delay_hours: 0"), "publication.delay_hours"),
    (("jitter_hours: 48", "jitter_hours: 0"), "publication.jitter_hours"),
    (("jitter_hours: 48", "jitter_hours: 72"), "publication.jitter_hours"),
    ((", dismissed: close", ""), "states"),
    (("other: close}", "}"), "closed_outcomes"),
    (("acted_on: exploitee", "acted_on: arrestation"), "states.acted_on"),
])
def test_rules_that_would_publish_at_once_or_leave_a_case_unmapped_are_refused(
        tmp_path: Path, change: tuple[str, str], field: str) -> None:
    assert load_receipt_rules(_copy(tmp_path, BASE)).publication.delay_hours == 72
    with pytest.raises(ConfigurationError) as err:
        load_receipt_rules(_copy(tmp_path, BASE.replace(*change)))
    assert err.value.details[0]["field"] == field
    assert err.value.message.startswith("Règles de récépissé citoyen invalides")
