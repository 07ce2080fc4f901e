"""Who is logging in: the ``IdentityProvider`` seam between a credential and a session.

A provider turns credentials into an ``AuthenticatedIdentity`` (user id, name, agency, role) or
refuses with ``InvalidCredentials`` — one uniform French message whatever went wrong, so a
caller cannot tell an unknown account from a wrong password. What happens next is the same for
every provider: the hub opens a session and issues a short-lived access token (hub/auth/tokens.py).

``PasswordProvider`` is the one implemented: accounts and argon2id hashes kept by the hub.

Agencies' single sign-on (OIDC) plugs into the same seam: ``policies/auth/oidc.py``
``OidcProvider`` takes an ID token the hub has verified for one configured provider and returns
the same ``AuthenticatedIdentity`` with ``provider="oidc:<id>"`` — the agency fixed by *which*
provider answered (never by a claim), the role from the provider's table (ADR 0021). Throttling
stays with password logins: an IdP throttles its own. The hub's ``disabled`` flag still applies.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, SecretStr

from hub.contract.errors import NotAuthenticated
from policies.auth import passwords
from policies.models import Role

INVALID_CREDENTIALS = "identifiant ou mot de passe incorrect"

# Connectors are machine accounts: API token + request signature, never an interactive login.
INTERACTIVE_ROLES = frozenset(Role) - {Role.CONNECTOR}


class InvalidCredentials(NotAuthenticated):
    """Login refused. ``message`` is the same for every cause; ``reason`` is for the audit trail
    only (unknown_user, no_password, wrong_password, disabled, role_not_interactive)."""

    code = "invalid_credentials"

    def __init__(self, reason: str) -> None:
        super().__init__(INVALID_CREDENTIALS)
        self.reason = reason


class AuthenticatedIdentity(BaseModel):
    """Who the provider vouches for, in the hub's terms."""

    model_config = ConfigDict(frozen=True)

    user_id: str
    name: str
    agency: str
    role: str
    provider: str  # "password", later "oidc:<agency>"


class PasswordCredentials(BaseModel):
    model_config = ConfigDict(frozen=True)

    user_id: str
    password: SecretStr


class StoredAccount(BaseModel):
    """What a password provider needs to know about an account (from the hub's store)."""

    model_config = ConfigDict(frozen=True)

    user_id: str
    name: str
    agency: str
    role: str
    disabled: bool = False
    password_hash: str | None = None


@runtime_checkable
class IdentityProvider(Protocol):
    name: str

    def authenticate(self, credentials) -> AuthenticatedIdentity:  # noqa: ANN001 — per provider
        """The identity behind ``credentials``, or raise ``InvalidCredentials``."""
        ...


class PasswordProvider:
    """Accounts kept by the hub, argon2id password hashes.

    ``lookup`` fetches an account by user id (None if unknown); ``on_rehash`` is called with
    (user_id, new_hash) when a good password was hashed with outdated parameters.
    """

    name = "password"

    def __init__(self, lookup: Callable[[str], StoredAccount | None], *,
                 on_rehash: Callable[[str, str], None] | None = None,
                 params: passwords.HashParameters = passwords.DEFAULT_PARAMETERS) -> None:
        self._lookup = lookup
        self._on_rehash = on_rehash
        self._params = params

    def authenticate(self, credentials: PasswordCredentials) -> AuthenticatedIdentity:
        account = self._lookup(credentials.user_id)
        secret = credentials.password.get_secret_value()
        # Always one argon2 verification, even for an unknown account: equal timing.
        ok = passwords.verify_password(account.password_hash if account else None, secret,
                                       self._params)
        if account is None:
            raise InvalidCredentials("unknown_user")
        if account.password_hash is None:
            raise InvalidCredentials("no_password")
        if not ok:
            raise InvalidCredentials("wrong_password")
        if account.disabled:
            raise InvalidCredentials("disabled")
        if account.role not in INTERACTIVE_ROLES:
            raise InvalidCredentials("role_not_interactive")
        if self._on_rehash and passwords.needs_rehash(account.password_hash, self._params):
            self._on_rehash(account.user_id, passwords.hash_password(secret, self._params))
        return AuthenticatedIdentity(user_id=account.user_id, name=account.name,
                                     agency=account.agency, role=account.role,
                                     provider=self.name)
