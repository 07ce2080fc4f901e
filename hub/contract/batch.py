"""Validation of an ingest batch item by item: a bad item is rejected with its exact field paths
and reasons, the others go on. Contract-level only — no graph, no HTTP."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from hub.contract.lead import ItemError, ItemOutcome, ItemResult, Lead
from hub.contract.validation import item_errors


def validate_items(
    items: list[Any], *, allowed_agencies: set[str] | None = None
) -> tuple[list[tuple[int, Lead]], dict[int, ItemResult]]:
    """Return the valid leads with their batch index, and the rejections by index.

    ``allowed_agencies``: a connector may push only its own agency's leads (None = any).
    """
    valid: list[tuple[int, Lead]] = []
    rejected: dict[int, ItemResult] = {}
    for index, raw in enumerate(items):
        prefix = f"leads[{index}]"
        if not isinstance(raw, dict):
            rejected[index] = ItemResult(index=index, outcome=ItemOutcome.REJECTED, errors=[
                ItemError(field=prefix, reason="objet piste attendu")])
            continue
        try:
            lead = Lead.model_validate(raw)
        except ValidationError as exc:
            rejected[index] = ItemResult(index=index, outcome=ItemOutcome.REJECTED,
                                         errors=item_errors(exc, prefix))
            continue
        if allowed_agencies is not None and lead.source_agency.value not in allowed_agencies:
            rejected[index] = ItemResult(index=index, source_ref=lead.source_ref,
                                         outcome=ItemOutcome.REJECTED, errors=[ItemError(
                field=f"{prefix}.source_agency",
                reason=f"ce connecteur ne peut transmettre que les pistes de : "
                       f"{', '.join(sorted(allowed_agencies))}")])
            continue
        valid.append((index, lead))
    return valid, rejected
