"""Fuzzing with hypothesis: whatever the server, the document or the command line holds, the
plugin answers with one status line, never an exception.

* random and mutated DER into the certificate facts (OpenSSL's decoding, then ``cryptography``
  where the probe asks it), and served by a lab node in a real TLS handshake;
* well-formed certificates built from strategies (subjects, SANs of every type, wildcards, IDNA,
  dates around now, key types, extensions), served in a real handshake and judged: the verdict
  must equal an oracle written from the README's States table, and the words must hold;
* random bytes as a server's first flight;
* random XML into the Autodiscover parser;
* random argument vectors into ``check_outlook_anywhere.run()`` (every target on loopback).

Example counts are modest so that the default suite stays quick; ``OUTLOOK_ANYWHERE_LONG=1``
runs each test with 25 times as many examples (README, "Testing").
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import os
import re
import socket
import ssl
import string
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, rsa
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import check_outlook_anywhere
from contrib.lab import Lab
from contrib.lab.endpoints import hostile_servers
from contrib.lab.endpoints.autodiscover import BILLION_LAUGHS, ERROR_600, _redirect, _settings
from outlook_anywhere.autodiscover import document as autodiscover_xml
from outlook_anywhere.check.options import PASSWORD_ENV, threshold
from outlook_anywhere.check.words import phrase
from outlook_anywhere.facts.certificate import CertFacts, Unreadable, describe_strength, from_info
from outlook_anywhere.judgement.policy import Policy
from outlook_anywhere.judgement.verdict import Principal, judge_node
from outlook_anywhere.probes.tls import NodeFacts

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
    principal="single.contoso.test",
    host=None,
    match_mode="cn",
    warning=threshold("30"),
    critical=threshold("14"),
    check_trust=True,
)
WANTED = [Principal("single.contoso.test", "-P")]


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
    for finding in judge_node(node, WANTED, POLICY, [facts], time.time()):
        text = phrase(finding)
        assert text and "\x00" not in text


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
    hostile_servers.SERVED_DER.pop(address, None)
    lab.reset()


def test_mutated_der_in_a_handshake_is_critical(lab: Lab, der_node: str, leaf_der: bytes) -> None:
    args = ["-H", "single.contoso.test", "-I", der_node, "-p", str(lab.port)]
    args += ["--ca-file", lab.ca_file, "-t", "3"]

    @fuzz(20)
    @given(st.one_of(mutated(leaf_der), st.binary(max_size=1500)))
    def check(der: bytes) -> None:
        hostile_servers.SERVED_DER[der_node] = der
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
    hostile_servers.SERVED_DER[der_node] = der
    args = ["-H", "single.contoso.test", "-I", der_node, "-p", str(lab.port), "--ca-file"]
    text, code = check_outlook_anywhere.run([*args, lab.ca_file, "-t", "3"])
    assert_one_status_line(text, code)
    assert code == 2, text
    status = text.split("\n", 1)[0]
    assert f"{der_node}: certificate could not be parsed" in status, text
    assert reason in text, text


# -- well-formed certificates, built to reach the judgement -------------------------------------
# Random DER stops at OpenSSL's parser; these strategies build certificates that parse, are
# issued by the lab's CA, and are served in a real handshake by a server in this test: random
# subjects (several CNs, odd attributes), SANs of every type, wildcards, IDNA, dates around now,
# key types and sizes, extensions.  The verdict must equal an oracle written from the README's
# States table (names, dates, trust, weak keys), independently of the plugin's own rules.

HOST = "fuzz.contoso.test"
CERT_SERVER = "127.0.69.1"
PRINCIPALS = (HOST, "xn--mil-qla.contoso.test", "*.contoso.test")
NAMES = (
    HOST, "FUZZ.Contoso.TEST", f"{HOST}.", "*.contoso.test", "*.CONTOSO.test.",
    "other.contoso.test", "x.fuzz.contoso.test", "*.fuzz.contoso.test", "mäil.contoso.test",
    "MÄIL.contoso.test",
    "xn--mil-qla.contoso.test", "m\u0430il.contoso.test", f"{HOST}\x00.evil.test",
    f"{HOST}\x1b[0m", "127.0.69.1", "*", "contoso.test", "*.*.contoso.test", "f*.contoso.test",
    " fuzz.contoso.test",
)  # fmt: skip
DNS_NAMES = (
    *(
        n.encode("idna").decode() if not n.isascii() else n
        for n in NAMES
        if "\x00" not in n and "\x1b" not in n and n != "m\u0430il.contoso.test"
    ),
    "xn--mil-6cd.contoso.test",
)
ODD_ATTRIBUTES = (
    NameOID.ORGANIZATION_NAME, NameOID.ORGANIZATIONAL_UNIT_NAME, NameOID.EMAIL_ADDRESS,
    NameOID.SERIAL_NUMBER, NameOID.LOCALITY_NAME, NameOID.DOMAIN_COMPONENT, NameOID.USER_ID,
    NameOID.COUNTRY_NAME,
)  # fmt: skip
PLAIN = st.text(string.ascii_letters + string.digits + " .-", min_size=1, max_size=20)


@st.composite
def subjects(draw: st.DrawFn) -> list[x509.NameAttribute]:
    cns = draw(st.lists(st.one_of(st.sampled_from(NAMES), PLAIN), max_size=3))
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, cn) for cn in cns]
    for oid in draw(st.lists(st.sampled_from(ODD_ATTRIBUTES), max_size=4)):
        if oid == NameOID.COUNTRY_NAME:
            value = draw(st.sampled_from(["DE", "US", "CH"]))
        elif oid == NameOID.EMAIL_ADDRESS:
            value = draw(st.sampled_from([f"exchange@{HOST}", "admin@contoso.test"]))
        elif oid == NameOID.ORGANIZATIONAL_UNIT_NAME:
            value = draw(st.sampled_from(["Exchange", "Zürich IT", "ИТ", "a;b|c"]))
        else:
            value = draw(PLAIN)
        attrs.insert(draw(st.integers(0, len(attrs))), x509.NameAttribute(oid, value))
    return attrs


GENERAL_NAMES = st.one_of(
    st.sampled_from(DNS_NAMES).map(x509.DNSName),
    st.just(x509.DNSName(HOST)),
    st.sampled_from(["127.0.69.1", "::1"]).map(lambda a: x509.IPAddress(ipaddress.ip_address(a))),
    st.just(x509.RFC822Name(f"exchange@{HOST}")),
    st.just(x509.UniformResourceIdentifier(f"https://{HOST}/owa")),
    st.just(x509.DirectoryName(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)]))),
    st.just(x509.RegisteredID(x509.ObjectIdentifier("1.3.6.1.4.1.55555.2"))),
    st.just(x509.OtherName(x509.ObjectIdentifier("1.3.6.1.4.1.311.20.2.3"), b"\x0c\x03a@b")),
)


@dataclass(frozen=True)
class Spec:
    """One generated certificate and the check's options."""

    subject: tuple[x509.NameAttribute, ...]
    sans: tuple[x509.GeneralName, ...] | None  # None: no SAN extension
    age: float  # days since notBefore (negative: not yet valid)
    left: float  # days until notAfter
    key: str
    digest: str
    purposes: tuple[str, ...] | None  # extended key usage; None: no extension
    key_usage: bool
    unknown: str  # "", "critical" or "non-critical" unknown extension
    principal: str
    mode: str

    @property
    def cns(self) -> list[str]:
        return [str(a.value) for a in self.subject if a.oid == NameOID.COMMON_NAME]

    @property
    def dns_sans(self) -> list[str]:
        return [g.value for g in self.sans or () if isinstance(g, x509.DNSName)]


