"""Wiring of the access policy into every read: the caller's identity and active grants go to the
policy engine (policies/), whose compiled scope becomes the Cypher filter (graph/access.py).

Compiling a scope evaluates the policy over every feature combination (~25 ms), so compiled
filters are cached by what they depend on — role, agency, active grants, policy digest — and
only the evaluation instant (``as_of``, which decides embargoes) is refreshed per request.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime

from graph import access as graph_access
from graph.access import AccessFilter
from graph.grants import active_grants_for
from graph.handle import Graph
from graph.identity import Principal
from policies.engine import compile_scope
from policies.models import Caller, DisclosureGrant, GuestGrant, Policy

_CACHE_SIZE = 1024
_cache: dict[tuple, AccessFilter] = {}
_lock = threading.Lock()


def caller_of(principal: Principal) -> Caller:
    return Caller(user_id=principal.user_id, name=principal.name, agency=principal.agency,
                  role=principal.role)


def access_filter_for(
    graph: Graph,
    principal: Principal,
    now: datetime | None = None,
    *,
    grants: list[GuestGrant | DisclosureGrant] | None = None,
    policy: Policy,
) -> AccessFilter:
    """The caller's read filter at ``now`` under ``policy`` (the app's rulebook's)."""
    now = now or datetime.now(UTC)
    caller = caller_of(principal)
    if grants is None:
        # Normally read with the caller's identity (one round trip, hub/deps.get_caller).
        grants = (principal.active_grants if principal.active_grants is not None
                  else active_grants_for(graph, principal.user_id, now))
    key = (
        policy.digest, caller.role, caller.agency,
        caller.user_id if grants else "",
        tuple(sorted(g.model_dump_json() for g in grants)),
    )
    with _lock:
        compiled = _cache.get(key)
    if compiled is None:
        scope = compile_scope(caller, policy, grants, now=now)
        contacts = {info.agency.value: info.contact_fr for info in policy.agencies}
        compiled = graph_access.compile_scope(scope, contacts)
        with _lock:
            if len(_cache) >= _CACHE_SIZE:
                _cache.clear()
            _cache[key] = compiled
    return replace(compiled, params={**compiled.params, "acc_as_of": now})
