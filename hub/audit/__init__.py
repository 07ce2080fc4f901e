"""The tamper-evident audit trail's books (Directive (EU) 2016/680 Art. 25): what the hub keeps
of every event ``policies.audit`` defines, and how anyone checks it.

Every collection, alteration, consultation, disclosure, combination and erasure is recorded as a
``policies.audit.AuditEvent``. Each writing process — a hub worker, a CLI command — opens a
segment of its own (``open_writer``, writer.py; ADR 0012) and appends through ``AuditTrail``
(trail.py) into an fsynced, append-only JSON-lines file, hash-chained entry to entry and sealed
by Ed25519-signed checkpoints; ``verify`` (verify.py) checks every segment from the files alone;
``query`` (query.py) reads entries of all segments back, newest first, through an index
(index.py) it never trusts over the files.

Layout: layout.py (where segments live, writer ids), writer.py (opening a segment, adopting
the ones a dead writer left), records.py (stored entry, checkpoint, query filters and the
on-disk format), trail.py (writing one chain, locking, group commit), recovery.py (cutting a
torn tail and checking it on open), files.py (appending, the lock, reading lines from the end),
index.py (the auditors' SQLite index), query.py (reading back), verify.py (integrity check),
keys.py (the signing key), archives.py and archiving.py (the trail's retention: closed
segments sealed into signed, chained archives, checked by verify — ADR 0028), events.py (the
events the hub's operations record — imported on its own: it knows the API and the graph).
See docs/decisions/0003-audit-trail.md and 0012-audit-segments-per-writer.md for why and for
what it does not protect against.
"""

from hub.audit.keys import load_or_create_signing_key, load_public_key
from hub.audit.query import query
from hub.audit.layout import WriterKind
from hub.audit.records import AuditEntry, AuditFilters, Checkpoint, TrailEntry, canonical_json
from hub.audit.trail import AuditTrail, AuditUnavailable
from hub.audit.verify import Problem, SegmentReport, VerifyReport, verify, verify_chain
from hub.audit.writer import open_writer

__all__ = [
    "AuditEntry",
    "AuditFilters",
    "AuditTrail",
    "AuditUnavailable",
    "Checkpoint",
    "Problem",
    "SegmentReport",
    "TrailEntry",
    "VerifyReport",
    "WriterKind",
    "canonical_json",
    "load_or_create_signing_key",
    "load_public_key",
    "query",
    "open_writer",
    "verify",
    "verify_chain",
]
