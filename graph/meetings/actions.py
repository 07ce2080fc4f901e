"""The actions a meeting decides (``(:Meeting)-[:DECIDED]->(:Action)``, optionally ``-[:ABOUT]->``
leads and entities): recording one, reading and updating it, and the agenda's two action
sections (due from earlier meetings, decided at this one) as a participant may see them.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import neo4j

from graph.access import HIT, NONE, AccessFilter
from graph.handle import Graph
from graph.labels import EntityKind
from graph.meetings._common import (
    ENTITY_PROPS,
    AgendaContext,
    entity_identity,
    strictest,
)
from graph.meetings.meeting import meeting_of
from graph.meetings.models import ActionRecord, ActionStatus, ActionView, NewAction
from graph.meetings.weeks import PARIS
from graph.read import (
    REFERENCE_KINDS,
    asserting_leads,
    entity_anchor,
    level_params,
    normalize_entity_key,
)
from graph.records import native, utc
from hub.contract.errors import InvalidInput, NotFound


def _split_entity_id(entity_id: str, index: int) -> tuple[EntityKind, str]:
    """``<type>:<clé>``, the key normalized as ingest did (as every entity read takes it)."""
    kind, _, key = entity_id.partition(":")
    try:
        entity_kind = EntityKind(kind)
    except ValueError:
        raise InvalidInput("entité invalide", details=[{
            "field": f"entity_ids[{index}]",
            "reason": "format attendu <type>:<clé>, p. ex. vehicle:AB-123-CD"}]) from None
    try:
        return entity_kind, normalize_entity_key(entity_kind, key)
    except InvalidInput as exc:
        raise InvalidInput("entité invalide", details=[{
            "field": f"entity_ids[{index}]", "reason": exc.message}]) from None


def create_action(graph: Graph, meeting_id: str, action: NewAction,
                  access: AccessFilter, *, created_by: str, now: datetime | None = None) -> ActionView:
    """Record a decision of the meeting. Every lead and entity it is about must be readable by
    its author (no one decides on what they cannot read), through the author's ``access``: a lead
    or entity they may know of only as a hit, or not at all, is refused word for word as one that
    does not exist (the entity resolved by ``graph.read.entity_anchor``, ADR 0002, "Amendment:
    entity marking"), so the refusal says nothing of what the graph holds. Its handling code is
    at least the strictest of those leads' (given stricter, kept)."""
    now = now or datetime.now(UTC)
    entities = [_split_entity_id(e, i) for i, e in enumerate(action.entity_ids)]

    def work(tx: neo4j.ManagedTransaction) -> ActionView:
        meeting = tx.run("MATCH (m:Meeting {meeting_id: $mid}) RETURN m {.*} AS m", mid=meeting_id).single()
        if meeting is None:
            raise NotFound(f"réunion inconnue : {meeting_id}")
        m = meeting_of(meeting["m"])
        if action.deadline < m.starts_at.date():
            raise InvalidInput("échéance antérieure à la semaine de la réunion", details=[{
                "field": "deadline", "reason": f"doit être au plus tôt le {m.starts_at.date().isoformat()}"}])
        leads = {r["lead_id"]: r for r in tx.run(
            "UNWIND $ids AS id MATCH (l:Lead {lead_id: id}) WHERE l.version > 0 "
            f"RETURN l.lead_id AS lead_id, l.handling_code AS hc, {access.case_expression} AS access",
            ids=action.lead_ids, **access.params)}
        for i, lead_id in enumerate(action.lead_ids):
            row = leads.get(lead_id)
            if row is None or row["access"] in (HIT, NONE):
                raise InvalidInput(f"piste inconnue ou non consultable : {lead_id}", details=[{
                    "field": f"lead_ids[{i}]", "reason": "piste inconnue ou que vous ne pouvez pas consulter"}])
        anchors: list[str | None] = []
        for i, (kind, key) in enumerate(entities):
            try:
                anchor = entity_anchor(tx, access, kind, key)
            except NotFound:
                anchor = None
            if anchor is None or not anchor.readable:
                raise InvalidInput(f"entité inconnue ou non consultable : {action.entity_ids[i]}", details=[{
                    "field": f"entity_ids[{i}]", "reason": "entité inconnue ou que vous ne pouvez pas consulter"}])
            anchors.append(anchor.eid)
        derived = strictest({r["hc"] for r in leads.values()})
        code = derived if action.handling_code is None else strictest({derived.value, action.handling_code.value})
        action_id = f"{meeting_id}-{uuid.uuid4().hex[:8]}"
        tx.run(
            "MATCH (m:Meeting {meeting_id: $mid}) "
            "CREATE (m)-[:DECIDED]->(a:Action {action_id: $aid, meeting_id: $mid, title: $title, "
            "  lead_agency: $lead_agency, tasked: $tasked, deadline: $deadline, status: 'open', "
            "  handling_code: $hc, created_at: $now, created_by: $by}) "
            "WITH a UNWIND $lead_ids AS lid MATCH (l:Lead {lead_id: lid}) CREATE (a)-[:ABOUT]->(l)",
            mid=meeting_id, aid=action_id, title=action.title, lead_agency=action.lead_agency,
            tasked=action.tasked, deadline=action.deadline, hc=code.value, now=utc(now), by=created_by,
            lead_ids=action.lead_ids,
        ).consume()
        for (kind, key), eid in zip(entities, anchors, strict=True):
            if eid is not None:
                tx.run("MATCH (a:Action {action_id: $aid}) MATCH (ent) WHERE elementId(ent) = $eid "
                       "MERGE (a)-[:ABOUT]->(ent)", aid=action_id, eid=eid).consume()
            else:  # reference data no lead mentioned yet (an agency, a substance): its node
                tx.run(f"MATCH (a:Action {{action_id: $aid}}) "
                       f"MERGE (ent:{kind.label.value} {{{kind.key_property}: $key}}) "
                       "MERGE (a)-[:ABOUT]->(ent)", aid=action_id, key=key).consume()
        return ActionView(action_id=action_id, meeting_id=meeting_id, week=m.week, title=action.title,
                          lead_agency=action.lead_agency, tasked=action.tasked, deadline=action.deadline,
                          status="open", handling_code=code, lead_ids=sorted(action.lead_ids),
                          entity_ids=sorted(f"{kind.value}:{key}" for kind, key in entities),
                          created_at=now, created_by=created_by)

    return graph.write(work)


def get_action(graph: Graph, action_id: str) -> ActionRecord:
    records = graph.query(
        "MATCH (a:Action {action_id: $aid}) "
        "RETURN a {.action_id, .meeting_id, .lead_agency, .tasked, .deadline, .status, .done_at, .handling_code, "
        "  lead_ids: [(a)-[:ABOUT]->(l:Lead) | l.lead_id]} AS a",
        aid=action_id, read_=True,
    )
    if not records:
        raise NotFound(f"action inconnue : {action_id}")
    return ActionRecord(**{k: native(v) for k, v in records[0]["a"].items()})


def update_action(graph: Graph, action_id: str, *,
                  status: ActionStatus | None = None, deadline: date | None = None,
                  tasked: str | None = None, now: datetime | None = None) -> ActionRecord:
    """Change an action's status (``done`` stamps ``done_at``; reopening clears it), deadline or
    tasked unit."""
    now = now or datetime.now(UTC)
    records = graph.query(
        "MATCH (a:Action {action_id: $aid}) "
        "SET a.status = coalesce($status, a.status), a.deadline = coalesce($deadline, a.deadline), "
        "  a.tasked = coalesce($tasked, a.tasked), "
        "  a.done_at = CASE WHEN $status IS NULL THEN a.done_at WHEN $status = 'done' "
        "    THEN coalesce(a.done_at, $now) ELSE null END, a.updated_at = $now "
        "RETURN a.action_id AS aid",
        aid=action_id, status=status, deadline=deadline, tasked=tasked, now=utc(now),
    )
    if not records:
        raise NotFound(f"action inconnue : {action_id}")
    return get_action(graph, action_id)



def agenda_actions(tx: neo4j.ManagedTransaction, ctx: AgendaContext, *,
                   decided_here: bool) -> list[ActionView]:
    """Actions decided at this meeting, or (``decided_here=False``) open actions of earlier
    meetings of the département due by the end of this meeting's week — those past their
    deadline are flagged overdue: what was not done comes back on the next agenda."""
    where = ("m.meeting_id = $mid" if decided_here else
             "m.departement = $dept AND m.starts_at < $mstart AND a.status = 'open' AND a.deadline <= $due")
    rows = tx.run(
        f"MATCH (m:Meeting)-[:DECIDED]->(a:Action) WHERE {where} "
        "OPTIONAL MATCH (a)-[:ABOUT]->(l:Lead) "
        f"WITH m, a, l, CASE WHEN l IS NULL THEN null ELSE {ctx.access.case_expression} END AS access "
        "WITH m, a, collect(CASE WHEN l IS NULL THEN null "
        "  ELSE {lead_id: l.lead_id, access: access, hc: l.handling_code} END) AS leads "
        "OPTIONAL MATCH (a)-[:ABOUT]->(ent) WHERE NOT ent:Lead "
        f"WITH m, a, leads, collect({{eid: elementId(ent), labels: labels(ent), props: {ENTITY_PROPS}}}) AS ents "
        "RETURN m.week AS week, a {.*} AS a, leads, ents ORDER BY a.deadline, a.created_at",
        ctx.params(mid=ctx.meeting.meeting_id, mstart=utc(ctx.meeting.starts_at),
                   due=ctx.meeting.ends_at.date()),
    ).data()
    # Earlier meetings' actions are late if due before this meeting; this meeting's, before today.
    due_by, today = ctx.meeting.starts_at.date(), ctx.now.astimezone(PARIS).date()
    readable = _readable_entities(tx, ctx, [ent for r in rows for ent in r["ents"] if ent["labels"]])
    out = []
    for r in rows:
        a = {k: native(v) for k, v in r["a"].items()}
        leads = r["leads"]
        # An action is told only to a participant who may read everything it names: a lead or
        # an entity they may only know of (or not even that) withholds it (ADR 0002 amendment).
        withheld = (any(x["access"] in (HIT, NONE) for x in leads)
                    or any(ent["eid"] not in readable for ent in r["ents"] if ent["labels"]))
        entity_ids = []
        for ent in r["ents"]:
            if ent["labels"]:
                kind, key, _ = entity_identity(ent["labels"], ent["props"])
                entity_ids.append(f"{kind}:{key}")
        codes = {x["hc"] for x in leads} | {a["handling_code"]}
        out.append(ActionView(
            action_id=a["action_id"], meeting_id=a["meeting_id"], week=r["week"],
            title=None if withheld else a["title"], lead_agency=a["lead_agency"], tasked=a["tasked"],
            deadline=a["deadline"], status=a["status"], done_at=a.get("done_at"),
            handling_code=strictest(codes),
            lead_ids=[] if withheld else sorted(x["lead_id"] for x in leads),
            entity_ids=[] if withheld else sorted(entity_ids),
            created_at=a.get("created_at"), created_by=a.get("created_by"),
            overdue=a["status"] == "open" and a["deadline"] < (due_by if not decided_here else today),
            withheld=withheld,
        ))
    return out


def _readable_entities(tx: neo4j.ManagedTransaction, ctx: AgendaContext,
                       ents: list[dict[str, Any]]) -> set[str]:
    """Element ids of ``ents`` the participant may read: a reference entity (agency, substance),
    or one that a lead they may read asserts (``graph.read.asserting_leads``, the rule of
    ``entity_anchor``)."""
    reference = {k.label.value for k in REFERENCE_KINDS}
    readable = {ent["eid"] for ent in ents if reference.intersection(ent["labels"])}
    wanted = sorted({ent["eid"] for ent in ents} - readable)
    if not wanted:
        return readable
    rows = tx.run(
        "UNWIND $eids AS eid MATCH (ent) WHERE elementId(ent) = eid "
        f"{asserting_leads()} "
        "WITH DISTINCT ent, l WHERE l.version > 0 "
        f"WITH ent, {ctx.access.case_expression} AS access WHERE access IN $an_visible "
        "RETURN DISTINCT elementId(ent) AS eid",
        {**ctx.params(), **level_params(ctx.access), "eids": wanted},
    )
    return readable | {r["eid"] for r in rows}
