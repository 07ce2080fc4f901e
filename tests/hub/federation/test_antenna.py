"""The antenna (hub/federation/antenna.py) as a real process: ``crosshub antenna`` on a loopback
port over mutual TLS, between two stand-in hubs (tests/hub/federation/echo_hub.py, uvicorn
processes whose listener requires a client certificate of the federation CA), with a development
PKI made by ``hub.federation.pki.make_dev_pki`` and the wire log of every process.

The rules checked (issue 16, /tmp design "Transport" and "antenna"): no client certificate or one
of another CA → no TLS session; a caller not signed by a member's key → 401 and nothing
forwarded; routing both ways, the body forwarded byte for byte, the target told the
*authenticated* caller (a caller's own X-Crosshub-Peer is dropped); a holder's 429 stays 429;
routing to oneself or to an unknown CROSS → 404; the statistics hold exactly the listed columns
and nothing the claimant or the holder sent beyond them; an open ticket past its deadline is
overdue in the roll-up; the wire log holds every request and response of every process.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import socket
import sqlite3
import ssl
import stat
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from hub.contract.signing import generate_keypair, load_private_key, sign_request
from hub.federation.antenna import ticket_rows
from hub.federation.antenna_stats import STATS_FILE, week_of
from hub.federation.pki import PartyFiles, make_dev_pki
from hub.federation.transport import (
    WireLog,
    client_ssl_context,
    federation_client,
    uvicorn_mtls_argv,
    wire_log_hooks,
)

ROOT = Path(__file__).resolve().parents[3]
CROSSHUB = Path(sys.executable).with_name("crosshub")
QUOTA = 2  # the stand-in holders' evaluations per peer (their "policy")
# The statistics row, as the design lists it — and nothing else.
STATS_COLUMNS = {"ticket_id", "holder", "claimant", "kind", "created_at", "due_at", "status",
                 "answered_at", "deadline_met"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Federation:
    tmp: Path
    pki: Path
    antenna_url: str
    antenna_port: int
    wire: Path
    seen: Path
    antenna_log: Path
    procs: list[subprocess.Popen[bytes]]

    def client(self, member: str) -> httpx.Client:
        return federation_client(PartyFiles.of(self.pki, member), party=member,
                                 base_url=self.antenna_url, wire_log=self.wire)

    def raw_client(self, member: str, party: str) -> httpx.Client:
        """mTLS with ``member``'s certificate, no signer: the test signs (or not) itself; its
        exchanges are in the wire log as ``party``."""
        ctx = client_ssl_context(PartyFiles.of(self.pki, member))
        return httpx.Client(base_url=self.antenna_url, verify=ctx, trust_env=False,
                            event_hooks=wire_log_hooks(WireLog(self.wire, party)))

    def seen_nonces(self) -> list[str]:
        """The nonce of every request a stand-in hub admitted, in order."""
        lines = self.seen.read_text().splitlines() if self.seen.exists() else []
        return [line.split()[1] for line in lines]


def _wait_listening(port: int, proc: subprocess.Popen[bytes], log: Path, deadline: float) -> None:
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"process on {port} did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.1)


@pytest.fixture(scope="module")
def fed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federation]:
    tmp = tmp_path_factory.mktemp("antenna")
    ports = {name: _free_port() for name in ("antenna-est", "cross-25", "cross-39")}
    urls = {name: f"https://127.0.0.1:{p}" for name, p in ports.items()}
    pki = tmp / "pki"
    # cross-70 is a member without an address: the antenna cannot route to it.
    make_dev_pki(pki, ["cross-25", "cross-39", "cross-70"], "antenna-est", urls=urls)
    wire, seen = tmp / "wire.jsonl", tmp / "seen.txt"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1",
           "CROSSHUB_FEDERATION_WIRE_LOG": str(wire)}
    procs: list[subprocess.Popen[bytes]] = []
    logs: dict[str, Path] = {}
    for hub in ("cross-25", "cross-39"):
        logs[hub] = tmp / f"{hub}.log"
        with logs[hub].open("wb") as out:
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "--factory", "tests.hub.federation.echo_hub:create",
                 "--host", "127.0.0.1", "--port", str(ports[hub]), "--log-level", "warning",
                 *uvicorn_mtls_argv(PartyFiles.of(pki, hub))],
                env={**env, "ECHO_NAME": hub, "ECHO_PKI_DIR": str(pki),
                     "ECHO_SEEN_FILE": str(seen), "ECHO_QUOTA": str(QUOTA)},
                cwd=ROOT, stdout=out, stderr=subprocess.STDOUT))
    logs["antenna-est"] = tmp / "antenna.log"
    with logs["antenna-est"].open("wb") as out:
        procs.append(subprocess.Popen(
            [str(CROSSHUB), "antenna", "--host", "127.0.0.1", "--port", str(ports["antenna-est"]),
             "--pki-dir", str(pki), "--data-dir", str(tmp / "antenna-data")],
            env=env, cwd=tmp, stdout=out, stderr=subprocess.STDOUT))
    try:
        deadline = time.monotonic() + 90
        for (name, port), proc in zip(
                [(n, ports[n]) for n in ("cross-25", "cross-39", "antenna-est")], procs):
            _wait_listening(port, proc, logs[name], deadline)
        yield Federation(tmp, pki, urls["antenna-est"], ports["antenna-est"], wire, seen,
                         logs["antenna-est"], procs)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


# --- mutual TLS ----------------------------------------------------------------------------------


def _tls_exchange(ctx: ssl.SSLContext, port: int) -> bytes | None:
    """Bytes the antenna answers to a plain GET over TLS with ``ctx``; None if TLS failed."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw, \
                ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            tls.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            return tls.recv(4096) or None
    except (ssl.SSLError, ConnectionResetError, BrokenPipeError):
        return None


