"""The lead workflow in the graph: triage status and history, cross-agency link alerts, planned
operations and their deconfliction alerts — one module per aggregate (``triage``, ``status``,
``links``, ``operations``, ``pending``), their models in ``models``.

Owns six bookkeeping labels (constraints and indexes in ``SCHEMA``), none of them linked from a
``Lead`` — they carry the ``lead_id`` as a property instead. That is deliberate: a new lead
version deletes every outgoing relationship of its lead (graph/leads.py), and analysis reads
expand through every outgoing relationship (graph/read.py, guest-grant entity keys), so workflow
nodes must be neither.

* ``LeadStatus`` (one per lead, ``lead_id``): lifecycle ``state``, ``seq`` (number of changes),
  assignee agency and unit, close outcome or dismissal reason, ``resolved_at``; the precision
  ``score`` with its criteria (``score_json``) and the flagged likely duplicates
  (``duplicates_json``); the ``connector`` that first pushed the lead (for hit rates).
  The state, close outcome and resolution date are mirrored on the ``Lead`` (``status``,
  ``outcome``, ``status_changed_at``, ``closed_at``, ``dismissed_at``) for the retention purge;
  no read projects them.
* ``StatusChange`` (``change_id`` = ``<lead_id>#<seq>``): one per change, attributed (user,
  agency, role, time, note). ``#0`` is the lead's arrival.
* ``LinkAlert`` (``alert_id``): an entity (vehicle, phone, person, address, deal point) on which
  leads of two or more agencies meet, raised when a new lead creates the meeting.
* ``Operation`` (``operation_id``): a planned operation of one agency (kind, window, place,
  targets as ``<kind>:<key>``).
* ``DeconflictionAlert`` (``alert_id``): two agencies' operations that clash; open until each
  agency has acknowledged it.
* ``LeadClashAlert`` (``alert_id``, one per (operation, lead)): a new lead of another agency
  that meets an operation (``lead_clashes``, ADR 0017); open until the owner acknowledges it.
* ``OperationLedger`` (one node): its write lock serializes registrations, so two agencies
  registering clashing operations at the same instant cannot both miss each other.

Rules live in policies/ (``triage``, ``lifecycle``, ``deconfliction``, ``links``) and are
required arguments: these modules gather their facts, call them, and write what they decide.
Every read of lead data evaluates the caller's ``AccessFilter`` in the query (its
``case_expression`` on ``l``): lead properties come only through ``projection()``; leads a
caller may only know of (hit) are counted, never shown; leads below the hit are not even counted.

Writes that the hub audits take a ``before_commit`` callback run inside the transaction after
the change: an audit append that fails rolls the change back (as graph/grants/).
"""

from __future__ import annotations

from graph.labels import Label
from graph.schema import unique_constraint
from graph.workflow import lead_clashes as _lead_clashes
from graph.workflow.lead_clashes import (
    acknowledge_lead_clash,
    lead_clash_alerts_for,
    raise_lead_clashes,
)
from graph.workflow.links import cross_agency_links_for, link_alerts_for
from graph.workflow.models import (
    MAX_CANDIDATES_PER_LEAD,
    MAX_LEADS_PER_LINK,
    SYSTEM_USER,
    Acknowledgement,
    AckView,
    AfterIngestReport,
    DeconflictionAlertRecord,
    DeconflictionAlertView,
    DuplicateView,
    LeadClashAlertView,
    LeadClashRecord,
    LinkAlert,
    LinkAlertView,
    OperationPlace,
    OperationRecord,
    OtherOperation,
    QueueItem,
    Shown,
    StatusChangeRecord,
    StatusResult,
    TriageView,
    shown,
)
from graph.workflow.operations import (
    acknowledge_alert,
    deconfliction_alerts_for,
    list_operations,
    new_operation_id,
    register_operation,
)
from graph.workflow.pending import CLAIM_TTL_S, claim_pending, pending_triage, triage_done
from graph.workflow.status import (
    QUEUE_ORDERS,
    change_status,
    history,
    queue,
    resolution_counts,
)
from graph.workflow.triage import after_ingest, score_leads, triage

SCHEMA: list[str] = [
    *(unique_constraint(label) for label in (Label.LEAD_STATUS, Label.STATUS_CHANGE, Label.LINK_ALERT,
                                   Label.OPERATION, Label.DECONFLICTION_ALERT, Label.OPERATION_LEDGER)),
    # The triage queue: equality on the state, ordered by score.
    "CREATE INDEX leadstatus_state_score IF NOT EXISTS FOR (n:LeadStatus) ON (n.state, n.score)",
    # Hit rates: resolved leads over a period.
    "CREATE INDEX leadstatus_resolved_at IF NOT EXISTS FOR (n:LeadStatus) ON (n.resolved_at)",
    "CREATE INDEX statuschange_lead IF NOT EXISTS FOR (n:StatusChange) ON (n.lead_id)",
    "CREATE INDEX linkalert_entity IF NOT EXISTS FOR (n:LinkAlert) ON (n.entity_key)",
    "CREATE INDEX linkalert_created IF NOT EXISTS FOR (n:LinkAlert) ON (n.created_at)",
    # Clash candidates: operations still running after the new one starts.
    "CREATE INDEX operation_ends_at IF NOT EXISTS FOR (n:Operation) ON (n.ends_at)",
    "CREATE INDEX operation_agency IF NOT EXISTS FOR (n:Operation) ON (n.agency)",
    "CREATE INDEX deconflictionalert_status IF NOT EXISTS FOR (n:DeconflictionAlert) ON (n.status)",
    *_lead_clashes.SCHEMA,
]

__all__ = [
    "CLAIM_TTL_S", "MAX_CANDIDATES_PER_LEAD", "MAX_LEADS_PER_LINK", "QUEUE_ORDERS", "SCHEMA",
    "SYSTEM_USER", "AckView", "Acknowledgement", "AfterIngestReport", "DeconflictionAlertRecord",
    "DeconflictionAlertView", "DuplicateView", "LinkAlert", "LinkAlertView", "OperationPlace",
    "OperationRecord", "OtherOperation", "QueueItem", "Shown", "StatusChangeRecord",
    "StatusResult", "TriageView", "acknowledge_alert", "after_ingest", "change_status",
    "claim_pending", "cross_agency_links_for", "deconfliction_alerts_for", "history",
    "link_alerts_for", "list_operations", "new_operation_id", "pending_triage", "queue",
    "register_operation", "raise_lead_clashes", "lead_clash_alerts_for", "acknowledge_lead_clash",
    "LeadClashAlertView", "LeadClashRecord",
    "resolution_counts", "score_leads", "shown", "triage", "triage_done",
]
