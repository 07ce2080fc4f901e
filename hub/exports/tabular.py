"""CSV export: ``nodes.csv``, ``edges.csv``, ``hits.csv`` and a ``LISEZMOI.txt`` (scope, marking)
in one zip. UTF-8 with BOM so spreadsheet software opens accents correctly; comma separated."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import UTC, datetime

from graph.models import Network
from hub.exports.common import NODE_COLUMNS, as_text, jsonable


def _csv(header: list[str], rows: list[list[str]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def nodes_csv(network: Network) -> bytes:
    rows = []
    for n in network.nodes:
        props = n.properties
        fixed = {"id": n.id, "kind": n.kind, "key": n.key, "label": n.label,
                 **{c: props.get(c) for c in NODE_COLUMNS[4:]}}
        rest = {k: jsonable(v) for k, v in props.items() if k not in NODE_COLUMNS}
        rows.append([as_text(fixed[c]) for c in NODE_COLUMNS]
                    + [json.dumps(rest, ensure_ascii=False, sort_keys=True) if rest else ""])
    return _csv([*NODE_COLUMNS, "properties"], rows)


def edges_csv(network: Network) -> bytes:
    rows = [[e.source, e.target, e.type, as_text(e.agency), as_text(e.lead_id),
             json.dumps(jsonable(e.properties), ensure_ascii=False, sort_keys=True) if e.properties else ""]
            for e in network.edges]
    return _csv(["source", "target", "type", "agency", "lead_id", "properties"], rows)


def hits_csv(network: Network) -> bytes:
    rows = [[h.entity, h.agency, str(h.lead_count), as_text(h.contact)] for h in network.hits]
    return _csv(["entity", "agency", "lead_count", "contact"], rows)


def readme(network: Network) -> bytes:
    from hub.exports import handling_code

    code = handling_code(network)
    return (
        "Export CROSS Hub — réseau d'entité\n"
        f"Ancre : {network.anchor}\nProfondeur : {network.depth}\n"
        f"Généré le : {datetime.now(UTC).isoformat()}\n"
        f"Code de traitement (le plus strict des pistes) : {code}\n"
        f"Tronqué : {'oui' if network.truncated else 'non'}\n\n"
        "nodes.csv : pistes et entités consultables (colonne access : niveau d'accès)\n"
        "edges.csv : liens, avec le service et la piste qui les affirment\n"
        "hits.csv : pistes d'autres services non consultables (hit/no-hit) : service et contact\n\n"
        "Diffusion restreinte. Chaque piste porte son code de traitement ; respecter celui-ci.\n"
    ).encode()


def to_zip(network: Network) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("nodes.csv", nodes_csv(network))
        z.writestr("edges.csv", edges_csv(network))
        z.writestr("hits.csv", hits_csv(network))
        z.writestr("LISEZMOI.txt", readme(network))
    return buf.getvalue()
