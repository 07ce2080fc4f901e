"""The grant workflow's rules, next to the state they guard (to move to policies/ with their
wording, graph/grants/wording.py):

* ``APPROVER_ROLES``: who may decide on a request — analysts and coordinators *of the lead's
  originating agency*. Originator control: the service that holds the lead decides, and within
  it the analysts who hold the lead are best placed; requiring a coordinator would leave every
  service without one of its own (a CROSS has a single chief) unable to answer. A coordinator
  of another service may not decide: nobody discloses another agency's lead.
* ``GUEST_ENTITY_KINDS``: a guest grant may name vehicles, persons, phones, locations, deal
  points and seizures; not substances, communes or agencies, which thousands of leads share.
"""

from __future__ import annotations

from datetime import timedelta

from graph.labels import EntityKind

APPROVER_ROLES: tuple[str, ...] = ("analyst", "coordinator")
# Who may ask for a disclosure: the roles the policy's disclosure rule serves (rules.yaml,
# ``disclosure-redacted``); a guest or a machine account would gain nothing from one.
REQUESTER_ROLES: tuple[str, ...] = ("analyst", "coordinator")
# Agency-wide notifications (a new request in the inbox) reach the roles that may answer them.
AGENCY_NOTIFICATION_ROLES = APPROVER_ROLES

# A guest is called in "now and then" (CROSS non permanente): a grant longer than this is a
# membership, not an invitation, and is refused; and it names what it covers, within bounds.
MAX_GUEST_GRANT = timedelta(days=90)
MAX_GUEST_LEADS = 500
MAX_GUEST_ENTITIES = 100

GUEST_ENTITY_KINDS: tuple[EntityKind, ...] = (
    EntityKind.VEHICLE, EntityKind.PERSON, EntityKind.PHONE, EntityKind.LOCATION,
    EntityKind.DEAL_POINT, EntityKind.SEIZURE,
)

# Grants ended per expire_grants call (one transaction); a sweep calls again while full.
EXPIRY_BATCH = 1000
