"""The hub's watch on its connectors: from the run records each connector posts
(``hub.contract.runs.RunRecord``), which connectors are *silent* (nothing delivered for longer
than their schedule allows) and which have a *growing quarantine* — decided here from
``policies/data/operations.yaml``.

Owns ``OperationsRules`` (the data), ``ConnectorRunFacts`` (what the rule reads of a run),
``ConnectorAlert`` (a finding with the rule that matched and its French wording) and
``connector_alerts`` (the decision). Pure: no clock (``now`` is an argument), no I/O beyond
reading its rules file.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, Field

from policies.models import PolicyModel

OPERATIONS_FILE = "operations.yaml"
RULE_SILENT = "connector-silent"
RULE_QUARANTINE = "connector-quarantine-growing"
DELIVERING = frozenset({"ok", "partial"})  # runs that reached the hub (RunStatus values)


class SilenceRule(PolicyModel):
    factor: float = Field(default=2.0, ge=1.0, le=20.0)
    grace_minutes: int = Field(default=30, ge=0, le=7 * 24 * 60)
    default_period_hours: float = Field(default=24.0, gt=0, le=31 * 24)


class QuarantineRule(PolicyModel):
    window_runs: int = Field(default=3, ge=2, le=100)
    min_growth: int = Field(default=10, ge=1)


class OperationsRules(PolicyModel):
    version: int = 1
    silence: SilenceRule = Field(default_factory=SilenceRule)
    quarantine: QuarantineRule = Field(default_factory=QuarantineRule)


class ConnectorRunFacts(BaseModel):
    """What the watch reads of one run the hub received."""

    connector: str
    agency: str
    received_at: datetime  # the hub's clock
    status: str  # RunStatus value
    count_quarantined: int = 0
    quarantine_size: int | None = None
    expected_every_s: float | None = None
    fault: str | None = None


class AlertKind(StrEnum):
    SILENT = "silent"
    QUARANTINE_GROWING = "quarantine_growing"


class ConnectorAlert(BaseModel):
    connector: str
    agency: str
    kind: AlertKind
    rule_id: str
    since: datetime  # when the condition began (silent: the last delivery, or the first run seen)
    message_fr: str
    details: dict[str, float | int | str | None] = Field(default_factory=dict)


def allowed_silence(rules: OperationsRules, period_s: float | None) -> timedelta:
    period = period_s if period_s else rules.silence.default_period_hours * 3600
    return timedelta(seconds=period * rules.silence.factor) + timedelta(minutes=rules.silence.grace_minutes)


def _when_fr(at: datetime) -> str:
    from zoneinfo import ZoneInfo

    return at.astimezone(ZoneInfo("Europe/Paris")).strftime("%d/%m/%Y à %H:%M")


def last_delivery(runs: list[ConnectorRunFacts]) -> tuple[datetime, bool]:
    """Since when a connector (its runs newest first) has not delivered: its last ok or partial
    run, else its oldest record; and whether it ever delivered."""
    delivered = next((r for r in runs if r.status in DELIVERING), None)
    return (delivered.received_at, True) if delivered is not None else (runs[-1].received_at, False)


def _silent(runs: list[ConnectorRunFacts], now: datetime, rules: OperationsRules) -> ConnectorAlert | None:
    latest = runs[0]
    # The schedule the connector last told us: it may have changed since its last delivery.
    allowed = allowed_silence(rules, latest.expected_every_s)
    since, delivered = last_delivery(runs)
    if now - since <= allowed:
        return None
    hours = round((now - since).total_seconds() / 3600, 1)
    what = (f"dernière livraison le {_when_fr(since)}" if delivered
            else f"aucune livraison depuis son premier relevé, le {_when_fr(since)}")
    failing = (f" ; ses exécutions échouent (faute : {latest.fault})"
               if latest.status not in DELIVERING and latest.fault else "")
    return ConnectorAlert(
        connector=latest.connector, agency=latest.agency, kind=AlertKind.SILENT, rule_id=RULE_SILENT,
        since=since,
        message_fr=(f"Connecteur « {latest.connector} » ({latest.agency}) silencieux : {what}, "
                    f"au-delà des {round(allowed.total_seconds() / 3600, 1)} h que permet son "
                    f"calendrier{failing}."),
        details={"silent_hours": hours, "allowed_hours": round(allowed.total_seconds() / 3600, 2),
                 "last_status": latest.status})


def _quarantine(runs: list[ConnectorRunFacts], rules: OperationsRules) -> ConnectorAlert | None:
    window = runs[: rules.quarantine.window_runs]
    if len(window) < rules.quarantine.window_runs:
        return None  # too few runs to call a trend
    newest, oldest = window[0], window[-1]
    if newest.quarantine_size is not None and oldest.quarantine_size is not None:
        growth = newest.quarantine_size - oldest.quarantine_size
        how = f"de {oldest.quarantine_size} à {newest.quarantine_size} enregistrements"
    else:
        # Without sizes: what the window's later runs quarantined (the oldest run is the base).
        growth = sum(r.count_quarantined for r in window[:-1])
        how = f"{growth} enregistrements mis en quarantaine"
    if growth < rules.quarantine.min_growth:
        return None
    return ConnectorAlert(
        connector=newest.connector, agency=newest.agency, kind=AlertKind.QUARANTINE_GROWING,
        rule_id=RULE_QUARANTINE, since=oldest.received_at,
        message_fr=(f"Quarantaine du connecteur « {newest.connector} » ({newest.agency}) en "
                    f"hausse : {how} sur ses {len(window)} dernières exécutions. Des pistes "
                    "n'arrivent pas au CROSS : vérifier le format de la source."),
        details={"growth": growth, "quarantine_size": newest.quarantine_size,
                 "runs": len(window)})


def connector_alerts(history: dict[str, list[ConnectorRunFacts]], now: datetime,
                     rules: OperationsRules) -> list[ConnectorAlert]:
    """Every alert the run records call for, per connector (its runs newest first), sorted by
    connector then kind."""
    alerts: list[ConnectorAlert] = []
    for connector in sorted(history):
        runs = sorted(history[connector], key=lambda r: r.received_at, reverse=True)
        if not runs:
            continue
        for found in (_silent(runs, now, rules), _quarantine(runs, rules)):
            if found is not None:
                alerts.append(found)
    return alerts


def load_operations_rules(path: Path | str | None = None) -> OperationsRules:
    from policies.loader import data_dir, load_rules_file

    entry = Path(path) if path is not None else data_dir() / OPERATIONS_FILE
    return load_rules_file(OperationsRules, entry, "surveillance des connecteurs")
