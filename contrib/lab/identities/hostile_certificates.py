"""The hostile certificates of the lab: what the scenario table cannot describe, issued with the
lab's keys and CAs on demand (:class:`HostilePKI`, :func:`issue`): a chain of 50 certificates, a
1 MiB certificate, IDN, homograph and IP-address CNs, an empty SAN extension, an unknown critical
extension, and names holding HTML (:data:`MARKUP_CN`, :data:`MARKUP_SANS`).
"""

from __future__ import annotations

import datetime as dt

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID, NameOID

from ..network.tls import Chain
from .pki import ORG, LabPKI

DOMAIN = "contoso.test"
LONG_CHAIN = 50
"""Certificates served by the ``long-chain`` node: leaf, 48 intermediates and the root."""
HUGE_EXTENSION = 1024 * 1024
"""Bytes of filler in the ``huge-cert`` certificate (an unknown, non-critical extension)."""
_PRIVATE_OID = x509.ObjectIdentifier("1.3.6.1.4.1.55555.1.1")
IP_CN = "127.0.60.12"
"""The ``ip-cn`` node's address, which is also its certificate's CN."""
HOMOGRAPH = "m\u0430il.contoso.test"
"""``mail.contoso.test`` with a Cyrillic a: looks the same, is another name."""
BEACON = "http://127.0.0.9:9999"
"""Where the markup of the ``markup`` certificate and web answer points: a browser that renders
it as HTML asks this address (a loopback one, where a test may listen)."""
MARKUP_CN = f'<img src="{BEACON}/b.png">'
MARKUP_SANS = (f'<a href="{BEACON}/renew">renew</a>', "a&amp;b.contoso.test", "<b>bold</b>")
"""The ``markup`` certificate's names: an image, a link, an entity and bold text."""


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORG),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


class HostilePKI:
    """Issues the odd certificates with the lab's keys, in ``<workdir>/hostile``."""

    def __init__(self, pki: LabPKI) -> None:
        assert pki.root is not None and pki.issuing is not None, "start the lab first"
        self.pki = pki
        self.dir = pki.workdir / "hostile"
        self.key = pki.keys["leaf"]
        self.now = pki.now

    def _days(self, days: float) -> dt.datetime:
        return self.now + dt.timedelta(days=days)

    def _builder(self, subject: x509.Name, issuer: x509.Name, public: rsa.RSAPublicKey) -> object:
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(self._days(-30))
            .not_valid_after(self._days(300))
        )

    def leaf(
        self,
        ident: str,
        cn: str,
        sans: list[x509.GeneralName] | None = None,
        extra: list[tuple[x509.ExtensionType, bool]] = (),  # type: ignore[assignment]
        issuer: tuple[x509.Certificate, rsa.RSAPrivateKey] | None = None,
        above: tuple[x509.Certificate, ...] | None = None,
    ) -> Chain:
        """A leaf for ``cn``; ``sans`` None means a SAN with the CN as its one DNS name."""
        issuer_cert, issuer_key = issuer or (self.pki.issuing, self.pki.keys["issuing"])
        assert issuer_cert is not None
        builder = (
            self._builder(_name(cn), issuer_cert.subject, self.key.public_key())  # type: ignore[attr-defined]
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        )
        if sans is None:
            sans = [x509.DNSName(cn)]
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        for ext, critical in extra:
            builder = builder.add_extension(ext, critical=critical)
        leaf = builder.sign(issuer_key, hashes.SHA256())
        return self._write(ident, (leaf, *(above if above is not None else (issuer_cert,))))

    def long_chain(self, ident: str, cn: str, length: int = LONG_CHAIN) -> Chain:
        """Root -> ``length - 2`` intermediates -> leaf, all served (root included)."""
        root, root_key = self.pki.root, self.pki.keys["root"]
        assert root is not None
        key = self.pki.keys["issuing"]  # one key for every intermediate; only names differ
        issuer, issuer_key = root, root_key
        served: list[x509.Certificate] = [root]
        for depth in range(1, length - 1):
            ca = (
                self._builder(
                    _name(f"Contoso Lab Intermediate {depth:02d}"), issuer.subject, key.public_key()
                )  # type: ignore[attr-defined]
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .sign(issuer_key, hashes.SHA256())
            )
            served.insert(0, ca)
            issuer, issuer_key = ca, key
        return self.leaf(ident, cn, issuer=(issuer, issuer_key), above=tuple(served))

    def _write(self, ident: str, certs: tuple[x509.Certificate, ...]) -> Chain:
        self.dir.mkdir(parents=True, exist_ok=True)
        path = self.dir / f"{ident}.pem"
        path.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs))
        return Chain(ident, certs, path, self.pki.key_files["leaf"])


def host_name(name: str) -> str:
    """``<name>.contoso.test``, a hostile host name."""
    return f"{name}.{DOMAIN}"


def issue(pki: LabPKI) -> dict[str, Chain]:
    """Every hostile certificate, by id."""
    h = HostilePKI(pki)
    idn = "mäil.contoso.test"
    idn_ascii = idn.encode("idna").decode()
    empty_san = x509.UnrecognizedExtension(ExtensionOID.SUBJECT_ALTERNATIVE_NAME, b"\x30\x00")
    return {
        "hostile": h.leaf("hostile", host_name("hostile")),
        "long-chain": h.long_chain("long-chain", host_name("long-chain")),
        "huge-cert": h.leaf(
            "huge-cert",
            host_name("huge-cert"),
            extra=[(x509.UnrecognizedExtension(_PRIVATE_OID, _octets(HUGE_EXTENSION)), False)],
        ),
        # The CN in Unicode (UTF8String), the SAN in its IDNA form, as a CA issues them.
        "idn-unicode": h.leaf("idn-unicode", idn, sans=[x509.DNSName(idn_ascii)]),
        "idn-punycode": h.leaf("idn-punycode", idn_ascii),
        "idn-homograph": h.leaf(
            "idn-homograph", HOMOGRAPH, sans=[x509.DNSName(HOMOGRAPH.encode("idna").decode())]
        ),
        "ip-cn": h.leaf("ip-cn", IP_CN, sans=[]),
        "empty-san": h.leaf(
            "empty-san", host_name("empty-san"), sans=[], extra=[(empty_san, False)]
        ),
        "markup": h.leaf("markup", MARKUP_CN, sans=[x509.DNSName(name) for name in MARKUP_SANS]),
        "critical-ext": h.leaf(
            "critical-ext",
            host_name("critical-ext"),
            extra=[(x509.UnrecognizedExtension(_PRIVATE_OID, b"\x05\x00"), True)],
        ),
    }


def _octets(size: int) -> bytes:
    """A DER OCTET STRING of ``size`` bytes."""
    raw = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return b"\x04" + bytes([0x80 | len(raw)]) + raw + b"\x00" * size
