"""Federation in the graph (graph/federation/): the facts the hub's scope decision takes — every
local lead behind a plate or a phone, with its agency and handling code — tokens that match
for their own epoch and kind only, a daily quota that never lets concurrent takes pass its
limit, and one ticket per (side, peer, kind, identifier) however often and concurrently it is
claimed. No graph wipe: values and peers are random, so the test shares the session's graph."""

from __future__ import annotations

import secrets
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

import pytest

from graph import federation as fed
from graph.grants.models import NotificationKind
from graph.leads import write_leads
from graph.setup import apply_schema
from hub.contract.errors import NotFound
from hub.contract.lead import Lead
from tests.factories import canary_tag, lead, random_plate


def random_mobile() -> tuple[str, str]:
    """A valid French mobile as typed and as the graph keys it (E.164): 061x is always valid."""
    digits = f"61{secrets.randbelow(10)}" + "".join(str(secrets.randbelow(10)) for _ in range(6))
    return "0" + digits, "+33" + digits


@pytest.fixture(scope="module")
def world(graph):
    apply_schema(graph)
    since = datetime.now(UTC) - timedelta(seconds=1)
    plate, (typed, e164) = random_plate(), random_mobile()
    leads = [
        Lead.model_validate(lead(source_agency="police", handling_code="H1",
                                 vehicles=[{"plate": plate}], phones=[typed])),
        Lead.model_validate(lead(source_agency="douanes", source_ref=f"DN-{canary_tag(8)}",
                                 handling_code="H3", vehicles=[{"plate": plate}])),
    ]
    ids = [w.lead_id for w in write_leads(graph, leads)]
    return {"graph": graph, "since": since, "plate": plate, "phone": e164, "ids": ids}


def _mine(pages, keys):
    return {(e.kind, e.key): e for page in pages for e in page if e.key in keys}


def test_every_local_lead_behind_a_plate_or_phone_with_its_agency_and_code(world):
    graph, plate, phone = world["graph"], world["plate"], world["phone"]
    police, douane = world["ids"]
    found = _mine(fed.federable_entities(graph, kinds=["plate", "phone"], since=world["since"]),
                  {plate, phone})
    # The rule: each lead mentioning the entity, as written — no more, no less.
    assert {(lb.lead_id, lb.agency, lb.handling_code) for lb in found["plate", plate].leads} == {
        (police, "police", "H1"), (douane, "douanes", "H3")}
    assert {(lb.lead_id, lb.agency, lb.handling_code) for lb in found["phone", phone].leads} == {
        (police, "police", "H1")}
    # Only the kinds asked for; the full scan (paged small) finds the same facts.
    only_phones = _mine(fed.federable_entities(graph, kinds=["phone"], since=world["since"]),
                        {plate, phone})
    assert set(only_phones) == {("phone", phone)}
    scanned = _mine(fed.federable_entities(graph, kinds=["plate"], page_size=7), {plate})
    assert [lb.lead_id for lb in scanned["plate", plate].leads] == sorted([police, douane])
    # Nothing received after the cursor: the entity is not new.
    later = datetime.now(UTC) + timedelta(minutes=1)
    assert not _mine(fed.federable_entities(graph, kinds=["plate", "phone"], since=later),
                     {plate, phone})


def test_a_token_matches_for_its_own_epoch_and_kind_only(world):
    graph, plate = world["graph"], world["plate"]
    token = secrets.token_hex(8)
    assert fed.set_tokens(graph, 7, [fed.TokenRow(kind="plate", key=plate, token=token)]) == 1
    hit = fed.entities_by_token(graph, 7, [("plate", token)])
    assert hit["plate", token].key == plate
    assert {lb.agency for lb in hit["plate", token].leads} == {"police", "douanes"}
    assert fed.entities_by_token(graph, 8, [("plate", token)]) == {}  # another epoch
    assert fed.entities_by_token(graph, 7, [("phone", token)]) == {}  # another kind
    fed.set_tokens(graph, 7, [fed.TokenRow(kind="plate", key=plate, token=None)])
    assert fed.entities_by_token(graph, 7, [("plate", token)]) == {}  # withdrawn


