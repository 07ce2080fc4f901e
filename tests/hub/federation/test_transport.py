"""The federation PKI (hub/federation/pki.py), directory (directory.py) and a hub's check of an
antenna-signed request (transport.verify_from_antenna) — in-process, no server.

Rules: private keys 0600 and refused when readable by others; leaf certificates usable as TLS
server and client for loopback (SAN 127.0.0.1 and localhost, both EKUs) and issued by the CA; a
hub admits a peer-facing request only when the *antenna's* key signed it and it names exactly one
member other than itself in X-Crosshub-Peer.
"""

from __future__ import annotations

import ipaddress
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID
from starlette.datastructures import Headers

from hub.contract.errors import ConfigurationError, NotAuthenticated
from hub.contract.signing import load_private_key, sign_request
from hub.federation.directory import load_directory, set_url
from hub.federation.pki import PartyFiles, make_dev_pki
from hub.federation.transport import antenna_client, verify_from_antenna

MEMBERS = ["cross-25", "cross-39", "cross-70"]
PATH = "/federation/v1/evaluate"
BODY = b'{"epoch":1,"blinded":["AAAA"]}'


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("fedpki") / "pki"
    make_dev_pki(d, MEMBERS, "antenna-est", urls={"antenna-est": "https://127.0.0.1:9443"})
    return d


def test_the_dev_pki_writes_every_party_with_private_keys_0600(pki):
    assert stat.S_IMODE(pki.stat().st_mode) == 0o700
    ca = x509.load_pem_x509_certificate((pki / "ca.pem").read_bytes())
    for name in [*MEMBERS, "antenna-est"]:
        files = PartyFiles.of(pki, name).check()
        for private in (files.key, files.signing_key, pki / "ca.key"):
            assert stat.S_IMODE(private.stat().st_mode) == 0o600, private
        cert = x509.load_pem_x509_certificate(files.cert.read_bytes())
        cert.verify_directly_issued_by(ca)
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert san.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]
        assert san.get_values_for_type(x509.DNSName) == ["localhost"]
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        assert set(eku) == {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH}
    directory = load_directory(pki / "directory.json")
    assert sorted(directory.members) == MEMBERS and directory.antenna == "antenna-est"
    # Each member's listed key is the public half of its own signing key.
    for name in MEMBERS:
        own = load_private_key(PartyFiles.of(pki, name).signing_key).public_key()
        assert directory.member_of_key_id(directory.members[name].key_id()) == name
        assert directory.members[name].key().public_bytes_raw() == own.public_bytes_raw()


def test_a_pki_is_never_overwritten_and_a_loose_key_is_refused(tmp_path, pki):
    with pytest.raises(ConfigurationError):
        make_dev_pki(pki, ["cross-25"], "antenna-est")
    d = tmp_path / "loose"
    make_dev_pki(d, ["cross-25"], "antenna-est")
    (d / "cross-25.key").chmod(0o644)
    with pytest.raises(ConfigurationError, match="0600"):
        PartyFiles.of(d, "cross-25").check()


def test_a_url_is_set_in_the_directory_and_the_antenna_client_uses_it(tmp_path):
    d = tmp_path / "pki"
    make_dev_pki(d, ["cross-25"], "antenna-est")
    with pytest.raises(ConfigurationError, match="adresse de l'antenne"):
        antenna_client(d, "cross-25")
    set_url(d / "directory.json", "antenna-est", "https://127.0.0.1:9555")
    set_url(d / "directory.json", "cross-25", "https://localhost:9556")
    with pytest.raises(ConfigurationError):
        set_url(d / "directory.json", "cross-99", "https://127.0.0.1:1")
    directory = load_directory(d / "directory.json")
    assert directory.members["cross-25"].url == "https://localhost:9556"
    with antenna_client(d, "cross-25") as client:
        assert str(client.base_url).rstrip("/") == "https://127.0.0.1:9555"


def _signed(pki: Path, signer: str, peers: list[str], signed_for: str | None = None) -> Headers:
    """Headers of a request signed by ``signer`` as the antenna signs its forwards: the peer it
    names is bound into the signature (``signed_for``, by default the first peer header)."""
    from hub.federation.transport import signed_path

    key = load_private_key(PartyFiles.of(pki, signer).signing_key)
    bound = signed_for if signed_for is not None else (peers[0] if peers else None)
    raw = [(k.lower().encode(), v.encode())
           for k, v in sign_request(key, "POST", signed_path(PATH, bound), BODY).items()]
    raw += [(b"x-crosshub-peer", p.encode()) for p in peers]
    return Headers(raw=raw)


def test_a_hub_admits_only_an_antenna_signed_request_naming_one_other_member(pki):
    directory = load_directory(pki / "directory.json")
    call = verify_from_antenna(directory, _signed(pki, "antenna-est", ["cross-39"]), "POST", PATH,
                               BODY, own_id="cross-25")
    assert call.peer == "cross-39"
    refused = {
        "signed by a member, not the antenna": (_signed(pki, "cross-39", ["cross-39"]), BODY),
        "no peer": (_signed(pki, "antenna-est", []), BODY),
        "two peers": (_signed(pki, "antenna-est", ["cross-39", "cross-70"]), BODY),
        "a stranger as peer": (_signed(pki, "antenna-est", ["cross-99"]), BODY),
        "itself as peer": (_signed(pki, "antenna-est", ["cross-25"]), BODY),
        "body changed": (_signed(pki, "antenna-est", ["cross-39"]), BODY + b" "),
        # The antenna signed a forward for Jura; the header was changed on the way to Haute-Saône.
        "peer header changed": (_signed(pki, "antenna-est", ["cross-70"], signed_for="cross-39"),
                                BODY),
        "peer not bound in the signature": (_signed(pki, "antenna-est", ["cross-39"], signed_for=""),
                                            BODY),
    }
    for case, (headers, body) in refused.items():
        with pytest.raises(NotAuthenticated):
            verify_from_antenna(directory, headers, "POST", PATH, body, own_id="cross-25")
            pytest.fail(case)


def test_crosshub_federation_pki_makes_the_files_and_never_overwrites(tmp_path):
    from typer.testing import CliRunner

    from hub.cli import app

    d = tmp_path / "pki"
    args = ["federation", "pki", "--dir", str(d), "--member", "cross-25", "--member", "cross-39",
            "--url", "antenna-est=https://127.0.0.1:9443"]
    made = CliRunner().invoke(app, args)
    assert made.exit_code == 0, made.output
    for name in ("ca.pem", "cross-25.pem", "cross-25.key", "cross-39.sign.pem",
                 "antenna-est.key", "directory.json"):
        assert (d / name).is_file(), name
    assert load_directory(d / "directory.json").antenna_party.url == "https://127.0.0.1:9443"
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 2 and "refus d'écraser" in " ".join(again.output.split())
