"""Fuzzing with hypothesis: whatever the server, the document or the command line holds, the
plugin answers with one status line, never an exception.

* random and mutated DER into the certificate facts (OpenSSL's decoding, then ``cryptography``
  where the probe asks it), and served by a lab node in a real TLS handshake;
* random bytes as a server's first flight;
* random XML into the Autodiscover parser;
* random argument vectors into ``check_outlook_anywhere.run()`` (every target on loopback).

Example counts are modest so that the default suite stays quick; ``OUTLOOK_ANYWHERE_LONG=1``
runs each test with 25 times as many examples (README, "Testing").
"""

from __future__ import annotations

import os
import socket
import ssl
import tempfile
import threading
import time
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import check_outlook_anywhere
from contrib.lab import Lab, hostile
from contrib.lab.web import BILLION_LAUGHS, ERROR_600, _redirect, _settings
from outlook_anywhere import autodiscover_xml
from outlook_anywhere.certificate import CertFacts, Unreadable, describe_strength, from_info
from outlook_anywhere.judgement import Policy, judge_node
from outlook_anywhere.options import PASSWORD_ENV, threshold
from outlook_anywhere.tlsprobe import NodeFacts

LONG = os.environ.get("OUTLOOK_ANYWHERE_LONG") == "1"


def fuzz(examples: int) -> settings:
    return settings(
        max_examples=examples * (25 if LONG else 1),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


def assert_one_status_line(text: str, code: int) -> None:
    assert 0 <= code <= 3, (code, text)
    state = ("OK", "WARNING", "CRITICAL", "UNKNOWN")[code]
    assert text.startswith(f"OUTLOOK_ANYWHERE {state} - "), text
    assert sum(line.startswith("OUTLOOK_ANYWHERE") for line in text.splitlines()) == 1, text
    assert "internal error" not in text and "Traceback" not in text, text


# -- certificates ------------------------------------------------------------------------------


@st.composite
def mutated(draw: st.DrawFn, seed: bytes) -> bytes:
    """``seed`` with a few bytes replaced, a slice cut out or bytes inserted, or truncated."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["replace", "cut", "insert", "truncate"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "replace" and data:
            data[at] = draw(st.integers(0, 255))
        elif kind == "cut":
            del data[at : at + draw(st.integers(1, 16))]
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        else:
            del data[at:]
    return bytes(data)


@pytest.fixture(scope="module")
def leaf_der(lab: Lab) -> bytes:
    return lab.chain("single").leaf.public_bytes(Encoding.DER)


POLICY = Policy(
    principals=("single.contoso.test",),
    match_mode="cn",
    warning=threshold("30").range,
    critical=threshold("14").range,
    check_trust=True,
    now=time.time(),
)


def openssl_decoding(der: bytes) -> dict[str, object] | None:
    """OpenSSL's decoding of ``der`` (what ``get_info()`` gives in a handshake), or None."""
    with tempfile.NamedTemporaryFile("w", suffix=".pem") as pem:
        pem.write(ssl.DER_cert_to_PEM_cert(der))
        pem.flush()
        try:
            return ssl._ssl._test_decode_cert(pem.name)  # type: ignore[attr-defined,no-any-return]
        except ssl.SSLError:
            return None
        except ValueError:  # a name that is not UTF-8: the probe reports it as unreadable
            return None


def certificate_facts_hold(der: bytes) -> None:
    """The probe's path for one certificate: facts, strength, judgement; only findings."""
    key, digest = describe_strength(der)
    assert isinstance(key, str) and isinstance(digest, str)
    info = openssl_decoding(der)
    if info is None:
        return  # OpenSSL refuses it: in a handshake that is "could not be parsed" (see below)
    try:
        facts = from_info(info, der)
    except Unreadable:
        return  # reported as "certificate could not be parsed (...)"
    assert isinstance(facts, CertFacts)
    node = NodeFacts("127.0.0.1", 443, phase="done")
    node.leaf, node.chain, node.trust = facts, (facts,), "untrusted"
    for finding in judge_node(node, POLICY):
        assert finding.text and "\x00" not in finding.text


def test_mutated_der_gives_facts_or_findings(leaf_der: bytes) -> None:
    @fuzz(150)
    @given(mutated(leaf_der))
    def check(der: bytes) -> None:
        certificate_facts_hold(der)

    check()


def test_version_field_cryptography_refuses(leaf_der: bytes) -> None:
    """Found by the fuzzer: a version field of 1 (v2), which OpenSSL decodes and cryptography
    refuses with its own exception (InvalidVersion, not a ValueError)."""
    v3, v2 = b"\xa0\x03\x02\x01\x02", b"\xa0\x03\x02\x01\x01"
    assert v3 in leaf_der
    der = leaf_der.replace(v3, v2, 1)
    assert describe_strength(der) == ("unknown key", "unknown")
    certificate_facts_hold(der)


@fuzz(60)
@given(st.binary(max_size=2048))
def test_random_der_gives_facts_or_findings(der: bytes) -> None:
    certificate_facts_hold(der)


@pytest.fixture(scope="module")
def der_node(lab: Lab) -> Iterator[str]:
    address = "127.0.62.1"
    lab.set_node(address, "der", lab.chain("single"))
    yield address
    hostile.SERVED_DER.pop(address, None)
    lab.reset()


def test_mutated_der_in_a_handshake_is_critical(lab: Lab, der_node: str, leaf_der: bytes) -> None:
    args = ["-H", "single.contoso.test", "-I", der_node, "-p", str(lab.port)]
    args += ["--ca-file", lab.ca_file, "-t", "3"]

    @fuzz(20)
    @given(st.one_of(mutated(leaf_der), st.binary(max_size=1500)))
    def check(der: bytes) -> None:
        hostile.SERVED_DER[der_node] = der
        text, code = check_outlook_anywhere.run(args)
        assert_one_status_line(text, code)
        assert code == 2, text  # a certificate no one signed: never OK or WARNING

    check()


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        # a SAN DNS name starting with byte 0x80: OpenSSL decodes it, Python's text does not
        ((b"\x82\x13single", b"\x82\x13\x80ingle"), "a name in it is not valid text"),
        # notAfter in February 30th: OpenSSL prints "Bad time value"
        ((b"Z\x17\r27", b"Z\x17\r27"), None),
    ],
)
def test_found_by_fuzzing_certificate(
    lab: Lab, der_node: str, leaf_der: bytes, change: tuple[bytes, bytes], reason: str | None
) -> None:
    der = leaf_der.replace(*change)
    if reason is None:  # the date: month 02, day 30
        at = der.index(b"Z\x17\r27") + 5
        der = der[:at] + b"0230" + der[at + 4 :]
        reason = "validity date 'Bad time value' not readable"
    hostile.SERVED_DER[der_node] = der
    args = ["-H", "single.contoso.test", "-I", der_node, "-p", str(lab.port), "--ca-file"]
    text, code = check_outlook_anywhere.run([*args, lab.ca_file, "-t", "3"])
    assert_one_status_line(text, code)
    assert text.startswith(
        f"OUTLOOK_ANYWHERE CRITICAL - {der_node}: certificate could not be parsed ({reason})"
    ), text


