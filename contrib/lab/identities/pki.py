"""Test PKI of the lab: two roots, two issuing CAs and one leaf per scenario.

Keys are slow to make, so they are generated once and cached as PEM files in the work
directory.  Certificates are cheap and are re-issued at every start relative to "now", so the
days left on a leaf are always what the scenario table says.

Layout of the work directory::

    keys/{root,rogue,issuing,leaf,weak,rev}.key.pem   cached private keys (0600)
    keys/{ec,ed25519,dsa}.key.pem                  the same for the other key types
    certs/<id>.pem                                 served chain of leaf <id> (leaf first)
    ca.pem                                         the lab root (the one trust anchor)
    rogue-ca.pem                                   the unrelated, untrusted root
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import os
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, padding, rsa
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

from ..network.tls import Chain

ROOT_CN = "Contoso Lab Root CA"
ISSUING_CN = "Contoso Lab Issuing CA"
ISSUING_EXPIRED_CN = "Contoso Lab Issuing CA 2017"
NOT_CA_CN = "web01.contoso.test"
"""Subject of the ``not-ca`` issuer: a server certificate (CA:FALSE) that signed a leaf."""
DSA_CN = "Contoso Lab DSA CA"
"""An issuing CA with a 1024-bit DSA key (``dsa`` issuer): too short for OpenSSL's default."""
REV_CN = "Contoso Lab Revocation CA"
"""The issuing CA of the ``rev-`` scenarios: CRL distribution point and OCSP URL of its own
(its issuer's CRL and OCSP responder on the lab's PKI site)."""
REV_REVOKED_CN = "Contoso Lab Revoked CA"
"""An issuing CA that the root's CRL lists as revoked."""
OCSP_RESPONDER_CN = "Contoso Lab Revocation CA OCSP Responder"
"""The responder certificate the Revocation CA delegated OCSP signing to."""
ROGUE_CN = "Rogue Root CA"
ORG = "Contoso Lab"
ROGUE_ORG = "Rogue"

Issuer = Literal[
    "issuing", "issuing-expired", "rogue", "self", "not-ca", "dsa", "rev", "rev-revoked"
]
Serve = Literal["issuer", "leaf", "full"]
KeyName = Literal["shared", "weak", "ec", "ed25519"]
Purpose = Literal["server", "client"]
Signature = Literal["good", "bad"]
HashName = Literal["sha256", "sha384", "sha512", "sha1"]

_KEY_SIZES = {
    "root": 2048,
    "rogue": 2048,
    "issuing": 2048,
    "leaf": 2048,
    "weak": 1024,
    "rev": 2048,
}
# Keys of the other types (cached like the RSA ones): a P-256 and an Ed25519 leaf key, and the
# 1024-bit DSA key of the DSA issuing CA.
_OTHER_KEYS = {
    "ec": lambda: ec.generate_private_key(ec.SECP256R1()),
    "ed25519": ed25519.Ed25519PrivateKey.generate,
    "dsa": lambda: _deliberately_weak(lambda: dsa.generate_private_key(1024)),
}


