"""The federation's public-key infrastructure: a CA, TLS certificates for hubs and the antenna,
and each party's Ed25519 request-signing key.

Owns:

* ``make_ca`` / ``issue_certificate`` — an ECDSA P-256 CA and leaf certificates (SAN IP and DNS,
  serverAuth + clientAuth: the same certificate serves a party's listener and its client, so
  every leg of the federation is mutual TLS);
* ``make_dev_pki`` — a whole development federation in one directory: ``ca.pem`` (and
  ``ca.key``), ``<name>.pem`` / ``<name>.key`` (TLS), ``<name>.sign.pem`` (Ed25519 request
  signing, hub/contract/signing.py) for every member and the antenna, and ``directory.json``
  (hub/federation/directory.py) listing their public signing keys and URLs;
* ``PartyFiles`` — where one party's files are in such a directory.

Private keys are written 0600 from their first byte (hub/keyfiles.py) and never overwritten.
P-256 rather than Ed25519 certificates: every TLS stack (Python's ssl, browsers for the roll-up
page) accepts them.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from hub.contract.errors import ConfigurationError
from hub.contract.signing import generate_keypair
from hub.federation.directory import Directory, Party, save_directory
from hub.keyfiles import check_private_mode, create_exclusive, ensure_private_dir

CA_CERT = "ca.pem"
CA_KEY = "ca.key"
DIRECTORY_FILE = "directory.json"
DEFAULT_MEMBERS = ("cross-25", "cross-39", "cross-70")
DEFAULT_ANTENNA = "antenna-est"
DEFAULT_HOSTS = ("127.0.0.1", "localhost")
CA_DAYS = 3650
LEAF_DAYS = 825  # the longest validity TLS clients commonly accept for a leaf


@dataclass(frozen=True)
class PartyFiles:
    """One party's files in a PKI directory (``make_dev_pki`` layout)."""

    ca: Path
    cert: Path
    key: Path
    signing_key: Path
    directory: Path

    @classmethod
    def of(cls, pki_dir: str | Path, name: str) -> PartyFiles:
        d = Path(pki_dir)
        return cls(ca=d / CA_CERT, cert=d / f"{name}.pem", key=d / f"{name}.key",
                   signing_key=d / f"{name}.sign.pem", directory=d / DIRECTORY_FILE)

    def check(self) -> PartyFiles:
        """Raise ``ConfigurationError`` (French, naming the file) if one is missing or a private
        key is readable by others."""
        for path in (self.ca, self.cert, self.key, self.signing_key, self.directory):
            if not path.is_file():
                raise ConfigurationError(f"fichier de fédération introuvable : {path} "
                                         "(créez-le avec « crosshub federation pki »)")
        check_private_mode(self.key, "clé TLS de fédération")
        check_private_mode(self.signing_key, "clé de signature de fédération")
        return self


def _write_private_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    if not create_exclusive(path, pem, 0o600):
        raise ConfigurationError(f"la clé {path} existe déjà : refus de l'écraser")


def _write_public(path: Path, data: bytes) -> None:
    if not create_exclusive(path, data, 0o644):
        raise ConfigurationError(f"le fichier {path} existe déjà : refus de l'écraser")


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "CROSS Hub fédération"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_ca(directory: Path, common_name: str = "CROSS Hub federation CA") -> None:
    """Write ``ca.key`` (0600) and ``ca.pem`` in ``directory``."""
    ensure_private_dir(directory)
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder()
            .subject_name(_name(common_name)).issuer_name(_name(common_name))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=CA_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=False, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .sign(key, hashes.SHA256()))
    _write_private_key(directory / CA_KEY, key)
    _write_public(directory / CA_CERT, cert.public_bytes(serialization.Encoding.PEM))


def _load_ca(directory: Path) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    check_private_mode(directory / CA_KEY, "clé de l'autorité de fédération")
    key = serialization.load_pem_private_key((directory / CA_KEY).read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ConfigurationError(f"{directory / CA_KEY} : clé ECDSA attendue")
    return key, x509.load_pem_x509_certificate((directory / CA_CERT).read_bytes())


def _san(hosts: tuple[str, ...]) -> x509.SubjectAlternativeName:
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return x509.SubjectAlternativeName(names)


def issue_certificate(directory: Path, name: str,
                      hosts: tuple[str, ...] = DEFAULT_HOSTS) -> PartyFiles:
    """Write ``<name>.key`` (0600) and ``<name>.pem``, signed by the CA of ``directory``, valid for
    ``hosts`` (IP addresses or DNS names) as a server and as a client."""
    ca_key, ca_cert = _load_ca(directory)
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder()
            .subject_name(_name(name)).issuer_name(ca_cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=LEAF_DAYS))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=True, key_cert_sign=False, crl_sign=False,
                encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH,
                                                  ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .add_extension(_san(hosts), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    files = PartyFiles.of(directory, name)
    _write_private_key(files.key, key)
    _write_public(files.cert, cert.public_bytes(serialization.Encoding.PEM))
    return files


def make_dev_pki(directory: str | Path, members: list[str] | tuple[str, ...] = DEFAULT_MEMBERS,
                 antenna: str = DEFAULT_ANTENNA, *, urls: dict[str, str] | None = None,
                 hosts: tuple[str, ...] = DEFAULT_HOSTS) -> Directory:
    """A development federation in ``directory`` (created 0700; refuses to overwrite a file):
    the CA, each member's and the antenna's TLS certificate and Ed25519 signing key, and
    ``directory.json`` with their public signing keys and ``urls`` (name → ``https://host:port``;
    a party without one gets no URL until ``hub.federation.directory.set_url``)."""
    d = Path(directory)
    names = [*members, antenna]
    if len(set(names)) != len(names):
        raise ConfigurationError("noms de membres en double (ou égal à celui de l'antenne)")
    make_ca(d)
    parties: dict[str, Party] = {}
    for name in names:
        files = issue_certificate(d, name, hosts)
        public_pem = generate_keypair(files.signing_key)
        parties[name] = Party(url=(urls or {}).get(name), public_key=public_pem)
    result = Directory(antenna=antenna, antenna_party=parties.pop(antenna), members=parties)
    save_directory(d / DIRECTORY_FILE, result)
    return result
