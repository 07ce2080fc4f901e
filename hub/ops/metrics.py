"""The hub's Prometheus metrics, served at ``GET /metrics`` in the text exposition format
(the maintained ``prometheus-client``).

One registry per app (``HubMetrics``, ``app.state.metrics``), not the client's global one: each
hub process is scraped on its own (with ``crosshub serve --workers N`` behind one port, give each
worker a port of its own or scrape through the per-process ``/metrics`` of each), and several
apps in one test process never mix their counters.

What is counted:

* ``crosshub_http_requests_total{method,route,status}`` and the latency histogram
  ``crosshub_http_request_duration_seconds{method,route}`` — ``route`` is the route's *template*
  (``/api/v1/entities/{kind}/{key}``), never the path asked: paths carry plates and phone numbers,
  and one series per plate would also grow without bound; a path no route matches is
  ``(aucune)``;
* ``crosshub_ingest_leads_total{agency,outcome}`` and ``crosshub_ingest_batch_seconds{agency}``;
* ``crosshub_job_runs_total{job,outcome}`` (``done``, ``failed``, ``lease_lost``, ``elsewhere``)
  and ``crosshub_job_run_seconds{job}``, plus ``crosshub_triage_leads_total``;
* read from the graph at each scrape: ``crosshub_connector_lag_seconds{connector,agency}`` (since
  its last delivering run), ``crosshub_connector_quarantine{connector,agency}`` (records held,
  as its last run reported), ``crosshub_connector_alerts_open{kind}``.

Who may read it: with ``metrics_token`` set, a bearer token equal to it (compared in constant
time); without, loopback clients only, and only when no reverse proxy stands in front — a
scraper elsewhere, or any hub behind a proxy, needs the token. Nothing in it names a person, a
plate or a phone: labels are route templates, agencies, connector and job names.
"""

from __future__ import annotations

import hmac
import ipaddress
import time
from datetime import UTC, datetime

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

UNMATCHED = "(aucune)"
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class HubMetrics:
    """The metrics of one hub app."""

    def __init__(self) -> None:
        self.registry = r = CollectorRegistry(auto_describe=True)
        self.requests = Counter("crosshub_http_requests", "Requêtes HTTP servies",
                                ["method", "route", "status"], registry=r)
        self.latency = Histogram("crosshub_http_request_duration_seconds",
                                 "Durée des requêtes HTTP", ["method", "route"],
                                 buckets=_LATENCY_BUCKETS, registry=r)
        self.ingested = Counter("crosshub_ingest_leads", "Pistes versées, par issue",
                                ["agency", "outcome"], registry=r)
        self.ingest_seconds = Histogram("crosshub_ingest_batch_seconds",
                                        "Durée du versement d'un lot (validation et écriture)",
                                        ["agency"], buckets=_LATENCY_BUCKETS, registry=r)
        self.job_runs = Counter("crosshub_job_runs", "Exécutions des tâches planifiées",
                                ["job", "outcome"], registry=r)
        self.job_seconds = Histogram("crosshub_job_run_seconds", "Durée des tâches planifiées",
                                     ["job"], buckets=(0.1, 1, 5, 30, 120, 600, 3600), registry=r)
        self.triaged = Counter("crosshub_triage_leads", "Pistes triées", registry=r)
        self.connector_lag = Gauge("crosshub_connector_lag_seconds",
                                   "Secondes depuis la dernière livraison du connecteur",
                                   ["connector", "agency"], registry=r)
        self.connector_quarantine = Gauge("crosshub_connector_quarantine",
                                          "Enregistrements en quarantaine (dernier relevé)",
                                          ["connector", "agency"], registry=r)
        self.alerts_open = Gauge("crosshub_connector_alerts_open",
                                 "Alertes de connecteur ouvertes", ["kind"], registry=r)

    # --- what the hub's code tells ---------------------------------------------------------------

    def ingest(self, agency: str, outcomes: list[str], seconds: float) -> None:
        for outcome in outcomes:
            self.ingested.labels(agency=agency, outcome=outcome).inc()
        self.ingest_seconds.labels(agency=agency).observe(seconds)

    def job_run(self, job: str, outcome: str, seconds: float) -> None:
        self.job_runs.labels(job=job, outcome=outcome).inc()
        if outcome != "elsewhere":
            self.job_seconds.labels(job=job).observe(seconds)

    # --- read at each scrape -------------------------------------------------------------------

    def refresh_connectors(self, graph, now: datetime | None = None) -> None:
        """Set the connector gauges from the run records and open alerts in the graph."""
        from graph.operations import connector_run_history, open_alert_counts
        from policies.operations import last_delivery

        now = now or datetime.now(UTC)
        self.connector_lag.clear()
        self.connector_quarantine.clear()
        for connector, runs in connector_run_history(graph, per_connector=20).items():
            agency = runs[0].agency
            since, _ = last_delivery(runs)
            self.connector_lag.labels(connector=connector, agency=agency).set(
                max(0.0, (now - since).total_seconds()))
            if runs[0].quarantine_size is not None:
                self.connector_quarantine.labels(connector=connector, agency=agency).set(
                    runs[0].quarantine_size)
        self.alerts_open.clear()
        for kind, count in open_alert_counts(graph).items():
            self.alerts_open.labels(kind=kind).set(count)

    def exposition(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


def route_of(scope: Scope) -> str:
    """The matched route's template (Starlette sets ``scope["route"]`` when routing)."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else UNMATCHED


class RequestMetrics:
    """Pure ASGI middleware (streams pass through untouched): counts each answer by method,
    route template and status, and times it. Also the one access log line per request, by
    template (hub/ops/logs.py)."""

    def __init__(self, app: ASGIApp, metrics: HubMetrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]

        async def recording(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording)
        finally:
            route, method = route_of(scope), scope.get("method", "GET")
            elapsed = time.perf_counter() - started
            self.metrics.requests.labels(method=method, route=route, status=str(status[0])).inc()
            self.metrics.latency.labels(method=method, route=route).observe(elapsed)
            from hub.ops.logs import access_log

            access_log(method, route, status[0], elapsed)


_FORWARDING = ("forwarded", "x-forwarded-for", "x-real-ip")


def scrape_allowed(client_host: str | None, headers, token: str | None, *,
                   behind_proxy: bool) -> bool:
    """Whether a scrape may read the metrics (see the module docstring). Without a token, a
    loopback peer is trusted only when no reverse proxy stands in front (``behind_proxy``: the
    hub has trusted proxies) and the request bears no forwarding header: through a proxy on the
    same host, every client would look like loopback."""
    if token:
        scheme, _, given = (headers.get("authorization") or "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(given.encode(), token.encode())
    if behind_proxy or any(name in headers for name in _FORWARDING):
        return False
    try:
        return client_host is not None and ipaddress.ip_address(client_host).is_loopback
    except ValueError:  # not an address (a test client's name): not loopback
        return False
