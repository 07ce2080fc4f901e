"""Grants that widen access, and how they are asked for, given and ended:

* guest grants (CROSS non permanente): ``/api/v1/guest-grants`` — created and revoked by the
  CROSS chief, seen by the chief (all) and by each guest (their own);
* hit/no-hit disclosure: ``/api/v1/disclosure-requests`` — a caller who got a hit asks the
  owning agency, which approves or declines (a role holding ``disclosure.decide`` in that agency, ``policies.grants``);
* ``/api/v1/notifications`` — what each person was told of those steps;
* ``POST /api/v1/grants/expire`` — the expiry sweep, for an external scheduler.

Every step is audited (hub/audit/events.py says which operation each is) inside the graph
write, before commit. The policy engine decides what a requester may know of a lead: a request
for a lead whose outcome is ``none`` gets the same 404 as a lead that does not exist.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from graph import grants as graph_grants
from graph import identity
from graph import read as graph_read
from graph.grants import (
    DisclosureRequestRecord,
    GuestGrantRecord,
    NewGuestGrant,
    Notification,
    RequestStatus,
)
from graph.handle import Graph
from graph.identity import Principal
from hub.audit import events as auditing
from hub.contract.errors import Conflict, Forbidden, InvalidInput, NotFound
from hub.deps import (
    AccessDep,
    AuditDep,
    CallerDep,
    GraphDep,
    JustificationText,
    RulebookDep,
    SettingsDep,
    require_justification,
    requires,
)
from hub.handles import MAX_HANDLE_LENGTH, handles_for
from hub.jobs import grant_expiry
from policies.engine import decide
from policies.grants import MAX_GUEST_ENTITIES, MAX_GUEST_GRANT, MAX_GUEST_LEADS, widens
from policies.models import (
    Caller,
    Decision,
    DisclosureGrant,
    GuestGrant,
    LeadMarking,
    Outcome,
    Policy,
    Role,
)
from policies.permissions import Action, permission
from policies.rulebook import Rulebook

router = APIRouter(prefix="/api/v1", tags=["autorisations"])

Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=5, max_length=2000)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
Ident = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class GuestGrantIn(_In):
    grantee_user_id: Ident = Field(description="Identifiant du référent invité (rôle guest_referent)")
    lead_ids: list[Ident] = Field(default_factory=list, max_length=MAX_GUEST_LEADS)
    entity_keys: list[Ident] = Field(
        default_factory=list, max_length=MAX_GUEST_ENTITIES,
        description="Entités « type:clé » : vehicle:AB-123-CD, person:<pseudonyme>, phone:+33…, "
                    "location:<clé>, deal_point:<clé>, seizure:<id>")
    valid_from: AwareDatetime | None = Field(default=None, description="Début (défaut : maintenant)")
    valid_until: AwareDatetime = Field(description="Fin de validité (au plus 90 jours après le début)")
    reason: Reason = Field(description="Motif de l'invitation (journalisé comme justification)")


class RevokeIn(_In):
    reason: ShortText | None = None


class DisclosureRequestIn(_In):
    lead_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=160)] | None = None
    hit: Annotated[str, StringConstraints(strip_whitespace=True, min_length=5,
                                          max_length=MAX_HANDLE_LENGTH)] | None = Field(
        default=None, description="Poignée du hit reçu (champ « handle » d'un hit), à la place de "
                                  "lead_id")
    # Required; absent or too short: 400 naming the field, as for every consultation.
    justification: JustificationText

    @model_validator(mode="after")
    def _one_subject(self) -> DisclosureRequestIn:
        if (self.lead_id is None) == (self.hit is None):
            raise ValueError("préciser soit lead_id, soit hit (la poignée d'un hit)")
        return self


class ApproveIn(_In):
    valid_until: AwareDatetime | None = Field(
        default=None, description="Fin de la communication (défaut : sans terme)")
    reason: ShortText | None = None


class DeclineIn(_In):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=1000)]


class ExpiryOut(BaseModel):
    expired: list[str]


# --- dependencies and helpers -------------------------------------------------------------------


def _agency_wide(rulebook: Rulebook, caller: Principal) -> bool:
    """Whether the caller reads the agency's notifications, not only their own (roles.yaml)."""
    return permission(rulebook.policy, caller.role, Action.READ_AGENCY_NOTIFICATIONS).allowed


