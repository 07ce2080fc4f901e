"""Test harness for the connector framework: a tiny in-memory connector and a REAL local HTTP
server playing the hub (http.server on 127.0.0.1 in a thread) that verifies bearer tokens and
signatures, refuses replayed nonces, ingests idempotently on (agency, source_ref, version) and
records every byte it receives."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

from pydantic import SecretStr, ValidationError
from pydantic_settings import SettingsConfigDict

from connectors.base import Connector
from connectors.models import (
    ConnectorSettings,
    DraftLead,
    RawPerson,
    ReporterIdentity,
    SourceRecord,
)
from connectors.push import PushPolicy
from hub.contract.errors import NotAuthenticated, SourceError, SourceRecordInvalid
from hub.contract.lead import Lead, LeadKind, Location, SourceChannel
from hub.contract.signing import (
    generate_keypair,
    key_id_of,
    load_public_key_pem,
    verify_request,
)

TOKEN = "test-hub-token-0123456789"
LINKAGE_KEY = "shared-linkage-key-for-tests-0123456789"


# --- the in-memory connector ---------------------------------------------------------------------


class MemorySettings(ConnectorSettings):
    model_config = SettingsConfigDict(env_prefix="CROSSHUB_TEST_MEMORY_", frozen=True, extra="ignore")

    source_file: str  # JSON list of records
    map_delay_s: float = 0.0
    fail_after: int | None = None  # collect raises SourceError after yielding this many


class MemoryConnector(Connector[MemorySettings]):
    """Reads records from a JSON file; the cursor is the index of the last record read. Logs
    every framework call to ``events`` so tests can check the order."""

    name: ClassVar[str] = "memory"
    settings_model: ClassVar[type[ConnectorSettings]] = MemorySettings
    push_policy: ClassVar[PushPolicy] = PushPolicy(attempts=3, initial_wait_s=0.01, max_wait_s=0.02,
                                                   timeout_s=5)

    def __init__(self, settings: MemorySettings) -> None:
        super().__init__(settings)
        self.events: list[tuple[str, Any]] = []

    def collect(self, cursor: str | None) -> Iterator[SourceRecord]:
        self.events.append(("collect", cursor))
        records = json.loads(Path(self.settings.source_file).read_text())
        start = int(cursor) + 1 if cursor is not None else 0
        for i in range(start, len(records)):
            if self.settings.fail_after is not None and i - start >= self.settings.fail_after:
                raise SourceError("source indisponible (HTTP 503)")
            yield SourceRecord(source_id=records[i]["id"], cursor=str(i), raw=records[i])

    def map(self, record: SourceRecord) -> DraftLead:
        self.events.append(("map", record.source_id))
        if self.settings.map_delay_s:
            time.sleep(self.settings.map_delay_s)
        raw = record.raw
        if raw.get("bad") == "invalid":
            raise SourceRecordInvalid("champ « quand » illisible")
        if raw.get("bad") == "bug":
            raise RuntimeError("boom")
        return DraftLead(
            source_ref=raw["id"],
            version=raw.get("version", 1),
            kind=LeadKind(raw.get("kind", "citizen_report")),
            channel=SourceChannel(raw.get("channel", "citizen_platform")),
            reported_at=datetime.fromisoformat(raw.get("reported_at", "2025-07-28T10:00:00+02:00")),
            observed_at=datetime.fromisoformat(raw["observed_at"]) if raw.get("observed_at") else None,
            location=Location(insee_code="25056", commune="Besançon",
                              place_label=raw.get("place_label")) if raw.get("located", True) else None,
            persons=[RawPerson(**p) for p in raw.get("persons", [])],
            phones=raw.get("phones", []),
            narrative_raw=raw.get("narrative", ""),
            reporter=ReporterIdentity(**raw["reporter"]) if raw.get("reporter") else None,
            known_names=raw.get("known_names", []),
        )

    def on_committed(self, records: list[SourceRecord]) -> None:
        self.events.append(("committed", [r.source_id for r in records]))


def simple_records(n: int, prefix: str = "R") -> list[dict[str, Any]]:
    return [{"id": f"{prefix}{i:04d}", "narrative": f"Revente observée, passage {i}."} for i in range(n)]


def write_source(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps(records, ensure_ascii=False))
    return path


def make_settings(tmp: Path, hub_url: str, key_path: Path, source: Path, **extra: Any) -> MemorySettings:
    values: dict[str, Any] = dict(
        hub_url=hub_url, hub_token=SecretStr(TOKEN), agency="police",
        state_dir=str(tmp / "state"), signing_key_path=str(key_path),
        linkage_key=SecretStr(LINKAGE_KEY), source_file=str(source), batch_size=10,
    )
    values.update(extra)
    return MemorySettings(**values)


# --- the fake hub ------------------------------------------------------------------------------


class FakeHub:
    """Plays the hub's ingest contract. Attributes tests can steer:

    * ``status_override``: answer every request with this status (e.g. 503) without ingesting;
    * ``fail_next``: answer the next N requests with 503;
    * ``replay_next``: answer the next N requests with 409 replay_detected;
    * ``max_batch``: answer 413 to a batch larger than this;
    * ``reject_refs``: source_refs the hub rejects item by item;
    * ``response_delay_s``: wait after ingesting, before answering.
    """

    def __init__(self, public_pems: list[str] | None = None, token: str = TOKEN) -> None:
        self.token = token
        self.keys = {}
        for pem in public_pems or []:
            self.add_key(pem)
        self.lock = threading.Lock()
        self.held: dict[tuple[str, str], int] = {}
        self.leads: dict[tuple[str, str], dict[str, Any]] = {}
        self.outcomes: Counter[str] = Counter()
        self.created: Counter[tuple[str, str]] = Counter()
        self.raw_requests: list[bytes] = []  # request line, headers and body, as received
        self.bodies: list[bytes] = []
        self.runs: list[dict[str, Any]] = []
        self.nonces: set[tuple[str, str]] = set()
        self.auth_failures: list[str] = []
        self.status_override: int | None = None
        self.fail_next = 0
        self.replay_next = 0
        self.max_batch: int | None = None
        self.reject_refs: set[str] = set()
        self.response_delay_s = 0.0
        self.lead_requests = 0  # lead pushes received (counted when a push arrives)
        self.ingested_requests = 0  # lead pushes fully written (counted before the answer)
        self._server: ThreadingHTTPServer | None = None

    def add_key(self, pem: str) -> None:
        key = load_public_key_pem(pem)
        self.keys[key_id_of(key)] = key

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeHub:
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                head = f"{self.requestline}\r\n{self.headers}".encode()
                with hub.lock:
                    hub.raw_requests.append(head + b"\r\n" + body)
                    hub.bodies.append(body)
                status, answer = hub.handle(self.command, self.path, dict(self.headers.items()), body)
                if hub.response_delay_s:
                    time.sleep(hub.response_delay_s)
                self._answer(status, answer)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # --- the contract ------------------------------------------------------------------------

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict]:
        with self.lock:
            if self.status_override:
                return self.status_override, {"code": "graph_unavailable", "message": "indisponible"}
            if self.fail_next:
                self.fail_next -= 1
                return 503, {"code": "graph_unavailable", "message": "graphe indisponible"}
            lower = {k.lower(): v for k, v in headers.items()}
            if lower.get("authorization") != f"Bearer {self.token}":
                self.auth_failures.append("token")
                return 401, {"code": "not_authenticated", "message": "jeton invalide"}
            try:
                sig = verify_request(headers, method, path, body, self.keys.get, max_skew_s=300)
            except NotAuthenticated as exc:
                self.auth_failures.append(exc.message)
                return 401, exc.to_dict()
            if (sig.key_id, sig.nonce) in self.nonces:
                return 409, {"code": "replay_detected", "message": "nonce déjà vu"}
            self.nonces.add((sig.key_id, sig.nonce))
            if self.replay_next:
                self.replay_next -= 1
                return 409, {"code": "replay_detected", "message": "nonce déjà vu"}
            if path == "/api/v1/leads":
                return self._ingest(json.loads(body))
            if path.startswith("/api/v1/connectors/") and path.endswith("/runs"):
                self.runs.append(json.loads(body))
                return 201, {"status": "recorded"}
            return 404, {"code": "not_found", "message": path}

    def _ingest(self, envelope: dict[str, Any]) -> tuple[int, dict]:
        items = envelope.get("leads")
        if not isinstance(items, list) or not items:
            return 422, {"code": "invalid_input", "message": "enveloppe invalide"}
        self.lead_requests += 1
        if self.max_batch is not None and len(items) > self.max_batch:
            return 413, {"code": "payload_too_large", "message": f"au plus {self.max_batch} pistes"}
        results = []
        for i, raw in enumerate(items):
            try:
                lead = Lead.model_validate(raw)
            except ValidationError as exc:
                results.append({"index": i, "outcome": "rejected", "errors": [
                    {"field": f"leads[{i}]." + ".".join(map(str, e["loc"])), "reason": e["msg"]}
                    for e in exc.errors()]})
                continue
            key = (lead.source_agency.value, lead.source_ref)
            if lead.source_ref in self.reject_refs:
                results.append({"index": i, "source_ref": lead.source_ref, "outcome": "rejected",
                                "errors": [{"field": f"leads[{i}].source_ref",
                                            "reason": "refusé par la politique du hub"}]})
                continue
            held = self.held.get(key)
            if held is None:
                outcome = "created"
                self.created[key] += 1
            elif lead.version > held:
                outcome = "updated"
            elif lead.version == held:
                outcome = "unchanged"
            else:
                outcome = "stale"
            if outcome in ("created", "updated"):
                self.held[key] = lead.version
                self.leads[key] = raw
            self.outcomes[outcome] += 1
            results.append({"index": i, "lead_id": f"L-{lead.source_key}", "source_ref": lead.source_ref,
                            "outcome": outcome,
                            "version": lead.version, "held_version": held})
        rejected = sum(1 for r in results if r["outcome"] == "rejected")
        self.ingested_requests += 1
        return 200, {"accepted": len(results) - rejected, "rejected": rejected, "results": results}

    def all_bytes(self) -> bytes:
        with self.lock:
            return b"\n".join(self.raw_requests)


def new_key(tmp: Path, name: str = "memory") -> tuple[Path, str]:
    path = tmp / f"{name}.ed25519.pem"
    return path, generate_keypair(path)


def now_utc() -> datetime:
    return datetime.now(UTC)


# --- fixtures (import them into a test module) ------------------------------------------------

import pytest  # noqa: E402


class Env:
    def __init__(self, tmp: Path, hub: FakeHub, key_path: Path, public_pem: str) -> None:
        self.tmp, self.hub, self.key_path, self.public_pem = tmp, hub, key_path, public_pem
        self.source = tmp / "source.json"

    def connector(self, records: list[dict[str, Any]] | None = None, **extra: Any) -> MemoryConnector:
        if records is not None:
            write_source(self.source, records)
        elif not self.source.exists():
            write_source(self.source, [])
        extra.setdefault("hub_url", self.hub.url)
        hub_url = extra.pop("hub_url")
        return MemoryConnector(make_settings(self.tmp, hub_url, self.key_path, self.source, **extra))


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    key_path, pem = new_key(tmp_path)
    hub = FakeHub([pem]).start()
    try:
        yield Env(tmp_path, hub, key_path, pem)
    finally:
        hub.stop()
