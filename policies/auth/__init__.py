"""Authentication of people: who may open a session, and what a session's token is.

Pure policy — no HTTP, no Neo4j (the hub wires storage and transport):

* ``passwords.py`` — argon2id hashing with explicit parameters, verification, rehash on parameter
  change, and the password policy (French reasons);
* ``tokens.py`` — short-lived access tokens: EdDSA (Ed25519) JWTs signed with the hub's key;
* ``throttle.py`` — failed-login throttling as pure functions over an attempt record;
* ``providers.py`` — the ``IdentityProvider`` seam (passwords now, agency SSO/OIDC later).

See docs/decisions/0004-sessions-and-sso.md.
"""
