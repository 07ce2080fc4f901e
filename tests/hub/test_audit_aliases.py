"""An auditor asking the trail about a lead finds the entries written under its old id too.

Entries written before migration 2 (ADR 0007) name a lead by ``<agency>:<source_ref>``; after
the migration the lead answers to an opaque ``L-…`` id and keeps the old one as
``legacy_lead_id``. The Art. 25 trail must still answer "who consulted this lead" completely, by
either id — and never mix in another lead's entries."""

from __future__ import annotations

import uuid

from graph.leads import lead_aliases
from hub.audit.events import system_event
from policies.audit import AuditAction
from tests.factories import acked_ids, lead

J = "justification=contr%C3%B4le%20DPD%202025"


def _consult(client, lead_ids: list[str], note: str) -> None:
    client.app.state.audit.append(system_event(
        AuditAction.CONSULTATION, origin="test", rule_id="test-alias", lead_ids=lead_ids,
        entity_keys=[], justification=f"PV 2025/{note}", recipients=["police:x"]))


def test_the_trail_answers_under_the_public_and_the_legacy_id(client, make_connector, make_user) -> None:
    ref, other_ref = f"PN-ALIAS-{uuid.uuid4().hex[:6]}", f"PN-OTHER-{uuid.uuid4().hex[:6]}"
    acked = acked_ids(make_connector("police").push([lead(source_ref=ref), lead(source_ref=other_ref)]))
    public, other = acked[ref], acked[other_ref]
    legacy = f"police:{ref}"
    graph = client.app.state.graph
    # As migration 2 leaves a lead of schema 1: its old id kept as legacy_lead_id.
    graph.query("MATCH (l:Lead {lead_id: $id}) SET l.legacy_lead_id = $old", id=public, old=legacy)
    assert lead_aliases(graph, public) == [public, legacy]
    assert lead_aliases(graph, legacy) == [legacy, public]
    assert lead_aliases(graph, "police:PN-NEVER-HELD") == ["police:PN-NEVER-HELD"]

    _consult(client, [legacy], "before-migration")
    _consult(client, [public], "after-migration")
    _consult(client, [other], "another-lead")

    auditor = make_user("police", "auditor")
    for asked in (public, legacy):
        answer = client.get(f"/api/v1/audit?lead_id={asked}&{J}", headers=auditor)
        assert answer.status_code == 200, answer.text
        notes = {e["justification"] for e in answer.json() if e["decision"]["rule_id"] == "test-alias"}
        assert notes == {"PV 2025/before-migration", "PV 2025/after-migration"}, asked
        assert b"another-lead" not in answer.content