def test_no_tls_session_without_a_client_certificate_of_the_federation_ca(fed, tmp_path):
    trusting = ssl.create_default_context(cafile=str(fed.pki / "ca.pem"))
    assert _tls_exchange(trusting, fed.antenna_port) is None

    # A certificate and key of a PKI the antenna does not know: same names, other CA.
    other = make_dev_pki(tmp_path / "other", ["cross-25"], "antenna-est")
    assert other.members
    foreign = ssl.create_default_context(cafile=str(fed.pki / "ca.pem"))
    foreign.load_cert_chain(str(tmp_path / "other" / "cross-25.pem"),
                            str(tmp_path / "other" / "cross-25.key"))
    assert _tls_exchange(foreign, fed.antenna_port) is None

    # The control: the federation's own certificate gets an HTTP answer.
    member = client_ssl_context(PartyFiles.of(fed.pki, "cross-25"))
    answer = _tls_exchange(member, fed.antenna_port)
    assert answer is not None and answer.startswith(b"HTTP/1.1 200")


# --- who is calling ------------------------------------------------------------------------------


def test_a_request_not_signed_by_a_member_key_is_refused_401_and_never_forwarded(fed, tmp_path):
    path = "/v1/hubs/cross-25/evaluate"
    body = json.dumps({"epoch": 1, "blinded": [_b64url(secrets.token_bytes(32))]}).encode()
    outsider_key = tmp_path / "outsider.pem"
    generate_keypair(outsider_key)
    member_key = load_private_key(PartyFiles.of(fed.pki, "cross-39").signing_key)
    tampered = sign_request(member_key, "POST", path, body)
    before = fed.seen_nonces()
    with fed.raw_client("cross-39", "intruder") as raw:
        answers = {
            "unsigned": raw.post(path, content=body),
            "unknown key": raw.post(path, content=body,
                                    headers=sign_request(load_private_key(outsider_key), "POST",
                                                         path, body)),
            "body changed after signing": raw.post(path, content=body + b" ", headers=tampered),
            "signed for another holder": raw.post(
                "/v1/hubs/cross-39/evaluate", content=body,
                headers=sign_request(member_key, "POST", path, body)),
        }
        huge = b"[" + b" " * (4 * 1024 * 1024) + b"]"
        too_large = raw.post(path, content=huge, headers=sign_request(member_key, "POST", path, huge))
    expected_reason = {"unsigned": b"manquant", "unknown key": b"inconnue",
                       "body changed after signing": b"signature invalide",
                       "signed for another holder": b"signature invalide"}
    for case, answer in answers.items():
        assert answer.status_code == 401, case
        assert b'"code":"not_authenticated"' in answer.content, case
        assert expected_reason[case] in answer.content, (case, answer.content)
    assert too_large.status_code == 413 and b"trop grand" in too_large.content
    assert fed.seen_nonces() == before  # no stand-in hub heard of any of them


