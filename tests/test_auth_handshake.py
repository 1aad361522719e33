"""``transport.auth`` in-process, beyond the wire rules of tests/test_wire_rules.py: the
:class:`Handshake` every logon runs (Basic's header; NTLM's two legs answered by pyspnego's own
acceptor, the AUTHENTICATE checked by the lab's NTLMv2 check with and without the channel
binding), the password's hashes, and the signature hash of every algorithm of RFC 5929's
table, each on a certificate's outline (no server: the module does no I/O)."""

from __future__ import annotations

import base64
import hashlib
import struct
from pathlib import Path

import pytest
import spnego
from spnego._ntlm_raw.crypto import ntowfv1

from contrib.lab.identities.accounts import write_ntlm_users
from contrib.lab.identities.ntlm import carries_binding, ntlm_message_type, ntlmv2_user
from outlook_anywhere.transport.auth import (
    AuthError,
    Handshake,
    challenge_schemes,
    challenges,
    channel_binding,
    choose,
    end_point_hash,
    has_spnego,
    ntlm_hashes,
)
from tests.edge_servers import der

PASSWORD = "Sec ret:é7"
USER = "CONTOSO\\monitor"
ACCOUNTS = {("contoso", "monitor")}
BINDING = b"tls-server-end-point:" + bytes(range(32))


