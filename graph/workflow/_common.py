"""What the workflow modules share: a model as node properties, and the access check of the one
lead a triage read or a status change is about."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from graph.access import HIT, NONE, AccessFilter
from graph.records import utc
from hub.contract.errors import Forbidden, NotFound


def node_props(model: BaseModel, exclude: set[str] | None = None) -> dict[str, Any]:
    """A model as node properties: enums as their values, datetimes in UTC, nulls left out."""
    out = {}
    for k, v in model.model_dump(exclude=exclude).items():
        if v is None:
            continue
        if isinstance(v, datetime):
            v = utc(v)
        elif isinstance(v, str):
            v = str(v)  # StrEnum -> plain str
        elif isinstance(v, list):
            v = [str(x) if isinstance(x, str) else x for x in v]
        out[k] = v
    return out


def lead_access(tx: Any, lead_id: str, access: AccessFilter) -> tuple[str, str]:
    """(agency, access level) of a lead the caller may read; NotFound when it does not exist or
    the caller may not even know of it, Forbidden when they may only know it exists."""
    row = tx.run(
        f"MATCH (l:Lead {{lead_id: $lead_id}}) WHERE l.version > 0 "
        f"WITH l, {access.case_expression} AS access RETURN l.agency AS agency, access",
        lead_id=lead_id, **access.params,
    ).single()
    if row is None or row["access"] == NONE:
        raise NotFound(f"piste inconnue : {lead_id}")
    if row["access"] == HIT:
        contact = access.contacts.get(row["agency"])
        raise Forbidden(
            f"vous ne connaissez de la piste {lead_id} que son existence (hit) : "
            f"s'adresser au service d'origine{f' ({contact})' if contact else ''}")
    return row["agency"], row["access"]