def test_concurrent_quota_takes_never_pass_the_limit(graph):
    apply_schema(graph)
    peer, day, limit = f"cross-{canary_tag(6)}", date(2026, 12, 7), 5
    with ThreadPoolExecutor(max_workers=4) as pool:
        takes = list(pool.map(lambda _: fed.take_quota(graph, peer, day, 1, limit), range(8)))
    assert sum(t.allowed for t in takes) == limit
    assert fed.quota_used(graph, peer, day) == limit
    assert not fed.take_quota(graph, peer, day, 1, limit).allowed
    assert fed.take_quota(graph, peer, day + timedelta(days=1), limit, limit).allowed  # a new day


def test_one_ticket_per_side_peer_kind_and_identifier(world):
    graph, plate = world["graph"], world["plate"]
    peer = f"cross-{canary_tag(6)}"
    now = datetime.now(UTC)
    draft = fed.TicketDraft(side=fed.TicketSide.HOLDER, peer=peer, kind="plate", entity_key=plate,
                            lead_ids=world["ids"], agencies=["police", "douanes"],
                            handling_code="H3", desk="CROSS 25", due_at=now + timedelta(hours=48))

    def notices(ticket):
        return [(a, None, NotificationKind.FEDERATION_TICKET, "test", {"ticket_id": ticket.ticket_id})
                for a in ticket.agencies]

    with ThreadPoolExecutor(max_workers=4) as pool:
        opened = list(pool.map(lambda _: fed.open_ticket(graph, draft, now, notices_for=notices),
                               range(4)))
    assert sum(created for _, created in opened) == 1
    assert len({t.ticket_id for t, _ in opened}) == 1
    ticket = opened[0][0]
    told = graph.query("MATCH (n:Notification) WHERE n.payload_ticket_id = $id "
                       "RETURN n.agency AS agency", id=ticket.ticket_id)
    assert sorted(r["agency"] for r in told) == ["douanes", "police"]  # told once each
    # The claimant's copy of the same identifier is another ticket; another peer too.
    other = draft.model_copy(update={"side": fed.TicketSide.CLAIMANT, "ticket_id": "FT-x"})
    assert fed.open_ticket(graph, other, now)[1]
    assert ticket.ticket_id in {t.ticket_id for t in fed.list_tickets(graph, "douanes")}
    assert ticket.ticket_id not in {t.ticket_id for t in fed.list_tickets(graph, "gendarmerie")}
    # A status from another peer does not move it; the ticket's own peer does.
    with pytest.raises(NotFound):
        fed.set_ticket_status(graph, ticket.ticket_id, fed.TicketSide.HOLDER,
                              fed.TicketStatus.ANSWERED, now, peer="cross-00")
    answered = fed.set_ticket_status(graph, ticket.ticket_id, fed.TicketSide.HOLDER,
                                     fed.TicketStatus.ANSWERED, now, peer=peer)
    assert answered.status is fed.TicketStatus.ANSWERED and answered.answered_at is not None


def test_a_lead_whose_embargo_ended_since_the_cursor_is_new_again(graph):
    """Received before the cursor, under embargo then: once the embargo ends it may federate,
    so the next round asks about it without the lead being received again."""
    plate = random_plate()
    ends = datetime.now(UTC) + timedelta(minutes=5)  # well after the write, however slow
    write_leads(graph, [Lead.model_validate(lead(vehicles=[{"plate": plate}],
                                                 embargo_until=ends.isoformat()))])
    cursor = datetime.now(UTC)
    assert not _mine(fed.federable_entities(graph, kinds=["plate"], since=cursor,
                                            until=cursor), {plate})
    later = ends + timedelta(seconds=1)
    found = _mine(fed.federable_entities(graph, kinds=["plate"], since=cursor, until=later),
                  {plate})
    assert set(found) == {("plate", plate)}
