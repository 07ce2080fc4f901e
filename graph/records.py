"""Record plumbing shared by every graph module: driver values to Python values and back, and
the one lookup of a node by its key.

Driver types (``neo4j.time.DateTime``…) never leave ``graph/``: each reader passes what it got
from a record through ``native``/``plain`` before building its pydantic model; each writer sends
instants in UTC (the graph stores UTC; the driver packs fixed offsets only and fails on ZoneInfo).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from graph.labels import KEY_PROPERTY, Label
from hub.contract.errors import NotFound

if TYPE_CHECKING:
    from graph.handle import Graph


def native(value: Any) -> Any:
    """A driver value as its Python value (temporal types to ``datetime``/``date``), else as is."""
    return value.to_native() if hasattr(value, "to_native") else value


def plain(props: dict[str, Any] | None) -> dict[str, Any]:
    """Node or map properties with every value made native (``None`` gives ``{}``)."""
    return {k: native(v) for k, v in (props or {}).items()}


def utc(value: datetime | None) -> datetime | None:
    """An instant in UTC, for a query parameter (``None`` stays ``None``)."""
    return value.astimezone(UTC) if value is not None else None


def utc_text(value: datetime | None) -> str | None:
    """An instant as UTC ISO text, made a DateTime by Cypher's ``datetime()`` on the server:
    cheaper than the driver packing Python datetimes in bulk writes."""
    return value.astimezone(UTC).isoformat() if value is not None else None


def node_by_key(graph: Graph, label: Label, key: str, unknown_fr: str) -> dict[str, Any]:
    """The properties of the ``label`` node whose key property (``labels.KEY_PROPERTY``) is
    ``key``, plain; ``NotFound`` with « <unknown_fr> : <key> » when there is none. The lookup
    every aggregate repeats (a user, a meeting, a guest grant, a disclosure request)."""
    records = graph.query(
        f"MATCH (n:{label.value} {{{KEY_PROPERTY[label]}: $key}}) RETURN n {{.*}} AS n",
        key=key, read_=True,
    )
    if not records:
        raise NotFound(f"{unknown_fr} : {key}")
    return records[0]["n"]
