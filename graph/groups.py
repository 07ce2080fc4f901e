"""Merged groups: the entities an analyst's "same" judgement joined (graph/resolution/merges.py,
ADR 0020), as the reads that follow merges see them — the network read (``graph.read``) and an
entity's timeline (``graph.analysis.timeline``), both through ``graph.read.entity_anchor``.

A merge is one ``MERGED_INTO`` relationship between two entities of one label; a group is every
entity joined to another by such links, in either direction. Kept apart from graph/resolution/
(which reads through graph.read) so graph.read can import it.
"""

from __future__ import annotations

from graph.labels import Rel

# Entities one group may hold in a read (resolution.yaml ``max_group_size`` bounds the merges;
# this bounds the read whatever the rules say).
MAX_MERGED_GROUP = 64


def merged_group(var: str, label: str) -> str:
    """The Cypher ``CALL`` binding ``group`` to the entities merged with ``var``, itself
    included (``[var]`` without merges). ``label`` comes from the allow-list."""
    return (f"CALL ({var}) {{ MATCH ({var})-[:{Rel.MERGED_INTO.value}*0..{MAX_MERGED_GROUP}]-"
            f"(m:{label}) RETURN collect(DISTINCT m) AS group }} ")
