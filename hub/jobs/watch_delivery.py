"""Watch delivery beyond the live notification: outbound signals (a webhook, an e-mail through
the configured SMTP relay), the daily digest, and the « Vos veilles » section of a participant's
weekly brief.

Outbound signals carry no lead content, ever: the fixed text of policies/watches.py and the
hub's address — "something new, sign in". They leave on a small thread pool, off the triage
thread, each with bounded retries; a failure is logged without the address's secrets (no
credentials, no URL query) and never reaches triage.

The digest is a scheduled hub job (hub/jobs/schedule.py, run once across hubs by
``ScheduledRuns``): for each person told of watch hits in the window before its due time, one
notification summing them up; it also ends the watches of owners who may no longer hold any
(rights ended without a new lead to notice it).
"""

from __future__ import annotations

import ipaddress
import logging
import re
import smtplib
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

import httpx
from fastapi import FastAPI

from graph import watches as graph_watches
from graph.grants.models import NotificationKind
from graph.grants.notifications import notify
from graph.handle import Graph
from graph.watches import Delivery
from hub.contract.errors import InvalidInput
from hub.settings import Settings
from policies.models import GuestGrant, Policy
from policies.watches import (
    OUTBOUND_SUBJECT,
    OUTBOUND_TEXT,
    WatchRules,
    digest_message_fr,
    standing,
)

log = logging.getLogger("crosshub.watches.delivery")

ATTEMPTS = 3
BACKOFF_S = 0.5
TIMEOUT_S = 5.0
_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="watch-outbound")
EMAIL = re.compile(r"^[^@\s<>\"',;]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$|^[^@\s<>\"',;]{1,64}@localhost$")


# --- checking what a person asks for -------------------------------------------------------------


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_webhook_url(url: str, settings: Settings) -> str:
    """A webhook must be https, or http on loopback, and its host on the allow-list
    (``watch_webhook_hosts``): the hub posts nowhere else."""
    def bad(reason: str) -> InvalidInput:
        return InvalidInput("adresse de webhook refusée", details=[{"field": "webhook_url",
                                                                    "reason": reason}])
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("https", "http") or not host:
        raise bad("URL https attendue, p. ex. https://alertes.exemple.gouv.fr/crosshub")
    if parts.scheme == "http" and not _loopback(host):
        raise bad("https obligatoire (http seulement vers la machine locale)")
    if parts.username or parts.password:
        raise bad("pas d'identifiants dans l'URL")
    if host not in {h.lower() for h in settings.watch_webhook_hosts}:
        raise bad(f"hôte « {host} » absent de la liste autorisée du hub (watch_webhook_hosts)")
    return url.strip()


def check_email(address: str) -> str:
    if not EMAIL.match(address.strip()):
        raise InvalidInput("adresse électronique invalide", details=[{
            "field": "email", "reason": "adresse attendue, p. ex. prenom.nom@interieur.gouv.fr"}])
    return address.strip()


# --- outbound signals ------------------------------------------------------------------------------


def signal(app: FastAPI, user_ids: list[str]) -> None:
    """Queue the outbound signals of these users (returns at once)."""
    if not user_ids:
        return
    settings, graph = app.state.settings, app.state.graph
    _pool.submit(_signal_quietly, settings, graph, user_ids)


def _signal_quietly(settings: Settings, graph: Graph, user_ids: list[str]) -> None:
    try:
        send_all(settings, graph, user_ids)
    except Exception:  # noqa: BLE001 — a thread of its own: log, never propagate
        log.exception("watch outbound delivery failed")


def send_all(settings: Settings, graph: Graph, user_ids: list[str]) -> dict[str, bool]:
    """Send each user's configured signals now; ``{"<user>:<channel>": delivered}``."""
    results: dict[str, bool] = {}
    for delivery in graph_watches.deliveries_for(graph, user_ids):
        if delivery.webhook_url:
            results[f"{delivery.user_id}:webhook"] = _with_retries(
                lambda d=delivery: _post_webhook(settings, d.webhook_url), "webhook",
                delivery.user_id)
        if delivery.email:
            if settings.smtp_host:
                results[f"{delivery.user_id}:email"] = _with_retries(
                    lambda d=delivery: _send_mail(settings, d.email), "email", delivery.user_id)
            else:
                log.warning("watch e-mail for %s not sent: no SMTP relay configured",
                            delivery.user_id)
    return results


