"""policies/auth/providers.py: the password provider behind the IdentityProvider seam."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from hub.errors import status_of
from policies.auth import passwords
from policies.auth.passwords import HashParameters
from policies.auth.providers import (
    INVALID_CREDENTIALS,
    IdentityProvider,
    InvalidCredentials,
    PasswordCredentials,
    PasswordProvider,
    StoredAccount,
)

FAST = HashParameters(time_cost=1, memory_cost_kib=1024, parallelism=1)
SECRET = "cheval correct agrafe"


def account(**overrides) -> StoredAccount:
    base = {"user_id": "police:martin", "name": "martin", "agency": "police", "role": "analyst",
            "password_hash": passwords.hash_password(SECRET, FAST)}
    return StoredAccount(**(base | overrides))


def login(provider: PasswordProvider, password: str = SECRET, user_id: str = "police:martin"):
    return provider.authenticate(PasswordCredentials(user_id=user_id, password=SecretStr(password)))


def test_good_password_gives_the_identity_in_the_hubs_terms() -> None:
    provider = PasswordProvider(lambda uid: account() if uid == "police:martin" else None, params=FAST)
    assert isinstance(provider, IdentityProvider)
    who = login(provider)
    assert (who.user_id, who.name, who.agency, who.role, who.provider) == (
        "police:martin", "martin", "police", "analyst", "password")


@pytest.mark.parametrize(("stored", "password", "reason"), [
    (None, SECRET, "unknown_user"),
    (account(), "mauvais mot de passe", "wrong_password"),
    (account(password_hash=None), SECRET, "no_password"),
    (account(disabled=True), SECRET, "disabled"),
    (account(role="connector"), SECRET, "role_not_interactive"),
])
def test_every_refusal_reads_the_same(stored, password, reason) -> None:
    provider = PasswordProvider(lambda _uid: stored, params=FAST)
    with pytest.raises(InvalidCredentials) as info:
        login(provider, password)
    assert info.value.reason == reason
    assert info.value.message == INVALID_CREDENTIALS == "identifiant ou mot de passe incorrect"
    assert status_of(info.value) == 401  # answered as 401 at the edge (hub/errors.py)


def test_outdated_hash_is_rehashed_on_good_login_only() -> None:
    old = account(password_hash=passwords.hash_password(SECRET, HashParameters(
        time_cost=1, memory_cost_kib=512, parallelism=1)))
    rehashed: list[tuple[str, str]] = []
    provider = PasswordProvider(lambda _uid: old, params=FAST,
                                on_rehash=lambda uid, h: rehashed.append((uid, h)))
    with pytest.raises(InvalidCredentials):
        login(provider, "mauvais mot de passe")
    assert rehashed == []
    login(provider)
    assert [uid for uid, _ in rehashed] == ["police:martin"]
    new_hash = rehashed[0][1]
    assert passwords.verify_password(new_hash, SECRET, FAST)
    assert not passwords.needs_rehash(new_hash, FAST)
