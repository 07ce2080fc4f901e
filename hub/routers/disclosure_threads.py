"""Graded disclosure, the parts around a request (``/api/v1/disclosure-requests/{id}``): the
request itself, its thread of questions and answers between the requester and the holding
agency, and the property groups a holder may release (``/api/v1/disclosure-groups``).

Who is a party to a request is policy (``policies.disclosure.thread_side``): the requester,
the holding agency's deciders, and the CROSS coordinator once the request is past its deadline.
Anyone else gets the very 404 an unknown request gets (no oracle). Every message passes the
hub's identity guard, as a lead's narrative does, and is audited before it is committed.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, status
from fastapi.concurrency import run_in_threadpool
from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from graph import grants as graph_grants
from graph.grants import DisclosureMessage, DisclosureRequestRecord
from graph.identity import Principal
from hub.audit import events as auditing
from hub.contract.errors import InvalidInput, NotFound
from hub.contract.identifiers import check_no_identifiers
from hub.deps import AuditDep, CallerDep, ClockDep, GraphDep, RulebookDep
from hub.routers.disclosures import with_overdue
from hub.routers.inputs import StrictIn
from policies import disclosure as graded
from policies.permissions import Action, permission
from policies.rulebook import Rulebook

router = APIRouter(prefix="/api/v1", tags=["autorisations"])
RequestId = Annotated[str, Path(min_length=1, max_length=100)]


class MessageIn(StrictIn):
    # The bound of disclosure.yaml (max_message_chars) is checked by the route; this one only
    # keeps a body from being absurd before that.
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000),
                    AfterValidator(check_no_identifiers)] = Field(
        description="Question ou réponse, sans identifiant brut (ni nom, ni immatriculation, ni "
                    "numéro de téléphone)")


class DisclosureGroup(BaseModel):
    id: str
    label_fr: str
    properties: list[str]


class DisclosureOptions(BaseModel):
    """What a holder chooses from when approving, and the deadlines that apply."""

    groups: list[DisclosureGroup]
    always_shown: list[str]
    max_release_days: int
    deadline_hours: int


class RequestThread(BaseModel):
    request: DisclosureRequestRecord
    side: str  # the caller's: requester | holder | coordinator
    messages: list[DisclosureMessage]


async def _party(graph, rulebook: Rulebook, caller: Principal, request_id: str,
                 now) -> tuple[DisclosureRequestRecord, str]:
    """The request as of ``now`` and the caller's side, or the 404 of an unknown request."""
    unknown = NotFound(f"demande de communication inconnue : {request_id}")
    try:
        record = await run_in_threadpool(graph_grants.get_disclosure_request, graph, request_id)
    except NotFound:
        raise unknown from None
    record = with_overdue(record, now)
    side = graded.thread_side(
        user_id=caller.user_id, agency=caller.agency, role=caller.role,
        may_decide=permission(rulebook.policy, caller.role, Action.DECIDE_DISCLOSURE).allowed,
        requester_user_id=record.requester_user_id, owner_agency=record.owner_agency,
        overdue=record.overdue, escalated=record.escalated_at is not None)
    if side is None:
        raise unknown
    return record, side


@router.get(
    "/disclosure-groups", response_model=DisclosureOptions,
    summary="Groupes de propriétés d'une communication graduée",
    description="Ce que le service détenteur peut communiquer groupe par groupe, la durée "
                "maximale d'une communication et le délai de réponse (disclosure.yaml).",
)
async def disclosure_groups(caller: CallerDep, rulebook: RulebookDep) -> DisclosureOptions:
    rules = rulebook.disclosure
    return DisclosureOptions(
        groups=[DisclosureGroup(id=g.id, label_fr=g.label_fr, properties=list(g.properties))
                for g in rulebook.policy.property_groups],
        always_shown=list(rules.always_shown), max_release_days=rules.max_release_days,
        deadline_hours=rules.deadline_hours)


@router.get(
    "/disclosure-requests/{request_id}", response_model=RequestThread,
    summary="Une demande de communication et son échange",
    description="Pour le demandeur, le service détenteur (qui peut statuer) et, une fois le "
                "délai de réponse dépassé, le coordinateur de la CROSS. Pour tout autre, la même "
                "réponse 404 qu'une demande inconnue.",
)
async def get_disclosure_request(request_id: RequestId, graph: GraphDep, caller: CallerDep,
                                 rulebook: RulebookDep, clock: ClockDep) -> RequestThread:
    record, side = await _party(graph, rulebook, caller, request_id, clock)
    messages = await run_in_threadpool(graph_grants.list_messages, graph, request_id)
    return RequestThread(request=record, side=side, messages=messages)


@router.post(
    "/disclosure-requests/{request_id}/messages", response_model=DisclosureMessage,
    status_code=status.HTTP_201_CREATED,
    summary="Écrire dans l'échange d'une demande de communication",
    description="Question du demandeur, réponse du service détenteur (ou du coordinateur une "
                "fois la demande escaladée). L'autre partie est notifiée ; chaque message est "
                "journalisé.",
)
async def post_disclosure_message(
    request: Request, request_id: RequestId, body: MessageIn, graph: GraphDep,
    caller: CallerDep, rulebook: RulebookDep, audit: AuditDep, clock: ClockDep,
) -> DisclosureMessage:
    rules = rulebook.disclosure
    if len(body.text) > rules.max_message_chars:
        raise InvalidInput("message trop long", details=[
            {"field": "text", "reason": f"au plus {rules.max_message_chars} caractères"}])
    record, side = await _party(graph, rulebook, caller, request_id, clock)
    client = auditing.client_of(request)
    return await run_in_threadpool(lambda: graph_grants.post_message(
        graph, request_id, author_user_id=caller.user_id, author_name=caller.name,
        author_agency=caller.agency, side=side, text=body.text, now=clock,
        max_messages=rules.max_messages_per_request,
        notice=graded.message_posted_fr(caller.name, caller.agency, request_id),
        before_commit=lambda m: audit.append(
            auditing.disclosure_message_posted(client, caller, record, m))))
