"""The OPRF of the federation: RFC 9497 VOPRF, ristretto255-SHA512, behind a small interface.

The library is ``voprf`` (PyPI), which wraps the RFC's reference Rust crate; nothing else in the
project imports it, so changing library (or writing our own over libsodium) touches this file
only. The RFC's test vectors are checked in tests/hub/federation/test_oprf.py.

* ``HolderKey`` — a hub's key for one epoch: it evaluates peers' blinded values (with a DLEQ
  proof against its public key) and computes its own tokens directly. The key is a 32-byte seed
  in ``keys_dir/federation/epoch-<n>.seed`` (0600, hub/keyfiles.py), derived with the RFC's
  ``DeriveKeyPair(seed, info)`` where ``info`` names the CROSS and the epoch.
* ``blind`` / ``finalize`` — the querier's side: values are blinded with fresh randomness per
  call (two queries of one value look unrelated), and the holder's answer is accepted only if its
  proof verifies against the public key the holder published in its signed filter: a holder that
  evaluates with another key fails here, never yields a token.
* ``truncate`` — the bytes of an output that travel as a token.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from voprf import ristretto

from hub.contract.errors import InvalidInput
from hub.keyfiles import load_or_create_private_file

OUTPUT_BYTES = 64  # SHA-512: Nh
ELEMENT_BYTES = 32  # ristretto255: Ne
MAX_BATCH = 65_535  # the RFC's batch bound (2^16 - 1)


class ProofFailed(Exception):
    """The holder's answer does not verify against its published key (another key, tampering)."""


def _info(cross_id: str, epoch: int) -> bytes:
    return f"crosshub-federation:{cross_id}:{epoch}".encode()


@dataclass(frozen=True)
class HolderKey:
    cross_id: str
    epoch: int
    _evaluator: ristretto.Evaluator

    @classmethod
    def from_seed(cls, seed: bytes, cross_id: str, epoch: int) -> HolderKey:
        if len(seed) != 32:
            raise ValueError("a federation seed is 32 bytes")
        return cls(cross_id, epoch, ristretto.Evaluator.from_seed(seed, _info(cross_id, epoch)))

    @property
    def public_key(self) -> bytes:
        return bytes(self._evaluator.public_key.serialize())

    def token(self, value: bytes) -> bytes:
        """This holder's full OPRF output for one of its own values (RFC 9497 ``Evaluate``)."""
        return bytes(self._evaluator.evaluate_known_input(value))

    def evaluate_batch(self, blinded: Sequence[bytes]) -> bytes:
        """A peer's blinded values, evaluated with one batched DLEQ proof (``BlindEvaluate``).
        A value that is not a valid ristretto255 element is the peer's fault: ``InvalidInput``."""
        if not blinded:
            raise InvalidInput("Aucune valeur à évaluer.", details=[
                {"field": "blinded", "reason": "liste vide"}])
        if len(blinded) > MAX_BATCH:
            raise InvalidInput("Trop de valeurs dans une évaluation.", details=[
                {"field": "blinded", "reason": f"au plus {MAX_BATCH} valeurs"}])
        elements = []
        for i, raw in enumerate(blinded):
            try:
                if len(raw) != ELEMENT_BYTES:
                    raise ValueError("length")
                elements.append(ristretto.BlindedInput.deserialize(raw))
            except ValueError:
                raise InvalidInput("Valeur aveuglée invalide.", details=[
                    {"field": f"blinded[{i}]",
                     "reason": "élément ristretto255 de 32 octets attendu"}]) from None
        return bytes(self._evaluator.evaluate_batch(elements).serialize())


def epoch_key(keys_dir: Path, cross_id: str, epoch: int) -> HolderKey:
    """This hub's key for ``epoch``, created (0600) on first use."""
    seed = load_or_create_private_file(
        keys_dir / "federation", f"epoch-{epoch}.seed", lambda: secrets.token_bytes(32),
        "clé de fédération")
    return HolderKey.from_seed(seed, cross_id, epoch)


@dataclass
class BlindedQuery:
    """The querier's secret state (the blinds) and what it sends (the blinded elements)."""

    _clients: list[ristretto.Client]
    blinded: list[bytes]

    def __len__(self) -> int:
        return len(self.blinded)


def blind(values: Sequence[bytes]) -> BlindedQuery:
    clients, blinded = [], []
    for value in values:
        client, element = ristretto.Client.blind(value)
        clients.append(client)
        blinded.append(bytes(element.serialize()))
    return BlindedQuery(clients, blinded)


def finalize(query: BlindedQuery, evaluated: bytes, public_key: bytes) -> list[bytes]:
    """The holder's outputs for the query's values, if and only if its proof verifies against
    ``public_key``; otherwise ``ProofFailed``."""
    try:
        key = ristretto.PublicKey.deserialize(public_key)
        output = ristretto.VerifiableBatchOutput.deserialize(evaluated)
        return [bytes(o) for o in ristretto.Client.finalize_batch(query._clients, output, key)]
    except (ValueError, TypeError) as exc:
        raise ProofFailed(str(exc)) from None
    except BaseException as exc:
        # voprf 0.2 panics (pyo3's PanicException, a BaseException) instead of raising when a
        # *batch* proof fails to verify; a panic is the library's way of saying the same thing.
        if type(exc).__name__ != "PanicException":
            raise
        raise ProofFailed("preuve DLEQ invalide") from None


def truncate(output: bytes, token_bytes: int) -> bytes:
    return output[:token_bytes]
