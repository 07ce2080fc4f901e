"""The facts behind a citizen's receipt: for each source reference a citizen connector asks about,
the lead it pushed and every change of that lead's state (state, close outcome, instant) — nothing
else (no actor, no note, no property of the lead).

A reference answers only when the lead is *that connector's*: same agency (its ``source_key``),
pushed first by that connector (``pushed_by``), from the citizens' platform channel. Anything else
— another agency's or another connector's lead, a purged or never-pushed one — is simply absent
from the result, so the caller cannot tell them apart (no existence oracle).

No access filter: the caller is a connector reading the lifecycle of leads it pushed itself, and
the coarse status the hub derives from these facts is not a lead property (ADR 0015). The
receipt code is not known here: the hub never receives it. Reads the workflow's ``StatusChange``
nodes through their ``lead_id`` index (graph/workflow/__init__.py SCHEMA); owns no label.
"""

from __future__ import annotations

import neo4j
from pydantic import BaseModel

from graph.handle import Graph
from graph.records import plain
from hub.contract.lead import SourceChannel, source_key
from policies.receipts import StatusFact


class ReceiptFacts(BaseModel):
    source_ref: str
    lead_id: str
    history: list[StatusFact]


def receipt_facts(graph: Graph, *, agency: str, connector: str,
                  source_refs: list[str]) -> dict[str, ReceiptFacts]:
    """The facts of each of ``source_refs`` that is a citizen-platform lead of ``agency`` pushed
    by ``connector``, keyed by source reference; the others are left out."""
    keys = {source_key(agency, ref): ref for ref in source_refs if "|" not in ref}

    def work(tx: neo4j.ManagedTransaction) -> dict[str, ReceiptFacts]:
        rows = tx.run(
            "UNWIND $keys AS key "
            "MATCH (l:Lead {source_key: key}) "
            "WHERE l.version > 0 AND l.pushed_by = $connector AND l.channel = $channel "
            "CALL (l) { "
            "  OPTIONAL MATCH (c:StatusChange {lead_id: l.lead_id}) "
            "  WITH c ORDER BY c.seq "
            "  RETURN collect(c {.to_state, .outcome, .at}) AS changes } "
            "RETURN key, l.lead_id AS lead_id, changes",
            keys=sorted(keys), connector=connector, channel=SourceChannel.CITIZEN_PLATFORM.value,
        )
        out = {}
        for r in rows:
            ref = keys[r["key"]]
            history = [StatusFact(state=c["to_state"], outcome=c.get("outcome"), at=c["at"])
                       for c in map(plain, r["changes"])]
            out[ref] = ReceiptFacts(source_ref=ref, lead_id=r["lead_id"], history=history)
        return out

    return graph.read(work)