# -- a server's first flight -------------------------------------------------------------------


class FirstFlight:
    """A raw TCP server on loopback that sends ``payload`` to whoever connects, then closes."""

    def __init__(self, address: str = "127.0.62.2") -> None:
        self.payload = b""
        self.listener = socket.create_server((address, 0))
        self.address, self.port = address, self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with conn:
                try:
                    conn.sendall(self.payload)
                    conn.shutdown(socket.SHUT_WR)
                    conn.settimeout(2)
                    while conn.recv(65536):
                        pass
                except OSError:
                    pass

    def close(self) -> None:
        self.listener.close()


@pytest.fixture(scope="module")
def first_flight() -> Iterator[FirstFlight]:
    server = FirstFlight()
    yield server
    server.close()


TLS_LOOKING = st.builds(
    lambda kind, version, body: bytes([kind]) + version + len(body).to_bytes(2, "big") + body,
    st.sampled_from([0x14, 0x15, 0x16, 0x17, 0x18]),
    st.sampled_from([b"\x03\x01", b"\x03\x03", b"\x03\x04", b"\x00\x00", b"\xff\xff"]),
    st.binary(max_size=600),
)


def test_random_first_flight_is_critical(first_flight: FirstFlight) -> None:
    args = ["-H", "mail.contoso.test", "-I", first_flight.address, "-p", str(first_flight.port)]

    @fuzz(40)
    @given(st.one_of(st.binary(max_size=1024), TLS_LOOKING, st.lists(TLS_LOOKING).map(b"".join)))
    def check(payload: bytes) -> None:
        first_flight.payload = payload
        text, code = check_outlook_anywhere.run([*args, "-t", "2", "--ignore-trust"])
        assert_one_status_line(text, code)
        assert code == 2, text

    check()


# -- Autodiscover XML --------------------------------------------------------------------------

