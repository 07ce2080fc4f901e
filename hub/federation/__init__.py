"""Federation between CROSS hubs (issue 16, ADR 0024): per-holder blinded tokens (RFC 9497),
signed padded filters, hit claims answered with tickets, and the OFAST antenna that routes them.

Rooms: ``oprf`` (the one place the OPRF library is used), ``identifiers`` (what is tokenized),
``wire`` (every message between hubs and the antenna), ``filters`` (a holder's signed filter),
``service`` (holder and querier sides), ``transport`` and ``pki`` (mutual TLS, signatures),
``antenna`` (the router and its statistics). The rules (scopes, quotas, deadlines) are policy
data: policies/federation.py.
"""
