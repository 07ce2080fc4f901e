"""Guest grants (CROSS non permanente), given and ended: ``/api/v1/guest-grants`` — created and
revoked by the CROSS chief within the bounds of ``policies.grants``, seen by the chief (all) and
by each guest (their own); ``POST /api/v1/grants/expire`` — the expiry sweep, for an external
scheduler. Disclosure requests and notifications: hub/routers/disclosures.py.

Every step is audited (hub/audit/events.py) inside the graph write, before commit.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from pydantic import (
    AwareDatetime,
    BaseModel,
    Field,
)

from graph import grants as graph_grants
from graph import identity
from graph import read as graph_read
from graph.grants import (
    GuestGrantRecord,
    NewGuestGrant,
)
from graph.identity import Principal
from hub.audit import events as auditing
from hub.contract.errors import InvalidInput, NotFound
from hub.deps import (
    AccessDep,
    AuditDep,
    GraphDep,
    requires,
)
from hub.jobs import grant_expiry
from hub.routers.inputs import Ident, Reason, ShortText, StrictIn
from policies.grants import MAX_GUEST_ENTITIES, MAX_GUEST_GRANT, MAX_GUEST_LEADS
from policies.models import (
    Role,
)
from policies.permissions import Action

router = APIRouter(prefix="/api/v1", tags=["autorisations"])



class GuestGrantIn(StrictIn):
    grantee_user_id: Ident = Field(description="Identifiant du référent invité (rôle guest_referent)")
    lead_ids: list[Ident] = Field(default_factory=list, max_length=MAX_GUEST_LEADS)
    entity_keys: list[Ident] = Field(
        default_factory=list, max_length=MAX_GUEST_ENTITIES,
        description="Entités « type:clé » : vehicle:AB-123-CD, person:<pseudonyme>, phone:+33…, "
                    "location:<clé>, deal_point:<clé>, seizure:<id>")
    valid_from: AwareDatetime | None = Field(default=None, description="Début (défaut : maintenant)")
    valid_until: AwareDatetime = Field(description="Fin de validité (au plus 90 jours après le début)")
    reason: Reason = Field(description="Motif de l'invitation (journalisé comme justification)")


class RevokeIn(StrictIn):
    reason: ShortText | None = None


class ExpiryOut(BaseModel):
    expired: list[str]


# --- dependencies and helpers -------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(UTC)


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
    client = auditing.client_of(request)
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
    client = auditing.client_of(request)
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
        graph, audit, origin=auditing.client_of(request) or "inconnue",
        triggered_by=caller.user_id))
    return ExpiryOut(expired=[g.grant_id for g in expired])
