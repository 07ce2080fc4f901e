"""Authentication of people: who may open a session (the tokens a session carries are the hub's:
hub/auth/tokens.py).

Pure policy — no HTTP, no Neo4j, no file (the hub wires storage, transport and keys: the
access tokens and the key files are in hub/auth/):

* ``passwords.py`` — argon2id hashing with explicit parameters, verification, rehash on parameter
  change, and the password policy (French reasons);
* ``throttle.py`` — failed-login throttling as pure functions over an attempt record, and the
  keyed hash naming the records (its secret handed in by the hub);
* ``providers.py`` — the ``IdentityProvider`` seam (passwords now, agency SSO/OIDC later).

See docs/decisions/0004-sessions-and-sso.md.
"""
