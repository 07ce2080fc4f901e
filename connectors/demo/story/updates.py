"""Version 2 of a lead: what a later update changes (laboratory weights, a re-evaluated source, a
lifted restriction), as functions from the version-1 data to the version-2 data."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from connectors.demo.story.wording import seizure_fr
from hub.contract.lead import (
    HandlingCode,
    InformationCredibility,
    Seizure,
    SourceReliability,
    SubstanceQuantity,
)

def lab_update(note: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Version 2 of a seizure: weights confirmed by the laboratory (slightly different)."""

    def apply(data: dict[str, Any]) -> dict[str, Any]:
        s: Seizure = data["seizure"]
        subs = []
        for i, q in enumerate(s.substances):
            if q.quantity is not None and q.unit == "g":
                delta = Decimal(1) + Decimal((-1) ** i * (2 + i)) / Decimal(100)
                subs.append(SubstanceQuantity(substance=q.substance,
                                              quantity=(q.quantity * delta).quantize(Decimal("0.1")),
                                              unit="g"))
            else:
                subs.append(q)
        new = s.model_copy(update={"substances": subs})
        new = Seizure.model_validate(new.model_dump())
        return {**data, "seizure": new,
                "narrative": data["narrative"] + f" Mise à jour : {note} ({seizure_fr(new)}).",
                "information_credibility": InformationCredibility.CONFIRMED}

    return apply


def reevaluate_update(note: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Version 2 of a report: corroborated, so re-evaluated."""

    def apply(data: dict[str, Any]) -> dict[str, Any]:
        return {**data, "source_reliability": SourceReliability.B,
                "information_credibility": InformationCredibility.KNOWN_PERSONALLY,
                "narrative": data["narrative"] + f" Mise à jour : {note}"}

    return apply


def lift_restriction_update(note: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Version 2: the provider lifts its restriction once the operation is over."""

    def apply(data: dict[str, Any]) -> dict[str, Any]:
        return {**data, "handling_code": HandlingCode.H1, "restricted_to": [],
                "embargo_until": None, "narrative": data["narrative"] + f" Mise à jour : {note}"}

    return apply
