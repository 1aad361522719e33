"""The wire rules the logon rests on, each in the one place every request uses it: the RFC 5929
channel-binding hash, RFC 7235 challenge parsing, the ``503 RPC Error`` reason, the MAPI
response framing and cookies."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives import serialization

from contrib.lab import Lab
from outlook_anywhere.probes.logon_rpc import echo_path, rpc_error_code
from outlook_anywhere.transport import mapihttp
from outlook_anywhere.transport.auth import challenge_schemes, challenges, channel_binding


def der(lab: Lab, ident: str) -> bytes:
    return lab.pki.chains[ident].certs[0].public_bytes(serialization.Encoding.DER)


@pytest.mark.parametrize(
    ("ident", "digest"),
    [
        ("web-logon-ok.contoso.test-sha256", "sha256"),
        ("web-logon-ok-sha384.contoso.test-sha384", "sha384"),
        ("web-logon-ok-sha512.contoso.test-sha512", "sha512"),
        ("weak-sha1", "sha256"),  # RFC 5929 4.1: SHA-1 is replaced by SHA-256
        ("weak-ed25519", "sha256"),  # no hash of its own: SHA-256
    ],
)
def test_the_binding_hashes_with_the_signature_hash(lab: Lab, ident: str, digest: str) -> None:
    data = der(lab, ident)
    expected = b"tls-server-end-point:" + hashlib.new(digest, data).digest()
    assert channel_binding(data) == expected


def made(key: str, digest: str) -> bytes:
    """A self-signed certificate made here: ``key`` ec (P-384), rsa-pss or ed25519."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
    from cryptography.x509.oid import NameOID

    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "binding.contoso.test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    private: object
    if key == "ec":
        private = ec.generate_private_key(ec.SECP384R1())
    elif key == "ed25519":
        private = ed25519.Ed25519PrivateKey.generate()
    else:
        private = rsa.generate_private_key(65537, 2048)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())  # type: ignore[attr-defined]
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
    )
    algorithm = {"sha256": hashes.SHA256(), "sha384": hashes.SHA384(), "sha512": hashes.SHA512()}
    if key == "ed25519":
        cert = builder.sign(private, None)  # type: ignore[arg-type]
    elif key == "rsa-pss":
        pss = padding.PSS(padding.MGF1(algorithm[digest]), padding.PSS.DIGEST_LENGTH)
        cert = builder.sign(private, algorithm[digest], rsa_padding=pss)  # type: ignore[arg-type]
    else:
        cert = builder.sign(private, algorithm[digest])  # type: ignore[arg-type]
    return cert.public_bytes(serialization.Encoding.DER)


@pytest.mark.parametrize(
    ("key", "digest", "expected"),
    [
        ("ec", "sha384", "sha384"),
        ("ec", "sha512", "sha512"),
        ("rsa-pss", "sha384", "sha384"),
        ("rsa-pss", "sha256", "sha256"),
        ("ed25519", "", "sha256"),
    ],
)
def test_the_binding_of_other_signature_algorithms(key: str, digest: str, expected: str) -> None:
    data = made(key, digest)
    assert channel_binding(data) == b"tls-server-end-point:" + hashlib.new(expected, data).digest()


def test_the_binding_is_what_the_lab_server_computes(lab: Lab) -> None:
    from contrib.lab.identities.channel_binding import tls_server_end_point

    for ident in ("web-logon-ok-sha384.contoso.test-sha384", "weak-sha1"):
        assert channel_binding(der(lab, ident)) == tls_server_end_point(
            lab.pki.chains[ident].certs[0]
        )


def test_no_certificate_no_binding_and_garbage_is_hashed_with_sha256() -> None:
    assert channel_binding(None) is None and channel_binding(b"") is None
    assert channel_binding(b"not a certificate") == (
        b"tls-server-end-point:" + hashlib.sha256(b"not a certificate").digest()
    )


