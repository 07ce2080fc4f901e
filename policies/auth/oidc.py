"""Agencies' single sign-on (OIDC): which identity providers the hub trusts, and how a verified
ID token becomes a hub identity. Pure rules and data; the protocol (discovery, token exchange,
signature check against the issuer's keys) is the hub's (hub/auth/oidc.py).

``identity_providers.yaml`` (``policies/data``, or the file named by the hub's
``identity_providers_file`` setting) lists one entry per agency's provider: a short ``id`` (in the
hub's URLs), the ``agency`` it speaks for, the French ``label_fr`` of its button, its ``issuer``
(https, or http on loopback only), the hub's ``client_id`` there, how the hub authenticates to it
(``client_auth``: ``none`` — PKCE only — or ``client_secret_basic``, the secret being a 0600 file
under the hub's keys directory, never in this file), the ``scopes``, the claim carrying the
person's groups or role (``role_claim``) and the ``roles`` table: claim value → hub role, the
first entry the person holds winning.

The agency is the provider's, fixed by *which* issuer answered — never read from a claim. The
role comes from the table only; a value not in it, or a hub role that cannot sign in
interactively (connector), is refused. The hub account is found by (issuer, subject); the hub
user id of a first sign-in is ``<agency>:<username>`` from ``username_claim``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from hub.contract.lead import Agency
from policies.auth.providers import INTERACTIVE_ROLES, AuthenticatedIdentity
from policies.models import PolicyModel, Role, TextFr
from hub.contract.errors import NotAuthenticated

IDENTITY_PROVIDERS_FILE = "identity_providers.yaml"

# What a person reads when an OIDC sign-in is refused, whatever the cause (the cause is in the
# audit trail only).
OIDC_REFUSED = "connexion refusée : l'identité transmise par le fournisseur n'est pas acceptée"

ProviderId = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{1,39}$")]
ClaimName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_.:-]{0,99}$")]
# The part of a hub user id after « agence: », as an OIDC sign-in may create it.
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")


class OidcRefused(NotAuthenticated):
    """An OIDC sign-in refused: one French message; ``reason`` for the audit trail only
    (state_*, token_*, role_unmapped, role_not_interactive, disabled, username_*, account_*)."""

    code = "oidc_refused"

    def __init__(self, reason: str, user_id: str | None = None) -> None:
        super().__init__(OIDC_REFUSED)
        self.reason = reason
        self.user_id = user_id  # the hub account concerned, when one is known


class RoleMapping(PolicyModel):
    value: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    role: Role

    @field_validator("role")
    @classmethod
    def _interactive(cls, v: Role) -> Role:
        if v not in INTERACTIVE_ROLES:
            raise ValueError(f"le rôle {v.value} ne se connecte jamais de façon interactive")
        return v


def _loopback(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


class IdentityProviderConfig(PolicyModel):
    id: ProviderId
    agency: Agency
    label_fr: TextFr
    issuer: Annotated[str, StringConstraints(min_length=8, max_length=500)]
    client_id: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    client_auth: Literal["none", "client_secret_basic"] = "none"
    scopes: list[Annotated[str, StringConstraints(pattern=r"^[\x21\x23-\x5b\x5d-\x7e]{1,100}$")]] = Field(
        default_factory=lambda: ["openid", "profile", "email"])
    role_claim: ClaimName = "groups"
    username_claim: ClaimName = "preferred_username"
    roles: list[RoleMapping] = Field(min_length=1)

    @field_validator("issuer")
    @classmethod
    def _issuer(cls, v: str) -> str:
        parts = urlsplit(v)
        if parts.query or parts.fragment or not parts.hostname:
            raise ValueError("issuer : une URL https sans requête ni fragment est attendue")
        if parts.scheme != "https" and not (parts.scheme == "http" and _loopback(parts.hostname)):
            raise ValueError("issuer : https obligatoire (http admis sur la boucle locale seulement)")
        return v

    @field_validator("scopes")
    @classmethod
    def _openid(cls, v: list[str]) -> list[str]:
        if "openid" not in v:
            raise ValueError("scopes : « openid » est obligatoire")
        return v

    @field_validator("roles")
    @classmethod
    def _values_once(cls, v: list[RoleMapping]) -> list[RoleMapping]:
        twice = sorted({m.value for m in v if [x.value for x in v].count(m.value) > 1})
        if twice:
            raise ValueError(f"valeur(s) listée(s) deux fois : {', '.join(twice)}")
        return v


class IdentityProviders(PolicyModel):
    version: Literal[1] = 1
    providers: list[IdentityProviderConfig] = Field(default_factory=list)
    digest: str = ""

    @model_validator(mode="after")
    def _unique(self) -> IdentityProviders:
        for what, values in (("id", [p.id for p in self.providers]),
                             ("issuer", [p.issuer for p in self.providers])):
            twice = sorted({x for x in values if values.count(x) > 1})
            if twice:
                raise ValueError(f"{what} en double : {', '.join(twice)}")
        return self

    def get(self, provider_id: str) -> IdentityProviderConfig | None:
        return next((p for p in self.providers if p.id == provider_id), None)


def load_identity_providers(path: Path | str | None = None) -> IdentityProviders:
    """The identity providers file (default: the packaged one), validated; ConfigurationError
    naming the file and line otherwise."""
    from policies.loader import data_dir, load_rules_file

    entry = Path(path) if path is not None else data_dir() / IDENTITY_PROVIDERS_FILE
    return load_rules_file(IdentityProviders, entry, "fournisseurs d'identité")


def role_for(provider: IdentityProviderConfig, claim: Any) -> Role | None:
    """The hub role the ``role_claim`` value maps to: the first table entry the person holds
    (the claim is one string or a list of them); None when none matches."""
    held = {claim} if isinstance(claim, str) else (
        {c for c in claim if isinstance(c, str)} if isinstance(claim, list) else set())
    return next((m.role for m in provider.roles if m.value in held), None)


def username_of(claims: dict[str, Any], provider: IdentityProviderConfig) -> str | None:
    """The user name a first sign-in's hub id is made of, lower-cased; None if unusable."""
    raw = claims.get(provider.username_claim)
    if not isinstance(raw, str):
        return None
    name = raw.strip().lower()
    return name if USERNAME_RE.match(name) else None


