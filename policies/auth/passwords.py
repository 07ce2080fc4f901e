"""Passwords of people (never of connectors, which use API tokens and request signatures):
argon2id hashing with explicit parameters, verification, rehash detection, and the password
policy whose refusals a person reads (French).

Parameters: OWASP's argon2id baseline (19 MiB, 2 passes, 1 lane). RFC 9106's heavier profile
(64 MiB, 3 passes, 4 lanes) costs ~0.6 s per login on the 2-core reference machine, which turns
a burst of logins into a denial of service; 19 MiB/2 passes costs ~70 ms. The parameters are
written into every hash, so raising them later only needs a new ``HashParameters``: hashes made
with older parameters are recognised by ``needs_rehash`` and re-hashed at the next good login.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from hub.contract.errors import InvalidInput

MIN_LENGTH = 12
# argon2 accepts any length, but hashing a megabyte per request is a cheap denial of service.
MAX_LENGTH = 1024
# Parts of a name shorter than this are not searched inside a password ("li" is in "olive").
_MIN_NAME_PART = 3


@dataclass(frozen=True)
class HashParameters:
    time_cost: int = 2
    memory_cost_kib: int = 19 * 1024
    parallelism: int = 1
    hash_len: int = 32
    salt_len: int = 16


DEFAULT_PARAMETERS = HashParameters()


@functools.lru_cache(maxsize=8)
def hasher(params: HashParameters = DEFAULT_PARAMETERS) -> PasswordHasher:
    return PasswordHasher(
        time_cost=params.time_cost,
        memory_cost=params.memory_cost_kib,
        parallelism=params.parallelism,
        hash_len=params.hash_len,
        salt_len=params.salt_len,
        type=Type.ID,
    )


@functools.lru_cache(maxsize=8)
def _dummy_hash(params: HashParameters) -> str:
    # Verified against when there is no stored hash (unknown user, no password set), so a failed
    # login costs the same time whether or not the account exists.
    return hasher(params).hash("crosshub: no such account, constant-time refusal")


def hash_password(password: str, params: HashParameters = DEFAULT_PARAMETERS) -> str:
    return hasher(params).hash(password)


def verify_password(stored_hash: str | None, password: str,
                    params: HashParameters = DEFAULT_PARAMETERS) -> bool:
    """True only if ``password`` matches ``stored_hash``. Always pays one argon2 verification,
    even without a stored hash or with an over-long password, so timing reveals nothing."""
    candidate = password if len(password) <= MAX_LENGTH else ""
    target = stored_hash or _dummy_hash(params)
    try:
        ok = hasher(params).verify(target, candidate)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    return ok and stored_hash is not None and len(password) <= MAX_LENGTH


def needs_rehash(stored_hash: str, params: HashParameters = DEFAULT_PARAMETERS) -> bool:
    """True when ``stored_hash`` was made with other parameters (or is not argon2id at all)."""
    try:
        return hasher(params).check_needs_rehash(stored_hash)
    except (InvalidHashError, ValueError):
        return True


def _fold(text: str) -> str:
    """Lower case, accents removed, only letters and digits: « Élodie.Müller » → elodiemuller."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if c.isalnum() and not unicodedata.combining(c))


def password_problems(password: str, *, name: str, user_id: str | None = None) -> list[str]:
    """Why ``password`` is refused for the user called ``name`` (French), or [] if acceptable."""
    problems: list[str] = []
    length = len(password)
    if length < MIN_LENGTH:
        problems.append(f"au moins {MIN_LENGTH} caractères (reçu : {length})")
    if length > MAX_LENGTH:
        problems.append(f"au plus {MAX_LENGTH} caractères (reçu : {length})")
    folded = _fold(password)
    identifiers = [name] + ([user_id.split(":", 1)[-1]] if user_id else [])
    parts = {_fold(name)} | {
        _fold(part) for ident in identifiers for part in re.split(r"[^\w]+|_", ident)
    }
    parts = {p for p in parts if len(p) >= _MIN_NAME_PART}
    if folded and (folded == _fold(name) or any(p in folded for p in parts)):
        problems.append("ne doit pas contenir votre nom ou votre identifiant")
    if length >= MIN_LENGTH and len(set(password)) == 1:
        problems.append("ne doit pas répéter un seul caractère")
    return problems


def check_password_policy(password: str, *, name: str, user_id: str | None = None) -> None:
    """Raise ``InvalidInput`` naming the ``password`` field and each reason, if refused."""
    problems = password_problems(password, name=name, user_id=user_id)
    if problems:
        raise InvalidInput("mot de passe refusé",
                           details=[{"field": "password", "reason": p} for p in problems])
