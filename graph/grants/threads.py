"""The thread of a disclosure request: questions and answers between the requester and the
holding agency (and the CROSS coordinator once the request is escalated), kept with the request
and audited message by message.

Owns ``(:DisclosureMessage {message_id, request_id, author_user_id, author_name,
author_agency, side, text, created_at})``: bookkeeping nodes keyed by ``request_id``, never
traversed by analysis reads. Who may read or write is policy (``policies.disclosure.
thread_side``), decided by the hub before it calls here; the text has passed the hub's identity
guard like a lead's narrative. Posting locks the request, so the bound on messages per request
holds under concurrent posts; the other side is notified in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import neo4j

from graph.grants._common import lock, new_id
from graph.grants.disclosures import request_record
from graph.grants.models import DisclosureMessage, NotificationKind
from graph.grants.notifications import Notice, notify_many
from graph.handle import Graph
from graph.labels import Label
from graph.records import plain, utc
from hub.contract.errors import Conflict, NotFound

_FIELDS = tuple(DisclosureMessage.model_fields)


def _message(props: dict) -> DisclosureMessage:
    return DisclosureMessage(**{k: v for k, v in plain(props).items() if k in _FIELDS})


def post_message(
    graph: Graph, request_id: str, *, author_user_id: str, author_name: str,
    author_agency: str, side: str, text: str, now: datetime, max_messages: int,
    notice: str,
    before_commit: Callable[[DisclosureMessage], None] | None = None,
) -> DisclosureMessage:
    """Add a message to the request's thread and notify the other side (the requester, or the
    holding agency's deciders; ``notice`` is the French text). 404 unknown request; 409 when
    the thread already holds ``max_messages``."""
    now = utc(now)

    def work(tx: neo4j.Transaction) -> DisclosureMessage:
        current = lock(tx, Label.DISCLOSURE_REQUEST, request_id)
        if current is None:
            raise NotFound(f"demande de communication inconnue : {request_id}")
        record = request_record(current)
        count = tx.run(
            f"MATCH (m:{Label.DISCLOSURE_MESSAGE.value} {{request_id: $id}}) RETURN count(m) AS n",
            id=request_id).single()["n"]
        if count >= max_messages:
            raise Conflict(f"l'échange de la demande {request_id} a atteint {max_messages} messages",
                           details=[{"field": "text", "reason": "nombre maximal de messages atteint"}])
        props = {"message_id": new_id("dm"), "request_id": request_id,
                 "author_user_id": author_user_id, "author_name": author_name,
                 "author_agency": author_agency, "side": side, "text": text, "created_at": now}
        row = tx.run(f"CREATE (m:{Label.DISCLOSURE_MESSAGE.value}) SET m = $props "
                     f"RETURN m {{.*}} AS m", props=props).single()
        message = _message(row["m"])
        payload: dict[str, str | None] = {"request_id": request_id, "lead_id": record.lead_id}
        notices: list[Notice] = []
        if side != "requester":
            notices.append((record.requester_agency, record.requester_user_id,
                            NotificationKind.DISCLOSURE_MESSAGE, notice, payload))
        if side != "holder":
            notices.append((record.owner_agency, None, NotificationKind.DISCLOSURE_MESSAGE,
                            notice, payload))
        notify_many(tx, notices, now)  # the last write of the transaction (notifications.py)
        if before_commit:
            before_commit(message)
        return message

    return graph.write_once(work)


def list_messages(graph: Graph, request_id: str, *, limit: int = 1000) -> list[DisclosureMessage]:
    """The request's thread, oldest first."""
    records = graph.query(
        f"MATCH (m:{Label.DISCLOSURE_MESSAGE.value} {{request_id: $id}}) "
        f"RETURN m {{.*}} AS m ORDER BY m.created_at, m.message_id LIMIT $limit",
        id=request_id, limit=limit, read_=True)
    return [_message(r["m"]) for r in records]