class LinkedAccount(BaseModel):
    """A hub account as the OIDC mapping needs it."""

    model_config = ConfigDict(frozen=True)

    user_id: str
    name: str
    agency: str
    disabled: bool = False
    oidc_link: str | None = None


class VerifiedIdToken(BaseModel):
    """Claims of an ID token whose signature, issuer, audience, azp, nonce and expiry the hub
    checked for ``provider_id``."""

    model_config = ConfigDict(frozen=True)

    provider_id: str
    claims: dict[str, Any]


def link_key(issuer: str, subject: str) -> str:
    return f"{issuer}#{subject}"


class OidcProvider:
    """``IdentityProvider`` for one agency's OIDC issuer (ADR 0004's seam).

    ``lookup`` finds a hub account by link key and by user id: (account linked to this
    (issuer, sub) or None, account holding the would-be user id or None)."""

    def __init__(self, config: IdentityProviderConfig,
                 lookup: Callable[[str, str], tuple[LinkedAccount | None, LinkedAccount | None]]) -> None:
        self.config = config
        self.name = f"oidc:{config.id}"
        self._lookup = lookup

    def authenticate(self, token: VerifiedIdToken) -> AuthenticatedIdentity:
        if token.provider_id != self.config.id:
            raise OidcRefused("token_other_provider")
        claims = token.claims
        role = role_for(self.config, claims.get(self.config.role_claim))
        if role is None:
            raise OidcRefused("role_unmapped")
        username = username_of(claims, self.config)
        if username is None:
            raise OidcRefused("username_invalid")
        key = link_key(self.config.issuer, str(claims["sub"]))
        linked, same_id = self._lookup(key, f"{self.config.agency.value}:{username}")
        account = linked
        if account is None:
            # First sign-in: a new hub account, never an existing one taken over (an IdP user
            # who renames themselves must not inherit a hub account they were not linked to).
            if same_id is not None:
                raise OidcRefused("account_id_taken", same_id.user_id)
            user_id = f"{self.config.agency.value}:{username}"
            name = username
        else:
            if account.agency != self.config.agency.value:
                raise OidcRefused("account_other_agency", account.user_id)
            if account.disabled:
                raise OidcRefused("disabled", account.user_id)
            user_id, name = account.user_id, account.name
        return AuthenticatedIdentity(user_id=user_id, name=name, agency=self.config.agency.value,
                                     role=role.value, provider=self.name)