@pytest.mark.parametrize(
    ("values", "schemes"),
    [
        (["Negotiate, NTLM"], ["Negotiate", "NTLM"]),
        (['Basic realm="a,b=c", NTLM'], ["Basic", "NTLM"]),
        (['Bearer realm="x, y", error="invalid_token", Basic realm="m"'], ["Bearer", "Basic"]),
        (['Digest realm="a, b", qop="auth,auth-int", nonce="x\\", y"'], ["Digest"]),
        (["NTLM TlRMTVNTUAACAAAA=="], ["NTLM"]),
        (["Negotiate", "NTLM", "Negotiate"], ["Negotiate", "NTLM"]),
        ([", ,Basic"], ["Basic"]),
        ([""], []),
    ],
)
def test_challenges_per_rfc_7235(values: list[str], schemes: list[str]) -> None:
    assert challenge_schemes(values) == schemes


def test_a_challenge_keeps_its_token() -> None:
    found = challenges(['Basic realm="a, b", NTLM TlRMTVNTUAACAAAA=='])
    assert found == [("Basic", 'realm="a, b"'), ("NTLM", "TlRMTVNTUAACAAAA==")]


@pytest.mark.parametrize(
    ("reason", "code"),
    [
        ("RPC Error: 6ba", "6ba"),
        ("RPC Error: 6BA, EEInfo: AAAAAAEAAAACAAAA", "6ba"),
        ("RPC Error:6d9", "6d9"),
        ("rpc error: 5", "5"),
        ("Service Unavailable", None),
        ("RPC Error: none", None),
    ],
)
def test_the_503_reason_yields_its_code(reason: str, code: str | None) -> None:
    assert rpc_error_code(reason) == code


def test_the_echo_carries_the_server_query() -> None:
    assert echo_path("guid@contoso.com") == "/rpc/rpcproxy.dll?guid@contoso.com:6001"


@pytest.mark.parametrize(
    ("data", "headers", "body", "framed"),
    [
        (b"PROCESSING\r\nPENDING\r\nDONE\r\nX-ResponseCode: 0\r\nX-ElapsedTime: 3\r\n\r\n\x01\x02",
         {"x-responsecode": "0", "x-elapsedtime": "3"}, b"\x01\x02", True),
        (b"PROCESSING\r\nDONE\r\nX-ResponseCode: 10\r\n\r\n", {"x-responsecode": "10"}, b"", True),
        (b"\x00\x00\x00\x00", {}, b"\x00\x00\x00\x00", False),
        (b"PROCESSING\r\nPEND", {}, b"", True),
        (b"PROCESSING\r\nSOMETHING\r\nDONE\r\n\r\n", {}, b"", True),
        (b"DONE\r\n" + b"X-A: 1\r\n" * 100, {"x-a": "1"}, b"X-A: 1\r\n" * 68, True),
    ],
)  # fmt: skip
def test_mapi_framing(data: bytes, headers: dict[str, str], body: bytes, framed: bool) -> None:
    found = mapihttp.unframe(data)
    assert (found.headers, found.body, found.framed) == (headers, body, framed)


def test_connect_body_and_its_answer() -> None:
    body = mapihttp.connect_body("/o=Contoso/cn=Recipients/cn=monitor")
    assert body == b"/o=Contoso/cn=Recipients/cn=monitor\x00" + bytes.fromhex(
        "00000000" "e4040000" "09040000" "09040000" "00000000"
    )  # fmt: skip
    assert mapihttp.status_and_error(bytes(8)) == (0, 0)
    assert mapihttp.status_and_error(bytes.fromhex("00000000eb030000")) == (0, 0x3EB)
    assert mapihttp.status_and_error(bytes.fromhex("05000000")) == (5, None)
    assert mapihttp.status_and_error(b"\x00") == (None, None)


def test_cookies() -> None:
    jar = mapihttp.cookies(
        ["MapiContext=abc; path=/mapi/emsmdb", "MapiSequence=1-2; secure", "bad", "x=a b"]
    )
    assert jar == {"MapiContext": "abc", "MapiSequence": "1-2"}
    assert mapihttp.cookie_header(jar) == "MapiContext=abc; MapiSequence=1-2"
