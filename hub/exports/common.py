"""What every export format shares: how a property value becomes text, and the node columns
every format names explicitly."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

# Node properties given their own column/attribute; the rest go in a JSON ``properties`` field
# (CSV) or in per-property attributes (GraphML, ANX).
NODE_COLUMNS = ("id", "kind", "key", "label", "agency", "handling_code", "access", "reported_at")


def as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | dict | tuple):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    if hasattr(value, "iso_format"):  # neo4j temporal types, should any slip through
        return value.iso_format()
    return str(value)


def jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    return value
