"""A dossier's comments, each marked like a lead (ADR 0019): its author's agency as the
originating agency, its own handling code (the dossier's unless the author chose another) and the
nominal kind (policies.dossiers.MARKING_KIND). A member reads each comment at the level the
engine gives them of such a lead, through their compiled ``AccessFilter`` evaluated on the
comment node itself: read — text and author; hit — the author's agency and whom to call; none —
absent. ``DossierComment`` nodes name their ``dossier_id`` and are linked to nothing.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import neo4j

from graph.access import HIT, NONE, AccessFilter
from graph.dossiers._common import COMMENT, change, touch
from graph.dossiers.models import CommentView, DossierChange
from graph.handle import Graph
from graph.identity import Principal
from graph.records import plain, utc
from policies.dossiers import MARKING_KIND


def comments_for(tx: Any, dossier_id: str, access: AccessFilter) -> list[CommentView]:
    rows = tx.run(
        f"MATCH (l:{COMMENT} {{dossier_id: $id}}) "
        f"WITH l, {access.case_expression} AS access WHERE access <> '{NONE}' "
        "RETURN l {.comment_id, .agency, .created_at, .handling_code, .author_name, .text} AS c, access "
        "ORDER BY l.created_at, l.comment_id",
        id=dossier_id, **access.params)
    out = []
    for r in rows:
        c = plain(r["c"])
        if r["access"] == HIT:
            out.append(CommentView(comment_id=c["comment_id"], access="hit", agency=c["agency"],
                                   created_at=c["created_at"], contact=access.contacts.get(c["agency"])))
        else:
            out.append(CommentView(access="read", **c))
    return out


def add_comment(graph: Graph, dossier_id: str, *, actor: Principal, access: AccessFilter, text: str,
                handling_code: str | None, now: datetime, before_commit=None) -> CommentView:
    def work(tx: neo4j.Transaction, d: dict[str, Any]) -> tuple[CommentView, DossierChange]:
        code = handling_code or d["handling_code"]
        props = {"comment_id": f"C-{uuid.uuid4()}", "dossier_id": dossier_id, "agency": actor.agency,
                 "handling_code": code, "kind": MARKING_KIND.value, "text": text,
                 "author_name": actor.name, "author_user_id": actor.user_id, "created_at": utc(now)}
        tx.run(f"CREATE (c:{COMMENT}) SET c = $props", props=props).consume()
        touch(tx, dossier_id, utc(now))
        view = CommentView(access="read", **{k: props[k] for k in (
            "comment_id", "agency", "created_at", "handling_code", "author_name", "text")})
        return view, DossierChange(dossier_id=dossier_id, step="comment_added",
                                   entity_keys=[f"comment:{props['comment_id']}"],
                                   details={"handling_code": code})

    return change(graph, dossier_id, actor.user_id, access, work, before_commit=before_commit)
