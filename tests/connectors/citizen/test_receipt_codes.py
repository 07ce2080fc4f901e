"""The citizen's receipt on the connector's side alone (no Neo4j): the code's form, and a delivery
the platform refuses that never fails the run and is made at the next one."""

from __future__ import annotations

import json
import re
from pathlib import Path

from pydantic import SecretStr

from connectors.base import RunStatus
from connectors.citizen.receipts import CROCKFORD, ReceiptBook, new_code, normalize_code
from connectors.demo.citizen_platform import ReceiptDesk
from connectors.demo.gendarmerie_feed import serve_in_thread
from tests.connectors._harness import TOKEN, FakeHub, new_key
from tests.connectors.citizen.test_citizen import REPORTER, append, connector, report


def test_a_code_is_twelve_crockford_characters_in_three_groups_and_reads_back_as_typed() -> None:
    codes = {new_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(re.fullmatch(f"[{CROCKFORD}]{{4}}-[{CROCKFORD}]{{4}}-[{CROCKFORD}]{{4}}", c) for c in codes)
    # Every character of the alphabet shows up: 60 random bits, not a narrower draw.
    assert set("".join(codes).replace("-", "")) == set(CROCKFORD)
    code = "7K2M-9QXD-3HJ1"
    for typed in ("7k2m9qxd3hj1", " 7K2M 9QXD 3HJ1 ", "7k2m-9qxd-3hjl", "7K2M-9QXD-3HJI"):
        assert normalize_code(typed) == code
    assert normalize_code("7K2M-9QXD-3HJ") is None and normalize_code("7K2M-9QXD-3HJU") is None


def test_a_refused_delivery_never_fails_the_run_and_is_made_at_the_next(tmp_path: Path) -> None:
    key_path, pem = new_key(tmp_path, "citizen")
    hub = FakeHub([pem]).start()
    desk = ReceiptDesk(token="jeton-du-guichet")
    try:
        with serve_in_thread(desk.app) as url:
            append(connector(tmp_path), "2026-03-02", report("MSI-A"), report("MSI-B"))

            def run(token: str) -> RunStatus:
                c = connector(tmp_path, hub_url=hub.url, hub_token=SecretStr(TOKEN),
                              signing_key_path=str(key_path), receipts_url=url,
                              receipts_token=SecretStr(token))
                return c.run().status

            assert run("mauvais-jeton") == RunStatus.OK  # the leads went; the receipts wait
            assert {ref for _, ref in hub.leads} == {"MSI-A", "MSI-B"} and desk.by_code == {}
            with ReceiptBook(tmp_path / "state-police", "citizen") as book:
                waiting = {r.report_id: r.code for r in book.undelivered()}
            assert sorted(waiting) == ["MSI-A", "MSI-B"]

            assert run("jeton-du-guichet") == RunStatus.OK
            assert {code: desk.status_label(code) for code in waiting.values()} == dict.fromkeys(
                waiting.values(), "reçue")
            assert desk.code_of == {"MSI-A": waiting["MSI-A"], "MSI-B": waiting["MSI-B"]}
            sent = desk.raw_bytes().decode().casefold()
            assert [v for v in REPORTER.values() if v.casefold() in sent] == []
            assert json.loads(desk.requests[-1])["recepisses"][0].keys() == {"signalement", "code", "statut"}
    finally:
        hub.stop()
