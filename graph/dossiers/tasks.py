"""A dossier's tasks: create, update (title, assignee, due date), complete and undo — each
assigned to a member of the dossier (policies.dossiers.check_assignee) — and their list with
whether each is overdue. ``DossierTask`` nodes name their ``dossier_id``; they are linked to
nothing and read only through a dossier the reader may read.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import neo4j

from graph.access import AccessFilter
from graph.dossiers._common import TASK, change, members_of, touch
from graph.dossiers.models import DossierChange, TaskView
from graph.handle import Graph
from graph.identity import Principal
from graph.records import plain, utc
from hub.contract.errors import NotFound
from policies.dossiers import check_assignee, is_overdue

_SHOWN = ("task_id", "title", "assignee_user_id", "assignee_name", "due_date", "done", "done_at",
          "created_at", "created_by", "updated_at")


def _view(p: dict[str, Any], today: date) -> TaskView:
    due = p["due_date"]
    due = due.to_native() if hasattr(due, "to_native") else due
    return TaskView(**{**{k: p.get(k) for k in _SHOWN}, "due_date": due},
                    overdue=is_overdue(due, bool(p.get("done")), today))


def tasks_of(tx: Any, dossier_id: str, today: date) -> list[TaskView]:
    rows = tx.run(f"MATCH (t:{TASK} {{dossier_id: $id}}) RETURN t {{.*}} AS t "
                  "ORDER BY t.done, t.due_date, t.created_at", id=dossier_id)
    return [_view(plain(r["t"]), today) for r in rows]


def _assignee_name(d: dict[str, Any], user_id: str) -> str:
    members = members_of(d)
    check_assignee(user_id, [m.user_id for m in members])
    return next(m.name for m in members if m.user_id == user_id)


def add_task(graph: Graph, dossier_id: str, *, actor: Principal, access: AccessFilter, title: str,
             assignee_user_id: str, due_date: date, now: datetime, today: date,
             before_commit=None) -> TaskView:
    def work(tx: neo4j.Transaction, d: dict[str, Any]) -> tuple[TaskView, DossierChange]:
        name = _assignee_name(d, assignee_user_id)
        props = {"task_id": f"T-{uuid.uuid4()}", "dossier_id": dossier_id, "title": title,
                 "assignee_user_id": assignee_user_id, "assignee_name": name, "due_date": due_date,
                 "done": False, "created_at": utc(now), "created_by": actor.name, "updated_at": utc(now)}
        tx.run(f"CREATE (t:{TASK}) SET t = $props", props=props).consume()
        touch(tx, dossier_id, utc(now))
        return _view(props, today), DossierChange(
            dossier_id=dossier_id, step="task_created", entity_keys=[f"task:{props['task_id']}"],
            details={"assignee": assignee_user_id, "due_date": due_date.isoformat()})

    return change(graph, dossier_id, actor.user_id, access, work, before_commit=before_commit)


def update_task(graph: Graph, dossier_id: str, task_id: str, *, actor: Principal,
                access: AccessFilter, fields: dict[str, Any], now: datetime, today: date,
                before_commit=None) -> TaskView:
    """Change what ``fields`` names (title, assignee_user_id, due_date, done). Completing
    (``done`` true) records when; undoing clears it."""

    def work(tx: neo4j.Transaction, d: dict[str, Any]) -> tuple[TaskView, DossierChange]:
        row = tx.run(f"MATCH (t:{TASK} {{task_id: $tid}}) WHERE t.dossier_id = $id RETURN t {{.*}} AS t",
                     tid=task_id, id=dossier_id).single()
        if row is None:
            raise NotFound(f"tâche inconnue : {task_id}")
        before = plain(row["t"])
        update: dict[str, Any] = {"updated_at": utc(now)}
        if "title" in fields:
            update["title"] = fields["title"]
        if "assignee_user_id" in fields:
            update["assignee_user_id"] = fields["assignee_user_id"]
            update["assignee_name"] = _assignee_name(d, fields["assignee_user_id"])
        if "due_date" in fields:
            update["due_date"] = fields["due_date"]
        step = "task_updated"
        if "done" in fields and bool(fields["done"]) != bool(before.get("done")):
            update["done"] = bool(fields["done"])
            update["done_at"] = utc(now) if fields["done"] else None
            step = "task_completed" if fields["done"] else "task_reopened"
        tx.run(f"MATCH (t:{TASK} {{task_id: $tid}}) SET t += $update", tid=task_id, update=update).consume()
        touch(tx, dossier_id, utc(now))
        after = {**before, **update}
        return _view(after, today), DossierChange(
            dossier_id=dossier_id, step=step, entity_keys=[f"task:{task_id}"],
            details={"fields": ",".join(sorted(k for k in fields))})

    return change(graph, dossier_id, actor.user_id, access, work, before_commit=before_commit)
