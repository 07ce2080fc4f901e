"""Watchlists (« Veilles ») in the graph: a person follows an entity key or a saved search, and
is told when fresh leads touch it — one module per aggregate (``watches``: store, list, end;
``searches``: what a watch follows, compiled from what was typed; ``matching``: a batch of fresh
leads against the active watches, the hits and the ends written; ``delivery``: outbound
settings and the digest's counts), records in ``models``. The rules and wording are policy
(policies/watches.py); what a watcher may know of each lead is the access engine's, asked by
the hub (hub/jobs/watch_hits.py).

Owns two kinds of bookkeeping nodes, never linked to a lead or an entity (analysis reads never
traverse them): ``Watch`` (per owner; ``match_key`` / ``scan_active`` only while active) and
``WatchDelivery`` (per user). Hits are ``Notification`` nodes of kind ``watch_hit``
(graph/grants/notifications.py), so they reach the live stream like every notification.
"""

from __future__ import annotations

from graph.labels import Label
from graph.schema import unique_constraint
from graph.watches.delivery import (
    deliveries_for,
    get_delivery,
    hits_in_window,
    hits_per_watch,
    set_delivery,
)
from graph.watches.matching import (
    batch_leads,
    end_watches,
    grants_of,
    active_watch_kinds,
    record_hits,
    touched_watches,
    watch_owners,
)
from graph.watches.models import (
    BatchLead,
    Delivery,
    TouchedWatch,
    WatchHit,
    WatchMode,
    WatchOwner,
    WatchRecord,
    WatchTarget,
)
from graph.watches.searches import entity_target, search_target
from graph.watches.watches import (
    active_watch_owners,
    create_watch,
    end_watch,
    latest_hits,
    list_watches,
)

SCHEMA: list[str] = [
    unique_constraint(Label.WATCH),
    unique_constraint(Label.WATCH_DELIVERY),
    # Matching: one seek per key of the batch; only active watches carry match_key.
    "CREATE INDEX watch_match_key IF NOT EXISTS FOR (n:Watch) ON (n.match_key)",
    # Matching: the active saved searches no single key stands for.
    "CREATE INDEX watch_scan_active IF NOT EXISTS FOR (n:Watch) ON (n.scan_active)",
    # The owner's list, the per-owner limit, ending a person's watches.
    "CREATE INDEX watch_user IF NOT EXISTS FOR (n:Watch) ON (n.user_id, n.created_at)",
    # The daily digest: the day's watch hits.
    ("CREATE INDEX notification_kind_created IF NOT EXISTS "
     "FOR (n:Notification) ON (n.kind, n.created_at)"),
]

__all__ = [
    "SCHEMA", "BatchLead", "Delivery", "TouchedWatch", "WatchHit", "WatchMode", "WatchOwner",
    "WatchRecord", "WatchTarget", "active_watch_kinds", "active_watch_owners", "batch_leads",
    "create_watch", "deliveries_for", "end_watch", "end_watches", "entity_target", "get_delivery",
    "grants_of", "hits_in_window", "hits_per_watch", "latest_hits", "list_watches", "record_hits",
    "search_target", "set_delivery", "touched_watches", "watch_owners",
]