def _deliberately_weak(make: Callable[[], Any]) -> Any:
    """``make()`` without the deprecation warning that cryptography 51 gives for DSA.

    The DSA issuing CA is a real input (a 1024-bit DSA key the plugin must report as weak), so
    the lab keeps making and loading it; the warning would only fill the lab's stderr, which
    its tests hold empty.  Exactly that category is silenced, at this one call.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        return make()


@dataclass(frozen=True)
class CertSpec:
    """What one leaf certificate looks like.

    ``cn`` lists the subject's common names in encoded order (empty: no CN).  Validity is
    given in days relative to the moment the lab starts.  ``serve`` is what a TLS node sends:
    ``issuer`` = leaf + its issuing certificate (the normal case), ``leaf`` = the leaf alone,
    ``full`` = leaf + issuing CA + root.  ``not-ca`` and ``dsa`` issuers are served with the
    issuing CA above them (``not-ca``) or alone (``dsa``, issued by the root).  ``purpose``
    ``client``: the extended key usage says TLS client only.  ``signature`` ``bad``: the leaf's
    signature has one byte changed, so it no longer verifies.  ``cdp``, ``ocsp`` and
    ``ca_issuers`` are the URLs of the CRL distribution points and the Authority Information
    Access (``{pki}`` stands for the lab's PKI site, ``{down}`` for a name where nothing
    listens); ``serial`` a fixed serial number instead of a random one.
    """

    id: str
    cn: tuple[str, ...]
    san: tuple[str, ...] = ()
    valid_from: float = -30.0
    valid_to: float = 300.0
    issuer: Issuer = "issuing"
    serve: Serve = "issuer"
    key: KeyName = "shared"
    hash: HashName = "sha256"
    email: str | None = None
    purpose: Purpose = "server"
    signature: Signature = "good"
    cdp: tuple[str, ...] = ()
    ocsp: tuple[str, ...] = ()
    ca_issuers: tuple[str, ...] = ()
    serial: int | None = None


def _atomic_write(path: Path, data: bytes, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _name(cn: str, org: str = ORG) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


_SHA256_RSA = bytes.fromhex("06092a864886f70d01010b0500")
_SHA1_RSA = bytes.fromhex("06092a864886f70d0101050500")


def _der_len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _der(tag: int, body: bytes) -> bytes:
    return bytes([tag]) + _der_len(len(body)) + body


def _resign_sha1(cert: x509.Certificate, key: rsa.RSAPrivateKey) -> x509.Certificate:
    """The same certificate signed with sha1WithRSAEncryption.

    cryptography no longer signs certificates with SHA-1, but it still makes raw PKCS#1 v1.5
    SHA-1 signatures: swap the algorithm identifier in the TBS (same length) and re-sign it.
    """
    tbs = cert.tbs_certificate_bytes
    if tbs.count(_SHA256_RSA) != 1:
        raise ValueError("cannot locate the signature algorithm in the TBS certificate")
    tbs = tbs.replace(_SHA256_RSA, _SHA1_RSA)
    signature = key.sign(tbs, padding.PKCS1v15(), hashes.SHA1())
    algorithm = _der(0x30, _SHA1_RSA)
    der = _der(0x30, tbs + algorithm + _der(0x03, b"\x00" + signature))
    return x509.load_der_x509_certificate(der)


def _load_key(pem: bytes) -> object:
    # The keys are the lab's own: skip OpenSSL's slow RSA consistency check where possible.
    try:
        return serialization.load_pem_private_key(pem, None, unsafe_skip_rsa_key_validation=True)
    except TypeError:  # cryptography < 39
        return serialization.load_pem_private_key(pem, None)


class LabPKI:
    """Keys (cached) and certificates (issued by :meth:`issue_all`) of the lab."""

    def __init__(self, workdir: str | os.PathLike[str]) -> None:
        self.workdir = Path(workdir)
        self.keys: dict[str, rsa.RSAPrivateKey] = {}
        self.other_keys: dict[str, object] = {}  # ec, ed25519, dsa
        self.key_files: dict[str, Path] = {}
        self.root: x509.Certificate | None = None
        self.issuing: x509.Certificate | None = None
        self.issuing_expired: x509.Certificate | None = None
        self.rogue: x509.Certificate | None = None
        self.not_ca: x509.Certificate | None = None
        self.dsa_ca: x509.Certificate | None = None
        self.rev_ca: x509.Certificate | None = None
        self.rev_revoked_ca: x509.Certificate | None = None
        self.ocsp_responder: x509.Certificate | None = None
        # The URL bases the ``rev-`` certificates point at (empty until the PKI site is bound).
        self.urls: dict[str, str] = {}
        self.chains: dict[str, Chain] = {}
        self.now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)

    @property
    def ca_file(self) -> Path:
        return self.workdir / "ca.pem"

    @property
    def rogue_ca_file(self) -> Path:
        return self.workdir / "rogue-ca.pem"

    # -- keys -------------------------------------------------------------------------------

    def load_keys(self) -> None:
        """Load the cached keys, generating (and caching) the missing ones."""
        keydir = self.workdir / "keys"
        keydir.mkdir(parents=True, exist_ok=True)
        for name, bits in _KEY_SIZES.items():
            path = keydir / f"{name}.key.pem"
            key: rsa.RSAPrivateKey | None = None
            if path.exists():
                try:
                    loaded = _load_key(path.read_bytes())
                except ValueError:
                    loaded = None
                if isinstance(loaded, rsa.RSAPrivateKey) and loaded.key_size == bits:
                    key = loaded
            if key is None:
                key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
                pem = key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
                _atomic_write(path, pem, 0o600)
            self.keys[name] = key
            self.key_files[name] = path
        for name, generate in _OTHER_KEYS.items():
            path = keydir / f"{name}.key.pem"
            other: object = None
            if path.exists():
                with contextlib.suppress(ValueError):
                    pem = path.read_bytes()
                    other = _deliberately_weak(
                        functools.partial(serialization.load_pem_private_key, pem, None)
                    )
            if other is None:
                other = generate()
                pem = other.private_bytes(  # type: ignore[attr-defined]
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
                _atomic_write(path, pem, 0o600)
            self.other_keys[name] = other
            self.key_files[name] = path

    # -- certificates -----------------------------------------------------------------------

    def _days(self, days: float) -> dt.datetime:
        return self.now + dt.timedelta(days=days)

    def _ca(
        self,
        cn: str,
        key: rsa.RSAPrivateKey,
        issuer: x509.Certificate | None,
        issuer_key: rsa.RSAPrivateKey,
        valid_from: float,
        valid_to: float,
        path_length: int | None,
    ) -> x509.Certificate:
        subject = _name(cn, ROGUE_ORG if cn == ROGUE_CN else ORG)
        ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer.subject if issuer is not None else subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(self._days(valid_from))
            .not_valid_after(self._days(valid_to))
            .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(ski, critical=False)
        )
        if issuer is not None:
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
                critical=False,
            )
        return builder.sign(issuer_key, hashes.SHA256())

    def issue_cas(self) -> None:
        k = self.keys
        self.root = self._ca(ROOT_CN, k["root"], None, k["root"], -3650, 3650, None)
        self.rogue = self._ca(ROGUE_CN, k["rogue"], None, k["rogue"], -3650, 3650, None)
        self.issuing = self._ca(ISSUING_CN, k["issuing"], self.root, k["root"], -1825, 1825, 0)
        # An issuing CA that expired; it shares the issuing key (only its name differs).
        self.issuing_expired = self._ca(
            ISSUING_EXPIRED_CN, k["issuing"], self.root, k["root"], -2920, -365, 0
        )
        # A server certificate (CA:FALSE, no keyCertSign) that was used to sign a leaf anyway.
        self.not_ca = (
            x509.CertificateBuilder()
            .subject_name(_name(NOT_CA_CN))
            .issuer_name(self.issuing.subject)
            .public_key(k["leaf"].public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(self._days(-30))
            .not_valid_after(self._days(300))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(k["issuing"], hashes.SHA256())
        )
        dsa_key = self.other_keys["dsa"]
        self.dsa_ca = self._ca(
            DSA_CN,
            dsa_key,
            self.root,
            k["root"],
            -365,
            1825,
            0,  # type: ignore[arg-type]
        )
        if self.urls:
            self._issue_revocation_cas()
        _atomic_write(self.ca_file, _pem(self.root))
        _atomic_write(self.rogue_ca_file, _pem(self.rogue))

    def url(self, template: str) -> str:
        return template.format(**self.urls)

    def _revocation_access(
        self,
        builder: x509.CertificateBuilder,
        cdp: tuple[str, ...],
        ocsp: tuple[str, ...],
        ca_issuers: tuple[str, ...] = (),
    ) -> x509.CertificateBuilder:
        if cdp:
            points = [
                x509.DistributionPoint(
                    [x509.UniformResourceIdentifier(self.url(u))], None, None, None
                )
                for u in cdp
            ]
            builder = builder.add_extension(x509.CRLDistributionPoints(points), critical=False)
        access = [
            x509.AccessDescription(
                AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(self.url(u))
            )
            for u in ocsp
        ] + [
            x509.AccessDescription(
                AuthorityInformationAccessOID.CA_ISSUERS,
                x509.UniformResourceIdentifier(self.url(u)),
            )
            for u in ca_issuers
        ]
        if access:
            builder = builder.add_extension(x509.AuthorityInformationAccess(access), critical=False)
        return builder

    def _issue_revocation_cas(self) -> None:
        """The Revocation CA and the Revoked CA (issued by the root, each pointing at the root's
        CRL and OCSP responder), and the Revocation CA's delegated OCSP responder."""
        assert self.root is not None
        k = self.keys
        cas = []
        for cn in (REV_CN, REV_REVOKED_CN):
            builder = (
                x509.CertificateBuilder()
                .subject_name(_name(cn))
                .issuer_name(self.root.subject)
                .public_key(k["rev"].public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(self._days(-365))
                .not_valid_after(self._days(1825))
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .add_extension(
                    x509.KeyUsage(
                        digital_signature=True,
                        content_commitment=False,
                        key_encipherment=False,
                        data_encipherment=False,
                        key_agreement=False,
                        key_cert_sign=True,
                        crl_sign=True,
                        encipher_only=False,
                        decipher_only=False,
                    ),
                    critical=True,
                )
                .add_extension(
                    x509.SubjectKeyIdentifier.from_public_key(k["rev"].public_key()),
                    critical=False,
                )
                .add_extension(
                    x509.AuthorityKeyIdentifier.from_issuer_public_key(k["root"].public_key()),
                    critical=False,
                )
            )
            builder = self._revocation_access(builder, ("{pki}/root.crl",), ("{pki}/ocsp/root",))
            cas.append(builder.sign(k["root"], hashes.SHA256()))
        self.rev_ca, self.rev_revoked_ca = cas
        self.ocsp_responder = (
            x509.CertificateBuilder()
            .subject_name(_name(OCSP_RESPONDER_CN))
            .issuer_name(self.rev_ca.subject)
            .public_key(k["leaf"].public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(self._days(-30))
            .not_valid_after(self._days(300))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING]), critical=False
            )
            .sign(k["rev"], hashes.SHA256())
        )

    def issue(self, spec: CertSpec) -> Chain:
        """Issue the leaf described by ``spec`` and write its served chain file."""
        assert self.root and self.issuing and self.issuing_expired and self.rogue
        key_name = {"weak": "weak", "ec": "ec", "ed25519": "ed25519"}.get(spec.key, "leaf")
        leaf_key: Any = self.other_keys.get(key_name) or self.keys[key_name]
        key_file = self.key_files[key_name]
        attrs = [x509.NameAttribute(NameOID.COMMON_NAME, cn) for cn in spec.cn]
        if spec.email:
            attrs.insert(0, x509.NameAttribute(NameOID.EMAIL_ADDRESS, spec.email))
        if attrs:
            attrs.insert(0, x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORG))
        subject = x509.Name(attrs)

        issuer_cert: x509.Certificate | None
        issuer_key: Any
        above: tuple[x509.Certificate, ...] = ()  # served after the issuer
        if spec.issuer == "not-ca":
            assert self.not_ca is not None
            issuer_cert, issuer_key, above = self.not_ca, self.keys["leaf"], (self.issuing,)
        elif spec.issuer == "dsa":
            issuer_cert, issuer_key = self.dsa_ca, self.other_keys["dsa"]
        elif spec.issuer == "issuing":
            issuer_cert, issuer_key = self.issuing, self.keys["issuing"]
        elif spec.issuer == "issuing-expired":
            issuer_cert, issuer_key = self.issuing_expired, self.keys["issuing"]
        elif spec.issuer == "rogue":
            issuer_cert, issuer_key = self.rogue, self.keys["rogue"]
        elif spec.issuer == "rev":
            issuer_cert, issuer_key = self.rev_ca, self.keys["rev"]
        elif spec.issuer == "rev-revoked":
            issuer_cert, issuer_key = self.rev_revoked_ca, self.keys["rev"]
        else:
            issuer_cert, issuer_key = None, leaf_key

        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer_cert.subject if issuer_cert is not None else subject)
            .public_key(leaf_key.public_key())
            .serial_number(spec.serial if spec.serial is not None else x509.random_serial_number())
            .not_valid_before(self._days(spec.valid_from))
            .not_valid_after(self._days(spec.valid_to))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=True,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.ExtendedKeyUsage(
                    [
                        ExtendedKeyUsageOID.SERVER_AUTH
                        if spec.purpose == "server"
                        else ExtendedKeyUsageOID.CLIENT_AUTH
                    ]
                ),
                critical=False,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(leaf_key.public_key()), critical=False
            )
        )
        if spec.san:
            # RFC 5280: with an empty subject the SAN extension is critical.
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.DNSName(n) for n in spec.san]),
                critical=not attrs,
            )
        if issuer_cert is not None:
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
                critical=False,
            )
        builder = self._revocation_access(builder, spec.cdp, spec.ocsp, spec.ca_issuers)
        signing = {"sha384": hashes.SHA384(), "sha512": hashes.SHA512()}.get(spec.hash)
        leaf = builder.sign(issuer_key, signing or hashes.SHA256())
        if spec.hash == "sha1":
            leaf = _resign_sha1(leaf, issuer_key)
        if spec.signature == "bad":
            der = bytearray(leaf.public_bytes(serialization.Encoding.DER))
            der[-1] ^= 0x01  # the last byte of the signature value
            leaf = x509.load_der_x509_certificate(bytes(der))

        certs = [leaf]
        if issuer_cert is not None and spec.serve in ("issuer", "full"):
            certs.append(issuer_cert)
            certs.extend(above)
            if spec.serve == "full" and spec.issuer in ("issuing", "issuing-expired", "rev"):
                certs.append(self.root)
        cert_file = self.workdir / "certs" / f"{spec.id}.pem"
        _atomic_write(cert_file, b"".join(_pem(c) for c in certs))
        chain = Chain(spec.id, tuple(certs), cert_file, key_file)
        self.chains[spec.id] = chain
        return chain

    def issue_all(self, specs: list[CertSpec] | tuple[CertSpec, ...]) -> dict[str, Chain]:
        self.issue_cas()
        for spec in specs:
            self.issue(spec)
        return self.chains