def test_a_replayed_signed_request_is_refused_409_and_not_forwarded_again(fed):
    path = "/v1/hubs/cross-39/filter"
    headers = sign_request(load_private_key(PartyFiles.of(fed.pki, "cross-25").signing_key),
                           "GET", path, b"")
    before = len(fed.seen_nonces())
    with fed.raw_client("cross-25", "replayer") as raw:
        first, again = raw.get(path, headers=headers), raw.get(path, headers=headers)
    assert first.status_code == 200, first.text
    assert again.status_code == 409 and b'"code":"replay_detected"' in again.content
    assert len(fed.seen_nonces()) == before + 1


def test_statistics_come_only_from_tickets_of_the_authenticated_pair():
    now = datetime.now(UTC)
    ticket = {"claim_id": uuid.uuid4().hex, "ticket_id": f"fed-{uuid.uuid4().hex}",
              "holder": "cross-25", "claimant": "cross-39", "kind": "plate",
              "desk": "Permanence du CROSS", "handling_code": "H1", "due_at": now.isoformat()}
    other = {**ticket, "ticket_id": f"fed-{uuid.uuid4().hex}", "claimant": "cross-70"}
    answer = json.dumps({"tickets": [ticket, other], "refused": []}).encode()
    rows = ticket_rows(answer, holder="cross-25", claimant="cross-39", now=now)
    assert [(r.ticket_id, r.holder, r.claimant, r.kind) for r in rows] == [
        (ticket["ticket_id"], "cross-25", "cross-39", "plate")]
    assert ticket_rows(b'{"tickets": "garbage"}', holder="cross-25", claimant="cross-39",
                       now=now) == []


# --- routing -------------------------------------------------------------------------------------


def test_routing_both_ways_forwards_the_bytes_and_names_the_authenticated_caller(fed):
    with fed.client("cross-39") as c39, fed.client("cross-25") as c25:
        # cross-39 claims to be cross-70 in the header: the target must hear "cross-39".
        got = c39.get("/v1/hubs/cross-25/filter", headers={"X-Crosshub-Peer": "cross-70"})
        assert got.status_code == 200, got.text
        echo = got.json()
        assert (echo["hub"], echo["method"], echo["path"]) == ("cross-25", "GET",
                                                               "/federation/v1/filter")
        assert echo["peer_headers"] == ["cross-39"]

        # The other way, a body spelled oddly on purpose: it must arrive byte for byte.
        body = b'{ "epoch" : 7,\n  "blinded":["' + _b64url(secrets.token_bytes(32)).encode() + b'"] }'
        got = c25.post("/v1/hubs/cross-39/evaluate", content=body,
                       headers={"Content-Type": "application/json",
                                "x-crosshub-peer": "cross-39"})
        assert got.status_code == 200, got.text
        echo = got.json()
        assert (echo["hub"], echo["path"]) == ("cross-39", "/federation/v1/evaluate")
        assert echo["peer_headers"] == ["cross-25"]
        assert base64.b64decode(echo["body"]) == body

        # No route to oneself, to a member without an address, to a stranger or to the antenna.
        for holder in ("cross-25", "cross-70", "cross-99", "antenna-est"):
            refused = c25.get(f"/v1/hubs/{holder}/filter")
            assert refused.status_code == 404, holder
            assert b"inconnu de l'antenne" in refused.content


def test_a_holders_429_comes_back_429(fed):
    body = json.dumps({"epoch": 1, "blinded": [_b64url(secrets.token_bytes(32))]}).encode()
    with fed.client("cross-39") as c39:
        statuses = [c39.post("/v1/hubs/cross-25/evaluate", content=body) for _ in range(QUOTA + 1)]
    assert [s.status_code for s in statuses] == [200] * QUOTA + [429]
    assert statuses[-1].headers["retry-after"] == "3600"
    assert "quota journalier atteint pour cross-39".encode() in statuses[-1].content


# --- statistics and roll-up ----------------------------------------------------------------------


