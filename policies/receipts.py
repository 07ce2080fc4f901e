"""The citizen's receipt: which coarse status (« reçue / exploitée / close ») a citizen report's
lead shows its reporter, and from when. Pure: the mapping, the publication delay and the jitter
bounds are data (``policies/data/receipts.yaml``); the decision is a function of (rules, the
lead's status history, a jitter draw, the instant ``now``).

Owns: ``ReceiptRules`` (validated data), ``coarse_status`` (a lifecycle state and outcome to a
receipt status), ``jitter`` (a draw in [0, 1) to a signed offset) and ``published_status`` (what
the receipt reads at ``now``). The draw comes from the hub (a keyed hash of the lead it alone
holds: stable for one lead, unpredictable without the key); this module never sees a key, a
receipt code or a reporter.

A change made at ``at`` becomes visible at ``at + delay + jitter``. The jitter is one draw per
lead, so a lead's changes stay in order; until the first change is visible the receipt reads
« reçue ».
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import AwareDatetime, BaseModel, Field

from hub.contract.receipts import ReceiptStatus
from policies.lifecycle import CloseOutcome, LeadState
from policies.models import PolicyModel

RECEIPTS_FILE = "receipts.yaml"


class Publication(PolicyModel):
    delay_hours: float = Field(gt=0, le=24 * 365)
    jitter_hours: float = Field(gt=0, le=24 * 365)

    @property
    def delay(self) -> timedelta:
        return timedelta(hours=self.delay_hours)

    @property
    def max_jitter(self) -> timedelta:
        return timedelta(hours=self.jitter_hours)


class ReceiptRules(PolicyModel):
    version: int = Field(ge=1, le=1)
    states: dict[LeadState, ReceiptStatus]
    closed_outcomes: dict[CloseOutcome, ReceiptStatus]
    publication: Publication
    digest: str = ""


class StatusFact(BaseModel):
    """One change of a lead's lifecycle, as the receipt needs it (no actor, no note)."""

    state: LeadState
    outcome: CloseOutcome | None = None
    at: AwareDatetime


def coarse_status(rules: ReceiptRules, state: LeadState, outcome: CloseOutcome | None) -> ReceiptStatus:
    """The receipt status of a lifecycle state; ``closed`` by its outcome (``other`` when none
    was recorded, as retention reads it)."""
    if state is LeadState.CLOSED:
        return rules.closed_outcomes[outcome or CloseOutcome.OTHER]
    return rules.states[state]


def jitter(rules: ReceiptRules, draw: float) -> timedelta:
    """A draw in [0, 1) to an offset in [-jitter_hours, +jitter_hours), to the second."""
    if not 0.0 <= draw < 1.0:
        raise ValueError("tirage de gigue hors de [0, 1)")
    span = rules.publication.max_jitter.total_seconds()
    return timedelta(seconds=round((2.0 * draw - 1.0) * span))


def visible_from(rules: ReceiptRules, changed_at: datetime, draw: float) -> datetime:
    """When a change made at ``changed_at`` becomes visible, for a lead of this ``draw``."""
    return changed_at + rules.publication.delay + jitter(rules, draw)


def published_status(rules: ReceiptRules, history: Iterable[StatusFact], draw: float, *,
                     now: datetime) -> ReceiptStatus:
    """What the receipt reads at ``now``: the status of the latest change already visible, or
    « reçue » when none is (the report reached the hub; nothing more may be said yet)."""
    visible = [f for f in history if visible_from(rules, f.at, draw) <= now]
    if not visible:
        return ReceiptStatus.RECEIVED
    last = max(visible, key=lambda f: f.at)
    return coarse_status(rules, last.state, last.outcome)


def load_receipt_rules(path: Path | str | None = None) -> ReceiptRules:
    """Load and validate the receipt rules (default: the packaged ``receipts.yaml``). Raises
    ``ConfigurationError`` naming the file and line of the first problem."""
    from policies.loader import data_dir, load_rules_file

    entry = Path(path) if path is not None else data_dir() / RECEIPTS_FILE
    return load_rules_file(ReceiptRules, entry, "récépissé citoyen", _check_rules)


def _check_rules(source: str, data: Any, rules: ReceiptRules) -> None:
    """Every state but ``closed`` and every close outcome mapped; the jitter never makes a change
    visible at once (it stays below the delay)."""
    from policies.loader import _fail, line_of

    missing = [s.value for s in LeadState if s is not LeadState.CLOSED and s not in rules.states]
    if missing:
        raise _fail(source, line_of(data, ("states",)), "states",
                    f"état(s) sans statut de récépissé : {', '.join(missing)}")
    if LeadState.CLOSED in rules.states:
        raise _fail(source, line_of(data, ("states", "closed")), "states.closed",
                    "l'état « closed » se décrit par issue, dans closed_outcomes")
    missing = [o.value for o in CloseOutcome if o not in rules.closed_outcomes]
    if missing:
        raise _fail(source, line_of(data, ("closed_outcomes",)), "closed_outcomes",
                    f"issue(s) sans statut de récépissé : {', '.join(missing)}")
    pub = rules.publication
    if pub.jitter_hours >= pub.delay_hours:
        raise _fail(source, line_of(data, ("publication", "jitter_hours")), "publication.jitter_hours",
                    f"la gigue ({pub.jitter_hours:g} h) doit rester inférieure au délai "
                    f"({pub.delay_hours:g} h) : sinon un changement pourrait être visible aussitôt")