HALF_DAYS = st.integers(-40, 420).map(lambda d: d + 0.5)  # never on a threshold's boundary
SPECS = st.builds(
    Spec,
    subject=subjects().map(tuple),
    sans=st.one_of(st.none(), st.lists(GENERAL_NAMES, min_size=1, max_size=5).map(tuple)),
    age=st.one_of(st.integers(0, 400).map(lambda d: d + 0.5), st.just(-1.5)),
    left=HALF_DAYS,
    key=st.sampled_from(["rsa2048", "rsa1024", "rsa3072", "p256", "p384", "ed25519", "ed448"]),
    digest=st.sampled_from(["sha256", "sha384", "sha512"]),
    purposes=st.sampled_from([("server",), ("server", "client"), ("client",), None]),
    key_usage=st.booleans(),
    unknown=st.sampled_from(["", "", "non-critical", "critical"]),
    principal=st.sampled_from(PRINCIPALS),
    mode=st.sampled_from(["cn", "cn-or-san"]),
).filter(lambda spec: spec.age + spec.left > 0)  # notBefore before notAfter


# -- the oracle: the README's States table, written again from the table ----------------------

OK_, WARN_, CRIT_ = 0, 1, 2


def comparable(name: str) -> str | None:
    """A name as Windows compares it, or None when it never matches (a control character)."""
    if (
        not name
        or any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in name)
        or name != name.strip()
    ):
        return None
    name = name[:-1] if name.endswith(".") else name
    if not name:
        return None
    try:
        return name.encode("idna").decode("ascii").lower() if not name.isascii() else name.lower()
    except UnicodeError:
        return None


