"""Watch hits: after the triage worker has triaged a batch of fresh (or updated) leads, tell the
watchers whose watches the batch touches — each told what the access engine lets them know of
each lead *at that moment* (full or redacted: the lead is named; hit: which service to call,
with the hit handle of ADR 0007 and never the lead id; none: nothing). A full-text watch is
told only of leads whose narrative the watcher may read (a match on hidden text would leak it).

A watch stands while its owner may hold watches (policies/watches.py ``standing``: account
live, role holding ``watches.follow``, a live guest grant for the roles that need one); one
that no longer stands is ended here, with the reason, before anything is told.

Each notification is audited as a *disclosure* to its watcher (the lead ids they were told of,
the watch's own justification), inside the write, before commit. Outbound signals (webhook,
e-mail: no lead content) leave afterwards, off this thread (hub/jobs/watch_delivery.py).
``after_triage`` never raises: a failure is logged and triage goes on.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime

from fastapi import FastAPI

from graph import grants as graph_grants
from graph import watches as graph_watches
from graph.handle import Graph
from graph.watches import TouchedWatch, WatchHit, WatchOwner
from hub.audit import AuditTrail
from hub.audit.events import system_event
from hub.handles import handles_for
from hub.jobs import watch_delivery
from policies.audit import AuditAction, DecisionOutcome
from policies.engine import decide
from policies.models import Caller, GuestGrant, Outcome, Policy
from policies.watches import (
    EndReason,
    WatchRules,
    hit_message_fr,
    notifies,
    standing,
)

log = logging.getLogger("crosshub.watches")

ORIGIN = "crosshub:veilles"
RULE_WATCH_HIT = "watch-hit"
RULE_WATCH_ENDED = "watch-ended-with-rights"


def after_triage(app: FastAPI, lead_ids: list[str], now: datetime) -> int:
    """The one call the triage worker makes: notify watchers of this batch; never raises."""
    try:
        return notify_watchers(app, lead_ids, now)
    except Exception:  # noqa: BLE001 — watch hits must never stop triage
        log.exception("watch matching failed for a batch of %d leads", len(lead_ids))
        return 0


def notify_watchers(app: FastAPI, lead_ids: list[str], now: datetime) -> int:
    graph = app.state.graph
    any_key, any_scan, any_text = graph_watches.active_watch_kinds(graph)
    if not (any_key or any_scan):
        return 0
    leads = graph_watches.batch_leads(graph, lead_ids, narratives=any_text)
    touched = graph_watches.touched_watches(graph, leads, scans=any_scan)
    if not touched:
        return 0
    policy, rules = app.state.rulebook.policy, app.state.rulebook.watches
    owners = graph_watches.watch_owners(graph, {t.user_id for t in touched})
    grants = graph_watches.grants_of(graph, owners, now)
    ends = _ends(policy, rules, {t.user_id for t in touched}, owners, grants, now)
    if ends:
        end_for(graph, app.state.audit, ends, {u: o.agency or "" for u, o in owners.items()}, now)
    markings = graph_grants.lead_markings(graph, sorted({i for t in touched for i in t.lead_ids}))
    versions = {lead.lead_id: lead.version for lead in leads}
    hits: list[WatchHit] = []
    for watch in touched:
        if watch.user_id not in ends:
            hits += _decide(app, watch, owners[watch.user_id], grants[watch.user_id], markings,
                            versions, now)
    if not hits:
        return 0
    graph_watches.record_hits(graph, hits, now, before_commit=lambda: _audit(app, touched, hits, now))
    watch_delivery.signal(app, sorted({h.user_id for h in hits}))
    return len(hits)


def _decide(app: FastAPI, watch: TouchedWatch, owner: WatchOwner, grants: list, markings: dict,
            versions: dict[str, int], now: datetime) -> list[WatchHit]:
    caller = Caller(user_id=owner.user_id, name=owner.name or owner.user_id,
                    agency=owner.agency, role=owner.role)
    seal = handles_for(app.state.settings.keys_dir).sealer(caller.agency.value)
    out: list[WatchHit] = []
    for lead_id in watch.lead_ids:
        marking = markings.get(lead_id)
        if marking is None:
            continue
        decision = decide(caller, marking, app.state.rulebook.policy, grants, now=now)
        if not notifies(decision.outcome):
            continue
        if watch.scan == "text" and (decision.outcome is Outcome.HIT
                                     or "narrative" in decision.hidden_properties):
            continue  # the words matched text this watcher may not read
        agency = marking.originating_agency.value
        message = hit_message_fr(watch.label, decision.outcome, lead_id=lead_id, agency=agency,
                                 version=versions.get(lead_id, 1), contact_fr=decision.contact_fr)
        if decision.outcome is Outcome.HIT:
            payload = {"level": "hit", "agency": agency, "contact": decision.contact_fr,
                       "handle": seal(["lead", lead_id])}
        else:
            payload = {"level": decision.outcome.value, "lead_id": lead_id,
                       "version": str(versions.get(lead_id, 1))}
        out.append(WatchHit(watch_id=watch.watch_id, user_id=owner.user_id,
                            agency=caller.agency.value, lead_id=lead_id, message=message,
                            payload=payload))
    return out


def _audit(app: FastAPI, touched: list[TouchedWatch], hits: list[WatchHit], now: datetime) -> None:
    """One disclosure per watcher and level told: the leads, the watches, the justification
    the watcher gave when they created the watches."""
    why = {t.watch_id: t.justification for t in touched}
    groups: dict[tuple[str, str], list[WatchHit]] = defaultdict(list)
    for hit in hits:
        groups[(hit.user_id, hit.payload["level"] or "hit")].append(hit)
    for (uid, level), items in sorted(groups.items()):
        reasons = sorted({why[h.watch_id] for h in items})
        app.state.audit.append(system_event(
            AuditAction.DISCLOSURE, origin=ORIGIN, rule_id=RULE_WATCH_HIT,
            lead_ids=sorted({h.lead_id for h in items}),
            entity_keys=sorted({f"watch:{h.watch_id}" for h in items}),
            justification=" | ".join(reasons)[:2000], recipients=[uid],
            outcome=DecisionOutcome(level), details={"step": "watch_hit", "notifications": len(items)}))


def end_for(graph: Graph, audit: AuditTrail, ends: dict[str, EndReason],
            agencies: dict[str, str], now: datetime) -> int:
    """End every active watch of these owners (their rights ended), audited before commit."""

    def record(ended: list[dict]) -> None:
        by_user: dict[str, list[dict]] = defaultdict(list)
        for w in ended:
            by_user[w["user_id"]].append(w)
        for uid, items in sorted(by_user.items()):
            audit.append(system_event(
                AuditAction.ALTERATION, origin=ORIGIN, rule_id=RULE_WATCH_ENDED, lead_ids=[],
                entity_keys=[f"watch:{w['watch_id']}" for w in items], recipients=[uid],
                details={"step": "watch_ended", "reason": ends[uid].value}))

    return len(graph_watches.end_watches(graph, ends, now, agencies, before_commit=record))


def sweep_standing(graph: Graph, audit: AuditTrail, policy: Policy, rules: WatchRules,
                   now: datetime) -> int:
    """End the watches of every owner who may no longer hold any (the daily job: rights that
    ended without a new lead to notice it)."""
    uids = graph_watches.active_watch_owners(graph)
    owners = graph_watches.watch_owners(graph, uids)
    ends = _ends(policy, rules, uids, owners,
                 graph_watches.grants_of(graph, owners, now), now)
    return end_for(graph, audit, ends, {u: o.agency or "" for u, o in owners.items()}, now) \
        if ends else 0


def _ends(policy: Policy, rules: WatchRules, uids, owners: dict[str, WatchOwner],
          grants: dict[str, list], now: datetime) -> dict[str, EndReason]:
    ends: dict[str, EndReason] = {}
    for uid in uids:
        owner = owners.get(uid)
        live = any(isinstance(g, GuestGrant) and g.active_at(now) for g in grants.get(uid, []))
        reason = standing(policy, rules, role=owner.role if owner else None,
                          disabled=owner.disabled if owner else True, live_grant=live)
        if reason is not None:
            ends[uid] = reason
    return ends
