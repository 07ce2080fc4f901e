"""The records of dossiers (graph/dossiers/) as the API answers them: a dossier seen by one
member — at the level the access engine gives them of the dossier record, of each comment and of
each linked lead or entity — its members, tasks and comments, and the agenda's overdue dossiers.

Nothing here is decided: levels come from the caller's compiled ``AccessFilter`` (graph/access.py)
and the rules from policies/dossiers.py.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from graph.models import Hit, LeadView, NetworkNode


class Member(BaseModel):
    user_id: str
    name: str
    agency: str
    role: str
    added_at: datetime
    added_by: str = Field(description="Nom de la personne qui l'a ajouté")


class TaskView(BaseModel):
    task_id: str
    title: str
    assignee_user_id: str
    assignee_name: str
    due_date: date
    done: bool
    done_at: datetime | None = None
    overdue: bool = Field(description="Échéance dépassée et tâche non faite")
    created_at: datetime
    created_by: str
    updated_at: datetime


class CommentView(BaseModel):
    """A comment at the member's level: ``read`` — its text and author; ``hit`` — only the
    author's agency and whom to call (a comment the member may not even know of is absent)."""

    comment_id: str
    access: Literal["read", "hit"]
    agency: str
    created_at: datetime
    handling_code: str | None = None
    author_name: str | None = None
    text: str | None = None
    contact: str | None = None


class LinkedLead(BaseModel):
    """A lead linked to the dossier, at the member's level now: the lead (full or redacted) or a
    hit (its agency, whom to call, the member's hit handle; never the lead's id)."""

    access: Literal["full", "redacted", "hit"]
    lead: LeadView | None = None
    hit: Hit | None = None


class LinkedEntity(BaseModel):
    """An entity linked to the dossier: readable — the entity (``node``); hit — its kind and the
    hits on it, not its key."""

    kind: str
    access: Literal["read", "hit"]
    node: NetworkNode | None = None
    hits: list[Hit] = Field(default_factory=list)


class DossierSummary(BaseModel):
    """One dossier of the member's list. ``access`` ``hit``: its lead agency and whom to call
    only (the dossier's code does not let the member read it)."""

    dossier_id: str
    access: Literal["read", "hit"]
    agency: str
    contact: str | None = None
    title: str | None = None
    handling_code: str | None = None
    status: str | None = None
    outcome: str | None = None
    created_at: datetime | None = None
    member_count: int | None = None
    open_tasks: int | None = None
    overdue_tasks: int | None = None


class DossierView(DossierSummary):
    outcome_label_fr: str | None = None
    closed_at: datetime | None = None
    closing_note: str | None = None
    may_manage: bool = False
    members: list[Member] = Field(default_factory=list)
    leads: list[LinkedLead] = Field(default_factory=list)
    entities: list[LinkedEntity] = Field(default_factory=list)
    tasks: list[TaskView] = Field(default_factory=list)
    comments: list[CommentView] = Field(default_factory=list)


class DossierChange(BaseModel):
    """What a change did, for the audit entry (never returned as is)."""

    dossier_id: str
    step: str
    lead_ids: list[str] = Field(default_factory=list)
    entity_keys: list[str] = Field(default_factory=list)
    details: dict[str, str | int | bool | None] = Field(default_factory=dict)


class OverdueDossier(BaseModel):
    """An open dossier with overdue tasks, on the agenda of a member who may read it."""

    dossier_id: str
    title: str
    agency: str
    overdue_tasks: int
    oldest_due: date
    assignees: list[str] = Field(default_factory=list)
