"""Gendarmerie connector against its stand-in feed, served for real by uvicorn on 127.0.0.1."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from connectors.base import Fault, RunStatus
from connectors.demo.gendarmerie_feed import Faults, RecordStore, StandIn, serve_in_thread
from connectors.demo.sources.gendarmerie import write_samples
from connectors.gendarmerie.connector import GendarmerieConnector, GendarmerieSettings
from connectors.gendarmerie.source import decode_cursor, encode_cursor
from hub.contract.errors import ConfigurationError, SourceError, SourceRecordInvalid
from hub.contract.lead import Lead, LeadKind
from tests.connectors._harness import LINKAGE_KEY, TOKEN, FakeHub, new_key

T0 = datetime(2025, 9, 1, 6, 0, tzinfo=UTC)


class Feed:
    def __init__(self, stand_in: StandIn, url: str, tmp: Path) -> None:
        self.stand_in, self.url, self.tmp = stand_in, url, tmp

    @property
    def store(self) -> RecordStore:
        return self.stand_in.store

    def connector(self, **extra: Any) -> GendarmerieConnector:
        values: dict[str, Any] = dict(
            base_url=self.url, state_dir=str(self.tmp / "state"), signing_key_path=str(self.tmp / "k.pem"),
            linkage_key=SecretStr(LINKAGE_KEY), page_size=5, retries=0, retry_backoff_s=0.01,
            timeout_s=2.0,
        )
        values.update(extra)
        return GendarmerieConnector(GendarmerieSettings(**values))


@pytest.fixture
def feed(tmp_path: Path) -> Iterator[Feed]:
    stand_in = StandIn(RecordStore())
    with serve_in_thread(stand_in.app) as url:
        yield Feed(stand_in, url, tmp_path)


def simple(rid: str, at: datetime, **extra: Any) -> dict[str, Any]:
    record = {"id": rid, "version": 1, "updated_at": at.isoformat(), "type": "renseignement",
              "lieu": {"code_insee": "25527", "commune": "Saint-Vit"}, "resume": f"Renseignement {rid}."}
    record.update(extra)
    return record


def fill(store: RecordStore, n: int, *, step: timedelta = timedelta(minutes=1), prefix: str = "GN") -> list[str]:
    ids = [f"{prefix}-{i:03d}" for i in range(n)]
    for i, rid in enumerate(ids):
        store.put(simple(rid, T0 + i * step))
    return ids


def ids_of(records: Any) -> list[str]:
    return [r.source_id for r in records]


def test_samples_paginate_in_order_and_map_to_valid_leads(feed: Feed) -> None:
    truth = write_samples(feed.store, seed=11, n=60)
    c = feed.connector()
    records = list(c.collect(None))
    keyed = [r for r in records if not r.source_id.startswith("sans-id:")]
    assert ids_of(keyed) == [i for i in truth["order"] if i != "~sans-id"]  # feed order, each once
    assert len(feed.stand_in.requests) > len(records) // 5  # it did page
    leads, bad = {}, {}
    for r in records:
        try:
            leads[r.source_id] = c.build_lead(r)
        except (SourceRecordInvalid, ValueError) as exc:
            bad[r.source_id] = str(exc)
    assert sorted(leads) == sorted(truth["leads"])
    assert len(bad) == len(truth["quarantined"])
    assert set(truth["quarantined"]) - {None} <= set(bad)
    keyring = c.keyring()
    for rid, expected in truth["leads"].items():
        lead = leads[rid]
        Lead.model_validate(lead.model_dump(mode="json"))
        assert lead.source_agency == "gendarmerie" and lead.kind == expected["kind"]
        assert lead.version == expected["version"] and lead.phones == expected["phones"]
        assert [v.plate for v in lead.vehicles] == expected["plates"]
        assert len(lead.persons) == expected["persons"]
        assert {keyring.pseudonymize(i)[0] for i in expected["identities"]} <= {p.pseudonym for p in lead.persons}
    dumped = json.dumps([lead.model_dump(mode="json") for lead in leads.values()], ensure_ascii=False).lower()
    assert [x for x in truth["raw_identifiers"] if x.lower() in dumped] == []
    # Described-only persons get pseudonyms of their own lead: never one shared node.
    described = [p.pseudonym for lead in leads.values() for p in lead.persons if p.description]
    assert described and len(described) == len(set(described))


def test_cursor_is_updated_at_and_id_and_resumes_after_it(feed: Feed) -> None:
    ids = fill(feed.store, 12)
    c = feed.connector()
    records = list(c.collect(None))
    assert ids_of(records) == ids
    assert decode_cursor(records[4].cursor) == (T0 + timedelta(minutes=4), ids[4])
    assert ids_of(c.collect(records[4].cursor)) == ids[5:]
    assert list(c.collect(records[-1].cursor)) == []
    # A record re-published comes back once, at its new version.
    feed.store.update(ids[2], at=T0 + timedelta(hours=1), resume="Complété.")
    [again] = list(c.collect(records[-1].cursor))
    assert again.source_id == ids[2] and c.map(again).version == 2


def test_ties_on_updated_at_span_pages_and_resume_by_id(feed: Feed) -> None:
    ids = fill(feed.store, 13, step=timedelta(0))  # one batch import: 13 records, one instant
    c = feed.connector(page_size=5)
    records = list(c.collect(None))
    assert ids_of(records) == ids
    assert ids_of(c.collect(records[6].cursor)) == ids[7:]
    assert {r["page"] for r in feed.stand_in.requests} >= {"1", "2", "3"}


def test_an_update_during_the_walk_skips_nothing(feed: Feed) -> None:
    ids = fill(feed.store, 20)
    c = feed.connector(page_size=5)
    walk = c.collect(None)
    first = [next(walk) for _ in range(5)]  # page 1
    feed.store.update(ids[1], at=T0 + timedelta(days=1))  # moves to the end: pages shift left
    rest = list(walk)
    seen = ids_of(first) + ids_of(rest)
    assert set(seen) == set(ids)  # plain next_page would have skipped ids[5]
    assert seen[-1] == ids[1] and seen.count(ids[1]) == 2  # once per version


def test_a_500_is_a_source_error_after_the_pages_before_it(feed: Feed) -> None:
    ids = fill(feed.store, 12)
    feed.stand_in.faults.fail_requests = {2}
    c = feed.connector(page_size=5)
    got = []
    with pytest.raises(SourceError, match="HTTP 500"):
        for r in c.collect(None):
            got.append(r)
    assert ids_of(got) == ids[:5]
    # Retried within the run, a single failure is absorbed.
    feed.stand_in.requests.clear()
    assert ids_of(feed.connector(page_size=5, retries=1).collect(None)) == ids


def test_a_slow_page_times_out_as_a_source_error(feed: Feed) -> None:
    fill(feed.store, 3)
    feed.stand_in.faults = Faults(slow_requests={1}, slow_s=1.0)
    started = time.monotonic()
    with pytest.raises(SourceError, match="délai dépassé"):
        list(feed.connector(timeout_s=0.3).collect(None))
    assert time.monotonic() - started < 0.9


def test_a_page_that_is_not_json_is_a_source_error(feed: Feed) -> None:
    fill(feed.store, 3)
    feed.stand_in.faults = Faults(garbage_requests={1})
    with pytest.raises(SourceError, match="JSON invalide"):
        list(feed.connector().collect(None))


def test_an_unreachable_feed_is_a_source_error(tmp_path: Path) -> None:
    with serve_in_thread(StandIn(RecordStore()).app) as url:
        pass  # stopped: nothing listens there any more
    c = Feed(StandIn(RecordStore()), url, tmp_path).connector()
    with pytest.raises(SourceError, match="injoignable"):
        list(c.collect(None))


def test_a_refused_token_is_our_configuration(tmp_path: Path) -> None:
    store = RecordStore()
    fill(store, 2)
    stand_in = StandIn(store, token="bon-jeton")
    with serve_in_thread(stand_in.app) as url:
        feed = Feed(stand_in, url, tmp_path)
        with pytest.raises(ConfigurationError, match="401"):
            list(feed.connector(api_token=SecretStr("mauvais")).collect(None))
        assert len(list(feed.connector(api_token=SecretStr("bon-jeton")).collect(None))) == 2


def test_an_unsorted_page_is_a_source_error(feed: Feed) -> None:
    feed.store.put(simple("B", T0))
    feed.store.put(simple("A", T0 + timedelta(minutes=5)), key_time=T0 - timedelta(minutes=5))
    with pytest.raises(SourceError, match="non triée"):
        list(feed.connector().collect(None))


@pytest.mark.parametrize("change,reason", [
    ({"type": "tapage"}, "code inconnu"),
    ({"individus": [{"prenom": "Karim", "role": "vendeur"}]}, "nom et prénom"),
    ({"individus": [{"role": "vendeur"}]}, "ni identité ni signalement"),
    ({"saisie": {"produits": [{"code": "sucre", "quantite": "3"}]}}, "code inconnu"),
    ({"point_deal": "Hall 3", "lieu": None}, "point_deal sans lieu"),
])
def test_malformed_records_are_invalid(feed: Feed, change: dict[str, Any], reason: str) -> None:
    feed.store.put(simple("GN-1", T0, **change))
    c = feed.connector()
    with pytest.raises(SourceRecordInvalid, match=reason):
        c.map(next(c.collect(None)))


def test_a_record_without_a_usable_key_keeps_the_cursor(feed: Feed) -> None:
    feed.store.put(simple("GN-1", T0))
    feed.store.put(simple("GN-2", T0, updated_at="hier"), key_time=T0 + timedelta(minutes=1))
    feed.store.put(simple("GN-3", T0 + timedelta(minutes=2)))
    c = feed.connector()
    a, b, d = c.collect(None)
    assert b.source_id == "GN-2" and b.cursor == a.cursor
    with pytest.raises(SourceRecordInvalid, match="updated_at"):
        c.map(b)
    assert d.cursor == encode_cursor((T0 + timedelta(minutes=2), "GN-3"))


def test_whole_pipeline_with_a_failing_source_then_recovery(feed: Feed) -> None:
    truth = write_samples(feed.store, seed=5, n=40)
    key_path, pem = new_key(feed.tmp, "gendarmerie")
    hub = FakeHub([pem]).start()
    try:
        c = feed.connector(hub_url=hub.url, hub_token=SecretStr(TOKEN), signing_key_path=str(key_path),
                           batch_size=4, page_size=10)
        feed.stand_in.faults = Faults(fail_requests={3})
        first = c.run()
        assert first.status == RunStatus.FAILED and first.fault == Fault.SOURCE
        assert 0 < first.count_pushed < len(truth["leads"]) and first.cursor
        feed.stand_in.faults = Faults()
        second = c.run()
        assert second.status == RunStatus.OK, second.last_error
        assert {ref for _, ref in hub.leads} == set(truth["leads"])
        assert all(hub.held[("gendarmerie", rid)] == t["version"] for rid, t in truth["leads"].items())
        sent = hub.all_bytes().decode().lower()
        assert [x for x in truth["raw_identifiers"] if x.lower() in sent] == []
    finally:
        hub.stop()


def test_record_kinds_and_seizure(feed: Feed) -> None:
    feed.store.put(simple("GN-1", T0, type="saisie", saisie={
        "produits": [{"code": "resine", "quantite": "5.4", "unite": "kg"}, {"code": "mdma", "quantite": 40, "unite": "u"}],
        "numeraire_eur": "8300", "armes": [{"type": "poing", "nombre": 2}], "conditionnement": True},
        diffusion={"code": "H2", "restreint_a": ["police"], "embargo_jusqu_au": "2025-12-01T00:00:00+01:00"}))
    c = feed.connector()
    lead = c.build_lead(next(c.collect(None)))
    assert lead.kind == LeadKind.SEIZURE and lead.seizure is not None
    assert [(s.substance.value, str(s.quantity), s.unit) for s in lead.seizure.substances] == [
        ("cannabis_resin", "5400.000", "g"), ("mdma", "40", "unit")]
    assert lead.handling_code == "H2" and lead.restricted_to == ["police"] and lead.embargo_until
