"""Periodic access reviews, the graph side (the rules — how often, by when, who reviews — are
``policies/accounts.py``; the daily job that opens and flags them is hub/jobs/accounts.py).

Owns ``(:AccessReview {review_id, opened_at, due_at, opened_by, closed_at, flagged_at})`` and one
``(:AccessReviewItem {item_key, review_id, user_id, name, agency, role, created_at,
last_used_at, decision, decided_by, decided_at})`` per account enabled when the review opened —
a snapshot of what the reviewer is asked about (role, agency, last use) — its ``decision``
(``confirmed`` | ``disabled``) set once. A ``disabled`` decision disables the account and ends its
rights in the same transaction (graph/identity/lifecycle.py). A review closes when every item is
decided; one past ``due_at`` with items undecided is flagged once, and its notice goes to the
administrators.

Bookkeeping nodes, never linked: analysis reads never traverse them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import neo4j
from pydantic import BaseModel

from graph.grants.models import NotificationKind
from graph.grants.notifications import notify_many
from graph.handle import Graph
from graph.identity.lifecycle import REVIEW, AccountChange, disable_account
from graph.labels import KEY_PROPERTY, Label
from graph.records import plain, utc
from hub.contract.errors import Conflict, InvalidInput, NotFound

_R, _I = Label.ACCESS_REVIEW.value, Label.ACCESS_REVIEW_ITEM.value

SCHEMA: list[str] = [
    *(f"CREATE CONSTRAINT {label.value.lower()}_{KEY_PROPERTY[label]}_unique IF NOT EXISTS "
      f"FOR (n:{label.value}) REQUIRE n.{KEY_PROPERTY[label]} IS UNIQUE"
      for label in (Label.ACCESS_REVIEW, Label.ACCESS_REVIEW_ITEM)),
    f"CREATE INDEX access_review_item_review IF NOT EXISTS FOR (n:{_I}) ON (n.review_id)",
    f"CREATE INDEX access_review_opened IF NOT EXISTS FOR (n:{_R}) ON (n.opened_at)",
]

DECISIONS = ("confirmed", "disabled")


class ReviewItem(BaseModel):
    review_id: str
    user_id: str
    name: str
    agency: str
    role: str
    created_at: datetime | None = None
    last_used_at: datetime | None = None
    decision: str | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None


class AccessReview(BaseModel):
    review_id: str
    opened_at: datetime
    due_at: datetime
    opened_by: str
    closed_at: datetime | None = None
    flagged_at: datetime | None = None
    accounts: int = 0
    pending: int = 0


def _review(props: dict[str, Any], accounts: int, pending: int) -> AccessReview:
    p = plain(props)
    return AccessReview(accounts=accounts, pending=pending,
                        **{k: v for k, v in p.items() if k in AccessReview.model_fields})


def _item(props: dict[str, Any]) -> ReviewItem:
    return ReviewItem(**{k: v for k, v in plain(props).items() if k in ReviewItem.model_fields})


_COUNTS = (f"COUNT {{ MATCH (i:{_I} {{review_id: r.review_id}}) }} AS accounts, "
           f"COUNT {{ MATCH (i:{_I} {{review_id: r.review_id}}) WHERE i.decision IS NULL }} AS pending")


def open_review(graph: Graph, *, now: datetime, due_at: datetime, opened_by: str,
                reviewer_role: str, message: Callable[[datetime, int], str],
                before_commit: Callable[[AccessReview], None] | None = None) -> AccessReview:
    """Open a review of every enabled account, telling each enabled ``reviewer_role`` user."""
    now, due_at = utc(now), utc(due_at)
    review_id = f"rv-{uuid.uuid4().hex[:12]}"

    def work(tx: neo4j.Transaction) -> AccessReview:
        tx.run(f"CREATE (r:{_R} {{review_id: $id, opened_at: $now, due_at: $due, opened_by: $by}})",
               id=review_id, now=now, due=due_at, by=opened_by).consume()
        n = tx.run(
            f"MATCH (u:User) WHERE NOT coalesce(u.disabled, false) "
            f"CREATE (i:{_I} {{item_key: $id + '|' + u.user_id, review_id: $id, "
            f"  user_id: u.user_id, name: u.name, agency: u.agency, role: u.role, "
            f"  created_at: u.created_at, last_used_at: u.last_used_at}}) RETURN count(i) AS n",
            id=review_id).single()["n"]
        reviewers = tx.run("MATCH (u:User {role: $role}) WHERE NOT coalesce(u.disabled, false) "
                           "RETURN u.user_id AS uid, u.agency AS agency", role=reviewer_role).data()
        notify_many(tx, [(r["agency"], r["uid"], NotificationKind.ACCESS_REVIEW_OPENED,
                          message(due_at, n), {"review_id": review_id}) for r in reviewers], now)
        review = AccessReview(review_id=review_id, opened_at=now, due_at=due_at,
                              opened_by=opened_by, accounts=n, pending=n)
        if before_commit:
            before_commit(review)
        return review

    return graph.write_once(work)


def latest_review(graph: Graph) -> AccessReview | None:
    records = graph.query(f"MATCH (r:{_R}) WITH r ORDER BY r.opened_at DESC LIMIT 1 "
                          f"RETURN r {{.*}} AS r, {_COUNTS}", read_=True)
    return _review(records[0]["r"], records[0]["accounts"], records[0]["pending"]) if records else None


def get_review(graph: Graph, review_id: str) -> AccessReview:
    records = graph.query(f"MATCH (r:{_R} {{review_id: $id}}) RETURN r {{.*}} AS r, {_COUNTS}",
                          id=review_id, read_=True)
    if not records:
        raise NotFound(f"revue des accès inconnue : {review_id}")
    return _review(records[0]["r"], records[0]["accounts"], records[0]["pending"])


def review_items(graph: Graph, review_id: str) -> list[ReviewItem]:
    records = graph.query(f"MATCH (i:{_I} {{review_id: $id}}) RETURN i {{.*}} AS i "
                          "ORDER BY i.agency, i.user_id", id=review_id, read_=True)
    return [_item(r["i"]) for r in records]


def decide_item(graph: Graph, review_id: str, user_id: str, *, decision: str, by: str,
                now: datetime,
                before_commit: Callable[[ReviewItem, AccountChange | None], None] | None = None,
                ) -> tuple[ReviewItem, AccountChange | None]:
    """Confirm or disable one account of a review (once). ``disabled`` ends the account's rights
    in the same transaction. The review closes with its last decision."""
    if decision not in DECISIONS:
        raise InvalidInput("décision inconnue", details=[
            {"field": "decision", "reason": "« confirmed » ou « disabled » attendu"}])
    now = utc(now)

    def work(tx: neo4j.Transaction) -> tuple[ReviewItem, AccountChange | None]:
        key = f"{review_id}|{user_id}"
        row = tx.run(f"MATCH (i:{_I} {{item_key: $key}}) SET i.revision = coalesce(i.revision, 0) + 1 "
                     "RETURN i {.*} AS i", key=key).single()
        if row is None:
            raise NotFound(f"compte absent de la revue {review_id} : {user_id}")
        if row["i"].get("decision") is not None:
            raise Conflict(f"compte déjà revu : {user_id}",
                           details=[{"field": "decision", "reason": "décision déjà prise"}])
        change = None
        if decision == "disabled":
            disabled = tx.run("MATCH (u:User {user_id: $uid}) RETURN coalesce(u.disabled, false) AS d",
                              uid=user_id).single()
            if disabled is not None and not disabled["d"]:
                change = disable_account(graph, user_id, reason=REVIEW, by=by, now=now, tx=tx)
        updated = tx.run(f"MATCH (i:{_I} {{item_key: $key}}) SET i.decision = $d, "
                         "i.decided_by = $by, i.decided_at = $now RETURN i {.*} AS i",
                         key=key, d=decision, by=by, now=now).single()
        tx.run(f"MATCH (r:{_R} {{review_id: $id}}) WHERE r.closed_at IS NULL "
               f"AND NOT EXISTS {{ MATCH (i:{_I} {{review_id: $id}}) WHERE i.decision IS NULL }} "
               "SET r.closed_at = $now", id=review_id, now=now).consume()
        item = _item(updated["i"])
        if before_commit:
            before_commit(item, change)
        return item, change

    return graph.write_once(work)


def flag_overdue(graph: Graph, *, now: datetime, notify_role: str,
                 message: Callable[[str, int, datetime], str],
                 before_commit: Callable[[list[AccessReview]], None] | None = None,
                 ) -> list[AccessReview]:
    """Flag, once, every open review past its deadline with accounts undecided, and tell every
    enabled ``notify_role`` user."""
    now = utc(now)

    def work(tx: neo4j.Transaction) -> list[AccessReview]:
        rows = tx.run(
            f"MATCH (r:{_R}) WHERE r.closed_at IS NULL AND r.flagged_at IS NULL AND r.due_at <= $now "
            f"WITH r, COUNT {{ MATCH (i:{_I} {{review_id: r.review_id}}) WHERE i.decision IS NULL }} AS pending "
            "WHERE pending > 0 SET r.flagged_at = $now "
            f"RETURN r {{.*}} AS r, COUNT {{ MATCH (i:{_I} {{review_id: r.review_id}}) }} AS accounts, pending",
            now=now).data()
        flagged = [_review(r["r"], r["accounts"], r["pending"]) for r in rows]
        if flagged:
            admins = tx.run("MATCH (u:User {role: $role}) WHERE NOT coalesce(u.disabled, false) "
                            "RETURN u.user_id AS uid, u.agency AS agency", role=notify_role).data()
            notify_many(tx, [(a["agency"], a["uid"], NotificationKind.ACCESS_REVIEW_OVERDUE,
                              message(r.review_id, r.pending, r.due_at),
                              {"review_id": r.review_id}) for r in flagged for a in admins], now)
            if before_commit:
                before_commit(flagged)
        return flagged

    return graph.write_once(work)
