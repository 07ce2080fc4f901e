"""Dossiers on the meeting agenda and in the brief: the open dossiers with overdue tasks that a
participant is a member of and may read (the access engine on the dossier's marking)."""

from __future__ import annotations

from datetime import date
from typing import Any

from graph.access import HIT, NONE, AccessFilter
from graph.dossiers._common import DOSSIER, TASK
from graph.dossiers.models import OverdueDossier
from graph.handle import Graph
from policies.dossiers import DossierStatus


def overdue_dossiers(tx: Any, user_id: str, access: AccessFilter, today: date) -> list[OverdueDossier]:
    rows = tx.run(
        f"MATCH (l:{DOSSIER}) WHERE l.status = $open AND $uid IN l.members "
        f"WITH l, {access.case_expression} AS access WHERE NOT access IN ['{NONE}', '{HIT}'] "
        f"MATCH (t:{TASK} {{dossier_id: l.dossier_id}}) WHERE NOT t.done AND t.due_date < $today "
        "WITH l, count(t) AS n, min(t.due_date) AS oldest, collect(DISTINCT t.assignee_name) AS who "
        "RETURN l.dossier_id AS dossier_id, l.title AS title, l.agency AS agency, n, oldest, who "
        "ORDER BY oldest, dossier_id LIMIT 100",
        open=DossierStatus.OPEN.value, uid=user_id, today=today, **access.params)
    return [OverdueDossier(dossier_id=r["dossier_id"], title=r["title"], agency=r["agency"],
                           overdue_tasks=r["n"], oldest_due=r["oldest"].to_native(),
                           assignees=sorted(r["who"])) for r in rows]


def overdue_for(graph: Graph, user_id: str, access: AccessFilter, today: date) -> list[OverdueDossier]:
    return graph.read(lambda tx: overdue_dossiers(tx, user_id, access, today))
