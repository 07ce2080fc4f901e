"""The tamper-evident audit trail's books (Directive (EU) 2016/680 Art. 25): what the hub keeps
of every event ``policies.audit`` defines, and how anyone checks it.

Every collection, alteration, consultation, disclosure, combination and erasure is recorded as a
``policies.audit.AuditEvent`` through the single writer ``AuditTrail`` (trail.py) into an
fsynced, append-only JSON-lines file, hash-chained entry to entry and sealed by Ed25519-signed
checkpoints; ``verify`` (verify.py) checks a log from its files alone; ``query`` (query.py) reads
entries back, newest first.

Layout: records.py (stored entry, checkpoint, query filters and the on-disk format), trail.py
(writing, locking, group commit), recovery.py (cutting a torn tail and checking it on open),
files.py (appending, the lock, reading lines from the end), query.py (reading back), verify.py
(integrity check), keys.py (the signing key), events.py (the events the hub's operations record
— imported on its own: it knows the API and the graph).
See docs/decisions/0003-audit-trail.md for why and for what it does not protect against.
"""

from hub.audit.keys import load_or_create_signing_key, load_public_key
from hub.audit.query import query
from hub.audit.records import AuditEntry, AuditFilters, Checkpoint, canonical_json
from hub.audit.trail import AuditTrail, AuditUnavailable
from hub.audit.verify import Problem, VerifyReport, verify

__all__ = [
    "AuditEntry",
    "AuditFilters",
    "AuditTrail",
    "AuditUnavailable",
    "Checkpoint",
    "Problem",
    "VerifyReport",
    "canonical_json",
    "load_or_create_signing_key",
    "load_public_key",
    "query",
    "verify",
]