def expands(pattern: str, name: str) -> bool:
    """``*.contoso.com`` stands for exactly one whole leftmost label (never a bare ``*`` or
    ``*.com``, never a name that is itself a wildcard)."""
    if not pattern.startswith("*.") or "*" in pattern[2:] or "*" in name:
        return False
    suffix = pattern[2:]
    label, _, rest = name.partition(".")
    return "." in suffix and bool(label) and rest == suffix


def name_state(principal: str, cns: list[str], sans: list[str], mode: str) -> int:
    wanted = comparable(principal)
    if wanted is None:
        return CRIT_
    first = comparable(cns[0]) if cns else None
    alternatives = [n for n in (comparable(s) for s in sans) if n is not None]
    if first == wanted:
        return OK_  # the CN, a literal wildcard included
    if wanted in alternatives:
        return OK_ if mode == "cn-or-san" else WARN_
    if any(p is not None and expands(p, wanted) for p in (first, *alternatives)):
        return WARN_
    return CRIT_


def expected_state(spec: Spec) -> int:
    states = [name_state(spec.principal, spec.cns, spec.dns_sans, spec.mode)]
    if len(spec.cns) > 1:
        states.append(WARN_)  # clients differ on which CN they read
    if spec.age < 0 or spec.left < 0:
        states.append(CRIT_)  # not yet valid, or expired
    elif spec.left < 14:
        states.append(CRIT_)
    elif spec.left < 30:
        states.append(WARN_)
    if spec.purposes == ("client",) or spec.unknown == "critical":
        states.append(CRIT_)  # the chain does not validate for a TLS server
    if spec.key == "rsa1024":
        states.append(WARN_)  # a weak key
    return max(states)


def _ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def satisfies(spec: Spec, proposed: str) -> bool:
    """A principal the certificate satisfies under the same rules (a SAN counts)."""
    if proposed.strip() in ("*", "") or _ip(proposed) or _ip(proposed.removeprefix("*.")):
        return False  # a bare or IP wildcard, an IP address
    if any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in proposed):
        return False
    return name_state(proposed, spec.cns, spec.dns_sans, "cn-or-san") != CRIT_


# -- a server that serves what the test built -----------------------------------------------------


class CertServer:
    """TLS on loopback; each connection gets the chain set last (a real handshake, then EOF)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.context: ssl.SSLContext | None = None
        self.listener = socket.create_server((CERT_SERVER, 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def serve(self, chain_pem: bytes, key_file: Path) -> None:
        chain_file = self.folder / "chain.pem"
        chain_file.write_bytes(chain_pem)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        ctx.load_cert_chain(str(chain_file), str(key_file))
        self.context = ctx

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5)
            ctx = self.context
            if ctx is None:
                return
            with contextlib.suppress(OSError, ssl.SSLError):
                tls = ctx.wrap_socket(conn, server_side=True)
                while tls.recv(4096):
                    pass

    def close(self) -> None:
        self.listener.close()


@dataclass
class Issuer:
    lab: Lab
    server: CertServer
    keys: dict[str, tuple[Any, Path]]

    def build(self, spec: Spec) -> bytes:
        """The served chain (leaf + the lab's issuing CA) for ``spec``, as PEM."""
        key, _ = self.keys[spec.key]
        pki = self.lab.pki
        assert pki.issuing is not None
        now = dt.datetime.now(dt.timezone.utc)
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name(list(spec.subject)))
            .issuer_name(pki.issuing.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=spec.age))
            .not_valid_after(now + dt.timedelta(days=spec.left))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        )
        if spec.sans is not None:
            san = x509.SubjectAlternativeName(list(spec.sans))
            builder = builder.add_extension(san, critical=not spec.subject)
        if spec.purposes is not None:
            oids = {
                "server": ExtendedKeyUsageOID.SERVER_AUTH,
                "client": ExtendedKeyUsageOID.CLIENT_AUTH,
            }
            usage = x509.ExtendedKeyUsage([oids[p] for p in spec.purposes])
            builder = builder.add_extension(usage, critical=False)
        if spec.key_usage:
            usage_bits = dict.fromkeys(
                ("content_commitment", "data_encipherment", "key_agreement", "key_cert_sign",
                 "crl_sign", "encipher_only", "decipher_only"), False
            )  # fmt: skip
            rsa_key = spec.key.startswith("rsa")
            builder = builder.add_extension(
                x509.KeyUsage(digital_signature=True, key_encipherment=rsa_key, **usage_bits),
                critical=True,
            )
        if spec.unknown:
            oid = x509.ObjectIdentifier("1.3.6.1.4.1.55555.3")
            ext = x509.UnrecognizedExtension(oid, b"\x05\x00")
            builder = builder.add_extension(ext, critical=spec.unknown == "critical")
        digest = {"sha256": hashes.SHA256(), "sha384": hashes.SHA384(), "sha512": hashes.SHA512()}
        leaf = builder.sign(self.lab.pki.keys["issuing"], digest[spec.digest])
        return b"".join(c.public_bytes(Encoding.PEM) for c in (leaf, pki.issuing))

    def check(self, spec: Spec) -> tuple[str, int]:
        self.server.serve(self.build(spec), self.keys[spec.key][1])
        args = ["-H", HOST, "-I", CERT_SERVER, "-p", str(self.server.port), "-t", "5"]
        args += ["--ca-file", self.lab.ca_file, "-P", spec.principal, "--match", spec.mode]
        return check_outlook_anywhere.run(args)


