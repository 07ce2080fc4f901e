"""Record plumbing shared by every graph module: driver values to Python values and back.

Driver types (``neo4j.time.DateTime``…) never leave ``graph/``: each reader passes what it got
from a record through ``native``/``plain`` before building its pydantic model; each writer sends
instants in UTC (the graph stores UTC; the driver packs fixed offsets only and fails on ZoneInfo).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


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
