"""The hub's side of authentication: the key files and what is signed with them.

The rules — password hashing and policy, failed-login throttling, the identity-provider seam —
are pure and live in policies/auth/; the accounts, sessions and attempt records are stored in
graph/sessions.py. Here:

* ``tokens.py`` — short-lived access tokens: EdDSA (Ed25519) JWTs signed with the hub's key
  (``keys_dir/access_token_ed25519.pem``), issued at login and verified on every request;
* ``throttle.py`` — the login-throttle secret (``keys_dir/login_throttle.key``) that keys the
  HMAC naming the attempt records (``policies.auth.throttle.ThrottleKeyring``).

See docs/decisions/0004-sessions-and-sso.md.
"""