@pytest.fixture(scope="module")
def issuer(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Issuer]:
    folder = tmp_path_factory.mktemp("structured")
    pki = lab.pki
    keys: dict[str, tuple[Any, Path]] = {
        "rsa2048": (pki.keys["leaf"], pki.key_files["leaf"]),
        "rsa1024": (pki.keys["weak"], pki.key_files["weak"]),
        "p256": (pki.other_keys["ec"], pki.key_files["ec"]),
        "ed25519": (pki.other_keys["ed25519"], pki.key_files["ed25519"]),
    }
    made = {
        "rsa3072": rsa.generate_private_key(public_exponent=65537, key_size=3072),
        "p384": ec.generate_private_key(ec.SECP384R1()),
        "ed448": ed448.Ed448PrivateKey.generate(),
    }
    for name, key in made.items():
        path = folder / f"{name}.key.pem"
        path.write_bytes(
            key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())  # type: ignore[union-attr]
        )
        keys[name] = (key, path)
    server = CertServer(folder)
    yield Issuer(lab, server, keys)
    server.close()


def test_generated_certificates_are_judged_as_the_states_table_says(issuer: Issuer) -> None:
    @fuzz(40)
    @given(SPECS)
    def check(spec: Spec) -> None:
        text, code = issuer.check(spec)
        assert_one_status_line(text, code)
        assert code == expected_state(spec), (spec, text)

    check()


def test_generated_certificates_get_words_that_hold(issuer: Issuer) -> None:
    """What the admin reads: at most 200 characters and no ';' before the
    perfdata, and a proposed principal is always one the certificate satisfies."""

    @fuzz(25)
    @given(SPECS)
    def check(spec: Spec) -> None:
        text, _ = issuer.check(spec)
        status = text.split("\n", 1)[0].split(" | ", 1)[0]
        assert len(status) <= 200, status
        assert ";" not in status, status
        for proposed in re.findall(r'CertPrincipalName:"msstd:([^"]*)"', text):
            assert satisfies(spec, proposed), (proposed, spec, text)

    check()


@pytest.mark.parametrize("key", ["p384", "ed448", "rsa3072"])
def test_generated_key_types_are_described(issuer: Issuer, key: str) -> None:
    """``describe_strength`` on the key types the lab's scenarios do not serve."""
    spec = Spec((x509.NameAttribute(NameOID.COMMON_NAME, HOST),), None, 10.5, 200.5, key,
                "sha256", ("server",), True, "", HOST, "cn")  # fmt: skip
    chain = issuer.build(spec)
    der = x509.load_pem_x509_certificate(chain).public_bytes(Encoding.DER)
    expected = {"p384": "EC secp384r1", "ed448": "Ed448", "rsa3072": "RSA 3072"}[key]
    assert describe_strength(der) == (expected, "sha256")
    text, code = issuer.check(spec)
    assert code == 0, text


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
