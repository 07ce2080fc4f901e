"""The federation's OPRF against RFC 9497's own test vectors, and its protocol properties.

Vectors: RFC 9497, Appendix A.1.2 (ristretto255-SHA512, mode VOPRF), https://www.rfc-editor.org/rfc/rfc9497#appendix-A.1.2
— Seed, KeyInfo, pkSm, Input and Output copied from the RFC.

What the ``voprf`` library lets us check against them: the public key derived from (Seed,
KeyInfo) — ``DeriveKeyPair`` — and the Output, both through the direct evaluation
(``Evaluate``) and through the whole online protocol (Blind → BlindEvaluate → Finalize). It
draws the blind and the proof's random scalar itself and does not expose skSm, so the vectors'
Blind, BlindedElement, EvaluationElement, Proof and ProofRandomScalar cannot be replayed; the
proof is checked instead by its behaviour: an evaluation under another key fails to finalize.
"""

from __future__ import annotations

import pytest
from voprf import ristretto

from hub.federation import oprf
from hub.federation.identifiers import federation_input, spelled_plate_input

SEED = bytes.fromhex("a3" * 32)
KEY_INFO = bytes.fromhex("74657374206b6579")  # "test key"
PK_SM = bytes.fromhex("c803e2cc6b05fc15064549b5920659ca4a77b2cca6f04f6b357009335476ad4e")
VECTORS = [  # (Input, Output) of A.1.2.1 and A.1.2.2
    (bytes.fromhex("00"), bytes.fromhex(
        "b58cfbe118e0cb94d79b5fd6a6dafb98764dff49c14e1770b566e42402da1a7d"
        "a4d8527693914139caee5bd03903af43a491351d23b430948dd50cde10d32b3c")),
    (bytes.fromhex("5a" * 17), bytes.fromhex(
        "8a9a2f3c7f085b65933594309041fc1898d42d0858e59f90814ae90571a6df60"
        "356f4610bf816f27afdd84f47719e480906d27ecd994985890e5f539e7ea74b6")),
]


def rfc_key() -> oprf.HolderKey:
    # DeriveKeyPair(Seed, KeyInfo) exactly as the RFC does (our own info string is bypassed).
    return oprf.HolderKey("rfc", 0, ristretto.Evaluator.from_seed(SEED, KEY_INFO))


def test_derived_public_key_is_the_rfcs():
    assert rfc_key().public_key == PK_SM


@pytest.mark.parametrize(("value", "output"), VECTORS)
def test_direct_evaluation_gives_the_rfcs_output(value, output):
    assert rfc_key().token(value) == output


def test_the_online_protocol_gives_the_rfcs_outputs_and_verifies_the_proof():
    key = rfc_key()
    query = oprf.blind([v for v, _ in VECTORS])
    outputs = oprf.finalize(query, key.evaluate_batch(query.blinded), PK_SM)
    assert outputs == [o for _, o in VECTORS]


def test_an_evaluation_under_another_key_fails_the_proof():
    impostor = oprf.HolderKey.from_seed(bytes(range(32)), "cross-39", 1)
    query = oprf.blind([v for v, _ in VECTORS])
    with pytest.raises(oprf.ProofFailed):
        oprf.finalize(query, impostor.evaluate_batch(query.blinded), PK_SM)


def test_blinding_is_fresh_per_query():
    # The holder sees a different element each time the same value is asked: it cannot link
    # two queries of one plate, let alone read it.
    a, b = oprf.blind([b"plate:FR:AB123CD"]), oprf.blind([b"plate:FR:AB123CD"])
    assert a.blinded[0] != b.blinded[0]
    assert b"AB123CD" not in a.blinded[0]


def test_each_holder_and_epoch_has_its_own_tokens(tmp_path):
    value = federation_input("plate", "AB-123-CD")
    k25 = oprf.epoch_key(tmp_path / "h25", "cross-25", 100)
    k39 = oprf.epoch_key(tmp_path / "h39", "cross-39", 100)
    k25_next = oprf.epoch_key(tmp_path / "h25", "cross-25", 101)
    assert len({k25.token(value), k39.token(value), k25_next.token(value)}) == 3
    # The same epoch's key is read back, not regenerated; the seed file is private.
    assert oprf.epoch_key(tmp_path / "h25", "cross-25", 100).token(value) == k25.token(value)
    assert (tmp_path / "h25" / "federation" / "epoch-100.seed").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(("kind", "spellings"), [
    ("plate", ["AB-123-CD", "ab 123 cd", "AB123CD", "ab.123.cd"]),
    ("phone", ["+33612345678", "06 12 34 56 78", "0612345678", "06.12.34.56.78"]),
])
def test_spellings_of_one_identifier_give_one_token(tmp_path, kind, spellings):
    key = oprf.epoch_key(tmp_path, "cross-25", 7)
    inputs = {spelled_plate_input(s) if kind == "plate" else federation_input(kind, s)
              for s in spellings}
    assert len(inputs) == 1
    query = oprf.blind(list(inputs) * 2)
    assert len(set(oprf.finalize(query, key.evaluate_batch(query.blinded), key.public_key))) == 1


def test_a_malformed_blinded_value_is_the_peers_fault():
    from hub.contract.errors import InvalidInput

    with pytest.raises(InvalidInput) as exc:
        rfc_key().evaluate_batch([b"\x01" * 31])
    assert exc.value.details[0]["field"] == "blinded[0]"
