"""CSV export: ``nodes.csv``, ``edges.csv``, ``hits.csv`` and a ``LISEZMOI.txt`` (scope, marking)
in one zip. UTF-8 with BOM so spreadsheet software opens accents correctly; comma separated.

The copy's mark (ADR 0026): every CSV gets a last column ``marquage`` holding, on every row, the
visible mark (recipient, date, justification, handling code, short code) — a column rather than
a header or footer line, so the files still import as plain tables and any rows pasted elsewhere
keep naming their copy; ``LISEZMOI.txt`` opens with the mark and the token, also the zip's
comment."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import UTC, datetime

from graph.models import Network
from hub.exports.common import NODE_COLUMNS, as_text, jsonable
from hub.watermark import IssuedMark

MARK_COLUMN = "marquage"


def _csv(header: list[str], rows: list[list[str]], mark: IssuedMark | None = None) -> bytes:
    if mark is not None:
        text = mark.text_fr()
        header, rows = [*header, MARK_COLUMN], [[*r, text] for r in rows]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def nodes_csv(network: Network, mark: IssuedMark | None = None) -> bytes:
    rows = []
    for n in network.nodes:
        props = n.properties
        fixed = {"id": n.id, "kind": n.kind, "key": n.key, "label": n.label,
                 **{c: props.get(c) for c in NODE_COLUMNS[4:]}}
        rest = {k: jsonable(v) for k, v in props.items() if k not in NODE_COLUMNS}
        rows.append([as_text(fixed[c]) for c in NODE_COLUMNS]
                    + [json.dumps(rest, ensure_ascii=False, sort_keys=True) if rest else ""])
    return _csv([*NODE_COLUMNS, "properties"], rows, mark)


def edges_csv(network: Network, mark: IssuedMark | None = None) -> bytes:
    rows = [[e.source, e.target, e.type, as_text(e.agency), as_text(e.lead_id),
             json.dumps(jsonable(e.properties), ensure_ascii=False, sort_keys=True) if e.properties else ""]
            for e in network.edges]
    return _csv(["source", "target", "type", "agency", "lead_id", "properties"], rows, mark)


def hits_csv(network: Network, mark: IssuedMark | None = None) -> bytes:
    rows = [[h.entity, h.agency, str(h.lead_count), as_text(h.contact)] for h in network.hits]
    return _csv(["entity", "agency", "lead_count", "contact"], rows, mark)


def readme(network: Network, mark: IssuedMark | None = None) -> bytes:
    from hub.exports import handling_code

    code = handling_code(network)
    marking = ("\n".join(mark.lines_fr()) + f"\nMarque : {mark.token}\n\n") if mark else ""
    return (
        marking
        + "Export CROSS Hub — réseau d'entité\n"
        f"Ancre : {network.anchor}\nProfondeur : {network.depth}\n"
        f"Généré le : {datetime.now(UTC).isoformat()}\n"
        f"Code de traitement (le plus strict des pistes) : {code}\n"
        f"Tronqué : {'oui' if network.truncated else 'non'}\n\n"
        "nodes.csv : pistes et entités consultables (colonne access : niveau d'accès)\n"
        "edges.csv : liens, avec le service et la piste qui les affirment\n"
        "hits.csv : pistes d'autres services non consultables (hit/no-hit) : service et contact\n\n"
        "Diffusion restreinte. Chaque piste porte son code de traitement ; respecter celui-ci.\n"
    ).encode()


def to_zip(network: Network, mark: IssuedMark | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("nodes.csv", nodes_csv(network, mark))
        z.writestr("edges.csv", edges_csv(network, mark))
        z.writestr("hits.csv", hits_csv(network, mark))
        z.writestr("LISEZMOI.txt", readme(network, mark))
        if mark is not None:
            z.comment = mark.token.encode("ascii")
    return buf.getvalue()
