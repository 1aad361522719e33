"""Chains OpenSSL refuses for a reason of their own, old servers with untrusted chains, the host
only under a SAN wildcard, and keys that are not RSA: lab scenarios through the CLI.

Each test asserts the exit code and the decisive evidence (OpenSSL's reason in words), not the
whole sentence.  The facts-level test pins what the probe records about each key type (the
judgement decides from it which key is weak).
"""

from __future__ import annotations

import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization

from contrib.lab import Lab
from outlook_anywhere.facts.certificate import describe_strength
from outlook_anywhere.probes.revocation_answers import verify_signature
from outlook_anywhere.probes.tls import TrustStore, probe_all
from outlook_anywhere.transport import Deadline
from tests.conftest import SCRIPT, Checker, Outcome

OK, WARNING, CRITICAL = 0, 1, 2
STATES = ("OK", "WARNING", "CRITICAL", "UNKNOWN")


def expect(out: Outcome, code: int, *patterns: str) -> None:
    assert out.stderr == "", out.stderr
    assert out.code == code, out.stdout
    assert out.first_line.startswith(f"OUTLOOK_ANYWHERE {STATES[code]} - "), out.stdout
    for pattern in patterns:
        assert re.search(pattern, out.stdout), f"{pattern!r} not in {out.stdout!r}"


def node_line(out: Outcome, address: str) -> str:
    lines = [line for line in out.long_output if line.startswith(f"{address} ")]
    assert len(lines) == 1, out.stdout
    return lines[0]


# -- OpenSSL's verify codes in words ----------------------------------------------------------


def test_a_signature_that_does_not_verify(check: Checker) -> None:
    """Verify code 7: one byte of the leaf's signature changed."""
    out = check("bad-signature")
    expect(out, CRITICAL, "a signature in the certificate chain does not verify")
    line = node_line(out, "127.0.42.1")
    assert line.startswith("127.0.42.1 CRITICAL"), line
    assert "a signature in the certificate chain does not verify" in line


def test_an_issuer_that_is_not_a_ca(check: Checker) -> None:
    """OpenSSL 3's code 79 (1.1's 24): the leaf's issuer is a server certificate, CA:FALSE.
    Either wording names the fact; what must not happen is a chain judged trusted."""
    out = check("issuer-not-ca")
    expect(out, CRITICAL, r"certificate not trusted: (an issuing certificate in the chain is"
           r" not a CA|invalid CA certificate)")  # fmt: skip
    assert "web01.contoso.test" in out.stdout  # the served issuer is shown (long output)


def test_a_certificate_for_tls_clients_only(check: Checker) -> None:
    """Verify code 26: the extended key usage says TLS client authentication only."""
    out = check("client-auth-only")
    expect(out, CRITICAL, "certificate is not meant for TLS server authentication")


def test_legacy_server_with_an_untrusted_chain(check: Checker) -> None:
    """TLS 1.0 only, and the chain ends at a root nobody trusts: both are said, the untrusted
    chain decides (CRITICAL), the old protocol is a finding of its own."""
    out = check("legacy-untrusted")
    expect(out, CRITICAL, r"root 'Rogue Root CA' sent by the server is not a trusted root")
    line = node_line(out, "127.0.45.1")
    assert re.search(r"server speaks only (an old TLS version|TLSv1\b)", line), line
    assert "CN legacy-untrusted.contoso.test" in line  # the certificate was read all the same


def test_legacy_server_with_an_untrusted_chain_under_ignore_trust(check: Checker) -> None:
    out = check("legacy-untrusted", "--ignore-trust")
    expect(out, WARNING, r"server speaks only")
    assert "not trusted" not in out.stdout


# -- names ------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["cn", "cn-or-san"])
def test_host_only_under_a_san_wildcard(check: Checker, mode: str) -> None:
    """The CN is another name; the host matches only by expanding the SAN *.contoso.test: a
    WARNING in both modes (the Analyzer and older clients do not expand it), naming the SAN's
    wildcard, and a proposed principal, if any, is one the certificate satisfies."""
    out = check("san-wildcard", "--match", mode)
    expect(out, WARNING, r"expanding the wildcard (SAN )?\*\.contoso\.test")
    for proposed in re.findall(r'CertPrincipalName:"msstd:([^"]*)"', out.stdout):
        assert proposed in ("*.contoso.test", "exchange01.contoso.test"), out.stdout


def test_literal_san_wildcard_principal(check: Checker) -> None:
    """``-P msstd:*.contoso.test`` equals the SAN literally: a SAN match (WARNING under the
    default --match cn, OK under cn-or-san), never a wildcard expansion."""
    out = check("san-wildcard", "-P", "msstd:*.contoso.test")
    expect(out, WARNING, r"msstd:\*\.contoso\.test only in a SAN")
    out = check("san-wildcard", "-P", "msstd:*.contoso.test", "--match", "cn-or-san")
    expect(out, OK)


# -- keys that are not RSA --------------------------------------------------------------------


