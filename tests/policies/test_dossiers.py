"""Dossier rules (policies/dossiers.py, ADR 0019) as tables written from the policy text.

- A dossier record and a comment are decided by the access engine as a lead of their agency (the
  dossier's lead agency, the comment author's agency) at their handling code would be
  (rules.yaml): own agency reads; another agency's analyst reads H0/H1 (a redaction: the
  redaction groups name lead fields, so the record and a comment read — ADR 0019), gets the hit
  of H2, nothing of H3; the CROSS chief reads H0-H2 and gets the hit of H3.
- Managing (members, close, reopen): the lead agency's analysts and the CROSS chief.
- Hit rates: a lead linked to a dossier closed with a hit outcome (arrest, seizure) counts as
  closed with that outcome; each lead once; a closing without a hit changes nothing.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from hub.contract.errors import Conflict, Forbidden, InvalidInput
from policies import dossiers as rules
from policies.dossiers import (
    DossierClosure,
    LinkedLeadFacts,
    Resolution,
    Visibility,
    apply_dossier_outcomes,
    effective_resolution,
)
from policies.engine import decide
from policies.lifecycle import CloseOutcome, LeadState
from policies.models import Caller
from policies.triage import ResolutionCount

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
R, H, N = Visibility.READ, Visibility.HIT, Visibility.NONE

# (reader role, reader agency) → what they get of a police dossier / a police comment, per code.
SEES_POLICE: dict[tuple[str, str], dict[str, Visibility]] = {
    ("analyst", "police"): {"H0": R, "H1": R, "H2": R, "H3": R},
    ("analyst", "gendarmerie"): {"H0": R, "H1": R, "H2": H, "H3": N},
    ("coordinator", "gendarmerie"): {"H0": R, "H1": R, "H2": R, "H3": H},
    ("coordinator", "police"): {"H0": R, "H1": R, "H2": R, "H3": R},
    ("guest_referent", "gendarmerie"): {"H0": N, "H1": N, "H2": N, "H3": N},
    ("auditor", "police"): {"H0": N, "H1": N, "H2": N, "H3": N},
}


def _caller(role: str, agency: str) -> Caller:
    return Caller(user_id=f"{agency}:{role}", name=role, agency=agency, role=role)


@pytest.mark.parametrize(("who", "code"), [(w, c) for w in SEES_POLICE for c in ("H0", "H1", "H2", "H3")])
def test_dossier_and_comment_are_decided_as_a_lead_of_their_agency(policy, who, code):
    expected = SEES_POLICE[who][code]
    caller = _caller(*who)
    record = decide(caller, rules.dossier_marking("D-1", "police", code), policy, now=NOW)
    comment = decide(caller, rules.comment_marking("C-1", "police", code), policy, now=NOW)
    assert rules.visibility(record.outcome) is expected
    assert rules.visibility(comment.outcome) is expected


MANAGE = [  # role, agency, lead agency, may manage
    ("analyst", "police", "police", True),
    ("analyst", "gendarmerie", "police", False),
    ("coordinator", "gendarmerie", "police", True),
    ("coordinator", "police", "police", True),
    ("guest_referent", "police", "police", False),
    ("auditor", "police", "police", False),
]


@pytest.mark.parametrize(("role", "agency", "lead", "allowed"), MANAGE)
def test_who_manages(role, agency, lead, allowed):
    assert rules.may_manage(role, agency, lead) is allowed
    if allowed:
        rules.check_manage(role, agency, lead)
    else:
        with pytest.raises(Forbidden):
            rules.check_manage(role, agency, lead)


NEW_MEMBER = [  # role, level on the record, members already, refused field (None: accepted)
    ("analyst", R, 1, None),
    ("coordinator", R, 3, None),
    ("analyst", H, 1, "user_id"),
    ("analyst", N, 1, "user_id"),
    ("guest_referent", R, 1, "user_id"),
    ("auditor", R, 1, "user_id"),
    ("analyst", R, rules.MAX_MEMBERS, "user_id"),
]


@pytest.mark.parametrize(("role", "level", "count", "field"), NEW_MEMBER)
def test_who_may_be_added(role, level, count, field):
    if field is None:
        rules.check_new_member(role, level, count)
        return
    with pytest.raises(InvalidInput) as err:
        rules.check_new_member(role, level, count)
    assert err.value.details[0]["field"] == field


def test_the_lead_agency_keeps_a_member():
    rules.check_removal(["police", "douanes"], "police")
    with pytest.raises(InvalidInput):
        rules.check_removal(["douanes", "gendarmerie"], "police")


@pytest.mark.parametrize(("level", "error"), [(R, None), (H, Forbidden), (N, Forbidden)])
def test_linking_needs_reading(level, error):
    if error is None:
        rules.check_link(level)
    else:
        with pytest.raises(error):
            rules.check_link(level)


def test_assignee_must_be_a_member():
    rules.check_assignee("u1", ["u1", "u2"])
    with pytest.raises(InvalidInput) as err:
        rules.check_assignee("u3", ["u1", "u2"])
    assert err.value.details[0]["field"] == "assignee_user_id"


TODAY = date(2026, 12, 7)


@pytest.mark.parametrize(("due", "done", "overdue"), [
    (TODAY - timedelta(days=1), False, True),
    (TODAY, False, False),  # due today: not yet late
    (TODAY + timedelta(days=3), False, False),
    (TODAY - timedelta(days=10), True, False),  # done: never late
])
def test_overdue(due, done, overdue):
    assert rules.is_overdue(due, done, TODAY) is overdue


def test_open_and_closed():
    rules.check_open("open")
    with pytest.raises(Conflict):
        rules.check_open("closed")
    rules.check_reopen("closed")
    with pytest.raises(Conflict):
        rules.check_reopen("open")


# --- hit rates ------------------------------------------------------------------------------------

HIT = (CloseOutcome.ARREST, CloseOutcome.SEIZURE)
T0 = datetime(2026, 11, 1, tzinfo=UTC)
T1 = datetime(2026, 11, 10, tzinfo=UTC)
T2 = datetime(2026, 11, 20, tzinfo=UTC)
CLOSED_NOTHING = Resolution(LeadState.CLOSED, CloseOutcome.NO_FOLLOW_UP, T0)
CLOSED_ARREST = Resolution(LeadState.CLOSED, CloseOutcome.ARREST, T0)
DISMISSED = Resolution(LeadState.DISMISSED, None, T0)

EFFECTIVE = [  # own resolution, dossier closures, effective resolution
    (None, [], None),
    (None, [(CloseOutcome.SEIZURE, T1)], Resolution(LeadState.CLOSED, CloseOutcome.SEIZURE, T1)),
    (None, [(CloseOutcome.NO_FOLLOW_UP, T1)], None),  # no hit: says nothing of the lead
    (CLOSED_NOTHING, [(CloseOutcome.ARREST, T1)], Resolution(LeadState.CLOSED, CloseOutcome.ARREST, T1)),
    (DISMISSED, [(CloseOutcome.SEIZURE, T1)], Resolution(LeadState.CLOSED, CloseOutcome.SEIZURE, T1)),
    (CLOSED_ARREST, [(CloseOutcome.SEIZURE, T1)], CLOSED_ARREST),  # already a hit: its own
    (CLOSED_NOTHING, [(CloseOutcome.TRANSFERRED, T1)], CLOSED_NOTHING),
    # Several hit dossiers: the first to close.
    (None, [(CloseOutcome.ARREST, T2), (CloseOutcome.SEIZURE, T1)],
     Resolution(LeadState.CLOSED, CloseOutcome.SEIZURE, T1)),
]


def _facts(own, closures) -> LinkedLeadFacts:
    return LinkedLeadFacts(lead_id="L-1", channel="patrol", connector="c1", own=own,
                           closures=tuple(DossierClosure(o, at) for o, at in closures))


@pytest.mark.parametrize(("own", "closures", "expected"), EFFECTIVE)
def test_effective_resolution(own, closures, expected):
    assert effective_resolution(_facts(own, closures), HIT) == expected


def _count(rows, state, outcome) -> int:
    return sum(r.count for r in rows if r.state is state and r.outcome == outcome)


def test_a_hit_dossier_turns_its_leads_into_hits_once():
    base = [ResolutionCount(channel="patrol", connector="c1", state=LeadState.CLOSED,
                            outcome=CloseOutcome.NO_FOLLOW_UP, count=2)]
    linked = [_facts(CLOSED_NOTHING, [(CloseOutcome.ARREST, T1)]),          # moves: no_follow_up → arrest
              _facts(None, [(CloseOutcome.SEIZURE, T1), (CloseOutcome.ARREST, T2)]),  # new: seizure
              _facts(None, [(CloseOutcome.OTHER, T1)])]                     # no hit: nothing
    rows = apply_dossier_outcomes(base, linked, HIT)
    assert _count(rows, LeadState.CLOSED, CloseOutcome.NO_FOLLOW_UP) == 1
    assert _count(rows, LeadState.CLOSED, CloseOutcome.ARREST) == 1
    assert _count(rows, LeadState.CLOSED, CloseOutcome.SEIZURE) == 1
    assert sum(r.count for r in rows) == 3


def test_the_window_takes_the_dossier_closing_instant():
    linked = [_facts(CLOSED_NOTHING, [(CloseOutcome.ARREST, T2)])]
    base_before = [ResolutionCount(channel="patrol", connector="c1", state=LeadState.CLOSED,
                                   outcome=CloseOutcome.NO_FOLLOW_UP, count=1)]
    # Window holding only the lead's own closing (T0): it now counts in the dossier's window.
    before = apply_dossier_outcomes(base_before, linked, HIT, since=T0, until=T1)
    assert sum(r.count for r in before) == 0
    # Window holding only the dossier's closing (T2): the hit.
    after = apply_dossier_outcomes([], linked, HIT, since=T1, until=T2 + timedelta(days=1))
    assert _count(after, LeadState.CLOSED, CloseOutcome.ARREST) == 1
