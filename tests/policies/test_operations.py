"""The connector watch's rule (policies/operations.py), against the packaged operations.yaml.

The expected outcome of each case is written from the rule's text: a connector is silent once its
last delivering run is older than factor x its period + grace (the period it last reported, or
the default); its quarantine grows when the size it reports rose by at least min_growth over the
last window_runs runs (or, without sizes, it quarantined that many in the window's later runs).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from policies.operations import (
    RULE_QUARANTINE,
    RULE_SILENT,
    ConnectorRunFacts,
    connector_alerts,
    load_operations_rules,
)

RULES = load_operations_rules()
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
F, G = RULES.silence.factor, RULES.silence.grace_minutes
DEFAULT_H = RULES.silence.default_period_hours
W, MIN = RULES.quarantine.window_runs, RULES.quarantine.min_growth


def allowed_minutes(period_s: float) -> float:
    return period_s / 60 * F + G


def run(minutes_ago: float, status: str = "ok", period_s: float | None = 300, **kw) -> ConnectorRunFacts:
    return ConnectorRunFacts(connector="police-main", agency="police", status=status,
                             received_at=NOW - timedelta(minutes=minutes_ago),
                             expected_every_s=period_s, **kw)


def test_the_packaged_values_are_the_ones_these_cases_assume_sane():
    assert F >= 1 and G >= 0 and W >= 2 and MIN >= 1


@pytest.mark.parametrize(("runs", "silent"), [
    # every 5 min: silent only past factor x 5 min + grace
    ([run(allowed_minutes(300) - 1)], False),
    ([run(allowed_minutes(300) + 1)], True),
    # failing runs do not deliver: silent counts from the last ok/partial run
    ([run(1, status="failed", fault="source"), run(allowed_minutes(300) + 1)], True),
    ([run(1, status="partial"), run(allowed_minutes(300) + 1)], False),
    # never delivered: from its first record
    ([run(1, status="failed"), run(allowed_minutes(300) + 5, status="failed")], True),
    # a weekday cron (72 h gap over a weekend): 100 h is within factor x 72 h + grace
    ([run(100 * 60, period_s=72 * 3600)], 100 * 60 > allowed_minutes(72 * 3600)),
    # no schedule reported: the default period
    ([run(DEFAULT_H * 60 * F + G - 1, period_s=None)], False),
    ([run(DEFAULT_H * 60 * F + G + 1, period_s=None)], True),
    # the schedule it reports *now* counts (it moved from hourly to every 5 minutes)
    ([run(allowed_minutes(300) + 1, period_s=300), run(500, period_s=3600)], True),
])
def test_silence_follows_the_schedule_the_connector_reports(runs, silent):
    alerts = connector_alerts({"police-main": runs}, NOW, RULES)
    assert [a.rule_id for a in alerts if a.rule_id == RULE_SILENT] == ([RULE_SILENT] if silent else [])
    if silent:
        assert "silencieux" in alerts[0].message_fr and "police-main" in alerts[0].message_fr


def sized(sizes: list[int | None], counts: list[int] | None = None) -> list[ConnectorRunFacts]:
    counts = counts or [0] * len(sizes)
    return [run(i * 5, quarantine_size=s, count_quarantined=c)
            for i, (s, c) in enumerate(zip(sizes, counts, strict=True))]  # newest first


@pytest.mark.parametrize(("runs", "growing"), [
    (sized([5 + MIN] + [7] * (W - 2) + [5]), True),  # rose by exactly min_growth over the window
    (sized([5 + MIN - 1] + [7] * (W - 2) + [5]), False),
    (sized([5 + MIN] * (W - 1)), False),  # fewer runs than the window: no trend yet
    (sized([5 + MIN] + [5] * W), True),  # W+1 runs: the window is the newest W
    (sized([5 + MIN] * W + [5]), False),  # it rose before the window, then stayed: no growth now
    # without sizes: what the window's later runs quarantined (the oldest is the base)
    (sized([None] * W, counts=[MIN - 1] + [1] * (W - 2) + [1000]), MIN - 1 + (W - 2) >= MIN),
    (sized([None] * W, counts=[0] * (W - 1) + [1000]), False),
])
def test_a_quarantine_grows_over_the_window(runs, growing):
    alerts = connector_alerts({"police-main": runs}, NOW, RULES)
    assert [a.rule_id for a in alerts if a.rule_id == RULE_QUARANTINE] == (
        [RULE_QUARANTINE] if growing else [])


def test_each_connector_is_judged_on_its_own_runs():
    history = {"douanes-xml": [run(allowed_minutes(300) + 1)], "police-main": [run(1)]}
    history["douanes-xml"] = [r.model_copy(update={"connector": "douanes-xml", "agency": "douanes"})
                              for r in history["douanes-xml"]]
    alerts = connector_alerts(history, NOW, RULES)
    assert [(a.connector, a.agency, a.rule_id) for a in alerts] == [("douanes-xml", "douanes", RULE_SILENT)]