def _client(request: Request) -> str | None:
    return request.client.host if request.client else None


def _now() -> datetime:
    return datetime.now(UTC)


def _caller(principal: Principal) -> Caller:
    return Caller(user_id=principal.user_id, name=principal.name, agency=principal.agency,
                  role=Role(principal.role))


# --- guest grants -------------------------------------------------------------------------------


@router.post(
    "/guest-grants", response_model=GuestGrantRecord, status_code=status.HTTP_201_CREATED,
    summary="Accorder une autorisation d'invité",
    description="Le chef de la CROSS appelle un référent : autorisation nominative, limitée dans "
                "le temps (90 jours au plus) et à des pistes ou entités nommées. Journalisée "
                "comme communication au référent ; le référent est notifié.",
)
async def create_guest_grant(
    request: Request, body: GuestGrantIn, graph: GraphDep,
    audit: AuditDep, caller: Annotated[Principal, requires(Action.GRANT_GUESTS)],
    access: AccessDep,
) -> GuestGrantRecord:
    now = _now()
    details: list[dict[str, str]] = []

    grantee: Principal | None = None
    try:
        grantee = await run_in_threadpool(identity.get_user, graph, body.grantee_user_id)
    except NotFound:
        details.append({"field": "grantee_user_id", "reason": "utilisateur inconnu"})
    if grantee is not None and (grantee.role != Role.GUEST_REFERENT or grantee.disabled):
        details.append({"field": "grantee_user_id",
                        "reason": "doit désigner un référent invité actif (rôle guest_referent)"})

    if not (body.lead_ids or body.entity_keys):
        details.append({"field": "lead_ids",
                        "reason": "viser au moins une piste ou une entité (entity_keys)"})

    # What a grant may name: a lead or entity the chief may know of, at least as a hit, through
    # the chief's own compiled access filter (ADR 0002, "Amendment: entity marking"); one the
    # chief may not even know of gets word for word the answer to one nobody holds (same query,
    # same detail, key substituted). Hit level is enough: the hit already told the chief that it
    # exists and who holds it, so accepting the name reveals nothing more, and refusing it as
    # "unknown" would contradict that hit; and naming it gives the guest nothing by itself — the
    # guest's level on every lead is still the policy's (guest rules: H0/H1 redacted, H2 hit,
    # H3 and embargo nothing), decided at each read, not the chief's.
    lead_ids = list(dict.fromkeys(body.lead_ids))
    known_leads = await run_in_threadpool(graph_grants.known_lead_ids, graph, lead_ids, access)
    for i, lead_id in enumerate(body.lead_ids):
        if lead_id not in known_leads:
            details.append({"field": f"lead_ids[{i}]", "reason": f"piste inconnue : {lead_id}"})

    # Entities: "kind:key", key normalized as ingest did, and known to the chief (as above).
    entities: list[tuple[int, str]] = []
    for i, raw in enumerate(body.entity_keys):
        try:
            kind, key = graph_grants.parse_entity_key(raw)
            entities.append((i, f"{kind.value}:{graph_read.normalize_entity_key(kind, key)}"))
        except ValueError as exc:
            details.append({"field": f"entity_keys[{i}]", "reason": str(exc)})
        except InvalidInput as exc:
            details.append({"field": f"entity_keys[{i}]", "reason": exc.message})
    entity_keys = list(dict.fromkeys(key for _, key in entities))
    if entity_keys:
        found = await run_in_threadpool(graph_grants.known_entity_keys, graph, entity_keys, access)
        details += [{"field": f"entity_keys[{i}]", "reason": f"entité inconnue : {key}"}
                    for i, key in entities if key not in found]

    valid_from = body.valid_from or now
    if body.valid_until <= max(valid_from, now):
        details.append({"field": "valid_until",
                        "reason": "doit être postérieure au début et à maintenant"})
    elif body.valid_until - valid_from > MAX_GUEST_GRANT:
        details.append({"field": "valid_until",
                        "reason": f"durée maximale : {MAX_GUEST_GRANT.days} jours"})

    if details:
        raise InvalidInput("autorisation d'invité invalide", details=details)
    assert grantee is not None
    client = _client(request)
    new = NewGuestGrant(
        grantee_user_id=grantee.user_id, grantee_name=grantee.name, grantee_agency=grantee.agency,
        lead_ids=lead_ids, entity_keys=entity_keys,
        valid_from=valid_from, valid_until=body.valid_until,
        granted_by=caller.user_id, granted_by_name=caller.name, reason=body.reason,
    )
    return await run_in_threadpool(
        graph_grants.create_guest_grant, graph, new, now,
        lambda rec: audit.append(auditing.guest_grant_created(client, caller, rec)),
    )


