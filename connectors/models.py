"""The types a connector exchanges with the framework.

A connector writes only ``collect`` (source → ``SourceRecord``) and ``map`` (``SourceRecord`` →
``DraftLead``). A ``DraftLead`` still holds raw identities — the persons' names, the reporter's
contact details, the names the source knows — because only the framework's sanitize and
pseudonymize steps may turn them into what leaves the connector (``hub.contract.lead.Lead``).
"""

from __future__ import annotations

import ipaddress
import logging
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from hub.contract.lead import (
    Agency,
    DealPoint,
    HandlingCode,
    InformationCredibility,
    LeadKind,
    Location,
    PersonRole,
    PhysicalDescription,
    Seizure,
    SourceChannel,
    SourceReliability,
    Substance,
    Vehicle,
)


class SourceRecord(BaseModel):
    """One record as the source gave it. ``cursor`` is the source position just after it, so the
    framework can advance the cursor once the record is safely in the outbox."""

    model_config = ConfigDict(frozen=True)

    source_id: str = Field(description="The source's own id of the record (stable across runs)")
    cursor: str
    raw: dict[str, Any]


class RawPerson(BaseModel):
    """A person as the source knows them. Never leaves the connector: pseudonymized by the
    framework from ``normalize_identity(last_name, first_name, birth_date)``."""

    last_name: str
    first_name: str
    birth_date: date | None = None
    role: PersonRole = PersonRole.UNKNOWN
    description: PhysicalDescription | None = None


class ReporterIdentity(BaseModel):
    """Who reported (citizen platform): dropped by sanitization, used only to scrub free text."""

    name: str | None = None
    phone: str | None = None
    email: str | None = None
    ip_address: str | None = None
    account_id: str | None = None


class DraftLead(BaseModel):
    """What ``map`` returns: the canonical lead's fields, with raw persons and raw free text."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    source_ref: str
    version: int = 1
    kind: LeadKind
    channel: SourceChannel
    observed_at: datetime | None = None
    reported_at: datetime
    location: Location | None = None
    deal_point: DealPoint | None = None
    vehicles: list[Vehicle] = Field(default_factory=list)
    persons: list[RawPerson] = Field(default_factory=list)
    phones: list[str] = Field(default_factory=list)
    substances: list[Substance] = Field(default_factory=list)
    seizure: Seizure | None = None
    narrative_raw: str = ""
    handling_code: HandlingCode = HandlingCode.H0
    source_reliability: SourceReliability = SourceReliability.X
    information_credibility: InformationCredibility = InformationCredibility.CANNOT_BE_JUDGED
    restricted_to: list[Agency] = Field(default_factory=list)
    embargo_until: datetime | None = None
    # Raw identities: scrubbed from free text, then dropped.
    reporter: ReporterIdentity | None = None
    known_names: list[str] = Field(default_factory=list, description="Names to scrub from text")


log = logging.getLogger("crosshub.connectors")


def is_loopback_host(host: str) -> bool:
    """``localhost`` (and its subdomains, RFC 6761), 127.0.0.0/8 or ::1."""
    host = host.strip("[]").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_hub_url(url: str, *, allow_insecure_http: bool = False, setting: str = "hub_url") -> str:
    """``url`` if the bearer token and signed leads may travel to it; ``ValueError`` (naming
    ``setting``) otherwise: only ``https://``, or ``http://`` to a loopback host (the demo, tests),
    or ``http://`` anywhere when ``allow_insecure_http`` says so — which is logged as a warning."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{setting} : « {url} » n'est pas une adresse http(s):// de hub")
    if scheme == "https" or is_loopback_host(parts.hostname):
        return url
    if not allow_insecure_http:
        raise ValueError(
            f"{setting} : « {url} » est en http:// vers un hôte non local — le jeton du connecteur "
            "et les pistes y circuleraient en clair. Utiliser https://, ou, en connaissance de "
            "cause, activer allow_insecure_http")
    log.warning("hub_url %s: plain http to a non-loopback host, allowed by allow_insecure_http — "
                "the bearer token and leads travel in clear", url)
    return url


class ConnectorSettings(BaseSettings):
    """Base of every connector's typed settings (env prefix set per connector)."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    # Declared before hub_url: its validator reads it. Plain http:// to a hub that is not on this
    # machine sends the bearer token in clear: refused unless this is set (and then warned).
    allow_insecure_http: bool = False
    hub_url: str = "http://127.0.0.1:8000"
    hub_token: SecretStr | None = None
    agency: Agency
    state_dir: str = Field(description="Cursor, outbox, quarantine and run records live here")
    signing_key_path: str = Field(description="Ed25519 private key (PEM, 0600)")
    linkage_key_id: str = "k1"
    linkage_key: SecretStr
    previous_linkage_keys: dict[str, SecretStr] = Field(default_factory=dict)
    batch_size: int = 500
    schedule_interval_s: int | None = 300
    schedule_cron: str | None = None

    def schedule_period_s(self) -> float | None:
        """How often this connector is meant to run, told to the hub with each run record so the
        hub can say when it has gone silent (policies/operations.py): the interval, or for a cron
        the longest gap between its next fire times over a week (``0 8 * * mon-fri`` waits
        three days over a weekend, and must not be called silent on Sunday). None: not
        scheduled, or a cron the scheduler would refuse anyway."""
        if self.schedule_cron:
            from datetime import UTC, datetime, timedelta

            from apscheduler.triggers.cron import CronTrigger

            try:
                trigger = CronTrigger.from_crontab(self.schedule_cron, timezone="Europe/Paris")
            except ValueError:
                return None
            now = datetime.now(UTC)
            fire = trigger.get_next_fire_time(None, now)
            longest = 0.0
            while fire is not None and fire < now + timedelta(days=8):
                following = trigger.get_next_fire_time(fire, fire + timedelta(microseconds=1))
                if following is None:
                    break
                longest = max(longest, (following - fire).total_seconds())
                fire = following
            return longest or None
        return float(self.schedule_interval_s) if self.schedule_interval_s else None

    @field_validator("hub_url")
    @classmethod
    def _hub_url_transport(cls, value: str, info: ValidationInfo) -> str:
        return check_hub_url(value, allow_insecure_http=bool(info.data.get("allow_insecure_http")))
