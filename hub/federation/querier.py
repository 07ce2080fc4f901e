"""The querier's round: this hub asks each peer, blind, whether it holds this hub's new plates
and phones, and keeps the tickets of confirmed hits.

Per peer, in order: fetch the peer's filter through the antenna and keep it only if the peer's
federation key (directory) signed it, for this hub, with a token length the policy knows; take
the identifiers new since the peer's cursor (or whose lead's embargo ended since) whose own
leads' scope reaches that peer (originator
control applies to asking too: a lead that may not answer a peer does not ask it either);
blind them (fresh blinds per query), have the peer evaluate them in batches, finalize — the
proof is checked against the public key *in the signed filter*, so a holder evaluating with
another key fails the round for that peer, never yields a hit —, test the truncated outputs
against the filter locally, claim only the candidates, and store each ticket the holder
returns (claimant side: notified, logged). The peer's cursor moves only when its round went
through; a failure is recorded (audit, report) and the next round tries again.

Only local leads feed the round (graph/federation/entities.py): a ticket is never an
identifier, so nothing learnt from one peer is asked of another.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from graph import federation as graph_fed
from graph.federation import FederableEntity, LeadBehind, TicketDraft, TicketSide
from hub.audit import federation as auditing
from hub.federation.filters import FilterIndex, FilterSignatureInvalid, verify_filter
from hub.federation.identifiers import federation_input
from hub.federation.oprf import ProofFailed, blind, finalize, truncate
from hub.federation.service import FederationContext, PeerRefused, PeerTransport, ticket_notices
from hub.federation.wire import Claim, ClaimsRequest, EvaluateRequest, SignedFilter
from policies.federation_reach import reaching

Candidate = tuple[FederableEntity, list[LeadBehind]]


@dataclass
class PeerRound:
    """What one peer's round did: counts only (never a value)."""

    peer: str
    evaluated: dict[str, int] = field(default_factory=dict)
    claimed: dict[str, int] = field(default_factory=dict)
    tickets: list[str] = field(default_factory=list)
    new_tickets: int = 0
    refused: int = 0
    claim_lead_ids: list[str] = field(default_factory=list)
    error: str | None = None


def cursor_name(peer: str) -> str:
    return f"round:{peer}"


def run_round(ctx: FederationContext, transport: PeerTransport,
              peers: Iterable[str] | None = None, *, now: datetime | None = None,
              batch_size: int | None = None) -> list[PeerRound]:
    """One round against each peer (default: every other member), each peer on its own: one
    failing does not stop the others."""
    now = now or datetime.now(UTC)
    batch = min(batch_size or ctx.rules.max_evaluations_per_call,
                ctx.rules.max_evaluations_per_call)
    return [_with_peer(ctx, transport, ctx.member(peer), now, batch)
            for peer in (ctx.peers() if peers is None else peers)]


def _verified_filter(ctx: FederationContext, peer: str, f: SignedFilter) -> FilterIndex:
    if ctx.directory is None or peer not in ctx.directory.members:
        raise FilterSignatureInvalid(f"clé de signature de {peer} absente de l'annuaire")
    if f.holder != peer or f.peer != ctx.cross_id:
        raise FilterSignatureInvalid(f"filtre de {f.holder} pour {f.peer} : attendu de {peer} "
                                     f"pour {ctx.cross_id}")
    verify_filter(f, ctx.directory.members[peer].key())
    if f.token_bytes != ctx.rules.token_bytes or any(len(t) != f.token_bytes for t in f.tokens):
        raise FilterSignatureInvalid(f"filtre de {peer} : longueur de jeton inattendue")
    return FilterIndex(f)


