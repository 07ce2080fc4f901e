"""A connector's hub address: its bearer token and signed leads never travel in clear to another
machine unless it is told so explicitly (``allow_insecure_http``, then warned); loopback http
stays allowed for the demo and the tests. Checked when the settings are built, naming the setting."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import SecretStr, ValidationError

from connectors.models import ConnectorSettings, check_hub_url
from connectors.police.connector import PoliceConnector, PoliceSettings
from connectors.push import HubClient
from connectors.signing import CrossHubAuth
from hub.contract.errors import ConfigurationError


def settings(tmp_path: Path, **extra: Any) -> ConnectorSettings:
    return ConnectorSettings(agency="police", state_dir=str(tmp_path / "state"),
                             signing_key_path=str(tmp_path / "key.pem"),
                             linkage_key=SecretStr("x" * 32), **extra)


@pytest.mark.parametrize("url", ["http://example.org", "http://example.org:8000/hub",
                                 "http://10.1.2.3:8000", "http://[2001:db8::1]:8000",
                                 "http://127.0.0.1.example.org"])
def test_plain_http_to_another_machine_is_refused_naming_the_setting(tmp_path: Path, url: str) -> None:
    with pytest.raises(ValidationError) as caught:
        settings(tmp_path, hub_url=url)
    (error,) = caught.value.errors()
    assert error["loc"] == ("hub_url",)
    assert "allow_insecure_http" in error["msg"] and "en clair" in error["msg"]


@pytest.mark.parametrize("url", ["http://127.0.0.1", "http://127.0.0.1:8000", "http://127.8.9.10:1",
                                 "http://localhost:8000", "http://LOCALHOST", "http://[::1]:8000",
                                 "https://example.org", "https://hub.cross25.interieur.gouv.fr/"])
def test_loopback_http_and_any_https_are_accepted(tmp_path: Path, url: str, caplog) -> None:
    with caplog.at_level(logging.WARNING):
        assert settings(tmp_path, hub_url=url).hub_url == url
    assert not caplog.records


def test_explicit_opt_in_allows_plain_http_and_warns(tmp_path: Path, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="crosshub.connectors"):
        s = settings(tmp_path, hub_url="http://example.org", allow_insecure_http=True)
    assert s.hub_url == "http://example.org"
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "http://example.org" in warnings[0].getMessage()
    assert "allow_insecure_http" in warnings[0].getMessage()


def test_not_an_http_url_is_refused() -> None:
    for url in ("ftp://example.org", "example.org:8000", "http://"):
        with pytest.raises(ValueError, match="hub_url"):
            check_hub_url(url)


def test_from_env_names_the_setting(tmp_path: Path, monkeypatch) -> None:
    env = {"HUB_URL": "http://example.org:8000", "STATE_DIR": str(tmp_path), "INBOX_DIR": str(tmp_path),
           "SIGNING_KEY_PATH": str(tmp_path / "k.pem"), "LINKAGE_KEY": "y" * 32}
    for name, value in env.items():
        monkeypatch.setenv(f"CROSSHUB_POLICE_{name}", value)
    with pytest.raises(ConfigurationError, match="hub_url"):
        PoliceConnector.from_env()
    monkeypatch.setenv("CROSSHUB_POLICE_ALLOW_INSECURE_HTTP", "true")
    assert PoliceSettings().allow_insecure_http  # type: ignore[call-arg]
    assert PoliceConnector.from_env().settings.hub_url == "http://example.org:8000"


def test_the_hub_client_refuses_it_too_unless_allowed() -> None:
    auth = CrossHubAuth(Ed25519PrivateKey.generate(), SecretStr("jeton"))  # nothing is sent
    with pytest.raises(ConfigurationError, match="allow_insecure_http"):
        HubClient("http://example.org", auth)
    HubClient("http://example.org", auth, allow_insecure_http=True).close()
    HubClient("http://127.0.0.1:9", auth).close()
