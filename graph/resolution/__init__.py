"""Entity resolution (« Rapprochements ») in the graph: candidate pairs found by the rules of
policies/resolution.py around the caller's entities (``candidates``), the entities of a pair as
the caller may know them (``sides``), judgements (``judgements``), and reversible merges with
their countersignature and split (``merges``); records in ``models``.

Owns two kinds of bookkeeping nodes, never linked to a lead or an entity: ``ResolutionJudgement``
(one per verdict, by ``pair_key``) and ``EntityMerge`` (one per "same"), and one relationship
between entities, ``MERGED_INTO`` (``merge_id`` only), which reads follow
(``graph.read.merged_group``; ADR 0020).
"""

from __future__ import annotations

from graph.labels import Label
from graph.resolution.candidates import find_candidates, raw_pairs, seed_entities
from graph.resolution.merges import countersign, judge, list_merges, undo
from graph.resolution.models import (
    Annotation,
    Candidate,
    CandidateList,
    Evidence,
    JudgementRecord,
    MergeView,
    Side,
)
from graph.schema import unique_constraint

SCHEMA: list[str] = [
    unique_constraint(Label.RESOLUTION_JUDGEMENT),
    unique_constraint(Label.ENTITY_MERGE),
    # A pair's judgements (the candidate list's status of each pair).
    "CREATE INDEX resolution_judgement_pair IF NOT EXISTS FOR (n:ResolutionJudgement) ON (n.pair_key)",
    "CREATE INDEX entity_merge_pair IF NOT EXISTS FOR (n:EntityMerge) ON (n.pair_key)",
    # The merges an agency asked for (those it is awaited on are few: scanned by label).
    "CREATE INDEX entity_merge_judge IF NOT EXISTS FOR (n:EntityMerge) ON (n.judge_agency)",
]

__all__ = [
    "SCHEMA", "Annotation", "Candidate", "CandidateList", "Evidence", "JudgementRecord",
    "MergeView", "Side", "countersign", "find_candidates", "judge", "list_merges", "raw_pairs",
    "seed_entities", "undo",
]
