"""The holder's side of federation: this hub answers peers about its own identifiers.

* ``refresh_tokens`` — every plate and phone some lead lets reach at least one member gets this
  epoch's token (truncated OPRF output under this hub's key); one that no longer reaches anyone
  loses it. A token of an earlier epoch is replaced, so it stops matching.
* ``peer_filter`` — the signed, padded filter for one peer: the tokens of the identifiers whose
  leads' scope reaches *that* peer (policies/federation_reach.py), cut from the index of the last
  pass (at most ``INDEX_TTL_S`` old, of the current epoch) or of a new one.
* ``evaluate`` — a peer's blinded batch, evaluated with this epoch's key under the peer's daily
  quota (429 ``quota_exceeded`` past it, nothing evaluated); counts are logged, never values.
* ``confirm_claims`` — a claim becomes a ticket only if its token is in this epoch's index *and*
  a lead behind it reaches the claimant now (re-checked: scopes, dismissals and embargoes may
  have changed since the filter). One ticket per (peer, identifier): a repeated claim answers
  the same ticket. The ticket names the desk of the originating agency (of the CROSS itself when
  leads of several agencies are behind it), the strictest handling code of those leads and the follow-up deadline (policy); the agencies of those leads
  are notified, the disclosure logged, in the ticket's transaction.
* ``answer_ticket`` / ``receive_status`` — a person of the holder closes a ticket (reported to the
  claimant through the antenna); the claimant records what the holder reported.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from graph import federation as graph_fed
from graph.federation import TicketDraft, TicketRecord, TicketSide, TicketStatus, TokenRow
from hub.audit import federation as auditing
from hub.contract.errors import Conflict, InvalidInput, NotFound, QuotaExceeded
from hub.contract.lead import HandlingCode
from hub.federation.filters import build_filter
from hub.federation.service import (
    FederationContext,
    PeerTransport,
    status_notices,
    ticket_notices,
    token_hex,
)
from hub.federation.wire import (
    ClaimsRequest,
    ClaimsResponse,
    EvaluateRequest,
    EvaluateResponse,
    SignedFilter,
    Ticket,
    TicketStatusUpdate,
)
from policies.audit import Actor
from policies.federation import (
    desk_of,
    epoch_of,
    follow_up_due,
    quota_per_day,
    strictest_code,
)
from policies.federation_reach import lead_federates, peers_reached, reaching


@dataclass
class RefreshReport:
    epoch: int
    set: int = 0
    cleared: int = 0
    kept: int = 0


@dataclass
class TokenIndex:
    """This hub's tokens of one epoch, each with the members its leads reach — what every
    peer's filter is cut from. Kept ``INDEX_TTL_S`` in memory, so peers fetching their filters
    in one round cost one pass over the graph, not one each."""

    epoch: int
    built_at: float
    reach: dict[bytes, frozenset[str]] = field(default_factory=dict)


INDEX_TTL_S = 60.0


def _index_pass(ctx: FederationContext, now: datetime) -> tuple[RefreshReport, TokenIndex]:
    """One pass over the federable entities: tokens refreshed for the epoch (set, kept, or
    withdrawn from an identifier no lead lets reach any member any more), and the index."""
    epoch = epoch_of(ctx.rules, now)
    key, size = ctx.key(epoch), ctx.rules.token_bytes
    report, index = RefreshReport(epoch=epoch), TokenIndex(epoch=epoch, built_at=time.monotonic())
    reached: dict[tuple[str, str], frozenset[str]] = {}
    interned: dict[frozenset[str], frozenset[str]] = {}
    kinds = [k.value for k in ctx.rules.kinds]
    for page in graph_fed.federable_entities(ctx.graph, kinds=kinds):
        rows: list[TokenRow] = []
        for entity in page:
            peers: frozenset[str] = frozenset()
            for lead in entity.leads:
                if lead_federates(lead, now):
                    pair = (lead.agency, lead.handling_code)
                    if pair not in reached:
                        reached[pair] = peers_reached(ctx.rules, ctx.cross_id, *pair)
                    peers |= reached[pair]
            token = entity.fed_token if entity.fed_epoch == epoch else None
            if peers and token is None:
                token = token_hex(key, entity, size)
                rows.append(TokenRow(kind=entity.kind, key=entity.key, token=token))
                report.set += 1
            elif not peers and entity.fed_token is not None:
                rows.append(TokenRow(kind=entity.kind, key=entity.key, token=None))
                report.cleared += 1
                token = None
            elif peers:
                report.kept += 1
            if token is not None and peers:
                index.reach[bytes.fromhex(token)] = interned.setdefault(peers, peers)
        if rows:
            graph_fed.set_tokens(ctx.graph, epoch, rows)
    ctx.token_index = index
    return report, index


def refresh_tokens(ctx: FederationContext, now: datetime) -> RefreshReport:
    return _index_pass(ctx, now)[0]


def peer_filter(ctx: FederationContext, peer: str, now: datetime) -> SignedFilter:
    """The filter for ``peer``: the tokens of the identifiers whose leads reach it (the index of
    the last pass when it is of this epoch and recent, else a new pass)."""
    ctx.member(peer)
    if ctx.signing_key is None:
        raise Conflict("fédération non configurée : clé de signature du hub absente")
    index = ctx.token_index
    if (not isinstance(index, TokenIndex) or index.epoch != epoch_of(ctx.rules, now)
            or time.monotonic() - index.built_at > INDEX_TTL_S):
        index = _index_pass(ctx, now)[1]
    tokens = {token for token, peers in index.reach.items() if peer in peers}
    return build_filter(holder=ctx.cross_id, peer=peer, epoch=index.epoch,
                        public_key=ctx.key(index.epoch).public_key,
                        token_bytes=ctx.rules.token_bytes, tokens=tokens,
                        minimum=ctx.rules.filter_min_size, issued_at=now,
                        signing_key=ctx.signing_key)


def _current_epoch(ctx: FederationContext, asked: int, now: datetime) -> int:
    epoch = epoch_of(ctx.rules, now)
    if asked != epoch:
        raise Conflict(f"époque {asked} périmée : l'époque en cours est {epoch}, redemander le "
                       "filtre", details=[{"field": "epoch", "reason": f"{epoch} attendue"}])
    return epoch


def evaluate(ctx: FederationContext, peer: str, request: EvaluateRequest,
             now: datetime) -> EvaluateResponse:
    ctx.member(peer)
    epoch = _current_epoch(ctx, request.epoch, now)
    n, most = len(request.blinded), ctx.rules.max_evaluations_per_call
    if n > most:
        raise InvalidInput(f"trop de valeurs dans une évaluation : {n} (au plus {most})",
                           details=[{"field": "blinded", "reason": f"au plus {most} valeurs"}])
    limit = quota_per_day(ctx.rules, peer)
    today = now.astimezone(UTC).date()
    take = graph_fed.take_quota(ctx.graph, peer, today, n, limit)
    ctx.audit.append(auditing.evaluation_answered(peer, n, allowed=take.allowed, used=take.used,
                                                  limit=limit))
    if not take.allowed:
        midnight = datetime.combine(today + timedelta(days=1), datetime.min.time(), UTC)
        raise QuotaExceeded(
            f"quota d'évaluations du jour dépassé pour {peer} : {take.used} sur {limit} déjà "
            f"utilisées, {n} demandées ; réessayer après minuit (UTC)",
            details=[{"field": "blinded", "reason": f"quota journalier de {limit} évaluations"}],
            retry_after_s=max(1, int((midnight - now.astimezone(UTC)).total_seconds())))
    return EvaluateResponse(epoch=epoch, evaluated=ctx.key(epoch).evaluate_batch(request.blinded))


def confirm_claims(ctx: FederationContext, peer: str, request: ClaimsRequest,
                   now: datetime) -> ClaimsResponse:
    ctx.member(peer)
    epoch = epoch_of(ctx.rules, now)
    if request.epoch != epoch:  # another epoch's tokens never match
        ctx.audit.append(auditing.claims_refused(peer, len(request.claims), []))
        return ClaimsResponse(refused=[c.claim_id for c in request.claims])
    found = graph_fed.entities_by_token(
        ctx.graph, epoch, [(c.kind.value, c.token.hex()) for c in request.claims])
    tickets: list[Ticket] = []
    created: list[TicketRecord] = []
    refused: list[str] = []
    kept_back: list[str] = []
    for claim in request.claims:
        entity = found.get((claim.kind.value, claim.token.hex()))
        leads = reaching(ctx.rules, ctx.cross_id, peer, entity.leads, now) if entity else []
        if entity is None or not leads:
            refused.append(claim.claim_id)
            kept_back += [lead.lead_id for lead in (entity.leads if entity else [])]
            continue
        code = strictest_code([lead.handling_code for lead in leads])
        # One originating agency: its desk; several: the CROSS's own desk coordinates them.
        agencies = sorted({lead.agency for lead in leads})
        desk = desk_of(ctx.rules, ctx.cross_id, agencies[0] if len(agencies) == 1 else "default")
        draft = TicketDraft(
            side=TicketSide.HOLDER, peer=peer, kind=entity.kind, entity_key=entity.key,
            lead_ids=[lead.lead_id for lead in leads], agencies=[lead.agency for lead in leads],
            handling_code=code.value, desk=desk,
            due_at=follow_up_due(ctx.rules, code, now), claim_id=claim.claim_id)
        ticket, new = graph_fed.open_ticket(
            ctx.graph, draft, now, notices_for=lambda t: ticket_notices(ctx, t),
            before_commit=lambda t, created: ctx.audit.append(
                auditing.claim_confirmed(t, created=created)))
        if new:
            created.append(ticket)
        tickets.append(Ticket(claim_id=claim.claim_id, ticket_id=ticket.ticket_id,
                              holder=ctx.cross_id, claimant=peer, kind=claim.kind,
                              desk=ticket.desk, handling_code=HandlingCode(ticket.handling_code),
                              due_at=ticket.due_at))
    if refused:
        ctx.audit.append(auditing.claims_refused(peer, len(refused), kept_back))
    ctx.tickets_created(created, now)
    return ClaimsResponse(tickets=tickets, refused=refused)


def answer_ticket(ctx: FederationContext, transport: PeerTransport | None, ticket_id: str, *,
                  status: TicketStatus, message: str, agency: str, actor: Actor,
                  client: str | None, now: datetime) -> TicketRecord:
    """A person of an agency behind a holder ticket answers it: reported to the claimant through
    the antenna first (an antenna that refuses leaves the ticket as it was), then recorded."""
    ticket = graph_fed.get_ticket(ctx.graph, ticket_id, TicketSide.HOLDER)
    if ticket is None or agency not in ticket.agencies:
        raise NotFound(f"ticket de fédération inconnu : {ticket_id}")
    if transport is not None:
        transport.ticket_status(ticket_id, TicketStatusUpdate(status=status.value, at=now,
                                                              message=message))
    return graph_fed.set_ticket_status(
        ctx.graph, ticket_id, TicketSide.HOLDER, status, now, message=message or None,
        before_commit=lambda t: ctx.audit.append(auditing.ticket_answered(t, actor, client)))


def receive_status(ctx: FederationContext, peer: str, ticket_id: str,
                   update: TicketStatusUpdate) -> TicketRecord:
    """The holder ``peer`` reports its answer on a ticket this hub claimed."""
    ctx.member(peer)
    if update.status == TicketStatus.OPEN.value:
        raise InvalidInput("statut attendu : answered, released ou declined",
                           details=[{"field": "status", "reason": "valeur non permise"}])
    return graph_fed.set_ticket_status(
        ctx.graph, ticket_id, TicketSide.CLAIMANT, TicketStatus(update.status), update.at,
        peer=peer, message=update.message or None,
        notices_for=lambda t: status_notices(ctx, t),
        before_commit=lambda t: ctx.audit.append(auditing.ticket_answered(t, None, None)))