def _with_retries(send: Any, channel: str, user_id: str) -> bool:
    for attempt in range(1, ATTEMPTS + 1):
        try:
            send()
            return True
        except Exception as exc:  # noqa: BLE001 — bounded retries, then give up (logged)
            # The exception's class only: its text may hold a relay's reply or an address.
            log.warning("watch %s signal for %s failed (attempt %d/%d): %s", channel, user_id,
                        attempt, ATTEMPTS, type(exc).__name__)
            if attempt < ATTEMPTS:
                time.sleep(BACKOFF_S * attempt)
    return False


def _body(settings: Settings) -> str:
    return f"{OUTBOUND_TEXT}\n\n{settings.hub_public_url}\n"


def _post_webhook(settings: Settings, url: str) -> None:
    url = check_webhook_url(url, settings)  # the allow-list may have changed since
    response = httpx.post(url, json={"message": OUTBOUND_TEXT, "url": settings.hub_public_url},
                          timeout=TIMEOUT_S, follow_redirects=False)
    response.raise_for_status()


def _send_mail(settings: Settings, address: str) -> None:
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = address
    message["Subject"] = OUTBOUND_SUBJECT
    message.set_content(_body(settings))
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_S) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_username and settings.smtp_password is not None:
            smtp.login(settings.smtp_username, settings.smtp_password.get_secret_value())
        smtp.send_message(message)


# --- the daily digest ------------------------------------------------------------------------------


def run_digest(graph: Graph, policy: Policy, rules: WatchRules, due: datetime, *,
               skip_user_ids: frozenset[str] = frozenset(),
               on_done: Any = None) -> dict[str, int]:
    """Sum up, per person still holding watches, the watch hits told in the window before
    ``due`` (hub/jobs/watch_hits.sweep_standing runs first and ends the others). Returns
    user_id → hits summed up."""
    standing_ok = _standing_of(graph, policy, rules, due)
    window = graph_watches.hits_in_window(graph, due - timedelta(hours=rules.digest_window_hours), due)
    told: dict[str, int] = {}
    for uid, (agency, hits, watches) in sorted(window.items()):
        if uid in skip_user_ids or not standing_ok.get(uid, False):
            continue

        def work(tx, uid=uid, agency=agency, hits=hits, watches=watches) -> None:
            notify(tx, agency=agency, user_id=uid, kind=NotificationKind.WATCH_DIGEST,
                   message=digest_message_fr(hits, watches),
                   payload={"hits": str(hits), "watches": str(watches)}, now=due)

        graph.write_once(work)
        told[uid] = hits
        if on_done is not None:
            on_done(uid)
    return told


def _standing_of(graph: Graph, policy: Policy, rules: WatchRules, now: datetime) -> dict[str, bool]:
    """Whether each person told of watch hits may still hold watches now."""
    owners = graph_watches.watch_owners(graph, graph_watches.hits_in_window(
        graph, now - timedelta(hours=rules.digest_window_hours), now))
    grants = graph_watches.grants_of(graph, owners, now)
    out = {}
    for uid, owner in owners.items():
        live = any(isinstance(g, GuestGrant) and g.active_at(now) for g in grants.get(uid, []))
        out[uid] = standing(policy, rules, role=owner.role, disabled=owner.disabled,
                            live_grant=live) is None
    return out


# --- the weekly brief's section ----------------------------------------------------------------------


def brief_section(graph: Graph, meeting: Any, participant: Any, access: Any,
                  now: datetime) -> list[dict[str, Any]] | None:
    """« Vos veilles » of one participant's copy (hub/brief/sections.py): their active watches
    and how many signals each told them in the meeting's week — only what they were
    told, each decided through their own access at the time; nothing is read of the leads.
    None (no section) for a participant without a watch."""
    end = min(meeting.ends_at, now)
    counts = graph_watches.hits_per_watch(graph, participant.user_id, meeting.starts_at, end)
    watches = graph_watches.list_watches(graph, participant.user_id, include_ended=False)
    if not watches:
        return None
    return [{"label": w.label, "hits": counts.get(w.watch_id, 0), "since": w.created_at}
            for w in watches]


def as_delivery(user_id: str, webhook_url: str | None, email: str | None,
                settings: Settings) -> Delivery:
    return Delivery(user_id=user_id,
                    webhook_url=check_webhook_url(webhook_url, settings) if webhook_url else None,
                    email=check_email(email) if email else None)
