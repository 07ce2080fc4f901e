"""Who may call the hub, stored in the graph: users (analysts, coordinators, connectors...) and
their API tokens (``users``), connector signing keys, seen request nonces and connector run
records (``connectors``); the models in ``models``. Accounts over time — movers, leavers,
inactivity, last use — are ``lifecycle``, and the periodic access reviews ``reviews`` (imported as
submodules: ``from graph.identity import lifecycle``).

These nodes are hub bookkeeping: analysis reads never traverse them.
"""

from __future__ import annotations

from graph.identity.connectors import (
    connector_runs,
    consume_nonce,
    get_connector_key,
    record_connector_run,
    register_connector_key,
)
from graph.identity.models import ConnectorKey, IssuedToken, Principal
from graph.identity.users import (
    TOKEN_PREFIX,
    active_token_counts,
    get_user,
    hash_token,
    issue_token,
    list_users,
    principal_for_token,
    revoke_token,
    revoke_user_tokens,
    upsert_user,
    user_id_for,
)

__all__ = [
    "TOKEN_PREFIX", "ConnectorKey", "IssuedToken", "Principal", "active_token_counts", "connector_runs",
    "consume_nonce",
    "get_connector_key", "get_user", "hash_token", "issue_token", "list_users",
    "principal_for_token", "record_connector_run", "register_connector_key", "revoke_token",
    "revoke_user_tokens", "upsert_user", "user_id_for",
]
