"""What ``--revocation`` reads out of a certificate, a CRL and an OCSP response, in-process
(``probes.revocation_answers`` does no I/O): only URLs count as sources, a CRL or OCSP answer
counts only when the issuer (or a responder it delegated to, for that purpose) signed it, and an
OCSP answer only when it is about this very certificate.  Real certificates, CRLs and OCSP
responses, made here with ``cryptography``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, x25519
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

from outlook_anywhere.facts import revocation as r
from outlook_anywhere.probes.revocation_answers import MAX_URLS, read_crl, read_ocsp, urls

NOW = dt.datetime.now(dt.timezone.utc)
URL = "http://pki.contoso.test/ocsp"


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _builder(
    subject: str, issuer: x509.Name, public_key: object, serial: int
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer)
        .public_key(public_key)  # type: ignore[arg-type]
        .serial_number(serial)
        .not_valid_before(NOW - dt.timedelta(days=1))
        .not_valid_after(NOW + dt.timedelta(days=30))
    )


@dataclass
class Authority:
    """A CA, its key, and a leaf it issued."""

    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey
    leaf: x509.Certificate

    def responder(
        self,
        cn: str = "Contoso OCSP Responder",
        usage: list[x509.ObjectIdentifier] | None = None,
        issued_by: Authority | None = None,
    ) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
        """A responder certificate issued by this CA (or ``issued_by``), with the extended key
        usages ``usage`` (None: no extended key usage extension at all)."""
        key = ec.generate_private_key(ec.SECP256R1())
        issuer = issued_by or self
        builder = _builder(cn, issuer.cert.subject, key.public_key(), 0x5151)
        if usage is not None:
            builder = builder.add_extension(x509.ExtendedKeyUsage(usage), critical=False)
        return builder.sign(issuer.key, hashes.SHA256()), key


def authority(cn: str, leaf_serial: int = 0x1234) -> Authority:
    key = ec.generate_private_key(ec.SECP256R1())
    ca = _builder(cn, _name(cn), key.public_key(), 1).sign(key, hashes.SHA256())
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = _builder("mail.contoso.test", ca.subject, leaf_key.public_key(), leaf_serial).sign(
        key, hashes.SHA256()
    )
    return Authority(ca, key, leaf)


@pytest.fixture(scope="module")
def contoso() -> Authority:
    return authority("Contoso Issuing CA")


def answer(
    about: x509.Certificate,
    issuer: x509.Certificate,
    signer: x509.Certificate,
    key: ec.EllipticCurvePrivateKey,
    *,
    by_name: bool = False,
    carried: list[x509.Certificate] | None = None,
    next_update: dt.datetime | None = NOW + dt.timedelta(days=1),
) -> bytes:
    """An OCSP response saying "good" about ``about`` (issued by ``issuer``), signed by
    ``signer``, naming it by key hash (or by name), carrying ``carried`` certificates."""
    builder = ocsp.OCSPResponseBuilder().add_response(
        cert=about,
        issuer=issuer,
        algorithm=hashes.SHA1(),
        cert_status=ocsp.OCSPCertStatus.GOOD,
        this_update=NOW - dt.timedelta(hours=1),
        next_update=next_update,
        revocation_time=None,
        revocation_reason=None,
    )
    encoding = ocsp.OCSPResponderEncoding.NAME if by_name else ocsp.OCSPResponderEncoding.HASH
    builder = builder.responder_id(encoding, signer)
    if carried:
        builder = builder.certificates(carried)
    return builder.sign(key, hashes.SHA256()).public_bytes(Encoding.DER)


def read(body: bytes, ca: Authority) -> r.Source:
    return read_ocsp(body, ca.leaf, ca.cert, ca.leaf.serial_number, URL)


# -- the URLs of a certificate ---------------------------------------------------------------


def test_only_urls_are_sources_in_the_order_written_at_most_four_of_a_kind(
    contoso: Authority,
) -> None:
    """A distribution point or access description may name a directory entry instead of a URL,
    and AIA may list access methods other than OCSP and caIssuers: none of them is a source."""
    directory = x509.DirectoryName(_name("CDP Container"))
    crls = [f"http://pki.contoso.test/crl{n}.crl" for n in range(6)]
    points = [x509.DistributionPoint([directory], None, None, None)] + [
        x509.DistributionPoint([x509.UniformResourceIdentifier(u), directory], None, None, None)
        for u in crls
    ]
    ocsp_uri = x509.UniformResourceIdentifier("http://pki.contoso.test/ocsp")
    ca_issuers = x509.UniformResourceIdentifier("http://pki.contoso.test/ca.cer")
    repository = x509.ObjectIdentifier("1.3.6.1.5.5.7.48.5")  # caRepository: not looked at
    access = [
        x509.AccessDescription(AuthorityInformationAccessOID.OCSP, directory),
        x509.AccessDescription(repository, x509.UniformResourceIdentifier("http://repo/")),
        x509.AccessDescription(AuthorityInformationAccessOID.OCSP, ocsp_uri),
        x509.AccessDescription(AuthorityInformationAccessOID.CA_ISSUERS, ca_issuers),
    ]
    cert = (
        _builder("mail.contoso.test", contoso.cert.subject, contoso.key.public_key(), 7)
        .add_extension(x509.CRLDistributionPoints(points), critical=False)
        .add_extension(x509.AuthorityInformationAccess(access), critical=False)
        .sign(contoso.key, hashes.SHA256())
    )
    assert urls(cert) == (
        crls[:MAX_URLS],
        ["http://pki.contoso.test/ocsp"],
        ["http://pki.contoso.test/ca.cer"],
    )


# -- who signed an OCSP answer ---------------------------------------------------------------


def test_an_answer_naming_the_issuer_by_name_is_the_issuers(contoso: Authority) -> None:
    body = answer(contoso.leaf, contoso.cert, contoso.cert, contoso.key, by_name=True)
    found = read(body, contoso)
    assert (found.outcome, found.detail) == (r.GOOD, "")


def test_a_delegated_responder_named_by_name_is_found_among_the_certificates(
    contoso: Authority,
) -> None:
    """The response carries an unrelated certificate first, then the responder it names."""
    responder, key = contoso.responder(usage=[ExtendedKeyUsageOID.OCSP_SIGNING])
    stranger = authority("Some Other CA").cert
    body = answer(
        contoso.leaf, contoso.cert, responder, key, by_name=True, carried=[stranger, responder]
    )
    assert read(body, contoso).outcome == r.GOOD


@pytest.mark.parametrize(
    "usage",
    [None, [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]],
    ids=["no-extended-key-usage", "tls-purposes-only"],
)
def test_a_responder_the_issuer_gave_no_ocsp_signing_purpose_is_not_believed(
    contoso: Authority, usage: list[x509.ObjectIdentifier] | None
) -> None:
    """RFC 6960 4.2.2.2: a certificate the issuer issued counts as its responder only with
    id-kp-OCSPSigning; any other certificate of the same CA (a web server's) could sign
    "good" for a revoked certificate."""
    responder, key = contoso.responder(usage=usage)
    body = answer(contoso.leaf, contoso.cert, responder, key, carried=[responder])
    found = read(body, contoso)
    assert (found.outcome, found.detail) == (
        r.BAD_SIGNATURE,
        "signed by neither the issuer nor a responder it delegated",
    )


def test_a_responder_certificate_from_another_ca_is_not_believed(contoso: Authority) -> None:
    """The responder has the OCSP-signing purpose, but another CA issued it."""
    other = authority("Some Other CA")
    responder, key = contoso.responder(usage=[ExtendedKeyUsageOID.OCSP_SIGNING], issued_by=other)
    body = answer(contoso.leaf, contoso.cert, responder, key, carried=[responder])
    assert read(body, contoso).outcome == r.BAD_SIGNATURE


# -- what an OCSP answer is about ------------------------------------------------------------


@pytest.mark.parametrize("other", ["serial", "issuer"])
def test_an_answer_about_another_certificate_is_unusable(contoso: Authority, other: str) -> None:
    """Signed by this issuer, but about another certificate: another serial of the same CA (a
    responder, or a cache in front of it, answering for the wrong one), or the same serial of
    another CA (the CertID's issuer name hash differs).  Its "good" says nothing here."""
    if other == "serial":
        sibling = _builder("owa.contoso.test", contoso.cert.subject, contoso.key.public_key(), 9)
        about, issuer = sibling.sign(contoso.key, hashes.SHA256()), contoso.cert
    else:
        stranger = authority("Some Other CA", leaf_serial=contoso.leaf.serial_number)
        about, issuer = stranger.leaf, stranger.cert
    found = read(answer(about, issuer, contoso.cert, contoso.key), contoso)
    assert (found.outcome, found.detail) == (
        r.UNUSABLE,
        "the response is about another certificate",
    )


# cryptography 42+ has next_update_utc (None here): the naive next_update, deprecated, is not read
@pytest.mark.filterwarnings("error::cryptography.utils.CryptographyDeprecationWarning")
def test_a_good_answer_without_next_update_is_good_with_no_next_update(
    contoso: Authority,
) -> None:
    """RFC 6960 allows an answer without nextUpdate (newer information is always available):
    it is good, and nothing is invented as its nextUpdate."""
    body = answer(contoso.leaf, contoso.cert, contoso.cert, contoso.key, next_update=None)
    found = read(body, contoso)
    assert found.outcome == r.GOOD
    assert found.next_update is None
    assert found.this_update is not None


# -- a CRL whose issuer cannot have signed it ------------------------------------------------


def test_a_crl_of_an_issuer_whose_key_cannot_sign_is_a_bad_signature(contoso: Authority) -> None:
    """The issuer named in the chain holds an X25519 key (key agreement only): no CRL can carry
    its signature, so one claiming to is forged."""
    agreement = x25519.X25519PrivateKey.generate().public_key()
    issuer = _builder("Key Agreement CA", contoso.cert.subject, agreement, 3).sign(
        contoso.key, hashes.SHA256()
    )
    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.subject)
        .last_update(NOW - dt.timedelta(hours=1))
        .next_update(NOW + dt.timedelta(days=1))
        .sign(contoso.key, hashes.SHA256())
    )
    found = read_crl(crl.public_bytes(Encoding.DER), issuer, 0x1234, "http://pki/x.crl")
    assert (found.outcome, found.detail) == (r.BAD_SIGNATURE, "CRL signature does not verify")
