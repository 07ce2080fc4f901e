"""A logical copy of the whole graph, taken at one consistent cut, and putting it back
(``crosshub backup`` / ``crosshub restore``; docs/decisions/0027-backup-and-restore.md).

Owns the Cypher of both directions and the typed value format of the copy:

- ``export_graph`` reads every node (labels and properties) and every relationship (type,
  ends, properties) in one write transaction that first takes the write lock of every node it
  will copy (``SET n._backup_fence``) and is rolled back at the end. Neo4j reads are
  read-committed, not snapshots; the locks make them one: while they are held, no other
  transaction can change, delete or link an existing node, and every transaction that did
  before has committed (we waited for its locks). A transaction creating only new nodes is not
  held: the copy recounts under the fence and is started over (``CopyRaced``) if one committed
  while it read. ``at_cut`` runs once the fence is up — the
  hub records the audit trail's heads there, so the backup point names exactly the entries
  whose writes the copy holds.
- ``replace_graph`` deletes what the copy replaces and creates the copy's nodes and
  relationships in ONE transaction, with the caller's ``before_commit`` (the audit entry)
  inside it: all or nothing, and safe to re-run after an interruption.
- ``encode_value`` / ``decode_value``: JSON for every property type Neo4j stores (integers,
  floats bit for bit, strings, booleans, bytes, lists, dates, times, datetimes with their
  offset or zone, durations, points), so a restored value has its type and value exactly.

Labels and relationship types reach the Cypher only from ``graph.labels``' allow-list: a copy
naming anything else is refused before anything is touched (``check_names``).

What is never copied: the bookkeeping of the processes running *now* (job leases and runs,
replay nonces, login throttling: ``KEPT`` — a restore leaves the current ones) and sign-in
sessions (``CLEARED`` — a restore ends them all: a session revoked after the backup point must
not come back to life).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import neo4j
import neo4j.spatial as spatial
import neo4j.time as ntime
import pytz
from pydantic import BaseModel

from graph.handle import Graph
from graph.labels import Label, Rel

SCHEMA: list[str] = []  # nothing of its own: the copy uses the modules' constraints

KEPT: tuple[str, ...] = (Label.JOB_LEASE.value, Label.JOB_RUN.value, Label.NONCE.value,
                         Label.LOGIN_ATTEMPTS.value)
CLEARED: tuple[str, ...] = (Label.SESSION.value, Label.SECOND_FACTOR_STEP_UP.value)
_SKIPPED = KEPT + CLEARED
FENCE = "_backup_fence"
BATCH = 1000
_NOT_SKIPPED = "NOT any(l IN labels({v}) WHERE l IN $skipped)"


class BackupRefused(ValueError):
    """The copy names a label or relationship type outside the allow-list (French message)."""


class CopyRaced(RuntimeError):
    """A transaction the fence does not hold (one creating only new nodes) committed while the
    copy was read: the copy is started over."""


class ExportCounts(BaseModel):
    nodes: int
    relationships: int
    labels: dict[str, int]


# --- values ------------------------------------------------------------------------------------


def _tz(value: Any) -> dict[str, Any]:
    """The offset in effect (seconds) and, for a named zone, its name."""
    tz = value.tzinfo
    if tz is None:
        return {}
    offset = value.utcoffset() if isinstance(value, ntime.DateTime) else value.utc_offset()
    enc: dict[str, Any] = {"offset": int(offset.total_seconds())}
    zone = getattr(tz, "key", None) or getattr(tz, "zone", None)
    if zone:
        enc["zone"] = str(zone)
    return enc


def _fixed(enc: dict[str, Any]) -> Any:
    # pytz, as the driver itself hydrates zoned values: a restored value is the same object.
    return pytz.FixedOffset(enc["offset"] // 60)


def encode_value(v: Any) -> Any:
    """A property value as JSON, its type said wherever JSON alone would lose it."""
    if isinstance(v, bool) or isinstance(v, str) or v is None:
        return v
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        return {"$": "float", "v": v.hex()}  # bit for bit, NaN and infinities included
    if isinstance(v, bytes | bytearray):
        return {"$": "bytes", "v": base64.b64encode(bytes(v)).decode("ascii")}
    if isinstance(v, ntime.DateTime):
        return {"$": "datetime", "v": [v.year, v.month, v.day, v.hour, v.minute, v.second,
                                       v.nanosecond], **_tz(v)}
    if isinstance(v, ntime.Date):
        return {"$": "date", "v": [v.year, v.month, v.day]}
    if isinstance(v, ntime.Time):
        return {"$": "time", "v": [v.hour, v.minute, v.second, v.nanosecond], **_tz(v)}
    if isinstance(v, ntime.Duration):
        return {"$": "duration", "v": [v.months, v.days, v.seconds, v.nanoseconds]}
    if isinstance(v, spatial.Point):
        return {"$": "point", "srid": v.srid, "v": [{"$": "float", "v": float(c).hex()} for c in v]}
    if isinstance(v, list | tuple):  # after Duration and Point, which are tuples too
        return [encode_value(x) for x in v]
    raise BackupRefused(f"type de valeur inattendu dans le graphe : {type(v).__name__}")


def decode_value(enc: Any) -> Any:
    """The driver value ``encode_value`` described."""
    if isinstance(enc, list):
        return [decode_value(x) for x in enc]
    if not isinstance(enc, dict):
        return enc
    kind, v = enc["$"], enc.get("v")
    if kind == "float":
        return float.fromhex(v)
    if kind == "bytes":
        return base64.b64decode(v)
    if kind == "datetime":
        if "offset" not in enc:
            return ntime.DateTime(*v)
        value = ntime.DateTime(*v, tzinfo=_fixed(enc))  # the instant, then its zone
        return value.astimezone(pytz.timezone(enc["zone"])) if "zone" in enc else value
    if kind == "date":
        return ntime.Date(*v)
    if kind == "time":
        return _fixed(enc).localize(ntime.Time(*v)) if "offset" in enc else ntime.Time(*v)
    if kind == "duration":
        return ntime.Duration(months=v[0], days=v[1], seconds=v[2], nanoseconds=v[3])
    if kind == "point":
        coords = [float.fromhex(c["v"]) for c in v]
        cls = spatial.WGS84Point if enc["srid"] in (4326, 4979) else spatial.CartesianPoint
        return cls(coords)
    raise BackupRefused(f"valeur de type inconnu dans la sauvegarde : {kind}")


def _props(raw: dict[str, Any]) -> dict[str, Any]:
    return {k: encode_value(v) for k, v in raw.items() if k != FENCE}


# --- the copy ----------------------------------------------------------------------------------


def check_names(labels: Iterable[str], types: Iterable[str]) -> None:
    """Refuse (French) any label or relationship type outside the allow-list."""
    known_labels, known_types = {m.value for m in Label}, {m.value for m in Rel}
    bad_l = sorted(set(labels) - known_labels)
    bad_t = sorted(set(types) - known_types)
    if bad_l or bad_t:
        what = []
        if bad_l:
            what.append("étiquette(s) inconnue(s) : " + ", ".join(bad_l))
        if bad_t:
            what.append("type(s) de relation inconnu(s) : " + ", ".join(bad_t))
        raise BackupRefused(" ; ".join(what))


def export_graph(
    graph: Graph,
    on_node: Callable[[dict[str, Any]], None],
    on_relationship: Callable[[dict[str, Any]], None],
    at_cut: Callable[[], None],
) -> ExportCounts:
    """Hand every node (``{"i", "labels", "props"}``) and relationship (``{"type", "a", "b",
    "props"}``, ends by node ``i``) to the callbacks, as of one consistent cut; ``at_cut`` runs
    once the fence is up, before anything is read. Refuses a graph holding a label or type
    outside the allow-list (a copy that cannot be restored is worse than none)."""
    skipped = list(_SKIPPED)
    with graph.session() as session:
        tx = session.begin_transaction()
        try:
            # The fence: every copied node's write lock, held until the rollback below.
            tx.run(f"MATCH (n) WHERE {_NOT_SKIPPED.format(v='n')} SET n.{FENCE} = true",
                   skipped=skipped).consume()
            at_cut()
            ids: dict[str, int] = {}
            per_label: dict[str, int] = {}
            for rec in tx.run(f"MATCH (n) WHERE {_NOT_SKIPPED.format(v='n')} "
                              "RETURN elementId(n) AS id, labels(n) AS labels, properties(n) AS props",
                              skipped=skipped):
                labels = sorted(rec["labels"])
                check_names(labels, ())
                i = ids[rec["id"]] = len(ids)
                for label in labels:
                    per_label[label] = per_label.get(label, 0) + 1
                on_node({"i": i, "labels": labels, "props": _props(rec["props"])})
            rels = 0
            for rec in tx.run(f"MATCH (a)-[r]->(b) WHERE {_NOT_SKIPPED.format(v='a')} "
                              f"AND {_NOT_SKIPPED.format(v='b')} "
                              "RETURN elementId(a) AS a, elementId(b) AS b, type(r) AS type, "
                              "properties(r) AS props", skipped=skipped):
                check_names((), (rec["type"],))
                on_relationship({"type": rec["type"], "a": ids[rec["a"]], "b": ids[rec["b"]],
                                 "props": _props(rec["props"])})
                rels += 1
            # The fence holds every existing node, not a transaction that only creates new ones
            # (a guest grant, a notification): if one committed while we read, start over.
            now = tx.run(f"MATCH (n) WHERE {_NOT_SKIPPED.format(v='n')} "
                         "RETURN count(n) AS n, sum(COUNT { MATCH (n)-[r]->(m) "
                         f"WHERE {_NOT_SKIPPED.format(v='m')} }}) AS r", skipped=skipped).single()
            if (now["n"], now["r"]) != (len(ids), rels):
                raise CopyRaced("le graphe a changé pendant la copie")
        finally:
            tx.rollback()  # the fence was never meant to be written
    return ExportCounts(nodes=len(ids), relationships=rels, labels=per_label)


def _batches(rows: Iterable[dict[str, Any]], key: Callable[[dict[str, Any]], Any]
             ) -> Iterator[tuple[Any, list[dict[str, Any]]]]:
    """Consecutive rows with one ``key``, at most ``BATCH`` at a time."""
    current, batch = None, []
    for row in rows:
        k = key(row)
        if batch and (k != current or len(batch) >= BATCH):
            yield current, batch
            batch = []
        current = k
        batch.append(row)
    if batch:
        yield current, batch


def replace_graph(
    graph: Graph,
    nodes: Iterable[dict[str, Any]],
    relationships: Iterable[dict[str, Any]],
    before_commit: Callable[[], None],
) -> ExportCounts:
    """Replace everything but ``KEPT`` with the copy, in one transaction (nothing half-done is
    ever committed); ``before_commit`` runs inside it, last. The rows are ``export_graph``'s;
    their labels and types must have passed ``check_names`` (checked again here, as they come)."""
    kept = list(KEPT)
    element: dict[int, str] = {}
    per_label: dict[str, int] = {}
    rels = 0
    with graph.session() as session, session.begin_transaction() as tx:
        while tx.run("MATCH (n) WHERE NOT any(l IN labels(n) WHERE l IN $kept) "
                     "WITH n LIMIT $batch DETACH DELETE n RETURN count(*) AS c",
                     kept=kept, batch=BATCH * 10).single()["c"]:
            pass
        for labels, batch in _batches(nodes, lambda r: tuple(r["labels"])):
            check_names(labels, ())
            if not labels or set(labels) & set(_SKIPPED):
                raise BackupRefused("nœud sans étiquette, ou d'une étiquette jamais sauvegardée")
            text = ":".join(Label(label).value for label in labels)
            rows = [{"i": r["i"], "p": {k: decode_value(v) for k, v in r["props"].items()}}
                    for r in batch]
            for rec in tx.run(f"UNWIND $rows AS r CREATE (n:{text}) SET n = r.p "
                              "RETURN r.i AS i, elementId(n) AS e", rows=rows):
                element[rec["i"]] = rec["e"]
            for label in labels:
                per_label[label] = per_label.get(label, 0) + len(batch)
        for rel_type, batch in _batches(relationships, lambda r: r["type"]):
            check_names((), (rel_type,))
            rows = [{"a": element[r["a"]], "b": element[r["b"]],
                     "p": {k: decode_value(v) for k, v in r["props"].items()}} for r in batch]
            tx.run(f"UNWIND $rows AS r MATCH (a) WHERE elementId(a) = r.a "
                   f"MATCH (b) WHERE elementId(b) = r.b CREATE (a)-[x:{Rel(rel_type).value}]->(b) "
                   "SET x = r.p", rows=rows).consume()
            rels += len(batch)
        before_commit()
        tx.commit()
    return ExportCounts(nodes=len(element), relationships=rels, labels=per_label)


def transient(exc: BaseException) -> bool:
    """Worth retrying the export (a deadlock with a writer, a leader switch)."""
    return isinstance(exc, CopyRaced | neo4j.exceptions.TransientError
                      | neo4j.exceptions.SessionExpired)


def live_holders(graph: Graph) -> list[str]:
    """The processes holding a job lease now (server clock): hubs running against this graph —
    every hub holds or renews a loop job's lease while it serves (graph/leases.py)."""
    records = graph.query(f"MATCH (l:{Label.JOB_LEASE.value}) "
                          "WHERE l.holder IS NOT NULL AND l.expires_at > datetime() "
                          "RETURN DISTINCT l.holder AS holder ORDER BY holder", read_=True)
    return [r["holder"] for r in records]