def test_ec_leaf_signed_with_sha1(check: Checker) -> None:
    """A P-256 leaf signed with SHA-1: the signature is the finding; the EC key is no RSA key
    "under 2048 bits" (256 is its size)."""
    out = check("weak-ec")
    expect(out, WARNING, r"certificate is signed with SHA-?1")
    assert "-bit" not in out.stdout, out.stdout


def test_ed25519_leaf_signed_with_sha1(check: Checker) -> None:
    out = check("weak-ed25519")
    expect(out, WARNING, r"certificate is signed with SHA-?1")
    assert "-bit" not in out.stdout, out.stdout


def test_dsa_issuing_ca_with_a_short_key(check: Checker) -> None:
    out = check("dsa-issuer")
    expect(out, WARNING, r"issuing CA 'Contoso Lab DSA CA' has a 1024-bit DSA key")
    assert "certificate is signed with" not in out.stdout  # SHA-256 everywhere


def test_dsa_chain_leaves_stderr_empty_with_warnings_shown(check: Checker) -> None:
    """cryptography 51 deprecates DSA with a warning; Icinga would show it as the status."""
    proc = subprocess.run(
        [sys.executable, "-W", "default", str(SCRIPT), *check.args("dsa-issuer")],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert proc.stdout.startswith("OUTLOOK_ANYWHERE WARNING"), proc.stdout
    assert proc.stderr == ""


def test_dsa_key_described_without_a_library_warning(lab: Lab) -> None:
    """The plugin's own code names no deprecated DSA class (main() hiding warnings aside)."""
    assert lab.pki.dsa_ca is not None
    der = lab.pki.dsa_ca.public_bytes(serialization.Encoding.DER)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        described = describe_strength(der)
    assert described == ("DSA 1024", "sha256")
    assert [str(w.message) for w in seen] == []


def test_dsa_signature_verified_without_a_library_warning(lab: Lab) -> None:
    """A CRL or OCSP answer signed by a DSA CA is verified, and quietly."""
    key = lab.pki.other_keys["dsa"]
    signature = key.sign(b"crl", hashes.SHA256())  # type: ignore[attr-defined]
    public = key.public_key()  # type: ignore[attr-defined]
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        good = verify_signature(public, signature, b"crl", hashes.SHA256())
        forged = verify_signature(public, signature, b"crl!", hashes.SHA256())
    assert (good, forged) == (True, False)
    assert [str(w.message) for w in seen] == []


@pytest.mark.parametrize(
    ("scenario", "expected"),
    [
        ("weak-ec", [(0, "EC secp256r1", "sha1"), (1, "RSA 2048", "sha256")]),
        ("weak-ed25519", [(0, "Ed25519", "sha1"), (1, "RSA 2048", "sha256")]),
        ("dsa-issuer", [(0, "RSA 2048", "sha256"), (1, "DSA 1024", "sha256")]),
        ("weak-sha1", [(0, "RSA 2048", "sha1"), (1, "RSA 2048", "sha256")]),
    ],
)
def test_key_descriptions_of_a_weak_chain(
    lab: Lab, scenario: str, expected: list[tuple[int, str, str]]
) -> None:
    """What the probe records (``describe_strength``) for each certificate the server sent,
    when OpenSSL called the chain too weak: key type and size (curve), signature hash."""
    s = lab.scenario(scenario)
    [node] = probe_all((s.addresses[0],), lab.port, s.host, TrustStore(lab.ca_file), Deadline(5))
    assert node.failure == "", node
    assert node.trust == "verified", node  # sound once the security level allows it
    assert list(node.strengths) == expected


def test_key_descriptions_are_read_only_for_a_weak_chain(lab: Lab) -> None:
    """A healthy check never loads ``cryptography``: no strengths without a weak chain."""
    s = lab.scenario("single")
    [node] = probe_all((s.addresses[0],), lab.port, s.host, TrustStore(lab.ca_file), Deadline(5))
    assert node.trust == "verified" and node.strengths == ()


def test_weak_and_then_untrusted(check: Checker) -> None:
    """Too weak for OpenSSL's security level, and once that is forgiven (a second handshake at
    level 0) still refused, for its purpose: both are said, the refusal decides."""
    out = check("weak-client-auth")
    expect(out, CRITICAL, "certificate is not meant for TLS server authentication")
    line = node_line(out, "127.0.51.1")
    assert "1024-bit RSA key" in line, line


def test_a_broken_cryptography_is_named_when_a_weak_chain_needs_it(
    check: Checker, tmp_path: Path
) -> None:
    """``cryptography`` is imported only to explain a weak chain; an installation where it
    cannot be imported is UNKNOWN naming the module, never a traceback (a real package
    directory that fails on import shadows the installed one)."""
    broken = tmp_path / "cryptography"
    broken.mkdir()
    (broken / "__init__.py").write_text("raise ImportError('libssl.so.1.1: cannot open')\n")
    out = check("weak-sha1", env={"PYTHONPATH": str(tmp_path)})
    expect(out, 3, "cryptography")
    assert "Traceback" not in out.stdout
    healthy = check("single", env={"PYTHONPATH": str(tmp_path)})
    expect(healthy, OK)  # the default path never needs it
