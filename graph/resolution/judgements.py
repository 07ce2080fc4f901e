"""Judgements on candidate pairs: stored one per decision, never changed — an analyst's verdict
(same / not the same / unsure) with its reason, who, which agency, when, and the merge a "same"
opened. ``ResolutionJudgement`` nodes are hub bookkeeping keyed by ``judgement_id``, found by
``pair_key``; never linked to a lead or an entity, so no read traverses them.

A pair's status for the candidate list (``pair_statuses``): its latest verdict, the state of its
latest merge, and whether it was ever judged "not the same" — which keeps it out for good.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import neo4j

from graph.labels import Label
from graph.records import native
from graph.resolution.models import Annotation
from policies.resolution import (
    MERGE_STATE_LABELS_FR,
    VERDICT_LABELS_FR,
    MergeState,
    Verdict,
)

JUDGEMENT = Label.RESOLUTION_JUDGEMENT.value
MERGE = Label.ENTITY_MERGE.value


@dataclass(frozen=True)
class PairStatus:
    verdict: Verdict
    state: MergeState | None
    agency: str
    at: datetime
    reason: str
    ever_not_same: bool


def record_judgement(tx: neo4j.ManagedTransaction, *, judgement_id: str, pair_key: str, kind: str,
                     verdict: Verdict, reason: str, user_id: str, agency: str, at: datetime,
                     merge_id: str | None) -> None:
    tx.run(f"CREATE (:{JUDGEMENT} {{judgement_id: $id, pair_key: $pair, kind: $kind, "
           f"verdict: $verdict, reason: $reason, user_id: $user, agency: $agency, at: $at, "
           f"merge_id: $merge}})",
           id=judgement_id, pair=pair_key, kind=kind, verdict=verdict.value, reason=reason,
           user=user_id, agency=agency, at=at, merge=merge_id).consume()


def pair_statuses(tx: neo4j.ManagedTransaction, keys: list[str]) -> dict[str, PairStatus]:
    """``pair_key`` → its status, for the pairs that were ever judged."""
    if not keys:
        return {}
    rows = tx.run(
        f"UNWIND $keys AS k MATCH (j:{JUDGEMENT} {{pair_key: k}}) "
        f"WITH k, j ORDER BY j.at DESC "
        f"WITH k, collect(j) AS js "
        f"WITH k, js[0] AS j, any(x IN js WHERE x.verdict = $not_same) AS never "
        f"OPTIONAL MATCH (m:{MERGE} {{merge_id: j.merge_id}}) "
        f"RETURN k, j.verdict AS verdict, j.agency AS agency, j.at AS at, j.reason AS reason, "
        f"  never, m.state AS state, m.updated_at AS m_at",
        keys=keys, not_same=Verdict.NOT_SAME.value)
    out = {}
    for r in rows:
        at = native(r["m_at"] or r["at"])
        out[r["k"]] = PairStatus(verdict=Verdict(r["verdict"]),
                                 state=MergeState(r["state"]) if r["state"] else None,
                                 agency=r["agency"], at=at, reason=r["reason"],
                                 ever_not_same=r["never"])
    return out


def annotation(status: PairStatus, viewer_agency: str | None) -> Annotation:
    """How a listed pair's history reads: the merge's state if it had one (refused, undone),
    else the verdict (unsure). The reason is shown to the agency that wrote it only: it may
    name what only that agency may read."""
    if status.state is not None:
        name, label = status.state.value, MERGE_STATE_LABELS_FR[status.state]
    else:
        name, label = status.verdict.value, VERDICT_LABELS_FR[status.verdict]
    return Annotation(status=name, label=label, agency=status.agency, at=status.at,
                      reason=status.reason if viewer_agency == status.agency else None)
