"""Exports of a network (graph.read.network, already filtered by the caller's policy) into the
formats analysts' tools read: CSV (nodes, edges and hits, zipped), GraphML (Gephi, yEd), the i2
Analyst's Notebook exchange format (ANX) and FollowTheMoney entities (JSON lines).

Pure serializers: they see only the ``Network`` the policy let through, so an export can never
hold more than the caller could read on screen. Every export carries its handling code (the
strictest of its leads) and is audited as a disclosure by the router; given the copy's mark
(hub/watermark), each format carries it too — visibly and as the traceable token (ADR 0026).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from graph.meetings import strictest
from graph.models import Network
from hub.contract.lead import HandlingCode
from hub.watermark import IssuedMark


class ExportFormat(StrEnum):
    CSV = "csv"
    GRAPHML = "graphml"
    ANX = "anx"
    FTM = "ftm"


@dataclass(frozen=True)
class ExportFile:
    content: bytes
    media_type: str
    extension: str


def handling_code(network: Network) -> str:
    """The strictest handling code (H3 > H2 > H1 > H0) of the leads whose content the export
    holds: its lead nodes, which carry every edge and every entity shown (an entity, a seizure
    included, is reached only through a lead the caller reads — graph.read). H0 when it holds
    none: hits are pointers (agency, count, contact), and their leads' codes are not the
    caller's to learn. A lead named by an edge or node but absent from the nodes (its code
    unknown here) makes the export H3: never under-mark."""
    leads = {n.key: n.properties.get("handling_code") for n in network.nodes if n.kind == "lead"}
    named = {e.lead_id for e in network.edges if e.lead_id}
    if named - leads.keys() or any(not c for c in leads.values()):
        return HandlingCode.H3.value
    return strictest(set(leads.values())).value


def export(network: Network, fmt: ExportFormat, mark: IssuedMark | None = None) -> ExportFile:
    from hub.exports import anx, ftm, graphml, tabular

    if fmt is ExportFormat.CSV:
        return ExportFile(tabular.to_zip(network, mark), "application/zip", "zip")
    if fmt is ExportFormat.GRAPHML:
        return ExportFile(graphml.to_graphml(network, mark), "application/graphml+xml", "graphml")
    if fmt is ExportFormat.ANX:
        return ExportFile(anx.to_anx(network, mark), "application/xml", "anx")
    return ExportFile(ftm.to_ftm(network, mark), "application/x-ndjson", "ftm.jsonl")


__all__ = ["ExportFile", "ExportFormat", "export", "handling_code"]
