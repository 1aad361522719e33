"""The wire rules of ``transport.auth`` at their edges, in-process (the module does no I/O):
which scheme answers a 401 when pyspnego is missing, a challenge list that starts with a
parameter, and the channel-binding hash of certificates whose DER is odd (RFC 5929 4.1: the
signature's hash where there is one, SHA-256 where there is none or it cannot be read)."""

from __future__ import annotations

import hashlib

import pytest

from outlook_anywhere.transport.auth import AuthError, challenges, channel_binding, choose
from tests.edge_servers import der

RSASSA_PSS = bytes.fromhex("06092a864886f70d01010a")  # 1.2.840.113549.1.1.10, as DER
SHA512 = bytes.fromhex("0609608648016503040203")  # 2.16.840.1.101.3.4.2.3, as DER


def certificate(algorithm: bytes) -> bytes:
    """A Certificate's outline (RFC 5280 4.1): a token TBS, ``algorithm``, a signature."""
    tbs = der(0x30, der(0x02, b"\x01"))
    return der(0x30, tbs + algorithm + der(0x03, b"\x00\x01\x02"))


def bound(data: bytes, digest: str) -> bool:
    return channel_binding(data) == b"tls-server-end-point:" + hashlib.new(digest, data).digest()


# -- which scheme answers a 401 ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("offered", "spnego", "chosen"),
    [
        (["Negotiate", "NTLM", "Basic"], True, "NTLM"),  # the password never leaves the poller
        (["Negotiate", "Basic"], True, "Negotiate"),
        (["NTLM", "Negotiate", "Basic"], False, "Basic"),  # without pyspnego: Basic, if offered
        (["Digest"], True, None),
    ],
)
def test_the_scheme_that_answers_a_401(
    offered: list[str], spnego: bool, chosen: str | None
) -> None:
    assert choose(offered, spnego) == chosen


def test_ntlm_alone_without_pyspnego_cannot_be_answered() -> None:
    with pytest.raises(AuthError) as refused:
        choose(["Negotiate", "NTLM"], False)
    assert refused.value.kind == "ntlm-missing"


def test_a_parameter_before_any_scheme_is_no_challenge() -> None:
    """A header value that starts with an auth-param (a broken or truncated server): the
    parameter belongs to no challenge and is dropped; the challenges after it count."""
    assert challenges(['realm="contoso", Basic realm="x", NTLM']) == [
        ("Basic", 'realm="x"'),
        ("NTLM", ""),
    ]


# -- the channel binding of odd certificates --------------------------------------------------


def test_rsa_pss_with_its_default_parameters_binds_with_sha256() -> None:
    """RSASSA-PSS parameters left empty mean SHA-1 (RFC 4055 3.1), which RFC 5929 replaces
    with SHA-256."""
    assert bound(certificate(der(0x30, RSASSA_PSS + der(0x30, b""))), "sha256")


def test_rsa_pss_with_sha512_binds_with_sha512() -> None:
    """The control of the one above: the hashAlgorithm [0] decides."""
    params = der(0x30, der(0xA0, der(0x30, SHA512)))
    assert bound(certificate(der(0x30, RSASSA_PSS + params)), "sha512")


@pytest.mark.parametrize(
    "data",
    [
        b"\x30\x80" + bytes(10),  # an indefinite length (BER, never DER)
        b"\x30\x85\x00\x00\x00\x00\x05" + bytes(5),  # a length of five bytes
        b"\x30\x84\x00\x00\x10\x00" + bytes(20),  # a length past the data
        b"\x30\x03\x30\x10\x00",  # an inner length past the data
    ],
    ids=["indefinite", "five-byte-length", "past-the-data", "inner-past-the-data"],
)
def test_der_that_cannot_be_read_binds_with_sha256(data: bytes) -> None:
    """The most a client can do: the server computes its binding from its own certificate,
    so any hash gives a mismatch the node reports, never a crash here."""
    assert bound(data, "sha256")
