"""The hub's one settings object: frozen, read from the environment (prefix ``CROSSHUB_``) and,
for the graph connection, from the conventional ``NEO4J_URI``/``NEO4J_USER``/``NEO4J_PASSWORD``.

Secrets are ``SecretStr`` so they never print in a repr or a log line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from graph.config import GraphConfig


def _default_data_dir() -> Path:
    return Path.home() / ".crosshub"


class Settings(BaseSettings):
    """Everything the hub needs to start. Build it once; pass it to ``create_app``."""

    model_config = SettingsConfigDict(
        env_prefix="CROSSHUB_",
        frozen=True,
        extra="ignore",
        populate_by_name=True,
    )

    # Where the project keeps its local state: the cached Neo4j runtime, the local server's
    # store, the generated password, signing keys and the audit log.
    data_dir: Path = Field(default_factory=_default_data_dir)
    # Where the rule files are (access policy, triage, deconfliction, retention); by default the
    # ones packaged in policies/data. Loaded once per app (policies/rulebook.py).
    rules_dir: Path | None = None

    # An external Neo4j (cluster, Aura...). When unset, the hub uses the local server that
    # ``crosshub neo4j start`` provisions under ``data_dir``.
    neo4j_uri: str | None = Field(
        default=None, validation_alias=AliasChoices("NEO4J_URI", "CROSSHUB_NEO4J_URI")
    )
    neo4j_user: str = Field(
        default="neo4j", validation_alias=AliasChoices("NEO4J_USER", "CROSSHUB_NEO4J_USER")
    )
    neo4j_password: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("NEO4J_PASSWORD", "CROSSHUB_NEO4J_PASSWORD"),
    )
    neo4j_database: str = "neo4j"

    # Local embedded-default server.
    neo4j_version: str = "5.26.30"
    neo4j_heap: str = "512m"
    neo4j_pagecache: str = "256m"

    # Ingest bounds: a batch beyond this many leads is refused with 413.
    max_batch_size: int = Field(default=5000, ge=1, le=50_000)
    # Raw request body bound (bytes) of ingest and connector run records, checked before parsing
    # (hub/limits.py, before authentication).
    max_body_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)
    # Raw request body bound (bytes) of every other endpoint (people's: login, workflow...).
    max_people_body_bytes: int = Field(default=64 * 1024, ge=1024, le=16 * 1024 * 1024)
    # Deepest nesting of JSON arrays/objects a request body may have, checked before parsing.
    max_json_depth: int = Field(default=32, ge=4, le=256)
    # Leads written per Neo4j transaction inside one ingest request.
    write_chunk_size: int = Field(default=2000, ge=1, le=20_000)

    # Network reads.
    max_network_nodes: int = Field(default=500, ge=10, le=10_000)

    # Radius, in metres, within which two observed points are one Location.
    location_merge_radius_m: float = Field(default=50.0, gt=0, le=1000)

    # The CROSS this hub serves: département code (Doubs = 25).
    cross_departement: str = "25"

    # The map page's basemap (CROSSHUB_MAP_STYLE_URL): an XYZ raster tile URL template with
    # {z}, {x}, {y} (and optionally {s}), e.g. the IGN Plan served on the State network. It is
    # the only request the browser ever makes outside the hub, and only when set; unset, the map
    # draws on a plain background with communes placed at the centre of their known places.
    # The Content-Security-Policy must allow the tile host (img-src) for the tiles to load.
    # CROSSHUB_MAP_ATTRIBUTION: the credit the tile provider requires, shown under the map.
    map_style_url: str | None = None
    map_attribution: str | None = None

    @field_validator("map_style_url")
    @classmethod
    def _tile_template(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        if not value.startswith(("https://", "http://")) or not all(
                part in value for part in ("{z}", "{x}", "{y}")):
            raise ValueError("map_style_url : un modèle d'URL de tuiles raster XYZ est attendu "
                             "(http(s)://…/{z}/{x}/{y}…)")
        return value

    # Connector request signatures: accepted clock skew and nonce lifetime, seconds.
    signature_max_skew_s: int = Field(default=300, ge=10, le=3600)

    # Short-lived access tokens issued at login (minutes).
    access_token_ttl_min: int = Field(default=30, ge=1, le=24 * 60)
    # A session's absolute lifetime (hours): its access tokens are renewed by single-use refresh
    # tokens (POST /api/v1/auth/refresh) until then, never beyond (ADR 0021).
    session_max_hours: float = Field(default=10.0, gt=0, le=7 * 24)
    # An already used refresh token presented within this many seconds of its rotation (two tabs
    # refreshing at once) is refused without revoking the session; later, it revokes it (theft).
    refresh_reuse_grace_s: int = Field(default=5, ge=0, le=60)
    # The agencies' identity providers (OIDC, policies/auth/oidc.py); default: the rules
    # directory's identity_providers.yaml. Client secrets are files under keys_dir/oidc/.
    identity_providers_file: Path | None = None

    # Failed-login throttling (policies/auth/throttle.py): after ``login_max_failures`` failed
    # attempts within ``login_window_s``, the account is locked for ``login_lock_s``, doubling at
    # each further lockout up to ``login_lock_max_s``. Seconds, so tests can use short locks.
    login_max_failures: int = Field(default=5, ge=1, le=100)
    login_window_s: int = Field(default=15 * 60, ge=1, le=24 * 3600)
    login_lock_s: int = Field(default=5 * 60, ge=1, le=24 * 3600)
    login_lock_max_s: int = Field(default=60 * 60, ge=1, le=7 * 24 * 3600)
    # The above counts per (account, client address). Across all clients, ``login_account_max_
    # failures`` failures on one account within the window lock it for ``login_account_lock_s``
    # (fixed, never growing), and only for clients that failed on it recently; a client failing on
    # ``login_spray_max_accounts`` distinct accounts within the window (spraying) is locked out
    # of all of them like a pair is. docs/decisions/0004-sessions-and-sso.md, "Throttling (amended)".
    login_account_max_failures: int = Field(default=20, ge=1, le=10_000)
    login_account_lock_s: int = Field(default=5 * 60, ge=1, le=3600)
    login_spray_max_accounts: int = Field(default=10, ge=2, le=1000)
    # Reverse proxies whose X-Forwarded-For is believed (addresses or CIDR networks, JSON list in
    # the environment: CROSSHUB_TRUSTED_PROXIES='["10.0.0.5"]'). Empty: the header is ignored.
    trusted_proxies: tuple[str, ...] = ()

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        import ipaddress

        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"trusted_proxies : « {item} » n'est ni une adresse ni un réseau "
                                 "IP") from None
        return value

    # The hub's own jobs (hub/jobs/schedule.py), crontab syntax, Europe/Paris.
    hub_jobs_enabled: bool = True
    retention_cron: str = "30 3 * * *"  # nightly purge of what retention says is due
    brief_cron: str = "0 6 * * thu"  # the weekly briefs, on the morning of the meeting
    watch_digest_cron: str = "0 7 * * *"  # the daily digest of watch hits (hub/jobs/watch_delivery.py)
    # Backups (``crosshub backup``, hub/backup/, ADR 0027): off unless a crontab is set (Europe/
    # Paris, e.g. "15 2 * * *"); each one in ``backup_dir`` (default ``data_dir/backups``, 0700),
    # the newest ``backup_keep`` kept.
    backup_cron: str | None = None
    backup_path: Path | None = None
    backup_keep: int = Field(default=7, ge=1, le=1000)
    # Accounts over time (hub/jobs/accounts.py, ADR on accounts): the daily job that disables
    # accounts unused past their role's period, opens the access review when due and flags an
    # overdue one (periods in policies/data/accounts.yaml).
    accounts_cron: str = "15 4 * * *"
    # Who deploys the policy files this hub starts with (CROSSHUB_DEPLOYED_BY): named in the
    # audit trail's entry of a change (hub/policy_deployments.py); unset: « inconnu ».
    deployed_by: str | None = None

    # Watch signals sent outside the hub (hub/jobs/watch_delivery.py): never any lead content,
    # only « something new, sign in » and this address of the hub.
    hub_public_url: str = "http://127.0.0.1:8000"
    smtp_host: str | None = None  # the relay; None: no e-mail is sent
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_from: str = "crosshub@localhost"
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    # Hosts a webhook may point at (https, or http on loopback); empty: no webhook accepted.
    watch_webhook_hosts: list[str] = Field(default_factory=list)

    # Federation between CROSS hubs (issue 16, ADR 0024; hub/federation/): off by default. The
    # PKI directory holds this hub's TLS certificate, its Ed25519 federation signing key
    # (``cross-<dép>.sign.pem``) and the directory of members and antenna (``directory.json``,
    # made by « crosshub federation pki »); the antenna's URL defaults to the directory's.
    federation_enabled: bool = False
    federation_pki_dir: Path | None = None  # default: data_dir/federation/pki
    federation_antenna_url: str | None = None
    # Every federation request and answer this hub sends, as JSON lines (tests, audits of the
    # wire); also CROSSHUB_FEDERATION_WIRE_LOG (hub/federation/transport.py).
    federation_wire_log: Path | None = None
    federation_cron: str = "*/15 * * * *"  # the querier round (hub/jobs/federation.py)
    # The DPD's weekly report of the audit trail (hub/jobs/dpd.py): the last complete week.
    dpd_report_cron: str = "0 7 * * mon"

    # Operations (hub/ops/, issue 17). Logs: one JSON object per line (``text`` for a terminal),
    # identifiers masked either way. ``GET /metrics``: with a token, a bearer equal to it; without,
    # loopback peers only, and never behind a reverse proxy (hub/ops/metrics.py).
    log_format: Literal["json", "text"] = "json"
    metrics_token: SecretStr | None = None
    # The watch on the connectors (hub/jobs/connector_watch.py; rules: policies/data/operations.yaml).
    connector_watch_cron: str = "*/10 * * * *"

    @property
    def federation_cross_id(self) -> str:
        """This hub's id in the federation: ``cross-<département>``."""
        return f"cross-{self.cross_departement}"

    @property
    def federation_pki(self) -> Path:
        return self.federation_pki_dir or self.data_dir / "federation" / "pki"

    @property
    def neo4j_home(self) -> Path:
        return self.data_dir / "neo4j"

    # Where the audit trail's segments live (ADR 0012). Hubs on several hosts point it at one
    # shared directory (each writer writes only its own segment); default: ``data_dir/audit``.
    audit_path: Path | None = None
    # The auditors' SQLite index of the trail; must be on a local disk (never NFS). Default:
    # ``<audit dir>-index.sqlite`` beside the audit directory.
    audit_index_path: Path | None = None

    @property
    def audit_dir(self) -> Path:
        return self.audit_path or self.data_dir / "audit"

    @property
    def audit_index(self) -> Path:
        from hub.audit.index import default_index_path  # noqa: PLC0415 — settings stay import-light

        return self.audit_index_path or default_index_path(self.audit_dir)

    @property
    def backup_dir(self) -> Path:
        return self.backup_path or self.data_dir / "backups"

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"

    @property
    def uses_local_neo4j(self) -> bool:
        return self.neo4j_uri is None

    @property
    def graph_config(self) -> GraphConfig:
        """What ``graph/`` needs of these settings, as its own small config object."""
        return GraphConfig(
            uri=self.neo4j_uri, user=self.neo4j_user, password=self.neo4j_password,
            database=self.neo4j_database, home=self.neo4j_home, version=self.neo4j_version,
            heap=self.neo4j_heap, pagecache=self.neo4j_pagecache,
        )
