"""Lead ingest (``POST /api/v1/leads``) and lead reads (``GET /api/v1/leads/{lead_id}``)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool

from graph import leads as graph_leads
from graph import read as graph_read
from graph.federation import reads as fed_reads
from graph.models import Hit, LeadView
from hub.audit.events import log_collection, log_consultation
from hub.contract.batch import validate_items
from hub.contract.errors import Forbidden, InvalidInput, NotAuthenticated, PayloadTooLarge
from hub.contract.lead import IngestResponse, ItemError, ItemOutcome, ItemResult
from hub.federation import notes as fed_notes
from hub.deps import (
    AccessDep,
    RulebookDep,
    AuditDep,
    CallerDep,
    GraphDep,
    JustificationDep,
    SettingsDep,
    read_body,
    require_justification,
    verified_connector,
)

router = APIRouter(prefix="/api/v1", tags=["pistes"])

# The intake connector (connectors/intake, ADR 0014) pushes what a person entered, with that
# person's own session token in this header; the hub checks the person, not the connector.
ON_BEHALF_HEADER = "X-CrossHub-On-Behalf-Of"
INTAKE_CONNECTOR = "intake"


async def _submitter(request: Request, graph, settings, rulebook, connector: str):
    """The person a push is entered by (None for an ordinary connector push): their token must
    be a live session whose role may ``leads.submit``. The intake connector never pushes
    without one, so a lead it writes always names who entered it."""
    from graph import sessions as graph_sessions
    from hub.auth.tokens import keys_for
    from policies.permissions import Action, permission

    token = request.headers.get(ON_BEHALF_HEADER)
    if token is None:
        if connector == INTAKE_CONNECTOR:
            raise Forbidden("le connecteur de saisie verse pour le compte d'une personne : "
                            f"en-tête {ON_BEHALF_HEADER} attendu")
        return None
    try:
        claims = keys_for(settings.keys_dir).verify(token)
    except NotAuthenticated:
        claims = None
    person = None if claims is None else await run_in_threadpool(
        graph_sessions.principal_for_session, graph, claims.sid, claims.sub)
    if person is None:
        raise NotAuthenticated("session de la personne qui saisit inconnue, expirée ou révoquée",
                               details=[{"field": ON_BEHALF_HEADER, "reason": "se reconnecter"}])
    decision = permission(rulebook.policy, person.role, Action.SUBMIT_LEADS)
    if not decision.allowed:
        raise Forbidden(decision.refusal_fr, details=[{"field": ON_BEHALF_HEADER,
                                                       "reason": "saisie de pistes non autorisée"}])
    return person


def _parse_envelope(body: bytes, max_batch: int) -> list[Any]:
    try:
        envelope = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput("corps JSON illisible",
                           details=[{"field": "(corps)", "reason": f"JSON invalide : {exc}"}]) from exc
    if not isinstance(envelope, dict) or not isinstance(envelope.get("leads"), list):
        raise InvalidInput("enveloppe invalide", details=[
            {"field": "leads", "reason": "liste de pistes attendue : {\"leads\": [...]}"}])
    extra = sorted(set(envelope) - {"leads"})
    if extra:
        raise InvalidInput("enveloppe invalide", details=[
            {"field": name, "reason": "champ non autorisé"} for name in extra])
    items = envelope["leads"]
    if not items:
        raise InvalidInput("lot vide", details=[{"field": "leads", "reason": "au moins une piste"}])
    if len(items) > max_batch:
        raise PayloadTooLarge(
            f"lot trop grand : {len(items)} pistes (maximum {max_batch})",
            details=[{"field": "leads", "reason": f"au plus {max_batch} pistes par lot"}],
        )
    return items


@router.post(
    "/leads",
    response_model=IngestResponse,
    summary="Verser un lot de pistes",
    description=(
        "Valide chaque piste séparément (les pistes invalides sont rejetées une à une avec le "
        "chemin exact du champ et la raison), puis écrit les pistes valides en une transaction. "
        "Idempotent sur (service, référence source, version)."
    ),
)
async def ingest_leads(request: Request, graph: GraphDep, settings: SettingsDep,
                       caller: CallerDep, audit: AuditDep, rulebook: RulebookDep) -> IngestResponse:
    started = time.perf_counter()
    body = await read_body(request, settings.max_body_bytes)
    connector = await verified_connector(request, body, caller, graph, settings)
    person = await _submitter(request, graph, settings, rulebook, connector.connector)
    items = _parse_envelope(body, settings.max_batch_size)
    # A person enters leads of their own service only.
    valid, rejected = validate_items(
        items, allowed_agencies={person.agency if person else connector.agency})
    if valid:
        # Logged before writing: nothing is collected that the trail does not show. A lead new
        # to the hub has no public id yet, so the entry names the internal source keys
        # (``<agency>|<source_ref>``, kept on the lead; the trail is read by auditors only).
        await log_collection(request, audit, caller, connector.connector,
                             sorted({lead.source_key for _, lead in valid}),
                             entered_by=person.user_id if person else None)
    written = await run_in_threadpool(
        graph_leads.write_leads, graph, [lead for _, lead in valid],
        radius_m=settings.location_merge_radius_m, chunk_size=settings.write_chunk_size,
        pushed_by=connector.connector, mark_for_triage=True,
        entered_by=person.user_id if person else None,
    )
    if any(w.outcome in (ItemOutcome.CREATED, ItemOutcome.UPDATED) for w in written):
        request.app.state.triage_wakeup.set()  # triage follows, off the acknowledgement's path
    results: dict[int, ItemResult] = dict(rejected)
    for (index, lead), w in zip(valid, written, strict=True):
        errors = [ItemError(field=f"leads[{index}].version", reason=w.reason)] if w.reason else []
        # The opaque public id, and the connector's own reference so it keeps the link.
        results[index] = ItemResult(index=index, lead_id=w.lead_id, source_ref=lead.source_ref,
                                    outcome=w.outcome, version=w.version,
                                    held_version=w.held_version, errors=errors)
    ordered = [results[i] for i in range(len(items))]
    accepted = sum(r.outcome is not ItemOutcome.REJECTED for r in ordered)
    request.app.state.metrics.ingest(connector.agency, [r.outcome.value for r in ordered],
                                     time.perf_counter() - started)
    return IngestResponse(accepted=accepted, rejected=len(ordered) - accepted, results=ordered)


@router.get(
    "/leads/{lead_id}",
    response_model=LeadView | Hit,
    summary="Consulter une piste",
    description="La piste telle que la politique d'accès permet de la voir, ou un « hit » "
                "indiquant seulement quel service la détient.",
)
async def read_lead(
    request: Request,
    lead_id: Annotated[str, Path(min_length=3, max_length=160)],
    graph: GraphDep, settings: SettingsDep, access: AccessDep, caller: CallerDep, audit: AuditDep,
    justification: JustificationDep, rulebook: RulebookDep,
) -> LeadView | Hit:
    reason = require_justification(justification)
    view = await run_in_threadpool(graph_read.get_lead, graph, lead_id, access)
    if isinstance(view, LeadView):  # full or redacted only: a hit learns nothing of tickets
        tickets = await run_in_threadpool(fed_reads.tickets_of_lead, graph, lead_id)
        view.federation = fed_notes.lead_notes(tickets, view.redacted, rulebook.federation,
                                               datetime.now(UTC))
    outcome = "hit" if isinstance(view, Hit) else view.access
    shared = view.federation if isinstance(view, LeadView) else []
    await log_consultation(request, audit, caller, justification=reason, outcome=outcome,
                           rule_id=access.policy_id, lead_ids=[lead_id],
                           entity_keys=[f"federation-ticket:{n.ticket_id}" for n in shared])
    return view