def _with_peer(ctx: FederationContext, transport: PeerTransport, peer: str, now: datetime,
               batch: int) -> PeerRound:
    result = PeerRound(peer=peer)
    since = graph_fed.get_cursor(ctx.graph, cursor_name(peer))
    try:
        index = _verified_filter(ctx, peer, transport.get_filter(peer))
        pending: list[Candidate] = []
        kinds = [k.value for k in ctx.rules.kinds]
        for page in graph_fed.federable_entities(ctx.graph, kinds=kinds, since=since, until=now):
            for entity in page:
                leads = reaching(ctx.rules, ctx.cross_id, peer, entity.leads, now)
                if leads:
                    pending.append((entity, leads))
                if len(pending) >= batch:
                    _ask(ctx, transport, index, pending, result, now)
                    pending = []
        if pending:
            _ask(ctx, transport, index, pending, result, now)
        graph_fed.set_cursor(ctx.graph, cursor_name(peer), now)
    except PeerRefused as exc:
        result.error = f"refus de {peer} ({exc.status}) : {exc.reason}"[:300]
    except ProofFailed:
        result.error = f"preuve d'évaluation invalide : {peer} n'a pas évalué avec la clé de son filtre"
    except FilterSignatureInvalid as exc:
        result.error = f"filtre rejeté : {exc}"[:300]
    ctx.audit.append(auditing.query_sent(
        peer, evaluated=result.evaluated, claimed=result.claimed,
        lead_ids=result.claim_lead_ids, tickets=len(result.tickets), refused=result.refused,
        error=result.error))
    return result


def _ask(ctx: FederationContext, transport: PeerTransport, index: FilterIndex,
         batch: list[Candidate], result: PeerRound, now: datetime) -> None:
    f = index.filter
    query = blind([federation_input(entity.kind, entity.key) for entity, _ in batch])
    answer = transport.evaluate(f.holder, EvaluateRequest(epoch=f.epoch, blinded=query.blinded))
    if answer.epoch != f.epoch:
        raise PeerRefused(409, f"évaluation d'une autre époque ({answer.epoch} au lieu de {f.epoch})")
    outputs = finalize(query, answer.evaluated, f.public_key)
    for entity, _ in batch:
        result.evaluated[entity.kind] = result.evaluated.get(entity.kind, 0) + 1
    claims: dict[str, Candidate] = {}
    wire: list[Claim] = []
    for candidate, output in zip(batch, outputs, strict=True):
        if index.contains(output):
            claim_id = uuid.uuid4().hex
            claims[claim_id] = candidate
            wire.append(Claim(claim_id=claim_id, kind=candidate[0].kind,
                              token=truncate(output, f.token_bytes)))
    if not wire:
        return
    for claim in wire:
        result.claimed[claim.kind.value] = result.claimed.get(claim.kind.value, 0) + 1
    result.claim_lead_ids += [lead.lead_id for _, leads in claims.values() for lead in leads]
    response = transport.claims(f.holder, ClaimsRequest(epoch=f.epoch, claims=wire))
    result.refused += len(response.refused)
    created = []
    for ticket in response.tickets:
        entity, leads = claims.get(ticket.claim_id, (None, []))
        if (entity is None or ticket.holder != f.holder or ticket.claimant != ctx.cross_id
                or ticket.kind.value != entity.kind):
            continue  # not an answer to a claim of ours: ignored
        draft = TicketDraft(
            side=TicketSide.CLAIMANT, peer=f.holder, kind=entity.kind, entity_key=entity.key,
            ticket_id=ticket.ticket_id, lead_ids=[lead.lead_id for lead in leads],
            agencies=[lead.agency for lead in leads], handling_code=ticket.handling_code.value,
            desk=ticket.desk, due_at=ticket.due_at, claim_id=ticket.claim_id)
        stored, new_ticket = graph_fed.open_ticket(
            ctx.graph, draft, now, notices_for=lambda t: ticket_notices(ctx, t),
            before_commit=lambda t, new: ctx.audit.append(auditing.ticket_received(t, created=new)))
        result.tickets.append(stored.ticket_id)
        if new_ticket:
            created.append(stored)
    result.new_tickets += len(created)
    ctx.tickets_created(created, now)