@router.get(
    "/guest-grants", response_model=list[GuestGrantRecord],
    summary="Autorisations d'invité",
    description="Le chef de la CROSS voit toutes les autorisations (filtrables par invité) ; un "
                "référent invité ne voit que les siennes.",
)
async def list_guest_grants(
    graph: GraphDep,
    caller: Annotated[Principal, requires(Action.LIST_GRANTS)],
    grantee: Annotated[str | None, Query(max_length=200, description="Filtrer par invité")] = None,
    active: Annotated[bool, Query(description="Seulement celles en vigueur")] = False,
) -> list[GuestGrantRecord]:
    if caller.role == Role.GUEST_REFERENT:
        grantee = caller.user_id  # a guest sees their own grants, whatever they ask
    return await run_in_threadpool(
        lambda: graph_grants.list_guest_grants(graph, _now(),
                                               grantee_user_id=grantee, active_only=active))


@router.post(
    "/guest-grants/{grant_id}/revoke", response_model=GuestGrantRecord,
    summary="Révoquer une autorisation d'invité avant son terme",
)
async def revoke_guest_grant(
    request: Request, grant_id: Annotated[str, Path(min_length=1, max_length=100)],
    graph: GraphDep, audit: AuditDep,
    caller: Annotated[Principal, requires(Action.GRANT_GUESTS)],
    body: RevokeIn | None = None,
) -> GuestGrantRecord:
    client = _client(request)
    return await run_in_threadpool(lambda: graph_grants.revoke_guest_grant(
        graph, grant_id, revoked_by=caller.user_id,
        revoked_by_name=caller.name, reason=body.reason if body else None, now=_now(),
        before_commit=lambda rec: audit.append(auditing.guest_grant_revoked(client, caller, rec)),
    ))


@router.post(
    "/grants/expire", response_model=ExpiryOut,
    summary="Clore les autorisations arrivées à terme",
    description="Marque expirées les autorisations d'invité et les communications échues, les "
                "journalise et prévient leurs titulaires. Pour un ordonnanceur externe ; l'accès "
                "cesse de toute façon à l'échéance.",
)
async def expire_grants(
    request: Request, graph: GraphDep, audit: AuditDep,
    caller: Annotated[Principal, requires(Action.EXPIRE_GRANTS)],
) -> ExpiryOut:
    expired = await run_in_threadpool(lambda: grant_expiry.sweep(
        graph, audit, origin=_client(request) or "inconnue",
        triggered_by=caller.user_id))
    return ExpiryOut(expired=[g.grant_id for g in expired])


# --- disclosure requests ------------------------------------------------------------------------


