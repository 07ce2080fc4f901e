"""The tamper-evident audit trail (Directive (EU) 2016/680 Art. 25).

Every collection, alteration, consultation, disclosure, combination and erasure is recorded as an
``AuditEvent`` through the single writer ``AuditTrail`` (service.py) into an fsynced, append-only
JSON-lines file, hash-chained entry to entry and sealed by Ed25519-signed checkpoints; ``verify``
(verify.py) checks a log from its files alone; ``query`` reads entries back, newest first.

Layout: models.py (event/entry/checkpoint models and the on-disk format), service.py (writing,
recovery, locking, query), verify.py (integrity check), keys.py (the signing key).
See docs/decisions/0003-audit-trail.md for why and for what it does not protect against.
"""

from policies.audit.keys import load_or_create_signing_key, load_public_key
from policies.audit.models import (
    ACTION_LABELS_FR,
    DECISION_LABELS_FR,
    Actor,
    AuditAction,
    AuditEntry,
    AuditEvent,
    AuditFilters,
    Checkpoint,
    Decision,
    DecisionOutcome,
    canonical_json,
)
from policies.audit.service import AuditTrail, AuditUnavailable, query
from policies.audit.verify import Problem, VerifyReport, verify

__all__ = [
    "ACTION_LABELS_FR",
    "DECISION_LABELS_FR",
    "Actor",
    "AuditAction",
    "AuditEntry",
    "AuditEvent",
    "AuditFilters",
    "AuditTrail",
    "AuditUnavailable",
    "Checkpoint",
    "Decision",
    "DecisionOutcome",
    "Problem",
    "VerifyReport",
    "canonical_json",
    "load_or_create_signing_key",
    "load_public_key",
    "query",
    "verify",
]