def _claims(kinds_and_dues: list[tuple[str, int | None]]) -> tuple[bytes, list[bytes], list[str]]:
    tokens = [secrets.token_bytes(8) for _ in kinds_and_dues]
    claim_ids = [uuid.uuid4().hex for _ in kinds_and_dues]
    claims = []
    for (kind, due_in), token, claim_id in zip(kinds_and_dues, tokens, claim_ids):
        claim = {"claim_id": claim_id, "kind": kind, "token": _b64url(token)}
        if due_in is not None:
            claim["echo_due_in_s"] = due_in  # the stand-in holder's deadline, for the test
        claims.append(claim)
    return json.dumps({"epoch": 20_000, "claims": claims}).encode(), tokens, claim_ids


def _stats(fed: Federation) -> tuple[set[str], list[tuple]]:
    path = fed.tmp / "antenna-data" / STATS_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        columns = {row[1] for row in db.execute("PRAGMA table_info(tickets)")}
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        rows = db.execute("SELECT * FROM tickets").fetchall()
    assert tables == {"tickets"}
    return columns, rows


def _rollup_row(rollup: dict, claimant: str, holder: str, kind: str) -> dict:
    [row] = [r for r in rollup["rows"]
             if (r["claimant"], r["holder"], r["kind"]) == (claimant, holder, kind)]
    return row


def test_the_store_keeps_only_the_listed_columns_and_overdue_open_tickets_show_in_the_rollup(fed):
    body, tokens, claim_ids = _claims([("plate", None), ("phone", -3600), ("plate", -7200)])
    with fed.client("cross-39") as c39:
        answer = c39.post("/v1/hubs/cross-25/claims", content=body)
        assert answer.status_code == 200, answer.text
        tickets = answer.json()["tickets"]
        rollup = c39.get("/v1/rollup", params={"week": week_of(datetime.now(UTC))})
        page = c39.get("/rollup.html")
    assert len(tickets) == 3

    columns, rows = _stats(fed)
    assert columns == STATS_COLUMNS
    mine = {r[0]: r for r in rows if r[0] in {t["ticket_id"] for t in tickets}}
    assert set(mine) == {t["ticket_id"] for t in tickets}
    # Nothing the claimant or the holder sent beyond the listed facts, in any spelling.
    forbidden = set(claim_ids) | {"Permanence du CROSS", "H1"}
    for token in tokens:
        forbidden |= {_b64url(token), base64.b64encode(token).decode(), token.hex(),
                      token.hex().upper()}
    for row in rows:
        for cell in row:
            if isinstance(cell, bytes):
                raise AssertionError(f"a binary cell in the statistics: {row}")
            assert not any(f in str(cell) for f in forbidden), row
    for t in tickets:
        row = dict(zip(["ticket_id", "holder", "claimant", "kind", "created_at", "due_at",
                        "status", "answered_at", "deadline_met"], mine[t["ticket_id"]]))
        assert (row["holder"], row["claimant"], row["status"]) == ("cross-25", "cross-39", "open")
        assert row["answered_at"] is None and row["deadline_met"] is None
        assert datetime.fromisoformat(row["due_at"]) == datetime.fromisoformat(
            t["due_at"]).replace(microsecond=0)

    # The rule: still open and past its deadline → overdue. One plate and the phone are.
    assert rollup.status_code == 200, rollup.text
    plates = _rollup_row(rollup.json(), "cross-39", "cross-25", "plate")
    phones = _rollup_row(rollup.json(), "cross-39", "cross-25", "phone")
    assert (plates["opened"], plates["answered"], plates["overdue"]) == (2, 0, 1)
    assert (phones["opened"], phones["answered"], phones["overdue"]) == (1, 0, 1)

    # The French page: the same facts, nothing loaded from anywhere.
    assert page.status_code == 200
    assert b'lang="fr"' in page.content
    html = page.content.decode()
    for cell in ("<td>cross-39</td>", "<td>cross-25</td>", "<td>plaque</td>", "<td>téléphone</td>",
                 "En retard (sans réponse)"):
        assert cell in html, cell
    assert page.headers["content-security-policy"].startswith("default-src 'none'")
    assert b"src=" not in page.content and b"href=" not in page.content