@router.post(
    "/disclosure-requests", response_model=DisclosureRequestRecord,
    status_code=status.HTTP_201_CREATED,
    summary="Demander la communication d'une piste (suite à un hit)",
    description="Le service d'origine de la piste est notifié et l'accepte ou la refuse. Une "
                "piste inconnue, ou dont vous ne pouvez pas même connaître l'existence, donne la "
                "même réponse 404.",
)
async def create_disclosure_request(
    request: Request, body: DisclosureRequestIn, graph: GraphDep, settings: SettingsDep,
    audit: AuditDep, caller: Annotated[Principal, requires(Action.REQUEST_DISCLOSURE)],
    access: AccessDep, rulebook: RulebookDep,
) -> DisclosureRequestRecord:
    justification = require_justification(body.justification)
    now = _now()
    client = _client(request)
    policy = rulebook.policy
    who = _caller(caller)
    grants: list[GuestGrant | DisclosureGrant] = await run_in_threadpool(
        graph_grants.active_grants_for, graph, caller.user_id, now)
    named = body.lead_id if body.lead_id is not None else body.hit
    assert named is not None

    async def unknown(rule_id: str = auditing.RULE_UNKNOWN_LEAD) -> NotFound:
        # The trail keeps the attempt (a handle is named by its first characters only).
        await run_in_threadpool(audit.append, auditing.disclosure_request_refused(
            client, caller, named if body.lead_id is not None else named[:64], justification,
            Outcome.NONE.value, rule_id))
        # Word for word what a read of an unknown lead answers (graph.read.get_lead), whether
        # the lead does not exist, may not be known of, or the handle is forged, altered or
        # another agency's.
        return NotFound(f"piste inconnue : {named}")

    # The leads named: the one lead, or those a hit handle stands for (a hit on one lead, or
    # an agency's leads counted on an entity that the caller may know of only as hits).
    aggregated = False
    if body.lead_id is not None:
        candidates = [body.lead_id]
    else:
        subject = handles_for(settings.keys_dir).open(body.hit or "", caller.agency)
        if subject is None or subject[0] not in ("lead", "entity"):
            raise await unknown()
        if subject[0] == "lead" and len(subject) == 2:
            candidates = [subject[1]]
        elif subject[0] == "entity" and len(subject) == 3:
            aggregated = True
            # The leads the entity hit counted (graph.read.asserting_leads), those the caller
            # may know of only as hits through their compiled filter.
            candidates = await run_in_threadpool(
                graph_grants.leads_on_entity, graph, subject[1], subject[2], access)
        else:
            raise await unknown()
    markings = await run_in_threadpool(graph_grants.lead_markings, graph, candidates)
    decided = [(markings[c], decide(who, markings[c], policy, grants, now=now))
               for c in candidates if c in markings]
    known = [(m, d) for m, d in decided if d.outcome is not Outcome.NONE]
    if aggregated:
        # An agency's leads counted on an entity: those the caller was shown as hits only.
        known = [(m, d) for m, d in known if d.outcome is Outcome.HIT]
    if not known:
        raise await unknown(decided[0][1].rule_id if decided and not aggregated
                            else auditing.RULE_UNKNOWN_LEAD)
    records = [await _request_one(request, marking, current, who, grants, justification,
                                  graph, audit, caller, now, policy, single=len(known) == 1)
               for marking, current in known]
    created = [r for r in records if r is not None]
    if not created:  # several leads behind a hit, none a request could open further
        raise Conflict("une communication ne vous donnerait pas davantage sur ces pistes",
                       details=[{"field": "hit", "reason": "aucun accès supplémentaire possible par ce moyen"}])
    return created[0]


async def _request_one(request: Request, marking: LeadMarking, current: Decision, who: Caller,
                       grants: list[GuestGrant | DisclosureGrant], justification: str,
                       graph: Graph, audit: Any, caller: Principal,
                       now: datetime, policy: Policy, *, single: bool
                       ) -> DisclosureRequestRecord | None:
    """Request one lead the caller may know of. A single lead that no disclosure could open
    further, or already pending, is an error (409); among several behind one hit, it is skipped
    (None)."""
    client = _client(request)
    # Would the owner's approval change anything? Asked of the engine with the very grant an
    # approval would create, so the answer follows the policy (H3, embargo, own lead...).
    hypothetical = DisclosureGrant(
        grant_id="hypothetical", lead_id=marking.lead_id, requester_user_id=caller.user_id,
        owner_agency=marking.originating_agency, approved_by="hypothetical", approved_at=now)
    opened = decide(who, marking, policy, [*grants, hypothetical], now=now)
    if not widens(current, opened):
        await run_in_threadpool(audit.append, auditing.disclosure_request_refused(
            client, caller, marking.lead_id, justification, current.outcome.value,
            current.rule_id))
        if not single:
            return None
        raise Conflict(
            f"une communication ne vous donnerait pas davantage sur cette piste : {current.reason_fr}",
            details=[{"field": "lead_id", "reason": "aucun accès supplémentaire possible par ce moyen"}])
    try:
        return await run_in_threadpool(lambda: graph_grants.create_disclosure_request(
            graph, lead_id=marking.lead_id, requester_user_id=caller.user_id,
            requester_name=caller.name, requester_agency=caller.agency, justification=justification,
            now=now, before_commit=lambda rec: audit.append(
                auditing.disclosure_requested(client, caller, rec, current)),
        ))
    except Conflict:
        if single:
            raise
        return None


