"""Federation between CROSS hubs (issue 16, ADR 0024): per-holder blinded tokens (RFC 9497),
signed padded filters, hit claims answered with tickets, and the OFAST antenna that routes them.

Rooms: ``oprf`` (the one place the OPRF library is used), ``identifiers`` (what is tokenized),
``wire`` (every message between hubs and the antenna), ``filters`` (a holder's signed filter),
``service`` (the context both sides share), ``holder`` (tokens, filters, evaluations, claims,
answers), ``querier`` (the round), ``notes`` (what a ticket says to a person), ``runtime`` (one
hub's federation, built from its settings), ``client``, ``transport``, ``pki`` and ``directory``
(mutual TLS, request signatures, the members' keys and URLs), ``antenna`` and
``antenna_stats`` (the router and its statistics). The rules (scopes, quotas, deadlines) are
policy data: policies/federation.py and policies/federation_reach.py.
"""