def test_a_holders_status_is_forwarded_to_the_claimant_and_closes_the_ticket(fed):
    body, _, _ = _claims([("plate", None)])
    with fed.client("cross-25") as c25, fed.client("cross-39") as c39:
        [ticket] = c25.post("/v1/hubs/cross-39/claims", content=body).json()["tickets"]
        path = f"/v1/tickets/{ticket['ticket_id']}/status"
        status = json.dumps({"status": "answered",
                             "at": datetime.now(UTC).isoformat()}).encode()
        # Only the holder answers its ticket; to anyone else it does not exist.
        assert c25.post(path, content=status).status_code == 404
        assert c39.post(f"/v1/tickets/fed-{uuid.uuid4().hex}/status", content=status).status_code == 404
        bad = c39.post(path, content=b'{"status": "oublie"}')
        assert bad.status_code == 422 and b'"field":"status"' in bad.content
        answered = c39.post(path, content=status)
        rollup = c39.get("/v1/rollup").json()
    assert answered.status_code == 200, answered.text
    echo = answered.json()
    assert (echo["hub"], echo["path"]) == ("cross-25",
                                           f"/federation/v1/tickets/{ticket['ticket_id']}/status")
    assert echo["peer_headers"] == ["cross-39"]
    assert base64.b64decode(echo["body"]) == status

    _, rows = _stats(fed)
    [row] = [r for r in rows if r[0] == ticket["ticket_id"]]
    assert (row[6], row[8]) == ("answered", 1) and row[7] is not None
    closed = _rollup_row(rollup, "cross-25", "cross-39", "plate")
    assert (closed["opened"], closed["answered"], closed["overdue"], closed["late"]) == (1, 1, 0, 0)
    assert closed["median_answer_hours"] is not None


# --- the wire log --------------------------------------------------------------------------------


def _nonce(entry: dict) -> str | None:
    return next((v for k, v in entry["headers"] if k == "x-crosshub-nonce"), None)


def test_the_wire_log_holds_every_request_and_response_of_every_process(fed):
    with fed.client("cross-39") as c39, fed.client("cross-25") as c25:
        assert c39.get("/v1/hubs/cross-25/filter").status_code == 200
        assert c25.get("/v1/hubs/cross-39/filter").status_code == 200
        assert c25.get("/v1/hubs/cross-99/filter").status_code == 404

    def read() -> tuple[list[dict], list[str]]:
        entries = [json.loads(line) for line in fed.wire.read_text().splitlines()]
        access = [line for line in fed.antenna_log.read_text().splitlines()
                  if ' HTTP/1.1" ' in line and '"GET /healthz ' not in line]
        return entries, access

    deadline = time.monotonic() + 10
    while True:
        entries, access = read()
        callers = [e for e in entries if e["party"] != "antenna-est"]
        if sum(e["direction"] == "request" for e in callers) == len(access) \
                or time.monotonic() > deadline:
            break
        time.sleep(0.1)

    # Every request a hub (or a test intruder) sent to the antenna is in the log, with its answer.
    caller_requests = [e for e in callers if e["direction"] == "request"]
    assert len(caller_requests) == len(access)
    assert len(caller_requests) == sum(e["direction"] == "response" for e in callers)
    # Every request the antenna forwarded is in the log, with its answer, and it is exactly what
    # the hubs received (nonce for nonce).
    antenna = [e for e in entries if e["party"] == "antenna-est"]
    forwarded = [e for e in antenna if e["direction"] == "request"]
    assert len(forwarded) == sum(e["direction"] == "response" for e in antenna)
    assert sorted(_nonce(e) for e in forwarded) == sorted(fed.seen_nonces())
    for e in forwarded:
        assert urlsplit(e["url"]).path.startswith("/federation/v1/")
        names = {k for k, _ in e["headers"]}
        assert {"x-crosshub-peer", "x-crosshub-signature", "x-crosshub-key-id", "host"} <= names
    # Each forwarded body is one a caller sent, byte for byte (the log holds the bytes).
    sent = {base64.b64decode(e["body"]) for e in caller_requests}
    assert all(base64.b64decode(e["body"]) in sent for e in forwarded)
    assert stat.S_IMODE(fed.wire.stat().st_mode) == 0o600
