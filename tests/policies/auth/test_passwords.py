"""policies/auth/passwords.py: argon2id hashing with explicit parameters, and the policy."""

from __future__ import annotations

import pytest

from hub.contract.errors import InvalidInput
from policies.auth import passwords
from policies.auth.passwords import HashParameters

# Cheap parameters for the tests that only need *some* hash; the defaults are tested once.
FAST = HashParameters(time_cost=1, memory_cost_kib=1024, parallelism=1)


def test_default_hash_is_argon2id_with_the_declared_parameters() -> None:
    h = passwords.hash_password("correct horse battery")
    assert h.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert passwords.verify_password(h, "correct horse battery")
    assert not passwords.verify_password(h, "correct horse batterY")
    assert not passwords.needs_rehash(h)


def test_salted_each_time() -> None:
    assert passwords.hash_password("même mot de passe", FAST) != passwords.hash_password(
        "même mot de passe", FAST)


def test_no_stored_hash_garbage_hash_and_overlong_password_never_verify() -> None:
    assert not passwords.verify_password(None, "anything at all", FAST)
    assert not passwords.verify_password("not-a-hash", "anything at all", FAST)
    long = "x" * (passwords.MAX_LENGTH + 1)
    assert not passwords.verify_password(passwords.hash_password(long, FAST), long, FAST)


def test_needs_rehash_when_parameters_change() -> None:
    old = passwords.hash_password("un mot de passe solide", FAST)
    assert passwords.needs_rehash(old)  # against the defaults
    assert not passwords.needs_rehash(old, FAST)
    assert passwords.needs_rehash("$2b$12$bcrypt-style-hash")


@pytest.mark.parametrize("password", ["court", "onze-caract"])
def test_policy_minimum_length(password: str) -> None:
    problems = passwords.password_problems(password, name="martin")
    assert problems == [f"au moins 12 caractères (reçu : {len(password)})"]


@pytest.mark.parametrize("password", [
    "dupont-dupont", "Mon-DUPONT-2025!", "JeanDupont1234", "Élodie.Müller-1", "police:dupont1",
])
def test_policy_refuses_the_users_own_name(password: str) -> None:
    name = "elodie.muller" if "lodie" in password else "dupont"
    problems = passwords.password_problems(password, name=name, user_id=f"police:{name}")
    assert problems == ["ne doit pas contenir votre nom ou votre identifiant"]


def test_policy_accepts_a_long_unrelated_password_and_short_names_are_not_substrings() -> None:
    assert passwords.password_problems("olive-verte-et-noire", name="li") == []
    assert passwords.password_problems("cheval correct agrafe", name="dupont") == []


def test_policy_refuses_one_repeated_character_and_overlong() -> None:
    assert passwords.password_problems("a" * 12, name="dupont") == [
        "ne doit pas répéter un seul caractère"]
    assert passwords.password_problems("ab" * 600, name="dupont") == [
        f"au plus {passwords.MAX_LENGTH} caractères (reçu : 1200)"]


def test_check_names_the_field_in_french() -> None:
    with pytest.raises(InvalidInput) as info:
        passwords.check_password_policy("dupont", name="dupont")
    assert info.value.message == "mot de passe refusé"
    assert {d["field"] for d in info.value.details} == {"password"}
    assert len(info.value.details) == 2