@pytest.fixture(autouse=True)
def ntlm_users(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """pyspnego's acceptor reads its accounts from the file NTLM_USER_FILE names, even to
    answer a NEGOTIATE."""
    users = tmp_path / "ntlm-users"
    write_ntlm_users(users, ["CONTOSO:monitor"], PASSWORD)
    monkeypatch.setenv("NTLM_USER_FILE", str(users))


def token(header: str, scheme: str = "NTLM") -> bytes:
    name, _, value = header.partition(" ")
    assert name == scheme
    return base64.b64decode(value, validate=True)


def challenge_for(first: str, scheme: str = "NTLM") -> bytes:
    """The CHALLENGE of a fresh pyspnego acceptor to the NEGOTIATE in ``first``."""
    negotiate = token(first, scheme)
    assert ntlm_message_type(negotiate) == 1
    challenge = spnego.server(protocol="ntlm").step(negotiate)
    assert challenge is not None
    return challenge


# -- Basic ------------------------------------------------------------------------------------


def test_basic_is_the_user_and_password_in_base64() -> None:
    said = Handshake("Basic", "monitor@contoso.com", PASSWORD, "mail.contoso.com").first()
    assert said == "Basic " + base64.b64encode(f"monitor@contoso.com:{PASSWORD}".encode()).decode()


def test_basic_has_no_second_leg() -> None:
    handshake = Handshake("Basic", "monitor", PASSWORD, "mail.contoso.com")
    handshake.first()
    assert handshake.next(['Basic realm="x"']) is None


# -- NTLM -------------------------------------------------------------------------------------


@pytest.mark.parametrize("binding", [BINDING, None], ids=["bound", "unbound"])
def test_ntlm_answers_the_challenge_with_the_account_and_the_binding(binding: bytes | None) -> None:
    handshake = Handshake("NTLM", USER, PASSWORD, "mail.contoso.com", binding)
    challenge = challenge_for(handshake.first())
    answer = handshake.next([f"NTLM {base64.b64encode(challenge).decode()}"])
    assert answer is not None
    authenticate = token(answer)
    assert ntlm_message_type(authenticate) == 3
    assert ntlmv2_user(authenticate, challenge, PASSWORD, ACCOUNTS, binding) == USER
    assert carries_binding(authenticate) == (binding is not None)
    assert ntlmv2_user(authenticate, challenge, "another", ACCOUNTS, binding) is None


def test_ntlm_under_negotiate_is_sent_under_that_name() -> None:
    handshake = Handshake("Negotiate", USER, PASSWORD, "mail.contoso.com", BINDING)
    challenge = challenge_for(
        handshake.first("Negotiate") if False else handshake.first(), "Negotiate"
    )
    answer = handshake.next([f"negotiate {base64.b64encode(challenge).decode()}"])
    assert answer is not None
    authenticate = token(answer, "Negotiate")
    assert ntlmv2_user(authenticate, challenge, PASSWORD, ACCOUNTS, BINDING) == USER


def test_the_challenge_of_the_scheme_is_taken_among_others() -> None:
    handshake = Handshake("NTLM", USER, PASSWORD, "mail.contoso.com", BINDING)
    challenge = challenge_for(handshake.first())
    encoded = base64.b64encode(challenge).decode()
    answer = handshake.next(['Basic realm="x"', f"Negotiate, NTLM {encoded}"])
    assert answer is not None
    assert ntlmv2_user(token(answer), challenge, PASSWORD, ACCOUNTS, BINDING) == USER


@pytest.mark.parametrize(
    "values",
    [[], ["NTLM"], ["Negotiate abcd"], ['Basic realm="x"']],
    ids=["none", "bare-ntlm", "other-scheme", "basic"],
)
def test_no_challenge_for_the_scheme_is_no_answer(values: list[str]) -> None:
    handshake = Handshake("NTLM", USER, PASSWORD, "mail.contoso.com")
    handshake.first()
    assert handshake.next(values) is None


def test_no_answer_before_the_first_leg() -> None:
    handshake = Handshake("NTLM", USER, PASSWORD, "mail.contoso.com")
    assert handshake.next(["NTLM TlRMTVNTUAACAAAA"]) is None


@pytest.mark.parametrize(
    "challenge",
    [
        "NTLM not*base64",
        "NTLM " + base64.b64encode(b"NTLMSSP\x00\x01\x00\x00\x00" + bytes(24)).decode(),
        "NTLM " + base64.b64encode(bytes(40)).decode(),
    ],
    ids=["not-base64", "a-negotiate", "zeros"],
)
def test_a_challenge_that_cannot_be_answered_is_refused(challenge: str) -> None:
    handshake = Handshake("NTLM", USER, PASSWORD, "mail.contoso.com")
    handshake.first()
    with pytest.raises(AuthError) as refused:
        handshake.next([challenge])
    assert (refused.value.kind, str(refused.value)) == ("bad-challenge", "invalid NTLM challenge")


def test_the_password_is_held_as_its_hashes() -> None:
    assert ntlm_hashes(PASSWORD) == "0" * 32 + ":" + ntowfv1(PASSWORD).hex()
    assert ntlm_hashes(PASSWORD) is ntlm_hashes(PASSWORD)  # derived once
    assert ntlm_hashes("other") == "0" * 32 + ":" + ntowfv1("other").hex()


def test_pyspnego_is_found() -> None:
    assert has_spnego() is True


def test_an_auth_error_keeps_its_kind_and_text() -> None:
    error = AuthError("ntlm-start", "NTLM could not start")
    assert (error.kind, str(error)) == ("ntlm-start", "NTLM could not start")


# -- the signature hash of every algorithm --------------------------------------------------

RSA = "2a864886f70d0101"
ECDSA = "2a8648ce3d0403"
NIST = "608648016503040"
TABLE = [
    (RSA + "0e", "sha224"), (RSA + "0b", "sha256"), (RSA + "0c", "sha384"),
    (RSA + "0d", "sha512"), (ECDSA + "01", "sha224"), (ECDSA + "02", "sha256"),
    (ECDSA + "03", "sha384"), (ECDSA + "04", "sha512"), (NIST + "301", "sha224"),
    (NIST + "302", "sha256"), (NIST + "303", "sha384"), (NIST + "304", "sha512"),
    (NIST + "201", "sha256"), (NIST + "202", "sha384"), (NIST + "203", "sha512"),
    (NIST + "204", "sha224"),
    (RSA + "05", "sha256"),  # SHA-1 with RSA: SHA-256 (RFC 5929 4.1)
    (RSA + "04", "sha256"),  # MD5 with RSA
    ("2b6570", "sha256"),  # Ed25519: no hash of its own
]  # fmt: skip


def certificate(algorithm: bytes, tbs: bytes = b"") -> bytes:
    tbs = tbs or der(0x30, der(0x02, b"\x01"))
    return der(0x30, tbs + algorithm + der(0x03, b"\x00\x01\x02"))


@pytest.mark.parametrize(("oid", "digest"), TABLE)
def test_each_signature_algorithm_binds_with_its_hash(oid: str, digest: str) -> None:
    data = certificate(der(0x30, der(0x06, bytes.fromhex(oid)) + der(0x05, b"")))
    assert end_point_hash(data) == hashlib.new(digest, data).digest()
    assert channel_binding(data) == b"tls-server-end-point:" + hashlib.new(digest, data).digest()


def long_form(tag: int, body: bytes, count: int) -> bytes:
    """A DER element whose length takes ``count`` bytes (the long form)."""
    return bytes([tag, 0x80 | count]) + len(body).to_bytes(count, "big") + body


@pytest.mark.parametrize("count", [1, 2, 3, 4])
def test_a_length_of_up_to_four_bytes_is_read(count: int) -> None:
    algorithm = der(0x30, der(0x06, bytes.fromhex(RSA + "0c")))
    tbs = der(0x30, der(0x02, b"\x01"))
    data = long_form(0x30, tbs + algorithm + der(0x03, b"\x00"), count)
    assert end_point_hash(data) == hashlib.sha384(data).digest()


def test_a_certificate_cut_short_binds_with_sha256() -> None:
    data = certificate(der(0x30, der(0x06, bytes.fromhex(RSA + "0c"))))
    assert end_point_hash(data[:-1]) == hashlib.sha256(data[:-1]).digest()
    whole = long_form(0x30, data[2:], 2)
    assert end_point_hash(whole) == hashlib.sha384(whole).digest()
    assert end_point_hash(whole[:-1]) == hashlib.sha256(whole[:-1]).digest()


def test_rsa_pss_with_parameters_other_than_a_hash_binds_with_sha256() -> None:
    pss = bytes.fromhex(RSA + "0a")
    salt_only = der(0x30, der(0xA2, der(0x02, b"\x20")))  # [2] saltLength, no [0] hashAlgorithm
    data = certificate(der(0x30, der(0x06, pss) + salt_only))
    assert end_point_hash(data) == hashlib.sha256(data).digest()
    sha384 = der(0x30, der(0xA0, der(0x30, der(0x06, bytes.fromhex(NIST + "202")))))
    data = certificate(der(0x30, der(0x06, pss) + sha384))
    assert end_point_hash(data) == hashlib.sha384(data).digest()


def target_name(authenticate: bytes) -> str:
    """The MsvAvTargetName of an NTLMv2 AUTHENTICATE ([MS-NLMP] 2.2.2.1), "" without one."""
    length, _, offset = struct.unpack_from("<HHI", authenticate, 20)
    response, at = authenticate[offset : offset + length], 16 + 28
    while at + 4 <= len(response):
        av_id, av_len = struct.unpack_from("<HH", response, at)
        if av_id == 0:
            break
        if av_id == 0x0009:
            return response[at + 4 : at + 4 + av_len].decode("utf-16-le")
        at += 4 + av_len
    return ""


def test_ntlm_names_the_http_service_of_the_host() -> None:
    handshake = Handshake("NTLM", USER, PASSWORD, "mail.contoso.com", BINDING)
    challenge = challenge_for(handshake.first())
    answer = handshake.next([f"NTLM {base64.b64encode(challenge).decode()}"])
    assert answer is not None
    assert target_name(token(answer)) == "HTTP/mail.contoso.com"


def test_a_challenge_with_a_character_outside_base64_is_refused() -> None:
    handshake = Handshake("NTLM", USER, PASSWORD, "mail.contoso.com")
    challenge = base64.b64encode(challenge_for(handshake.first())).decode()
    with pytest.raises(AuthError) as refused:
        handshake.next([f"NTLM {challenge[:8]}*{challenge[8:]}"])
    assert refused.value.kind == "bad-challenge"


def test_ntlm_is_chosen_when_pyspnego_is_there() -> None:
    assert choose(["Negotiate", "NTLM"]) == "NTLM"
    with pytest.raises(AuthError) as refused:
        choose(["NTLM"], False)
    assert (refused.value.kind, str(refused.value)) == ("ntlm-missing", "pyspnego is not installed")


@pytest.mark.parametrize(
    ("values", "found"),
    [
        (['Basic realm="x", charset="UTF-8"'], [("Basic", 'realm="x", charset="UTF-8"')]),
        (["Digest realm=x, qop=auth, NTLM"], [("Digest", "realm=x, qop=auth"), ("NTLM", "")]),
        (['Basic realm="x", "stray"'], [("Basic", 'realm="x", "stray"')]),
        (['Basic realm="a, b", NTLM'], [("Basic", 'realm="a, b"'), ("NTLM", "")]),
        (['Basic realm="a, NTLM b"'], [("Basic", 'realm="a, NTLM b"')]),
        (['Basic realm="a\\", b", NTLM'], [("Basic", 'realm="a\\", b"'), ("NTLM", "")]),
        (['Basic realm="a\\\\", NTLM'], [("Basic", 'realm="a\\\\"'), ("NTLM", "")]),
    ],
    ids=["param", "unquoted-params", "quoted-token", "quoted-comma", "quoted-scheme",
         "escaped-quote", "escaped-backslash"],
)  # fmt: skip
def test_the_auth_params_of_a_challenge_stay_with_it(
    values: list[str], found: list[tuple[str, str]]
) -> None:
    assert challenges(values) == found


def test_a_scheme_name_is_cut_at_40_characters() -> None:
    assert challenge_schemes(["S" * 41, "S" * 40 + "T"]) == ["S" * 40]


def test_a_length_of_zero_bytes_is_no_length() -> None:
    """0x80 is BER's indefinite length, never DER: SHA-256, not the hash of what follows."""
    body = der(0x30, der(0x02, b"\x01")) + der(0x30, der(0x06, bytes.fromhex(RSA + "0c")))
    data = b"\x30\x80" + body + der(0x03, b"\x00")
    assert end_point_hash(data) == hashlib.sha256(data).digest()


def test_a_length_of_five_bytes_is_no_length() -> None:
    body = der(0x30, der(0x02, b"\x01")) + der(0x30, der(0x06, bytes.fromhex(RSA + "0c")))
    body += der(0x03, b"\x00")
    data = b"\x30\x85" + len(body).to_bytes(5, "big") + body
    assert end_point_hash(data) == hashlib.sha256(data).digest()
