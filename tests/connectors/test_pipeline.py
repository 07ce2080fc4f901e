"""The base class's pipeline against a real local HTTP server playing the hub."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from pathlib import Path

import pytest

from connectors.base import Fault, RunInProgress, RunStatus
from connectors.models import SourceRecord
from connectors.sanitize import fold
from connectors.state import StateStore
from tests.connectors._harness import MemoryConnector, env, simple_records  # noqa: F401


def store_of(connector: MemoryConnector) -> StateStore:
    return StateStore(connector.settings.state_dir, connector.name)


def test_pipeline_order_and_cursor_after_commit(env) -> None:  # noqa: F811
    checks: list[tuple[list[str], str | None, set[str]]] = []

    class Checking(MemoryConnector):
        def on_committed(self, records: list[SourceRecord]) -> None:
            super().on_committed(records)
            # Another connection sees the batch durably committed, with the cursor past it.
            with store_of(self) as other:
                in_outbox = {i.source_id for i in other.outbox_peek(1000)}
                checks.append(([r.source_id for r in records], other.get_cursor(), in_outbox))

    connector = Checking(env.connector(simple_records(25)).settings)
    record = connector.run()

    assert record.status == RunStatus.OK and record.fault is None
    counts = (record.count_in, record.count_out, record.count_pushed, record.count_quarantined)
    assert counts == (25, 25, 25, 0)
    assert record.outbox_pending == 0 and record.cursor == "24"
    assert [c[1] for c in checks] == ["9", "19", "24"]
    for ids, _, outbox in checks:
        assert set(ids) <= outbox  # in the outbox before on_committed, not yet pushed
    kinds = [e[0] for e in connector.events]
    assert kinds == ["collect"] + (["map"] * 10 + ["committed"]) * 2 + ["map"] * 5 + ["committed"]
    assert connector.events[0] == ("collect", None)
    assert sum(env.hub.created.values()) == 25 and env.hub.outcomes == {"created": 25}
    # The run record reached the hub too.
    [posted] = env.hub.runs
    assert posted["run_id"] == record.run_id and posted["status"] == "ok" and posted["count_pushed"] == 25
    # The next run starts from the cursor and finds nothing new.
    again = Checking(connector.settings).run()
    assert again.count_in == 0 and again.status == RunStatus.OK
    assert sum(env.hub.created.values()) == 25


def test_cursor_never_moves_without_the_outbox(env, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    connector = env.connector(simple_records(25))
    real = StateStore.commit_batch
    calls = {"n": 0}

    def flaky(self, leads, quarantined, *, cursor):
        calls["n"] += 1
        if calls["n"] >= 2:  # the disk stays broken for this run
            raise sqlite3.OperationalError("disk I/O error")
        return real(self, leads, quarantined, cursor=cursor)

    monkeypatch.setattr(StateStore, "commit_batch", flaky)
    record = connector.run()
    assert record.status == RunStatus.FAILED and record.fault == Fault.OURS
    assert record.cursor == "9"  # the first batch only
    assert [e for e in connector.events if e[0] == "committed"] == [
        ("committed", [f"R{i:04d}" for i in range(10)])]
    monkeypatch.setattr(StateStore, "commit_batch", real)
    record = env.connector().run()
    assert record.status == RunStatus.OK and record.cursor == "24"
    assert sorted(k[1] for k in env.hub.created) == [f"R{i:04d}" for i in range(25)]
    assert set(env.hub.created.values()) == {1}


def test_bad_records_are_quarantined_and_the_run_goes_on(env) -> None:  # noqa: F811
    records = [
        {"id": "OK-1", "narrative": "revente"},
        {"id": "BAD-MAP", "bad": "invalid"},
        {"id": "BAD-BUG", "bad": "bug"},
        {"id": "BAD-DATES", "observed_at": "2025-07-29T10:00:00+02:00"},  # after reported_at
        {"id": "BAD-PHONE", "phones": ["06 12 34 56 78", "123"]},
        {"id": "OK-2", "narrative": "guetteur"},
    ]
    record = env.connector(records).run()
    assert record.status == RunStatus.OK
    assert (record.count_in, record.count_out, record.count_quarantined, record.count_pushed) == (6, 2, 4, 2)
    assert {k[1] for k in env.hub.created} == {"OK-1", "OK-2"}
    with store_of(env.connector()) as store:
        q = {e.source_id: e for e in store.quarantine_list()}
        assert store.get_cursor() == "5"
    assert set(q) == {"BAD-MAP", "BAD-BUG", "BAD-DATES", "BAD-PHONE"}
    assert q["BAD-MAP"].stage == "map" and "illisible" in q["BAD-MAP"].reason
    assert q["BAD-BUG"].stage == "map" and "erreur interne" in q["BAD-BUG"].reason
    assert q["BAD-DATES"].stage == "validate" and "observed_at" in q["BAD-DATES"].reason
    assert q["BAD-PHONE"].stage == "sanitize" and "phones[1]" in q["BAD-PHONE"].reason
    assert q["BAD-MAP"].payload["id"] == "BAD-MAP"  # kept for replay, on this host only


def test_hub_rejection_goes_to_quarantine_with_the_hubs_reason(env) -> None:  # noqa: F811
    env.hub.reject_refs = {"R0001"}
    record = env.connector(simple_records(3)).run()
    assert record.status == RunStatus.OK and record.count_rejected == 1 and record.count_quarantined == 1
    assert record.outbox_pending == 0 and record.count_pushed == 3
    with store_of(env.connector()) as store:
        [entry] = store.quarantine_list()
    assert entry.source_id == "R0001" and entry.stage == "hub"
    assert "refusé par la politique du hub" in entry.reason and entry.payload["source_ref"] == "R0001"


@pytest.mark.parametrize("how", ["503", "unreachable"])
def test_hub_down_keeps_the_outbox_and_the_next_run_drains_it(env, how: str) -> None:  # noqa: F811
    if how == "503":
        env.hub.status_override = 503
        connector = env.connector(simple_records(25))
    else:
        env.connector(simple_records(25))
        connector = env.connector(hub_url="http://127.0.0.1:9")  # nothing listens there
    first = connector.run()
    assert first.status == RunStatus.PARTIAL and first.fault == Fault.HUB
    assert "hub" in first.last_error and "file d'envoi" in first.last_error
    assert first.outbox_pending == 25 and first.count_pushed == 0 and first.cursor == "24"
    assert not env.hub.created

    env.hub.status_override = None
    second = env.connector().run()
    assert second.status == RunStatus.OK and second.count_in == 0 and second.count_pushed == 25
    assert second.outbox_pending == 0
    assert len(env.hub.created) == 25 and set(env.hub.created.values()) == {1}
    # The first run's record is delivered late, by the second run.
    assert [r["run_id"] for r in env.hub.runs] == [first.run_id, second.run_id]
    assert env.hub.runs[0]["status"] == "partial"


def test_source_failure_keeps_what_was_read(env) -> None:  # noqa: F811
    first = env.connector(simple_records(25), fail_after=15).run()
    assert first.status == RunStatus.FAILED and first.fault == Fault.SOURCE
    assert "source" in first.last_error
    assert first.cursor == "14" and first.count_pushed == 15 and first.outbox_pending == 0
    second = env.connector().run()
    assert second.status == RunStatus.OK and second.count_in == 10
    assert len(env.hub.created) == 25 and set(env.hub.created.values()) == {1}


def test_refused_by_the_hub_is_our_fault_and_nothing_is_lost(env) -> None:  # noqa: F811
    env.hub.token = "another-token"
    first = env.connector(simple_records(5)).run()
    assert first.status == RunStatus.FAILED and first.fault == Fault.OURS
    assert "not_authenticated" in first.last_error and first.outbox_pending == 5
    env.hub.token = "test-hub-token-0123456789"
    assert env.connector().run().status == RunStatus.OK
    assert len(env.hub.created) == 5


def test_unknown_signing_key_is_refused(env, tmp_path: Path) -> None:  # noqa: F811
    env.hub.keys.clear()
    record = env.connector(simple_records(2)).run()
    assert record.status == RunStatus.FAILED and record.outbox_pending == 2
    assert any("X-CrossHub-Key-Id" in f for f in env.hub.auth_failures)


def test_missing_signing_key_is_a_configuration_error(env, tmp_path: Path) -> None:  # noqa: F811
    record = env.connector(simple_records(2), signing_key_path=str(tmp_path / "absent.pem")).run()
    assert record.status == RunStatus.FAILED and record.fault == Fault.OURS
    assert "keygen" in record.last_error and record.count_in == 0


def test_transient_errors_are_retried(env) -> None:  # noqa: F811
    env.hub.fail_next = 1  # one 503
    env.hub.replay_next = 1  # then one 409 replay: re-signed with a new nonce
    record = env.connector(simple_records(3)).run()
    assert record.status == RunStatus.OK and len(env.hub.created) == 3


def test_payload_too_large_splits_the_batch(env) -> None:  # noqa: F811
    env.hub.max_batch = 3
    record = env.connector(simple_records(10)).run()
    assert record.status == RunStatus.OK and record.count_pushed == 10
    assert len(env.hub.created) == 10


def test_new_version_updates_and_replays_are_harmless(env) -> None:  # noqa: F811
    env.connector([{"id": "A", "version": 1}]).run()
    env.connector([{"id": "A", "version": 1}, {"id": "A", "version": 2}]).run()
    assert env.hub.held[("police", "A")] == 2
    assert env.hub.outcomes["created"] == 1 and env.hub.outcomes["updated"] == 1


def test_one_run_at_a_time(env) -> None:  # noqa: F811
    connector = env.connector(simple_records(2))
    with store_of(connector) as store, store.run_lock():
        with pytest.raises(RunInProgress):
            connector.run()
    assert connector.run().status == RunStatus.OK


def test_state_files_are_private(env) -> None:  # noqa: F811
    old = os.umask(0)
    try:
        env.connector(simple_records(3)).run()
        with store_of(env.connector()) as store:  # while open, -wal and -shm exist
            store.get_cursor()
            state_dir = Path(env.connector().settings.state_dir)
            files = sorted(state_dir.iterdir())
            modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in files}
    finally:
        os.umask(old)
    assert stat.S_IMODE(state_dir.stat().st_mode) == 0o700
    assert {"memory.sqlite3", "memory.sqlite3-wal", "memory.sqlite3-shm", "memory.lock"} <= set(modes)
    assert all(m == 0o600 for m in modes.values()), modes


# --- nothing raw ever leaves the connector -----------------------------------------------------

REPORTER = {"name": "Éloïse Vauquelin-Dupré", "phone": "06 71 23 45 98",
            "email": "eloise.vauquelin@exemple.fr", "ip_address": "203.0.113.77",
            "account_id": "citoyen-48213"}
PERSONS = [{"last_name": "Marchetti", "first_name": "Kévin", "role": "seller"},
           {"last_name": "Boughaleb", "first_name": "Yanis", "role": "lookout"}]
NARRATIVE_PHONE = "07.62.11.22.33"
NARRATIVE_IBAN = "FR76 3000 6000 0112 3456 7890 189"
NARRATIVE = (
    "Bonjour, je suis ÉLOÏSE VAUQUELIN-DUPRÉ (tél. 06 71 23 45 98, eloise.vauquelin@exemple.fr). "
    "Le vendeur, kevin MARCHETTI dit « Kévin », livre en trottinette électrique au centre-ville ; "
    f"son complice yanis boughaleb répond au {NARRATIVE_PHONE} et se fait payer sur "
    f"{NARRATIVE_IBAN}. Mon compte citoyen-48213, connexion depuis 203.0.113.77. Merci, Eloise."
)


def test_no_raw_identifier_reaches_the_hub(env) -> None:  # noqa: F811
    records = [{
        "id": "SIG-2025-0001", "narrative": NARRATIVE, "reporter": REPORTER, "persons": PERSONS,
        "phones": ["06 98 76 54 32", "06 71 23 45 98"], "place_label": "près de chez Marchetti",
        "known_names": ["Vauquelin"],
    }]
    record = env.connector(records).run()
    assert record.status == RunStatus.OK and record.count_pushed == 1

    wire = env.hub.all_bytes()
    bodies = [json.loads(b) for b in env.hub.bodies]
    decoded = json.dumps(bodies, ensure_ascii=False)  # in case anything was \u-escaped
    texts = [wire.decode("utf-8"), decoded]
    seeded = [
        REPORTER["name"], "Éloïse", "Vauquelin", "Dupré", REPORTER["phone"], "0671234598",
        "+33671234598", "671234598", REPORTER["email"], "eloise.vauquelin", REPORTER["ip_address"],
        REPORTER["account_id"], "48213", "Marchetti", "Kévin", "Boughaleb", "Yanis",
        NARRATIVE_PHONE, "0762112233", "+33762112233", NARRATIVE_IBAN, NARRATIVE_IBAN.replace(" ", ""),
        "30006000011234567890189",
    ]
    for ident in seeded:
        for text in texts:
            assert ident not in text, ident
            assert fold(ident) not in fold(text), ident
            assert fold(ident).replace("-", " ") not in fold(text), ident

    [lead] = bodies[0]["leads"]
    assert "reporter" not in lead and "known_names" not in lead
    assert lead["phones"] == ["+33698765432"]  # the suspect's phone field stays; the reporter's goes
    assert [p["role"] for p in lead["persons"]] == ["seller", "lookout"]
    assert all(p["pseudonym"].startswith("ps1:k1:") for p in lead["persons"])
    for placeholder in ("[NOM]", "[TEL]", "[EMAIL]", "[IBAN]", "[IP]", "[ID]"):
        assert placeholder in lead["narrative"]
    assert lead["location"]["place_label"] == "près de chez [NOM]"
    assert "trottinette électrique au centre-ville" in lead["narrative"]


def test_the_pipeline_cannot_be_overridden() -> None:
    with pytest.raises(TypeError, match="run"):
        class Sneaky(MemoryConnector):  # noqa: F841
            def run(self, *, progress=None):  # type: ignore[override]
                return None