MARKER = "Zq7-ATTACKER-TEXT"
SEEDS = [
    _settings("mail.contoso.test", f"msstd:{MARKER}"),
    _redirect("redirectAddr", f"{MARKER}@contoso.test"),
    ERROR_600,
    BILLION_LAUGHS,
]


def parse_holds(body: bytes) -> None:
    try:
        document = autodiscover_xml.parse(body)
    except autodiscover_xml.UnusableDocument as exc:
        assert MARKER not in str(exc)  # errors say what is wrong, never what the document says
        return
    assert isinstance(document, autodiscover_xml.Document)
    for value in (document.redirect_url, document.redirect_addr, document.error_message):
        assert len(value) <= autodiscover_xml.MAX_VALUE


@fuzz(150)
@given(st.one_of(*(mutated(seed) for seed in SEEDS)))
def test_mutated_autodiscover_documents(body: bytes) -> None:
    parse_holds(body)


XML_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40)
ELEMENT = st.recursive(
    st.builds(
        lambda name, text: f"<{name}>{text}</{name}>",
        st.sampled_from(["Protocol", "Type", "Server", "CertPrincipalName", "Action", "Error"]),
        XML_TEXT.map(lambda t: t.replace("<", "&lt;").replace("&", "&amp;")),
    ),
    lambda children: st.builds(
        lambda name, kids: f"<{name}>{''.join(kids)}</{name}>",
        st.sampled_from(["Account", "Response", "Protocol", "Autodiscover"]),
        st.lists(children, max_size=4),
    ),
    max_leaves=12,
)


def test_found_by_fuzzing_unknown_encoding() -> None:
    body = SEEDS[0].replace(b'encoding="utf-8"', b'encoding="atf-8"')
    with pytest.raises(autodiscover_xml.UnusableDocument, match="unknown encoding declared"):
        autodiscover_xml.parse(body)


@fuzz(100)
@given(ELEMENT, st.sampled_from([autodiscover_xml._NAMESPACE_PREFIXES[0], "urn:x", ""]))
def test_generated_autodiscover_documents(inner: str, namespace: str) -> None:
    root = f'<Autodiscover xmlns="{namespace}responseschema/2006">{inner}</Autodiscover>'
    parse_holds(root.encode())


@fuzz(60)
@given(st.binary(max_size=2048))
def test_random_bytes_as_autodiscover_document(body: bytes) -> None:
    parse_holds(body)


# -- the command line --------------------------------------------------------------------------

OPTIONS = [
    "-H", "--host", "-p", "--port", "-I", "--address", "--dns-server", "-4", "-6", "-P",
    "--principal", "--match", "-w", "--warning", "-c", "--critical", "--ca-file",
    "--ignore-trust", "--autodiscover", "--autodiscover-url", "--autodiscover-port",
    "--username", "--rpc", "--expect-auth", "-t", "--timeout", "-v", "-vvv", "--", "-",
    "--bogus",
]  # fmt: skip
VALUES = [
    "mail.contoso.test", "msstd:mail.contoso.test", "127.0.63.1", "::1", "[::1]", "0", "-1",
    "65536", "443", "1e9", "nan", "inf", "10:", "@5:10", "~:3", "cn", "cn-or-san", "0.5",
    "monitor@contoso.test", "https://127.0.63.1/autodiscover/autodiscover.xml", "Negotiate,NTLM",
    "127.0.0.53:53", "", " ", "*.contoso.test", "a" * 300, "\udcff", "m\u0430il.test",
]  # fmt: skip
TOKEN = st.one_of(
    st.sampled_from(OPTIONS),
    st.sampled_from(VALUES),
    st.text(st.characters(exclude_characters="\x00"), max_size=30),
)


@pytest.fixture(scope="module")
def no_password() -> Iterator[None]:
    """--autodiscover then stops at the missing password: no lookup leaves the machine."""
    saved = os.environ.pop(PASSWORD_ENV, None)
    yield
    if saved is not None:
        os.environ[PASSWORD_ENV] = saved


def test_random_argument_vectors(no_password: None) -> None:
    # Every vector ends with a node on loopback where nothing listens, so whatever the rest
    # says no packet leaves the machine (-I skips DNS; the last -p wins).
    tail = ["-I", "127.0.63.1", "-p", "9", "-t", "2"]

    @fuzz(150)
    @given(st.lists(TOKEN, max_size=12))
    def check(argv: list[str]) -> None:
        if any(a in ("-h", "--help", "-V", "--version") for a in argv):
            return
        text, code = check_outlook_anywhere.run([*argv, *tail])
        assert_one_status_line(text, code)

    check()