@router.get(
    "/disclosure-requests", response_model=list[DisclosureRequestRecord],
    summary="Demandes de communication",
    description="`box=inbox` : les demandes adressées à votre service (par défaut celles en "
                "attente) ; `box=mine` : vos propres demandes.",
)
async def list_disclosure_requests(
    graph: GraphDep, caller: CallerDep, rulebook: RulebookDep,
    box: Annotated[Literal["inbox", "mine"], Query(description="inbox | mine")] = "mine",
    status_: Annotated[RequestStatus | None, Query(alias="status")] = None,
) -> list[DisclosureRequestRecord]:
    if box == "inbox":
        decision = permission(rulebook.policy, caller.role, Action.DECIDE_DISCLOSURE)
        if not decision.allowed:
            raise Forbidden(f"opération non autorisée : {decision.reason_fr}")
        return await run_in_threadpool(lambda: graph_grants.list_disclosure_requests(
            graph, owner_agency=caller.agency, status=status_ or RequestStatus.REQUESTED))
    return await run_in_threadpool(lambda: graph_grants.list_disclosure_requests(
        graph, requester_user_id=caller.user_id, status=status_))


RequestId = Annotated[str, Path(min_length=1, max_length=100)]


@router.post(
    "/disclosure-requests/{request_id}/approve", response_model=DisclosureRequestRecord,
    summary="Accepter une demande de communication",
    description="Réservé aux analystes et coordinateurs du service d'origine de la piste. "
                "Journalisé comme communication au demandeur, qui est notifié.",
)
async def approve_disclosure_request(
    request: Request, request_id: RequestId, graph: GraphDep,
    audit: AuditDep, caller: Annotated[Principal, requires(Action.DECIDE_DISCLOSURE)],
    rulebook: RulebookDep, body: ApproveIn | None = None,
) -> DisclosureRequestRecord:
    body = body or ApproveIn()
    client = _client(request)
    return await run_in_threadpool(lambda: graph_grants.decide_disclosure_request(
        graph, request_id, approve=True, decided_by=caller.user_id,
        decided_by_name=caller.name, decider_agency=caller.agency, decider_role=caller.role,
        policy=rulebook.policy, now=_now(), valid_until=body.valid_until, reason=body.reason,
        before_commit=lambda rec: audit.append(auditing.disclosure_approved(client, caller, rec)),
    ))


@router.post(
    "/disclosure-requests/{request_id}/decline", response_model=DisclosureRequestRecord,
    summary="Refuser une demande de communication",
    description="Réservé aux analystes et coordinateurs du service d'origine ; motif obligatoire, "
                "transmis au demandeur.",
)
async def decline_disclosure_request(
    request: Request, request_id: RequestId, body: DeclineIn, graph: GraphDep,
    audit: AuditDep,
    caller: Annotated[Principal, requires(Action.DECIDE_DISCLOSURE)], rulebook: RulebookDep,
) -> DisclosureRequestRecord:
    client = _client(request)
    return await run_in_threadpool(lambda: graph_grants.decide_disclosure_request(
        graph, request_id, approve=False, decided_by=caller.user_id,
        decided_by_name=caller.name, decider_agency=caller.agency, decider_role=caller.role,
        policy=rulebook.policy, now=_now(), reason=body.reason,
        before_commit=lambda rec: audit.append(auditing.disclosure_declined(client, caller, rec)),
    ))


# --- notifications ------------------------------------------------------------------------------


@router.get(
    "/notifications", response_model=list[Notification],
    summary="Vos notifications",
    description="Les vôtres, et pour les analystes et coordinateurs celles adressées à leur "
                "service (nouvelles demandes de communication).",
)
async def list_notifications(
    graph: GraphDep, caller: CallerDep, rulebook: RulebookDep,
    unread: Annotated[bool, Query(description="Seulement les non lues")] = False,
) -> list[Notification]:
    return await run_in_threadpool(lambda: graph_grants.list_notifications(
        graph, user_id=caller.user_id, agency=caller.agency,
        agency_wide=_agency_wide(rulebook, caller), unread_only=unread))


@router.post(
    "/notifications/{notification_id}/read", response_model=Notification,
    summary="Marquer une notification comme lue",
)
async def mark_notification_read(
    notification_id: Annotated[str, Path(min_length=1, max_length=100)],
    graph: GraphDep, caller: CallerDep, rulebook: RulebookDep,
) -> Notification:
    return await run_in_threadpool(lambda: graph_grants.mark_notification_read(
        graph, notification_id, user_id=caller.user_id,
        agency=caller.agency, agency_wide=_agency_wide(rulebook, caller), now=_now()))
