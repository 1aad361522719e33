"""What the check reads besides the network, through the CLI: the system trust store when no
``--ca-file`` is given (OpenSSL's own environment variables choose it), and the password file.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from contrib.lab import Lab
from tests.conftest import SCRIPT, Outcome, run_plugin


def run_without_ca_file(lab: Lab, env: dict[str, str]) -> Outcome:
    """The plugin against the lab's healthy single node, trust anchors from the system store
    as OpenSSL's SSL_CERT_FILE / SSL_CERT_DIR describe it (and nothing else of the caller's)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("SSL_CERT_")}
    s = lab.scenario("single")
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "-H", s.host, "-I", s.addresses[0], "-p", str(lab.port)],
        capture_output=True, text=True, timeout=60, env={**base, **env},
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    return Outcome(proc.returncode, proc.stdout, proc.stderr, 0.0)


def test_the_system_store_does_not_trust_the_lab(lab: Lab) -> None:
    out = run_without_ca_file(lab, {})
    assert out.stderr == "", out.stderr
    assert out.code == 2, out.stdout
    assert "certificate not trusted" in out.status, out.status
    assert "Contoso Lab Root CA" in out.stdout  # the chain ends at a root the store lacks


def test_ssl_cert_file_names_the_system_bundle(lab: Lab) -> None:
    out = run_without_ca_file(lab, {"SSL_CERT_FILE": lab.ca_file})
    assert out.stderr == "", out.stderr
    assert out.code == 0, out.stdout


def test_a_hashed_directory_is_read_by_subject_hash(lab: Lab, tmp_path: Path) -> None:
    """Debian's /etc/ssl/certs: OpenSSL's c_rehash links (``<subject hash>.0``)."""
    subject_hash = subprocess.run(
        ["openssl", "x509", "-hash", "-noout", "-in", lab.ca_file],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    (tmp_path / f"{subject_hash}.0").write_bytes(Path(lab.ca_file).read_bytes())
    out = run_without_ca_file(lab, {"SSL_CERT_DIR": str(tmp_path)})
    assert out.stderr == "", out.stderr
    assert out.code == 0, out.stdout


def test_a_directory_without_hash_links_falls_back_to_the_bundle(lab: Lab, tmp_path: Path) -> None:
    """RHEL's /etc/pki/tls/certs has no hash links: the bundle is what counts. The lab's root in
    such a directory (not linked) is not a trust anchor; in the bundle it is."""
    (tmp_path / "lab-root.pem").write_bytes(Path(lab.ca_file).read_bytes())
    out = run_without_ca_file(lab, {"SSL_CERT_DIR": str(tmp_path)})
    assert out.code == 2 and "certificate not trusted" in out.status, out.stdout
    bundle = {"SSL_CERT_DIR": str(tmp_path), "SSL_CERT_FILE": lab.ca_file}
    assert run_without_ca_file(lab, bundle).code == 0


# -- the password file ---------------------------------------------------------------------------


def autodiscover(lab: Lab, password_file: str) -> Outcome:
    url = lab.web.url("autodiscover.contoso.test")
    return run_plugin(
        "--autodiscover", "monitor@contoso.test", "--autodiscover-url", url,
        "--password-file", password_file, "--dns-server", lab.dns_server,
        "--ca-file", lab.ca_file, "-p", str(lab.port), "-t", "5",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("content", "evidence"),
    [
        (None, "No such file or directory"),
        (b"\xff\xfe not UTF-8\n", "not UTF-8"),
        (b"\nsecond line\n", "empty"),
        (b"", "empty"),
    ],
    ids=["missing", "not-utf8", "empty-first-line", "empty-file"],
)
def test_an_unusable_password_file_is_unknown(
    lab: Lab, tmp_path: Path, content: bytes | None, evidence: str
) -> None:
    path = tmp_path / "password"
    if content is not None:
        path.write_bytes(content)
        path.chmod(0o600)
    out = autodiscover(lab, str(path))
    assert out.stderr == "", out.stderr
    assert out.code == 3, out.stdout
    assert "--password-file" in out.status and str(path) in out.status, out.status
    assert evidence in out.status, out.status


def test_the_first_line_is_the_password(lab: Lab, tmp_path: Path, password_file: str) -> None:
    """A trailing CR LF is not part of it; what follows the first line is ignored."""
    path = tmp_path / "password"
    path.write_bytes(Path(password_file).read_bytes().rstrip(b"\n") + b"\r\nnot the password\n")
    path.chmod(0o600)
    out = autodiscover(lab, str(path))
    assert out.stderr == "", out.stderr
    assert "wrong user name or password" not in out.stdout, out.stdout
    assert out.code in (0, 1), out.stdout
