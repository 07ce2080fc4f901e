"""Hub fixtures: one app (with its lifespan) per session on the session's Neo4j, and helpers to
make callers: users with tokens, and connector identities with a registered signing key."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from graph import identity
from graph.handle import Graph
from hub.app import create_app
from hub.contract.signing import (
    generate_keypair,
    key_id_of,
    load_private_key,
    load_public_key_pem,
    sign_request,
)
from hub.settings import Settings


@pytest.fixture(scope="session")
def hub_settings(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    # The hub's own nightly jobs stay off: a purge firing mid-session would erase test data.
    return settings.model_copy(update={"data_dir": tmp_path_factory.mktemp("hub-data"),
                                       "max_batch_size": 50, "hub_jobs_enabled": False})


@pytest.fixture(scope="session")
def client(hub_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(hub_settings)) as c:
        yield c


@dataclass
class ConnectorClient:
    """Pushes leads the way a connector does: bearer token + Ed25519 signature over the body."""

    client: TestClient
    token: str
    key_path: Path
    agency: str
    name: str

    def signed_headers(self, body: bytes, path: str = "/api/v1/leads") -> dict[str, str]:
        headers = sign_request(load_private_key(self.key_path), "POST", path, body)
        return {**headers, "Authorization": f"Bearer {self.token}",
                "Content-Type": "application/json"}

    def post_raw(self, body: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
        return self.client.post("/api/v1/leads", content=body,
                                headers=headers if headers is not None else self.signed_headers(body))

    def push(self, leads: list[dict[str, Any]]) -> httpx.Response:
        return self.post_raw(json.dumps({"leads": leads}, default=str).encode())


@pytest.fixture
def make_connector(client: TestClient, hub_settings: Settings, driver, tmp_path: Path):
    def make(agency: str = "police", name: str | None = None) -> ConnectorClient:
        name = name or f"{agency}-{uuid.uuid4().hex[:6]}"
        db = hub_settings.neo4j_database
        user = identity.upsert_user(Graph(driver, db), agency=agency, role="connector", name=name)
        token = identity.issue_token(Graph(driver, db), user.user_id).token
        key_path = tmp_path / f"{name}.pem"
        pem = generate_keypair(key_path)
        identity.register_connector_key(Graph(driver, db), identity.ConnectorKey(
            key_id=key_id_of(load_public_key_pem(pem)), connector=name, agency=agency,
            public_key_pem=pem))
        return ConnectorClient(client=client, token=token, key_path=key_path, agency=agency,
                               name=name)

    return make


@pytest.fixture
def make_user(hub_settings: Settings, driver, request: pytest.FixtureRequest):
    """Bearer headers of a new user: an API token (``chx_``), or with ``second_factor=True`` a
    person's session enrolled and freshly stepped up on the session ``client`` (what approving a
    disclosure or exporting needs: tests/second_factor.py)."""
    def make(agency: str = "police", role: str = "analyst", name: str | None = None, *,
             second_factor: bool = False) -> dict[str, str]:
        name = name or f"{role}-{uuid.uuid4().hex[:6]}"
        db = hub_settings.neo4j_database
        user = identity.upsert_user(Graph(driver, db), agency=agency, role=role, name=name,
                                    contact=f"Permanence CROSS — {agency}")
        if second_factor:
            from tests.second_factor import stepped_up

            return stepped_up(request.getfixturevalue("client"), user.user_id)
        token = identity.issue_token(Graph(driver, db), user.user_id).token
        return {"Authorization": f"Bearer {token}"}

    return make
