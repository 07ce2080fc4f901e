"""Dossiers in the graph (ADR 0019): shared multi-agency investigations — one module per
aggregate (``dossiers``: create, list, read, members, close and reopen; ``links``: linked leads
and entities; ``tasks``; ``comments``; ``agenda``: overdue dossiers for the meeting; ``outcomes``:
what hit rates count), records in ``models``, the shared lookup and audited write in
``_common``. The rules are policies/dossiers.py's; every level is the access engine's, evaluated
through the reader's compiled ``AccessFilter``.
"""

from __future__ import annotations

from graph.dossiers.agenda import overdue_dossiers, overdue_for
from graph.dossiers.comments import add_comment
from graph.dossiers.dossiers import (
    SCHEMA,
    add_member,
    eligible_members,
    close_dossier,
    create_dossier,
    get_dossier,
    list_for,
    remove_member,
    reopen_dossier,
    set_handling_code,
)
from graph.dossiers.links import LINKABLE_KINDS, entity_kind, set_entity_link, set_lead_link
from graph.dossiers.models import (
    CommentView,
    DossierChange,
    DossierSummary,
    DossierView,
    LinkedEntity,
    LinkedLead,
    Member,
    OverdueDossier,
    TaskView,
)
from graph.dossiers.outcomes import linked_lead_facts
from graph.dossiers.tasks import add_task, update_task

__all__ = [
    "LINKABLE_KINDS", "SCHEMA", "CommentView", "DossierChange", "DossierSummary", "DossierView",
    "LinkedEntity", "LinkedLead", "Member", "OverdueDossier", "TaskView", "add_comment", "add_member",
    "add_task", "close_dossier", "create_dossier", "eligible_members", "entity_kind", "get_dossier", "linked_lead_facts",
    "list_for", "overdue_dossiers", "overdue_for", "remove_member", "reopen_dossier",
    "set_entity_link", "set_handling_code", "set_lead_link", "update_task",
]
