"""Where access grants live in the graph, and the workflow that creates and ends them — one
module per aggregate (``guests``, ``disclosures``, ``notifications``, the ``expiry`` sweep, the
per-request ``active`` read, entity ``keys`` and ``lookups``), records in ``models``. The rules
these grants follow and their French wording are policy: ``policies/grants.py``.

Owns three kinds of bookkeeping nodes (never traversed by analysis reads):

* ``GuestGrant`` — a CROSS non permanente calls in a referent: a time-boxed grant to one
  ``guest_referent`` user, scoped to named leads and/or entities, created and revoked by the
  CROSS chief (coordinator).
* ``DisclosureRequest`` — the hit/no-hit workflow: a caller who got a hit on a lead asks its
  originating agency for it; states ``requested`` → ``approved`` | ``declined``, and
  ``approved`` → ``expired`` when an approval had an end date that passed. An approved request
  *is* the ``DisclosureGrant`` the policy engine takes.
  A request carries its answer deadline (``due_at``, policy) and, once the scheduled sweep
  found it unanswered past it, ``escalated_at`` (``escalation``); an approval may release only
  some property groups (``released_groups``: a graded release, enforced by the access engine).
* ``DisclosureMessage`` — the thread of a request, questions and answers between the requester
  and the holder (``threads``).
* ``Notification`` — what a person is told: the owning agency of each new request, the
  requester of each decision, the guest of each grant change. French text, flat properties.

The policy engine takes grants as input: ``active_grants_for`` is the one cheap read the hub
makes per request to feed it. It filters on time itself, so a grant past its end is never
returned even before ``expire_grants`` (the maintenance sweep that marks it expired so the end
can be audited and notified) has run: that is the automatic revocation.

Writes that the hub must audit take a ``before_commit`` callback: it runs inside the
transaction, after the change and before the commit, so an audit append that fails rolls the
change back and nothing takes effect unlogged.
"""

from __future__ import annotations

from graph.grants.active import active_grants_for, grants_from, grants_projection
from graph.grants.disclosures import (
    create_disclosure_request,
    decide_disclosure_request,
    get_disclosure_request,
    list_disclosure_requests,
)
from graph.grants.escalation import ESCALATION_BATCH, escalate_overdue, list_escalated
from graph.grants.expiry import EXPIRY_BATCH, expire_grants
from graph.grants.guests import (
    create_guest_grant,
    get_guest_grant,
    list_guest_grants,
    revoke_guest_grant,
)
from graph.grants.keys import (
    entity_key_expression,
    lead_entity_keys_expression,
    parse_entity_key,
)
from graph.grants.lookups import (
    existing_entity_keys,
    known_entity_keys,
    known_lead_ids,
    lead_marking,
    lead_markings,
    leads_on_entity,
)
from graph.grants.models import (
    DisclosureMessage,
    DisclosureRequestRecord,
    ExpiredGrant,
    GrantStatus,
    GuestGrantRecord,
    NewGuestGrant,
    Notification,
    NotificationKind,
    RequestStatus,
)
from graph.grants.notifications import (
    list_notifications,
    mark_notification_read,
    notify_agencies,
)
from graph.grants.threads import list_messages, post_message
from graph.labels import Label
from graph.schema import unique_constraint

SCHEMA: list[str] = [
    unique_constraint(Label.GUEST_GRANT),
    unique_constraint(Label.DISCLOSURE_REQUEST),
    unique_constraint(Label.NOTIFICATION),
    unique_constraint(Label.DISCLOSURE_MESSAGE),
    # A request's thread, read and counted by request.
    ("CREATE INDEX disclosuremessage_request_created IF NOT EXISTS "
     "FOR (n:DisclosureMessage) ON (n.request_id, n.created_at)"),
    # The escalation sweep and the coordinator's box: requests by status.
    ("CREATE INDEX disclosurerequest_status_requested IF NOT EXISTS "
     "FOR (n:DisclosureRequest) ON (n.status, n.requested_at)"),
    # One pending request per (requester, lead): set while requested, removed on decision, so
    # two concurrent identical requests cannot both be created.
    ("CREATE CONSTRAINT disclosurerequest_pending_key_unique IF NOT EXISTS "
     "FOR (n:DisclosureRequest) REQUIRE n.pending_key IS UNIQUE"),
    # active_grants_for: equality on the user, range on the end of validity.
    ("CREATE INDEX guestgrant_grantee_until IF NOT EXISTS "
     "FOR (n:GuestGrant) ON (n.grantee_user_id, n.valid_until)"),
    ("CREATE INDEX disclosurerequest_requester_status IF NOT EXISTS "
     "FOR (n:DisclosureRequest) ON (n.requester_user_id, n.status)"),
    # The owner's inbox.
    ("CREATE INDEX disclosurerequest_owner_status IF NOT EXISTS "
     "FOR (n:DisclosureRequest) ON (n.owner_agency, n.status)"),
    # expire_grants: range scans on the end of validity.
    "CREATE INDEX guestgrant_valid_until IF NOT EXISTS FOR (n:GuestGrant) ON (n.valid_until)",
    ("CREATE INDEX disclosurerequest_valid_until IF NOT EXISTS "
     "FOR (n:DisclosureRequest) ON (n.valid_until)"),
    # Notifications by recipient.
    ("CREATE INDEX notification_user_created IF NOT EXISTS "
     "FOR (n:Notification) ON (n.user_id, n.created_at)"),
    ("CREATE INDEX notification_agency_created IF NOT EXISTS "
     "FOR (n:Notification) ON (n.agency, n.created_at)"),
]

__all__ = [
    "ESCALATION_BATCH", "EXPIRY_BATCH", "SCHEMA",
    "DisclosureMessage", "DisclosureRequestRecord", "ExpiredGrant", "GrantStatus", "GuestGrantRecord", "NewGuestGrant",
    "Notification", "NotificationKind", "RequestStatus", "active_grants_for",
    "create_disclosure_request", "create_guest_grant", "decide_disclosure_request",
    "escalate_overdue", "list_escalated", "list_messages", "post_message",
    "entity_key_expression", "existing_entity_keys", "expire_grants", "get_disclosure_request",
    "get_guest_grant", "grants_from", "grants_projection", "known_entity_keys", "known_lead_ids",
    "lead_entity_keys_expression", "lead_marking", "lead_markings", "leads_on_entity",
    "list_disclosure_requests", "list_guest_grants", "list_notifications",
    "mark_notification_read", "notify_agencies", "parse_entity_key",
    "revoke_guest_grant",
]
